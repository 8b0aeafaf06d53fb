// SPDX-License-Identifier: GPL-2.0
//! Persistent free-space state: inode and block bitmaps.
//!
//! One bit per inode / per block, set when in use. Each 4 KiB bitmap block
//! has a CRC-32C in the bitmap checksum table (inode bitmap blocks first,
//! then block bitmap blocks). Mount reads none of this: allocation reads
//! the bitmap words it searches and checks the checksum of each bitmap block
//! it changes, so mount time does not grow with the device.
//!
//! Blocks are zeroed as part of their allocation, inside the allocating
//! transaction, so no path can ever map a block with stale contents.

use super::crc32c;
use super::error::{Error, MediaCount, Result};
use super::layout::{le::u64_at, Geometry, BLOCK_SIZE, HUGE_BLOCKS};
use super::medium::Medium;
use super::persist::Pm;
use super::Fs;

const BITS_PER_BLOCK: u64 = BLOCK_SIZE * 8;
const CHUNK_WORDS: usize = 64;

/// Which bitmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Map {
    /// One bit per inode number.
    Inodes,
    /// One bit per block.
    Blocks,
}

/// CRC-32C of block `blk` as it is on the media.
pub fn block_crc<M: Medium>(pm: &Pm<M>, blk: u64) -> Result<u32> {
    let off = Geometry::block_off(blk);
    let mut crc = !0;
    let mut chunk = [0u8; 512];
    for i in 0..BLOCK_SIZE / 512 {
        pm.read(off + i * 512, &mut chunk)?;
        crc = crc32c::update(crc, &chunk);
    }
    Ok(!crc)
}

impl<M: Medium> Fs<M> {
    fn map_geometry(&self, map: Map) -> (u64, u64, u64) {
        let g = &self.geo;
        match map {
            Map::Inodes => (g.inode_bitmap_start, g.inode_count, 0),
            Map::Blocks => (g.block_bitmap_start, g.total_blocks, g.inode_bitmap_blocks),
        }
    }

    fn word_off(&self, map: Map, word: u64) -> u64 {
        Geometry::block_off(self.map_geometry(map).0) + word * 8
    }

    /// Whether `bit` is set in `map`.
    pub fn bit_is_set(&self, map: Map, bit: u64) -> Result<bool> {
        Ok(self.bitmap_word(map, bit / 64)? & (1 << (bit % 64)) != 0)
    }

    /// Word `word` of `map`: bits `64 * word..64 * word + 64`.
    pub(super) fn bitmap_word(&self, map: Map, word: u64) -> Result<u64> {
        self.pm.read_u64(self.word_off(map, word))
    }

    /// CRC-32C of bitmap block `idx` of `map`, as it is on the media.
    pub fn bitmap_block_crc(&self, map: Map, idx: u64) -> Result<u32> {
        block_crc(&self.pm, self.map_geometry(map).0 + idx)
    }

    fn crc_slot_off(&self, map: Map, idx: u64) -> u64 {
        Geometry::block_off(self.geo.bitmap_crc_start) + (self.map_geometry(map).2 + idx) * 4
    }

