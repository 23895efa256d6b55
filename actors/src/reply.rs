//! An ask's reply, carried back in the node that carried its message.
//!
//! An ask's node (an [`AskNode`]) holds, after the mailbox's header, a reply slot: the
//! asker's waker and, once the handler returns, the reply. The actor moves the message out
//! when it dispatches it but leaves the node alone; the asker takes the reply out, and
//! whichever of the two is done last frees the node, usually the asker. A thread keeps
//! the memory of the last ask node it freed for its next ask, so an asker that waits for
//! each reply allocates nothing, and a round trip needs no channel of its own (tokio's
//! `oneshot`, which asks carried before, was a second allocation and a third of a raw
//! channel's round trip: its cooperative budget, reference count and state machine).
//!
//! Two halves share the node: the asker's [`Reply`] (a future) and the actor's
//! [`Replier`]. One byte of state settles who may touch what:
//!
//! - the reply is written by the replier before it sets `REPLIED`, and read by the asker
//!   only after it saw `REPLIED`;
//! - the waker is written by the asker only while `WAKER`, `REPLIED` and `TIMED_OUT` are
//!   all clear, and it publishes it by setting `WAKER`; the replier (or the deadline
//!   watcher) reads it only after its own `REPLIED` (or `TIMED_OUT`) found `WAKER` set,
//!   and the asker can no longer clear `WAKER` after that (its compare-and-swap, which
//!   compares the whole state, fails);
//! - each half says it is done with `REPLIER_GONE` or `ASKER_GONE`; whichever half comes
//!   second drops what is left in the slot and frees the node. When the asker was not
//!   waiting, the replier sets `REPLIED` and `REPLIER_GONE` in one step.

use std::alloc::Layout;
use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::marker::PhantomData;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use playhouse_runtime::{CoarseClock, CoarseTarget, CoarseWatch};

use crate::mailbox::{ErasedVTable, Header};

/// Why an ask got no reply, as carried back to the asker.
#[derive(Debug)]
pub(crate) enum NoReply {
    /// The message was dropped unhandled (the actor stopped or was killed first), or its
    /// handler's future was dropped before it returned.
    Dropped,
    /// The handler panicked; the panic's message.
    Panicked(Arc<str>),
    /// The ask's deadline passed first (see [`WatchedReply`]).
    TimedOut,
}

/// The asker's waker is in the slot, for the replier to wake.
const WAKER: u8 = 1;
/// The reply is in the slot.
const REPLIED: u8 = 1 << 1;
/// The replier is done with the node.
const REPLIER_GONE: u8 = 1 << 2;
/// The asker is done with the node.
const ASKER_GONE: u8 = 1 << 3;
/// The asker took the reply out (set together with `ASKER_GONE`).
const TAKEN: u8 = 1 << 4;
/// The ask's deadline passed (set by the deadline watcher, see [`WatchedReply`]).
const TIMED_OUT: u8 = 1 << 5;

/// Where an ask's reply waits for its asker.
struct Slot<R> {
    state: AtomicU8,
    waker: UnsafeCell<MaybeUninit<Waker>>,
    reply: UnsafeCell<MaybeUninit<Result<R, NoReply>>>,
}

/// The node of an ask: the mailbox's header, the reply slot, then the message's payload.
/// `repr(C)`, so the header is at the node's address and the slot's offset does not
/// depend on the payload.
#[repr(C)]
pub(crate) struct AskNode<R, P> {
    header: Header,
    slot: Slot<R>,
    payload: ManuallyDrop<P>,
}

