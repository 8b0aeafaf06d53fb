//! fsck.ferrodax: check every invariant the format relies on, and repair
//! what e2fsck would: what can be derived again (free space and counters,
//! checksums, link, entry and block counts, parents, backup superblock,
//! lost orphans) is rebuilt; a damaged inode is cleared and the names of
//! it removed; a damaged root directory is replaced; inodes no directory
//! names any more are reconnected under `/lost+found`.
//!
//! The filesystem is mounted through the core first (journal rollback and
//! orphan release run as on a kernel mount, on a copy-on-write view when
//! checking only), then walked from the root. Repairs run in passes
//! ([`fsck`]): the ones made in place on the media (counts, bitmaps,
//! cleared inodes) first, and only once the free space is right the ones
//! made through the core's transactions (removing entries, a new root,
//! reconnecting), which allocate.

use ferrodax_core::bitmap::Map;
use ferrodax_core::bitmap::{block_line_crcs, LINE_CRCS_BYTES};
use ferrodax_core::fs::{MountOptions, MountReport};
use ferrodax_core::group::committed_group;
use ferrodax_core::inode::{flags, Inode, Kind, Time, S_IFMT};
use ferrodax_core::journal::Journal;
use ferrodax_core::layout::{
    Geometry, Group, Superblock, BLOCK_SIZE, INODE_SIZE, LABEL_SIZE, ROOT_INO, SB_SIZE,
};
use ferrodax_core::owner::Held;
use ferrodax_core::persist::Pm;
use ferrodax_core::{Fs, Medium, Result};
use std::collections::HashMap;
use std::ops::ControlFlow;

/// A repair fsck knows how to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    /// Rewrite the bitmaps (inodes, blocks, orphans), their checksums and
    /// the groups' free and orphan counts.
    FreeSpace,
    /// Set an inode's link count.
    LinkCount { ino: u64, nlink: u32 },
    /// Set a directory's entry count.
    DirEntries { ino: u64, entries: u64 },
    /// Rewrite the backup superblock from the primary.
    BackupSuperblock,
    /// Set an inode's block count to the blocks it owns.
    BlockCount { ino: u64, blocks: u64 },
    /// Clear the inode flags this version does not define.
    Flags { ino: u64 },
    /// Rebuild a group's counters record from the bitmaps and the inode
    /// table (made before mounting: a damaged one stops the mount).
    Counters { group: u64 },
    /// Zero a damaged inode; its blocks return to free space and its names
    /// go in a later pass.
    ClearInode { ino: u64 },
    /// Set a directory's parent to the directory that names it.
    Parent { ino: u64, parent: u64 },
    /// Set a directory's size to the blocks it has.
    DirSize { ino: u64, size: u64 },
    /// Remove an entry (found where readdir lists it: `next` is its next
    /// position) without touching the inode it names.
    RemoveEntry { dir: u64, name: Vec<u8>, next: u64 },
    /// Replace the damaged root directory with an empty one.
    Root,
    /// Name an inode in use that no directory names in `/lost+found`.
    Reconnect { ino: u64 },
    /// Restore the primary superblock from the backup (made before
    /// mounting, like [`Fix::Counters`]).
    SuperblockFromBackup,
    /// Discard an undo journal that cannot be rolled back (before
    /// mounting): what it would have undone is checked like any damage.
    ResetJournal,
    /// Replace a label that fails its checksum with the backup's, or
    /// with none if that fails too (before mounting).
    Label,
    /// Drop a damaged extended-attribute block: the inode loses its
    /// attributes, the block returns to free space (a block count fix
    /// follows).
    DropXattrs { ino: u64 },
}

impl Fix {
    /// Made through the core's transactions, which allocate: only once
    /// the free space is right (see [`fsck`]).
    pub fn through_core(&self) -> bool {
        matches!(
            self,
            Fix::RemoveEntry { .. } | Fix::Root | Fix::Reconnect { .. }
        )
    }
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
    /// The filesystem's geometry.
    pub geometry: Geometry,
    /// Expected bitmaps, for the free-space repair.
    expected_blocks: Vec<u64>,
    expected_inodes: Vec<u64>,
    expected_orphans: Vec<u64>,
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
    /// The orphan bitmap as it should be: the orphans in use, and the
    /// unlinked inodes it lost.
    orphans: Bits,
}

