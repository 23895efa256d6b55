//! Strands: actors that take turns on one task.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use playhouse::prelude::*;
use playhouse::supervision::Restart;
use playhouse::Strand;

fn two_workers() -> playhouse::Runtime {
    playhouse::Builder::new().worker_threads(2).build().unwrap()
}

/// Counts how many of its kind are inside a handler at once.
#[derive(Actor)]
struct Busy {
    inside: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
}

#[messages]
impl Busy {
    /// Stays in the handler a little while, holding its thread, and notes the overlap.
    #[message]
    fn work(&mut self) {
        let now = self.inside.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(2));
        self.inside.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The most handlers of four `Busy` actors that ran at once, on a strand or not.
fn most_at_once(on_strand: bool) -> usize {
    two_workers().block_on(async move {
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let strand = Strand::new();
        let actors: Vec<_> = (0..4)
            .map(|_| {
                let builder = Busy::builder();
                let builder = if on_strand {
                    builder.strand(&strand)
                } else {
                    builder
                };
                builder.spawn(Busy {
                    inside: Arc::clone(&inside),
                    most: Arc::clone(&most),
                })
            })
            .collect();
        let calls = actors.iter().cycle().take(40).map(|actor| {
            let actor = actor.clone();
            tokio::spawn(async move { actor.ask(Work).await })
        });
        for call in calls.collect::<Vec<_>>() {
            call.await.unwrap().unwrap();
        }
        most.load(Ordering::SeqCst)
    })
}

#[test]
fn actors_of_a_strand_never_run_at_the_same_time() {
    assert_eq!(most_at_once(true), 1);
    // The same actors as tasks of their own do overlap on two workers, so the check above
    // can see an overlap.
    assert!(most_at_once(false) > 1);
}

/// Hands a ball on to the next relay, and remembers what it saw.
#[derive(Actor)]
struct Relay {
    next: Option<ActorRef<Relay>>,
    seen: Vec<u32>,
    done: Option<tokio::sync::mpsc::UnboundedSender<u32>>,
}

#[messages]
impl Relay {
    #[message]
    fn link(&mut self, next: ActorRef<Relay>) {
        self.next = Some(next);
    }

    #[message]
    async fn ball(&mut self, left: u32) {
        self.seen.push(left);
        if left == 0 {
            if let Some(done) = &self.done {
                let _ = done.send(left);
            }
            return;
        }
        let next = self.next.as_ref().unwrap();
        next.tell(Ball { left: left - 1 }).await.unwrap();
    }

    /// Asks the next relay what it has seen: an ask between two actors of one strand.
    #[message]
    async fn ask_next(&self) -> Vec<u32> {
        self.next.as_ref().unwrap().ask(Seen).await.unwrap()
    }

    #[message]
    fn seen(&self) -> Vec<u32> {
        self.seen.clone()
    }
}

#[playhouse::test]
async fn a_ring_on_a_strand_hands_every_message_on_in_order() {
    let strand = Strand::new();
    let (done, mut finished) = tokio::sync::mpsc::unbounded_channel();
    let relays: Vec<_> = (0..10)
        .map(|_| {
            Relay::builder().strand(&strand).spawn(Relay {
                next: None,
                seen: Vec::new(),
                done: Some(done.clone()),
            })
        })
        .collect();
    for (index, relay) in relays.iter().enumerate() {
        let next = relays[(index + 1) % relays.len()].clone();
        relay.tell(Link { next }).await.unwrap();
    }
    // Three balls go round at once, from outside the strand.
    for start in [999, 1000, 1001] {
        relays[0].tell(Ball { left: start }).await.unwrap();
    }
    for _ in 0..3 {
        assert_eq!(finished.recv().await, Some(0));
    }
    // The hops were hand-offs on the strand's thread, not wake-ups from outside: only the
    // links and the three first throws came from outside.
    let (local, remote) = (strand.local_wakes(), strand.remote_wakes());
    assert!(local >= 500, "{local} local wakes, {remote} remote");
    assert!(remote <= 30, "{local} local wakes, {remote} remote");
    for (index, relay) in relays.iter().enumerate() {
        let seen = relay.ask(Seen).await.unwrap();
        assert_eq!(seen.len(), 300 + [2, 1].get(index).copied().unwrap_or(0));
        // A ball that started at `start` reaches relay `index` with `start - index - 10k`
        // left; the three starts differ modulo ten, so each ball is one residue. Each
        // ball's path is a chain of single senders, so it arrives in the order sent.
        for start in [999u32, 1000, 1001] {
            let ball: Vec<_> = seen
                .iter()
                .filter(|left| (*left + index as u32) % 10 == start % 10)
                .collect();
            assert!(ball.windows(2).all(|pair| pair[0] > pair[1]), "{ball:?}");
            assert_eq!(*ball[0], start - index as u32, "relay {index}");
        }
    }
    // An ask from one member to another is answered while the asker waits.
    let asked = relays[3].ask(AskNext).await.unwrap();
    assert_eq!(asked, relays[4].ask(Seen).await.unwrap());
}

/// Panics on demand; counts its starts.
#[derive(Clone)]
struct FragileArgs {
    starts: Arc<AtomicUsize>,
}

struct Fragile;

impl Actor for Fragile {
    type Args = FragileArgs;
    type Error = std::convert::Infallible;

