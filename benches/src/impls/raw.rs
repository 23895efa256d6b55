//! The baseline: plain tokio. Each "actor" is a task looping on `recv` over an enum of
//! its messages, replies travel on a oneshot, and stopping one means dropping its senders.
//! No actor library does less per message on tokio, so every ratio is measured against it.
//!
//! Channels are bounded with [`CAPACITY`] slots (Playhouse's default mailbox), except in
//! `counting-unbounded`.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

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

/// The sending half of a bounded or unbounded channel, chosen at compile time so that
/// the baseline pays for neither an enum nor a box.
trait Outbox<T>: Clone + Send + Sync + 'static {
    fn put(&self, message: T) -> impl Future<Output = ()> + Send;
}

impl<T: Send + 'static> Outbox<T> for mpsc::Sender<T> {
    async fn put(&self, message: T) {
        if self.send(message).await.is_err() {
            panic!("the receiving task ended early");
        }
    }
}

impl<T: Send + 'static> Outbox<T> for mpsc::UnboundedSender<T> {
    async fn put(&self, message: T) {
        if self.send(message).is_err() {
            panic!("the receiving task ended early");
        }
    }
}

trait Inbox<T>: Send + 'static {
    fn take(&mut self) -> impl Future<Output = Option<T>> + Send;
}

impl<T: Send + 'static> Inbox<T> for mpsc::Receiver<T> {
    fn take(&mut self) -> impl Future<Output = Option<T>> + Send {
        self.recv()
    }
}

impl<T: Send + 'static> Inbox<T> for mpsc::UnboundedReceiver<T> {
    fn take(&mut self) -> impl Future<Output = Option<T>> + Send {
        self.recv()
    }
}

enum CounterMessage {
    Add(u64),
    Totals(oneshot::Sender<(u64, u64)>),
}

async fn counter_loop(mut inbox: impl Inbox<CounterMessage>) {
    let (mut count, mut sum) = (0, 0);
    while let Some(message) = inbox.take().await {
        match message {
            CounterMessage::Add(value) => {
                count += 1;
                sum += value;
            }
            CounterMessage::Totals(reply) => {
                let _ = reply.send((count, sum));
            }
        }
    }
}

pub(crate) async fn counting(params: Params, kind: Kind, senders: u64) -> Run {
    match kind {
        Kind::Bounded => {
            let (outbox, inbox) = mpsc::channel(CAPACITY);
            tokio::spawn(counter_loop(inbox));
            count_with(outbox, params, senders).await
        }
        Kind::Unbounded => {
            let (outbox, inbox) = mpsc::unbounded_channel();
            tokio::spawn(counter_loop(inbox));
            count_with(outbox, params, senders).await
        }
    }
}

