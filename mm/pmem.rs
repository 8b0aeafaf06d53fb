// SPDX-License-Identifier: GPL-2.0
//! The kernel's [`Medium`]: a directly mapped pmem range.
//!
//! Loads use machine-check-safe copies, so poisoned media becomes `EIO`, not
//! a crash. Every store to the medium goes through [`Medium::store`], which
//! uses non-temporal copies (`memcpy_flushcache`): the bytes have left the
//! CPU caches when it returns, so `flush` has nothing left to write back
//! (a second `clwb` over the same lines would only cost time). `fence` is
//! `pmem_wmb()`, which orders those stores before later ones.

use crate::fcore::persist::Stage;
use crate::fcore::{Error, Medium, Result};
use crate::vfs::bindings;
use crate::vfs::dax::DaxMapping;
use kernel::prelude::*;

/// A pmem device mapped into the kernel.
///
/// # Invariants
///
/// `base..base + len` is the mapping held by `_dax`, so it stays mapped and
/// writable for the lifetime of this value, and no other code writes it (the
/// filesystem owns the device while mounted).
pub struct PmemMedium {
    base: *mut u8,
    len: u64,
    stage: KBox<Stage>,
    _dax: DaxMapping,
}

// SAFETY: `Stage` holds only integers and byte arrays, and all zero bytes
// is `Stage::EMPTY`.
unsafe impl Zeroable for Stage {}

// SAFETY: the mapping is not tied to a thread; the core serialises writers.
unsafe impl Send for PmemMedium {}
// SAFETY: shared access only reads (`Medium::read` takes `&self`).
unsafe impl Sync for PmemMedium {}

impl PmemMedium {
    /// The medium behind a DAX mapping, which it keeps, with the core's
    /// transaction stage allocated (zeroed in place: it is too large to
    /// build on the stack and move).
    pub fn new(dax: DaxMapping) -> kernel::error::Result<Self> {
        Ok(PmemMedium {
            base: dax.base(),
            len: dax.len(),
            stage: KBox::init(pin_init::init_zeroed(), GFP_KERNEL)?,
            _dax: dax,
        })
    }

    fn at(&self, off: u64) -> *mut u8 {
        // `Pm` checked `off + len <= self.len` before calling.
        self.base.wrapping_add(off as usize)
    }
}

impl Medium for PmemMedium {
    fn len(&self) -> u64 {
        self.len
    }

    fn read(&self, off: u64, buf: &mut [u8]) -> Result<()> {
        // SAFETY: the range is mapped (type invariant, bounds checked by the
        // caller) and `buf` is a valid destination of that length.
        let left = unsafe {
            bindings::ferrodax_copy_mc(buf.as_mut_ptr().cast(), self.at(off).cast(), buf.len())
        };
        if left == 0 {
            Ok(())
        } else {
            Err(Error::Io)
        }
    }

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

    fn stage_area(&self) -> &Stage {
        &self.stage
    }

    fn stage_area_mut(&mut self) -> &mut Stage {
        &mut self.stage
    }
}
