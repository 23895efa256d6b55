//! Work queues: each item handled by exactly one consumer, one at a time; backpressure to
//! producers; failed items counted, refused items put back; a queue closed by hand or by
//! losing its consumers gives producers their items back instead of leaving them waiting.

use std::sync::Arc;
use std::time::Duration;

use playhouse::prelude::*;
use playhouse::supervision::Restart;
use playhouse::work_queue::{
    AttachError, PushError, PushTimeoutError, TryPushError, WorkQueue, WorkQueueStats,
};
use playhouse::ActorId;
use tokio::sync::{mpsc, Notify};

/// An item of work.
enum Job {
    /// Handled at once.
    Work(u64),
    /// Panics in the handler.
    Panic(u64),
    /// Says it started, then waits for the gate.
    Hold {
        number: u64,
        gate: Arc<Notify>,
        started: mpsc::UnboundedSender<u64>,
    },
    /// Handled, then the consumer stops itself.
    StopAfter(u64),
}

impl Job {
    fn number(&self) -> u64 {
        match self {
            Job::Work(number)
            | Job::Panic(number)
            | Job::StopAfter(number)
            | Job::Hold { number, .. } => *number,
        }
    }
}

impl Message for Job {
    type Reply = ();
}

/// Reports every job it finishes, with its own id, on `done`.
#[derive(Actor, Clone)]
struct Consumer {
    done: mpsc::UnboundedSender<(ActorId, u64)>,
}

impl Handler<Job> for Consumer {
    async fn handle(&mut self, job: Job, ctx: &mut Context<Self>) {
        let number = job.number();
        match job {
            Job::Work(_) => {}
            Job::Panic(number) => panic!("job {number} is poisoned"),
            Job::Hold { gate, started, .. } => {
                started.send(number).unwrap();
                gate.notified().await;
            }
            Job::StopAfter(_) => ctx.stop(),
        }
        self.done.send((ctx.id(), number)).unwrap();
    }
}

/// Where consumers report what they finished.
struct Done {
    sender: mpsc::UnboundedSender<(ActorId, u64)>,
    receiver: mpsc::UnboundedReceiver<(ActorId, u64)>,
}

impl Done {
    fn new() -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        Self { sender, receiver }
    }

    fn consumer(&self) -> ActorRef<Consumer> {
        Consumer::spawn(Consumer {
            done: self.sender.clone(),
        })
    }

    /// Every job finished so far, in the order reported.
    fn finished(&mut self) -> Vec<(ActorId, u64)> {
        let mut finished = Vec::new();
        while let Ok(entry) = self.receiver.try_recv() {
            finished.push(entry);
        }
        finished
    }

    fn numbers(&mut self) -> Vec<u64> {
        self.finished()
            .into_iter()
            .map(|(_, number)| number)
            .collect()
    }
}

/// A job that holds its consumer until `gate` opens, and the signal that it started.
fn hold(number: u64, gate: &Arc<Notify>) -> (Job, mpsc::UnboundedReceiver<u64>) {
    let (started, started_rx) = mpsc::unbounded_channel();
    let job = Job::Hold {
        number,
        gate: Arc::clone(gate),
        started,
    };
    (job, started_rx)
}

/// With paused time: returns once every task is idle (time only advances then).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

#[playhouse::test(worker_threads = 4)]
async fn each_item_is_handled_by_exactly_one_consumer() {
    let mut done = Done::new();
    let queue = WorkQueue::new(8);
    for _ in 0..4 {
        queue.attach(done.consumer()).unwrap();
    }
    assert_eq!(queue.consumer_count(), 4);
    let producers: Vec<_> = (0..2u64)
        .map(|producer| {
            let queue = queue.clone();
            tokio::spawn(async move {
                for n in 0..500 {
                    queue.push(Job::Work(producer * 500 + n)).await.unwrap();
                }
            })
        })
        .collect();
    for producer in producers {
        producer.await.unwrap();
    }
    queue.close();
    let stats = queue.wait().await;
    assert_eq!(stats.pushed, 1_000);
    assert_eq!(stats.completed, 1_000);
    assert_eq!(stats.failed, 0);
    assert_eq!((stats.queued, stats.in_flight, stats.consumers), (0, 0, 0));
    assert!(stats.closed);

    let mut numbers = done.numbers();
    numbers.sort_unstable();
    assert_eq!(numbers, (0..1_000).collect::<Vec<_>>());
}

