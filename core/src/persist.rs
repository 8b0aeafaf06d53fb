// SPDX-License-Identifier: GPL-2.0
//! Ordered persistence with typestate: Dirty -> Flushed -> Fenced.
//!
//! Every write to the medium goes through [`Pm`]. A store returns a
//! [`Dirty`] token; only [`Pm::flush`] turns it into [`Flushed`]; only
//! [`Pm::fence`] turns flushed tokens into a [`Fenced`] proof. Steps that must
//! come after durability ask for that proof in their signature (the journal
//! writes its commit word only with a `Fenced`, see `journal.rs`), so these
//! mistakes do not compile:
//!
//! ```compile_fail
//! # use ferrodax_core::persist::*;
//! fn commit_before_flush<M: ferrodax_core::Medium>(pm: &mut Pm<M>) {
//!     let d = pm.store(0, &[1]).unwrap();
//!     let _proof: Fenced = pm.fence(d); // a Dirty store cannot be fenced
//! }
//! ```
//!
//! ```compile_fail
//! # use ferrodax_core::persist::*;
//! fn proof_without_fence<M: ferrodax_core::Medium>(pm: &mut Pm<M>) {
//!     let d = pm.store(0, &[1]).unwrap();
//!     let f = pm.flush(d);
//!     let _proof: Fenced = f; // flushed is not yet durable
//! }
//! ```
//!
//! Tokens are `#[must_use]`: dropping a `Dirty` or `Flushed` silently is a
//! compiler warning, and the crate is built with warnings as errors.
//!
//! A transaction's in-place changes are *staged* here rather than stored at
//! once (see `journal.rs` for why): [`Pm::read`] sees them, the medium does
//! not until [`Pm::apply_stage`], which asks for the proof that their undo
//! entries are durable.

use super::dir_summary::Summaries;
use super::error::{Error, Result};
use super::layout::BLOCK_SHIFT;
use super::medium::{Medium, MediumRead};
use super::verified::Verified;

/// A store that is visible but not yet written back.
#[must_use = "a store is not persistent until flushed and fenced"]
#[derive(Debug)]
pub struct Dirty {
    off: u64,
    len: u64,
}

/// One or more stores written back but not yet ordered by a fence.
#[must_use = "flushed stores are not durable until fenced"]
#[derive(Debug)]
pub struct Flushed {
    _private: (),
}

impl Flushed {
    /// Nothing flushed yet: the neutral element of [`Flushed::join`].
    pub fn none() -> Self {
        Flushed { _private: () }
    }

    /// Both sets of flushed stores, to be fenced together.
    pub fn join(self, _other: Flushed) -> Flushed {
        self
    }
}

/// Proof that everything flushed before it is durable.
#[derive(Debug)]
pub struct Fenced {
    _private: (),
}

/// Bytes of in-place changes one stage holds (more than any single change:
/// a full extent block's entries or a symlink target).
pub const STAGE_BYTES: usize = 8192;
/// Changed ranges one stage holds.
pub const STAGE_RANGES: usize = 64;

/// One staged change: `len` bytes for medium offset `off`, kept at
/// `at..at + len` of the stage buffer.
#[derive(Debug, Clone, Copy)]
struct Staged {
    off: u64,
    at: usize,
    len: usize,
}

/// In-place changes not yet stored, in the order they were made. The
/// medium keeps it ([`MediumRead::stage_area`]): at 9 KiB it must live on the
/// heap, and the core has no allocator. All zero bytes is the empty stage.
#[derive(Clone)]
pub struct Stage {
    data: [u8; STAGE_BYTES],
    used: usize,
    ranges: [Staged; STAGE_RANGES],
    n: usize,
    /// Bit `b % 64` set for every 4 KiB block `b` a staged range touches:
    /// a read of blocks whose bits are clear skips the walk over the
    /// ranges (most reads of a transaction are of blocks it has not
    /// changed).
    blocks: u64,
}

