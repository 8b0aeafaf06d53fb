// SPDX-License-Identifier: GPL-2.0
//! The orphan list: inodes whose blocks must be released after a crash.
//!
//! An inode is put on the list, in the same transaction, when its link count
//! drops to zero (it may still be open) and when a truncate is too large for
//! one transaction. It leaves the list in the transaction that frees it or
//! finishes the truncate. Mount walks the list, so a crash anywhere leaks
//! nothing.
//!
//! Each allocation group has a list of its own inodes (its record holds
//! the head). An inode's `orphan_next` is zero exactly when it is on no
//! list: the last one on a list points at itself.

use super::error::{Error, Result};
use super::inode::{Inode, Kind};
use super::layout::{BLOCK_SIZE, ROOT_INO};
use super::medium::Medium;
use super::Fs;

/// Blocks or extents released per transaction (keeps every transaction well
/// inside the undo journal).
pub(super) const RELEASE_BUDGET: u32 = 16;

impl<M: Medium> Fs<M> {
    /// Put `ino` on its group's orphan list, in the running transaction.
    pub(super) fn orphan_add(&mut self, ino: u64) -> Result<()> {
        let mut inode = self.read_inode(ino)?;
        if inode.orphan_next != 0 {
            return Ok(());
        }
        let group = self.group_mut(self.geo.inode_group(ino))?;
        let head = core::mem::replace(&mut group.orphan_head, ino);
        inode.orphan_next = if head == 0 { ino } else { head };
        self.write_inode(ino, &inode)
    }

    /// Take `ino` off its group's orphan list, in the running transaction.
    pub(super) fn orphan_remove(&mut self, ino: u64) -> Result<()> {
        let mut inode = self.read_inode(ino)?;
        let next = match inode.orphan_next {
            0 => return Ok(()), // not on the list
            n if n == ino => 0,
            n => n,
        };
        let g = self.geo.inode_group(ino);
        let head = self.group_in_scope(g)?.orphan_head;
        if head == ino {
            self.group_mut(g)?.orphan_head = next;
        } else {
            // The walk writes another orphan's record, which nothing the
            // caller holds keeps other transactions from: only with every
            // group in scope (no other transaction runs then).
            self.all_in_scope()?;
            let mut cur = head;
            let mut steps = 0;
            loop {
                steps += 1;
                if cur == 0 || steps > self.geo.inode_count {
                    return Err(Error::Corrupt(
                        "orphan list (an inode on it is not reached)",
                    ));
                }
                let mut c = self.read_inode(cur)?;
                if c.orphan_next == ino {
                    c.orphan_next = if next == 0 { cur } else { next };
                    self.write_inode(cur, &c)?;
                    break;
                }
                if c.orphan_next == cur {
                    cur = 0; // the end, without ino
                } else {
                    cur = c.orphan_next;
                }
            }
        }
        inode.orphan_next = 0;
        self.write_inode(ino, &inode)
    }

    /// Whether `ino` is on the orphan list.
    pub fn is_orphan(&self, ino: u64) -> Result<bool> {
        Ok(self.read_inode(ino)?.orphan_next != 0)
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
        while let Some(ino) = self.first_orphan() {
            if n > self.geo.inode_count {
                return Err(Error::Corrupt("orphan list loop"));
            }
            let inode = self.read_inode(ino)?;
            if inode.orphan_next == 0 {
                return Err(Error::Corrupt(
                    "orphan list (its head is not marked as on it)",
                ));
            }
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
