// SPDX-License-Identifier: GPL-2.0
//! Directory entry blocks known to match their checksum, so that lookups
//! and changes do not checksum the same 4 KiB again and again.
//!
//! An entry block's checksum covers the whole block. Every lookup read it
//! in full to check it, and every change checked it again before sealing
//! it: three to five 4 KiB checksums per create or rename, most of what
//! the core cost under the kernel's `crc32c()`. A block enters this table
//! when its checksum was checked or this filesystem sealed it, and leaves
//! it when anything is stored or staged over it (`persist::Pm`, the only
//! writer, forgets the blocks of every store). So an entry here always
//! holds a block whose bytes, as the medium or the running transaction's
//! stage has them, are what was checked or sealed. The medium keeps the
//! table, so the writer and the lock-free reader share it (the reader's
//! seqcount discards what it read during in-place stores, as before).
//! Mount starts with an empty table.
//!
//! Media errors are not what this guards against (machine-check-safe
//! loads report those on every read): what it skips is the check that
//! nothing else wrote the block, and nothing else writes a mounted device.
//!
//! Each entry also carries an *epoch*, a count of the slot's changes, so
//! that what a walk of the block learnt can be kept and used later while
//! the block stays as that walk read it ([`Stamp`]: a lookup tells the
//! create that follows where the name goes, `dir.rs`). The epoch moves on
//! whenever the block's bytes may have changed for anyone: stored or
//! staged over (forgotten), sealed again, and when a stage over it is
//! applied in place or discarded (`Pm::apply_stage`, `Pm::discard_stage`):
//! a walk by the lock-free reader between a transaction's seal and its
//! commit read the old bytes under the new entry.

use core::sync::atomic::{AtomicU64, Ordering};

/// Blocks the table holds (direct-mapped by block number).
pub(crate) const SLOTS: usize = 512;
/// Bits of a slot that name its block: `blk / SLOTS + 1`, 0 for none
/// (block numbers are below `layout::MAX_BLOCKS`, 2^31).
const TAG_BITS: u32 = 23;
const TAG_MASK: u64 = (1 << TAG_BITS) - 1;

/// A direct-mapped table of verified block numbers. All zero bytes is an
/// empty table that keeps entries.
pub struct Verified {
    /// Keeps nothing (a medium that does not keep a table).
    inert: bool,
    /// The epoch (above [`TAG_BITS`]) and the tag of the block a slot
    /// holds. A slot's epoch only ever grows (2^41 changes of one slot
    /// before it wraps), so a slot never holds the same value twice.
    slots: [AtomicU64; SLOTS],
}

/// One verified state of one block: valid while the block's slot holds
/// the value it held when the stamp was taken, that is while the block is
/// byte for byte what it was then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// The slot's value.
    value: u64,
    /// The block.
    blk: u64,
}

/// The table of a medium that keeps none: nothing is ever verified.
pub static NOT_KEPT: Verified = Verified::with(true);

fn tag(blk: u64) -> u64 {
    blk / SLOTS as u64 + 1
}

impl Stamp {
    /// The block stamped.
    pub fn blk(&self) -> u64 {
        self.blk
    }

    /// The stamp as two words (for a caller that keeps it outside the
    /// core); [`Stamp::from_words`] takes them back.
    pub fn to_words(self) -> (u64, u64) {
        (self.value, self.blk)
    }

    /// A stamp from [`Stamp::to_words`]'s words, or `None` if they are not
    /// one (a slot value naming another block).
    pub fn from_words(value: u64, blk: u64) -> Option<Stamp> {
        (value & TAG_MASK == tag(blk)).then_some(Stamp { value, blk })
    }
}

impl Verified {
    const fn with(inert: bool) -> Verified {
        Verified {
            inert,
            slots: [const { AtomicU64::new(0) }; SLOTS],
        }
    }

    /// An empty table.
    pub const fn new() -> Verified {
        Verified::with(false)
    }

    fn slot(&self, blk: u64) -> &AtomicU64 {
        &self.slots[(blk % SLOTS as u64) as usize]
    }

    /// While the slot of `blk` holds a value `keep` accepts, give it the
    /// tag `tag(value)` and the next epoch.
    fn update(&self, blk: u64, keep: impl Fn(u64) -> bool, tag: impl Fn(u64) -> u64) {
        let slot = self.slot(blk);
        let mut held = slot.load(Ordering::Acquire);
        while keep(held) {
            let next = (held & !TAG_MASK).wrapping_add(1 << TAG_BITS) | tag(held);
            match slot.compare_exchange_weak(held, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return,
                Err(now) => held = now,
            }
        }
    }

    /// Whether `blk` is verified.
    pub fn contains(&self, blk: u64) -> bool {
        self.stamp(blk).is_some()
    }

