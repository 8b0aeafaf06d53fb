//! fsck repairs what e2fsck would (issue #11): a damaged counters block, a
//! damaged root directory, a damaged file or directory inode. After
//! `fsck -y` a second check is clean, the image mounts, nothing that was
//! intact is lost (it is where it was or under /lost+found), and `-n`
//! reports all of it.

use ferrodax_core::fs::MountOptions;
use ferrodax_core::inode::*;
use ferrodax_core::layout::*;
use ferrodax_core::repair::LOST_FOUND;
use ferrodax_core::xattr::{Namespace, SetMode};
use ferrodax_core::{Error, Fs};
use ferrodax_tools::fsck::{check, fsck, Fix, Options};
use ferrodax_tools::media::MemMedium;
use ferrodax_tools::testing::*;

const R: u64 = ROOT_INO;

struct Image {
    m: MemMedium,
    dir: u64,
    file: u64,
    inner: u64,
}

/// `/dir/file` (6 blocks), `/dir/sub/inner`, `/top` with one block.
fn image() -> Image {
    let mut fs = mem_fs(2048);
    let (dir, _) = fs.create(R, b"dir", attr(S_IFDIR | 0o755), at(1)).unwrap();
    let (file, _) = fs
        .create(dir, b"file", attr(S_IFREG | 0o644), at(1))
        .unwrap();
    fs.allocate_range(file, 0, 6, false).unwrap();
    let (sub, _) = fs
        .create(dir, b"sub", attr(S_IFDIR | 0o755), at(1))
        .unwrap();
    let (inner, _) = fs
        .create(sub, b"inner", attr(S_IFREG | 0o644), at(1))
        .unwrap();
    let (top, _) = fs.create(R, b"top", attr(S_IFREG | 0o644), at(1)).unwrap();
    fs.allocate_range(top, 0, 1, false).unwrap();
    Image {
        m: fs.into_medium(),
        dir,
        file,
        inner,
    }
}

fn mount(m: MemMedium) -> Fs<MemMedium> {
    Fs::mount(m, MountOptions::default()).unwrap().0
}

/// Overwrite one byte of inode `ino`'s slot (its checksum no longer fits).
fn damage_inode(m: &mut MemMedium, ino: u64) {
    let off = mount(m.clone()).geometry().inode_off(ino) + 20;
    m.0[off as usize] ^= 0x5a;
}

fn opts(fix: bool) -> Options {
    Options {
        fix,
        now: at(9),
        backup_block: None,
    }
}

/// `fsck -y`, then: a second check is clean and the image mounts.
fn repaired(m: MemMedium) -> (Fs<MemMedium>, Vec<String>) {
    let (m, out) = fsck(m, &opts(true)).unwrap();
    let found: Vec<String> = out
        .passes
        .iter()
        .flatten()
        .map(|p| p.what.clone())
        .collect();
    assert!(out.left().is_empty(), "left: {:#?}", out.left());
    let fs = mount(m);
    let second = check(&fs);
    assert!(
        second.problems.is_empty(),
        "second check: {:#?}",
        second.problems
    );
    (fs, found)
}

fn lost(fs: &Fs<MemMedium>, ino: u64) -> Option<u64> {
    let lf = fs.lookup(R, LOST_FOUND).unwrap()?.ino;
    fs.lookup(lf, format!("#{ino}").as_bytes())
        .unwrap()
        .map(|e| e.ino)
}

#[test]
fn damaged_counters_are_rebuilt() {
    let img = image();
    let before = mount(img.m.clone()).group(0);
    let mut m = img.m.clone();
    m.0[GROUP_OFFSET as usize] ^= 1;
    assert!(Fs::mount(m.clone(), MountOptions::default()).is_err());
    let (fs, found) = repaired(m);
    assert!(
        found.iter().any(|w| w.contains("group 0 counters")),
        "{found:?}"
    );
    let c = fs.group(0);
    assert_eq!(
        (c.free_blocks, c.free_inodes),
        (before.free_blocks, before.free_inodes)
    );
    assert!(c.next_generation >= before.next_generation);
}

