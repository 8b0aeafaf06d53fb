// SPDX-License-Identifier: GPL-2.0
//! What a walk of a directory entry block learnt, kept in memory under the
//! block's verified state ([`Stamp`]), so that a lookup usually reads one
//! record of the block, or none, instead of walking it.
//!
//! A [`Summary`] is a filter of the hashes of the block's names (one bit
//! of 1,024 per name: a clear bit says no name of that hash is there),
//! its entry count and the record with the most slack a walk saw. The
//! table keeps with it where each live record is: its offset and the low
//! 20 bits of its hash, in block order, so that a lookup of a name the
//! block holds reads that record (and learns the record before it, which
//! a removal needs) and one of a name it does not hold reads none.
//!
//! A full walk of a block fills its slot under the stamp it read the
//! block at ([`Summaries::fill`]). A change that adds or removes one
//! record derives the next summary ([`SummaryChange`]) and the
//! transaction applies it after its commit (`Fs::transact`), and only if
//! nothing changed the block after it: its seal and its commit each move
//! the block's epoch on, and between the two a lock-free reader reads the
//! old bytes. Anything else that changes the block leaves its summary
//! under a stamp that no longer holds.
//!
//! Each slot is a small seqlock: a writer that finds it being written
//! leaves it; a reader that finds it being written, or changed while it
//! read, has no summary and walks.

use super::dir::MAX_RECORDS;
use super::verified::Stamp;
use core::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

/// Words of the hash filter.
const FILTER_WORDS: usize = 16;
/// Bits of the hash filter.
const FILTER_BITS: u32 = 64 * FILTER_WORDS as u32;
/// Slots of the table (direct-mapped by block number): about 1.4 KiB
/// each.
const SUMMARY_SLOTS: usize = 256;
/// Bits of a record's offset in its place word (offsets are below 4 KiB).
const OFF_BITS: u32 = 12;
/// Most records of one 20-bit hash a lookup takes from the table; a block
/// with more (names chosen to collide) is walked.
const CANDIDATES: usize = 4;

/// What a walk of an entry block found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Bit `hash % FILTER_BITS` of every live record's hash (a removed
    /// record's bit stays: the filter only ever says "maybe" too often).
    filter: [u64; FILTER_WORDS],
    /// Live records.
    pub count: u16,
    /// A record with `slack` bytes to spare (none when `slack` is 0).
    pub host: u16,
    /// Its slack.
    pub slack: u16,
}

impl Summary {
    /// Nothing seen yet.
    pub const EMPTY: Summary = Summary {
        filter: [0; FILTER_WORDS],
        count: 0,
        host: 0,
        slack: 0,
    };

    fn bit(hash: u32) -> (usize, u64) {
        let b = hash % FILTER_BITS;
        ((b / 64) as usize, 1 << (b % 64))
    }

    /// A live record of `hash` is in the block.
    pub fn add(&mut self, hash: u32) {
        let (w, m) = Summary::bit(hash);
        self.filter[w] |= m;
        self.count += 1;
    }

    /// Whether a record of `hash` may be in the block.
    pub fn may_hold(&self, hash: u32) -> bool {
        let (w, m) = Summary::bit(hash);
        self.filter[w] & m != 0
    }

    /// The record at `off` has `slack` bytes to spare: keep it if it has
    /// more than the one kept.
    pub fn offer(&mut self, off: u64, slack: u64) {
        if slack > u64::from(self.slack) {
            // Offsets and slack are within a 4 KiB block.
            (self.host, self.slack) = (off as u16, slack as u16);
        }
    }
}

/// The one record a change added to or removed from a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordChange {
    /// A live record was added.
    Added {
        /// Its offset in the block.
        off: u64,
        /// Its name's hash.
        hash: u32,
    },
    /// A live record was removed.
    Removed {
        /// Its offset in the block.
        off: u64,
    },
}

/// A transaction's change to one entry block, as its summary sees it:
/// the summary kept under `from` becomes `next`, its records changed by
/// `record`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryChange {
    /// The block's state the change started from.
    pub from: Stamp,
    /// The summary after it.
    pub next: Summary,
    /// What it did to the records.
    pub record: RecordChange,
}

/// Records of one 20-bit hash a summary places: each one's offset, and
/// the offset of the live record before it (0 for the block's first live
/// record).
#[derive(Debug, Clone, Copy, Default)]
pub struct Candidates {
    at: [(u64, u64); CANDIDATES],
    n: usize,
}

