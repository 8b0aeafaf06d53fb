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

use super::crc32c::{crc32c_skip, put_crc};
use super::error::{Error, Result};
use super::journal_area::{Committed, MAX_SEQ};
use super::layout::{
    le::*, Geometry, BLOCK_SIZE, JOURNAL_AREAS, JOURNAL_BLOCKS, JOURNAL_REGION_BLOCKS, SB_CHANGING,
    SB_SIZE,
};
use super::medium::Medium;
use super::persist::{Fenced, Flushed, Pm, STAGE_BYTES};
use super::siphash::SipHasher;

/// Size of one undo entry.
pub const ENTRY_SIZE: u64 = 64;
/// Old bytes one entry can hold.
pub const ENTRY_DATA: usize = 40;
/// Offset of the magic in an area's header.
const HEADER_MAGIC_OFF: u64 = 8;
/// Offset of an area's closed sequence number: its transactions up to
/// this one are not checked by recovery (see `journal_area.rs`).
const HEADER_CLOSED_OFF: u64 = 16;
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

/// Volatile state of the journal: the area this filesystem's
/// transactions use, and what every area's header says.
#[derive(Debug)]
pub struct Journal {
    /// First byte of the journal region.
    region: u64,
    /// The area transactions use, its first byte, and its sequence number.
    area: usize,
    base: u64,
    seq: u64,
    /// Every area's sequence number while another is in use.
    seqs: [u64; JOURNAL_AREAS],
    next: u32,
    active: bool,
    /// Flushed but unfenced stores of the running transaction.
    pending: Option<Flushed>,
    /// The running transaction freed blocks.
    freeing: bool,
    /// The area's last committed transaction freed blocks, and the
    /// running one has not fenced its header yet (see
    /// [`Journal::before_unlogged`]).
    freed_last: bool,
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

/// Other areas' transactions a transaction is closing: `CLOSING` in the
/// table until the fence that makes their closes durable.
#[must_use]
struct Closing {
    taken: [Option<Committed>; JOURNAL_AREAS],
    flushed: Flushed,
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

    /// First byte of area `a` of the journal region at `region`.
    fn area_base(region: u64, a: usize) -> u64 {
        region + JOURNAL_BLOCKS * BLOCK_SIZE * a as u64
    }

    /// Entry `i` of the current transaction's half.
    fn entry_off(&self, i: u32) -> u64 {
        let half = u64::from(HALF) * (self.seq & 1);
        self.base + ENTRY_SIZE * (1 + half + u64::from(i))
    }

    /// The journal on area `a`, idle, every area at sequence number
    /// `seqs[a]` and closed.
    fn idle(geo: &Geometry, a: usize, seqs: [u64; JOURNAL_AREAS]) -> Journal {
        let region = Self::base_of(geo);
        Journal {
            region,
            area: a,
            base: Self::area_base(region, a),
            seq: seqs[a],
            seqs,
            next: 0,
            active: false,
            pending: None,
            freeing: false,
            freed_last: false,
            #[cfg(debug_assertions)]
            freed: FreedRuns::default(),
        }
    }

    /// The journal of a read-only view (`Fs::reader`), which never runs a
    /// transaction: transactions are refused before they reach it.
    pub fn unused(geo: &Geometry) -> Journal {
        Self::idle(geo, 0, [0; JOURNAL_AREAS])
    }

    /// Area `a` as its header is on media, and whether recovery checks
    /// the transaction it names (its active bit is set, and it is later
    /// than the area's closed sequence number).
    fn read_area<M: Medium>(pm: &Pm<M>, geo: &Geometry, a: usize) -> Result<(Journal, bool)> {
        let base = Self::area_base(Self::base_of(geo), a);
        if pm.read_u64(base + HEADER_MAGIC_OFF)? != JOURNAL_MAGIC {
            return Err(Error::Corrupt("journal header magic"));
        }
        let word = pm.read_u64(base)?;
        if word >> 1 >= MAX_SEQ {
            return Err(Error::Corrupt("journal sequence"));
        }
        let closed = pm.read_u64(base + HEADER_CLOSED_OFF)?;
        let mut seqs = [0; JOURNAL_AREAS];
        seqs[a] = word >> 1;
        let checked = word & 1 != 0 && word >> 1 > closed;
        Ok((Self::idle(geo, a, seqs), checked))
    }