#[playhouse::test]
async fn a_consumer_has_one_item_at_a_time_taken_in_queue_order() {
    let mut done = Done::new();
    let queue = WorkQueue::new(10);
    let consumer = done.consumer();
    queue.attach(consumer.clone()).unwrap();
    let gate = Arc::new(Notify::new());
    let (job, mut started) = hold(0, &gate);
    queue.push(job).await.unwrap();
    for n in 1..5 {
        queue.push(Job::Work(n)).await.unwrap();
    }
    assert_eq!(started.recv().await, Some(0));
    // The consumer works on the first item; the others wait in the queue, not in its
    // mailbox.
    let stats = queue.stats();
    assert_eq!((stats.queued, stats.in_flight), (4, 1));
    assert_eq!(queue.len(), 4);
    assert_eq!(consumer.mailbox_len(), 0);

    gate.notify_one();
    queue.close();
    let stats = queue.wait().await;
    assert_eq!(stats.completed, 5);
    assert_eq!(done.numbers(), vec![0, 1, 2, 3, 4]);
    // A consumer leaves a closed, empty queue but keeps running.
    assert!(consumer.is_alive());
}

#[playhouse::test(start_paused = true)]
async fn a_full_queue_makes_producers_wait_and_try_push_gives_the_item_back() {
    let mut done = Done::new();
    let queue = WorkQueue::new(2);
    assert_eq!(queue.capacity(), 2);
    queue.try_push(Job::Work(0)).unwrap();
    queue.push(Job::Work(1)).await.unwrap();

    let error = queue.try_push(Job::Work(2)).unwrap_err();
    assert!(error.is_full());
    assert_eq!(error.to_string(), "work queue full; item not queued");
    let job = error.into_inner();
    let error = queue
        .push_timeout(job, Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(error.is_timeout());
    let job = error.into_inner();
    assert_eq!(job.number(), 2);

    // A producer waits for room...
    let producer = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.push(job).await.map_err(|error| error.0.number()) })
    };
    settle().await;
    assert!(!producer.is_finished());
    assert_eq!(queue.len(), 2);
    // ...until a consumer makes some.
    queue.attach(done.consumer()).unwrap();
    producer.await.unwrap().unwrap();
    queue.close();
    assert_eq!(queue.wait().await.completed, 3);
    assert_eq!(done.numbers(), vec![0, 1, 2]);
}

#[playhouse::test(start_paused = true)]
async fn closing_gives_waiting_and_later_producers_their_items_back() {
    let queue = WorkQueue::new(1);
    queue.push(Job::Work(0)).await.unwrap();
    let producer = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.push(Job::Work(1)).await })
    };
    let timed = {
        let queue = queue.clone();
        tokio::spawn(async move {
            queue
                .push_timeout(Job::Work(2), Duration::from_secs(60))
                .await
        })
    };
    settle().await;
    assert!(!producer.is_finished() && !timed.is_finished());

    queue.close();
    assert!(queue.is_closed());
    let PushError(job) = producer.await.unwrap().unwrap_err();
    assert_eq!(job.number(), 1);
    match timed.await.unwrap() {
        Err(PushTimeoutError::Closed(job)) => assert_eq!(job.number(), 2),
        other => panic!("expected Closed, got {other:?}"),
    }
    let error = queue.push(Job::Work(3)).await.unwrap_err();
    assert_eq!(error.to_string(), "work queue closed; item not queued");
    assert!(matches!(
        queue.try_push(Job::Work(4)),
        Err(TryPushError::Closed(Job::Work(4)))
    ));

    // What was queued stays queued; drain takes it back and frees its place.
    assert_eq!(queue.stats().pushed, 1);
    let left: Vec<u64> = queue.drain().iter().map(Job::number).collect();
    assert_eq!(left, vec![0]);
    assert!(queue.is_empty());
    // Closed with no consumer: nothing left to wait for.
    let stats = queue.wait().await;
    assert!(stats.closed && stats.queued == 0);
}

#[playhouse::test]
async fn items_queued_before_close_are_still_handled() {
    let mut done = Done::new();
    let queue = WorkQueue::new(4);
    for n in 0..4 {
        queue.push(Job::Work(n)).await.unwrap();
    }
    queue.close();
    // A consumer attached to a closed queue handles what is left, then leaves.
    queue.attach(done.consumer()).unwrap();
    let stats = queue.wait().await;
    assert_eq!((stats.completed, stats.queued, stats.consumers), (4, 0, 0));
    assert_eq!(done.numbers(), vec![0, 1, 2, 3]);
}

