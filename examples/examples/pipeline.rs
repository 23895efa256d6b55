//! A producer/consumer pipeline over a bounded work queue:
//!
//! - a producer pushes 2,000 items into a queue with 64 places; `push` waits whenever the
//!   queue is full, so the producer runs at the workers' pace (backpressure);
//! - four workers of different speeds take items one at a time, each item going to exactly
//!   one of them: faster workers end up with more;
//! - one item is poisoned: its worker panics, the item counts as failed and is not
//!   retried, and the worker's supervisor restarts it so that it carries on;
//! - a progress line is redrawn in place while the work runs, and the totals per worker
//!   are printed at the end.
//!
//! Run it with `cargo run --example pipeline`.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use playhouse::prelude::*;
use playhouse::supervision::Restart;
use playhouse::work_queue::{WorkQueue, WorkQueueStats};

const ITEMS: u32 = 2_000;
const POISONED: u32 = 1_313;

/// One unit of work.
struct Item(u32);

impl Message for Item {
    type Reply = ();
}

/// A worker's pace, and its count: kept outside the actor, so that it survives a restart.
#[derive(Clone)]
struct WorkerArgs {
    pace: Duration,
    done: Arc<AtomicU64>,
}

/// Works on items at its own pace.
struct Worker {
    args: WorkerArgs,
}

impl Actor for Worker {
    type Args = WorkerArgs;
    type Error = std::convert::Infallible;

    async fn on_start(args: WorkerArgs, _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Worker { args })
    }
}

impl Handler<Item> for Worker {
    async fn handle(&mut self, Item(number): Item, _ctx: &mut Context<Self>) {
        if number == POISONED {
            panic!("item {number} is poisoned");
        }
        tokio::time::sleep(self.args.pace).await;
        self.args.done.fetch_add(1, Ordering::Relaxed);
    }
}

/// Redraws the progress line in place.
fn draw(stats: &WorkQueueStats) {
    const WIDTH: u64 = 40;
    let finished = stats.completed + stats.failed;
    let filled = (finished * WIDTH / u64::from(ITEMS)) as usize;
    print!(
        "\r[{}{}] {finished:>4}/{ITEMS} done ({} failed), {:>2} queued, {} working ",
        "#".repeat(filled),
        ".".repeat(WIDTH as usize - filled),
        stats.failed,
        stats.queued,
        stats.in_flight,
    );
    let _ = std::io::stdout().flush();
}

#[playhouse::main]
async fn main() {
    // The poisoned item's panic is expected: keep its message for the summary instead of
    // letting the default hook print over the progress line.
    let panics = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&panics);
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|text| text.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-string payload".into());
        seen.lock().unwrap().push(message);
    }));

    let system = System::current();
    let queue = WorkQueue::new(64);
    let mut workers = Vec::new();
    for (name, pace_ms) in [("quick", 1), ("steady", 2), ("slow", 3), ("sluggish", 4)] {
        let done = Arc::new(AtomicU64::new(0));
        let worker = system.supervise::<Worker>(
            Restart::Permanent,
            WorkerArgs {
                pace: Duration::from_millis(pace_ms),
                done: Arc::clone(&done),
            },
        );
        queue.attach(worker.clone()).expect("the worker runs");
        workers.push((name, pace_ms, worker, done));
    }
    println!(
        "{} items through a queue of {} places to {} workers\n",
        ITEMS,
        queue.capacity(),
        queue.consumer_count()
    );

    let started = Instant::now();
    let producer = {
        let queue = queue.clone();
        tokio::spawn(async move {
            for number in 0..ITEMS {
                queue.push(Item(number)).await.expect("the queue is open");
            }
            // Nothing more to come: the workers finish what is queued.
            queue.close();
        })
    };

    let mut redraw = tokio::time::interval(Duration::from_millis(50));
    let stats = loop {
        tokio::select! {
            stats = queue.wait() => break stats,
            _ = redraw.tick() => draw(&queue.stats()),
        }
    };
    draw(&stats);
    println!("\n");
    producer.await.expect("the producer finished");

    println!(
        "finished in {:.2} s: {} completed, {} failed, {} left in the queue",
        started.elapsed().as_secs_f64(),
        stats.completed,
        stats.failed,
        stats.queued
    );
    for message in panics.lock().unwrap().iter() {
        println!("  failed item: a worker panicked ({message}); it was not retried");
    }
    let mut total = 0;
    for (name, pace_ms, worker, done) in &workers {
        let done = done.load(Ordering::Relaxed);
        total += done;
        println!("  {name:<8} ({worker}, {pace_ms} ms per item): {done:>4} items");
    }
    println!("  all workers together: {total} items");

    let report = system.shutdown().await;
    println!("\n{report}");
}
