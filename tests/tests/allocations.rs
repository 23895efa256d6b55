//! Heap allocations per `tell` and per `ask` on the hot path, counted.
//!
//! The counts are upper bounds: a change that adds an allocation per message fails here.
//! Measured today (see the envelope module docs): a stream of `tell`s costs 0.03
//! allocations per message (each message's node, which is also its link in the mailbox
//! queue, reuses the memory of one the actor handled; the handler future reuses the
//! actor's slot), an `ask` about none (its node, which also carries the reply back, reuses
//! the memory of the asking thread's previous ask), and the first `tell` to a new actor 1,
//! its node (a small handler's future fits inside the actor's task).

use std::alloc::{GlobalAlloc, Layout, System as SystemAllocator};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use playhouse::prelude::*;

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers every call to the system allocator; only counts on the side.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { SystemAllocator.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { SystemAllocator.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Actor, Default)]
struct Counter {
    total: u64,
}

struct Add(u64);
impl Message for Add {
    type Reply = u64;
}
impl Handler<Add> for Counter {
    async fn handle(&mut self, Add(amount): Add, _ctx: &mut Context<Self>) -> u64 {
        self.total += amount;
        self.total
    }
}

struct Bump;
impl Message for Bump {
    type Reply = ();
}
impl Handler<Bump> for Counter {
    async fn handle(&mut self, _: Bump, _ctx: &mut Context<Self>) {
        self.total += 1;
    }
}

const ROUNDS: usize = 20_000;

/// Counts allocations made by `work`, per round, on a single-thread runtime.
fn allocations_per_round(work: impl AsyncFnOnce(&ActorRef<Counter>)) -> f64 {
    let runtime = playhouse::Builder::new_current_thread().build().unwrap();
    let per_round = runtime.block_on(async {
        let counter = Counter::spawn(Counter::default());
        // Warm up: the tracing callsites, the actor's task, the handler's future slot.
        for _ in 0..ROUNDS {
            counter.tell(Add(1)).await.unwrap();
        }
        counter.ask(Add(0)).await.unwrap();
        ALLOCATIONS.store(0, Ordering::Relaxed);
        COUNTING.store(true, Ordering::Relaxed);
        work(&counter).await;
        COUNTING.store(false, Ordering::Relaxed);
        ALLOCATIONS.load(Ordering::Relaxed) as f64 / ROUNDS as f64
    });
    runtime.shutdown();
    per_round
}

#[test]
fn allocations_per_message() {
    // One test function: the counter is global, so the measurements must not overlap.
    let tell = allocations_per_round(async |counter| {
        for _ in 0..ROUNDS {
            counter.tell(Add(1)).await.unwrap();
        }
        counter.ask(Add(0)).await.unwrap();
    });
    let tell_zero_sized = allocations_per_round(async |counter| {
        for _ in 0..ROUNDS {
            counter.tell(Bump).await.unwrap();
        }
        counter.ask(Add(0)).await.unwrap();
    });
    let ask = allocations_per_round(async |counter| {
        for _ in 0..ROUNDS {
            counter.ask(Add(1)).await.unwrap();
        }
    });
    println!("allocations per tell: {tell:.2}, per tell of a zero-sized message: {tell_zero_sized:.2}, per ask: {ask:.2}");
    // Each message needs a node, but nodes come back from the actor for the next
    // messages: a stream allocates only now and then (when the actor frees nodes past
    // what it keeps for its senders).
    assert!(tell <= 0.25, "a tell costs {tell:.2} allocations");
    // The message's node is its link in the mailbox queue, so even a zero-sized message
    // has one (and the mailbox itself allocates nothing per message).
    assert!(
        tell_zero_sized <= 0.25,
        "a tell of a zero-sized message costs {tell_zero_sized:.2} allocations"
    );
    // The node carries the reply back, and the asking thread keeps its memory for the
    // next ask.
    assert!(ask <= 0.05, "an ask costs {ask:.2} allocations");
    // A small handler's future lives inside the actor's task: a new actor's first message
    // allocates its node and no buffer for the handler.
    let first_tell = allocations_per_first_tell();
    println!("allocations for a fresh actor's first tell: {first_tell:.2}");
    assert!(
        first_tell <= 1.01,
        "a fresh actor's first tell costs {first_tell:.2} allocations"
    );
}

/// Counts its start and the messages it was told, in counters shared with the test.
struct Tally {
    seen: std::sync::Arc<AtomicUsize>,
}

impl Actor for Tally {
    type Args = (std::sync::Arc<AtomicUsize>, std::sync::Arc<AtomicUsize>);
    type Error = std::convert::Infallible;

    async fn on_start(
        (started, seen): Self::Args,
        _ctx: &mut Context<Self>,
    ) -> Result<Self, Self::Error> {
        started.fetch_add(1, Ordering::Relaxed);
        Ok(Tally { seen })
    }
}

struct Hit;
impl Message for Hit {
    type Reply = ();
}
impl Handler<Hit> for Tally {
    async fn handle(&mut self, _: Hit, _ctx: &mut Context<Self>) {
        self.seen.fetch_add(1, Ordering::Relaxed);
    }
}

/// Allocations per actor for the first `tell` to each of many actors that just started.
fn allocations_per_first_tell() -> f64 {
    const ACTORS: usize = 2_000;
    let runtime = playhouse::Builder::new_current_thread().build().unwrap();
    let per_actor = runtime.block_on(async {
        let started = std::sync::Arc::new(AtomicUsize::new(0));
        let seen = std::sync::Arc::new(AtomicUsize::new(0));
        let tallies: Vec<_> = (0..ACTORS)
            .map(|_| {
                Tally::spawn((
                    std::sync::Arc::clone(&started),
                    std::sync::Arc::clone(&seen),
                ))
            })
            .collect();
        while started.load(Ordering::Relaxed) < ACTORS {
            tokio::task::yield_now().await;
        }
        ALLOCATIONS.store(0, Ordering::Relaxed);
        COUNTING.store(true, Ordering::Relaxed);
        for tally in &tallies {
            tally.tell(Hit).await.unwrap();
        }
        while seen.load(Ordering::Relaxed) < ACTORS {
            tokio::task::yield_now().await;
        }
        COUNTING.store(false, Ordering::Relaxed);
        ALLOCATIONS.load(Ordering::Relaxed) as f64 / ACTORS as f64
    });
    runtime.shutdown();
    per_actor
}

#[playhouse::test]
async fn tell_and_ask_futures_stay_small() {
    // A handler that awaits a `tell` or an `ask` carries its future, and the actor moves
    // each handler future into its slot: waiting for room is boxed, so it costs only
    // while a mailbox is full.
    let counter = Counter::spawn(Counter::default());
    let tell = counter.tell(Bump);
    assert!(
        std::mem::size_of_val(&tell) <= 96,
        "tell future: {} bytes",
        std::mem::size_of_val(&tell)
    );
    let ask = counter.ask(Add(1));
    assert!(
        std::mem::size_of_val(&ask) <= 320,
        "ask future: {} bytes",
        std::mem::size_of_val(&ask)
    );
    tell.await.unwrap();
    assert_eq!(ask.await.unwrap(), 2);
}
