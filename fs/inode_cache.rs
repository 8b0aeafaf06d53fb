// SPDX-License-Identifier: GPL-2.0
//! Inodes with Rust data: a kmem_cache of [`InodeBox`] values, each holding
//! the C `struct inode` and the Rust fields the glue keeps per inode.
//!
//! The VFS hands out `*mut inode`; [`InodeBox::from_inode`] gets back to the
//! whole object with `container_of!`. The cache belongs to the filesystem
//! type's registration and is destroyed after unregistering and an RCU
//! barrier (inodes are freed after an RCU grace period).
//!
//! # Invariants
//!
//! Every inode of a superblock of a type registered by this module was
//! allocated by [`alloc_inode`] from the registration's cache, so it lives
//! inside an `InodeBox` whose `link`, `extra` and `map` fields are
//! initialised until
//! [`free_inode`].

use super::bindings;
use super::map_cache::MapCache;
use core::sync::atomic::{AtomicI64, AtomicU32, Ordering::Relaxed};
use kernel::prelude::*;
use kernel::types::Opaque;

/// Attributes the VFS inode has no field for, kept for `getattr` and
/// `fileattr_get` (so neither reads the media). Atomics: changes store
/// them under `i_rwsem`, `getattr` reads them under no lock.
#[derive(Default)]
pub(crate) struct Extra {
    flags: AtomicU32,
    btime_sec: AtomicI64,
    btime_nsec: AtomicU32,
}

impl Extra {
    /// Keep the inode flags (FS_*_FL) and birth time of `a`.
    pub(crate) fn set(&self, a: &bindings::ferrodax_iattr) {
        self.flags.store(a.flags, Relaxed);
        self.btime_sec.store(a.btime_sec, Relaxed);
        self.btime_nsec.store(a.btime_nsec, Relaxed);
    }

    /// The inode flags (FS_*_FL).
    pub(crate) fn flags(&self) -> u32 {
        self.flags.load(Relaxed)
    }

    /// The birth time: seconds and nanoseconds.
    pub(crate) fn btime(&self) -> (i64, u32) {
        (self.btime_sec.load(Relaxed), self.btime_nsec.load(Relaxed))
    }
}

/// One slab object: the VFS inode and the glue's per-inode data.
#[repr(C)]
pub(crate) struct InodeBox {
    vfs: Opaque<bindings::inode>,
    /// Symlinks: the NUL-terminated target, read once when the inode is
    /// read and served by `simple_get_link` through `i_link` (targets never
    /// change). Freed with the inode, after the RCU grace period that path
    /// walkers rely on.
    link: Option<KVec<u8>>,
    extra: Extra,
    map: MapCache,
}

impl InodeBox {
    /// The box around `inode`.
    ///
    /// # Safety
    ///
    /// `inode` must be a live inode of a superblock of a filesystem type
    /// registered by this module (type invariant), used for `'a` without
    /// other mutable access to the Rust fields.
    pub(crate) unsafe fn from_inode<'a>(inode: *mut bindings::inode) -> &'a mut InodeBox {
        // SAFETY: per the contract the inode is the `vfs` field of a box.
        unsafe { &mut *kernel::container_of!(Opaque::cast_from(inode).cast_mut(), InodeBox, vfs) }
    }

    /// The [`Extra`] attributes of `inode`.
    ///
    /// # Safety
    ///
    /// `inode` must be a live inode of a superblock of a filesystem type
    /// registered by this module, for `'a`.
    pub(crate) unsafe fn extra<'a>(inode: *mut bindings::inode) -> &'a Extra {
        // SAFETY: per the contract the inode is the `vfs` field of a box
        // whose `extra` is initialised (type invariant); it is only ever
        // used through shared references (atomics).
        unsafe {
            let b = kernel::container_of!(Opaque::cast_from(inode).cast_mut(), InodeBox, vfs);
            &*core::ptr::addr_of!((*b).extra)
        }
    }

    /// The [`MapCache`] of `inode`.
    ///
    /// # Safety
    ///
    /// As for [`InodeBox::extra`].
    pub(crate) unsafe fn map_cache<'a>(inode: *mut bindings::inode) -> &'a MapCache {
        // SAFETY: as in `extra`: `map` is initialised (type invariant) and
        // only used through shared references (atomics).
        unsafe {
            let b = kernel::container_of!(Opaque::cast_from(inode).cast_mut(), InodeBox, vfs);
            &*core::ptr::addr_of!((*b).map)
        }
    }

