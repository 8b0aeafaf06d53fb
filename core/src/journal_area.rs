// SPDX-License-Identifier: GPL-2.0
//! Which journal areas' committed transactions recovery would still check,
//! for the transactions of the other areas.
//!
//! The journal is split into [`JOURNAL_AREAS`] areas, each an undo journal
//! of its own (`journal.rs`) running one transaction at a time, so that
//! transactions can run side by side. A committed transaction leaves its
//! area's header naming it, active, until the area's next transaction
//! begins: recovery checks it against its commit record and the contents
//! of its logged ranges, and rolls it back when they differ. Inside one
//! area that is safe because the next transaction's header store, fenced
//! before its first in-place store, stops recovery from looking at the old
//! one. Across areas it is not: a transaction of another area that changes
//! the same bytes later (it can only once the first committed and released
//! them) would make the first look torn, and recovery would undo it over
//! the second.
//!
//! So each area's header has a second word besides the owner's header
//! word: the *closed* sequence number, written by other areas'
//! transactions only. Recovery checks an area's transaction only when its
//! sequence number is above it. Before its fence that precedes in-place
//! stores, a transaction closes every other area whose last committed
//! transaction is still checked ("open"): it stores that transaction's
//! sequence number as the area's closed word, and its own fence makes the
//! close durable first. Before a store that is not logged (zeroing new
//! blocks) it closes, with a fence of its own, the areas whose committed
//! transaction freed blocks, for the reason `Journal::before_unlogged`
//! gives inside one area. The owner's header word and the closed word are
//! different words, so a close never waits for the area's own
//! transactions, nor they for it: a close of sequence number S leaves
//! recovery checking any later transaction of the area.
//!
//! The table below says, per area, the last committed transaction's
//! sequence number, whether it is open, whether it freed blocks, and
//! whether a close of it is in flight. Its words are atomics so that it
//! can be shared by transactions running at once: a closer marks an area
//! `CLOSING` from the store of its close to the fence that makes it
//! durable, and the area reads closed only after that, so nobody skips a
//! close that has not landed. The owner's commit waits for a close in
//! flight before it records its own transaction open. A closer takes
//! areas in ascending order and waits only for other closers, which wait
//! for nothing while holding one out of order, so closes cannot deadlock.

use core::sync::atomic::{AtomicU64, Ordering};

use super::layout::JOURNAL_AREAS;

/// The last committed transaction is still checked by recovery.
const OPEN: u64 = 1;
/// That transaction freed blocks.
const FREED: u64 = 2;
/// A close of that transaction is in flight (stored, not yet fenced).
const CLOSING: u64 = 1 << 63;
/// Sequence numbers the table holds are below this (bits 2..61 of a
/// word); the journal treats a larger one on media as damage.
pub const MAX_SEQ: u64 = 1 << 60;

/// An area's last committed transaction as the table records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// Its sequence number.
    pub seq: u64,
    /// Recovery would still check it (no durable close, and the area's
    /// next header may not be durable).
    pub open: bool,
    /// It freed blocks.
    pub freed: bool,
}

impl Committed {
    fn word(self) -> u64 {
        self.seq << 2 | if self.open { OPEN } else { 0 } | if self.freed { FREED } else { 0 }
    }

    fn of(word: u64) -> Committed {
        Committed {
            seq: (word & !CLOSING) >> 2,
            open: word & OPEN != 0,
            freed: word & FREED != 0,
        }
    }
}

/// Every area's last [`Committed`] transaction, shared by the
/// transactions of all areas.
#[derive(Debug)]
pub struct AreaTable {
    words: [AtomicU64; JOURNAL_AREAS],
}

impl AreaTable {
    /// No area has a transaction recovery would check (after mount).
    pub fn closed() -> AreaTable {
        AreaTable {
            words: [const { AtomicU64::new(0) }; JOURNAL_AREAS],
        }
    }

    /// No area has a transaction recovery would check (mount, after
    /// recovery closed every area on media).
    pub fn reset(&self) {
        for w in &self.words {
            w.store(0, Ordering::Release);
        }
    }

    /// Area `a`'s last committed transaction. One whose close is in
    /// flight reads open: the close may not be durable yet.
    pub fn last(&self, a: usize) -> Committed {
        Committed::of(self.words[a].load(Ordering::Acquire))
    }

    /// Load area `a`'s word once no close of it is in flight.
    fn settled(&self, a: usize) -> u64 {
        loop {
            let now = self.words[a].load(Ordering::Acquire);
            if now & CLOSING == 0 {
                return now;
            }
            core::hint::spin_loop();
        }
    }

    /// The owner of area `a` committed `c`.
    pub fn commit(&self, a: usize, c: Committed) {
        let word = &self.words[a];
        loop {
            let now = self.settled(a);
            if word
                .compare_exchange_weak(now, c.word(), Ordering::Release, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
        }
    }

    /// Start closing area `a` if its last committed transaction is open
    /// (with `freed_only`, and freed blocks): returns it, marked
    /// `CLOSING` until [`AreaTable::closed_durably`] or
    /// [`AreaTable::not_closed`].
    pub fn start_close(&self, a: usize, freed_only: bool) -> Option<Committed> {
        let word = &self.words[a];
        loop {
            let now = self.settled(a);
            let c = Committed::of(now);
            if !c.open || (freed_only && !c.freed) {
                return None;
            }
            if word
                .compare_exchange_weak(now, now | CLOSING, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return Some(c);
            }
        }
    }

    /// The close of `c`, area `a`'s, is durable.
    pub fn closed_durably(&self, a: usize, c: Committed) {
        let closed = Committed {
            open: false,
            freed: false,
            ..c
        };
        self.words[a].store(closed.word(), Ordering::Release);
    }

    /// The close of `c`, area `a`'s, failed: it stays open.
    pub fn not_closed(&self, a: usize, c: Committed) {
        self.words[a].store(c.word(), Ordering::Release);
    }
}
