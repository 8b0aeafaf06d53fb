// SPDX-License-Identifier: GPL-2.0
//! ioctls of files and directories: `FS_IOC_SHUTDOWN`,
//! `FS_IOC_GETFSLABEL` and `FS_IOC_SETFSLABEL`.
//!
//! fstests' `godown` and `xfs_io -c shutdown` use it to stop a filesystem
//! dead, as if the machine had lost power, then remount and check what
//! survived. Every ferrodax transaction is durable when it commits, so
//! there is no log to flush: the default and `LOGFLUSH` modes write back
//! the CPU caches of data dirtied through shared mappings first (what a
//! sync would), `NOLOGFLUSH` does not. Afterwards every operation fails
//! with EIO, as after a pmem removal (`fs/dax.rs`), until unmount.
//!
//! The label ioctls are those of ext4, XFS and btrfs (`xfs_io -c label`):
//! a label longer than the filesystem holds is EINVAL, setting one needs
//! CAP_SYS_ADMIN and write access to the mount.

use super::bindings;
use super::fs_type::FileSystem;
use super::inode_ref::InodeRef;
use kernel::prelude::*;

// include/uapi/linux/fs.h (an ioctl number macro bindgen does not evaluate).
const FS_IOC_SHUTDOWN: u32 = 0x8004_587d; // _IOR('X', 125, __u32)
const FS_SHUTDOWN_FLAGS_DEFAULT: u32 = 0;
const FS_SHUTDOWN_FLAGS_LOGFLUSH: u32 = 1;
const FS_SHUTDOWN_FLAGS_NOLOGFLUSH: u32 = 2;
const FS_IOC_GETFSLABEL: u32 = 0x8100_9431; // _IOR(0x94, 49, char[FSLABEL_MAX])
const FS_IOC_SETFSLABEL: u32 = 0x4100_9432; // _IOW(0x94, 50, char[FSLABEL_MAX])
const FSLABEL_MAX: usize = 256;

/// # Safety
///
/// Only called by the kernel as the `unlocked_ioctl` callback of a file or
/// directory of a mounted `T`.
pub(crate) unsafe extern "C" fn unlocked_ioctl<T: FileSystem>(
    file: *mut bindings::file,
    cmd: kernel::ffi::c_uint,
    arg: kernel::ffi::c_ulong,
) -> kernel::ffi::c_long {
    let ret = match cmd {
        // SAFETY: per this function's contract `file` is an open file of a
        // mounted `T`; `arg` is the caller's argument, copied by get_user.
        FS_IOC_SHUTDOWN => unsafe { shutdown::<T>(file, arg) },
        // SAFETY: as above.
        FS_IOC_GETFSLABEL => unsafe { get_label::<T>(file, arg) },
        // SAFETY: as above.
        FS_IOC_SETFSLABEL => unsafe { set_label::<T>(file, arg) },
        _ => ENOTTY.to_errno(),
    };
    ret as kernel::ffi::c_long
}

/// # Safety
///
/// `file` is an open file of a mounted `T`, `arg` the ioctl's argument.
unsafe fn shutdown<T: FileSystem>(file: *mut bindings::file, arg: kernel::ffi::c_ulong) -> i32 {
    let mut flags = 0u32;
    // SAFETY: `arg` is the caller's user pointer; the helper checks
    // CAP_SYS_ADMIN and copies with get_user.
    let ret = unsafe { bindings::ferrodax_shutdown_flags(arg, &mut flags) };
    if ret != 0 {
        return ret;
    }
    // SAFETY: the open file pins its inode, of a mounted `T`.
    let fs = unsafe { InodeRef::<T>::of_file(file) }.fs();
    match flags {
        FS_SHUTDOWN_FLAGS_DEFAULT | FS_SHUTDOWN_FLAGS_LOGFLUSH => {
            if !fs.is_shut_down() {
                // SAFETY: the open file keeps its superblock active.
                unsafe { bindings::ferrodax_sync_fs_of(file) };
            }
        }
        FS_SHUTDOWN_FLAGS_NOLOGFLUSH => {}
        _ => return EINVAL.to_errno(),
    }
    if !fs.is_shut_down() {
        pr_warn!("shut down by FS_IOC_SHUTDOWN (flags {flags:#x})\n");
        fs.shutdown();
    }
    0
}

/// # Safety
///
/// `file` is an open file of a mounted `T`, `arg` the ioctl's argument.
unsafe fn get_label<T: FileSystem>(file: *mut bindings::file, arg: kernel::ffi::c_ulong) -> i32 {
    // SAFETY: the open file pins its inode, of a mounted `T`.
    let fs = unsafe { InodeRef::<T>::of_file(file) }.fs();
    let mut label = [0u8; FSLABEL_MAX];
    if let Err(e) = fs.label(&mut label[..FSLABEL_MAX - 1]) {
        return e.to_errno();
    }
    // SAFETY: `label` is FSLABEL_MAX bytes; `arg` is the caller's user
    // pointer, which the helper copies to with copy_to_user.
    unsafe { bindings::ferrodax_label_to_user(arg, label.as_ptr().cast()) }
}

/// # Safety
///
/// `file` is an open file of a mounted `T`, `arg` the ioctl's argument.
unsafe fn set_label<T: FileSystem>(file: *mut bindings::file, arg: kernel::ffi::c_ulong) -> i32 {
    let mut label = [0u8; FSLABEL_MAX];
    // SAFETY: `file` is open (this function's contract); `label` is
    // FSLABEL_MAX bytes; the helper checks CAP_SYS_ADMIN, copies from the
    // user pointer `arg` and takes write access to the mount.
    let len = unsafe { bindings::ferrodax_label_from_user(file, arg, label.as_mut_ptr().cast()) };
    let Ok(len) = usize::try_from(len) else {
        return len;
    };
    // SAFETY: the open file pins its inode, of a mounted `T`.
    let fs = unsafe { InodeRef::<T>::of_file(file) }.fs();
    let ret = match fs.set_label(&label[..len]) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    };
    // SAFETY: the helper above took write access to the mount.
    unsafe { bindings::ferrodax_label_done(file) };
    ret
}
