// SPDX-License-Identifier: GPL-2.0
//! What a walk of a directory entry block learnt, kept in memory under the
//! block's verified state ([`Stamp`]), so that a lookup of a name the
//! block does not hold usually reads no record at all.
//!
//! A [`Summary`] is a filter of the hashes of the block's names (one bit
//! of 1,024 per name: a clear bit says no name of that hash is there),
//! its entry count and the record with the most slack a walk saw. A full
//! walk of a block stores one under the stamp it read the block at; the
//! insert that changes the block derives the next one (its name's bit
//! set, the count one up, the slack it left) and the transaction
//! publishes it under the block's new stamp once it committed
//! (`Fs::transact`): its seal and its commit each move the block's epoch
//! on, and between the two a lock-free reader reads the old bytes.
//! Anything else that changes the block leaves its summary under a stamp
//! that no longer holds.
//!
//! Each slot is a small seqlock: a writer that finds it being written
//! leaves it; a reader that finds it being written, or changed while it
//! read, has no summary and walks.

use super::verified::{Stamp, SLOTS};
use core::sync::atomic::{fence, AtomicU64, Ordering};

/// Words of the hash filter.
const FILTER_WORDS: usize = 16;
/// Bits of the hash filter.
const FILTER_BITS: u32 = 64 * FILTER_WORDS as u32;

/// What a walk of an entry block found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Bit `hash % FILTER_BITS` of every live record's hash.
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

struct Slot {
    /// Even: stable; odd: being written.
    seq: AtomicU64,
    /// The stamp value the summary holds under (0: none).
    key: AtomicU64,
    filter: [AtomicU64; FILTER_WORDS],
    /// Count, host and slack, 16 bits each.
    meta: AtomicU64,
}

/// A summary per slot of the verified-block table. All zero bytes is an
/// empty table.
pub struct Summaries {
    slots: [Slot; SLOTS],
}

impl Summaries {
    /// An empty table.
    pub const fn new() -> Summaries {
        Summaries {
            slots: [const {
                Slot {
                    seq: AtomicU64::new(0),
                    key: AtomicU64::new(0),
                    filter: [const { AtomicU64::new(0) }; FILTER_WORDS],
                    meta: AtomicU64::new(0),
                }
            }; SLOTS],
        }
    }

    fn slot(&self, stamp: Stamp) -> &Slot {
        &self.slots[(stamp.blk() % SLOTS as u64) as usize]
    }

    /// Keep `s` as what the block of `stamp` holds in that state.
    pub fn put(&self, stamp: Stamp, s: &Summary) {
        let slot = self.slot(stamp);
        let seq = slot.seq.load(Ordering::Relaxed);
        let claimed = seq & 1 == 0
            && slot
                .seq
                .compare_exchange(seq, seq + 1, Ordering::Acquire, Ordering::Relaxed)
                .is_ok();
        if !claimed {
            return;
        }
        // The odd count is visible before any of the words change.
        fence(Ordering::Release);
        slot.key.store(stamp.to_words().0, Ordering::Relaxed);
        for (w, v) in slot.filter.iter().zip(s.filter) {
            w.store(v, Ordering::Relaxed);
        }
        let meta = u64::from(s.count) | u64::from(s.host) << 16 | u64::from(s.slack) << 32;
        slot.meta.store(meta, Ordering::Relaxed);
        slot.seq.store(seq + 2, Ordering::Release);
    }

    /// The summary kept for the block of `stamp` in that state, if any.
    pub fn get(&self, stamp: Stamp) -> Option<Summary> {
        let slot = self.slot(stamp);
        let seq = slot.seq.load(Ordering::Acquire);
        if seq & 1 == 1 || slot.key.load(Ordering::Relaxed) != stamp.to_words().0 {
            return None;
        }
        let mut s = Summary::EMPTY;
        for (v, w) in s.filter.iter_mut().zip(&slot.filter) {
            *v = w.load(Ordering::Relaxed);
        }
        let meta = slot.meta.load(Ordering::Relaxed);
        (s.count, s.host, s.slack) = (meta as u16, (meta >> 16) as u16, (meta >> 32) as u16);
        // The words are read before the count is read again.
        fence(Ordering::Acquire);
        (slot.seq.load(Ordering::Relaxed) == seq).then_some(s)
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

    #[test]
    fn a_summary_is_found_under_its_stamp_only() {
        let v = Verified::new();
        let t = Summaries::new();
        v.insert(5);
        let stamp = v.stamp(5).unwrap();
        let mut s = Summary::EMPTY;
        for h in [3, 1027, 70_000] {
            s.add(h);
        }
        s.offer(100, 40);
        s.offer(200, 20);
        t.put(stamp, &s);
        let got = t.get(stamp).unwrap();
        assert_eq!(got, s);
        assert!(got.may_hold(3) && got.may_hold(1027) && got.may_hold(70_000));
        assert!(!got.may_hold(4));
        assert_eq!((got.count, got.host, got.slack), (3, 100, 40));
        // The block changed: its old stamp finds nothing.
        v.insert(5);
        let now = v.stamp(5).unwrap();
        assert!(t.get(now).is_none());
        // Nor does another block of the slot.
        v.insert(5 + SLOTS as u64);
        assert!(t.get(v.stamp(5 + SLOTS as u64).unwrap()).is_none());
    }
}
