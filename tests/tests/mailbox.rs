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
    // Waiting senders are woken together once half the room is free: with more senders
    // than places, every one of them still gets all its messages in, in order.
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
