//! Bounded and unbounded mailboxes.
//!
//! A mailbox lives inside the actor's cell: an intrusive lock-free queue of envelopes
//! (`queue.rs`) plus two counters, messages reserved by senders and messages taken by the
//! actor. Their difference is the length; a bounded mailbox refuses a reservation that
//! would pass its capacity. Senders never wait for a lock (one that reuses the memory of a
//! handled message tries a lock, and allocates if it is held), a waiting actor's mailbox
//! keeps at most a few nodes of such memory (`spares.rs`), and the actor is woken only
//! when it sleeps. Control signals do not travel here:
//! they use the actor's control lane (see `cell.rs`), so a full mailbox never delays a stop
//! or a kill.

mod queue;
mod room;
mod spares;

pub(crate) use queue::{ErasedVTable, Header};

use std::alloc::Layout;
use std::marker::PhantomData;
use std::pin::pin;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::actor::Actor;
use crate::cell::{ActorCell, CellLinks, CellSettled};
use crate::envelope::{Dispatch, Envelope};
use queue::{Pop, Queue};
use room::Room;
use spares::Spares;

/// The capacity of a mailbox unless the actor or its spawner chooses another.
///
/// With a bounded mailbox, [`tell`](crate::ActorRef::tell) waits for room once this many
/// messages are queued, and [`try_tell`](crate::ActorRef::try_tell) hands the message back.
/// Implementation detail: a mailbox reserves no slots; each message travels in its own node.
pub const DEFAULT_MAILBOX_CAPACITY: usize = 256;

/// The largest capacity of a bounded mailbox.
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

/// The most places that must be free before a sender waiting for room is woken, while the
/// actor keeps taking messages (see `MailboxCore::made_room`): a sender waits at most this
/// many handled messages for a place that is already free, plus one per sender ahead of
/// it. The default capacity's half: with four senders, runs of 128 beat runs of 64 by
/// 5-10%.
const WAKE_RUN: usize = 128;

