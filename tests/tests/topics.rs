//! Topics: publish once, every live subscriber gets it; full subscribers miss messages
//! (as dead letters) without holding up the others; stopped subscribers are removed.

use std::sync::Arc;

use playhouse::prelude::*;
use playhouse::supervision::Restart;
use playhouse::topic::{PublishReport, SubscribeError, Subscription, Topic};
use tokio::sync::{mpsc, Notify};

/// What every subscriber hears.
#[derive(Clone, Debug, PartialEq)]
struct Tick(u64);
impl Message for Tick {
    type Reply = ();
}

/// Records every tick, in the order handled; can be held busy on demand.
#[derive(Actor, Default, Clone)]
struct Listener {
    seen: Vec<u64>,
}

impl Handler<Tick> for Listener {
    async fn handle(&mut self, Tick(n): Tick, _ctx: &mut Context<Self>) {
        self.seen.push(n);
    }
}

struct Seen;
impl Message for Seen {
    type Reply = Vec<u64>;
}
impl Handler<Seen> for Listener {
    async fn handle(&mut self, _: Seen, _ctx: &mut Context<Self>) -> Vec<u64> {
        self.seen.clone()
    }
}

/// Keeps the listener busy until the gate opens; says when it started.
struct Hold {
    gate: Arc<Notify>,
    started: mpsc::UnboundedSender<()>,
}
impl Message for Hold {
    type Reply = ();
}
impl Handler<Hold> for Listener {
    async fn handle(&mut self, hold: Hold, _ctx: &mut Context<Self>) {
        hold.started.send(()).unwrap();
        hold.gate.notified().await;
    }
}

/// Panics: for a listener that its supervisor restarts.
struct Crash;
impl Message for Crash {
    type Reply = ();
}
impl Handler<Crash> for Listener {
    async fn handle(&mut self, _: Crash, _ctx: &mut Context<Self>) {
        panic!("crash on purpose");
    }
}

/// A listener whose handler is busy until `gate` opens, with a mailbox of one.
async fn busy_listener(gate: &Arc<Notify>) -> ActorRef<Listener> {
    let listener = Listener::builder()
        .mailbox(Mailbox::bounded(1))
        .spawn(Listener::default());
    let (started, mut started_rx) = mpsc::unbounded_channel();
    listener
        .tell(Hold {
            gate: Arc::clone(gate),
            started,
        })
        .await
        .unwrap();
    started_rx.recv().await.unwrap();
    listener
}

#[playhouse::test]
async fn publish_reaches_every_subscriber() {
    let topic = Topic::<Tick>::new();
    let listeners: Vec<_> = (0..3)
        .map(|_| Listener::spawn(Listener::default()))
        .collect();
    for listener in &listeners {
        topic.subscribe(listener.clone()).unwrap();
    }
    assert_eq!(topic.subscriber_count(), 3);

    let report = topic.publish(Tick(7));
    assert_eq!(report.delivered, 3);
    assert!(report.is_complete());
    assert!(report.missed.is_empty() && report.removed.is_empty());
    for listener in &listeners {
        assert_eq!(listener.ask(Seen).await.unwrap(), vec![7]);
    }
}

#[playhouse::test]
async fn publish_with_no_subscribers_delivers_nothing_and_is_no_dead_letter() {
    let system = System::current();
    let topic = Topic::<Tick>::new();
    let report = topic.publish(Tick(1));
    assert_eq!(report, PublishReport::default());
    assert!(report.is_complete());
    assert_eq!(report.to_string(), "delivered to 0");
    assert_eq!(system.dead_letters(), 0);
}

#[playhouse::test]
async fn subscribing_a_stopped_actor_is_refused() {
    let topic = Topic::<Tick>::new();
    let listener = Listener::spawn(Listener::default());
    listener.stop();
    listener.wait().await;
    let error: SubscribeError = topic.subscribe(listener.clone()).unwrap_err();
    assert_eq!(error.actor(), listener.id());
    assert_eq!(error.to_string(), "actor stopped; not subscribed");
    assert_eq!(topic.subscriber_count(), 0);
    assert_eq!(topic.publish(Tick(1)).delivered, 0);
}

