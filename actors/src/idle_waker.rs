//! The waker of an actor's loop while it waits for mail or a signal.
//!
//! Like an `AtomicWaker` (one registrant, any number of wakers), with one difference that
//! matters on the hot path: waking does not take the waker out. The loop registers each
//! time its mailbox runs empty, nearly always with the same task waker, so a registration
//! that finds that waker already there costs two pointer comparisons and no atomic
//! operation; a wake costs two atomic operations plus the task's own wake.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::Waker;

/// Nobody is touching the waker.
const IDLE: u8 = 0;
/// The registrant is replacing the waker.
const REGISTERING: u8 = 1;
/// Somebody is waking the waker.
const WAKING: u8 = 2;
/// Another wake came in while the waker was being woken or replaced.
const AGAIN: u8 = 4;

pub(crate) struct IdleWaker {
    state: AtomicU8,
    waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the waker is written only by the one registrant while it holds `REGISTERING`,
// and read by wakers only while they hold `WAKING` (which excludes `REGISTERING`) or by the
// registrant itself; `Waker` is `Send + Sync`.
unsafe impl Send for IdleWaker {}
// SAFETY: as for `Send`.
unsafe impl Sync for IdleWaker {}

impl IdleWaker {
    pub(crate) const fn new() -> Self {
        Self {
            state: AtomicU8::new(IDLE),
            waker: UnsafeCell::new(None),
        }
    }

    /// Makes `waker` the one to wake.
    ///
    /// Only one task may register (the actor's own loop): registrations must never run
    /// concurrently with each other. A wake that races with a registration wakes `waker`.
    pub(crate) fn register(&self, waker: &Waker) {
        // SAFETY: only the registrant (this caller) ever writes the slot, so reading it
        // here cannot race with a write; concurrent wakers only read it.
        if unsafe { &*self.waker.get() }
            .as_ref()
            .is_some_and(|current| current.will_wake(waker))
        {
            return;
        }
        let mut woken = false;
        loop {
            match self.state.compare_exchange(
                IDLE,
                REGISTERING,
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    // SAFETY: `REGISTERING` excludes wakers from reading the slot.
                    unsafe { *self.waker.get() = Some(waker.clone()) };
                    if self
                        .state
                        .compare_exchange(REGISTERING, IDLE, Ordering::AcqRel, Ordering::Acquire)
                        .is_err()
                    {
                        // A wake came in meanwhile and left it to us.
                        self.state.store(IDLE, Ordering::Release);
                        waker.wake_by_ref();
                    }
                    return;
                }
                Err(_) => {
                    // Being woken right now, maybe through the old waker: wake this one too,
                    // then store it once the wake is over (a moment).
                    if !woken {
                        waker.wake_by_ref();
                        woken = true;
                    }
                    std::hint::spin_loop();
                }
            }
        }
    }

    /// Forgets the registered waker (it keeps its task's memory alive), for the registrant
    /// to call when it is done waiting for good.
    pub(crate) fn clear(&self) {
        loop {
            match self.state.compare_exchange(
                IDLE,
                REGISTERING,
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    // SAFETY: `REGISTERING` excludes wakers from reading the slot.
                    let old = unsafe { (*self.waker.get()).take() };
                    self.state.store(IDLE, Ordering::Release);
                    drop(old);
                    return;
                }
                // A wake is reading the waker: it is done in a moment.
                Err(_) => std::hint::spin_loop(),
            }
        }
    }

    /// Wakes the registered waker, if any.
    ///
    /// The waker is woken in place (by reference), while this call holds `WAKING`. A wake
    /// that arrives meanwhile cannot just leave it to the holder, whose wake may have come
    /// before the event this one announces: it sets `AGAIN`, and the holder wakes once more
    /// before it lets go. Uncontended, a wake is one `fetch_or` and one compare-and-swap.
    pub(crate) fn wake(&self) {
        let mut before = self.state.fetch_or(WAKING, Ordering::AcqRel);
        while before & (WAKING | REGISTERING) != 0 {
            // Held by another wake (or the registrant): ask it to wake once more. If it let
            // go in between, nobody would see the request: take over instead.
            let held = self.state.fetch_or(AGAIN, Ordering::AcqRel);
            if held & (WAKING | REGISTERING) != 0 {
                return;
            }
            before = self.state.fetch_or(WAKING, Ordering::AcqRel);
        }
        loop {
            // SAFETY: `WAKING` (taken from a state without it or `REGISTERING`) excludes
            // the registrant's writes.
            if let Some(waker) = unsafe { &*self.waker.get() } {
                waker.wake_by_ref();
            }
            if self
                .state
                .compare_exchange(WAKING, IDLE, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return;
            }
            // `AGAIN` was set: cleared before waking once more, so that a request from now
            // on is covered by that wake or sets it again.
            self.state.fetch_and(!AGAIN, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IdleWaker;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        (count, waker)
    }

    #[test]
    fn wakes_the_registered_waker_every_time_and_keeps_it() {
        let slot = IdleWaker::new();
        slot.wake(); // Nothing registered: nothing happens.
        let (count, waker) = counting();
        slot.register(&waker);
        slot.wake();
        slot.wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
        // Registering the same waker again changes nothing.
        slot.register(&waker.clone());
        slot.wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 3);
        // A different waker replaces it.
        let (other, other_waker) = counting();
        slot.register(&other_waker);
        slot.wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 3);
        assert_eq!(other.0.load(Ordering::SeqCst), 1);
        // Cleared, it wakes nothing and holds no waker.
        slot.clear();
        slot.wake();
        assert_eq!(other.0.load(Ordering::SeqCst), 1);
        assert_eq!(
            Arc::strong_count(&other),
            2,
            "the test's waker and `other` itself"
        );
    }

    struct Unpark(std::thread::Thread);

    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    #[test]
    fn no_wake_is_lost_between_many_wakers_and_a_registrant_that_sleeps() {
        const WAKERS: usize = 3;
        const EACH: usize = 20_000;
        let slot = Arc::new(IdleWaker::new());
        let events = Arc::new(AtomicUsize::new(0));
        let wakers: Vec<_> = (0..WAKERS)
            .map(|_| {
                let (slot, events) = (Arc::clone(&slot), Arc::clone(&events));
                std::thread::spawn(move || {
                    for _ in 0..EACH {
                        events.fetch_add(1, Ordering::SeqCst);
                        slot.wake();
                    }
                })
            })
            .collect();
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut seen = 0;
        while seen < WAKERS * EACH {
            slot.register(&waker);
            let now = events.load(Ordering::SeqCst);
            if now == seen {
                let started = std::time::Instant::now();
                std::thread::park_timeout(std::time::Duration::from_secs(5));
                let after = events.load(Ordering::SeqCst);
                assert!(
                    after == seen || started.elapsed() < std::time::Duration::from_secs(5),
                    "an event came in and its wake was lost"
                );
            }
            seen = now;
        }
        for waker in wakers {
            waker.join().unwrap();
        }
    }

    #[test]
    fn a_wake_racing_with_registrations_always_reaches_a_current_waker() {
        for _ in 0..200 {
            let slot = Arc::new(IdleWaker::new());
            let (first, first_waker) = counting();
            slot.register(&first_waker);
            let (second, second_waker) = counting();
            let waking = {
                let slot = Arc::clone(&slot);
                std::thread::spawn(move || slot.wake())
            };
            slot.register(&second_waker);
            waking.join().unwrap();
            // The wake reached the old waker before the swap, or the new one.
            let woken = first.0.load(Ordering::SeqCst) + second.0.load(Ordering::SeqCst);
            assert!(woken >= 1, "a wake was lost");
        }
    }
}
