//! `ActorRef<A>`: the way in to an actor.

mod recipient;
mod weak;

pub use recipient::Recipient;
pub use weak::WeakActorRef;

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use crate::actor::Actor;
use crate::cell::{ActorCell, ActorId, KILL, STOP};
use crate::deadline::{Deadline, Elapsed};
use crate::envelope::{send_ask, send_tell};
use crate::error::{AskError, SendError, TrySendError};
use crate::exit::ExitReason;
use crate::mailbox::{self, Permit, TryReserveError};
use crate::message::{Handler, Message};

/// A cheap, cloneable reference to a running (or stopped) actor of type `A`.
///
/// Messages from one `ActorRef` (or any one sender) are handled in the order they were
/// sent. Holding a reference does not keep the actor running: an actor runs until it is
/// stopped, killed, fails, or its system shuts down, and a reference to a stopped actor
/// refuses messages with an error that gives them back.
///
/// # Examples
///
/// ```
/// use playhouse::prelude::*;
///
/// #[derive(Actor)]
/// struct Greeter;
///
/// #[messages]
/// impl Greeter {
///     #[message]
///     fn greet(&self, name: String) -> String {
///         format!("hello, {name}")
///     }
/// }
///
/// # #[playhouse::main]
/// # async fn main() {
/// let greeter = Greeter::spawn(Greeter);
/// let reply = greeter.ask(Greet { name: "Ada".into() }).await.unwrap();
/// assert_eq!(reply, "hello, Ada");
/// # }
/// ```
pub struct ActorRef<A: Actor> {
    /// The actor's cell, mailbox included: a reference is one pointer.
    pub(crate) cell: Arc<ActorCell>,
    _actor: PhantomData<fn(A)>,
}

impl<A: Actor> Clone for ActorRef<A> {
    fn clone(&self) -> Self {
        Self::from_cell(Arc::clone(&self.cell))
    }
}

impl<A: Actor> ActorRef<A> {
    /// A reference to the actor of `cell`, which must be an actor of type `A` (its mailbox
    /// only ever receives envelopes for `A`).
    pub(crate) fn from_cell(cell: Arc<ActorCell>) -> Self {
        Self {
            cell,
            _actor: PhantomData,
        }
    }

