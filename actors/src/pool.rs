//! Pools: N identical actors behind one reference, supervised, with a routing strategy.
//!
//! A [`Pool<A>`] is a cheap, cloneable handle to a group of workers of type `A`, all built
//! from clones of the same arguments. [`tell`](Pool::tell), [`try_tell`](Pool::try_tell),
//! [`ask`](Pool::ask) and [`ask_timeout`](Pool::ask_timeout) work as on an
//! [`ActorRef`], with the same errors; the pool picks the worker, in the caller's task
//! (there is no extra hop through another actor).
//!
//! ```
//! use playhouse::pool::Pool;
//! use playhouse::prelude::*;
//!
//! /// Squares numbers: one of several identical workers.
//! #[derive(Actor, Clone)]
//! struct Squarer;
//!
//! #[messages]
//! impl Squarer {
//!     #[message]
//!     fn square(&self, n: u64) -> u64 {
//!         n * n
//!     }
//! }
//!
//! # #[playhouse::main]
//! # async fn main() {
//! let pool = Pool::<Squarer>::builder(4).spawn(Squarer).expect("four is not zero");
//! let mut total = 0;
//! for n in 1..=10 {
//!     total += pool.ask(Square { n }).await.unwrap();
//! }
//! assert_eq!(total, 385);
//!
//! pool.resize(2).await.unwrap();
//! assert_eq!(pool.size(), 2);
//!
//! pool.stop();
//! assert_eq!(pool.wait().await, ExitReason::Normal);
//! assert!(pool.tell(Square { n: 3 }).await.is_err());
//! # }
//! ```
//!
//! # Routing
//!
//! | strategy | how | for |
//! | --- | --- | --- |
//! | [`Routing::RoundRobin`] (default) | each worker in turn | similar jobs |
//! | [`Routing::LeastLoaded`] | the shortest mailbox | jobs of uneven length |
//! | [`Routing::Random`] | uniformly at random, seedable | no shared counter to agree on |
//! | [`Pool::with_key`] | consistent hash of a key the sender gives | per-key order and state |
//! | [`Pool::broadcast`] | every worker gets a clone | configuration, cache flushes |
//!
//! The first three are the pool's strategy for every plain send. The last two are chosen
//! per send, since they need something from the message (a key, `Clone`) that not every
//! message has. A key always reaches the same worker while the pool's size is unchanged;
//! resizing moves as few keys as possible (jump consistent hashing: growing from `n` to
//! `n + 1` workers moves about `1 / (n + 1)` of the keys, all to the new worker). There is
//! no broadcast `ask`: to hear from every worker, ask each of [`workers`](Pool::workers).
//!
//! # Backpressure
//!
//! A full pool pushes back like a full mailbox. With bounded worker mailboxes (see
//! [`PoolBuilder::mailbox`]):
//!
//! - `tell` tries the routed worker, then the others in turn, and puts the message in the
//!   first mailbox with room. Only when every worker is full does it wait, for the first
//!   one to have room.
//! - `try_tell` does the same without waiting: [`TrySendError::Full`] with the message
//!   means no worker had room.
//! - `ask` waits as `tell` does, within its timeout: [`AskError::Full`] means every
//!   worker stayed full until then.
//! - A keyed send only ever goes to its key's worker, so it waits for that worker's room,
//!   and `try_tell` reports `Full` when that one worker is full.
//!
//! # Supervision
//!
//! The workers are permanent children of a small supervisor actor (shown in
//! [`System::tree`](crate::System::tree) as `PoolSupervisor<Worker>#id`). A worker that
//! panics, fails or is killed is restarted behind the same [`ActorRef`], with its mailbox
//! intact; the asker of the message that panicked gets [`AskError::Panicked`], and the
//! pool keeps serving. If the workers fail more often than the pool's restart intensity
//! ([`PoolBuilder::supervision`]) allows, the supervisor stops them and fails; its own
//! supervisor (the system, or the actor that spawned the pool) restarts it with fresh
//! workers, as many as the pool had. Meanwhile, sends fail as if the pool had stopped.
//!
//! # Resizing
//!
//! [`resize`](Pool::resize) adds workers at the end of the list or retires the newest
//! ones, while the pool runs. New sends go to the new list at once; a retired worker stops
//! gracefully, handling what is already in its mailbox. A pool never has zero workers:
//! spawning or resizing to zero is an error ([`PoolSizeError`], [`ResizeError::NoWorkers`]).
//!
//! # Ordering, delivery, and the end
//!
//! Messages that reach the same worker are handled in the order sent, as with any actor;
//! messages routed to different workers are in no particular order (use a key when order
//! matters). Delivery is the workers' own: a message accepted by a worker's mailbox is
//! handled, or becomes a dead letter. A send fails, giving the message back, only when no
//! worker it may go to takes messages: the pool has stopped or is restarting after too
//! many failures, or (rarely) every such worker was stopped or killed through its own
//! reference and has not restarted yet.
//!
//! [`stop`](Pool::stop) refuses new messages at once, then stops the workers, newest first,
//! each handling what it has queued, and then the supervisor. Like an actor, a pool runs
//! until it is stopped, fails for good, or its supervisor or system stops; dropping every
//! handle does not stop it.