impl<M: Medium> Checker<'_, M> {
    fn problem(&mut self, what: String, fix: Option<Fix>) {
        self.report.problems.push(Problem { what, fix });
    }

    /// Account for block `b` of `owner`; why it cannot be `owner`'s.
    fn own_block(&mut self, b: u64) -> std::result::Result<(), String> {
        if !self.geo.is_data_block(b) {
            Err(format!("block {b} is outside the data area"))
        } else if !self.blocks.set(b) {
            Err(format!("block {b} is owned twice"))
        } else {
            Ok(())
        }
    }

    /// `ino` is damaged beyond repair in place: clear it (the root is
    /// replaced instead).
    fn damaged(&mut self, ino: u64, why: impl std::fmt::Display) {
        let fix = if ino == ROOT_INO {
            Fix::Root
        } else {
            Fix::ClearInode { ino }
        };
        self.problem(format!("inode {ino}: {why}"), Some(fix));
    }

    /// Account for an inode's blocks and check its own structure.
    /// Check one inode; false if it is damaged (and to be cleared).
    fn check_inode(&mut self, ino: u64, inode: &Inode) -> bool {
        if inode.flags & !flags::ALL != 0 {
            let what = format!(
                "inode {ino}: flags {:#x} that this version does not define",
                inode.flags & !flags::ALL
            );
            self.problem(what, Some(Fix::Flags { ino }));
        }
        let mut inode = *inode;
        if let Err(e) = self.fs.check_xattrs(ino, &inode) {
            let what = format!("inode {ino}: extended attributes: {e}");
            self.problem(what, Some(Fix::DropXattrs { ino }));
            inode.xattr = 0;
        }
        let inode = &inode;
        let owned = match self.owned_blocks(ino, inode) {
            Ok(n) => n,
            Err(why) => {
                self.damaged(ino, why);
                return false;
            }
        };
        if inode.blocks != owned {
            self.problem(
                format!(
                    "inode {ino}: block count {} but {} blocks owned",
                    inode.blocks, owned
                ),
                Some(Fix::BlockCount { ino, blocks: owned }),
            );
        }
        true
    }

    /// Account for the blocks of `ino` and check the structures that
    /// hold them; returns how many it owns, or why it is damaged.
    fn owned_blocks(&mut self, ino: u64, inode: &Inode) -> std::result::Result<u64, String> {
        let fs = self.fs;
        let (mut owned, mut end, mut why) = (0, 0, None);
        fs.held_blocks(ino, inode, |held| {
            let result = match held {
                Held::Structure(b) => self.own_block(b).map(|()| 1),
                Held::Data(e) if u64::from(e.lblk) < end => {
                    Err("extents out of order or overlapping".into())
                }
                Held::Data(e) => {
                    end = e.end();
                    (e.pblk..e.pblk + u64::from(e.len))
                        .try_for_each(|b| self.own_block(b))
                        .map(|()| u64::from(e.len))
                }
            };
            match result {
                Ok(n) => {
                    owned += n;
                    ControlFlow::Continue(())
                }
                Err(e) => {
                    why = Some(e);
                    ControlFlow::Break(())
                }
            }
        })
        .map_err(|e| e.to_string())?;
        if let Some(why) = why {
            return Err(why);
        }
        let dir_blocks = owned - u64::from(inode.xattr != 0);
        if inode.kind() == Kind::Directory && inode.size != dir_blocks * BLOCK_SIZE {
            let fix = Fix::DirSize {
                ino,
                size: dir_blocks * BLOCK_SIZE,
            };
            let what = format!(
                "directory {ino}: size {} but {dir_blocks} blocks",
                inode.size
            );
            self.problem(what, Some(fix));
        }
        Ok(owned)
    }

    fn walk(&mut self) {
        self.inodes.set(ROOT_INO);
        match self.fs.read_inode(ROOT_INO) {
            Ok(root) if root.is_dir() => self.walk_from(ROOT_INO),
            Ok(_) => self.damaged(ROOT_INO, "root is not a directory"),
            Err(e) => self.damaged(ROOT_INO, e),
        }
    }

    /// Walk the tree below directory `top` (already marked reached).
    fn walk_from(&mut self, top: u64) {
        let mut stack = vec![top];
        while let Some(dir) = stack.pop() {
            let d = match self.fs.read_inode(dir) {
                Ok(d) => d,
                Err(e) => {
                    self.damaged(dir, e);
                    continue;
                }
            };
            self.report.inodes += 1;
            self.report.dirs += 1;
            if !self.check_inode(dir, &d) {
                continue;
            }
            let mut entries = Vec::new();
            let r = self.fs.readdir(dir, 0, |name, ino, dtype, next| {
                entries.push((name.to_vec(), ino, dtype, next));
                true
            });
            if let Err(e) = r {
                // Its entries cannot all be read: what it named is
                // reconnected once it is cleared.
                self.damaged(dir, e);
                continue;
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
            for (raw, ino, dtype, next) in entries {
                let name = String::from_utf8_lossy(&raw).into_owned();
                let remove = Some(Fix::RemoveEntry {
                    dir,
                    name: raw.clone(),
                    next,
                });
                // The name must lead back to the entry: a damaged hash or
                // an entry stored under another hash lists but cannot be opened.
                if ferrodax_core::dir::check_name(&raw).is_err() {
                    let what = format!("directory {dir}: entry '{name}' has an invalid name");
                    self.problem(what, remove);
                    continue;
                }
                if !matches!(self.fs.lookup(dir, &raw), Ok(Some(e)) if e.ino == ino) {
                    let what = format!("directory {dir}: entry '{name}' is not found by its name");
                    self.problem(what, remove);
                    continue;
                }
                let child = match self.fs.read_inode(ino) {
                    Ok(c) if c.mode != 0 => c,
                    Ok(_) => {
                        let what = format!("directory {dir}: entry '{name}' -> free inode {ino}");
                        self.problem(what, remove);
                        continue;
                    }
                    Err(e) => {
                        let what = format!("directory {dir}: entry '{name}' -> inode {ino}: {e}");
                        self.problem(what, remove);
                        continue;
                    }
                };
                if dtype != ((child.mode & S_IFMT) >> 12) as u8 {
                    let what =
                        format!("directory {dir}: entry '{name}' type does not match inode {ino}");
                    self.problem(what, remove);
                    continue;
                }
                if child.is_dir() {
                    if ino == ROOT_INO || !self.inodes.set(ino) {
                        let what =
                            format!("directory {ino}: more than one name ('{name}' in {dir})");
                        self.problem(what, remove);
                        continue;
                    }
                    subdirs += 1;
                    if child.parent != dir {
                        let what = format!(
                            "directory {ino}: parent is {} but it lives in {dir}",
                            child.parent
                        );
                        self.problem(what, Some(Fix::Parent { ino, parent: dir }));
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
    }

    /// Every non-directory reached has as many links as names.
    fn link_counts(&mut self) {
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

    /// The orphans: inodes in use (an unlinked one counts as reached;
    /// one with links is a truncate a crash left unfinished). The bitmap's
    /// other bits and its counts are checked with the free space.
    fn orphans(&mut self) {
        for ino in ROOT_INO + 1..self.geo.inode_count {
            if !self.fs.bit_is_set(Map::Orphans, ino).unwrap_or(false) {
                continue;
            }
            let inode = match self.fs.bit_is_set(Map::Inodes, ino) {
                Ok(true) => self.fs.read_inode(ino),
                _ => Err(ferrodax_core::Error::Corrupt("not in use")),
            };
            match inode {
                Ok(i) => {
                    self.orphans.set(ino);
                    if self.inodes.set(ino) {
                        self.report.inodes += 1;
                        self.check_inode(ino, &i);
                    } else if i.nlink == 0 {
                        self.problem(
                            format!("orphan inode {ino} with no links is still reachable"),
                            None,
                        );
                    }
                }
                Err(e) => {
                    let what = format!("orphan bitmap holds inode {ino}: {e}");
                    self.problem(what, Some(Fix::FreeSpace));
                }
            }
        }
    }

    /// Every inode slot holding an inode of this filesystem that was never
    /// reached (a slot without the filesystem's stamp is free: zeroed when
    /// its inode was released, or as mkfs found it). Unreached directories
    /// go first, each subtree from its topmost
    /// unreached directory, so that what lies below one is reconnected
    /// with it, not name by name.
    fn inode_table(&mut self) {
        let mut unreached = Vec::new();
        let stamp = self.fs.superblock().inode_stamp();
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
            if Inode::is_ours(&raw, ino, stamp) && !self.inodes.get(ino) {
                match self.fs.read_inode(ino) {
                    Ok(i) => unreached.push((ino, i)),
                    Err(e) => self.damaged(ino, e),
                }
            }
        }
        for &(ino, ref i) in &unreached {
            if i.is_dir() && i.nlink != 0 && !self.inodes.get(ino) {
                let top = self.topmost_unreached(ino);
                self.inodes.set(top);
                self.walk_from(top);
                let what = format!("directory {top}: in use but no directory names it");
                self.problem(what, Some(Fix::Reconnect { ino: top }));
            }
        }
        for (ino, i) in unreached {
            if self.inodes.get(ino) {
                continue;
            }
            self.inodes.set(ino);
            self.report.inodes += 1;
            if !self.check_inode(ino, &i) {
                continue;
            }
            if i.nlink == 0 {
                // Unlinked and not an orphan (a lost orphan bit): its blocks
                // stay in use until the next mount releases it.
                let what = format!("inode {ino}: unlinked but not on the orphan list");
                self.orphans.set(ino);
                self.problem(what, Some(Fix::FreeSpace));
            } else {
                let what = format!("inode {ino}: in use but no directory names it");
                self.problem(what, Some(Fix::Reconnect { ino }));
                *self.links.entry(ino).or_insert(0) += 1;
            }
        }
    }

    /// The topmost of the unreached directories above directory `ino`
    /// (following parents, which may be damaged: bounded, loops end).
    fn topmost_unreached(&self, ino: u64) -> u64 {
        let mut top = ino;
        for _ in 0..self.geo.inode_count {
            match self.fs.read_inode(top) {
                Ok(d) if d.parent != top && !self.inodes.get(d.parent) => {
                    match self.fs.read_inode(d.parent) {
                        Ok(p) if p.is_dir() && p.nlink != 0 => top = d.parent,
                        _ => return top,
                    }
                }
                _ => return top,
            }
        }
        top
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
            (Map::Orphans, g.inode_count, &self.orphans),
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
            for chunk in 0..self.fs.bitmap_chunks(map) {
                let (have, want) = (
                    self.fs.bitmap_stored_crc(map, chunk),
                    self.fs.bitmap_chunk_crc(map, chunk),
                );
                if have.is_err() || have != want {
                    bad.push(format!("{map:?} bitmap line {chunk}: checksum"));
                }
            }
        }
        let used_blocks = (0..g.total_blocks).filter(|&b| self.blocks.get(b)).count() as u64;
        for k in 0..g.groups {
            let (inodes, blocks) = (g.group_inodes(k), g.group_blocks(k));
            let free_blocks = blocks.clone().filter(|&b| !self.blocks.get(b)).count() as u64;
            let free_inodes = inodes.clone().filter(|&i| !self.inodes.get(i)).count() as u64;
            let orphans = inodes.clone().filter(|&i| self.orphans.get(i)).count() as u64;
            let c = self.fs.group(k);
            if c.orphans != orphans {
                let have = c.orphans;
                bad.push(format!(
                    "group {k}: orphan count {have} should be {orphans}"
                ));
            }
            if c.free_blocks != free_blocks {
                let have = c.free_blocks;
                bad.push(format!(
                    "group {k}: free block count {have} should be {free_blocks}"
                ));
            }
            if c.free_inodes != free_inodes {
                let have = c.free_inodes;
                bad.push(format!(
                    "group {k}: free inode count {have} should be {free_inodes}"
                ));
            }
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
        report: Report {
            geometry: geo,
            ..Report::default()
        },
        blocks: Bits::new(geo.total_blocks),
        inodes: Bits::new(geo.inode_count),
        links: HashMap::new(),
        orphans: Bits::new(geo.inode_count),
    };
    c.backup_superblock();
    c.walk();
    c.orphans();
    c.inode_table();
    c.link_counts();
    c.free_space();
    c.report.expected_blocks = c.blocks.0;
    c.report.expected_inodes = c.inodes.0;
    c.report.expected_orphans = c.orphans.0;
    c.report
}

/// Apply the repairs a report asks for that are made in place to an
/// unmounted medium (not [`Fix::through_core`]). Returns how many problems
/// were repaired.
pub fn repair<M: Medium>(pm: &mut Pm<M>, sb: &Superblock, report: &Report) -> Result<usize> {
    let geo = sb.geo;
    let mut fixed = 0;
    let mut free_space_done = false;
    for p in &report.problems {
        match &p.fix {
            None => continue,
            Some(f) if f.through_core() => continue,
            Some(Fix::Counters { group }) => rebuild_group(pm, sb, *group)?,
            Some(Fix::ClearInode { ino }) => {
                let f = pm.persist(geo.inode_off(*ino), &[0u8; INODE_SIZE as usize])?;
                pm.fence(f);
            }
            Some(Fix::Parent { ino, parent }) => patch_inode(pm, sb, *ino, |i| i.parent = *parent)?,
            Some(Fix::DirSize { ino, size }) => patch_inode(pm, sb, *ino, |i| i.size = *size)?,
            Some(Fix::FreeSpace) if free_space_done => {}
            Some(Fix::FreeSpace) => {
                rewrite_free_space(pm, &geo, report)?;
                free_space_done = true;
            }
            Some(Fix::LinkCount { ino, nlink }) => patch_inode(pm, sb, *ino, |i| i.nlink = *nlink)?,
            Some(Fix::DirEntries { ino, entries }) => {
                patch_inode(pm, sb, *ino, |i| i.entries = *entries)?
            }
            Some(Fix::BackupSuperblock) => {
                // Both from the decoded primary: bytes no field holds
                // (which made them differ) are cleared in the primary too.
                let f = pm.persist(Geometry::block_off(geo.backup_sb_block()), &sb.encode())?;
                let f0 = pm.persist(0, &sb.encode())?;
                pm.fence(f.join(f0));
            }
            Some(Fix::SuperblockFromBackup | Fix::ResetJournal | Fix::Label) => {} // before mounting
            Some(Fix::BlockCount { ino, blocks }) => {
                patch_inode(pm, sb, *ino, |i| i.blocks = *blocks)?
            }
            Some(Fix::Flags { ino }) => patch_inode(pm, sb, *ino, |i| i.flags &= flags::ALL)?,
            Some(Fix::DropXattrs { ino }) => patch_inode(pm, sb, *ino, |i| i.xattr = 0)?,
            Some(Fix::RemoveEntry { .. } | Fix::Root | Fix::Reconnect { .. }) => {
                unreachable!("made through the core")
            }
        }
        fixed += 1;
    }
    Ok(fixed)
}

/// Apply the repairs a report asks for that are made through the core:
/// entries first, then a new root, then reconnections (which may need
/// the new root for `/lost+found`). Returns how many were made.
pub fn repair_through_core<M: Medium>(fs: &mut Fs<M>, report: &Report, now: Time) -> Result<usize> {
    let mut fixed = 0;
    for p in &report.problems {
        if let Some(Fix::RemoveEntry { dir, name, next }) = &p.fix {
            fs.remove_listed_entry(*dir, name, *next)?;
            fixed += 1;
        }
    }
    if report.problems.iter().any(|p| p.fix == Some(Fix::Root)) {
        fs.recreate_root(now)?;
        fixed += 1;
    }
    for p in &report.problems {
        if let Some(Fix::Reconnect { ino }) = p.fix {
            fs.reconnect(ino, now)?;
            fixed += 1;
        }
    }
    Ok(fixed)
}

/// How [`fsck`] runs.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Repair (`-y`), or only check (`-n`).
    pub fix: bool,
    /// The time repairs stamp on what they create.
    pub now: Time,
    /// Where the backup superblock is (`-b`), if not in the device's last
    /// block (a filesystem smaller than its device).
    pub backup_block: Option<u64>,
}

/// What mount reads before anything else, made readable if it is not:
/// the primary superblock (restored from the backup), the undo journal
/// (rolled back as mount would, or discarded if it cannot be) and the
/// groups' counters (rebuilt). Returns whether a transaction was rolled back, and
/// the problems repaired.
fn before_mount<M: Medium>(pm: &mut Pm<M>, opts: &Options) -> Result<(bool, Vec<Problem>)> {
    let mut found = Vec::new();
    let mut raw = [0u8; SB_SIZE];
    pm.read(0, &mut raw)?;
    let fits = |sb: Superblock| {
        if Geometry::block_off(sb.geo.total_blocks) > pm.len() {
            Err(ferrodax_core::Error::Corrupt(
                "superblock size (larger than the device)",
            ))
        } else {
            Ok(sb)
        }
    };
    // Static part only: a label change a power cut tore is recovery's to
    // put back (`label.rs`).
    let sb = match Superblock::decode_static(&raw).and_then(fits) {
        Ok(sb) => sb,
        Err(why) => {
            let last = pm.len() / BLOCK_SIZE - 1;
            let mut backup = [0u8; SB_SIZE];
            pm.read(
                Geometry::block_off(opts.backup_block.unwrap_or(last)),
                &mut backup,
            )?;
            let sb = Superblock::decode_static(&backup)
                .and_then(fits)
                .map_err(|_| why)?;
            let f = pm.persist(0, &sb.encode())?;
            pm.fence(f);
            found.push(Problem {
                what: format!("primary superblock: {why}"),
                fix: Some(Fix::SuperblockFromBackup),
            });
            sb
        }
    };
    let geo = sb.geo;
    let rolled_back = match Journal::recover(pm, &geo) {
        Ok((_, rolled_back)) => rolled_back,
        Err(why) => {
            let f = Journal::format(pm, &geo)?;
            pm.fence(f);
            found.push(Problem {
                what: format!("undo journal: {why}"),
                fix: Some(Fix::ResetJournal),
            });
            false
        }
    };
    // The label, once recovery has put back or finished a change of it:
    // damaged, it would stop the mount.
    pm.read(0, &mut raw)?;
    if let Err(why) = Superblock::decode(&raw) {
        let mut backup = [0u8; SB_SIZE];
        pm.read(Geometry::block_off(geo.backup_sb_block()), &mut backup)?;
        let label = Superblock::decode(&backup).map_or([0; LABEL_SIZE], |b| b.label);
        let f = pm.persist(0, &Superblock { label, ..sb }.encode())?;
        pm.fence(f);
        found.push(Problem {
            what: format!("primary superblock: {why}"),
            fix: Some(Fix::Label),
        });
    }
    for g in 0..geo.groups {
        if let Err(why) = committed_group(pm, &geo, g) {
            rebuild_group(pm, &sb, g)?;
            found.push(Problem {
                what: format!("group {g} counters: {why}"),
                fix: Some(Fix::Counters { group: g }),
            });
        }
    }
    Ok((rolled_back, found))
}

fn patch_group<M: Medium>(
    pm: &mut Pm<M>,
    geo: &Geometry,
    g: u64,
    f: impl FnOnce(&mut Group),
) -> Result<()> {
    let mut c = committed_group(pm, geo, g)?;
    f(&mut c);
    let fl = pm.persist(Geometry::group_off(g), &c.encode())?;
    pm.fence(fl);
    Ok(())
}

/// Write group `g`'s counters, derived from the bitmaps (free counts: a
/// later pass checks the bitmaps themselves) and the inode table (the next
/// generation number after every one of the group's in use).
fn rebuild_group<M: Medium>(pm: &mut Pm<M>, sb: &Superblock, g: u64) -> Result<()> {
    let geo = &sb.geo;
    let mut set = [0u64; 3];
    for (n, (start, bits)) in [
        (geo.block_bitmap_start, geo.group_blocks(g)),
        (geo.inode_bitmap_start, geo.group_inodes(g)),
        (geo.orphan_bitmap_start, geo.group_inodes(g)),
    ]
    .into_iter()
    .enumerate()
    {
        for bit in bits.clone().step_by(64) {
            let mut w = [0u8; 8];
            pm.read(Geometry::block_off(start) + bit / 8, &mut w)?;
            let valid = (bits.end - bit).min(64);
            let mask = if valid == 64 {
                u64::MAX
            } else {
                (1 << valid) - 1
            };
            set[n] += u64::from((u64::from_le_bytes(w) & mask).count_ones());
        }
    }
    let mut next_generation = 1;
    for ino in geo.group_inodes(g).filter(|&i| i >= ROOT_INO) {
        let mut raw = [0u8; INODE_SIZE as usize];
        pm.read(geo.inode_off(ino), &mut raw)?;
        if let Ok(i) = Inode::decode(&raw, ino, sb.inode_stamp(), geo) {
            next_generation = next_generation.max(u64::from(i.generation) + 1);
        }
    }
    let (blocks, inodes) = (geo.group_blocks(g), geo.group_inodes(g));
    let c = Group {
        free_blocks: blocks.end - blocks.start - set[0],
        free_inodes: inodes.end - inodes.start - set[1],
        orphans: set[2],
        next_generation,
        block_hint: 0,
        ino_hint: 0,
    };
    let f = pm.persist(Geometry::group_off(g), &c.encode())?;
    pm.fence(f);
    Ok(())
}

/// What [`fsck`] found and did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// What mounting did first (rollback, orphans released).
    pub mount: MountReport,
    /// The problems each pass found (one pass when not repairing).
    pub passes: Vec<Vec<Problem>>,
    /// The last check, after the last repairs.
    pub last: Report,
}

impl Outcome {
    /// Problems still there at the end.
    pub fn left(&self) -> &[Problem] {
        &self.last.problems
    }
}

/// Passes before fsck gives up on a filesystem that keeps changing.
const MAX_PASSES: usize = 8;

/// Check `medium` and, with `fix`, repair it in passes until a check finds
/// nothing more it can repair: in-place repairs first; the ones through
/// the core only in a pass that found nothing else (the free space is then
/// right, so their allocations cannot take a block in use). A damaged
/// counters block is rebuilt before mounting even when only checking (on
/// the caller's copy-on-write view), so the rest is checked too. Fails
/// only when the filesystem cannot be mounted at all.
pub fn fsck<M: Medium>(medium: M, opts: &Options) -> Result<(M, Outcome)> {
    let mut out = Outcome::default();
    let mut medium = medium;
    for pass in 0..MAX_PASSES {
        let mut pm = Pm::new(medium);
        let (rolled_back, mut found) = before_mount(&mut pm, opts)?;
        let mount_opts = MountOptions {
            damaged_root: true,
            keep_orphans: true,
            ..MountOptions::default()
        };
        let (mut fs, mount) = Fs::mount(pm.into_medium(), mount_opts)?;
        let orphans = match fs.release_orphans() {
            Ok(n) => n,
            Err(why) => {
                found.push(Problem {
                    what: format!("orphan list: releasing it failed: {why}"),
                    fix: Some(Fix::FreeSpace),
                });
                0
            }
        };
        if pass == 0 {
            out.mount = MountReport {
                rolled_back: rolled_back || mount.rolled_back,
                orphans,
            };
        }
        let report = check(&fs);
        found.extend(report.problems.iter().cloned());
        let fixable = report.problems.iter().any(|p| p.fix.is_some());
        out.passes.push(found);
        if !opts.fix || !fixable {
            out.last = report;
            return Ok((fs.into_medium(), out));
        }
        let in_place = report
            .problems
            .iter()
            .any(|p| p.fix.as_ref().is_some_and(|f| !f.through_core()));
        medium = if in_place {
            let sb = *fs.superblock();
            let mut pm = Pm::new(fs.into_medium());
            repair(&mut pm, &sb, &report)?;
            pm.into_medium()
        } else {
            repair_through_core(&mut fs, &report, opts.now)?;
            fs.into_medium()
        };
        out.last = report;
    }
    Ok((medium, out))
}

fn patch_inode<M: Medium>(
    pm: &mut Pm<M>,
    sb: &Superblock,
    ino: u64,
    f: impl FnOnce(&mut Inode),
) -> Result<()> {
    let (geo, stamp) = (&sb.geo, sb.inode_stamp());
    let mut raw = [0u8; INODE_SIZE as usize];
    pm.read(geo.inode_off(ino), &mut raw)?;
    let mut inode = Inode::decode(&raw, ino, stamp, geo)?;
    f(&mut inode);
    let fl = pm.persist(geo.inode_off(ino), &inode.encode(ino, stamp))?;
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
        (
            geo.orphan_bitmap_start,
            geo.inode_bitmap_blocks,
            &report.expected_orphans,
        ),
    ];
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
            let crcs = block_line_crcs(pm, start + blk)?;
            let slot = start + blk - geo.inode_bitmap_start;
            let table = Geometry::block_off(geo.bitmap_crc_start) + slot * LINE_CRCS_BYTES as u64;
            let f2 = pm.persist(table, &crcs)?;
            pm.fence(f.join(f2));
        }
    }
    let clear = |words: &Vec<u64>, bits: std::ops::Range<u64>| {
        bits.filter(|&b| words[(b / 64) as usize] & (1 << (b % 64)) == 0)
            .count() as u64
    };
    for g in 0..geo.groups {
        let free_blocks = clear(&report.expected_blocks, geo.group_blocks(g));
        let free_inodes = clear(&report.expected_inodes, geo.group_inodes(g));
        let orphans = geo.group_inodes(g).count() as u64
            - clear(&report.expected_orphans, geo.group_inodes(g));
        patch_group(pm, geo, g, |c| {
            c.free_blocks = free_blocks;
            c.free_inodes = free_inodes;
            c.orphans = orphans;
        })?;
    }
    Ok(())
}
