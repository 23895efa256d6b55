//! Strands: actors that take turns on one task, so that messages between them never cross
//! threads.
//!
//! Every actor is normally a tokio task of its own, and tokio's multi-thread scheduler may run
//! any two of them on different workers. For actors that mostly talk to each other (a
//! pipeline, a ring, a game and its players) each hand-off then risks waking another worker
//! and moving the work across threads. A [`Strand`] is one tokio task that runs a set of
//! actors in turns, like an actix arbiter or an Asio strand, but still on the shared
//! work-stealing workers: the strand as a whole can move between workers; its actors never
//! run at the same time.
//!
//! How it works: each member actor is a boxed future in the runner's slab, with a waker that
//! knows its slot. While the runner is polling on a thread, a waker called on that thread
//! (a member telling another member) pushes the slot onto the runner's local queue, which
//! lives in a thread-local for the length of the turn: no lock, no atomic read-modify-write
//! beyond the waker's "already queued" flag, no tokio wake-up. A waker called anywhere
//! else (another actor, a timer, a task) pushes the slot onto the strand's shared queue
//! under a mutex and wakes the runner's tokio task.

use std::cell::{RefCell, UnsafeCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use playhouse_runtime::Handle;

use crate::system::System;

/// How many member polls a strand makes in one turn, at most, before it lets the worker
/// run other tasks: the strand's counterpart of an actor's message budget. A yield often
/// ends with another worker stealing the strand (measured: one context switch per yield
/// on a ping-pong), so a turn is long, and bounded in time too.
const TURN_POLLS: u32 = 4096;

/// How long a turn lasts, about: the clock starts at the turn's first poll and is read
/// every [`TURN_CHECK_EVERY`] polls.
const TURN_TIME: Duration = Duration::from_millis(1);

/// How many polls pass, during a turn, between two looks at the clock, at tokio's
/// cooperative budget and at what other threads sent.
const TURN_CHECK_EVERY: u32 = 64;

/// The most newcomers' places a runner keeps between spawns (see [`Runner::take_remote`]).
const JOINING_KEEP: usize = 64;

/// A member on its way into the strand, not yet given a slot: dropped, it drops its
/// future.
struct NewMember(Member);

impl NewMember {
    fn new<F: Future<Output = ()> + Send + 'static>(shared: &Arc<Shared>, future: F) -> Self {
        let cell = Arc::new(MemberCell {
            wake: MemberWake {
                shared: Arc::clone(shared),
                entry: AtomicU64::new(0),
                queued: AtomicBool::new(true),
            },
            future: UnsafeCell::new(ManuallyDrop::new(future)),
        });
        let waker = Waker::from(Arc::clone(&cell));
        Self(Member { cell, waker })
    }
}

/// A set of actors that run in turns on one task, so that messages between them are handed
/// over on the same thread.
///
/// Spawn actors onto a strand with [`ActorBuilder::strand`](crate::ActorBuilder::strand).
/// The actors keep their own mailboxes, supervision and API; what changes is where they
/// run. A strand is one tokio task on the system's work-stealing workers: its actors never
/// run at the same time, and a message from one of them to another, idle one is a push onto
/// a local queue instead of a wake-up of another tokio task that may run on another worker.
/// Chatty groups of actors (a pipeline, a ring, request and reply between two actors)
/// run several times faster that way; independent actors scale better as tasks of their own,
/// because a strand uses one worker at a time.
///
/// - **Fairness.** Each actor still yields after its message budget, and so does the strand:
///   it lets the worker run other tasks after 4,096 polls of its actors (each handles up to
///   its message budget), after about a millisecond, or once tokio's cooperative budget of
///   the task is spent, whichever comes first (the last two are looked at every 64 polls).
///   A wake from outside the strand waits at most 64 polls to join the turn.
/// - **Blocking.** A member that blocks its thread stalls every actor of its strand. Blocking
///   work belongs on the blocking pool or in a
///   [dedicated-thread](crate::ActorBuilder::dedicated_thread) actor.
/// - **Lifetime.** The strand's task starts with its first actor and ends when its last actor
///   has ended; spawning onto it again starts a new one. Clones of a `Strand` are handles to
///   the same strand.
///
/// # Examples
///
/// ```
/// use playhouse::prelude::*;
/// use playhouse::Strand;
///
/// #[derive(Actor)]
/// struct Counter(u64);
///
/// #[messages]
/// impl Counter {
///     #[message]
///     fn add(&mut self, amount: u64) -> u64 {
///         self.0 += amount;
///         self.0
///     }
/// }
///
/// # #[playhouse::main]
/// # async fn main() {
/// let strand = Strand::new();
/// let first = Counter::builder().strand(&strand).spawn(Counter(0));
/// let second = Counter::builder().strand(&strand).spawn(Counter(10));
/// assert_eq!(first.ask(Add { amount: 1 }).await.unwrap(), 1);
/// assert_eq!(second.ask(Add { amount: 1 }).await.unwrap(), 11);
/// # }
/// ```
#[derive(Clone)]
pub struct Strand {
    shared: Arc<Shared>,
}