impl<R: Send + 'static, P> AskNode<R, P> {
    /// The layout a vtable of these nodes names.
    pub(crate) const LAYOUT: Layout = Layout::new::<Self>();

    /// Puts `payload` in a new node whose header names `vtable`, and returns it with the
    /// asker's half of its reply slot.
    pub(crate) fn allocate(
        vtable: &'static ErasedVTable,
        payload: P,
    ) -> (NonNull<Header>, Reply<R>) {
        debug_assert_eq!(
            vtable.layout,
            Self::LAYOUT,
            "the vtable is made for this node"
        );
        let node = Self {
            header: Header::new(vtable),
            slot: Slot {
                state: AtomicU8::new(0),
                waker: UnsafeCell::new(MaybeUninit::uninit()),
                reply: UnsafeCell::new(MaybeUninit::uninit()),
            },
            payload: ManuallyDrop::new(payload),
        };
        let node = match spare_memory(Self::LAYOUT) {
            Some(memory) => {
                let memory = memory.cast::<Self>();
                // SAFETY: memory of exactly this layout that nothing else uses.
                unsafe { memory.as_ptr().write(node) };
                memory
            }
            None => NonNull::from(Box::leak(Box::new(node))),
        }
        .cast::<Header>();
        (
            node,
            Reply {
                node,
                taken: false,
                _reply: PhantomData,
            },
        )
    }

    /// The payload of a node that still holds it.
    ///
    /// # Safety
    ///
    /// `header` must be the header of a live `AskNode<R, P>` whose payload was not taken.
    pub(crate) unsafe fn payload(header: &Header) -> &P {
        // SAFETY: the header is the first field of the node (caller's contract).
        unsafe { &(*std::ptr::from_ref(header).cast::<Self>()).payload }
    }

    /// Moves the payload out; the caller becomes the replier.
    ///
    /// # Safety
    ///
    /// `node` must be a live `AskNode<R, P>` whose payload was not taken, owned by the
    /// caller (the mailbox handed it over); it is not to be used again but through the
    /// returned replier.
    pub(crate) unsafe fn take(node: NonNull<Header>) -> (P, Replier<R>) {
        let typed = node.cast::<Self>();
        // SAFETY: caller's contract; the payload is read once, and the node never drops it.
        let payload = unsafe {
            ManuallyDrop::into_inner(std::ptr::addr_of!((*typed.as_ptr()).payload).read())
        };
        (
            payload,
            Replier {
                node,
                _reply: PhantomData,
            },
        )
    }
}

/// The slot of a node made by [`AskNode::allocate`] with reply type `R`.
///
/// # Safety
///
/// `node` must be such a node, not yet freed.
unsafe fn slot<'a, R>(node: NonNull<Header>) -> &'a Slot<R> {
    // In `repr(C)` the offset of the slot depends only on the fields before it.
    let offset = std::mem::offset_of!(AskNode<R, ()>, slot);
    // SAFETY: caller's contract.
    unsafe { &*node.as_ptr().cast::<u8>().add(offset).cast::<Slot<R>>() }
}

/// Drops what the slot still holds, as `state` says, and frees the node.
///
/// # Safety
///
/// `node` must be a node of [`AskNode::allocate`] with reply type `R` whose payload is
/// gone, `state` its final state, and both halves done with it.
unsafe fn free<R>(node: NonNull<Header>, state: u8) {
    // SAFETY: caller's contract: nothing else touches the node any more.
    unsafe {
        let slot = slot::<R>(node);
        if state & WAKER != 0 {
            drop((*slot.waker.get()).assume_init_read());
        }
        if state & REPLIED != 0 && state & TAKEN == 0 {
            drop((*slot.reply.get()).assume_init_read());
        }
        let layout = node.as_ref().vtable.layout;
        keep_or_dealloc(node.cast(), layout);
    }
}

thread_local! {
    /// The memory of the last ask node this thread freed, for its next ask. An asker that
    /// waits for each reply allocates and frees one node per ask, usually on its own
    /// thread: kept here, that is one thread-local look each way instead of the allocator.
    static SPARE: Spare = const { Spare(Cell::new(None)) };
}

/// Memory of an ask node, and its layout.
struct Spare(Cell<Option<(NonNull<u8>, Layout)>>);

impl Drop for Spare {
    fn drop(&mut self) {
        if let Some((memory, layout)) = self.0.take() {
            // SAFETY: the memory was allocated with this layout and is no node's any more.
            unsafe { std::alloc::dealloc(memory.as_ptr(), layout) };
        }
    }
}

