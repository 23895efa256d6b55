//! How a message and its reply slot travel to an actor: the one place of type erasure.
//!
//! A mailbox of `ActorRef<A>` carries any message `A` handles, so each message travels in
//! a heap node: a [`Header`] (the mailbox's link, and a hand-made vtable) followed by a
//! [`Dispatch`] payload that knows how to hand itself to `A`'s handler. The handler's
//! future goes into the actor's reusable [`FutureSlot`], not a box of its own.
//! Implementation detail: a `tell` costs at most one allocation, the node, and usually
//! none: the node reuses the memory of a message the actor has handled (see the mailbox's
//! `spares.rs`). An `ask` travels in a node of its own kind, with a slot for the reply
//! (see `reply.rs`): its one allocation, freed by the asker once it has the reply.

use std::alloc::Layout;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use crate::actor::Actor;
use crate::context::Context;
use crate::future_slot::{FutureSlot, SlotFuture};
use crate::mailbox::{ErasedVTable, Header, MailboxCore, MailboxReceiver, Permit};
use crate::message::{Handler, Message};
use crate::reply::{AskNode, NoReply, Replier, Reply};

/// A message on its way to an actor of type `A`: a pointer to one heap node that holds the
/// payload (a [`Dispatch`]) behind the [`Header`] the mailbox links through. A thin pointer,
/// so the node is the only allocation and the mailbox queue needs none.
pub(crate) struct Envelope<A: Actor> {
    node: NonNull<Header>,
    _actor: PhantomData<fn(A)>,
}

// SAFETY: the node owns a `Dispatch` payload, which is `Send`.
unsafe impl<A: Actor> Send for Envelope<A> {}

/// A payload behind its header; `repr(C)` puts the header at the node's address.
#[repr(C)]
struct Node<P> {
    header: Header,
    payload: P,
}

/// Everything the actor loop can do with a node of `A`'s mailbox. `repr(C)` with the erased
/// part first, so a pointer to it is a pointer to the erased part (what a header holds).
#[repr(C)]
struct VTable<A: Actor> {
    erased: ErasedVTable,
    dispatch: DispatchFn<A>,
}

/// Takes a node's payload out, hands its memory back to the mailbox, and calls the handler.
type DispatchFn<A> = for<'a> unsafe fn(
    NonNull<Header>,
    &mut MailboxReceiver<A>,
    &'a mut A,
    &'a mut Context<A>,
    &'a mut FutureSlot,
) -> SlotFuture<'a>;

/// The vtable of payload `P` for actor `A`, and its functions.
struct Vtables<A, P>(PhantomData<fn(A, P)>);

impl<A: Actor, P: Dispatch<A>> Vtables<A, P> {
    const VTABLE: &'static VTable<A> = &VTable {
        erased: ErasedVTable {
            message_type: P::message_type,
            sender_span: Self::sender_span,
            drop: Self::drop,
            layout: Layout::new::<Node<P>>(),
        },
        dispatch: Self::dispatch,
    };

    /// # Safety
    ///
    /// `header` must be the header of a live `Node<P>`.
    unsafe fn sender_span(header: &Header) -> Option<&tracing::Span> {
        // SAFETY: the header is the first field of its `Node<P>` (caller's contract).
        let node = unsafe { &*std::ptr::from_ref(header).cast::<Node<P>>() };
        node.payload.sender_span()
    }

    /// # Safety
    ///
    /// `node` must be an owned `Node<P>` allocated by [`Envelope::new`].
    unsafe fn drop(node: NonNull<Header>) {
        // SAFETY: caller's contract; the box frees what `Envelope::new` allocated.
        drop(unsafe { Box::from_raw(node.cast::<Node<P>>().as_ptr()) });
    }

    /// # Safety
    ///
    /// As [`drop`](Self::drop).
    unsafe fn dispatch<'a>(
        node: NonNull<Header>,
        mailbox: &mut MailboxReceiver<A>,
        actor: &'a mut A,
        ctx: &'a mut Context<A>,
        slot: &'a mut FutureSlot,
    ) -> SlotFuture<'a> {
        let typed = node.cast::<Node<P>>();
        // SAFETY: caller's contract: an owned, live `Node<P>`. Its payload is moved out
        // here; the memory, header intact, goes back to the mailbox for a later message
        // (or to the allocator), before the handler runs.
        let payload = unsafe { std::ptr::addr_of!((*typed.as_ptr()).payload).read() };
        // SAFETY: the payload is gone; the header still names the node's layout.
        unsafe { mailbox.recycle(node) };
        payload.dispatch(actor, ctx, slot)
    }
}

