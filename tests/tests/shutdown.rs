//! System shutdown: every actor stops, newest first, within a timeout, with a report.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use playhouse::prelude::*;
use playhouse::Builder;
use tokio::sync::Notify;

/// Writes its name to a shared log when it stops.
struct Logged {
    name: &'static str,
    log: Arc<Mutex<Vec<String>>>,
}

impl Actor for Logged {
    type Args = (&'static str, Arc<Mutex<Vec<String>>>);
    type Error = std::convert::Infallible;

    async fn on_start(
        (name, log): Self::Args,
        _ctx: &mut Context<Self>,
    ) -> Result<Self, Self::Error> {
        Ok(Logged { name, log })
    }

    async fn on_stop(&mut self, _ctx: &mut Context<Self>, reason: &ExitReason) {
        self.log
            .lock()
            .unwrap()
            .push(format!("{} {reason}", self.name));
    }
}

/// Never returns: the kind of handler a shutdown must cut off.
struct Stuck(Arc<Notify>);
impl Message for Stuck {
    type Reply = ();
}
impl Handler<Stuck> for Logged {
    async fn handle(&mut self, Stuck(started): Stuck, _ctx: &mut Context<Self>) {
        started.notify_one();
        std::future::pending::<()>().await;
    }
}

#[test]
fn shutdown_stops_every_actor_in_reverse_start_order() {
    let runtime = Builder::new().worker_threads(2).build().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let actors = runtime.block_on(async {
        ["first", "second", "third"].map(|name| Logged::spawn((name, Arc::clone(&log))))
    });
    let report = runtime.shutdown();
    assert!(report.is_clean(), "{report}");
    let expected: Vec<String> = actors.iter().rev().map(ToString::to_string).collect();
    assert_eq!(report.stopped, expected);
    assert_eq!(
        *log.lock().unwrap(),
        ["third shut down", "second shut down", "first shut down"]
    );
    for actor in &actors {
        assert_eq!(actor.exit_reason(), Some(ExitReason::Shutdown));
    }
}

/// Spawns a calm actor, then one stuck in a handler that never returns.
async fn calm_then_stuck(log: &Arc<Mutex<Vec<String>>>) -> (ActorRef<Logged>, ActorRef<Logged>) {
    let fine = Logged::spawn(("fine", Arc::clone(log)));
    let stuck = Logged::spawn(("stuck", Arc::clone(log)));
    let started = Arc::new(Notify::new());
    stuck.tell(Stuck(Arc::clone(&started))).await.unwrap();
    started.notified().await;
    (fine, stuck)
}

#[test]
fn shutdown_cuts_off_what_does_not_stop_in_time_and_says_so() {
    let runtime = Builder::new_current_thread()
        .start_paused(true)
        .extension(playhouse::SystemConfig::default().stop_timeout(Duration::from_millis(100)))
        .build()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (fine, stuck) = runtime.block_on(calm_then_stuck(&log));
    let report = runtime.shutdown_timeout(Duration::from_secs(1));
    assert_eq!(report.cut_off, vec![stuck.to_string()]);
    assert_eq!(report.stopped, vec![fine.to_string()]);
    assert!(!report.is_clean());
    assert!(report.to_string().contains("1 cut off"), "{report}");
    assert_eq!(stuck.exit_reason(), Some(ExitReason::Killed));
    assert_eq!(*log.lock().unwrap(), ["fine shut down"]);
}

#[test]
fn the_shutdown_timeout_bounds_the_whole_shutdown() {
    let runtime = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (older, stuck) = runtime.block_on(calm_then_stuck(&log));
    // The stuck actor uses up the whole second, so the older one is cut off as well.
    let report = runtime.shutdown_timeout(Duration::from_secs(1));
    let mut cut_off = report.cut_off.clone();
    cut_off.sort();
    let mut expected = vec![stuck.to_string(), older.to_string()];
    expected.sort();
    assert_eq!(cut_off, expected);
    assert_eq!(report.elapsed, Duration::from_secs(1));
}

#[playhouse::test]
async fn shutdown_drains_queued_messages_and_leaves_no_actor_alive() {
    let system = System::current();
    let log = Arc::new(Mutex::new(Vec::new()));
    let actors: Vec<_> = (0..50)
        .map(|_| Logged::spawn(("worker", Arc::clone(&log))))
        .collect();
    assert_eq!(system.live_actors(), 50);
    let report = system.shutdown().await;
    assert_eq!(report.stopped.len(), 50);
    assert_eq!(system.live_actors(), 0);
    for actor in &actors {
        assert!(!actor.is_alive());
    }
    // A second call waits for the same shutdown and returns the same report.
    assert_eq!(system.shutdown().await, report);
}

#[playhouse::test]
async fn an_actor_spawned_after_shutdown_is_stopped_at_once() {
    let system = System::current();
    system.shutdown().await;
    let log = Arc::new(Mutex::new(Vec::new()));
    let late = Logged::spawn(("late", Arc::clone(&log)));
    assert_eq!(late.wait().await, ExitReason::Shutdown);
    assert_eq!(system.live_actors(), 0);
}

#[test]
fn dropping_the_runtime_releases_waiters_and_asks() {
    let runtime = Builder::new_current_thread().build().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let actor = runtime.block_on(async { Logged::spawn(("dropped", Arc::clone(&log))) });
    drop(runtime);
    assert_eq!(actor.exit_reason(), Some(ExitReason::Killed));
}

#[test]
fn a_huge_shutdown_timeout_is_no_panic() {
    let runtime = Builder::new_current_thread()
        .shutdown_timeout(Duration::MAX)
        .extension(playhouse::SystemConfig::default().stop_timeout(Duration::MAX))
        .build()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    runtime.block_on(async { Logged::spawn(("calm", Arc::clone(&log))) });
    assert!(runtime.shutdown().is_clean());
}

#[playhouse::test]
async fn a_shutdown_nobody_waits_for_still_runs_to_the_end() {
    let system = System::current();
    let log = Arc::new(Mutex::new(Vec::new()));
    let actors: Vec<_> = (0..3)
        .map(|_| Logged::spawn(("worker", Arc::clone(&log))))
        .collect();
    // Started, then abandoned at once: the shutdown is a task of its own.
    drop(system.shutdown());
    for actor in &actors {
        assert_eq!(actor.wait().await, ExitReason::Shutdown);
    }
    let report = system.shutdown().await;
    assert_eq!(report.stopped.len(), 3);
    assert_eq!(log.lock().unwrap().len(), 3);
}

/// Each one, as it stops, takes a while and then spawns a top-level successor.
struct Hydra;

impl Actor for Hydra {
    type Args = ();
    type Error = std::convert::Infallible;

