//! Attached streams: items in order, the end message, detaching, backpressure, a stream
//! that panics, and streams ending with their actor's incarnation.
//!
//! Tests run on paused time: the clock only moves when every task is idle, so a short
//! sleep is a barrier ("everything that could run has run").

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use playhouse::prelude::*;
use playhouse::supervision::Restart;
use playhouse::StreamHandle;
use tokio::sync::{mpsc, Notify};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};

/// What a collector saw, in order.
#[derive(Debug, PartialEq, Eq)]
enum Event {
    Item(u32),
    End,
}

/// Reports every item and end message it handles; blocks on item 0 while `gate` is set.
#[derive(Actor, Clone)]
struct Collector {
    events: mpsc::UnboundedSender<Event>,
    gate: Option<Arc<Notify>>,
}

struct Item(u32);
impl Message for Item {
    type Reply = ();
}
impl Handler<Item> for Collector {
    async fn handle(&mut self, Item(n): Item, _ctx: &mut Context<Self>) {
        if n == 0 {
            if let Some(gate) = self.gate.take() {
                gate.notified().await;
            }
        }
        let _ = self.events.send(Event::Item(n));
    }
}

struct End;
impl Message for End {
    type Reply = ();
}
impl Handler<End> for Collector {
    async fn handle(&mut self, _: End, _ctx: &mut Context<Self>) {
        let _ = self.events.send(Event::End);
    }
}

type Items = Pin<Box<dyn Stream<Item = Item> + Send>>;

#[messages]
impl Collector {
    #[message]
    fn attach(&self, ctx: &mut Context<Self>, items: Items) -> StreamHandle {
        ctx.attach_stream(items)
    }

    #[message]
    fn attach_with_end(&self, ctx: &mut Context<Self>, items: Items) -> StreamHandle {
        ctx.attach_stream_with_end(items, End)
    }

    #[message]
    fn stop_then_attach(&self, ctx: &mut Context<Self>, items: Items) -> StreamHandle {
        ctx.stop();
        ctx.attach_stream_with_end(items, End)
    }

    #[message]
    fn crash(&self) {
        panic!("crash");
    }

    #[message]
    fn ping(&self) {}
}

fn collector() -> (ActorRef<Collector>, mpsc::UnboundedReceiver<Event>) {
    let (events, received) = mpsc::unbounded_channel();
    (Collector::spawn(Collector { events, gate: None }), received)
}

/// A stream of items fed through a channel: its sender hears when the stream is dropped.
fn fed() -> (mpsc::Sender<Item>, Items) {
    let (feed, items) = mpsc::channel(16);
    (feed, Box::pin(ReceiverStream::new(items)))
}

/// Lets every task run until it waits (the paused clock moves only then).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

#[test]
fn stream_handles_are_send_sync_clone_and_debug() {
    fn check<T: Send + Sync + Clone + std::fmt::Debug + 'static>() {}
    check::<StreamHandle>();
}

#[playhouse::test(start_paused = true)]
async fn items_arrive_in_order_then_the_end_message() {
    let (collector, mut events) = collector();
    let items = Box::pin(tokio_stream::iter(0..500).map(Item));
    let stream = collector.ask(AttachWithEnd { items }).await.unwrap();
    for n in 0..500 {
        assert_eq!(events.recv().await.unwrap(), Event::Item(n));
    }
    assert_eq!(events.recv().await.unwrap(), Event::End);
    assert!(stream.is_finished());
    assert_eq!(format!("{stream:?}"), "StreamHandle { finished: true }");
    settle().await;
    assert!(events.try_recv().is_err());
    assert!(collector.is_alive());
}

#[playhouse::test(start_paused = true)]
async fn a_stream_without_an_end_message_just_ends() {
    let (collector, mut events) = collector();
    let (feed, items) = fed();
    let stream = collector.ask(Attach { items }).await.unwrap();
    for n in 1..=3 {
        feed.send(Item(n)).await.unwrap();
        assert_eq!(events.recv().await.unwrap(), Event::Item(n));
    }
    assert!(!stream.is_finished());
    drop(feed);
    settle().await;
    assert!(stream.is_finished());
    assert!(events.try_recv().is_err());
    assert!(collector.is_alive());
}