thread_local! {
    /// Set when an actor's take of a message on this thread woke a sender waiting for room
    /// (see `MailboxCore::made_room`), until the actor's loop looks.
    static WOKE_SENDER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether an actor's take of a message on this thread woke a sender waiting for room
/// since the last call. The actor's loop asks after each message and, if so, ends its
/// turn; it forgets the flag when a handler waits (the actor then releases its senders
/// anyway). A flag left over (by an actor's last drain as it ends, say) ends another
/// actor's turn one message early, and nothing else.
pub(crate) fn woke_sender() -> bool {
    // Written only when set: the common answer costs a load.
    WOKE_SENDER.get() && WOKE_SENDER.replace(false)
}

/// Set in `reserved` once the mailbox refuses new messages.
const CLOSED: usize = 1 << (usize::BITS - 1);

/// The mailbox state kept in an actor's cell: the queue and its counters, and between the
/// queue's two ends the cell's other fields.
///
/// `repr(C)`, in three groups of fields that a steady stream of messages touches, kept
/// apart so that no two of them ever share a 64-byte cache line:
///
/// - **the actor's**, written for every message it takes: `taken` and the queue's head;
/// - **the shared**, read for every message by both ends and written only at events:
///   the cell's signals (is the actor stopping?), `parked`, the count of senders waiting
///   for room and the capacity;
/// - **the senders'**, written for every message sent: the queue's tail, `reserved`,
///   and the spare nodes.
///
/// Fields nobody writes while messages flow fill the space between the groups (see
/// [`Settled`]). "While messages flow" means while the queue stays non-empty: a message
/// into an empty queue goes through the queue's stub node, beside the actor's group, and
/// the actor taking the last one puts the stub back at the tail, so an actor that
/// handles one message at a time (ping-pong) shares those lines with its senders
/// anyway. The actor of a bounded mailbox also hands each node back onto the spares,
/// in the senders' group (see `spares`). An actor's cell is allocated on a 16-byte boundary, not a 64-byte
/// one: so each group starts and ends on a 16-byte boundary, and the fields between two
/// groups take at least 48 bytes, which keeps the groups off each other's lines wherever
/// the cell starts. That costs no memory (the cell's other fields fill the space), and
/// on two cores each end stops losing the line it reads to the other's writes: counting
/// into an unbounded mailbox from one sender went from 5.6 M to 7.7 M messages a second
/// when the signals moved off the line of the queue's tail (medians of 7, interleaved).
#[repr(C)]
pub(crate) struct MailboxCore {
    /// Messages the actor has taken out (a wrapping count, written by the actor only).
    taken: AtomicUsize,
    queue: Queue<Settled>,
    /// Reservations ever made (a wrapping count), plus [`CLOSED`]. A reservation is either
    /// a message in the queue or one a sender is about to push.
    reserved: AtomicUsize,
    /// The memory of handled messages, headers intact and payloads moved out, on its way
    /// back to the senders (see `spares.rs`): a steady stream of messages then cycles
    /// between senders and actor mostly without the allocator (0.03 allocations per
    /// `tell`, where each one cost a `malloc` and a `free` on another thread). With the
    /// senders, though the actor pushes onto its returned stack for every message of a
    /// bounded mailbox (once per run of an unbounded one): every send reads it, and one
    /// that finds it empty looks at the returned stack, so on the actor's lines a sender
    /// running ahead of its actor would read the line that actor writes for every message.
    spares: Spares,
}

/// What lies between the actor's end of the queue and its senders' (see
/// [`Queue::gap`](queue::Queue)): the fields both ends read for every message, with the
/// fields of the mailbox and the cell that are written rarely, if ever, while messages
/// flow on either side of them.
#[repr(C)]
pub(crate) struct Settled {
    /// The cell's parent, relations and place among its siblings.
    pub(crate) links: CellLinks,
    /// The cell's control signals and state bits (see `cell.rs`): every send reads them
    /// (is the actor refusing messages?), and so does the actor before each message.
    pub(crate) signals: AtomicU16,
    /// Set by the actor just before it sleeps on an empty mailbox; a sender that finds it
    /// set clears it and wakes the actor. A busy actor costs its senders no wake-up.
    parked: AtomicBool,
    /// Senders of a bounded mailbox waiting for room right now.
    room_waiters: AtomicU32,
    /// The capacity, or `usize::MAX` for an unbounded mailbox.
    capacity: usize,
    /// The cell's settled fields.
    pub(crate) cell: CellSettled,
    /// Senders of a bounded mailbox that wait for room (made by the first to wait).
    room: Room,
}

/// `offset` rounded up to a 16-byte boundary.
const fn granule_end(offset: usize) -> usize {
    offset.next_multiple_of(16)
}

// Checked as the crate builds, on 64-bit Linux (where the benchmarks run; elsewhere the
// fields' sizes differ, std's `Mutex` for one, and the groups keep their order but may
// share lines): the three groups of fields (see `MailboxCore`) are at least 48 bytes
// apart and on 16-byte boundaries, so they never share a cache line in a cell that
// starts on a 16-byte boundary. The cell itself only asks for 8; the 16 is `malloc`'s,
// which puts the cell 16 bytes into its block, after the `Arc`'s counts (a global
// allocator that aligns less loses the guarantee, not correctness).
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
const _: () = {
    use std::mem::{offset_of, size_of};
    let queue = offset_of!(MailboxCore, queue);
    let gap = queue + Queue::<Settled>::GAP;
    // The actor's group: `taken` and the queue's head.
    assert!(offset_of!(MailboxCore, taken) == 0);
    let actor_end = granule_end(queue + Queue::<Settled>::HEAD_END);
    // The shared group: the signals up to the capacity.
    let shared_start = gap + offset_of!(Settled, signals);
    let shared_end = gap + offset_of!(Settled, capacity) + size_of::<usize>();
    assert!(shared_start % 16 == 0 && shared_end % 16 == 0);
    assert!(shared_start >= actor_end + 48);
    // The senders' group: the queue's tail, the reservations and the spares.
    let senders_start = queue + Queue::<Settled>::TAIL;
    assert!(senders_start % 16 == 0);
    assert!(senders_start >= shared_end + 48);
    assert!(offset_of!(MailboxCore, reserved) > senders_start);
    assert!(offset_of!(MailboxCore, spares) > senders_start);
};

/// Why a place could not be reserved right away.
pub(crate) enum TryReserveError {
    Full,
    Closed,
}

impl MailboxCore {
    /// The fields between the queue's ends: the cell's, and the mailbox's settled ones.
    pub(crate) fn settled(&self) -> &Settled {
        &self.queue.gap
    }

    pub(crate) fn new(mailbox: Mailbox, links: CellLinks, cell: CellSettled) -> Self {
        Self {
            taken: AtomicUsize::new(0),
            queue: Queue::with_gap(Settled {
                links,
                signals: AtomicU16::new(0),
                parked: AtomicBool::new(false),
                room_waiters: AtomicU32::new(0),
                capacity: mailbox.capacity.unwrap_or(usize::MAX),
                cell,
                room: Room::new(),
            }),
            reserved: AtomicUsize::new(0),
            spares: Spares::new(),
        }
    }

    /// Memory of exactly `layout` for a new message, if a handled message left some (see
    /// `spares.rs`).
    pub(crate) fn reuse(&self, layout: Layout) -> Option<NonNull<Header>> {
        self.spares.take(layout)
    }

    fn bounded(&self) -> bool {
        self.queue.gap.capacity != usize::MAX
    }

    /// How many messages are queued (or being pushed).
    pub(crate) fn len(&self) -> usize {
        let reserved = self.reserved.load(Ordering::Acquire) & !CLOSED;
        reserved.wrapping_sub(self.taken.load(Ordering::Acquire)) & !CLOSED
    }

    /// Returns `true` once the mailbox refuses new messages.
    pub(crate) fn is_closed(&self) -> bool {
        self.reserved.load(Ordering::Acquire) & CLOSED != 0
    }

    fn try_reserve_place(&self) -> Result<(), TryReserveError> {
        if !self.bounded() {
            let before = self.reserved.fetch_add(1, Ordering::AcqRel);
            if before & CLOSED != 0 {
                self.reserved.fetch_sub(1, Ordering::AcqRel);
                return Err(TryReserveError::Closed);
            }
            return Ok(());
        }
        let mut current = self.reserved.load(Ordering::SeqCst);
        loop {
            if current & CLOSED != 0 {
                return Err(TryReserveError::Closed);
            }
            let queued = current.wrapping_sub(self.taken.load(Ordering::SeqCst)) & !CLOSED;
            if queued >= self.queue.gap.capacity {
                return Err(TryReserveError::Full);
            }
            match self.reserved.compare_exchange_weak(
                current,
                current.wrapping_add(1) & !CLOSED,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => current = actual,
            }
        }
    }

    /// Waits for room in a bounded mailbox. `Err` means the mailbox is closed.
    ///
    /// Cancel safety: dropping the future gives up the place in line and nothing else.
    async fn reserve_place(&self) -> Result<(), ()> {
        loop {
            match self.try_reserve_place() {
                Ok(()) => return Ok(()),
                Err(TryReserveError::Closed) => return Err(()),
                Err(TryReserveError::Full) => {}
            }
            let mut notified = pin!(self.queue.gap.room.get_or_make().notified());
            notified.as_mut().enable();
            let _waiting = RoomWaiter::new(&self.queue.gap.room_waiters);
            // Look again now that a taker will see this waiter (or has already made room).
            match self.try_reserve_place() {
                Ok(()) => return Ok(()),
                Err(TryReserveError::Closed) => return Err(()),
                Err(TryReserveError::Full) => notified.await,
            }
        }
    }

    /// Gives back a place that was reserved but not used (rare: a send given up midway).
    fn unreserve(&self) {
        self.reserved.fetch_sub(1, Ordering::SeqCst);
        self.release_waiters();
    }

    /// Wakes a sender waiting for room once a run of places is free: half the capacity
    /// (rounded up), at most [`WAKE_RUN`]. One sender, the longest waiting: each take that
    /// finds the free room still at the mark and senders still waiting wakes the next.
    /// Having woken one, it tells the actor's loop, on this thread, to end its turn after
    /// the message (see [`woke_sender`]): the woken sender, queued on this worker, then
    /// fills the room right away instead of waiting for the actor's budget to run out (on
    /// a strand, once the strand's other members have had their turn).
    ///
    /// Called each time the actor takes a message, so the pop that brings the free room to
    /// the mark always sees a waiter that counted itself before its last look (both sides
    /// are sequentially consistent). Waking senders only at the mark spares the actor a
    /// wake-up per message when its senders outpace it: a woken sender finds room for a
    /// run of messages. Waking one at a time lets that sender fill the run on its own
    /// instead of all of them waking to contend for it, most to find it gone and wait
    /// again. Senders that do not use the room cost nothing but the next take's wake-up.
    /// An actor that stops taking messages before the mark releases them all itself (see
    /// [`release_waiters`](Self::release_waiters)).
    ///
    /// With four senders on two workers: 2.9 M messages/s when all woke together; 5.5 M
    /// one at a time, but only while the message budget was a multiple of the run (with a
    /// budget of 100, 1.9 M: the woken sender waited for the budget's end); 5.0-6.6 M
    /// whatever the budget once the actor also ends its turn (medians of 5-7,
    /// interleaved).
    fn made_room(&self) {
        if self.bounded()
            && self.queue.gap.room_waiters.load(Ordering::SeqCst) > 0
            && self.free_room()
                >= (self.queue.gap.capacity - self.queue.gap.capacity / 2).min(WAKE_RUN)
        {
            self.queue.gap.room.notify_one();
            WOKE_SENDER.set(true);
        }
    }

    /// Wakes the senders waiting for room if any place is free. The actor calls it each
    /// time it is about to wait (in a handler, in a step such as `on_stop` or a restart's
    /// backoff, or for mail): it takes no message meanwhile, so the free room would not
    /// reach the mark of [`made_room`](Self::made_room) and the room it has would go
    /// unused. One sequentially consistent load when nobody waits.
    pub(crate) fn release_waiters(&self) {
        if self.bounded()
            && self.queue.gap.room_waiters.load(Ordering::SeqCst) > 0
            && self.free_room() > 0
        {
            self.queue.gap.room.notify_waiters();
        }
    }

    /// The places nobody has reserved (bounded mailboxes).
    fn free_room(&self) -> usize {
        let reserved = self.reserved.load(Ordering::SeqCst) & !CLOSED;
        let queued = reserved.wrapping_sub(self.taken.load(Ordering::SeqCst)) & !CLOSED;
        self.queue.gap.capacity.saturating_sub(queued)
    }

    /// Pushes an envelope into a reserved place and wakes the actor if it sleeps.
    fn push<A: Actor>(&self, cell: &ActorCell, envelope: Envelope<A>) {
        // SAFETY: the envelope's node is ours to hand over, and the queue lives in the cell,
        // which the sender's reference keeps alive and in place.
        unsafe { self.queue.push(envelope.into_raw()) };
        // The push's swap is sequentially consistent, as is the actor's `parked` store
        // before its last look at the queue: one of the two sees the other.
        if self.queue.gap.parked.load(Ordering::SeqCst)
            && self.queue.gap.parked.swap(false, Ordering::SeqCst)
        {
            // Noted first: waking a strand's member counts again, as a send to its runner
            // when the runner is awake already.
            crate::kick::woke();
            cell.wake_idle();
        } else {
            crate::kick::sent();
        }
    }

    /// Refuses new messages from now on, and releases senders waiting for room.
    pub(crate) fn close(&self) {
        self.reserved.fetch_or(CLOSED, Ordering::SeqCst);
        // A sender counts itself among the waiters before its last look at the mailbox
        // (all sequentially consistent): if none is counted now, any later one sees the
        // close on that look. Most mailboxes close with nobody waiting, and skip the lock.
        if self.queue.gap.room_waiters.load(Ordering::SeqCst) > 0 {
            self.queue.gap.room.notify_waiters();
        }
    }

    /// Takes the next message if one is ready.
    ///
    /// # Safety
    ///
    /// Only the mailbox's one receiver may call it.
    unsafe fn pop(&self) -> Pop {
        // SAFETY: forwarded to the caller.
        let popped = unsafe { self.queue.pop() };
        if let Pop::Node(_) = popped {
            let taken = self.taken.load(Ordering::Relaxed).wrapping_add(1);
            if self.bounded() {
                // Sequentially consistent, as is a waiting sender's count of itself before
                // its last look at the room: one of the two sees the other.
                self.taken.store(taken, Ordering::SeqCst);
                self.made_room();
            } else {
                // No sender ever waits for room in an unbounded mailbox: only the length
                // reads the count.
                self.taken.store(taken, Ordering::Release);
            }
        }
        popped
    }
}

/// Counts a sender among those waiting for room while it lives.
struct RoomWaiter<'a>(&'a AtomicU32);

