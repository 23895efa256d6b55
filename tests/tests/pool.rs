//! Pools: routing strategies, supervision of workers, resizing, backpressure, bad sizes.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use playhouse::pool::{KeyedPool, Pool, PoolBuilder, PoolSizeError, ResizeError, Routing};
use playhouse::prelude::*;
use playhouse::supervision::{Backoff, Supervision};
use playhouse::ActorId;
use tokio::sync::{mpsc, Semaphore};

/// A worker that says who it is, counts its work, keeps notes, and can be held or crashed.
struct Worker {
    handled: u32,
    notes: Vec<String>,
}

/// Hears every start of every worker (restarts included), with the worker's id.
#[derive(Clone)]
struct Starts(mpsc::UnboundedSender<ActorId>);

impl Actor for Worker {
    type Args = Starts;
    type Error = Infallible;

    async fn on_start(starts: Starts, ctx: &mut Context<Self>) -> Result<Self, Infallible> {
        let _ = starts.0.send(ctx.id());
        Ok(Worker {
            handled: 0,
            notes: Vec::new(),
        })
    }
}

#[messages]
impl Worker {
    /// Counts one job and replies with this worker's id.
    #[message]
    fn work(&mut self, ctx: &mut Context<Self>) -> ActorId {
        self.handled += 1;
        ctx.id()
    }

    /// Replies with how many jobs this incarnation did.
    #[message]
    fn handled(&self) -> u32 {
        self.handled
    }

    /// Panics.
    #[message]
    fn crash(&mut self) -> ActorId {
        panic!("worker crashed")
    }

    /// Says that it is held, then waits for a permit from the gate.
    #[message]
    async fn hold(
        &mut self,
        ctx: &mut Context<Self>,
        gate: Arc<Semaphore>,
        held: mpsc::UnboundedSender<ActorId>,
    ) {
        let _ = held.send(ctx.id());
        gate.acquire().await.expect("the gate stays open").forget();
    }

    /// Adds one to a shared count.
    #[message]
    fn count(&mut self, counter: Arc<AtomicUsize>) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Keeps a note.
    #[message(derive(Clone))]
    fn note(&mut self, text: String) {
        self.notes.push(text);
    }

    /// Replies with the notes kept.
    #[message]
    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }
}

/// Workers restart at once: no backoff to wait out.
fn quick() -> Supervision {
    Supervision::default().backoff(Backoff::none())
}

fn builder(size: usize, routing: Routing) -> PoolBuilder<Worker> {
    Pool::builder(size).routing(routing).supervision(quick())
}

/// Spawns a pool; returns it with the stream of worker starts.
fn spawn(builder: PoolBuilder<Worker>) -> (Pool<Worker>, mpsc::UnboundedReceiver<ActorId>) {
    let (starts, started) = mpsc::unbounded_channel();
    let pool = builder.spawn(Starts(starts)).expect("at least one worker");
    (pool, started)
}

fn ids(workers: &[ActorRef<Worker>]) -> Vec<ActorId> {
    workers.iter().map(ActorRef::id).collect()
}

/// A gate that holds workers until the test lets them go, and the stream of held workers.
struct Gate {
    gate: Arc<Semaphore>,
    held: mpsc::UnboundedSender<ActorId>,
    held_rx: mpsc::UnboundedReceiver<ActorId>,
}

impl Gate {
    fn new() -> Self {
        let (held, held_rx) = mpsc::unbounded_channel();
        Self {
            gate: Arc::new(Semaphore::new(0)),
            held,
            held_rx,
        }
    }

    fn hold(&self) -> Hold {
        Hold {
            gate: Arc::clone(&self.gate),
            held: self.held.clone(),
        }
    }

    /// Waits until a worker is held; returns which.
    async fn held(&mut self) -> ActorId {
        self.held_rx.recv().await.expect("the test keeps a sender")
    }

    fn release(&self, workers: usize) {
        self.gate.add_permits(workers);
    }
}