    /// `blk`'s verified state now, if it is verified.
    pub fn stamp(&self, blk: u64) -> Option<Stamp> {
        if self.inert {
            return None;
        }
        let value = self.slot(blk).load(Ordering::Acquire);
        Stamp::from_words(value, blk)
    }

    /// Whether `blk` is still in the state `stamp` was taken in.
    pub fn still(&self, stamp: Stamp) -> bool {
        self.stamp(stamp.blk) == Some(stamp)
    }

    /// `blk` matches its checksum (checked, or just sealed).
    pub fn insert(&self, blk: u64) {
        if !self.inert {
            self.update(blk, |_| true, |_| tag(blk));
        }
    }

    /// Call `f` with each block of bytes `off..off + len` that a slot may
    /// hold.
    fn each_block(&self, off: u64, len: u64, f: impl Fn(u64)) {
        if self.inert || len == 0 {
            return;
        }
        let (first, end) = (off >> 12, ((off + len - 1) >> 12) + 1);
        if end - first >= SLOTS as u64 {
            for (i, s) in self.slots.iter().enumerate() {
                let t = s.load(Ordering::Acquire) & TAG_MASK;
                let blk = t.checked_sub(1).map(|t| t * SLOTS as u64 + i as u64);
                if let Some(blk) = blk.filter(|b| (first..end).contains(b)) {
                    f(blk);
                }
            }
            return;
        }
        (first..end).for_each(f);
    }

    /// Bytes `off..off + len` are about to change: their blocks are no
    /// longer verified.
    pub fn forget(&self, off: u64, len: u64) {
        self.each_block(off, len, |blk| {
            self.update(blk, |held| held & TAG_MASK == tag(blk), |_| 0)
        });
    }

    /// Bytes `off..off + len` changed to, or back to, verified contents
    /// (a stage applied or discarded): their blocks stay verified, and
    /// their stamps are void.
    pub fn touch(&self, off: u64, len: u64) {
        self.each_block(off, len, |blk| {
            self.update(
                blk,
                |held| held & TAG_MASK == tag(blk),
                |held| held & TAG_MASK,
            )
        });
    }

    /// Forget every block (mount). Epochs carry on: a stamp taken before
    /// is void after.
    pub fn clear(&self) {
        for s in &self.slots {
            s.fetch_and(!TAG_MASK, Ordering::AcqRel);
        }
    }
}

impl Default for Verified {
    fn default() -> Self {
        Verified::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_forget_the_blocks_they_touch() {
        let v = Verified::new();
        for blk in [3, 4, 5, 3 + SLOTS as u64] {
            v.insert(blk);
        }
        // Slot 3 holds the later block.
        assert!(!v.contains(3) && v.contains(3 + SLOTS as u64));
        v.forget(4 * 4096 + 100, 4096);
        assert!(!v.contains(4) && !v.contains(5));
        v.insert(7);
        v.forget(0, 4096 * 4 * SLOTS as u64);
        assert!(!v.contains(7) && !v.contains(3 + SLOTS as u64));
        let none = &NOT_KEPT;
        none.insert(9);
        assert!(!none.contains(9) && none.stamp(9).is_none());
    }

    #[test]
    fn a_stamp_lasts_while_its_block_is_as_it_was() {
        let v = Verified::new();
        v.insert(7);
        let s = v.stamp(7).unwrap();
        assert!(v.still(s) && s.blk() == 7);
        // Another block's changes leave it be.
        v.forget(8 * 4096, 4096);
        v.touch(6 * 4096, 4096);
        assert!(v.still(s));
        // A stage applied or discarded keeps the block verified, not its
        // stamps.
        v.touch(7 * 4096 + 100, 1);
        assert!(v.contains(7) && !v.still(s));
        let s = v.stamp(7).unwrap();
        // Sealed again: a new epoch.
        v.insert(7);
        assert!(!v.still(s));
        // Forgotten, then verified again: never the old value.
        let s = v.stamp(7).unwrap();
        v.forget(7 * 4096, 1);
        v.insert(7);
        assert!(!v.still(s) && v.contains(7));
        // The block that shares the slot does not take the stamp over.
        let s = v.stamp(7).unwrap();
        v.insert(7 + SLOTS as u64);
        assert!(!v.still(s));
        let (value, blk) = s.to_words();
        assert_eq!(Stamp::from_words(value, blk), Some(s));
        assert_eq!(Stamp::from_words(value, blk + SLOTS as u64), None);
        // A mount forgets every block and keeps the epochs.
        v.insert(7);
        let s = v.stamp(7).unwrap();
        v.clear();
        v.insert(7);
        assert!(v.contains(7) && !v.still(s));
    }
}
