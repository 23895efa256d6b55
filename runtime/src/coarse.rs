//! Coarse deadlines: many cheap timeouts that fire within a tick, watched by one task.
//!
//! An actor system sets a deadline on every `ask`, and nearly every one of them is met:
//! the reply comes in microseconds and the deadline is thrown away. A tokio timer entry per
//! ask costs a registration in the shared timer wheel and a worker that parks with a timeout
//! for each one; profiled, that was half of an ask's round trip. Here a deadline is an
//! entry in a sharded slab (one uncontended lock to add, one to remove) and a single
//! *watcher* task per system looks at the entries every [`COARSE_RESOLUTION`] while any
//! exist, waking those whose deadline has passed. With nothing to watch the watcher sleeps
//! until the next entry arrives, so an idle system (and paused time in tests) sees no ticks.
//!
//! A timeout ([`CoarseClock::timeout`]) does not even read the clock when it starts: its
//! entry holds the duration, and the watcher's next look (within a resolution) fixes the
//! instant from its own reading of the clock, taken after the entry was added, so the
//! deadline is never early. Reading the clock was a tenth of an ask's round trip on a
//! virtual machine. The watcher then sleeps until the earliest fixed deadline or its next
//! look, whichever is sooner.
//!
//! A coarse deadline fires at its instant or up to one resolution later, never earlier.

use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::spin::{SpinGuard, SpinLock};

/// How late a coarse deadline may fire: the watcher's tick.
pub const COARSE_RESOLUTION: Duration = Duration::from_millis(10);

/// One system's coarse deadlines and the watcher task that fires them.
#[derive(Debug)]
struct CoarseTimers {
    shards: Box<[Padded<SpinLock<Shard>>]>,
    /// `true` while the watcher waits for entries (or was never started).
    idle: AtomicBool,
    started: AtomicBool,
    wake: Notify,
    tokio: tokio::runtime::Handle,
}

/// Keeps each shard's lock on a cache line of its own.
#[derive(Debug)]
#[repr(align(64))]
struct Padded<T>(T);

#[derive(Debug, Default)]
struct Shard {
    slots: Vec<Slot>,
    /// Head of the free list threaded through `slots`.
    free: Option<u32>,
    live: usize,
    /// No armed entry with a fixed instant is due before this (it may be stale-early
    /// after removals).
    earliest: Option<Instant>,
    /// Slots added as timeouts whose instant the watcher has yet to fix (a slot may be
    /// listed after it was freed or reused: the watcher checks).
    fresh: Vec<u32>,
}

#[derive(Debug)]
enum Slot {
    Free {
        next: Option<u32>,
    },
    /// `wake` fires once, when the deadline passes; the entry stays until its owner drops
    /// it.
    Used {
        due: Due,
        wake: Wake,
    },
}

/// What an entry wakes when its deadline passes.
#[derive(Debug)]
enum Wake {
    /// The waker of the future that polls the entry; `None` once fired.
    Waker(Option<Waker>),
    /// A watch's target; `None` once fired.
    Target(Option<CoarseTarget>),
}

impl Wake {
    fn armed(&self) -> bool {
        match self {
            Wake::Waker(waker) => waker.is_some(),
            Wake::Target(target) => target.is_some(),
        }
    }

    /// Fires the entry (under its shard's lock): the waker to wake once the lock is let go.
    fn fire(&mut self) -> Option<Waker> {
        match self {
            Wake::Waker(waker) => waker.take(),
            Wake::Target(target) => {
                let target = target.take()?;
                // SAFETY: the target's maker promised this call is sound until its watch
                // is dropped, which removes this entry under the lock held here.
                unsafe { (target.fire)(target.data) }
            }
        }
    }
}

/// When an entry is due.
#[derive(Debug, Clone, Copy)]
enum Due {
    At(Instant),
    /// A timeout whose start the watcher has not fixed yet (the entry is in `fresh`).
    After(Duration),
}

#[derive(Debug, Clone, Copy)]
struct Key {
    shard: u32,
    index: u32,
}

impl CoarseTimers {
    fn new(tokio: tokio::runtime::Handle) -> Self {
        let shards = std::thread::available_parallelism()
            .map_or(4, |n| n.get())
            .clamp(1, 64)
            .next_power_of_two()
            * 2;
        Self {
            shards: (0..shards)
                .map(|_| Padded(SpinLock::new(Shard::default())))
                .collect(),
            idle: AtomicBool::new(true),
            started: AtomicBool::new(false),
            wake: Notify::new(),
            tokio,
        }
    }

