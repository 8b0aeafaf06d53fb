// SPDX-License-Identifier: GPL-2.0
//! The DAX fault path: one handler for `fault`, `huge_fault`,
//! `page_mkwrite` and `pfn_mkwrite`, as ext4 and XFS have.
//!
//! Lock order of a fault (locking.rst): `mmap_lock` (or the VMA lock, held
//! by the caller) -> `sb_start_pagefault` (write faults) -> MMAPLOCK shared
//! -> the filesystem's own locks inside iomap. A write fault updates the
//! file times before taking the MMAPLOCK, as ext4 and XFS do (it only
//! marks the inode dirty: `write_inode` stores the times later).

use super::mmaplock::MmapLock;
use crate::vfs::bindings;
use crate::vfs::fs_type::FileSystem;
use crate::vfs::inode_ref::InodeRef;
use crate::vfs::iomap::IomapOps;
use core::marker::PhantomData;

/// The `vm_operations_struct` of DAX files of filesystem `T`.
pub struct FaultOps<T>(PhantomData<T>);

impl<T: FileSystem> FaultOps<T> {
    /// Installed by `->mmap_prepare`.
    pub const VM_OPS: bindings::vm_operations_struct = {
        // SAFETY: all-zero is a valid vm_operations_struct.
        let mut o: bindings::vm_operations_struct = unsafe { core::mem::zeroed() };
        o.fault = Some(fault::<T>);
        o.huge_fault = Some(huge_fault::<T>);
        o.page_mkwrite = Some(fault::<T>);
        o.pfn_mkwrite = Some(fault::<T>);
        o
    };
}

/// # Safety
///
/// Only called by the kernel as the `fault`, `page_mkwrite` or
/// `pfn_mkwrite` callback of a VMA set up by `->mmap_prepare`.
unsafe extern "C" fn fault<T: FileSystem>(vmf: *mut bindings::vm_fault) -> bindings::vm_fault_t {
    // SAFETY: as for `huge_fault`, order 0.
    unsafe { huge_fault::<T>(vmf, 0) }
}

/// # Safety
///
/// Only called by the kernel as the `huge_fault` callback (or through
/// [`fault`]) for a VMA of a DAX file of a mounted `T`.
unsafe extern "C" fn huge_fault<T: FileSystem>(
    vmf: *mut bindings::vm_fault,
    order: kernel::ffi::c_uint,
) -> bindings::vm_fault_t {
    let mut write = false;
    // SAFETY: `vmf` is the live fault; the file pins its inode for the
    // whole fault, so the InodeRef invariant holds for this call.
    let inode = unsafe { InodeRef::<T>::from_raw(bindings::ferrodax_fault_inode(vmf, &mut write)) };
    if write {
        // SAFETY: a shared write fault on a live file.
        unsafe { bindings::ferrodax_fault_start_write(vmf) };
    }
    let mut pfn = 0;
    let mut err = 0;
    let lock = MmapLock::shared(inode);
    // SAFETY: the MMAPLOCK is held shared, so no extent of the file changes
    // under the fault; `vmf` is live.
    let mut result =
        unsafe { bindings::dax_iomap_fault(vmf, order, &mut pfn, &mut err, &IomapOps::<T>::OPS) };
    // SAFETY: plain flag test.
    if write && unsafe { bindings::ferrodax_fault_needs_dsync(result) } {
        // MAP_SYNC over newly allocated blocks: fsync before the page is
        // mapped writable, still under the MMAPLOCK.
        // SAFETY: as above; `pfn` was filled in by dax_iomap_fault.
        result = unsafe { bindings::dax_finish_sync_fault(vmf, order, pfn) };
    }
    drop(lock);
    if write {
        // SAFETY: pairs with ferrodax_fault_start_write above.
        unsafe { bindings::ferrodax_fault_end_write(vmf) };
    }
    result
}