impl Candidates {
    /// `(offset, offset of the live record before it or 0)`, in block
    /// order.
    pub fn list(&self) -> &[(u64, u64)] {
        &self.at[..self.n]
    }
}

fn place(off: u64, hash: u32) -> u32 {
    hash << OFF_BITS | off as u32
}

fn place_off(p: u32) -> u64 {
    u64::from(p & ((1 << OFF_BITS) - 1))
}

/// Whether place `p` is of a record whose hash has the low bits of `hash`
/// that places keep.
fn same_hash(p: u32, hash: u32) -> bool {
    p >> OFF_BITS == hash & (u32::MAX >> OFF_BITS)
}

struct Slot {
    /// Even: stable; odd: being written.
    seq: AtomicU64,
    /// The stamp the summary holds under (value 0: none).
    key: [AtomicU64; 2],
    filter: [AtomicU64; FILTER_WORDS],
    /// Count, host and slack, 16 bits each.
    meta: AtomicU64,
    /// The live records' places (`place()`), in block order; `count` of
    /// them.
    places: [AtomicU32; MAX_RECORDS],
}

impl Slot {
    fn holds(&self, stamp: Stamp) -> bool {
        let (value, blk) = stamp.to_words();
        self.key[0].load(Ordering::Relaxed) == value && self.key[1].load(Ordering::Relaxed) == blk
    }

    fn set_key(&self, stamp: Option<Stamp>) {
        let (value, blk) = stamp.map_or((0, 0), Stamp::to_words);
        self.key[0].store(value, Ordering::Relaxed);
        self.key[1].store(blk, Ordering::Relaxed);
    }

    fn store(&self, s: &Summary) {
        for (w, v) in self.filter.iter().zip(s.filter) {
            w.store(v, Ordering::Relaxed);
        }
        let meta = u64::from(s.count) | u64::from(s.host) << 16 | u64::from(s.slack) << 32;
        self.meta.store(meta, Ordering::Relaxed);
    }

    fn count(&self) -> usize {
        usize::from(self.meta.load(Ordering::Relaxed) as u16)
    }

    /// Claim the slot for writing: its sequence count, or `None` if
    /// another writer has it.
    fn claim(&self) -> Option<u64> {
        let seq = self.seq.load(Ordering::Relaxed);
        let claimed = seq & 1 == 0
            && self
                .seq
                .compare_exchange(seq, seq + 1, Ordering::Acquire, Ordering::Relaxed)
                .is_ok();
        // The odd count is visible before any of the words change.
        fence(Ordering::Release);
        claimed.then_some(seq)
    }

    fn release(&self, seq: u64) {
        self.seq.store(seq + 2, Ordering::Release);
    }

    /// Apply `record` to the places of a summary of `count` records;
    /// false if they do not fit it.
    fn change_places(&self, count: usize, record: RecordChange) -> bool {
        let offs = |i: usize| place_off(self.places[i].load(Ordering::Relaxed));
        match record {
            RecordChange::Added { off, hash } => {
                if count == MAX_RECORDS {
                    return false;
                }
                let at = (0..count).find(|&i| offs(i) > off).unwrap_or(count);
                for i in (at..count).rev() {
                    let p = self.places[i].load(Ordering::Relaxed);
                    self.places[i + 1].store(p, Ordering::Relaxed);
                }
                self.places[at].store(place(off, hash), Ordering::Relaxed);
            }
            RecordChange::Removed { off } => {
                let Some(at) = (0..count).find(|&i| offs(i) == off) else {
                    return false;
                };
                for i in at + 1..count {
                    let p = self.places[i].load(Ordering::Relaxed);
                    self.places[i - 1].store(p, Ordering::Relaxed);
                }
            }
        }
        true
    }
}

/// A slot being filled by a walk ([`Summaries::fill`]): the walk's live
/// records go in as it finds them, and [`Fill::done`] keeps them with its
/// summary. Dropped before that, it leaves the slot empty.
pub struct Fill<'a> {
    slot: &'a Slot,
    seq: u64,
    stamp: Stamp,
    n: usize,
}

