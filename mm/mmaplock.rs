// SPDX-License-Identifier: GPL-2.0
//! The MMAPLOCK: `mapping->invalidate_lock` of a regular file, as guards.
//!
//! The one rule (Documentation/filesystems/ferrodax/locking.rst): page
//! faults take it *shared* ([`MmapLock::shared`], in `mm/fault.rs`, and
//! around the SIGBUS to the mappers of poisoned data in
//! `fs/media_error.rs`, which must find the block still the file's);
//! every change that removes or moves blocks under a mapping takes it
//! *exclusive* ([`MmapLock::exclusive`], only in `fs/extent_change.rs`), so
//! no fault can map a block that is being freed, and no block is freed while
//! a fault that looked it up is still inserting it. The exclusive section
//! is also what tells the inode's mapping cache (`fs/map_cache.rs`) that
//! what it holds may be stale.

use crate::vfs::bindings;
use crate::vfs::fs_type::FileSystem;
use crate::vfs::inode_ref::InodeRef;

/// Marker for the lock modes.
pub trait Mode {
    /// Exclusive mode.
    const EXCLUSIVE: bool;
}
/// Taken shared (faults, media-error kills).
pub struct Shared;
/// Taken exclusive (extent changes).
pub struct Exclusive;
impl Mode for Shared {
    const EXCLUSIVE: bool = false;
}
impl Mode for Exclusive {
    const EXCLUSIVE: bool = true;
}

/// The MMAPLOCK of one inode, held in mode `M` until dropped.
///
/// # Invariants
///
/// The current task holds `inode`'s invalidate_lock in mode `M`.
pub struct MmapLock<'a, T: FileSystem, M: Mode> {
    inode: InodeRef<'a, T>,
    _m: core::marker::PhantomData<M>,
}

impl<'a, T: FileSystem> MmapLock<'a, T, Shared> {
    /// Take the lock shared (a page fault, a media-error kill).
    pub fn shared(inode: InodeRef<'a, T>) -> Self {
        // SAFETY: the inode is live (InodeRef invariant).
        unsafe { bindings::ferrodax_invalidate_lock_shared(inode.as_ptr()) };
        // INVARIANT: just taken shared.
        MmapLock {
            inode,
            _m: core::marker::PhantomData,
        }
    }
}

impl<'a, T: FileSystem> MmapLock<'a, T, Exclusive> {
    /// Take the lock exclusive (an extent change). The caller holds the
    /// inode's `i_rwsem` exclusive and must not touch user memory while
    /// holding this: a page fault would take it shared under `mmap_lock`.
    pub fn exclusive(inode: InodeRef<'a, T>) -> Self {
        // SAFETY: the inode is live (InodeRef invariant).
        unsafe { bindings::ferrodax_invalidate_lock(inode.as_ptr()) };
        // Every extent change runs in this section: what the mapping
        // cache holds is stale from here on.
        inode.map_cache().begin_change();
        // INVARIANT: just taken exclusive.
        MmapLock {
            inode,
            _m: core::marker::PhantomData,
        }
    }

    /// The inode this guard locks.
    pub fn inode(&self) -> InodeRef<'a, T> {
        self.inode
    }
}

impl<T: FileSystem, M: Mode> Drop for MmapLock<'_, T, M> {
    fn drop(&mut self) {
        if M::EXCLUSIVE {
            self.inode.map_cache().end_change();
        }
        // SAFETY: held in mode `M` (type invariant).
        unsafe {
            if M::EXCLUSIVE {
                bindings::ferrodax_invalidate_unlock(self.inode.as_ptr())
            } else {
                bindings::ferrodax_invalidate_unlock_shared(self.inode.as_ptr())
            }
        }
    }
}
