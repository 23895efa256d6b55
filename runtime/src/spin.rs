//! A lock for a few instructions of work, released with a plain store.
//!
//! The coarse deadline table takes a shard's lock twice per ask (add the entry, remove
//! it), nearly always uncontended: the shard is the thread's own, and the watcher looks
//! at it once per tick. A `std::sync::Mutex` releases with an atomic swap (it must see
//! whether a waiter sleeps); this lock releases with a store, one atomic
//! read-modify-write less per use. A waiter spins briefly, then yields its thread.

use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};

/// How many times a waiter spins before it yields its thread between tries.
const SPINS: u32 = 64;

/// A spin lock around `T`. Not poisoned by a panic: the guard's drop releases it.
#[derive(Debug, Default)]
pub(crate) struct SpinLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to `value` to one holder at a time.
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: as above; the value moves with the lock.
unsafe impl<T: Send> Send for SpinLock<T> {}

impl<T> SpinLock<T> {
    pub(crate) fn new(value: T) -> Self {
        Self {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Takes the lock, waiting for it if it is held.
    pub(crate) fn lock(&self) -> SpinGuard<'_, T> {
        let mut spins = 0_u32;
        while self.locked.swap(true, Ordering::Acquire) {
            // Wait on a plain load, which keeps the line shared until it is released.
            while self.locked.load(Ordering::Relaxed) {
                if spins < SPINS {
                    spins += 1;
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
        SpinGuard {
            lock: self,
            _not_sync: PhantomData,
        }
    }
}

/// Access to a [`SpinLock`]'s value; dropping it releases the lock.
pub(crate) struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
    /// Shared only if `T` is `Sync`: a shared guard lends `&T` to several threads.
    _not_sync: PhantomData<&'a mut T>,
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::SpinLock;

    #[test]
    fn four_threads_never_hold_it_at_once() {
        const ROUNDS: u64 = 20_000;
        // The count is read and written in two steps: a second holder would lose updates.
        let lock = Arc::new(SpinLock::new(0_u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let lock = Arc::clone(&lock);
                std::thread::spawn(move || {
                    for _ in 0..ROUNDS {
                        let mut guard = lock.lock();
                        let seen = *guard;
                        std::hint::black_box(&seen);
                        *guard = seen + 1;
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(*lock.lock(), 4 * ROUNDS);
    }

    #[test]
    fn a_panic_while_held_releases_it() {
        let lock = SpinLock::new(1);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _guard = lock.lock();
            panic!("while held");
        }));
        assert!(caught.is_err());
        assert_eq!(*lock.lock(), 1, "the lock is free again");
    }
}
