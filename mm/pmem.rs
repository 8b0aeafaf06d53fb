// SPDX-License-Identifier: GPL-2.0
//! The kernel's [`Medium`]: a directly mapped pmem range.
//!
//! Loads use machine-check-safe copies, so poisoned media becomes `EIO`, not
//! a crash. Every store to the medium goes through [`Medium::store`], which
//! uses non-temporal copies (`memcpy_flushcache`): the bytes have left the
//! CPU caches when it returns, so `flush` has nothing left to write back
//! (a second `clwb` over the same lines would only cost time). `fence` is
//! `pmem_wmb()`, which orders those stores before later ones.

use crate::fcore::dir_summary::Summaries;
use crate::fcore::persist::Stage;
use crate::fcore::shared::Shared;
use crate::fcore::verified::Verified;
use crate::fcore::{Error, Medium, MediumRead, Result};
use crate::mm::in_place::InPlaceSeq;
use crate::vfs::bindings;
use crate::vfs::dax::DaxMapping;
use kernel::prelude::*;
use kernel::sync::Arc;

/// What every handle on one mapped device shares: the mapping itself,
/// the table of verified blocks and what walks learnt of them, and the
/// state of the core's views (`Fs::sibling`).
struct Device {
    verified: KBox<Verified>,
    summaries: KVBox<Summaries>,
    shared: Shared,
    dax: DaxMapping,
}

/// A writer handle on a pmem device mapped into the kernel: one per
/// changing view of the core, each with its own transaction stage.
///
/// # Invariants
///
/// `base..base + len` is the mapping held by `dev`, so it stays mapped and
/// writable for the lifetime of this value, and no other code writes it (the
/// filesystem owns the device while mounted; its views write it only
/// under the rules of `Fs::sibling`).
pub struct PmemMedium {
    base: *mut u8,
    len: u64,
    stage: KBox<Stage>,
    dev: Arc<Device>,
    in_place: Arc<InPlaceSeq>,
}

/// A read-only handle on the pmem a [`PmemMedium`] maps: the medium of
/// the core's lock-free reader (`Fs::reader`).
///
/// # Invariants
///
/// `base..base + len` is the mapping of the [`PmemMedium`] it came from,
/// which the mounted superblock keeps beside it until put_super; it is
/// read only on behalf of that superblock (every read is a VFS operation
/// on it), inside `dax_read_lock()` so that the device's removal waits
/// for the read (`kill_dax` synchronises with it after shutting the
/// filesystem down). `verified` and `summaries` are that medium's tables,
/// which live as long as it.
#[derive(Clone, Copy)]
pub struct PmemReader {
    base: *const u8,
    len: u64,
    verified: *const Verified,
    summaries: *const Summaries,
}

// SAFETY: a plain handle on memory that is never freed while it is used
// (type invariant); reads are copies the caller validates.
unsafe impl Send for PmemReader {}
// SAFETY: as above: `&PmemReader` only reads.
unsafe impl Sync for PmemReader {}

/// The stage of a medium that is only read, which never has a
/// transaction.
static NO_STAGE: Stage = Stage::EMPTY;

// SAFETY: `Stage` holds only integers and byte arrays, and all zero bytes
// is `Stage::EMPTY`.
unsafe impl Zeroable for Stage {}

// SAFETY: `Verified` holds a bool and atomic integers, and all zero bytes
// is an empty table (see its documentation).
unsafe impl Zeroable for Verified {}

// SAFETY: `Summaries` holds atomic integers only, and all zero bytes is an
// empty table (see its documentation).
unsafe impl Zeroable for Summaries {}

// SAFETY: the mapping is not tied to a thread; each handle has its own
// stage, and its views keep their stores apart (`Fs::sibling`).
unsafe impl Send for PmemMedium {}
// SAFETY: shared access only reads (`Medium::read` takes `&self`).
unsafe impl Sync for PmemMedium {}

