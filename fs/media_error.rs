// SPDX-License-Identifier: GPL-2.0
//! Media errors the DAX device reports under a mounted filesystem: the
//! `notify_failure` holder operation short of a removal (a poisoned page
//! found by a machine check, patrol scrub or `memory_failure()`).
//!
//! The policy is XFS's: lost file data costs exactly the processes that map
//! it (SIGBUS through `mf_dax_kill_procs`) and the filesystem goes on; lost
//! metadata shuts the filesystem down, since nothing read from there can be
//! trusted; a free block costs nothing. The filesystem says which is which
//! ([`FileSystem::media_error`]); the kills happen here, outside its core
//! lock (they take DAX entry locks, which faults hold around the core
//! lock), each under the file's MMAPLOCK shared so that no extent change
//! moves the block between the check and the kill.

use super::bindings;
use super::fs_type::FileSystem;
use super::inode_ref::InodeHold;
use super::iomap::{MapKind, MapReply, MapRequest};
use super::super_block::fs_of;
use crate::mm::mmaplock::MmapLock;
use core::ops::Range;
use kernel::prelude::*;

/// File data a media error destroyed.
#[derive(Debug, Clone, Copy)]
pub struct LostData {
    /// The regular file.
    pub ino: u64,
    /// File byte offset of the first byte lost (block aligned).
    pub pos: u64,
    /// Device byte address of `pos`.
    pub addr: u64,
    /// Bytes lost (whole blocks, contiguous on the device and in the file).
    pub len: u64,
}

/// What a media error destroyed.
#[derive(Default)]
pub struct MediaLoss {
    /// Metadata was hit: the filesystem has shut down.
    pub metadata: bool,
    /// File data that was hit.
    pub data: KVec<LostData>,
}

/// The device bytes `offset..offset + len` of the DAX device failed.
///
/// # Safety
///
/// `sb` must be a mounted superblock of type `T` holding the device (the
/// DAX core calls holder operations only while the holder holds it).
pub(crate) unsafe fn notify<T: FileSystem>(
    sb: *mut bindings::super_block,
    offset: u64,
    len: u64,
    mf_flags: kernel::ffi::c_int,
) -> kernel::ffi::c_int {
    // SAFETY: mounted (contract).
    let fs = unsafe { fs_of::<T>(sb) };
    if fs.is_shut_down() {
        // Nothing can be looked up any more: the kernel's generic handling
        // kills the processes that map the page (through page->mapping).
        return EOPNOTSUPP.to_errno();
    }
    // SAFETY: `s_bdev` is valid while mounted.
    let bytes = unsafe { bindings::ferrodax_bdev_bytes((*sb).s_bdev) } as u64;
    let Some(blocks) = device_blocks(offset, len, fs.dax().part_off(), bytes) else {
        return ENXIO.to_errno();
    };
    let loss = match fs.media_error(blocks) {
        Ok(loss) => loss,
        Err(e) => return e.to_errno(),
    };
    let mut ret = 0;
    for lost in &loss.data {
        // SAFETY: mounted (contract).
        let r = unsafe { kill::<T>(sb, lost, mf_flags) };
        if ret == 0 {
            ret = r;
        }
    }
    if loss.metadata {
        // SAFETY: mounted (contract).
        unsafe { bindings::ferrodax_report_metadata_lost(sb) };
        return EUCLEAN.to_errno();
    }
    ret
}

/// The filesystem blocks (of the block device) that DAX device bytes
/// `offset..offset + len` overlap, or `None` if they miss the block device
/// (another partition's).
fn device_blocks(offset: u64, len: u64, part_off: u64, bytes: u64) -> Option<Range<u64>> {
    const BLOCK: u64 = 4096;
    let start = offset.saturating_sub(part_off);
    let end = offset.saturating_add(len).checked_sub(part_off)?.min(bytes);
    (start < end).then(|| start / BLOCK..end.div_ceil(BLOCK))
}

/// SIGBUS to the processes mapping `lost`, if its file is in memory (one
/// that is not has no mappings) and the blocks are still its.
///
/// # Safety
///
/// As for [`notify`].
unsafe fn kill<T: FileSystem>(
    sb: *mut bindings::super_block,
    lost: &LostData,
    mf_flags: kernel::ffi::c_int,
) -> kernel::ffi::c_int {
    // SAFETY: mounted (contract); the hold ends before we return.
    let Some(hold) = (unsafe { InodeHold::<T>::lookup(sb, lost.ino) }) else {
        return 0;
    };
    let inode = hold.get();
    let _mmap = MmapLock::shared(inode);
    let req = MapRequest {
        pos: lost.pos,
        len: lost.len,
        write: false,
        nowait: false,
    };
    match inode.fs().map(lost.ino, &req, inode.map_cache()) {
        Ok(MapReply {
            offset,
            length,
            kind: MapKind::Mapped { addr, .. },
        }) if offset == lost.pos && addr == lost.addr && length >= lost.len => {}
        // Punched or moved since the filesystem looked: not this file's.
        _ => return 0,
    }
    let shift = bindings::PAGE_SHIFT;
    // SAFETY: the inode is live (held) and its MMAPLOCK is held shared.
    unsafe {
        bindings::ferrodax_kill_procs(
            inode.as_ptr(),
            (lost.pos >> shift) as kernel::ffi::c_ulong,
            (lost.len >> shift) as kernel::ffi::c_ulong,
            mf_flags,
        )
    }
}
