// SPDX-License-Identifier: GPL-2.0
//! The undo journal: what makes every metadata operation atomic.
//!
//! A transaction logs the *old* contents of each metadata range before it
//! changes it in place. Recovery (after a crash) and abort (after an error)
//! are the same code: put the logged old contents back, newest first.
//!
//! In-place changes are staged in [`Pm`] (reads see them, the medium does
//! not) and logged and stored in batches, so a transaction costs two
//! fences however many ranges it changes. The journal has two halves;
//! transaction `S` logs into half `S & 1`, so the entries of the last
//! committed transaction survive while the next one logs. Ordering, per
//! transaction:
//!
//! 1. `begin`: store header word `S << 1 | 1` and flush it.
//! 2. `write`: stage the new bytes. When the stage is full, *drain* it:
//!    store undo entries (seq `S`, offset, old bytes, crc) for every
//!    staged range, flush, **fence**; only then store the staged bytes in
//!    place and flush.
//! 3. `seal`: store the undo entries of what is still staged and a
//!    *commit record*: the number of entries and a SipHash of the new
//!    contents of every logged range, in log order.
//! 4. `commit`: **fence** (entries, commit record and header durable);
//!    store the staged bytes in place, flush, **fence**: the operation is
//!    durable.
//!
//! Recovery finds the header's transaction committed when its commit
//! record is valid and the logged ranges hold exactly the contents it
//! describes (every in-place store landed); otherwise it undoes the
//! entries. Why it is safe: an in-place store is never durable before the
//! undo entry that can revert it (the fence before it); the header of `S`
//! is durable before any in-place store of `S`, so until then recovery
//! looks at `S - 1`, whose ranges no later store has touched: the only
//! stores before that fence are `S`'s log (the other half) and zeroing of
//! newly allocated blocks, and after a transaction that freed blocks the
//! next one fences its header before its first zeroing store
//! ([`Journal::before_unlogged`]), so a block freed by `S - 1` is never
//! rewritten while `S - 1` is what recovery would check. Entries of older
//! transactions carry an older `S` and are never applied; a torn entry
//! fails its checksum, and its in-place store cannot have happened yet.
//! The full argument is in
//! `Documentation/filesystems/ferrodax/crash-consistency.rst`.
//!
//! Entries are one 64-byte cache line each, so the cost of a change is
//! proportional to the bytes it touches, never a whole block.

use super::crc32c::crc32c_skip;
use super::error::{Error, Result};
use super::layout::{le::*, Geometry, BLOCK_SIZE, JOURNAL_BLOCKS, SB_SIZE};
use super::medium::Medium;
use super::persist::{Fenced, Flushed, Pm, STAGE_BYTES};
use super::siphash::SipHasher;

/// Size of one undo entry.
pub const ENTRY_SIZE: u64 = 64;
/// Old bytes one entry can hold.
pub const ENTRY_DATA: usize = 40;
/// Offset of the header inside the journal.
const HEADER_MAGIC_OFF: u64 = 8;
/// Constant written by mkfs next to the header word.
pub const JOURNAL_MAGIC: u64 = u64::from_le_bytes(*b"FDXJRNL1");
/// Entries of one half of the journal (after the 64-byte header).
const HALF: u32 = ((JOURNAL_BLOCKS * BLOCK_SIZE - ENTRY_SIZE) / ENTRY_SIZE / 2) as u32;
/// Undo entries one transaction can log (its half, less the commit record).
pub const CAPACITY: u32 = HALF - 1;
/// `len` of a commit record (undo entries hold at most [`ENTRY_DATA`]).
const COMMIT: u16 = u16::MAX;

const E_SEQ: usize = 0;
const E_OFF: usize = 8;
const E_LEN: usize = 16;
const E_CRC: usize = 20;
const E_DATA: usize = 24;

/// Volatile state of the journal.
#[derive(Debug)]
pub struct Journal {
    base: u64,
    seq: u64,
    next: u32,
    active: bool,
    /// Flushed but unfenced stores of the running transaction.
    pending: Option<Flushed>,
    /// The running transaction freed blocks.
    freeing: bool,
    /// The last committed transaction freed blocks, and the running one
    /// has not fenced its header yet (see [`Journal::before_unlogged`]).
    freed_last: bool,
    /// The header on media names a committed transaction (see
    /// [`Journal::mark_clean`]).
    header_open: bool,
    /// Blocks the running transaction freed, checked by
    /// [`Journal::before_unlogged`] in debug builds.
    #[cfg(debug_assertions)]
    freed: FreedRuns,
}

