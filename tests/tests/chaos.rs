//! Chaos soak: a tree of more than a thousand actors under steady `tell` and `ask` traffic,
//! with handlers that panic and actors that are killed at random. Afterwards every message
//! is accounted for (handled + dead letters + refused at send = sent), every ask has
//! resolved, and shutdown leaves no actor alive.
//!
//! The run is bounded for CI. `PLAYHOUSE_CHAOS_LONG=1` soaks twenty times longer, and
//! `PLAYHOUSE_CHAOS_SEED=<n>` replays the traffic of a failed run (the seed is printed;
//! the scheduling of tasks still varies between runs).

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use playhouse::prelude::*;
use playhouse::supervision::{Backoff, Restart, Strategy, Supervision};
use tokio::sync::Semaphore;

const TOPS: usize = 10;
const MIDS_PER_TOP: usize = 10;
const WORKERS_PER_MID: usize = 10;
const MIDS: usize = TOPS * MIDS_PER_TOP;
const WORKERS: usize = MIDS * WORKERS_PER_MID;
const ACTORS: usize = TOPS + MIDS + WORKERS;

const DRIVERS: usize = 16;
/// Operations per driver in the CI run; the long run does twenty times as many.
const OPERATIONS_PER_DRIVER: u64 = 2_500;
const DEFAULT_SEED: u64 = 0x00C0_FFEE_5EED_2024;

/// The panic message of a planned panic; the test's panic hook keeps these quiet.
const PLANNED_PANIC: &str = "chaos: planned panic";

/// How a job was sent, so that handlers can count each kind apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tell,
    TryTell,
    Ask,
    /// An ask with so short a timeout that it often gives up before the reply.
    ShortAsk,
}

const KINDS: usize = 4;

/// The one message of the test: every actor in the tree handles it.
struct Job {
    kind: Kind,
    /// The handler panics after counting the job.
    panics: bool,
    /// The handler awaits once before counting, so that a kill can cancel it.
    yields: bool,
}

impl Message for Job {
    type Reply = u64;
}

/// What handlers and `on_start` count, and where the latest actor of each slot registers.
struct Shared {
    handled: [AtomicU64; KINDS],
    panicked: [AtomicU64; KINDS],
    top_spawns: AtomicU64,
    top_starts: AtomicU64,
    mid_starts: AtomicU64,
    worker_starts: AtomicU64,
    /// One permit per worker start: the test waits for the first thousand.
    workers_started: Semaphore,
    tops: Mutex<Vec<Option<ActorRef<Top>>>>,
    mids: Mutex<Vec<Option<ActorRef<Mid>>>>,
    workers: Mutex<Vec<Option<ActorRef<Worker>>>>,
}

impl Shared {
    fn new() -> Self {
        Self {
            handled: Default::default(),
            panicked: Default::default(),
            top_spawns: AtomicU64::new(0),
            top_starts: AtomicU64::new(0),
            mid_starts: AtomicU64::new(0),
            worker_starts: AtomicU64::new(0),
            workers_started: Semaphore::new(0),
            tops: Mutex::new(vec![None; TOPS]),
            mids: Mutex::new(vec![None; MIDS]),
            workers: Mutex::new(vec![None; WORKERS]),
        }
    }

    fn handled(&self) -> u64 {
        self.handled
            .iter()
            .map(|count| count.load(Ordering::SeqCst))
            .sum()
    }
}

/// Puts `actor` in `slot` unless a newer actor (a larger id) is already there: an old
/// incarnation finishing its start late must not hide its replacement.
fn register<A: Actor>(slots: &Mutex<Vec<Option<ActorRef<A>>>>, slot: usize, actor: &ActorRef<A>) {
    let mut slots = slots.lock().unwrap();
    if slots[slot]
        .as_ref()
        .is_none_or(|old| old.id() <= actor.id())
    {
        slots[slot] = Some(actor.clone());
    }
}

/// Returns the top-level actor of `slot`, first spawning one if there is none, or if the
/// system stopped it for good (it failed too often) and `respawn` is set: as an operator
/// would bring a service back.
fn top(shared: &Arc<Shared>, system: &System, slot: usize, respawn: bool) -> ActorRef<Top> {
    let mut tops = shared.tops.lock().unwrap();
    match &tops[slot] {
        Some(top) if top.is_alive() || !respawn => top.clone(),
        _ => {
            shared.top_spawns.fetch_add(1, Ordering::SeqCst);
            let top = system.supervise::<Top>(Restart::Permanent, (Arc::clone(shared), slot));
            tops[slot] = Some(top.clone());
            top
        }
    }
}

