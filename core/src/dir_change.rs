// SPDX-License-Identifier: GPL-2.0
//! Changing directories: adding entries (splitting full entry blocks),
//! removing them (freeing emptied blocks), creating and releasing a
//! directory's blocks, and walking them for fsck.
//!
//! Everything here runs inside the caller's transaction: a split that
//! moves half a block's entries and grows the index by a level is as
//! atomic as a one-entry change.

use super::dir::{
    block_header, encode_entry, entry_hash, slot_off, slots_for, DirBlock, DirPos, Record, E_HASH,
    E_SEQ, HEAD, MAX_SLOTS, SLOT, SLOTS,
};
use super::error::{Error, MediaCount, Result};
use super::extent::{Extent, LBLK_END, MAX_HEIGHT};
use super::inode::Inode;
use super::layout::{le::*, Geometry, BLOCK_SIZE};
use super::medium::Medium;
use super::Fs;

/// Splits one insert may need: one makes room unless a block is nearly
/// all one hash, and the next split halves what is left.
const SPLITS_PER_ADD: usize = 4;

/// The bytes of free slots (a static, not a kernel stack buffer).
static FREE_SLOTS: Record = [0u8; MAX_SLOTS * SLOT as usize];

/// What one pass over an entry block found for an insert.
struct Room {
    /// First slot of a free run long enough, if any.
    slot: Option<u64>,
    /// Lowest collision index no entry of the hash uses, if any is left.
    seq: Option<u8>,
}

impl<M: Medium> Fs<M> {
    /// Create the one entry block of a new, empty directory `dir_ino`;
    /// returns it.
    pub(super) fn dir_init(&mut self, dir_ino: u64) -> Result<u64> {
        let (blk, _) = self.alloc_blocks(1, false)?;
        self.tx_write(Geometry::block_off(blk), &block_header(dir_ino, 0))?;
        Ok(blk)
    }

    fn write_used(&mut self, blk: u64, dir_ino: u64, used: u64) -> Result<()> {
        self.tx_write(Geometry::block_off(blk), &block_header(dir_ino, used))
    }

    /// Where in `blk` a name of `hash` taking `want` slots would go.
    fn room(&self, blk: u64, dir_ino: u64, hash: u64, want: u64) -> Result<Room> {
        let mut seqs = [0u64; 4];
        // Entries are visited in slot order: a free run is a gap between
        // one entry's end and the next one's start, or the block's tail.
        let (mut slot_found, mut prev_end) = (None, 1);
        self.scan_block(blk, dir_ino, |slot, nslots, head| {
            if entry_hash(head) == hash {
                let s = head[E_SEQ] as usize;
                seqs[s / 64] |= 1 << (s % 64);
            }
            if slot_found.is_none() && slot - prev_end >= want {
                slot_found = Some(prev_end);
            }
            prev_end = slot + nslots;
            Ok(None::<()>)
        })?;
        if slot_found.is_none() && SLOTS - prev_end >= want {
            slot_found = Some(prev_end);
        }
        let seq = (0..256usize)
            .find(|&s| seqs[s / 64] & (1 << (s % 64)) == 0)
            .map(|s| s as u8);
        Ok(Room {
            slot: slot_found,
            seq,
        })
    }

    /// Add `name -> ino` to directory `dir_ino` (the caller checked that
    /// the name is absent). Updates `dir` (size, blocks, entries, root);
    /// the caller writes it. A split moves entries: a [`DirPos`] found
    /// before this call is stale after it.
    pub(super) fn dir_add(
        &mut self,
        dir: &mut Inode,
        dir_ino: u64,
        name: &[u8],
        ino: u64,
        dtype: u8,
    ) -> Result<()> {
        super::dir::check_name(name)?;
        let hash = u64::from(super::dir::name_hash(name));
        let nslots = slots_for(name.len());
        for _ in 0..=SPLITS_PER_ADD {
            let b = self.dir_block(dir, dir_ino, hash)?;
            let room = self.room(b.blk, dir_ino, hash, nslots)?;
            // Every name of one hash lives in one block, and 256 is all
            // the collision indices a key has room for.
            let seq = room.seq.ok_or(Error::NoSpace)?;
            if let Some(slot) = room.slot {
                let (rec, len) = encode_entry(name, ino, dtype, seq);
                self.tx_write(slot_off(b.blk, slot), &rec[..len])?;
                let used = self.entry_block(b.blk, dir_ino)?;
                self.write_used(b.blk, dir_ino, used + nslots)?;
                dir.entries = dir.entries.plus(1, "directory entry count")?;
                return Ok(());
            }
            self.split_block(dir, dir_ino, &b)?;
        }
        Err(Error::NoSpace)
    }