/// The [`Stage::blocks`] bits of `off..end` (not empty).
fn block_bits(off: u64, end: u64) -> u64 {
    let (first, last) = (off >> BLOCK_SHIFT, (end - 1) >> BLOCK_SHIFT);
    if last - first >= 63 {
        return !0;
    }
    let span = (1u64 << (last - first + 1)) - 1;
    span.rotate_left((first % 64) as u32)
}

impl Stage {
    /// A stage holding nothing.
    pub const EMPTY: Stage = Stage {
        data: [0; STAGE_BYTES],
        used: 0,
        ranges: [Staged {
            off: 0,
            at: 0,
            len: 0,
        }; STAGE_RANGES],
        n: 0,
        blocks: 0,
    };
}

/// The only writer of a [`Medium`]: checks bounds and enforces ordering.
pub struct Pm<M: MediumRead> {
    medium: M,
    /// Between [`Medium::in_place_begin`] and [`Medium::in_place_end`].
    in_place: bool,
}

impl<M: MediumRead> Pm<M> {
    /// Wrap a medium.
    pub fn new(medium: M) -> Self {
        Pm {
            medium,
            in_place: false,
        }
    }

    /// The wrapped medium, for reads by the tools and tests.
    pub fn medium(&self) -> &M {
        &self.medium
    }

    /// Give the medium back.
    pub fn into_medium(self) -> M {
        self.medium
    }

    /// Size of the medium in bytes.
    pub fn len(&self) -> u64 {
        self.medium.len()
    }

    /// Whether the medium is empty.
    pub fn is_empty(&self) -> bool {
        self.medium.is_empty()
    }

    fn check(&self, off: u64, len: usize) -> Result<()> {
        match off.checked_add(len as u64) {
            Some(end) if end <= self.medium.len() => Ok(()),
            _ => Err(Error::Corrupt("offset beyond end of device")),
        }
    }

    /// Read `buf.len()` bytes at `off`, staged changes included.
    pub fn read(&self, off: u64, buf: &mut [u8]) -> Result<()> {
        self.read_in_place(off, buf)?;
        let end = off + buf.len() as u64;
        let st = self.medium.stage_area();
        if buf.is_empty() || st.blocks & block_bits(off, end) == 0 {
            return Ok(());
        }
        for r in &st.ranges[..st.n] {
            let (from, to) = (r.off.max(off), (r.off + r.len as u64).min(end));
            if from < to {
                let src = r.at + (from - r.off) as usize;
                buf[(from - off) as usize..(to - off) as usize]
                    .copy_from_slice(&st.data[src..src + (to - from) as usize]);
            }
        }
        Ok(())
    }

    /// Read `buf.len()` bytes at `off` as the medium holds them, without
    /// staged changes (the old contents the undo journal logs).
    pub fn read_in_place(&self, off: u64, buf: &mut [u8]) -> Result<()> {
        self.check(off, buf.len())?;
        self.medium.read(off, buf)
    }

    /// The table of entry blocks known to match their checksum.
    pub fn verified(&self) -> &Verified {
        self.medium.verified()
    }

    /// What walks learnt of verified entry blocks, if the medium keeps it.
    pub fn summaries(&self) -> Option<&Summaries> {
        self.medium.summaries()
    }

    /// Read a little-endian u64 at `off`.
    pub fn read_u64(&self, off: u64) -> Result<u64> {
        let mut b = [0u8; 8];
        self.read(off, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }
}

impl<M: Medium> Pm<M> {
    /// Store `data` at `off`.
    pub fn store(&mut self, off: u64, data: &[u8]) -> Result<Dirty> {
        self.check(off, data.len())?;
        self.medium.verified().forget(off, data.len() as u64);
        self.medium.store(off, data);
        Ok(Dirty {
            off,
            len: data.len() as u64,
        })
    }

