//! A supervision tree, drawn every 300 ms while things happen to it.
//!
//! Two top-level supervisors, which the system restarts if they fail (`System::supervise`):
//!
//! - `Pool` supervises transient `Worker`s (restarted only after a failure). A worker
//!   panics and is restarted behind the same id; the pool hires a permanent worker; it
//!   retires a worker for good with `Context::stop_child`; the permanent worker stops
//!   normally and is restarted anyway, as permanent children are.
//! - `Frontend` supervises a permanent `Listener` and a transient `Session`, one-for-all:
//!   when the listener fails (`Context::fail`), the session is restarted with it. Later the
//!   session stops normally and, being transient, is gone.
//!
//! The supervisors' `on_child_exit` hooks print each decision. A restarted actor keeps its
//! id, so the tree looks the same; an actor gone for good leaves it. After about 2 s the
//! system shuts down, children before their parents, and prints its report. Press Ctrl-C
//! to end sooner: `#[playhouse::main]` then shuts the system down just as gracefully and
//! prints the report itself.
//!
//! Run it with `cargo run --example supervision_tree`.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use playhouse::prelude::*;
use playhouse::supervision::{ChildExit, Decision, Restart, Strategy, Supervision};

/// Says what a supervisor decided about a child, in words.
fn describe(exit: &ChildExit) -> String {
    let decision = match &exit.decision {
        Decision::Restarted { delay, .. } => format!("restarted after {} ms", delay.as_millis()),
        Decision::RestartedWithSibling => "restarted with its sibling".to_string(),
        Decision::Stopped => "not restarted: gone".to_string(),
        Decision::Escalated => "escalated: too many restarts".to_string(),
        other => format!("{other:?}"),
    };
    format!("{} {} -> {decision}", exit.name, exit.reason)
}

/// A worker of the pool.
#[derive(Actor, Clone)]
struct Worker;

#[messages]
impl Worker {
    /// Panics: a bug in the worker.
    #[message]
    fn crash(&self) {
        panic!("index out of bounds");
    }