impl PmemMedium {
    /// The medium behind a DAX mapping, which it keeps, with the core's
    /// transaction stage allocated (zeroed in place: it is too large to
    /// build on the stack and move).
    pub fn new(dax: DaxMapping) -> kernel::error::Result<Self> {
        let dev = Device {
            verified: KBox::init(pin_init::init_zeroed(), GFP_KERNEL)?,
            // 76 KiB: vmalloc'ed when kmalloc has no such run.
            summaries: KVBox::init(pin_init::init_zeroed(), GFP_KERNEL)?,
            shared: Shared::default(),
            dax,
        };
        Ok(PmemMedium {
            base: dev.dax.base(),
            len: dev.dax.len(),
            stage: KBox::init(pin_init::init_zeroed(), GFP_KERNEL)?,
            dev: Arc::new(dev, GFP_KERNEL)?,
            in_place: Arc::new(InPlaceSeq::default(), GFP_KERNEL)?,
        })
    }

    /// Another writer handle on the same device, with a stage of its own,
    /// for a sibling view of the core (`Fs::sibling`).
    pub fn sibling(&self) -> kernel::error::Result<Self> {
        // INVARIANT: the same mapping, kept by the same `Device`.
        Ok(PmemMedium {
            base: self.base,
            len: self.len,
            stage: KBox::init(pin_init::init_zeroed(), GFP_KERNEL)?,
            dev: self.dev.clone(),
            in_place: self.in_place.clone(),
        })
    }

    fn at(&self, off: u64) -> *mut u8 {
        // `Pm` checked `off + len <= self.len` before calling.
        self.base.wrapping_add(off as usize)
    }

    /// A read-only handle on the same mapping, and the seqcount that
    /// tells its readers whether what they read was committed.
    pub fn reader(&self) -> (PmemReader, Arc<InPlaceSeq>) {
        (self.handle(), self.in_place.clone())
    }

    fn handle(&self) -> PmemReader {
        // INVARIANT: the handle lives beside this medium in the superblock
        // (or, inside `read`, no longer than the borrow of it).
        PmemReader {
            base: self.base,
            len: self.len,
            verified: &*self.dev.verified,
            summaries: &*self.dev.summaries,
        }
    }
}

impl MediumRead for PmemReader {
    fn len(&self) -> u64 {
        self.len
    }

    fn read(&self, off: u64, buf: &mut [u8]) -> Result<()> {
        // `Pm` checked `off + len <= self.len` before calling.
        let src = self.base.wrapping_add(off as usize);
        // SAFETY: the range is mapped (type invariant) and `buf` is a
        // valid destination of that length.
        let left =
            unsafe { bindings::ferrodax_copy_mc(buf.as_mut_ptr().cast(), src.cast(), buf.len()) };
        if left == 0 {
            Ok(())
        } else {
            Err(Error::Io)
        }
    }

    fn stage_area(&self) -> &Stage {
        &NO_STAGE
    }

    fn verified(&self) -> &Verified {
        // SAFETY: the table lives as long as the medium this handle came
        // from (type invariant), which outlives every read through it.
        unsafe { &*self.verified }
    }

    fn summaries(&self) -> Option<&Summaries> {
        // SAFETY: like `verified`, the table lives as long as the medium
        // this handle came from (type invariant).
        Some(unsafe { &*self.summaries })
    }
}

impl MediumRead for PmemMedium {
    fn len(&self) -> u64 {
        self.len
    }

    fn read(&self, off: u64, buf: &mut [u8]) -> Result<()> {
        self.handle().read(off, buf)
    }

    fn stage_area(&self) -> &Stage {
        &self.stage
    }

    fn verified(&self) -> &Verified {
        &self.dev.verified
    }

    fn summaries(&self) -> Option<&Summaries> {
        Some(&self.dev.summaries)
    }
}

impl Medium for PmemMedium {
    fn store(&mut self, off: u64, data: &[u8]) {
        // SAFETY: the range is mapped and ours to write (type invariant).
        unsafe {
            bindings::ferrodax_memcpy_flushcache(
                self.at(off).cast(),
                data.as_ptr().cast(),
                data.len(),
            )
        };
    }

    fn flush(&mut self, _off: u64, _len: u64) {
        // `store` wrote the range back already (memcpy_flushcache).
    }

    fn fence(&mut self) {
        // SAFETY: a store fence has no memory-safety preconditions.
        unsafe { bindings::ferrodax_pmem_fence() };
    }

    fn stage_area_mut(&mut self) -> &mut Stage {
        &mut self.stage
    }

    fn shared(&self) -> &Shared {
        &self.dev.shared
    }

    fn in_place_begin(&mut self) {
        self.in_place.begin();
    }

    fn in_place_end(&mut self) {
        self.in_place.end();
    }
}
