//! fsck.ferrodax: check every invariant the format relies on, and repair
//! what can be derived again (free space, checksums, link counts, backup
//! superblock, lost orphans).
//!
//! The filesystem is mounted through the core first (journal rollback and
//! orphan release run as on a kernel mount, on a copy-on-write view when
//! checking only), then walked from the root.

use ferrodax_core::bitmap::Map;
use ferrodax_core::inode::{Inode, Kind, S_IFMT};
use ferrodax_core::layout::{
    Counters, Geometry, Superblock, BLOCK_SIZE, DYN_OFFSET, INODE_SIZE, ROOT_INO, SB_SIZE,
};
use ferrodax_core::persist::Pm;
use ferrodax_core::{Fs, Medium, Result};
use std::collections::{HashMap, HashSet};

/// A repair fsck knows how to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    /// Rewrite both bitmaps, their checksums and the free counters.
    FreeSpace,
    /// Set an inode's link count.
    LinkCount { ino: u64, nlink: u32 },
    /// Set a directory's entry count.
    DirEntries { ino: u64, entries: u64 },
    /// Rewrite the backup superblock from the primary.
    BackupSuperblock,
    /// Put an unlinked inode no list holds back on the orphan list, so the
    /// next mount releases it.
    Orphan { ino: u64 },
    /// Clear the orphan-list link of an inode that is not on the list (the
    /// core takes a set link to mean "on the list").
    OrphanLink { ino: u64 },
    /// Set an inode's block count to the blocks it owns.
    BlockCount { ino: u64, blocks: u64 },
    /// Clear inode flags no version defines.
    Flags { ino: u64 },
}

/// One inconsistency.
#[derive(Debug, Clone)]
pub struct Problem {
    /// What is wrong, naming the structure.
    pub what: String,
    /// How to repair it, if fsck can.
    pub fix: Option<Fix>,
}

/// What the check found.
#[derive(Debug, Default)]
pub struct Report {
    /// Inconsistencies.
    pub problems: Vec<Problem>,
    /// Inodes in use (reachable or orphaned).
    pub inodes: u64,
    /// Directories among them.
    pub dirs: u64,
    /// Blocks in use, metadata included.
    pub used_blocks: u64,
    /// Expected bitmaps, for the free-space repair.
    expected_blocks: Vec<u64>,
    expected_inodes: Vec<u64>,
}

struct Bits(Vec<u64>);
impl Bits {
    fn new(n: u64) -> Bits {
        Bits(vec![0; n.div_ceil(64) as usize])
    }
    /// Set a bit; false if it was already set.
    fn set(&mut self, i: u64) -> bool {
        let (w, m) = ((i / 64) as usize, 1u64 << (i % 64));
        let was = self.0[w] & m != 0;
        self.0[w] |= m;
        !was
    }
    fn get(&self, i: u64) -> bool {
        self.0[(i / 64) as usize] & (1 << (i % 64)) != 0
    }
}

struct Checker<'a, M: Medium> {
    fs: &'a Fs<M>,
    geo: Geometry,
    report: Report,
    blocks: Bits,
    inodes: Bits,
    links: HashMap<u64, u32>,
    /// Inodes checked whose orphan-list link is set.
    orphan_links: Vec<u64>,
}

