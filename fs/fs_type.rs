// SPDX-License-Identifier: GPL-2.0
//! Filesystem type registration (`struct file_system_type`).

use super::bindings;
use core::marker::PhantomData;
use kernel::error::{from_result, to_result};
use kernel::prelude::*;
use kernel::types::Opaque;

/// A filesystem type implemented in Rust.
pub trait FileSystem {
    /// Name under which the type registers (`mount -t NAME`).
    const NAME: &'static CStr;

    /// Set up a new mount context (`init_fs_context`).
    fn init_fs_context(fc: &mut FsContext) -> Result;
}

/// A mount context being set up (`struct fs_context`).
///
/// # Invariants
///
/// Wraps a valid `struct fs_context` owned by the VFS for the duration of
/// the callback that received it.
#[repr(transparent)]
pub struct FsContext(Opaque<bindings::fs_context>);

impl FsContext {
    /// # Safety
    ///
    /// `ptr` must point to a valid `struct fs_context` that outlives `'a`
    /// and is not accessed through other references meanwhile.
    unsafe fn from_raw<'a>(ptr: *mut bindings::fs_context) -> &'a mut FsContext {
        // SAFETY: `FsContext` is a transparent wrapper; the caller guarantees
        // validity and exclusivity.
        unsafe { &mut *ptr.cast() }
    }
}

/// A registered filesystem type; unregistered on drop.
///
/// # Invariants
///
/// `fs` is registered with the VFS from a successful `new` until `drop`.
#[pin_data(PinnedDrop)]
pub struct Registration<T: FileSystem> {
    #[pin]
    fs: Opaque<bindings::file_system_type>,
    _t: PhantomData<T>,
}

// SAFETY: the VFS only reads `file_system_type` under its own locks once it
// is registered; nothing in Rust touches it after registration.
unsafe impl<T: FileSystem> Sync for Registration<T> {}
// SAFETY: see `Sync`; the registration may be dropped from any thread.
unsafe impl<T: FileSystem> Send for Registration<T> {}

impl<T: FileSystem> Registration<T> {
    /// Register `T` as a filesystem type owned by `module`.
    pub fn new(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            fs <- Opaque::try_ffi_init(move |slot: *mut bindings::file_system_type| {
                // SAFETY: `slot` is valid for writes; all-zero is a valid
                // `file_system_type` and we fill in what we use.
                unsafe {
                    slot.write(core::mem::zeroed());
                    (*slot).name = T::NAME.as_char_ptr();
                    (*slot).owner = module.as_ptr();
                    (*slot).fs_flags = bindings::FS_REQUIRES_DEV as i32;
                    (*slot).init_fs_context = Some(init_fs_context_callback::<T>);
                    (*slot).kill_sb = Some(bindings::kill_block_super);
                }
                // SAFETY: `slot` is pinned and lives until `drop`, which
                // unregisters it (type invariant).
                to_result(unsafe { bindings::register_filesystem(slot) })
            }),
            _t: PhantomData,
        })
    }
}

#[pinned_drop]
impl<T: FileSystem> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: registered since `new` succeeded (type invariant). The
        // module cannot be unloaded while a superblock holds a reference
        // (`owner`), so no mount outlives this.
        unsafe { bindings::unregister_filesystem(self.fs.get()) };
    }
}

unsafe extern "C" fn init_fs_context_callback<T: FileSystem>(fc: *mut bindings::fs_context) -> kernel::ffi::c_int {
    from_result(|| {
        // SAFETY: the VFS passes a valid context it owns for this call.
        let fc = unsafe { FsContext::from_raw(fc) };
        T::init_fs_context(fc)?;
        Ok(0)
    })
}