    fn shard(&self, index: u32) -> SpinGuard<'_, Shard> {
        self.shards[index as usize].0.lock()
    }

    fn insert(self: &Arc<Self>, due: Due, wake: Wake) -> Key {
        let key = self.add(due, wake);
        self.wake_watcher();
        key
    }

    /// Adds an entry without waking the watcher: [`wake_watcher`](Self::wake_watcher) must
    /// follow.
    fn add(&self, due: Due, wake: Wake) -> Key {
        let shard = home_shard(self.shards.len());
        let index = {
            let mut guard = self.shard(shard);
            let slot = Slot::Used { due, wake };
            let index = match guard.free {
                Some(index) => {
                    let Slot::Free { next } = guard.slots[index as usize] else {
                        unreachable!("the free list only links free slots")
                    };
                    guard.free = next;
                    guard.slots[index as usize] = slot;
                    index
                }
                None => {
                    guard.slots.push(slot);
                    u32::try_from(guard.slots.len() - 1).expect("fewer than 2^32 deadlines")
                }
            };
            guard.live += 1;
            match due {
                Due::At(at) => {
                    guard.earliest = Some(guard.earliest.map_or(at, |e| e.min(at)));
                }
                Due::After(_) => guard.fresh.push(index),
            }
            index
        };
        Key { shard, index }
    }

    /// Starts or wakes the watcher if it waits for entries (one was just added).
    fn wake_watcher(self: &Arc<Self>) {
        // The watcher sets `idle` before it takes this shard's lock to look for entries.
        // If it took the lock after this entry was added, it sees the entry; if before,
        // its store of `idle` happened before this load (through the lock), which sees
        // it. Either way one of the two sees the other.
        if self.idle.load(Ordering::SeqCst) && self.idle.swap(false, Ordering::SeqCst) {
            self.start_or_wake();
        }
    }

    fn start_or_wake(self: &Arc<Self>) {
        if self.started.swap(true, Ordering::AcqRel) {
            self.wake.notify_one();
        } else {
            // The watcher holds the timers only weakly: it ends with the system.
            let timers = Arc::downgrade(self);
            drop(self.tokio.spawn(watch(timers)));
        }
    }

    /// Whether the entry has fired; if not, makes `waker` the one it wakes.
    fn fired_or_update(&self, key: Key, waker: &Waker) -> bool {
        let mut guard = self.shard(key.shard);
        let replaced = match &mut guard.slots[key.index as usize] {
            Slot::Used {
                wake: Wake::Waker(Some(stored)),
                ..
            } => {
                if stored.will_wake(waker) {
                    return false;
                }
                std::mem::replace(stored, waker.clone())
            }
            Slot::Used {
                wake: Wake::Waker(None),
                ..
            } => return true,
            Slot::Used {
                wake: Wake::Target(_),
                ..
            } => unreachable!("a watch is never polled"),
            Slot::Free { .. } => unreachable!("a live deadline's slot is used"),
        };
        drop(guard);
        // Dropped outside the lock: a waker's drop may run code that takes it.
        drop(replaced);
        false
    }

    fn remove(&self, key: Key) {
        let mut guard = self.shard(key.shard);
        let next = guard.free;
        let old = std::mem::replace(&mut guard.slots[key.index as usize], Slot::Free { next });
        debug_assert!(matches!(old, Slot::Used { .. }), "a deadline removed twice");
        guard.free = Some(key.index);
        guard.live -= 1;
        if guard.live == 0 {
            guard.earliest = None;
            guard.fresh.clear();
            // Give back the memory of a burst once it is over.
            if guard.slots.capacity() > 1024 {
                guard.slots = Vec::new();
                guard.free = None;
            }
            if guard.fresh.capacity() > 1024 {
                guard.fresh = Vec::new();
            }
        }
        drop(guard);
        drop(old);
    }

    /// One look at every shard: fixes the instants of fresh timeouts and wakes the owners
    /// of passed deadlines. Returns `None` if no entry is left to watch, otherwise the
    /// earliest instant due (if any entry has a fixed one).
    fn look(&self) -> Option<Option<Instant>> {
        let mut any = false;
        let mut next = None::<Instant>;
        let mut due = Vec::new();
        for shard in 0..self.shards.len() {
            let mut guard = self.shard(shard as u32);
            if guard.live == 0 {
                continue;
            }
            any = true;
            // Read under the lock: every entry seen here was added before this instant.
            let now = Instant::now();
            let mut earliest = guard.earliest;
            let mut fresh = std::mem::take(&mut guard.fresh);
            for &index in &fresh {
                if let Some(Slot::Used {
                    due: due @ Due::After(_),
                    ..
                }) = guard.slots.get_mut(index as usize)
                {
                    let Due::After(timeout) = *due else {
                        unreachable!("matched just above")
                    };
                    let at = deadline_from(now, timeout);
                    *due = Due::At(at);
                    earliest = Some(earliest.map_or(at, |e| e.min(at)));
                }
            }
            fresh.clear();
            guard.fresh = fresh;
            if earliest.is_some_and(|earliest| earliest > now) {
                guard.earliest = earliest;
                next = min_instant(next, earliest);
                continue;
            }
            let mut earliest = None::<Instant>;
            for slot in &mut guard.slots {
                if let Slot::Used {
                    due: Due::At(at),
                    wake,
                } = slot
                {
                    if !wake.armed() {
                        continue;
                    }
                    if *at <= now {
                        due.extend(wake.fire());
                    } else {
                        earliest = min_instant(earliest, Some(*at));
                    }
                }
            }
            guard.earliest = earliest;
            next = min_instant(next, earliest);
            drop(guard);
            // Wake outside the lock: a waker may run code that takes it.
            due.drain(..).for_each(Waker::wake);
        }
        any.then_some(next)
    }

    fn any_live(&self) -> bool {
        (0..self.shards.len()).any(|shard| self.shard(shard as u32).live > 0)
    }
}