#[playhouse::test]
async fn round_robin_spreads_messages_evenly_in_turn() {
    let (pool, _started) = spawn(builder(4, Routing::RoundRobin));
    assert_eq!(pool.routing(), Routing::RoundRobin);
    let workers = pool.workers();
    let mut replies = Vec::new();
    for _ in 0..12 {
        replies.push(pool.ask(Work).await.unwrap());
    }
    let expected: Vec<ActorId> = ids(&workers).into_iter().cycle().take(12).collect();
    assert_eq!(replies, expected, "each worker in turn");
    for worker in &workers {
        assert_eq!(worker.ask(Handled).await.unwrap(), 3);
    }
}

#[playhouse::test]
async fn least_loaded_routes_around_a_busy_worker() {
    let (pool, _started) = spawn(builder(2, Routing::LeastLoaded));
    let workers = pool.workers();
    let mut gate = Gate::new();
    workers[0].tell(gate.hold()).await.unwrap();
    assert_eq!(gate.held().await, workers[0].id());
    // Busy, with one job waiting behind the hold.
    workers[0].tell(Work).await.unwrap();
    for _ in 0..10 {
        assert_eq!(
            pool.ask(Work).await.unwrap(),
            workers[1].id(),
            "the idle worker's mailbox is the shortest"
        );
    }
    gate.release(1);
    assert_eq!(workers[0].ask(Handled).await.unwrap(), 1);
    assert_eq!(workers[1].ask(Handled).await.unwrap(), 10);
}

/// Which worker (by position) handled each of `count` asks.
async fn positions(pool: &Pool<Worker>, count: usize) -> Vec<usize> {
    let workers = ids(&pool.workers());
    let mut picked = Vec::new();
    for _ in 0..count {
        let id = pool.ask(Work).await.unwrap();
        picked.push(workers.iter().position(|worker| *worker == id).unwrap());
    }
    picked
}

#[playhouse::test]
async fn random_routing_with_a_seed_is_reproducible_and_reaches_every_worker() {
    let seeded = |seed| builder(4, Routing::Random).random_seed(seed);
    let (first, _a) = spawn(seeded(7));
    let (second, _b) = spawn(seeded(7));
    let (other, _c) = spawn(seeded(8));
    let picked = positions(&first, 100).await;
    assert_eq!(
        picked,
        positions(&second, 100).await,
        "same seed, same picks"
    );
    assert_ne!(
        picked,
        positions(&other, 100).await,
        "another seed, other picks"
    );
    let reached: HashSet<usize> = picked.iter().copied().collect();
    assert_eq!(reached, HashSet::from([0, 1, 2, 3]));
    assert!(
        picked
            .windows(4)
            .any(|four| four != [0, 1, 2, 3] && four != [1, 2, 3, 0]),
        "not round-robin in disguise"
    );
}

#[playhouse::test]
async fn a_key_always_reaches_the_same_worker() {
    let (pool, _started) = spawn(builder(4, Routing::RoundRobin));
    let mut reached = HashSet::new();
    for key in 0..40u32 {
        let keyed: KeyedPool<'_, Worker> = pool.with_key(key);
        let first = keyed.ask(Work).await.unwrap();
        // Round-robin sends in between do not move the key.
        pool.tell(Work).await.unwrap();
        assert_eq!(keyed.ask(Work).await.unwrap(), first);
        keyed.tell(Work).await.unwrap();
        keyed.try_tell(Work).unwrap();
        assert_eq!(keyed.worker().unwrap().id(), first);
        reached.insert(first);
    }
    assert_eq!(reached.len(), 4, "keys spread over every worker");
    let by_str = pool.with_key("ada").worker().unwrap();
    let by_string = pool.with_key(String::from("ada")).worker().unwrap();
    assert_eq!(by_str, by_string, "equal keys route equally");
}

