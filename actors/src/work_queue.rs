//! Work queues: a bounded queue of items shared by many consumer actors, each item handled
//! by exactly one of them, with backpressure to producers.
//!
//! Producers [`push`](WorkQueue::push) items; when the queue is full, `push` waits for
//! room (or use [`try_push`](WorkQueue::try_push) to get the item back at once). Consumers
//! are actors that handle the item type; [`attach`](WorkQueue::attach) one and the queue
//! feeds it one item at a time, asking it to handle an item and handing it the next one
//! only when it is done. A fast consumer therefore takes more items than a slow one.
//!
//! # Examples
//!
//! ```
//! use playhouse::prelude::*;
//! use playhouse::work_queue::WorkQueue;
//!
//! /// One unit of work.
//! struct Job(u64);
//!
//! impl Message for Job {
//!     type Reply = ();
//! }
//!
//! /// Does jobs and counts them.
//! #[derive(Actor, Default)]
//! struct Worker {
//!     jobs: u64,
//! }
//!
//! impl Handler<Job> for Worker {
//!     async fn handle(&mut self, Job(_number): Job, _ctx: &mut Context<Self>) {
//!         self.jobs += 1;
//!     }
//! }
//!
//! #[messages]
//! impl Worker {
//!     /// Replies with how many jobs this worker did.
//!     #[message]
//!     fn jobs(&self) -> u64 {
//!         self.jobs
//!     }
//! }
//!
//! # #[playhouse::main]
//! # async fn main() {
//! let queue = WorkQueue::new(16);
//! let workers: Vec<_> = (0..3).map(|_| Worker::spawn(Worker::default())).collect();
//! for worker in &workers {
//!     queue.attach(worker.clone()).unwrap();
//! }
//! for number in 0..100 {
//!     // Waits whenever 16 jobs are already waiting.
//!     queue.push(Job(number)).await.unwrap();
//! }
//! queue.close();
//! let stats = queue.wait().await;
//! assert_eq!(stats.completed, 100);
//!
//! let mut total = 0;
//! for worker in &workers {
//!     total += worker.ask(Jobs).await.unwrap();
//! }
//! assert_eq!(total, 100);
//! # }
//! ```
//!
//! # Policies
//!
//! - **Exactly one consumer per item, one item at a time.** Each consumer has a pump (a
//!   task) that takes the next item and [`ask`](crate::Recipient::ask)s the consumer to
//!   handle it, without a timeout, and takes another only once the handler has returned.
//!   Items are taken in the order they were queued (for one producer, the order it pushed
//!   them); with several consumers they may finish in any order.
//! - **Backpressure.** The queue holds at most its capacity of waiting items (items being
//!   handled do not count). [`push`](WorkQueue::push) waits for room, producers in the
//!   order they came; [`try_push`](WorkQueue::try_push) and
//!   [`push_timeout`](WorkQueue::push_timeout) give the item back instead of waiting
//!   (longer).
//! - **A failed item is counted, not retried.** If a consumer's handler panics, the item
//!   counts as [failed](WorkQueueStats::failed) and is not handed to anyone else (as with
//!   any message that panicked). If the consumer's supervisor restarts it
//!   ([`Restart::Permanent`](crate::supervision::Restart::Permanent) or
//!   [`Transient`](crate::supervision::Restart::Transient)), it stays attached and gets the
//!   next item when it is back; otherwise it leaves the queue. An item whose consumer is
//!   killed while handling it also counts as failed (and is a dead letter of that
//!   consumer). One case loses an item that was never handled: a restartable consumer
//!   that panics once too often for its supervisor's restart intensity ends instead of
//!   restarting, and the item it was handed meanwhile becomes its dead letter, counted as
//!   failed.
//! - **A refused item goes back.** A consumer that stops (or is stopping) leaves the
//!   queue; an item it refused was never delivered, and goes back to the front of the
//!   queue for another consumer (if the queue filled up meanwhile, it holds one item more
//!   than its capacity until the next is taken). Consumers also leave when they end, and
//!   when the queue is closed and empty.
//! - **Closing.** [`close`](WorkQueue::close) refuses new items: producers waiting for room
//!   and every later push get their item back in the error, so nobody waits for ever on a
//!   closed queue. Items already queued are still handed to consumers. A queue also closes
//!   when every [`WorkQueue`] handle is dropped (the consumers finish what is queued), and
//!   **when its last consumer leaves**: a queue whose consumers are all gone cannot make
//!   progress, so instead of leaving producers waiting it refuses them. What is still
//!   queued stays there: [`drain`](WorkQueue::drain) takes it back, or a consumer attached
//!   later handles it. Before its first consumer is attached, a queue simply fills up.
//! - **Dropping.** Items still queued when the queue is gone (every handle dropped, every
//!   consumer gone) are dropped with it.

