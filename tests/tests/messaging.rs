//! tell, try_tell, ask, ask_timeout, recipients, weak references, ordering.

use std::sync::Arc;
use std::time::Duration;

use playhouse::prelude::*;
use tokio::sync::Notify;

/// Records every number it is told, in the order handled.
#[derive(Actor, Default)]
struct Recorder {
    seen: Vec<u64>,
}

struct Record(u64);
impl Message for Record {
    type Reply = ();
}
impl Handler<Record> for Recorder {
    async fn handle(&mut self, Record(n): Record, _ctx: &mut Context<Self>) {
        self.seen.push(n);
    }
}

struct Seen;
impl Message for Seen {
    type Reply = Vec<u64>;
}
impl Handler<Seen> for Recorder {
    async fn handle(&mut self, _: Seen, _ctx: &mut Context<Self>) -> Vec<u64> {
        self.seen.clone()
    }
}

/// Waits on the given notify before replying: keeps the actor busy on demand.
struct Hold(Arc<Notify>);
impl Message for Hold {
    type Reply = ();
}
impl Handler<Hold> for Recorder {
    async fn handle(&mut self, Hold(gate): Hold, _ctx: &mut Context<Self>) {
        gate.notified().await;
    }
}

#[playhouse::test]
async fn tell_then_ask_sees_every_tell() {
    let recorder = Recorder::spawn(Recorder::default());
    for n in 0..10 {
        recorder.tell(Record(n)).await.unwrap();
    }
    assert_eq!(
        recorder.ask(Seen).await.unwrap(),
        (0..10).collect::<Vec<_>>()
    );
}

#[playhouse::test(worker_threads = 2)]
async fn messages_from_one_sender_are_handled_in_order_on_many_threads() {
    let recorder = Recorder::spawn(Recorder::default());
    let sender = recorder.clone();
    let count = 20_000;
    tokio::spawn(async move {
        for n in 0..count {
            sender.tell(Record(n)).await.unwrap();
        }
    })
    .await
    .unwrap();
    assert_eq!(
        recorder.ask(Seen).await.unwrap(),
        (0..count).collect::<Vec<_>>()
    );
}

#[playhouse::test]
async fn try_tell_delivers_when_there_is_room() {
    let recorder = Recorder::spawn(Recorder::default());
    recorder.try_tell(Record(7)).unwrap();
    assert_eq!(recorder.ask(Seen).await.unwrap(), vec![7]);
}

#[playhouse::test]
async fn tell_to_a_stopped_actor_returns_the_message() {
    let recorder = Recorder::spawn(Recorder::default());
    recorder.stop();
    recorder.wait().await;
    let error = recorder.tell(Record(42)).await.unwrap_err();
    assert_eq!(error.to_string(), "actor stopped; message not delivered");
    assert_eq!(error.into_inner().0, 42);
    let error = recorder.try_tell(Record(43)).unwrap_err();
    assert!(!error.is_full());
    assert_eq!(error.into_inner().0, 43);
    match recorder.ask(Seen).await {
        Err(AskError::Stopped(Seen)) => {}
        other => panic!("expected AskError::Stopped, got {other:?}"),
    }
}

#[playhouse::test(start_paused = true)]
async fn ask_timeout_expires_when_the_handler_is_slow() {
    let recorder = Recorder::spawn(Recorder::default());
    let gate = Arc::new(Notify::new());
    recorder.tell(Hold(Arc::clone(&gate))).await.unwrap();
    let error = recorder
        .ask_timeout(Seen, Duration::from_millis(50))
        .await
        .unwrap_err();
    assert!(matches!(error, AskError::Timeout), "{error:?}");
    assert!(error.is_timeout());
    // The actor is fine; once released it answers again.
    gate.notify_one();
    assert_eq!(recorder.ask(Seen).await.unwrap(), Vec::<u64>::new());
}

/// Blocks its worker thread for the given time: against the design's guidance, but the
/// asks waiting on it must still time out.
struct Block(Duration);
impl Message for Block {
    type Reply = ();
}
impl Handler<Block> for Recorder {
    async fn handle(&mut self, Block(time): Block, _ctx: &mut Context<Self>) {
        std::thread::sleep(time);
    }
}

