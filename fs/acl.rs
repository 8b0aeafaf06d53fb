// SPDX-License-Identifier: GPL-2.0
//! POSIX ACLs: `get_inode_acl` and `set_acl`, the ACLs a new inode
//! inherits (`posix_acl_create`) and the access ACL a chmod rewrites.
//!
//! The filesystem stores an ACL as the VFS's xattr form of it, with ids in
//! the initial user namespace (as btrfs does), under the attribute codes
//! [`ACCESS`] and [`DEFAULT`] (`system.posix_acl_access` and
//! `system.posix_acl_default` in listxattr). The VFS turns getxattr and
//! setxattr of those names into `get_inode_acl` and `set_acl`, checks the
//! ACL (`posix_acl_valid`) and the caller's right to set it, and caches
//! what these return in the inode (`i_acl`, `i_default_acl`).
//!
//! An ACL is stored in the transaction of the mode it goes with: the
//! create that inherits it, the chmod that masks it, the setfacl that
//! changes the mode it implies (`posix_acl_update_mode`).

use super::bindings;
use super::fs_type::FileSystem;
use super::inode::{now, update};
use super::super_block::fs_of;
use core::ptr::NonNull;
use kernel::prelude::*;

/// The attribute code of the access ACL (`fs/xattr.rs`'s `PREFIXES`).
pub const ACCESS: u8 = 4;
/// The attribute code of the default ACL.
pub const DEFAULT: u8 = 5;

const S_IFMT: u32 = 0o170000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;

/// The ACLs of a new inode, in their stored form.
#[derive(Debug, Clone, Copy, Default)]
pub struct NewAcls<'a> {
    /// The access ACL, if the inode has one.
    pub access: Option<&'a [u8]>,
    /// The default ACL (directories).
    pub default: Option<&'a [u8]>,
}

/// A counted reference to a `struct posix_acl`.
///
/// # Invariants
///
/// `0` points to a live `posix_acl` of which this value owns one
/// reference.
struct Acl(NonNull<bindings::posix_acl>);

impl Acl {
    /// Take over the reference `acl` holds, if it is not NULL.
    ///
    /// # Safety
    ///
    /// `acl` is NULL or a `posix_acl` with a reference the caller gives up.
    unsafe fn from_raw(acl: *mut bindings::posix_acl) -> Option<Self> {
        // INVARIANT: per the contract.
        NonNull::new(acl).map(Acl)
    }

    /// The ACL of a stored value.
    fn from_stored(value: &[u8]) -> Result<Self> {
        // SAFETY: `value` is valid for its length; the result is an ACL
        // with one reference, NULL (an empty value) or an error.
        let acl = unsafe { bindings::ferrodax_acl_from_xattr(value.as_ptr().cast(), value.len()) };
        let acl = kernel::error::from_err_ptr(acl)?;
        // SAFETY: a new reference, or NULL.
        unsafe { Self::from_raw(acl) }.ok_or(EIO)
    }

    /// The stored form of this ACL.
    fn stored(&self) -> Result<Stored> {
        Stored::of(self.0.as_ptr())
    }

    /// Give up the reference, to the caller.
    fn into_raw(self) -> *mut bindings::posix_acl {
        let acl = self.0.as_ptr();
        core::mem::forget(self);
        acl
    }
}

impl Drop for Acl {
    fn drop(&mut self) {
        // SAFETY: by the invariants, a reference of ours.
        unsafe { bindings::ferrodax_acl_release(self.0.as_ptr()) };
    }
}

/// An ACL's stored form, in a buffer of `posix_acl_to_xattr`'s.
///
/// # Invariants
///
/// `buf` is a kmalloc'd buffer of `len` initialised bytes, owned here.
struct Stored {
    buf: NonNull<u8>,
    len: usize,
}

impl Stored {
    /// The stored form of `acl`, a live ACL.
    fn of(acl: *const bindings::posix_acl) -> Result<Self> {
        let mut len = 0;
        // SAFETY: `acl` is live (callers hold a reference).
        let buf = unsafe { bindings::ferrodax_acl_to_xattr(acl, &mut len) };
        // INVARIANT: posix_acl_to_xattr filled `len` bytes of a kmalloc'd
        // buffer, or returned NULL.
        let buf = NonNull::new(buf.cast()).ok_or(ENOMEM)?;
        Ok(Self { buf, len })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: by the invariants.
        unsafe { core::slice::from_raw_parts(self.buf.as_ptr(), self.len) }
    }
}

