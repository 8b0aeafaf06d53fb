// SPDX-License-Identifier: GPL-2.0
//! The in-place seqcount: how the core's lock-free readers know that no
//! transaction stored metadata in place while they read.
//!
//! Lookups, stat, readdir, readlink and block lookups run on a read-only
//! view of the core (`Fs::reader`) without the core lock. A transaction
//! changes nothing a reader can see until it stores its staged metadata
//! in place, between the core's `Medium::in_place_begin` and
//! `in_place_end` (one window per transaction, however many drains it
//! has; everything else it stores goes to the journal or to blocks no
//! committed metadata reaches, which `tools/tests/reader.rs` checks at
//! every store). A reader that started outside every window and finds no
//! window begun afterwards read one committed state, and otherwise
//! discards what it read.
//!
//! Not the kernel's `seqcount_rwsem_t`: its writers run with preemption
//! disabled, and a window of a transaction that drains more than once
//! can include zeroing 2 MiB of newly allocated blocks; and it would
//! assert the core lock in mount-time recovery, which runs before there
//! is one; and the core's views store in place side by side. Readers that
//! keep losing to writers take the core lock exclusive instead of
//! spinning (`src/super_block.rs`), which also covers a writer preempted
//! inside its window.

use core::sync::atomic::{fence, AtomicU64, Ordering};

/// The counts: windows begun and windows ended. Unequal while a
/// transaction stores metadata in place. Transactions of the core's views
/// (`Fs::sibling`) run side by side, so windows may overlap: a reader
/// that found both equal, and "begun" unchanged after it read, overlapped
/// no window.
#[derive(Default)]
pub struct InPlaceSeq {
    begun: AtomicU64,
    ended: AtomicU64,
}

impl InPlaceSeq {
    /// A transaction starts storing metadata in place. The in-place
    /// stores are non-temporal (`memcpy_flushcache`), which x86 may make
    /// visible before the count unless an sfence separates them, not just
    /// smp_wmb(): the core always fences (`pmem_wmb()`) between this call
    /// and its first in-place store (`Medium::in_place_begin`), so no
    /// fence of its own is needed.
    pub fn begin(&self) {
        self.begun.fetch_add(1, Ordering::Relaxed);
    }

    /// The window's stores are done and fenced (the core fences them
    /// before it ends the window): publish the committed state.
    pub fn end(&self) {
        self.ended.fetch_add(1, Ordering::Release);
    }

    /// Run the read `f`; its result if no window overlapped it.
    pub fn read<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        // "begun" first: a window that begins after this load moves it
        // (seen below), and every window begun before it has ended when
        // "ended" catches up with it.
        let begun = self.begun.load(Ordering::Acquire);
        if self.ended.load(Ordering::Acquire) != begun {
            return None;
        }
        let result = f();
        // Order the medium loads in `f` before the second look (smp_rmb).
        fence(Ordering::Acquire);
        (self.begun.load(Ordering::Relaxed) == begun).then_some(result)
    }
}
