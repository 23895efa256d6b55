//! Bounded and unbounded mailboxes.
//!
//! A mailbox is a tokio channel of [`Envelope`]s. Control signals do not travel here: they
//! use the actor's control lane (see `cell.rs`), so a full mailbox never delays a stop or
//! a kill.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::actor::Actor;
use crate::cell::ActorCell;
use crate::envelope::{Dispatch, Envelope};

/// The capacity of a mailbox unless the actor or its spawner chooses another.
///
/// With a bounded mailbox, [`tell`](crate::ActorRef::tell) waits for room once this many
/// messages are queued, and [`try_tell`](crate::ActorRef::try_tell) hands the message back.
/// Implementation detail: slots are allocated as they are used, in blocks, not up front.
pub const DEFAULT_MAILBOX_CAPACITY: usize = 256;

/// The largest capacity of a bounded mailbox (tokio's limit for a bounded channel).
pub const MAX_MAILBOX_CAPACITY: usize = usize::MAX >> 3;

/// The kind and size of an actor's mailbox.
///
/// Bounded is the default: a slow actor pushes back on its senders instead of growing
/// without limit. Unbounded is an explicit choice for actors that must never make a sender
/// wait (and whose senders are known to be bounded by something else).
///
/// # Examples
///
/// ```
/// use playhouse::Mailbox;
///
/// assert_eq!(Mailbox::default(), Mailbox::bounded(playhouse::DEFAULT_MAILBOX_CAPACITY));
/// assert_eq!(Mailbox::bounded(8).capacity(), Some(8));
/// assert_eq!(Mailbox::unbounded().capacity(), None);
/// assert_eq!(Mailbox::try_bounded(0), None);
/// assert_eq!(Mailbox::try_bounded(usize::MAX), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mailbox {
    capacity: Option<usize>,
}

impl Mailbox {
    /// A mailbox that holds at most `capacity` messages.
    ///
    /// # Panics
    ///
    /// Panics if `capacity` is zero (a mailbox needs at least one slot) or larger than
    /// [`MAX_MAILBOX_CAPACITY`]. Use [`try_bounded`](Self::try_bounded) for a capacity that
    /// comes from input.
    #[track_caller]
    pub const fn bounded(capacity: usize) -> Self {
        match Self::try_bounded(capacity) {
            Some(mailbox) => mailbox,
            None => panic!("a bounded mailbox needs a capacity from 1 to MAX_MAILBOX_CAPACITY"),
        }
    }

    /// A mailbox that holds at most `capacity` messages, or `None` if `capacity` is zero or
    /// larger than [`MAX_MAILBOX_CAPACITY`].
    pub const fn try_bounded(capacity: usize) -> Option<Self> {
        if capacity == 0 || capacity > MAX_MAILBOX_CAPACITY {
            None
        } else {
            Some(Self {
                capacity: Some(capacity),
            })
        }
    }

    /// A mailbox without a limit: `tell` never waits and never reports it full.
    pub const fn unbounded() -> Self {
        Self { capacity: None }
    }

    /// The capacity, or `None` for an unbounded mailbox.
    pub const fn capacity(&self) -> Option<usize> {
        self.capacity
    }
}

impl Default for Mailbox {
    fn default() -> Self {
        Self::bounded(DEFAULT_MAILBOX_CAPACITY)
    }
}

pub(crate) fn channel<A: Actor>(
    mailbox: Mailbox,
    cell: &Arc<ActorCell>,
) -> (MailboxSender<A>, MailboxReceiver<A>) {
    match mailbox.capacity {
        Some(capacity) => {
            let (tx, rx) = mpsc::channel(capacity);
            (MailboxSender::Bounded(tx), MailboxReceiver::Bounded(rx))
        }
        None => {
            let (tx, rx) = mpsc::unbounded_channel();
            (
                MailboxSender::Unbounded(tx),
                MailboxReceiver::Unbounded(rx, Arc::clone(cell)),
            )
        }
    }
}

pub(crate) enum MailboxSender<A: Actor> {
    Bounded(mpsc::Sender<Envelope<A>>),
    Unbounded(mpsc::UnboundedSender<Envelope<A>>),
}

impl<A: Actor> Clone for MailboxSender<A> {
    fn clone(&self) -> Self {
        match self {
            Self::Bounded(tx) => Self::Bounded(tx.clone()),
            Self::Unbounded(tx) => Self::Unbounded(tx.clone()),
        }
    }
}

/// Why a slot could not be reserved right away.
pub(crate) enum TryReserveError {
    Full,
    Closed,
}