    async fn on_start((): (), _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Hydra)
    }

    async fn on_stop(&mut self, ctx: &mut Context<Self>, _reason: &ExitReason) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        ctx.system().spawn::<Hydra>(());
    }
}

#[test]
fn a_shutdown_ends_even_when_actors_keep_spawning_more() {
    let runtime = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        Hydra::spawn(());
    });
    let report = runtime.shutdown_timeout(Duration::from_secs(1));
    // The first one stops; its successor, spawned during shutdown, is stopped at once.
    assert!(report.elapsed <= Duration::from_secs(1), "{report}");
    assert_eq!(report.stopped.len() + report.cut_off.len(), 2, "{report}");
}

/// Spawns two children that log their stop, so the shutdown order can be read.
struct Parent {
    name: &'static str,
    log: Arc<Mutex<Vec<String>>>,
}

impl Actor for Parent {
    type Args = (&'static str, Arc<Mutex<Vec<String>>>);
    type Error = std::convert::Infallible;

    async fn on_start(
        (name, log): Self::Args,
        ctx: &mut Context<Self>,
    ) -> Result<Self, Self::Error> {
        for child in ["child 1", "child 2"] {
            ctx.spawn::<Logged>((child, Arc::clone(&log)));
        }
        Ok(Parent { name, log })
    }

    async fn on_stop(&mut self, _ctx: &mut Context<Self>, reason: &ExitReason) {
        self.log
            .lock()
            .unwrap()
            .push(format!("{} {reason}", self.name));
    }
}

#[test]
fn shutdown_stops_the_tree_from_the_top_children_before_their_parent() {
    let runtime = Builder::new().worker_threads(2).build().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (parent, last) = runtime.block_on(async {
        let parent = Parent::spawn(("parent", Arc::clone(&log)));
        let last = Logged::spawn(("last", Arc::clone(&log)));
        while System::current().live_actors() < 4 {
            tokio::task::yield_now().await;
        }
        (parent, last)
    });
    let report = runtime.shutdown();
    assert!(report.is_clean(), "{report}");
    assert_eq!(
        *log.lock().unwrap(),
        [
            "last shut down",
            "child 2 shut down",
            "child 1 shut down",
            "parent shut down"
        ]
    );
    assert_eq!(report.stopped.len(), 4);
    assert_eq!(report.stopped[0], last.to_string());
    assert_eq!(report.stopped[3], parent.to_string());
}

/// Never finishes starting.
struct NeverStarts;

impl Actor for NeverStarts {
    type Args = ();
    type Error = std::convert::Infallible;