impl<A: Actor> Envelope<A> {
    /// Puts `payload` in a node of its own: the one allocation of a message, unless the
    /// mailbox has the memory of a handled message of the same size to reuse.
    pub(crate) fn new<P: Dispatch<A>>(mailbox: &MailboxCore, payload: P) -> Self {
        let vtable: &'static VTable<A> = Vtables::<A, P>::VTABLE;
        let node = Node {
            header: Header::new(&vtable.erased),
            payload,
        };
        let node = match mailbox.reuse(vtable.erased.layout) {
            Some(memory) => {
                let memory = memory.cast::<Node<P>>();
                // SAFETY: `reuse` hands out memory of exactly `Node<P>`'s layout that
                // nothing else uses.
                unsafe { memory.as_ptr().write(node) };
                memory
            }
            None => NonNull::from(Box::leak(Box::new(node))),
        };
        Self {
            node: node.cast(),
            _actor: PhantomData,
        }
    }

    /// Puts an ask in a node of its own, with the slot for its reply, and returns the
    /// asker's half of that slot. Never the memory of a handled `tell`: ask nodes live
    /// until the asker has the reply, and go to the freeing thread's spare (see
    /// `reply.rs`).
    fn new_ask<M, S>(ask: Ask<M, S>) -> (Self, Reply<M::Reply>)
    where
        A: Handler<M>,
        M: Message,
        S: SenderSpan,
    {
        let vtable: &'static VTable<A> = AskVtables::<A, M, S>::VTABLE;
        let (node, reply) = AskNode::allocate(&vtable.erased, ask);
        (
            Self {
                node,
                _actor: PhantomData,
            },
            reply,
        )
    }

    /// Gives up the node, for the mailbox queue to own.
    pub(crate) fn into_raw(self) -> NonNull<Header> {
        let node = self.node;
        std::mem::forget(self);
        node
    }

    /// Takes back a node made by [`new`](Self::new) and given up by [`into_raw`](Self::into_raw).
    ///
    /// # Safety
    ///
    /// `node` must come from `into_raw` of an `Envelope<A>` (the same `A`), once.
    pub(crate) unsafe fn from_raw(node: NonNull<Header>) -> Self {
        Self {
            node,
            _actor: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: the envelope owns a live node.
        unsafe { self.node.as_ref() }
    }

    /// The message's type name, for tracing and dead letters.
    pub(crate) fn message_type(&self) -> &'static str {
        (self.header().vtable.message_type)()
    }

    /// The span that was current where the message was sent, if it was traced.
    pub(crate) fn sender_span(&self) -> Option<&tracing::Span> {
        let header = self.header();
        // SAFETY: the vtable is the one made for this node's payload.
        unsafe { (header.vtable.sender_span)(header) }
    }

    /// Hands the message to the actor's handler, whose future (which sends any reply) is
    /// placed in `slot`.
    pub(crate) fn dispatch<'a>(
        self,
        mailbox: &mut MailboxReceiver<A>,
        actor: &'a mut A,
        ctx: &'a mut Context<A>,
        slot: &'a mut FutureSlot,
    ) -> SlotFuture<'a> {
        let vtable = std::ptr::from_ref(self.header().vtable).cast::<VTable<A>>();
        let node = self.into_raw();
        // SAFETY: every node in `A`'s mailbox was made by `Envelope::<A>::new`, whose erased
        // vtable is the first field of a `VTable<A>`; the node is handed over exactly once.
        unsafe { ((*vtable).dispatch)(node, mailbox, actor, ctx, slot) }
    }
}

impl<A: Actor> Drop for Envelope<A> {
    fn drop(&mut self) {
        // SAFETY: the envelope owns its node, made by `Envelope::new`.
        unsafe { (self.header().vtable.drop)(self.node) }
    }
}

