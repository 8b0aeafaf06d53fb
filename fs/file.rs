// SPDX-License-Identifier: GPL-2.0
//! Regular files: the DAX file and address-space operations.
//!
//! Data moves between user memory and pmem through `dax_iomap_rw` and the
//! fault path (`mm/fault.rs`); nothing goes through the page cache. Reads
//! hold `i_rwsem` shared, writes exclusive (so a size update cannot race
//! another extending write). Metadata is durable when each transaction
//! commits, so fsync only has to write back CPU caches of pages dirtied
//! through shared mappings (`dax_writeback_mapping_range`).

use super::bindings;
use super::extent_change;
use super::fs_type::FileSystem;
use super::inode_ref::InodeRef;
use super::ioctl;
use super::iomap::IomapOps;
use crate::mm::fault::FaultOps;
use core::marker::PhantomData;
use kernel::error::{from_result, to_result};
use kernel::prelude::*;

const SEEK_DATA: i32 = 3;
const SEEK_HOLE: i32 = 4;
// fop_flags (cast macros bindgen does not evaluate). MAP_SYNC is accepted
// (`->mmap_prepare` checks the device can honour it); RWF_NOWAIT reads and
// writes are supported without O_DIRECT, as XFS does: DAX I/O never waits
// for page cache I/O, and a write that would allocate returns EAGAIN.
const FOP_BUFFER_RASYNC: bindings::fop_flags_t = 1 << 0;
const FOP_BUFFER_WASYNC: bindings::fop_flags_t = 1 << 1;
const FOP_MMAP_SYNC: bindings::fop_flags_t = 1 << 2;

/// The operation tables of regular files of filesystem `T`.
pub(crate) struct FileOps<T>(PhantomData<T>);

impl<T: FileSystem> FileOps<T> {
    pub(crate) const FOPS: bindings::file_operations = {
        // SAFETY: all-zero is a valid file_operations.
        let mut o: bindings::file_operations = unsafe { core::mem::zeroed() };
        o.llseek = Some(llseek::<T>);
        o.read_iter = Some(read_iter::<T>);
        o.write_iter = Some(write_iter::<T>);
        o.mmap_prepare = Some(mmap_prepare::<T>);
        o.open = Some(bindings::ferrodax_file_open);
        o.fsync = Some(fsync::<T>);
        o.get_unmapped_area = Some(bindings::thp_get_unmapped_area);
        o.splice_read = Some(bindings::copy_splice_read);
        o.splice_write = Some(bindings::iter_file_splice_write);
        o.fallocate = Some(extent_change::fallocate::<T>);
        o.unlocked_ioctl = Some(ioctl::unlocked_ioctl::<T>);
        // Leases (F_SETLEASE, NFS delegations): the VFS refuses them
        // (EINVAL) to a filesystem without a setlease.
        o.setlease = Some(bindings::generic_setlease);
        o.fop_flags = FOP_MMAP_SYNC | FOP_BUFFER_RASYNC | FOP_BUFFER_WASYNC;
        o
    };

    pub(crate) const AOPS: bindings::address_space_operations = {
        // SAFETY: all-zero is a valid address_space_operations.
        let mut o: bindings::address_space_operations = unsafe { core::mem::zeroed() };
        o.writepages = Some(writepages::<T>);
        o.dirty_folio = Some(bindings::noop_dirty_folio);
        o.bmap = Some(bmap::<T>);
        o
    };
}

/// # Safety
///
/// `iocb` is the live kiocb of a read_iter/write_iter call.
unsafe fn iocb_inode<'a, T: FileSystem>(iocb: *mut bindings::kiocb) -> InodeRef<'a, T> {
    // SAFETY: the file of a live kiocb pins its inode.
    unsafe { InodeRef::of_file((*iocb).ki_filp) }
}

/// # Safety
///
/// Only called by the kernel as the `read_iter` callback.
unsafe extern "C" fn read_iter<T: FileSystem>(
    iocb: *mut bindings::kiocb,
    to: *mut bindings::iov_iter,
) -> isize {
    // SAFETY: the VFS's read_iter arguments.
    unsafe {
        if bindings::ferrodax_iter_count(to) == 0 {
            return 0;
        }
        let r = bindings::ferrodax_iocb_lock(iocb, false);
        if r != 0 {
            return r as isize;
        }
        let ret = bindings::dax_iomap_rw(iocb, to, &IomapOps::<T>::OPS);
        bindings::ferrodax_iocb_unlock(iocb, false);
        bindings::ferrodax_file_accessed((*iocb).ki_filp);
        ret
    }
}

