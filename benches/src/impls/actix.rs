//! actix, written as its documentation does: `Actor` with `Context<Self>`,
//! `#[derive(Message)]` with `#[rtype]`, one `Handler<M>` per message, `do_send` to tell and
//! `send(..).await` to ask, `Actor::start` to spawn.
//!
//! actix runs its own runtime: a `System` whose arbiter is one thread, and every actor
//! started from it lives on that thread (spreading actors over several arbiters is
//! something actix users do by hand; the suite keeps actix's default). So actix uses one
//! thread where the others use two workers. `do_send` queues even when the mailbox is
//! full (its capacity only limits `send`, which waits for the reply), so actix's tells are
//! unbounded and it sits out `counting`. An actix actor stops once its last `Addr` is
//! dropped; it says so in `stopped`, as there is nothing else to wait on.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use actix::{Actor, Addr, AsyncContext, Context, Handler, Message, MessageResult};

use crate::support::{resident_memory, Color, Latch, Rng};
use crate::workloads::{big_pings, counting_values, fork_join_share, Created, Kind, Params, Run};

pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    actix::System::new().block_on(future)
}

struct Counter {
    count: u64,
    sum: u64,
}

impl Actor for Counter {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "()")]
struct Add(u64);

impl Handler<Add> for Counter {
    type Result = ();

    fn handle(&mut self, Add(value): Add, _ctx: &mut Context<Self>) {
        self.count += 1;
        self.sum += value;
    }
}

#[derive(Message)]
#[rtype(result = "(u64, u64)")]
struct Totals;

impl Handler<Totals> for Counter {
    type Result = MessageResult<Totals>;

    fn handle(&mut self, _: Totals, _ctx: &mut Context<Self>) -> Self::Result {
        MessageResult((self.count, self.sum))
    }
}

