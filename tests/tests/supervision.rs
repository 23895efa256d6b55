//! Supervision: restart policies, strategies, intensity and escalation, backoff, hooks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use playhouse::prelude::*;
use playhouse::supervision::{Backoff, ChildExit, Decision, Restart, Strategy, Supervision};
use playhouse::SystemConfig;
use tokio::sync::Notify;

/// A shared, ordered record of what the actors did.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, line: impl Into<String>) {
        self.0.lock().unwrap().push(line.into());
    }

    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    fn count(&self, line: &str) -> usize {
        self.lines().iter().filter(|seen| *seen == line).count()
    }
}

/// A worker that logs its lifecycle and does what it is told, crashes included.
struct Worker {
    name: &'static str,
    log: Log,
    handled: u32,
}

#[derive(Clone)]
struct WorkerArgs {
    name: &'static str,
    log: Log,
}

impl Actor for Worker {
    type Args = WorkerArgs;
    type Error = String;

    async fn on_start(args: WorkerArgs, _ctx: &mut Context<Self>) -> Result<Self, String> {
        args.log.push(format!("start {}", args.name));
        Ok(Worker {
            name: args.name,
            log: args.log,
            handled: 0,
        })
    }

    async fn on_stop(&mut self, _ctx: &mut Context<Self>, reason: &ExitReason) {
        self.log.push(format!("stop {}: {reason}", self.name));
    }
}

#[messages]
impl Worker {
    /// Panics.
    #[message]
    fn crash(&mut self) -> u32 {
        panic!("{} crashed", self.name)
    }

    /// Fails on purpose, after replying.
    #[message]
    fn give_up(&mut self, ctx: &mut Context<Self>) {
        ctx.fail("cannot go on");
    }

    /// Replies with how many `Work` messages this incarnation handled, this one included.
    #[message]
    fn work(&mut self) -> u32 {
        self.handled += 1;
        self.handled
    }

    /// Blocks until the gate opens.
    #[message]
    async fn hold(&mut self, gate: Arc<Notify>) {
        gate.notified().await;
    }
}

fn worker(name: &'static str, log: &Log) -> WorkerArgs {
    WorkerArgs {
        name,
        log: log.clone(),
    }
}

/// A supervisor of workers, configured by its arguments.
struct Boss {
    workers: Vec<ActorRef<Worker>>,
    log: Log,
}

#[derive(Clone)]
struct BossArgs {
    children: Vec<(&'static str, Restart)>,
    log: Log,
}

/// The supervision of `Boss` actors, per test thread: each test (on its own current-thread
/// runtime) sets it before spawning them.
static SUPERVISION: Mutex<Vec<(std::thread::ThreadId, Supervision)>> = Mutex::new(Vec::new());

impl Actor for Boss {
    type Args = BossArgs;
    type Error = std::convert::Infallible;

    async fn on_start(args: BossArgs, ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        args.log.push("start boss");
        let workers = args
            .children
            .iter()
            .map(|(name, restart)| ctx.supervise::<Worker>(*restart, worker(name, &args.log)))
            .collect();
        Ok(Boss {
            workers,
            log: args.log,
        })
    }

    async fn on_stop(&mut self, _ctx: &mut Context<Self>, reason: &ExitReason) {
        self.log.push(format!("stop boss: {reason}"));
    }

    async fn on_child_exit(&mut self, _ctx: &mut Context<Self>, exit: ChildExit) {
        let decision = match exit.decision {
            Decision::Restarted { attempt, .. } => format!("restarted #{attempt}"),
            Decision::RestartedWithSibling => "restarted with sibling".to_owned(),
            Decision::Stopped => "stopped".to_owned(),
            Decision::Escalated => "escalated".to_owned(),
            other => format!("{other:?}"),
        };
        self.log.push(format!(
            "child {}: {} -> {decision}",
            exit.name, exit.reason
        ));
    }

