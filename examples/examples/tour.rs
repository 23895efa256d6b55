//! A short tour of Playhouse that prints what happens as it goes:
//!
//! 1. actors: spawning them, each with private state and a mailbox;
//! 2. `tell` and `ask`: fire-and-forget versus request and reply;
//! 3. backpressure: a bounded mailbox slowing down a fast producer;
//! 4. isolation: a panicking actor reported cleanly while the others carry on;
//! 5. shutdown: every actor stops, newest first, and a report says how it went.
//!
//! Run it with `cargo run --example tour`.

use std::time::{Duration, Instant};

use playhouse::prelude::*;

/// A bank account: private state, changed only by its own handlers.
#[derive(Actor)]
struct Account {
    owner: &'static str,
    balance: i64,
}

#[messages]
impl Account {
    /// Adds money.
    #[message]
    fn deposit(&mut self, amount: i64) {
        self.balance += amount;
    }

    /// Takes money out, refusing to go below zero.
    #[message]
    fn withdraw(&mut self, amount: i64) -> Result<i64, String> {
        if amount > self.balance {
            return Err(format!("{} has only {}", self.owner, self.balance));
        }
        self.balance -= amount;
        Ok(self.balance)
    }

    /// Replies with the balance.
    #[message]
    fn balance(&self) -> i64 {
        self.balance
    }
}

/// A slow printer with a small mailbox: each job takes a while.
struct Printer {
    started: Instant,
}

impl Actor for Printer {
    type Args = Instant;
    type Error = std::convert::Infallible;

    async fn on_start(started: Instant, _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Printer { started })
    }

    /// At most 2 jobs wait; a producer that gets ahead has to wait too.
    fn mailbox() -> Mailbox {
        Mailbox::bounded(2)
    }

    async fn on_stop(&mut self, _ctx: &mut Context<Self>, reason: &ExitReason) {
        println!("  printer: {reason}, goodbye");
    }
}

#[messages]
impl Printer {
    /// Prints one page, slowly.
    #[message]
    async fn print(&mut self, page: u32) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        println!(
            "  printer: printed page {page} at {:>3} ms",
            self.started.elapsed().as_millis()
        );
    }
}

/// An actor with a bug: one message makes it panic.
#[derive(Actor)]
struct Fragile;

#[messages]
impl Fragile {
    /// Divides, without checking for zero.
    #[message]
    fn divide(&self, numerator: i64, denominator: i64) -> i64 {
        numerator / denominator
    }
}

#[playhouse::main]
async fn main() {
    // Keep the tour's output readable: print a caught panic as one line (the default hook
    // prints a longer report to stderr).
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("a non-string payload");
        eprintln!("  (panic hook: {message}; Playhouse catches it)");
    }));

    println!("1. Actors");
    let alice = Account::spawn(Account {
        owner: "alice",
        balance: 100,
    });
    let bob = Account::spawn(Account {
        owner: "bob",
        balance: 0,
    });
    println!("  spawned {alice} and {bob}; each owns its state, reachable only by message");

    println!("\n2. tell and ask");
    bob.tell(Deposit { amount: 50 }).await.expect("bob is open");
    println!("  told bob to deposit 50 (tell returns once the mailbox has it)");
    let left = alice
        .ask(Withdraw { amount: 30 })
        .await
        .expect("alice replies");
    println!("  asked alice to withdraw 30: replied {left:?}");
    let refused = alice
        .ask(Withdraw { amount: 500 })
        .await
        .expect("alice replies");
    println!("  asked alice to withdraw 500: replied {refused:?}");
    println!(
        "  bob's balance, asked after the tell: {}",
        bob.ask(Balance).await.unwrap()
    );

    println!("\n3. A bounded mailbox pushing back");
    let started = Instant::now();
    let printer = Printer::spawn(started);
    for page in 1..=6 {
        printer
            .tell(Print { page })
            .await
            .expect("printer is running");
        println!(
            "  producer: page {page} accepted at {:>3} ms",
            started.elapsed().as_millis()
        );
    }
    match printer.try_tell(Print { page: 7 }) {
        Err(TrySendError::Full(Print { page })) => {
            println!("  producer: try_tell of page {page} came back: mailbox full, nothing lost")
        }
        other => println!("  producer: try_tell of page 7: {other:?}"),
    }

    println!("\n4. A panicking actor, reported cleanly");
    let fragile = Fragile::spawn(Fragile);
    match fragile
        .ask(Divide {
            numerator: 1,
            denominator: 0,
        })
        .await
    {
        Err(AskError::Panicked(message)) => {
            println!("  the ask got an error, not a hang: handler panicked: {message}")
        }
        other => println!("  unexpected: {other:?}"),
    }
    println!("  fragile ended: {}", fragile.wait().await);
    println!(
        "  alice is unaffected: balance {}",
        alice.ask(Balance).await.unwrap()
    );

    println!("\n5. Shutdown");
    let report = System::current().shutdown().await;
    println!("  {report}");
    println!("  stopped, newest first: {}", report.stopped.join(", "));
}