impl Fill<'_> {
    /// The walk found a live record of `hash` at `off` (after the ones
    /// before it in the block).
    pub fn record(&mut self, off: u64, hash: u32) {
        if let Some(p) = self.slot.places.get(self.n) {
            p.store(place(off, hash), Ordering::Relaxed);
        }
        self.n += 1;
    }

    /// The walk saw the whole block: keep `s` with the records.
    pub fn done(self, s: &Summary) {
        if self.n == usize::from(s.count) && self.n <= MAX_RECORDS {
            self.slot.store(s);
            self.slot.set_key(Some(self.stamp));
        }
    }
}

impl Drop for Fill<'_> {
    fn drop(&mut self) {
        self.slot.release(self.seq);
    }
}

/// A summary per slot. All zero bytes is an empty table.
pub struct Summaries {
    slots: [Slot; SUMMARY_SLOTS],
}

impl Summaries {
    /// An empty table.
    pub const fn new() -> Summaries {
        Summaries {
            slots: [const {
                Slot {
                    seq: AtomicU64::new(0),
                    key: [const { AtomicU64::new(0) }; 2],
                    filter: [const { AtomicU64::new(0) }; FILTER_WORDS],
                    meta: AtomicU64::new(0),
                    places: [const { AtomicU32::new(0) }; MAX_RECORDS],
                }
            }; SUMMARY_SLOTS],
        }
    }

    fn slot(&self, blk: u64) -> &Slot {
        &self.slots[(blk % SUMMARY_SLOTS as u64) as usize]
    }

    /// Start keeping what a walk of the block of `stamp`, in that state,
    /// finds; `None` if another writer has its slot.
    pub fn fill(&self, stamp: Stamp) -> Option<Fill<'_>> {
        let slot = self.slot(stamp.blk());
        let seq = slot.claim()?;
        slot.set_key(None);
        Some(Fill {
            slot,
            seq,
            stamp,
            n: 0,
        })
    }

    /// The summary under `from` becomes what `change` says, under `to`
    /// (the block's state once the change committed); a slot that holds
    /// something else is left as it is.
    pub fn change(&self, to: Stamp, change: &SummaryChange) {
        let slot = self.slot(to.blk());
        let Some(seq) = slot.claim() else {
            return;
        };
        if slot.holds(change.from) {
            let count = slot.count();
            let changed = match change.record {
                RecordChange::Added { .. } => Some(count + 1),
                RecordChange::Removed { .. } => count.checked_sub(1),
            };
            let kept = changed == Some(usize::from(change.next.count))
                && slot.change_places(count, change.record);
            match kept {
                true => {
                    slot.store(&change.next);
                    slot.set_key(Some(to));
                }
                false => slot.set_key(None),
            }
        }
        slot.release(seq);
    }

    /// Read the slot of `stamp` with `f`, if it holds `stamp` and no
    /// writer changed it meanwhile.
    fn read<T>(&self, stamp: Stamp, f: impl FnOnce(&Slot) -> Option<T>) -> Option<T> {
        let slot = self.slot(stamp.blk());
        let seq = slot.seq.load(Ordering::Acquire);
        if seq & 1 == 1 || !slot.holds(stamp) {
            return None;
        }
        let v = f(slot);
        // The words are read before the count is read again.
        fence(Ordering::Acquire);
        v.filter(|_| slot.seq.load(Ordering::Relaxed) == seq)
    }

    /// The summary kept for the block of `stamp` in that state, if any.
    pub fn get(&self, stamp: Stamp) -> Option<Summary> {
        self.read(stamp, |slot| {
            let mut s = Summary::EMPTY;
            for (v, w) in s.filter.iter_mut().zip(&slot.filter) {
                *v = w.load(Ordering::Relaxed);
            }
            let meta = slot.meta.load(Ordering::Relaxed);
            (s.count, s.host, s.slack) = (meta as u16, (meta >> 16) as u16, (meta >> 32) as u16);
            Some(s)
        })
    }

    /// The records whose hash has the low 20 bits of `hash` in the block
    /// of `stamp` in that state, if a summary of it is kept and names at
    /// most a few.
    pub fn candidates(&self, stamp: Stamp, hash: u32) -> Option<Candidates> {
        self.read(stamp, |slot| {
            let mut c = Candidates::default();
            let mut prev = 0;
            for p in &slot.places[..slot.count().min(MAX_RECORDS)] {
                let p = p.load(Ordering::Relaxed);
                if same_hash(p, hash) {
                    *c.at.get_mut(c.n)? = (place_off(p), prev);
                    c.n += 1;
                }
                prev = place_off(p);
            }
            Some(c)
        })
    }
}