pub(crate) async fn counting(params: Params, kind: Kind, senders: u64) -> Run {
    // `do_send` is unbounded whatever the workload asks; the bounded `counting` skips actix.
    let _ = kind;
    let counter = Counter { count: 0, sum: 0 }.start();
    let each = counting_values(params, senders);
    let started = Instant::now();
    let tasks: Vec<_> = (0..senders)
        .map(|_| {
            let counter = counter.clone();
            actix::spawn(async move {
                for value in 1..=each {
                    counter.do_send(Add(value));
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

impl Actor for Echo {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "u64")]
struct Next(u64);

impl Handler<Next> for Echo {
    type Result = u64;

    fn handle(&mut self, Next(value): Next, _ctx: &mut Context<Self>) -> u64 {
        value + 1
    }
}

pub(crate) async fn ask(params: Params) -> Run {
    let echo = Echo.start();
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
    next: Option<Addr<Relay>>,
    handled: u64,
    done: Arc<Latch>,
}

impl Actor for Relay {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "()")]
struct Link(Addr<Relay>);

impl Handler<Link> for Relay {
    type Result = ();

    fn handle(&mut self, Link(next): Link, _ctx: &mut Context<Self>) {
        self.next = Some(next);
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Ball(u64);

impl Handler<Ball> for Relay {
    type Result = ();

    fn handle(&mut self, Ball(left): Ball, _ctx: &mut Context<Self>) {
        self.handled += 1;
        if left == 0 {
            self.done.count_down();
            return;
        }
        let next = self.next.as_ref().expect("linked before play");
        next.do_send(Ball(left - 1));
    }
}

#[derive(Message)]
#[rtype(result = "u64")]
struct Handled;

impl Handler<Handled> for Relay {
    type Result = u64;

    fn handle(&mut self, _: Handled, _ctx: &mut Context<Self>) -> u64 {
        self.handled
    }
}

fn ring(actors: usize, done: &Arc<Latch>) -> Vec<Addr<Relay>> {
    let relays: Vec<_> = (0..actors)
        .map(|_| {
            Relay {
                next: None,
                handled: 0,
                done: Arc::clone(done),
            }
            .start()
        })
        .collect();
    for (index, relay) in relays.iter().enumerate() {
        relay.do_send(Link(relays[(index + 1) % actors].clone()));
    }
    relays
}

async fn handled_counts(relays: &[Addr<Relay>]) -> Vec<u64> {
    let mut counts = Vec::with_capacity(relays.len());
    for relay in relays {
        counts.push(relay.send(Handled).await.expect("relay replies"));
    }
    counts
}

pub(crate) async fn ping_pong(params: Params) -> Run {
    let done = Latch::new(1);
    let players = ring(2, &done);
    let started = Instant::now();
    players[0].do_send(Ball(params.size - 1));
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
    let relays = ring(params.actors, &done);
    let started = Instant::now();
    relays[0].do_send(Ball(params.size - 1));
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
        .map(|_| Counter { count: 0, sum: 0 }.start())
        .collect();
    let started = Instant::now();
    let total = fork_join_share(params) * params.actors as u64;
    for value in 0..total {
        workers[value as usize % workers.len()].do_send(Add(value));
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

/// An actor with no state but the latch it counts down when it stops.
struct Idle {
    stopped: Arc<Latch>,
}

impl Actor for Idle {
    type Context = Context<Self>;

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        self.stopped.count_down();
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Hello(Arc<Latch>);

impl Handler<Hello> for Idle {
    type Result = ();

    fn handle(&mut self, Hello(started): Hello, _ctx: &mut Context<Self>) {
        started.count_down();
    }
}

pub(crate) async fn fork_join_create(params: Params) -> Created {
    let n = params.size;
    let started_all = Latch::new(n);
    let stopped_all = Latch::new(n);
    let mut actors = Vec::with_capacity(n as usize);
    let rss_before = resident_memory();
    let started = Instant::now();
    for _ in 0..n {
        let idle = Idle {
            stopped: Arc::clone(&stopped_all),
        }
        .start();
        idle.do_send(Hello(Arc::clone(&started_all)));
        actors.push(idle);
    }
    started_all.wait().await;
    let spawn = started.elapsed();
    let rss_alive = resident_memory();
    let started = Instant::now();
    drop(actors);
    stopped_all.wait().await;
    Created {
        spawn,
        stop: started.elapsed(),
        rss_before,
        rss_alive,
        started: n,
        stopped: n,
    }
}

struct Mall {
    meetings_left: u64,
    waiting: Option<Addr<Chameneo>>,
    creatures: u64,
    meetings: u64,
    reports: u64,
    done: Arc<Latch>,
}

impl Actor for Mall {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "()")]
struct Arrive(Addr<Chameneo>, Color);

impl Handler<Arrive> for Mall {
    type Result = ();

    fn handle(&mut self, Arrive(creature, color): Arrive, _ctx: &mut Context<Self>) {
        if self.meetings_left == 0 {
            creature.do_send(Fade);
            return;
        }
        match self.waiting.take() {
            None => self.waiting = Some(creature),
            Some(first) => {
                self.meetings_left -= 1;
                first.do_send(Meet(creature, color));
            }
        }
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Report(u64);

impl Handler<Report> for Mall {
    type Result = ();

    fn handle(&mut self, Report(meetings): Report, _ctx: &mut Context<Self>) {
        self.meetings += meetings;
        self.reports += 1;
        if self.reports == self.creatures {
            self.done.count_down();
        }
    }
}

#[derive(Message)]
#[rtype(result = "(u64, u64)")]
struct Meetings;

impl Handler<Meetings> for Mall {
    type Result = MessageResult<Meetings>;

    fn handle(&mut self, _: Meetings, _ctx: &mut Context<Self>) -> Self::Result {
        MessageResult((self.meetings, self.reports))
    }
}

struct Chameneo {
    mall: Addr<Mall>,
    color: Color,
    meetings: u64,
}

impl Actor for Chameneo {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "()")]
struct Meet(Addr<Chameneo>, Color);

impl Handler<Meet> for Chameneo {
    type Result = ();

    fn handle(&mut self, Meet(partner, color): Meet, ctx: &mut Context<Self>) {
        self.color = self.color.complement(color);
        self.meetings += 1;
        partner.do_send(Change(self.color));
        self.mall.do_send(Arrive(ctx.address(), self.color));
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Change(Color);

impl Handler<Change> for Chameneo {
    type Result = ();

    fn handle(&mut self, Change(color): Change, ctx: &mut Context<Self>) {
        self.color = color;
        self.meetings += 1;
        self.mall.do_send(Arrive(ctx.address(), self.color));
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Fade;

impl Handler<Fade> for Chameneo {
    type Result = ();

    fn handle(&mut self, _: Fade, _ctx: &mut Context<Self>) {
        self.mall.do_send(Report(self.meetings));
    }
}

pub(crate) async fn chameneos(params: Params) -> Run {
    let done = Latch::new(1);
    let mall = Mall {
        meetings_left: params.size,
        waiting: None,
        creatures: params.actors as u64,
        meetings: 0,
        reports: 0,
        done: Arc::clone(&done),
    }
    .start();
    let creatures: Vec<_> = (0..params.actors)
        .map(|index| {
            let color = Color::initial(index);
            let creature = Chameneo {
                mall: mall.clone(),
                color,
                meetings: 0,
            };
            (creature.start(), color)
        })
        .collect();
    let started = Instant::now();
    for (creature, color) in creatures {
        mall.do_send(Arrive(creature, color));
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
    peers: Arc<[Addr<Pinger>]>,
    rng: Rng,
    pings: u64,
    sent: u64,
    pongs: u64,
    pinged: u64,
    done: Arc<Latch>,
}

impl Actor for Pinger {
    type Context = Context<Self>;
}

impl Pinger {
    fn ping_next(&mut self) {
        if self.sent == self.pings {
            self.done.count_down();
            return;
        }
        self.sent += 1;
        let peer = self.rng.peer(self.me, self.peers.len());
        self.peers[peer].do_send(Ping(self.me));
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Peers(Arc<[Addr<Pinger>]>);

impl Handler<Peers> for Pinger {
    type Result = ();

    fn handle(&mut self, Peers(peers): Peers, _ctx: &mut Context<Self>) {
        self.peers = peers;
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Start;

impl Handler<Start> for Pinger {
    type Result = ();

    fn handle(&mut self, _: Start, _ctx: &mut Context<Self>) {
        self.ping_next();
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Ping(usize);

impl Handler<Ping> for Pinger {
    type Result = ();

    fn handle(&mut self, Ping(from): Ping, _ctx: &mut Context<Self>) {
        self.pinged += 1;
        self.peers[from].do_send(Pong);
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Pong;

impl Handler<Pong> for Pinger {
    type Result = ();

    fn handle(&mut self, _: Pong, _ctx: &mut Context<Self>) {
        self.pongs += 1;
        self.ping_next();
    }
}

#[derive(Message)]
#[rtype(result = "(u64, u64)")]
struct Counts;

impl Handler<Counts> for Pinger {
    type Result = MessageResult<Counts>;

    fn handle(&mut self, _: Counts, _ctx: &mut Context<Self>) -> Self::Result {
        MessageResult((self.pinged, self.pongs))
    }
}

pub(crate) async fn big(params: Params) -> Run {
    let done = Latch::new(params.actors as u64);
    let pingers: Vec<_> = (0..params.actors)
        .map(|me| {
            Pinger {
                me,
                peers: Arc::new([]),
                rng: Rng::new(me as u64),
                pings: big_pings(params),
                sent: 0,
                pongs: 0,
                pinged: 0,
                done: Arc::clone(&done),
            }
            .start()
        })
        .collect();
    let peers: Arc<[Addr<Pinger>]> = pingers.into();
    for pinger in peers.iter() {
        pinger.do_send(Peers(Arc::clone(&peers)));
    }
    let started = Instant::now();
    for pinger in peers.iter() {
        pinger.do_send(Start);
    }
    done.wait().await;
    let elapsed = started.elapsed();
    let (mut count, mut checksum) = (0, 0);
    for pinger in peers.iter() {
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
