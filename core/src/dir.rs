// SPDX-License-Identifier: GPL-2.0
//! Directories: a hash table of chained 4 KiB entry blocks.
//!
//! The directory inode's `root` is a bucket table block: 511 bucket heads of
//! 8 bytes (a 48-bit block number and a 16-bit checksum). A name hashes
//! (CRC-32C) to a bucket; the bucket heads a chain of entry blocks. An entry
//! block is 64 slots of 64 bytes: slot 0 is the block header (magic, owner,
//! next block, bucket, chain index, checksum); an entry takes 1 to 5 whole
//! slots (24-byte head, then the name) and carries its own checksum, so an
//! insert or remove persists one to five cache lines.
//!
//! Entry blocks are never unlinked from a live directory, so an entry's
//! position (bucket, chain index, slot) never changes: it is the readdir
//! offset, stable across concurrent inserts and removes.

use super::crc32c::{crc32c, crc32c_skip};
use super::error::{Error, MediaCount, Result};
use super::inode::Inode;
use super::layout::{le::*, Geometry, BLOCK_SIZE, NAME_MAX};
use super::medium::Medium;
use super::Fs;

/// Buckets per directory.
pub const BUCKETS: u64 = 511;
const SLOT: u64 = 64;
const SLOTS: u64 = BLOCK_SIZE / SLOT;
const HEAD: usize = 24;
const MAX_SLOTS: usize = (HEAD + NAME_MAX).div_ceil(SLOT as usize);
const BLK_MAGIC: u32 = u32::from_le_bytes(*b"FDNT");
const BLK_CRC: usize = 24;
const E_INO: usize = 0;
const E_HASH: usize = 8;
const E_CRC: usize = 12;
const E_NAMELEN: usize = 16;
const E_DTYPE: usize = 17;
const E_NSLOTS: usize = 18;
/// First readdir position of a real entry (0 and 1 are "." and "..").
pub const FIRST_POS: u64 = 2;

/// Where an entry lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirPos {
    /// Entry block.
    pub blk: u64,
    /// First slot of the entry.
    pub slot: u64,
    /// Slots the entry takes.
    pub nslots: u64,
}

/// A directory entry found by lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirEntry {
    /// Inode number.
    pub ino: u64,
    /// Directory-entry type (DT_*).
    pub dtype: u8,
    /// Where it lives.
    pub pos: DirPos,
}

/// Hash of a name.
pub fn name_hash(name: &[u8]) -> u32 {
    crc32c(name)
}

/// Whether `name` may be a directory entry's name (`NameTooLong` or
/// `Invalid` if not).
pub fn check_name(name: &[u8]) -> Result<()> {
    if name.len() > NAME_MAX {
        return Err(Error::NameTooLong);
    }
    if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') || name.contains(&0)
    {
        return Err(Error::Invalid);
    }
    Ok(())
}

fn slots_for(name_len: usize) -> u64 {
    (HEAD + name_len).div_ceil(SLOT as usize) as u64
}

fn head_check(blk: u64, dir: u64, bucket: u64) -> u16 {
    let mut b = [0u8; 16];
    put_u64(&mut b, 0, blk);
    put_u32(&mut b, 8, dir as u32);
    put_u32(&mut b, 12, bucket as u32);
    crc32c(&b) as u16
}

/// An entry block's header.
#[derive(Debug, Clone, Copy)]
struct BlockHeader {
    next: u64,
    bucket: u64,
    index: u64,
}

fn slot_off(blk: u64, slot: u64) -> u64 {
    Geometry::block_off(blk) + slot * SLOT
}

impl<M: Medium> Fs<M> {
    fn bucket_head(&self, dir: &Inode, dir_ino: u64, bucket: u64) -> Result<u64> {
        let word = self
            .pm
            .read_u64(Geometry::block_off(dir.root) + bucket * 8)?;
        if word == 0 {
            return Ok(0);
        }
        let blk = word & ((1 << 48) - 1);
        if (word >> 48) as u16 != head_check(blk, dir_ino, bucket) {
            return Err(Error::Corrupt("directory bucket head"));
        }
        self.geo.check_data_block(blk, "directory bucket head")
    }

    fn set_bucket_head(&mut self, dir: &Inode, dir_ino: u64, bucket: u64, blk: u64) -> Result<()> {
        let word = if blk == 0 {
            0
        } else {
            blk | u64::from(head_check(blk, dir_ino, bucket)) << 48
        };
        self.tx_write(
            Geometry::block_off(dir.root) + bucket * 8,
            &word.to_le_bytes(),
        )
    }

