//! kameo, written as its README does: `#[derive(Actor)]`, one `Message<M>` impl per
//! message, `tell(..).await` and `ask(..).await`, on a tokio runtime with two workers.
//!
//! Mailboxes are `mailbox::bounded(CAPACITY)` (kameo's own default is 64; the suite gives
//! every bounded mailbox the same capacity), or `mailbox::unbounded()` where the workload
//! asks for it.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use kameo::actor::{ActorRef, Spawn};
use kameo::mailbox;
use kameo::message::{Context, Message};
use kameo::Actor;

use crate::support::{resident_memory, Color, Latch, Rng};
use crate::workloads::{
    big_pings, counting_values, fork_join_share, Created, Kind, Params, Run, CAPACITY,
};

pub(crate) fn block_on<F>(future: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    super::block_on_tokio(super::tokio_runtime(), future)
}

fn spawn<A: Actor<Args = A>>(actor: A, kind: Kind) -> ActorRef<A> {
    match kind {
        Kind::Bounded => A::spawn_with_mailbox(actor, mailbox::bounded(CAPACITY)),
        Kind::Unbounded => A::spawn_with_mailbox(actor, mailbox::unbounded()),
    }
}

#[derive(Actor)]
struct Counter {
    count: u64,
    sum: u64,
}

struct Add(u64);

impl Message<Add> for Counter {
    type Reply = ();

    async fn handle(&mut self, Add(value): Add, _ctx: &mut Context<Self, Self::Reply>) {
        self.count += 1;
        self.sum += value;
    }
}

struct Totals;

impl Message<Totals> for Counter {
    type Reply = (u64, u64);

    async fn handle(&mut self, _: Totals, _ctx: &mut Context<Self, Self::Reply>) -> (u64, u64) {
        (self.count, self.sum)
    }
}