    /// Keep `target` (without NUL) as the symlink target of this inode and
    /// point `i_link` at it.
    pub(crate) fn set_link(&mut self, target: KVec<u8>) {
        let p = target.as_ptr();
        self.link = Some(target);
        // SAFETY: `vfs` is a live inode being set up (I_NEW) by the caller;
        // `p` stays valid until free_inode drops `link`.
        unsafe { (*self.vfs.get()).__bindgen_anon_5.i_link = p.cast_mut().cast() };
    }
}

/// The slab of `InodeBox` values; destroyed on drop.
///
/// # Invariants
///
/// `cache` is a live kmem_cache of `InodeBox` objects.
pub(crate) struct InodeCache {
    cache: *mut bindings::kmem_cache,
}

// SAFETY: a kmem_cache may be used from any thread.
unsafe impl Send for InodeCache {}
// SAFETY: as above.
unsafe impl Sync for InodeCache {}

/// # Safety
///
/// Only called by the kernel as the `ctor` callback, with the arguments
/// and locking that callback guarantees.
unsafe extern "C" fn ctor(obj: *mut kernel::ffi::c_void) {
    // SAFETY: the slab calls this once per new object, which is an
    // `InodeBox` (`vfs` is at offset 0, repr(C)).
    unsafe { bindings::inode_init_once(obj.cast()) };
}

impl InodeCache {
    /// Create the cache.
    pub(crate) fn new(name: &'static CStr) -> Result<Self> {
        // SAFETY: `name` outlives the cache (static); size and alignment
        // are those of `InodeBox`; `ctor` initialises the inode part.
        let cache = unsafe {
            bindings::ferrodax_inode_cache_create(
                name.as_char_ptr(),
                core::mem::size_of::<InodeBox>() as u32,
                core::mem::align_of::<InodeBox>() as u32,
                Some(ctor),
            )
        };
        if cache.is_null() {
            return Err(ENOMEM);
        }
        Ok(InodeCache { cache })
    }

    /// `alloc_inode` for superblock `sb`.
    ///
    /// # Safety
    ///
    /// `sb` must be a live superblock.
    pub(crate) unsafe fn alloc_inode(
        &self,
        sb: *mut bindings::super_block,
    ) -> *mut bindings::inode {
        // SAFETY: `cache` holds `InodeBox` objects; `vfs` is at offset 0.
        let inode = unsafe { bindings::ferrodax_alloc_inode_sb(sb, self.cache, 0) };
        if !inode.is_null() {
            // SAFETY: a fresh object: its Rust fields are uninitialised and
            // ours to write (establishes the type invariant).
            unsafe {
                let b = kernel::container_of!(Opaque::cast_from(inode).cast_mut(), InodeBox, vfs);
                core::ptr::addr_of_mut!((*b).link).write(None);
                core::ptr::addr_of_mut!((*b).extra).write(Extra::default());
                core::ptr::addr_of_mut!((*b).map).write(MapCache::default());
            }
        }
        inode
    }

    /// `free_inode` (after the RCU grace period).
    ///
    /// Runs from an RCU callback that may come after the superblock is
    /// freed (the VFS copies `s_op->free_inode` into the inode for that
    /// reason), so it must not look at `i_sb`: `kfree` finds the object's
    /// cache by itself. The registration's `rcu_barrier` keeps the cache
    /// alive until this has run.
    ///
    /// # Safety
    ///
    /// `inode` must come from [`InodeCache::alloc_inode`] and be dead.
    pub(crate) unsafe fn free_inode(inode: *mut bindings::inode) {
        // SAFETY: per the contract; the Rust fields are dropped exactly once
        // and the object goes back to its slab (kfree takes slab objects).
        unsafe {
            let b = kernel::container_of!(Opaque::cast_from(inode).cast_mut(), InodeBox, vfs);
            core::ptr::drop_in_place(core::ptr::addr_of_mut!((*b).link));
            bindings::kfree(b.cast());
        }
    }
}

impl Drop for InodeCache {
    fn drop(&mut self) {
        // SAFETY: the filesystem type is unregistered before this runs (see
        // `Registration`); the barrier waits for pending RCU frees.
        unsafe {
            bindings::rcu_barrier();
            bindings::kmem_cache_destroy(self.cache);
        }
    }
}