/// Runs of blocks one transaction freed (debug builds). None may be
/// allocated again before the transaction commits: its zeroing is not
/// logged, so a rollback would hand the block back to its owner full of
/// zeroes. No operation does it (each frees after it allocates, or runs
/// its frees as transactions of their own); this catches one that starts.
/// Eight runs: an operation that frees and then allocates frees few, and
/// `Fs` travels by value through mount (a larger table grew its stack
/// frames by kilobytes in the debug kernel).
#[cfg(debug_assertions)]
#[derive(Debug, Default)]
struct FreedRuns {
    runs: [(u64, u64); 8],
    n: usize,
    /// More runs than `runs` holds were freed: the check is incomplete.
    overflowed: bool,
}

#[cfg(debug_assertions)]
impl FreedRuns {
    fn note(&mut self, start: u64, len: u64) {
        match self.runs.get_mut(self.n) {
            Some(r) => {
                *r = (start, len);
                self.n += 1;
            }
            None => self.overflowed = true,
        }
    }

    fn overlaps(&self, start: u64, len: u64) -> bool {
        let end = start + len;
        self.runs[..self.n]
            .iter()
            .any(|&(s, l)| s < end && start < s + l)
    }
}

/// A valid entry of the transaction being looked at.
enum Logged {
    /// Old contents `e[E_DATA..]` of `e[E_LEN]` bytes at `off`.
    Undo(u64, [u8; ENTRY_SIZE as usize]),
    /// The commit record: entries before it, hash of their new contents.
    Commit { count: u32, hash: u64 },
}

impl Journal {
    /// Byte offset of the journal for a geometry.
    pub fn base_of(geo: &Geometry) -> u64 {
        Geometry::block_off(geo.journal_start)
    }

    /// Entry `i` of the current transaction's half.
    fn entry_off(&self, i: u32) -> u64 {
        let half = u64::from(HALF) * (self.seq & 1);
        self.base + ENTRY_SIZE * (1 + half + u64::from(i))
    }

    fn idle(base: u64, seq: u64) -> Journal {
        Journal {
            base,
            seq,
            next: 0,
            active: false,
            pending: None,
            freeing: false,
            freed_last: false,
            header_open: false,
            #[cfg(debug_assertions)]
            freed: FreedRuns::default(),
        }
    }

    /// The journal of a read-only view (`Fs::reader`), which never runs a
    /// transaction: transactions are refused before they reach it.
    pub fn unused(geo: &Geometry) -> Journal {
        Self::idle(Self::base_of(geo), 0)
    }

    /// Read the journal header, roll back an interrupted transaction if
    /// there is one, and return the journal ready for new transactions.
    pub fn recover<M: Medium>(pm: &mut Pm<M>, geo: &Geometry) -> Result<(Journal, bool)> {
        let base = Self::base_of(geo);
        if pm.read_u64(base + HEADER_MAGIC_OFF)? != JOURNAL_MAGIC {
            return Err(Error::Corrupt("journal header magic"));
        }
        let word = pm.read_u64(base)?;
        let mut j = Self::idle(base, word >> 1);
        let rolled_back = word & 1 != 0 && !j.committed(pm, geo)?;
        if rolled_back {
            j.active = true;
            j.undo(pm, geo)?;
        }
        // Entries can carry at most the durable sequence number plus one (a
        // transaction whose header store was lost). Moving past it makes
        // every such stale entry unmatchable by later transactions.
        j.seq = j
            .seq
            .checked_add(1)
            .ok_or(Error::Corrupt("journal sequence"))?;
        let f = pm.persist(base, &(j.seq << 1).to_le_bytes())?;
        pm.fence(f);
        Ok((j, rolled_back))
    }

