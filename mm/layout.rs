// SPDX-License-Identifier: GPL-2.0
//! Pinned DAX pages (seed 002): before blocks are freed or moved, wait
//! until no GUP/DMA user still holds a page of the range.

use super::mmaplock::{Exclusive, MmapLock};
use crate::vfs::bindings;
use crate::vfs::fs_type::FileSystem;
use kernel::error::to_result;
use kernel::prelude::*;

/// The wait callback of `dax_break_layout`: called between checks of a busy
/// page, it drops the MMAPLOCK so the pinning task can make progress (a
/// fault of its own, an munmap), sleeps, and takes the lock back, as
/// `xfs_wait_dax_page` does.
///
/// # Safety
///
/// Only called by `dax_break_layout` from [`break_layout`] or
/// [`break_layout_all`], whose callers hold `inode`'s invalidate_lock
/// exclusive.
unsafe extern "C" fn wait_dax_page(inode: *mut bindings::inode) {
    // SAFETY: held exclusive by our caller (contract); it is held again
    // when we return, as the guard in `break_layout` expects.
    unsafe {
        bindings::ferrodax_invalidate_unlock(inode);
        bindings::schedule();
        bindings::ferrodax_invalidate_lock(inode);
    }
}

/// Unmap `start..=end` (bytes) of the file from every address space and
/// wait until no page of it is pinned. The wait is interruptible: a signal
/// ends it with `ERESTARTSYS` and the caller must then change nothing.
///
/// The MMAPLOCK is dropped and retaken while waiting, so the caller must
/// not rely on anything it looked up under the lock before this call.
pub fn break_layout<T: FileSystem>(
    lock: &mut MmapLock<'_, T, Exclusive>,
    start: u64,
    end: u64,
) -> Result {
    let inode = lock.inode().as_ptr();
    // SAFETY: the inode is live and its invalidate_lock is held exclusive
    // (the guard's invariant), as the callback requires; `&mut` keeps the
    // guard from being dropped or shared meanwhile.
    to_result(unsafe {
        bindings::ferrodax_invalidate_assert_held_exclusive(inode);
        bindings::dax_break_layout(
            inode,
            start as i64,
            end.min(i64::MAX as u64) as i64,
            Some(wait_dax_page),
        )
    })
}

/// Final layout break at eviction: waits (uninterruptibly: the blocks are
/// about to be freed and nobody can be told) for the last pin to go.
///
/// # Safety
///
/// `inode` is being evicted: no new mapping or pin of it can appear.
pub unsafe fn break_layout_final(inode: *mut bindings::inode) {
    // SAFETY: per the contract.
    unsafe { bindings::dax_break_layout_final(inode) }
}

/// The device goes away: break the layout of every regular file of `sb`
/// (unmap, wait for references to go, delete the DAX entries that name the
/// device's struct pages), each under its MMAPLOCK exclusive.
///
/// # Safety
///
/// `sb` is a mounted superblock whose filesystem has shut down, so no
/// fault maps a page again once its file is done.
pub unsafe fn break_layout_all(sb: *mut bindings::super_block) {
    // SAFETY: per the contract; the helper holds each inode's
    // invalidate_lock exclusive around `dax_break_layout`, as the callback
    // requires.
    unsafe { bindings::ferrodax_break_layout_all(sb, Some(wait_dax_page)) }
}
