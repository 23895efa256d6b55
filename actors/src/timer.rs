//! Timers: a message to an actor after a delay, or at an interval.
//!
//! Each timer is a small task on the system's scheduler. It sleeps with `tokio::time`, so
//! paused time in tests drives it, and then sends like [`ActorRef::tell`]: it waits for
//! room in a full mailbox rather than dropping the message.
//!
//! A timer belongs to the *incarnation* of the actor that set it, as links do: it ends
//! when that incarnation ends, whether the actor stops for good or is restarted. A
//! restarted actor runs `on_start` again and sets its timers again there; had the old
//! ones survived, every restart would add one more interval that nobody can cancel (its
//! handle died with the old state). The same switches end the streams an incarnation
//! attached (`stream.rs`), so both follow one rule:
//!
//! - [`Incarnation`]: one per incarnation that started a timer or a stream, kept in the
//!   cell's relations and ended by the actor's lifetime loop ([`end_incarnation`]).
//! - [`Control`]: one per timer or stream, shared by its task and its handle.
//!
//! Every send happens under both switches' locks, so once a handle's `cancel` (or the
//! incarnation's end) has returned, nothing more is sent.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::actor::Actor;
use crate::actor_ref::ActorRef;
use crate::cell::{short_type_name, ActorCell};
use crate::context::Context;
use crate::envelope::{catch_panic, send_tell, Dispatch};
use crate::future_slot::{FutureSlot, SlotFuture};
use crate::mailbox::{Permit, TryReserveError};
use crate::message::{Handler, Message};

/// A timer set with [`Context::send_after`], [`Context::send_interval`] or their `_to`
/// variants: cancel it, or ask whether it is done.
///
/// # Rules
///
/// - **Dropping the handle does not cancel the timer**, so `ctx.send_after(delay, msg);`
///   on its own line works. Keep the handle only to [`cancel`](Self::cancel) it.
/// - A timer belongs to the *incarnation* of the actor that set it: when the actor stops,
///   is killed, fails, or is restarted, its timers end. A restarted actor sets them again
///   in [`on_start`](Actor::on_start). Messages a timer already put in the mailbox stay
///   there (the mailbox survives a restart) and are handled.
/// - A timer that sends to another actor also ends when that actor ends for good. It
///   goes on across the other actor's restarts, as its [`ActorRef`] does.
/// - A timer sends like [`ActorRef::tell`]: when the mailbox is full, it waits for room.
///   A timer whose message is refused (the actor is stopping) ends quietly.
/// - Time is `tokio::time`: paused time in tests (`#[playhouse::test(start_paused = true)]`)
///   drives timers without real waiting.
///
/// Cloning the handle is cheap; every clone controls the same timer.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use playhouse::prelude::*;
/// use playhouse::TimerHandle;
///
/// /// Counts heartbeats until it is told to rest.
/// #[derive(Actor, Default)]
/// struct Heart {
///     beats: u32,
///     beating: Option<TimerHandle>,
/// }
///
/// struct Beat;
///
/// #[messages]
/// impl Heart {
///     #[message]
///     fn start(&mut self, ctx: &mut Context<Self>) {
///         self.beating = Some(ctx.send_interval(Duration::from_millis(10), || Beat));
///     }
///
///     #[message]
///     fn rest(&mut self) -> u32 {
///         if let Some(timer) = self.beating.take() {
///             timer.cancel();
///         }
///         self.beats
///     }
/// }
///
/// impl Handler<Beat> for Heart {
///     async fn handle(&mut self, _: Beat, _ctx: &mut Context<Self>) {
///         self.beats += 1;
///     }
/// }
///
/// impl Message for Beat {
///     type Reply = ();
/// }
///
/// # #[playhouse::main]
/// # async fn main() {
/// let heart = Heart::spawn(Heart::default());
/// heart.tell(Start).await.unwrap();
/// tokio::time::sleep(Duration::from_millis(55)).await;
/// let beats = heart.ask(Rest).await.unwrap();
/// assert!(beats >= 1, "{beats}");
/// # }
/// ```
#[derive(Clone)]
pub struct TimerHandle {
    control: Arc<Control>,
}