    /// Read every area's header, roll back the interrupted transactions
    /// (independently: two transactions that were running at once never
    /// logged the same bytes, and a later one logged bytes of an earlier
    /// one only after closing its area), and return the journal, on area
    /// 0, ready for new transactions.
    pub fn recover<M: Medium>(pm: &mut Pm<M>, geo: &Geometry) -> Result<(Journal, bool)> {
        let mut seqs = [0; JOURNAL_AREAS];
        let mut rolled_back = false;
        let mut flushed = Flushed::none();
        for (a, seq) in seqs.iter_mut().enumerate() {
            let (mut j, checked) = Self::read_area(pm, geo, a)?;
            if checked && !j.committed(pm, geo)? {
                j.active = true;
                j.undo(pm, geo)?;
                rolled_back = true;
            }
            // Entries can carry at most the durable sequence number plus
            // one (a transaction whose header store was lost). Moving past
            // it makes every such stale entry unmatchable by later
            // transactions.
            *seq = Some(j.seq + 1)
                .filter(|&s| s < MAX_SEQ)
                .ok_or(Error::Corrupt("journal sequence"))?;
            flushed = flushed.join(pm.persist(j.base, &(*seq << 1).to_le_bytes())?);
        }
        pm.fence(flushed);
        pm.medium().shared().reset();
        Ok((Self::idle(geo, 0, seqs), rolled_back))
    }

    /// The journal of another filesystem over the same device, on area
    /// `a` (see `Fs::sibling`), idle.
    pub fn sibling(&self, geo: &Geometry, a: usize) -> Journal {
        debug_assert!(!self.active);
        let mut seqs = self.seqs;
        seqs[self.area] = self.seq;
        Self::idle(geo, a % JOURNAL_AREAS, seqs)
    }

    /// Run the next transactions in area `a` (between transactions).
    pub fn set_area(&mut self, a: usize) {
        debug_assert!(!self.active);
        self.seqs[self.area] = self.seq;
        self.area = a % JOURNAL_AREAS;
        self.base = Self::area_base(self.region, self.area);
        self.seq = self.seqs[self.area];
    }

    /// Store a close of every area but `except` whose last committed
    /// transaction is open (with `freed_only`, and freed blocks), until
    /// [`Journal::closed`] says it is durable (see `journal_area.rs`).
    fn close_areas<M: Medium>(
        &mut self,
        pm: &mut Pm<M>,
        except: Option<usize>,
        freed_only: bool,
    ) -> Result<Closing> {
        let mut c = Closing {
            taken: [None; JOURNAL_AREAS],
            flushed: Flushed::none(),
        };
        for a in (0..JOURNAL_AREAS).filter(|&a| Some(a) != except) {
            let Some(last) = pm.medium().shared().areas.start_close(a, freed_only) else {
                continue;
            };
            c.taken[a] = Some(last);
            let at = Self::area_base(self.region, a) + HEADER_CLOSED_OFF;
            match pm.persist(at, &last.seq.to_le_bytes()) {
                Ok(f) => c.flushed = c.flushed.join(f),
                Err(e) => {
                    for (a, last) in c.taken.iter().enumerate() {
                        if let Some(last) = last {
                            pm.medium().shared().areas.not_closed(a, *last);
                        }
                    }
                    return Err(e);
                }
            }
        }
        Ok(c)
    }