/// The shard a thread adds its deadlines to: spread threads, keep each on one.
fn home_shard(shards: usize) -> u32 {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static HOME: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    let home = HOME.try_with(|home| *home).unwrap_or(0);
    u32::try_from(home % shards).unwrap_or(0)
}

fn min_instant(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// `now + timeout`, or far in the future if that overflows.
fn deadline_from(now: Instant, timeout: Duration) -> Instant {
    now.checked_add(timeout)
        .unwrap_or_else(|| now + crate::shutdown::FAR_FUTURE)
}

/// The watcher: looks every resolution while deadlines exist (sooner when one is due
/// sooner), and sleeps while none do.
async fn watch(timers: std::sync::Weak<CoarseTimers>) {
    loop {
        let Some(timers) = timers.upgrade() else {
            return;
        };
        if let Some(earliest) = timers.look() {
            drop(timers);
            let tick = Instant::now() + COARSE_RESOLUTION;
            tokio::time::sleep_until(earliest.map_or(tick, |e| e.min(tick))).await;
            continue;
        }
        let notified = timers.wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        timers.idle.store(true, Ordering::SeqCst);
        if timers.any_live() {
            // An entry came in between: whoever added it may have seen `idle` false.
            if timers.idle.swap(false, Ordering::SeqCst) {
                continue;
            }
        }
        // Woken by the next entry, which the loop's next look sees at once.
        notified.await;
    }
}

/// A system's coarse clock: makes [`CoarseDeadline`]s and [`CoarseTimeout`]s watched by
/// the system's runtime.
///
/// Found with [`Handle::coarse_clock`](crate::Handle::coarse_clock). Cheap to clone, and it
/// keeps only the tokio runtime's handle alive, not the system.
#[derive(Debug, Clone)]
pub struct CoarseClock(Arc<CoarseTimers>);

impl CoarseClock {
    pub(crate) fn new(tokio: tokio::runtime::Handle) -> Self {
        Self(Arc::new(CoarseTimers::new(tokio)))
    }

    /// A future that completes at `deadline`, or at most [`COARSE_RESOLUTION`] later.
    ///
    /// It is far cheaper than a tokio timer while it waits (one entry in a sharded table,
    /// watched by one task of the system that ticks only while entries exist). It works
    /// from any thread or runtime, as long as the system's runtime runs.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use playhouse_runtime::{Builder, Handle};
    ///
    /// let runtime = Builder::new().build().unwrap();
    /// runtime.block_on(async {
    ///     let start = tokio::time::Instant::now();
    ///     let clock = Handle::current().coarse_clock().clone();
    ///     clock.deadline(start + Duration::from_millis(20)).await;
    ///     assert!(start.elapsed() >= Duration::from_millis(20));
    /// });
    /// ```
    pub fn deadline(&self, deadline: Instant) -> CoarseDeadline {
        CoarseDeadline {
            timers: Arc::clone(&self.0),
            entry: Entry::new(Due::At(deadline)),
        }
    }

    /// A future that completes `timeout` after it is first polled, or at most
    /// [`COARSE_RESOLUTION`] later; never earlier.
    ///
    /// The cheapest way to bound a wait that nearly always ends in time, which is why
    /// asks use it for their default timeout: it borrows the clock (no reference count to
    /// touch), does not read the time (the watcher fixes the instant at its next look, from
    /// its own reading), and costs one entry in the table while it is polled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use playhouse_runtime::{Builder, Handle};
    ///
    /// let runtime = Builder::new().build().unwrap();
    /// runtime.block_on(async {
    ///     let start = tokio::time::Instant::now();
    ///     let handle = Handle::current();
    ///     handle.coarse_clock().timeout(Duration::from_millis(20)).await;
    ///     assert!(start.elapsed() >= Duration::from_millis(20));
    /// });
    /// ```
    pub fn timeout(&self, timeout: Duration) -> CoarseTimeout<'_> {
        CoarseTimeout {
            timers: &self.0,
            entry: Entry::new(Due::After(timeout)),
        }
    }

    /// Fires `target` once `timeout` has passed from now, or at most
    /// [`COARSE_RESOLUTION`] later (never earlier), unless the returned watch is dropped
    /// first.
    ///
    /// Like [`timeout`](Self::timeout) it does not read the clock (the watcher fixes the
    /// instant at its next look); unlike it, the entry holds no waker of its own.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::ptr::NonNull;
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::task::Waker;
    /// use std::time::Duration;
    /// use playhouse_runtime::{Builder, CoarseTarget, Handle};
    ///
    /// static FIRED: AtomicBool = AtomicBool::new(false);
    ///
    /// unsafe fn fire(_: NonNull<()>) -> Option<Waker> {
    ///     FIRED.store(true, Ordering::SeqCst);
    ///     None
    /// }
    ///
    /// let runtime = Builder::new().build().unwrap();
    /// runtime.block_on(async {
    ///     let handle = Handle::current();
    ///     // SAFETY: `fire` ignores its pointer and may run anywhere, any time.
    ///     let target = unsafe { CoarseTarget::new(NonNull::dangling(), fire) };
    ///     let watch = handle.coarse_clock().watch(Duration::from_millis(20), target);
    ///     tokio::time::sleep(Duration::from_millis(100)).await;
    ///     assert!(FIRED.load(Ordering::SeqCst));
    ///     drop(watch);
    /// });
    /// ```
    pub fn watch(&self, timeout: Duration, target: CoarseTarget) -> CoarseWatch<'_> {
        // The guard exists before anything else runs: whatever happens next, the entry
        // leaves the table with it, and never fires into a target that is gone.
        let watch = CoarseWatch {
            timers: &self.0,
            key: self.0.add(Due::After(timeout), Wake::Target(Some(target))),
        };
        self.0.wake_watcher();
        watch
    }
}