    async fn on_start(args: FragileArgs, _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        args.starts.fetch_add(1, Ordering::SeqCst);
        Ok(Fragile)
    }
}

#[messages]
impl Fragile {
    #[message]
    fn crash(&self) {
        panic!("fragile crashed on purpose");
    }

    #[message]
    fn thread(&self) -> Option<String> {
        std::thread::current().name().map(str::to_owned)
    }
}

/// Supervises one `Fragile` child, spawned onto the parent's strand.
#[derive(Actor)]
struct Parent {
    strand: Strand,
    child: Option<ActorRef<Fragile>>,
}

#[messages]
impl Parent {
    #[message]
    fn adopt(&mut self, starts: Arc<AtomicUsize>, ctx: &mut Context<Self>) -> ActorRef<Fragile> {
        let child = Fragile::builder().strand(&self.strand).supervise_child(
            ctx,
            Restart::Permanent,
            FragileArgs { starts },
        );
        self.child = Some(child.clone());
        child
    }
}

#[playhouse::test]
async fn a_panic_on_a_strand_restarts_that_actor_only() {
    let strand = Strand::new();
    let parent = Parent::builder().strand(&strand).spawn(Parent {
        strand: strand.clone(),
        child: None,
    });
    let bystander = Relay::builder().strand(&strand).spawn(Relay {
        next: None,
        seen: Vec::new(),
        done: None,
    });
    let starts = Arc::new(AtomicUsize::new(0));
    let child = parent
        .ask(Adopt {
            starts: Arc::clone(&starts),
        })
        .await
        .unwrap();
    assert!(matches!(child.ask(Crash).await, Err(AskError::Panicked(_))));
    // Restarted in place: the same reference answers again.
    child.ask(Thread).await.unwrap();
    assert_eq!(starts.load(Ordering::SeqCst), 2);
    assert!(parent.is_alive());
    assert_eq!(bystander.ask(Seen).await.unwrap(), Vec::<u32>::new());
}

/// Sends itself a message from every handler, forever: never idle.
#[derive(Actor)]
struct Spinner {
    handled: Arc<AtomicUsize>,
}

#[messages]
impl Spinner {
    #[message]
    async fn spin(&mut self, ctx: &mut Context<Self>) {
        self.handled.fetch_add(1, Ordering::Relaxed);
        let _ = ctx.actor_ref().tell(Spin).await;
    }

    #[message]
    fn handled(&self) -> usize {
        self.handled.load(Ordering::Relaxed)
    }
}

#[test]
fn a_busy_strand_leaves_room_for_other_actors_and_tasks() {
    // One worker: a strand that never gave it back would starve everything else, timers
    // included, so the verdict comes from a thread outside the runtime.
    let (verdict, heard) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        busy_strand_on_one_worker();
        let _ = verdict.send(());
    });
    heard
        .recv_timeout(Duration::from_secs(30))
        .expect("a busy strand starved its worker");
}

