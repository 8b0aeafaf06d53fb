// SPDX-License-Identifier: GPL-2.0
//! Changing the shape of a file's extent tree: inserting an extent (with
//! node splits and a growing root), removing an entry (freeing nodes that
//! become empty and shrinking a root left with one child).
//!
//! Everything here runs inside the caller's transaction, so a split that
//! touches three levels is as atomic as a one-entry change: a crash
//! leaves the tree as it was before the operation or as it is after.

use super::crc32c::put_crc;
use super::error::{Error, MediaCount, Result};
use super::extent::{entry_off, Extent, Node, Path, EXT_MAGIC, FANOUT, MAX_HEIGHT};
use super::inode::Inode;
use super::layout::{le::*, Geometry};
use super::medium::Medium;
use super::Fs;

/// Entries moved by one logged store, so that moving a full node's
/// entries costs 16 logged ranges, not 255.
pub(super) const MOVE_BATCH: u16 = 16;

impl<M: Medium> Fs<M> {
    pub(super) fn write_node_header(
        &mut self,
        blk: u64,
        ino: u64,
        count: u16,
        level: u16,
    ) -> Result<()> {
        let mut h = [0u8; 16];
        put_u32(&mut h, 0, EXT_MAGIC);
        put_u16(&mut h, 4, count);
        put_u16(&mut h, 6, level);
        put_u32(&mut h, 8, ino as u32);
        put_crc(&mut h, 12);
        self.tx_write(Geometry::block_off(blk), &h)
    }

    /// Write entry `i` of node `blk` (an extent, or an index entry as an
    /// extent of length 0).
    pub(super) fn write_node_entry(
        &mut self,
        blk: u64,
        ino: u64,
        i: u16,
        e: &Extent,
    ) -> Result<()> {
        self.tx_write(entry_off(blk, i), &e.encode(ino))
    }

    /// Copy entries `from..from + n` of node `src` to `to..` of node `dst`
    /// in batches, in the order that is safe when the ranges overlap in one
    /// node (entries carry no position, so they move as raw bytes).
    pub(super) fn move_entries(
        &mut self,
        src: u64,
        from: u16,
        dst: u64,
        to: u16,
        n: u16,
    ) -> Result<()> {
        let mut buf = [0u8; 16 * MOVE_BATCH as usize];
        let up = src == dst && to > from;
        let mut done = 0;
        while done < n {
            let k = (n - done).min(MOVE_BATCH);
            // Moving up inside one node: highest batch first.
            let at = if up { n - done - k } else { done };
            let bytes = &mut buf[..16 * usize::from(k)];
            self.pm.read(entry_off(src, from + at), bytes)?;
            self.tx_write(entry_off(dst, to + at), bytes)?;
            done += k;
        }
        Ok(())
    }

    /// Give `ino` an extent tree (an empty root leaf) if it has none yet,
    /// in the running transaction, before its first data blocks so that
    /// it does not sit between them. `inode` is updated, not written.
    pub(super) fn extent_root(&mut self, inode: &mut Inode, ino: u64) -> Result<()> {
        if inode.root == 0 {
            inode.root = self.alloc_node(inode)?;
            self.write_node_header(inode.root, ino, 0, 0)?;
        }
        Ok(())
    }

    fn alloc_node(&mut self, inode: &mut Inode) -> Result<u64> {
        let (blk, _) = self.alloc_blocks(1, false)?;
        inode.blocks += 1;
        Ok(blk)
    }

    fn free_node(&mut self, inode: &mut Inode, blk: u64) -> Result<()> {
        self.free_blocks(blk, 1)?;
        inode.blocks = inode.blocks.minus(1, "inode block count")?;
        Ok(())
    }

    /// Put `e` in at index `i` of `node`, which has room.
    fn put_entry(&mut self, node: &Node, ino: u64, i: u16, e: &Extent) -> Result<()> {
        self.move_entries(node.blk, i, node.blk, i + 1, node.count - i)?;
        self.write_node_entry(node.blk, ino, i, e)?;
        self.write_node_header(node.blk, ino, node.count + 1, node.level)
    }

