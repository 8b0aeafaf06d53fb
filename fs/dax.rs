// SPDX-License-Identifier: GPL-2.0
//! The DAX device behind a block device, mapped into the kernel.

use super::bindings;
use super::fs_type::FileSystem;
use super::media_error;
use super::super_block::fs_of;
use core::marker::PhantomData;
use kernel::prelude::*;

/// `MF_MEM_PRE_REMOVE` of `enum mf_flags`: the device is being removed.
const MF_MEM_PRE_REMOVE: kernel::ffi::c_int = 1 << 7;

/// The holder operations of a ferrodax superblock of type `T` on its DAX
/// device.
struct HolderOps<T>(PhantomData<T>);

impl<T: FileSystem> HolderOps<T> {
    const OPS: bindings::dax_holder_operations = bindings::dax_holder_operations {
        notify_failure: Some(notify_failure::<T>),
    };
}

/// The DAX device reports a failure of `offset..offset + len`.
///
/// Pre-remove (the namespace is unbound, the device unplugged): shut the
/// filesystem down so nothing touches the device mapping again, then break
/// the layout of every file: unmap it, wait for the page references to
/// drop, delete its DAX entries before the device's struct pages go (a
/// later access faults and gets SIGBUS). A media error: see
/// [`media_error`](super::media_error).
///
/// # Safety
///
/// Only called by the DAX core as the `notify_failure` holder operation of
/// a device taken by [`DaxMapping::new`] for a superblock of type `T`.
unsafe extern "C" fn notify_failure<T: FileSystem>(
    dax_dev: *mut bindings::dax_device,
    offset: u64,
    len: u64,
    mf_flags: kernel::ffi::c_int,
) -> kernel::ffi::c_int {
    // SAFETY: the holder is the superblock (see `DaxMapping::new`); it
    // holds the device until put_super, which runs after the filesystem
    // value is gone only once the holder was released.
    unsafe {
        let sb = bindings::dax_holder(dax_dev).cast::<bindings::super_block>();
        if sb.is_null() || (*sb).s_fs_info.is_null() {
            // Still mounting: nothing of ours maps the device yet.
            return EOPNOTSUPP.to_errno();
        }
        if mf_flags & MF_MEM_PRE_REMOVE == 0 {
            return media_error::notify::<T>(sb, offset, len, mf_flags);
        }
        pr_err!("pmem device is going away: shutting the filesystem down\n");
        fs_of::<T>(sb).shutdown();
        crate::mm::layout::break_layout_all(sb);
    }
    0
}

/// A DAX device held by a superblock, with its whole range mapped.
///
/// # Invariants
///
/// `dev` is a reference from `fs_dax_get_by_bdev` with holder `holder`,
/// released on drop; `base..base + len` is its kernel mapping, covering the
/// whole block device.
pub struct DaxMapping {
    dev: *mut bindings::dax_device,
    holder: *mut kernel::ffi::c_void,
    part_off: u64,
    base: *mut u8,
    len: u64,
    first_pfn: u64,
}

/// The DAX device of a mounted filesystem, as the iomap and writeback
/// paths name it.
///
/// # Invariants
///
/// `dev` is the device of a [`DaxMapping`] held by a mounted superblock;
/// every user runs on behalf of an inode of that superblock, so the
/// mapping (dropped in put_super) outlives the use.
#[derive(Clone, Copy)]
pub struct DaxDev {
    dev: *mut bindings::dax_device,
    part_off: u64,
}

// SAFETY: a plain handle; see the type invariant for its lifetime.
unsafe impl Send for DaxDev {}
// SAFETY: as above.
unsafe impl Sync for DaxDev {}

impl DaxDev {
    /// The device, for `iomap.dax_dev` and `dax_writeback_mapping_range`.
    pub(crate) fn as_ptr(&self) -> *mut bindings::dax_device {
        self.dev
    }

    /// Byte offset of the block device's first byte on the DAX device
    /// (non-zero on a partition), added to every `iomap.addr`.
    pub(crate) fn part_off(&self) -> u64 {
        self.part_off
    }
}

// SAFETY: the DAX device reference and mapping are not tied to a thread.
unsafe impl Send for DaxMapping {}
// SAFETY: `DaxMapping` has no interior mutability of its own.
unsafe impl Sync for DaxMapping {}