    /// Whether a transaction is running.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Start a transaction.
    pub fn begin<M: Medium>(&mut self, pm: &mut Pm<M>) -> Result<()> {
        debug_assert!(!self.active, "nested transaction");
        self.seq = self
            .seq
            .checked_add(1)
            .ok_or(Error::Corrupt("journal sequence"))?;
        self.next = 0;
        self.active = true;
        #[cfg(debug_assertions)]
        {
            self.freed = FreedRuns::default();
        }
        let f = pm.persist(self.base, &(self.seq << 1 | 1).to_le_bytes())?;
        self.pending = Some(f);
        Ok(())
    }

    /// Whether the running transaction stored changes in place already
    /// (its stage filled up and was drained).
    pub fn drained(&self) -> bool {
        self.next > 0
    }

    /// Number of entries `len` bytes of old data need.
    pub fn entries_for(len: usize) -> u32 {
        len.div_ceil(ENTRY_DATA) as u32
    }

    /// Change `off..off + data.len()` in the running transaction: staged
    /// now, logged and stored in place by the next drain.
    pub fn write<M: Medium>(&mut self, pm: &mut Pm<M>, off: u64, data: &[u8]) -> Result<()> {
        debug_assert!(self.active);
        for (i, part) in data.chunks(STAGE_BYTES).enumerate() {
            let at = off + (i * STAGE_BYTES) as u64;
            if !pm.stage(at, part)? {
                self.drain(pm)?;
                if !pm.stage(at, part)? {
                    return Err(Error::Invalid);
                }
            }
        }
        Ok(())
    }

    /// Store undo entries for every staged range (flushed, not fenced).
    fn log_stage<M: Medium>(&mut self, pm: &mut Pm<M>) -> Result<Flushed> {
        let mut flushed = self.pending.take().unwrap_or_else(Flushed::none);
        for i in 0..pm.staged_count() {
            let (off, len) = pm.staged_range(i);
            flushed = flushed.join(self.log(pm, off, len)?);
        }
        Ok(flushed)
    }

    /// Log the old contents of every staged range, make the log durable,
    /// then store the staged bytes in place.
    fn drain<M: Medium>(&mut self, pm: &mut Pm<M>) -> Result<()> {
        debug_assert!(self.active);
        if pm.staged_count() == 0 {
            return Ok(());
        }
        let flushed = self.log_stage(pm)?;
        pm.begin_in_place();
        let logged = pm.fence(flushed);
        self.pending = Some(pm.apply_stage(logged));
        self.freed_last = false; // the header is durable now
        Ok(())
    }

    /// Store undo entries holding the in-place contents of `off..off + len`.
    fn log<M: Medium>(&mut self, pm: &mut Pm<M>, off: u64, len: usize) -> Result<Flushed> {
        if self.next + Self::entries_for(len) > CAPACITY {
            return Err(Error::NoSpace);
        }
        let mut flushed = Flushed::none();
        let mut done = 0;
        while done < len {
            let n = (len - done).min(ENTRY_DATA);
            let mut e = [0u8; ENTRY_SIZE as usize];
            put_u64(&mut e, E_SEQ, self.seq);
            put_u64(&mut e, E_OFF, off + done as u64);
            put_u16(&mut e, E_LEN, n as u16);
            pm.read_in_place(off + done as u64, &mut e[E_DATA..E_DATA + n])?;
            flushed = flushed.join(self.put_entry(pm, e)?);
            done += n;
        }
        Ok(flushed)
    }

    /// Seal entry `e` with its checksum and store it at the next index.
    fn put_entry<M: Medium>(
        &mut self,
        pm: &mut Pm<M>,
        mut e: [u8; ENTRY_SIZE as usize],
    ) -> Result<Flushed> {
        let crc = crc32c_skip(&e, E_CRC);
        put_u32(&mut e, E_CRC, crc);
        let at = self.entry_off(self.next);
        self.next += 1;
        pm.persist(at, &e)
    }