pub(crate) trait Dispatch<A: Actor>: Send + Sized + 'static {
    /// The message's type name, for tracing and dead letters.
    fn message_type() -> &'static str;

    /// Hands the message to the actor's handler, whose future (which sends any reply) is
    /// placed in `slot`.
    fn dispatch<'a>(
        self,
        actor: &'a mut A,
        ctx: &'a mut Context<A>,
        slot: &'a mut FutureSlot,
    ) -> SlotFuture<'a>;

    /// The span that was current where the message was sent, if it was traced.
    fn sender_span(&self) -> Option<&tracing::Span>;
}

/// Where a message was sent from, for its span to link back to: a [`tracing::Span`] when a
/// subscriber listens at `trace` level, else `()`, which keeps the envelope as small as the
/// message.
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

/// Whether a `trace`-level subscriber may record message spans. The first check is one
/// relaxed load of tracing's global maximum level; only if it passes is the callsite asked.
pub(crate) fn tracing_messages() -> bool {
    tracing::level_enabled!(tracing::Level::TRACE) && tracing::enabled!(tracing::Level::TRACE)
}

/// Puts a `tell` in the reserved place.
pub(crate) fn send_tell<A: Handler<M>, M: Message>(permit: Permit<'_, A>, message: M) {
    if tracing_messages() {
        let sender = tracing::Span::current();
        permit.send(Tell { message, sender });
    } else {
        permit.send(Tell {
            message,
            sender: (),
        });
    }
}

/// Puts an `ask` in the reserved place, and returns the future of its reply.
pub(crate) fn send_ask<A: Handler<M>, M: Message>(
    permit: Permit<'_, A>,
    message: M,
) -> Reply<M::Reply> {
    let (envelope, reply) = if tracing_messages() {
        let sender = tracing::Span::current();
        Envelope::new_ask(Ask { message, sender })
    } else {
        Envelope::new_ask(Ask {
            message,
            sender: (),
        })
    };
    permit.send_envelope(envelope);
    reply
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
    fn message_type() -> &'static str {
        std::any::type_name::<M>()
    }

    fn dispatch<'a>(
        self,
        actor: &'a mut A,
        ctx: &'a mut Context<A>,
        slot: &'a mut FutureSlot,
    ) -> SlotFuture<'a> {
        slot.put(Discard(actor.handle(self.message, ctx)))
    }

    fn sender_span(&self) -> Option<&tracing::Span> {
        self.sender.span()
    }
}

/// A message sent with `ask`. It travels in an [`AskNode`], after the slot for its reply.
struct Ask<M, S> {
    message: M,
    sender: S,
}

/// The vtable of an ask of `M` for actor `A`, and its functions.
struct AskVtables<A, M, S>(PhantomData<fn(A, M, S)>);

impl<A, M, S> AskVtables<A, M, S>
where
    A: Handler<M>,
    M: Message,
    S: SenderSpan,
{
    const VTABLE: &'static VTable<A> = &VTable {
        erased: ErasedVTable {
            message_type: std::any::type_name::<M>,
            sender_span: Self::sender_span,
            drop: AskNode::<M::Reply, Ask<M, S>>::drop_unhandled,
            layout: AskNode::<M::Reply, Ask<M, S>>::LAYOUT,
        },
        dispatch: Self::dispatch,
    };

    /// # Safety
    ///
    /// `header` must be the header of a live ask node of this vtable, message not taken.
    unsafe fn sender_span(header: &Header) -> Option<&tracing::Span> {
        // SAFETY: caller's contract.
        unsafe { AskNode::<M::Reply, Ask<M, S>>::payload(header) }
            .sender
            .span()
    }

    /// Takes the message out and calls the handler; the node stays with the reply slot,
    /// which the handler's future fills.
    ///
    /// # Safety
    ///
    /// `node` must be an owned ask node of this vtable, message not taken.
    unsafe fn dispatch<'a>(
        node: NonNull<Header>,
        _mailbox: &mut MailboxReceiver<A>,
        actor: &'a mut A,
        ctx: &'a mut Context<A>,
        slot: &'a mut FutureSlot,
    ) -> SlotFuture<'a> {
        // SAFETY: caller's contract.
        let (Ask { message, .. }, replier) = unsafe { AskNode::<M::Reply, Ask<M, S>>::take(node) };
        // Made before the handler is called: a handler that panics before it makes its
        // future unwinds past it, and the asker hears the panic.
        let reply = ReplyTo::new(replier);
        slot.put(Answer {
            handler: actor.handle(message, ctx),
            reply,
        })
    }
}

