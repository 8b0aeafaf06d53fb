// SPDX-License-Identifier: GPL-2.0
//! [`InodeRef`]: a VFS inode borrowed for the length of a callback, so the
//! data and fault paths pass a typed reference instead of `*mut inode`.

use super::bindings;
use super::fs_type::FileSystem;
use super::inode_cache::InodeBox;
use super::map_cache::MapCache;
use super::super_block::fs_of;
use core::marker::PhantomData;
use core::ptr::NonNull;

/// A live inode of a mounted ferrodax superblock of type `T`.
///
/// # Invariants
///
/// `ptr` points at an inode that stays live for `'a` (the VFS holds a
/// reference for the callback that made this value), whose superblock is a
/// mounted superblock of filesystem type `T` (so `s_fs_info` is a `T`).
pub struct InodeRef<'a, T: FileSystem> {
    ptr: NonNull<bindings::inode>,
    _p: PhantomData<(&'a bindings::inode, &'a T)>,
}

impl<T: FileSystem> Clone for InodeRef<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: FileSystem> Copy for InodeRef<'_, T> {}

impl<'a, T: FileSystem> InodeRef<'a, T> {
    /// Borrow `inode` for `'a`.
    ///
    /// # Safety
    ///
    /// `inode` must be non-null and satisfy the type invariants for `'a`.
    pub(crate) unsafe fn from_raw(inode: *mut bindings::inode) -> Self {
        // INVARIANT: per the contract.
        InodeRef {
            // SAFETY: non-null per the contract.
            ptr: unsafe { NonNull::new_unchecked(inode) },
            _p: PhantomData,
        }
    }

    /// The inode of an open file, borrowed for the callback the file was
    /// passed to.
    ///
    /// # Safety
    ///
    /// `file` must be a live file of a mounted `T` for `'a` (an open file
    /// pins its inode and so its superblock).
    pub(crate) unsafe fn of_file(file: *const bindings::file) -> Self {
        // SAFETY: per the contract the inode is live and of a `T`.
        unsafe { Self::from_raw(bindings::ferrodax_file_inode(file)) }
    }

    /// The raw inode, for the kernel functions that take one.
    pub(crate) fn as_ptr(&self) -> *mut bindings::inode {
        self.ptr.as_ptr()
    }

    /// Inode number.
    pub fn ino(&self) -> u64 {
        // SAFETY: live (type invariant); i_ino never changes.
        unsafe { (*self.as_ptr()).i_ino }
    }

    /// The filesystem the inode belongs to.
    pub fn fs(&self) -> &'a T {
        // SAFETY: the superblock is a mounted one of type `T` (type
        // invariant) and outlives its inodes.
        unsafe { fs_of::<T>((*self.as_ptr()).i_sb) }
    }

    /// The inode's [`MapCache`].
    pub(crate) fn map_cache(&self) -> &'a MapCache {
        // SAFETY: a live inode of a mounted `T` (type invariant), which
        // this module allocated.
        unsafe { InodeBox::map_cache(self.as_ptr()) }
    }

    /// `i_size`.
    pub fn size(&self) -> u64 {
        // SAFETY: live; i_size_read is safe against concurrent writers.
        unsafe { bindings::ferrodax_i_size(self.as_ptr()) as u64 }
    }

    /// Set `i_size` to what the media now holds (the caller holds
    /// `i_rwsem` exclusive, as i_size_write requires).
    pub(crate) fn set_size(&self, size: u64) {
        // SAFETY: live; serialised by the caller's i_rwsem.
        unsafe { bindings::ferrodax_set_i_size(self.as_ptr(), size as i64) }
    }

    /// Set `i_blocks` (4 KiB blocks) after an allocation.
    pub(crate) fn set_blocks(&self, blocks: u64) {
        // SAFETY: live; the helper takes i_lock.
        unsafe { bindings::ferrodax_inode_set_blocks(self.as_ptr(), blocks) }
    }
}

/// A reference of our own on an in-memory inode of a mounted `T`, dropped
/// (`iput`) with the value: for callers that start from an inode number
/// rather than a VFS callback.
///
/// # Invariants
///
/// `ptr` is an inode of a mounted superblock of type `T` on which this
/// value holds one reference.
pub struct InodeHold<T: FileSystem> {
    ptr: NonNull<bindings::inode>,
    _p: PhantomData<T>,
}

impl<T: FileSystem> InodeHold<T> {
    /// Inode `ino` of `sb` if it is in memory (`ilookup`): an inode that is
    /// not has no open files and no mappings.
    ///
    /// # Safety
    ///
    /// `sb` must be a mounted superblock of type `T` that stays mounted
    /// while the returned value lives.
    pub(crate) unsafe fn lookup(sb: *mut bindings::super_block, ino: u64) -> Option<Self> {
        // SAFETY: `sb` is live per the contract; ilookup returns a
        // referenced inode or NULL.
        let ptr = NonNull::new(unsafe { bindings::ilookup(sb, ino) })?;
        // INVARIANT: ilookup took the reference we hold.
        Some(InodeHold {
            ptr,
            _p: PhantomData,
        })
    }

    /// Borrow the inode for as long as the hold lives.
    pub fn get(&self) -> InodeRef<'_, T> {
        // SAFETY: our reference keeps the inode live for the borrow, and
        // its superblock is a mounted `T` (type invariant).
        unsafe { InodeRef::from_raw(self.ptr.as_ptr()) }
    }
}

impl<T: FileSystem> Drop for InodeHold<T> {
    fn drop(&mut self) {
        // SAFETY: we hold one reference (type invariant).
        unsafe { bindings::iput(self.ptr.as_ptr()) };
    }
}
