//! `Context<A>`: what a handler can reach besides its actor's state.

use std::fmt;
use std::sync::Arc;

use crate::actor::Actor;
use crate::actor_ref::ActorRef;
use crate::actor_ref::AnyActorRef;
use crate::cell::{ActorCell, ActorId, SHUTDOWN};
use crate::spawn::ActorBuilder;
use crate::supervision::{self, Restart};
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

    /// Spawns a child: an actor that stops before this one does, and that is not
    /// restarted when it ends ([`Restart::Temporary`]). See [`supervise`](Self::supervise)
    /// for children that are.
    pub fn spawn<B: Actor>(&self, args: B::Args) -> ActorRef<B> {
        ActorBuilder::new().spawn_child(self, args)
    }

    /// Spawns a child that this actor supervises: restarted according to `restart` and
    /// this actor's [`Actor::supervision`], and stopped before this actor stops.
    pub fn supervise<B: Actor>(&self, restart: Restart, args: B::Args) -> ActorRef<B>
    where
        B::Args: Clone,
    {
        ActorBuilder::new().supervise_child(self, restart, args)
    }

    /// Stops one of this actor's children for good: it shuts down gracefully and is not
    /// restarted, whatever its policy. Does nothing to an actor that is not its child.
    pub fn stop_child(&self, child: &impl AnyActorRef) {
        let child = child.cell();
        if child
            .parent()
            .is_some_and(|parent| Arc::ptr_eq(&parent, self.cell()))
        {
            child.signal(SHUTDOWN);
        }
    }

    /// Watches `other`: [`Actor::on_terminated`] hears once when it ends for good (at
    /// once if it already has). Watching twice still gives one notice. The watch belongs
    /// to the actor, not the incarnation: a restarted watcher still hears.
    pub fn watch(&self, other: &impl AnyActorRef) {
        supervision::watch(self.cell(), other.cell());
    }

    /// Stops watching `other`; a notice already queued is withdrawn.
    pub fn unwatch(&self, other: &impl AnyActorRef) {
        supervision::unwatch(self.cell(), other.cell());
    }

    /// Links this actor and `other`: when either one's incarnation ends abnormally (a
    /// failure or a kill), the other fails too, unless it [traps exits](Self::trap_exits).
    /// Linking to an actor that already ended acts on its end at once. A link belongs to
    /// the incarnation: when either side ends or restarts, the link is gone.
    pub fn link(&self, other: &impl AnyActorRef) {
        supervision::link(self.cell(), other.cell());
    }

    /// Removes the link with `other`, on both sides.
    pub fn unlink(&self, other: &impl AnyActorRef) {
        supervision::unlink(self.cell(), other.cell());
    }

    /// Chooses whether the end of a linked actor is a notice
    /// ([`Actor::on_link_exit`], when `true`) or, if abnormal, this actor's own failure
    /// (`false`, the default). Applies to the current incarnation.
    pub fn trap_exits(&self, trap: bool) {
        self.cell()
            .with_relations(|relations| relations.trap_exits = trap);
    }

    /// Runs a blocking or CPU-heavy closure on the runtime's blocking pool and waits for it,
    /// without holding up the worker thread that other actors share.
    ///
    /// The actor itself still handles one message at a time: it waits here, its mailbox
    /// fills. If the closure panics, the panic continues in this handler, so it is the
    /// handler's failure: the actor's supervisor decides what follows, and an asker gets
    /// [`AskError::Panicked`](crate::AskError::Panicked).
    ///
    /// # Panics
    ///
    /// Resumes the closure's panic; panics if the runtime shuts down before the closure
    /// ran (the actor is being stopped then anyway).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::prelude::*;
    ///
    /// #[derive(Actor)]
    /// struct Hasher;
    ///
    /// #[messages]
    /// impl Hasher {
    ///     #[message]
    ///     async fn checksum(&self, data: Vec<u8>, ctx: &mut Context<Self>) -> u64 {
    ///         ctx.run_blocking(move || data.iter().map(|&byte| u64::from(byte)).sum())
    ///             .await
    ///     }
    /// }
    ///
    /// # #[playhouse::main]
    /// # async fn main() {
    /// let hasher = Hasher::spawn(Hasher);
    /// assert_eq!(hasher.ask(Checksum { data: vec![1, 2, 3] }).await.unwrap(), 6);
    /// # }
    /// ```
    pub async fn run_blocking<F, R>(&self, work: F) -> R
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        match self.system.handle().tokio().spawn_blocking(work).await {
            Ok(value) => value,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => panic!("the runtime shut down before the blocking work ran"),
        }
    }

    /// Fails the actor once the current handler returns: a handler error the actor
    /// declares fatal. It ends with [`ExitReason::Failed`](crate::ExitReason::Failed)
    /// carrying `error`'s text, and its supervisor decides whether it restarts.
    pub fn fail(&self, error: impl std::fmt::Display) {
        self.cell().fail(error.to_string());
    }
}

impl<A: Actor> fmt::Debug for Context<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("actor", &self.myself)
            .finish_non_exhaustive()
    }
}