fn busy_strand_on_one_worker() {
    let runtime = playhouse::Builder::new().worker_threads(1).build().unwrap();
    runtime.block_on(async {
        let strand = Strand::new();
        let handled = Arc::new(AtomicUsize::new(0));
        let spinner = Spinner::builder().strand(&strand).spawn(Spinner {
            handled: Arc::clone(&handled),
        });
        spinner.tell(Spin).await.unwrap();
        // Another actor of the same strand gets its turn between the spinner's batches.
        let neighbour = Relay::builder().strand(&strand).spawn(Relay {
            next: None,
            seen: Vec::new(),
            done: None,
        });
        let seen = neighbour.ask_timeout(Seen, Duration::from_secs(5)).await;
        assert_eq!(seen.unwrap(), Vec::<u32>::new());
        // A plain task on the one worker gets its turn too.
        let task = tokio::spawn(async { 7 });
        let value = tokio::time::timeout(Duration::from_secs(5), task).await;
        assert_eq!(value.unwrap().unwrap(), 7);
        let before = spinner.ask_timeout(Handled, Duration::from_secs(5)).await;
        assert!(before.unwrap() > 0);
        spinner.stop();
        spinner.wait().await;
    });
}

/// Waits on a timer inside its handler: woken from the timer, off the strand's turn.
#[derive(Actor)]
struct Sleeper;

#[messages]
impl Sleeper {
    #[message]
    async fn nap(&self, millis: u64) -> u64 {
        tokio::time::sleep(Duration::from_millis(millis)).await;
        millis
    }
}

#[playhouse::test]
async fn strand_actors_wait_on_timers_and_asks_from_outside() {
    let strand = Strand::new();
    let sleepers: Vec<_> = (0..3)
        .map(|_| Sleeper::builder().strand(&strand).spawn(Sleeper))
        .collect();
    // The three wait at once: the strand does not wait for one timer before the next.
    let started = tokio::time::Instant::now();
    let naps: Vec<_> = sleepers
        .iter()
        .zip([300, 100, 200])
        .map(|(sleeper, millis)| {
            let sleeper = sleeper.clone();
            tokio::spawn(async move { sleeper.ask(Nap { millis }).await })
        })
        .collect();
    let mut slept = Vec::new();
    for nap in naps {
        slept.push(nap.await.unwrap().unwrap());
    }
    assert_eq!(slept, vec![300, 100, 200]);
    assert!(started.elapsed() < Duration::from_millis(600));
}

#[playhouse::test]
async fn a_strand_starts_again_after_its_last_actor_ended() {
    let strand = Strand::new();
    let first = Sleeper::builder().strand(&strand).spawn(Sleeper);
    assert_eq!(first.ask(Nap { millis: 0 }).await.unwrap(), 0);
    first.stop();
    assert_eq!(first.wait().await, ExitReason::Normal);
    // The strand's task ends with its last actor; a newcomer starts a new one.
    let ended = async {
        while format!("{strand:?}").contains("running: true") {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), ended)
        .await
        .expect("the strand's task ends");
    let second = Sleeper::builder().strand(&strand).spawn(Sleeper);
    assert_eq!(second.ask(Nap { millis: 1 }).await.unwrap(), 1);
}

/// Records its stop.
#[derive(Actor)]
struct Stopper {
    log: Arc<Mutex<Vec<String>>>,
}

#[messages]
impl Stopper {
    #[message]
    fn ping(&self) {}
}

impl Drop for Stopper {
    fn drop(&mut self) {
        self.log.lock().unwrap().push("dropped".to_owned());
    }
}

#[test]
fn shutdown_stops_strand_actors_and_a_dropped_runtime_ends_them() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let runtime = two_workers();
    let actors = runtime.block_on({
        let log = Arc::clone(&log);
        async move {
            let strand = Strand::new();
            let actors: Vec<_> = (0..3)
                .map(|_| {
                    Stopper::builder().strand(&strand).spawn(Stopper {
                        log: Arc::clone(&log),
                    })
                })
                .collect();
            for actor in &actors {
                actor.ask(Ping).await.unwrap();
            }
            actors
        }
    });
    let report = runtime.shutdown();
    assert!(report.is_clean(), "{report}");
    assert_eq!(log.lock().unwrap().len(), 3);
    for actor in &actors {
        assert!(!actor.is_alive());
    }

    // A runtime dropped under a busy strand: its actors end as killed, nothing hangs.
    let runtime = two_workers();
    let spinner = runtime.block_on(async {
        let strand = Strand::new();
        let spinner = Spinner::builder().strand(&strand).spawn(Spinner {
            handled: Arc::new(AtomicUsize::new(0)),
        });
        spinner.tell(Spin).await.unwrap();
        spinner
    });
    drop(runtime);
    assert!(!spinner.is_alive());
}

