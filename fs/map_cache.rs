// SPDX-License-Identifier: GPL-2.0
//! [`MapCache`]: the last mapped extent `iomap` found for an inode, so that
//! reads, overwrites and faults of mapped data do not read the inode and
//! its extent tree from pmem every time (ext4 keeps its extent status tree
//! for the same reason, XFS its in-core extent list).
//!
//! Only mapped extents are kept: an allocation fills holes and never moves
//! a mapped block, so what was mapped stays mapped where it was until an
//! extent change frees, moves or remaps it. Every extent change (truncate,
//! punch, zero, collapse and insert range) runs with the MMAPLOCK held
//! exclusive (`Documentation/filesystems/ferrodax/locking.rst`), and
//! [`MmapLock`](crate::mm::mmaplock::MmapLock) counts that section in
//! `changes`: odd while one runs. An entry is only used while `changes`
//! still reads what it read before the lookup that found the extent, so a
//! lookup that overlapped a change, or came before one, is never used
//! after it. An allocation may still grow the extent it continues, so it
//! drops the entry ([`MapCache::invalidate`]): a hit reports the extent as
//! a lookup would, FIEMAP included.
//!
//! No lock: concurrent readers of the cache use a sequence count (`seq`,
//! odd while an entry is written), and a filler that finds another filling
//! leaves the entry alone.

use core::sync::atomic::{fence, AtomicU64, Ordering::*};

/// One cached extent: `len` blocks from file block `start` at device byte
/// `addr`, found while `changes` read `generation`; `len == 0` is empty.
#[derive(Default)]
pub struct MapCache {
    changes: AtomicU64,
    seq: AtomicU64,
    start: AtomicU64,
    len: AtomicU64,
    addr: AtomicU64,
    generation: AtomicU64,
}

/// A mapped extent: `len` blocks from file block `start` at device byte
/// `addr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachedExtent {
    /// First file block.
    pub start: u64,
    /// Blocks.
    pub len: u64,
    /// Device byte address of `start`.
    pub addr: u64,
}

impl MapCache {
    /// What a lookup reads before it looks, to pass to [`MapCache::fill`].
    pub fn generation(&self) -> u64 {
        self.changes.load(Acquire)
    }

    /// An extent change begins (the MMAPLOCK is held exclusive): every
    /// entry found before is stale from now on.
    pub fn begin_change(&self) {
        self.changes.fetch_add(1, AcqRel);
    }

    /// The extent change has ended (the MMAPLOCK is still held).
    pub fn end_change(&self) {
        self.changes.fetch_add(1, AcqRel);
    }

    /// Blocks were allocated: an extent may have grown past what an entry
    /// says. Keeps the parity of `changes` (a change may be running).
    pub fn invalidate(&self) {
        self.changes.fetch_add(2, AcqRel);
    }

    /// The cached extent holding file block `lblk`, if it is still valid.
    pub fn get(&self, lblk: u64) -> Option<CachedExtent> {
        let seq = self.seq.load(Acquire);
        if seq % 2 != 0 {
            return None;
        }
        let e = CachedExtent {
            start: self.start.load(Relaxed),
            len: self.len.load(Relaxed),
            addr: self.addr.load(Relaxed),
        };
        let generation = self.generation.load(Relaxed);
        // The fields above were read before `seq` is read again.
        fence(Acquire);
        let unchanged = self.seq.load(Relaxed) == seq && generation == self.changes.load(Acquire);
        (unchanged && generation % 2 == 0 && lblk.wrapping_sub(e.start) < e.len).then_some(e)
    }

    /// Keep `e`, found by a lookup that began when [`MapCache::generation`]
    /// returned `generation`.
    pub fn fill(&self, generation: u64, e: CachedExtent) {
        if generation % 2 != 0 || generation != self.changes.load(Acquire) {
            return;
        }
        let seq = self.seq.load(Relaxed);
        if seq % 2 != 0
            || self
                .seq
                .compare_exchange(seq, seq + 1, Acquire, Relaxed)
                .is_err()
        {
            return; // another filler has it
        }
        // The odd `seq` is visible before the fields change.
        fence(Release);
        self.start.store(e.start, Relaxed);
        self.len.store(e.len, Relaxed);
        self.addr.store(e.addr, Relaxed);
        self.generation.store(generation, Relaxed);
        self.seq.store(seq + 2, Release);
    }
}