type PanickedReply = Box<dyn FnOnce(Arc<str>)>;

thread_local! {
    /// How many [`catch_panic`] calls are running on this thread, and how many reply slots
    /// are parked in [`PANICKED_REPLIES`]: plain cells, so that a poll that neither panics
    /// nor parks a slot (every poll, nearly) touches nothing else.
    static CATCHING: Catching = const {
        Catching {
            depth: Cell::new(0),
            parked: Cell::new(0),
        }
    };
    /// Reply slots dropped while a handler unwound from a panic, waiting to hear its message.
    static PANICKED_REPLIES: RefCell<Vec<PanickedReply>> = const { RefCell::new(Vec::new()) };
}

struct Catching {
    depth: Cell<u32>,
    /// The length of [`PANICKED_REPLIES`].
    parked: Cell<usize>,
}

/// Runs `f` (one poll of an actor's future), catching a panic and returning its message.
///
/// Unwinding drops the future's locals, its reply slot among them, before the panic's
/// message is known; while `f` runs, such slots wait here, and hear the message once the
/// panic is caught. Outside this function a reply slot dropped by a panic reports
/// [`NoReply::Dropped`] at once, so nothing waits here for a panic nobody reports.
pub(crate) fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let parked_before = CATCHING.with(|catching| {
        catching.depth.set(catching.depth.get() + 1);
        catching.parked.get()
    });
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    let parked_now = CATCHING.with(|catching| {
        catching.depth.set(catching.depth.get() - 1);
        catching.parked.get()
    });
    // Only the slots parked during `f` are this call's to settle.
    let take_parked = || {
        if parked_now <= parked_before {
            return Vec::new();
        }
        let taken = PANICKED_REPLIES.with(|replies| replies.borrow_mut().split_off(parked_before));
        CATCHING.with(|catching| catching.parked.set(parked_before));
        taken
    };
    match result {
        Ok(value) => {
            // Slots parked by a panic that `f` caught itself (with its own `catch_unwind`):
            // dropped, their askers hear `Dropped`, as outside any panic.
            drop(take_parked());
            Ok(value)
        }
        Err(payload) => {
            let replies = take_parked();
            let message = playhouse_runtime::panic_message(&*payload);
            let shared: Arc<str> = Arc::from(message.as_str());
            for reply in replies {
                reply(Arc::clone(&shared));
            }
            Err(message)
        }
    }
}

/// A `tell`'s handler future, its reply dropped. No `async` block around the handler's
/// own future: as large as that future, so a small handler's fits inside the actor's task
/// (see [`FutureSlot`]) instead of a buffer on the heap.
struct Discard<F>(F);

impl<F: Future> Future for Discard<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        // SAFETY: the handler's future is pinned with `self` and never moved out.
        let handler = unsafe { self.map_unchecked_mut(|discard| &mut discard.0) };
        handler.poll(cx).map(drop)
    }
}

/// An `ask`'s handler future, which sends the reply when the handler returns. As small as
/// the handler's future plus the reply slot (see [`Discard`]). Dropped before the handler
/// returns (the actor was killed, or the handler panicked), the reply slot tells the asker.
struct Answer<F: Future>
where
    F::Output: Send + 'static,
{
    handler: F,
    reply: ReplyTo<F::Output>,
}

impl<F: Future> Future for Answer<F>
where
    F::Output: Send + 'static,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        // SAFETY: `handler` is pinned with `self` and never moved out; `reply` is not
        // pinned (it is only sent through `&mut`).
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above.
        let handler = unsafe { Pin::new_unchecked(&mut this.handler) };
        // A panic in the handler gives the reply slot up while it unwinds, as a local of
        // the handler would be: under `catch_panic` the asker then hears the panic.
        let on_unwind = GiveUpOnUnwind(&mut this.reply);
        let poll = handler.poll(cx);
        let reply = on_unwind.defuse();
        poll.map(|value| reply.send(value))
    }
}