    /// A hasher for the new contents of transaction `self.seq`'s ranges.
    ///
    /// Not a CRC-32C: metadata records end in a CRC-32C of themselves, and
    /// a record in an older, self-consistent version differs from the new
    /// one by a CRC-32C codeword, which a CRC-32C over the concatenated
    /// ranges cannot see (a bitmap line's last word logged right before
    /// the line's checksum let a torn transaction pass for committed).
    /// SipHash is not linear, so no such difference cancels.
    fn contents_hasher(&self) -> SipHasher {
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&self.seq.to_le_bytes());
        key[8..].copy_from_slice(&JOURNAL_MAGIC.to_le_bytes());
        SipHasher::new(&key)
    }

    /// Hash of what the ranges of entries `0..count` hold now (with the
    /// stage: at seal time, the new contents), in log order.
    fn contents_hash<M: Medium>(
        &self,
        pm: &Pm<M>,
        geo: &Geometry,
        count: u32,
    ) -> Result<Option<u64>> {
        let mut hash = self.contents_hasher();
        let mut now = [0u8; ENTRY_DATA];
        for i in 0..count {
            let Some(Logged::Undo(off, e)) = self.entry(pm, geo, i)? else {
                return Ok(None);
            };
            let len = u16_at(&e, E_LEN) as usize;
            pm.read(off, &mut now[..len])?;
            hash.write(&now[..len]);
        }
        Ok(Some(hash.finish()))
    }

    /// Hash of what the staged ranges hold with the stage, in stage
    /// order: [`Journal::contents_hash`] of a transaction whose entries
    /// were all logged from the stage in one go (each range's entries
    /// cover it in order), without reading the entries back.
    fn stage_hash<M: Medium>(&self, pm: &Pm<M>) -> Result<u64> {
        let mut hash = self.contents_hasher();
        let mut now = [0u8; 256];
        for i in 0..pm.staged_count() {
            let (off, len) = pm.staged_range(i);
            for at in (0..len).step_by(now.len()) {
                let n = (len - at).min(now.len());
                pm.read(off + at as u64, &mut now[..n])?;
                hash.write(&now[..n]);
            }
        }
        Ok(hash.finish())
    }

    /// Log what is still staged and the commit record. The last step that
    /// can fail (the undo journal full): nothing is in place yet, so the
    /// caller can still roll back.
    pub fn seal<M: Medium>(&mut self, pm: &mut Pm<M>, geo: &Geometry) -> Result<()> {
        debug_assert!(self.active);
        let drained = self.next > 0;
        let flushed = self.log_stage(pm)?;
        let hash = match drained {
            // Every entry was logged just now, from the stage in its order.
            false => Some(self.stage_hash(pm)?),
            true => self.contents_hash(pm, geo, self.next)?,
        };
        let hash = hash.ok_or(Error::Corrupt("journal entry lost while logging"))?;
        let mut e = [0u8; ENTRY_SIZE as usize];
        put_u64(&mut e, E_SEQ, self.seq);
        put_u64(&mut e, E_OFF, u64::from(self.next));
        put_u16(&mut e, E_LEN, COMMIT);
        put_u64(&mut e, E_DATA, hash);
        let f = self.put_entry(pm, e)?;
        self.pending = Some(flushed.join(f));
        Ok(())
    }

    /// Make the sealed transaction durable: one fence for its log and
    /// commit record, one for its in-place stores.
    pub fn commit<M: Medium>(&mut self, pm: &mut Pm<M>) -> Result<()> {
        let pending = self.pending.take().unwrap_or_else(Flushed::none);
        if pm.staged_count() > 0 {
            pm.begin_in_place();
        }
        let logged = pm.fence(pending);
        let stored = pm.apply_stage(logged);
        pm.fence(stored);
        pm.end_in_place();
        self.active = false;
        self.next = 0;
        self.freed_last = core::mem::take(&mut self.freeing);
        self.header_open = true;
        Ok(())
    }

    /// Clean unmount: clear the active bit a committed transaction leaves
    /// on media, so that damage to its ranges found later is reported as
    /// damage instead of making recovery roll the transaction back.
    pub fn mark_clean<M: Medium>(&mut self, pm: &mut Pm<M>) -> Result<()> {
        debug_assert!(!self.active);
        if core::mem::take(&mut self.header_open) {
            let f = pm.persist(self.base, &(self.seq << 1).to_le_bytes())?;
            pm.fence(f);
        }
        Ok(())
    }

    /// Note that the running transaction frees blocks `start..start + len`.
    #[cfg_attr(not(debug_assertions), allow(unused_variables))]
    pub fn note_free(&mut self, start: u64, len: u64) {
        self.freeing = true;
        #[cfg(debug_assertions)]
        self.freed.note(start, len);
    }

    /// Call before a store that is not logged: zeroing blocks
    /// `start..start + len`, newly allocated. When the last transaction
    /// freed blocks, recovery would still check that transaction's commit
    /// against its ranges until this one's header is durable, and such a
    /// store could be rewriting a block it freed: fence the header first.
    /// (A block this transaction freed must not be allocated again before
    /// it commits: see `FreedRuns`, which debug builds check.)
    #[cfg_attr(not(debug_assertions), allow(unused_variables))]
    pub fn before_unlogged<M: Medium>(&mut self, pm: &mut Pm<M>, start: u64, len: u64) {
        #[cfg(debug_assertions)]
        assert!(
            self.freed.overflowed || !self.freed.overlaps(start, len),
            "blocks {start}+{len} allocated in the transaction that freed them"
        );
        if core::mem::take(&mut self.freed_last) {
            let pending = self.pending.take().unwrap_or_else(Flushed::none);
            let _header_durable: Fenced = pm.fence(pending);
        }
    }

    /// Clear the active bit. Needs proof that the restored old contents
    /// are durable.
    fn close<M: Medium>(&mut self, pm: &mut Pm<M>, _durable: Fenced) -> Result<()> {
        let f = pm.persist(self.base, &(self.seq << 1).to_le_bytes())?;
        pm.fence(f);
        self.active = false;
        self.next = 0;
        self.freeing = false;
        self.freed_last = false;
        self.header_open = false;
        Ok(())
    }

    /// Roll the running transaction back (error path).
    pub fn abort<M: Medium>(&mut self, pm: &mut Pm<M>, geo: &Geometry) -> Result<()> {
        self.undo(pm, geo)
    }

    /// Validate entry `i` of the transaction `self.seq`; `None` ends its log.
    fn entry<M: Medium>(&self, pm: &Pm<M>, geo: &Geometry, i: u32) -> Result<Option<Logged>> {
        if i >= HALF {
            return Ok(None);
        }
        let mut e = [0u8; ENTRY_SIZE as usize];
        pm.read(self.entry_off(i), &mut e)?;
        let len = u16_at(&e, E_LEN);
        if u64_at(&e, E_SEQ) != self.seq || u32_at(&e, E_CRC) != crc32c_skip(&e, E_CRC) {
            return Ok(None);
        }
        if len == COMMIT {
            let count = u64_at(&e, E_OFF);
            return Ok(u32::try_from(count).ok().map(|count| Logged::Commit {
                count,
                hash: u64_at(&e, E_DATA),
            }));
        }
        if len == 0 || usize::from(len) > ENTRY_DATA {
            return Ok(None);
        }
        let off = u64_at(&e, E_OFF);
        let len = u64::from(len);
        let jend = self.base + JOURNAL_BLOCKS * BLOCK_SIZE;
        let dev_end = Geometry::block_off(geo.total_blocks);
        let inside_journal = off < jend && off + len > self.base;
        // No transaction changes the static superblock or its backup: an
        // entry aimed there is damage, and replaying it would make the
        // next mount refuse the filesystem.
        let backup = Geometry::block_off(geo.backup_sb_block());
        let on_superblock = off < SB_SIZE as u64 || off.saturating_add(len) > backup;
        if off.checked_add(len).is_none_or(|end| end > dev_end) || inside_journal || on_superblock {
            return Err(Error::Corrupt("journal entry target"));
        }
        Ok(Some(Logged::Undo(off, e)))
    }

    /// Undo entries of transaction `self.seq` before the first that is not
    /// one (its commit record, or the end of what was logged).
    fn undo_count<M: Medium>(&self, pm: &Pm<M>, geo: &Geometry) -> Result<u32> {
        let mut n = 0;
        while matches!(self.entry(pm, geo, n)?, Some(Logged::Undo(..))) {
            n += 1;
        }
        Ok(n)
    }

    /// Whether transaction `self.seq` committed: its commit record is
    /// valid, follows all its entries, and every logged range holds the
    /// contents the record describes.
    fn committed<M: Medium>(&self, pm: &Pm<M>, geo: &Geometry) -> Result<bool> {
        let n = self.undo_count(pm, geo)?;
        let Some(Logged::Commit { count, hash }) = self.entry(pm, geo, n)? else {
            return Ok(false);
        };
        Ok(count == n && self.contents_hash(pm, geo, n)? == Some(hash))
    }

    fn undo<M: Medium>(&mut self, pm: &mut Pm<M>, geo: &Geometry) -> Result<()> {
        let n = self.undo_count(pm, geo)?;
        // Whatever was staged or flushed for the aborted transaction no
        // longer matters: the restores below are fenced before the header
        // is cleared.
        pm.discard_stage();
        let _ = self.pending.take();
        let mut flushed = Flushed::none();
        if n > 0 {
            pm.begin_in_place();
            // Orders the window's start before the restores (the fences
            // of drain and commit do that on the way to their stores).
            let _ordered: Fenced = pm.fence(Flushed::none());
        }
        for i in (0..n).rev() {
            if let Some(Logged::Undo(off, e)) = self.entry(pm, geo, i)? {
                let len = u16_at(&e, E_LEN) as usize;
                flushed = flushed.join(pm.persist(off, &e[E_DATA..E_DATA + len])?);
            }
        }
        let durable = pm.fence(flushed);
        let closed = self.close(pm, durable);
        pm.end_in_place();
        closed
    }

    /// mkfs: write an idle journal.
    pub fn format<M: Medium>(pm: &mut Pm<M>, geo: &Geometry) -> Result<Flushed> {
        let base = Self::base_of(geo);
        let z = pm.store_zeroes(base, JOURNAL_BLOCKS * BLOCK_SIZE)?;
        let f = pm.flush(z);
        let h = pm.persist(base + HEADER_MAGIC_OFF, &JOURNAL_MAGIC.to_le_bytes())?;
        Ok(f.join(h))
    }
}