impl Drop for Stored {
    fn drop(&mut self) {
        // SAFETY: by the invariants, ours and kmalloc'd.
        unsafe { bindings::kfree(self.buf.as_ptr().cast()) };
    }
}

/// The ACLs `posix_acl_create` gave a new inode, in both forms: stored
/// with the inode, then cached in it.
pub(crate) struct Inherited {
    acls: [Option<(Acl, Stored)>; 2],
}

impl Inherited {
    /// The ACLs a new inode of `*mode` in `dir` gets; `mode` loses what
    /// the umask or the default ACL takes (the VFS leaves the umask to
    /// `posix_acl_create` on filesystems with ACLs).
    ///
    /// # Safety
    ///
    /// `dir` is a live directory inode.
    pub(crate) unsafe fn create(dir: *mut bindings::inode, mode: &mut u16) -> Result<Self> {
        let (mut default, mut access) = (core::ptr::null_mut(), core::ptr::null_mut());
        // SAFETY: per the contract; out-parameters. On success each is
        // NULL or an ACL with a reference for us.
        kernel::error::to_result(unsafe {
            bindings::posix_acl_create(dir, mode, &mut default, &mut access)
        })?;
        // SAFETY: as just said.
        let [access, default] = [access, default].map(|a| unsafe { Acl::from_raw(a) });
        let with_stored =
            |a: Option<Acl>| -> Result<_> { a.map(|a| a.stored().map(|s| (a, s))).transpose() };
        Ok(Self {
            acls: [with_stored(access)?, with_stored(default)?],
        })
    }

    /// The stored forms.
    pub(crate) fn values(&self) -> NewAcls<'_> {
        let [access, default] = self
            .acls
            .each_ref()
            .map(|a| a.as_ref().map(|(_, s)| s.bytes()));
        NewAcls { access, default }
    }

    /// Cache the ACLs in the new `inode` (NULL for none: nothing to read).
    ///
    /// # Safety
    ///
    /// `inode` is the new inode these ACLs were stored with.
    pub(crate) unsafe fn cache(self, inode: *mut bindings::inode) {
        // SAFETY: per the contract.
        if !unsafe { bindings::ferrodax_is_posixacl(inode) } {
            return;
        }
        let [access, default] = self.acls;
        for (ty, acl) in [
            (bindings::ACL_TYPE_ACCESS, access),
            (bindings::ACL_TYPE_DEFAULT, default),
        ] {
            let ptr = acl
                .as_ref()
                .map_or(core::ptr::null_mut(), |(a, _)| a.0.as_ptr());
            // SAFETY: set_cached_acl takes its own reference; ours drops
            // after it, with `acl`.
            unsafe { bindings::set_cached_acl(inode, ty as i32, ptr) };
        }
    }
}

/// The access ACL a chmod of `inode` to `mode` leaves, masked as
/// `posix_acl_chmod` would; `None` if the inode has none.
pub(crate) struct Chmod(Option<(Acl, Stored)>);

impl Chmod {
    /// # Safety
    ///
    /// `inode` is a live inode whose i_rwsem the caller holds.
    pub(crate) unsafe fn new(inode: *mut bindings::inode, mode: u16) -> Result<Self> {
        // SAFETY: per the contract.
        let (acls, old) = unsafe { (bindings::ferrodax_is_posixacl(inode), (*inode).i_mode) };
        // The ACL's owner, mask and other entries are the permission bits
        // already: a mode change that keeps them (a setuid bit dropped
        // by a write) leaves it as it is.
        if !acls || u32::from(old) & S_IFMT == S_IFLNK || (old ^ mode) & 0o777 == 0 {
            return Ok(Self(None));
        }
        // SAFETY: per the contract; a new reference, NULL or an error.
        let acl = unsafe { bindings::get_inode_acl(inode, bindings::ACL_TYPE_ACCESS as i32) };
        let acl = kernel::error::from_err_ptr(acl)?;
        if acl.is_null() {
            return Ok(Self(None));
        }
        let mut acl = acl;
        // SAFETY: `acl` is ours; __posix_acl_chmod drops that reference
        // and leaves a masked copy with one reference, or NULL on error.
        kernel::error::to_result(unsafe {
            bindings::__posix_acl_chmod(&mut acl, bindings::GFP_KERNEL, mode)
        })?;
        // SAFETY: as just said.
        let acl = unsafe { Acl::from_raw(acl) }.ok_or(EIO)?;
        let stored = acl.stored()?;
        Ok(Self(Some((acl, stored))))
    }

    /// The stored form of the new access ACL, if there is one.
    pub(crate) fn value(&self) -> Option<&[u8]> {
        self.0.as_ref().map(|(_, s)| s.bytes())
    }

