//! The `Actor` trait and its lifecycle hooks.

use std::fmt;
use std::future::Future;

use crate::actor_ref::ActorRef;
use crate::cell::ActorId;
use crate::context::Context;
use crate::exit::ExitReason;
use crate::mailbox::Mailbox;
use crate::spawn::ActorBuilder;
use crate::supervision::{ChildExit, Supervision};
use crate::system::System;

/// A value with private state that is only reached through messages.
///
/// The runtime builds the actor with [`on_start`](Actor::on_start) from its
/// [`Args`](Actor::Args), then hands it one message at a time through its
/// [`Handler`](crate::Handler) implementations, and finally calls
/// [`on_stop`](Actor::on_stop). Because only one handler runs at a time, handlers take
/// `&mut self` and need no locks.
///
/// Building from arguments (rather than spawning a ready value) lets a supervisor re-run
/// `on_start` to restart an actor. Most actors need nothing special at start and derive the
/// trait: `#[derive(Actor)]` sets `Args = Self` and starts from the value it is given.
///
/// # Examples
///
/// ```
/// use playhouse::prelude::*;
///
/// /// Counts from a starting value that `on_start` checks.
/// struct Counter {
///     count: u64,
/// }
///
/// impl Actor for Counter {
///     type Args = u64;
///     type Error = String;
///
///     async fn on_start(start: u64, _ctx: &mut Context<Self>) -> Result<Self, String> {
///         if start > 1_000 {
///             return Err(format!("start {start} is too large"));
///         }
///         Ok(Counter { count: start })
///     }
///
///     async fn on_stop(&mut self, _ctx: &mut Context<Self>, reason: &ExitReason) {
///         println!("counter stopped at {} ({reason})", self.count);
///     }
/// }
///
/// # #[playhouse::main]
/// # async fn main() {
/// let counter = Counter::spawn(7);
/// counter.stop();
/// assert_eq!(counter.wait().await, ExitReason::Normal);
///
/// let too_large = Counter::spawn(5_000);
/// assert!(matches!(too_large.wait().await, ExitReason::StartFailed(_)));
/// # }
/// ```
pub trait Actor: Sized + Send + 'static {
    /// What the actor is built from; `on_start` receives it.
    type Args: Send + 'static;

    /// Why `on_start` may refuse to build the actor.
    ///
    /// Use [`std::convert::Infallible`] when it cannot fail.
    type Error: fmt::Display + fmt::Debug + Send + 'static;

    /// Builds the actor from its arguments, before it handles any message.
    ///
    /// Messages sent meanwhile wait in the mailbox. If this returns an error or panics, the
    /// actor ends with [`ExitReason::StartFailed`] or [`ExitReason::Panicked`], and the
    /// messages already queued become dead letters.
    fn on_start(
        args: Self::Args,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = Result<Self, Self::Error>> + Send;

    /// Runs once after the last message, with the reason the actor stops.
    ///
    /// Not called when the actor never started or was [killed](ActorRef::kill). A panic here
    /// is caught and becomes the actor's exit reason.
    fn on_stop(
        &mut self,
        ctx: &mut Context<Self>,
        reason: &ExitReason,
    ) -> impl Future<Output = ()> + Send {
        let _ = (ctx, reason);
        async {}
    }

    /// Hears that an actor this one [watches](Context::watch) has ended for good.
    ///
    /// Delivered exactly once per watch, between messages, through the control lane (never
    /// stuck behind a full mailbox). A panic here is a failure of this actor.
    fn on_terminated(
        &mut self,
        ctx: &mut Context<Self>,
        actor: ActorId,
        reason: ExitReason,
    ) -> impl Future<Output = ()> + Send {
        let _ = (ctx, actor, reason);
        async {}
    }

    /// Hears that a [linked](Context::link) actor's incarnation ended, when this actor
    /// [traps exits](Context::trap_exits). Without trapping, an abnormal end of a linked
    /// actor makes this one fail instead, and a normal one passes unnoticed.
    fn on_link_exit(
        &mut self,
        ctx: &mut Context<Self>,
        actor: ActorId,
        reason: ExitReason,
    ) -> impl Future<Output = ()> + Send {
        let _ = (ctx, actor, reason);
        async {}
    }

    /// Hears that one of its children ended an incarnation, and what supervision decided
    /// (restarted, stopped, escalated). Decisions are already made: this hook observes.
    fn on_child_exit(
        &mut self,
        ctx: &mut Context<Self>,
        exit: ChildExit,
    ) -> impl Future<Output = ()> + Send {
        let _ = (ctx, exit);
        async {}
    }

    /// How this actor supervises its children: strategy, restart intensity, backoff.
    ///
    /// Defaults to [`Supervision::default`]: one-for-one, at most 3 restarts in 5 seconds.
    fn supervision() -> Supervision {
        Supervision::default()
    }

    /// The mailbox an actor of this type gets unless its spawner chooses another.
    ///
    /// Defaults to a bounded mailbox of [`DEFAULT_MAILBOX_CAPACITY`](crate::DEFAULT_MAILBOX_CAPACITY).
    fn mailbox() -> Mailbox {
        Mailbox::default()
    }

    /// Spawns the actor on the current system and returns its reference.
    ///
    /// # Panics
    ///
    /// Panics when called outside a Playhouse system (see [`System::current`]); use
    /// [`System::spawn`] to name the system explicitly.
    #[track_caller]
    fn spawn(args: Self::Args) -> ActorRef<Self> {
        System::current().spawn(args)
    }

    /// Starts an [`ActorBuilder`] to choose the mailbox or the system before spawning.
    fn builder() -> ActorBuilder<Self> {
        ActorBuilder::new()
    }
}

/// The smallest actor there is, for the crate's unit tests: no state, no handlers.
#[cfg(test)]
pub(crate) struct Quiet;

#[cfg(test)]
impl Actor for Quiet {
    type Args = Self;
    type Error = std::convert::Infallible;

    async fn on_start(args: Self, _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(args)
    }
}
