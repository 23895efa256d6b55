//! A ticker publishes a price on a topic every 100 ms for about a second, and three
//! subscribers listen:
//!
//! 1. a board that prints every price it hears;
//! 2. a slow chart with a mailbox of one that takes 250 ms per price: publishing never
//!    waits for it, so when its mailbox is full it misses that price (the report says so,
//!    and each miss is counted as a dead letter) while the others still get it;
//! 3. a trader that leaves after three prices: it stops itself, and the next publish finds
//!    it gone and removes it from the topic.
//!
//! The topic is looked up by name on the system, so the ticker and the subscribers only
//! share the name "prices".
//!
//! Run it with `cargo run --example pubsub_ticker`.

use std::time::Duration;

use playhouse::prelude::*;

/// A new price for the one symbol this market trades.
#[derive(Clone, Debug)]
struct Price {
    tick: u32,
    cents: u64,
}

impl Message for Price {
    type Reply = ();
}

impl std::fmt::Display for Price {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ACME {}.{:02}", self.cents / 100, self.cents % 100)
    }
}

/// Prints every price.
#[derive(Actor)]
struct Board {
    heard: usize,
}

impl Handler<Price> for Board {
    async fn handle(&mut self, price: Price, _ctx: &mut Context<Self>) {
        self.heard += 1;
        println!("  board:  tick {:>2}  {price}", price.tick);
    }
}

#[messages]
impl Board {
    /// Replies with how many prices the board heard.
    #[message]
    fn heard(&self) -> usize {
        self.heard
    }
}

/// Draws prices slowly, with room for one waiting price.
struct Chart {
    drawn: Vec<u32>,
}

impl Actor for Chart {
    type Args = ();
    type Error = std::convert::Infallible;

    async fn on_start(_args: (), _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Chart { drawn: Vec::new() })
    }

    fn mailbox() -> Mailbox {
        Mailbox::bounded(1)
    }
}

impl Handler<Price> for Chart {
    async fn handle(&mut self, price: Price, _ctx: &mut Context<Self>) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        self.drawn.push(price.tick);
    }
}

#[messages]
impl Chart {
    /// Replies with the ticks drawn so far.
    #[message]
    fn drawn(&self) -> Vec<u32> {
        self.drawn.clone()
    }
}

/// Trades on three prices, then leaves the market.
#[derive(Actor)]
struct Trader {
    heard: u32,
}

impl Handler<Price> for Trader {
    async fn handle(&mut self, price: Price, ctx: &mut Context<Self>) {
        self.heard += 1;
        if self.heard == 3 {
            println!("  trader: bought at {price}; done for the day, leaving");
            ctx.stop();
        }
    }
}

/// The price at `tick`: a made-up walk that goes up and down.
fn price_at(tick: u32) -> Price {
    let wobble = u64::from((tick * 37) % 11) * 25;
    Price {
        tick,
        cents: 10_000 + u64::from(tick) * 10 + wobble,
    }
}

#[playhouse::main]
async fn main() {
    let system = System::current();
    let prices = system.topic::<Price>("prices");

    let board = Board::spawn(Board { heard: 0 });
    let chart = Chart::spawn(());
    let trader = Trader::spawn(Trader { heard: 0 });
    prices.subscribe(board.clone()).expect("the board runs");
    prices.subscribe(chart.clone()).expect("the chart runs");
    prices.subscribe(trader.clone()).expect("the trader runs");
    println!(
        "{} subscribers on {prices}: board {board}, chart {chart}, trader {trader}\n",
        prices.subscriber_count()
    );

    // The ticker: another part of the program that only knows the topic's name.
    let ticker = tokio::spawn(async {
        let prices = System::current().topic::<Price>("prices");
        let mut interval = tokio::time::interval(Duration::from_millis(100));
        for tick in 1..=10 {
            interval.tick().await;
            let price = price_at(tick);
            let report = prices.publish(price.clone());
            println!("ticker: tick {tick:>2}  {price}: {report}");
        }
    });
    ticker.await.expect("the ticker finished");

    // Asking after the last publish: the answer comes once the board handled every price.
    let heard = board.ask(Heard).await.expect("the board answers");
    println!("\nboard heard {heard} of 10 prices");
    let drawn = chart.ask(Drawn).await.expect("the chart answers");
    let missed = 10 - drawn.len();
    println!(
        "chart drew ticks {drawn:?}: {} of 10, missed {missed} with a full mailbox",
        drawn.len()
    );
    println!(
        "dead letters counted by the system: {} (the chart's misses)",
        system.dead_letters()
    );
    println!(
        "trader {}: {}; subscribers left: {}",
        trader,
        trader.wait().await,
        prices.subscriber_count()
    );

    let report = system.shutdown().await;
    println!("{report}");
}
