//! A dedicated-thread actor wrapping a blocking API, next to actors on the shared workers.
//!
//! `LegacyDb` stands for a client library whose every call blocks (a C driver, a serial
//! port, a synchronous SDK). It runs on an OS thread of its own
//! (`ActorBuilder::dedicated_thread`), so it may block as much as it likes: a `Heartbeat`
//! actor on the one shared worker keeps beating on time while queries are slow. A
//! `Reporter` shows the other way: a CPU-heavy step sent to the blocking pool with
//! `Context::run_blocking`.
//!
//! Run it with `cargo run --example dedicated_thread`.

use std::time::{Duration, Instant};

use playhouse::prelude::*;

/// A client of a blocking database API: one connection, one thread.
#[derive(Actor)]
struct LegacyDb {
    queries: u32,
}

#[messages]
impl LegacyDb {
    /// Runs a query; the (pretend) driver blocks the calling thread for 100 ms.
    #[message]
    fn query(&mut self, sql: String) -> String {
        std::thread::sleep(Duration::from_millis(100));
        self.queries += 1;
        let thread = std::thread::current();
        format!(
            "{} rows for `{sql}` (query {} on thread {})",
            sql.len(),
            self.queries,
            thread.name().unwrap_or("unnamed")
        )
    }
}

/// Beats every 20 ms on the shared worker and remembers its longest gap.
#[derive(Actor)]
struct Heartbeat {
    last: Option<Instant>,
    longest_gap: Duration,
    beats: u32,
}

#[messages]
impl Heartbeat {
    /// One beat.
    #[message]
    fn beat(&mut self) {
        let now = Instant::now();
        if let Some(last) = self.last {
            self.longest_gap = self.longest_gap.max(now - last);
        }
        self.last = Some(now);
        self.beats += 1;
    }

    /// How many beats, and the longest gap between two.
    #[message]
    fn pulse(&self) -> (u32, Duration) {
        (self.beats, self.longest_gap)
    }
}

/// Summarises numbers; the heavy part goes to the blocking pool.
#[derive(Actor)]
struct Reporter;

#[messages]
impl Reporter {
    /// Sums the squares of 1..=n off the shared workers.
    #[message]
    async fn sum_of_squares(&self, n: u64, ctx: &mut Context<Self>) -> u64 {
        ctx.run_blocking(move || (1..=n).map(|k| k * k).sum()).await
    }
}

#[playhouse::main(worker_threads = 1)]
async fn main() {
    let db = LegacyDb::builder()
        .dedicated_thread()
        .spawn(LegacyDb { queries: 0 });
    let heart = Heartbeat::spawn(Heartbeat {
        last: None,
        longest_gap: Duration::ZERO,
        beats: 0,
    });
    println!("{db} runs on its own thread; {heart} shares the single worker thread");

    let beating = {
        let heart = heart.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(Duration::from_millis(20));
            for _ in 0..25 {
                ticks.tick().await;
                heart.tell(Beat).await.expect("the heart beats");
            }
        })
    };
    for sql in [
        "select * from users",
        "select count(*) from orders",
        "vacuum",
    ] {
        let answer = db
            .ask(Query {
                sql: sql.to_owned(),
            })
            .await
            .expect("the database answers");
        println!("  db: {answer}");
    }
    beating.await.expect("the heartbeat task finishes");
    let (beats, longest_gap) = heart.ask(Pulse).await.expect("the heart answers");
    println!(
        "  heart: {beats} beats while the database blocked, longest gap {:.0?} (20 ms asked)",
        longest_gap
    );

    let reporter = Reporter::spawn(Reporter);
    let sum = reporter
        .ask(SumOfSquares { n: 2_000_000 })
        .await
        .expect("the reporter answers");
    println!(
        "  reporter: the sum of squares up to 2,000,000 is {sum}, computed on the blocking pool"
    );
}