#[test]
fn a_strand_of_another_system_is_refused_and_the_actor_runs_anyway() {
    let other = two_workers();
    let strand = other.block_on(async { Strand::new() });
    let runtime = two_workers();
    runtime.block_on(async move {
        let actor = Fragile::builder().strand(&strand).spawn(FragileArgs {
            starts: Arc::new(AtomicUsize::new(0)),
        });
        let thread = actor.ask(Thread).await.unwrap();
        assert!(thread.is_some());
        assert!(format!("{strand:?}").contains("running: false"));
    });
}

#[playhouse::test]
async fn the_last_placement_chosen_wins() {
    let strand = Strand::new();
    let on_thread = Fragile::builder()
        .strand(&strand)
        .dedicated_thread()
        .spawn(FragileArgs {
            starts: Arc::new(AtomicUsize::new(0)),
        });
    let name = on_thread.ask(Thread).await.unwrap().unwrap();
    assert_eq!(name, on_thread.to_string());
    assert!(format!("{strand:?}").contains("running: false"));
    let on_strand = Fragile::builder()
        .dedicated_thread()
        .strand(&strand)
        .spawn(FragileArgs {
            starts: Arc::new(AtomicUsize::new(0)),
        });
    assert_ne!(
        on_strand.ask(Thread).await.unwrap().unwrap(),
        on_strand.to_string()
    );
    assert!(format!("{strand:?}").contains("running: true"));
}

/// Counts what it is told, and passes messages marked so on to its sink.
#[derive(Actor)]
struct Tally {
    sink: Option<ActorRef<Tally>>,
    counted: u64,
}

#[messages]
impl Tally {
    #[message]
    fn pass_to(&mut self, sink: ActorRef<Tally>) {
        self.sink = Some(sink);
    }

    #[message]
    async fn count(&mut self, pass_on: bool) {
        self.counted += 1;
        if pass_on {
            let sink = self.sink.as_ref().unwrap();
            sink.tell(Count { pass_on: false }).await.unwrap();
        }
    }

    #[message]
    fn counted(&self) -> u64 {
        self.counted
    }
}

fn tally_on(strand: &Strand) -> ActorRef<Tally> {
    Tally::builder()
        .strand(strand)
        .mailbox(Mailbox::bounded(4))
        .spawn(Tally {
            sink: None,
            counted: 0,
        })
}

/// Counts its starts.
struct Starter;

impl Actor for Starter {
    type Args = Arc<AtomicUsize>;
    type Error = std::convert::Infallible;

    async fn on_start(
        started: Arc<AtomicUsize>,
        _ctx: &mut Context<Self>,
    ) -> Result<Self, Self::Error> {
        started.fetch_add(1, Ordering::Relaxed);
        Ok(Starter)
    }
}

#[test]
fn actors_spawned_onto_a_strand_by_a_task_that_never_waits_start_meanwhile() {
    // The spawner's first spawn wakes the strand's runner, which tokio would run on the
    // spawner's worker once the spawner yields; a spawner that never yields must not keep
    // it from starting its actors on the other worker.
    two_workers().block_on(async {
        let started = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&started);
        let spawner = tokio::spawn(async move {
            let strand = Strand::new();
            let actors: Vec<_> = (0..1_000)
                .map(|_| Starter::builder().strand(&strand).spawn(Arc::clone(&seen)))
                .collect();
            // The worker is held: the strand can only run on the other one.
            let started = playhouse_tests::hold_worker_until(Duration::from_secs(10), || {
                seen.load(Ordering::Relaxed) > 0
            });
            (started, actors)
        });
        let (started_meanwhile, actors) = spawner.await.unwrap();
        assert!(
            started_meanwhile,
            "no actor started while its spawner held its worker"
        );
        for actor in &actors {
            actor.stop();
        }
        for actor in &actors {
            assert_eq!(actor.wait().await, ExitReason::Normal);
        }
        assert_eq!(started.load(Ordering::Relaxed), actors.len());
    });
}