impl<'a> RoomWaiter<'a> {
    fn new(waiters: &'a AtomicU32) -> Self {
        waiters.fetch_add(1, Ordering::SeqCst);
        Self(waiters)
    }
}

impl Drop for RoomWaiter<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Reserves a place in the mailbox of `cell` (an actor of type `A`), or says why not,
/// without waiting.
pub(crate) fn try_reserve<A: Actor>(cell: &ActorCell) -> Result<Permit<'_, A>, TryReserveError> {
    cell.mailbox()
        .try_reserve_place()
        .map(|()| Permit::new(cell))
}

/// Waits for room in the mailbox of `cell` (an actor of type `A`). `Err` means the mailbox
/// is closed.
///
/// Cancel safety: dropping the future gives up the place in line and nothing else.
pub(crate) async fn reserve<A: Actor>(cell: &ActorCell) -> Result<Permit<'_, A>, ()> {
    cell.mailbox().reserve_place().await?;
    Ok(Permit::new(cell))
}

/// A reserved place in a mailbox: sending into it cannot fail. Dropped unused, it gives
/// the place back.
pub(crate) struct Permit<'a, A: Actor> {
    cell: &'a ActorCell,
    _actor: PhantomData<fn(A)>,
}

impl<'a, A: Actor> Permit<'a, A> {
    fn new(cell: &'a ActorCell) -> Self {
        Self {
            cell,
            _actor: PhantomData,
        }
    }