#[playhouse::test]
async fn subscribing_a_stopping_actor_is_refused() {
    let topic = Topic::<Tick>::new();
    let gate = Arc::new(Notify::new());
    let listener = busy_listener(&gate).await;
    // Stopping: it finishes what it has, but accepts nothing new.
    listener.stop();
    assert!(topic.subscribe(listener.clone()).is_err());
    gate.notify_one();
    listener.wait().await;
}

#[playhouse::test]
async fn a_stopped_subscriber_is_removed_and_reported_by_the_next_publish() {
    let topic = Topic::<Tick>::new();
    let staying = Listener::spawn(Listener::default());
    let leaving = Listener::spawn(Listener::default());
    topic.subscribe(staying.clone()).unwrap();
    let subscription = topic.subscribe(leaving.clone()).unwrap();

    leaving.stop();
    leaving.wait().await;
    let report = topic.publish(Tick(1));
    assert_eq!(report.delivered, 1);
    assert_eq!(report.removed, vec![leaving.id()]);
    assert!(report.is_complete());
    assert!(!subscription.is_active());
    assert!(!topic.is_subscribed(&leaving));
    assert_eq!(topic.subscriber_count(), 1);

    // Found once: the next publish does not see it again.
    let report = topic.publish(Tick(2));
    assert_eq!(report.delivered, 1);
    assert!(report.removed.is_empty());
    assert_eq!(staying.ask(Seen).await.unwrap(), vec![1, 2]);
}

#[playhouse::test]
async fn a_stopped_subscriber_is_not_counted() {
    let topic = Topic::<Tick>::new();
    let listener = Listener::spawn(Listener::default());
    let subscription = topic.subscribe(listener.clone()).unwrap();
    assert!(subscription.is_active());
    listener.kill();
    listener.wait().await;
    assert_eq!(topic.subscriber_count(), 0);
    assert!(!subscription.is_active());
    assert!(!subscription.unsubscribe());
}

#[playhouse::test]
async fn a_full_subscriber_misses_the_message_as_a_dead_letter_and_the_others_get_it() {
    let system = System::current();
    let mut dead_letters = system.dead_letter_stream();
    let topic = Topic::<Tick>::new();
    let quick = Listener::spawn(Listener::default());
    let gate = Arc::new(Notify::new());
    let slow = busy_listener(&gate).await;
    topic.subscribe(quick.clone()).unwrap();
    topic.subscribe(slow.clone()).unwrap();

    // The slow one's mailbox (one place) takes the first tick...
    let first = topic.publish(Tick(1));
    assert_eq!(first.delivered, 2);
    // ...and is full for the second: publish does not wait, the quick one still gets it.
    let second = topic.publish(Tick(2));
    assert_eq!(second.delivered, 1);
    assert_eq!(second.missed, vec![slow.id()]);
    assert!(!second.is_complete());
    assert_eq!(
        second.to_string(),
        "delivered to 1, missed by 1 (mailbox full)"
    );
    assert_eq!(system.dead_letters(), 1);
    let letter = dead_letters.recv().await.unwrap();
    assert_eq!(letter.actor, slow.id());
    assert_eq!(letter.message_type, std::any::type_name::<Tick>());

    // A miss is not a removal: once it catches up, the slow one hears the next ticks.
    gate.notify_one();
    assert_eq!(slow.ask(Seen).await.unwrap(), vec![1]);
    assert_eq!(topic.publish(Tick(3)).delivered, 2);
    assert_eq!(slow.ask(Seen).await.unwrap(), vec![1, 3]);
    assert_eq!(quick.ask(Seen).await.unwrap(), vec![1, 2, 3]);
    assert!(topic.is_subscribed(&slow));
}

