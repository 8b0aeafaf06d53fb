// SPDX-License-Identifier: GPL-2.0
//! fill_super and the super_operations table.
//!
//! # Invariants of a ferrodax superblock
//!
//! From a successful `fill_super::<T>` until `put_super::<T>`, `s_fs_info`
//! is a leaked `KBox<T>` and `s_op` is `SuperOps::<T>::OPS`.

use super::bindings;
use super::dax::DaxMapping;
use super::fs_type::{fc_error, options, Access, FileSystem, Registration};
use super::inode::{iget, S_IFDIR, S_IFMT};
use super::inode_cache::InodeCache;
use super::xattr::XattrOps;
use core::marker::PhantomData;
use kernel::error::from_result;
use kernel::prelude::*;

/// The filesystem value of a mounted superblock.
///
/// # Safety
///
/// `sb` must be a live superblock of filesystem type `T` between fill_super
/// and put_super (see the module's invariants).
pub(crate) unsafe fn fs_of<'a, T: FileSystem>(sb: *mut bindings::super_block) -> &'a T {
    // SAFETY: per the contract `s_fs_info` is a `KBox<T>` that outlives `'a`.
    unsafe { &*(*sb).s_fs_info.cast::<T>() }
}

struct SuperOps<T>(PhantomData<T>);

impl<T: FileSystem> SuperOps<T> {
    const OPS: bindings::super_operations = {
        // SAFETY: all-zero is a valid super_operations (no callbacks).
        let mut ops: bindings::super_operations = unsafe { core::mem::zeroed() };
        ops.alloc_inode = Some(alloc_inode::<T>);
        ops.free_inode = Some(free_inode);
        ops.put_super = Some(put_super::<T>);
        ops.statfs = Some(statfs::<T>);
        ops.evict_inode = Some(evict_inode::<T>);
        ops.write_inode = Some(write_inode::<T>);
        ops.shutdown = Some(shutdown::<T>);
        ops.show_options = Some(show_options::<T>);
        ops.freeze_fs = Some(freeze_fs);
        ops
    };
}

/// Corruption under `errors=panic`: panic the machine, as ext4 does (the
/// kernel's `panic()`; a Rust panic would only oops the current task, which
/// may hold VFS locks, and leave the machine running).
pub(crate) fn panic_on_corruption(what: &str) -> ! {
    // SAFETY: `what` is valid for `what.len()` bytes; the call does not
    // return.
    unsafe { bindings::ferrodax_panic_corrupt(what.as_ptr().cast(), what.len()) }
}

/// # Safety
///
/// Only called by the kernel as the `fill_super` callback, with the arguments
/// and locking that callback guarantees.
pub(crate) unsafe extern "C" fn fill_super<T: FileSystem>(
    sb: *mut bindings::super_block,
    fc: *mut bindings::fs_context,
) -> kernel::ffi::c_int {
    // SAFETY: the VFS calls this with a new superblock for block device
    // `s_bdev` and the context that asked for it.
    match unsafe { try_fill_super::<T>(sb, fc) } {
        Ok(()) => 0,
        Err((e, msg)) => {
            fc_error(fc, msg);
            e.to_errno()
        }
    }
}

