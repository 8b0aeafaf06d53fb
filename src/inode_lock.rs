// SPDX-License-Identifier: GPL-2.0
//! The inode locks: what keeps two side-by-side transactions off one inode.
//!
//! Side by side (the core lock shared, each on its own view), two
//! transactions must never change the same bytes, or one would commit over
//! the other's staged copy. For directories and the inodes a namespace
//! operation links or unlinks, the VFS's `i_rwsem` ensures it; but writes
//! filling holes (under the file's `i_rwsem`), faults filling holes (under
//! the MMAPLOCK shared only: two of them may fill holes of one file), the
//! time stores of `write_inode` (no VFS lock at all) and link or unlink of
//! the same file do not all hold one VFS lock. Each of them holds the inode
//! lock of the one inode it changes from before its transaction reads the
//! inode until it commits, as XFS holds its ILOCK.
//!
//! The locks are a fixed table of mutexes hashed by inode number, not one
//! per inode: a transaction holds one at a time (so they cannot deadlock
//! among themselves and need no lockdep subclasses), and two inodes
//! sharing a lock only wait for each other.

use kernel::prelude::*;
use kernel::sync::lock::{mutex::MutexBackend, Guard};
use kernel::sync::Mutex;

/// Locks in the table: enough that two CPUs working on different files
/// rarely share one.
const LOCKS: usize = 64;

/// The inode locks of one mounted filesystem.
pub(crate) struct InodeLocks {
    locks: Pin<KBox<[Mutex<()>; LOCKS]>>,
}

impl InodeLocks {
    /// A table of unlocked locks.
    pub(crate) fn new() -> Result<Self> {
        let locks = KBox::pin_init(
            pin_init::pin_init_array_from_fn(|_| kernel::new_mutex!((), "ferrodax_inode")),
            GFP_KERNEL,
        )?;
        Ok(InodeLocks { locks })
    }

    /// Lock inode `ino` (and the others sharing its lock).
    pub(crate) fn lock(&self, ino: u64) -> Guard<'_, (), MutexBackend> {
        self.locks[(ino % LOCKS as u64) as usize].lock()
    }
}
