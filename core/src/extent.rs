// SPDX-License-Identifier: GPL-2.0
//! File block mapping: one extent block per regular file.
//!
//! The inode's `root` points at a 4 KiB block: a 16-byte header and up to
//! 255 extents of 16 bytes (`lblk: u32, len: u32, pblk: 48 bits` with a
//! 16-bit checksum in the top of the last word), sorted by `lblk`. Each
//! extent carries its own checksum so a lookup on the fault path validates
//! only the 16 bytes it reads. Extents can be any length, so a file can hold
//! 2 MiB-aligned runs for PMD faults.

use super::crc32c::{crc32c, crc32c_skip};
use super::error::{Error, MediaCount, Result};
use super::inode::Inode;
use super::layout::{le::*, Geometry, BLOCK_SIZE};
use super::medium::Medium;
use super::Fs;

/// Most blocks one transaction step allocates or frees in a single run: 32
/// bitmap words, so a step's undo entries stay far below the journal's size.
pub const MAX_RUN: u64 = 2048;

/// Extents one block holds.
pub const MAX_EXTENTS: u16 = ((BLOCK_SIZE - 16) / 16) as u16;
const EXT_MAGIC: u32 = u32::from_le_bytes(*b"FEXT");
const PBLK_MASK: u64 = (1 << 48) - 1;

/// A run of file blocks mapped to device blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    /// First file block.
    pub lblk: u32,
    /// Number of blocks.
    pub len: u32,
    /// First device block.
    pub pblk: u64,
}

impl Extent {
    /// One past the last file block.
    pub fn end(&self) -> u64 {
        u64::from(self.lblk) + u64::from(self.len)
    }

    fn encode(&self, ino: u64) -> [u8; 16] {
        let mut b = [0u8; 16];
        put_u32(&mut b, 0, self.lblk);
        put_u32(&mut b, 4, self.len);
        put_u64(&mut b, 8, self.pblk);
        let check = u64::from(Self::check(&b, ino));
        put_u64(&mut b, 8, self.pblk | check << 48);
        b
    }

    fn check(b: &[u8; 16], ino: u64) -> u16 {
        let mut c = [0u8; 20];
        c[..14].copy_from_slice(&b[..14]);
        c[16..].copy_from_slice(&(ino as u32).to_le_bytes());
        crc32c(&c) as u16
    }

    fn decode(b: &[u8; 16], ino: u64, geo: &Geometry) -> Result<Extent> {
        let word = u64_at(b, 8);
        let mut plain = *b;
        put_u64(&mut plain, 8, word & PBLK_MASK);
        if (word >> 48) as u16 != Self::check(&plain, ino) {
            return Err(Error::Corrupt("extent checksum"));
        }
        let e = Extent {
            lblk: u32_at(b, 0),
            len: u32_at(b, 4),
            pblk: word & PBLK_MASK,
        };
        if e.len == 0 || e.end() > 1 << 32 {
            return Err(Error::Corrupt("extent length"));
        }
        geo.check_data_block(e.pblk, "extent block pointer")?;
        geo.check_data_block(e.pblk + u64::from(e.len) - 1, "extent block pointer")?;
        Ok(e)
    }
}

/// What a file block maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// `len` blocks from `pblk` back the requested block onwards.
    Mapped {
        /// Device block of the requested file block.
        pblk: u64,
        /// Blocks mapped contiguously from there.
        len: u64,
    },
    /// A hole of `len` blocks (to the next extent, or to the format limit).
    Hole {
        /// Blocks until the next mapped block.
        len: u64,
    },
}

fn entry_off(blk: u64, i: u16) -> u64 {
    Geometry::block_off(blk) + 16 + 16 * u64::from(i)
}

impl<M: Medium> Fs<M> {
    /// Number of extents in the extent block of `ino`.
    pub fn extent_count(&self, inode: &Inode, ino: u64) -> Result<u16> {
        if inode.root == 0 {
            return Ok(0);
        }
        let mut h = [0u8; 16];
        self.pm.read(Geometry::block_off(inode.root), &mut h)?;
        let count = u16_at(&h, 4);
        if u32_at(&h, 0) != EXT_MAGIC
            || u32_at(&h, 12) != crc32c_skip(&h, 12)
            || u32_at(&h, 8) != ino as u32
            || count > MAX_EXTENTS
        {
            return Err(Error::Corrupt("extent block header"));
        }
        Ok(count)
    }

