//! How a message and its reply slot travel to an actor: the one place of type erasure.
//!
//! A mailbox of `ActorRef<A>` carries any message `A` handles, so each message travels as a
//! boxed [`Dispatch`] object that knows how to hand itself to `A`'s handler. The handler's
//! future goes into the actor's reusable [`FutureSlot`], not a box of its own.
//! Implementation detail: a `tell` costs one allocation, for the envelope (none for a
//! zero-sized message); an `ask` adds tokio's oneshot for the reply.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::sync::Arc;

use tokio::sync::oneshot;

use crate::actor::Actor;
use crate::context::Context;
use crate::future_slot::{FutureSlot, SlotFuture};
use crate::mailbox::Permit;
use crate::message::{Handler, Message};

/// A message on its way to an actor of type `A`.
pub(crate) type Envelope<A> = Box<dyn Dispatch<A>>;

pub(crate) trait Dispatch<A: Actor>: Send + 'static {
    /// The message's type name, for tracing and dead letters.
    fn message_type(&self) -> &'static str;

    /// Hands the message to the actor's handler, whose future (which sends any reply) is
    /// placed in `slot`.
    fn dispatch<'a>(
        self: Box<Self>,
        actor: &'a mut A,
        ctx: &'a mut Context<A>,
        slot: &'a mut FutureSlot,
    ) -> SlotFuture<'a>;

    /// Turns the envelope back into its concrete type, to return a refused message.
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;

    /// The span that was current where the message was sent, if it was traced.
    fn sender_span(&self) -> Option<&tracing::Span>;
}

/// Where a message was sent from, for its span to link back to: a [`tracing::Span`] when a
/// subscriber listens at `trace` level, else `()`, which keeps the envelope as small as the
/// message (a zero-sized message then needs no allocation at all).
pub(crate) trait SenderSpan: Send + 'static {
    fn span(&self) -> Option<&tracing::Span>;
}

impl SenderSpan for () {
    fn span(&self) -> Option<&tracing::Span> {
        None
    }
}

impl SenderSpan for tracing::Span {
    fn span(&self) -> Option<&tracing::Span> {
        Some(self)
    }
}

fn tracing_messages() -> bool {
    tracing::enabled!(tracing::Level::TRACE)
}

/// Puts a `tell` in the reserved place, or gives the message back if the mailbox closed.
pub(crate) fn send_tell<A: Handler<M>, M: Message>(
    permit: Permit<'_, A>,
    message: M,
) -> Result<(), M> {
    if tracing_messages() {
        let sender = tracing::Span::current();
        permit
            .send(Tell { message, sender })
            .map_err(|refused| refused.message)
    } else {
        permit
            .send(Tell {
                message,
                sender: (),
            })
            .map_err(|refused| refused.message)
    }
}

/// Puts an `ask` in the reserved place, or gives the message back if the mailbox closed.
pub(crate) fn send_ask<A: Handler<M>, M: Message>(
    permit: Permit<'_, A>,
    message: M,
    reply: ReplyTo<M::Reply>,
) -> Result<(), M> {
    if tracing_messages() {
        let sender = tracing::Span::current();
        permit
            .send(Ask {
                message,
                reply,
                sender,
            })
            .map_err(|refused| refused.message)
    } else {
        permit
            .send(Ask {
                message,
                reply,
                sender: (),
            })
            .map_err(|refused| refused.message)
    }
}

/// A message sent with `tell`: the reply is dropped.
struct Tell<M, S> {
    message: M,
    sender: S,
}

impl<A, M, S> Dispatch<A> for Tell<M, S>
where
    A: Handler<M>,
    M: Message,
    S: SenderSpan,
{
    fn message_type(&self) -> &'static str {
        std::any::type_name::<M>()
    }

    fn dispatch<'a>(
        self: Box<Self>,
        actor: &'a mut A,
        ctx: &'a mut Context<A>,
        slot: &'a mut FutureSlot,
    ) -> SlotFuture<'a> {
        let message = self.message;
        slot.put(async move {
            actor.handle(message, ctx).await;
        })
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }

    fn sender_span(&self) -> Option<&tracing::Span> {
        self.sender.span()
    }
}