/// The thread's spare node memory, if it has the layout asked for.
fn spare_memory(layout: Layout) -> Option<NonNull<u8>> {
    SPARE
        .try_with(|spare| match spare.0.get() {
            Some((memory, kept)) if kept == layout => {
                spare.0.set(None);
                Some(memory)
            }
            _ => None,
        })
        .ok()
        .flatten()
}

/// Keeps the memory of a node the thread is done with as its spare, and frees the spare
/// it replaces (or the memory, once the thread's spare is gone with the thread).
///
/// # Safety
///
/// `memory` must be allocated with `layout` and be nobody's.
unsafe fn keep_or_dealloc(memory: NonNull<u8>, layout: Layout) {
    let freed = SPARE
        .try_with(|spare| spare.0.replace(Some((memory, layout))))
        .unwrap_or(Some((memory, layout)));
    if let Some((memory, layout)) = freed {
        // SAFETY: caller's contract, or the replaced spare, which is nobody's.
        unsafe { std::alloc::dealloc(memory.as_ptr(), layout) };
    }
}

/// The asker's half: a future of the reply. Dropped before it, the reply is discarded
/// when it comes.
pub(crate) struct Reply<R> {
    node: NonNull<Header>,
    /// The reply was taken out (the future completed).
    taken: bool,
    _reply: PhantomData<R>,
}

// SAFETY: the node is shared with the replier only through the slot's protocol; the
// reply crosses threads, hence `R: Send`.
unsafe impl<R: Send> Send for Reply<R> {}

// Nothing is pinned in place: the reply lives in the node, not in the future.
impl<R> Unpin for Reply<R> {}

impl<R> Reply<R> {
    fn slot(&self) -> &Slot<R> {
        // SAFETY: the node lives until this half is gone.
        unsafe { slot(self.node) }
    }

    /// Takes the reply out.
    ///
    /// # Safety
    ///
    /// `REPLIED` must have been seen with acquire ordering, and the reply not yet taken.
    unsafe fn take(&mut self) -> Result<R, NoReply> {
        self.taken = true;
        // SAFETY: caller's contract: the replier wrote it and will not touch it again.
        unsafe { (*self.slot().reply.get()).assume_init_read() }
    }
}

impl<R> Future for Reply<R> {
    type Output = Result<R, NoReply>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.taken, "an ask's reply is polled after it completed");
        let slot = this.slot();
        let mut state = slot.state.load(Ordering::Acquire);
        loop {
            if state & REPLIED != 0 {
                // SAFETY: `REPLIED` was seen with acquire ordering; a reply is taken once.
                return Poll::Ready(unsafe { this.take() });
            }
            if state & TIMED_OUT != 0 {
                // The reply, if it still comes, is dropped with the node.
                return Poll::Ready(Err(NoReply::TimedOut));
            }
            if state & WAKER != 0 {
                // SAFETY: the waker is set; only this half writes it, and not now.
                let stored = unsafe { (*slot.waker.get()).assume_init_ref() };
                if stored.will_wake(cx.waker()) {
                    return Poll::Pending;
                }
                // Take the old waker back before replacing it. The exchange fails if the
                // reply or the deadline came in meanwhile: look again.
                if let Err(actual) = slot.state.compare_exchange(
                    state,
                    state & !WAKER,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    state = actual;
                    continue;
                }
                state &= !WAKER;
                // SAFETY: `WAKER` is clear and nothing else was set: neither the replier
                // nor the watcher reads the waker; it is this half's to drop.
                drop(unsafe { (*slot.waker.get()).assume_init_read() });
            }
            // SAFETY: `WAKER`, `REPLIED` and `TIMED_OUT` are clear: nobody else reads the
            // cell.
            unsafe { (*slot.waker.get()).write(cx.waker().clone()) };
            match slot.state.compare_exchange(
                state,
                state | WAKER,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Poll::Pending,
                Err(actual) => {
                    // The reply or the deadline came first, without seeing this waker:
                    // it is this half's to drop.
                    // SAFETY: written just above and never published.
                    drop(unsafe { (*slot.waker.get()).assume_init_read() });
                    state = actual;
                }
            }
        }
    }
}

