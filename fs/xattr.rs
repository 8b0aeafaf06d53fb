// SPDX-License-Identifier: GPL-2.0
//! Extended attributes: the `user.`, `trusted.` and `security.` handlers
//! (`sb->s_xattr`) and `listxattr`.
//!
//! The VFS checks permissions before a handler runs (`xattr_permission`:
//! `trusted.` needs CAP_SYS_ADMIN, `user.` only on regular files and
//! directories, nothing on immutable or append-only inodes), strips the
//! prefix, and holds the inode's `i_rwsem` exclusive around a set or a
//! removal. The filesystem stores the namespace as a code (`PREFIXES`),
//! not the prefix.

use super::bindings;
use super::fs_type::FileSystem;
use super::inode::{now, update};
use super::super_block::fs_of;
use core::marker::PhantomData;
use kernel::error::from_result;
use kernel::prelude::*;

const XATTR_CREATE: i32 = 1;
const XATTR_REPLACE: i32 = 2;
const CAP_SYS_ADMIN: i32 = 21;

/// The namespaces, by the code a filesystem stores for each
/// (`PREFIXES[code - 1]`): the prefixes of `user.`, `trusted.` and
/// `security.` names, then the POSIX ACLs' whole names.
const PREFIXES: [&[u8]; 5] = [
    b"user.",
    b"trusted.",
    b"security.",
    b"system.posix_acl_access",
    b"system.posix_acl_default",
];
/// The code of `trusted.`.
const TRUSTED: u8 = 2;

/// How a set treats an existing attribute (setxattr's flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XattrSet {
    /// Create or replace.
    Any,
    /// XATTR_CREATE: EEXIST if it exists.
    Create,
    /// XATTR_REPLACE: ENODATA if it does not (a removal is one).
    Replace,
}

/// The extended-attribute handlers of filesystem `T`.
pub(crate) struct XattrOps<T>(PhantomData<T>);

impl<T: FileSystem> XattrOps<T> {
    const fn handler(prefix: &'static CStr, ns: u8) -> bindings::xattr_handler {
        // SAFETY: all-zero is a valid xattr_handler.
        let mut h: bindings::xattr_handler = unsafe { core::mem::zeroed() };
        h.prefix = kernel::str::as_char_ptr_in_const_context(prefix);
        h.flags = ns as i32;
        h.get = Some(get::<T>);
        h.set = Some(set::<T>);
        h
    }

    const USER: bindings::xattr_handler = Self::handler(c"user.", 1);
    const TRUSTED: bindings::xattr_handler = Self::handler(c"trusted.", TRUSTED);
    const SECURITY: bindings::xattr_handler = Self::handler(c"security.", 3);

    /// `sb->s_xattr`: NULL-terminated.
    pub(crate) const HANDLERS: [*const bindings::xattr_handler; 4] = [
        &Self::USER,
        &Self::TRUSTED,
        &Self::SECURITY,
        core::ptr::null(),
    ];
}

/// What a handler call is about: the filesystem, the inode number, the
/// namespace code and the name without its prefix.
///
/// # Safety
///
/// `h` is one of [`XattrOps::HANDLERS`] (its flags hold a namespace code),
/// `inode` a live inode of a mounted `T`, `name` a C string that outlives
/// `'a`.
unsafe fn handler_args<'a, T: FileSystem>(
    h: *const bindings::xattr_handler,
    inode: *mut bindings::inode,
    name: *const kernel::ffi::c_char,
) -> (&'a T, u64, u8, &'a [u8]) {
    // SAFETY: per the contract.
    unsafe {
        (
            fs_of::<T>((*inode).i_sb),
            (*inode).i_ino,
            (*h).flags as u8,
            CStr::from_char_ptr(name).to_bytes(),
        )
    }
}