impl Journal {
    /// Read-only view for `no_recovery` mounts: fails if the header's
    /// transaction did not commit, since the image is then not consistent
    /// (an undo journal leaves a half-done transaction in place).
    pub fn inspect<M: Medium>(pm: &Pm<M>, geo: &Geometry) -> Result<Journal> {
        let base = Self::base_of(geo);
        if pm.read_u64(base + HEADER_MAGIC_OFF)? != JOURNAL_MAGIC {
            return Err(Error::Corrupt("journal header magic"));
        }
        let word = pm.read_u64(base)?;
        let j = Self::idle(base, word >> 1);
        if word & 1 != 0 && !j.committed(pm, geo)? {
            return Err(Error::NeedsRecovery);
        }
        Ok(j)
    }

    /// Add stores that are not logged (zeroing of newly allocated blocks) to
    /// what the commit fences: they must be durable before the transaction
    /// that makes them reachable is.
    pub fn add_flushed(&mut self, f: Flushed) {
        let pending = self.pending.take().unwrap_or_else(Flushed::none);
        self.pending = Some(pending.join(f));
    }
}

#[cfg(test)]
mod tests {
    //! Transactions larger than the stage: real operations stay far below
    //! it, so the drain-when-full path is exercised here directly.
    extern crate std;
    use super::super::error::Error;
    use super::super::fs::MountOptions;
    use super::super::inode::Time;
    use super::super::layout::{Geometry, BLOCK_SIZE};
    use super::super::mkfs::{format, MkfsParams};
    use super::super::persist::{Pm, STAGE_BYTES, STAGE_RANGES};
    use super::super::{Fs, Result};
    // Host-only tests may name the host crate (see `lib.rs`).
    use crate::mem::MemMedium as Mem;
    use std::vec;
    use std::vec::Vec;