    fn supervision() -> Supervision {
        let this = std::thread::current().id();
        SUPERVISION
            .lock()
            .unwrap()
            .iter()
            .find(|(thread, _)| *thread == this)
            .map(|(_, supervision)| *supervision)
            .unwrap_or_default()
    }
}

struct Workers;
impl Message for Workers {
    type Reply = Vec<ActorRef<Worker>>;
}
impl Handler<Workers> for Boss {
    async fn handle(&mut self, _: Workers, _ctx: &mut Context<Self>) -> Vec<ActorRef<Worker>> {
        self.workers.clone()
    }
}

/// Retires a child for good.
struct Retire(usize);
impl Message for Retire {
    type Reply = ();
}
impl Handler<Retire> for Boss {
    async fn handle(&mut self, Retire(index): Retire, ctx: &mut Context<Self>) {
        ctx.stop_child(&self.workers[index]);
    }
}

/// Sets the supervision of bosses spawned by tests on this thread (current-thread runtimes).
fn boss_supervision(supervision: Supervision) {
    let this = std::thread::current().id();
    let mut all = SUPERVISION.lock().unwrap();
    all.retain(|(thread, _)| *thread != this);
    all.push((this, supervision));
}

fn quick() -> Supervision {
    Supervision::default().backoff(Backoff::none())
}

async fn boss(
    children: &[(&'static str, Restart)],
    log: &Log,
) -> (ActorRef<Boss>, Vec<ActorRef<Worker>>) {
    let boss = Boss::spawn(BossArgs {
        children: children.to_vec(),
        log: log.clone(),
    });
    let workers = boss.ask(Workers).await.unwrap();
    (boss, workers)
}

#[playhouse::test]
async fn a_permanent_child_is_restarted_after_a_panic_behind_the_same_reference() {
    boss_supervision(quick());
    let log = Log::default();
    let (_boss, workers) = boss(&[("a", Restart::Permanent)], &log).await;
    let a = &workers[0];
    assert_eq!(a.ask(Work).await.unwrap(), 1);
    let gate = Arc::new(Notify::new());
    a.tell(Hold {
        gate: Arc::clone(&gate),
    })
    .await
    .unwrap();
    // Queued behind the hold: the crash, then work that must survive the restart.
    let crash = {
        let a = a.clone();
        tokio::spawn(async move { a.ask(Crash).await })
    };
    while a.mailbox_len() < 1 {
        tokio::task::yield_now().await;
    }
    let after = {
        let a = a.clone();
        tokio::spawn(async move { a.ask(Work).await })
    };
    while a.mailbox_len() < 2 {
        tokio::task::yield_now().await;
    }
    gate.notify_one();
    assert!(matches!(crash.await.unwrap(), Err(AskError::Panicked(m)) if &*m == "a crashed"));
    // The queued message was handled by the new incarnation: its count starts again at 1.
    assert_eq!(after.await.unwrap().unwrap(), 1);
    assert!(a.is_alive());
    assert_eq!(log.count("start a"), 2);
    let lines = log.lines();
    assert!(
        lines
            .iter()
            .any(|line| line.ends_with("panicked in handle(Crash): a crashed -> restarted #1")),
        "the supervisor's hook heard the decision: {lines:?}"
    );
}

#[playhouse::test]
async fn a_permanent_child_is_restarted_even_after_a_normal_stop() {
    boss_supervision(quick());
    let log = Log::default();
    let (_boss, workers) = boss(&[("a", Restart::Permanent)], &log).await;
    workers[0].stop();
    // The restart happens behind the same reference.
    while log.count("start a") < 2 {
        tokio::task::yield_now().await;
    }
    assert_eq!(workers[0].ask(Work).await.unwrap(), 1);
}

#[playhouse::test]
async fn a_transient_child_is_restarted_after_failures_only() {
    boss_supervision(quick());
    let log = Log::default();
    let (_boss, workers) = boss(&[("t", Restart::Transient)], &log).await;
    let t = &workers[0];
    t.tell(GiveUp).await.unwrap();
    assert_eq!(t.ask(Work).await.unwrap(), 1, "restarted after ctx.fail");
    t.kill();
    while log.count("start t") < 3 {
        tokio::task::yield_now().await;
    }
    assert_eq!(t.ask(Work).await.unwrap(), 1, "restarted after a kill");
    t.stop();
    assert_eq!(t.wait().await, ExitReason::Normal, "a normal stop ends it");
    assert_eq!(log.count("start t"), 3);
}

#[playhouse::test]
async fn a_temporary_child_is_never_restarted() {
    boss_supervision(quick());
    let log = Log::default();
    let (boss, workers) = boss(&[("tmp", Restart::Temporary)], &log).await;
    assert!(workers[0].ask(Crash).await.is_err());
    assert!(matches!(workers[0].wait().await, ExitReason::Panicked(_)));
    assert_eq!(log.count("start tmp"), 1);
    assert!(
        boss.is_alive(),
        "a temporary child's failure leaves its supervisor alone"
    );
}

#[playhouse::test]
async fn one_for_one_restarts_only_the_failed_child() {
    boss_supervision(quick());
    let log = Log::default();
    let (_boss, workers) = boss(
        &[("a", Restart::Permanent), ("b", Restart::Permanent)],
        &log,
    )
    .await;
    assert_eq!(workers[1].ask(Work).await.unwrap(), 1);
    assert!(workers[0].ask(Crash).await.is_err());
    assert_eq!(workers[0].ask(Work).await.unwrap(), 1);
    assert_eq!(
        workers[1].ask(Work).await.unwrap(),
        2,
        "the sibling kept its state"
    );
    assert_eq!(log.count("start b"), 1);
}

/// A boss with permanent children `a`, `b`, `c`, each of which has handled one `Work`.
async fn three_permanent_workers_that_worked_once(log: &Log) -> Vec<ActorRef<Worker>> {
    let children = [
        ("a", Restart::Permanent),
        ("b", Restart::Permanent),
        ("c", Restart::Permanent),
    ];
    let (_boss, workers) = boss(&children, log).await;
    for worker in &workers {
        assert_eq!(worker.ask(Work).await.unwrap(), 1);
    }
    workers
}

#[playhouse::test]
async fn one_for_all_restarts_every_child() {
    boss_supervision(quick().strategy(Strategy::OneForAll));
    let log = Log::default();
    let workers = three_permanent_workers_that_worked_once(&log).await;
    assert!(workers[1].ask(Crash).await.is_err());
    for worker in &workers {
        assert_eq!(
            worker.ask(Work).await.unwrap(),
            1,
            "every child starts afresh"
        );
    }
    for name in ["a", "b", "c"] {
        assert_eq!(log.count(&format!("start {name}")), 2);
    }
    assert_eq!(log.count("stop a: stopped to restart with a sibling"), 1);
}

#[playhouse::test]
async fn rest_for_one_restarts_the_failed_child_and_those_started_after_it() {
    boss_supervision(quick().strategy(Strategy::RestForOne));
    let log = Log::default();
    let workers = three_permanent_workers_that_worked_once(&log).await;
    assert!(workers[1].ask(Crash).await.is_err());
    assert_eq!(
        workers[0].ask(Work).await.unwrap(),
        2,
        "started before: untouched"
    );
    assert_eq!(workers[1].ask(Work).await.unwrap(), 1);
    assert_eq!(
        workers[2].ask(Work).await.unwrap(),
        1,
        "started after: restarted"
    );
    assert_eq!(log.count("start a"), 1);
}

#[playhouse::test]
async fn rest_for_one_keeps_the_start_order_after_most_siblings_left() {
    boss_supervision(quick().strategy(Strategy::RestForOne));
    let log = Log::default();
    let children: Vec<(&'static str, Restart)> = (0..40)
        .map(|i| {
            let name: &'static str = Box::leak(format!("w{i}").into_boxed_str());
            (name, Restart::Transient)
        })
        .collect();
    let (_boss, workers) = boss(&children, &log).await;
    for worker in &workers {
        assert_eq!(worker.ask(Work).await.unwrap(), 1);
    }
    // Three in four leave for good (a transient child that stops is not restarted), so
    // the boss's list of children is squeezed while every fourth stays.
    for (i, worker) in workers.iter().enumerate() {
        if i % 4 != 0 {
            worker.stop();
            worker.wait().await;
        }
    }
    assert!(workers[16].ask(Crash).await.is_err());
    for i in (0..40).step_by(4) {
        let expected = if i < 16 { 2 } else { 1 };
        assert_eq!(
            workers[i].ask(Work).await.unwrap(),
            expected,
            "w{i}: started before w16 is untouched, w16 and later restart"
        );
    }
}

/// Supervises one `Boss` (permanent), so a boss that gives up is restarted from above.
#[derive(Clone)]
struct Director {
    log: Log,
    boss: Option<ActorRef<Boss>>,
}

impl Actor for Director {
    type Args = Log;
    type Error = std::convert::Infallible;

    async fn on_start(log: Log, ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        let args = BossArgs {
            children: vec![("w", Restart::Permanent)],
            log: log.clone(),
        };
        let boss = ctx.supervise::<Boss>(Restart::Permanent, args);
        Ok(Director {
            log,
            boss: Some(boss),
        })
    }

    async fn on_child_exit(&mut self, _ctx: &mut Context<Self>, exit: ChildExit) {
        self.log.push(format!("director saw: {}", exit.reason));
    }
}

struct CurrentBoss;
impl Message for CurrentBoss {
    type Reply = ActorRef<Boss>;
}
impl Handler<CurrentBoss> for Director {
    async fn handle(&mut self, _: CurrentBoss, _ctx: &mut Context<Self>) -> ActorRef<Boss> {
        self.boss.clone().expect("started")
    }
}

#[playhouse::test]
async fn exceeding_the_intensity_escalates_to_the_supervisors_supervisor() {
    boss_supervision(quick().intensity(2, Duration::from_secs(60)));
    let log = Log::default();
    let director = Director::spawn(log.clone());
    let boss = director.ask(CurrentBoss).await.unwrap();
    let first_worker = boss.ask(Workers).await.unwrap().remove(0);
    // Two restarts are allowed within the window; the third failure exceeds them.
    for restarts in 1..=2 {
        assert!(first_worker.ask(Crash).await.is_err());
        assert_eq!(
            first_worker.ask(Work).await.unwrap(),
            1,
            "restart {restarts}"
        );
    }
    assert!(first_worker.ask(Crash).await.is_err());
    assert!(matches!(first_worker.wait().await, ExitReason::Panicked(_)));
    // The boss gave up, and its own supervisor restarted it with a fresh worker.
    let escalated = "failed: restart intensity exceeded: more than 2 restarts within 60s";
    while log.count(&format!("director saw: {escalated}")) == 0 {
        tokio::task::yield_now().await;
    }
    assert_eq!(log.count(&format!("stop boss: {escalated}")), 1);
    let new_worker = boss.ask(Workers).await.unwrap().remove(0);
    assert_ne!(new_worker.id(), first_worker.id());
    assert_eq!(new_worker.ask(Work).await.unwrap(), 1);
    assert_eq!(log.count("start boss"), 2);

    // The boss heard its own decision to give up before it failed.
    let lines = log.lines();
    let heard = lines.iter().position(|line| line.ends_with("-> escalated"));
    let stopped = lines
        .iter()
        .position(|line| line.starts_with("stop boss: failed"));
    assert!(heard.is_some() && heard < stopped, "{lines:?}");

    // The restarted boss counts restarts afresh: its new worker may fail again.
    assert!(new_worker.ask(Crash).await.is_err());
    assert_eq!(
        new_worker.ask(Work).await.unwrap(),
        1,
        "restarted, not escalated"
    );
    assert_eq!(log.count("start boss"), 2);
}

/// Fails on purpose, then panics, in one handler.
struct FailThenPanic;
impl Message for FailThenPanic {
    type Reply = ();
}
impl Handler<FailThenPanic> for Worker {
    async fn handle(&mut self, _: FailThenPanic, ctx: &mut Context<Self>) {
        ctx.fail("first");
        panic!("and then a panic");
    }
}

#[playhouse::test]
async fn a_failure_reason_never_outlives_its_incarnation() {
    boss_supervision(quick());
    let log = Log::default();
    let (_boss, workers) = boss(&[("f", Restart::Transient)], &log).await;
    let f = &workers[0];
    assert!(matches!(
        f.ask(FailThenPanic).await,
        Err(AskError::Panicked(_))
    ));
    assert_eq!(f.ask(Work).await.unwrap(), 1);
    f.tell(GiveUp).await.unwrap();
    assert_eq!(f.ask(Work).await.unwrap(), 1);
    assert!(
        log.lines()
            .iter()
            .any(|line| line == "stop f: failed: cannot go on"),
        "{:?}",
        log.lines()
    );
}

#[playhouse::test(start_paused = true)]
async fn restarts_wait_an_exponential_backoff() {
    let backoff =
        Backoff::exponential(Duration::from_millis(100), Duration::from_millis(300)).jitter(0.0);
    boss_supervision(
        Supervision::default()
            .intensity(10, Duration::from_secs(60))
            .backoff(backoff),
    );
    let log = Log::default();
    let (_boss, workers) = boss(&[("slow", Restart::Permanent)], &log).await;
    let mut waits = Vec::new();
    for _ in 0..4 {
        assert!(workers[0].ask(Crash).await.is_err());
        let crashed = tokio::time::Instant::now();
        workers[0].ask(Work).await.unwrap();
        waits.push(crashed.elapsed());
    }
    let expected = [100, 200, 300, 300].map(Duration::from_millis);
    assert_eq!(waits, expected);
}

#[playhouse::test]
async fn a_failing_start_is_a_failure_that_supervision_counts() {
    let log = Log::default();
    let failing = System::current().supervise::<NeverStarts>(Restart::Permanent, log.clone());
    // Restarted as often as the system's default intensity allows (3), then given up.
    let reason = failing.wait().await;
    assert_eq!(reason, ExitReason::StartFailed("no config".into()));
    assert_eq!(log.count("attempt"), 4);
}

/// Fails every start.
struct NeverStarts;

impl Actor for NeverStarts {
    type Args = Log;
    type Error = &'static str;

    async fn on_start(log: Log, _ctx: &mut Context<Self>) -> Result<Self, &'static str> {
        log.push("attempt");
        Err("no config")
    }
}

#[test]
fn top_level_actors_are_supervised_by_the_system_with_its_intensity() {
    let supervision = Supervision::default()
        .intensity(1, Duration::from_secs(60))
        .backoff(Backoff::none());
    let runtime = playhouse::Builder::new_current_thread()
        .extension(SystemConfig::default().supervision(supervision))
        .build()
        .unwrap();
    runtime.block_on(async {
        let log = Log::default();
        let worker = System::current().supervise::<Worker>(Restart::Permanent, worker("top", &log));
        assert!(worker.ask(Crash).await.is_err());
        assert_eq!(worker.ask(Work).await.unwrap(), 1, "restarted once");
        assert!(worker.ask(Crash).await.is_err());
        // The second restart exceeds the system's intensity: the actor is gone for good.
        assert!(matches!(worker.wait().await, ExitReason::Panicked(_)));
        assert_eq!(log.count("start top"), 2);
    });
    runtime.shutdown();
}

#[playhouse::test]
async fn stop_child_retires_a_permanent_child_for_good() {
    boss_supervision(quick());
    let log = Log::default();
    let (boss, workers) = boss(
        &[("a", Restart::Permanent), ("b", Restart::Permanent)],
        &log,
    )
    .await;
    boss.ask(Retire(0)).await.unwrap();
    assert_eq!(workers[0].wait().await, ExitReason::Shutdown);
    assert_eq!(log.count("start a"), 1);
    let tree = System::current().tree();
    let names: Vec<_> = tree.roots[0]
        .children
        .iter()
        .map(|child| child.name.clone())
        .collect();
    assert_eq!(names, vec![workers[1].to_string()]);
}

#[playhouse::test]
async fn the_tree_shows_supervisors_and_children_in_start_order() {
    boss_supervision(quick());
    let log = Log::default();
    let (boss, workers) = boss(
        &[("a", Restart::Permanent), ("b", Restart::Transient)],
        &log,
    )
    .await;
    let loner = Worker::spawn(worker("loner", &log));
    let tree = System::current().tree();
    assert_eq!(tree.len(), 4);
    let drawing = tree.to_string();
    let expected = format!(
        "system\n├── {boss} (temporary)\n│   ├── {a} (permanent)\n│   └── {b} (transient)\n└── {loner} (temporary)\n",
        a = workers[0],
        b = workers[1],
    );
    assert_eq!(drawing, expected);
}

#[playhouse::test]
async fn children_stop_before_their_parent_newest_first() {
    boss_supervision(quick());
    let log = Log::default();
    let (boss, _workers) = boss(
        &[("a", Restart::Permanent), ("b", Restart::Permanent)],
        &log,
    )
    .await;
    boss.stop();
    assert_eq!(boss.wait().await, ExitReason::Normal);
    let stops: Vec<_> = log
        .lines()
        .into_iter()
        .filter(|line| line.starts_with("stop"))
        .collect();
    assert_eq!(
        stops,
        [
            "stop b: shut down",
            "stop a: shut down",
            "stop boss: stopped"
        ]
    );
}
