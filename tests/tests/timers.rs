//! Timers: `send_after`, `send_interval` and their `_to` variants, cancelling, the
//! interval's policy for a slow actor, and timers ending with their actor's incarnation.
//!
//! Every test runs on paused time: the clock only moves when every task is idle, so a
//! sleep in a test is a barrier ("everything that could run has run") and times are exact.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use playhouse::prelude::*;
use playhouse::supervision::Restart;
use playhouse::TimerHandle;
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;

const SECOND: Duration = Duration::from_secs(1);

/// Reports each ping it handles, with the time it handled it.
#[derive(Actor)]
struct Probe {
    pings: mpsc::UnboundedSender<(u32, Instant)>,
}

struct Ping(u32);
impl Message for Ping {
    type Reply = ();
}
impl Handler<Ping> for Probe {
    async fn handle(&mut self, Ping(n): Ping, _ctx: &mut Context<Self>) {
        let _ = self.pings.send((n, Instant::now()));
    }
}

#[messages]
impl Probe {
    /// Pings itself with `n` after `delay`.
    #[message]
    fn after(&self, ctx: &mut Context<Self>, delay: Duration, n: u32) -> TimerHandle {
        ctx.send_after(delay, Ping(n))
    }

    /// Pings itself with 1, 2, 3, ... every `period`.
    #[message]
    fn every(&self, ctx: &mut Context<Self>, period: Duration) -> TimerHandle {
        let mut n = 0;
        ctx.send_interval(period, move || {
            n += 1;
            Ping(n)
        })
    }

    /// Pings `target` with `n` after `delay`.
    #[message]
    fn after_to(
        &self,
        ctx: &mut Context<Self>,
        target: ActorRef<Probe>,
        delay: Duration,
        n: u32,
    ) -> TimerHandle {
        ctx.send_after_to(&target, delay, Ping(n))
    }

    /// Pings `target` with `n` every `period`.
    #[message]
    fn every_to(
        &self,
        ctx: &mut Context<Self>,
        target: ActorRef<Probe>,
        period: Duration,
        n: u32,
    ) -> TimerHandle {
        ctx.send_interval_to(&target, period, move || Ping(n))
    }

    /// Stops, then sets a timer: too late, the mailbox already refuses.
    #[message]
    fn stop_then_after(&self, ctx: &mut Context<Self>) -> TimerHandle {
        ctx.stop();
        ctx.send_after(Duration::ZERO, Ping(0))
    }

    /// An interval whose message cannot be made.
    #[message]
    fn every_panicking(&self, ctx: &mut Context<Self>) -> TimerHandle {
        ctx.send_interval(SECOND, || -> Ping { panic!("no ping today") })
    }

    /// An interval of zero, which is refused.
    #[message]
    fn every_zero(&self, ctx: &mut Context<Self>) -> TimerHandle {
        ctx.send_interval(Duration::ZERO, || Ping(0))
    }

    /// Keeps the actor busy until the gate opens.
    #[message]
    async fn hold(&self, gate: Arc<Notify>) {
        gate.notified().await;
    }
}

fn probe() -> (ActorRef<Probe>, mpsc::UnboundedReceiver<(u32, Instant)>) {
    let (pings, received) = mpsc::unbounded_channel();
    (Probe::spawn(Probe { pings }), received)
}

/// Lets every task run until it waits (the paused clock moves only then).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

#[test]
fn timer_handles_are_send_sync_clone_and_debug() {
    fn check<T: Send + Sync + Clone + std::fmt::Debug + 'static>() {}
    check::<TimerHandle>();
}

#[playhouse::test(start_paused = true)]
async fn send_after_sends_once_after_the_delay() {
    let (probe, mut pings) = probe();
    let start = Instant::now();
    let timer = probe
        .ask(After {
            delay: 5 * SECOND,
            n: 7,
        })
        .await
        .unwrap();
    assert!(!timer.is_finished());
    let (n, at) = pings.recv().await.unwrap();
    assert_eq!((n, at - start), (7, 5 * SECOND));
    assert!(timer.is_finished());
    tokio::time::sleep(60 * SECOND).await;
    assert!(pings.try_recv().is_err(), "a one-shot timer fired twice");
    assert_eq!(format!("{timer:?}"), "TimerHandle { finished: true }");
}

