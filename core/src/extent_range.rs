// SPDX-License-Identifier: GPL-2.0
//! Operations on a range of a file's blocks over its extent tree:
//! truncate, punch, split at a block, shift (collapse and insert range),
//! and the allocation goals that keep refilled holes contiguous.

use super::error::{Error, MediaCount, Result};
use super::extent::{entry_off, Extent, Path, LBLK_END, MAX_RUN};
use super::extent_tree::MOVE_BATCH;
use super::inode::Inode;
use super::medium::Medium;
use super::Fs;

impl<M: Medium> Fs<M> {
    /// Release the blocks of `ino` from file block `from` on, at most
    /// `budget` extents, newest first, in the running transaction. Returns
    /// whether everything past `from` is gone. `inode` is updated, not written.
    pub(super) fn extent_truncate(
        &mut self,
        inode: &mut Inode,
        ino: u64,
        from: u64,
        budget: u32,
    ) -> Result<bool> {
        let mut done = 0;
        while inode.root != 0 {
            let mut path = self.descend(inode, ino, LBLK_END - 1)?;
            let (leaf, _) = path.leaf();
            if leaf.count == 0 {
                // An empty root leaf: nothing maps through it any more.
                self.remove_entry(inode, ino, &path, 0)?;
                continue;
            }
            let last = self.leaf_extent(&leaf, ino, leaf.count - 1)?;
            if last.end() <= from {
                return Ok(true);
            }
            if done == budget {
                return Ok(false);
            }
            done += 1;
            // Free from the tail, at most MAX_RUN blocks per step, so that
            // one step's bitmap words always fit in the undo journal.
            let start = u64::from(last.lblk);
            let keep_to = from
                .max(start)
                .max((start + u64::from(last.len)).saturating_sub(MAX_RUN));
            let keep = (keep_to - start) as u32;
            if keep > 0 {
                let shorter = Extent { len: keep, ..last };
                self.write_node_entry(leaf.blk, ino, leaf.count - 1, &shorter)?;
            } else {
                let d = path.leaf_depth();
                path.idx[d] = leaf.count - 1;
                self.remove_entry(inode, ino, &path, d)?;
            }
            self.free_blocks(last.pblk + u64::from(keep), u64::from(last.len - keep))?;
            inode.blocks = inode
                .blocks
                .minus(u64::from(last.len - keep), "inode block count")?;
            if keep > 0 && keep_to <= from {
                return Ok(true); // everything past `from` is gone
            }
        }
        Ok(true)
    }

    /// Unmap and free file blocks `from..to` of `ino`, one extent and at
    /// most [`MAX_RUN`] blocks per call, in the running transaction.
    /// Returns the file block to continue from, or `None` when nothing in
    /// the range is mapped any more. `inode` is updated, not written.
    pub(super) fn extent_remove_step(
        &mut self,
        inode: &mut Inode,
        ino: u64,
        from: u64,
        to: u64,
    ) -> Result<Option<u64>> {
        if inode.root == 0 {
            return Ok(None);
        }
        let path = self.descend(inode, ino, from)?;
        let (leaf, i) = path.leaf();
        if i == leaf.count {
            // Nothing more in this leaf: go on at the next one.
            return Ok((path.hi < to).then_some(path.hi));
        }
        let e = self.leaf_extent(&leaf, ino, i)?;
        let start = u64::from(e.lblk);
        if start >= to {
            return Ok(None);
        }
        let cut_start = from.max(start);
        let cut_end = to.min(e.end()).min(cut_start + MAX_RUN);
        // All three fit in u32: they lie within `e`.
        let head = (cut_start - start) as u32;
        let tail = Extent {
            lblk: cut_end as u32,
            len: (e.end() - cut_end) as u32,
            pblk: e.pblk + (cut_end - start),
        };
        match (head, tail.len) {
            (0, 0) => self.remove_entry(inode, ino, &path, path.leaf_depth())?,
            (0, _) => self.write_node_entry(leaf.blk, ino, i, &tail)?,
            (_, 0) => self.write_node_entry(leaf.blk, ino, i, &Extent { len: head, ..e })?,
            _ => {
                self.write_node_entry(leaf.blk, ino, i, &Extent { len: head, ..e })?;
                self.extent_insert(inode, ino, tail, false)?;
            }
        }
        self.free_blocks(e.pblk + u64::from(head), cut_end - cut_start)?;
        inode.blocks = inode
            .blocks
            .minus(cut_end - cut_start, "inode block count")?;
        Ok((cut_end < to).then_some(cut_end))
    }

    /// Make file block `at` of `ino` an extent boundary, splitting the
    /// extent that spans it, in the running transaction.
    pub(super) fn extent_split_at(&mut self, inode: &mut Inode, ino: u64, at: u64) -> Result<()> {
        let path = self.descend(inode, ino, at)?;
        let (leaf, i) = path.leaf();
        if i == leaf.count {
            return Ok(());
        }
        let e = self.leaf_extent(&leaf, ino, i)?;
        if u64::from(e.lblk) >= at {
            return Ok(());
        }
        let head = (at - u64::from(e.lblk)) as u32;
        let tail = Extent {
            lblk: at as u32,
            len: e.len - head,
            pblk: e.pblk + u64::from(head),
        };
        self.write_node_entry(leaf.blk, ino, i, &Extent { len: head, ..e })?;
        self.extent_insert(inode, ino, tail, false)
    }