    /// The stored checksum of bitmap block `idx` of `map`.
    pub fn bitmap_stored_crc(&self, map: Map, idx: u64) -> Result<u32> {
        let mut b = [0u8; 4];
        self.pm.read(self.crc_slot_off(map, idx), &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Set (`used`) or clear `len` bits from `start`, in the running
    /// transaction. Every bit must currently have the opposite value:
    /// a double allocation or double free is corruption, never silently
    /// accepted.
    fn set_bits(&mut self, map: Map, start: u64, len: u64, used: bool) -> Result<()> {
        let what = match map {
            Map::Inodes => "inode bitmap",
            Map::Blocks => "block bitmap",
        };
        let mut bit = start;
        let end = start + len;
        let mut checked_block = u64::MAX;
        while bit < end {
            let idx = bit / BITS_PER_BLOCK;
            if idx != checked_block {
                self.check_bitmap_block(map, idx, what)?;
                checked_block = idx;
            }
            let word = bit / 64;
            let lo = bit % 64;
            let n = (64 - lo).min(end - bit);
            let mask = if n == 64 { !0 } else { ((1u64 << n) - 1) << lo };
            let off = self.word_off(map, word);
            let old = self.pm.read_u64(off)?;
            let expect = if used { 0 } else { mask };
            if old & mask != expect {
                return Err(Error::Corrupt(what));
            }
            let new = if used { old | mask } else { old & !mask };
            self.tx_write(off, &new.to_le_bytes())?;
            bit += n;
            let next_idx = bit / BITS_PER_BLOCK;
            if next_idx != idx || bit >= end {
                let crc = self.bitmap_block_crc(map, idx)?;
                let slot = self.crc_slot_off(map, idx);
                self.tx_write(slot, &crc.to_le_bytes())?;
            }
        }
        Ok(())
    }

    fn check_bitmap_block(&self, map: Map, idx: u64, what: &'static str) -> Result<()> {
        if self.bitmap_block_crc(map, idx)? != self.bitmap_stored_crc(map, idx)? {
            return Err(Error::Corrupt(what));
        }
        Ok(())
    }

    /// Find up to `want` clear bits in a row, searching from `hint` and
    /// wrapping once.
    fn find_clear(&self, map: Map, hint: u64, want: u64) -> Result<Option<(u64, u64)>> {
        let (_, nbits, _) = self.map_geometry(map);
        let nwords = nbits.div_ceil(64);
        // A chunk of words in one read: the words of a map are contiguous.
        let mut bytes = [0u8; CHUNK_WORDS * 8];
        let mut scanned = 0;
        let mut w = hint.min(nbits - 1) / 64;
        while scanned < nwords {
            let base = w;
            let n = (CHUNK_WORDS as u64).min(nwords - base);
            let chunk = &mut bytes[..n as usize * 8];
            self.pm.read(self.word_off(map, base), chunk)?;
            let words = chunk.chunks_exact(8).map(|b| u64_at(b, 0));
            for (i, word) in words.enumerate() {
                if word == !0 {
                    continue;
                }
                let first = (base + i as u64) * 64 + u64::from((!word).trailing_zeros());
                if first >= nbits {
                    break;
                }
                let mut len = 1;
                while len < want && first + len < nbits && !self.bit_is_set(map, first + len)? {
                    len += 1;
                }
                return Ok(Some((first, len)));
            }
            scanned += n;
            w = if base + n >= nwords { 0 } else { base + n };
        }
        Ok(None)
    }

    /// Find a clear run of [`HUGE_BLOCKS`] blocks that starts 2 MiB-aligned
    /// in physical memory (at a block `== huge_phase` modulo 512),
    /// searching from `hint` and wrapping once.
    fn find_clear_huge(&self, hint: u64) -> Result<Option<u64>> {
        let (_, nbits, _) = self.map_geometry(Map::Blocks);
        let phase = self.huge_phase;
        let Some(room) = nbits.checked_sub(phase + HUGE_BLOCKS) else {
            return Ok(None);
        };
        let runs = room / HUGE_BLOCKS + 1;
        let first = (hint.saturating_sub(phase) / HUGE_BLOCKS).min(runs - 1);
        for k in (first..runs).chain(0..first) {
            let start = k * HUGE_BLOCKS + phase;
            if self.run_is_clear(Map::Blocks, start, HUGE_BLOCKS)? {
                return Ok(Some(start));
            }
        }
        Ok(None)
    }

    /// Whether bits `start..start + len` of `map` are all clear (reads
    /// word by word, stopping at the first set bit).
    fn run_is_clear(&self, map: Map, start: u64, len: u64) -> Result<bool> {
        let (mut bit, end) = (start, start + len);
        while bit < end {
            let (lo, n) = (bit % 64, (64 - bit % 64).min(end - bit));
            let mask = if n == 64 { !0 } else { ((1u64 << n) - 1) << lo };
            if self.pm.read_u64(self.word_off(map, bit / 64))? & mask != 0 {
                return Ok(false);
            }
            bit += n;
        }
        Ok(true)
    }

    /// Whether device block `b` starts a 2 MiB-aligned physical run.
    pub(super) fn is_huge_aligned(&self, b: u64) -> bool {
        b % HUGE_BLOCKS == self.huge_phase
    }

    /// Allocate up to `want` contiguous blocks, zeroed, in the running
    /// transaction. With `huge`, allocate exactly one 2 MiB-aligned run of
    /// 512 blocks or fail with `NoSpace`.
    pub(super) fn alloc_blocks(&mut self, want: u64, huge: bool) -> Result<(u64, u64)> {
        let hint = self.counters.block_hint;
        let run = if huge {
            if self.counters.free_blocks < HUGE_BLOCKS {
                return Err(Error::NoSpace);
            }
            self.find_clear_huge(hint)?
                .map(|start| (start, HUGE_BLOCKS))
        } else {
            if self.counters.free_blocks == 0 {
                return Err(Error::NoSpace);
            }
            self.find_clear(Map::Blocks, hint, want.max(1))?
        };
        let (start, len) = run.ok_or(Error::NoSpace)?;
        self.claim_blocks(start, len)
    }

    /// Allocate up to `want` free blocks starting exactly at `goal` (a
    /// file's next physical block, so the new blocks extend its extent), in
    /// the running transaction; `None` if `goal` is not a free data block.
    pub(super) fn alloc_blocks_at(&mut self, goal: u64, want: u64) -> Result<Option<(u64, u64)>> {
        if !self.geo.is_data_block(goal) || self.bit_is_set(Map::Blocks, goal)? {
            return Ok(None);
        }
        let mut len = 1;
        while len < want
            && self.geo.is_data_block(goal + len)
            && !self.bit_is_set(Map::Blocks, goal + len)?
        {
            len += 1;
        }
        self.claim_blocks(goal, len).map(Some)
    }

    /// Mark free blocks `start..start + len` used and zero them, durable
    /// with the transaction's commit.
    fn claim_blocks(&mut self, start: u64, len: u64) -> Result<(u64, u64)> {
        self.geo
            .check_data_block(start, "block bitmap (metadata block marked free)")?;
        self.geo
            .check_data_block(start + len - 1, "block bitmap (metadata block marked free)")?;
        self.set_bits(Map::Blocks, start, len, true)?;
        let (off, bytes) = (Geometry::block_off(start), len * BLOCK_SIZE);
        // Zeroing stores directly; a staged change to these blocks (made
        // while they were still in use, earlier in this transaction) must
        // reach the medium and the log first, or it would land on top.
        if self.pm.stage_overlaps(off, bytes) {
            self.journal.drain(&mut self.pm)?;
        }
        self.journal.before_unlogged(&mut self.pm);
        let zeroed = self.pm.store_zeroes(off, bytes)?;
        let flushed = self.pm.flush(zeroed);
        self.journal.add_flushed(flushed);
        self.counters.free_blocks = self.counters.free_blocks.minus(len, "free block count")?;
        self.counters.block_hint = start + len;
        Ok((start, len))
    }

    /// Free `len` blocks from `start` in the running transaction.
    pub(super) fn free_blocks(&mut self, start: u64, len: u64) -> Result<()> {
        self.geo.check_data_block(start, "block pointer")?;
        self.geo
            .check_data_block(start + len - 1, "block pointer")?;
        self.set_bits(Map::Blocks, start, len, false)?;
        self.journal.note_free();
        self.counters.free_blocks += len;
        Ok(())
    }

    /// Allocate an inode number in the running transaction.
    pub(super) fn alloc_ino(&mut self) -> Result<u64> {
        if self.counters.free_inodes == 0 {
            return Err(Error::NoSpace);
        }
        let (ino, _) = self
            .find_clear(Map::Inodes, self.counters.ino_hint, 1)?
            .ok_or(Error::NoSpace)?;
        self.geo
            .check_ino(ino, "inode bitmap (reserved inode marked free)")?;
        self.set_bits(Map::Inodes, ino, 1, true)?;
        self.counters.free_inodes = self.counters.free_inodes.minus(1, "free inode count")?;
        self.counters.ino_hint = ino + 1;
        Ok(ino)
    }

    /// Free inode number `ino` in the running transaction.
    pub(super) fn free_ino(&mut self, ino: u64) -> Result<()> {
        self.set_bits(Map::Inodes, ino, 1, false)?;
        self.counters.free_inodes += 1;
        Ok(())
    }
}