    /// Puts the message in the mailbox.
    pub(crate) fn send<P: Dispatch<A>>(self, payload: P) {
        let envelope = Envelope::new(self.cell.mailbox(), payload);
        self.send_envelope(envelope);
    }

    /// Puts a message already in its node in the mailbox.
    pub(crate) fn send_envelope(self, envelope: Envelope<A>) {
        let cell = self.cell;
        std::mem::forget(self);
        cell.mailbox().push(cell, envelope);
    }
}

impl<A: Actor> Drop for Permit<'_, A> {
    fn drop(&mut self) {
        self.cell.mailbox().unreserve();
    }
}

/// What a non-waiting receive found.
pub(crate) enum TryRecv<A: Actor> {
    Message(Envelope<A>),
    Empty,
    /// Closed and drained: nothing will ever arrive again.
    Closed,
}

/// The actor's end of its mailbox. Exactly one exists per actor (made by [`receiver`]),
/// which is what lets it take messages out of the lock-free queue.
pub(crate) struct MailboxReceiver<A: Actor> {
    cell: Arc<ActorCell>,
    /// Nodes of handled messages not handed back to the senders yet, linked through their
    /// headers (see [`recycle`](Self::recycle)).
    gathered: Gathered,
    _actor: PhantomData<fn() -> A>,
}

/// A chain of nodes whose payloads are gone: memory only.
struct Gathered(Option<NonNull<Header>>);

// SAFETY: the chain holds no payloads, only memory, which any thread may reuse or free.
unsafe impl Send for Gathered {}

