// SPDX-License-Identifier: GPL-2.0
//! The iomap operations ("get_blocks") of the DAX data path.
//!
//! One callback serves reads, writes, faults, zeroing, SEEK_HOLE/DATA,
//! FIEMAP and FIBMAP: it asks the filesystem to map a byte range
//! ([`FileSystem::map`]) and reports a hole or a mapped extent. A write or
//! write fault over a hole allocates there and then, and the filesystem
//! zeroes and persists the new blocks *before* they are mapped (so two
//! faults racing on one hole can never see stale data, seed 003); there are
//! no unwritten extents and no completion callback, so `iomap_end` does not
//! exist.

use super::bindings;
use super::fs_type::FileSystem;
use super::inode_ref::InodeRef;
use core::marker::PhantomData;
use kernel::error::from_result;
use kernel::prelude::*;

/// A mapping request, decoded from the iomap flags.
#[derive(Debug, Clone, Copy)]
pub struct MapRequest {
    /// First byte wanted.
    pub pos: u64,
    /// Bytes wanted (at least 1).
    pub len: u64,
    /// Allocate holes (write, write fault).
    pub write: bool,
    /// The caller may not sleep on allocation (RWF_NOWAIT): a hole to fill
    /// is `EAGAIN`.
    pub nowait: bool,
}

/// What a byte range maps to.
#[derive(Debug, Clone, Copy)]
pub enum MapKind {
    /// Nothing allocated: reads see zeroes.
    Hole,
    /// Allocated at this byte offset of the device.
    Mapped {
        /// Device byte address of `offset`.
        addr: u64,
        /// Allocated (and already zeroed and persisted) by this request:
        /// the inode's block count after the allocation.
        new: Option<u64>,
    },
}

/// The answer to a [`MapRequest`]: `offset..offset + length` (block
/// aligned, containing `pos`) is one hole or one contiguous extent.
#[derive(Debug, Clone, Copy)]
pub struct MapReply {
    /// File byte offset of the range.
    pub offset: u64,
    /// Its length in bytes.
    pub length: u64,
    /// Hole or extent.
    pub kind: MapKind,
}

/// The `iomap_ops` table of filesystem `T`.
pub struct IomapOps<T>(PhantomData<T>);

impl<T: FileSystem> IomapOps<T> {
    /// Passed to `dax_iomap_rw`, `dax_iomap_fault`, `dax_zero_range`,
    /// `iomap_seek_*`, `iomap_fiemap` and `iomap_bmap`.
    pub const OPS: bindings::iomap_ops = bindings::iomap_ops {
        iomap_begin: None,
        iomap_end: None,
        iomap_next: Some(iomap_next::<T>),
    };
}

/// `->iomap_next`: what `DEFINE_IOMAP_ITER_NEXT(name, begin)` expands to
/// (`iomap_iter_next` is an inline), with no end callback.
///
/// # Safety
///
/// Only called by `iomap_iter` with its iterator and the maps in it.
unsafe extern "C" fn iomap_next<T: FileSystem>(
    iter: *const bindings::iomap_iter,
    iomap: *mut bindings::iomap,
    srcmap: *mut bindings::iomap,
) -> kernel::ffi::c_int {
    // SAFETY: `iter`, `iomap` and `srcmap` are valid for the call.
    unsafe {
        if (*iomap).length != 0 {
            let ret = bindings::iomap_iter_continue(iter, iomap, srcmap, 0);
            if ret <= 0 {
                return ret;
            }
        }
        let inode = InodeRef::<T>::from_raw((*iter).inode);
        match begin(inode, (*iter).pos, (*iter).len, (*iter).flags, &mut *iomap) {
            0 => 1,
            e => e,
        }
    }
}

/// Fill `iomap` for `pos..pos + len` of `inode`.
fn begin<T: FileSystem>(
    inode: InodeRef<'_, T>,
    pos: i64,
    len: u64,
    flags: u32,
    iomap: &mut bindings::iomap,
) -> kernel::ffi::c_int {
    from_result(|| {
        let pos = u64::try_from(pos).map_err(|_| EINVAL)?;
        let req = MapRequest {
            pos,
            len: len.max(1),
            write: flags & bindings::IOMAP_WRITE != 0,
            nowait: flags & bindings::IOMAP_NOWAIT != 0,
        };
        let fs = inode.fs();
        let reply = fs.map(inode.ino(), &req, inode.map_cache())?;
        let dax = fs.dax();
        iomap.offset = reply.offset as i64;
        iomap.length = reply.length;
        iomap.flags = 0;
        // SAFETY: the superblock of a live inode is live.
        iomap.bdev = unsafe { (*(*inode.as_ptr()).i_sb).s_bdev };
        iomap.dax_dev = dax.as_ptr();
        match reply.kind {
            MapKind::Hole => {
                iomap.type_ = bindings::IOMAP_HOLE as u16;
                iomap.addr = u64::MAX; // IOMAP_NULL_ADDR
            }
            MapKind::Mapped { addr, new } => {
                iomap.type_ = bindings::IOMAP_MAPPED as u16;
                // DAX addresses count from the start of the DAX device,
                // FIEMAP's from the block device's (a partition's start
                // is not block 0 of its DAX device; ext4 does the same).
                iomap.addr = addr;
                if flags & bindings::IOMAP_DAX != 0 {
                    iomap.addr += dax.part_off();
                }
                if let Some(blocks) = new {
                    inode.set_blocks(blocks);
                    // The allocation is committed and durable already; the
                    // flag makes a MAP_SYNC fault on it go through fsync
                    // anyway (dax_finish_sync_fault), which costs a no-op
                    // and keeps MAP_SYNC correct if metadata ever becomes
                    // asynchronous.
                    iomap.flags |= (bindings::IOMAP_F_NEW | bindings::IOMAP_F_DIRTY) as u16;
                }
            }
        }
        if req.write && pos.saturating_add(req.len) > inode.size() {
            // The size changes when the write completes: O_DSYNC must sync.
            iomap.flags |= bindings::IOMAP_F_DIRTY as u16;
        }
        Ok(0)
    })
}