impl Strand {
    /// Makes a strand on the current system.
    ///
    /// # Panics
    ///
    /// Panics outside a Playhouse system; see [`System::current`].
    #[track_caller]
    #[allow(clippy::new_without_default)] // Default would panic outside a system.
    pub fn new() -> Self {
        Self::new_in(&System::current())
    }

    /// Makes a strand on `system`.
    pub fn new_in(system: &System) -> Self {
        Self {
            shared: Arc::new(Shared {
                handle: system.handle().clone(),
                remote: Mutex::new(Remote::default()),
                local_wakes: AtomicU64::new(0),
            }),
        }
    }

    /// How many times one of the strand's actors was woken by another during the strand's
    /// turn, on its thread: hand-offs that took no tokio wake-up.
    ///
    /// With [`remote_wakes`](Self::remote_wakes), it tells whether a placement pays: a
    /// strand of actors that mostly talk to each other has far more local wakes than
    /// remote ones. Counted since the strand was made, updated at the end of each turn.
    pub fn local_wakes(&self) -> u64 {
        self.shared.local_wakes.load(Ordering::Relaxed)
    }

    /// How many times one of the strand's actors was woken from outside the strand's turn:
    /// by an actor or task elsewhere, a timer, or another thread. Each queues the actor
    /// under the strand's lock and may wake the strand's task.
    pub fn remote_wakes(&self) -> u64 {
        self.shared.lock().remote_wakes
    }

    /// Returns `true` when the strand runs on `system`.
    pub(crate) fn belongs_to(&self, system: &System) -> bool {
        self.shared.handle.same_system(system.handle())
    }

    /// Adds a member to the strand, starting its runner if it has none.
    pub(crate) fn join<F: Future<Output = ()> + Send + 'static>(&self, future: F) {
        let member = NewMember::new(&self.shared, future);
        let (start, waker) = {
            let mut remote = self.shared.lock();
            remote.joining.push(member);
            let start = !remote.running;
            remote.running = true;
            (start, remote.waker.take())
        };
        if start {
            let runner = Runner::new(Arc::clone(&self.shared));
            // If the runtime is shutting down, tokio drops the runner at once, and with it
            // the member, which records its end.
            drop(
                self.shared
                    .handle
                    .spawn_in_span(tracing::Span::none(), runner),
            );
            crate::kick::woke();
        } else {
            wake_runner(waker);
        }
    }
}

/// Wakes a strand's runner with `waker`, taken if the runner waits for work, and notes the
/// wake-up for the kick (see `kick.rs`). Without a waker the runner is awake, or waits
/// behind this very thread: the member joined or woken counts as a message sent to it.
fn wake_runner(waker: Option<Waker>) {
    match waker {
        Some(waker) => {
            waker.wake();
            crate::kick::woke();
        }
        None => crate::kick::sent(),
    }
}

impl fmt::Debug for Strand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let remote = self.shared.lock();
        f.debug_struct("Strand")
            .field("running", &remote.running)
            .finish_non_exhaustive()
    }
}

/// Returns `true` while a strand's runner is polling one of its actors on this thread.
pub(crate) fn on_turn() -> bool {
    TURN.try_with(|turn| turn.try_borrow().is_ok_and(|turn| turn.is_some()))
        .unwrap_or(false)
}