mod error;
mod pump;
mod shared;

pub use error::{AttachError, PushError, PushTimeoutError, TryPushError};

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::actor_ref::private::HasCell;
use crate::actor_ref::Recipient;
use crate::message::Message;
use shared::Shared;

/// The largest capacity of a work queue.
pub const MAX_WORK_QUEUE_CAPACITY: usize = tokio::sync::Semaphore::MAX_PERMITS;

/// A cheap, cloneable handle to a bounded queue of items that attached consumer actors
/// take from, each item going to exactly one consumer.
///
/// Clones share the queue. The queue closes when [`close`](Self::close) is called, when
/// its last consumer leaves, or when every handle is dropped. See the
/// [module documentation](self) for the policies.
pub struct WorkQueue<M: Message> {
    owner: Arc<Owner<M>>,
}

/// Shared by the handles (not the pumps): the last handle dropped closes the queue.
struct Owner<M> {
    shared: Arc<Shared<M>>,
}

impl<M> Drop for Owner<M> {
    fn drop(&mut self) {
        self.shared.close();
    }
}

impl<M: Message> WorkQueue<M> {
    /// Makes an open queue that holds at most `capacity` waiting items.
    ///
    /// # Panics
    ///
    /// Panics if `capacity` is zero or larger than [`MAX_WORK_QUEUE_CAPACITY`].
    #[track_caller]
    pub fn new(capacity: usize) -> Self {
        assert!(
            capacity > 0 && capacity <= MAX_WORK_QUEUE_CAPACITY,
            "a work queue needs a capacity from 1 to MAX_WORK_QUEUE_CAPACITY"
        );
        Self {
            owner: Arc::new(Owner {
                shared: Arc::new(Shared::new(capacity)),
            }),
        }
    }

    fn shared(&self) -> &Shared<M> {
        &self.owner.shared
    }

    /// Attaches a consumer: an actor that handles `M`, given as an
    /// [`ActorRef`](crate::ActorRef) (by value) or a [`Recipient<M>`].
    ///
    /// From now on the consumer is asked to handle one item at a time until it leaves the
    /// queue (see the [module documentation](self)). Attaching a consumer that is already
    /// attached changes nothing. A consumer attached to a closed queue handles what is
    /// left in it, then leaves.
    ///
    /// # Errors
    ///
    /// Returns [`AttachError`] if the actor has ended or is stopping.
    ///
    /// # Panics
    ///
    /// Panics outside a Playhouse system: the consumer's pump is a task spawned on the
    /// current system.
    #[track_caller]
    pub fn attach(&self, consumer: impl Into<Recipient<M>>) -> Result<(), AttachError> {
        let consumer = consumer.into();
        let cell = consumer.cell();
        if !cell.is_alive() || cell.refusing() {
            return Err(AttachError {
                actor: consumer.id(),
            });
        }
        let handle = playhouse_runtime::Handle::current();
        if self.shared().join(consumer.id()) {
            handle.spawn(
                "work_queue.pump",
                pump::pump(Arc::clone(&self.owner.shared), consumer),
            );
        }
        Ok(())
    }

    /// Queues an item, waiting for room while the queue is full.
    ///
    /// Producers waiting for room are served in the order they came.
    ///
    /// # Errors
    ///
    /// Returns [`PushError`] with the item if the queue is closed, or closes while this
    /// waits (for instance because its last consumer left).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, the item was not queued
    /// (it is dropped with the future).
    pub async fn push(&self, item: M) -> Result<(), PushError<M>> {
        self.shared().push(item).await.map_err(PushError)
    }