/// # Safety
///
/// As for `fill_super`.
unsafe fn try_fill_super<T: FileSystem>(
    sb: *mut bindings::super_block,
    fc: *mut bindings::fs_context,
) -> core::result::Result<(), (Error, &'static CStr)> {
    // SAFETY: `sb` is being filled and `s_bdev` is open.
    if unsafe { bindings::sb_set_blocksize(sb, 4096) } == 0 {
        return Err((EINVAL, c"device cannot use 4096-byte blocks"));
    }
    // SAFETY: as above.
    let dax = unsafe { DaxMapping::new::<T>(sb) }?;
    // SAFETY: `sb` is live and `s_bdev` open.
    let access = unsafe {
        if bindings::ferrodax_bdev_read_only(sb) {
            // The VFS mounts a read-only device only read-only
            // (setup_bdev_super), and remounts it read-write never.
            Access::DeviceReadOnly
        } else if bindings::ferrodax_sb_rdonly(sb) {
            Access::ReadOnly
        } else {
            Access::ReadWrite
        }
    };
    // SAFETY: `fc` is our context (initialised by init_fs_context).
    let opts = unsafe { options::<T>(fc) };
    let fs = T::fill_super(opts, access, dax)?;
    let fs = KBox::new(fs, GFP_KERNEL).map_err(|_| (ENOMEM, c"out of memory"))?;
    let root_ino = fs.root_ino();
    // SAFETY: `sb` is being filled: nothing else uses these fields yet. From
    // here the module invariants hold.
    unsafe {
        (*sb).s_fs_info = KBox::into_raw(fs).cast();
        (*sb).s_op = &SuperOps::<T>::OPS;
        let handlers: &'static [_; 4] = &XattrOps::<T>::HANDLERS;
        (*sb).s_xattr = handlers.as_ptr().cast();
        // POSIX ACLs always (as on XFS): the VFS leaves the umask to
        // posix_acl_create (fs/acl.rs).
        bindings::ferrodax_sb_enable_acls(sb);
        (*sb).s_magic = T::MAGIC as kernel::ffi::c_ulong;
        (*sb).s_maxbytes = T::MAX_BYTES;
        (*sb).s_time_gran = 1;
        (*sb).s_time_min = i64::MIN;
        (*sb).s_time_max = i64::MAX;
    }
    // SAFETY: the superblock is set up for iget.
    let root = unsafe { iget::<T>(sb, root_ino) }
        .map_err(|e| (e, c"cannot read the root directory"))
        // SAFETY: `inode` is a referenced inode; d_make_root consumes it.
        .and_then(|inode| match unsafe { bindings::d_make_root(inode) } {
            r if r.is_null() => Err((ENOMEM, c"out of memory")),
            r => Ok(r),
        });
    match root {
        Ok(root) => {
            // SAFETY: `sb` is being filled.
            unsafe { (*sb).s_root = root };
            Ok(())
        }
        Err(e) => {
            // Without s_root the VFS will not call put_super: undo here.
            // SAFETY: `s_fs_info` is the box leaked above; nothing else holds it.
            unsafe {
                drop(KBox::from_raw((*sb).s_fs_info.cast::<T>()));
                (*sb).s_fs_info = core::ptr::null_mut();
            }
            Err(e)
        }
    }
}

/// # Safety
///
/// Only called by the kernel as the `alloc_inode` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn alloc_inode<T: FileSystem>(
    sb: *mut bindings::super_block,
) -> *mut bindings::inode {
    // SAFETY: `sb` is a live superblock of type `T`.
    unsafe { Registration::<T>::inode_cache(sb).alloc_inode(sb) }
}

/// # Safety
///
/// Only called by the kernel as the `free_inode` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn free_inode(inode: *mut bindings::inode) {
    // SAFETY: the VFS frees a dead inode that `alloc_inode` allocated from
    // this module's inode cache (its superblock may be gone already).
    unsafe { InodeCache::free_inode(inode) }
}

/// # Safety
///
/// Only called by the kernel as the `put_super` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn put_super<T: FileSystem>(sb: *mut bindings::super_block) {
    // SAFETY: called once at unmount; `s_fs_info` is our box (invariants)
    // and no operation can run any more.
    unsafe {
        drop(KBox::from_raw((*sb).s_fs_info.cast::<T>()));
        (*sb).s_fs_info = core::ptr::null_mut();
    }
}

/// # Safety
///
/// Only called by the kernel as the `statfs` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn statfs<T: FileSystem>(
    dentry: *mut bindings::dentry,
    buf: *mut kernel::bindings::kstatfs,
) -> kernel::ffi::c_int {
    let buf = buf.cast::<bindings::kstatfs>();
    // SAFETY: `dentry` is on a mounted ferrodax superblock; `buf` is valid.
    unsafe {
        let fs = fs_of::<T>((*dentry).d_sb);
        let s = fs.statfs();
        (*buf).f_type = T::MAGIC as kernel::ffi::c_long;
        (*buf).f_bsize = 4096;
        (*buf).f_blocks = s.blocks;
        (*buf).f_bfree = s.free_blocks;
        (*buf).f_bavail = s.free_blocks;
        (*buf).f_files = s.files;
        (*buf).f_ffree = s.free_files;
        (*buf).f_namelen = 255;
        (*buf).f_frsize = 4096;
        (*buf).f_fsid.val = [s.fsid as i32, (s.fsid >> 32) as i32];
    }
    0
}