#[playhouse::test(start_paused = true)]
async fn dropping_the_handle_does_not_cancel_the_timer() {
    let (probe, mut pings) = probe();
    drop(
        probe
            .ask(After {
                delay: SECOND,
                n: 1,
            })
            .await
            .unwrap(),
    );
    assert_eq!(pings.recv().await.unwrap().0, 1);
}

#[playhouse::test(start_paused = true)]
async fn send_interval_ticks_every_period_until_cancelled() {
    let (probe, mut pings) = probe();
    let start = Instant::now();
    let timer = probe.ask(Every { period: SECOND }).await.unwrap();
    for n in 1..=3 {
        let (got, at) = pings.recv().await.unwrap();
        assert_eq!((got, at - start), (n, n * SECOND));
    }
    timer.cancel();
    assert!(timer.is_finished());
    tokio::time::sleep(10 * SECOND).await;
    assert!(pings.try_recv().is_err(), "a cancelled interval ticked");
    // Cancelling again does nothing.
    timer.cancel();
}

#[playhouse::test(start_paused = true)]
async fn a_timer_cancelled_before_its_delay_sends_nothing() {
    let (probe, mut pings) = probe();
    let timer = probe
        .ask(After {
            delay: 5 * SECOND,
            n: 1,
        })
        .await
        .unwrap();
    tokio::time::sleep(2 * SECOND).await;
    timer.clone().cancel();
    assert!(timer.is_finished());
    tokio::time::sleep(10 * SECOND).await;
    assert!(pings.try_recv().is_err());
    assert!(probe.is_alive());
}

#[playhouse::test(start_paused = true)]
async fn a_slow_actor_delays_its_own_ticks_and_they_never_pile_up() {
    let (pings, mut received) = mpsc::unbounded_channel();
    // Unbounded: nothing but the interval's own policy keeps ticks from piling up.
    let probe = Probe::builder()
        .mailbox(Mailbox::unbounded())
        .spawn(Probe { pings });
    let start = Instant::now();
    probe.ask(Every { period: SECOND }).await.unwrap();
    let gate = Arc::new(Notify::new());
    probe
        .tell(Hold {
            gate: Arc::clone(&gate),
        })
        .await
        .unwrap();

    // Busy for ten and a half periods: one tick waits in the mailbox, the rest wait for it.
    tokio::time::sleep(SECOND * 21 / 2).await;
    assert_eq!(probe.mailbox_len(), 1);
    gate.notify_one();

    // The waiting tick, then at once the one that waited for it; then one period apart
    // from there. Missed ticks are not made up.
    let mut times = Vec::new();
    for _ in 0..4 {
        let (n, at) = received.recv().await.unwrap();
        times.push((n, at - start));
    }
    assert_eq!(
        times,
        [
            (1, SECOND * 21 / 2),
            (2, SECOND * 21 / 2),
            (3, SECOND * 23 / 2),
            (4, SECOND * 25 / 2),
        ]
    );
}

#[playhouse::test(start_paused = true)]
async fn coarse_timeouts_fire_never_early_and_at_most_a_resolution_late() {
    let clock = System::current().handle().coarse_clock().clone();
    let resolution = playhouse::runtime::COARSE_RESOLUTION;
    // Off the watcher's grid, with the watcher idle and busy, and a timeout already due.
    tokio::time::sleep(Duration::from_millis(3)).await;
    let long = clock.timeout(10 * SECOND);
    tokio::pin!(long);
    assert!(futures_poll_once(long.as_mut()).is_pending());
    for timeout in [1_234, 7, 20, 0].map(Duration::from_millis) {
        let started = Instant::now();
        clock.timeout(timeout).await;
        let waited = started.elapsed();
        assert!(waited >= timeout, "early: {waited:?} < {timeout:?}");
        assert!(
            waited <= timeout + resolution,
            "late: {waited:?} > {timeout:?} + {resolution:?}"
        );
    }
}

