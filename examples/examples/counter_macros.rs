//! The counter of `counter.rs`, written with Playhouse's macros.
//!
//! `#[derive(Actor)]` makes an actor that starts from the value it is given, and
//! `#[messages]` turns every `#[message]` method into a message type (`increment` becomes
//! `Increment`, its arguments become fields) and a `Handler` for it. Methods can be sync or
//! async, take `&self` or `&mut self`, and ask for the actor's `Context`.
//!
//! Run it with `cargo run --example counter_macros`.

use playhouse::prelude::*;

/// Counts up from where it starts.
#[derive(Actor)]
struct Counter {
    count: u64,
}

#[messages]
impl Counter {
    /// Adds `by` to the count.
    #[message]
    fn increment(&mut self, by: u64) {
        self.count += by;
    }

    /// Replies with the current count.
    #[message]
    fn get(&self) -> u64 {
        self.count
    }

    /// Replies with the count, then stops the counter once the queue is handled.
    #[message]
    async fn finish(&mut self, ctx: &mut Context<Self>) -> u64 {
        ctx.stop();
        self.count
    }
}

#[playhouse::main]
async fn main() {
    let counter = Counter::spawn(Counter { count: 10 });
    for _ in 0..5 {
        counter
            .tell(Increment { by: 1 })
            .await
            .expect("counter is running");
    }
    let count = counter.ask(Get).await.expect("counter replies");
    println!("count after 5 tells: {count}");
    assert_eq!(count, 15);

    let last = counter.ask(Finish).await.expect("counter replies");
    println!("final count: {last}; the counter {}", counter.wait().await);
}