/// # Safety
///
/// Only called by the kernel as the `write_iter` callback.
unsafe extern "C" fn write_iter<T: FileSystem>(
    iocb: *mut bindings::kiocb,
    from: *mut bindings::iov_iter,
) -> isize {
    // SAFETY: the VFS's write_iter arguments.
    let inode = unsafe { iocb_inode::<T>(iocb) };
    // SAFETY: as above.
    let r = unsafe { bindings::ferrodax_iocb_lock(iocb, true) };
    if r != 0 {
        return r as isize;
    }
    // SAFETY: as above, under i_rwsem exclusive.
    let ret = unsafe { write_locked(inode, iocb, from) };
    // SAFETY: taken above.
    unsafe { bindings::ferrodax_iocb_unlock(iocb, true) };
    match ret {
        // SAFETY: O_SYNC/O_DSYNC: fsync the written range.
        Ok(n) if n > 0 => unsafe { bindings::ferrodax_generic_write_sync(iocb, n) },
        Ok(n) => n,
        Err(e) => e.to_errno() as isize,
    }
}

/// The write under `i_rwsem`: checks (immutable, O_APPEND, limits, privileges,
/// times), zero the old EOF block's tail if the write leaves a gap, write,
/// then commit the new size.
///
/// # Safety
///
/// The live arguments of write_iter; `i_rwsem` held exclusive.
unsafe fn write_locked<T: FileSystem>(
    inode: InodeRef<'_, T>,
    iocb: *mut bindings::kiocb,
    from: *mut bindings::iov_iter,
) -> Result<isize> {
    // SAFETY: per the contract.
    unsafe {
        // Opened for writing before chattr +i (opens after it fail).
        if bindings::ferrodax_inode_immutable(inode.as_ptr()) {
            return Err(EPERM);
        }
        let count = bindings::generic_write_checks(iocb, from);
        if count <= 0 {
            return Ok(count);
        }
        to_result(bindings::kiocb_modified(iocb))?;
        let (pos, size) = ((*iocb).ki_pos as u64, inode.size());
        if pos > size && size % 4096 != 0 {
            if bindings::ferrodax_iocb_nowait(iocb) {
                return Err(EAGAIN);
            }
            extent_change::zero_eof_gap(inode, size, pos)?;
        }
        let ret = bindings::dax_iomap_rw(iocb, from, &IomapOps::<T>::OPS);
        let end = (*iocb).ki_pos as u64;
        if ret > 0 && end > inode.size() {
            inode.fs().grow_size(inode.ino(), end)?;
            inode.set_size(end);
        }
        Ok(ret)
    }
}

/// # Safety
///
/// Only called by the kernel as the `mmap_prepare` callback.
unsafe extern "C" fn mmap_prepare<T: FileSystem>(
    desc: *mut bindings::vm_area_desc,
) -> kernel::ffi::c_int {
    // SAFETY: the VFS's mmap_prepare argument; its file pins the inode.
    unsafe {
        let fs = InodeRef::<T>::of_file((*desc).file).fs();
        if fs.is_shut_down() {
            return EIO.to_errno();
        }
        bindings::ferrodax_mmap_prepare(desc, fs.dax().as_ptr(), &FaultOps::<T>::VM_OPS)
    }
}

/// fsync/fdatasync/msync/syncfs: metadata is durable at commit; write
/// back the CPU caches of pages dirtied through shared mappings, and for
/// fsync the times that writes, faults and reads left in the inode
/// (`write_inode`; fdatasync and msync need no times, as POSIX has it).
/// After a shutdown nothing can be made durable any more: EIO.
///
/// # Safety
///
/// Only called by the kernel as the `fsync` callback.
unsafe extern "C" fn fsync<T: FileSystem>(
    file: *mut bindings::file,
    start: bindings::loff_t,
    end: bindings::loff_t,
    datasync: kernel::ffi::c_int,
) -> kernel::ffi::c_int {
    // SAFETY: the VFS's fsync arguments; the file pins its inode.
    unsafe {
        let inode = InodeRef::<T>::of_file(file);
        if inode.fs().is_shut_down() {
            return EIO.to_errno();
        }
        let r = bindings::file_write_and_wait_range(file, start, end);
        if r != 0 || datasync != 0 {
            return r;
        }
        bindings::sync_inode_metadata(inode.as_ptr(), 1)
    }
}