    /// Queues an item, waiting at most `timeout` for room.
    ///
    /// # Errors
    ///
    /// Returns [`PushTimeoutError`] with the item if the queue stayed full or is closed.
    ///
    /// # Cancel safety
    ///
    /// As [`push`](Self::push).
    pub async fn push_timeout(
        &self,
        item: M,
        timeout: Duration,
    ) -> Result<(), PushTimeoutError<M>> {
        let deadline = playhouse_runtime::deadline_after(timeout);
        self.shared().push_until(item, deadline).await
    }

    /// Queues an item now or gives it back: never waits.
    ///
    /// # Errors
    ///
    /// Returns [`TryPushError::Full`] when the queue has no room and
    /// [`TryPushError::Closed`] when it is closed; both carry the item.
    pub fn try_push(&self, item: M) -> Result<(), TryPushError<M>> {
        self.shared().try_push(item)
    }

    /// Closes the queue: new items are refused, and producers waiting for room get theirs
    /// back. Items already queued are still handed to consumers. Closing a closed queue
    /// does nothing.
    pub fn close(&self) {
        if self.shared().close() {
            tracing::debug!("work_queue.closed");
        }
    }

    /// Returns `true` once the queue refuses new items.
    pub fn is_closed(&self) -> bool {
        self.shared().is_closed()
    }

    /// Takes every waiting item out of the queue, in queue order, freeing their places.
    ///
    /// Use it to get back what a queue whose consumers are gone still holds. Items being
    /// handled are not affected.
    pub fn drain(&self) -> Vec<M> {
        self.shared().drain()
    }

    /// Returns how many items wait in the queue (not counting those being handled).
    pub fn len(&self) -> usize {
        self.shared().len()
    }

    /// Returns `true` when no item waits in the queue.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns how many items the queue holds at most.
    pub fn capacity(&self) -> usize {
        self.shared().capacity()
    }

    /// Returns how many consumers are attached.
    pub fn consumer_count(&self) -> usize {
        self.stats().consumers
    }

    /// Returns a snapshot of the queue's counters.
    pub fn stats(&self) -> WorkQueueStats {
        self.shared().stats()
    }

    /// Waits until the queue is closed and no consumer is attached any more, and returns
    /// the final counts.
    ///
    /// After [`close`](Self::close), that is once the consumers have handled everything
    /// queued, or have all left; [`WorkQueueStats::queued`] says what was left behind.
    /// Waits as long as the queue stays open.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only waits.
    pub async fn wait(&self) -> WorkQueueStats {
        self.shared().wait().await
    }
}

impl<M: Message> Clone for WorkQueue<M> {
    fn clone(&self) -> Self {
        Self {
            owner: Arc::clone(&self.owner),
        }
    }
}

impl<M: Message> fmt::Debug for WorkQueue<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkQueue")
            .field("capacity", &self.capacity())
            .field("stats", &self.stats())
            .finish()
    }
}

/// A snapshot of a [`WorkQueue`]'s counters, from [`WorkQueue::stats`] or
/// [`WorkQueue::wait`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct WorkQueueStats {
    /// Items accepted by the queue so far.
    pub pushed: u64,
    /// Items whose handler returned.
    pub completed: u64,
    /// Items whose handler panicked, or whose consumer ended before it finished them.
    pub failed: u64,
    /// Items waiting in the queue.
    pub queued: usize,
    /// Items being handled by a consumer.
    pub in_flight: usize,
    /// Consumers attached.
    pub consumers: usize,
    /// Whether the queue refuses new items.
    pub closed: bool,
}

impl fmt::Display for WorkQueueStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} pushed, {} completed, {} failed, {} queued, {} in flight, {} consumer(s)",
            self.pushed, self.completed, self.failed, self.queued, self.in_flight, self.consumers
        )?;
        if self.closed {
            f.write_str(", closed")?;
        }
        Ok(())
    }
}