    /// Store `len` zero bytes at `off` (block zeroing on allocation).
    pub fn store_zeroes(&mut self, off: u64, len: u64) -> Result<Dirty> {
        const CHUNK: [u8; 512] = [0; 512];
        self.check(off, 0)?;
        self.check(off, usize::try_from(len).map_err(|_| Error::Invalid)?)?;
        self.medium.verified().forget(off, len);
        let mut done = 0;
        while done < len {
            let n = (len - done).min(CHUNK.len() as u64);
            self.medium.store(off + done, &CHUNK[..n as usize]);
            done += n;
        }
        Ok(Dirty { off, len })
    }

    /// Write back a dirty range.
    pub fn flush(&mut self, d: Dirty) -> Flushed {
        self.medium.flush(d.off, d.len);
        Flushed::none()
    }

    /// Store and write back in one step, for callers that fence later.
    pub fn persist(&mut self, off: u64, data: &[u8]) -> Result<Flushed> {
        let d = self.store(off, data)?;
        Ok(self.flush(d))
    }

    /// Stage `data` for `off` without storing it. Returns false, staging
    /// nothing, when the stage has no room for it. A change inside the
    /// newest staged range that overlaps it rewrites that range (an inode
    /// written four times by a rename is one range); a change that
    /// continues the last staged one extends its range (a block rewritten
    /// front to back is one range, not one per record).
    pub fn stage(&mut self, off: u64, data: &[u8]) -> Result<bool> {
        self.check(off, data.len())?;
        self.medium.verified().forget(off, data.len() as u64);
        let room = self.medium.stage_ranges().min(STAGE_RANGES);
        let st = self.medium.stage_area_mut();
        if data.is_empty() {
            return Ok(true);
        }
        let end = off + data.len() as u64;
        if st.blocks & block_bits(off, end) != 0 {
            let newest = st.ranges[..st.n]
                .iter()
                .rev()
                .find(|r| r.off < end && off < r.off + r.len as u64);
            if let Some(r) = newest.filter(|r| r.off <= off && end <= r.off + r.len as u64) {
                // No later range overlaps: changing the bytes in place
                // is what applying a new range after this one would do.
                let at = r.at + (off - r.off) as usize;
                st.data[at..at + data.len()].copy_from_slice(data);
                return Ok(true);
            }
        }
        if STAGE_BYTES - st.used < data.len() {
            return Ok(false);
        }
        if let Some(last) = st.ranges[..st.n].last_mut() {
            if last.off + last.len as u64 == off {
                st.data[st.used..st.used + data.len()].copy_from_slice(data);
                last.len += data.len();
                st.used += data.len();
                st.blocks |= block_bits(off, off + data.len() as u64);
                return Ok(true);
            }
        }
        if st.n >= room {
            return Ok(false);
        }
        st.data[st.used..st.used + data.len()].copy_from_slice(data);
        st.ranges[st.n] = Staged {
            off,
            at: st.used,
            len: data.len(),
        };
        st.used += data.len();
        st.n += 1;
        st.blocks |= block_bits(off, off + data.len() as u64);
        Ok(true)
    }

    /// Number of staged changes.
    pub fn staged_count(&self) -> usize {
        self.medium.stage_area().n
    }

    /// Staged change `i` (oldest first) as `(offset, length)`.
    pub fn staged_range(&self, i: usize) -> (u64, usize) {
        let r = self.medium.stage_area().ranges[i];
        (r.off, r.len)
    }

    /// What staged change `i` leaves in place once the stage is applied:
    /// its own bytes, unless a later change overlaps them (`None`: then
    /// only a [`Pm::read`] tells).
    pub fn staged_bytes(&self, i: usize) -> Option<&[u8]> {
        let st = self.medium.stage_area();
        let r = st.ranges[i];
        let end = r.off + r.len as u64;
        let overlapped = st.ranges[i + 1..st.n]
            .iter()
            .any(|l| l.off < end && r.off < l.off + l.len as u64);
        (!overlapped).then(|| &st.data[r.at..r.at + r.len])
    }