    fn block_header(&self, blk: u64, dir_ino: u64, bucket: u64, index: u64) -> Result<BlockHeader> {
        let mut h = [0u8; 32];
        self.pm.read(slot_off(blk, 0), &mut h)?;
        let hdr = BlockHeader {
            next: u64_at(&h, 8),
            bucket: u64::from(u32_at(&h, 16)),
            index: u64::from(u32_at(&h, 20)),
        };
        if u32_at(&h, 0) != BLK_MAGIC
            || u32_at(&h, 4) != dir_ino as u32
            || u32_at(&h, BLK_CRC) != crc32c_skip(&h, BLK_CRC)
            || hdr.bucket != bucket
            || hdr.index != index
        {
            return Err(Error::Corrupt("directory block header"));
        }
        if hdr.next != 0 {
            self.geo
                .check_data_block(hdr.next, "directory chain pointer")?;
        }
        Ok(hdr)
    }

    fn write_block_header(&mut self, blk: u64, dir_ino: u64, hdr: BlockHeader) -> Result<()> {
        let mut h = [0u8; 32];
        put_u32(&mut h, 0, BLK_MAGIC);
        put_u32(&mut h, 4, dir_ino as u32);
        put_u64(&mut h, 8, hdr.next);
        put_u32(&mut h, 16, hdr.bucket as u32);
        put_u32(&mut h, 20, hdr.index as u32);
        let crc = crc32c_skip(&h, BLK_CRC);
        put_u32(&mut h, BLK_CRC, crc);
        self.tx_write(slot_off(blk, 0), &h)
    }

    /// Read the entry starting at `slot`, into `rec`. Returns `None` for a
    /// free slot, else the slot count (validated against the block).
    fn read_entry(
        &self,
        blk: u64,
        slot: u64,
        rec: &mut [u8; MAX_SLOTS * SLOT as usize],
    ) -> Result<Option<u64>> {
        self.pm.read(slot_off(blk, slot), &mut rec[..HEAD])?;
        if u64_at(rec, E_INO) == 0 {
            return Ok(None);
        }
        let nslots = u64::from(rec[E_NSLOTS]);
        let name_len = rec[E_NAMELEN] as usize;
        if name_len == 0 || nslots != slots_for(name_len) || slot + nslots > SLOTS {
            return Err(Error::Corrupt("directory entry size"));
        }
        let len = (nslots * SLOT) as usize;
        self.pm
            .read(slot_off(blk, slot) + HEAD as u64, &mut rec[HEAD..len])?;
        if u32_at(rec, E_CRC) != crc32c_skip(&rec[..len], E_CRC) {
            return Err(Error::Corrupt("directory entry checksum"));
        }
        self.geo
            .check_ino(u64_at(rec, E_INO), "directory entry inode number")?;
        Ok(Some(nslots))
    }

    fn write_entry(&mut self, pos: DirPos, name: &[u8], ino: u64, dtype: u8) -> Result<()> {
        let mut rec = [0u8; MAX_SLOTS * SLOT as usize];
        let len = (pos.nslots * SLOT) as usize;
        put_u64(&mut rec, E_INO, ino);
        put_u32(&mut rec, E_HASH, name_hash(name));
        rec[E_NAMELEN] = name.len() as u8;
        rec[E_DTYPE] = dtype;
        rec[E_NSLOTS] = pos.nslots as u8;
        rec[HEAD..HEAD + name.len()].copy_from_slice(name);
        let crc = crc32c_skip(&rec[..len], E_CRC);
        put_u32(&mut rec, E_CRC, crc);
        self.tx_write(slot_off(pos.blk, pos.slot), &rec[..len])
    }

    /// Walk the chain of `bucket`, calling `f(blk, header)` for each block
    /// until it returns `Some`. Bounded by the device size, so a cycle on a
    /// corrupted image ends in an error, not a hang.
    fn walk_chain<T>(
        &self,
        dir: &Inode,
        dir_ino: u64,
        bucket: u64,
        mut f: impl FnMut(&Self, u64, &BlockHeader) -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        let mut blk = self.bucket_head(dir, dir_ino, bucket)?;
        let mut index = 0;
        while blk != 0 {
            if index > self.geo.total_blocks {
                return Err(Error::Corrupt("directory chain loop"));
            }
            let hdr = self.block_header(blk, dir_ino, bucket, index)?;
            if let Some(v) = f(self, blk, &hdr)? {
                return Ok(Some(v));
            }
            blk = hdr.next;
            index += 1;
        }
        Ok(None)
    }