    /// The closes `taken` are durable.
    fn closed<M: Medium>(pm: &Pm<M>, taken: [Option<Committed>; JOURNAL_AREAS], _durable: &Fenced) {
        for (a, last) in taken.iter().enumerate() {
            if let Some(last) = last {
                pm.medium().shared().areas.closed_durably(a, *last);
            }
        }
    }

    /// Whether a transaction is running.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Start a transaction.
    pub fn begin<M: Medium>(&mut self, pm: &mut Pm<M>) -> Result<()> {
        debug_assert!(!self.active, "nested transaction");
        self.seq = Some(self.seq + 1)
            .filter(|&s| s < MAX_SEQ)
            .ok_or(Error::Corrupt("journal sequence"))?;
        let last = pm.medium().shared().areas.last(self.area);
        self.freed_last = last.open && last.freed;
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
        let closing = self.close_areas(pm, Some(self.area), false)?;
        pm.begin_in_place();
        let logged = pm.fence(flushed.join(closing.flushed));
        Self::closed(pm, closing.taken, &logged);
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
        put_crc(&mut e, E_CRC);
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
        for i in 0..pm.staged_count() {
            // Most ranges are hashed straight from the stage; one that a
            // later range overlaps is read back as the stage leaves it.
            if let Some(bytes) = pm.staged_bytes(i) {
                hash.write(bytes);
                continue;
            }
            let (off, len) = pm.staged_range(i);
            let mut now = [0u8; 256];
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
        let closing = self.close_areas(pm, Some(self.area), false)?;
        if pm.staged_count() > 0 {
            pm.begin_in_place();
        }
        let logged = pm.fence(pending.join(closing.flushed));
        Self::closed(pm, closing.taken, &logged);
        let stored = pm.apply_stage(logged);
        pm.fence(stored);
        pm.end_in_place();
        self.active = false;
        self.next = 0;
        let committed = Committed {
            seq: self.seq,
            open: true,
            freed: core::mem::take(&mut self.freeing),
        };
        pm.medium().shared().areas.commit(self.area, committed);
        Ok(())
    }

    /// Clean unmount: close every area's committed transaction, so that
    /// damage to their ranges found later is reported as damage instead
    /// of making recovery roll them back.
    pub fn mark_clean<M: Medium>(&mut self, pm: &mut Pm<M>) -> Result<()> {
        debug_assert!(!self.active);
        let closing = self.close_areas(pm, None, false)?;
        let durable = pm.fence(closing.flushed);
        Self::closed(pm, closing.taken, &durable);
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
    /// Other areas whose committed transaction freed blocks are closed
    /// first, in the same fence (see `journal_area.rs`).
    #[cfg_attr(not(debug_assertions), allow(unused_variables))]
    pub fn before_unlogged<M: Medium>(
        &mut self,
        pm: &mut Pm<M>,
        start: u64,
        len: u64,
    ) -> Result<()> {
        #[cfg(debug_assertions)]
        assert!(
            self.freed.overflowed || !self.freed.overlaps(start, len),
            "blocks {start}+{len} allocated in the transaction that freed them"
        );
        let closing = self.close_areas(pm, Some(self.area), true)?;
        let closes = closing.taken.iter().any(Option::is_some);
        if core::mem::take(&mut self.freed_last) || closes {
            let pending = self.pending.take().unwrap_or_else(Flushed::none);
            let header_durable: Fenced = pm.fence(pending.join(closing.flushed));
            Self::closed(pm, closing.taken, &header_durable);
        }
        Ok(())
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
        let jend = self.region + JOURNAL_REGION_BLOCKS * BLOCK_SIZE;
        let dev_end = Geometry::block_off(geo.total_blocks);
        let inside_journal = off < jend && off + len > self.region;
        // No transaction changes the static superblock or its backup but
        // for a new label: an entry aimed anywhere else there is damage,
        // and replaying it would make the next mount refuse the
        // filesystem.
        let backup = Geometry::block_off(geo.backup_sb_block());
        let label_change = [0, backup].iter().any(|&copy| {
            SB_CHANGING.iter().any(|r| {
                off >= copy + r.start as u64 && off.saturating_add(len) <= copy + r.end as u64
            })
        });
        let on_superblock =
            (off < SB_SIZE as u64 || off.saturating_add(len) > backup) && !label_change;
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

    /// mkfs: write every area idle.
    pub fn format<M: Medium>(pm: &mut Pm<M>, geo: &Geometry) -> Result<Flushed> {
        let region = Self::base_of(geo);
        let z = pm.store_zeroes(region, JOURNAL_REGION_BLOCKS * BLOCK_SIZE)?;
        let mut f = pm.flush(z);
        for a in 0..JOURNAL_AREAS {
            let at = Self::area_base(region, a) + HEADER_MAGIC_OFF;
            f = f.join(pm.persist(at, &JOURNAL_MAGIC.to_le_bytes())?);
        }
        Ok(f)
    }
}

impl Journal {
    /// Read-only view for `no_recovery` mounts: fails if the header's
    /// transaction did not commit, since the image is then not consistent
    /// (an undo journal leaves a half-done transaction in place).
    pub fn inspect<M: Medium>(pm: &Pm<M>, geo: &Geometry) -> Result<Journal> {
        let mut seqs = [0; JOURNAL_AREAS];
        for (a, seq) in seqs.iter_mut().enumerate() {
            let (j, checked) = Self::read_area(pm, geo, a)?;
            if checked && !j.committed(pm, geo)? {
                return Err(Error::NeedsRecovery);
            }
            *seq = j.seq;
        }
        Ok(Self::idle(geo, 0, seqs))
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

    /// Whether recovery would check area `area`'s transaction.
    fn checked(m: Mem, geo: &Geometry, area: usize) -> bool {
        super::Journal::read_area(&Pm::new(m), geo, area).unwrap().1
    }

    #[test]
    fn a_later_change_from_another_area_survives_the_first_ones_check() {
        let (mut fs, base) = fs();
        fs.transact(|fs| fs.tx_write(base, &[1; 8])).unwrap();
        assert!(checked(fs.pm.medium().clone(), &fs.geo, 0));
        fs.set_journal_area(1);
        fs.transact(|fs| fs.tx_write(base, &[2; 8])).unwrap();
        // Area 0's check would now fail (its range holds 2s): it was
        // closed before area 1 stored in place.
        assert!(!checked(fs.pm.medium().clone(), &fs.geo, 0));
        assert!(checked(fs.pm.medium().clone(), &fs.geo, 1));
        // Power cut: no unmount.
        let (fs, report) = Fs::mount(fs.pm.into_medium(), MountOptions::default()).unwrap();
        assert!(!report.rolled_back);
        assert_eq!(fs.pm.medium().0[base as usize..][..8], [2; 8]);
    }

    #[test]
    fn an_interrupted_transaction_rolls_back_alone_beside_a_committed_one() {
        let (mut fs, base) = fs();
        fs.set_journal_area(3);
        fs.transact(|fs| fs.tx_write(base, &[1; 8])).unwrap();
        fs.set_journal_area(2);
        let mut cut = None;
        let r = fs.transact(|fs| {
            big_transaction(fs, base + 64, 9)?;
            // Power cut here: the stage drained in place, uncommitted.
            cut = Some(fs.pm.medium().clone());
            Err::<(), _>(Error::NoSpace)
        });
        assert_eq!(r, Err(Error::NoSpace));
        let m = cut.unwrap();
        // The drain closed area 3 before its in-place stores.
        assert!(!checked(m.clone(), &fs.geo, 3) && checked(m.clone(), &fs.geo, 2));
        let (fs, report) = Fs::mount(m, MountOptions::default()).unwrap();
        assert!(report.rolled_back);
        let (words, wide) = on_media(&fs, base + 64);
        assert!(words.iter().chain(&wide).all(|&b| b == 0));
        assert_eq!(fs.pm.medium().0[base as usize..][..8], [1; 8]);
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
