// SPDX-License-Identifier: GPL-2.0
//! The inode locks: what keeps two side-by-side transactions off one inode.
//!
//! Side by side (the core lock shared, each on its own view), two
//! transactions must never change the same bytes, or one would commit over
//! the other's staged copy. For directories and the inodes a namespace
//! operation links or unlinks, the VFS's `i_rwsem` ensures it; but writes
//! filling holes (under the file's `i_rwsem`), faults filling holes (under
//! the MMAPLOCK shared only: two of them may fill holes of one file), the
//! time stores of `write_inode` (no VFS lock at all) and link, unlink or
//! rename of the same file do not all hold one VFS lock. Each of them holds
//! the inode lock of every existing inode it changes (at most two) from
//! before its transaction reads them until it commits, as XFS holds its
//! ILOCK.
//!
//! The locks are a fixed table of kernel mutexes hashed by inode number,
//! not one per inode: two inodes sharing a lock only wait for each other.
//! Two locks are taken in table order, the second as lockdep subclass 1
//! (the upstream Rust `Mutex` has no nested locking, hence this type).

use super::bindings;
use core::marker::{PhantomData, PhantomPinned};
use kernel::prelude::*;
use kernel::types::Opaque;

/// Locks in the table: enough that two CPUs working on different files
/// rarely share one.
const LOCKS: usize = 64;

/// The inode locks of one mounted filesystem.
///
/// # Invariants
///
/// Every mutex of `locks` is initialised and pinned for the life of the
/// value.
#[pin_data]
pub struct InodeLocks {
    #[pin]
    locks: [Opaque<bindings::mutex>; LOCKS],
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: kernel mutexes may be taken and released from any task; the
// table holds no data of its own.
unsafe impl Send for InodeLocks {}
// SAFETY: as above; every operation goes through the mutex API.
unsafe impl Sync for InodeLocks {}

impl InodeLocks {
    /// A table of unlocked locks, known to lockdep as `ferrodax_inode`.
    pub fn new() -> impl PinInit<Self> {
        let key = kernel::static_lock_class!();
        pin_init!(Self {
            locks <- pin_init::pin_init_array_from_fn(|_| {
                // SAFETY: `slot` is valid while the closure runs; the name
                // and the key are static, as lockdep keeps them.
                Opaque::ffi_init(move |slot| unsafe {
                    bindings::__mutex_init(slot, c"ferrodax_inode".as_char_ptr(), key.as_ptr())
                })
            }),
            _pin: PhantomPinned,
        })
    }

    fn slot(ino: u64) -> usize {
        (ino % LOCKS as u64) as usize
    }

    /// Lock inode `ino` (and the others sharing its lock).
    pub fn lock(&self, ino: u64) -> InodeGuard<'_> {
        self.lock_slots(Self::slot(ino), None)
    }

    /// Lock inodes `a` and `b`, in table order.
    pub fn lock_two(&self, a: u64, b: u64) -> InodeGuard<'_> {
        let (a, b) = (Self::slot(a), Self::slot(b));
        match a == b {
            true => self.lock_slots(a, None),
            false => self.lock_slots(a.min(b), Some(a.max(b))),
        }
    }

    fn lock_slots(&self, first: usize, second: Option<usize>) -> InodeGuard<'_> {
        let first = &self.locks[first];
        // SAFETY: initialised (type invariant); released by the guard.
        unsafe { bindings::mutex_lock(first.get()) };
        let second = second.map(|s| {
            let lock = &self.locks[s];
            // SAFETY: as above. A later slot than `first`: every holder of
            // two takes them in table order, so they cannot deadlock, and
            // subclass 1 tells lockdep the nesting is intended.
            unsafe { bindings::ferrodax_mutex_lock_nested(lock.get(), 1) };
            lock
        });
        // INVARIANT: both taken just now, by this task.
        InodeGuard {
            locks: [Some(first), second],
            _not_send: PhantomData,
        }
    }
}

/// One or two held inode locks, released when dropped.
///
/// # Invariants
///
/// The current task holds every lock in `locks`; the guard stays on its
/// task (a mutex is released by the task that took it).
pub struct InodeGuard<'a> {
    locks: [Option<&'a Opaque<bindings::mutex>>; 2],
    _not_send: PhantomData<*mut ()>,
}

impl Drop for InodeGuard<'_> {
    fn drop(&mut self) {
        for lock in self.locks.iter().rev().flatten() {
            // SAFETY: held by this task (type invariant).
            unsafe { bindings::mutex_unlock(lock.get()) };
        }
    }
}