    /// Stops the worker normally.
    #[message]
    fn finish(&self, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

/// Supervises the workers: starts some, hires and retires others on request.
struct Pool {
    workers: Vec<ActorRef<Worker>>,
}

impl Actor for Pool {
    /// How many workers to start with.
    type Args = usize;
    type Error = Infallible;

    async fn on_start(size: usize, ctx: &mut Context<Self>) -> Result<Self, Infallible> {
        let workers = (0..size)
            .map(|_| ctx.supervise::<Worker>(Restart::Transient, Worker))
            .collect();
        Ok(Pool { workers })
    }

    async fn on_child_exit(&mut self, ctx: &mut Context<Self>, exit: ChildExit) {
        println!("  {} hears: {}", ctx.actor_ref(), describe(&exit));
    }
}

#[messages]
impl Pool {
    /// Replies with the workers, oldest first.
    #[message]
    fn workers(&self) -> Vec<ActorRef<Worker>> {
        self.workers.clone()
    }

    /// Starts one more worker, a permanent one.
    #[message]
    fn hire(&mut self, ctx: &mut Context<Self>) -> ActorRef<Worker> {
        let worker = ctx.supervise::<Worker>(Restart::Permanent, Worker);
        self.workers.push(worker.clone());
        worker
    }

    /// Stops `worker` for good, whatever its restart policy.
    #[message]
    fn retire(&mut self, ctx: &mut Context<Self>, worker: ActorRef<Worker>) {
        ctx.stop_child(&worker);
        self.workers.retain(|kept| *kept != worker);
    }
}

/// Accepts connections; fails when its socket closes.
#[derive(Actor, Clone)]
struct Listener;

#[messages]
impl Listener {
    /// Fails the listener: a handler error it cannot recover from.
    #[message]
    fn lose_socket(&self, ctx: &mut Context<Self>) {
        ctx.fail("socket closed");
    }
}

/// A user's session, which needs the listener.
#[derive(Actor, Clone)]
struct Session;

#[messages]
impl Session {
    /// Ends the session normally.
    #[message]
    fn log_out(&self, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

/// Supervises a listener and a session that cannot work without each other.
struct Frontend {
    listener: ActorRef<Listener>,
    session: ActorRef<Session>,
}

impl Actor for Frontend {
    type Args = ();
    type Error = Infallible;

    async fn on_start((): (), ctx: &mut Context<Self>) -> Result<Self, Infallible> {
        Ok(Frontend {
            listener: ctx.supervise::<Listener>(Restart::Permanent, Listener),
            session: ctx.supervise::<Session>(Restart::Transient, Session),
        })
    }

    /// One-for-all: when one child must be restarted, all are.
    fn supervision() -> Supervision {
        Supervision::default().strategy(Strategy::OneForAll)
    }

    async fn on_child_exit(&mut self, ctx: &mut Context<Self>, exit: ChildExit) {
        println!("  {} hears: {}", ctx.actor_ref(), describe(&exit));
    }
}

#[messages]
impl Frontend {
    /// Replies with the listener and the session.
    #[message]
    fn children(&self) -> (ActorRef<Listener>, ActorRef<Session>) {
        (self.listener.clone(), self.session.clone())
    }
}

/// The actors the script acts on.
struct Cast {
    pool: ActorRef<Pool>,
    workers: Vec<ActorRef<Worker>>,
    hired: Option<ActorRef<Worker>>,
    listener: ActorRef<Listener>,
    session: ActorRef<Session>,
}

impl Cast {
    /// Makes something happen after frame number `frame` is drawn.
    async fn act(&mut self, frame: u32) {
        match frame {
            1 => {
                let worker = &self.workers[1];
                println!("main: {worker} crashes");
                if let Err(error) = worker.ask(Crash).await {
                    println!("  main's ask: {error}");
                }
            }
            2 => {
                println!("main: {} loses its socket", self.listener);
                self.listener.tell(LoseSocket).await.expect("listener runs");
            }
            3 => {
                let hired = self.pool.ask(Hire).await.expect("the pool replies");
                println!("main: the pool hired {hired}");
                self.hired = Some(hired);
            }
            4 => {
                let worker = self.workers.remove(0);
                println!("main: the pool retires {worker}");
                self.pool
                    .ask(Retire {
                        worker: worker.clone(),
                    })
                    .await
                    .expect("the pool replies");
                println!("  {worker} ended: {}", worker.wait().await);
            }
            5 => {
                println!("main: {} logs out", self.session);
                self.session.tell(LogOut).await.expect("session runs");
            }
            6 => {
                if let Some(hired) = &self.hired {
                    println!("main: {hired}, a permanent worker, finishes normally");
                    hired.tell(Finish).await.expect("worker runs");
                }
            }
            _ => {}
        }
    }
}

#[playhouse::main]
async fn main() {
    // Print a caught panic as one line (the default hook prints a longer report).
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("a non-string payload");
        eprintln!("  (panic hook: {message}; Playhouse catches it)");
    }));

    let system = System::current();
    let pool = system.supervise::<Pool>(Restart::Permanent, 3);
    let frontend = system.supervise::<Frontend>(Restart::Permanent, ());
    // Once a supervisor replies, its on_start has run and its children are in the tree.
    let workers = pool.ask(Workers).await.expect("the pool replies");
    let (listener, session) = frontend.ask(Children).await.expect("the frontend replies");
    let mut cast = Cast {
        pool,
        workers,
        hired: None,
        listener,
        session,
    };

    println!("The tree every 300 ms for 2 s; press Ctrl-C to end sooner.");
    println!("A restarted actor keeps its id; an actor gone for good leaves the tree.");
    let started = Instant::now();
    let mut frames = tokio::time::interval(Duration::from_millis(300));
    for frame in 1..=7 {
        frames.tick().await;
        println!("\n[{:>4} ms]", started.elapsed().as_millis());
        print!("{}", system.tree());
        cast.act(frame).await;
    }

    println!("\nShutdown");
    let report = system.shutdown().await;
    println!("  {report}");
    println!("  stopped, children first: {}", report.stopped.join(", "));
}