impl Default for Summaries {
    fn default() -> Self {
        Summaries::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verified::Verified;

    /// `blk` sealed again: its new state.
    fn seal(v: &Verified, blk: u64) -> Stamp {
        v.insert(blk);
        v.stamp(blk).unwrap()
    }

    fn filled(t: &Summaries, stamp: Stamp, records: &[(u64, u32)]) -> Summary {
        let mut s = Summary::EMPTY;
        let mut fill = t.fill(stamp).unwrap();
        for &(off, hash) in records {
            s.add(hash);
            fill.record(off, hash);
        }
        s.offer(100, 40);
        s.offer(200, 20);
        fill.done(&s);
        s
    }

    #[test]
    fn a_summary_is_found_under_its_stamp_only() {
        let v = Verified::new();
        let t = Summaries::new();
        let stamp = seal(&v, 5);
        let s = filled(&t, stamp, &[(16, 3), (40, 1027), (100, 70_000)]);
        let got = t.get(stamp).unwrap();
        assert_eq!(got, s);
        assert!(got.may_hold(3) && got.may_hold(1027) && got.may_hold(70_000));
        assert!(!got.may_hold(4));
        assert_eq!((got.count, got.host, got.slack), (3, 100, 40));
        // The block changed: its old stamp finds nothing.
        let now = seal(&v, 5);
        assert!(t.get(now).is_none());
        assert!(t.candidates(now, 3).is_none());
        // Nor does another block of the slot.
        assert!(t.get(seal(&v, 5 + SUMMARY_SLOTS as u64)).is_none());
    }

    #[test]
    fn records_are_placed_and_follow_changes() {
        let v = Verified::new();
        let t = Summaries::new();
        let first = seal(&v, 7);
        let s = filled(&t, first, &[(16, 3), (40, 1027), (100, 3 | 1 << 20)]);
        let at = |stamp, hash| t.candidates(stamp, hash).unwrap().list().to_vec();
        let apply = |to, from, next, record| t.change(to, &SummaryChange { from, next, record });
        // Records of one 20-bit hash, with the record before each.
        assert_eq!(at(first, 3), [(16, 0), (100, 40)]);
        assert_eq!(at(first, 1027), [(40, 16)]);
        assert_eq!(at(first, 4), []);
        // A record added between two: the one after it has it before it.
        let second = seal(&v, 7);
        let mut next = s;
        next.add(9);
        let added = RecordChange::Added { off: 60, hash: 9 };
        apply(second, first, next, added);
        assert!(t.get(first).is_none());
        assert_eq!(t.get(second), Some(next));
        assert_eq!(at(second, 9), [(60, 40)]);
        assert_eq!(at(second, 3), [(16, 0), (100, 60)]);
        // A removal of the first: the next one is first.
        let third = seal(&v, 7);
        next.count -= 1;
        let removed = RecordChange::Removed { off: 16 };
        apply(third, second, next, removed);
        assert_eq!(at(third, 1027), [(40, 0)]);
        assert_eq!(at(third, 3), [(100, 60)]);
        // A change from a state the slot does not hold leaves it.
        let fourth = seal(&v, 7);
        apply(fourth, first, next, removed);
        assert!(t.get(fourth).is_none() && t.get(third).is_some());
        // One whose records disagree with the slot's empties it.
        let gone = RecordChange::Removed { off: 999 };
        next.count -= 1;
        apply(fourth, third, next, gone);
        assert!(t.get(fourth).is_none() && t.get(third).is_none());
    }

    #[test]
    fn a_walk_that_stops_keeps_nothing() {
        let v = Verified::new();
        let t = Summaries::new();
        let stamp = seal(&v, 9);
        filled(&t, stamp, &[(16, 1)]);
        let mut fill = t.fill(stamp).unwrap();
        fill.record(16, 1);
        // A second writer finds the slot taken.
        assert!(t.fill(stamp).is_none());
        drop(fill);
        assert!(t.get(stamp).is_none());
        // Nor does a walk whose count disagrees with its records.
        let mut fill = t.fill(stamp).unwrap();
        fill.record(16, 1);
        fill.done(&Summary::EMPTY);
        assert!(t.get(stamp).is_none());
    }
}
