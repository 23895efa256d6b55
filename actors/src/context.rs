//! `Context<A>`: what a handler can reach besides its actor's state.

use std::fmt;
use std::sync::Arc;

use crate::actor::Actor;
use crate::actor_ref::ActorRef;
use crate::cell::{ActorCell, ActorId};
use crate::system::System;

/// The actor's view of itself and its system, given to every handler and lifecycle hook.
///
/// # Examples
///
/// ```
/// use playhouse::prelude::*;
///
/// #[derive(Actor)]
/// struct Job {
///     left: u32,
/// }
///
/// #[messages]
/// impl Job {
///     /// Does one step of work; stops the actor after the last one.
///     #[message]
///     fn step(&mut self, ctx: &mut Context<Self>) -> u32 {
///         self.left -= 1;
///         if self.left == 0 {
///             ctx.stop();
///         }
///         self.left
///     }
/// }
///
/// # #[playhouse::main]
/// # async fn main() {
/// let job = Job::spawn(Job { left: 2 });
/// assert_eq!(job.ask(Step).await.unwrap(), 1);
/// assert_eq!(job.ask(Step).await.unwrap(), 0);
/// assert_eq!(job.wait().await, ExitReason::Normal);
/// # }
/// ```
pub struct Context<A: Actor> {
    myself: ActorRef<A>,
    system: System,
}

impl<A: Actor> Context<A> {
    pub(crate) fn new(myself: ActorRef<A>, system: System) -> Self {
        Self { myself, system }
    }

    pub(crate) fn cell(&self) -> &Arc<ActorCell> {
        &self.myself.cell
    }

    /// Returns the actor's own reference, to hand to others or to send to itself.
    ///
    /// Sending to yourself with `tell` from a handler is fine with an unbounded mailbox;
    /// with a bounded one, use [`ActorRef::try_tell`] or spawn the send, because waiting
    /// for room in your own full mailbox would wait forever.
    pub fn actor_ref(&self) -> &ActorRef<A> {
        &self.myself
    }

    /// Returns the actor's id.
    pub fn id(&self) -> ActorId {
        self.myself.id()
    }

    /// Returns the system the actor runs on.
    pub fn system(&self) -> &System {
        &self.system
    }

    /// Stops the actor gracefully once the current handler returns.
    ///
    /// Like [`ActorRef::stop`]: the mailbox refuses new messages, what is already queued is
    /// still handled, then `on_stop` runs and the actor ends with
    /// [`ExitReason::Normal`](crate::ExitReason::Normal).
    pub fn stop(&self) {
        self.myself.stop();
    }

    /// Spawns another actor on the same system.
    pub fn spawn<B: Actor>(&self, args: B::Args) -> ActorRef<B> {
        self.system.spawn(args)
    }
}

impl<A: Actor> fmt::Debug for Context<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("actor", &self.myself)
            .finish_non_exhaustive()
    }
}