impl<M: Medium> Checker<'_, M> {
    fn problem(&mut self, what: String, fix: Option<Fix>) {
        self.report.problems.push(Problem { what, fix });
    }

    fn own_block(&mut self, b: u64, owner: u64) {
        if !self.geo.is_data_block(b) {
            self.problem(
                format!("inode {owner}: block {b} is outside the data area"),
                None,
            );
        } else if !self.blocks.set(b) {
            self.problem(format!("inode {owner}: block {b} is owned twice"), None);
        }
    }

    /// Account for an inode's blocks and check its own structure.
    fn check_inode(&mut self, ino: u64, inode: &Inode) {
        if inode.flags != 0 {
            let what = format!(
                "inode {ino}: flags {:#x} that no version defines",
                inode.flags
            );
            self.problem(what, Some(Fix::Flags { ino }));
        }
        if inode.orphan_next != 0 {
            self.orphan_links.push(ino);
        }
        let mut owned = 0u64;
        match inode.kind() {
            Kind::Regular if inode.root != 0 => {
                let mut ok = || -> Result<()> {
                    self.own_block(inode.root, ino);
                    owned += 1;
                    let n = self.fs.extent_count(inode, ino)?;
                    let mut end = 0;
                    for i in 0..n {
                        let e = self.fs.extent(inode, ino, i)?;
                        if u64::from(e.lblk) < end {
                            self.problem(
                                format!("inode {ino}: extents out of order or overlapping"),
                                None,
                            );
                        }
                        end = e.end();
                        for b in e.pblk..e.pblk + u64::from(e.len) {
                            self.own_block(b, ino);
                        }
                        owned += u64::from(e.len);
                    }
                    Ok(())
                };
                if let Err(e) = ok() {
                    self.problem(format!("inode {ino}: {e}"), None);
                    return;
                }
            }
            Kind::Directory => {
                let mut list = Vec::new();
                if let Err(e) = self.fs.dir_blocks(inode, ino, |b| list.push(b)) {
                    self.problem(format!("directory {ino}: {e}"), None);
                    return;
                }
                for &b in &list {
                    self.own_block(b, ino);
                }
                owned = list.len() as u64;
                if inode.size != owned * BLOCK_SIZE {
                    self.problem(
                        format!("directory {ino}: size {} but {} blocks", inode.size, owned),
                        None,
                    );
                }
            }
            Kind::Symlink => {
                self.own_block(inode.root, ino);
                owned = 1;
            }
            _ => {}
        }
        if inode.blocks != owned {
            self.problem(
                format!(
                    "inode {ino}: block count {} but {} blocks owned",
                    inode.blocks, owned
                ),
                Some(Fix::BlockCount { ino, blocks: owned }),
            );
        }
    }

    fn walk(&mut self) {
        let mut stack = vec![ROOT_INO];
        self.inodes.set(ROOT_INO);
        while let Some(dir) = stack.pop() {
            let d = match self.fs.read_inode(dir) {
                Ok(d) => d,
                Err(e) => {
                    self.problem(format!("directory {dir}: {e}"), None);
                    continue;
                }
            };
            self.report.inodes += 1;
            self.report.dirs += 1;
            self.check_inode(dir, &d);
            let mut entries = Vec::new();
            let r = self.fs.readdir(dir, 0, |name, ino, dtype, _| {
                entries.push((name.to_vec(), ino, dtype));
                true
            });
            if let Err(e) = r {
                self.problem(format!("directory {dir}: {e}"), None);
            }
            if d.entries != entries.len() as u64 {
                let fix = Fix::DirEntries {
                    ino: dir,
                    entries: entries.len() as u64,
                };
                self.problem(
                    format!(
                        "directory {dir}: entry count {} but {} entries",
                        d.entries,
                        entries.len()
                    ),
                    Some(fix),
                );
            }
            let mut subdirs = 0;
            for (name, ino, dtype) in entries {
                let name = String::from_utf8_lossy(&name).into_owned();
                // The name must lead back to the entry: a damaged hash or
                // an entry in the wrong bucket lists but cannot be opened.
                if !matches!(self.fs.lookup(dir, name.as_bytes()), Ok(Some(e)) if e.ino == ino) {
                    self.problem(
                        format!("directory {dir}: entry '{name}' is not found by its name"),
                        None,
                    );
                }
                let child = match self.fs.read_inode(ino) {
                    Ok(c) => c,
                    Err(e) => {
                        self.problem(
                            format!("directory {dir}: entry '{name}' -> inode {ino}: {e}"),
                            None,
                        );
                        continue;
                    }
                };
                if dtype != ((child.mode & S_IFMT) >> 12) as u8 {
                    self.problem(
                        format!("directory {dir}: entry '{name}' type does not match inode {ino}"),
                        None,
                    );
                }
                if child.is_dir() {
                    subdirs += 1;
                    if child.parent != dir {
                        self.problem(
                            format!(
                                "directory {ino}: parent is {} but it lives in {dir}",
                                child.parent
                            ),
                            None,
                        );
                    }
                    if !self.inodes.set(ino) {
                        self.problem(format!("directory {ino}: more than one name"), None);
                        continue;
                    }
                    stack.push(ino);
                } else {
                    let seen = self.links.entry(ino).or_insert(0);
                    *seen += 1;
                    if *seen == 1 {
                        self.inodes.set(ino);
                        self.report.inodes += 1;
                        self.check_inode(ino, &child);
                    }
                }
            }
            if d.nlink != 2 + subdirs {
                let fix = Fix::LinkCount {
                    ino: dir,
                    nlink: 2 + subdirs,
                };
                self.problem(
                    format!(
                        "directory {dir}: link count {} should be {}",
                        d.nlink,
                        2 + subdirs
                    ),
                    Some(fix),
                );
            }
        }
        let links: Vec<_> = self.links.iter().map(|(&i, &n)| (i, n)).collect();
        for (ino, n) in links {
            match self.fs.read_inode(ino) {
                Ok(i) if i.nlink != n => {
                    let fix = Fix::LinkCount { ino, nlink: n };
                    self.problem(
                        format!("inode {ino}: link count {} should be {n}", i.nlink),
                        Some(fix),
                    );
                }
                _ => {}
            }
        }
    }

    fn orphans(&mut self) {
        let mut on_list = HashSet::new();
        self.orphan_list(self.fs.counters().orphan_head, &mut on_list);
        for ino in std::mem::take(&mut self.orphan_links) {
            if !on_list.contains(&ino) {
                self.problem(
                    format!("inode {ino}: orphan list link set but not on the orphan list"),
                    Some(Fix::OrphanLink { ino }),
                );
            }
        }
    }

    /// Walk the orphan list from `ino`, collecting its members.
    fn orphan_list(&mut self, mut ino: u64, on_list: &mut HashSet<u64>) {
        let mut steps = 0;
        while ino != 0 {
            steps += 1;
            if steps > self.geo.inode_count {
                self.problem("orphan list loops".into(), None);
                return;
            }
            on_list.insert(ino);
            match self.fs.read_inode(ino) {
                Ok(i) => {
                    if self.inodes.set(ino) {
                        self.report.inodes += 1;
                        self.check_inode(ino, &i);
                    } else if i.nlink == 0 {
                        self.problem(
                            format!("orphan inode {ino} with no links is still reachable"),
                            None,
                        );
                    }
                    ino = i.orphan_next;
                }
                Err(e) => {
                    self.problem(format!("orphan list: inode {ino}: {e}"), None);
                    return;
                }
            }
        }
    }

    fn inode_table(&mut self) {
        for ino in ROOT_INO..self.geo.inode_count {
            let mut raw = [0u8; INODE_SIZE as usize];
            if self
                .fs
                .pm()
                .read(self.geo.inode_off(ino), &mut raw)
                .is_err()
            {
                self.problem(format!("inode {ino}: unreadable"), None);
                continue;
            }
            let used = raw[..2] != [0, 0];
            if used && !self.inodes.get(ino) {
                match self.fs.read_inode(ino) {
                    // Unlinked and on no list (a lost orphan-list link): its
                    // blocks stay in use until the next mount releases it.
                    Ok(i) if i.nlink == 0 && !i.is_dir() => {
                        self.inodes.set(ino);
                        self.report.inodes += 1;
                        self.check_inode(ino, &i);
                        self.problem(
                            format!("inode {ino}: unlinked but not on the orphan list"),
                            Some(Fix::Orphan { ino }),
                        );
                    }
                    _ => self.problem(format!("inode {ino}: in use but unreachable"), None),
                }
            } else if !used && raw.iter().any(|&b| b != 0) {
                self.problem(format!("inode {ino}: free slot not cleared"), None);
            }
        }
    }

    fn free_space(&mut self) {
        let g = self.geo;
        for b in (0..g.data_start).chain([g.backup_sb_block()]) {
            self.blocks.set(b);
        }
        self.inodes.set(0);
        let mut bad = Vec::new();
        for (map, n, want) in [
            (Map::Blocks, g.total_blocks, &self.blocks),
            (Map::Inodes, g.inode_count, &self.inodes),
        ] {
            let mut wrong = 0;
            for i in 0..n {
                if self.fs.bit_is_set(map, i).unwrap_or(false) != want.get(i) {
                    wrong += 1;
                }
            }
            if wrong > 0 {
                bad.push(format!("{map:?} bitmap: {wrong} bits wrong"));
            }
            let nblocks = match map {
                Map::Blocks => g.block_bitmap_blocks,
                Map::Inodes => g.inode_bitmap_blocks,
            };
            for idx in 0..nblocks {
                let (have, want) = (
                    self.fs.bitmap_stored_crc(map, idx),
                    self.fs.bitmap_block_crc(map, idx),
                );
                if have.is_err() || have != want {
                    bad.push(format!("{map:?} bitmap block {idx}: checksum"));
                }
            }
        }
        let used_blocks = (0..g.total_blocks).filter(|&b| self.blocks.get(b)).count() as u64;
        let used_inodes = (0..g.inode_count).filter(|&i| self.inodes.get(i)).count() as u64;
        let c = self.fs.counters();
        if c.free_blocks != g.total_blocks - used_blocks {
            bad.push(format!(
                "free block count {} should be {}",
                c.free_blocks,
                g.total_blocks - used_blocks
            ));
        }
        if c.free_inodes != g.inode_count - used_inodes {
            bad.push(format!(
                "free inode count {} should be {}",
                c.free_inodes,
                g.inode_count - used_inodes
            ));
        }
        for what in bad {
            self.problem(what, Some(Fix::FreeSpace));
        }
        self.report.used_blocks = used_blocks;
    }

    fn backup_superblock(&mut self) {
        let (mut a, mut b) = ([0u8; SB_SIZE], [0u8; SB_SIZE]);
        let pm = self.fs.pm();
        let off = Geometry::block_off(self.geo.backup_sb_block());
        if pm.read(0, &mut a).is_err() || pm.read(off, &mut b).is_err() || a != b {
            self.problem(
                "backup superblock differs from primary".into(),
                Some(Fix::BackupSuperblock),
            );
        }
    }
}