impl DaxMapping {
    /// Take the DAX device of `sb`'s block device and map all of it.
    ///
    /// # Safety
    ///
    /// `sb` must be a superblock being filled, with `s_bdev` set.
    pub(crate) unsafe fn new<T: FileSystem>(
        sb: *mut bindings::super_block,
    ) -> core::result::Result<Self, (Error, &'static CStr)> {
        let mut start_off = 0u64;
        // SAFETY: `s_bdev` is valid while the superblock is being filled.
        let bdev = unsafe { (*sb).s_bdev };
        // SAFETY: `bdev` is valid; the superblock is the holder and outlives
        // the reference (dropped in put_super or on fill_super failure); the
        // holder operations are static.
        let dev = unsafe {
            bindings::fs_dax_get_by_bdev(bdev, &mut start_off, sb.cast(), &HolderOps::<T>::OPS)
        };
        if dev.is_null() {
            return Err((
                EINVAL,
                c"device does not support DAX (need an fsdax pmem namespace)",
            ));
        }
        let mapping = DaxMapping {
            dev,
            holder: sb.cast(),
            part_off: start_off,
            base: core::ptr::null_mut(),
            len: 0,
            first_pfn: 0,
        };
        mapping.map(bdev, start_off)
    }

    fn map(
        mut self,
        bdev: *mut bindings::block_device,
        start_off: u64,
    ) -> core::result::Result<Self, (Error, &'static CStr)> {
        // SAFETY: `bdev` is valid (see `new`).
        let bytes = unsafe { bindings::ferrodax_bdev_bytes(bdev) } as u64;
        let pages = bytes >> bindings::PAGE_SHIFT;
        let mut kaddr = core::ptr::null_mut();
        let mut pfn = 0;
        // SAFETY: `dev` is a live DAX device reference (type invariant);
        // dax_direct_access must be called under the DAX read lock.
        let avail = unsafe {
            let id = bindings::dax_read_lock();
            let avail = bindings::dax_direct_access(
                self.dev,
                (start_off >> bindings::PAGE_SHIFT) as kernel::ffi::c_ulong,
                pages as kernel::ffi::c_long,
                bindings::dax_access_mode_DAX_ACCESS,
                &mut kaddr,
                &mut pfn,
            );
            bindings::dax_read_unlock(id);
            avail
        };
        if avail < 0 || (avail as u64) < pages {
            return Err((EIO, c"DAX mapping does not cover the whole device"));
        }
        self.base = kaddr.cast();
        self.len = pages << bindings::PAGE_SHIFT;
        self.first_pfn = pfn as u64;
        Ok(self)
    }

    /// The device, for the data path.
    pub fn device(&self) -> DaxDev {
        // INVARIANT: the filesystem keeps this mapping until put_super.
        DaxDev {
            dev: self.dev,
            part_off: self.part_off,
        }
    }

    /// The device blocks that are 2 MiB-aligned in physical memory, as PMD
    /// mappings need them, are those `== huge_phase()` modulo 512: the
    /// device's first page need not be aligned (a partition; fsdax
    /// namespaces start their data 2 MiB-aligned on x86).
    pub fn huge_phase(&self) -> u64 {
        const PMD_PAGES: u64 = 512;
        (PMD_PAGES - self.first_pfn % PMD_PAGES) % PMD_PAGES
    }

    /// Start of the kernel mapping.
    pub fn base(&self) -> *mut u8 {
        self.base
    }

    /// Bytes mapped.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing is mapped (never, for a mapping that was built).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for DaxMapping {
    fn drop(&mut self) {
        // SAFETY: `dev` was taken with this holder (type invariant).
        unsafe { bindings::fs_put_dax(self.dev, self.holder) };
    }
}

/// The DAX read lock (`dax_read_lock()`, an SRCU read section): held by
/// every read of the device mapping that takes no filesystem lock, so
/// that removal of the device waits for it. `kill_dax` first notifies the
/// holder (which shuts the filesystem down, see [`notify_failure`]), then
/// synchronises with these sections before the mapping goes: a read that
/// began before the shutdown finishes first, and one that begins after it
/// sees the shutdown and does not touch the mapping.
///
/// # Invariants
///
/// `id` is what `dax_read_lock()` returned on this task, released on drop.
pub struct DaxReadLock {
    id: kernel::ffi::c_int,
    /// SRCU read sections are released by the task that took them.
    _not_send: PhantomData<*mut ()>,
}

impl DaxReadLock {
    /// Enter a DAX read section (it may sleep inside; SRCU allows that).
    pub fn lock() -> Self {
        // SAFETY: no preconditions; released by `drop`.
        let id = unsafe { bindings::dax_read_lock() };
        // INVARIANT: taken just now, on this task.
        DaxReadLock {
            id,
            _not_send: PhantomData,
        }
    }
}

impl Drop for DaxReadLock {
    fn drop(&mut self) {
        // SAFETY: `id` came from `dax_read_lock()` on this task (type
        // invariant).
        unsafe { bindings::dax_read_unlock(self.id) };
    }
}