/// An actor working through queued messages hands the nodes of handled ones back to the
/// senders in runs of this many (see [`MailboxReceiver::recycle`]).
const RUN: usize = 64;

/// The receiving end of the mailbox in `cell`.
///
/// # Safety
///
/// Call it once per cell: two receivers would pop the same queue concurrently.
pub(crate) unsafe fn receiver<A: Actor>(cell: &Arc<ActorCell>) -> MailboxReceiver<A> {
    MailboxReceiver {
        cell: Arc::clone(cell),
        gathered: Gathered(None),
        _actor: PhantomData,
    }
}

/// How many times a receive tries again, spinning, when a sender is midway through a push.
const SPINS: u32 = 64;

impl<A: Actor> MailboxReceiver<A> {
    /// The cell whose mailbox this is.
    pub(crate) fn cell(&self) -> &Arc<ActorCell> {
        &self.cell
    }

    fn core(&self) -> &MailboxCore {
        self.cell.mailbox()
    }

    /// Keeps the memory of a handled message's node for later messages, or frees it.
    ///
    /// While more messages are queued behind it in an unbounded mailbox, the node is
    /// gathered with others and handed back in a run of [`RUN`]: a sender far ahead of
    /// the actor then finds the senders' stack changed once per run instead of once per
    /// message, and the actor keeps the run in memory of its own meanwhile. The last queued message's node goes
    /// back at once, so that an ask's or a ping-pong's next message finds it, and a run
    /// goes back whole as the actor starts waiting.
    ///
    /// # Safety
    ///
    /// `node` must be an owned node of this mailbox, allocated with its header's layout,
    /// payload already moved out.
    pub(crate) unsafe fn recycle(&mut self, node: NonNull<Header>) {
        let core = self.cell.mailbox();
        // A bounded mailbox's senders cannot run far ahead: they wait for room, and its
        // nodes go straight back.
        // SAFETY: this is the mailbox's only receiver.
        let last = || !unsafe { core.queue.has_more() };
        if self.gathered.0.is_none() && (core.bounded() || last()) {
            // SAFETY: the node is ours (caller's contract); this is the receiver.
            unsafe { core.spares.give(node) };
        } else {
            // SAFETY: forwarded to the caller.
            unsafe { self.gather(node) };
        }
    }

    /// Adds a node to the gathered run, and hands the run back when the count of taken
    /// messages reaches a multiple of [`RUN`] (so a run is at most [`RUN`] nodes, and the
    /// first after an early hand-back is shorter) or no message is queued behind it.
    ///
    /// # Safety
    ///
    /// As for [`recycle`](Self::recycle).
    #[inline(never)]
    unsafe fn gather(&mut self, node: NonNull<Header>) {
        let core = self.cell.mailbox();
        let gathered = self.gathered.0.take();
        // SAFETY: the node is ours (caller's contract).
        unsafe { node.as_ref() }.link_free(gathered.map_or(std::ptr::null_mut(), NonNull::as_ptr));
        // SAFETY: this is the mailbox's only receiver.
        if unsafe { core.queue.has_more() } && core.taken.load(Ordering::Relaxed) % RUN != 0 {
            self.gathered.0 = Some(node);
        } else {
            // SAFETY: the chain is this receiver's, linked above, ending in null.
            unsafe { core.spares.hand_back(node) };
        }
    }

    /// Hands the gathered run back to the senders.
    fn hand_back_gathered(&mut self) {
        if let Some(chain) = self.gathered.0.take() {
            // SAFETY: the chain is this receiver's, and ends in null.
            unsafe { self.core().spares.hand_back(chain) };
        }
    }

    /// Pops, spinning briefly over a sender that is midway through its push. `None`: a
    /// push is still midway after the spins (its sender was likely preempted).
    fn pop_settled(&self) -> Option<Pop> {
        for _ in 0..SPINS {
            // SAFETY: this is the mailbox's only receiver, and `&mut self` in every caller
            // keeps its pops one at a time.
            match unsafe { self.core().pop() } {
                Pop::Inconsistent => std::hint::spin_loop(),
                settled => return Some(settled),
            }
        }
        None
    }

    fn envelope(node: NonNull<Header>) -> Envelope<A> {
        // SAFETY: only envelopes for `A` are pushed into an `A`'s mailbox (permits are typed).
        unsafe { Envelope::from_raw(node) }
    }

    /// Whether the mailbox is closed with every reservation taken out.
    fn finished(&self) -> bool {
        let core = self.core();
        core.is_closed() && core.len() == 0
    }

    pub(crate) fn try_recv(&mut self) -> TryRecv<A> {
        match self.pop_settled() {
            Some(Pop::Node(node)) => TryRecv::Message(Self::envelope(node)),
            Some(Pop::Empty) if self.finished() => TryRecv::Closed,
            // A message that is midway counts as not there yet.
            Some(Pop::Empty | Pop::Inconsistent) | None => TryRecv::Empty,
        }
    }