/// A deadline's place in the table, shared by [`CoarseDeadline`] and [`CoarseTimeout`].
#[derive(Debug)]
struct Entry {
    /// What the entry is added with; a timeout's instant is fixed by the watcher.
    due: Due,
    /// `Some` while the entry is in the table.
    key: Option<Key>,
    /// Set once fired (the entry then left the table).
    fired: bool,
}

impl Entry {
    fn new(due: Due) -> Self {
        Self {
            due,
            key: None,
            fired: false,
        }
    }

    fn poll(&mut self, timers: &Arc<CoarseTimers>, cx: &mut Context<'_>) -> Poll<()> {
        if self.fired {
            return Poll::Ready(());
        }
        let Some(key) = self.key else {
            // The first poll only registers, without reading the clock: the watcher's next
            // look fires a deadline that has already passed.
            self.key = Some(timers.insert(self.due, Wake::Waker(Some(cx.waker().clone()))));
            return Poll::Pending;
        };
        if timers.fired_or_update(key, cx.waker()) {
            self.key = None;
            self.fired = true;
            timers.remove(key);
            return Poll::Ready(());
        }
        Poll::Pending
    }

    fn leave(&mut self, timers: &CoarseTimers) {
        if let Some(key) = self.key.take() {
            timers.remove(key);
        }
    }
}

