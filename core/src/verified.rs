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

use core::sync::atomic::{AtomicU64, Ordering};

/// Blocks the table holds (direct-mapped by block number).
const SLOTS: usize = 512;

/// A direct-mapped table of verified block numbers. All zero bytes is an
/// empty table that keeps entries.
pub struct Verified {
    /// Keeps nothing (a medium that does not keep a table).
    inert: bool,
    /// `blk + 1` of the block a slot holds, 0 for none.
    slots: [AtomicU64; SLOTS],
}

/// The table of a medium that keeps none: nothing is ever verified.
pub static NOT_KEPT: Verified = Verified::with(true);

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

    /// Whether `blk` is verified.
    pub fn contains(&self, blk: u64) -> bool {
        !self.inert && self.slot(blk).load(Ordering::Acquire) == blk + 1
    }

    /// `blk` matches its checksum (checked, or just sealed).
    pub fn insert(&self, blk: u64) {
        if !self.inert {
            self.slot(blk).store(blk + 1, Ordering::Release);
        }
    }

    /// Bytes `off..off + len` are about to change: their blocks are no
    /// longer verified.
    pub fn forget(&self, off: u64, len: u64) {
        if self.inert || len == 0 {
            return;
        }
        let (first, end) = (off >> 12, ((off + len - 1) >> 12) + 1);
        if end - first >= SLOTS as u64 {
            for s in &self.slots {
                let held = s.load(Ordering::Acquire);
                if (first + 1..end + 1).contains(&held) {
                    let _ = s.compare_exchange(held, 0, Ordering::AcqRel, Ordering::Relaxed);
                }
            }
            return;
        }
        for blk in first..end {
            let _ =
                self.slot(blk)
                    .compare_exchange(blk + 1, 0, Ordering::AcqRel, Ordering::Relaxed);
        }
    }

    /// Forget every block (mount).
    pub fn clear(&self) {
        for s in &self.slots {
            s.store(0, Ordering::Release);
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
        assert!(!none.contains(9));
    }
}