mod builder;
mod error;
mod routing;
mod shared;
mod supervisor;

pub use builder::PoolBuilder;
pub use error::{PoolSizeError, ResizeError};
pub use routing::Routing;

use std::fmt;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use crate::actor::Actor;
use crate::actor_ref::{private::HasCell, ActorRef, AnyActorRef, Recipient};
use crate::cell::{ActorCell, ActorId};
use crate::error::{AskError, SendError, TrySendError};
use crate::exit::ExitReason;
use crate::message::{Handler, Message};
use shared::{Route, Shared};
use supervisor::Resize;

/// A cheap, cloneable handle to a pool of identical workers of type `A`.
///
/// Made with [`Pool::builder`]. See the [module documentation](self) for routing,
/// backpressure, supervision and resizing.
pub struct Pool<A: Actor> {
    shared: Arc<Shared<A>>,
    supervisor: Recipient<Resize>,
}

impl<A: Actor> Clone for Pool<A> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            supervisor: self.supervisor.clone(),
        }
    }
}

impl<A: Actor> Pool<A> {
    /// Starts a [`PoolBuilder`] for a pool of `size` workers.
    ///
    /// A size of zero is accepted here and refused by the builder's `spawn` methods with a
    /// [`PoolSizeError`].
    pub fn builder(size: usize) -> PoolBuilder<A> {
        PoolBuilder::new(size)
    }

    /// Sends a message to a worker without waiting for its reply.
    ///
    /// The pool's [`Routing`] picks the worker; if its mailbox is full, the next worker with
    /// room takes the message, and only when every worker is full does this wait, for the
    /// first to have room. Returns once a mailbox has accepted the message.
    ///
    /// # Errors
    ///
    /// Returns [`SendError`] with the message if the pool has stopped (or stops while this
    /// waits for room).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, the message was not sent.
    pub async fn tell<M>(&self, message: M) -> Result<(), SendError<M>>
    where
        A: Handler<M>,
        M: Message,
    {
        self.shared.tell(Route::Pick, message).await
    }

    /// Sends a message to a worker now or gives it back: never waits.
    ///
    /// Tries the routed worker, then the others in turn.
    ///
    /// # Errors
    ///
    /// Returns [`TrySendError::Full`] when no worker has room, and
    /// [`TrySendError::Stopped`] when the pool has stopped; both carry the message.
    pub fn try_tell<M>(&self, message: M) -> Result<(), TrySendError<M>>
    where
        A: Handler<M>,
        M: Message,
    {
        self.shared.try_tell(Route::Pick, message)
    }

    /// Sends a message to a worker and waits for the reply, within the system's default
    /// ask timeout.
    ///
    /// The worker is chosen as for [`tell`](Self::tell); the timeout covers waiting for
    /// room and for the reply.
    ///
    /// # Errors
    ///
    /// As [`ActorRef::ask`]: [`AskError::Stopped`] when the pool has stopped,
    /// [`AskError::Full`] when every worker stayed full, [`AskError::Timeout`],
    /// [`AskError::Dropped`] when the worker stopped before handling it, and
    /// [`AskError::Panicked`] when its handler panicked (the worker is then restarted).
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped after a mailbox accepted the message, the worker still
    /// handles it and its reply is discarded.
    pub async fn ask<M>(&self, message: M) -> Result<M::Reply, AskError<M>>
    where
        A: Handler<M>,
        M: Message,
    {
        self.shared
            .ask(Route::Pick, message, self.shared.ask_timeout)
            .await
    }