#[playhouse::test]
async fn resizing_moves_few_keys_and_only_to_the_new_worker() {
    let (pool, _started) = spawn(builder(4, Routing::RoundRobin));
    let owner = |key: u32| pool.with_key(key).worker().unwrap();
    let before: Vec<ActorRef<Worker>> = (0..400).map(owner).collect();

    pool.resize(5).await.unwrap();
    let added = pool.workers()[4].clone();
    let after: Vec<ActorRef<Worker>> = (0..400).map(owner).collect();
    let moved: Vec<usize> = (0..400).filter(|&key| before[key] != after[key]).collect();
    assert!(
        (20..=140).contains(&moved.len()),
        "about a fifth of the keys move, not {}",
        moved.len()
    );
    assert!(
        moved.iter().all(|&key| after[key] == added),
        "a key moves only to the new worker"
    );
    let key = moved[0] as u32;
    assert_eq!(pool.with_key(key).ask(Work).await.unwrap(), added.id());

    pool.resize(4).await.unwrap();
    let back: Vec<ActorRef<Worker>> = (0..400).map(owner).collect();
    assert_eq!(back, before, "shrinking back restores every key's worker");
}

#[playhouse::test]
async fn broadcast_reaches_every_worker() {
    let (pool, _started) = spawn(builder(3, Routing::RoundRobin));
    let note = Note {
        text: "hello".into(),
    };
    assert_eq!(pool.broadcast(note).await.unwrap(), 3);
    for worker in pool.workers() {
        assert_eq!(worker.ask(Notes).await.unwrap(), ["hello"]);
    }
}

#[playhouse::test]
async fn a_crashed_worker_is_replaced_and_the_pool_keeps_serving() {
    let (pool, mut started) = spawn(builder(2, Routing::RoundRobin));
    let workers = pool.workers();
    for worker in &workers {
        assert_eq!(started.recv().await, Some(worker.id()));
    }
    match pool.ask(Crash).await {
        Err(AskError::Panicked(message)) => assert_eq!(&*message, "worker crashed"),
        other => panic!("expected the panic, got {other:?}"),
    }
    assert_eq!(
        started.recv().await,
        Some(workers[0].id()),
        "restarted behind the same reference"
    );
    let mut replies = HashSet::new();
    for _ in 0..4 {
        replies.insert(pool.ask(Work).await.unwrap());
    }
    assert_eq!(replies, ids(&workers).into_iter().collect());
    assert_eq!(pool.workers(), workers);
    assert!(pool.is_alive());
}

#[playhouse::test]
async fn a_killed_worker_is_replaced_and_passed_over_meanwhile() {
    let (pool, mut started) = spawn(builder(2, Routing::RoundRobin));
    let workers = pool.workers();
    for _ in &workers {
        started.recv().await.unwrap();
    }
    workers[1].kill();
    for _ in 0..4 {
        pool.ask(Work).await.expect("another worker takes its turn");
    }
    assert_eq!(started.recv().await, Some(workers[1].id()));
    assert_eq!(workers[1].ask(Work).await.unwrap(), workers[1].id());
}

#[playhouse::test]
async fn too_many_crashes_restart_the_pool_with_fresh_workers() {
    let supervision = quick().intensity(1, Duration::from_secs(60));
    let (pool, mut started) = spawn(builder(2, Routing::RoundRobin).supervision(supervision));
    let old = pool.workers();
    for _ in &old {
        started.recv().await.unwrap();
    }
    assert!(old[0].ask(Crash).await.is_err());
    assert_eq!(started.recv().await, Some(old[0].id()), "the first restart");
    assert!(old[0].ask(Crash).await.is_err());
    // One restart too many: the pool's supervisor fails, and the system restarts it.
    let fresh = [started.recv().await.unwrap(), started.recv().await.unwrap()];
    assert!(fresh.iter().all(|id| !ids(&old).contains(id)));
    assert_eq!(ids(&pool.workers()), fresh);
    for worker in &old {
        assert!(!worker.is_alive());
    }
    let reply = pool.ask(Work).await.unwrap();
    assert!(fresh.contains(&reply));
    assert!(pool.is_alive());
}

