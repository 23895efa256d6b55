//! `Recipient<M>`: a reference narrowed to one message type.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::actor_ref::ActorRef;
use crate::cell::{ActorCell, ActorId, KILL, STOP};
use crate::error::{AskError, SendError, TrySendError};
use crate::exit::ExitReason;
use crate::message::{Handler, Message};

/// A reference to any actor that handles message `M`, whatever the actor's type.
///
/// Actors of different types that handle the same message can sit in one list of
/// `Recipient<M>`. It offers the same sending operations as [`ActorRef`] for `M`, with the
/// same ordering and error guarantees. Implementation detail: a `tell` through a recipient
/// costs one more allocation than through an `ActorRef` (its future is boxed).
///
/// # Examples
///
/// ```
/// use playhouse::prelude::*;
///
/// /// Something happened; every listener hears it.
/// #[derive(Clone)]
/// struct Event(&'static str);
/// impl Message for Event {
///     type Reply = ();
/// }
///
/// #[derive(Actor)]
/// struct Logger;
/// impl Handler<Event> for Logger {
///     async fn handle(&mut self, Event(what): Event, _ctx: &mut Context<Self>) {
///         println!("log: {what}");
///     }
/// }
///
/// #[derive(Actor)]
/// struct Tally(usize);
/// impl Handler<Event> for Tally {
///     async fn handle(&mut self, _event: Event, _ctx: &mut Context<Self>) {
///         self.0 += 1;
///     }
/// }
///
/// # #[playhouse::main]
/// # async fn main() {
/// let listeners: Vec<Recipient<Event>> = vec![
///     Logger::spawn(Logger).recipient(),
///     Tally::spawn(Tally(0)).recipient(),
/// ];
/// for listener in &listeners {
///     listener.tell(Event("started")).await.unwrap();
/// }
/// # }
/// ```
pub struct Recipient<M: Message> {
    inner: Arc<dyn ErasedRef<M>>,
    cell: Arc<ActorCell>,
}

#[async_trait::async_trait]
trait ErasedRef<M: Message>: Send + Sync {
    async fn tell(&self, message: M) -> Result<(), SendError<M>>;
    fn try_tell(&self, message: M) -> Result<(), TrySendError<M>>;
    async fn ask_timeout(&self, message: M, timeout: Duration) -> Result<M::Reply, AskError<M>>;
}

#[async_trait::async_trait]
impl<A, M> ErasedRef<M> for ActorRef<A>
where
    A: Handler<M>,
    M: Message,
{
    async fn tell(&self, message: M) -> Result<(), SendError<M>> {
        ActorRef::tell(self, message).await
    }

    fn try_tell(&self, message: M) -> Result<(), TrySendError<M>> {
        ActorRef::try_tell(self, message)
    }

    async fn ask_timeout(&self, message: M, timeout: Duration) -> Result<M::Reply, AskError<M>> {
        ActorRef::ask_timeout(self, message, timeout).await
    }
}

impl<M: Message> Recipient<M> {
    pub(crate) fn new<A: Handler<M>>(actor: ActorRef<A>) -> Self {
        let cell = Arc::clone(&actor.cell);
        Self {
            inner: Arc::new(actor),
            cell,
        }
    }

    /// Returns the actor's id.
    pub fn id(&self) -> ActorId {
        self.cell.id()
    }

    /// Returns `true` until the actor has ended.
    pub fn is_alive(&self) -> bool {
        self.cell.is_alive()
    }

    /// Sends a message without waiting for its reply; see [`ActorRef::tell`].
    ///
    /// # Errors
    ///
    /// Returns [`SendError`] with the message if the actor has stopped.
    pub async fn tell(&self, message: M) -> Result<(), SendError<M>> {
        self.inner.tell(message).await
    }

    /// Sends a message now or gives it back; see [`ActorRef::try_tell`].
    ///
    /// # Errors
    ///
    /// Returns [`TrySendError`] with the message when the mailbox is full or the actor has
    /// stopped.
    pub fn try_tell(&self, message: M) -> Result<(), TrySendError<M>> {
        self.inner.try_tell(message)
    }

    /// Sends a message and waits for the reply within the default ask timeout; see
    /// [`ActorRef::ask`].
    ///
    /// # Errors
    ///
    /// See [`AskError`].
    pub async fn ask(&self, message: M) -> Result<M::Reply, AskError<M>> {
        self.inner
            .ask_timeout(message, self.cell.ask_timeout())
            .await
    }

    /// Sends a message and waits at most `timeout` for the reply; see
    /// [`ActorRef::ask_timeout`].
    ///
    /// # Errors
    ///
    /// See [`AskError`].
    pub async fn ask_timeout(
        &self,
        message: M,
        timeout: Duration,
    ) -> Result<M::Reply, AskError<M>> {
        self.inner.ask_timeout(message, timeout).await
    }

    /// Asks the actor to stop gracefully; see [`ActorRef::stop`].
    pub fn stop(&self) {
        self.cell.signal(STOP);
    }

    /// Stops the actor at once; see [`ActorRef::kill`].
    pub fn kill(&self) {
        self.cell.signal(KILL);
    }

    /// Waits until the actor has ended and returns why; see [`ActorRef::wait`].
    pub async fn wait(&self) -> ExitReason {
        self.cell.wait().await
    }
}

impl<M: Message> crate::actor_ref::private::HasCell for Recipient<M> {
    fn cell(&self) -> &Arc<ActorCell> {
        &self.cell
    }
}

impl<M: Message> crate::actor_ref::AnyActorRef for Recipient<M> {
    fn actor_id(&self) -> ActorId {
        self.id()
    }
}

impl<M: Message> Clone for Recipient<M> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            cell: Arc::clone(&self.cell),
        }
    }
}

impl<M: Message> fmt::Debug for Recipient<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Recipient<{}>({})",
            crate::cell::short_type_name(std::any::type_name::<M>()),
            self.cell
        )
    }
}

impl<A: Handler<M>, M: Message> From<ActorRef<A>> for Recipient<M> {
    fn from(actor: ActorRef<A>) -> Self {
        Recipient::new(actor)
    }
}

impl<A: Handler<M>, M: Message> From<&ActorRef<A>> for Recipient<M> {
    fn from(actor: &ActorRef<A>) -> Self {
        Recipient::new(actor.clone())
    }
}

impl<M: Message> PartialEq for Recipient<M> {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl<M: Message> Eq for Recipient<M> {}
