//! A counter written without macros: a message type per request and a `Handler` for each.
//!
//! Shows the difference between `tell` (send and go on: no reply, the sender only waits
//! for room in the mailbox) and `ask` (send and wait for the typed reply). Compare with
//! `counter_macros.rs`, the same actor in half the lines.
//!
//! Run it with `cargo run --example counter`.

use std::convert::Infallible;

use playhouse::{Actor, Context, Handler, Message};

/// Counts up from where it starts.
struct Counter {
    count: u64,
}

impl Actor for Counter {
    /// The starting count.
    type Args = u64;
    type Error = Infallible;

    async fn on_start(start: u64, _ctx: &mut Context<Self>) -> Result<Self, Infallible> {
        Ok(Counter { count: start })
    }
}

/// Adds one; the reply is `()`, so it is usually told rather than asked.
struct Increment;

impl Message for Increment {
    type Reply = ();
}

impl Handler<Increment> for Counter {
    async fn handle(&mut self, _: Increment, _ctx: &mut Context<Self>) {
        self.count += 1;
    }
}

/// Asks for the current count.
struct Get;

impl Message for Get {
    type Reply = u64;
}

impl Handler<Get> for Counter {
    async fn handle(&mut self, _: Get, _ctx: &mut Context<Self>) -> u64 {
        self.count
    }
}

#[playhouse::main]
async fn main() {
    let counter = Counter::spawn(10);

    // tell: returns as soon as the mailbox has accepted the message.
    for _ in 0..5 {
        counter.tell(Increment).await.expect("counter is running");
    }
    // ask: waits for the handler's reply. Messages from one sender are handled in order,
    // so this sees all five increments.
    let count = counter.ask(Get).await.expect("counter replies");
    println!("count after 5 tells: {count}");
    assert_eq!(count, 15);
}