#[playhouse::test]
async fn growing_the_pool_adds_workers_that_take_their_turn() {
    let (pool, _started) = spawn(builder(2, Routing::RoundRobin));
    let old = pool.workers();
    pool.resize(4).await.unwrap();
    assert_eq!(pool.size(), 4);
    let workers = pool.workers();
    assert_eq!(workers[..2], old[..], "the old workers stay, first");
    for _ in 0..8 {
        pool.tell(Work).await.unwrap();
    }
    for worker in &workers {
        assert_eq!(worker.ask(Handled).await.unwrap(), 2);
    }
}

#[playhouse::test]
async fn shrinking_the_pool_retires_the_newest_workers_after_their_queued_work() {
    let (pool, _started) = spawn(builder(3, Routing::RoundRobin));
    let workers = pool.workers();
    let newest = workers[2].clone();
    let mut gate = Gate::new();
    newest.tell(gate.hold()).await.unwrap();
    assert_eq!(gate.held().await, newest.id());
    // Queued behind the hold: must still be handled after the worker is retired.
    newest.tell(gate.hold()).await.unwrap();

    pool.resize(2).await.unwrap();
    assert_eq!(pool.workers(), workers[..2]);
    for _ in 0..6 {
        let id = pool.ask(Work).await.unwrap();
        assert!(id != newest.id(), "a retired worker gets no new work");
    }
    assert!(newest.is_alive(), "still finishing its work");
    gate.release(1);
    assert_eq!(gate.held().await, newest.id(), "its queued work is handled");
    gate.release(1);
    assert_eq!(newest.wait().await, ExitReason::Shutdown);
    assert_eq!(pool.size(), 2);
}

#[playhouse::test]
async fn resizing_to_zero_is_an_error_and_leaves_the_pool_alone() {
    let (pool, _started) = spawn(builder(2, Routing::RoundRobin));
    let error = pool.resize(0).await.unwrap_err();
    assert_eq!(error, ResizeError::NoWorkers);
    assert_eq!(error.to_string(), "a pool needs at least one worker");
    assert_eq!(pool.size(), 2);
    pool.ask(Work).await.unwrap();
    pool.resize(2).await.unwrap();
    assert_eq!(pool.size(), 2, "resizing to the same size changes nothing");
}

#[playhouse::test]
async fn a_pool_of_zero_workers_is_a_clear_error() {
    let system = System::current();
    let before = system.live_actors();
    let (starts, _started) = mpsc::unbounded_channel();
    let error = Pool::<Worker>::builder(0)
        .spawn(Starts(starts))
        .unwrap_err();
    assert!(matches!(error, PoolSizeError { .. }));
    assert_eq!(error.to_string(), "a pool needs at least one worker");
    assert_eq!(system.live_actors(), before, "nothing was spawned");
}

#[playhouse::test(start_paused = true)]
async fn a_full_pool_pushes_back() {
    let (pool, _started) = spawn(builder(2, Routing::RoundRobin).mailbox(Mailbox::bounded(1)));
    let mut gate = Gate::new();
    pool.tell(gate.hold()).await.unwrap();
    pool.tell(gate.hold()).await.unwrap();
    gate.held().await;
    gate.held().await;
    // Both workers busy; one job fills each mailbox.
    pool.tell(Work).await.unwrap();
    pool.tell(Work).await.unwrap();

    assert!(matches!(pool.try_tell(Work), Err(TrySendError::Full(Work))));
    let waited = tokio::time::timeout(Duration::from_secs(1), pool.tell(Work)).await;
    assert!(waited.is_err(), "tell waits while every worker is full");
    assert!(matches!(
        pool.ask_timeout(Work, Duration::from_secs(1)).await,
        Err(AskError::Full(Work))
    ));

    // Room in any worker lets a waiting tell through.
    let waiting = tokio::spawn({
        let pool = pool.clone();
        async move { pool.tell(Work).await }
    });
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished());
    gate.release(1);
    waiting.await.unwrap().unwrap();
    gate.release(1);
    let handled = [
        pool.workers()[0].ask(Handled).await.unwrap(),
        pool.workers()[1].ask(Handled).await.unwrap(),
    ];
    assert_eq!(handled.iter().sum::<u32>(), 3);
}

