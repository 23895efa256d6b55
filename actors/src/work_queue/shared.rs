//! The bounded queue that producers and consumers' pumps share: a deque under a lock, a
//! semaphore counting free places (producers wait on it), and a notify for pumps waiting
//! for items.
//!
//! Accounting: `free places (semaphore permits) + queued items - borrowed = capacity`,
//! where `borrowed` counts items put back into a full queue (see [`Shared::put_back`]).

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::{Notify, Semaphore, SemaphorePermit, TryAcquireError};
use tokio::time::Instant;

use crate::cell::ActorId;
use crate::work_queue::error::{PushTimeoutError, TryPushError};
use crate::work_queue::WorkQueueStats;

pub(super) struct Shared<M> {
    capacity: usize,
    state: Mutex<State<M>>,
    /// One permit per free place. Closed with the queue, which wakes waiting producers.
    room: Semaphore,
    /// An item was queued, or the queue closed: wakes pumps waiting for work.
    items: Notify,
    /// The queue closed, or a consumer left: wakes [`Shared::wait`].
    changed: Notify,
}

struct State<M> {
    items: VecDeque<M>,
    /// Items put back while the queue was full; the next ones taken free no place.
    borrowed: usize,
    closed: bool,
    /// The attached consumers, in attach order.
    consumers: Vec<ActorId>,
    in_flight: usize,
    pushed: u64,
    completed: u64,
    failed: u64,
}

/// How a consumer's turn with an item ended.
pub(super) enum Outcome {
    /// The handler returned.
    Completed,
    /// The handler panicked, or the consumer ended before handling the item.
    Failed,
}

impl<M> Shared<M> {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            state: Mutex::new(State {
                items: VecDeque::new(),
                borrowed: 0,
                closed: false,
                consumers: Vec::new(),
                in_flight: 0,
                pushed: 0,
                completed: 0,
                failed: 0,
            }),
            room: Semaphore::new(capacity),
            items: Notify::new(),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<M>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Waits for a free place, then queues the item. `Err` gives it back: the queue closed.
    pub(super) async fn push(&self, item: M) -> Result<(), M> {
        match self.room.acquire().await {
            Ok(place) => self.enqueue(place, item),
            Err(_closed) => Err(item),
        }
    }

    /// Like [`push`](Self::push), waiting for a place at most until `deadline`.
    pub(super) async fn push_until(
        &self,
        item: M,
        deadline: Instant,
    ) -> Result<(), PushTimeoutError<M>> {
        match tokio::time::timeout_at(deadline, self.room.acquire()).await {
            Ok(Ok(place)) => self.enqueue(place, item).map_err(PushTimeoutError::Closed),
            Ok(Err(_closed)) => Err(PushTimeoutError::Closed(item)),
            Err(_elapsed) => Err(PushTimeoutError::Timeout(item)),
        }
    }

    pub(super) fn try_push(&self, item: M) -> Result<(), TryPushError<M>> {
        match self.room.try_acquire() {
            Ok(place) => self.enqueue(place, item).map_err(TryPushError::Closed),
            Err(TryAcquireError::NoPermits) => Err(TryPushError::Full(item)),
            Err(TryAcquireError::Closed) => Err(TryPushError::Closed(item)),
        }
    }

    fn enqueue(&self, place: SemaphorePermit<'_>, item: M) -> Result<(), M> {
        let mut state = self.lock();
        if state.closed {
            // Closed between the place and the lock. (Dropping the place returns it.)
            return Err(item);
        }
        state.items.push_back(item);
        state.pushed += 1;
        place.forget();
        drop(state);
        self.items.notify_one();
        Ok(())
    }

    /// Waits for the next item and counts it in flight; `None` once the queue is closed and
    /// empty.
    ///
    /// Cancel safe: an item is taken only in the poll that returns it.
    pub(super) async fn take(&self) -> Option<M> {
        loop {
            let notified = self.items.notified();
            tokio::pin!(notified);
            // Register before looking, so that a push in between is not missed.
            notified.as_mut().enable();
            {
                let mut state = self.lock();
                if let Some(item) = state.items.pop_front() {
                    let frees_a_place = if state.borrowed > 0 {
                        state.borrowed -= 1;
                        false
                    } else {
                        true
                    };
                    state.in_flight += 1;
                    let more = !state.items.is_empty();
                    drop(state);
                    if frees_a_place {
                        self.room.add_permits(1);
                    }
                    if more {
                        // Pass the word on, in case several items came with one wake-up.
                        self.items.notify_one();
                    }
                    return Some(item);
                }
                if state.closed {
                    return None;
                }
            }
            notified.await;
        }
    }

    /// Puts an item that a consumer refused back at the front of the queue, for another
    /// consumer. Its place may have been taken meanwhile; then the queue holds one item
    /// more than its capacity until an item is taken.
    pub(super) fn put_back(&self, item: M) {
        let mut state = self.lock();
        state.in_flight -= 1;
        state.items.push_front(item);
        match self.room.try_acquire() {
            Ok(place) => place.forget(),
            Err(_) => state.borrowed += 1,
        }
        drop(state);
        self.items.notify_one();
    }

