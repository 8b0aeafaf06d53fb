// SPDX-License-Identifier: GPL-2.0
//! A value behind a read-write semaphore: the kernel's `rw_semaphore`,
//! which upstream Rust does not wrap. Readers share it, a writer excludes
//! everyone; both sides may sleep, and lockdep tracks it like any rwsem
//! (one class per call site of [`RwSem::new`], named by its caller).

use core::cell::UnsafeCell;
use core::marker::{PhantomData, PhantomPinned};
use core::ops::{Deref, DerefMut};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::LockClassKey;
use kernel::types::Opaque;

/// `T` behind a `rw_semaphore`.
///
/// # Invariants
///
/// `sem` is initialised and pinned for the whole life of the value;
/// `data` is read only with `sem` held (shared or exclusive) and changed
/// only with it held exclusive.
#[pin_data]
pub struct RwSem<T> {
    #[pin]
    sem: Opaque<kernel::bindings::rw_semaphore>,
    #[pin]
    _pin: PhantomPinned,
    data: UnsafeCell<T>,
}

// SAFETY: like `std::sync::RwLock`: the semaphore hands `&mut T` to one
// task at a time, so sending the value needs only `T: Send` ...
unsafe impl<T: Send> Send for RwSem<T> {}
// SAFETY: ... and `&T` to several tasks at once, so sharing it also needs
// `T: Sync`.
unsafe impl<T: Send + Sync> Sync for RwSem<T> {}

impl<T> RwSem<T> {
    /// An initialiser for `data` behind a new semaphore, which lockdep
    /// knows as `name` in class `key`.
    pub fn new(
        data: T,
        name: &'static CStr,
        key: Pin<&'static LockClassKey>,
    ) -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `slot` is valid while the closure runs, and `name`
            // and `key` are static, as lockdep keeps them.
            sem <- Opaque::ffi_init(|slot| unsafe {
                kernel::bindings::__init_rwsem(slot, name.as_char_ptr(), key.as_ptr())
            }),
            _pin: PhantomPinned,
            data: UnsafeCell::new(data),
        })
    }

    /// Take the semaphore shared.
    pub fn read(&self) -> ReadGuard<'_, T> {
        // SAFETY: `sem` is initialised (type invariant).
        unsafe { kernel::bindings::down_read(self.sem.get()) };
        // INVARIANT: taken shared just now, released by the guard's drop.
        ReadGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }

    /// Take the semaphore exclusive.
    pub fn write(&self) -> WriteGuard<'_, T> {
        // SAFETY: `sem` is initialised (type invariant).
        unsafe { kernel::bindings::down_write(self.sem.get()) };
        // INVARIANT: taken exclusive just now, released by the guard's drop.
        WriteGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }
}

/// Shared access to the value of a [`RwSem`].
///
/// # Invariants
///
/// The current task holds `lock.sem` shared; the guard stays on its task
/// (a rwsem is released by the task that took it).
pub struct ReadGuard<'a, T> {
    lock: &'a RwSem<T>,
    _not_send: PhantomData<*mut ()>,
}

impl<T> Deref for ReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: held shared (type invariant), so no writer changes it.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> Drop for ReadGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: held shared by this task (type invariant).
        unsafe { kernel::bindings::up_read(self.lock.sem.get()) };
    }
}

/// Exclusive access to the value of a [`RwSem`].
///
/// # Invariants
///
/// The current task holds `lock.sem` exclusive; the guard stays on its
/// task.
pub struct WriteGuard<'a, T> {
    lock: &'a RwSem<T>,
    _not_send: PhantomData<*mut ()>,
}

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: held exclusive (type invariant).
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: held exclusive (type invariant): no other reference exists.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for WriteGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: held exclusive by this task (type invariant).
        unsafe { kernel::bindings::up_write(self.lock.sem.get()) };
    }
}
