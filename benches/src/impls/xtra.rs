//! xtra, written as its examples do: an `Actor` impl and one `Handler<M>` impl per
//! message, `xtra::spawn_tokio`, `send(..).await` to ask and `send(..).detach().await` to
//! tell (it returns once the mailbox has accepted the message), on a tokio runtime with two
//! workers.
//!
//! xtra does not keep one sender's messages in order (see [`BEFORE_ASKS`]), so where an
//! ask must see the tells before it handled, those tells go at a higher priority.
//!
//! xtra keeps an actor alive while a strong `Address` to it exists and has no stop call
//! from outside, so actors that only others point to hold `WeakAddress`es, and stopping an
//! actor means dropping its last strong address.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use xtra::{Address, Context, Handler, Mailbox, WeakAddress};

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

fn spawn<A: xtra::Actor<Stop = ()>>(actor: A, kind: Kind) -> Address<A> {
    match kind {
        Kind::Bounded => xtra::spawn_tokio(actor, Mailbox::bounded(CAPACITY)),
        Kind::Unbounded => xtra::spawn_tokio(actor, Mailbox::unbounded()),
    }
}

/// Tells `address` a message: waits until its mailbox has accepted it, and drops the
/// receiver of the handler's return value, which nobody wants.
async fn tell<A, M, Rc>(address: &Address<A, Rc>, message: M)
where
    A: Handler<M>,
    M: Send + 'static,
    Rc: xtra::refcount::RefCounter,
{
    let accepted = address.send(message).detach().await;
    drop(accepted.expect("the actor runs"));
}

/// The priority of the tells that a later ask must not overtake.
///
/// xtra 0.6 keeps its mailbox in a binary heap ordered by priority only, so messages of
/// equal priority can be handled in any order (xtra issue #225): an ask for the totals,
/// sent after a million tells, may be handled before many of them. Sending those tells
/// one priority above the ask's default 0 makes xtra handle every queued tell first; the
/// tells among themselves may still be reordered, which counting does not mind.
const BEFORE_ASKS: u32 = 1;

/// Tells `address` a message that the next ask must see handled.
async fn tell_before_asks<A, M>(address: &Address<A>, message: M)
where
    A: Handler<M>,
    M: Send + 'static,
{
    let accepted = address.send(message).priority(BEFORE_ASKS).detach().await;
    drop(accepted.expect("the actor runs"));
}

struct Counter {
    count: u64,
    sum: u64,
}

impl xtra::Actor for Counter {
    type Stop = ();

    async fn stopped(self) {}
}

struct Add(u64);

impl Handler<Add> for Counter {
    type Return = ();

    async fn handle(&mut self, Add(value): Add, _ctx: &mut Context<Self>) {
        self.count += 1;
        self.sum += value;
    }
}

struct Totals;

impl Handler<Totals> for Counter {
    type Return = (u64, u64);

    async fn handle(&mut self, _: Totals, _ctx: &mut Context<Self>) -> (u64, u64) {
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
                    tell_before_asks(&counter, Add(value)).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("sender finishes");
    }
    let (count, sum) = counter.send(Totals).await.expect("counter replies");
    Run {
        elapsed: started.elapsed(),
        count,
        checksum: sum,
    }
}

struct Echo;

impl xtra::Actor for Echo {
    type Stop = ();

    async fn stopped(self) {}
}

struct Next(u64);

impl Handler<Next> for Echo {
    type Return = u64;

    async fn handle(&mut self, Next(value): Next, _ctx: &mut Context<Self>) -> u64 {
        value + 1
    }
}

pub(crate) async fn ask(params: Params) -> Run {
    let echo = spawn(Echo, Kind::Bounded);
    let started = Instant::now();
    let mut sum = 0;
    for value in 0..params.size {
        sum += echo.send(Next(value)).await.expect("echo replies");
    }
    Run {
        elapsed: started.elapsed(),
        count: params.size,
        checksum: sum,
    }
}

/// A player of ping-pong or a node of the thread ring.
struct Relay {
    next: Option<WeakAddress<Relay>>,
    handled: u64,
    done: Arc<Latch>,
}

impl xtra::Actor for Relay {
    type Stop = ();

    async fn stopped(self) {}
}

struct Link(WeakAddress<Relay>);

impl Handler<Link> for Relay {
    type Return = ();