impl TimerHandle {
    /// Cancels the timer: once this returns, it sends nothing more.
    ///
    /// A message the timer already put in the mailbox stays there and is handled.
    /// Cancelling a finished timer does nothing.
    pub fn cancel(&self) {
        self.control.stop();
    }

    /// Returns `true` once the timer will send nothing more.
    ///
    /// That is: a one-shot timer has sent its message (it is in the mailbox), or the
    /// timer was cancelled, or the incarnation that set it has ended, or the actor it
    /// sends to has ended for good, or that actor refused its message.
    pub fn is_finished(&self) -> bool {
        self.control.is_finished()
    }
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl<A: Actor> Context<A> {
    /// Sends `message` to this actor once, after `delay`.
    ///
    /// The timer ends with this incarnation of the actor (see [`TimerHandle`]); dropping
    /// the handle does not cancel it. If the mailbox is full when the delay is over, the
    /// message waits for room, as with [`ActorRef::tell`]. A zero delay sends at once,
    /// after the current handler returns at the earliest.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use playhouse::prelude::*;
    /// use tokio::sync::oneshot;
    ///
    /// #[derive(Actor)]
    /// struct Alarm {
    ///     ring: Option<oneshot::Sender<&'static str>>,
    /// }
    ///
    /// #[messages]
    /// impl Alarm {
    ///     #[message]
    ///     fn set(&mut self, ctx: &mut Context<Self>) {
    ///         ctx.send_after(Duration::from_millis(20), Ring);
    ///     }
    ///
    ///     #[message]
    ///     fn ring(&mut self) {
    ///         if let Some(ring) = self.ring.take() {
    ///             let _ = ring.send("ring!");
    ///         }
    ///     }
    /// }
    ///
    /// # #[playhouse::main]
    /// # async fn main() {
    /// let (ring, rang) = oneshot::channel();
    /// let alarm = Alarm::spawn(Alarm { ring: Some(ring) });
    /// alarm.tell(Set).await.unwrap();
    /// assert_eq!(rang.await.unwrap(), "ring!");
    /// # }
    /// ```
    pub fn send_after<M>(&self, delay: Duration, message: M) -> TimerHandle
    where
        A: Handler<M>,
        M: Message,
    {
        self.send_after_to(self.actor_ref(), delay, message)
    }

    /// Sends `message` to `target` once, after `delay`.
    ///
    /// The timer ends when this actor's incarnation ends (see [`TimerHandle`]) or when
    /// `target` ends for good, whichever comes first. A target that has stopped gets
    /// nothing, and the handle reports the timer finished at once.
    pub fn send_after_to<B, M>(
        &self,
        target: &ActorRef<B>,
        delay: Duration,
        message: M,
    ) -> TimerHandle
    where
        B: Handler<M>,
        M: Message,
    {
        let control = Control::new(self.cell(), &target.cell);
        if target.cell.refusing() {
            control.stop();
            return TimerHandle { control };
        }
        let task = once(target.clone(), Arc::clone(&control), delay, message);
        spawn_timer::<M>(self, task);
        TimerHandle { control }
    }

    /// Sends a message that `make` builds to this actor every `period`, until cancelled.
    ///
    /// The first message comes one `period` from now. The timer ends with this
    /// incarnation of the actor (see [`TimerHandle`]); dropping the handle does not
    /// cancel it.
    ///
    /// # A slow actor delays its own ticks
    ///
    /// At most one tick of a timer waits in the mailbox at a time: a tick that comes due
    /// while the previous one has not been taken yet (the actor is busy, or its mailbox is
    /// full) waits, and is sent as soon as the previous one is taken and there is room.
    /// Missed ticks are not made up; after a late tick the schedule starts again from it,
    /// one `period` later (tokio's `MissedTickBehavior::Delay`). So an interval never piles
    /// up messages, even in an unbounded mailbox.
    ///
    /// # Panics
    ///
    /// Panics if `period` is zero. A panic in `make` fails the actor (its supervisor
    /// decides what happens next), with the reason `interval timer panicked: ...`.
    ///
    /// # Examples
    ///
    /// See [`TimerHandle`].
    #[track_caller]
    pub fn send_interval<M, F>(&self, period: Duration, make: F) -> TimerHandle
    where
        A: Handler<M>,
        M: Message,
        F: FnMut() -> M + Send + 'static,
    {
        self.send_interval_to(self.actor_ref(), period, make)
    }

    /// Sends a message that `make` builds to `target` every `period`, until cancelled.
    ///
    /// As [`send_interval`](Self::send_interval); the timer also ends when `target` ends
    /// for good, and a target that has stopped gets nothing.
    ///
    /// # Panics
    ///
    /// Panics if `period` is zero.
    #[track_caller]
    pub fn send_interval_to<B, M, F>(
        &self,
        target: &ActorRef<B>,
        period: Duration,
        make: F,
    ) -> TimerHandle
    where
        B: Handler<M>,
        M: Message,
        F: FnMut() -> M + Send + 'static,
    {
        assert!(
            !period.is_zero(),
            "an interval timer needs a period above zero"
        );
        let control = Control::new(self.cell(), &target.cell);
        if target.cell.refusing() {
            control.stop();
            return TimerHandle { control };
        }
        let task = interval(target.clone(), Arc::clone(&control), period, make);
        spawn_timer::<M>(self, task);
        TimerHandle { control }
    }
}

fn spawn_timer<M>(ctx: &Context<impl Actor>, task: impl Future<Output = ()> + Send + 'static) {
    let span = tracing::debug_span!(
        "timer.run",
        actor.id = ctx.id().as_u64(),
        message.type = %short_type_name(std::any::type_name::<M>()),
    );
    drop(ctx.system().handle().spawn_in_span(span, task));
}

/// A one-shot timer's task.
async fn once<B, M>(target: ActorRef<B>, control: Arc<Control>, delay: Duration, message: M)
where
    B: Handler<M>,
    M: Message,
{
    let _finish = FinishOnDrop(&control);
    if control
        .sleep_until(&target.cell, playhouse_runtime::deadline_after(delay))
        .await
    {
        control.deliver(&target, message, true).await;
    }
}

/// An interval timer's task.
async fn interval<B, M, F>(
    target: ActorRef<B>,
    control: Arc<Control>,
    period: Duration,
    mut make: F,
) where
    B: Handler<M>,
    M: Message,
    F: FnMut() -> M + Send + 'static,
{
    let _finish = FinishOnDrop(&control);
    // One permit: held by the tick waiting in the mailbox, released when the actor takes it.
    let one_tick = Arc::new(Semaphore::new(1));
    let mut due = playhouse_runtime::deadline_after(period);
    loop {
        if !control.sleep_until(&target.cell, due).await {
            return;
        }
        let (waiting, mut late) = match Arc::clone(&one_tick).try_acquire_owned() {
            Ok(waiting) => (waiting, false),
            Err(_) => {
                let taken = tokio::select! {
                    biased;
                    () = control.stopped(&target.cell) => return,
                    taken = Arc::clone(&one_tick).acquire_owned() => taken,
                };
                match taken {
                    Ok(waiting) => (waiting, true),
                    // The semaphore is never closed.
                    Err(_) => return,
                }
            }
        };
        let Some((permit, waited)) = control.reserve(&target).await else {
            return;
        };
        late |= waited;
        let message = match catch_panic(&mut make) {
            Ok(message) => message,
            Err(panic) => {
                drop(permit);
                control.fail("interval timer", &panic);
                return;
            }
        };
        let tick = Tick {
            message,
            _waiting: waiting,
            sender: tracing::enabled!(tracing::Level::TRACE).then(tracing::Span::current),
        };
        if control.while_live(false, || permit.send(tick)).is_none() {
            return;
        }
        due = if late {
            playhouse_runtime::deadline_after(period)
        } else {
            due.checked_add(period)
                .unwrap_or_else(|| playhouse_runtime::deadline_after(period))
        };
    }
}

/// An interval's message in the mailbox, holding its timer's one-tick permit until the
/// actor takes it (or it is dropped as a dead letter).
struct Tick<M> {
    message: M,
    _waiting: OwnedSemaphorePermit,
    sender: Option<tracing::Span>,
}

impl<A, M> Dispatch<A> for Tick<M>
where
    A: Handler<M>,
    M: Message,
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
        // Dropping the permit here lets the next tick in while this one is handled.
        let Tick { message, .. } = self;
        slot.put(async move {
            actor.handle(message, ctx).await;
        })
    }

    fn sender_span(&self) -> Option<&tracing::Span> {
        self.sender.as_ref()
    }
}

