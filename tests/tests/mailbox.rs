//! The lock-free mailbox under contention: nothing lost, nothing duplicated, each sender's
//! order kept, with bounded and unbounded mailboxes, while the actor stops midway.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use playhouse::prelude::*;

#[derive(Actor)]
struct Sink {
    handled: Arc<AtomicUsize>,
    next: Vec<u64>,
}

#[messages]
impl Sink {
    #[message]
    fn item(&mut self, sender: usize, sequence: u64) {
        assert_eq!(self.next[sender], sequence, "sender {sender} out of order");
        self.next[sender] += 1;
        self.handled.fetch_add(1, Ordering::Relaxed);
    }
}

const SENDERS: usize = 8;
const EACH: u64 = 5_000;

async fn hammer(mailbox: Mailbox, stop_midway: bool) {
    let system = System::current();
    let dead_before = system.dead_letters();
    let handled = Arc::new(AtomicUsize::new(0));
    let sink = Sink::builder().mailbox(mailbox).spawn(Sink {
        handled: Arc::clone(&handled),
        next: vec![0; SENDERS],
    });
    let senders: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let sink = sink.clone();
            tokio::spawn(async move {
                let mut accepted = 0;
                for sequence in 0..EACH {
                    let message = Item { sender, sequence };
                    let sent = if sequence % 2 == 0 {
                        sink.tell(message).await.is_ok()
                    } else {
                        loop {
                            match sink.try_tell(Item { sender, sequence }) {
                                Ok(()) => break true,
                                Err(TrySendError::Full(_)) => tokio::task::yield_now().await,
                                Err(TrySendError::Stopped(_)) => break false,
                            }
                        }
                    };
                    if !sent {
                        break;
                    }
                    accepted += 1;
                }
                accepted
            })
        })
        .collect();
    if stop_midway {
        tokio::task::yield_now().await;
        sink.stop();
    }
    let mut accepted = 0;
    for sender in senders {
        accepted += sender.await.unwrap();
    }
    sink.stop();
    assert_eq!(sink.wait().await, ExitReason::Normal);
    let handled = handled.load(Ordering::Relaxed) as u64;
    let dead = system.dead_letters() - dead_before;
    assert_eq!(
        handled + dead,
        accepted,
        "every accepted message is handled or a dead letter"
    );
    if !stop_midway {
        assert_eq!(handled, SENDERS as u64 * EACH);
    }
    assert_eq!(sink.mailbox_len(), 0);
}

#[playhouse::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_small_bounded_mailbox_loses_nothing_under_contention() {
    hammer(Mailbox::bounded(2), false).await;
}

#[playhouse::test(flavor = "multi_thread", worker_threads = 4)]
async fn senders_waiting_on_a_full_mailbox_all_get_through() {
    // Waiting senders are woken one at a time once half the room is free: with more
    // senders than places, every one of them still gets all its messages in, in order.
    hammer(Mailbox::bounded(16), false).await;
}

#[playhouse::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unbounded_mailbox_loses_nothing_under_contention() {
    hammer(Mailbox::unbounded(), false).await;
}

#[playhouse::test(flavor = "multi_thread", worker_threads = 4)]
async fn stopping_under_contention_accounts_for_every_accepted_message() {
    for mailbox in [Mailbox::bounded(3), Mailbox::unbounded()] {
        hammer(mailbox, true).await;
    }
}

/// Answers `Fetch` by asking a `Helper`; holds on `Gate` until told.
struct Front {
    helper: Option<ActorRef<Helper>>,
}

impl Actor for Front {
    type Args = ();
    type Error = std::convert::Infallible;

    async fn on_start((): (), _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Front { helper: None })
    }
}

struct Gate(Arc<tokio::sync::Notify>);
impl Message for Gate {
    type Reply = ();
}
impl Handler<Gate> for Front {
    async fn handle(&mut self, Gate(gate): Gate, _ctx: &mut Context<Self>) {
        gate.notified().await;
    }
}

struct Meet(ActorRef<Helper>);
impl Message for Meet {
    type Reply = ();
}
impl Handler<Meet> for Front {
    async fn handle(&mut self, Meet(helper): Meet, _ctx: &mut Context<Self>) {
        self.helper = Some(helper);
    }
}