/// # Safety
///
/// Only called by the kernel as an `xattr_handler`'s `get`: `inode` live,
/// `name` a C string, `buffer` valid for `size` bytes (or `size` 0).
unsafe extern "C" fn get<T: FileSystem>(
    h: *const bindings::xattr_handler,
    _dentry: *mut bindings::dentry,
    inode: *mut bindings::inode,
    name: *const kernel::ffi::c_char,
    buffer: *mut kernel::ffi::c_void,
    size: usize,
) -> kernel::ffi::c_int {
    from_result(|| {
        // SAFETY: per the contract.
        let (fs, ino, ns, name) = unsafe { handler_args::<T>(h, inode, name) };
        let buf: &mut [u8] = match size {
            0 => &mut [],
            // SAFETY: per the contract.
            _ => unsafe { core::slice::from_raw_parts_mut(buffer.cast(), size) },
        };
        let len = fs.get_xattr(ino, ns, name, buf)?;
        i32::try_from(len).map_err(|_| ERANGE)
    })
}

/// # Safety
///
/// Only called by the kernel as an `xattr_handler`'s `set`, under the
/// inode's `i_rwsem`: `inode` live, `name` a C string, `value` valid for
/// `size` bytes or NULL for a removal.
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn set<T: FileSystem>(
    h: *const bindings::xattr_handler,
    _idmap: *mut bindings::mnt_idmap,
    _dentry: *mut bindings::dentry,
    inode: *mut bindings::inode,
    name: *const kernel::ffi::c_char,
    value: *const kernel::ffi::c_void,
    size: usize,
    flags: kernel::ffi::c_int,
) -> kernel::ffi::c_int {
    from_result(|| {
        // SAFETY: per the contract.
        let (fs, ino, ns, name) = unsafe { handler_args::<T>(h, inode, name) };
        let value: Option<&[u8]> = match (value.is_null(), size) {
            (true, _) => None,
            (false, 0) => Some(&[]),
            // SAFETY: per the contract.
            (false, _) => Some(unsafe { core::slice::from_raw_parts(value.cast(), size) }),
        };
        let mode = match flags {
            XATTR_CREATE => XattrSet::Create,
            XATTR_REPLACE => XattrSet::Replace,
            _ if value.is_none() => XattrSet::Replace,
            _ => XattrSet::Any,
        };
        let a = fs.set_xattr(ino, ns, name, value, mode, now())?;
        // SAFETY: the inode is live and its i_rwsem held.
        unsafe { update(inode, &a) };
        Ok(0)
    })
}

/// listxattr: `prefix` + name + NUL for each attribute the caller may
/// see (`trusted.` only with CAP_SYS_ADMIN, as on ext4); with a NULL
/// buffer, the length of the list.
///
/// # Safety
///
/// Only called by the kernel as the `listxattr` inode operation: `dentry`
/// has a live inode, `buffer` is valid for `size` bytes or NULL.
pub(crate) unsafe extern "C" fn listxattr<T: FileSystem>(
    dentry: *mut bindings::dentry,
    buffer: *mut kernel::ffi::c_char,
    size: usize,
) -> isize {
    // SAFETY: per the contract.
    let (fs, ino, trusted) = unsafe {
        let inode = bindings::ferrodax_dentry_inode(dentry);
        (
            fs_of::<T>((*inode).i_sb),
            (*inode).i_ino,
            bindings::capable(CAP_SYS_ADMIN),
        )
    };
    let mut out: Option<&mut [u8]> = match buffer.is_null() {
        true => None,
        // SAFETY: per the contract.
        false => Some(unsafe { core::slice::from_raw_parts_mut(buffer.cast(), size) }),
    };
    let listed = fs.list_xattr(ino, &mut |at: usize, ns: u8, name: &[u8]| {
        if ns == TRUSTED && !trusted {
            return Ok(at);
        }
        let prefix = PREFIXES.get(usize::from(ns).wrapping_sub(1)).ok_or(EIO)?;
        let end = at + prefix.len() + name.len() + 1;
        if let Some(out) = out.as_deref_mut() {
            let dst = out.get_mut(at..end).ok_or(ERANGE)?;
            let (p, rest) = dst.split_at_mut(prefix.len());
            p.copy_from_slice(prefix);
            rest[..name.len()].copy_from_slice(name);
            rest[name.len()] = 0;
        }
        Ok(end)
    });
    match listed {
        Ok(len) => len as isize,
        Err(e) => e.to_errno() as isize,
    }
}