    /// Add extent `e` (which must lie in a hole) to `ino`, in the running
    /// transaction, merging it with a neighbour it continues when `merge`;
    /// `inode` is updated but not written.
    pub(super) fn extent_insert(
        &mut self,
        inode: &mut Inode,
        ino: u64,
        e: Extent,
        merge: bool,
    ) -> Result<()> {
        self.extent_root(inode, ino)?;
        // Each pass either inserts or splits one node; a split never
        // needs more passes than the tree has levels, plus a new root.
        for _ in 0..=MAX_HEIGHT + 1 {
            let path = self.descend(inode, ino, u64::from(e.lblk))?;
            let (leaf, i) = path.leaf();
            if e.end() > path.hi {
                return Err(Error::Corrupt("extent crosses an index separator"));
            }
            let next = match i < leaf.count {
                true => Some(self.leaf_extent(&leaf, ino, i)?),
                false => None,
            };
            if next.is_some_and(|n| u64::from(n.lblk) < e.end()) {
                return Err(Error::Corrupt("extent overlap"));
            }
            if merge && self.extent_merge(&leaf, ino, i, &e, next)? {
                return Ok(());
            }
            if leaf.count < FANOUT {
                return self.put_entry(&leaf, ino, i, &e);
            }
            self.split(inode, ino, &path)?;
        }
        Err(Error::Corrupt("extent tree level"))
    }

