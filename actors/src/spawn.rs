//! `ActorBuilder`: spawning with a chosen mailbox or system.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::actor::Actor;
use crate::actor_ref::ActorRef;
use crate::cell::{ActorCell, SHUTDOWN};
use crate::context::Context;
use crate::exit::ExitReason;
use crate::mailbox::{self, Mailbox};
use crate::run;
use crate::system::System;
use crate::trace;

/// Spawns an actor with settings other than its type's defaults.
///
/// # Examples
///
/// ```
/// use playhouse::prelude::*;
///
/// #[derive(Actor)]
/// struct Worker;
///
/// # #[playhouse::main]
/// # async fn main() {
/// let worker = Worker::builder().mailbox(Mailbox::bounded(4)).spawn(Worker);
/// assert!(worker.is_alive());
/// # }
/// ```
pub struct ActorBuilder<A: Actor> {
    mailbox: Option<Mailbox>,
    _actor: PhantomData<fn() -> A>,
}

impl<A: Actor> Default for ActorBuilder<A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: Actor> fmt::Debug for ActorBuilder<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActorBuilder")
            .field("mailbox", &self.mailbox)
            .finish()
    }
}

impl<A: Actor> ActorBuilder<A> {
    /// Starts a builder with the actor type's defaults.
    pub fn new() -> Self {
        Self {
            mailbox: None,
            _actor: PhantomData,
        }
    }

    /// Chooses the mailbox instead of [`Actor::mailbox`].
    pub fn mailbox(mut self, mailbox: Mailbox) -> Self {
        self.mailbox = Some(mailbox);
        self
    }

    /// Spawns the actor on the current system.
    ///
    /// # Panics
    ///
    /// Panics outside a Playhouse system; see [`System::current`].
    #[track_caller]
    pub fn spawn(self, args: A::Args) -> ActorRef<A> {
        self.spawn_in(&System::current(), args)
    }

    /// Spawns the actor on `system`.
    ///
    /// The actor starts on the system's scheduler right away; messages sent before
    /// `on_start` finishes wait in its mailbox. If the system is shutting down, the actor is
    /// told to stop as soon as it has started.
    pub fn spawn_in(self, system: &System, args: A::Args) -> ActorRef<A> {
        let mailbox = self.mailbox.unwrap_or_else(A::mailbox);
        let cell = Arc::new(ActorCell::new(
            std::any::type_name::<A>(),
            system.ask_timeout(),
        ));
        let (sender, receiver) = mailbox::channel(mailbox, &cell);
        let actor = ActorRef {
            sender,
            cell: Arc::clone(&cell),
        };
        system.register(&cell);
        if system.handle().is_shutting_down() {
            cell.signal(SHUTDOWN);
        }
        let ctx = Context::new(actor.clone(), system.clone());
        let guard = ExitGuard {
            cell,
            system: system.clone(),
        };
        let span = trace::actor_span(&guard.cell);
        system.handle().spawn_in_span(span, async move {
            let guard = guard;
            let reason = run::run(args, ctx, receiver).await;
            guard.finish(reason);
        });
        actor
    }
}

/// Records the actor's end even if its task is dropped unfinished (the runtime went away),
/// so that waiters and asks are released rather than left hanging.
struct ExitGuard {
    cell: Arc<ActorCell>,
    system: System,
}

impl ExitGuard {
    fn finish(&self, reason: ExitReason) {
        self.system.unregister(&self.cell);
        self.cell.finish(reason);
    }
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        if self.cell.is_alive() {
            self.finish(ExitReason::Killed);
        }
    }
}