/// The handler of every actor: yield if asked to, count, then panic if asked to. Nothing
/// awaits after the count, so a counted job was handled and never becomes a dead letter.
async fn work(shared: &Shared, job: Job) -> u64 {
    if job.yields {
        tokio::task::yield_now().await;
    }
    let kind = job.kind as usize;
    let handled = shared.handled[kind].fetch_add(1, Ordering::SeqCst);
    if job.panics {
        shared.panicked[kind].fetch_add(1, Ordering::SeqCst);
        panic!("{PLANNED_PANIC}");
    }
    handled
}

/// Restarts quickly, so that a crash loop escalates rather than stalls the test.
fn backoff() -> Backoff {
    Backoff::exponential(Duration::from_millis(1), Duration::from_millis(20))
}

/// A top-level supervisor of ten mids; if one mid gives up, all of them restart.
struct Top {
    shared: Arc<Shared>,
}

impl Actor for Top {
    type Args = (Arc<Shared>, usize);
    type Error = Infallible;

    async fn on_start(
        (shared, index): Self::Args,
        ctx: &mut Context<Self>,
    ) -> Result<Self, Infallible> {
        shared.top_starts.fetch_add(1, Ordering::SeqCst);
        for mid in 0..MIDS_PER_TOP {
            let args = (Arc::clone(&shared), index * MIDS_PER_TOP + mid);
            ctx.supervise::<Mid>(Restart::Permanent, args);
        }
        Ok(Top { shared })
    }

    fn supervision() -> Supervision {
        Supervision::default()
            .strategy(Strategy::OneForAll)
            .intensity(4, Duration::from_secs(1))
            .backoff(backoff())
    }
}

impl Handler<Job> for Top {
    async fn handle(&mut self, job: Job, _ctx: &mut Context<Self>) -> u64 {
        work(&self.shared, job).await
    }
}

/// A supervisor of ten workers; a worker's failure restarts it and the workers after it.
struct Mid {
    shared: Arc<Shared>,
}

impl Actor for Mid {
    type Args = (Arc<Shared>, usize);
    type Error = Infallible;

    async fn on_start(
        (shared, index): Self::Args,
        ctx: &mut Context<Self>,
    ) -> Result<Self, Infallible> {
        shared.mid_starts.fetch_add(1, Ordering::SeqCst);
        register(&shared.mids, index, ctx.actor_ref());
        for worker in 0..WORKERS_PER_MID {
            let args = (Arc::clone(&shared), index * WORKERS_PER_MID + worker);
            ctx.supervise::<Worker>(Restart::Permanent, args);
        }
        Ok(Mid { shared })
    }

    fn supervision() -> Supervision {
        Supervision::default()
            .strategy(Strategy::RestForOne)
            .intensity(5, Duration::from_secs(1))
            .backoff(backoff())
    }
}

impl Handler<Job> for Mid {
    async fn handle(&mut self, job: Job, _ctx: &mut Context<Self>) -> u64 {
        work(&self.shared, job).await
    }
}

/// A leaf; most of the traffic goes here.
struct Worker {
    shared: Arc<Shared>,
}

impl Actor for Worker {
    type Args = (Arc<Shared>, usize);
    type Error = Infallible;

    async fn on_start(
        (shared, index): Self::Args,
        ctx: &mut Context<Self>,
    ) -> Result<Self, Infallible> {
        shared.worker_starts.fetch_add(1, Ordering::SeqCst);
        register(&shared.workers, index, ctx.actor_ref());
        shared.workers_started.add_permits(1);
        Ok(Worker { shared })
    }
}

impl Handler<Job> for Worker {
    async fn handle(&mut self, job: Job, _ctx: &mut Context<Self>) -> u64 {
        work(&self.shared, job).await
    }
}

/// SplitMix64: a small, seedable generator, so that a failed run's traffic can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound`.
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }
}

/// How the asks of one kind resolved.
#[derive(Debug, Default, Clone, Copy)]
struct Asks {
    sent: u64,
    replied: u64,
    panicked: u64,
    dropped: u64,
    timed_out: u64,
    stopped: u64,
    full: u64,
}

impl Asks {
    fn resolved(&self) -> u64 {
        self.replied + self.panicked + self.dropped + self.timed_out + self.stopped + self.full
    }

    fn add(&mut self, other: &Asks) {
        self.sent += other.sent;
        self.replied += other.replied;
        self.panicked += other.panicked;
        self.dropped += other.dropped;
        self.timed_out += other.timed_out;
        self.stopped += other.stopped;
        self.full += other.full;
    }
}

