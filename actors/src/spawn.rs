//! `ActorBuilder`: spawning with a chosen mailbox or system.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::actor::Actor;
use crate::actor_ref::ActorRef;
use crate::cell::{ActorCell, KindOf, SHUTDOWN};
use crate::context::Context;
use crate::mailbox::{self, Mailbox};
use crate::strand::Strand;
use crate::supervision::{self, Restart};
use crate::system::System;
use crate::task::ActorTask;
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
    placement: Placement,
    _actor: PhantomData<fn() -> A>,
}

/// Where an actor runs.
#[derive(Debug)]
enum Placement {
    /// A task of its own on the system's workers.
    Workers,
    /// An OS thread of its own.
    Thread,
    /// A turn on a strand.
    Strand(Strand),
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
            .field("placement", &self.placement)
            .finish()
    }
}

impl<A: Actor> ActorBuilder<A> {
    /// Starts a builder with the actor type's defaults.
    pub fn new() -> Self {
        Self {
            mailbox: None,
            placement: Placement::Workers,
            _actor: PhantomData,
        }
    }

    /// Chooses the mailbox instead of [`Actor::mailbox`].
    pub fn mailbox(mut self, mailbox: Mailbox) -> Self {
        self.mailbox = Some(mailbox);
        self
    }

    /// Runs the actor on an OS thread of its own instead of the shared workers.
    ///
    /// The actor keeps the same API and supervision; only where it runs changes. Use it
    /// for an actor that wraps a blocking API (it may block its own thread freely) or
    /// whose work must stay on one thread for its whole life (thread-local state, C
    /// libraries that require it). The thread is named after the actor (`Name#id`) and
    /// ends with it. If the thread cannot be started, the actor ends at once as
    /// [`ExitReason::Killed`](crate::ExitReason::Killed) and an error is logged.
    ///
    /// The thread runs a single-thread tokio runtime of its own: a task the actor spawns
    /// with `tokio::spawn` runs on that thread too, and is cancelled when the actor ends
    /// and its runtime goes with it. Work that must outlive the actor belongs on the
    /// system ([`System::handle`](crate::System::handle)) or in another actor.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::prelude::*;
    ///
    /// #[derive(Actor)]
    /// struct Legacy;
    ///
    /// #[messages]
    /// impl Legacy {
    ///     /// Calls a blocking API; only this actor's thread waits.
    ///     #[message]
    ///     fn query(&self) -> String {
    ///         std::thread::sleep(std::time::Duration::from_millis(5));
    ///         std::thread::current().name().unwrap_or_default().to_owned()
    ///     }
    /// }
    ///
    /// # #[playhouse::main]
    /// # async fn main() {
    /// let legacy = Legacy::builder().dedicated_thread().spawn(Legacy);
    /// assert_eq!(legacy.ask(Query).await.unwrap(), legacy.to_string());
    /// # }
    /// ```
    ///
    /// This replaces an earlier [`strand`](Self::strand).
    pub fn dedicated_thread(mut self) -> Self {
        self.placement = Placement::Thread;
        self
    }