    /// Store and write back every staged change, oldest first, and empty
    /// the stage. `_logged` proves their undo entries are durable.
    pub fn apply_stage(&mut self, _logged: Fenced) -> Flushed {
        debug_assert!(self.in_place || self.staged_count() == 0);
        let mut piece = [0u8; 256];
        for i in 0..self.staged_count() {
            let (off, len) = self.staged_range(i);
            let at = self.medium.stage_area().ranges[i].at;
            let mut done = 0;
            while done < len {
                let n = (len - done).min(piece.len());
                piece[..n]
                    .copy_from_slice(&self.medium.stage_area().data[at + done..at + done + n]);
                self.medium.store(off + done as u64, &piece[..n]);
                done += n;
            }
            self.medium.flush(off, len as u64);
            self.medium.verified().touch(off, len as u64);
        }
        self.clear_stage();
        Flushed::none()
    }

    /// Metadata is about to be stored in place: from now on until
    /// [`Pm::end_in_place`] the medium holds no committed state (see
    /// [`Medium::in_place_begin`]). Once per transaction, however many
    /// drains it has; called before the fence that precedes the first
    /// in-place store, which orders it before that store for free.
    pub fn begin_in_place(&mut self) {
        if !self.in_place {
            self.in_place = true;
            self.medium.in_place_begin();
        }
    }

    /// The in-place stores of a transaction are durable and complete: it
    /// committed, or it rolled back.
    pub fn end_in_place(&mut self) {
        if core::mem::take(&mut self.in_place) {
            self.medium.in_place_end();
        }
    }

    /// Forget every staged change (a transaction rolled back).
    pub fn discard_stage(&mut self) {
        for i in 0..self.staged_count() {
            let (off, len) = self.staged_range(i);
            self.medium.verified().touch(off, len as u64);
        }
        self.clear_stage();
    }

    fn clear_stage(&mut self) {
        let st = self.medium.stage_area_mut();
        st.n = 0;
        st.used = 0;
        st.blocks = 0;
    }

    /// Make everything flushed so far durable.
    pub fn fence(&mut self, _f: Flushed) -> Fenced {
        self.medium.fence();
        Fenced { _private: () }
    }
}

#[cfg(test)]
mod tests {
    use super::{block_bits, Flushed, Pm};
    use crate::mem::MemMedium;
    use alloc::vec;

    #[test]
    fn a_stage_applied_or_discarded_voids_the_stamps_of_its_blocks() {
        // A stamp taken between a transaction's seal and its commit or
        // rollback describes the bytes in place, which then change.
        let mut pm = Pm::new(MemMedium::new(vec![0; 8 * 4096]));
        for apply in [false, true] {
            assert!(pm.stage(3 * 4096 + 40, b"entry").unwrap());
            pm.verified().insert(3);
            pm.verified().insert(5);
            let (three, five) = (pm.verified().stamp(3), pm.verified().stamp(5));
            match apply {
                true => {
                    pm.begin_in_place();
                    let fenced = pm.fence(Flushed::none());
                    let applied = pm.apply_stage(fenced);
                    pm.fence(applied);
                    pm.end_in_place();
                }
                false => pm.discard_stage(),
            }
            assert!(pm.verified().contains(3) && !pm.verified().still(three.unwrap()));
            assert!(pm.verified().still(five.unwrap()), "block 5 was not staged");
        }
    }

    #[test]
    fn block_bits_cover_every_block_of_a_range() {
        assert_eq!(block_bits(0, 1), 1);
        assert_eq!(block_bits(4095, 4097), 0b11);
        // Block 63 and 64: bits 63 and 0.
        assert_eq!(block_bits(63 * 4096 + 8, 64 * 4096 + 8), 1 << 63 | 1);
        assert_eq!(block_bits(4096 * 100, 4096 * 100 + 1), 1 << 36);
        assert_eq!(block_bits(0, 64 * 4096 + 1), !0);
    }
}
