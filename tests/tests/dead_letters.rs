//! Dead letters: counted per system, streamed, and sent to subscribing actors.

use std::sync::Arc;

use playhouse::prelude::*;
use playhouse::DeadLetter;
use tokio::sync::{mpsc, Notify};

#[derive(Actor)]
struct Busy;

struct Block(Arc<Notify>, mpsc::UnboundedSender<()>);
impl Message for Block {
    type Reply = ();
}
impl Handler<Block> for Busy {
    async fn handle(&mut self, Block(gate, started): Block, _ctx: &mut Context<Self>) {
        started.send(()).unwrap();
        gate.notified().await;
    }
}

struct Letter(u32);
impl Message for Letter {
    type Reply = ();
}
impl Handler<Letter> for Busy {
    async fn handle(&mut self, _: Letter, _ctx: &mut Context<Self>) {}
}

/// Collects the dead letters it is sent.
#[derive(Actor)]
struct Collector {
    seen: mpsc::UnboundedSender<DeadLetter>,
}

impl Handler<DeadLetter> for Collector {
    async fn handle(&mut self, letter: DeadLetter, _ctx: &mut Context<Self>) {
        self.seen.send(letter).unwrap();
    }
}

/// A busy actor with `queued` letters behind its blocked handler.
async fn busy_with(queued: u32) -> ActorRef<Busy> {
    let busy = Busy::spawn(Busy);
    let (started, mut started_rx) = mpsc::unbounded_channel();
    busy.tell(Block(Arc::new(Notify::new()), started))
        .await
        .unwrap();
    started_rx.recv().await.unwrap();
    for n in 0..queued {
        busy.tell(Letter(n)).await.unwrap();
    }
    busy
}

#[playhouse::test]
async fn killed_mailboxes_become_dead_letters_that_streams_and_actors_receive() {
    let system = System::current();
    let mut stream = system.dead_letter_stream();
    let (seen, mut seen_rx) = mpsc::unbounded_channel();
    let collector = Collector::spawn(Collector { seen });
    system.subscribe_dead_letters(collector.recipient());

    let busy = busy_with(2).await;
    let before = system.dead_letters();
    busy.kill();
    busy.wait().await;
    // The blocked message and the two queued ones.
    assert_eq!(system.dead_letters(), before + 3);
    let expected_types = [
        "dead_letters::Block",
        "dead_letters::Letter",
        "dead_letters::Letter",
    ];
    for expected in expected_types {
        let letter = stream.recv().await.unwrap();
        assert_eq!(letter.actor, busy.id());
        assert_eq!(letter.actor_name, busy.to_string());
        assert_eq!(letter.message_type, expected);
        assert_eq!(seen_rx.recv().await.unwrap(), letter);
    }
    assert_eq!(stream.skipped(), 0);
}

#[playhouse::test]
async fn a_refused_send_is_not_a_dead_letter_the_sender_gets_it_back() {
    let system = System::current();
    let busy = busy_with(0).await;
    busy.kill();
    busy.wait().await;
    let before = system.dead_letters();
    assert_eq!(busy.tell(Letter(7)).await.unwrap_err().into_inner().0, 7);
    assert_eq!(system.dead_letters(), before);
}
