//! Keeps an actor that a busy sender woke from waiting behind that sender.
//!
//! tokio runs a task woken on a worker thread next on that same worker (in its LIFO slot),
//! once the waking task yields, and no other worker may take it from there. That is what
//! makes a request and its reply cheap. But a sender that keeps sending without ever
//! waiting (telling an unbounded mailbox, spawning actors onto a strand) does not yield,
//! and the actor it woke waits the whole time, while another worker may sit idle: the
//! messages pile up and are handled only once the sender is done, on the sender's thread.
//!
//! So each thread remembers that it woke an actor, and counts the messages it sends after
//! that. After [`KICK_AFTER`] sends with no wake-up in between, it spawns an empty tokio
//! task. The new task takes the LIFO slot, which moves the waiting actor to the worker's
//! queue, where the other workers can take it, and tokio wakes one of them if it sleeps:
//! the actor then runs beside its sender. At most one empty task per wake-up. Senders
//! that wait between their sends (asks, ping-pong) wake the actor on each send and so
//! rarely kick (the count is the thread's, so other tasks' sends on the same worker can
//! still complete one).

use std::cell::Cell;

/// Sends after a wake-up before the woken actor is moved out of its sender's way: a few
/// microseconds of a flood. Measured against 64 and 128 (see `benches/PROFILE.md`), which
/// moved it more often for no gain.
const KICK_AFTER: u32 = 256;

/// Nothing to move: no wake-up since the last kick.
const IDLE: u32 = u32::MAX;

thread_local! {
    /// Sends since this thread last woke an actor, or [`IDLE`].
    static SINCE_WAKE: Cell<u32> = const { Cell::new(IDLE) };
}

/// Notes that this thread just woke an actor's task, which may now wait in this worker's
/// LIFO slot.
#[inline]
pub(crate) fn woke() {
    let _ = SINCE_WAKE.try_with(|since| since.set(0));
}

/// Notes a message this thread sent without waking anyone, and moves the last actor it woke
/// out of its way once [`KICK_AFTER`] such sends have followed the wake-up.
#[inline]
pub(crate) fn sent() {
    if SINCE_WAKE.try_with(count_send).unwrap_or(false) {
        kick();
    }
}

/// Counts one send after a wake-up; `true` when the woken actor is due to be moved.
fn count_send(since: &Cell<u32>) -> bool {
    match since.get() {
        IDLE => false,
        count if count + 1 < KICK_AFTER => {
            since.set(count + 1);
            false
        }
        _ => {
            since.set(IDLE);
            true
        }
    }
}

/// Spawns an empty task on this worker, which pushes whatever waits in its LIFO slot to its
/// queue, where an idle worker is told to take it. Only multi-thread runtimes have other
/// workers to take it.
#[cold]
fn kick() {
    use tokio::runtime::{Handle, RuntimeFlavor};
    // Only a task has a worker, and so a LIFO slot, to move the actor out of.
    if tokio::task::try_id().is_none() {
        return;
    }
    if let Ok(handle) = Handle::try_current() {
        if handle.runtime_flavor() == RuntimeFlavor::MultiThread {
            drop(handle.spawn(async {}));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kick_is_due_once_per_wake_after_the_set_number_of_sends() {
        let since = Cell::new(IDLE);
        // No wake-up yet: sends never call for a kick.
        assert!((0..10 * KICK_AFTER).all(|_| !count_send(&since)));
        since.set(0);
        assert!((1..KICK_AFTER).all(|_| !count_send(&since)));
        assert!(count_send(&since), "due at the last of {KICK_AFTER} sends");
        // Once: the next kick needs another wake-up.
        assert!((0..10 * KICK_AFTER).all(|_| !count_send(&since)));
    }

    #[test]
    fn a_new_wake_up_starts_the_count_again() {
        SINCE_WAKE.set(IDLE);
        woke();
        for _ in 1..KICK_AFTER {
            sent();
        }
        assert_eq!(SINCE_WAKE.get(), KICK_AFTER - 1);
        woke();
        assert_eq!(SINCE_WAKE.get(), 0);
        // Outside any runtime a due kick has nothing to do, and does not panic.
        for _ in 0..KICK_AFTER {
            sent();
        }
        assert_eq!(SINCE_WAKE.get(), IDLE);
    }
}