/// What one driver sent and how it went.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    sent: u64,
    /// Refused at send: `tell` and `try_tell` errors, asks that were stopped or full.
    refused: u64,
    asks: Asks,
    short_asks: Asks,
    kills: u64,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.sent += other.sent;
        self.refused += other.refused;
        self.asks.add(&other.asks);
        self.short_asks.add(&other.short_asks);
        self.kills += other.kills;
    }
}

/// Sends one job to `actor` the way its kind says, and tallies the outcome.
async fn send<A: Handler<Job>>(actor: &ActorRef<A>, job: Job, tally: &mut Tally) {
    tally.sent += 1;
    let (asks, outcome) = match job.kind {
        Kind::Tell => {
            if actor.tell(job).await.is_err() {
                tally.refused += 1;
            }
            return;
        }
        Kind::TryTell => {
            if actor.try_tell(job).is_err() {
                tally.refused += 1;
            }
            return;
        }
        Kind::Ask => (&mut tally.asks, actor.ask(job).await),
        Kind::ShortAsk => (
            &mut tally.short_asks,
            actor.ask_timeout(job, Duration::from_millis(2)).await,
        ),
    };
    asks.sent += 1;
    match outcome {
        Ok(_) => asks.replied += 1,
        Err(AskError::Panicked(message)) => {
            assert_eq!(&*message, PLANNED_PANIC);
            asks.panicked += 1;
        }
        Err(AskError::Dropped) => asks.dropped += 1,
        Err(AskError::Timeout) => asks.timed_out += 1,
        Err(AskError::Stopped(_)) => {
            asks.stopped += 1;
            tally.refused += 1;
        }
        Err(AskError::Full(_)) => {
            asks.full += 1;
            tally.refused += 1;
        }
    }
}

/// Sends `operations` random jobs to random actors, killing one now and then.
///
/// Adds a permit to `progress` once nine tenths are done: the system then starts shutting
/// down under the rest of the traffic. That tail neither kills nor respawns, since
/// shutdown reports an actor killed or spawned meanwhile as cut off.
async fn drive(
    shared: Arc<Shared>,
    system: System,
    mut rng: Rng,
    operations: u64,
    progress: Arc<Semaphore>,
) -> Tally {
    let mut tally = Tally::default();
    let shutdown_begins = operations * 9 / 10;
    for operation in 0..operations {
        if operation == shutdown_begins {
            progress.add_permits(1);
        }
        let before_shutdown = operation < shutdown_begins;
        // One operation in two thousand kills a worker or a mid instead of sending.
        if before_shutdown && rng.below(2_000) == 0 {
            tally.kills += 1;
            if rng.below(10) < 7 {
                let slot = rng.index(WORKERS);
                let worker = shared.workers.lock().unwrap()[slot].clone();
                worker.expect("every worker slot is filled").kill();
            } else {
                let slot = rng.index(MIDS);
                let mid = shared.mids.lock().unwrap()[slot].clone();
                mid.expect("every mid slot is filled").kill();
            }
            continue;
        }
        let kind = match rng.below(100) {
            0..50 => Kind::Tell,
            50..60 => Kind::TryTell,
            60..97 => Kind::Ask,
            _ => Kind::ShortAsk,
        };
        let job = Job {
            kind,
            panics: rng.below(1_000) < 10,
            yields: rng.below(10) == 0,
        };
        match rng.below(100) {
            0 => {
                let top = top(&shared, &system, rng.index(TOPS), before_shutdown);
                send(&top, job, &mut tally).await;
            }
            1..4 => {
                let slot = rng.index(MIDS);
                let mid = shared.mids.lock().unwrap()[slot].clone();
                send(&mid.expect("every mid slot is filled"), job, &mut tally).await;
            }
            _ => {
                let slot = rng.index(WORKERS);
                let worker = shared.workers.lock().unwrap()[slot].clone();
                send(
                    &worker.expect("every worker slot is filled"),
                    job,
                    &mut tally,
                )
                .await;
            }
        }
    }
    tally
}

/// Keeps planned panics off stderr; any other panic is reported as usual.
fn quiet_planned_panics() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let planned = payload.downcast_ref::<&str>() == Some(&PLANNED_PANIC)
            || payload
                .downcast_ref::<String>()
                .is_some_and(|message| message == PLANNED_PANIC);
        if !planned {
            default_hook(info);
        }
    }));
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|value| !value.is_empty() && value != "0")
}