    /// Polls for the next message; `Ready(None)` once the mailbox is closed and drained.
    ///
    /// The caller must have registered `cx`'s waker with the cell's idle waker first.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Envelope<A>>> {
        loop {
            match self.pop_settled() {
                Some(Pop::Node(node)) => return Poll::Ready(Some(Self::envelope(node))),
                Some(Pop::Empty) if self.finished() => return Poll::Ready(None),
                Some(Pop::Empty | Pop::Inconsistent) => {}
                None => {
                    // A preempted sender: come back after others had their turn.
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
            }
            // Going idle: a waiting actor keeps few spare nodes, and releases every sender
            // waiting for room (one woken at the mark may never come to take it).
            self.hand_back_gathered();
            let core = self.core();
            core.release_waiters();
            // SAFETY: this is the mailbox's only receiver.
            unsafe { core.spares.settle() };
            core.queue.gap.parked.store(true, Ordering::SeqCst);
            // A message pushed before the store above is seen now; one pushed after it
            // finds `parked` set and wakes this task.
            match self.pop_settled() {
                Some(Pop::Empty) if !self.finished() => return Poll::Pending,
                Some(Pop::Node(node)) => {
                    core.queue.gap.parked.store(false, Ordering::Relaxed);
                    return Poll::Ready(Some(Self::envelope(node)));
                }
                // Finished, or a sender is midway: the next turn of the loop sorts it out.
                _ => core.queue.gap.parked.store(false, Ordering::Relaxed),
            }
        }
    }

    /// Waits for the next message; `None` once the mailbox is closed and drained (it waits
    /// for senders that reserved a place before the close and are putting their message in).
    pub(crate) async fn recv(&mut self) -> Option<Envelope<A>> {
        loop {
            match self.pop_settled() {
                Some(Pop::Node(node)) => return Some(Self::envelope(node)),
                Some(Pop::Empty) if self.finished() => return None,
                _ if self.core().is_closed() => tokio::task::yield_now().await,
                _ => {
                    let cell = Arc::clone(&self.cell);
                    return std::future::poll_fn(|cx| {
                        cell.register_idle(cx.waker());
                        self.poll_recv(cx)
                    })
                    .await;
                }
            }
        }
    }

    /// Refuses new messages; those already queued can still be received.
    pub(crate) fn close(&mut self) {
        self.core().close();
    }

    /// Called as the actor starts waiting without taking messages (in a handler, or in a
    /// lifecycle step): senders waiting for room get whatever there is (they may be what
    /// it waits for), and the actor keeps few spare nodes meanwhile.
    pub(crate) fn waiting(&mut self) {
        self.hand_back_gathered();
        let core = self.core();
        core.release_waiters();
        // SAFETY: `&mut self`: this is the mailbox's only receiver.
        unsafe { core.spares.settle() };
    }
}