    async fn on_start((): (), _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        std::future::pending().await
    }
}

/// Spawns a `NeverStarts` while it stops, that is, during the shutdown.
struct SpawnsWhileStopping;

impl Actor for SpawnsWhileStopping {
    type Args = ();
    type Error = std::convert::Infallible;

    async fn on_start((): (), _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(SpawnsWhileStopping)
    }

    async fn on_stop(&mut self, ctx: &mut Context<Self>, _reason: &ExitReason) {
        ctx.system().spawn::<NeverStarts>(());
    }
}

#[test]
fn an_actor_spawned_during_shutdown_that_never_starts_is_cut_off() {
    let runtime = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    let system = runtime.block_on(async {
        SpawnsWhileStopping::spawn(());
        System::current()
    });
    let report = runtime.shutdown_timeout(Duration::from_secs(1));
    assert_eq!(report.stopped.len(), 1, "{report}");
    assert_eq!(report.cut_off.len(), 1, "{report}");
    assert!(report.cut_off[0].starts_with("NeverStarts#"), "{report}");
    assert_eq!(system.live_actors(), 0);
}

/// Blocks its own thread for a second when told to: not even a kill ends it sooner.
#[derive(Actor)]
struct Sleeper;

#[messages]
impl Sleeper {
    #[message]
    fn block(&self, entered: std::sync::mpsc::Sender<()>) {
        let _ = entered.send(());
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// A top-level actor whose child blocks its thread.
struct Holder;

impl Actor for Holder {
    type Args = std::sync::mpsc::Sender<()>;
    type Error = std::convert::Infallible;

    async fn on_start(entered: Self::Args, ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        let child = Sleeper::builder()
            .dedicated_thread()
            .spawn_child(ctx, Sleeper);
        child.tell(Block { entered }).await.unwrap();
        Ok(Holder)
    }
}

#[test]
fn a_child_its_parent_gave_up_on_is_still_cut_off_at_shutdown() {
    let runtime = Builder::new()
        .worker_threads(1)
        .extension(playhouse::SystemConfig::default().stop_timeout(Duration::from_millis(50)))
        .build()
        .unwrap();
    let (entered, entered_rx) = std::sync::mpsc::channel();
    runtime.block_on(async move {
        Holder::spawn(entered);
    });
    entered_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the child blocks its thread");
    // The parent stops its child, waits, kills it, waits again, gives up and ends: the
    // child, still blocked, is no longer under the root, yet the shutdown finds it.
    let report = runtime.shutdown_timeout(Duration::from_millis(500));
    assert!(
        report
            .cut_off
            .iter()
            .any(|name| name.starts_with("Sleeper#")),
        "{report}"
    );
    assert!(
        report
            .stopped
            .iter()
            .any(|name| name.starts_with("Holder#")),
        "{report}"
    );
}

/// Never finishes `on_stop`, and panics when dropped.
struct StopsForeverPanicsOnDrop;

impl Actor for StopsForeverPanicsOnDrop {
    type Args = ();
    type Error = std::convert::Infallible;

    async fn on_start((): (), _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(StopsForeverPanicsOnDrop)
    }

    async fn on_stop(&mut self, _ctx: &mut Context<Self>, _reason: &ExitReason) {
        std::future::pending::<()>().await;
    }
}

impl Drop for StopsForeverPanicsOnDrop {
    fn drop(&mut self) {
        panic!("dropped while stopping");
    }
}

#[test]
fn dropping_the_runtime_mid_on_stop_records_the_end_even_if_the_actor_panics_in_drop() {
    let runtime = Builder::new_current_thread().build().unwrap();
    let actor = runtime.block_on(async {
        let actor = StopsForeverPanicsOnDrop::spawn(());
        actor.stop();
        // Let it reach its `on_stop`, which never returns.
        tokio::time::sleep(Duration::from_millis(20)).await;
        actor
    });
    assert!(actor.is_alive(), "still in on_stop");
    drop(runtime);
    assert!(
        !actor.is_alive(),
        "the end is recorded when the task is dropped"
    );
    assert_eq!(actor.exit_reason(), Some(ExitReason::Killed));
}
