//! One small error type per operation. A message that was not delivered comes back inside.

use std::fmt;
use std::sync::Arc;

fn message_type<M>() -> &'static str {
    std::any::type_name::<M>()
}

/// [`tell`](crate::ActorRef::tell) failed because the actor has stopped.
///
/// The message was not delivered; [`into_inner`](Self::into_inner) gives it back.
pub struct SendError<M>(pub M);

impl<M> SendError<M> {
    /// Returns the message that was not delivered.
    pub fn into_inner(self) -> M {
        self.0
    }
}

impl<M> fmt::Debug for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SendError")
            .field(&message_type::<M>())
            .finish()
    }
}

impl<M> fmt::Display for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("actor stopped; message not delivered")
    }
}

impl<M> std::error::Error for SendError<M> {}

/// [`try_tell`](crate::ActorRef::try_tell) could not deliver the message right away.
///
/// Either way the message comes back inside the error.
pub enum TrySendError<M> {
    /// The mailbox is full; try again later or use `tell` to wait for room.
    Full(M),
    /// The actor has stopped.
    Stopped(M),
}

impl<M> TrySendError<M> {
    /// Returns the message that was not delivered.
    pub fn into_inner(self) -> M {
        match self {
            TrySendError::Full(message) | TrySendError::Stopped(message) => message,
        }
    }

    /// Returns `true` when the mailbox was full (as opposed to the actor stopped).
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }
}

impl<M> fmt::Debug for TrySendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let variant = match self {
            TrySendError::Full(_) => "Full",
            TrySendError::Stopped(_) => "Stopped",
        };
        f.debug_tuple(variant).field(&message_type::<M>()).finish()
    }
}

impl<M> fmt::Display for TrySendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("mailbox full; message not delivered"),
            TrySendError::Stopped(_) => f.write_str("actor stopped; message not delivered"),
        }
    }
}

impl<M> std::error::Error for TrySendError<M> {}

impl<M> From<SendError<M>> for TrySendError<M> {
    fn from(SendError(message): SendError<M>) -> Self {
        TrySendError::Stopped(message)
    }
}

/// An [`ask`](crate::ActorRef::ask) that did not get its reply.
///
/// An ask always resolves: with the reply or with one of these. When the message was never
/// accepted by the mailbox, it comes back inside the error.
pub enum AskError<M> {
    /// The actor had stopped; the message was not delivered.
    Stopped(M),
    /// The mailbox stayed full until the ask timed out; the message was not delivered.
    Full(M),
    /// The message was delivered but no reply came before the timeout.
    Timeout,
    /// The actor stopped or was killed before it handled the message.
    Dropped,
    /// The handler panicked while handling this message; the panic's message.
    Panicked(Arc<str>),
}

impl<M> AskError<M> {
    /// Returns the message if it was never delivered.
    pub fn into_message(self) -> Option<M> {
        match self {
            AskError::Stopped(message) | AskError::Full(message) => Some(message),
            AskError::Timeout | AskError::Dropped | AskError::Panicked(_) => None,
        }
    }

    /// Returns `true` for [`AskError::Timeout`] and [`AskError::Full`]: time ran out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, AskError::Timeout | AskError::Full(_))
    }
}

impl<M> fmt::Debug for AskError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AskError::Stopped(_) => f
                .debug_tuple("Stopped")
                .field(&message_type::<M>())
                .finish(),
            AskError::Full(_) => f.debug_tuple("Full").field(&message_type::<M>()).finish(),
            AskError::Timeout => f.write_str("Timeout"),
            AskError::Dropped => f.write_str("Dropped"),
            AskError::Panicked(message) => f.debug_tuple("Panicked").field(message).finish(),
        }
    }
}

impl<M> fmt::Display for AskError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AskError::Stopped(_) => f.write_str("actor stopped; message not delivered"),
            AskError::Full(_) => f.write_str("ask timed out waiting for room in the mailbox"),
            AskError::Timeout => f.write_str("ask timed out waiting for the reply"),
            AskError::Dropped => f.write_str("actor stopped before handling the message"),
            AskError::Panicked(message) => write!(f, "handler panicked: {message}"),
        }
    }
}

impl<M> std::error::Error for AskError<M> {}

impl<M> From<SendError<M>> for AskError<M> {
    fn from(SendError(message): SendError<M>) -> Self {
        AskError::Stopped(message)
    }
}