    fn fs() -> (Fs<Mem>, u64) {
        let mut pm = Pm::new(Mem::new(vec![0; 1024 * BLOCK_SIZE as usize]));
        let params = MkfsParams {
            uuid: [7; 16],
            label: [0; 32],
            now: Time { sec: 1, nsec: 0 },
            hash_seed: [3; 16],
        };
        let sb = format(&mut pm, &params).unwrap();
        let base = Geometry::block_off(sb.geo.data_start + 16);
        let fs = Fs::mount(pm.into_medium(), MountOptions::default())
            .unwrap()
            .0;
        (fs, base)
    }

    /// More ranges than the stage holds, then more bytes than it holds.
    fn big_transaction(fs: &mut Fs<Mem>, base: u64, value: u8) -> Result<()> {
        for i in 0..3 * STAGE_RANGES as u64 {
            fs.tx_write(base + 64 * i, &[value; 8])?;
        }
        let wide = vec![value; 3 * STAGE_BYTES];
        fs.tx_write(base + 64 * 1024, &wide)?;
        // Reads inside the transaction see every change, drained or not.
        let mut b = vec![0u8; 8];
        for i in 0..3 * STAGE_RANGES as u64 {
            fs.pm.read(base + 64 * i, &mut b)?;
            assert_eq!(b, [value; 8]);
        }
        let mut w = vec![0u8; wide.len()];
        fs.pm.read(base + 64 * 1024, &mut w)?;
        assert_eq!(w, wide);
        Ok(())
    }