async fn count_with(outbox: impl Outbox<CounterMessage>, params: Params, senders: u64) -> Run {
    let each = counting_values(params, senders);
    let started = Instant::now();
    let tasks: Vec<_> = (0..senders)
        .map(|_| {
            let outbox = outbox.clone();
            tokio::spawn(async move {
                for value in 1..=each {
                    outbox.put(CounterMessage::Add(value)).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("sender finishes");
    }
    let (reply, totals) = oneshot::channel();
    outbox.put(CounterMessage::Totals(reply)).await;
    let (count, sum) = totals.await.expect("the counter replies");
    Run {
        elapsed: started.elapsed(),
        count,
        checksum: sum,
    }
}

struct Request {
    value: u64,
    reply: oneshot::Sender<u64>,
}

pub(crate) async fn ask(params: Params) -> Run {
    let (requests, mut inbox) = mpsc::channel::<Request>(CAPACITY);
    tokio::spawn(async move {
        while let Some(Request { value, reply }) = inbox.recv().await {
            let _ = reply.send(value + 1);
        }
    });
    let started = Instant::now();
    let mut sum = 0;
    for value in 0..params.size {
        let (reply, answer) = oneshot::channel();
        requests
            .send(Request { value, reply })
            .await
            .expect("the echo task runs");
        sum += answer.await.expect("the echo task replies");
    }
    Run {
        elapsed: started.elapsed(),
        count: params.size,
        checksum: sum,
    }
}

/// The message of ping-pong and the thread ring: how many hops are left.
enum Hop {
    Ball(u64),
    Count(oneshot::Sender<u64>),
}

/// A task that counts the hops it handles and passes each on until none are left.
async fn relay(mut inbox: mpsc::Receiver<Hop>, next: mpsc::Sender<Hop>, done: Arc<Latch>) {
    let mut handled = 0;
    while let Some(message) = inbox.recv().await {
        match message {
            Hop::Ball(0) => {
                handled += 1;
                done.count_down();
            }
            Hop::Ball(left) => {
                handled += 1;
                next.send(Hop::Ball(left - 1)).await.expect("next runs");
            }
            Hop::Count(reply) => {
                let _ = reply.send(handled);
            }
        }
    }
}

/// Spawns `actors` relays in a ring and returns the sending side of each.
fn ring(actors: usize, done: &Arc<Latch>) -> Vec<mpsc::Sender<Hop>> {
    let (outboxes, inboxes): (Vec<_>, Vec<_>) =
        (0..actors).map(|_| mpsc::channel(CAPACITY)).unzip();
    for (index, inbox) in inboxes.into_iter().enumerate() {
        let next = outboxes[(index + 1) % actors].clone();
        tokio::spawn(relay(inbox, next, Arc::clone(done)));
    }
    outboxes
}

async fn handled_counts(relays: &[mpsc::Sender<Hop>]) -> Vec<u64> {
    let mut counts = Vec::with_capacity(relays.len());
    for relay in relays {
        let (reply, count) = oneshot::channel();
        relay.send(Hop::Count(reply)).await.expect("relay runs");
        counts.push(count.await.expect("relay replies"));
    }
    counts
}

pub(crate) async fn ping_pong(params: Params) -> Run {
    let done = Latch::new(1);
    let players = ring(2, &done);
    let started = Instant::now();
    players[0]
        .send(Hop::Ball(params.size - 1))
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
    let relays = ring(params.actors, &done);
    let started = Instant::now();
    relays[0]
        .send(Hop::Ball(params.size - 1))
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
    let workers: Vec<mpsc::Sender<CounterMessage>> = (0..params.actors)
        .map(|_| {
            let (outbox, inbox) = mpsc::channel(CAPACITY);
            tokio::spawn(counter_loop(inbox));
            outbox
        })
        .collect();
    let started = Instant::now();
    let total = fork_join_share(params) * params.actors as u64;
    for value in 0..total {
        workers[value as usize % workers.len()]
            .send(CounterMessage::Add(value))
            .await
            .expect("worker runs");
    }
    let (mut count, mut checksum) = (0, 0);
    for worker in &workers {
        let (reply, totals) = oneshot::channel();
        worker
            .send(CounterMessage::Totals(reply))
            .await
            .expect("worker runs");
        let (handled, sum) = totals.await.expect("worker replies");
        count += handled;
        checksum += sum;
    }
    Run {
        elapsed: started.elapsed(),
        count,
        checksum,
    }
}

pub(crate) async fn fork_join_create(params: Params) -> Created {
    let n = params.size;
    let started_all = Latch::new(n);
    let mut actors = Vec::with_capacity(n as usize);
    let rss_before = resident_memory();
    let started = Instant::now();
    for _ in 0..n {
        let (outbox, mut inbox) = mpsc::channel::<Arc<Latch>>(CAPACITY);
        let task = tokio::spawn(async move {
            while let Some(started) = inbox.recv().await {
                started.count_down();
            }
        });
        outbox
            .send(Arc::clone(&started_all))
            .await
            .expect("the task runs");
        actors.push((outbox, task));
    }
    started_all.wait().await;
    let spawn = started.elapsed();
    let rss_alive = resident_memory();
    let started = Instant::now();
    // A task whose senders are all gone drains its channel and ends.
    let tasks: Vec<_> = actors.into_iter().map(|(_, task)| task).collect();
    let mut stopped = 0;
    for task in tasks {
        task.await.expect("the task ends cleanly");
        stopped += 1;
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

enum MallMessage {
    Arrive(mpsc::Sender<CreatureMessage>, Color),
    Report(u64),
    Totals(oneshot::Sender<(u64, u64)>),
}

enum CreatureMessage {
    Meet(mpsc::Sender<CreatureMessage>, Color),
    Change(Color),
    Fade,
}

/// The mall pairs arriving chameneos until no meetings are left, then fades each one
/// that arrives and adds up the meetings they report.
async fn mall_loop(
    mut inbox: mpsc::Receiver<MallMessage>,
    mut meetings_left: u64,
    creatures: u64,
    done: Arc<Latch>,
) {
    let mut waiting: Option<mpsc::Sender<CreatureMessage>> = None;
    let (mut meetings, mut reports) = (0, 0);
    while let Some(message) = inbox.recv().await {
        match message {
            MallMessage::Arrive(creature, _) if meetings_left == 0 => {
                creature.send(CreatureMessage::Fade).await.expect("runs");
            }
            MallMessage::Arrive(creature, color) => match waiting.take() {
                None => waiting = Some(creature),
                Some(first) => {
                    meetings_left -= 1;
                    first
                        .send(CreatureMessage::Meet(creature, color))
                        .await
                        .expect("runs");
                }
            },
            MallMessage::Report(count) => {
                meetings += count;
                reports += 1;
                if reports == creatures {
                    done.count_down();
                }
            }
            MallMessage::Totals(reply) => {
                let _ = reply.send((meetings, reports));
            }
        }
    }
}

/// A chameneo: meets, changes colour, goes back to the mall, until it fades.
async fn creature_loop(
    me: mpsc::Sender<CreatureMessage>,
    mut inbox: mpsc::Receiver<CreatureMessage>,
    mall: mpsc::Sender<MallMessage>,
    mut color: Color,
) {
    let mut meetings = 0;
    while let Some(message) = inbox.recv().await {
        match message {
            CreatureMessage::Meet(partner, other) => {
                color = color.complement(other);
                meetings += 1;
                partner
                    .send(CreatureMessage::Change(color))
                    .await
                    .expect("runs");
            }
            CreatureMessage::Change(new) => {
                color = new;
                meetings += 1;
            }
            CreatureMessage::Fade => {
                mall.send(MallMessage::Report(meetings))
                    .await
                    .expect("runs");
                return;
            }
        }
        mall.send(MallMessage::Arrive(me.clone(), color))
            .await
            .expect("runs");
    }
}

pub(crate) async fn chameneos(params: Params) -> Run {
    let done = Latch::new(1);
    let (mall, inbox) = mpsc::channel(CAPACITY);
    tokio::spawn(mall_loop(
        inbox,
        params.size,
        params.actors as u64,
        Arc::clone(&done),
    ));
    let creatures: Vec<_> = (0..params.actors)
        .map(|index| {
            let (me, inbox) = mpsc::channel(CAPACITY);
            tokio::spawn(creature_loop(
                me.clone(),
                inbox,
                mall.clone(),
                Color::initial(index),
            ));
            (me, Color::initial(index))
        })
        .collect();
    let started = Instant::now();
    for (creature, color) in creatures {
        mall.send(MallMessage::Arrive(creature, color))
            .await
            .expect("the mall runs");
    }
    done.wait().await;
    let elapsed = started.elapsed();
    let (reply, totals) = oneshot::channel();
    mall.send(MallMessage::Totals(reply))
        .await
        .expect("the mall runs");
    let (count, checksum) = totals.await.expect("the mall replies");
    Run {
        elapsed,
        count,
        checksum,
    }
}

enum BigMessage {
    Peers(Arc<[mpsc::Sender<BigMessage>]>),
    Start,
    Ping(usize),
    Pong,
    Totals(oneshot::Sender<(u64, u64)>),
}

pub(crate) async fn big(params: Params) -> Run {
    let actors = params.actors;
    let pings = big_pings(params);
    let done = Latch::new(actors as u64);
    let (outboxes, inboxes): (Vec<_>, Vec<_>) =
        (0..actors).map(|_| mpsc::channel(CAPACITY)).unzip();
    for (me, mut inbox) in inboxes.into_iter().enumerate() {
        let done = Arc::clone(&done);
        tokio::spawn(async move {
            let mut peers: Arc<[mpsc::Sender<BigMessage>]> = Arc::new([]);
            let mut rng = Rng::new(me as u64);
            let (mut sent, mut pongs, mut pinged) = (0, 0, 0);
            while let Some(message) = inbox.recv().await {
                match message {
                    BigMessage::Peers(all) => peers = all,
                    BigMessage::Start | BigMessage::Pong => {
                        if matches!(message, BigMessage::Pong) {
                            pongs += 1;
                        }
                        if sent < pings {
                            sent += 1;
                            let peer = rng.peer(me, actors);
                            peers[peer]
                                .send(BigMessage::Ping(me))
                                .await
                                .expect("peer runs");
                        } else {
                            done.count_down();
                        }
                    }
                    BigMessage::Ping(from) => {
                        pinged += 1;
                        peers[from].send(BigMessage::Pong).await.expect("peer runs");
                    }
                    BigMessage::Totals(reply) => {
                        let _ = reply.send((pinged, pongs));
                    }
                }
            }
        });
    }
    let peers: Arc<[mpsc::Sender<BigMessage>]> = outboxes.into();
    for peer in peers.iter() {
        peer.send(BigMessage::Peers(Arc::clone(&peers)))
            .await
            .expect("peer runs");
    }
    let started = Instant::now();
    for peer in peers.iter() {
        peer.send(BigMessage::Start).await.expect("peer runs");
    }
    done.wait().await;
    let elapsed = started.elapsed();
    let (mut count, mut checksum) = (0, 0);
    for peer in peers.iter() {
        let (reply, totals) = oneshot::channel();
        peer.send(BigMessage::Totals(reply))
            .await
            .expect("peer runs");
        let (pinged, pongs) = totals.await.expect("peer replies");
        count += pinged;
        checksum += pongs;
    }
    Run {
        elapsed,
        count,
        checksum,
    }
}