/// A message sent with `ask`, with the slot for its reply.
struct Ask<M: Message, S> {
    message: M,
    reply: ReplyTo<M::Reply>,
    sender: S,
}

impl<A, M, S> Dispatch<A> for Ask<M, S>
where
    A: Handler<M>,
    M: Message,
    S: SenderSpan,
{
    fn message_type(&self) -> &'static str {
        std::any::type_name::<M>()
    }

    fn dispatch<'a>(
        self: Box<Self>,
        actor: &'a mut A,
        ctx: &'a mut Context<A>,
        slot: &'a mut FutureSlot,
    ) -> SlotFuture<'a> {
        let Ask { message, reply, .. } = *self;
        slot.put(async move {
            let value = actor.handle(message, ctx).await;
            reply.send(value);
        })
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }

    fn sender_span(&self) -> Option<&tracing::Span> {
        self.sender.span()
    }
}

/// Why an ask got no reply, as carried back to the asker.
#[derive(Debug)]
pub(crate) enum NoReply {
    /// The message was dropped unhandled (the actor stopped or was killed first).
    Dropped,
    /// The handler panicked; the panic's message.
    Panicked(Arc<str>),
}

type PanickedReply = Box<dyn FnOnce(Arc<str>)>;

thread_local! {
    /// How many [`catch_panic`] calls are running on this thread.
    static CATCHING: Cell<u32> = const { Cell::new(0) };
    /// Reply slots dropped while a handler unwound from a panic, waiting to hear its message.
    static PANICKED_REPLIES: RefCell<Vec<PanickedReply>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` (one poll of an actor's future), catching a panic and returning its message.
///
/// Unwinding drops the future's locals, its reply slot among them, before the panic's
/// message is known; while `f` runs, such slots wait here, and hear the message once the
/// panic is caught. Outside this function a reply slot dropped by a panic reports
/// [`NoReply::Dropped`] at once, so nothing waits here for a panic nobody reports.
pub(crate) fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    CATCHING.with(|depth| depth.set(depth.get() + 1));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CATCHING.with(|depth| depth.set(depth.get() - 1));
    let replies = PANICKED_REPLIES.with(|replies| std::mem::take(&mut *replies.borrow_mut()));
    match result {
        Ok(value) => {
            debug_assert!(replies.is_empty(), "reply slots parked without a panic");
            Ok(value)
        }
        Err(payload) => {
            let message = playhouse_runtime::panic_message(&*payload);
            let shared: Arc<str> = Arc::from(message.as_str());
            for reply in replies {
                reply(Arc::clone(&shared));
            }
            Err(message)
        }
    }
}

/// The sending half of an ask's reply. Dropped without a reply, it tells the asker why.
pub(crate) struct ReplyTo<R: Send + 'static> {
    sender: Option<oneshot::Sender<Result<R, NoReply>>>,
}

impl<R: Send + 'static> ReplyTo<R> {
    pub(crate) fn new(sender: oneshot::Sender<Result<R, NoReply>>) -> Self {
        Self {
            sender: Some(sender),
        }
    }

    fn send(mut self, value: R) {
        if let Some(sender) = self.sender.take() {
            // The asker may have given up (timed out or dropped); the reply is then unwanted.
            let _ = sender.send(Ok(value));
        }
    }
}

impl<R: Send + 'static> Drop for ReplyTo<R> {
    fn drop(&mut self) {
        let Some(sender) = self.sender.take() else {
            return;
        };
        if std::thread::panicking() && CATCHING.with(Cell::get) > 0 {
            let reply: PanickedReply = Box::new(move |message| {
                let _ = sender.send(Err(NoReply::Panicked(message)));
            });
            PANICKED_REPLIES.with(|replies| replies.borrow_mut().push(reply));
        } else {
            let _ = sender.send(Err(NoReply::Dropped));
        }
    }
}
