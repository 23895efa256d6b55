//! A supervisor keeps its workers running: one of them crashes on a bad job and is
//! restarted, while the others keep working.
//!
//! Shows:
//!
//! 1. a supervisor starting its workers with `Context::supervise` and `Restart::Permanent`;
//! 2. a worker panicking on a bad job: the asker of that job gets `AskError::Panicked`, the
//!    supervisor's `on_child_exit` hook hears the decision (restarted, after a backoff),
//!    and the jobs queued behind the bad one are handled by the restarted worker, behind
//!    the same `ActorRef`;
//! 3. the other workers handling their jobs the whole time.
//!
//! Run it with `cargo run --example supervised_worker`.

use std::convert::Infallible;
use std::time::Duration;

use playhouse::prelude::*;
use playhouse::supervision::{Backoff, ChildExit, Decision, Restart, Supervision};

/// Squares numbers that come as text. A job that is not a number makes it panic.
struct Worker {
    name: &'static str,
    /// Jobs done since this incarnation started: a restart begins again from zero.
    done: u64,
}

impl Actor for Worker {
    /// Its name: a restart builds the worker again from a clone of it.
    type Args = &'static str;
    type Error = Infallible;

    async fn on_start(name: &'static str, ctx: &mut Context<Self>) -> Result<Self, Infallible> {
        println!("  {name} ({}): started", ctx.actor_ref());
        Ok(Worker { name, done: 0 })
    }
}

#[messages]
impl Worker {
    /// Squares `input`, after a moment of work; panics if it is not a number.
    #[message]
    async fn job(&mut self, input: String) -> u64 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let number: u64 = input
            .parse()
            .unwrap_or_else(|_| panic!("job {input:?} is not a number"));
        self.done += 1;
        println!(
            "  {}: {input} squared is {} (job {} since it started)",
            self.name,
            number * number,
            self.done
        );
        number * number
    }

    /// Replies with the jobs done since this incarnation started.
    #[message]
    fn jobs_done(&self) -> u64 {
        self.done
    }
}

/// Starts the workers, restarts any that fails, and says what it decided.
struct Supervisor {
    workers: Vec<ActorRef<Worker>>,
}

impl Actor for Supervisor {
    /// The workers' names.
    type Args = Vec<&'static str>;
    type Error = Infallible;

    async fn on_start(
        names: Vec<&'static str>,
        ctx: &mut Context<Self>,
    ) -> Result<Self, Infallible> {
        let workers = names
            .into_iter()
            .map(|name| ctx.supervise::<Worker>(Restart::Permanent, name))
            .collect();
        Ok(Supervisor { workers })
    }

    /// One-for-one, at most 3 restarts in 5 s (the defaults), and a first restart after
    /// about 100 ms rather than 10 ms, so that the other workers' progress meanwhile shows.
    fn supervision() -> Supervision {
        Supervision::default().backoff(Backoff::exponential(
            Duration::from_millis(100),
            Duration::from_secs(1),
        ))
    }

    async fn on_child_exit(&mut self, _ctx: &mut Context<Self>, exit: ChildExit) {
        let decision = match exit.decision {
            Decision::Restarted { attempt, delay } => format!(
                "restarted (restart {attempt} within the intensity window) after {} ms",
                delay.as_millis()
            ),
            Decision::RestartedWithSibling => "restarted with a sibling".to_string(),
            Decision::Stopped => "not restarted".to_string(),
            Decision::Escalated => "too many restarts: the supervisor gives up".to_string(),
            other => format!("{other:?}"),
        };
        println!(
            "  supervisor: {} {}; decision: {decision}",
            exit.name, exit.reason
        );
    }
}

#[messages]
impl Supervisor {
    /// Replies with the workers, in start order.
    #[message]
    fn workers(&self) -> Vec<ActorRef<Worker>> {
        self.workers.clone()
    }
}

/// Gives each worker a job every 20 ms, for 12 rounds, and waits until they are done.
async fn keep_busy(workers: [&ActorRef<Worker>; 2]) {
    let mut ticks = tokio::time::interval(Duration::from_millis(20));
    for round in 1..=12u64 {
        ticks.tick().await;
        for worker in workers {
            worker
                .tell(Job {
                    input: round.to_string(),
                })
                .await
                .expect("the worker is running");
        }
    }
    for worker in workers {
        // Handled after the jobs queued before it.
        worker.ask(JobsDone).await.expect("the worker replies");
    }
}

/// Gives worker-b two good jobs, then a bad one with two good ones queued behind it.
async fn crash(worker: &ActorRef<Worker>) {
    for input in ["1", "2"] {
        worker
            .ask(Job {
                input: input.into(),
            })
            .await
            .expect("a good job gets its reply");
    }
    println!("  main: asking worker-b to square \"twelve\", with 3 and 4 queued behind it");
    // `join!` first polls its futures in the order written, so the three jobs enter the
    // mailbox in this order; then it waits for all the replies.
    let bad = async {
        match worker
            .ask(Job {
                input: "twelve".into(),
            })
            .await
        {
            Err(AskError::Panicked(message)) => {
                println!("  main: the ask of \"twelve\" got an error: handler panicked: {message}")
            }
            other => println!("  main: unexpected reply to \"twelve\": {other:?}"),
        }
    };
    let queued = async {
        tokio::join!(
            worker.ask(Job { input: "3".into() }),
            worker.ask(Job { input: "4".into() })
        )
    };
    let ((), (three, four)) = tokio::join!(bad, queued);
    println!(
        "  main: the jobs queued behind it were answered by the restarted worker-b: {} and {}",
        three.expect("3 gets its reply"),
        four.expect("4 gets its reply")
    );
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

    println!("1. A supervisor starts three workers");
    let supervisor = Supervisor::spawn(vec!["worker-a", "worker-b", "worker-c"]);
    let workers = supervisor
        .ask(Workers)
        .await
        .expect("the supervisor replies");
    let [a, b, c] = <[ActorRef<Worker>; 3]>::try_from(workers).expect("three workers");
    for worker in [&a, &b, &c] {
        // Once a worker replies, it has started.
        worker.ask(JobsDone).await.expect("the worker replies");
    }
    print!("{}", System::current().tree());

    println!("\n2. worker-b crashes on a bad job while worker-a and worker-c keep working");
    tokio::join!(keep_busy([&a, &c]), crash(&b));

    println!("\n3. Afterwards");
    for (name, worker) in [("worker-a", &a), ("worker-b", &b), ("worker-c", &c)] {
        let done = worker.ask(JobsDone).await.expect("the worker replies");
        println!("  {name} ({worker}): {done} jobs since it last started");
    }
    println!("  worker-b is still {b}: the same reference, a fresh incarnation");
    print!("{}", System::current().tree());

    println!("\n4. Shutdown");
    let report = System::current().shutdown().await;
    println!("  {report}");
    println!("  stopped, children first: {}", report.stopped.join(", "));
}