impl<R> Drop for Reply<R> {
    fn drop(&mut self) {
        let gone = ASKER_GONE | if self.taken { TAKEN } else { 0 };
        let slot = self.slot();
        let state = slot.state.load(Ordering::Acquire);
        let last = if state & REPLIER_GONE != 0 {
            // The usual end: the replier left before the asker woke.
            state | gone
        } else {
            let before = slot.state.fetch_or(gone, Ordering::AcqRel);
            if before & REPLIER_GONE == 0 {
                return; // The replier frees the node when it is done.
            }
            before | gone
        };
        // SAFETY: both halves are done; the payload left before the replier did.
        unsafe { free::<R>(self.node, last) };
    }
}

/// An ask's reply, waited for within a coarse deadline that fires through the reply
/// slot: the deadline table keeps no waker of its own (see [`CoarseTarget`]), only a
/// pointer to the node.
pub(crate) struct WatchedReply<'a, R> {
    // Declared before `reply`, so dropped first: the watcher cannot fire into the node
    // once the watch is gone, and the node lives until `reply` is gone.
    watch: Option<CoarseWatch<'a>>,
    reply: Reply<R>,
    clock: &'a CoarseClock,
    timeout: Duration,
}

impl<'a, R> WatchedReply<'a, R> {
    /// Waits for `reply` at most `timeout` (or up to a coarse resolution more), watched
    /// by `clock` from the first time the reply is not there yet.
    pub(crate) fn new(reply: Reply<R>, clock: &'a CoarseClock, timeout: Duration) -> Self {
        Self {
            watch: None,
            reply,
            clock,
            timeout,
        }
    }
}

impl<R> Future for WatchedReply<'_, R> {
    type Output = Result<R, NoReply>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.reply).poll(cx);
        if poll.is_pending() && this.watch.is_none() {
            // SAFETY: `fire` touches only the node's slot, which lives until `reply` is
            // dropped, after the watch; the slot's state makes it sound on any thread.
            let target = unsafe { CoarseTarget::new(this.reply.node.cast(), fire::<R>) };
            this.watch = Some(this.clock.watch(this.timeout, target));
        }
        poll
    }
}

/// Fires an ask's deadline: marks the slot timed out, and returns the asker's waker if
/// it waits.
///
/// # Safety
///
/// `node` must be a live ask node with reply type `R`.
unsafe fn fire<R>(node: NonNull<()>) -> Option<Waker> {
    // SAFETY: caller's contract.
    let slot = unsafe { slot::<R>(node.cast()) };
    let before = slot.state.fetch_or(TIMED_OUT, Ordering::AcqRel);
    if before & WAKER != 0 && before & REPLIED == 0 {
        // SAFETY: `TIMED_OUT` is set with `WAKER`: the asker can no longer replace the
        // waker, and the replier only reads it.
        Some(unsafe { (*slot.waker.get()).assume_init_ref() }.clone())
    } else {
        None
    }
}

/// The actor's half: sends the reply, or, dropped without one, tells the asker it was
/// dropped.
pub(crate) struct Replier<R> {
    node: NonNull<Header>,
    _reply: PhantomData<R>,
}

// SAFETY: as for `Reply`.
unsafe impl<R: Send> Send for Replier<R> {}

impl<R> Replier<R> {
    /// Puts `reply` in the slot and wakes the asker; a reply nobody waits for any more is
    /// dropped.
    pub(crate) fn send(self, reply: Result<R, NoReply>) {
        let this = ManuallyDrop::new(self);
        // SAFETY: the node lives until this half is gone, which happens here, once.
        unsafe { complete(this.node, reply) }
    }
}

impl<R> Drop for Replier<R> {
    fn drop(&mut self) {
        // SAFETY: as in `send`.
        unsafe { complete::<R>(self.node, Err(NoReply::Dropped)) }
    }
}