    /// Move every extent of `ino` that starts at or after file block `from`
    /// by `by` blocks, up or down, in the running transaction, and every
    /// index separator above `from` with them. `from` must be an extent
    /// boundary, and moving down, the `by` blocks below it a hole
    /// (collapse punched them); the order of extents is kept.
    ///
    /// Every moved extent is rewritten, so the undo journal bounds how
    /// many one shift can move: beyond that it fails with
    /// [`Error::NoSpace`] and changes nothing.
    pub(super) fn extent_shift(
        &mut self,
        inode: &Inode,
        ino: u64,
        from: u64,
        by: u64,
        up: bool,
    ) -> Result<()> {
        if !up && from < by {
            return Err(Error::Invalid);
        }
        let last = self.descend(inode, ino, LBLK_END - 1)?;
        let (leaf, _) = last.leaf();
        if leaf.count > 0
            && up
            && self.leaf_extent(&leaf, ino, leaf.count - 1)?.end() + by > LBLK_END
        {
            return Err(Error::FileTooBig);
        }
        // Separators between unmoved and moved leaves must stay ordered
        // while the walk goes on: moving up, go right to left from the
        // last leaf; moving down, left to right from the one holding `from`.
        let mut path = if up {
            last
        } else {
            self.descend(inode, ino, from)?
        };
        loop {
            self.shift_leaf(&path, ino, from, by, up)?;
            let next = match up {
                true if path.lo_at.is_some() && path.lo > from => Some(path.lo - 1),
                false if path.hi < LBLK_END => Some(path.hi),
                _ => None,
            };
            // Moving down, `from - by..from` is a hole, so a separator in it
            // bounds an empty range and goes to its start.
            let floor = if up { from } else { from - by };
            if let Some(at) = path.lo_at.filter(|_| path.lo > floor) {
                let moved = match up {
                    true => path.lo + by,
                    false => path.lo.max(from) - by,
                };
                let (key, child) = self.index_entry(&path.node[at], ino, path.idx[at])?;
                debug_assert_eq!(key, path.lo);
                let entry = Extent {
                    lblk: moved as u32,
                    len: 0,
                    pblk: child,
                };
                self.write_node_entry(path.node[at].blk, ino, path.idx[at], &entry)?;
            }
            match next {
                Some(at) => path = self.descend(inode, ino, at)?,
                None => return Ok(()),
            }
        }
    }

    /// Move the extents of `path`'s leaf that start at or after `from`.
    fn shift_leaf(&mut self, path: &Path, ino: u64, from: u64, by: u64, up: bool) -> Result<()> {
        let (leaf, _) = path.leaf();
        let mut i = 0;
        while i < leaf.count {
            let n = (leaf.count - i).min(MOVE_BATCH);
            let mut buf = [0u8; 16 * MOVE_BATCH as usize];
            let mut first = None;
            for j in 0..n {
                let mut e = self.leaf_extent(&leaf, ino, i + j)?;
                let lblk = u64::from(e.lblk);
                if lblk < from {
                    if e.end() > from {
                        return Err(Error::Invalid); // `from` is not a boundary
                    }
                    continue;
                }
                first.get_or_insert(j);
                e.lblk = if up { lblk + by } else { lblk - by } as u32;
                let at = 16 * usize::from(j);
                buf[at..at + 16].copy_from_slice(&e.encode(ino));
            }
            if let Some(j) = first {
                let bytes = &buf[16 * usize::from(j)..16 * usize::from(n)];
                self.tx_write(entry_off(leaf.blk, i + j), bytes)?;
            }
            i += n;
        }
        Ok(())
    }

    /// The device blocks that would continue `ino`'s mapping at file block
    /// `lblk` (a hole): right after the previous extent's blocks, and right
    /// before the next one's, if they share its leaf. Allocating there
    /// lets the new blocks merge into one extent with their neighbours, so
    /// refilling a punched range or filling a sparse file's gaps does not
    /// fragment it.
    pub(super) fn extent_goals(
        &self,
        inode: &Inode,
        ino: u64,
        lblk: u64,
    ) -> Result<[Option<u64>; 2]> {
        let path = self.descend(inode, ino, lblk)?;
        let (leaf, i) = path.leaf();
        let after_prev = match i {
            0 => None,
            _ => {
                let prev = self.leaf_extent(&leaf, ino, i - 1)?;
                Some(prev.pblk + (lblk - u64::from(prev.lblk)))
            }
        };
        let before_next = match i < leaf.count {
            true => {
                let next = self.leaf_extent(&leaf, ino, i)?;
                next.pblk.checked_sub(u64::from(next.lblk) - lblk)
            }
            false => None,
        };
        Ok([after_prev, before_next])
    }
}