/// A future that completes at its deadline or up to [`COARSE_RESOLUTION`] later.
///
/// Made by [`CoarseClock::deadline`]. It costs nothing until first polled, then one entry
/// in the system's deadline table until it completes or is dropped. Meant for timeouts
/// that are rarely reached.
#[derive(Debug)]
pub struct CoarseDeadline {
    timers: Arc<CoarseTimers>,
    entry: Entry,
}

impl CoarseDeadline {
    /// The instant this deadline fires at (at the earliest).
    pub fn deadline(&self) -> Instant {
        match self.entry.due {
            Due::At(at) => at,
            Due::After(_) => unreachable!("a deadline is made with its instant"),
        }
    }
}

impl Future for CoarseDeadline {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.entry.poll(&this.timers, cx)
    }
}

impl Drop for CoarseDeadline {
    fn drop(&mut self) {
        self.entry.leave(&self.timers);
    }
}

/// A future that completes a duration after it was first polled, or up to
/// [`COARSE_RESOLUTION`] later; never earlier.
///
/// Made by [`CoarseClock::timeout`]; it borrows the clock. It costs nothing until first
/// polled, then one entry in the system's deadline table until it completes or is
/// dropped. It can be polled again after an await was given up (for example by a
/// `select!` whose other branch won), and still fires when it is due: this is how an ask
/// bounds both its wait for room and its wait for the reply with one timeout.
#[derive(Debug)]
pub struct CoarseTimeout<'a> {
    timers: &'a Arc<CoarseTimers>,
    entry: Entry,
}

impl Future for CoarseTimeout<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.entry.poll(this.timers, cx)
    }
}

impl Drop for CoarseTimeout<'_> {
    fn drop(&mut self) {
        self.entry.leave(self.timers);
    }
}

/// What a [`CoarseWatch`] fires when its deadline passes: a function of a pointer that
/// returns the waker to wake.
///
/// A watch saves the waker clone (and its drop) that a [`CoarseTimeout`] keeps in the
/// table: the target finds the waker where its owner already keeps one. Asks use it:
/// their reply slot holds the asker's waker for the actor, and the watch fires through
/// the slot.
pub struct CoarseTarget {
    data: NonNull<()>,
    fire: unsafe fn(NonNull<()>) -> Option<Waker>,
}

// SAFETY: the maker of a target promises that `fire(data)` may run on any thread.
unsafe impl Send for CoarseTarget {}

impl CoarseTarget {
    /// A target that fires by calling `fire(data)`.
    ///
    /// # Safety
    ///
    /// Calling `fire(data)` must be sound from any thread, at any time until the
    /// [`CoarseWatch`] made with this target is dropped. The watcher calls it at most
    /// once, never after that drop has returned, and under a lock of the deadline table:
    /// it must be short and must not use the clock. The waker it returns is woken after
    /// the lock is let go.
    pub unsafe fn new(data: NonNull<()>, fire: unsafe fn(NonNull<()>) -> Option<Waker>) -> Self {
        Self { data, fire }
    }
}

impl std::fmt::Debug for CoarseTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoarseTarget")
            .field("data", &self.data)
            .finish_non_exhaustive()
    }
}

/// A deadline that fires a [`CoarseTarget`] a duration after it was made, or up to
/// [`COARSE_RESOLUTION`] later; never earlier.
///
/// Made by [`CoarseClock::watch`]: one entry in the system's deadline table from the
/// start, removed when the watch is dropped. Unlike a [`CoarseTimeout`] it is not a
/// future: the target says what happens when it fires.
#[derive(Debug)]
pub struct CoarseWatch<'a> {
    timers: &'a Arc<CoarseTimers>,
    key: Key,
}