#[playhouse::test(start_paused = true)]
async fn a_coarse_timeout_given_up_by_a_select_still_fires_on_time() {
    let clock = System::current().handle().coarse_clock().clone();
    let started = Instant::now();
    let timeout = clock.timeout(SECOND);
    tokio::pin!(timeout);
    tokio::select! {
        () = &mut timeout => panic!("fired 700 ms early"),
        () = tokio::time::sleep(Duration::from_millis(300)) => {}
    }
    timeout.await;
    let waited = started.elapsed();
    assert!(waited >= SECOND, "early: {waited:?}");
    assert!(
        waited <= SECOND + playhouse::runtime::COARSE_RESOLUTION,
        "late: {waited:?}"
    );
}

fn futures_poll_once<F: std::future::Future>(
    future: std::pin::Pin<&mut F>,
) -> std::task::Poll<F::Output> {
    future.poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
}

#[playhouse::test(start_paused = true)]
async fn timers_end_when_their_actor_stops() {
    // The system's coarse clock (which watches asks' deadlines) runs one task for good once
    // first needed: start it before counting.
    let clock = System::current().handle().coarse_clock().clone();
    clock
        .deadline(Instant::now() + Duration::from_millis(20))
        .await;
    for kill in [false, true] {
        let before = alive_tasks();
        let (probe, mut pings) = probe();
        let every = probe.ask(Every { period: SECOND }).await.unwrap();
        let later = probe
            .ask(After {
                delay: 10 * SECOND,
                n: 100,
            })
            .await
            .unwrap();
        assert_eq!(pings.recv().await.unwrap().0, 1);
        if kill {
            probe.kill();
        } else {
            probe.stop();
        }
        probe.wait().await;
        assert!(every.is_finished() && later.is_finished());
        // The actor's sender is gone with it: nothing came after the first tick.
        assert!(pings.recv().await.is_none());
        // And the timers' tasks are gone too, not just silent.
        settle().await;
        assert_eq!(alive_tasks(), before);
    }
}

#[playhouse::test(start_paused = true)]
async fn a_timer_on_a_stopped_actor_does_nothing_and_is_finished() {
    let (owner, _owner_pings) = probe();
    let (stopped, mut stopped_pings) = probe();
    stopped.stop();
    stopped.wait().await;
    let after = owner
        .ask(AfterTo {
            target: stopped.clone(),
            delay: SECOND,
            n: 1,
        })
        .await
        .unwrap();
    let every = owner
        .ask(EveryTo {
            target: stopped.clone(),
            period: SECOND,
            n: 2,
        })
        .await
        .unwrap();
    assert!(after.is_finished() && every.is_finished());
    assert!(stopped_pings.recv().await.is_none());

    // An actor that is stopping refuses its own timers too.
    let (stopping, mut pings) = probe();
    let timer = stopping.ask(StopThenAfter).await.unwrap();
    assert!(timer.is_finished());
    assert_eq!(stopping.wait().await, ExitReason::Normal);
    assert!(pings.recv().await.is_none());
}

#[playhouse::test(start_paused = true)]
async fn send_after_to_reaches_another_actor() {
    let (owner, mut owner_pings) = probe();
    let (target, mut target_pings) = probe();
    let start = Instant::now();
    let timer = owner
        .ask(AfterTo {
            target: target.clone(),
            delay: 3 * SECOND,
            n: 9,
        })
        .await
        .unwrap();
    let (n, at) = target_pings.recv().await.unwrap();
    assert_eq!((n, at - start), (9, 3 * SECOND));
    assert!(timer.is_finished());
    assert!(owner_pings.try_recv().is_err());
}

#[playhouse::test(start_paused = true)]
async fn a_timer_to_another_actor_ends_when_that_actor_ends() {
    let (owner, _owner_pings) = probe();
    let (target, mut target_pings) = probe();
    let every = owner
        .ask(EveryTo {
            target: target.clone(),
            period: SECOND,
            n: 5,
        })
        .await
        .unwrap();
    assert_eq!(target_pings.recv().await.unwrap().0, 5);
    target.stop();
    target.wait().await;
    assert!(every.is_finished());
    assert!(owner.is_alive());
}

