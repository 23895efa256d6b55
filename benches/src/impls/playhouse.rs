//! Playhouse, written the way its README and examples write actors: `#[derive(Actor)]`,
//! `#[messages]` methods, `tell(..).await` and `ask(..).await`, default (bounded)
//! mailboxes unless the workload asks for unbounded ones, on a runtime with two workers.
//!
//! Placement follows the guide: actors that do nothing but talk to each other (the two
//! players of ping-pong, the relays of the ring, the mall and chameneos) and the many
//! small idle actors of fork-join creation share a `Strand`, as actix puts every actor on
//! one arbiter; the others (counting, ask, fork-join throughput, big, whose actors work in
//! parallel) are tasks of their own.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use playhouse::prelude::*;
use playhouse::Strand;

use super::WORKER_THREADS;
use crate::support::{resident_memory, Color, Latch, Rng};
use crate::workloads::{big_pings, counting_values, fork_join_share, Created, Kind, Params, Run};

pub(crate) fn block_on<F>(future: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let runtime = playhouse::Builder::new()
        .worker_threads(WORKER_THREADS)
        .build()
        .expect("the Playhouse runtime starts");
    // On a worker, like every other implementation's workload; the main thread waits.
    let workload = runtime.handle().spawn("workload", future);
    let output = runtime
        .block_on(workload)
        .expect("the workload does not panic");
    runtime.shutdown();
    output
}

/// Counts and sums the values it is told.
#[derive(Actor)]
struct Counter {
    count: u64,
    sum: u64,
}

#[messages]
impl Counter {
    #[message]
    fn add(&mut self, value: u64) {
        self.count += 1;
        self.sum += value;
    }

    #[message]
    fn totals(&self) -> (u64, u64) {
        (self.count, self.sum)
    }
}

fn counter(kind: Kind) -> ActorRef<Counter> {
    let counter = Counter { count: 0, sum: 0 };
    match kind {
        Kind::Bounded => Counter::spawn(counter),
        Kind::Unbounded => Counter::builder()
            .mailbox(Mailbox::unbounded())
            .spawn(counter),
    }
}