    /// Split full entry block `b`: the entries whose hash is at or above
    /// the median move to a new block, which the index gets with that
    /// hash as its separator. A block of one hash cannot split (ENOSPC).
    fn split_block(&mut self, dir: &mut Inode, dir_ino: u64, b: &DirBlock) -> Result<()> {
        let mut entries = [(0u64, 0u64, 0u64); SLOTS as usize];
        let mut n = 0;
        self.scan_block(b.blk, dir_ino, |slot, nslots, head| {
            entries[n] = (entry_hash(head), slot, nslots);
            n += 1;
            Ok(None::<()>)
        })?;
        let entries = &mut entries[..n];
        entries.sort_unstable();
        let lowest = entries.first().ok_or(Error::NoSpace)?.0;
        let median = entries[n / 2].0;
        let split = match median > lowest {
            true => median,
            false => entries
                .iter()
                .map(|e| e.0)
                .find(|&h| h > lowest)
                .ok_or(Error::NoSpace)?,
        };
        if split <= b.lo || split >= b.hi {
            return Err(Error::Corrupt("directory entry outside its block's range"));
        }
        let (new, _) = self.alloc_blocks(1, false)?;
        dir.blocks = dir.blocks.plus(1, "directory block count")?;
        let mut rec: Record = [0u8; MAX_SLOTS * SLOT as usize];
        let mut to = 1;
        for &(_, slot, nslots) in entries.iter().filter(|e| e.0 >= split) {
            // An entry's bytes name no position: they move as they are.
            let len = (nslots * SLOT) as usize;
            self.pm.read(slot_off(b.blk, slot), &mut rec[..len])?;
            self.tx_write(slot_off(new, to), &rec[..len])?;
            self.tx_write(slot_off(b.blk, slot), &FREE_SLOTS[..len])?;
            to += nslots;
        }
        let used = self.entry_block(b.blk, dir_ino)?;
        self.write_used(new, dir_ino, to - 1)?;
        self.write_used(b.blk, dir_ino, used.minus(to - 1, "directory slot count")?)?;
        match b.path {
            Some(_) => self.index_insert(dir, dir_ino, split, new)?,
            None => {
                let (root, _) = self.alloc_blocks(1, false)?;
                dir.blocks = dir.blocks.plus(1, "directory block count")?;
                self.write_node_entry(root, dir_ino, 0, &Extent::index(0, b.blk))?;
                self.write_node_entry(root, dir_ino, 1, &Extent::index(split, new))?;
                self.write_node_header(root, dir_ino, 2, 1)?;
                dir.root = root;
            }
        }
        dir.size = dir.blocks * BLOCK_SIZE;
        Ok(())
    }

    /// Point an existing entry at another inode (rename over, exchange).
    pub(super) fn dir_retarget(
        &mut self,
        pos: DirPos,
        name: &[u8],
        ino: u64,
        dtype: u8,
    ) -> Result<()> {
        let mut head = [0u8; HEAD];
        self.pm.read(slot_off(pos.blk, pos.slot), &mut head)?;
        let (rec, len) = encode_entry(name, ino, dtype, head[E_SEQ]);
        self.tx_write(slot_off(pos.blk, pos.slot), &rec[..len])
    }