    fn on_media(fs: &Fs<Mem>, base: u64) -> (Vec<u8>, Vec<u8>) {
        let m = &fs.pm.medium().0;
        let words = (0..3 * STAGE_RANGES)
            .flat_map(|i| m[base as usize + 64 * i..][..8].to_vec())
            .collect();
        let wide = m[base as usize + 64 * 1024..][..3 * STAGE_BYTES].to_vec();
        (words, wide)
    }

    #[test]
    fn a_transaction_larger_than_the_stage_commits_whole() {
        let (mut fs, base) = fs();
        fs.transact(|fs| big_transaction(fs, base, 0x5a)).unwrap();
        let (words, wide) = on_media(&fs, base);
        assert!(words.iter().chain(&wide).all(|&b| b == 0x5a));
        assert_eq!(fs.pm.staged_count(), 0);
    }

    #[test]
    fn a_full_journal_at_commit_rolls_back_and_the_filesystem_goes_on() {
        let (mut fs, base) = fs();
        // 15 drains of 64 ranges while staging, 64 more staged: the drain
        // at commit is the one that finds the journal (1023 entries) full.
        let n = 16 * STAGE_RANGES as u64;
        let r = fs.transact(|fs| {
            for i in 0..n {
                fs.tx_write(base + 64 * i, &[1; 8])?;
            }
            Ok(())
        });
        assert_eq!(r, Err(Error::NoSpace));
        let m = &fs.pm.medium().0;
        assert!((0..n).all(|i| m[(base + 64 * i) as usize] == 0));
        fs.transact(|fs| fs.tx_write(base, &[2; 8])).unwrap();
        assert_eq!(fs.pm.medium().0[base as usize], 2);
    }

    #[test]
    fn a_transaction_larger_than_the_stage_rolls_back_whole() {
        let (mut fs, base) = fs();
        let r = fs.transact(|fs| {
            big_transaction(fs, base, 0xa5)?;
            Err::<(), _>(Error::NoSpace)
        });
        assert_eq!(r, Err(Error::NoSpace));
        let (words, wide) = on_media(&fs, base);
        assert!(words.iter().chain(&wide).all(|&b| b == 0));
        assert_eq!(fs.pm.staged_count(), 0);
    }

    #[test]
    fn a_change_inside_the_newest_overlapping_range_rewrites_it() {
        let (mut fs, base) = fs();
        fs.transact(|fs| {
            fs.tx_write(base, &[1; 64])?;
            fs.tx_write(base + 8, &[2; 8])?;
            assert_eq!(fs.pm.staged_count(), 1, "inside the newest range");
            fs.tx_write(base + 32, &[3; 64])?;
            fs.tx_write(base + 28, &[4; 8])?;
            assert_eq!(
                fs.pm.staged_count(),
                3,
                "the newest overlapping range ends inside it"
            );
            fs.tx_write(base + 40, &[5; 8])?;
            assert_eq!(fs.pm.staged_count(), 3, "inside the newest overlapping");
            Ok(())
        })
        .unwrap();
        let m = &fs.pm.medium().0[base as usize..][..96];
        let runs: [(u8, usize); 7] = [(1, 8), (2, 8), (1, 12), (4, 8), (3, 4), (5, 8), (3, 48)];
        let want: Vec<u8> = runs.iter().flat_map(|&(v, n)| vec![v; n]).collect();
        assert_eq!(m, &want[..]);
    }
}