    async fn handle(&mut self, Link(next): Link, _ctx: &mut Context<Self>) {
        self.next = Some(next);
    }
}

struct Ball(u64);

impl Handler<Ball> for Relay {
    type Return = ();

    async fn handle(&mut self, Ball(left): Ball, _ctx: &mut Context<Self>) {
        self.handled += 1;
        if left == 0 {
            self.done.count_down();
            return;
        }
        let next = self.next.as_ref().expect("linked before play");
        tell(next, Ball(left - 1)).await;
    }
}

struct Handled;

impl Handler<Handled> for Relay {
    type Return = u64;

    async fn handle(&mut self, _: Handled, _ctx: &mut Context<Self>) -> u64 {
        self.handled
    }
}

async fn ring(actors: usize, done: &Arc<Latch>) -> Vec<Address<Relay>> {
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
        let next = relays[(index + 1) % actors].downgrade();
        tell(relay, Link(next)).await;
    }
    relays
}

async fn handled_counts(relays: &[Address<Relay>]) -> Vec<u64> {
    let mut counts = Vec::with_capacity(relays.len());
    for relay in relays {
        counts.push(relay.send(Handled).await.expect("relay replies"));
    }
    counts
}

pub(crate) async fn ping_pong(params: Params) -> Run {
    let done = Latch::new(1);
    let players = ring(2, &done).await;
    let started = Instant::now();
    tell(&players[0], Ball(params.size - 1)).await;
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
    tell(&relays[0], Ball(params.size - 1)).await;
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
        tell_before_asks(&workers[value as usize % workers.len()], Add(value)).await;
    }
    let (mut count, mut checksum) = (0, 0);
    for worker in &workers {
        let (handled, sum) = worker.send(Totals).await.expect("worker replies");
        count += handled;
        checksum += sum;
    }
    Run {
        elapsed: started.elapsed(),
        count,
        checksum,
    }
}

struct Idle;

impl xtra::Actor for Idle {
    type Stop = ();

    async fn stopped(self) {}
}

struct Hello(Arc<Latch>);

impl Handler<Hello> for Idle {
    type Return = ();