#[playhouse::test]
async fn try_tell_passes_over_a_full_worker_but_a_key_does_not() {
    let (pool, _started) = spawn(builder(2, Routing::RoundRobin).mailbox(Mailbox::bounded(1)));
    let workers = pool.workers();
    let mut gate = Gate::new();
    workers[0].tell(gate.hold()).await.unwrap();
    gate.held().await;
    workers[0].tell(Work).await.unwrap();

    // Round-robin starts with the full worker, and passes over it.
    pool.try_tell(Work).unwrap();
    assert_eq!(workers[1].ask(Handled).await.unwrap(), 1);

    let key = (0u32..)
        .find(|key| pool.with_key(key).worker().unwrap() == workers[0])
        .unwrap();
    assert!(matches!(
        pool.with_key(key).try_tell(Work),
        Err(TrySendError::Full(Work))
    ));
    gate.release(1);
    assert_eq!(workers[0].ask(Handled).await.unwrap(), 1);
}

#[playhouse::test]
async fn a_waiting_tell_gets_its_message_back_when_the_pool_stops() {
    let (pool, _started) = spawn(builder(1, Routing::RoundRobin).mailbox(Mailbox::bounded(1)));
    let mut gate = Gate::new();
    pool.tell(gate.hold()).await.unwrap();
    gate.held().await;
    pool.tell(Work).await.unwrap();

    let tell = pool.tell(Note {
        text: "late".into(),
    });
    tokio::pin!(tell);
    tokio::select! {
        biased;
        sent = &mut tell => panic!("the pool is full, yet: {sent:?}"),
        () = tokio::task::yield_now() => {}
    }
    pool.stop();
    let refused = tell.await.unwrap_err();
    assert_eq!(refused.into_inner().text, "late");
    gate.release(1);
    assert_eq!(pool.wait().await, ExitReason::Normal);
}

#[playhouse::test]
async fn stopping_the_pool_stops_its_workers_first_and_refuses_sends() {
    let system = System::current();
    let before = system.live_actors();
    let (pool, _started) = spawn(builder(3, Routing::RoundRobin));
    let workers = pool.workers();
    assert_eq!(
        system.live_actors(),
        before + 4,
        "three workers and a supervisor"
    );
    pool.ask(Work).await.unwrap();

    pool.stop();
    assert!(matches!(pool.tell(Work).await, Err(SendError(Work))));
    assert!(matches!(
        pool.try_tell(Work),
        Err(TrySendError::Stopped(Work))
    ));
    assert!(matches!(pool.ask(Work).await, Err(AskError::Stopped(Work))));
    assert!(pool.with_key(1).tell(Work).await.is_err());
    let note = Note { text: "x".into() };
    assert!(pool.broadcast(note).await.is_err());
    assert_eq!(pool.resize(5).await, Err(ResizeError::Stopped));
    assert_eq!(pool.size(), 0);
    assert!(pool.with_key(1).worker().is_none());

    assert_eq!(pool.wait().await, ExitReason::Normal);
    for worker in &workers {
        assert_eq!(
            worker.exit_reason(),
            Some(ExitReason::Shutdown),
            "the workers ended before the pool"
        );
    }
    assert!(!pool.is_alive());
    assert_eq!(system.live_actors(), before);
    pool.stop();
}