    /// Remove the entry at `pos` of directory `dir_ino`, freeing its block
    /// if that leaves it empty and it is not the directory's only one.
    /// Updates `dir`; the caller writes it.
    pub(super) fn dir_remove(&mut self, dir: &mut Inode, dir_ino: u64, pos: DirPos) -> Result<()> {
        let mut head = [0u8; HEAD];
        self.pm.read(slot_off(pos.blk, pos.slot), &mut head)?;
        let hash = u64::from(u32_at(&head, E_HASH));
        self.tx_write(
            slot_off(pos.blk, pos.slot),
            &FREE_SLOTS[..(pos.nslots * SLOT) as usize],
        )?;
        dir.entries = dir.entries.minus(1, "directory entry count")?;
        let used = self
            .entry_block(pos.blk, dir_ino)?
            .minus(pos.nslots, "directory slot count")?;
        if used > 0 || self.dir_is_one_block(dir)? {
            return self.write_used(pos.blk, dir_ino, used);
        }
        let b = self.dir_block(dir, dir_ino, hash)?;
        let Some(path) = b.path.filter(|_| b.blk == pos.blk) else {
            return Err(Error::Corrupt("directory entry outside its block's range"));
        };
        self.remove_entry(dir, dir_ino, &path, path.leaf_depth())?;
        self.free_blocks(pos.blk, 1)?;
        dir.blocks = dir.blocks.minus(1, "directory block count")?;
        dir.size = dir.blocks * BLOCK_SIZE;
        Ok(())
    }

    /// Free up to `budget` blocks of a dead (so empty) directory, entry
    /// blocks from the lowest hash up, the index shrinking as they go.
    /// Returns whether it is all gone. `dir` is updated, not written.
    pub(super) fn dir_release(
        &mut self,
        dir: &mut Inode,
        dir_ino: u64,
        budget: u32,
    ) -> Result<bool> {
        for _ in 0..budget {
            if dir.root == 0 {
                return Ok(true);
            }
            let blk = match self.dir_is_one_block(dir)? {
                true => {
                    let blk = dir.root;
                    dir.root = 0;
                    blk
                }
                false => {
                    let b = self.dir_block(dir, dir_ino, 0)?;
                    let path = b.path.ok_or(Error::Corrupt("directory root"))?;
                    self.remove_entry(dir, dir_ino, &path, path.leaf_depth())?;
                    b.blk
                }
            };
            self.free_blocks(blk, 1)?;
            dir.blocks = dir.blocks.minus(1, "directory block count")?;
        }
        Ok(dir.root == 0)
    }

    /// Call `f` with every block of directory `dir_ino` (index nodes, each
    /// once, root first, then each entry block in hash order), checking
    /// index keys, that every entry lies in its block's range, that a block
    /// counts the slots its entries use and that no block but an only one
    /// is empty. For fsck.
    pub fn dir_blocks(&self, dir: &Inode, dir_ino: u64, mut f: impl FnMut(u64)) -> Result<()> {
        if self.dir_is_one_block(dir)? {
            self.check_entry_block(dir.root, dir_ino, 0, LBLK_END, true)?;
            f(dir.root);
            return Ok(());
        }
        let mut seen = [0u64; MAX_HEIGHT];
        let mut hash = 0;
        loop {
            let b = self.dir_block(dir, dir_ino, hash)?;
            let path = b.path.ok_or(Error::Corrupt("directory root"))?;
            for d in 0..path.height {
                let n = path.node[d];
                if seen[d] != n.blk {
                    seen[d] = n.blk;
                    seen[d + 1..].fill(0);
                    self.check_index_keys(&n, dir_ino, &path, d)?;
                    f(n.blk);
                }
            }
            self.check_entry_block(b.blk, dir_ino, b.lo, b.hi, false)?;
            f(b.blk);
            if b.hi == LBLK_END {
                return Ok(());
            }
            hash = b.hi;
        }
    }

    fn check_entry_block(
        &self,
        blk: u64,
        dir_ino: u64,
        lo: u64,
        hi: u64,
        may_be_empty: bool,
    ) -> Result<()> {
        let used = self.entry_block(blk, dir_ino)?;
        let mut counted = 0;
        let mut rec: Record = [0u8; MAX_SLOTS * SLOT as usize];
        let outside = self.scan_block(blk, dir_ino, |slot, nslots, _| {
            counted += nslots;
            self.read_entry(blk, slot, &mut rec)?;
            Ok((!(lo..hi).contains(&entry_hash(&rec))).then_some(()))
        })?;
        if outside.is_some() {
            return Err(Error::Corrupt("directory entry outside its block's range"));
        }
        if counted != used || (used == 0 && !may_be_empty) {
            return Err(Error::Corrupt("directory block slot count"));
        }
        Ok(())
    }
}