#[playhouse::test(worker_threads = 2)]
async fn messages_from_one_publisher_arrive_in_publish_order() {
    let topic = Topic::<Tick>::new();
    let listeners: Vec<_> = (0..3)
        .map(|_| {
            Listener::builder()
                .mailbox(Mailbox::unbounded())
                .spawn(Listener::default())
        })
        .collect();
    for listener in &listeners {
        topic.subscribe(listener.clone()).unwrap();
    }
    let publisher = topic.clone();
    tokio::spawn(async move {
        for n in 0..5_000 {
            assert_eq!(publisher.publish(Tick(n)).delivered, 3);
        }
    })
    .await
    .unwrap();
    for listener in &listeners {
        assert_eq!(
            listener.ask(Seen).await.unwrap(),
            (0..5_000).collect::<Vec<_>>()
        );
    }
}

#[playhouse::test(worker_threads = 4)]
async fn every_subscriber_sees_concurrent_publishers_in_the_same_order() {
    let topic = Topic::<Tick>::new();
    let listeners: Vec<_> = (0..3)
        .map(|_| {
            Listener::builder()
                .mailbox(Mailbox::unbounded())
                .spawn(Listener::default())
        })
        .collect();
    for listener in &listeners {
        topic.subscribe(listener.clone()).unwrap();
    }
    let publishers: Vec<_> = (0..4u64)
        .map(|publisher| {
            let topic = topic.clone();
            tokio::spawn(async move {
                for n in 0..1_000 {
                    topic.publish(Tick(publisher * 1_000_000 + n));
                }
            })
        })
        .collect();
    for publisher in publishers {
        publisher.await.unwrap();
    }
    let first = listeners[0].ask(Seen).await.unwrap();
    assert_eq!(first.len(), 4_000);
    for publisher in 0..4 {
        let own: Vec<u64> = first
            .iter()
            .copied()
            .filter(|n| n / 1_000_000 == publisher)
            .collect();
        assert_eq!(
            own,
            (0..1_000)
                .map(|n| publisher * 1_000_000 + n)
                .collect::<Vec<_>>()
        );
    }
    for listener in &listeners[1..] {
        assert_eq!(listener.ask(Seen).await.unwrap(), first);
    }
}

#[playhouse::test]
async fn unsubscribing_stops_delivery_and_dropping_the_subscription_does_not() {
    let topic = Topic::<Tick>::new();
    let kept = Listener::spawn(Listener::default());
    let by_handle = Listener::spawn(Listener::default());
    let by_topic = Listener::spawn(Listener::default());
    drop(topic.subscribe(kept.clone()).unwrap());
    let subscription: Subscription = topic.subscribe(by_handle.clone()).unwrap();
    assert_eq!(subscription.actor(), by_handle.id());
    topic.subscribe(by_topic.clone()).unwrap();
    assert_eq!(topic.publish(Tick(1)).delivered, 3);

    assert!(subscription.unsubscribe());
    assert!(topic.unsubscribe(&by_topic));
    assert!(!topic.unsubscribe(&by_topic));
    assert_eq!(topic.publish(Tick(2)).delivered, 1);

    assert_eq!(kept.ask(Seen).await.unwrap(), vec![1, 2]);
    assert_eq!(by_handle.ask(Seen).await.unwrap(), vec![1]);
    assert_eq!(by_topic.ask(Seen).await.unwrap(), vec![1]);
}

#[playhouse::test]
async fn an_old_subscription_does_not_end_a_newer_one() {
    let topic = Topic::<Tick>::new();
    let listener = Listener::spawn(Listener::default());
    let old = topic.subscribe(listener.clone()).unwrap();
    assert!(topic.unsubscribe(&listener));
    let new = topic.subscribe(listener.clone()).unwrap();
    assert!(!old.is_active());
    assert!(!old.unsubscribe());
    assert!(new.is_active());
    assert_eq!(topic.publish(Tick(1)).delivered, 1);
}