    /// Find `name` in directory `dir_ino`.
    pub fn dir_find(&self, dir: &Inode, dir_ino: u64, name: &[u8]) -> Result<Option<DirEntry>> {
        check_name(name)?;
        let hash = name_hash(name);
        self.walk_chain(dir, dir_ino, u64::from(hash) % BUCKETS, |fs, blk, _| {
            let mut rec = [0u8; MAX_SLOTS * SLOT as usize];
            let mut slot = 1;
            while slot < SLOTS {
                let Some(nslots) = fs.read_entry(blk, slot, &mut rec)? else {
                    slot += 1;
                    continue;
                };
                let n = rec[E_NAMELEN] as usize;
                if u32_at(&rec, E_HASH) == hash && &rec[HEAD..HEAD + n] == name {
                    return Ok(Some(DirEntry {
                        ino: u64_at(&rec, E_INO),
                        dtype: rec[E_DTYPE],
                        pos: DirPos { blk, slot, nslots },
                    }));
                }
                slot += nslots;
            }
            Ok(None)
        })
    }

    /// The entry `name` that readdir listed with next position `next`:
    /// found by where it lies, not by its hash, so an entry whose hash or
    /// bucket is damaged can be found too (fsck removes such entries).
    pub fn dir_entry_listed(
        &self,
        dir: &Inode,
        dir_ino: u64,
        name: &[u8],
        next: u64,
    ) -> Result<Option<DirPos>> {
        // Not check_name(): the name is what the media holds, to be
        // compared byte for byte, whatever it is.
        if name.is_empty() || name.len() > NAME_MAX {
            return Ok(None);
        }
        let p = next.checked_sub(FIRST_POS).ok_or(Error::Invalid)?;
        let (bucket, index, end) = (p >> 32, (p >> 6) & 0x3ff_ffff, p & 63);
        let nslots = slots_for(name.len());
        let Some(slot) = end.checked_sub(nslots) else {
            return Ok(None);
        };
        if bucket >= BUCKETS || slot == 0 {
            return Ok(None);
        }
        self.walk_chain(dir, dir_ino, bucket, |fs, blk, hdr| {
            if hdr.index != index {
                return Ok(None);
            }
            let mut rec = [0u8; MAX_SLOTS * SLOT as usize];
            let found = fs.read_entry(blk, slot, &mut rec)? == Some(nslots)
                && &rec[HEAD..HEAD + name.len()] == name;
            Ok(Some(found.then_some(DirPos { blk, slot, nslots })))
        })
        .map(Option::flatten)
    }

    /// First run of `want` free slots in `blk`.
    fn free_run(&self, blk: u64, want: u64) -> Result<Option<u64>> {
        let mut rec = [0u8; MAX_SLOTS * SLOT as usize];
        let (mut slot, mut run) = (1, 0);
        while slot < SLOTS {
            match self.read_entry(blk, slot, &mut rec)? {
                Some(n) => {
                    run = 0;
                    slot += n;
                }
                None => {
                    run += 1;
                    slot += 1;
                    if run == want {
                        return Ok(Some(slot - want));
                    }
                }
            }
        }
        Ok(None)
    }

    /// Add `name -> ino` to directory `dir_ino` (the caller checked that
    /// the name is absent). Updates `dir` (size, blocks, entries); the
    /// caller writes it.
    pub(super) fn dir_add(
        &mut self,
        dir: &mut Inode,
        dir_ino: u64,
        name: &[u8],
        ino: u64,
        dtype: u8,
    ) -> Result<()> {
        check_name(name)?;
        let bucket = u64::from(name_hash(name)) % BUCKETS;
        let nslots = slots_for(name.len());
        let mut tail = None;
        let found = self.walk_chain(dir, dir_ino, bucket, |fs, blk, hdr| {
            tail = Some((blk, *hdr));
            Ok(fs
                .free_run(blk, nslots)?
                .map(|slot| DirPos { blk, slot, nslots }))
        })?;
        let pos = match found {
            Some(pos) => pos,
            None => {
                let (blk, _) = self.alloc_blocks(1, false)?;
                let index = tail.map_or(0, |(_, h)| h.index + 1);
                self.write_block_header(
                    blk,
                    dir_ino,
                    BlockHeader {
                        next: 0,
                        bucket,
                        index,
                    },
                )?;
                match tail {
                    Some((tblk, thdr)) => {
                        self.write_block_header(tblk, dir_ino, BlockHeader { next: blk, ..thdr })?
                    }
                    None => self.set_bucket_head(dir, dir_ino, bucket, blk)?,
                }
                dir.blocks += 1;
                dir.size += BLOCK_SIZE;
                DirPos {
                    blk,
                    slot: 1,
                    nslots,
                }
            }
        };
        self.write_entry(pos, name, ino, dtype)?;
        dir.entries = dir.entries.plus(1, "directory entry count")?;
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
        self.write_entry(pos, name, ino, dtype)
    }

