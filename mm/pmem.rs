// SPDX-License-Identifier: GPL-2.0
//! The kernel's [`Medium`]: a directly mapped pmem range.
//!
//! Loads use machine-check-safe copies, so poisoned media becomes `EIO`, not
//! a crash. Stores use non-temporal copies (`memcpy_flushcache`), so a flush
//! of a stored range is already done; `flush` still writes back explicitly
//! for ranges stored by other means (zeroing). `fence` is `pmem_wmb()`.

use crate::fcore::{Error, Medium, Result};
use crate::vfs::bindings;
use crate::vfs::dax::DaxMapping;

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
    _dax: DaxMapping,
}

// SAFETY: the mapping is not tied to a thread; the core serialises writers.
unsafe impl Send for PmemMedium {}
// SAFETY: shared access only reads (`Medium::read` takes `&self`).
unsafe impl Sync for PmemMedium {}

impl PmemMedium {
    /// The medium behind a DAX mapping, which it keeps.
    pub fn new(dax: DaxMapping) -> Self {
        PmemMedium {
            base: dax.base(),
            len: dax.len(),
            _dax: dax,
        }
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

    fn flush(&mut self, off: u64, len: u64) {
        // SAFETY: the range is mapped (type invariant).
        unsafe { bindings::ferrodax_pmem_flush(self.at(off).cast(), len as usize) };
    }

    fn fence(&mut self) {
        // SAFETY: a store fence has no memory-safety preconditions.
        unsafe { bindings::ferrodax_pmem_fence() };
    }
}