#[playhouse::test(start_paused = true)]
async fn a_queue_whose_consumers_are_all_gone_closes_and_gives_producers_their_items_back() {
    let mut done = Done::new();
    let queue = WorkQueue::new(2);
    let consumer = done.consumer();
    queue.attach(consumer.clone()).unwrap();
    let gate = Arc::new(Notify::new());
    let (job, mut started) = hold(0, &gate);
    queue.push(job).await.unwrap();
    assert_eq!(started.recv().await, Some(0));
    queue.push(Job::Work(1)).await.unwrap();
    queue.push(Job::Work(2)).await.unwrap();
    let producer = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.push(Job::Work(3)).await })
    };
    settle().await;
    assert!(!producer.is_finished());

    // The only consumer stops: it finishes its item and refuses the next one.
    consumer.stop();
    gate.notify_one();
    consumer.wait().await;

    let PushError(job) = producer.await.unwrap().unwrap_err();
    assert_eq!(job.number(), 3);
    let stats = queue.wait().await;
    assert!(stats.closed);
    assert_eq!((stats.completed, stats.failed), (1, 0));
    assert_eq!((stats.queued, stats.in_flight, stats.consumers), (2, 0, 0));
    assert!(queue.push(Job::Work(4)).await.is_err());
    // Nothing was lost: the items not handled are still there, in order.
    let left: Vec<u64> = queue.drain().iter().map(Job::number).collect();
    assert_eq!(left, vec![1, 2]);
    assert_eq!(done.numbers(), vec![0]);
}

#[playhouse::test]
async fn an_item_refused_by_a_stopping_consumer_goes_to_another() {
    let mut done = Done::new();
    let queue = WorkQueue::new(8);
    let quitter = done.consumer();
    queue.attach(quitter.clone()).unwrap();
    queue.push(Job::StopAfter(0)).await.unwrap();
    queue.push(Job::Work(1)).await.unwrap();
    queue.push(Job::Work(2)).await.unwrap();
    // The quitter handles its item and leaves; with no consumer left, the queue closes.
    let stats = queue.wait().await;
    assert_eq!((stats.completed, stats.queued, stats.consumers), (1, 2, 0));
    assert!(stats.closed);
    assert_eq!(quitter.wait().await, ExitReason::Normal);

    let other = done.consumer();
    queue.attach(other.clone()).unwrap();
    let stats = queue.wait().await;
    assert_eq!((stats.completed, stats.queued), (3, 0));
    let finished = done.finished();
    assert_eq!(
        finished,
        vec![(quitter.id(), 0), (other.id(), 1), (other.id(), 2)]
    );
}

#[playhouse::test(worker_threads = 4)]
async fn a_panicking_consumer_fails_its_item_which_is_not_retried() {
    let mut done = Done::new();
    let queue = WorkQueue::new(16);
    let consumers = [done.consumer(), done.consumer()];
    for consumer in &consumers {
        queue.attach(consumer.clone()).unwrap();
    }
    for n in 0..10 {
        let job = if n == 5 { Job::Panic(n) } else { Job::Work(n) };
        queue.push(job).await.unwrap();
    }
    queue.close();
    let stats = queue.wait().await;
    assert_eq!((stats.completed, stats.failed, stats.queued), (9, 1, 0));

    // Item 5 was handled by nobody else; every other item exactly once.
    let mut numbers = done.numbers();
    numbers.sort_unstable();
    assert_eq!(numbers, vec![0, 1, 2, 3, 4, 6, 7, 8, 9]);
    // The one that panicked was not restarted (not supervised): it ended.
    let mut panicked = 0;
    for consumer in &consumers {
        consumer.stop();
        if let ExitReason::Panicked(_) = consumer.wait().await {
            panicked += 1;
        }
    }
    assert_eq!(panicked, 1);
    assert_eq!(System::current().dead_letters(), 0);
}

