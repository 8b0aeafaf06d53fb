//! A canonical listing of a filesystem's logical contents: every path with
//! its inode's attributes, extended attributes and a checksum of its data. Two images with the
//! same dump hold the same files; the crash explorer and the remount tests
//! compare dumps.

use ferrodax_core::extent::Mapping;
use ferrodax_core::inode::Kind;
use ferrodax_core::layout::{Geometry, BLOCK_SIZE, ROOT_INO};
use ferrodax_core::{Error, Fs, Medium, Result};
use std::fmt::Write;

/// Checksum of a regular file's contents (holes read as zeroes).
pub fn file_crc<M: Medium>(fs: &Fs<M>, ino: u64) -> Result<u32> {
    let inode = fs.read_inode(ino)?;
    let mut crc = !0u32;
    let mut lblk = 0;
    let nblocks = inode.size.div_ceil(BLOCK_SIZE);
    let mut buf = vec![0u8; BLOCK_SIZE as usize];
    while lblk < nblocks {
        let want = (inode.size - lblk * BLOCK_SIZE).min(BLOCK_SIZE) as usize;
        match fs.map_lookup(&inode, ino, lblk)? {
            Mapping::Mapped { pblk, .. } => {
                fs.pm().read(Geometry::block_off(pblk), &mut buf[..want])?
            }
            Mapping::Hole { .. } => buf[..want].fill(0),
        }
        crc = ferrodax_core::crc32c::update(crc, &buf[..want]);
        lblk += 1;
    }
    Ok(!crc)
}

/// The extended attributes of `ino`, as ` xattrs=ns:name=value,...` in
/// stored order (empty if none).
fn xattrs<M: Medium>(fs: &Fs<M>, ino: u64) -> Result<String> {
    let mut names = Vec::new();
    fs.list_xattr(ino, |ns, name| {
        names.push((ns, name.to_vec()));
        Ok(())
    })?;
    let mut out = String::new();
    for (ns, name) in names {
        let mut v = vec![0u8; fs.get_xattr(ino, ns, &name, &mut [])?];
        fs.get_xattr(ino, ns, &name, &mut v)?;
        let sep = if out.is_empty() { " xattrs=" } else { "," };
        write!(
            out,
            "{sep}{ns:?}:{}={:?}",
            String::from_utf8_lossy(&name),
            v
        )
        .unwrap();
    }
    Ok(out)
}

/// The listing, one line per name, sorted, plus the free counters.
pub fn dump<M: Medium>(fs: &Fs<M>) -> Result<String> {
    let mut lines = Vec::new();
    let mut stack = vec![(ROOT_INO, String::from("/"))];
    let mut seen = std::collections::BTreeSet::new();
    while let Some((dir, path)) = stack.pop() {
        // A directory reached twice is a cycle (or a hard-linked directory).
        if !seen.insert(dir) {
            return Err(Error::Corrupt("directory reached twice"));
        }
        let mut entries = Vec::new();
        fs.readdir(dir, 0, |name, ino, _, _| {
            entries.push((String::from_utf8_lossy(name).into_owned(), ino));
            true
        })?;
        let d = fs.read_inode(dir)?;
        lines.push(format!(
            "{path} dir ino={dir} mode={:o} flags={:#x} nlink={} uid={} gid={} m={:?}{}",
            d.mode,
            d.flags,
            d.nlink,
            d.uid,
            d.gid,
            d.mtime,
            xattrs(fs, dir)?
        ));
        for (name, ino) in entries {
            let p = format!("{path}{name}");
            let i = fs.read_inode(ino)?;
            if i.is_dir() {
                stack.push((ino, p + "/"));
                continue;
            }
            let mut line = format!(
                "{p} ino={ino} mode={:o} flags={:#x} nlink={} uid={} gid={} size={} m={:?} c={:?}",
                i.mode, i.flags, i.nlink, i.uid, i.gid, i.size, i.mtime, i.ctime
            );
            match i.kind() {
                Kind::Regular => write!(line, " data={:08x}", file_crc(fs, ino)?).unwrap(),
                Kind::Symlink => {
                    let mut t = vec![0u8; i.size as usize];
                    fs.readlink(ino, &mut t)?;
                    write!(line, " -> {}", String::from_utf8_lossy(&t)).unwrap();
                }
                _ => write!(line, " rdev={}", i.root).unwrap(),
            }
            line += &xattrs(fs, ino)?;
            lines.push(line);
        }
    }
    lines.sort();
    let c = fs.counters();
    let orphans: Vec<String> = (0..fs.geometry().groups)
        .map(|g| fs.group(g).orphans.to_string())
        .collect();
    lines.push(format!(
        "free_blocks={} free_inodes={} orphans={}",
        c.free_blocks,
        c.free_inodes,
        orphans.join(",")
    ));
    Ok(lines.join("\n"))
}