#[test]
fn every_message_is_accounted_for_under_random_panics_and_kills() {
    let seed = match std::env::var("PLAYHOUSE_CHAOS_SEED") {
        Ok(seed) => seed.parse().expect("PLAYHOUSE_CHAOS_SEED must be a u64"),
        Err(_) => DEFAULT_SEED,
    };
    let long = env_flag("PLAYHOUSE_CHAOS_LONG");
    let operations = if long { 20 } else { 1 } * OPERATIONS_PER_DRIVER;
    println!("chaos seed {seed} (replay with PLAYHOUSE_CHAOS_SEED={seed}), long run: {long}");
    quiet_planned_panics();

    let started = Instant::now();
    let runtime = playhouse::Builder::new()
        .worker_threads(2)
        .extension(
            playhouse::SystemConfig::default()
                .ask_timeout(Duration::from_secs(10))
                .stop_timeout(Duration::from_secs(30))
                .supervision(
                    Supervision::default()
                        .intensity(10, Duration::from_secs(1))
                        .backoff(backoff()),
                ),
        )
        .build()
        .unwrap();

    runtime.block_on(async move {
        let system = System::current();
        let shared = Arc::new(Shared::new());
        for slot in 0..TOPS {
            top(&shared, &system, slot, true);
        }
        shared
            .workers_started
            .acquire_many(WORKERS as u32)
            .await
            .unwrap()
            .forget();
        let tree = system.tree().len();
        assert!(tree >= 1_000, "the tree has only {tree} actors");
        assert_eq!(tree, ACTORS);
        assert_eq!(system.live_actors(), ACTORS);

        let mut seeds = Rng(seed);
        let progress = Arc::new(Semaphore::new(0));
        let drivers: Vec<_> = (0..DRIVERS)
            .map(|_| {
                let driving = drive(
                    Arc::clone(&shared),
                    system.clone(),
                    Rng(seeds.next()),
                    operations,
                    Arc::clone(&progress),
                );
                system.handle().spawn("chaos.driver", driving)
            })
            .collect();

        // Shut down while the last tenth of the traffic is still being sent.
        progress
            .acquire_many(DRIVERS as u32)
            .await
            .unwrap()
            .forget();
        let tops_alive = (shared.tops.lock().unwrap().iter())
            .filter(|top| top.as_ref().is_some_and(ActorRef::is_alive))
            .count();
        let shutdown = system.shutdown_timeout(Duration::from_secs(60));
        let mut tally = Tally::default();
        for driver in drivers {
            tally.add(&driver.await.unwrap());
        }
        let report = shutdown.await;
        let handled = shared.handled();
        let dead_letters = system.dead_letters();
        println!(
            "chaos: {} sent = {handled} handled + {dead_letters} dead letters + {} refused; \
             asks {:?}; short asks {:?}; {} kills; {} planned panics; {} tops respawned; \
             starts: {} top, {} mid, {} worker; {tops_alive}/{TOPS} tops alive at shutdown; \
             {report}; {:?}",
            tally.sent,
            tally.refused,
            tally.asks,
            tally.short_asks,
            tally.kills,
            shared
                .panicked
                .iter()
                .map(|count| count.load(Ordering::SeqCst))
                .sum::<u64>(),
            shared.top_spawns.load(Ordering::SeqCst) - TOPS as u64,
            shared.top_starts.load(Ordering::SeqCst),
            shared.mid_starts.load(Ordering::SeqCst),
            shared.worker_starts.load(Ordering::SeqCst),
            started.elapsed(),
        );

        // Shutdown stopped everything, in time.
        assert!(
            report.cut_off.is_empty(),
            "cut off at shutdown: {:?}",
            report.cut_off
        );
        assert_eq!(system.live_actors(), 0);
        assert_eq!(system.tree().len(), 0);

        // Every message is accounted for exactly once.
        assert_eq!(handled + dead_letters + tally.refused, tally.sent);

        // Every ask resolved, the normal ones within their timeout.
        for asks in [tally.asks, tally.short_asks] {
            assert_eq!(asks.resolved(), asks.sent, "{asks:?}");
        }
        assert_eq!(tally.asks.timed_out, 0, "{:?}", tally.asks);
        // An ask that was never given up on hears what its handler did.
        let ask = Kind::Ask as usize;
        let asks_panicked = shared.panicked[ask].load(Ordering::SeqCst);
        let asks_handled = shared.handled[ask].load(Ordering::SeqCst);
        assert_eq!(tally.asks.panicked, asks_panicked);
        assert_eq!(tally.asks.replied, asks_handled - asks_panicked);
        // A dropped ask is a dead letter.
        assert!(tally.asks.dropped + tally.short_asks.dropped <= dead_letters);
    });
    let report = runtime.shutdown();
    assert!(report.is_clean(), "{report}");
}