/// What one strand's runner, its wakers and its spawners share.
struct Shared {
    handle: Handle,
    remote: Mutex<Remote>,
    /// Wakes during the turn, on the runner's thread; added at the end of each turn.
    local_wakes: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Remote> {
        self.remote.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// This strand's identity in [`TURN`].
    fn id(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    /// Queues a member woken off the runner's thread (or outside its turn).
    fn wake_remote(&self, entry: Entry) {
        let waker = {
            let mut remote = self.lock();
            if !remote.running {
                // No runner means no members: a waker outlived its actor.
                return;
            }
            remote.ready.push(entry);
            remote.remote_wakes += 1;
            remote.waker.take()
        };
        wake_runner(waker);
    }
}

/// The part of a strand that other threads touch, under its mutex.
#[derive(Default)]
struct Remote {
    /// Members woken from other threads.
    ready: Vec<Entry>,
    /// Actors spawned onto the strand that its runner has not taken in yet.
    joining: Vec<NewMember>,
    /// The runner's waker while it waits for work.
    waker: Option<Waker>,
    /// Whether a runner task exists.
    running: bool,
    /// Wakes from outside the turn, since the strand was made.
    remote_wakes: u64,
}

/// A member's place in the runner's slab. The generation tells a member from an earlier one
/// that had the same slot, so that a stale waker does not poll the newcomer. (A waker that
/// outlived an earlier runner of the same strand can still cost a newcomer one spurious
/// poll, which futures allow.)
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Entry {
    index: u32,
    generation: u32,
}

impl Entry {
    fn pack(self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.index)
    }

    fn unpack(packed: u64) -> Self {
        Self {
            index: packed as u32,
            generation: (packed >> 32) as u32,
        }
    }
}

thread_local! {
    /// The strand taking its turn on this thread, and its queue of members to poll.
    static TURN: RefCell<Option<Turn>> = const { RefCell::new(None) };
}

/// A runner's local queue, lent to the thread while it polls its members.
struct Turn {
    strand: usize,
    queue: VecDeque<Entry>,
    /// Members queued here during this turn.
    local_wakes: u64,
}

/// Lends a runner's queue to the thread for a turn, and takes it back when dropped, on
/// unwinding too: a turn left behind would take wakes meant for a later runner.
struct TurnGuard {
    previous: Option<Turn>,
    done: bool,
}

impl TurnGuard {
    fn lend(strand: usize, queue: VecDeque<Entry>) -> Self {
        let turn = Turn {
            strand,
            queue,
            local_wakes: 0,
        };
        let previous = TURN.with(|current| current.replace(Some(turn)));
        Self {
            previous,
            done: false,
        }
    }

    /// Ends the turn: the thread gets back what it had before, the runner its queue.
    fn end(mut self) -> Option<Turn> {
        self.done = true;
        let previous = self.previous.take();
        TURN.with(|current| current.replace(previous))
    }
}

impl Drop for TurnGuard {
    fn drop(&mut self) {
        if !self.done {
            let previous = self.previous.take();
            // The thread-local may already be gone if the thread is ending.
            let _ = TURN.try_with(|current| current.replace(previous));
        }
    }
}

/// Pushes `entry` onto the local queue if `strand` is taking its turn on this thread.
fn wake_local(strand: usize, entry: Entry) -> bool {
    TURN.try_with(|turn| match turn.try_borrow_mut() {
        Ok(mut turn) => match turn.as_mut() {
            Some(turn) if turn.strand == strand => {
                turn.queue.push_back(entry);
                turn.local_wakes += 1;
                true
            }
            _ => false,
        },
        Err(_) => false,
    })
    .unwrap_or(false)
}

/// Takes the next member to poll from the turn on this thread.
fn next_local() -> Option<Entry> {
    TURN.with(|turn| turn.borrow_mut().as_mut()?.queue.pop_front())
}

/// A member's future and what its waker needs, in one allocation: the member's waker is
/// this `Arc`, so spawning onto a strand allocates once for both. Wakers may outlive the
/// member; its future is dropped when it ends (by [`Member`]'s drop), the rest with the
/// last waker.
struct MemberCell<F: ?Sized> {
    wake: MemberWake,
    /// Touched only by the [`Member`] that owns the member, in the runner.
    future: UnsafeCell<ManuallyDrop<F>>,
}

// SAFETY: wakers on any thread touch only `wake`, which is made of atomics and the
// shared state; the future is `Send` and only its one `Member` touches it.
unsafe impl<F: ?Sized + Send> Sync for MemberCell<F> {}

impl<F: Future<Output = ()> + Send + 'static> Wake for MemberCell<F> {
    fn wake(self: Arc<Self>) {
        self.wake.wake();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wake.wake();
    }
}