/// The replier's end of the protocol: reply, wake, leave.
///
/// # Safety
///
/// `node` must be an ask node with reply type `R`, its payload gone, and the caller its
/// replier, done with it after this.
unsafe fn complete<R>(node: NonNull<Header>, reply: Result<R, NoReply>) {
    // SAFETY: the replier has not left, so the node lives.
    let slot = unsafe { slot::<R>(node) };
    let mut state = slot.state.load(Ordering::Acquire);
    if state & ASKER_GONE != 0 {
        // Nobody waits: the node is this half's alone. The reply is dropped unsent.
        // SAFETY: both halves are done.
        unsafe { free::<R>(node, state) };
        return;
    }
    // SAFETY: `REPLIED` is clear, so the asker does not read the cell.
    unsafe { (*slot.reply.get()).write(reply) };
    loop {
        if state & WAKER == 0 {
            // Nobody to wake: reply and leave in one step.
            let done = state | REPLIED | REPLIER_GONE;
            match slot
                .state
                .compare_exchange_weak(state, done, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    if state & ASKER_GONE != 0 {
                        // SAFETY: the asker left first; both are done now.
                        unsafe { free::<R>(node, done) };
                    }
                    return;
                }
                Err(actual) => state = actual,
            }
        } else {
            let before = slot.state.fetch_or(REPLIED, Ordering::AcqRel);
            if before & WAKER != 0 {
                // SAFETY: `REPLIED` is set with `WAKER`: the asker can no longer clear
                // or replace the waker, and cannot free the node before we leave.
                unsafe { (*slot.waker.get()).assume_init_ref() }.wake_by_ref();
            }
            let before = slot.state.fetch_or(REPLIER_GONE, Ordering::AcqRel);
            if before & ASKER_GONE != 0 {
                // SAFETY: the asker left first; both are done now.
                unsafe { free::<R>(node, before | REPLIER_GONE) };
            }
            return;
        }
    }
}

impl<R: Send + 'static, P> AskNode<R, P> {
    /// Drops a node whose message was never handled: the payload goes, and the asker hears
    /// [`NoReply::Dropped`].
    ///
    /// # Safety
    ///
    /// As for [`take`](Self::take).
    pub(crate) unsafe fn drop_unhandled(node: NonNull<Header>) {
        // SAFETY: forwarded to the caller.
        let (payload, replier) = unsafe { Self::take(node) };
        drop(payload);
        drop(replier);
    }
}