/// # Safety
///
/// Only called by the kernel as the `writepages` callback of a DAX file.
unsafe extern "C" fn writepages<T: FileSystem>(
    mapping: *mut bindings::address_space,
    wbc: *mut bindings::writeback_control,
) -> kernel::ffi::c_int {
    // SAFETY: the mapping of a live inode of a mounted `T`.
    unsafe {
        let fs = InodeRef::<T>::from_raw((*mapping).host).fs();
        if fs.is_shut_down() {
            // The device (and the struct pages writeback would flush) may
            // be gone.
            return EIO.to_errno();
        }
        bindings::dax_writeback_mapping_range(mapping, fs.dax().as_ptr(), wbc)
    }
}

/// SEEK_HOLE and SEEK_DATA from the block map; the rest as usual.
///
/// # Safety
///
/// Only called by the kernel as the `llseek` callback.
unsafe extern "C" fn llseek<T: FileSystem>(
    file: *mut bindings::file,
    offset: bindings::loff_t,
    whence: kernel::ffi::c_int,
) -> bindings::loff_t {
    if whence != SEEK_HOLE && whence != SEEK_DATA {
        // SAFETY: the VFS's llseek arguments.
        return unsafe { bindings::generic_file_llseek(file, offset, whence) };
    }
    // SAFETY: as above; the file pins the inode.
    unsafe {
        let inode = InodeRef::<T>::of_file(file);
        bindings::ferrodax_inode_lock(inode.as_ptr(), false);
        let pos = if whence == SEEK_HOLE {
            bindings::iomap_seek_hole(inode.as_ptr(), offset, &IomapOps::<T>::OPS)
        } else {
            bindings::iomap_seek_data(inode.as_ptr(), offset, &IomapOps::<T>::OPS)
        };
        bindings::ferrodax_inode_unlock(inode.as_ptr(), false);
        if pos < 0 {
            return pos;
        }
        bindings::vfs_setpos(file, pos, (*(*inode.as_ptr()).i_sb).s_maxbytes)
    }
}

/// FIEMAP from the block map.
///
/// # Safety
///
/// Only called by the kernel as the `fiemap` inode operation.
pub(crate) unsafe extern "C" fn fiemap<T: FileSystem>(
    inode: *mut bindings::inode,
    info: *mut bindings::fiemap_extent_info,
    start: u64,
    len: u64,
) -> kernel::ffi::c_int {
    from_result(|| {
        // SAFETY: the VFS's fiemap arguments.
        unsafe {
            bindings::ferrodax_inode_lock(inode, false);
            let r = bindings::iomap_fiemap(inode, info, start, len, &IomapOps::<T>::OPS);
            bindings::ferrodax_inode_unlock(inode, false);
            to_result(r)?;
        }
        Ok(0)
    })
}

/// FIBMAP: the device block (counted from the block device's start) of a
/// file block, 0 for a hole. `i_rwsem` shared, as for FIEMAP, keeps a
/// truncate from freeing the block while it is looked up; the answer is
/// stale as soon as the lock drops, as on every filesystem.
///
/// There is no `swap_activate`: swapon reads the swap header through the
/// page cache (`read_folio`), which a DAX file has none of, so it refuses
/// every DAX file before asking the filesystem (ext4's and XFS's too).
///
/// # Safety
///
/// Only called by the kernel as the `bmap` address-space operation, never
/// with `i_rwsem` held.
unsafe extern "C" fn bmap<T: FileSystem>(
    mapping: *mut bindings::address_space,
    block: bindings::sector_t,
) -> bindings::sector_t {
    // SAFETY: the mapping of a live inode.
    unsafe {
        let inode = (*mapping).host;
        bindings::ferrodax_inode_lock(inode, false);
        let r = bindings::iomap_bmap(mapping, block, &IomapOps::<T>::OPS);
        bindings::ferrodax_inode_unlock(inode, false);
        r
    }
}
