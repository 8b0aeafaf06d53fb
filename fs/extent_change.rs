// SPDX-License-Identifier: GPL-2.0
//! Changes to a file's block map under its mappings: truncate and
//! fallocate. Each takes the MMAPLOCK exclusive here and nowhere else.
//!
//! Order (locking.rst): the caller holds `i_rwsem` exclusive ->
//! `inode_dio_wait` -> MMAPLOCK exclusive -> pinned-page wait (which drops
//! and retakes the MMAPLOCK) -> zero partial blocks -> the filesystem's
//! transaction(s). Nothing here touches user memory.

use super::bindings;
use super::fs_type::FileSystem;
use super::inode_ref::InodeRef;
use super::iomap::IomapOps;
use crate::mm::layout::break_layout;
use crate::mm::mmaplock::{Exclusive, MmapLock};
use kernel::error::{from_result, to_result};
use kernel::prelude::*;

const BLOCK: u64 = 4096;
const FALLOC_FL_KEEP_SIZE: i32 = 0x01;
const FALLOC_FL_PUNCH_HOLE: i32 = 0x02;
const FALLOC_FL_COLLAPSE_RANGE: i32 = 0x08;
const FALLOC_FL_ZERO_RANGE: i32 = 0x10;
const FALLOC_FL_INSERT_RANGE: i32 = 0x20;

fn round_up(x: u64) -> u64 {
    x.div_ceil(BLOCK) * BLOCK
}

/// Zero `pos..end` in place (mapped blocks only; holes read as zero).
fn zero<T: FileSystem>(inode: InodeRef<'_, T>, pos: u64, end: u64) -> Result {
    if pos >= end {
        return Ok(());
    }
    // SAFETY: the inode is live; the MMAPLOCK is held by our callers.
    to_result(unsafe {
        bindings::dax_zero_range(
            inode.as_ptr(),
            pos as i64,
            (end - pos) as i64,
            core::ptr::null_mut(),
            &IomapOps::<T>::OPS,
        )
    })
}