    /// Counts the end of an item's turn with a consumer.
    pub(super) fn finished(&self, outcome: Outcome) {
        let mut state = self.lock();
        state.in_flight -= 1;
        match outcome {
            Outcome::Completed => state.completed += 1,
            Outcome::Failed => state.failed += 1,
        }
    }

    /// Refuses new items and wakes whoever waits. Returns `true` if the queue was open.
    pub(super) fn close(&self) -> bool {
        let was_open = {
            let mut state = self.lock();
            !std::mem::replace(&mut state.closed, true)
        };
        if was_open {
            self.announce_close();
        }
        was_open
    }

    /// Wakes everyone who waits on an open queue, once it has closed.
    fn announce_close(&self) {
        self.room.close();
        self.items.notify_waiters();
        self.changed.notify_waiters();
    }

    pub(super) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Takes every queued item out, freeing their places.
    pub(super) fn drain(&self) -> Vec<M> {
        let mut state = self.lock();
        let items: Vec<M> = state.items.drain(..).collect();
        let freed = items.len().saturating_sub(state.borrowed);
        state.borrowed = state.borrowed.saturating_sub(items.len());
        drop(state);
        self.room.add_permits(freed);
        items
    }

    pub(super) fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// Adds a consumer. Returns `false` if it was already attached.
    pub(super) fn join(&self, consumer: ActorId) -> bool {
        let mut state = self.lock();
        if state.consumers.contains(&consumer) {
            return false;
        }
        state.consumers.push(consumer);
        true
    }

    /// Removes a consumer whose pump ended; the last one to leave closes the queue.
    pub(super) fn leave(&self, consumer: ActorId) {
        // Deciding "last" and closing in one critical section, so that a consumer joining
        // meanwhile either keeps the queue open or finds it already closed.
        let closed_now = {
            let mut state = self.lock();
            state.consumers.retain(|attached| *attached != consumer);
            state.consumers.is_empty() && !std::mem::replace(&mut state.closed, true)
        };
        if closed_now {
            tracing::debug!("work_queue.closed_without_consumers");
            self.announce_close();
        }
        self.changed.notify_waiters();
    }

    pub(super) fn stats(&self) -> WorkQueueStats {
        let state = self.lock();
        WorkQueueStats {
            pushed: state.pushed,
            completed: state.completed,
            failed: state.failed,
            queued: state.items.len(),
            in_flight: state.in_flight,
            consumers: state.consumers.len(),
            closed: state.closed,
        }
    }

    /// Waits until the queue is closed and no consumer is attached, and returns the counts.
    pub(super) async fn wait(&self) -> WorkQueueStats {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let stats = self.stats();
            if stats.closed && stats.consumers == 0 {
                return stats;
            }
            changed.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Shared;
    use crate::work_queue::error::TryPushError;

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn an_item_put_back_into_a_full_queue_borrows_a_place_until_taken() {
        let shared = Shared::new(2);
        shared.try_push('a').unwrap();
        shared.try_push('b').unwrap();
        assert_eq!(block_on(shared.take()), Some('a'));
        shared.try_push('c').unwrap();
        assert!(matches!(shared.try_push('x'), Err(TryPushError::Full('x'))));

        // The consumer refused 'a': it goes back to the front, over capacity.
        shared.put_back('a');
        assert_eq!(shared.len(), 3);
        assert!(matches!(shared.try_push('x'), Err(TryPushError::Full('x'))));
        // Taking it back frees no place: the queue is at capacity again.
        assert_eq!(block_on(shared.take()), Some('a'));
        assert!(matches!(shared.try_push('x'), Err(TryPushError::Full('x'))));
        assert_eq!(block_on(shared.take()), Some('b'));
        shared.try_push('d').unwrap();
        let stats = shared.stats();
        assert_eq!((stats.queued, stats.in_flight, stats.pushed), (2, 2, 4));
    }

    #[test]
    fn an_item_put_back_into_a_queue_with_room_takes_a_free_place() {
        let shared = Shared::new(2);
        shared.try_push('a').unwrap();
        assert_eq!(block_on(shared.take()), Some('a'));
        shared.put_back('a');
        shared.try_push('b').unwrap();
        assert!(matches!(shared.try_push('x'), Err(TryPushError::Full('x'))));
        assert_eq!(shared.stats().in_flight, 0);
    }

    #[test]
    fn drain_frees_every_place_but_the_borrowed_ones() {
        let shared = Shared::new(2);
        shared.try_push('a').unwrap();
        shared.try_push('b').unwrap();
        assert_eq!(block_on(shared.take()), Some('a'));
        shared.try_push('c').unwrap();
        shared.put_back('a');
        assert_eq!(shared.drain(), vec!['a', 'b', 'c']);
        shared.try_push('d').unwrap();
        shared.try_push('e').unwrap();
        assert!(matches!(shared.try_push('x'), Err(TryPushError::Full('x'))));
    }

    #[test]
    fn a_closed_queue_hands_out_what_it_holds_then_nothing() {
        let shared = Shared::new(2);
        shared.try_push('a').unwrap();
        assert!(shared.close());
        assert!(!shared.close());
        assert!(matches!(
            shared.try_push('x'),
            Err(TryPushError::Closed('x'))
        ));
        assert_eq!(block_on(shared.take()), Some('a'));
        assert_eq!(block_on(shared.take()), None);
    }
}
