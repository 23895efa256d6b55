//! ractor, written as its examples do: an `Actor` impl per actor with one message enum,
//! state kept apart from the actor, `cast!` to tell, `call!` with an `RpcReplyPort` to
//! ask, `Actor::spawn(None, ..)` to start, on a tokio runtime with two workers.
//!
//! ractor mailboxes are unbounded (it has no bounded kind), so it sits out `counting`.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use ractor::{call, cast, Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::support::{resident_memory, Color, Latch, Rng};
use crate::workloads::{big_pings, counting_values, fork_join_share, Created, Kind, Params, Run};

pub(crate) fn block_on<F>(future: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    super::block_on_tokio(super::tokio_runtime(), future)
}

async fn start<A: Actor>(actor: A, arguments: A::Arguments) -> ActorRef<A::Msg> {
    let (actor, _handle) = Actor::spawn(None, actor, arguments)
        .await
        .expect("the actor starts");
    actor
}

struct Counter;

#[derive(Debug)]
enum CounterMessage {
    Add(u64),
    Totals(RpcReplyPort<(u64, u64)>),
}

impl Actor for Counter {
    type Msg = CounterMessage;
    type State = (u64, u64);
    type Arguments = ();

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        _: (),
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok((0, 0))
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        (count, sum): &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            CounterMessage::Add(value) => {
                *count += 1;
                *sum += value;
            }
            CounterMessage::Totals(reply) => {
                let _ = reply.send((*count, *sum));
            }
        }
        Ok(())
    }
}