/// Take the MMAPLOCK exclusive for an extent change, after direct I/O
/// drained.
fn lock<T: FileSystem>(inode: InodeRef<'_, T>) -> MmapLock<'_, T, Exclusive> {
    // SAFETY: the inode is live.
    unsafe { bindings::inode_dio_wait(inode.as_ptr()) };
    MmapLock::exclusive(inode)
}

/// Remove the DAX entries of `start..=end` from the mapping (the user
/// mappings went in `break_layout`).
fn drop_entries<T: FileSystem>(inode: InodeRef<'_, T>, start: u64, end: u64) {
    // SAFETY: the inode is live and its MMAPLOCK held exclusive.
    unsafe {
        bindings::truncate_pagecache_range(
            inode.as_ptr(),
            start as i64,
            end.min(i64::MAX as u64) as i64,
        )
    };
}

/// truncate(2) from `old` to `new` bytes: `commit` runs the filesystem's
/// size change (and refreshes the VFS inode) under the MMAPLOCK.
///
/// Shrinking unmaps and waits for pins past the new end first, so no block
/// is freed while it is mapped or pinned, and zeroes the tail of the new
/// last block; growing zeroes the tail of the old last block, which a
/// shared mapping may have written past EOF.
pub(crate) fn resize<T: FileSystem>(
    inode: InodeRef<'_, T>,
    old: u64,
    new: u64,
    commit: impl FnOnce() -> Result,
) -> Result {
    let mut lock = lock(inode);
    if new < old {
        break_layout(&mut lock, round_up(new), u64::MAX)?;
    }
    zero(
        inode,
        old.min(new),
        round_up(old.min(new)).min(old.max(new)),
    )?;
    commit()?;
    if new < old {
        drop_entries(inode, round_up(new), u64::MAX);
    }
    Ok(())
}

/// A write at `pos` beyond EOF (`size`): zero the tail of the old EOF
/// block up to the write, since a shared mapping may have stored past EOF
/// there and the gap must read as zeroes once the size grows.
pub(crate) fn zero_eof_gap<T: FileSystem>(inode: InodeRef<'_, T>, size: u64, pos: u64) -> Result {
    let _lock = lock(inode);
    zero(inode, size, round_up(size).min(pos))
}

/// Every fallocate mode ferrodax has.
const SUPPORTED: i32 = FALLOC_FL_KEEP_SIZE
    | FALLOC_FL_PUNCH_HOLE
    | FALLOC_FL_ZERO_RANGE
    | FALLOC_FL_COLLAPSE_RANGE
    | FALLOC_FL_INSERT_RANGE;

/// The `fallocate` file operation: default and KEEP_SIZE allocation,
/// PUNCH_HOLE, ZERO_RANGE, COLLAPSE_RANGE and INSERT_RANGE (the VFS refuses
/// other flags with the last two); other modes are `EOPNOTSUPP`.
///
/// # Safety
///
/// Only called by the kernel as the `fallocate` callback (the VFS checked
/// the range against `s_maxbytes`, the file mode and the flag combinations
/// it knows; it holds no inode lock).
pub(crate) unsafe extern "C" fn fallocate<T: FileSystem>(
    file: *mut bindings::file,
    mode: kernel::ffi::c_int,
    offset: bindings::loff_t,
    len: bindings::loff_t,
) -> kernel::ffi::c_long {
    // SAFETY: the file pins its inode for the call.
    let inode = unsafe { InodeRef::<T>::of_file(file) };
    let r = from_result(|| {
        if mode & !SUPPORTED != 0
            || mode & FALLOC_FL_PUNCH_HOLE != 0 && mode & FALLOC_FL_ZERO_RANGE != 0
        {
            return Err(EOPNOTSUPP);
        }
        let (start, end) = (offset as u64, (offset + len) as u64);
        // SAFETY: the inode is live.
        unsafe { bindings::ferrodax_inode_lock(inode.as_ptr(), true) };
        // SAFETY: `file` is live; i_rwsem is held.
        let r = to_result(unsafe { bindings::file_modified(file) })
            .and_then(|()| change(inode, mode, start, end));
        // SAFETY: taken above.
        unsafe { bindings::ferrodax_inode_unlock(inode.as_ptr(), true) };
        r.map(|()| 0)
    });
    r as kernel::ffi::c_long
}

/// Body of `fallocate` under `i_rwsem`.
fn change<T: FileSystem>(inode: InodeRef<'_, T>, mode: i32, start: u64, end: u64) -> Result {
    let size = inode.size();
    let shift = mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE) != 0;
    let grow = !shift && mode & FALLOC_FL_KEEP_SIZE == 0 && end > size;
    if grow {
        // SAFETY: the inode is live.
        to_result(unsafe { bindings::inode_newsize_ok(inode.as_ptr(), end as i64) })?;
    }
    if shift && (start % BLOCK != 0 || end % BLOCK != 0) {
        return Err(EINVAL);
    }
    let (fs, ino) = (inode.fs(), inode.ino());
    let (first, last) = (round_up(start), end / BLOCK * BLOCK);
    let r = if mode & FALLOC_FL_PUNCH_HOLE != 0 {
        let mut lock = lock(inode);
        break_layout(&mut lock, start, end - 1)?;
        if first < last {
            zero(inode, start, first)?;
            zero(inode, last, end)?;
            drop_entries(inode, first, last - 1);
            fs.punch(ino, first, last)
        } else {
            zero(inode, start, end)
        }
    } else if mode & FALLOC_FL_ZERO_RANGE != 0 {
        let _lock = lock(inode);
        fs.allocate(ino, start / BLOCK * BLOCK, round_up(end))
            .and_then(|()| zero(inode, start, end))
    } else if shift {
        // Every block from `start` on moves: unmap all of it first.
        let mut lock = lock(inode);
        break_layout(&mut lock, start, u64::MAX)?;
        drop_entries(inode, start, u64::MAX);
        if mode & FALLOC_FL_COLLAPSE_RANGE != 0 {
            fs.collapse(ino, start, end - start)
        } else {
            fs.insert(ino, start, end - start)
        }
    } else {
        fs.allocate(ino, start / BLOCK * BLOCK, round_up(end))
    };
    let r = r.and_then(|()| if grow { fs.grow_size(ino, end) } else { Ok(()) });
    // Blocks were allocated or freed even if a later step failed.
    // SAFETY: the inode is live and its i_rwsem held.
    unsafe { super::inode::refresh::<T>(inode.as_ptr()) }?;
    r
}