impl<A: Actor> MailboxSender<A> {
    /// Waits for room in the mailbox. `Err` means the mailbox is closed.
    ///
    /// Cancel safety: dropping the future gives up the place in line and nothing else.
    pub(crate) async fn reserve<'a>(
        &'a self,
        queued: &'a AtomicUsize,
    ) -> Result<Permit<'a, A>, ()> {
        match self {
            Self::Bounded(tx) => tx.reserve().await.map(Permit::Bounded).map_err(|_| ()),
            Self::Unbounded(tx) if tx.is_closed() => Err(()),
            Self::Unbounded(tx) => Ok(Permit::Unbounded(tx, queued)),
        }
    }

    pub(crate) fn try_reserve<'a>(
        &'a self,
        queued: &'a AtomicUsize,
    ) -> Result<Permit<'a, A>, TryReserveError> {
        match self {
            Self::Bounded(tx) => {
                tx.try_reserve()
                    .map(Permit::Bounded)
                    .map_err(|error| match error {
                        mpsc::error::TrySendError::Full(()) => TryReserveError::Full,
                        mpsc::error::TrySendError::Closed(()) => TryReserveError::Closed,
                    })
            }
            Self::Unbounded(tx) if tx.is_closed() => Err(TryReserveError::Closed),
            Self::Unbounded(tx) => Ok(Permit::Unbounded(tx, queued)),
        }
    }

    pub(crate) fn downgrade(&self) -> WeakMailboxSender<A> {
        match self {
            Self::Bounded(tx) => WeakMailboxSender::Bounded(tx.downgrade()),
            Self::Unbounded(tx) => WeakMailboxSender::Unbounded(tx.downgrade()),
        }
    }

    /// How many messages wait in the mailbox. `queued` is the actor's count of messages in
    /// an unbounded mailbox (tokio's unbounded sender cannot tell).
    pub(crate) fn len(&self, queued: &AtomicUsize) -> usize {
        match self {
            Self::Bounded(tx) => tx.max_capacity() - tx.capacity(),
            Self::Unbounded(_) => queued.load(Ordering::Relaxed),
        }
    }
}

/// A reserved place in a mailbox.
pub(crate) enum Permit<'a, A: Actor> {
    Bounded(mpsc::Permit<'a, Envelope<A>>),
    Unbounded(&'a mpsc::UnboundedSender<Envelope<A>>, &'a AtomicUsize),
}

impl<A: Actor> Permit<'_, A> {
    /// Puts the message in the mailbox, or gives it back if the mailbox closed meanwhile.
    pub(crate) fn send<P: Dispatch<A>>(self, payload: P) -> Result<(), P> {
        match self {
            Self::Bounded(permit) => {
                permit.send(Box::new(payload));
                Ok(())
            }
            Self::Unbounded(tx, queued) => {
                queued.fetch_add(1, Ordering::Relaxed);
                tx.send(Box::new(payload)).map_err(|refused| {
                    queued.fetch_sub(1, Ordering::Relaxed);
                    // The envelope we just boxed is a `P`; the downcast only undoes the boxing.
                    *refused
                        .0
                        .into_any()
                        .downcast::<P>()
                        .expect("refused envelope changed type")
                })
            }
        }
    }
}

pub(crate) enum WeakMailboxSender<A: Actor> {
    Bounded(mpsc::WeakSender<Envelope<A>>),
    Unbounded(mpsc::WeakUnboundedSender<Envelope<A>>),
}

impl<A: Actor> Clone for WeakMailboxSender<A> {
    fn clone(&self) -> Self {
        match self {
            Self::Bounded(tx) => Self::Bounded(tx.clone()),
            Self::Unbounded(tx) => Self::Unbounded(tx.clone()),
        }
    }
}

impl<A: Actor> WeakMailboxSender<A> {
    pub(crate) fn upgrade(&self) -> Option<MailboxSender<A>> {
        match self {
            Self::Bounded(tx) => tx.upgrade().map(MailboxSender::Bounded),
            Self::Unbounded(tx) => tx.upgrade().map(MailboxSender::Unbounded),
        }
    }
}

pub(crate) enum MailboxReceiver<A: Actor> {
    Bounded(mpsc::Receiver<Envelope<A>>),
    Unbounded(mpsc::UnboundedReceiver<Envelope<A>>, Arc<ActorCell>),
}

/// What a non-waiting receive found.
pub(crate) enum TryRecv<A: Actor> {
    Message(Envelope<A>),
    Empty,
    /// Closed and drained: nothing will ever arrive again.
    Closed,
}

impl<A: Actor> MailboxReceiver<A> {
    pub(crate) fn try_recv(&mut self) -> TryRecv<A> {
        use mpsc::error::TryRecvError;
        let result = match self {
            Self::Bounded(rx) => rx.try_recv(),
            Self::Unbounded(rx, cell) => rx.try_recv().inspect(|_| cell.dequeued()),
        };
        match result {
            Ok(envelope) => TryRecv::Message(envelope),
            Err(TryRecvError::Empty) => TryRecv::Empty,
            Err(TryRecvError::Disconnected) => TryRecv::Closed,
        }
    }

    /// Polls for the next message; `Ready(None)` once the mailbox is closed and drained.
    pub(crate) fn poll_recv(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Envelope<A>>> {
        match self {
            Self::Bounded(rx) => rx.poll_recv(cx),
            Self::Unbounded(rx, cell) => rx.poll_recv(cx).map(|received| {
                if received.is_some() {
                    cell.dequeued();
                }
                received
            }),
        }
    }

    /// Waits for the next message; `None` once the mailbox is closed and drained.
    pub(crate) async fn recv(&mut self) -> Option<Envelope<A>> {
        match self {
            Self::Bounded(rx) => rx.recv().await,
            Self::Unbounded(rx, cell) => rx.recv().await.inspect(|_| cell.dequeued()),
        }
    }

    /// Refuses new messages; those already queued can still be received.
    pub(crate) fn close(&mut self) {
        match self {
            Self::Bounded(rx) => rx.close(),
            Self::Unbounded(rx, _) => rx.close(),
        }
    }
}
