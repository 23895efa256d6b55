//! Playhouse: actors for Rust on tokio's work-stealing scheduler.
//!
//! An actor is a value with private state and a mailbox. Nothing touches the state except
//! the actor's own handlers, which run one message at a time, so handlers take `&mut self`
//! and need no locks. Other code holds an [`ActorRef<A>`] and sends messages:
//! [`tell`](ActorRef::tell) (fire and forget) or [`ask`](ActorRef::ask) (request and typed
//! reply). Every actor runs as a task on tokio's multi-thread scheduler, and a busy actor
//! yields after a budget of messages so that others get their turn.
//!
//! # Examples
//!
//! ```
//! use playhouse::prelude::*;
//!
//! /// Keeps a running total.
//! #[derive(Actor)]
//! struct Counter {
//!     total: i64,
//! }
//!
//! #[messages]
//! impl Counter {
//!     /// Adds `amount` to the total.
//!     #[message]
//!     fn add(&mut self, amount: i64) {
//!         self.total += amount;
//!     }
//!
//!     /// Replies with the total.
//!     #[message]
//!     fn total(&self) -> i64 {
//!         self.total
//!     }
//! }
//!
//! #[playhouse::main]
//! async fn main() {
//!     let counter = Counter::spawn(Counter { total: 0 });
//!     counter.tell(Add { amount: 40 }).await.unwrap();
//!     counter.tell(Add { amount: 2 }).await.unwrap();
//!     assert_eq!(counter.ask(Total).await.unwrap(), 42);
//! }
//! ```
//!
//! # Guarantees
//!
//! - **Ordering**: messages from one sender to one actor are handled in the order sent. No
//!   order is promised across senders.
//! - **Delivery**: a message accepted by a mailbox is handled, or, if the actor is killed or
//!   fails first, counted as a dead letter ([`System::dead_letters`]) and logged at `debug`.
//!   A refused send (actor stopped, mailbox full on `try_tell`) returns the message inside
//!   the error.
//! - **Asks never hang**: an ask resolves with the reply, a timeout
//!   ([`DEFAULT_ASK_TIMEOUT`] unless configured with [`SystemConfig`] or per call with
//!   [`ActorRef::ask_timeout`]), or an error saying the actor stopped or its handler
//!   panicked.
//! - **Isolation**: a panic in a handler or hook is caught; it ends that actor's current
//!   incarnation only, with [`ExitReason::Panicked`], which everyone
//!   [waiting](ActorRef::wait) for it sees. Its [supervisor](supervision) may restart it:
//!   the mailbox survives a restart, and the message that panicked is reported to its
//!   asker, not retried.
//! - **Backpressure**: mailboxes are bounded by default ([`DEFAULT_MAILBOX_CAPACITY`]);
//!   `tell` waits for room, `try_tell` fails fast; [`Mailbox::unbounded`] is an explicit
//!   choice. Stop and kill travel in their own lane and never wait behind a full mailbox.
//! - **Shutdown**: [`ActorRef::stop`] handles what is queued, then runs `on_stop`; an
//!   actor's children stop before it does, newest first; [`System::shutdown`] stops the
//!   whole tree that way from the top, within a timeout, and reports what it had to cut
//!   off.
//! - **Fairness**: an actor yields its worker thread after
//!   [`DEFAULT_MESSAGE_BUDGET`](runtime::DEFAULT_MESSAGE_BUDGET) messages in a row
//!   (configurable with [`Builder::message_budget`]). A [`Strand`] yields its worker
//!   after 4,096 polls of its actors or about a millisecond. On a multi-thread runtime,
//!   an actor (or a strand) that a task woke by sending it a message, or by spawning or
//!   stopping one of a strand's actors, does not wait for that task to yield: if the task
//!   goes on sending 256 more messages without waking anyone, the actor is moved to its
//!   worker's queue, where the other workers can take it.
//!
//! # Supervision
//!
//! Every actor has a supervisor (the actor that spawned it, or the system) that restarts
//! it according to its [`Restart`](supervision::Restart) policy and the supervisor's
//! [`Strategy`](supervision::Strategy), within a restart intensity, escalating when that
//! is exceeded. Actors can [watch](Context::watch) and [link](Context::link) each other.
//! See the [`supervision`] module.
//!
//! # The concurrency toolbox
//!
//! The familiar tools, each as actors (the [`guide`] maps them one by one):
//!
//! - **threads**: [`ActorBuilder::dedicated_thread`] runs an actor on an OS thread of its
//!   own; [`Context::run_blocking`] sends blocking work to the blocking pool;
//! - **event loops**: a [`Strand`] runs several actors in turns on one task, so that the
//!   messages between them stay on one thread;
//! - **thread pools**: [`pool::Pool`], N supervised workers behind one handle, routed
//!   round-robin, least-loaded, at random, by key or to all;
//! - **queues**: every mailbox, and [`work_queue::WorkQueue`] for many consumers sharing one;
//! - **pub/sub**: [`topic::Topic`];
//! - **timers and streams**: [`Context::send_after`], [`Context::send_interval`],
//!   [`Context::attach_stream`];
//! - **names**: [`System::register`] and [`System::lookup`].
//!
//! # Lifetime of an actor
//!
//! An actor runs until it is stopped, killed, fails for good, its supervisor stops, or its
//! system shuts down; dropping every
//! [`ActorRef`] does not stop it (as with an Erlang process). Use [`WeakActorRef`] where a
//! reference should not keep the mailbox allocated.
//!
//! # Tracing
//!
//! Each actor runs in an `actor.run` span (`debug`, fields `actor.id`, `actor.type`); each
//! message is handled in an `actor.handle_message` span (`trace`, fields `actor.id`,
//! `actor.type`, `message.type`) that starts its own trace and *follows from* the sender's
//! span, so a long-lived actor does not make one endless trace.
//! Lifecycle events are logged at `debug`, unhandled failures at `error`. Nothing is computed
//! for a level no subscriber listens to.
//!
//! # Features
//!
//! - `test-util`: paused time in tests ([`Builder::start_paused`],
//!   `#[playhouse::test(start_paused = true)]`).

