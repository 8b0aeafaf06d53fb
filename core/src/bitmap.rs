// SPDX-License-Identifier: GPL-2.0
//! Persistent allocation state: the inode, block and orphan bitmaps.
//!
//! One bit per inode / per block, set when in use, and one per inode set
//! while it is an orphan (`orphan.rs`). Each 64-byte line of a bitmap
//! ([`CHUNK_BITS`] bits) has a CRC-32C in the bitmap checksum table (inode
//! bitmap lines first, then block bitmap lines, then orphan bitmap
//! lines). Mount reads none of this: allocation reads the bitmap words it
//! searches and checks the checksum of each line it changes, so mount time
//! does not grow with the device.
//!
//! The bitmaps are split into allocation groups (`group.rs`): an
//! allocation searches one group at a time and never crosses a group's
//! end, and each group counts its own free bits.
//!
//! Blocks are zeroed as part of their allocation, inside the allocating
//! transaction, so no path can ever map a block with stale contents.

use super::crc32c;
use super::error::{Error, MediaCount, Result};
use super::layout::{le::u64_at, Geometry, BLOCK_SIZE, CHUNK_BITS, HUGE_BLOCKS};
use super::medium::Medium;
use super::persist::Pm;
use super::Fs;
use core::ops::Range;

/// Checksummed lines per bitmap block.
const CHUNKS_PER_BLOCK: u64 = BLOCK_SIZE * 8 / CHUNK_BITS;
/// Bytes of one checksummed line.
const CHUNK_BYTES: usize = (CHUNK_BITS / 8) as usize;
/// Words a free-bit search reads at once.
const SEARCH_WORDS: usize = 64;
/// Words of one checksummed line.
const LINE_WORDS: u64 = CHUNK_BYTES as u64 / 8;

/// Which bitmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Map {
    /// One bit per inode number.
    Inodes,
    /// One bit per block.
    Blocks,
    /// One bit per inode number, set while the inode is an orphan.
    Orphans,
}

/// CRC-32C of the bitmap line at byte offset `off`, as it is on the media.
fn line_crc<M: Medium>(pm: &Pm<M>, off: u64) -> Result<u32> {
    let mut line = [0u8; CHUNK_BYTES];
    pm.read(off, &mut line)?;
    Ok(crc32c::crc32c(&line))
}

/// The checksums of the lines of bitmap block `blk`, as the checksum table
/// holds them (mkfs).
pub fn block_line_crcs<M: Medium>(pm: &Pm<M>, blk: u64) -> Result<[u8; LINE_CRCS_BYTES]> {
    let mut crcs = [0u8; LINE_CRCS_BYTES];
    for (i, slot) in crcs.chunks_exact_mut(4).enumerate() {
        let crc = line_crc(pm, Geometry::block_off(blk) + (i * CHUNK_BYTES) as u64)?;
        slot.copy_from_slice(&crc.to_le_bytes());
    }
    Ok(crcs)
}

/// Bytes of checksum table per bitmap block.
pub const LINE_CRCS_BYTES: usize = CHUNKS_PER_BLOCK as usize * 4;

impl<M: Medium> Fs<M> {
    fn map_geometry(&self, map: Map) -> (u64, u64, u64) {
        let g = &self.geo;
        match map {
            Map::Inodes => (g.inode_bitmap_start, g.inode_count, 0),
            Map::Blocks => (g.block_bitmap_start, g.total_blocks, g.inode_bitmap_blocks),
            Map::Orphans => (
                g.orphan_bitmap_start,
                g.inode_count,
                g.inode_bitmap_blocks + g.block_bitmap_blocks,
            ),
        }
    }

    fn word_off(&self, map: Map, word: u64) -> u64 {
        Geometry::block_off(self.map_geometry(map).0) + word * 8
    }

    /// Whether `bit` is set in `map`.
    pub fn bit_is_set(&self, map: Map, bit: u64) -> Result<bool> {
        Ok(self.bitmap_word(map, bit / 64)? & (1 << (bit % 64)) != 0)
    }

    /// Whether block `blk` is in use as the medium holds the bitmap, without
    /// the running transaction's changes (false for a block it allocated).
    pub(super) fn used_in_place(&self, blk: u64) -> Result<bool> {
        let mut word = [0u8; 8];
        self.pm
            .read_in_place(self.word_off(Map::Blocks, blk / 64), &mut word)?;
        Ok(u64::from_le_bytes(word) & (1 << (blk % 64)) != 0)
    }