#[test]
fn a_damaged_root_is_replaced_and_its_tree_reconnected() {
    let img = image();
    let mut m = img.m.clone();
    damage_inode(&mut m, R);
    assert!(Fs::mount(m.clone(), MountOptions::default()).is_err());
    let (fs, found) = repaired(m);
    assert!(
        found.iter().any(|w| w.contains(&format!("inode {R}"))),
        "{found:?}"
    );
    // Everything below the old root is under /lost+found, intact.
    let dir = lost(&fs, img.dir).expect("dir reconnected");
    assert_eq!(fs.lookup(dir, b"file").unwrap().unwrap().ino, img.file);
    assert_eq!(fs.read_inode(img.file).unwrap().blocks, 7); // 6 + extent block
    let sub = fs.lookup(dir, b"sub").unwrap().unwrap().ino;
    assert_eq!(fs.lookup(sub, b"inner").unwrap().unwrap().ino, img.inner);
    assert_eq!(
        fs.read_inode(dir).unwrap().parent,
        fs.lookup(R, LOST_FOUND).unwrap().unwrap().ino
    );
}

#[test]
fn a_damaged_file_is_cleared_and_its_blocks_reclaimed() {
    let img = image();
    let free = mount(img.m.clone()).counters().free_blocks;
    let mut m = img.m.clone();
    damage_inode(&mut m, img.file);
    let (fs, found) = repaired(m);
    assert!(
        found.iter().any(|w| w.contains("entry 'file'")),
        "{found:?}"
    );
    assert_eq!(fs.lookup(img.dir, b"file").unwrap(), None);
    assert_eq!(
        fs.read_inode(img.file),
        Err(ferrodax_core::Error::Corrupt("reference to a free inode"))
    );
    assert_eq!(fs.counters().free_blocks, free + 7);
    // The rest is untouched.
    assert!(fs.lookup(img.dir, b"sub").unwrap().is_some());
}

#[test]
fn a_damaged_directory_is_cleared_and_what_it_held_reconnected() {
    let img = image();
    let mut m = img.m.clone();
    damage_inode(&mut m, img.dir);
    let (fs, _) = repaired(m);
    assert_eq!(fs.lookup(R, b"dir").unwrap(), None);
    assert_eq!(lost(&fs, img.file), Some(img.file));
    let lf = fs.lookup(R, LOST_FOUND).unwrap().unwrap().ino;
    let mut dirs = Vec::new();
    fs.readdir(lf, 0, |_, ino, _, _| {
        dirs.push(ino);
        true
    })
    .unwrap();
    dirs.retain(|&ino| fs.read_inode(ino).unwrap().is_dir());
    let [sub] = dirs[..] else {
        panic!("one directory in lost+found: {dirs:?}")
    };
    assert_eq!(fs.lookup(sub, b"inner").unwrap().unwrap().ino, img.inner);
    // "inner" came back with its directory, not on its own.
    assert_eq!(lost(&fs, img.inner), None);
}

#[test]
fn undefined_inode_flags_are_cleared_and_defined_ones_kept() {
    let img = image();
    let mut fs = mount(img.m);
    let set = ferrodax_core::file::SetAttr {
        flags: Some(flags::APPEND),
        ..Default::default()
    };
    fs.setattr(img.file, set).unwrap();
    let mut m = fs.into_medium();
    // Bit 30 with a checksum that fits: a slot from a later version.
    let sb = *mount(m.clone()).superblock();
    let (geo, stamp) = (sb.geo, sb.inode_stamp());
    let off = geo.inode_off(img.file) as usize;
    let mut raw: [u8; INODE_SIZE as usize] =
        m.0[off..off + INODE_SIZE as usize].try_into().unwrap();
    let mut inode = Inode::decode(&raw, img.file, stamp, &geo).unwrap();
    inode.flags |= 1 << 30;
    raw = inode.encode(img.file, stamp);
    m.0[off..off + INODE_SIZE as usize].copy_from_slice(&raw);
    let problems = check(&mount(m.clone())).problems;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].fix, Some(Fix::Flags { ino: img.file }));
    let (fs, fixed) = repaired(m);
    assert_eq!(fixed.len(), 1, "{fixed:?}");
    assert_eq!(fs.read_inode(img.file).unwrap().flags, flags::APPEND);
}