pub(crate) async fn counting(params: Params, kind: Kind, senders: u64) -> Run {
    let counter = spawn(Counter { count: 0, sum: 0 }, kind);
    let each = counting_values(params, senders);
    let started = Instant::now();
    let tasks: Vec<_> = (0..senders)
        .map(|_| {
            let counter = counter.clone();
            tokio::spawn(async move {
                for value in 1..=each {
                    counter.tell(Add(value)).await.expect("counter runs");
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

#[derive(Actor)]
struct Echo;

struct Next(u64);

impl Message<Next> for Echo {
    type Reply = u64;

    async fn handle(&mut self, Next(value): Next, _ctx: &mut Context<Self, Self::Reply>) -> u64 {
        value + 1
    }
}

pub(crate) async fn ask(params: Params) -> Run {
    let echo = spawn(Echo, Kind::Bounded);
    let started = Instant::now();
    let mut sum = 0;
    for value in 0..params.size {
        sum += echo.ask(Next(value)).await.expect("echo replies");
    }
    Run {
        elapsed: started.elapsed(),
        count: params.size,
        checksum: sum,
    }
}

/// A player of ping-pong or a node of the thread ring.
#[derive(Actor)]
struct Relay {
    next: Option<ActorRef<Relay>>,
    handled: u64,
    done: Arc<Latch>,
}

struct Link(ActorRef<Relay>);

impl Message<Link> for Relay {
    type Reply = ();

    async fn handle(&mut self, Link(next): Link, _ctx: &mut Context<Self, Self::Reply>) {
        self.next = Some(next);
    }
}

struct Ball(u64);

impl Message<Ball> for Relay {
    type Reply = ();

    async fn handle(&mut self, Ball(left): Ball, _ctx: &mut Context<Self, Self::Reply>) {
        self.handled += 1;
        if left == 0 {
            self.done.count_down();
            return;
        }
        let next = self.next.as_ref().expect("linked before play");
        next.tell(Ball(left - 1)).await.expect("next relay runs");
    }
}

struct Handled;

impl Message<Handled> for Relay {
    type Reply = u64;

    async fn handle(&mut self, _: Handled, _ctx: &mut Context<Self, Self::Reply>) -> u64 {
        self.handled
    }
}

async fn ring(actors: usize, done: &Arc<Latch>) -> Vec<ActorRef<Relay>> {
    let relays: Vec<_> = (0..actors)
        .map(|_| {
            let relay = Relay {
                next: None,
                handled: 0,
                done: Arc::clone(done),
            };
            spawn(relay, Kind::Bounded)
        })
        .collect();
    for (index, relay) in relays.iter().enumerate() {
        let next = relays[(index + 1) % actors].clone();
        relay.tell(Link(next)).await.expect("relay runs");
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
        .tell(Ball(params.size - 1))
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
        .tell(Ball(params.size - 1))
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
    let workers: Vec<_> = (0..params.actors)
        .map(|_| spawn(Counter { count: 0, sum: 0 }, Kind::Bounded))
        .collect();
    let started = Instant::now();
    let total = fork_join_share(params) * params.actors as u64;
    for value in 0..total {
        workers[value as usize % workers.len()]
            .tell(Add(value))
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

#[derive(Actor)]
struct Idle;

struct Hello(Arc<Latch>);

impl Message<Hello> for Idle {
    type Reply = ();

    async fn handle(&mut self, Hello(started): Hello, _ctx: &mut Context<Self, Self::Reply>) {
        started.count_down();
    }
}

pub(crate) async fn fork_join_create(params: Params) -> Created {
    let n = params.size;
    let started_all = Latch::new(n);
    let mut actors = Vec::with_capacity(n as usize);
    let rss_before = resident_memory();
    let started = Instant::now();
    for _ in 0..n {
        let idle = spawn(Idle, Kind::Bounded);
        idle.tell(Hello(Arc::clone(&started_all)))
            .await
            .expect("idle actor runs");
        actors.push(idle);
    }
    started_all.wait().await;
    let spawn = started.elapsed();
    let rss_alive = resident_memory();
    let started = Instant::now();
    for idle in &actors {
        idle.stop_gracefully().await.expect("idle actor runs");
    }
    let mut stopped = 0;
    for idle in &actors {
        idle.wait_for_shutdown().await;
        if !idle.is_alive() {
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

#[derive(Actor)]
struct Mall {
    meetings_left: u64,
    waiting: Option<ActorRef<Chameneo>>,
    creatures: u64,
    meetings: u64,
    reports: u64,
    done: Arc<Latch>,
}

struct Arrive(ActorRef<Chameneo>, Color);

impl Message<Arrive> for Mall {
    type Reply = ();

    async fn handle(
        &mut self,
        Arrive(creature, color): Arrive,
        _ctx: &mut Context<Self, Self::Reply>,
    ) {
        if self.meetings_left == 0 {
            creature.tell(Fade).await.expect("chameneo runs");
            return;
        }
        match self.waiting.take() {
            None => self.waiting = Some(creature),
            Some(first) => {
                self.meetings_left -= 1;
                first
                    .tell(Meet(creature, color))
                    .await
                    .expect("chameneo runs");
            }
        }
    }
}

struct Report(u64);

impl Message<Report> for Mall {
    type Reply = ();

    async fn handle(&mut self, Report(meetings): Report, _ctx: &mut Context<Self, Self::Reply>) {
        self.meetings += meetings;
        self.reports += 1;
        if self.reports == self.creatures {
            self.done.count_down();
        }
    }
}

struct Meetings;

impl Message<Meetings> for Mall {
    type Reply = (u64, u64);

    async fn handle(&mut self, _: Meetings, _ctx: &mut Context<Self, Self::Reply>) -> (u64, u64) {
        (self.meetings, self.reports)
    }
}

#[derive(Actor)]
struct Chameneo {
    mall: ActorRef<Mall>,
    color: Color,
    meetings: u64,
}

impl Chameneo {
    async fn back_to_mall(&self, me: &ActorRef<Self>) {
        self.mall
            .tell(Arrive(me.clone(), self.color))
            .await
            .expect("mall runs");
    }
}

struct Meet(ActorRef<Chameneo>, Color);

impl Message<Meet> for Chameneo {
    type Reply = ();

    async fn handle(&mut self, Meet(partner, color): Meet, ctx: &mut Context<Self, Self::Reply>) {
        self.color = self.color.complement(color);
        self.meetings += 1;
        partner
            .tell(Change(self.color))
            .await
            .expect("partner runs");
        self.back_to_mall(ctx.actor_ref()).await;
    }
}

struct Change(Color);

impl Message<Change> for Chameneo {
    type Reply = ();

    async fn handle(&mut self, Change(color): Change, ctx: &mut Context<Self, Self::Reply>) {
        self.color = color;
        self.meetings += 1;
        self.back_to_mall(ctx.actor_ref()).await;
    }
}

struct Fade;

impl Message<Fade> for Chameneo {
    type Reply = ();

    async fn handle(&mut self, _: Fade, _ctx: &mut Context<Self, Self::Reply>) {
        self.mall
            .tell(Report(self.meetings))
            .await
            .expect("mall runs");
    }
}

pub(crate) async fn chameneos(params: Params) -> Run {
    let done = Latch::new(1);
    let mall = spawn(
        Mall {
            meetings_left: params.size,
            waiting: None,
            creatures: params.actors as u64,
            meetings: 0,
            reports: 0,
            done: Arc::clone(&done),
        },
        Kind::Bounded,
    );
    let creatures: Vec<_> = (0..params.actors)
        .map(|index| {
            let color = Color::initial(index);
            let creature = Chameneo {
                mall: mall.clone(),
                color,
                meetings: 0,
            };
            (spawn(creature, Kind::Bounded), color)
        })
        .collect();
    let started = Instant::now();
    for (creature, color) in creatures {
        mall.tell(Arrive(creature, color)).await.expect("mall runs");
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

impl Pinger {
    async fn ping_next(&mut self) {
        if self.sent == self.pings {
            self.done.count_down();
            return;
        }
        self.sent += 1;
        let peer = self.rng.peer(self.me, self.peers.len());
        self.peers[peer]
            .tell(Ping(self.me))
            .await
            .expect("peer runs");
    }
}

struct Peers(Arc<[ActorRef<Pinger>]>);

impl Message<Peers> for Pinger {
    type Reply = ();

    async fn handle(&mut self, Peers(peers): Peers, _ctx: &mut Context<Self, Self::Reply>) {
        self.peers = peers;
    }
}

struct Start;

impl Message<Start> for Pinger {
    type Reply = ();

    async fn handle(&mut self, _: Start, _ctx: &mut Context<Self, Self::Reply>) {
        self.ping_next().await;
    }
}

struct Ping(usize);

impl Message<Ping> for Pinger {
    type Reply = ();

    async fn handle(&mut self, Ping(from): Ping, _ctx: &mut Context<Self, Self::Reply>) {
        self.pinged += 1;
        self.peers[from].tell(Pong).await.expect("peer runs");
    }
}

struct Pong;

impl Message<Pong> for Pinger {
    type Reply = ();

    async fn handle(&mut self, _: Pong, _ctx: &mut Context<Self, Self::Reply>) {
        self.pongs += 1;
        self.ping_next().await;
    }
}

struct Counts;

impl Message<Counts> for Pinger {
    type Reply = (u64, u64);

    async fn handle(&mut self, _: Counts, _ctx: &mut Context<Self, Self::Reply>) -> (u64, u64) {
        (self.pinged, self.pongs)
    }
}

pub(crate) async fn big(params: Params) -> Run {
    let done = Latch::new(params.actors as u64);
    let pingers: Vec<_> = (0..params.actors)
        .map(|me| {
            let pinger = Pinger {
                me,
                peers: Arc::new([]),
                rng: Rng::new(me as u64),
                pings: big_pings(params),
                sent: 0,
                pongs: 0,
                pinged: 0,
                done: Arc::clone(&done),
            };
            spawn(pinger, Kind::Bounded)
        })
        .collect();
    let peers: Arc<[ActorRef<Pinger>]> = pingers.into();
    for pinger in peers.iter() {
        pinger
            .tell(Peers(Arc::clone(&peers)))
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
