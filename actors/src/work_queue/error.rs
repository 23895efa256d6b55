//! Why an item was not queued, or a consumer not attached. An item that was not queued
//! comes back inside the error.

use std::fmt;

use crate::cell::ActorId;

fn item_type<M>() -> &'static str {
    std::any::type_name::<M>()
}

/// [`push`](crate::work_queue::WorkQueue::push) failed because the queue is closed.
///
/// The item was not queued; [`into_inner`](Self::into_inner) gives it back.
pub struct PushError<M>(pub M);

impl<M> PushError<M> {
    /// Returns the item that was not queued.
    pub fn into_inner(self) -> M {
        self.0
    }
}

impl<M> fmt::Debug for PushError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PushError").field(&item_type::<M>()).finish()
    }
}

impl<M> fmt::Display for PushError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("work queue closed; item not queued")
    }
}

impl<M> std::error::Error for PushError<M> {}

/// [`try_push`](crate::work_queue::WorkQueue::try_push) could not queue the item right
/// away.
///
/// Either way the item comes back inside the error.
pub enum TryPushError<M> {
    /// The queue is full; try again later, or use `push` to wait for room.
    Full(M),
    /// The queue is closed.
    Closed(M),
}

impl<M> TryPushError<M> {
    /// Returns the item that was not queued.
    pub fn into_inner(self) -> M {
        match self {
            TryPushError::Full(item) | TryPushError::Closed(item) => item,
        }
    }

    /// Returns `true` when the queue was full (as opposed to closed).
    pub fn is_full(&self) -> bool {
        matches!(self, TryPushError::Full(_))
    }
}

impl<M> fmt::Debug for TryPushError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let variant = match self {
            TryPushError::Full(_) => "Full",
            TryPushError::Closed(_) => "Closed",
        };
        f.debug_tuple(variant).field(&item_type::<M>()).finish()
    }
}

impl<M> fmt::Display for TryPushError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPushError::Full(_) => f.write_str("work queue full; item not queued"),
            TryPushError::Closed(_) => f.write_str("work queue closed; item not queued"),
        }
    }
}

impl<M> std::error::Error for TryPushError<M> {}

impl<M> From<PushError<M>> for TryPushError<M> {
    fn from(PushError(item): PushError<M>) -> Self {
        TryPushError::Closed(item)
    }
}

/// [`push_timeout`](crate::work_queue::WorkQueue::push_timeout) could not queue the item.
///
/// Either way the item comes back inside the error.
pub enum PushTimeoutError<M> {
    /// The queue stayed full until the timeout.
    Timeout(M),
    /// The queue is closed.
    Closed(M),
}

impl<M> PushTimeoutError<M> {
    /// Returns the item that was not queued.
    pub fn into_inner(self) -> M {
        match self {
            PushTimeoutError::Timeout(item) | PushTimeoutError::Closed(item) => item,
        }
    }

    /// Returns `true` when time ran out (as opposed to the queue closed).
    pub fn is_timeout(&self) -> bool {
        matches!(self, PushTimeoutError::Timeout(_))
    }
}

impl<M> fmt::Debug for PushTimeoutError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let variant = match self {
            PushTimeoutError::Timeout(_) => "Timeout",
            PushTimeoutError::Closed(_) => "Closed",
        };
        f.debug_tuple(variant).field(&item_type::<M>()).finish()
    }
}

impl<M> fmt::Display for PushTimeoutError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushTimeoutError::Timeout(_) => {
                f.write_str("timed out waiting for room in the work queue; item not queued")
            }
            PushTimeoutError::Closed(_) => f.write_str("work queue closed; item not queued"),
        }
    }
}

impl<M> std::error::Error for PushTimeoutError<M> {}

impl<M> From<PushError<M>> for PushTimeoutError<M> {
    fn from(PushError(item): PushError<M>) -> Self {
        PushTimeoutError::Closed(item)
    }
}

/// [`attach`](crate::work_queue::WorkQueue::attach) refused an actor that has ended or is
/// stopping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachError {
    pub(super) actor: ActorId,
}

impl AttachError {
    /// Returns the id of the actor that was not attached.
    pub fn actor(&self) -> ActorId {
        self.actor
    }
}

impl fmt::Display for AttachError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("actor stopped; not attached")
    }
}

impl std::error::Error for AttachError {}