/// Check a mounted filesystem.
pub fn check<M: Medium>(fs: &Fs<M>) -> Report {
    let geo = *fs.geometry();
    let mut c = Checker {
        fs,
        geo,
        report: Report::default(),
        blocks: Bits::new(geo.total_blocks),
        inodes: Bits::new(geo.inode_count),
        links: HashMap::new(),
        orphan_links: Vec::new(),
    };
    c.backup_superblock();
    c.walk();
    c.orphans();
    c.inode_table();
    c.free_space();
    c.report.expected_blocks = c.blocks.0;
    c.report.expected_inodes = c.inodes.0;
    c.report
}

/// Apply the repairs a report asks for to an unmounted medium. Returns how
/// many problems were repaired; the rest need a human.
pub fn repair<M: Medium>(pm: &mut Pm<M>, sb: &Superblock, report: &Report) -> Result<usize> {
    let geo = sb.geo;
    let mut fixed = 0;
    let mut free_space_done = false;
    for p in &report.problems {
        match &p.fix {
            None => continue,
            Some(Fix::FreeSpace) if free_space_done => {}
            Some(Fix::FreeSpace) => {
                rewrite_free_space(pm, &geo, report)?;
                free_space_done = true;
            }
            Some(Fix::LinkCount { ino, nlink }) => {
                patch_inode(pm, &geo, *ino, |i| i.nlink = *nlink)?
            }
            Some(Fix::DirEntries { ino, entries }) => {
                patch_inode(pm, &geo, *ino, |i| i.entries = *entries)?
            }
            Some(Fix::BackupSuperblock) => {
                let f = pm.persist(Geometry::block_off(geo.backup_sb_block()), &sb.encode())?;
                pm.fence(f);
            }
            Some(Fix::OrphanLink { ino }) => patch_inode(pm, &geo, *ino, |i| i.orphan_next = 0)?,
            Some(Fix::BlockCount { ino, blocks }) => {
                patch_inode(pm, &geo, *ino, |i| i.blocks = *blocks)?
            }
            Some(Fix::Flags { ino }) => patch_inode(pm, &geo, *ino, |i| i.flags = 0)?,
            Some(Fix::Orphan { ino }) => {
                // The inode first, pointing at the current head: the list
                // is whole at every step.
                let mut raw = [0u8; 64];
                pm.read(DYN_OFFSET, &mut raw)?;
                let mut c = Counters::decode(&raw, &geo)?;
                patch_inode(pm, &geo, *ino, |i| i.orphan_next = c.orphan_head)?;
                c.orphan_head = *ino;
                let f = pm.persist(DYN_OFFSET, &c.encode())?;
                pm.fence(f);
            }
        }
        fixed += 1;
    }
    Ok(fixed)
}