    /// Sends a message to a worker and waits at most `timeout` for the reply.
    ///
    /// # Errors
    ///
    /// As [`ask`](Self::ask).
    pub async fn ask_timeout<M>(
        &self,
        message: M,
        timeout: Duration,
    ) -> Result<M::Reply, AskError<M>>
    where
        A: Handler<M>,
        M: Message,
    {
        self.shared.ask(Route::Pick, message, timeout).await
    }

    /// Sends a clone of the message to every worker, and returns to how many.
    ///
    /// Goes to the workers of the moment, oldest first, waiting for room in each full
    /// mailbox in turn; a worker that stops meanwhile is skipped. There is no broadcast
    /// `ask`: ask each of [`workers`](Self::workers) to hear from all of them.
    ///
    /// # Errors
    ///
    /// Returns [`SendError`] with the message if no worker took it: the pool has stopped.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropped midway, the workers before the one it waits for have the
    /// message, the others do not.
    pub async fn broadcast<M>(&self, message: M) -> Result<usize, SendError<M>>
    where
        A: Handler<M>,
        M: Message + Clone,
    {
        self.shared.broadcast(message).await
    }

    /// Routes sends by `key` instead of the pool's strategy: the same key always reaches
    /// the same worker while the pool's size is unchanged.
    ///
    /// Use it when messages about one thing (a user, an account, a file) must be handled
    /// in order, or by the worker that holds its state. Equal keys (by [`Hash`]) route
    /// equally; `&str` and `String` keys with the same text are equal.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::pool::Pool;
    /// use playhouse::prelude::*;
    ///
    /// #[derive(Actor, Clone)]
    /// struct Worker;
    ///
    /// #[messages]
    /// impl Worker {
    ///     /// Replies with the id of the worker that handled it.
    ///     #[message]
    ///     fn who(&self, ctx: &mut Context<Self>) -> playhouse::ActorId {
    ///         ctx.id()
    ///     }
    /// }
    ///
    /// # #[playhouse::main]
    /// # async fn main() {
    /// let pool = Pool::<Worker>::builder(8).spawn(Worker).unwrap();
    /// let first = pool.with_key("ada").ask(Who).await.unwrap();
    /// let again = pool.with_key("ada").ask(Who).await.unwrap();
    /// assert_eq!(first, again);
    /// # }
    /// ```
    pub fn with_key(&self, key: impl Hash) -> KeyedPool<'_, A> {
        KeyedPool {
            pool: self,
            key: routing::key_hash(key),
        }
    }

    /// Returns how many workers the pool has now: zero once it has stopped.
    pub fn size(&self) -> usize {
        self.shared.load().len()
    }

    /// Returns the workers, oldest first.
    ///
    /// A worker's reference stays the same across its restarts. Messages sent to it
    /// directly skip the pool's routing (and its fallback to other workers).
    pub fn workers(&self) -> Vec<ActorRef<A>> {
        self.shared.load().to_vec()
    }

    /// Returns the pool's routing strategy.
    pub fn routing(&self) -> Routing {
        self.shared.router.routing()
    }

    /// Grows or shrinks the pool to `size` workers while it runs.
    ///
    /// Growing starts workers at the end of the list. Shrinking retires the newest
    /// workers: they stop gracefully, handling what their mailboxes hold. Returns once the
    /// new list is in place: every send from then on uses it (retired workers may still be
    /// finishing their work).
    ///
    /// # Errors
    ///
    /// Returns [`ResizeError::NoWorkers`] if `size` is zero (the pool is unchanged), and
    /// [`ResizeError::Stopped`] if the pool has stopped.
    pub async fn resize(&self, size: usize) -> Result<(), ResizeError> {
        if size == 0 {
            return Err(ResizeError::NoWorkers);
        }
        if self.shared.is_stopped() {
            return Err(ResizeError::Stopped);
        }
        self.supervisor
            .ask(Resize(size))
            .await
            .map_err(|_| ResizeError::Stopped)
    }

    /// Stops the pool gracefully.
    ///
    /// Sends are refused at once. The workers stop, newest first, each handling what is
    /// already in its mailbox, and then the pool's supervisor ends with
    /// [`ExitReason::Normal`]. Stopping a stopped pool does nothing.
    pub fn stop(&self) {
        self.shared.stop();
        self.supervisor.stop();
    }

    /// Waits until the pool has ended, its workers first, and returns why its supervisor
    /// ended.
    pub async fn wait(&self) -> ExitReason {
        self.supervisor.wait().await
    }

    /// Returns `true` until the pool has ended.
    pub fn is_alive(&self) -> bool {
        self.supervisor.is_alive()
    }

    /// Returns the id of the pool's supervisor, which stands for the pool in the
    /// supervision tree, watches and links.
    pub fn id(&self) -> ActorId {
        self.supervisor.id()
    }
}