    /// Runs the actor in turns with the other actors of `strand`, on one task.
    ///
    /// Messages between actors of one strand are handed over on the same thread, without
    /// waking another task; see [`Strand`] for when that pays and what it costs. The strand
    /// must belong to the system the actor is spawned on; if it does not, an error is
    /// logged and the actor runs as a task of its own. This replaces an earlier
    /// [`dedicated_thread`](Self::dedicated_thread).
    pub fn strand(mut self, strand: &Strand) -> Self {
        self.placement = Placement::Strand(strand.clone());
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

    /// Spawns the actor on `system`, as a top-level actor that is not restarted.
    ///
    /// The actor starts on the system's scheduler right away; messages sent before
    /// `on_start` finishes wait in its mailbox. If the system is shutting down, the actor is
    /// told to stop as soon as it has started.
    pub fn spawn_in(self, system: &System, args: A::Args) -> ActorRef<A> {
        let root = system.root();
        self.spawn_under(
            system,
            &root,
            Restart::Temporary,
            ArgsSource::Once(Some(args)),
        )
    }

    /// Spawns the actor as a top-level actor of `system`, restarted by the system according
    /// to `restart` and the system's [supervision](crate::SystemConfig::supervision).
    pub fn supervise_in(self, system: &System, restart: Restart, args: A::Args) -> ActorRef<A>
    where
        A::Args: Clone,
    {
        let root = system.root();
        self.spawn_under(system, &root, restart, ArgsSource::cloned(args))
    }

    /// Spawns the actor as a child of the actor that owns `ctx`, never restarted.
    pub fn spawn_child<P: Actor>(self, ctx: &Context<P>, args: A::Args) -> ActorRef<A> {
        let parent = Arc::clone(ctx.cell());
        self.spawn_under(
            ctx.system(),
            &parent,
            Restart::Temporary,
            ArgsSource::Once(Some(args)),
        )
    }

    /// Spawns the actor as a child of the actor that owns `ctx`, restarted according to
    /// `restart` and the parent's [`Actor::supervision`].
    pub fn supervise_child<P: Actor>(
        self,
        ctx: &Context<P>,
        restart: Restart,
        args: A::Args,
    ) -> ActorRef<A>
    where
        A::Args: Clone,
    {
        let parent = Arc::clone(ctx.cell());
        self.spawn_under(ctx.system(), &parent, restart, ArgsSource::cloned(args))
    }

    fn spawn_under(
        self,
        system: &System,
        parent: &Arc<ActorCell>,
        restart: Restart,
        args: ArgsSource<A::Args>,
    ) -> ActorRef<A> {
        let mailbox = self.mailbox.unwrap_or_else(A::mailbox);
        let cell = Arc::new(ActorCell::new(
            KindOf::<A>::KIND,
            mailbox,
            system.ask_timeout(),
            system.handle().coarse_clock().clone(),
            Some(Arc::downgrade(parent)),
        ));
        // SAFETY: the one receiver of this new cell's mailbox.
        let receiver = unsafe { mailbox::receiver(&cell) };
        let actor = ActorRef::from_cell(Arc::clone(&cell));
        system.track();
        if !supervision::adopt(parent, &cell, restart) {
            // The parent (or the system) is shutting down: stop as soon as started.
            cell.signal(SHUTDOWN);
            system.track_orphan(&cell);
        }
        let span = trace::actor_span(&cell);
        let ctx = Context::new(actor.clone(), system.clone());
        // Dropped unfinished (say, the thread below cannot start), it still records the
        // actor's end.
        let life = ActorTask::new(ctx, receiver, restart, args);
        match self.placement {
            Placement::Workers => drop(system.handle().spawn_in_span(span, life)),
            Placement::Thread => {
                if let Err(error) = system
                    .handle()
                    .spawn_dedicated(cell.to_string(), span, life)
                {
                    // The task was dropped, which ended the actor as killed.
                    tracing::error!(actor = %actor, %error, "actor.thread_failed");
                }
            }
            Placement::Strand(strand) if strand.belongs_to(system) => {
                if system.handle().needs_binding(&span) {
                    strand.join(system.handle().bind(span, life));
                } else {
                    // One allocation for the actor's future and its waker.
                    strand.join(life);
                }
            }
            Placement::Strand(_) => {
                tracing::error!(actor = %actor, "actor.strand_of_another_system");
                drop(system.handle().spawn_in_span(span, life));
            }
        }
        actor
    }
}

/// Where each incarnation's arguments come from.
pub(crate) enum ArgsSource<T> {
    /// Only one incarnation: the actor is never restarted.
    Once(Option<T>),
    /// A clone of the original for every incarnation.
    Cloned { args: T, clone: fn(&T) -> T },
}

impl<T> ArgsSource<T> {
    fn cloned(args: T) -> Self
    where
        T: Clone,
    {
        ArgsSource::Cloned {
            args,
            clone: T::clone,
        }
    }

    pub(crate) fn next(&mut self) -> Option<T> {
        match self {
            ArgsSource::Once(args) => args.take(),
            ArgsSource::Cloned { args, clone } => Some(clone(args)),
        }
    }
}
