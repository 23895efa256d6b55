//! Where senders of a full bounded mailbox wait for room, made on first use.
//!
//! Most mailboxes never make a sender wait: unbounded ones never do, and a bounded one
//! only once its actor falls a full capacity behind. So the waiting list (a tokio
//! [`Notify`], 32 bytes) is allocated by the first sender that waits, and an actor's cell
//! holds one pointer to it instead.

use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use tokio::sync::Notify;

/// The waiting list of a mailbox's senders, allocated by the first of them to wait.
pub(super) struct Room(AtomicPtr<Notify>);

impl Room {
    pub(super) const fn new() -> Self {
        Self(AtomicPtr::new(ptr::null_mut()))
    }

    /// The waiting list, made now if no sender has waited yet.
    pub(super) fn get_or_make(&self) -> &Notify {
        let current = self.0.load(Ordering::Acquire);
        if !current.is_null() {
            // SAFETY: once installed, the list lives as long as `self`.
            return unsafe { &*current };
        }
        let made = Box::into_raw(Box::new(Notify::new()));
        match self
            .0
            .compare_exchange(ptr::null_mut(), made, Ordering::AcqRel, Ordering::Acquire)
        {
            // SAFETY: installed, it lives as long as `self`.
            Ok(_) => unsafe { &*made },
            Err(installed) => {
                // Another sender made one first: use theirs.
                // SAFETY: `made` never left this function.
                drop(unsafe { Box::from_raw(made) });
                // SAFETY: as above.
                unsafe { &*installed }
            }
        }
    }

    /// The waiting list, if a sender ever waited. A caller that has seen a waiter counted
    /// (sequentially consistent, after the waiter made the list) finds it made.
    pub(super) fn get(&self) -> Option<&Notify> {
        // SAFETY: once installed, the list lives as long as `self`.
        unsafe { self.0.load(Ordering::Acquire).as_ref() }
    }

    /// Wakes the sender that has waited longest, if any ever waited. With none waiting
    /// right now, the next to wait finds the wake-up already there and looks at the room
    /// once more before it waits.
    pub(super) fn notify_one(&self) {
        if let Some(room) = self.get() {
            room.notify_one();
        }
    }

    /// Wakes every sender waiting right now, if any ever waited.
    pub(super) fn notify_waiters(&self) {
        if let Some(room) = self.get() {
            room.notify_waiters();
        }
    }
}

impl Drop for Room {
    fn drop(&mut self) {
        let room = *self.0.get_mut();
        if !room.is_null() {
            // SAFETY: the list was installed from a box and nobody else refers to it now.
            drop(unsafe { Box::from_raw(room) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn the_list_is_made_once_and_then_shared() {
        let room = Room::new();
        assert!(room.get().is_none(), "no sender waited yet");
        room.notify_waiters(); // nothing to wake, and nothing made
        assert!(room.get().is_none());
        let first: *const Notify = room.get_or_make();
        assert_eq!(room.get().map(ptr::from_ref), Some(first));
        assert_eq!(ptr::from_ref(room.get_or_make()), first);
    }

    #[test]
    fn senders_racing_to_make_it_all_get_the_same_list() {
        for _ in 0..200 {
            let room = Arc::new(Room::new());
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let room = Arc::clone(&room);
                    std::thread::spawn(move || ptr::from_ref(room.get_or_make()) as usize)
                })
                .collect();
            let made: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
            assert!(made.windows(2).all(|pair| pair[0] == pair[1]), "{made:?}");
        }
    }
}
