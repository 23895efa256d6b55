//! Bounded mailboxes push back, unbounded ones don't, and control signals never queue.

use std::sync::Arc;

use playhouse::prelude::*;
use tokio::sync::{mpsc, Notify};

/// Blocks on a gate when told to, so tests can fill its mailbox.
#[derive(Actor)]
struct Slow {
    started: mpsc::UnboundedSender<()>,
}

struct Block(Arc<Notify>);
impl Message for Block {
    type Reply = ();
}
impl Handler<Block> for Slow {
    async fn handle(&mut self, Block(gate): Block, _ctx: &mut Context<Self>) {
        self.started.send(()).unwrap();
        gate.notified().await;
    }
}

struct Item(usize);
impl Message for Item {
    type Reply = usize;
}
impl Handler<Item> for Slow {
    async fn handle(&mut self, Item(n): Item, _ctx: &mut Context<Self>) -> usize {
        n
    }
}

/// Spawns a `Slow` actor busy on a gate; returns it with the gate.
async fn busy(mailbox: Mailbox) -> (ActorRef<Slow>, Arc<Notify>) {
    let (started, mut started_rx) = mpsc::unbounded_channel();
    let actor = Slow::builder().mailbox(mailbox).spawn(Slow { started });
    let gate = Arc::new(Notify::new());
    actor.tell(Block(Arc::clone(&gate))).await.unwrap();
    started_rx.recv().await.unwrap();
    (actor, gate)
}

#[test]
fn the_default_mailbox_is_bounded_with_the_documented_capacity() {
    assert_eq!(
        Mailbox::default().capacity(),
        Some(playhouse::DEFAULT_MAILBOX_CAPACITY)
    );
    assert_eq!(playhouse::DEFAULT_MAILBOX_CAPACITY, 256);
    assert_eq!(Slow::mailbox(), Mailbox::default());
}

#[test]
fn a_zero_capacity_is_refused_by_try_bounded() {
    assert_eq!(Mailbox::try_bounded(0), None);
    assert_eq!(Mailbox::try_bounded(3), Some(Mailbox::bounded(3)));
}

#[playhouse::test]
async fn the_default_mailbox_fills_at_its_capacity() {
    let (actor, gate) = busy(Mailbox::default()).await;
    for n in 0..playhouse::DEFAULT_MAILBOX_CAPACITY {
        actor.try_tell(Item(n)).unwrap();
    }
    let refused = actor.try_tell(Item(9999)).unwrap_err();
    assert!(refused.is_full());
    assert_eq!(refused.to_string(), "mailbox full; message not delivered");
    assert_eq!(refused.into_inner().0, 9999);
    gate.notify_one();
    assert_eq!(actor.ask(Item(1)).await.unwrap(), 1);
}

#[playhouse::test]
async fn tell_waits_for_room_in_a_full_mailbox() {
    let (actor, gate) = busy(Mailbox::bounded(2)).await;
    actor.tell(Item(1)).await.unwrap();
    actor.tell(Item(2)).await.unwrap();
    let mut waiting = {
        let actor = actor.clone();
        tokio::spawn(async move { actor.tell(Item(3)).await })
    };
    // The third tell cannot finish while the mailbox is full.
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    assert!(!waiting.is_finished());
    gate.notify_one();
    (&mut waiting).await.unwrap().unwrap();
    assert_eq!(actor.ask(Item(4)).await.unwrap(), 4);
}

#[playhouse::test(start_paused = true)]
async fn ask_gives_the_message_back_when_the_mailbox_stays_full() {
    let (actor, _gate) = busy(Mailbox::bounded(1)).await;
    actor.tell(Item(1)).await.unwrap();
    match actor
        .ask_timeout(Item(2), std::time::Duration::from_millis(10))
        .await
    {
        Err(AskError::Full(Item(2))) => {}
        other => panic!("expected AskError::Full, got {other:?}"),
    }
    actor.kill();
}

#[playhouse::test]
async fn an_unbounded_mailbox_never_reports_full() {
    let (actor, gate) = busy(Mailbox::unbounded()).await;
    for n in 0..10_000 {
        actor.try_tell(Item(n)).unwrap();
    }
    assert_eq!(actor.mailbox_len(), 10_000);
    gate.notify_one();
    assert_eq!(actor.ask(Item(5)).await.unwrap(), 5);
}

#[playhouse::test]
async fn stop_is_not_stuck_behind_a_full_mailbox() {
    let (actor, gate) = busy(Mailbox::bounded(1)).await;
    actor.tell(Item(1)).await.unwrap();
    assert!(actor.try_tell(Item(2)).unwrap_err().is_full());
    actor.stop();
    // New messages are refused at once, even though the mailbox is full.
    assert!(!actor.try_tell(Item(3)).unwrap_err().is_full());
    gate.notify_one();
    assert_eq!(actor.wait().await, ExitReason::Normal);
}

#[playhouse::test]
async fn kill_is_not_stuck_behind_a_full_mailbox() {
    let (actor, _gate) = busy(Mailbox::bounded(1)).await;
    actor.tell(Item(1)).await.unwrap();
    actor.kill();
    // The gate is never opened: kill interrupts the blocked handler.
    assert_eq!(actor.wait().await, ExitReason::Killed);
}