    /// Reserves a place in the mailbox without waiting.
    pub(crate) fn try_reserve(&self) -> Result<Permit<'_, A>, TryReserveError> {
        mailbox::try_reserve(&self.cell)
    }

    /// Waits for a place in the mailbox; `Err` once it is closed. Cancel safe.
    pub(crate) async fn reserve(&self) -> Result<Permit<'_, A>, ()> {
        mailbox::reserve(&self.cell).await
    }

    /// Returns the actor's id, unique in this process.
    pub fn id(&self) -> ActorId {
        self.cell.id()
    }

    /// Returns `true` until the actor has ended.
    pub fn is_alive(&self) -> bool {
        self.cell.is_alive()
    }

    /// Returns why the actor ended, or `None` while it runs.
    pub fn exit_reason(&self) -> Option<ExitReason> {
        self.cell.exit_reason()
    }

    /// Returns how many messages wait in the mailbox.
    pub fn mailbox_len(&self) -> usize {
        self.cell.mailbox().len()
    }

    /// Sends a message without waiting for its reply.
    ///
    /// Waits for room when the mailbox is bounded and full: this is how a slow actor pushes
    /// back on a fast sender. While the actor keeps taking messages, it wakes one waiting
    /// sender, the longest waiting, once a run of places is free (half the capacity, at
    /// most 128), and the next on each later message while the room is still there, so a
    /// full mailbox costs its actor one wake-up per run of messages rather than one per
    /// message. An actor about to wait (in a handler that awaits, or for mail) wakes them
    /// all for whatever room there is. A woken sender competes for the room with senders
    /// that arrive meanwhile: the order of waiting is not a promise of service.
    /// Returns once the mailbox has accepted the message; the actor handles it later, in
    /// the order this sender sent it.
    ///
    /// # Errors
    ///
    /// Returns [`SendError`] with the message if the actor has stopped (or stops while this
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
        if self.cell.refusing() {
            return Err(SendError(message));
        }
        // Room is usually there: only a full mailbox makes the sender wait.
        let permit = match self.try_reserve() {
            Ok(permit) => permit,
            Err(TryReserveError::Closed) => return Err(SendError(message)),
            // Boxed: waiting for room is the slow path, and inline its state would make
            // every `tell` future (and every handler future that awaits one) much larger.
            Err(TryReserveError::Full) => match Box::pin(self.reserve()).await {
                // The actor may have started stopping while this waited for room.
                Ok(_) if self.cell.refusing() => return Err(SendError(message)),
                Ok(permit) => permit,
                Err(()) => return Err(SendError(message)),
            },
        };
        send_tell(permit, message);
        Ok(())
    }

    /// Sends a message now or gives it back: never waits.
    ///
    /// # Errors
    ///
    /// Returns [`TrySendError::Full`] when a bounded mailbox has no room and
    /// [`TrySendError::Stopped`] when the actor has stopped; both carry the message.
    pub fn try_tell<M>(&self, message: M) -> Result<(), TrySendError<M>>
    where
        A: Handler<M>,
        M: Message,
    {
        if self.cell.refusing() {
            return Err(TrySendError::Stopped(message));
        }
        match self.try_reserve() {
            Ok(permit) => {
                send_tell(permit, message);
                Ok(())
            }
            Err(TryReserveError::Full) => Err(TrySendError::Full(message)),
            Err(TryReserveError::Closed) => Err(TrySendError::Stopped(message)),
        }
    }

    /// Sends a message and waits for the reply, within the system's default ask timeout.
    ///
    /// The timeout (five seconds unless the system is configured otherwise, see
    /// [`SystemConfig`](crate::SystemConfig)) covers waiting for room in the mailbox and for
    /// the reply, so an ask never hangs: a lost reply, a stuck handler or an ask cycle
    /// between actors surfaces as [`AskError::Timeout`].
    ///
    /// Precision: a timeout of a second or more (the default is one) fires when it is due or
    /// at most [`COARSE_RESOLUTION`](crate::runtime::COARSE_RESOLUTION) (10 ms) later,
    /// because the system watches those deadlines with one coarse clock instead of a timer
    /// per ask; shorter timeouts use an exact timer. Neither fires early.
    ///
    /// # Errors
    ///
    /// See [`AskError`]: the actor had stopped, the mailbox stayed full, the reply did not
    /// come in time, the actor stopped before handling the message, or its handler panicked.
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped after the mailbox accepted the message, the actor still
    /// handles it and its reply is discarded.
    pub async fn ask<M>(&self, message: M) -> Result<M::Reply, AskError<M>>
    where
        A: Handler<M>,
        M: Message,
    {
        self.ask_timeout(message, self.cell.ask_timeout()).await
    }

    /// Sends a message and waits at most `timeout` for the reply.
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
        if self.cell.refusing() {
            return Err(AskError::Stopped(message));
        }
        let mut deadline = Deadline::after(self.cell.clock(), timeout);
        // Room is usually there: only a full mailbox makes the ask wait (and look at time).
        let permit = match self.try_reserve() {
            Ok(permit) => permit,
            Err(TryReserveError::Closed) => return Err(AskError::Stopped(message)),
            // Boxed for the same reason as in `tell`.
            Err(TryReserveError::Full) => match Box::pin(deadline.run(self.reserve())).await {
                Ok(Ok(_)) if self.cell.refusing() => return Err(AskError::Stopped(message)),
                Ok(Ok(permit)) => permit,
                Ok(Err(())) => return Err(AskError::Stopped(message)),
                Err(Elapsed) => return Err(AskError::Full(message)),
            },
        };
        deadline.reply(send_ask(permit, message)).await
    }

    /// Asks the actor to stop gracefully.
    ///
    /// The mailbox stops accepting messages at once; the actor handles every message already
    /// queued, then runs `on_stop` and ends with [`ExitReason::Normal`]. The request travels
    /// in the control lane, so a full mailbox never delays it. Stopping a stopped actor does
    /// nothing.
    pub fn stop(&self) {
        self.cell.signal(STOP);
    }

    /// Stops the actor at once.
    ///
    /// The current handler is cancelled at its next `.await` (a handler that never awaits
    /// finishes first), queued messages become dead letters (asks waiting on them get
    /// [`AskError::Dropped`]), `on_stop` does not run, and the actor's value is dropped.
    /// The actor ends with [`ExitReason::Killed`].
    pub fn kill(&self) {
        self.cell.signal(KILL);
    }

    /// Waits until the actor has ended and returns why.
    ///
    /// Any number of tasks may wait; each gets the same reason. Returns at once if the actor
    /// has already ended.
    pub async fn wait(&self) -> ExitReason {
        self.cell.wait().await
    }

    /// Returns a reference that does not keep the actor's mailbox allocated.
    pub fn downgrade(&self) -> WeakActorRef<A> {
        WeakActorRef::new(self)
    }

    /// Returns a reference to this actor narrowed to message type `M`.
    pub fn recipient<M>(&self) -> Recipient<M>
    where
        A: Handler<M>,
        M: Message,
    {
        Recipient::new(self.clone())
    }
}

/// Any reference to an actor, whatever its type: an [`ActorRef`] or a [`Recipient`].
///
/// Lets [`Context::watch`](crate::Context::watch), [`Context::link`](crate::Context::link)
/// and their kin take either. Sealed: implemented by Playhouse's references only.
pub trait AnyActorRef: private::HasCell {
    /// Returns the actor's id.
    fn actor_id(&self) -> ActorId;
}

pub(crate) mod private {
    use std::sync::Arc;

    use crate::cell::ActorCell;

    /// Gives the crate the shared cell behind a reference.
    pub trait HasCell {
        /// The actor's shared cell.
        fn cell(&self) -> &Arc<ActorCell>;
    }
}

impl<A: Actor> private::HasCell for ActorRef<A> {
    fn cell(&self) -> &Arc<ActorCell> {
        &self.cell
    }
}

impl<A: Actor> AnyActorRef for ActorRef<A> {
    fn actor_id(&self) -> ActorId {
        self.id()
    }
}

impl<A: Actor> fmt::Debug for ActorRef<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActorRef({})", self.cell)
    }
}

impl<A: Actor> fmt::Display for ActorRef<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.cell, f)
    }
}

impl<A: Actor> PartialEq for ActorRef<A> {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl<A: Actor> Eq for ActorRef<A> {}

impl<A: Actor> Hash for ActorRef<A> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}