#[playhouse::test(worker_threads = 2)]
async fn an_ask_times_out_even_when_the_handler_blocks_its_worker() {
    let recorder = Recorder::spawn(Recorder::default());
    // Asked from a task on a worker: the actor most likely runs next on that worker, and
    // blocks it. The ask's deadline must not depend on that worker.
    let asker = tokio::spawn(async move {
        let started = std::time::Instant::now();
        let asked = recorder
            .ask_timeout(Block(Duration::from_millis(2_500)), Duration::from_secs(1))
            .await;
        (asked, started.elapsed())
    });
    let (asked, waited) = tokio::time::timeout(Duration::from_secs(2), asker)
        .await
        .expect("the ask timed out by itself, before the handler was done")
        .expect("the asking task ran");
    assert!(matches!(asked, Err(AskError::Timeout)), "{asked:?}");
    assert!(waited >= Duration::from_secs(1), "early: {waited:?}");
}

#[playhouse::test(start_paused = true)]
async fn ask_uses_the_default_timeout_and_never_hangs() {
    let recorder = Recorder::spawn(Recorder::default());
    recorder.tell(Hold(Arc::new(Notify::new()))).await.unwrap();
    let started = tokio::time::Instant::now();
    let error = recorder.ask(Seen).await.unwrap_err();
    assert!(matches!(error, AskError::Timeout), "{error:?}");
    within_coarse_resolution(started.elapsed(), playhouse::DEFAULT_ASK_TIMEOUT);
    recorder.kill();
}

/// Long timeouts are watched by the system's coarse clock: never early, at most one
/// resolution late, whatever the timeout's phase relative to the clock's ticks.
fn within_coarse_resolution(waited: Duration, timeout: Duration) {
    let resolution = playhouse::runtime::COARSE_RESOLUTION;
    assert!(waited >= timeout, "fired early: {waited:?} < {timeout:?}");
    assert!(
        waited <= timeout + resolution,
        "fired late: {waited:?} > {timeout:?} + {resolution:?}"
    );
}

#[playhouse::test(start_paused = true)]
async fn long_ask_timeouts_fire_within_the_coarse_resolution_and_short_ones_exactly() {
    let recorder = Recorder::spawn(Recorder::default());
    recorder.tell(Hold(Arc::new(Notify::new()))).await.unwrap();
    // Start the clock's ticks at an odd phase, then ask with timeouts off the tick grid.
    tokio::time::sleep(Duration::from_millis(3)).await;
    for timeout in [1_234, 2_001, 1_000].map(Duration::from_millis) {
        let started = tokio::time::Instant::now();
        let error = recorder.ask_timeout(Seen, timeout).await.unwrap_err();
        assert!(error.is_timeout(), "{error:?}");
        within_coarse_resolution(started.elapsed(), timeout);
    }
    for timeout in [7, 999].map(Duration::from_millis) {
        let started = tokio::time::Instant::now();
        let error = recorder.ask_timeout(Seen, timeout).await.unwrap_err();
        assert!(error.is_timeout(), "{error:?}");
        assert_eq!(started.elapsed(), timeout, "short timeouts are exact");
    }
    recorder.kill();
}

#[playhouse::test(start_paused = true)]
async fn an_ask_waits_for_room_and_for_its_reply_within_one_timeout() {
    let recorder = Recorder::builder()
        .mailbox(Mailbox::bounded(1))
        .spawn(Recorder::default());
    let gate = Arc::new(Notify::new());
    // The actor holds the first message, the second fills the mailbox.
    recorder.tell(Hold(Arc::clone(&gate))).await.unwrap();
    recorder.tell(Hold(Arc::clone(&gate))).await.unwrap();
    let release = {
        let gate = Arc::clone(&gate);
        tokio::spawn(async move {
            // Room comes after 1.5 s; the reply never does (the second hold waits).
            tokio::time::sleep(Duration::from_millis(1_500)).await;
            gate.notify_one();
        })
    };
    let timeout = Duration::from_secs(2);
    let started = tokio::time::Instant::now();
    let error = recorder.ask_timeout(Seen, timeout).await.unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    // Two seconds from the start of the ask, not two more after the room came.
    within_coarse_resolution(started.elapsed(), timeout);
    release.await.unwrap();
    recorder.kill();
}