    /// Extent `i` of `ino`'s extent block.
    pub fn extent(&self, inode: &Inode, ino: u64, i: u16) -> Result<Extent> {
        let mut b = [0u8; 16];
        self.pm.read(entry_off(inode.root, i), &mut b)?;
        Extent::decode(&b, ino, &self.geo)
    }

    /// Index of the first extent ending after `lblk` (binary search).
    fn extent_search(&self, inode: &Inode, ino: u64, count: u16, lblk: u64) -> Result<u16> {
        let (mut lo, mut hi) = (0u16, count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.extent(inode, ino, mid)?.end() <= lblk {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// Map file block `lblk` of `ino`.
    pub fn map_lookup(&self, inode: &Inode, ino: u64, lblk: u64) -> Result<Mapping> {
        let count = self.extent_count(inode, ino)?;
        let i = self.extent_search(inode, ino, count, lblk)?;
        if i == count {
            return Ok(Mapping::Hole {
                len: (1u64 << 32).saturating_sub(lblk),
            });
        }
        let e = self.extent(inode, ino, i)?;
        if u64::from(e.lblk) > lblk {
            return Ok(Mapping::Hole {
                len: u64::from(e.lblk) - lblk,
            });
        }
        let skip = lblk - u64::from(e.lblk);
        Ok(Mapping::Mapped {
            pblk: e.pblk + skip,
            len: u64::from(e.len) - skip,
        })
    }

    fn write_extent_header(&mut self, blk: u64, ino: u64, count: u16) -> Result<()> {
        let mut h = [0u8; 16];
        put_u32(&mut h, 0, EXT_MAGIC);
        put_u16(&mut h, 4, count);
        put_u32(&mut h, 8, ino as u32);
        let crc = crc32c_skip(&h, 12);
        put_u32(&mut h, 12, crc);
        self.tx_write(Geometry::block_off(blk), &h)
    }

    fn write_extent(&mut self, blk: u64, ino: u64, i: u16, e: &Extent) -> Result<()> {
        self.tx_write(entry_off(blk, i), &e.encode(ino))
    }

    /// Add extent `e` (which must lie in a hole) to `ino`, in the running
    /// transaction; `inode` is updated but not written.
    pub(super) fn extent_insert(&mut self, inode: &mut Inode, ino: u64, e: Extent) -> Result<()> {
        self.extent_root(inode, ino)?;
        let count = self.extent_count(inode, ino)?;
        let i = self.extent_search(inode, ino, count, u64::from(e.lblk))?;
        if i < count && u64::from(self.extent(inode, ino, i)?.lblk) < e.end() {
            return Err(Error::Corrupt("extent overlap"));
        }
        let next = match i < count {
            true => Some(self.extent(inode, ino, i)?)
                .filter(|n| e.end() == u64::from(n.lblk) && e.pblk + u64::from(e.len) == n.pblk),
            false => None,
        };
        if i > 0 {
            let mut prev = self.extent(inode, ino, i - 1)?;
            if prev.end() == u64::from(e.lblk) && prev.pblk + u64::from(prev.len) == e.pblk {
                prev.len += e.len;
                if let Some(n) = next {
                    // `e` fills the gap between two extents: one extent.
                    prev.len += n.len;
                    self.write_extent(inode.root, ino, i - 1, &prev)?;
                    return self.extent_delete(inode, ino, i, count);
                }
                return self.write_extent(inode.root, ino, i - 1, &prev);
            }
        }
        if let Some(n) = next {
            let merged = Extent {
                len: e.len + n.len,
                ..e
            };
            return self.write_extent(inode.root, ino, i, &merged);
        }
        if count == MAX_EXTENTS {
            return Err(Error::FileTooBig);
        }
        self.extent_shift_up(inode, ino, i, count)?;
        self.write_extent(inode.root, ino, i, &e)?;
        self.write_extent_header(inode.root, ino, count + 1)
    }

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
        if inode.root == 0 {
            return Ok(true);
        }
        let mut count = self.extent_count(inode, ino)?;
        let mut done = 0;
        while count > 0 {
            let last = self.extent(inode, ino, count - 1)?;
            if last.end() <= from {
                break;
            }
            if done == budget {
                self.write_extent_header(inode.root, ino, count)?;
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
            self.free_blocks(last.pblk + u64::from(keep), u64::from(last.len - keep))?;
            inode.blocks = inode
                .blocks
                .minus(u64::from(last.len - keep), "inode block count")?;
            if keep > 0 {
                let shorter = Extent { len: keep, ..last };
                self.write_extent(inode.root, ino, count - 1, &shorter)?;
                if keep_to <= from {
                    break; // everything past `from` is gone
                }
                continue;
            }
            count -= 1;
        }
        if count == 0 {
            self.free_blocks(inode.root, 1)?;
            inode.blocks = inode.blocks.minus(1, "inode block count")?;
            inode.root = 0;
        } else {
            self.write_extent_header(inode.root, ino, count)?;
        }
        Ok(true)
    }
}

impl<M: Medium> Fs<M> {
    /// Remove extent `i` of the `count` of `ino`, in the running transaction.
    fn extent_delete(&mut self, inode: &Inode, ino: u64, i: u16, count: u16) -> Result<()> {
        for j in i + 1..count {
            let moved = self.extent(inode, ino, j)?;
            self.write_extent(inode.root, ino, j - 1, &moved)?;
        }
        self.write_extent_header(inode.root, ino, count - 1)
    }

    /// The device blocks that would continue `ino`'s mapping at file block
    /// `lblk` (a hole): right after the previous extent's blocks, and right
    /// before the next one's. Allocating there lets the new blocks merge
    /// into one extent with their neighbours, so refilling a punched range
    /// or filling a sparse file's gaps does not fragment it.
    pub(super) fn extent_goals(
        &self,
        inode: &Inode,
        ino: u64,
        lblk: u64,
    ) -> Result<[Option<u64>; 2]> {
        let count = self.extent_count(inode, ino)?;
        let i = self.extent_search(inode, ino, count, lblk)?;
        let after_prev = match i {
            0 => None,
            _ => {
                let prev = self.extent(inode, ino, i - 1)?;
                Some(prev.pblk + (lblk - u64::from(prev.lblk)))
            }
        };
        let before_next = match i < count {
            true => {
                let next = self.extent(inode, ino, i)?;
                next.pblk.checked_sub(u64::from(next.lblk) - lblk)
            }
            false => None,
        };
        Ok([after_prev, before_next])
    }

    /// Give `ino` its extent block if it has none yet, in the running
    /// transaction (before its first data blocks, so that it does not sit
    /// between them). `inode` is updated, not written.
    pub(super) fn extent_root(&mut self, inode: &mut Inode, ino: u64) -> Result<()> {
        if inode.root == 0 {
            let (blk, _) = self.alloc_blocks(1, false)?;
            inode.root = blk;
            inode.blocks += 1;
            self.write_extent_header(blk, ino, 0)?;
        }
        Ok(())
    }

    /// Write extents `i..count` of `ino` at index `i + 1` onwards (making
    /// room at `i`), highest first, in the running transaction.
    fn extent_shift_up(&mut self, inode: &Inode, ino: u64, i: u16, count: u16) -> Result<()> {
        let mut j = count;
        while j > i {
            let moved = self.extent(inode, ino, j - 1)?;
            self.write_extent(inode.root, ino, j, &moved)?;
            j -= 1;
        }
        Ok(())
    }

    /// Unmap and free file blocks `from..to` of `ino`, one extent and at
    /// most [`MAX_RUN`] blocks per call, in the running transaction.
    /// Returns the file block to continue from, or `None` when nothing in
    /// the range is mapped any more. `inode` is updated, not written.
    ///
    /// Cutting the middle out of an extent splits it in two, which needs a
    /// free slot: a full extent block gives [`Error::FileTooBig`].
    pub(super) fn extent_remove_step(
        &mut self,
        inode: &mut Inode,
        ino: u64,
        from: u64,
        to: u64,
    ) -> Result<Option<u64>> {
        let count = self.extent_count(inode, ino)?;
        let i = self.extent_search(inode, ino, count, from)?;
        if i == count {
            return Ok(None);
        }
        let e = self.extent(inode, ino, i)?;
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
            (0, 0) => self.extent_delete(inode, ino, i, count)?,
            (0, _) => self.write_extent(inode.root, ino, i, &tail)?,
            (_, 0) => self.write_extent(inode.root, ino, i, &Extent { len: head, ..e })?,
            _ => {
                if count == MAX_EXTENTS {
                    return Err(Error::FileTooBig);
                }
                self.extent_shift_up(inode, ino, i + 1, count)?;
                self.write_extent(inode.root, ino, i + 1, &tail)?;
                self.write_extent(inode.root, ino, i, &Extent { len: head, ..e })?;
                self.write_extent_header(inode.root, ino, count + 1)?;
            }
        }
        self.free_blocks(e.pblk + u64::from(head), cut_end - cut_start)?;
        inode.blocks = inode
            .blocks
            .minus(cut_end - cut_start, "inode block count")?;
        if count == 1 && head == 0 && tail.len == 0 {
            self.free_blocks(inode.root, 1)?;
            inode.blocks = inode.blocks.minus(1, "inode block count")?;
            inode.root = 0;
            return Ok(None);
        }
        Ok((cut_end < to).then_some(cut_end))
    }
}

/// Extents rewritten by one logged store when shifting, so a shift of a
/// full extent block costs 16 logged ranges, not 255.
const SHIFT_BATCH: u16 = 16;

impl<M: Medium> Fs<M> {
    /// Make file block `at` of `ino` an extent boundary, splitting the
    /// extent that spans it, in the running transaction. A full extent
    /// block gives [`Error::FileTooBig`].
    pub(super) fn extent_split_at(&mut self, inode: &Inode, ino: u64, at: u64) -> Result<()> {
        let count = self.extent_count(inode, ino)?;
        let i = self.extent_search(inode, ino, count, at)?;
        if i == count {
            return Ok(());
        }
        let e = self.extent(inode, ino, i)?;
        if u64::from(e.lblk) >= at {
            return Ok(());
        }
        if count == MAX_EXTENTS {
            return Err(Error::FileTooBig);
        }
        let head = (at - u64::from(e.lblk)) as u32;
        let tail = Extent {
            lblk: at as u32,
            len: e.len - head,
            pblk: e.pblk + u64::from(head),
        };
        self.extent_shift_up(inode, ino, i + 1, count)?;
        self.write_extent(inode.root, ino, i + 1, &tail)?;
        self.write_extent(inode.root, ino, i, &Extent { len: head, ..e })?;
        self.write_extent_header(inode.root, ino, count + 1)
    }

    /// Move every extent of `ino` that starts at or after file block `from`
    /// by `by` blocks, up or down, in the running transaction. `from` must
    /// be an extent boundary, and moving down, the `by` blocks below it a
    /// hole (collapse punched them); the order of extents is kept.
    pub(super) fn extent_shift(
        &mut self,
        inode: &Inode,
        ino: u64,
        from: u64,
        by: u64,
        up: bool,
    ) -> Result<()> {
        let count = self.extent_count(inode, ino)?;
        let first = self.extent_search(inode, ino, count, from)?;
        if first == count {
            return Ok(());
        }
        let last = self.extent(inode, ino, count - 1)?;
        if up && last.end() + by > 1 << 32 {
            return Err(Error::FileTooBig);
        }
        if !up && from < by {
            return Err(Error::Invalid);
        }
        let mut i = first;
        while i < count {
            let n = (count - i).min(SHIFT_BATCH);
            let mut buf = [0u8; 16 * SHIFT_BATCH as usize];
            for j in 0..n {
                let mut e = self.extent(inode, ino, i + j)?;
                let lblk = u64::from(e.lblk);
                if lblk < from {
                    return Err(Error::Invalid); // `from` is not a boundary
                }
                e.lblk = if up { lblk + by } else { lblk - by } as u32;
                let at = 16 * usize::from(j);
                buf[at..at + 16].copy_from_slice(&e.encode(ino));
            }
            self.tx_write(entry_off(inode.root, i), &buf[..16 * usize::from(n)])?;
            i += n;
        }
        Ok(())
    }
}