pub(crate) async fn counting(params: Params, kind: Kind, senders: u64) -> Run {
    let counter = counter(kind);
    let each = counting_values(params, senders);
    let started = Instant::now();
    let tasks: Vec<_> = (0..senders)
        .map(|_| {
            let counter = counter.clone();
            tokio::spawn(async move {
                for value in 1..=each {
                    counter.tell(Add { value }).await.expect("counter runs");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("sender finishes");
    }
    let (count, sum) = counter.ask(Totals).await.expect("counter replies");
    Run {
        elapsed: started.elapsed(),
        count,
        checksum: sum,
    }
}

/// Answers every number with the next one.
#[derive(Actor)]
struct Echo;

#[messages]
impl Echo {
    #[message]
    fn next(&self, value: u64) -> u64 {
        value + 1
    }
}

pub(crate) async fn ask(params: Params) -> Run {
    let echo = Echo::spawn(Echo);
    let started = Instant::now();
    let mut sum = 0;
    for value in 0..params.size {
        sum += echo.ask(Next { value }).await.expect("echo replies");
    }
    Run {
        elapsed: started.elapsed(),
        count: params.size,
        checksum: sum,
    }
}

/// Passes a ball on to the next relay until no hops are left: a player of ping-pong or a
/// node of the thread ring.
#[derive(Actor)]
struct Relay {
    next: Option<ActorRef<Relay>>,
    handled: u64,
    done: Arc<Latch>,
}

#[messages]
impl Relay {
    #[message]
    fn link(&mut self, next: ActorRef<Relay>) {
        self.next = Some(next);
    }

    #[message]
    async fn ball(&mut self, left: u64) {
        self.handled += 1;
        if left == 0 {
            self.done.count_down();
            return;
        }
        let next = self.next.as_ref().expect("linked before play");
        next.tell(Ball { left: left - 1 })
            .await
            .expect("next relay runs");
    }

    #[message]
    fn handled(&self) -> u64 {
        self.handled
    }
}

async fn ring(actors: usize, done: &Arc<Latch>) -> Vec<ActorRef<Relay>> {
    // The relays do nothing but hand the ball on: one strand keeps the hand-offs on one
    // thread, as actix keeps them on one arbiter.
    let strand = Strand::new();
    let relays: Vec<_> = (0..actors)
        .map(|_| {
            Relay::builder().strand(&strand).spawn(Relay {
                next: None,
                handled: 0,
                done: Arc::clone(done),
            })
        })
        .collect();
    for (index, relay) in relays.iter().enumerate() {
        let next = relays[(index + 1) % actors].clone();
        relay.tell(Link { next }).await.expect("relay runs");
    }
    relays
}

async fn handled_counts(relays: &[ActorRef<Relay>]) -> Vec<u64> {
    let mut counts = Vec::with_capacity(relays.len());
    for relay in relays {
        counts.push(relay.ask(Handled).await.expect("relay replies"));
    }
    counts
}

pub(crate) async fn ping_pong(params: Params) -> Run {
    let done = Latch::new(1);
    let players = ring(2, &done).await;
    let started = Instant::now();
    players[0]
        .tell(Ball {
            left: params.size - 1,
        })
        .await
        .expect("ping runs");
    done.wait().await;
    let elapsed = started.elapsed();
    let hits = handled_counts(&players).await;
    Run {
        elapsed,
        count: hits.iter().sum(),
        checksum: hits[0],
    }
}

pub(crate) async fn thread_ring(params: Params) -> Run {
    let done = Latch::new(1);
    let relays = ring(params.actors, &done).await;
    let started = Instant::now();
    relays[0]
        .tell(Ball {
            left: params.size - 1,
        })
        .await
        .expect("the first relay runs");
    done.wait().await;
    let elapsed = started.elapsed();
    let counts = handled_counts(&relays).await;
    Run {
        elapsed,
        count: counts.iter().sum(),
        checksum: counts.iter().zip(0..).map(|(count, i)| count * i).sum(),
    }
}

pub(crate) async fn fork_join_throughput(params: Params) -> Run {
    let workers: Vec<_> = (0..params.actors).map(|_| counter(Kind::Bounded)).collect();
    let started = Instant::now();
    let total = fork_join_share(params) * params.actors as u64;
    for value in 0..total {
        workers[value as usize % workers.len()]
            .tell(Add { value })
            .await
            .expect("worker runs");
    }
    let (mut count, mut checksum) = (0, 0);
    for worker in &workers {
        let (handled, sum) = worker.ask(Totals).await.expect("worker replies");
        count += handled;
        checksum += sum;
    }
    Run {
        elapsed: started.elapsed(),
        count,
        checksum,
    }
}

/// An actor with no state, for creation and memory.
#[derive(Actor)]
struct Idle;

#[messages]
impl Idle {
    #[message]
    fn hello(&self, started: Arc<Latch>) {
        started.count_down();
    }
}

pub(crate) async fn fork_join_create(params: Params) -> Created {
    let n = params.size;
    let started_all = Latch::new(n);
    let mut actors = Vec::with_capacity(n as usize);
    let rss_before = resident_memory();
    let started = Instant::now();
    // Many small actors that each do one thing: one strand, no tokio task per actor.
    let strand = Strand::new();
    for _ in 0..n {
        let idle = Idle::builder().strand(&strand).spawn(Idle);
        idle.tell(Hello {
            started: Arc::clone(&started_all),
        })
        .await
        .expect("idle actor runs");
        actors.push(idle);
    }
    started_all.wait().await;
    let spawn = started.elapsed();
    let rss_alive = resident_memory();
    let started = Instant::now();
    for idle in &actors {
        idle.stop();
    }
    let mut stopped = 0;
    for idle in &actors {
        if idle.wait().await == ExitReason::Normal {
            stopped += 1;
        }
    }
    Created {
        spawn,
        stop: started.elapsed(),
        rss_before,
        rss_alive,
        started: n,
        stopped,
    }
}

/// The meeting place of the chameneos.
#[derive(Actor)]
struct Mall {
    meetings_left: u64,
    waiting: Option<ActorRef<Chameneo>>,
    creatures: u64,
    meetings: u64,
    reports: u64,
    done: Arc<Latch>,
}

#[messages]
impl Mall {
    /// A chameneo comes to meet another: pair it, or fade it once no meetings are left.
    #[message]
    async fn arrive(&mut self, creature: ActorRef<Chameneo>, color: Color) {
        if self.meetings_left == 0 {
            creature.tell(Fade).await.expect("chameneo runs");
            return;
        }
        match self.waiting.take() {
            None => self.waiting = Some(creature),
            Some(first) => {
                self.meetings_left -= 1;
                first
                    .tell(Meet {
                        partner: creature,
                        color,
                    })
                    .await
                    .expect("chameneo runs");
            }
        }
    }

    #[message]
    fn report(&mut self, meetings: u64) {
        self.meetings += meetings;
        self.reports += 1;
        if self.reports == self.creatures {
            self.done.count_down();
        }
    }

    #[message]
    fn meetings(&self) -> (u64, u64) {
        (self.meetings, self.reports)
    }
}

#[derive(Actor)]
struct Chameneo {
    mall: ActorRef<Mall>,
    color: Color,
    meetings: u64,
}

#[messages]
impl Chameneo {
    /// Met `partner` at the mall: take the complement colour, tell the partner, go back.
    #[message]
    async fn meet(&mut self, partner: ActorRef<Chameneo>, color: Color, ctx: &mut Context<Self>) {
        self.color = self.color.complement(color);
        self.meetings += 1;
        partner
            .tell(Change { color: self.color })
            .await
            .expect("partner runs");
        self.back_to_mall(ctx).await;
    }

    /// The partner of a meeting says which colour to take.
    #[message]
    async fn change(&mut self, color: Color, ctx: &mut Context<Self>) {
        self.color = color;
        self.meetings += 1;
        self.back_to_mall(ctx).await;
    }

    #[message]
    async fn fade(&mut self) {
        self.mall
            .tell(Report {
                meetings: self.meetings,
            })
            .await
            .expect("mall runs");
    }

    async fn back_to_mall(&self, ctx: &Context<Self>) {
        self.mall
            .tell(Arrive {
                creature: ctx.actor_ref().clone(),
                color: self.color,
            })
            .await
            .expect("mall runs");
    }
}

pub(crate) async fn chameneos(params: Params) -> Run {
    let done = Latch::new(1);
    // The creatures only talk to the mall and to each other: one strand.
    let strand = Strand::new();
    let mall = Mall::builder().strand(&strand).spawn(Mall {
        meetings_left: params.size,
        waiting: None,
        creatures: params.actors as u64,
        meetings: 0,
        reports: 0,
        done: Arc::clone(&done),
    });
    let creatures: Vec<_> = (0..params.actors)
        .map(|index| {
            let color = Color::initial(index);
            let creature = Chameneo::builder().strand(&strand).spawn(Chameneo {
                mall: mall.clone(),
                color,
                meetings: 0,
            });
            (creature, color)
        })
        .collect();
    let started = Instant::now();
    for (creature, color) in creatures {
        mall.tell(Arrive { creature, color })
            .await
            .expect("mall runs");
    }
    done.wait().await;
    let elapsed = started.elapsed();
    let (count, checksum) = mall.ask(Meetings).await.expect("mall replies");
    Run {
        elapsed,
        count,
        checksum,
    }
}

/// One actor of `big`: pings random peers one at a time and answers their pings.
#[derive(Actor)]
struct Pinger {
    me: usize,
    peers: Arc<[ActorRef<Pinger>]>,
    rng: Rng,
    pings: u64,
    sent: u64,
    pongs: u64,
    pinged: u64,
    done: Arc<Latch>,
}

#[messages]
impl Pinger {
    #[message]
    fn meet_peers(&mut self, peers: Arc<[ActorRef<Pinger>]>) {
        self.peers = peers;
    }

    #[message]
    async fn start(&mut self) {
        self.ping_next().await;
    }

    #[message]
    async fn ping(&mut self, from: usize) {
        self.pinged += 1;
        self.peers[from].tell(Pong).await.expect("peer runs");
    }

    #[message]
    async fn pong(&mut self) {
        self.pongs += 1;
        self.ping_next().await;
    }

    #[message]
    fn counts(&self) -> (u64, u64) {
        (self.pinged, self.pongs)
    }

    async fn ping_next(&mut self) {
        if self.sent == self.pings {
            self.done.count_down();
            return;
        }
        self.sent += 1;
        let peer = self.rng.peer(self.me, self.peers.len());
        self.peers[peer]
            .tell(Ping { from: self.me })
            .await
            .expect("peer runs");
    }
}

pub(crate) async fn big(params: Params) -> Run {
    let done = Latch::new(params.actors as u64);
    let pingers: Vec<_> = (0..params.actors)
        .map(|me| {
            Pinger::spawn(Pinger {
                me,
                peers: Arc::new([]),
                rng: Rng::new(me as u64),
                pings: big_pings(params),
                sent: 0,
                pongs: 0,
                pinged: 0,
                done: Arc::clone(&done),
            })
        })
        .collect();
    let peers: Arc<[ActorRef<Pinger>]> = pingers.into();
    for pinger in peers.iter() {
        pinger
            .tell(MeetPeers {
                peers: Arc::clone(&peers),
            })
            .await
            .expect("pinger runs");
    }
    let started = Instant::now();
    for pinger in peers.iter() {
        pinger.tell(Start).await.expect("pinger runs");
    }
    done.wait().await;
    let elapsed = started.elapsed();
    let (mut count, mut checksum) = (0, 0);
    for pinger in peers.iter() {
        let (pinged, pongs) = pinger.ask(Counts).await.expect("pinger replies");
        count += pinged;
        checksum += pongs;
    }
    Run {
        elapsed,
        count,
        checksum,
    }
}