pub(crate) async fn counting(params: Params, kind: Kind, senders: u64) -> Run {
    // ractor has unbounded mailboxes only; the bounded `counting` skips it.
    let _ = kind;
    let counter = start(Counter, ()).await;
    let each = counting_values(params, senders);
    let started = Instant::now();
    let tasks: Vec<_> = (0..senders)
        .map(|_| {
            let counter = counter.clone();
            tokio::spawn(async move {
                for value in 1..=each {
                    cast!(counter, CounterMessage::Add(value)).expect("counter runs");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("sender finishes");
    }
    let (count, sum) = call!(counter, CounterMessage::Totals).expect("counter replies");
    Run {
        elapsed: started.elapsed(),
        count,
        checksum: sum,
    }
}

struct Echo;

#[derive(Debug)]
enum EchoMessage {
    Next(u64, RpcReplyPort<u64>),
}

impl Actor for Echo {
    type Msg = EchoMessage;
    type State = ();
    type Arguments = ();

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        _: (),
    ) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        EchoMessage::Next(value, reply): Self::Msg,
        _state: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        let _ = reply.send(value + 1);
        Ok(())
    }
}

pub(crate) async fn ask(params: Params) -> Run {
    let echo = start(Echo, ()).await;
    let started = Instant::now();
    let mut sum = 0;
    for value in 0..params.size {
        sum += call!(echo, EchoMessage::Next, value).expect("echo replies");
    }
    Run {
        elapsed: started.elapsed(),
        count: params.size,
        checksum: sum,
    }
}

/// A player of ping-pong or a node of the thread ring.
struct Relay;

#[derive(Debug)]
enum RelayMessage {
    Link(ActorRef<RelayMessage>),
    Ball(u64),
    Handled(RpcReplyPort<u64>),
}

struct RelayState {
    next: Option<ActorRef<RelayMessage>>,
    handled: u64,
    done: Arc<Latch>,
}

impl Actor for Relay {
    type Msg = RelayMessage;
    type State = RelayState;
    type Arguments = Arc<Latch>;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        done: Arc<Latch>,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(RelayState {
            next: None,
            handled: 0,
            done,
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            RelayMessage::Link(next) => state.next = Some(next),
            RelayMessage::Ball(left) => {
                state.handled += 1;
                if left == 0 {
                    state.done.count_down();
                } else {
                    let next = state.next.as_ref().expect("linked before play");
                    cast!(next, RelayMessage::Ball(left - 1))?;
                }
            }
            RelayMessage::Handled(reply) => {
                let _ = reply.send(state.handled);
            }
        }
        Ok(())
    }
}

async fn ring(actors: usize, done: &Arc<Latch>) -> Vec<ActorRef<RelayMessage>> {
    let mut relays = Vec::with_capacity(actors);
    for _ in 0..actors {
        relays.push(start(Relay, Arc::clone(done)).await);
    }
    for (index, relay) in relays.iter().enumerate() {
        let next = relays[(index + 1) % actors].clone();
        cast!(relay, RelayMessage::Link(next)).expect("relay runs");
    }
    relays
}

async fn handled_counts(relays: &[ActorRef<RelayMessage>]) -> Vec<u64> {
    let mut counts = Vec::with_capacity(relays.len());
    for relay in relays {
        counts.push(call!(relay, RelayMessage::Handled).expect("relay replies"));
    }
    counts
}

pub(crate) async fn ping_pong(params: Params) -> Run {
    let done = Latch::new(1);
    let players = ring(2, &done).await;
    let started = Instant::now();
    cast!(players[0], RelayMessage::Ball(params.size - 1)).expect("ping runs");
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
    cast!(relays[0], RelayMessage::Ball(params.size - 1)).expect("the first relay runs");
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
    let mut workers = Vec::with_capacity(params.actors);
    for _ in 0..params.actors {
        workers.push(start(Counter, ()).await);
    }
    let started = Instant::now();
    let total = fork_join_share(params) * params.actors as u64;
    for value in 0..total {
        cast!(
            workers[value as usize % workers.len()],
            CounterMessage::Add(value)
        )
        .expect("worker runs");
    }
    let (mut count, mut checksum) = (0, 0);
    for worker in &workers {
        let (handled, sum) = call!(worker, CounterMessage::Totals).expect("worker replies");
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

#[derive(Debug)]
struct Hello(Arc<Latch>);

impl Actor for Idle {
    type Msg = Hello;
    type State = ();
    type Arguments = ();

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        _: (),
    ) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        Hello(started): Hello,
        _state: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        started.count_down();
        Ok(())
    }
}

pub(crate) async fn fork_join_create(params: Params) -> Created {
    let n = params.size;
    let started_all = Latch::new(n);
    let mut actors = Vec::with_capacity(n as usize);
    let rss_before = resident_memory();
    let started = Instant::now();
    for _ in 0..n {
        let idle = start(Idle, ()).await;
        cast!(idle, Hello(Arc::clone(&started_all))).expect("idle actor runs");
        actors.push(idle);
    }
    started_all.wait().await;
    let spawn = started.elapsed();
    let rss_alive = resident_memory();
    let started = Instant::now();
    for idle in &actors {
        idle.stop(None);
    }
    let mut stopped = 0;
    for idle in &actors {
        if idle.wait(None).await.is_ok() {
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

struct Mall;

#[derive(Debug)]
enum MallMessage {
    Arrive(ActorRef<ChameneoMessage>, Color),
    Report(u64),
    Meetings(RpcReplyPort<(u64, u64)>),
}

struct MallState {
    meetings_left: u64,
    waiting: Option<ActorRef<ChameneoMessage>>,
    creatures: u64,
    meetings: u64,
    reports: u64,
    done: Arc<Latch>,
}

impl Actor for Mall {
    type Msg = MallMessage;
    type State = MallState;
    type Arguments = MallState;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: MallState,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(state)
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            MallMessage::Arrive(creature, _) if state.meetings_left == 0 => {
                cast!(creature, ChameneoMessage::Fade)?;
            }
            MallMessage::Arrive(creature, color) => match state.waiting.take() {
                None => state.waiting = Some(creature),
                Some(first) => {
                    state.meetings_left -= 1;
                    cast!(first, ChameneoMessage::Meet(creature, color))?;
                }
            },
            MallMessage::Report(meetings) => {
                state.meetings += meetings;
                state.reports += 1;
                if state.reports == state.creatures {
                    state.done.count_down();
                }
            }
            MallMessage::Meetings(reply) => {
                let _ = reply.send((state.meetings, state.reports));
            }
        }
        Ok(())
    }
}

struct Chameneo;

#[derive(Debug)]
enum ChameneoMessage {
    Meet(ActorRef<ChameneoMessage>, Color),
    Change(Color),
    Fade,
}

struct ChameneoState {
    mall: ActorRef<MallMessage>,
    color: Color,
    meetings: u64,
}

impl Actor for Chameneo {
    type Msg = ChameneoMessage;
    type State = ChameneoState;
    type Arguments = ChameneoState;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: ChameneoState,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(state)
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            ChameneoMessage::Meet(partner, color) => {
                state.color = state.color.complement(color);
                state.meetings += 1;
                cast!(partner, ChameneoMessage::Change(state.color))?;
            }
            ChameneoMessage::Change(color) => {
                state.color = color;
                state.meetings += 1;
            }
            ChameneoMessage::Fade => {
                cast!(state.mall, MallMessage::Report(state.meetings))?;
                return Ok(());
            }
        }
        cast!(state.mall, MallMessage::Arrive(myself, state.color))?;
        Ok(())
    }
}

pub(crate) async fn chameneos(params: Params) -> Run {
    let done = Latch::new(1);
    let mall = start(
        Mall,
        MallState {
            meetings_left: params.size,
            waiting: None,
            creatures: params.actors as u64,
            meetings: 0,
            reports: 0,
            done: Arc::clone(&done),
        },
    )
    .await;
    let mut creatures = Vec::with_capacity(params.actors);
    for index in 0..params.actors {
        let color = Color::initial(index);
        let state = ChameneoState {
            mall: mall.clone(),
            color,
            meetings: 0,
        };
        creatures.push((start(Chameneo, state).await, color));
    }
    let started = Instant::now();
    for (creature, color) in creatures {
        cast!(mall, MallMessage::Arrive(creature, color)).expect("mall runs");
    }
    done.wait().await;
    let elapsed = started.elapsed();
    let (count, checksum) = call!(mall, MallMessage::Meetings).expect("mall replies");
    Run {
        elapsed,
        count,
        checksum,
    }
}

struct Pinger;

#[derive(Debug)]
enum PingerMessage {
    Peers(Arc<[ActorRef<PingerMessage>]>),
    Start,
    Ping(usize),
    Pong,
    Counts(RpcReplyPort<(u64, u64)>),
}

struct PingerState {
    me: usize,
    peers: Arc<[ActorRef<PingerMessage>]>,
    rng: Rng,
    pings: u64,
    sent: u64,
    pongs: u64,
    pinged: u64,
    done: Arc<Latch>,
}

impl PingerState {
    fn ping_next(&mut self) -> Result<(), ActorProcessingErr> {
        if self.sent == self.pings {
            self.done.count_down();
            return Ok(());
        }
        self.sent += 1;
        let peer = self.rng.peer(self.me, self.peers.len());
        cast!(self.peers[peer], PingerMessage::Ping(self.me))?;
        Ok(())
    }
}

impl Actor for Pinger {
    type Msg = PingerMessage;
    type State = PingerState;
    type Arguments = PingerState;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: PingerState,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(state)
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            PingerMessage::Peers(peers) => state.peers = peers,
            PingerMessage::Start => state.ping_next()?,
            PingerMessage::Ping(from) => {
                state.pinged += 1;
                cast!(state.peers[from], PingerMessage::Pong)?;
            }
            PingerMessage::Pong => {
                state.pongs += 1;
                state.ping_next()?;
            }
            PingerMessage::Counts(reply) => {
                let _ = reply.send((state.pinged, state.pongs));
            }
        }
        Ok(())
    }
}

pub(crate) async fn big(params: Params) -> Run {
    let done = Latch::new(params.actors as u64);
    let mut pingers = Vec::with_capacity(params.actors);
    for me in 0..params.actors {
        let state = PingerState {
            me,
            peers: Arc::new([]),
            rng: Rng::new(me as u64),
            pings: big_pings(params),
            sent: 0,
            pongs: 0,
            pinged: 0,
            done: Arc::clone(&done),
        };
        pingers.push(start(Pinger, state).await);
    }
    let peers: Arc<[ActorRef<PingerMessage>]> = pingers.into();
    for pinger in peers.iter() {
        cast!(pinger, PingerMessage::Peers(Arc::clone(&peers))).expect("pinger runs");
    }
    let started = Instant::now();
    for pinger in peers.iter() {
        cast!(pinger, PingerMessage::Start).expect("pinger runs");
    }
    done.wait().await;
    let elapsed = started.elapsed();
    let (mut count, mut checksum) = (0, 0);
    for pinger in peers.iter() {
        let (pinged, pongs) = call!(pinger, PingerMessage::Counts).expect("pinger replies");
        count += pinged;
        checksum += pongs;
    }
    Run {
        elapsed,
        count,
        checksum,
    }
}