mod actor;
mod actor_ref;
mod cell;
mod context;
mod dead_letters;
mod deadline;
mod envelope;
mod error;
mod exit;
mod future_slot;
mod idle_waker;
mod kick;
mod mailbox;
mod message;
pub mod pool;
mod registry;
mod reply;
mod run;
mod spawn;
mod strand;
mod stream;
pub mod supervision;
mod system;
mod task;
mod timer;
pub mod topic;
mod trace;
pub mod work_queue;

pub use actor::Actor;
pub use actor_ref::{ActorRef, AnyActorRef, Recipient, WeakActorRef};
pub use cell::ActorId;
pub use context::Context;
pub use dead_letters::{DeadLetter, DeadLetterStream, DEAD_LETTER_STREAM_CAPACITY};
pub use error::{AskError, SendError, TrySendError};
pub use exit::{ExitReason, PanicReport};
pub use mailbox::{Mailbox, DEFAULT_MAILBOX_CAPACITY, MAX_MAILBOX_CAPACITY};
pub use message::{Handler, Message};
pub use registry::{LookupError, RegisterError};
pub use spawn::ActorBuilder;
pub use strand::Strand;
pub use stream::StreamHandle;
pub use system::{System, SystemConfig, DEFAULT_ASK_TIMEOUT, DEFAULT_STOP_TIMEOUT};
pub use timer::TimerHandle;

pub use playhouse_macros::{main, message, messages, test, Actor};
pub use playhouse_runtime::{BuildError, Builder, Runtime, ShutdownReport};

/// The system layer underneath: runtime builder, handle, blocking pool, shutdown.
pub mod runtime {
    pub use playhouse_runtime::*;
}

/// The names most programs need: `use playhouse::prelude::*;`.
///
/// `#[playhouse::main]` and `#[playhouse::test]` are not here: a glob import of `test` would
/// clash with the built-in `#[test]`.
pub mod prelude {
    pub use crate::{
        message, messages, Actor, ActorRef, AskError, Context, ExitReason, Handler, Mailbox,
        Message, Recipient, SendError, System, TrySendError, WeakActorRef,
    };
}

/// From threads, pools and queues to actors: each familiar concurrency tool in its
/// Playhouse form (also `docs/guide.md` in the repository).
#[doc = include_str!("../../docs/guide.md")]
pub mod guide {}

/// The README's examples, compiled and run as doc tests so that the front door stays true.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