struct Noop;
impl Message for Noop {
    type Reply = ();
}
impl Handler<Noop> for Front {
    async fn handle(&mut self, _: Noop, _ctx: &mut Context<Self>) {}
}

struct Fetch;
impl Message for Fetch {
    type Reply = u32;
}
impl Handler<Fetch> for Front {
    async fn handle(&mut self, _: Fetch, _ctx: &mut Context<Self>) -> u32 {
        let helper = self.helper.clone().expect("met");
        helper.ask(Query).await.expect("the helper answers")
    }
}

/// Pushes into the front's mailbox when told; answers queries.
#[derive(Actor)]
struct Helper {
    front: ActorRef<Front>,
}

struct Push;
impl Message for Push {
    type Reply = ();
}
impl Handler<Push> for Helper {
    async fn handle(&mut self, _: Push, _ctx: &mut Context<Self>) {
        self.front.tell(Noop).await.expect("the front runs");
    }
}

struct Query;
impl Message for Query {
    type Reply = u32;
}
impl Handler<Query> for Helper {
    async fn handle(&mut self, _: Query, _ctx: &mut Context<Self>) -> u32 {
        42
    }
}

#[playhouse::test(start_paused = true)]
async fn a_sender_waiting_for_room_gets_the_place_a_waiting_handler_left() {
    // The front's mailbox (4 places) is full when the helper's handler tells it one more
    // message; then the front takes `Fetch` (one place free, below the mark at which
    // waiting senders are woken in a run) and its handler asks the helper, which is still
    // waiting for that place. As the front waits in its handler, the helper must get the
    // place, or each waits for the other until the ask times out.
    let front = Front::builder().mailbox(Mailbox::bounded(4)).spawn(());
    let helper = Helper::spawn(Helper {
        front: front.clone(),
    });
    front.tell(Meet(helper.clone())).await.unwrap();
    let gate = Arc::new(tokio::sync::Notify::new());
    front.tell(Gate(Arc::clone(&gate))).await.unwrap();
    tokio::task::yield_now().await;
    let fetch = {
        let front = front.clone();
        tokio::spawn(async move { front.ask(Fetch).await })
    };
    tokio::task::yield_now().await;
    for _ in 0..3 {
        front.tell(Noop).await.unwrap();
    }
    assert_eq!(front.mailbox_len(), 4);
    helper.tell(Push).await.unwrap();
    tokio::task::yield_now().await;
    let started = tokio::time::Instant::now();
    gate.notify_one();
    assert_eq!(fetch.await.unwrap().unwrap(), 42);
    assert!(
        started.elapsed() < std::time::Duration::from_millis(100),
        "took {:?}",
        started.elapsed()
    );
}

/// Records, as it takes each message, how many messages its sender had sent by then.
#[derive(Actor)]
struct Witness {
    sent: Arc<AtomicUsize>,
    seen: Vec<usize>,
}

#[messages]
impl Witness {
    #[message]
    fn number(&mut self, value: usize) {
        assert_eq!(value, self.seen.len(), "taken out of order");
        self.seen.push(self.sent.load(Ordering::SeqCst));
    }

    #[message]
    fn seen(&mut self) -> Vec<usize> {
        self.seen.clone()
    }
}

#[playhouse::test]
async fn a_sender_woken_for_room_fills_it_before_the_actor_takes_more() {
    // One thread; a mailbox of 4, whose waiting sender is woken once 2 places are free.
    // The actor takes 0 and 1 while its sender has sent 4 messages (0-3) and waits; the
    // take of 1 wakes the sender, and the actor ends its turn there, so the sender sends
    // 4 and 5 before the actor takes 2. An actor that went on taking messages would
    // take 2 and 3 first, seeing 4 sent each time.
    let sent = Arc::new(AtomicUsize::new(0));
    let witness = Witness::builder()
        .mailbox(Mailbox::bounded(4))
        .spawn(Witness {
            sent: Arc::clone(&sent),
            seen: Vec::new(),
        });
    let sender = {
        let witness = witness.clone();
        let sent = Arc::clone(&sent);
        tokio::spawn(async move {
            for value in 0..12 {
                witness.tell(Number { value }).await.unwrap();
                sent.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    sender.await.unwrap();
    let seen = witness.ask(Seen).await.unwrap();
    assert_eq!(seen, [4, 4, 6, 6, 8, 8, 10, 10, 12, 12, 12, 12]);
}