impl<A: Actor> Drop for MailboxReceiver<A> {
    fn drop(&mut self) {
        // An actor that finished has handed its run back already (`finish` waits); a task
        // dropped midway (its runtime went away) leaves as few nodes as a waiting actor.
        if self.gathered.0.is_some() {
            self.hand_back_gathered();
            // SAFETY: this is the mailbox's only receiver.
            unsafe { self.core().spares.settle() };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    /// Counts its wake-ups.
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn fill(core: &MailboxCore, places: usize) {
        for _ in 0..places {
            assert!(core.try_reserve_place().is_ok());
        }
    }

    /// A sender waiting for room in `core` (already full), with its count of wake-ups.
    struct Waiter<F> {
        future: Pin<Box<F>>,
        wakes: Arc<Count>,
    }

    impl<F: Future<Output = Result<(), ()>>> Waiter<F> {
        fn poll(&mut self) -> Poll<Result<(), ()>> {
            let waker = Arc::clone(&self.wakes).into();
            self.future.as_mut().poll(&mut Context::from_waker(&waker))
        }

        fn wakes(&self) -> usize {
            self.wakes.0.load(Ordering::SeqCst)
        }
    }

    fn waiter(core: &MailboxCore) -> Waiter<impl Future<Output = Result<(), ()>> + '_> {
        let mut waiter = Waiter {
            future: Box::pin(core.reserve_place()),
            wakes: Arc::new(Count(AtomicUsize::new(0))),
        };
        assert!(waiter.poll().is_pending(), "the mailbox has room");
        waiter
    }

    /// A mailbox on its own, outside any cell.
    fn core_of(mailbox: Mailbox) -> MailboxCore {
        let runtime = playhouse_runtime::Builder::new_current_thread()
            .build()
            .expect("runtime builds");
        let clock = runtime.handle().coarse_clock().clone();
        MailboxCore::new(
            mailbox,
            CellLinks::for_tests(),
            CellSettled::for_tests(clock),
        )
    }

    /// The actor takes one message out.
    fn take_one(core: &MailboxCore) {
        core.taken.fetch_add(1, Ordering::SeqCst);
        core.made_room();
    }

    #[test]
    fn waiting_senders_wake_one_at_a_time_once_half_the_room_is_free() {
        let core = core_of(Mailbox::bounded(4));
        fill(&core, 4);
        assert!(matches!(
            core.try_reserve_place(),
            Err(TryReserveError::Full)
        ));
        let (mut first, mut second) = (waiter(&core), waiter(&core));
        // The actor takes one message: one free place out of four, not yet.
        take_one(&core);
        assert_eq!((first.wakes(), second.wakes()), (0, 0));
        // Two free: the sender that waited longest wakes, and finds a place.
        take_one(&core);
        assert_eq!((first.wakes(), second.wakes()), (1, 0));
        assert_eq!(first.poll(), Poll::Ready(Ok(())));
        // One free place left: the other sender waits for the next take.
        assert!(second.poll().is_pending());
        take_one(&core);
        assert_eq!(second.wakes(), 1);
        assert_eq!(second.poll(), Poll::Ready(Ok(())));
        assert_eq!(core.len(), 3);
    }

    /// Two senders waiting on a full mailbox of 4, after the take that woke the first.
    fn first_of_two_woken(
        core: &MailboxCore,
    ) -> [Waiter<impl Future<Output = Result<(), ()>> + '_>; 2] {
        fill(core, 4);
        let waiters = [waiter(core), waiter(core)];
        take_one(core);
        take_one(core);
        assert_eq!((waiters[0].wakes(), waiters[1].wakes()), (1, 0));
        waiters
    }

    #[test]
    fn room_a_woken_sender_leaves_unused_goes_to_the_next() {
        let core = core_of(Mailbox::bounded(4));
        let [first, mut second] = first_of_two_woken(&core);
        // The woken sender has not come for the room yet: the next take, with the room
        // still at the mark, wakes the other.
        take_one(&core);
        assert_eq!(second.wakes(), 1);
        assert_eq!(second.poll(), Poll::Ready(Ok(())));
        assert_eq!(core.len(), 2);
        drop(first);
    }

    #[test]
    fn a_woken_sender_that_gives_up_passes_its_wake_up_on() {
        let core = core_of(Mailbox::bounded(4));
        let [first, mut second] = first_of_two_woken(&core);
        // Dropped unused, the first sender's wake-up goes to the next at once.
        drop(first);
        assert_eq!(second.wakes(), 1);
        assert_eq!(second.poll(), Poll::Ready(Ok(())));
    }

    #[test]
    fn a_receiver_about_to_sleep_releases_every_waiting_sender() {
        let mut receiver = super::gathering_tests::receiver_with(Mailbox::bounded(4), 0);
        let core = Arc::clone(receiver.cell());
        let core = core.mailbox();
        // Four places taken, two of them by messages in the queue, two by senders yet to
        // push theirs.
        for queued in 0..4 {
            assert!(core.try_reserve_place().is_ok());
            if queued < 2 {
                // SAFETY: a fresh test node, handed to the queue, which lives in the cell.
                unsafe { core.queue.push(super::spares::tests::small()) };
            }
        }
        let (first, second) = (waiter(core), waiter(core));
        // The actor takes both; the second take wakes one sender, who never comes for it.
        for _ in 0..2 {
            super::gathering_tests::handle_one(&mut receiver);
        }
        assert_eq!((first.wakes(), second.wakes()), (1, 0));
        // Finding the mailbox empty, the actor releases the rest before it sleeps.
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(receiver.poll_recv(&mut cx).is_pending());
        assert_eq!(second.wakes(), 1);
    }

    #[test]
    fn a_large_mailbox_wakes_its_waiters_after_a_run_not_half_its_capacity() {
        // Half of 512 is past the run of 128.
        let core = core_of(Mailbox::bounded(512));
        fill(&core, 512);
        let waiter = waiter(&core);
        // Places freed by the actor taking messages: the waiter wakes at the run's end.
        for _ in 0..WAKE_RUN - 1 {
            take_one(&core);
        }
        assert_eq!(waiter.wakes(), 0);
        take_one(&core);
        assert_eq!(waiter.wakes(), 1);
    }

    #[test]
    fn an_actor_about_to_wait_releases_waiters_for_any_free_place() {
        let core = core_of(Mailbox::bounded(8));
        fill(&core, 8);
        let mut waiter = waiter(&core);
        // Full: nothing to release.
        core.release_waiters();
        assert_eq!(waiter.wakes(), 0);
        // One message taken, below the mark; the actor then waits in its handler.
        take_one(&core);
        assert_eq!(waiter.wakes(), 0);
        core.release_waiters();
        assert_eq!(waiter.wakes(), 1);
        assert_eq!(waiter.poll(), Poll::Ready(Ok(())));
    }

    #[test]
    fn a_mailbox_of_one_wakes_its_waiter_for_the_one_place() {
        let core = core_of(Mailbox::bounded(1));
        fill(&core, 1);
        let mut waiter = waiter(&core);
        core.unreserve();
        assert_eq!(waiter.wakes(), 1);
        assert_eq!(waiter.poll(), Poll::Ready(Ok(())));
    }

    #[test]
    fn a_place_given_back_unused_releases_waiters_at_once() {
        let core = core_of(Mailbox::bounded(4));
        fill(&core, 4);
        let waiter = waiter(&core);
        core.unreserve();
        assert_eq!(waiter.wakes(), 1);
    }

    #[test]
    fn closing_releases_waiters_with_an_error() {
        let core = core_of(Mailbox::bounded(2));
        fill(&core, 2);
        let mut waiter = waiter(&core);
        core.close();
        assert_eq!(waiter.wakes(), 1);
        assert_eq!(waiter.poll(), Poll::Ready(Err(())));
    }
}

#[cfg(test)]
#[allow(clippy::undocumented_unsafe_blocks)] // Test nodes: made, queued and freed right here.
mod gathering_tests {
    use std::time::Duration;