#[test]
fn the_default_ask_timeout_is_configurable_per_system() {
    let runtime = playhouse::Builder::new_current_thread()
        .start_paused(true)
        .extension(playhouse::SystemConfig::default().ask_timeout(Duration::from_millis(300)))
        .build()
        .unwrap();
    runtime.block_on(async {
        let recorder = Recorder::spawn(Recorder::default());
        recorder.tell(Hold(Arc::new(Notify::new()))).await.unwrap();
        let started = tokio::time::Instant::now();
        assert!(matches!(recorder.ask(Seen).await, Err(AskError::Timeout)));
        // Under a second: an exact timer.
        assert_eq!(started.elapsed(), Duration::from_millis(300));
        recorder.kill();
    });
    runtime.shutdown();
}

/// A second actor type that handles `Record`, to share a recipient list with `Recorder`.
#[derive(Actor, Default)]
struct Summer {
    sum: u64,
}
impl Handler<Record> for Summer {
    async fn handle(&mut self, Record(n): Record, _ctx: &mut Context<Self>) {
        self.sum += n;
    }
}
struct Sum;
impl Message for Sum {
    type Reply = u64;
}
impl Handler<Sum> for Summer {
    async fn handle(&mut self, _: Sum, _ctx: &mut Context<Self>) -> u64 {
        self.sum
    }
}

#[playhouse::test]
async fn recipients_of_different_actor_types_share_one_list() {
    let recorder = Recorder::spawn(Recorder::default());
    let summer = Summer::spawn(Summer::default());
    let recipients: Vec<Recipient<Record>> = vec![recorder.recipient(), summer.clone().into()];
    for recipient in &recipients {
        recipient.tell(Record(5)).await.unwrap();
        recipient.try_tell(Record(6)).unwrap();
        recipient.ask(Record(7)).await.unwrap();
        recipient
            .ask_timeout(Record(8), Duration::from_secs(1))
            .await
            .unwrap();
    }
    assert_eq!(recorder.ask(Seen).await.unwrap(), vec![5, 6, 7, 8]);
    assert_eq!(summer.ask(Sum).await.unwrap(), 26);
    assert_eq!(recipients[0].id(), recorder.id());
    assert!(recipients[1].is_alive());
    recipients[1].stop();
    assert_eq!(recipients[1].wait().await, ExitReason::Normal);
    assert_eq!(
        recipients[1]
            .tell(Record(1))
            .await
            .unwrap_err()
            .into_inner()
            .0,
        1
    );
}

#[playhouse::test]
async fn weak_reference_upgrades_only_while_the_actor_lives() {
    let recorder = Recorder::spawn(Recorder::default());
    let weak = recorder.downgrade();
    assert_eq!(weak.id(), recorder.id());
    let strong = weak.upgrade().expect("alive");
    strong.tell(Record(1)).await.unwrap();
    recorder.stop();
    recorder.wait().await;
    assert!(weak.upgrade().is_none());
    drop((recorder, strong));
    assert!(weak.upgrade().is_none());
}

#[playhouse::test]
async fn is_alive_and_exit_reason_follow_the_actor() {
    let recorder = Recorder::spawn(Recorder::default());
    assert!(recorder.is_alive());
    assert_eq!(recorder.exit_reason(), None);
    recorder.stop();
    assert_eq!(recorder.wait().await, ExitReason::Normal);
    assert!(!recorder.is_alive());
    assert_eq!(recorder.exit_reason(), Some(ExitReason::Normal));
}

#[playhouse::test]
async fn references_compare_and_print_by_actor_identity() {
    let first = Recorder::spawn(Recorder::default());
    let second = Recorder::spawn(Recorder::default());
    assert_eq!(first, first.clone());
    assert_ne!(first, second);
    assert!(first.id() < second.id(), "ids grow in spawn order");
    assert_eq!(first.to_string(), format!("Recorder{}", first.id()));
}

#[playhouse::test(start_paused = true)]
async fn a_huge_ask_timeout_is_no_panic() {
    let recorder = Recorder::spawn(Recorder::default());
    recorder
        .ask_timeout(Record(1), Duration::MAX)
        .await
        .unwrap();
    assert_eq!(
        recorder.ask_timeout(Seen, Duration::MAX).await.unwrap(),
        vec![1]
    );
}