#[playhouse::test]
async fn the_pool_shows_in_the_supervision_tree_with_its_workers() {
    let (pool, _started) = spawn(builder(2, Routing::RoundRobin));
    let tree = System::current().tree();
    let node = tree
        .roots
        .iter()
        .find(|node| node.id == pool.id())
        .expect("the pool is a top-level actor");
    assert_eq!(node.name, format!("PoolSupervisor<Worker>{}", pool.id()));
    assert_eq!(
        node.children
            .iter()
            .map(|child| child.id)
            .collect::<Vec<_>>(),
        ids(&pool.workers())
    );
}

#[playhouse::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_senders_and_resizes_lose_nothing() {
    const SENDERS: usize = 8;
    const EACH: usize = 500;
    let system = System::current();
    let (pool, _started) = spawn(builder(3, Routing::LeastLoaded).mailbox(Mailbox::bounded(2)));
    let counter = Arc::new(AtomicUsize::new(0));
    let senders: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let pool = pool.clone();
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                for job in 0..EACH {
                    let count = Count {
                        counter: Arc::clone(&counter),
                    };
                    if job % 3 == 0 {
                        pool.with_key(sender).tell(count).await.unwrap();
                    } else {
                        pool.tell(count).await.unwrap();
                    }
                }
            })
        })
        .collect();
    for size in [1, 5, 2, 6, 1, 4].into_iter().cycle().take(30) {
        pool.resize(size).await.unwrap();
        tokio::task::yield_now().await;
    }
    for sender in senders {
        sender.await.unwrap();
    }
    pool.stop();
    assert_eq!(pool.wait().await, ExitReason::Normal);
    // A send that raced with a worker's retirement may become a dead letter (the delivery
    // guarantee), never vanish.
    let handled = counter.load(Ordering::Relaxed) as u64;
    assert_eq!(handled + system.dead_letters(), (SENDERS * EACH) as u64);
}

/// Owns a pool of its own.
struct Owner {
    pool: Pool<Worker>,
}

impl Actor for Owner {
    type Args = Starts;
    type Error = PoolSizeError;

    async fn on_start(starts: Starts, ctx: &mut Context<Self>) -> Result<Self, PoolSizeError> {
        let pool = Pool::builder(2).spawn_child(ctx, starts)?;
        Ok(Owner { pool })
    }
}

#[messages]
impl Owner {
    #[message(name = GetPool)]
    fn pool(&self) -> Pool<Worker> {
        self.pool.clone()
    }
}

#[playhouse::test]
async fn a_pool_spawned_by_an_actor_stops_with_it() {
    let (starts, _started) = mpsc::unbounded_channel();
    let owner = Owner::spawn(Starts(starts));
    let pool = owner.ask(GetPool).await.unwrap();
    pool.ask(Work).await.unwrap();
    let workers = pool.workers();
    owner.stop();
    assert_eq!(owner.wait().await, ExitReason::Normal);
    assert!(!pool.is_alive());
    assert_eq!(pool.wait().await, ExitReason::Shutdown);
    assert!(workers.iter().all(|worker| !worker.is_alive()));
}

#[playhouse::test]
async fn a_killed_pool_lets_go_of_its_workers() {
    let (starts, _started) = mpsc::unbounded_channel();
    let owner = Owner::spawn(Starts(starts));
    let pool = owner.ask(GetPool).await.unwrap();
    assert_eq!(pool.size(), 2);
    // Killing the owner kills the pool's supervisor: no `on_stop`, yet the list empties.
    owner.kill();
    assert_eq!(owner.wait().await, ExitReason::Killed);
    pool.wait().await;
    assert_eq!(pool.size(), 0);
    assert!(pool.workers().is_empty());
    assert!(pool.tell(Work).await.is_err());
}

#[test]
fn pool_types_are_send_and_sync_and_errors_are_std_errors() {
    fn send_sync<T: Send + Sync>() {}
    fn error<E: std::error::Error + Send + Sync + 'static>() {}
    send_sync::<Pool<Worker>>();
    send_sync::<KeyedPool<'static, Worker>>();
    send_sync::<PoolBuilder<Worker>>();
    send_sync::<Routing>();
    error::<PoolSizeError>();
    error::<ResizeError>();
}