    use super::spares::tests::{free_all, small, take_all, SMALL_LAYOUT};
    use super::*;
    use crate::actor::Quiet;
    use crate::cell::KindOf;

    /// A receiver of a new cell with `mailbox`, and `queued` test nodes in its queue.
    pub(super) fn receiver_with(mailbox: Mailbox, queued: usize) -> MailboxReceiver<Quiet> {
        let runtime = playhouse_runtime::Builder::new_current_thread()
            .build()
            .expect("runtime builds");
        let cell = Arc::new(ActorCell::new(
            KindOf::<Quiet>::KIND,
            mailbox,
            Duration::from_secs(1),
            runtime.handle().coarse_clock().clone(),
            None,
        ));
        for _ in 0..queued {
            unsafe { cell.mailbox().queue.push(small()) };
        }
        unsafe { receiver(&cell) }
    }

    /// Takes the next queued node out, as the actor does, and hands its memory back.
    pub(super) fn handle_one(receiver: &mut MailboxReceiver<Quiet>) {
        let Some(Pop::Node(node)) = receiver.pop_settled() else {
            panic!("a node is queued");
        };
        unsafe { receiver.recycle(node) };
    }

    fn spare_count(receiver: &MailboxReceiver<Quiet>) -> usize {
        let taken = take_all(&receiver.core().spares, SMALL_LAYOUT);
        let count = taken.len();
        free_all(taken);
        count
    }

    #[test]
    fn an_unbounded_mailbox_hands_nodes_back_in_runs_while_messages_are_queued() {
        let mut receiver = receiver_with(Mailbox::unbounded(), 2 * RUN + 5);
        for _ in 0..RUN - 1 {
            handle_one(&mut receiver);
        }
        assert_eq!(spare_count(&receiver), 0, "gathered, not handed back yet");
        handle_one(&mut receiver);
        assert_eq!(spare_count(&receiver), RUN, "a full run at once");
        // A part of a run goes back as the actor starts waiting...
        for _ in 0..5 {
            handle_one(&mut receiver);
        }
        receiver.waiting();
        assert_eq!(spare_count(&receiver), 5);
        // ...runs count from the mailbox's start...
        for _ in 0..RUN - 6 {
            handle_one(&mut receiver);
        }
        assert_eq!(spare_count(&receiver), 0);
        handle_one(&mut receiver);
        assert_eq!(spare_count(&receiver), RUN - 5);
        // ...and the last queued message's node takes its run back with it.
        for _ in 0..4 {
            handle_one(&mut receiver);
        }
        assert_eq!(spare_count(&receiver), 0);
        handle_one(&mut receiver);
        assert_eq!(spare_count(&receiver), 5);
        assert!(matches!(receiver.pop_settled(), Some(Pop::Empty)));
    }

    #[test]
    fn a_bounded_mailbox_hands_each_node_back_at_once() {
        let mut receiver = receiver_with(Mailbox::bounded(64), 3);
        for _ in 0..3 {
            // Messages are queued behind every one but the last: no gathering all the same.
            handle_one(&mut receiver);
            assert_eq!(spare_count(&receiver), 1);
        }
    }

    #[test]
    fn a_receiver_about_to_sleep_hands_its_run_back() {
        // A run is left gathered when the message behind it never reaches `recycle`
        // (dropped unhandled, as a killed actor's are): going to sleep hands it back.
        let mut receiver = receiver_with(Mailbox::unbounded(), 2);
        handle_one(&mut receiver);
        let Some(Pop::Node(unhandled)) = receiver.pop_settled() else {
            panic!("a node is queued");
        };
        free_all(vec![unhandled]);
        assert_eq!(spare_count(&receiver), 0, "still gathered");
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(receiver.poll_recv(&mut cx).is_pending());
        assert_eq!(spare_count(&receiver), 1);
    }

    #[test]
    fn a_dropped_receiver_leaves_no_gathered_node_behind() {
        let mut receiver = receiver_with(Mailbox::unbounded(), 4);
        handle_one(&mut receiver);
        handle_one(&mut receiver);
        let cell = Arc::clone(receiver.cell());
        drop(receiver);
        let taken = take_all(&cell.mailbox().spares, SMALL_LAYOUT);
        assert_eq!(
            taken.len(),
            2,
            "the gathered nodes went back to the senders"
        );
        free_all(taken);
    }
}