#[playhouse::test]
async fn subscribing_twice_delivers_once() {
    let topic = Topic::<Tick>::new();
    let listener = Listener::spawn(Listener::default());
    let first = topic.subscribe(listener.clone()).unwrap();
    let second = topic.subscribe(listener.recipient::<Tick>()).unwrap();
    assert_eq!(topic.subscriber_count(), 1);
    assert_eq!(topic.publish(Tick(1)).delivered, 1);
    assert_eq!(listener.ask(Seen).await.unwrap(), vec![1]);
    // Both handles name the same subscription.
    assert!(second.unsubscribe());
    assert!(!first.is_active());
}

#[playhouse::test]
async fn a_restarted_subscriber_stays_subscribed() {
    let topic = Topic::<Tick>::new();
    let listener = System::current().supervise::<Listener>(Restart::Permanent, Listener::default());
    topic.subscribe(listener.clone()).unwrap();
    assert!(matches!(
        listener.ask(Crash).await,
        Err(AskError::Panicked(_))
    ));
    assert_eq!(topic.publish(Tick(1)).delivered, 1);
    // The new incarnation started empty and heard the tick.
    assert_eq!(listener.ask(Seen).await.unwrap(), vec![1]);
    assert_eq!(topic.subscriber_count(), 1);
}

#[playhouse::test]
async fn a_topic_outlived_by_its_subscription_is_inactive() {
    let listener = Listener::spawn(Listener::default());
    let subscription = {
        let topic = Topic::<Tick>::new();
        topic.subscribe(listener.clone()).unwrap()
    };
    assert!(!subscription.is_active());
    assert!(!subscription.unsubscribe());
}

#[playhouse::test]
async fn named_topics_are_shared_within_a_system() {
    let system = System::current();
    let listener = Listener::spawn(Listener::default());
    system
        .topic::<Tick>("ticks")
        .subscribe(listener.clone())
        .unwrap();

    let same = system.topic::<Tick>("ticks");
    assert_eq!(same.name(), Some("ticks"));
    assert!(same.is_subscribed(&listener));
    assert_eq!(same.publish(Tick(5)).delivered, 1);
    assert_eq!(listener.ask(Seen).await.unwrap(), vec![5]);

    // Another name, or another message type with the same name, is another topic.
    assert_eq!(system.topic::<Tick>("other").subscriber_count(), 0);
    assert_eq!(system.topic::<Other>("ticks").subscriber_count(), 0);
    assert_eq!(Topic::<Tick>::new().name(), None);
    assert_eq!(same.to_string(), "Topic<Tick>(\"ticks\")");
}

#[playhouse::test]
async fn a_removed_named_topic_is_made_afresh_on_next_use() {
    let system = System::current();
    let listener = Listener::spawn(Listener::default());
    let old = system.topic::<Tick>("session-1");
    old.subscribe(listener.clone()).unwrap();
    assert!(system.remove_topic::<Tick>("session-1"));
    assert!(!system.remove_topic::<Tick>("session-1"));
    assert!(!system.remove_topic::<Other>("never-made"));
    // The old handle still works; the name now gives a new, empty topic.
    assert_eq!(old.publish(Tick(1)).delivered, 1);
    assert_eq!(system.topic::<Tick>("session-1").subscriber_count(), 0);
}

#[test]
fn named_topics_are_not_shared_between_systems() {
    let build = || {
        playhouse::Builder::new_current_thread()
            .build()
            .expect("runtime")
    };
    let first = build();
    let second = build();
    first.block_on(async {
        let listener = Listener::spawn(Listener::default());
        System::current()
            .topic::<Tick>("ticks")
            .subscribe(listener)
            .unwrap();
        assert_eq!(
            System::current().topic::<Tick>("ticks").subscriber_count(),
            1
        );
    });
    second.block_on(async {
        assert_eq!(
            System::current().topic::<Tick>("ticks").subscriber_count(),
            0
        );
    });
    first.shutdown();
    second.shutdown();
}

#[derive(Clone)]
struct Other;
impl Message for Other {
    type Reply = ();
}

#[test]
fn topic_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn error<E: std::error::Error + Send + Sync + 'static>() {}
    send_sync::<Topic<Tick>>();
    send_sync::<Subscription>();
    send_sync::<PublishReport>();
    error::<SubscribeError>();
}