impl<A: Actor> HasCell for Pool<A> {
    fn cell(&self) -> &Arc<ActorCell> {
        self.supervisor.cell()
    }
}

/// A pool can be [watched](crate::Context::watch) and [linked](crate::Context::link) like
/// an actor: through its supervisor.
impl<A: Actor> AnyActorRef for Pool<A> {
    fn actor_id(&self) -> ActorId {
        self.id()
    }
}

impl<A: Actor> fmt::Debug for Pool<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("supervisor", &self.supervisor)
            .field("routing", &self.routing())
            .field("size", &self.size())
            .finish()
    }
}

/// A [`Pool`] seen through one routing key: every send goes to the key's worker.
///
/// Made by [`Pool::with_key`]. The key's worker is found by jump consistent hashing over
/// the pool's current workers. Sends wait for room in that worker only (never another:
/// that would break the key's order), and fail when the pool has stopped, or while that
/// worker, stopped or killed through its own reference, waits for its restart.
pub struct KeyedPool<'a, A: Actor> {
    pool: &'a Pool<A>,
    key: u64,
}

impl<A: Actor> KeyedPool<'_, A> {
    /// Returns the worker the key goes to now, or `None` once the pool has stopped.
    pub fn worker(&self) -> Option<ActorRef<A>> {
        self.pool.shared.worker_for_key(self.key)
    }

    /// Sends a message to the key's worker without waiting for its reply.
    ///
    /// Waits for room when that worker's mailbox is full.
    ///
    /// # Errors
    ///
    /// Returns [`SendError`] with the message if the pool has stopped.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, the message was not sent.
    pub async fn tell<M>(&self, message: M) -> Result<(), SendError<M>>
    where
        A: Handler<M>,
        M: Message,
    {
        self.pool.shared.tell(Route::Key(self.key), message).await
    }

    /// Sends a message to the key's worker now or gives it back: never waits.
    ///
    /// # Errors
    ///
    /// Returns [`TrySendError::Full`] when the key's worker has no room, and
    /// [`TrySendError::Stopped`] when the pool has stopped; both carry the message.
    pub fn try_tell<M>(&self, message: M) -> Result<(), TrySendError<M>>
    where
        A: Handler<M>,
        M: Message,
    {
        self.pool.shared.try_tell(Route::Key(self.key), message)
    }

    /// Sends a message to the key's worker and waits for the reply, within the system's
    /// default ask timeout.
    ///
    /// # Errors
    ///
    /// As [`Pool::ask`].
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped after the mailbox accepted the message, the worker still
    /// handles it and its reply is discarded.
    pub async fn ask<M>(&self, message: M) -> Result<M::Reply, AskError<M>>
    where
        A: Handler<M>,
        M: Message,
    {
        let timeout = self.pool.shared.ask_timeout;
        self.pool
            .shared
            .ask(Route::Key(self.key), message, timeout)
            .await
    }

    /// Sends a message to the key's worker and waits at most `timeout` for the reply.
    ///
    /// # Errors
    ///
    /// As [`Pool::ask`].
    pub async fn ask_timeout<M>(
        &self,
        message: M,
        timeout: Duration,
    ) -> Result<M::Reply, AskError<M>>
    where
        A: Handler<M>,
        M: Message,
    {
        self.pool
            .shared
            .ask(Route::Key(self.key), message, timeout)
            .await
    }
}

impl<A: Actor> fmt::Debug for KeyedPool<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedPool")
            .field("pool", self.pool)
            .field("key", &self.key)
            .finish()
    }
}