/// A reply slot's two halves, in a node without a message, for tests.
#[cfg(test)]
pub(crate) fn test_pair<R: Send + 'static>() -> (Replier<R>, Reply<R>) {
    let (node, reply) = AskNode::<R, ()>::allocate(tests::Vtables::<R, ()>::VTABLE, ());
    // SAFETY: the node was just made with a `()` payload.
    let ((), replier) = unsafe { AskNode::<R, ()>::take(node) };
    (replier, reply)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::sync::mpsc;
    use std::task::Wake;

    use super::*;

    /// Counts how often it is woken.
    #[derive(Default)]
    struct Counting(AtomicUsize);

    impl Wake for Counting {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Counting {
        fn wakes(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }
    }

    /// A value that counts its drops.
    struct Tracked(Arc<AtomicUsize>);

    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// The vtable of test nodes with reply `R` and payload `P`.
    pub(super) struct Vtables<R, P>(PhantomData<(R, P)>);

    impl<R: Send + 'static, P: Send + 'static> Vtables<R, P> {
        pub(super) const VTABLE: &'static ErasedVTable = &ErasedVTable {
            message_type: || "test",
            sender_span: no_span,
            drop: AskNode::<R, P>::drop_unhandled,
            layout: AskNode::<R, P>::LAYOUT,
        };
    }

    unsafe fn no_span(_: &Header) -> Option<&tracing::Span> {
        None
    }

    fn ask<P: Send + 'static>(payload: P) -> (NonNull<Header>, Reply<Tracked>) {
        AskNode::<Tracked, P>::allocate(Vtables::<Tracked, P>::VTABLE, payload)
    }

    fn poll(reply: &mut Reply<Tracked>, waker: &Arc<Counting>) -> Poll<Result<Tracked, NoReply>> {
        let waker = Waker::from(Arc::clone(waker));
        Pin::new(reply).poll(&mut Context::from_waker(&waker))
    }

    #[test]
    fn a_reply_sent_before_the_first_poll_is_ready_at_once() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (node, mut reply) = ask(7_u32);
        // SAFETY: the node was just made with a `u32` payload.
        let (payload, replier) = unsafe { AskNode::<Tracked, u32>::take(node) };
        assert_eq!(payload, 7);
        replier.send(Ok(Tracked(Arc::clone(&drops))));
        let waker = Arc::new(Counting::default());
        let Poll::Ready(Ok(value)) = poll(&mut reply, &waker) else {
            panic!("the reply is there")
        };
        assert_eq!(waker.wakes(), 0);
        assert_eq!(Arc::strong_count(&waker), 1, "the waker was never kept");
        drop(reply);
        assert_eq!(drops.load(Ordering::SeqCst), 0, "the asker owns the reply");
        drop(value);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_waiting_asker_is_woken_once_and_its_waker_let_go() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (node, mut reply) = ask(());
        let waker = Arc::new(Counting::default());
        assert!(poll(&mut reply, &waker).is_pending());
        assert!(
            poll(&mut reply, &waker).is_pending(),
            "a second poll waits too"
        );
        assert_eq!(Arc::strong_count(&waker), 2, "one waker is kept");
        // SAFETY: the node was just made with a `()` payload.
        let ((), replier) = unsafe { AskNode::<Tracked, ()>::take(node) };
        replier.send(Ok(Tracked(Arc::clone(&drops))));
        assert_eq!(waker.wakes(), 1);
        assert!(matches!(poll(&mut reply, &waker), Poll::Ready(Ok(_))));
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "the reply, taken and dropped"
        );
        drop(reply);
        assert_eq!(Arc::strong_count(&waker), 1, "the node let its waker go");
        assert_eq!(drops.load(Ordering::SeqCst), 1, "nothing dropped twice");
    }

    #[test]
    fn the_latest_waker_is_the_one_woken() {
        let (node, mut reply) = ask(());
        let (first, second) = (Arc::new(Counting::default()), Arc::new(Counting::default()));
        assert!(poll(&mut reply, &first).is_pending());
        assert!(poll(&mut reply, &second).is_pending());
        assert_eq!(Arc::strong_count(&first), 1, "the replaced waker is let go");
        // SAFETY: the node was just made with a `()` payload.
        let ((), replier) = unsafe { AskNode::<Tracked, ()>::take(node) };
        drop(replier);
        assert_eq!((first.wakes(), second.wakes()), (0, 1));
        assert!(matches!(
            poll(&mut reply, &second),
            Poll::Ready(Err(NoReply::Dropped))
        ));
        drop(reply);
        assert_eq!(Arc::strong_count(&second), 1);
    }

    #[test]
    fn a_reply_nobody_waits_for_is_dropped_with_the_waker() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (node, mut reply) = ask(());
        let waker = Arc::new(Counting::default());
        assert!(poll(&mut reply, &waker).is_pending());
        drop(reply);
        // SAFETY: the node was just made with a `()` payload.
        let ((), replier) = unsafe { AskNode::<Tracked, ()>::take(node) };
        replier.send(Ok(Tracked(Arc::clone(&drops))));
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "the unwanted reply was dropped"
        );
        assert_eq!(
            Arc::strong_count(&waker),
            1,
            "and the node freed with its waker"
        );
    }

    #[test]
    fn an_unhandled_message_is_dropped_and_its_asker_told() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (node, mut reply) = ask(Tracked(Arc::clone(&drops)));
        // SAFETY: the node owns its payload; nothing took it.
        unsafe { AskNode::<Tracked, Tracked>::drop_unhandled(node) };
        assert_eq!(drops.load(Ordering::SeqCst), 1, "the message was dropped");
        let waker = Arc::new(Counting::default());
        assert!(matches!(
            poll(&mut reply, &waker),
            Poll::Ready(Err(NoReply::Dropped))
        ));
    }

    #[test]
    fn an_asker_gone_before_the_message_is_handled_leaves_nothing_behind() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (node, reply) = ask(Tracked(Arc::clone(&drops)));
        drop(reply);
        // SAFETY: the node owns its payload; nothing took it.
        unsafe { AskNode::<Tracked, Tracked>::drop_unhandled(node) };
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_deadline_fired_first_wakes_the_asker_and_the_late_reply_is_dropped() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (node, mut reply) = ask(());
        let waker = Arc::new(Counting::default());
        assert!(poll(&mut reply, &waker).is_pending());
        // SAFETY: the node lives (both halves hold it).
        let woken = unsafe { fire::<Tracked>(node.cast()) };
        woken.expect("the waiting asker's waker").wake();
        assert_eq!(waker.wakes(), 1);
        assert!(matches!(
            poll(&mut reply, &waker),
            Poll::Ready(Err(NoReply::TimedOut))
        ));
        drop(reply);
        // SAFETY: the node was made with a `()` payload.
        let ((), replier) = unsafe { AskNode::<Tracked, ()>::take(node) };
        replier.send(Ok(Tracked(Arc::clone(&drops))));
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "the late reply was dropped"
        );
        assert_eq!(waker.wakes(), 1, "and woke nobody: the asker had left");
        assert_eq!(Arc::strong_count(&waker), 1, "every waker let go");
    }

    #[test]
    fn a_reply_that_came_before_the_deadline_wins() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (node, mut reply) = ask(());
        let waker = Arc::new(Counting::default());
        assert!(poll(&mut reply, &waker).is_pending());
        // SAFETY: the node was made with a `()` payload.
        let ((), replier) = unsafe { AskNode::<Tracked, ()>::take(node) };
        replier.send(Ok(Tracked(Arc::clone(&drops))));
        // SAFETY: the asker still holds the node.
        let woken = unsafe { fire::<Tracked>(node.cast()) };
        assert!(woken.is_none(), "the replier already woke the asker");
        assert!(matches!(poll(&mut reply, &waker), Poll::Ready(Ok(_))));
        drop(reply);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(Arc::strong_count(&waker), 1);
    }

    #[test]
    fn an_asker_replacing_its_waker_as_the_deadline_fires_sees_the_timeout() {
        let (node, mut reply) = ask(());
        let first = Arc::new(Counting::default());
        assert!(poll(&mut reply, &first).is_pending());
        // SAFETY: the node lives.
        let woken = unsafe { fire::<Tracked>(node.cast()) };
        assert!(woken.is_some());
        // A poll with another waker now must not replace the waker the watcher read.
        let second = Arc::new(Counting::default());
        assert!(matches!(
            poll(&mut reply, &second),
            Poll::Ready(Err(NoReply::TimedOut))
        ));
        assert_eq!(Arc::strong_count(&second), 1, "the new waker was not kept");
        drop(woken);
        drop(reply);
        // SAFETY: the node was made with a `()` payload.
        let ((), replier) = unsafe { AskNode::<Tracked, ()>::take(node) };
        drop(replier);
        assert_eq!(Arc::strong_count(&first), 1, "the node let its waker go");
    }

    #[test]
    fn a_thread_keeps_the_memory_of_the_last_ask_node_it_freed() {
        fn spare() -> Option<(NonNull<u8>, Layout)> {
            SPARE.with(|spare| spare.0.get())
        }
        let small = AskNode::<Tracked, ()>::LAYOUT;
        let large = AskNode::<Tracked, [u64; 8]>::LAYOUT;
        // A finished round trip leaves its node's memory as the thread's spare.
        let (first, reply) = ask(());
        drop(reply);
        // SAFETY: the node owns its payload; nothing took it.
        unsafe { AskNode::<Tracked, ()>::drop_unhandled(first) };
        assert_eq!(spare(), Some((first.cast(), small)));
        // The next ask of that layout takes it.
        let (second, reply) = ask(());
        assert_eq!(second, first);
        assert_eq!(spare(), None);
        drop(reply);
        // SAFETY: as above.
        unsafe { AskNode::<Tracked, ()>::drop_unhandled(second) };
        // An ask of another layout leaves it, and its own node then replaces it.
        let (other, reply) = ask([0_u64; 8]);
        assert_ne!(other.cast::<u8>(), first.cast::<u8>());
        assert_eq!(spare(), Some((first.cast(), small)));
        drop(reply);
        // SAFETY: as above.
        unsafe { AskNode::<Tracked, [u64; 8]>::drop_unhandled(other) };
        assert_eq!(spare(), Some((other.cast(), large)));
    }

    /// Replier, asker and deadline watcher on three threads, the asker polling with a
    /// different waker each time and sometimes giving up: every reply is either taken or
    /// dropped, exactly once, and every waker let go.
    #[test]
    fn asker_replier_and_watcher_on_three_threads_agree_on_who_frees() {
        const ROUNDS: usize = 20_000;
        let drops = Arc::new(AtomicUsize::new(0));
        let (nodes, to_replier) = mpsc::channel::<SendNode>();
        let replier_drops = Arc::clone(&drops);
        let replier = std::thread::spawn(move || {
            for SendNode(node) in to_replier {
                // SAFETY: each node is made with a `()` payload and sent here once.
                let ((), replier) = unsafe { AskNode::<Tracked, ()>::take(node) };
                replier.send(Ok(Tracked(Arc::clone(&replier_drops))));
            }
        });
        // The watcher fires a node's deadline, then says so: like a `WatchedReply`, the
        // asker keeps its half until then.
        let (deadlines, to_watcher) = mpsc::channel::<SendNode>();
        let (fired, from_watcher) = mpsc::channel::<()>();
        let watcher = std::thread::spawn(move || {
            for SendNode(node) in to_watcher {
                // SAFETY: the asker holds the node until it hears back.
                if let Some(waker) = unsafe { fire::<Tracked>(node.cast()) } {
                    waker.wake();
                }
                fired.send(()).unwrap();
            }
        });
        let wakers = [Arc::new(Counting::default()), Arc::new(Counting::default())];
        let (mut taken, mut timed_out, mut polls) = (0, 0, 0_usize);
        for round in 0..ROUNDS {
            let (node, mut reply) = ask(());
            nodes.send(SendNode(node)).unwrap();
            let watched = round % 4 == 3;
            if watched {
                deadlines.send(SendNode(node)).unwrap();
            }
            // Some askers give up at once, some after a poll, the rest wait for the reply
            // (or the deadline), polling with the other waker each time.
            match round % 4 {
                0 => drop(reply),
                1 => {
                    let _ = poll(&mut reply, &wakers[0]);
                    drop(reply);
                }
                _ => {
                    loop {
                        polls += 1;
                        match poll(&mut reply, &wakers[polls % 2]) {
                            Poll::Ready(Ok(_)) => taken += 1,
                            Poll::Ready(Err(NoReply::TimedOut)) if watched => timed_out += 1,
                            Poll::Ready(Err(other)) => panic!("unexpected {other:?}"),
                            Poll::Pending => {
                                std::hint::spin_loop();
                                continue;
                            }
                        }
                        break;
                    }
                    if watched {
                        from_watcher.recv().unwrap();
                    }
                    drop(reply);
                }
            }
        }
        drop((nodes, deadlines));
        replier.join().unwrap();
        watcher.join().unwrap();
        assert_eq!(taken + timed_out, ROUNDS / 2);
        assert!(taken >= ROUNDS / 4, "unwatched asks always get their reply");
        assert_eq!(
            drops.load(Ordering::SeqCst),
            ROUNDS,
            "each reply dropped once"
        );
        for waker in &wakers {
            assert_eq!(Arc::strong_count(waker), 1, "every kept waker let go");
        }
    }

    struct SendNode(NonNull<Header>);
    // SAFETY: test nodes carry `()` payloads and `Tracked` replies, both `Send`.
    unsafe impl Send for SendNode {}
}