/// An on/off switch that tasks can wait on: off until turned on, then on for good.
struct Switch {
    on: Mutex<bool>,
    wake: Notify,
}

impl Switch {
    fn new() -> Self {
        Self {
            on: Mutex::new(false),
            wake: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, bool> {
        self.on.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn is_on(&self) -> bool {
        *self.lock()
    }

    fn turn_on(&self) {
        *self.lock() = true;
        self.wake.notify_waiters();
    }

    async fn turned_on(&self) {
        loop {
            let notified = self.wake.notified();
            tokio::pin!(notified);
            // Register before checking, so a `turn_on` in between is not missed.
            notified.as_mut().enable();
            if self.is_on() {
                return;
            }
            notified.await;
        }
    }
}

/// The timers and attached streams of one incarnation of an actor: they end with it.
///
/// Kept in the actor's relations from the first timer or stream on; taken out and ended
/// by [`end_incarnation`] when the incarnation ends, so the next one starts afresh.
pub(crate) struct Incarnation {
    ended: Switch,
}

impl Incarnation {
    /// The current incarnation of the actor of `cell`.
    fn of(cell: &ActorCell) -> Arc<Self> {
        cell.with_relations(|relations| {
            Arc::clone(relations.incarnation.get_or_insert_with(|| {
                Arc::new(Incarnation {
                    ended: Switch::new(),
                })
            }))
        })
    }
}

/// Ends the timers and streams of the actor's incarnation that just ended. Once this
/// returns, none of them sends anything more.
pub(crate) fn end_incarnation(cell: &ActorCell) {
    let incarnation = cell
        .with_existing_relations(|relations| relations.incarnation.take())
        .flatten();
    if let Some(incarnation) = incarnation {
        incarnation.ended.turn_on();
    }
}

/// One timer or attached stream: shared by its task and its handles.
pub(crate) struct Control {
    incarnation: Arc<Incarnation>,
    /// Turned on by `cancel`/`detach`, and by the task when it ends.
    stopped: Switch,
    /// The actor that set it up, to fail if user code in it panics.
    owner: Weak<ActorCell>,
    /// The actor it sends to.
    target: Weak<ActorCell>,
}

impl Control {
    pub(crate) fn new(owner: &Arc<ActorCell>, target: &Arc<ActorCell>) -> Arc<Self> {
        Arc::new(Self {
            incarnation: Incarnation::of(owner),
            stopped: Switch::new(),
            owner: Arc::downgrade(owner),
            target: Arc::downgrade(target),
        })
    }

    /// Stops it: once this returns, it sends nothing more.
    pub(crate) fn stop(&self) {
        self.stopped.turn_on();
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.stopped.is_on()
            || self.incarnation.ended.is_on()
            || self
                .target
                .upgrade()
                .is_none_or(|target| !target.is_alive())
    }

    /// Resolves when it must stop: stopped, its incarnation ended, or `target` ended.
    pub(crate) async fn stopped(&self, target: &ActorCell) {
        tokio::select! {
            () = self.stopped.turned_on() => {}
            () = self.incarnation.ended.turned_on() => {}
            _ = target.wait() => {}
        }
    }

    /// Sleeps until `deadline`; returns `false` if it must stop first.
    pub(crate) async fn sleep_until(&self, target: &ActorCell, deadline: Instant) -> bool {
        tokio::select! {
            biased;
            () = self.stopped(target) => false,
            () = tokio::time::sleep_until(deadline) => true,
        }
    }

    /// Waits for room in `target`'s mailbox, as `tell` does. Returns the reserved place
    /// and whether it had to wait, or `None` if the target refuses messages or this must
    /// stop first.
    pub(crate) async fn reserve<'a, B: Actor>(
        &self,
        target: &'a ActorRef<B>,
    ) -> Option<(Permit<'a, B>, bool)> {
        if target.cell.refusing() {
            return None;
        }
        match target.try_reserve() {
            Ok(permit) => return Some((permit, false)),
            Err(TryReserveError::Closed) => return None,
            Err(TryReserveError::Full) => {}
        }
        let permit = tokio::select! {
            biased;
            () = self.stopped(&target.cell) => return None,
            permit = target.reserve() => permit.ok()?,
        };
        // It may have been told to stop while this waited.
        (!target.cell.refusing()).then_some((permit, true))
    }

    /// Sends `message` to `target` like `tell`, unless it must stop first. With `last`,
    /// it is finished once the message is in the mailbox. Returns `true` if delivered.
    pub(crate) async fn deliver<B, M>(&self, target: &ActorRef<B>, message: M, last: bool) -> bool
    where
        B: Handler<M>,
        M: Message,
    {
        let Some((permit, _)) = self.reserve(target).await else {
            // A message in hand that the target refuses is a dead letter (one the timer or
            // stream was merely stopped before sending is not).
            if target.cell.refusing() || !target.cell.is_alive() {
                if let Some(system) = crate::System::try_current() {
                    system.dead_letter(&target.cell, std::any::type_name::<M>());
                }
            }
            return false;
        };
        self.while_live(last, || send_tell(permit, message))
            .is_some()
    }

    /// Runs `send` unless it was stopped or its incarnation ended, holding both locks
    /// so that neither can happen meanwhile. With `last`, it is stopped afterwards.
    pub(crate) fn while_live<R>(&self, last: bool, send: impl FnOnce() -> R) -> Option<R> {
        let ended = self.incarnation.ended.lock();
        let mut stopped = self.stopped.lock();
        if *ended || *stopped {
            return None;
        }
        let result = send();
        if last {
            *stopped = true;
        }
        Some(result)
    }

    /// User code inside it (`what`) panicked: fails the actor that set it up, unless that
    /// incarnation has already ended, and stops.
    pub(crate) fn fail(&self, what: &str, panic: &str) {
        let owner = self.owner.upgrade();
        let reason = format!("{what} panicked: {panic}");
        let failed = self.while_live(true, || {
            if let Some(owner) = &owner {
                owner.fail(reason.as_str());
            }
        });
        match (&owner, failed) {
            (Some(owner), Some(())) => {
                tracing::error!(actor = %owner, %reason, "{what} panicked; the actor fails");
            }
            _ => tracing::error!(%reason, "{what} panicked after its incarnation ended"),
        }
        self.stop();
    }
}

/// Marks a timer or stream finished when its task ends, however it ends.
pub(crate) struct FinishOnDrop<'a>(pub(crate) &'a Control);

impl Drop for FinishOnDrop<'_> {
    fn drop(&mut self) {
        self.0.stop();
    }
}