    /// Cache the new ACL in `inode`, the change stored.
    ///
    /// # Safety
    ///
    /// `inode` is the inode of [`Chmod::new`].
    pub(crate) unsafe fn cache(self, inode: *mut bindings::inode) {
        if let Some((acl, _)) = self.0 {
            // SAFETY: set_cached_acl takes its own reference.
            unsafe {
                bindings::set_cached_acl(inode, bindings::ACL_TYPE_ACCESS as i32, acl.0.as_ptr())
            };
        }
    }
}

/// The attribute code of ACL type `ty`.
fn code(ty: kernel::ffi::c_int) -> Result<u8> {
    match ty as u32 {
        bindings::ACL_TYPE_ACCESS => Ok(ACCESS),
        bindings::ACL_TYPE_DEFAULT => Ok(DEFAULT),
        _ => Err(EINVAL),
    }
}

/// `get_inode_acl`: the stored ACL of type `ty`, NULL if there is none.
///
/// # Safety
///
/// Only called by the kernel as the `get_inode_acl` inode operation, on a
/// live inode of a mounted `T`.
pub(crate) unsafe extern "C" fn get_inode_acl<T: FileSystem>(
    inode: *mut bindings::inode,
    ty: kernel::ffi::c_int,
    rcu: bool,
) -> *mut bindings::posix_acl {
    if rcu {
        // Reading may sleep: the VFS asks again outside RCU.
        return ECHILD.to_ptr();
    }
    // SAFETY: per the contract.
    let (fs, ino) = unsafe { (fs_of::<T>((*inode).i_sb), (*inode).i_ino) };
    let read = || -> Result<Option<Acl>> {
        let ns = code(ty)?;
        // A set may change the length between the two reads (no lock is
        // held here): ask again then.
        loop {
            let len = match fs.get_xattr(ino, ns, b"", &mut []) {
                Err(e) if e == ENODATA => return Ok(None),
                r => r?,
            };
            let mut value = KVec::from_elem(0u8, len, GFP_KERNEL)?;
            match fs.get_xattr(ino, ns, b"", &mut value) {
                Ok(n) => return Acl::from_stored(&value[..n]).map(Some),
                Err(e) if e == ERANGE => continue,
                Err(e) if e == ENODATA => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    };
    match read() {
        Ok(acl) => acl.map_or(core::ptr::null_mut(), Acl::into_raw),
        Err(e) => e.to_ptr(),
    }
}

/// `set_acl`: store `acl` (NULL: remove it) as the ACL of type `ty`, with
/// the mode an access ACL implies.
///
/// # Safety
///
/// Only called by the kernel as the `set_acl` inode operation, under the
/// inode's i_rwsem: `dentry` has a live inode of a mounted `T`, `acl` is
/// NULL or a valid ACL the caller keeps its reference to.
pub(crate) unsafe extern "C" fn set_acl<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    dentry: *mut bindings::dentry,
    acl: *mut bindings::posix_acl,
    ty: kernel::ffi::c_int,
) -> kernel::ffi::c_int {
    kernel::error::from_result(|| {
        let ns = code(ty)?;
        // SAFETY: per the contract.
        let inode = unsafe { bindings::ferrodax_dentry_inode(dentry) };
        // SAFETY: per the contract; the VFS holds i_rwsem.
        let (fs, ino, mut mode) =
            unsafe { (fs_of::<T>((*inode).i_sb), (*inode).i_ino, (*inode).i_mode) };
        let mut acl = acl;
        if ns == DEFAULT && u32::from(mode) & S_IFMT != S_IFDIR {
            // Only directories have one (as on ext4 and XFS).
            return if acl.is_null() { Ok(0) } else { Err(EACCES) };
        }
        if ns == ACCESS && !acl.is_null() {
            // The mode the ACL implies; `acl` becomes NULL if the mode
            // says all of it.
            // SAFETY: per the contract; out-parameters.
            kernel::error::to_result(unsafe {
                bindings::posix_acl_update_mode(idmap, inode, &mut mode, &mut acl)
            })?;
        }
        let stored = match acl.is_null() {
            true => None,
            false => Some(Stored::of(acl)?),
        };
        let a = fs.set_acl(ino, ns, stored.as_ref().map(Stored::bytes), mode, now())?;
        // SAFETY: the inode is live and its i_rwsem held; set_cached_acl
        // takes its own reference.
        unsafe {
            update(inode, &a);
            bindings::set_cached_acl(inode, ty, acl);
        }
        Ok(0)
    })
}