/// Counts its stops.
struct Ender {
    stopped: Arc<AtomicUsize>,
}

impl Actor for Ender {
    type Args = Arc<AtomicUsize>;
    type Error = std::convert::Infallible;

    async fn on_start(
        stopped: Arc<AtomicUsize>,
        _ctx: &mut Context<Self>,
    ) -> Result<Self, Self::Error> {
        Ok(Ender { stopped })
    }

    async fn on_stop(&mut self, _ctx: &mut Context<Self>, _reason: &ExitReason) {
        self.stopped.fetch_add(1, Ordering::Relaxed);
    }
}

struct Hello;
impl Message for Hello {
    type Reply = ();
}
impl Handler<Hello> for Ender {
    async fn handle(&mut self, _: Hello, _ctx: &mut Context<Self>) {}
}

#[test]
fn actors_on_a_strand_stopped_by_a_task_that_never_waits_stop_meanwhile() {
    two_workers().block_on(async {
        let stopped = Arc::new(AtomicUsize::new(0));
        let strand = Strand::new();
        let actors: Vec<_> = (0..1_000)
            .map(|_| Ender::builder().strand(&strand).spawn(Arc::clone(&stopped)))
            .collect();
        // All started and (nearly always) waiting for mail, so the first stop wakes the
        // strand's runner; a runner still awake runs on the other worker already.
        for actor in &actors {
            actor.ask(Hello).await.unwrap();
        }
        let seen = Arc::clone(&stopped);
        let stopper = tokio::spawn(async move {
            for actor in &actors {
                actor.stop();
            }
            // The worker is held: the strand can only run on the other one.
            let stopped = playhouse_tests::hold_worker_until(Duration::from_secs(10), || {
                seen.load(Ordering::Relaxed) > 0
            });
            (stopped, actors)
        });
        let (stopped_meanwhile, actors) = stopper.await.unwrap();
        assert!(
            stopped_meanwhile,
            "no actor stopped while the stopping task held its worker"
        );
        for actor in &actors {
            assert_eq!(actor.wait().await, ExitReason::Normal);
        }
        assert_eq!(stopped.load(Ordering::Relaxed), actors.len());
    });
}

#[test]
fn wakes_from_many_threads_and_from_the_strand_itself_lose_nothing() {
    two_workers().block_on(async {
        let strand = Strand::new();
        // Eight tallies pass on to eight sinks, all on one strand (no cycle, so waiting
        // for room cannot deadlock).
        let sinks: Vec<_> = (0..8).map(|_| tally_on(&strand)).collect();
        let tallies: Vec<_> = (0..8).map(|_| tally_on(&strand)).collect();
        for (tally, sink) in tallies.iter().zip(&sinks) {
            tally.tell(PassTo { sink: sink.clone() }).await.unwrap();
        }
        // Eight senders on the workers and two OS threads of their own, all at once, into
        // small mailboxes: members wait for room in the sinks' mailboxes too.
        let mut senders = Vec::new();
        for sender in 0..8 {
            let tallies = tallies.clone();
            senders.push(tokio::spawn(async move {
                for round in 0..2_000 {
                    let tally = &tallies[(sender + round) % tallies.len()];
                    tally.tell(Count { pass_on: true }).await.unwrap();
                }
            }));
        }
        let threads: Vec<_> = (0..2)
            .map(|thread| {
                let sinks = sinks.clone();
                std::thread::spawn(move || {
                    for round in 0..2_000 {
                        let sink = &sinks[(thread + round) % sinks.len()];
                        while sink.try_tell(Count { pass_on: false }).is_err() {
                            std::thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        for sender in senders {
            sender.await.unwrap();
        }
        for thread in threads {
            thread.join().unwrap();
        }
        // The tallies have handled all they were sent before these asks (one sender, in
        // order), and each tally's pass-ons reached its sink before its reply.
        let mut tallied = 0;
        for tally in &tallies {
            tallied += tally.ask(Counted).await.unwrap();
        }
        assert_eq!(tallied, 8 * 2_000);
        let mut sunk = 0;
        for sink in &sinks {
            sunk += sink.ask(Counted).await.unwrap();
        }
        assert_eq!(sunk, 8 * 2_000 + 2 * 2_000);
    });
}