/// What a member's waker needs: queues its slot on the strand.
struct MemberWake {
    shared: Arc<Shared>,
    /// The member's slot, packed ([`Entry::pack`]); set when the runner takes the member
    /// in, before it is first polled (and so before its waker is handed out).
    entry: AtomicU64,
    /// Set when the member is queued, cleared just before it is polled, so that a member
    /// woken many times between two polls is queued once.
    queued: AtomicBool,
}

impl MemberWake {
    fn wake(&self) {
        if self.queued.load(Ordering::Acquire) {
            return;
        }
        let entry = Entry::unpack(self.entry.load(Ordering::Relaxed));
        if wake_local(self.shared.id(), entry) {
            // The runner is this thread, in the middle of its turn (this waker runs in a
            // member's poll or drop), so nothing clears the flag meanwhile. A waker on
            // another thread racing to set it too queues the member a second time, which
            // costs one spurious poll.
            self.queued.store(true, Ordering::Release);
        } else if !self.queued.swap(true, Ordering::AcqRel) {
            self.shared.wake_remote(entry);
        }
    }
}

/// A member of the strand, in one allocation with its waker's state ([`MemberCell`]):
/// owns its future, which it drops when dropped.
struct Member {
    cell: Arc<MemberCell<dyn Future<Output = ()> + Send>>,
    waker: Waker,
}

impl Member {
    /// Polls the future with the member's own waker.
    fn poll(&mut self) -> Poll<()> {
        // SAFETY: only this member touches the future (it is borrowed mutably here), which
        // lives in the `Arc`, never moves, and is not dropped before the member is.
        let future = unsafe { Pin::new_unchecked(&mut **self.cell.future.get()) };
        future.poll(&mut Context::from_waker(&self.waker))
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        // SAFETY: the member owns the future and drops it once, here; wakers that outlive
        // it never touch it.
        unsafe { ManuallyDrop::drop(&mut *self.cell.future.get()) };
    }
}

/// A slot of the runner's slab.
struct Slot {
    generation: u32,
    member: Option<Member>,
}

/// The tokio task of a strand: polls its members in turns.
struct Runner {
    shared: Arc<Shared>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    members: usize,
    /// Members to poll, while no turn is on.
    queue: VecDeque<Entry>,
    /// Swapped with [`Remote::joining`] to take newcomers in without allocating.
    joining: Vec<NewMember>,
    /// Set when the runner ended because it had no members left.
    finished: bool,
}

impl Runner {
    fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            slots: Vec::new(),
            free: Vec::new(),
            members: 0,
            queue: VecDeque::new(),
            joining: Vec::new(),
            finished: false,
        }
    }

    /// Gives a newcomer a slot and queues its first poll.
    fn admit(&mut self, member: NewMember) {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    member: None,
                });
                // A slab of more than 4 billion members is out of reach of memory first.
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        let slot = &mut self.slots[index as usize];
        let entry = Entry {
            index,
            generation: slot.generation,
        };
        // Before the first poll hands the waker out; the runner's thread took the member
        // from the joining list under the lock, after its spawner put it there.
        let NewMember(member) = member;
        member
            .cell
            .wake
            .entry
            .store(entry.pack(), Ordering::Relaxed);
        slot.member = Some(member);
        self.members += 1;
        self.queue.push_back(entry);
    }

    /// Takes in what other threads sent. Returns `Some` when there is nothing to do: the
    /// runner then waits (its waker is registered) or ends (no members left).
    fn take_remote(&mut self, cx: &Context<'_>) -> Option<Poll<()>> {
        let mut remote = self.shared.lock();
        // Polled, so no longer waiting: a waker kept from an earlier wait would only wake
        // the runner again for nothing.
        let _stale = remote.waker.take();
        self.queue.extend(remote.ready.drain(..));
        std::mem::swap(&mut remote.joining, &mut self.joining);
        if self.queue.is_empty() && self.joining.is_empty() {
            if self.members == 0 {
                remote.running = false;
                self.finished = true;
                return Some(Poll::Ready(()));
            }
            remote.waker = Some(cx.waker().clone());
            return Some(Poll::Pending);
        }
        drop(remote);
        let mut joining = std::mem::take(&mut self.joining);
        for member in joining.drain(..) {
            self.admit(member);
        }
        // Kept for the next newcomers, unless a burst of spawns grew it: then let go, so
        // that a strand's idle actors do not pay for the burst that made them.
        if joining.capacity() <= JOINING_KEEP {
            self.joining = joining;
        }
        None
    }

    /// Polls one member; removes it if it ended.
    fn poll_member(&mut self, entry: Entry) {
        let Some(slot) = self.slots.get_mut(entry.index as usize) else {
            return;
        };
        if slot.generation != entry.generation {
            return;
        }
        let Some(member) = slot.member.as_mut() else {
            return;
        };
        // Acquire pairs with the waker's release: what it published before waking is seen.
        member.cell.wake.queued.swap(false, Ordering::AcqRel);
        let ended = match catch_unwind(AssertUnwindSafe(|| member.poll())) {
            Ok(Poll::Pending) => false,
            Ok(Poll::Ready(())) => true,
            Err(_) => {
                // An actor's task catches its own panics; this is a defect in Playhouse.
                tracing::error!("strand.member_panicked");
                true
            }
        };
        if ended {
            let member = slot.member.take();
            slot.generation = slot.generation.wrapping_add(1);
            self.free.push(entry.index);
            self.members -= 1;
            drop_quietly(member);
        }
    }
}