    /// Merge `e` into the extent before it (index `i - 1`) or after it
    /// (`next`, index `i`) of `leaf` if it continues them on the device.
    /// Returns whether it did.
    fn extent_merge(
        &mut self,
        leaf: &Node,
        ino: u64,
        i: u16,
        e: &Extent,
        next: Option<Extent>,
    ) -> Result<bool> {
        let next =
            next.filter(|n| e.end() == u64::from(n.lblk) && e.pblk + u64::from(e.len) == n.pblk);
        if i > 0 {
            let mut prev = self.leaf_extent(leaf, ino, i - 1)?;
            if prev.end() == u64::from(e.lblk) && prev.pblk + u64::from(prev.len) == e.pblk {
                prev.len += e.len;
                if let Some(n) = next {
                    // `e` fills the gap between two extents: one extent.
                    prev.len += n.len;
                    self.merge_pair(leaf, ino, i, &prev)?;
                    return Ok(true);
                }
                self.write_node_entry(leaf.blk, ino, i - 1, &prev)?;
                return Ok(true);
            }
        }
        if let Some(n) = next {
            let merged = Extent {
                len: e.len + n.len,
                ..*e
            };
            self.write_node_entry(leaf.blk, ino, i, &merged)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Replace extents `i - 1` and `i` of `leaf` by `merged`, which covers
    /// both, in the running transaction.
    fn merge_pair(&mut self, leaf: &Node, ino: u64, i: u16, merged: &Extent) -> Result<()> {
        self.write_node_entry(leaf.blk, ino, i - 1, merged)?;
        self.move_entries(leaf.blk, i + 1, leaf.blk, i, leaf.count - i - 1)?;
        self.write_node_header(leaf.blk, ino, leaf.count - 1, 0)
    }

    /// Make the extent that starts at file block `at` and the one before
    /// it one extent if they are neighbours in the file and on the device
    /// and share a leaf, in the running transaction. Collapse range calls
    /// it where it closed a gap, so that inserting and collapsing a range
    /// leaves the mapping as it was (ext4 merges the same way, within a
    /// leaf).
    pub(super) fn extent_join(&mut self, inode: &Inode, ino: u64, at: u64) -> Result<()> {
        let path = self.descend(inode, ino, at)?;
        let (leaf, i) = path.leaf();
        if i == 0 || i == leaf.count {
            return Ok(());
        }
        let prev = self.leaf_extent(&leaf, ino, i - 1)?;
        let e = self.leaf_extent(&leaf, ino, i)?;
        if u64::from(e.lblk) != at || prev.end() != at || prev.pblk + u64::from(prev.len) != e.pblk
        {
            return Ok(());
        }
        let merged = Extent {
            len: prev.len + e.len,
            ..prev
        };
        self.merge_pair(&leaf, ino, i, &merged)
    }

    /// Split the highest of the full nodes that end `path` (the leaf is
    /// full): its upper entries move to a new node, whose first key goes
    /// into the parent, which has room, or into a new root.
    ///
    /// Inserting after a node's last entry (appending to a file, filling
    /// holes in order) leaves the old node full and moves only its last
    /// entry, so that sequential growth packs nodes; any other insert
    /// splits in half.
    fn split(&mut self, inode: &mut Inode, ino: u64, path: &Path) -> Result<()> {
        let mut d = path.leaf_depth();
        while d > 0 && path.node[d - 1].count == FANOUT {
            d -= 1;
        }
        let node = path.node[d];
        let at = path.idx[d];
        let append = match node.level {
            0 => at == node.count,
            _ => at + 1 == node.count,
        };
        let keep = if append {
            node.count - 1
        } else {
            node.count / 2
        };
        let moved = node.count - keep;
        let sibling = self.alloc_node(inode)?;
        self.move_entries(node.blk, keep, sibling, 0, moved)?;
        self.write_node_header(sibling, ino, moved, node.level)?;
        self.write_node_header(node.blk, ino, keep, node.level)?;
        let separator = u64::from(self.raw_entry(&node, ino, keep)?.lblk);
        if d == 0 {
            if usize::from(node.level) + 1 >= MAX_HEIGHT {
                return Err(Error::FileTooBig);
            }
            let root = self.alloc_node(inode)?;
            self.write_node_entry(root, ino, 0, &Extent::index(0, node.blk))?;
            self.write_node_entry(root, ino, 1, &Extent::index(separator, sibling))?;
            self.write_node_header(root, ino, 2, node.level + 1)?;
            inode.root = root;
            return Ok(());
        }
        let parent = path.node[d - 1];
        self.put_entry(
            &parent,
            ino,
            path.idx[d - 1] + 1,
            &Extent::index(separator, sibling),
        )
    }

    /// Add child `child` with separator `key` to the lowest index level of
    /// `ino`'s tree (a directory's index over its entry blocks), after the
    /// child whose range holds `key` now, splitting full nodes on the way.
    /// `inode` is updated, not written.
    pub(super) fn index_insert(
        &mut self,
        inode: &mut Inode,
        ino: u64,
        key: u64,
        child: u64,
    ) -> Result<()> {
        for _ in 0..=MAX_HEIGHT + 1 {
            let path = self.descend_to(inode, ino, key, 1)?;
            let (node, i) = path.leaf();
            if node.count < FANOUT {
                return self.put_entry(&node, ino, i + 1, &Extent::index(key, child));
            }
            self.split(inode, ino, &path)?;
        }
        Err(Error::Corrupt("extent tree level"))
    }

    /// Remove the entry `path` points at in the node at depth `d` (for the
    /// leaf, the extent at its index), in the running transaction. A node
    /// left empty (or an empty root leaf) is freed and its entry removed from its parent in turn;
    /// an empty root leaves the file without a tree, and a root index left
    /// with one child gives way to that child. `inode` is updated, not
    /// written.
    pub(super) fn remove_entry(
        &mut self,
        inode: &mut Inode,
        ino: u64,
        path: &Path,
        d: usize,
    ) -> Result<()> {
        let mut d = d;
        while path.node[d].count <= 1 {
            if path.node[d].count == 0 && path.node[d].level > 0 {
                return Err(Error::Corrupt("empty extent index"));
            }
            self.free_node(inode, path.node[d].blk)?;
            if d == 0 {
                inode.root = 0;
                return Ok(());
            }
            d -= 1;
        }
        let node = path.node[d];
        let i = path.idx[d];
        self.move_entries(node.blk, i + 1, node.blk, i, node.count - i - 1)?;
        self.write_node_header(node.blk, ino, node.count - 1, node.level)?;
        if d == 0 && node.level > 0 && node.count == 2 {
            // The root gives way to its one child, and so on down while
            // that is an index of one child too (a split that moved one
            // entry leaves such nodes).
            let mut root = Node { count: 1, ..node };
            loop {
                let (_, child) = self.index_entry(&root, ino, 0)?;
                self.free_node(inode, root.blk)?;
                inode.root = child;
                if root.level == 1 {
                    break;
                }
                root = self.node(child, ino)?;
                if root.count != 1 {
                    break;
                }
            }
        }
        Ok(())
    }
}
