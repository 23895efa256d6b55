//! Escalation: a supervisor whose child fails too often gives up, and its own supervisor
//! restarts it with fresh children.
//!
//! The tree:
//!
//! ```text
//! system
//! └── App (top-level)
//!     └── Pool (permanent): at most 2 restarts within 1 s
//!         ├── Steady (permanent)
//!         └── Flaky (transient): cannot connect the first 3 times
//! ```
//!
//! `Flaky` fails to start; `Pool` restarts it twice, and on the third failure it has had
//! too many restarts: it stops `Steady` and fails itself. `App` restarts `Pool` (it is
//! permanent), whose `on_start` starts a fresh `Steady` and `Flaky`, and this time `Flaky`
//! connects. Every decision is printed by the supervisors' `on_child_exit` hooks.
//!
//! Run it with `cargo run --example escalation`.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use playhouse::prelude::*;
use playhouse::supervision::{Backoff, ChildExit, Decision, Restart, Supervision};
use tokio::sync::mpsc;

/// Says what a supervisor decided about a child, in words.
fn describe(exit: &ChildExit) -> String {
    let decision = match &exit.decision {
        Decision::Restarted { attempt, delay } => format!(
            "restarted after {} ms (restart {attempt} within the window)",
            delay.as_millis()
        ),
        Decision::RestartedWithSibling => "restarted with a sibling".to_string(),
        Decision::Stopped => "not restarted".to_string(),
        Decision::Escalated => "escalated: too many restarts".to_string(),
        other => format!("{other:?}"),
    };
    format!("{} {} -> {decision}", exit.name, exit.reason)
}

/// A child that works from the start.
struct Steady;

impl Actor for Steady {
    type Args = ();
    type Error = Infallible;

    async fn on_start((): (), _ctx: &mut Context<Self>) -> Result<Self, Infallible> {
        Ok(Steady)
    }

    async fn on_stop(&mut self, ctx: &mut Context<Self>, reason: &ExitReason) {
        println!("    steady ({}): {reason}", ctx.actor_ref());
    }
}

/// A connection that is refused the first 3 times it tries.
struct Flaky {
    attempt: u32,
}

impl Actor for Flaky {
    /// Connection attempts so far, shared by every incarnation (a restart clones the `Arc`).
    type Args = Arc<AtomicU32>;
    type Error = String;

    async fn on_start(attempts: Arc<AtomicU32>, ctx: &mut Context<Self>) -> Result<Self, String> {
        let attempt = attempts.fetch_add(1, Ordering::Relaxed) + 1;
        if attempt <= 3 {
            return Err(format!("connection attempt {attempt} refused"));
        }
        println!(
            "    flaky ({}): connection attempt {attempt} succeeded",
            ctx.actor_ref()
        );
        Ok(Flaky { attempt })
    }
}

#[messages]
impl Flaky {
    /// Replies with the attempt that connected.
    #[message]
    fn connected_on(&self) -> u32 {
        self.attempt
    }
}

/// The children one incarnation of the pool started.
struct Generation {
    steady: ActorRef<Steady>,
    flaky: ActorRef<Flaky>,
}

/// What the pool is built from, again at each restart.
#[derive(Clone)]
struct PoolArgs {
    attempts: Arc<AtomicU32>,
    /// Where each incarnation of the pool sends the children it started.
    generations: mpsc::UnboundedSender<Generation>,
}

/// Supervises `Steady` and `Flaky`, with little patience.
struct Pool;

impl Actor for Pool {
    type Args = PoolArgs;
    type Error = Infallible;

    async fn on_start(args: PoolArgs, ctx: &mut Context<Self>) -> Result<Self, Infallible> {
        let steady = ctx.supervise::<Steady>(Restart::Permanent, ());
        let flaky = ctx.supervise::<Flaky>(Restart::Transient, args.attempts);
        println!("  pool ({}): started {steady} and {flaky}", ctx.actor_ref());
        let _ = args.generations.send(Generation { steady, flaky });
        Ok(Pool)
    }

    /// At most 2 restarts within 1 s; the first after about 20 ms, then 40 ms.
    fn supervision() -> Supervision {
        Supervision::default()
            .intensity(2, Duration::from_secs(1))
            .backoff(Backoff::exponential(
                Duration::from_millis(20),
                Duration::from_secs(1),
            ))
    }

    async fn on_child_exit(&mut self, ctx: &mut Context<Self>, exit: ChildExit) {
        println!("  pool ({}): {}", ctx.actor_ref(), describe(&exit));
    }

    async fn on_stop(&mut self, ctx: &mut Context<Self>, reason: &ExitReason) {
        println!(
            "  pool ({}): its children have stopped; it ends: {reason}",
            ctx.actor_ref()
        );
    }
}

/// The top of the application: supervises the pool.
struct App;

impl Actor for App {
    type Args = PoolArgs;
    type Error = Infallible;

    async fn on_start(args: PoolArgs, ctx: &mut Context<Self>) -> Result<Self, Infallible> {
        ctx.supervise::<Pool>(Restart::Permanent, args);
        Ok(App)
    }

    async fn on_child_exit(&mut self, ctx: &mut Context<Self>, exit: ChildExit) {
        println!("app ({}): {}", ctx.actor_ref(), describe(&exit));
    }
}

#[playhouse::main]
async fn main() {
    println!("App supervises Pool, which allows 2 restarts within 1 s.");
    println!("Pool supervises Steady and Flaky; Flaky fails to start 3 times.\n");
    let (generations, mut started) = mpsc::unbounded_channel();
    App::spawn(PoolArgs {
        attempts: Arc::new(AtomicU32::new(0)),
        generations,
    });

    let first = started.recv().await.expect("the pool starts");
    let steady = first.steady.wait().await;
    let flaky = first.flaky.wait().await;
    let second = started.recv().await.expect("the pool starts again");
    let attempt = second
        .flaky
        .ask(ConnectedOn)
        .await
        .expect("the new flaky replies");

    println!("\nWhat happened");
    println!(
        "  first children:  {} {steady}; {} {flaky}",
        first.steady, first.flaky
    );
    println!(
        "  second children: {} and {}, running; flaky connected on attempt {attempt}",
        second.steady, second.flaky
    );
    print!("{}", System::current().tree());

    println!("\nShutdown");
    let report = System::current().shutdown().await;
    println!("  {report}");
    println!("  stopped, children first: {}", report.stopped.join(", "));
}