impl Future for Runner {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let strand = this.shared.id();
        let mut polls = 0;
        let mut started = None;
        loop {
            if let Some(done) = this.take_remote(cx) {
                return done;
            }
            if polls >= TURN_POLLS {
                // Let the worker run its other tasks. tokio's own yield defers the wake-up
                // until the worker has looked at them.
                let _deferred = std::pin::pin!(tokio::task::yield_now()).poll(cx);
                return Poll::Pending;
            }
            let started = *started.get_or_insert_with(Instant::now);
            // Lend the queue to the thread, so that members woken here queue locally.
            let guard = TurnGuard::lend(strand, std::mem::take(&mut this.queue));
            while polls < TURN_POLLS {
                let Some(entry) = next_local() else { break };
                polls += 1;
                this.poll_member(entry);
                if polls % TURN_CHECK_EVERY == 0 {
                    // Once tokio's cooperative budget is spent, its timers and channels
                    // refuse every member until the task yields.
                    if started.elapsed() >= TURN_TIME || !tokio::task::coop::has_budget_remaining()
                    {
                        polls = TURN_POLLS;
                    }
                    // Take in what other threads sent, so that it waits behind at most
                    // this many polls rather than the whole turn.
                    break;
                }
            }
            if let Some(turn) = guard.end() {
                this.shared
                    .local_wakes
                    .fetch_add(turn.local_wakes, Ordering::Relaxed);
                this.queue = turn.queue;
            }
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // Dropped before its members ended (the runtime is shutting down): they end as
        // killed, and so do the actors that were about to join. A later spawn starts a new
        // runner.
        let joining = {
            let mut remote = self.shared.lock();
            remote.running = false;
            remote.waker = None;
            remote.ready.clear();
            std::mem::take(&mut remote.joining)
        };
        for slot in std::mem::take(&mut self.slots) {
            drop_quietly(slot.member);
        }
        for future in joining {
            drop_quietly(Some(future));
        }
    }
}

/// Drops a member; an actor's task records its own end and catches its own panics, so a
/// panic here is a defect, logged rather than let out of the runner.
fn drop_quietly<T>(member: Option<T>) {
    if catch_unwind(AssertUnwindSafe(move || drop(member))).is_err() {
        tracing::error!("strand.member_drop_panicked");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waker_queues_locally_only_during_its_strands_turn() {
        let entry = Entry {
            index: 3,
            generation: 1,
        };
        assert!(!wake_local(1, entry));
        assert!(!on_turn());
        let previous = TURN.with(|turn| {
            turn.replace(Some(Turn {
                strand: 1,
                queue: VecDeque::new(),
                local_wakes: 0,
            }))
        });
        assert!(on_turn());
        assert!(!wake_local(2, entry), "another strand's member goes remote");
        assert!(wake_local(1, entry));
        assert_eq!(next_local(), Some(entry));
        assert_eq!(next_local(), None);
        TURN.with(|turn| turn.replace(previous));
        assert!(!on_turn());
    }

    #[test]
    fn a_turn_is_given_back_when_a_panic_unwinds_through_it() {
        let unwound = catch_unwind(|| {
            let _guard = TurnGuard::lend(7, VecDeque::new());
            assert!(on_turn());
            panic!("inside the turn");
        });
        assert!(unwound.is_err());
        assert!(!on_turn());
        assert!(!wake_local(
            7,
            Entry {
                index: 0,
                generation: 0
            }
        ));
    }
}