    /// Word `word` of `map`: bits `64 * word..64 * word + 64`.
    pub(super) fn bitmap_word(&self, map: Map, word: u64) -> Result<u64> {
        self.pm.read_u64(self.word_off(map, word))
    }

    /// CRC-32C of line `chunk` of `map` (bits `chunk * CHUNK_BITS..`), as
    /// it is on the media.
    pub fn bitmap_chunk_crc(&self, map: Map, chunk: u64) -> Result<u32> {
        line_crc(&self.pm, self.word_off(map, chunk * (CHUNK_BITS / 64)))
    }

    fn crc_slot_off(&self, map: Map, chunk: u64) -> u64 {
        let first = self.map_geometry(map).2 * CHUNKS_PER_BLOCK;
        Geometry::block_off(self.geo.bitmap_crc_start) + (first + chunk) * 4
    }

    /// The stored checksum of line `chunk` of `map`.
    pub fn bitmap_stored_crc(&self, map: Map, chunk: u64) -> Result<u32> {
        let mut b = [0u8; 4];
        self.pm.read(self.crc_slot_off(map, chunk), &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Lines of `map`, checksummed or not (the bitmap's whole blocks).
    pub fn bitmap_chunks(&self, map: Map) -> u64 {
        match map {
            Map::Inodes | Map::Orphans => self.geo.inode_bitmap_blocks * CHUNKS_PER_BLOCK,
            Map::Blocks => self.geo.block_bitmap_blocks * CHUNKS_PER_BLOCK,
        }
    }

    /// Set (`used`) or clear `len` bits from `start`, in the running
    /// transaction. Every bit must currently have the opposite value:
    /// a double allocation or double free is corruption, never silently
    /// accepted.
    pub(super) fn set_bits(&mut self, map: Map, start: u64, len: u64, used: bool) -> Result<()> {
        let what = match map {
            Map::Inodes => "inode bitmap",
            Map::Blocks => "block bitmap",
            Map::Orphans => "orphan bitmap",
        };
        let mut bit = start;
        let end = start + len;
        let mut checked = u64::MAX;
        while bit < end {
            let chunk = bit / CHUNK_BITS;
            if chunk != checked {
                self.check_bitmap_chunk(map, chunk, what)?;
                checked = chunk;
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
            if bit % CHUNK_BITS == 0 || bit >= end {
                let crc = self.bitmap_chunk_crc(map, chunk)?;
                let slot = self.crc_slot_off(map, chunk);
                self.tx_write(slot, &crc.to_le_bytes())?;
            }
        }
        Ok(())
    }

    pub(super) fn check_bitmap_chunk(
        &self,
        map: Map,
        chunk: u64,
        what: &'static str,
    ) -> Result<()> {
        if self.bitmap_chunk_crc(map, chunk)? != self.bitmap_stored_crc(map, chunk)? {
            return Err(Error::Corrupt(what));
        }
        Ok(())
    }

    /// Find up to `want` clear bits in a row inside `bits` (a group's
    /// share of `map`: a run never crosses its end), searching from `hint`
    /// and wrapping once.
    fn find_clear(
        &self,
        map: Map,
        bits: Range<u64>,
        hint: u64,
        want: u64,
    ) -> Result<Option<(u64, u64)>> {
        // Groups start at whole lines, so at whole words.
        let (first_word, end_word) = (bits.start / 64, bits.end.div_ceil(64));
        let nwords = end_word - first_word;
        let start = if bits.contains(&hint) {
            hint / 64
        } else {
            first_word
        };
        // The rest of the hint's line first, on its own: with a good hint
        // the clear bit is there, and 64 bytes are all the search reads.
        let line_end = ((start / LINE_WORDS + 1) * LINE_WORDS).min(end_word);
        let mut line = [0u8; CHUNK_BYTES];
        let read = &mut line[..(line_end - start) as usize * 8];
        self.pm.read(self.word_off(map, start), read)?;
        if let Some(run) = self.clear_run_in(map, &bits, start, read, want)? {
            return Ok(Some(run));
        }
        let mut bytes = [0u8; SEARCH_WORDS * 8];
        let mut scanned = line_end - start;
        let mut w = line_end;
        while scanned < nwords {
            if w >= end_word {
                w = first_word;
            }
            let n = (SEARCH_WORDS as u64).min(end_word - w);
            // Words in one read: the words of a map are contiguous.
            let read = &mut bytes[..n as usize * 8];
            self.pm.read(self.word_off(map, w), read)?;
            if let Some(run) = self.clear_run_in(map, &bits, w, read, want)? {
                return Ok(Some(run));
            }
            scanned += n;
            w += n;
        }
        Ok(None)
    }

    /// The first clear bit inside `bits` of the words `read` (of `map`,
    /// from word `base`) and how many clear bits follow it, up to `want`.
    fn clear_run_in(
        &self,
        map: Map,
        bits: &Range<u64>,
        base: u64,
        read: &[u8],
        want: u64,
    ) -> Result<Option<(u64, u64)>> {
        let words = read.chunks_exact(8).map(|b| u64_at(b, 0));
        for (i, word) in words.enumerate() {
            if word == !0 {
                continue;
            }
            let first = (base + i as u64) * 64 + u64::from((!word).trailing_zeros());
            if first >= bits.end {
                return Ok(None);
            }
            let mut len = 1;
            while len < want && first + len < bits.end && !self.bit_is_set(map, first + len)? {
                len += 1;
            }
            return Ok(Some((first, len)));
        }
        Ok(None)
    }

    /// Find a clear run of [`HUGE_BLOCKS`] blocks inside `blocks` (a
    /// group's) that starts 2 MiB-aligned in physical memory (at a block
    /// `== huge_phase` modulo 512), searching from `hint` and wrapping once.
    fn find_clear_huge(&self, blocks: Range<u64>, hint: u64) -> Result<Option<u64>> {
        let phase = self.huge_phase;
        // Runs k = first_run.. start at k * HUGE_BLOCKS + phase.
        let first_run = blocks.start.saturating_sub(phase).div_ceil(HUGE_BLOCKS);
        let Some(room) = blocks.end.checked_sub(phase + HUGE_BLOCKS) else {
            return Ok(None);
        };
        let end_run = room / HUGE_BLOCKS + 1;
        if first_run >= end_run {
            return Ok(None);
        }
        let from = (hint.saturating_sub(phase) / HUGE_BLOCKS).clamp(first_run, end_run - 1);
        for k in (from..end_run).chain(first_run..from) {
            let start = k * HUGE_BLOCKS + phase;
            if self.run_is_clear(Map::Blocks, start, HUGE_BLOCKS)? {
                return Ok(Some(start));
            }
        }
        Ok(None)
    }

    /// The first set bit of `map` inside `bits` (a group's share: it starts
    /// at a whole word), if any.
    pub(super) fn first_set(&self, map: Map, bits: Range<u64>) -> Result<Option<u64>> {
        let mut bytes = [0u8; SEARCH_WORDS * 8];
        let (mut w, end_word) = (bits.start / 64, bits.end.div_ceil(64));
        while w < end_word {
            let n = (SEARCH_WORDS as u64).min(end_word - w);
            let read = &mut bytes[..n as usize * 8];
            self.pm.read(self.word_off(map, w), read)?;
            let words = read.chunks_exact(8).map(|b| u64_at(b, 0));
            if let Some((i, word)) = words.enumerate().find(|&(_, word)| word != 0) {
                let bit = (w + i as u64) * 64 + u64::from(word.trailing_zeros());
                return Ok((bit < bits.end).then_some(bit));
            }
            w += n;
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

    /// Whether device block `b` starts a 2 MiB-aligned physical run that
    /// one allocation can take whole (inside one group).
    pub(super) fn is_huge_aligned(&self, b: u64) -> bool {
        b % HUGE_BLOCKS == self.huge_phase
            && self.geo.block_group(b) == self.geo.block_group(b + HUGE_BLOCKS - 1)
    }

    /// Allocate up to `want` contiguous blocks, zeroed, in the running
    /// transaction, from the first group that has them. With `huge`,
    /// allocate exactly one 2 MiB-aligned run of 512 blocks or fail with
    /// `NoSpace`.
    pub(super) fn alloc_blocks(&mut self, want: u64, huge: bool) -> Result<(u64, u64)> {
        let need = if huge { HUGE_BLOCKS } else { 1 };
        for g in 0..self.geo.groups {
            let Ok(group) = self.group_in_scope(g) else {
                continue;
            };
            if group.free_blocks < need {
                continue;
            }
            let blocks = self.geo.group_blocks(g);
            let run = if huge {
                self.find_clear_huge(blocks, group.block_hint)?
                    .map(|start| (start, HUGE_BLOCKS))
            } else {
                self.find_clear(Map::Blocks, blocks, group.block_hint, want.max(1))?
            };
            if let Some((start, len)) = run {
                return self.claim_blocks(start, len);
            }
        }
        self.out_of_space()
    }

    /// No group in scope had room: `NoSpace` if every group was in scope,
    /// else `Contended` (the others may have it).
    fn out_of_space<T>(&self) -> Result<T> {
        self.all_in_scope()?;
        Err(Error::NoSpace)
    }

    /// Allocate up to `want` free blocks starting exactly at `goal` (a
    /// file's next physical block, so the new blocks extend its extent), in
    /// the running transaction, up to the end of `goal`'s group; `None` if
    /// `goal` is not a free data block.
    pub(super) fn alloc_blocks_at(&mut self, goal: u64, want: u64) -> Result<Option<(u64, u64)>> {
        if !self.geo.is_data_block(goal)
            || self.in_scope(self.geo.block_group(goal)).is_err()
            || self.bit_is_set(Map::Blocks, goal)?
        {
            return Ok(None);
        }
        let end = self.geo.group_blocks(self.geo.block_group(goal)).end;
        let mut len = 1;
        while len < want
            && goal + len < end
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
        // Zeroing stores directly: the blocks were free when the
        // transaction began (see `Journal::before_unlogged`), so nothing it
        // staged touches them.
        self.journal.before_unlogged(&mut self.pm, start, len)?;
        let zeroed = self.pm.store_zeroes(off, bytes)?;
        let flushed = self.pm.flush(zeroed);
        self.journal.add_flushed(flushed);
        let group = self.group_mut(self.geo.block_group(start))?;
        group.free_blocks = group.free_blocks.minus(len, "group free block count")?;
        group.block_hint = start + len;
        Ok((start, len))
    }

    /// Store `data` at `off`, inside a block the running transaction
    /// allocated, unlogged: like the block's zeroing in
    /// [`Fs::claim_blocks`], durable with the commit's first fence, before
    /// any in-place store can make the block reachable; on rollback the
    /// block is free again and what it holds does not matter. Nothing may
    /// be staged for those bytes (reads lay the stage over them).
    pub(super) fn store_fresh(&mut self, off: u64, data: &[u8]) -> Result<()> {
        debug_assert!(self.journal.drained() || !self.used_in_place(off / BLOCK_SIZE)?);
        let stored = self.pm.store(off, data)?;
        let flushed = self.pm.flush(stored);
        self.journal.add_flushed(flushed);
        Ok(())
    }

    /// Free `len` blocks from `start` in the running transaction (an
    /// extent may span groups: blocks allocated in two groups merge).
    pub(super) fn free_blocks(&mut self, start: u64, len: u64) -> Result<()> {
        self.geo.check_data_block(start, "block pointer")?;
        self.geo
            .check_data_block(start + len - 1, "block pointer")?;
        let end = start + len;
        // Every group first: nothing is staged for one out of scope.
        let groups = self.geo.block_group(start)..=self.geo.block_group(end - 1);
        for g in groups {
            self.in_scope(g)?;
        }
        let mut from = start;
        while from < end {
            let g = self.geo.block_group(from);
            let to = end.min(self.geo.group_blocks(g).end);
            self.set_bits(Map::Blocks, from, to - from, false)?;
            self.group_mut(g)?.free_blocks += to - from;
            from = to;
        }
        self.journal.note_free(start, len);
        Ok(())
    }

    /// Allocate an inode number in the running transaction, from the
    /// first group that has one.
    pub(super) fn alloc_ino(&mut self) -> Result<u64> {
        for g in 0..self.geo.groups {
            let Ok(group) = self.group_in_scope(g) else {
                continue;
            };
            if group.free_inodes == 0 {
                continue;
            }
            let inodes = self.geo.group_inodes(g);
            let Some((ino, _)) = self.find_clear(Map::Inodes, inodes, group.ino_hint, 1)? else {
                continue;
            };
            self.geo
                .check_ino(ino, "inode bitmap (reserved inode marked free)")?;
            self.set_bits(Map::Inodes, ino, 1, true)?;
            let group = self.group_mut(g)?;
            group.free_inodes = group.free_inodes.minus(1, "group free inode count")?;
            group.ino_hint = ino + 1;
            return Ok(ino);
        }
        self.out_of_space()
    }

    /// Free inode number `ino` in the running transaction.
    pub(super) fn free_ino(&mut self, ino: u64) -> Result<()> {
        let g = self.geo.inode_group(ino);
        self.in_scope(g)?;
        self.set_bits(Map::Inodes, ino, 1, false)?;
        self.group_mut(g)?.free_inodes += 1;
        Ok(())
    }
}
