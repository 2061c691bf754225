//! Locks (Linux's `include/linux/spinlock.h`), for one CPU.
//!
//! [`SpinLock::lock`] is Linux's `spin_lock_irqsave`: it disables interrupts
//! and the guard restores them when dropped, so a top half can never find a
//! lock its own CPU holds. With one CPU and interrupts off, a lock that is
//! already held can never be released: that is a recursion bug and panics.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use crate::arch::x86_64::cpu;

/// A spin lock whose guard keeps interrupts disabled.
pub struct SpinLock<T> {
    locked: AtomicBool,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands out one guard at a time, so `T` moves between
// contexts (task, top half) but is never shared.
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for SpinLock<T> {}

impl<T> SpinLock<T> {
    pub const fn new(value: T) -> Self {
        SpinLock {
            locked: AtomicBool::new(false),
            data: UnsafeCell::new(value),
        }
    }

    /// Disables interrupts and takes the lock.
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        match self.try_lock() {
            Some(guard) => guard,
            None => panic!("BUG: spinlock recursion on CPU#0"),
        }
    }

    /// Takes the lock if it is free (interrupts disabled while held).
    pub fn try_lock(&self) -> Option<SpinLockGuard<'_, T>> {
        let irq_was_enabled = cpu::local_irq_save();
        if self
            .locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            Some(SpinLockGuard {
                lock: self,
                irq_was_enabled,
            })
        } else {
            cpu::local_irq_restore(irq_was_enabled);
            None
        }
    }

    /// The data without the lock: only for the oops path, which must print
    /// even if the code that faulted held the lock.
    ///
    /// # Safety
    /// Nothing else may run (interrupts off, the faulting code never
    /// resumes).
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn force_get(&self) -> &mut T {
        // SAFETY: the caller guarantees no other access can happen.
        unsafe { &mut *self.data.get() }
    }
}

/// Holds a [`SpinLock`]; releases it and restores interrupts when dropped.
pub struct SpinLockGuard<'a, T> {
    lock: &'a SpinLock<T>,
    irq_was_enabled: bool,
}

impl<T> Deref for SpinLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves we hold the lock.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard proves we hold the lock.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for SpinLockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
        cpu::local_irq_restore(self.irq_was_enabled);
    }
}

/// A value set once during boot and read-only afterwards.
pub struct InitOnce<T> {
    state: AtomicU8,
    value: UnsafeCell<Option<T>>,
}

const UNSET: u8 = 0;
const SETTING: u8 = 1;
const SET: u8 = 2;

// SAFETY: the value is written once, before the state says SET, and only
// read after; `T: Sync` makes shared reads fine.
unsafe impl<T: Send + Sync> Sync for InitOnce<T> {}

impl<T> InitOnce<T> {
    pub const fn new() -> Self {
        InitOnce {
            state: AtomicU8::new(UNSET),
            value: UnsafeCell::new(None),
        }
    }

    /// Stores the value. Panics if called twice.
    pub fn init(&self, value: T) -> &T {
        if self
            .state
            .compare_exchange(UNSET, SETTING, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            panic!("InitOnce initialised twice");
        }
        // SAFETY: the SETTING state gives us the only access.
        unsafe { *self.value.get() = Some(value) };
        self.state.store(SET, Ordering::Release);
        self.get().expect("just set")
    }

    /// The value, once set.
    pub fn get(&self) -> Option<&T> {
        if self.state.load(Ordering::Acquire) == SET {
            // SAFETY: SET means the value is written and never changes.
            unsafe { (*self.value.get()).as_ref() }
        } else {
            None
        }
    }
}

impl<T> Default for InitOnce<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// A sleeping lock (Linux's `struct mutex`): a task that finds it held
/// sleeps on its wait queue, so it may be held across disk reads. Task
/// context only.
pub struct Mutex<T> {
    locked: AtomicBool,
    waiters: crate::kernel::wait::WaitQueue,
    data: UnsafeCell<T>,
}

// SAFETY: one guard at a time, as for SpinLock.
unsafe impl<T: Send> Sync for Mutex<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for Mutex<T> {}

impl<T> Mutex<T> {
    pub const fn new(value: T) -> Self {
        Mutex {
            locked: AtomicBool::new(false),
            waiters: crate::kernel::wait::WaitQueue::new(),
            data: UnsafeCell::new(value),
        }
    }

    /// Takes the lock, sleeping while another task holds it.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.waiters.wait_event(|| {
            self.locked
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        });
        MutexGuard { lock: self }
    }
}

/// Holds a [`Mutex`]; releases it and wakes a waiter when dropped.
pub struct MutexGuard<'a, T> {
    lock: &'a Mutex<T>,
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves we hold the lock.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard proves we hold the lock.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
        self.lock.waiters.wake_up_all();
    }
}