#[playhouse::test(start_paused = true)]
async fn a_timer_to_another_actor_ends_when_its_owner_ends() {
    let (owner, _owner_pings) = probe();
    let (target, mut target_pings) = probe();
    let timer = owner
        .ask(AfterTo {
            target: target.clone(),
            delay: 5 * SECOND,
            n: 1,
        })
        .await
        .unwrap();
    owner.stop();
    owner.wait().await;
    assert!(timer.is_finished());
    tokio::time::sleep(10 * SECOND).await;
    assert!(target_pings.try_recv().is_err());
    assert!(target.is_alive());
}

#[playhouse::test(start_paused = true)]
async fn a_panic_while_making_a_tick_fails_the_actor() {
    let (probe, _pings) = probe();
    let timer = probe.ask(EveryPanicking).await.unwrap();
    assert_eq!(
        probe.wait().await,
        ExitReason::Failed("interval timer panicked: no ping today".into())
    );
    assert!(timer.is_finished());
}

#[playhouse::test(start_paused = true)]
async fn an_interval_of_zero_is_refused_with_a_panic() {
    let (probe, _pings) = probe();
    match probe.ask(EveryZero).await {
        Err(AskError::Panicked(message)) => {
            assert_eq!(&*message, "an interval timer needs a period above zero");
        }
        other => panic!("expected a panic, got {other:?}"),
    }
}

/// Beats every second from `on_start`, and hands out each incarnation's timer.
struct Beating {
    pings: mpsc::UnboundedSender<(u32, Instant)>,
}

impl Actor for Beating {
    type Args = (
        mpsc::UnboundedSender<(u32, Instant)>,
        mpsc::UnboundedSender<TimerHandle>,
    );
    type Error = Infallible;

    async fn on_start(
        (pings, timers): Self::Args,
        ctx: &mut Context<Self>,
    ) -> Result<Self, Infallible> {
        let mut n = 0;
        let timer = ctx.send_interval(SECOND, move || {
            n += 1;
            Ping(n)
        });
        let _ = timers.send(timer);
        Ok(Beating { pings })
    }
}

impl Handler<Ping> for Beating {
    async fn handle(&mut self, Ping(n): Ping, _ctx: &mut Context<Self>) {
        let _ = self.pings.send((n, Instant::now()));
    }
}

struct Crash;
impl Message for Crash {
    type Reply = ();
}
impl Handler<Crash> for Beating {
    async fn handle(&mut self, _: Crash, _ctx: &mut Context<Self>) {
        panic!("crash");
    }
}

/// Timers belong to the incarnation: a restarted actor sets its interval again in
/// `on_start`, and the old one must not go on beside it.
#[playhouse::test(start_paused = true)]
async fn timers_end_with_the_incarnation_and_a_restart_does_not_double_them() {
    let (pings, mut received) = mpsc::unbounded_channel();
    let (timers, mut handed_out) = mpsc::unbounded_channel();
    let beating = System::current().supervise::<Beating>(Restart::Transient, (pings, timers));
    let first = handed_out.recv().await.unwrap();
    assert_eq!(received.recv().await.unwrap().0, 1);
    assert_eq!(received.recv().await.unwrap().0, 2);

    assert!(matches!(
        beating.ask(Crash).await,
        Err(AskError::Panicked(_))
    ));
    let second = handed_out.recv().await.unwrap();
    let restarted = Instant::now();
    assert!(first.is_finished());
    assert!(!second.is_finished());

    // Only the new interval beats: its count starts again, once a period.
    for n in 1..=5 {
        let (got, at) = received.recv().await.unwrap();
        assert_eq!((got, at - restarted), (n, n * SECOND));
    }
    beating.stop();
    beating.wait().await;
    assert!(second.is_finished());
}

#[playhouse::test(start_paused = true)]
async fn a_timer_of_any_length_is_no_panic_and_can_be_cancelled() {
    let (probe, mut pings) = probe();
    let timer = probe
        .ask(After {
            delay: Duration::MAX,
            n: 1,
        })
        .await
        .unwrap();
    tokio::time::sleep(3600 * SECOND).await;
    assert!(!timer.is_finished(), "still waiting, not crashed");
    timer.cancel();
    assert!(timer.is_finished());
    assert!(pings.try_recv().is_err());
    let interval = probe
        .ask(Every {
            period: Duration::MAX,
        })
        .await
        .unwrap();
    tokio::time::sleep(3600 * SECOND).await;
    assert!(!interval.is_finished());
    interval.cancel();
}