impl Drop for CoarseWatch<'_> {
    fn drop(&mut self) {
        // Under the shard's lock: the watcher cannot be firing the target after this.
        self.timers.remove(self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timers() -> (tokio::runtime::Runtime, Arc<CoarseTimers>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let timers = Arc::new(CoarseTimers::new(runtime.handle().clone()));
        (runtime, timers)
    }

    static WATCH_FIRES: AtomicUsize = AtomicUsize::new(0);

    unsafe fn count_fire(data: NonNull<()>) -> Option<Waker> {
        WATCH_FIRES.fetch_add(1, Ordering::SeqCst);
        // SAFETY: the tests below pass a pointer to a live `Waker`.
        Some(unsafe { data.cast::<Waker>().as_ref() }.clone())
    }

    #[test]
    fn a_watch_fires_its_target_once_and_a_dropped_one_never() {
        let (runtime, timers) = timers();
        let clock = CoarseClock(Arc::clone(&timers));
        runtime.block_on(async {
            let start = Instant::now();
            let fired = Arc::new(Notify::new());
            let waker = {
                let fired = Arc::clone(&fired);
                std::task::Waker::from(Arc::new(NotifyOnWake(fired)))
            };
            // SAFETY: the waker outlives both watches.
            let target = || unsafe { CoarseTarget::new(NonNull::from(&waker).cast(), count_fire) };
            let dropped = clock.watch(Duration::from_millis(20), target());
            drop(dropped);
            let _watch = clock.watch(Duration::from_millis(60), target());
            tokio::time::timeout(Duration::from_secs(5), fired.notified())
                .await
                .expect("the watch fired");
            assert!(start.elapsed() >= Duration::from_millis(60), "never early");
            // Later ticks do not fire it again, nor the dropped one at all.
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert_eq!(WATCH_FIRES.load(Ordering::SeqCst), 1);
        });
    }

    struct NotifyOnWake(Arc<Notify>);

    impl std::task::Wake for NotifyOnWake {
        fn wake(self: Arc<Self>) {
            self.0.notify_one();
        }
    }

    #[test]
    fn fires_at_its_deadline_never_early() {
        let (runtime, timers) = timers();
        runtime.block_on(async {
            let start = Instant::now();
            CoarseClock(Arc::clone(&timers))
                .deadline(start + Duration::from_millis(95))
                .await;
            let waited = start.elapsed();
            assert!(waited >= Duration::from_millis(95), "early: {waited:?}");
            // Real time on a shared machine: only a loose upper bound here (the tests crate
            // checks the resolution itself on paused time).
            assert!(waited < Duration::from_secs(2), "late: {waited:?}");
            assert!(!timers.any_live(), "a fired deadline leaves no entry");
        });
    }

    #[test]
    fn a_dropped_deadline_leaves_no_entry_and_the_watcher_goes_idle() {
        let (runtime, timers) = timers();
        runtime.block_on(async {
            let far = Instant::now() + Duration::from_secs(3600);
            let mut deadlines: Vec<_> = (0..100)
                .map(|_| Box::pin(CoarseClock(Arc::clone(&timers)).deadline(far)))
                .collect();
            for deadline in &mut deadlines {
                assert!(futures_poll_once(deadline.as_mut()).is_pending());
            }
            assert!(timers.any_live());
            drop(deadlines);
            assert!(!timers.any_live());
            // With nothing to watch, the watcher parks instead of ticking.
            tokio::time::sleep(COARSE_RESOLUTION * 3).await;
            assert!(timers.idle.load(Ordering::SeqCst));
            // And wakes again for the next entry.
            let start = Instant::now();
            CoarseClock(Arc::clone(&timers))
                .deadline(start + Duration::from_millis(30))
                .await;
            assert!(start.elapsed() >= Duration::from_millis(30));
        });
    }

    #[test]
    fn a_passed_deadline_fires_at_the_next_tick() {
        let (runtime, timers) = timers();
        runtime.block_on(async {
            let start = Instant::now();
            CoarseClock(Arc::clone(&timers))
                .deadline(start - Duration::from_millis(1))
                .await;
            assert!(start.elapsed() < Duration::from_secs(1));
            assert!(!timers.any_live());
        });
    }

    fn futures_poll_once(future: Pin<&mut CoarseDeadline>) -> Poll<()> {
        let waker = Waker::noop();
        future.poll(&mut Context::from_waker(waker))
    }
}