#[playhouse::test(start_paused = true)]
async fn detach_stops_the_stream_without_an_end_message() {
    let (collector, mut events) = collector();
    let (feed, items) = fed();
    let stream = collector.ask(AttachWithEnd { items }).await.unwrap();
    feed.send(Item(1)).await.unwrap();
    assert_eq!(events.recv().await.unwrap(), Event::Item(1));

    stream.detach();
    assert!(stream.is_finished());
    // The pump drops the stream: its feeder hears it.
    feed.closed().await;
    assert!(feed.send(Item(2)).await.is_err());
    // Nothing more came, and no end message: everything the actor handled before this
    // ping is already reported.
    collector.ask(Ping).await.unwrap();
    assert!(events.try_recv().is_err());
    stream.detach();
}

#[playhouse::test(start_paused = true)]
async fn the_stream_ends_when_its_actor_stops() {
    for kill in [false, true] {
        let (collector, mut events) = collector();
        let (feed, items) = fed();
        let stream = collector.ask(AttachWithEnd { items }).await.unwrap();
        feed.send(Item(1)).await.unwrap();
        assert_eq!(events.recv().await.unwrap(), Event::Item(1));
        if kill {
            collector.kill();
        } else {
            collector.stop();
        }
        collector.wait().await;
        assert!(stream.is_finished());
        feed.closed().await;
        // No end message: the actor's sender is gone after what it handled.
        assert!(events.recv().await.is_none());
    }
}

#[playhouse::test(start_paused = true)]
async fn a_stream_attached_by_a_stopping_actor_is_finished_at_once() {
    let (collector, mut events) = collector();
    let (feed, items) = fed();
    let stream = collector.ask(StopThenAttach { items }).await.unwrap();
    assert!(stream.is_finished());
    feed.closed().await;
    assert_eq!(collector.wait().await, ExitReason::Normal);
    assert!(events.recv().await.is_none());
}

#[playhouse::test(start_paused = true)]
async fn a_stream_that_panics_fails_the_actor() {
    let (collector, mut events) = collector();
    let items = Box::pin(tokio_stream::iter(0..10).map(|n| {
        assert!(n != 3, "bad item {n}");
        Item(n)
    }));
    let stream = collector.ask(AttachWithEnd { items }).await.unwrap();
    let reason = collector.wait().await;
    assert_eq!(
        reason,
        ExitReason::Failed("attached stream panicked: bad item 3".into())
    );
    assert!(stream.is_finished());
    // Whatever it handled before failing, it never heard an end.
    while let Some(event) = events.recv().await {
        assert_ne!(event, Event::End);
    }
}

#[playhouse::test(start_paused = true)]
async fn a_full_mailbox_holds_the_stream_back() {
    let (events, mut received) = mpsc::unbounded_channel();
    let gate = Arc::new(Notify::new());
    let collector = Collector::builder()
        .mailbox(Mailbox::bounded(2))
        .spawn(Collector {
            events,
            gate: Some(Arc::clone(&gate)),
        });
    let polled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&polled);
    let items = Box::pin(tokio_stream::iter(0..100).map(move |n| {
        counter.fetch_add(1, Ordering::SeqCst);
        Item(n)
    }));
    let stream = collector.ask(AttachWithEnd { items }).await.unwrap();

    // Item 0 is being handled (the actor waits at the gate), two fill the mailbox, and
    // the pump holds one more: the stream is not drained any further.
    settle().await;
    assert_eq!(collector.mailbox_len(), 2);
    assert_eq!(polled.load(Ordering::SeqCst), 4);
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(polled.load(Ordering::SeqCst), 4);

    gate.notify_one();
    for n in 0..100 {
        assert_eq!(received.recv().await.unwrap(), Event::Item(n));
    }
    assert_eq!(received.recv().await.unwrap(), Event::End);
    assert!(stream.is_finished());
}

/// Streams belong to the incarnation: a restart drops the stream the crashed incarnation
/// attached, and the restarted actor goes on without it.
#[playhouse::test(start_paused = true)]
async fn a_restart_ends_the_streams_of_the_old_incarnation() {
    let (events, mut received) = mpsc::unbounded_channel();
    let collector = System::current()
        .supervise::<Collector>(Restart::Transient, Collector { events, gate: None });
    let (feed, items) = fed();
    let stream = collector.ask(AttachWithEnd { items }).await.unwrap();
    feed.send(Item(1)).await.unwrap();
    assert_eq!(received.recv().await.unwrap(), Event::Item(1));

    assert!(matches!(
        collector.ask(Crash).await,
        Err(AskError::Panicked(_))
    ));
    feed.closed().await;
    assert!(stream.is_finished());
    // Restarted and well, and no end message from the dropped stream.
    collector.ask(Ping).await.unwrap();
    assert!(collector.is_alive());
    assert!(received.try_recv().is_err());
}