#[playhouse::test(worker_threads = 4)]
async fn a_queue_whose_only_consumer_panicked_closes_with_the_rest_still_queued() {
    let mut done = Done::new();
    let queue = WorkQueue::new(8);
    queue.push(Job::Work(0)).await.unwrap();
    queue.push(Job::Panic(1)).await.unwrap();
    queue.push(Job::Work(2)).await.unwrap();
    queue.push(Job::Work(3)).await.unwrap();
    let consumer = done.consumer();
    queue.attach(consumer.clone()).unwrap();
    let stats = queue.wait().await;
    assert!(stats.closed);
    assert_eq!((stats.completed, stats.failed, stats.queued), (1, 1, 2));
    assert!(matches!(consumer.wait().await, ExitReason::Panicked(_)));
    // Nothing went to the dead consumer's mailbox: the rest is still in the queue.
    assert_eq!(System::current().dead_letters(), 0);
    let left: Vec<u64> = queue.drain().iter().map(Job::number).collect();
    assert_eq!(left, vec![2, 3]);
    assert_eq!(done.numbers(), vec![0]);
}

#[playhouse::test]
async fn a_supervised_consumer_that_panics_is_restarted_and_stays_attached() {
    let mut done = Done::new();
    let queue = WorkQueue::new(8);
    let consumer = System::current().supervise::<Consumer>(
        Restart::Permanent,
        Consumer {
            done: done.sender.clone(),
        },
    );
    queue.attach(consumer.clone()).unwrap();
    for n in 0..5 {
        let job = if n == 2 { Job::Panic(n) } else { Job::Work(n) };
        queue.push(job).await.unwrap();
    }
    queue.close();
    let stats = queue.wait().await;
    assert_eq!((stats.completed, stats.failed, stats.queued), (4, 1, 0));
    assert_eq!(done.numbers(), vec![0, 1, 3, 4]);
    assert!(consumer.is_alive());
}

#[playhouse::test]
async fn a_consumer_killed_mid_item_fails_it_as_a_dead_letter() {
    let system = System::current();
    let mut done = Done::new();
    let queue = WorkQueue::new(4);
    let consumer = done.consumer();
    queue.attach(consumer.clone()).unwrap();
    let gate = Arc::new(Notify::new());
    let (job, mut started) = hold(0, &gate);
    queue.push(job).await.unwrap();
    queue.push(Job::Work(1)).await.unwrap();
    assert_eq!(started.recv().await, Some(0));

    consumer.kill();
    let stats = queue.wait().await;
    assert!(stats.closed);
    assert_eq!((stats.completed, stats.failed, stats.queued), (0, 1, 1));
    assert_eq!(system.dead_letters(), 1);
    assert!(done.numbers().is_empty());
}

#[playhouse::test]
async fn attaching_a_stopped_actor_is_refused_and_attaching_twice_is_once() {
    let done = Done::new();
    let queue = WorkQueue::<Job>::new(4);
    let stopped = done.consumer();
    stopped.stop();
    stopped.wait().await;
    let error: AttachError = queue.attach(stopped.clone()).unwrap_err();
    assert_eq!(error.actor(), stopped.id());
    assert_eq!(error.to_string(), "actor stopped; not attached");
    assert_eq!(queue.consumer_count(), 0);
    assert!(
        !queue.is_closed(),
        "a refused attach does not close the queue"
    );

    let consumer = done.consumer();
    queue.attach(consumer.clone()).unwrap();
    queue.attach(consumer.recipient::<Job>()).unwrap();
    assert_eq!(queue.consumer_count(), 1);
}

#[playhouse::test]
async fn dropping_every_handle_closes_the_queue_after_the_consumers_finish() {
    let mut done = Done::new();
    let consumer = done.consumer();
    {
        let queue = WorkQueue::new(8);
        queue.attach(consumer.clone()).unwrap();
        for n in 0..5 {
            queue.push(Job::Work(n)).await.unwrap();
        }
    }
    // The queue is gone but its items are handled: wait for the last one.
    let mut numbers = Vec::new();
    while numbers.len() < 5 {
        let (_, number) = done.receiver.recv().await.unwrap();
        numbers.push(number);
    }
    assert_eq!(numbers, vec![0, 1, 2, 3, 4]);
}

#[test]
#[should_panic(expected = "a work queue needs a capacity")]
fn a_zero_capacity_is_refused() {
    let _ = WorkQueue::<Job>::new(0);
}

#[test]
fn work_queue_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn error<E: std::error::Error + Send + Sync + 'static>() {}
    send_sync::<WorkQueue<Job>>();
    send_sync::<WorkQueueStats>();
    error::<PushError<Job>>();
    error::<TryPushError<Job>>();
    error::<PushTimeoutError<Job>>();
    error::<AttachError>();
}