#[test]
fn check_only_reports_everything() {
    let img = image();
    let mut m = img.m.clone();
    damage_inode(&mut m, img.file);
    m.0[GROUP_OFFSET as usize] ^= 1;
    let (after, out) = fsck(m.clone(), &opts(false)).unwrap();
    assert_eq!(out.passes.len(), 1);
    let problems = &out.passes[0];
    assert!(problems
        .iter()
        .any(|p| p.fix == Some(Fix::Counters { group: 0 })));
    assert!(problems
        .iter()
        .any(|p| p.fix == Some(Fix::ClearInode { ino: img.file })));
    // Nothing was repaired: the damaged file is still named.
    let fs = mount(after);
    assert_eq!(fs.lookup(img.dir, b"file").unwrap().unwrap().ino, img.file);
}

#[test]
fn a_reconnect_never_adds_a_second_entry_of_one_name() {
    let mut fs = mem_fs(2048);
    let (ino, _) = fs.create(R, b"x", attr(S_IFREG | 0o644), at(1)).unwrap();
    let (lost, _) = fs
        .create(R, LOST_FOUND, attr(S_IFDIR | 0o700), at(1))
        .unwrap();
    let taken = format!("#{ino}");
    fs.create(lost, taken.as_bytes(), attr(S_IFREG | 0o644), at(1))
        .unwrap();
    assert_eq!(
        fs.reconnect(ino, at(2)),
        Err(ferrodax_core::error::Error::Exists)
    );
    let mut names = Vec::new();
    fs.readdir(lost, 0, |name, _, _, _| {
        names.push(name.to_vec());
        true
    })
    .unwrap();
    assert_eq!(names, [taken.into_bytes()], "lost+found unchanged");
}

#[test]
fn a_damaged_label_is_the_backups_or_none() {
    let img = image();
    let mut fs = mount(img.m);
    fs.set_label(b"kept").unwrap();
    let m = fs.into_medium();
    let backup = m.0.len() - BLOCK_SIZE as usize;
    let label = |fs: &Fs<MemMedium>| {
        let (l, len) = fs.label().unwrap();
        l[..len].to_vec()
    };
    // The primary's label damaged: the backup's is taken.
    let mut one = m.clone();
    one.0[60] ^= 1;
    assert!(Fs::mount(one.clone(), MountOptions::default()).is_err());
    let (fs, fixed) = repaired(one);
    assert_eq!(fixed.len(), 1, "{fixed:?}");
    assert!(fixed[0].contains("superblock label checksum"), "{fixed:?}");
    assert_eq!(label(&fs), b"kept");
    // Both damaged: no label, and the backup rewritten to match.
    let mut both = m;
    both.0[60] ^= 1;
    both.0[backup + 60] ^= 1;
    let (fs, fixed) = repaired(both);
    assert_eq!(fixed.len(), 2, "{fixed:?}");
    assert_eq!(label(&fs), b"");
}

#[test]
fn a_damaged_xattr_block_is_dropped() {
    let img = image();
    let mut fs = mount(img.m);
    let free = fs.counters().free_blocks;
    let blocks = fs.read_inode(img.file).unwrap().blocks;
    let i = fs
        .set_xattr(
            img.file,
            Namespace::User,
            b"a",
            Some(b"value"),
            SetMode::Any,
            at(2),
        )
        .unwrap();
    let get = |fs: &Fs<MemMedium>| fs.get_xattr(img.file, Namespace::User, b"a", &mut [0; 8]);
    assert_eq!(get(&fs), Ok(5));
    let mut m = fs.into_medium();
    m.0[(Geometry::block_off(i.xattr) + 30) as usize] ^= 1;
    assert_eq!(
        get(&mount(m.clone())),
        Err(Error::Corrupt("xattr block checksum"))
    );
    let (mut fs, found) = repaired(m);
    assert!(
        found.iter().any(|w| w.contains("extended attributes")),
        "{found:?}"
    );
    assert_eq!(get(&fs), Err(Error::NoAttr), "the attributes are gone");
    assert_eq!(
        fs.read_inode(img.file).unwrap().blocks,
        blocks,
        "the data is not"
    );
    assert_eq!(fs.counters().free_blocks, free, "the block is free again");
    fs.set_xattr(
        img.file,
        Namespace::User,
        b"a",
        Some(b"again"),
        SetMode::Any,
        at(3),
    )
    .unwrap();
    assert_eq!(get(&fs), Ok(5));
}
