// SPDX-License-Identifier: GPL-2.0
//! The orphan list: inodes whose blocks must be released after a crash.
//!
//! An inode is put on the list, in the same transaction, when its link count
//! drops to zero (it may still be open) and when a truncate is too large for
//! one transaction. It leaves the list in the transaction that frees it or
//! finishes the truncate. Mount releases what is on it, so a crash
//! anywhere leaks nothing.
//!
//! The list is the orphan bitmap, one bit per inode (format version 11),
//! and each allocation group counts the bits set in its share of it, so
//! mount reads the bitmap of a group only when it has orphans. Adding or
//! removing an orphan changes its bit, the bit's line checksum and its
//! group's count: nothing of another inode (version 10 linked the orphans
//! through their records, and taking one off the middle of the list wrote
//! its neighbour's record, which no lock the caller held kept other
//! transactions from, so it ran exclusive).

use super::bitmap::Map;
use super::error::{Error, MediaCount, Result};
use super::inode::{Inode, Kind};
use super::layout::{BLOCK_SIZE, CHUNK_BITS, ROOT_INO};
use super::medium::Medium;
use super::Fs;

/// Blocks or extents released per transaction (keeps every transaction well
/// inside the undo journal).
pub(super) const RELEASE_BUDGET: u32 = 16;

impl<M: Medium> Fs<M> {
    /// Put `ino` on the orphan list, in the running transaction.
    pub(super) fn orphan_add(&mut self, ino: u64) -> Result<()> {
        if self.is_orphan(ino)? {
            return Ok(());
        }
        self.set_bits(Map::Orphans, ino, 1, true)?;
        self.group_mut(self.geo.inode_group(ino))?.orphans += 1;
        Ok(())
    }

    /// Take `ino` off the orphan list, in the running transaction.
    pub(super) fn orphan_remove(&mut self, ino: u64) -> Result<()> {
        if !self.is_orphan(ino)? {
            return Ok(());
        }
        self.set_bits(Map::Orphans, ino, 1, false)?;
        let group = self.group_mut(self.geo.inode_group(ino))?;
        group.orphans = group.orphans.minus(1, "group orphan count")?;
        Ok(())
    }

    /// Whether `ino` is on the orphan list. Fails with `Contended` unless
    /// its group is in scope: the bit is its group's to change.
    pub fn is_orphan(&self, ino: u64) -> Result<bool> {
        self.in_scope(self.geo.inode_group(ino))?;
        self.bit_is_set(Map::Orphans, ino)
    }

    /// The first orphan, in the first group that counts any; its bit's line
    /// is checked against its checksum, and its inode must be in use.
    pub fn first_orphan(&self) -> Result<Option<u64>> {
        for g in 0..self.geo.groups {
            if self.group(g).orphans == 0 {
                continue;
            }
            let ino = self
                .first_set(Map::Orphans, self.geo.group_inodes(g))?
                .ok_or(Error::Corrupt(
                    "group orphan count (no orphan in its bitmap)",
                ))?;
            self.check_bitmap_chunk(Map::Orphans, ino / CHUNK_BITS, "orphan bitmap")?;
            if ino <= ROOT_INO || !self.bit_is_set(Map::Inodes, ino)? {
                return Err(Error::Corrupt("orphan bitmap (an inode not in use)"));
            }
            return Ok(Some(ino));
        }
        Ok(None)
    }

    /// Release the blocks of an inode with no links and free it; used at
    /// the last close (evict) and for orphans at mount. Runs as several
    /// transactions; the inode stays on the orphan list until the last.
    pub fn release_inode(&mut self, ino: u64) -> Result<()> {
        if ino == ROOT_INO {
            return Err(Error::Invalid);
        }
        loop {
            let done = self.transact(|fs| {
                let mut inode = fs.read_inode(ino)?;
                if inode.nlink != 0 {
                    return Err(Error::Invalid);
                }
                // First, so that the kinds' releases may count the
                // blocks left as theirs.
                fs.xattr_release(&mut inode)?;
                let released = match inode.kind() {
                    Kind::Regular => fs.extent_truncate(&mut inode, ino, 0, RELEASE_BUDGET)?,
                    Kind::Directory => fs.dir_release(&mut inode, ino, RELEASE_BUDGET)?,
                    Kind::Symlink => {
                        fs.free_blocks(inode.root, 1)?;
                        inode.root = 0;
                        inode.blocks = 0;
                        true
                    }
                    Kind::Special => true,
                };
                if !released {
                    fs.write_inode(ino, &inode)?;
                    return Ok(false);
                }
                fs.orphan_remove(ino)?;
                fs.free_inode_slot(ino)?;
                Ok(true)
            })?;
            if done {
                return Ok(());
            }
        }
    }

    /// Release the blocks past the size of `ino` that a truncate left to
    /// later transactions (it put the inode on the orphan list, where a
    /// crash leaves it for the next mount to finish). Returns the inode as
    /// the last transaction left it, `None` if it is not an orphan. An
    /// inode without links stays on the list for [`Fs::release_inode`].
    pub fn finish_truncate(&mut self, ino: u64) -> Result<Option<Inode>> {
        if !self.is_orphan(ino)? {
            return Ok(None);
        }
        loop {
            let (done, inode) = self.transact(|fs| {
                let mut inode = fs.read_inode(ino)?;
                let from = inode.size.div_ceil(BLOCK_SIZE);
                let done = inode.kind() != Kind::Regular
                    || fs.extent_truncate(&mut inode, ino, from, RELEASE_BUDGET)?;
                fs.write_inode(ino, &inode)?;
                if done && inode.nlink != 0 {
                    fs.orphan_remove(ino)?;
                    inode = fs.read_inode(ino)?;
                }
                Ok((done, inode))
            })?;
            if done {
                return Ok(Some(inode));
            }
        }
    }

    /// Mount-time recovery: release every orphan. Returns how many.
    pub fn release_orphans(&mut self) -> Result<u64> {
        let mut n = 0;
        while let Some(ino) = self.first_orphan()? {
            if n > self.geo.inode_count {
                return Err(Error::Corrupt("orphan list loop"));
            }
            let inode = self.read_inode(ino)?;
            if inode.nlink == 0 {
                self.release_inode(ino)?;
            } else {
                self.finish_truncate(ino)?;
            }
            n += 1;
        }
        Ok(n)
    }
}
