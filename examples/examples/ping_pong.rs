//! Two actors bounce a ball back and forth until the rally is over, twice: first as tasks
//! of their own, then on one strand.
//!
//! Each player holds the other's reference and `tell`s it the ball; the last hit tells the
//! referee, which the main task is waiting on. As tasks of their own, the players may run
//! on different workers, and the ball often crosses threads. On one [`Strand`] they take
//! turns on one task, and every hit is handed over on the same thread: for a pair that
//! does nothing but talk to each other, that is several times faster.
//!
//! Run it with `cargo run --release --example ping_pong`.

use std::time::{Duration, Instant};

use playhouse::prelude::*;
use playhouse::Strand;
use tokio::sync::mpsc;

/// One side of the table.
#[derive(Actor)]
struct Player {
    name: &'static str,
    hits: u64,
    opponent: Option<ActorRef<Player>>,
    rally_over: Option<mpsc::UnboundedSender<(&'static str, u64)>>,
}

#[messages]
impl Player {
    /// Sets who to send the ball to, and where to report the end of the rally.
    #[message]
    fn face(
        &mut self,
        opponent: ActorRef<Player>,
        rally_over: mpsc::UnboundedSender<(&'static str, u64)>,
    ) {
        self.opponent = Some(opponent);
        self.rally_over = Some(rally_over);
    }

    /// Hits the ball back, unless no bounces are left.
    #[message]
    fn ball(&mut self, bounces_left: u64) {
        self.hits += 1;
        if bounces_left == 0 {
            if let Some(rally_over) = &self.rally_over {
                rally_over
                    .send((self.name, self.hits))
                    .expect("the referee is waiting");
            }
            return;
        }
        let opponent = self
            .opponent
            .as_ref()
            .expect("faced an opponent before play");
        // try_tell never waits: with one ball in play the mailbox always has room.
        opponent
            .try_tell(Ball {
                bounces_left: bounces_left - 1,
            })
            .expect("opponent is playing");
    }
}

fn player(name: &'static str) -> Player {
    Player {
        name,
        hits: 0,
        opponent: None,
        rally_over: None,
    }
}

/// Plays one rally of `bounces` hits between two players spawned by `spawn`; returns
/// how long it took.
async fn rally(bounces: u64, spawn: impl Fn(Player) -> ActorRef<Player>) -> Duration {
    let ping = spawn(player("ping"));
    let pong = spawn(player("pong"));
    let (referee, mut rally_over) = mpsc::unbounded_channel();
    ping.tell(Face {
        opponent: pong.clone(),
        rally_over: referee.clone(),
    })
    .await
    .unwrap();
    pong.tell(Face {
        opponent: ping.clone(),
        rally_over: referee,
    })
    .await
    .unwrap();

    let started = Instant::now();
    ping.tell(Ball {
        bounces_left: bounces,
    })
    .await
    .unwrap();
    let (last, hits) = rally_over.recv().await.expect("the rally ends");
    let elapsed = started.elapsed();
    assert_eq!((last, hits), ("pong", bounces.div_ceil(2)));
    ping.stop();
    pong.stop();
    elapsed
}

#[playhouse::main]
async fn main() {
    let bounces = 200_001;
    let rate = |elapsed: Duration| (bounces + 1) as f64 / elapsed.as_secs_f64() / 1e6;

    let apart = rally(bounces, Player::spawn).await;
    println!(
        "as tasks of their own: {} hits in {apart:.2?} ({:.1} M/s)",
        bounces + 1,
        rate(apart)
    );

    let strand = Strand::new();
    let together = rally(bounces, |player| {
        Player::builder().strand(&strand).spawn(player)
    })
    .await;
    println!(
        "on one strand:         {} hits in {together:.2?} ({:.1} M/s)",
        bounces + 1,
        rate(together)
    );
}