/// Gives up a reply slot if dropped, which only happens when a panic unwinds past it.
struct GiveUpOnUnwind<'a, R: Send + 'static>(&'a mut ReplyTo<R>);

impl<'a, R: Send + 'static> GiveUpOnUnwind<'a, R> {
    fn defuse(self) -> &'a mut ReplyTo<R> {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped or used again; the reference is moved out once.
        unsafe { std::ptr::read(&this.0) }
    }
}

impl<R: Send + 'static> Drop for GiveUpOnUnwind<'_, R> {
    fn drop(&mut self) {
        drop(ReplyTo {
            replier: self.0.replier.take(),
        });
    }
}

/// The actor's half of an ask's reply, as its handler's future holds it. Dropped without
/// a reply, it tells the asker why: the handler panicked (heard once the panic is caught,
/// see [`catch_panic`]) or was dropped.
pub(crate) struct ReplyTo<R: Send + 'static> {
    replier: Option<Replier<R>>,
}

impl<R: Send + 'static> ReplyTo<R> {
    pub(crate) fn new(replier: Replier<R>) -> Self {
        Self {
            replier: Some(replier),
        }
    }

    /// Sends the reply; the slot is spent (its drop does nothing more). The asker may have
    /// given up (timed out or dropped); the reply is then dropped.
    fn send(&mut self, value: R) {
        if let Some(replier) = self.replier.take() {
            replier.send(Ok(value));
        }
    }
}

impl<R: Send + 'static> Drop for ReplyTo<R> {
    fn drop(&mut self) {
        let Some(replier) = self.replier.take() else {
            return;
        };
        if std::thread::panicking() && CATCHING.with(|catching| catching.depth.get()) > 0 {
            let reply: PanickedReply = Box::new(move |message| {
                replier.send(Err(NoReply::Panicked(message)));
            });
            PANICKED_REPLIES.with(|replies| {
                let mut replies = replies.borrow_mut();
                replies.push(reply);
                CATCHING.with(|catching| catching.parked.set(replies.len()));
            });
        } else {
            replier.send(Err(NoReply::Dropped));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    use super::{catch_panic, NoReply, ReplyTo};
    use crate::reply::{test_pair, Reply};

    /// The reply, if it is there, without waiting.
    fn ready(reply: &mut Reply<u32>) -> Option<Result<u32, NoReply>> {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match std::pin::Pin::new(reply).poll(&mut cx) {
            std::task::Poll::Ready(result) => Some(result),
            std::task::Poll::Pending => None,
        }
    }

    #[test]
    fn a_panic_caught_inside_leaves_no_reply_waiting_and_the_asker_hears_dropped() {
        let (replier, mut reply) = test_pair::<u32>();
        let outcome = catch_panic(|| {
            // The code under the guard catches its own panic, which dropped a reply slot.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                let _reply = ReplyTo::new(replier);
                panic!("caught inside");
            }))
            .is_err()
        });
        assert_eq!(outcome, Ok(true));
        assert!(
            matches!(ready(&mut reply), Some(Err(NoReply::Dropped))),
            "the slot was let go, not kept for a later panic"
        );
        // A later caught panic on this thread does not hear of it either.
        assert!(catch_panic(|| panic!("later")).is_err());
    }

    #[test]
    fn a_panic_under_the_guard_reaches_the_asker_with_its_message() {
        let (replier, mut reply) = test_pair::<u32>();
        let outcome = catch_panic(move || {
            let _reply = ReplyTo::new(replier);
            panic!("boom");
        });
        assert_eq!(outcome.unwrap_err(), "boom");
        match ready(&mut reply) {
            Some(Err(NoReply::Panicked(message))) => assert_eq!(&*message, "boom"),
            other => panic!("expected the panic's message, got {other:?}"),
        }
    }

    #[test]
    fn a_reply_sent_reaches_the_asker() {
        let (replier, mut reply) = test_pair::<u32>();
        let mut reply_to = ReplyTo::new(replier);
        assert!(ready(&mut reply).is_none(), "nothing sent yet");
        reply_to.send(42);
        drop(reply_to);
        assert!(matches!(ready(&mut reply), Some(Ok(42))));
    }
}
