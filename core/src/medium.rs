// SPDX-License-Identifier: GPL-2.0
//! The persistent medium the core writes to.
//!
//! The kernel implements this over the DAX mapping of the pmem device (loads
//! with machine-check-safe copies, stores with `memcpy_flushcache`, which
//! writes back as it stores, fences with `pmem_wmb`); the host implements it
//! over an in-memory image that records every store, flush and fence so that
//! tests can enumerate the states a power cut could leave behind.
//!
//! Nothing outside `persist.rs` calls
//! `store`, `flush` or `fence` directly: the typestate wrapper there is the
//! only writer, so the ordering rules are checked by the compiler.

use super::dir_summary::Summaries;
use super::error::Result;
use super::persist::{Stage, STAGE_RANGES};
use super::shared::Shared;
use super::verified::{Verified, NOT_KEPT};

/// Byte-addressable persistent memory, as far as reading it goes: what a
/// reader that takes no lock needs (the kernel's lock-free view of the
/// mounted device, see `Fs::reader`), and the first half of [`Medium`].
///
/// Offsets passed in are always within `0..len()`: the caller (`persist::Pm`)
/// checks them before calling.
pub trait MediumRead {
    /// Size of the medium in bytes.
    fn len(&self) -> u64;
    /// Whether the medium is empty (never true for a usable device).
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Copy bytes from the medium. Fails with `Error::Io` on a media error.
    fn read(&self, off: u64, buf: &mut [u8]) -> Result<()>;
    /// Where `persist::Pm` keeps a transaction's staged changes: memory the
    /// medium owns on the heap (the core has no allocator, and 9 KiB must
    /// not travel across a kernel stack). A medium that is only read
    /// has no transaction: its stage is [`Stage::EMPTY`].
    fn stage_area(&self) -> &Stage;
    /// The table of directory entry blocks known to match their checksum
    /// (see `verified.rs`), shared by every handle on the device: none by
    /// default.
    fn verified(&self) -> &Verified {
        &NOT_KEPT
    }
    /// What walks learnt of entry blocks, under their verified states
    /// (see `dir_summary.rs`), shared like [`MediumRead::verified`]: none
    /// by default.
    fn summaries(&self) -> Option<&Summaries> {
        None
    }
}

/// Byte-addressable persistent memory that the core writes.
pub trait Medium: MediumRead {
    /// Store bytes: visible to later reads at once, persistent only after a
    /// flush of those bytes and a subsequent fence.
    fn store(&mut self, off: u64, data: &[u8]);
    /// Write back the cache lines covering `off..off + len`.
    fn flush(&mut self, off: u64, len: u64);
    /// Order all earlier flushes before any later store (sfence).
    fn fence(&mut self);
    /// The stage, to change.
    fn stage_area_mut(&mut self) -> &mut Stage;
    /// The state every filesystem mounted over this device shares (see
    /// `shared.rs`): the same for every writer handle on one device, and
    /// never shared with another device's.
    fn shared(&self) -> &Shared;
    /// Ranges the stage may hold before a transaction drains it, at most
    /// [`STAGE_RANGES`]. Fewer only in tests: the crash explorer moves
    /// the drains of every operation to other points with it.
    fn stage_ranges(&self) -> usize {
        STAGE_RANGES
    }
    /// A transaction is about to store metadata in place: until
    /// [`Medium::in_place_end`], what the medium holds is no committed
    /// state. Readers that take no lock (the kernel's `Fs::reader` view)
    /// validate what they read against these two calls, as against a
    /// seqcount; the only stores outside them go to the journal and to
    /// blocks that no committed metadata reaches (newly allocated ones).
    /// A [`Medium::fence`] always follows before the first in-place
    /// store: it orders this call's own store before them.
    fn in_place_begin(&mut self) {}
    /// The transaction's in-place stores are all done and fenced
    /// (committed or rolled back): the medium holds a committed state
    /// again.
    fn in_place_end(&mut self) {}
}