/// # Safety
///
/// Only called by the kernel as the `evict_inode` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn evict_inode<T: FileSystem>(inode: *mut bindings::inode) {
    // SAFETY: the VFS evicts a live inode of a mounted ferrodax superblock
    // exactly once; after clear_inode nothing touches it.
    unsafe {
        // No block of the file may be freed while DMA can still target it.
        crate::mm::layout::break_layout_final(inode);
        bindings::truncate_inode_pages_final(&mut (*inode).i_data);
        let (ino, nlink) = ((*inode).i_ino, (*inode).__bindgen_anon_1.i_nlink);
        fs_of::<T>((*inode).i_sb).evict(ino, nlink);
        bindings::clear_inode(inode);
    }
}

/// The block device is dead (`fs_bdev_mark_dead`): shut down, as the DAX
/// pre-remove notification does.
///
/// # Safety
///
/// Only called by the kernel as the `shutdown` callback of a mounted `T`.
unsafe extern "C" fn shutdown<T: FileSystem>(sb: *mut bindings::super_block) {
    // SAFETY: a mounted superblock of type `T`.
    unsafe { fs_of::<T>(sb) }.shutdown();
}

/// Write back the times of a dirty inode. Writes, write faults and reads
/// set them in the VFS inode only (no transaction in the data path, as
/// ext2 keeps them); writeback, `sync`, `fsync` and the last iput of a
/// cached inode after umount store them here (`locking.rst`, "Times").
///
/// # Safety
///
/// Only called by the kernel as the `write_inode` callback.
unsafe extern "C" fn write_inode<T: FileSystem>(
    inode: *mut bindings::inode,
    _wbc: *mut bindings::writeback_control,
) -> kernel::ffi::c_int {
    let mut attr = super::inode::Attr::default();
    // SAFETY: the VFS passes a live inode of a mounted `T`.
    let fs = unsafe {
        bindings::ferrodax_inode_attrs(inode, &mut attr);
        fs_of::<T>((*inode).i_sb)
    };
    // A directory's record also changes with every name added or removed
    // in it, under its i_rwsem, which nothing here holds: with i_rwsem
    // shared, the store runs beside other changes; when it is taken (a
    // namespace change in it, or this task's own), the store runs
    // exclusive. A trylock: writeback must not wait on a directory's
    // users, and never nests inside i_rwsem the wrong way.
    let dir_held = attr.mode & S_IFMT == S_IFDIR
        // SAFETY: a live inode; released below.
        && unsafe { bindings::ferrodax_inode_trylock_shared(inode) };
    let stored = fs.set_times(attr.ino, &attr, dir_held);
    if dir_held {
        // SAFETY: taken above.
        unsafe { bindings::ferrodax_inode_unlock(inode, false) };
    }
    match stored {
        Ok(()) => 0,
        // Announced when it happened; every change fails the same way.
        Err(e) if e == EROFS || fs.is_shut_down() => e.to_errno(),
        Err(e) => {
            pr_err!(
                "cannot store the times of inode {} (errno {})\n",
                attr.ino,
                e.to_errno()
            );
            e.to_errno()
        }
    }
}

/// # Safety
///
/// Only called by the kernel as the `freeze_fs` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn freeze_fs(_sb: *mut bindings::super_block) -> kernel::ffi::c_int {
    // Every operation is durable on pmem when it returns, and the VFS has
    // already drained and blocked writers, page faults and internal
    // changes (SB_FREEZE_WRITE/PAGEFAULT/FS): there is nothing to flush or
    // quiesce. Without this callback the VFS refuses FIFREEZE.
    0
}

/// # Safety
///
/// Only called by the kernel as the `show_options` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn show_options<T: FileSystem>(
    seq: *mut bindings::seq_file,
    root: *mut bindings::dentry,
) -> kernel::ffi::c_int {
    from_result(|| {
        // SAFETY: `root` is the root of a mounted ferrodax filesystem.
        let fs = unsafe { fs_of::<T>((*root).d_sb) };
        fs.show_options(&mut |s: &CStr| {
            // SAFETY: `seq` is the live seq_file of this call.
            unsafe { bindings::ferrodax_seq_puts(seq, s.as_char_ptr()) }
        });
        Ok(0)
    })
}