    /// Remove the entry at `pos`. Updates `dir.entries`; the caller writes it.
    pub(super) fn dir_remove(&mut self, dir: &mut Inode, pos: DirPos) -> Result<()> {
        let zero = [0u8; MAX_SLOTS * SLOT as usize];
        self.tx_write(
            slot_off(pos.blk, pos.slot),
            &zero[..(pos.nslots * SLOT) as usize],
        )?;
        dir.entries = dir.entries.minus(1, "directory entry count")?;
        Ok(())
    }

    /// Call `f(name, ino, dtype, next_pos)` for each entry at or after
    /// readdir position `pos` (>= [`FIRST_POS`]) until it returns false.
    pub fn dir_iterate(
        &self,
        dir: &Inode,
        dir_ino: u64,
        pos: u64,
        mut f: impl FnMut(&[u8], u64, u8, u64) -> bool,
    ) -> Result<()> {
        let p = pos.max(FIRST_POS) - FIRST_POS;
        let (first_bucket, first_index, first_slot) = (p >> 32, (p >> 6) & 0x3ff_ffff, p & 63);
        let mut rec = [0u8; MAX_SLOTS * SLOT as usize];
        for bucket in first_bucket..BUCKETS {
            let stop = self.walk_chain(dir, dir_ino, bucket, |fs, blk, hdr| {
                let resume = bucket == first_bucket && hdr.index == first_index;
                if bucket == first_bucket && hdr.index < first_index {
                    return Ok(None);
                }
                let mut slot = if resume { first_slot.max(1) } else { 1 };
                while slot < SLOTS {
                    let Some(nslots) = fs.read_entry(blk, slot, &mut rec)? else {
                        slot += 1;
                        continue;
                    };
                    let next = FIRST_POS + (bucket << 32 | hdr.index << 6 | (slot + nslots));
                    let n = rec[E_NAMELEN] as usize;
                    if !f(
                        &rec[HEAD..HEAD + n],
                        u64_at(&rec, E_INO),
                        rec[E_DTYPE],
                        next,
                    ) {
                        return Ok(Some(()));
                    }
                    slot += nslots;
                }
                Ok(None)
            })?;
            if stop.is_some() {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Create the bucket table of a new directory; returns its block.
    pub(super) fn dir_init(&mut self) -> Result<u64> {
        Ok(self.alloc_blocks(1, false)?.0)
    }

    /// Free up to `budget` blocks of a dead directory, each chain from its
    /// tail (so the blocks left keep their chain indices), then its bucket
    /// table. Returns whether it is all gone. `dir` is updated, not written.
    pub(super) fn dir_release(
        &mut self,
        dir: &mut Inode,
        dir_ino: u64,
        budget: u32,
    ) -> Result<bool> {
        let mut done = 0;
        for bucket in 0..BUCKETS {
            loop {
                let mut last: Option<(u64, BlockHeader)> = None;
                let mut before_last: Option<(u64, BlockHeader)> = None;
                self.walk_chain(dir, dir_ino, bucket, |_, blk, hdr| {
                    before_last = last;
                    last = Some((blk, *hdr));
                    Ok(None::<()>)
                })?;
                let Some((blk, _)) = last else { break };
                if done == budget {
                    return Ok(false);
                }
                match before_last {
                    Some((pblk, phdr)) => {
                        self.write_block_header(pblk, dir_ino, BlockHeader { next: 0, ..phdr })?
                    }
                    None => self.set_bucket_head(dir, dir_ino, bucket, 0)?,
                }
                self.free_blocks(blk, 1)?;
                dir.blocks = dir.blocks.minus(1, "directory block count")?;
                done += 1;
            }
        }
        self.free_blocks(dir.root, 1)?;
        dir.blocks = dir.blocks.minus(1, "directory block count")?;
        dir.root = 0;
        Ok(true)
    }
}

impl<M: Medium> Fs<M> {
    /// Call `f` with every block of directory `dir_ino` (bucket table, then
    /// entry blocks), validating headers. For fsck.
    pub fn dir_blocks(&self, dir: &Inode, dir_ino: u64, mut f: impl FnMut(u64)) -> Result<()> {
        f(dir.root);
        for bucket in 0..BUCKETS {
            self.walk_chain(dir, dir_ino, bucket, |_, blk, _| {
                f(blk);
                Ok(None::<()>)
            })?;
        }
        Ok(())
    }
}