    async fn handle(&mut self, Hello(started): Hello, _ctx: &mut Context<Self>) {
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
        tell(&idle, Hello(Arc::clone(&started_all))).await;
        actors.push(idle);
    }
    started_all.wait().await;
    let spawn = started.elapsed();
    let rss_alive = resident_memory();
    let started = Instant::now();
    // Dropping the last strong address stops an xtra actor.
    let weak: Vec<WeakAddress<Idle>> = actors.iter().map(|idle| idle.downgrade()).collect();
    drop(actors);
    let mut stopped = 0;
    for idle in &weak {
        idle.join().await;
        if !idle.is_connected() {
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

struct Mall {
    meetings_left: u64,
    waiting: Option<WeakAddress<Chameneo>>,
    creatures: u64,
    meetings: u64,
    reports: u64,
    done: Arc<Latch>,
}

impl xtra::Actor for Mall {
    type Stop = ();

    async fn stopped(self) {}
}

struct Arrive(WeakAddress<Chameneo>, Color);

impl Handler<Arrive> for Mall {
    type Return = ();

    async fn handle(&mut self, Arrive(creature, color): Arrive, _ctx: &mut Context<Self>) {
        if self.meetings_left == 0 {
            tell(&creature, Fade).await;
            return;
        }
        match self.waiting.take() {
            None => self.waiting = Some(creature),
            Some(first) => {
                self.meetings_left -= 1;
                tell(&first, Meet(creature, color)).await;
            }
        }
    }
}

struct Report(u64);

impl Handler<Report> for Mall {
    type Return = ();

    async fn handle(&mut self, Report(meetings): Report, _ctx: &mut Context<Self>) {
        self.meetings += meetings;
        self.reports += 1;
        if self.reports == self.creatures {
            self.done.count_down();
        }
    }
}

struct Meetings;

impl Handler<Meetings> for Mall {
    type Return = (u64, u64);

    async fn handle(&mut self, _: Meetings, _ctx: &mut Context<Self>) -> (u64, u64) {
        (self.meetings, self.reports)
    }
}

struct Chameneo {
    mall: WeakAddress<Mall>,
    color: Color,
    meetings: u64,
}

impl xtra::Actor for Chameneo {
    type Stop = ();

    async fn stopped(self) {}
}

impl Chameneo {
    async fn back_to_mall(&self, ctx: &Context<Self>) {
        tell(&self.mall, Arrive(ctx.mailbox().address(), self.color)).await;
    }
}

struct Meet(WeakAddress<Chameneo>, Color);

impl Handler<Meet> for Chameneo {
    type Return = ();

    async fn handle(&mut self, Meet(partner, color): Meet, ctx: &mut Context<Self>) {
        self.color = self.color.complement(color);
        self.meetings += 1;
        tell(&partner, Change(self.color)).await;
        self.back_to_mall(ctx).await;
    }
}

struct Change(Color);

impl Handler<Change> for Chameneo {
    type Return = ();

    async fn handle(&mut self, Change(color): Change, ctx: &mut Context<Self>) {
        self.color = color;
        self.meetings += 1;
        self.back_to_mall(ctx).await;
    }
}

struct Fade;

impl Handler<Fade> for Chameneo {
    type Return = ();

    async fn handle(&mut self, _: Fade, _ctx: &mut Context<Self>) {
        tell(&self.mall, Report(self.meetings)).await;
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
    // The strong addresses that keep the chameneos alive.
    let creatures: Vec<_> = (0..params.actors)
        .map(|index| {
            let creature = Chameneo {
                mall: mall.downgrade(),
                color: Color::initial(index),
                meetings: 0,
            };
            spawn(creature, Kind::Bounded)
        })
        .collect();
    let started = Instant::now();
    for (index, creature) in creatures.iter().enumerate() {
        tell(&mall, Arrive(creature.downgrade(), Color::initial(index))).await;
    }
    done.wait().await;
    let elapsed = started.elapsed();
    let (count, checksum) = mall.send(Meetings).await.expect("mall replies");
    Run {
        elapsed,
        count,
        checksum,
    }
}

struct Pinger {
    me: usize,
    peers: Arc<[WeakAddress<Pinger>]>,
    rng: Rng,
    pings: u64,
    sent: u64,
    pongs: u64,
    pinged: u64,
    done: Arc<Latch>,
}

impl xtra::Actor for Pinger {
    type Stop = ();

    async fn stopped(self) {}
}

impl Pinger {
    async fn ping_next(&mut self) {
        if self.sent == self.pings {
            self.done.count_down();
            return;
        }
        self.sent += 1;
        let peer = self.rng.peer(self.me, self.peers.len());
        tell(&self.peers[peer], Ping(self.me)).await;
    }
}

struct Peers(Arc<[WeakAddress<Pinger>]>);

impl Handler<Peers> for Pinger {
    type Return = ();

    async fn handle(&mut self, Peers(peers): Peers, _ctx: &mut Context<Self>) {
        self.peers = peers;
    }
}

struct Start;

impl Handler<Start> for Pinger {
    type Return = ();

    async fn handle(&mut self, _: Start, _ctx: &mut Context<Self>) {
        self.ping_next().await;
    }
}

struct Ping(usize);

impl Handler<Ping> for Pinger {
    type Return = ();

    async fn handle(&mut self, Ping(from): Ping, _ctx: &mut Context<Self>) {
        self.pinged += 1;
        tell(&self.peers[from], Pong).await;
    }
}

struct Pong;

impl Handler<Pong> for Pinger {
    type Return = ();

    async fn handle(&mut self, _: Pong, _ctx: &mut Context<Self>) {
        self.pongs += 1;
        self.ping_next().await;
    }
}

struct Counts;

impl Handler<Counts> for Pinger {
    type Return = (u64, u64);

    async fn handle(&mut self, _: Counts, _ctx: &mut Context<Self>) -> (u64, u64) {
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
    let peers: Arc<[WeakAddress<Pinger>]> =
        pingers.iter().map(|pinger| pinger.downgrade()).collect();
    for pinger in &pingers {
        tell(pinger, Peers(Arc::clone(&peers))).await;
    }
    let started = Instant::now();
    for pinger in &pingers {
        tell(pinger, Start).await;
    }
    done.wait().await;
    let elapsed = started.elapsed();
    let (mut count, mut checksum) = (0, 0);
    for pinger in &pingers {
        let (pinged, pongs) = pinger.send(Counts).await.expect("pinger replies");
        count += pinged;
        checksum += pongs;
    }
    Run {
        elapsed,
        count,
        checksum,
    }
}