fn patch_inode<M: Medium>(
    pm: &mut Pm<M>,
    geo: &Geometry,
    ino: u64,
    f: impl FnOnce(&mut Inode),
) -> Result<()> {
    let mut raw = [0u8; INODE_SIZE as usize];
    pm.read(geo.inode_off(ino), &mut raw)?;
    let mut inode = Inode::decode(&raw, ino, geo)?;
    f(&mut inode);
    let fl = pm.persist(geo.inode_off(ino), &inode.encode(ino))?;
    pm.fence(fl);
    Ok(())
}

fn rewrite_free_space<M: Medium>(pm: &mut Pm<M>, geo: &Geometry, report: &Report) -> Result<()> {
    let regions = [
        (
            geo.inode_bitmap_start,
            geo.inode_bitmap_blocks,
            &report.expected_inodes,
        ),
        (
            geo.block_bitmap_start,
            geo.block_bitmap_blocks,
            &report.expected_blocks,
        ),
    ];
    let mut crc_index = 0;
    for (start, nblocks, words) in regions {
        for blk in 0..nblocks {
            let mut buf = vec![0u8; BLOCK_SIZE as usize];
            for (i, w) in words
                .iter()
                .skip((blk * BLOCK_SIZE / 8) as usize)
                .take((BLOCK_SIZE / 8) as usize)
                .enumerate()
            {
                buf[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
            }
            let f = pm.persist(Geometry::block_off(start + blk), &buf)?;
            let crc = ferrodax_core::crc32c::crc32c(&buf);
            let f2 = pm.persist(
                Geometry::block_off(geo.bitmap_crc_start) + crc_index * 4,
                &crc.to_le_bytes(),
            )?;
            pm.fence(f.join(f2));
            crc_index += 1;
        }
    }
    let mut raw = [0u8; 64];
    pm.read(DYN_OFFSET, &mut raw)?;
    let old = Counters::decode(&raw, geo)?;
    let count = |words: &Vec<u64>| words.iter().map(|w| u64::from(w.count_ones())).sum::<u64>();
    let c = Counters {
        free_blocks: geo.total_blocks - count(&report.expected_blocks),
        free_inodes: geo.inode_count - count(&report.expected_inodes),
        ..old
    };
    let f = pm.persist(DYN_OFFSET, &c.encode())?;
    pm.fence(f);
    Ok(())
}
