//! Dedicated-thread actors and blocking work from a handler.

use std::time::Duration;

use playhouse::prelude::*;

/// Wraps a "blocking API": every call blocks the calling thread.
#[derive(Actor)]
struct Blocking;

#[messages]
impl Blocking {
    /// Blocks its thread until `gate` opens, then says which thread it ran on.
    #[message]
    fn call(
        &self,
        entered: tokio::sync::oneshot::Sender<()>,
        gate: std::sync::mpsc::Receiver<()>,
    ) -> Option<String> {
        let _ = entered.send(());
        gate.recv().expect("the test opens the gate");
        std::thread::current().name().map(str::to_owned)
    }
}

#[derive(Actor)]
struct Quick;

#[messages]
impl Quick {
    #[message]
    fn ping(&self) -> Option<String> {
        std::thread::current().name().map(str::to_owned)
    }
}

#[test]
fn a_dedicated_thread_actor_blocks_only_its_own_thread() {
    // One shared worker: if the blocking actor ran there, the quick one would wait.
    let runtime = playhouse::Builder::new()
        .worker_threads(1)
        .thread_name("shared")
        .build()
        .unwrap();
    runtime.block_on(async {
        let blocking = Blocking::builder().dedicated_thread().spawn(Blocking);
        let quick = Quick::spawn(Quick);
        let (open, gate) = std::sync::mpsc::channel();
        let (entered, has_entered) = tokio::sync::oneshot::channel();
        let blocked_call = {
            let blocking = blocking.clone();
            tokio::spawn(async move { blocking.ask(Call { entered, gate }).await })
        };
        has_entered.await.unwrap();
        // The blocking actor now blocks its thread until the gate opens. Were that the one
        // shared worker, this ask could not be answered (and would time out).
        let reply = quick.ask_timeout(Ping, Duration::from_secs(5)).await;
        assert_eq!(reply.unwrap().as_deref(), Some("shared"));
        open.send(()).unwrap();
        let thread = blocked_call.await.unwrap().unwrap();
        assert_eq!(thread, Some(blocking.to_string()), "named after the actor");
        blocking.stop();
        assert_eq!(blocking.wait().await, ExitReason::Normal);
    });
    runtime.shutdown();
}

#[playhouse::test]
async fn a_dedicated_thread_actor_is_supervised_like_any_other() {
    let actor = Blocking::builder().dedicated_thread().spawn(Blocking);
    let (open, gate) = std::sync::mpsc::channel();
    open.send(()).unwrap();
    let (entered, _) = tokio::sync::oneshot::channel();
    assert!(actor.ask(Call { entered, gate }).await.unwrap().is_some());
    let report = System::current().shutdown().await;
    assert_eq!(report.stopped, vec![actor.to_string()]);
    assert_eq!(actor.wait().await, ExitReason::Shutdown);
}

#[derive(Actor)]
struct Cruncher;

#[messages]
impl Cruncher {
    /// Sums on the blocking pool.
    #[message]
    async fn crunch(&self, upto: u64, ctx: &mut Context<Self>) -> u64 {
        ctx.run_blocking(move || (1..=upto).sum()).await
    }

    /// Panics on the blocking pool.
    #[message]
    async fn explode(&self, ctx: &mut Context<Self>) -> u64 {
        ctx.run_blocking(|| -> u64 { panic!("blocking work blew up") })
            .await
    }
}

#[playhouse::test(worker_threads = 1)]
async fn blocking_work_runs_off_the_workers_and_its_panic_is_the_handlers() {
    let cruncher = Cruncher::spawn(Cruncher);
    assert_eq!(cruncher.ask(Crunch { upto: 100 }).await.unwrap(), 5050);
    match cruncher.ask(Explode).await {
        Err(AskError::Panicked(message)) => assert_eq!(&*message, "blocking work blew up"),
        other => panic!("expected the handler to fail, got {other:?}"),
    }
    assert!(matches!(cruncher.wait().await, ExitReason::Panicked(_)));
}

/// Spawns a tokio task from its handler.
#[derive(Actor)]
struct Spawner;

/// Tells the test, by being dropped, that the task holding it is gone.
struct DropSignal(Option<tokio::sync::oneshot::Sender<()>>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(signal) = self.0.take() {
            let _ = signal.send(());
        }
    }
}

#[messages]
impl Spawner {
    /// Starts a task that reports its thread and then waits forever.
    #[message]
    fn start_task(
        &self,
        thread: tokio::sync::oneshot::Sender<Option<String>>,
        dropped: tokio::sync::oneshot::Sender<()>,
    ) {
        tokio::spawn(async move {
            let _signal = DropSignal(Some(dropped));
            let _ = thread.send(std::thread::current().name().map(str::to_owned));
            std::future::pending::<()>().await;
        });
    }
}

#[playhouse::test]
async fn a_task_spawned_by_a_dedicated_thread_actor_runs_there_and_ends_with_it() {
    let actor = Spawner::builder().dedicated_thread().spawn(Spawner);
    let (thread, thread_name) = tokio::sync::oneshot::channel();
    let (dropped, task_gone) = tokio::sync::oneshot::channel();
    actor.ask(StartTask { thread, dropped }).await.unwrap();
    assert_eq!(thread_name.await.unwrap(), Some(actor.to_string()));
    actor.stop();
    assert_eq!(actor.wait().await, ExitReason::Normal);
    tokio::time::timeout(Duration::from_secs(5), task_gone)
        .await
        .expect("the task is cancelled with the actor's runtime")
        .expect("dropping the task drops its signal, which sends");
}
