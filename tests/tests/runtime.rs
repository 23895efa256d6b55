//! The runtime builder, fairness between actors, and running inside an existing tokio runtime.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use playhouse::prelude::*;
use playhouse::Builder;

#[derive(Actor)]
struct Named;

struct ThreadName;
impl Message for ThreadName {
    type Reply = Option<String>;
}
impl Handler<ThreadName> for Named {
    async fn handle(&mut self, _: ThreadName, _ctx: &mut Context<Self>) -> Option<String> {
        std::thread::current().name().map(str::to_owned)
    }
}

#[test]
fn actors_run_on_the_named_worker_threads_of_the_builder() {
    let runtime = Builder::new()
        .worker_threads(2)
        .thread_name("stage")
        .build()
        .unwrap();
    let name = runtime.block_on(async { Named::spawn(Named).ask(ThreadName).await.unwrap() });
    assert_eq!(name.as_deref(), Some("stage"));
    assert!(runtime.shutdown().is_clean());
}

#[test]
fn invalid_settings_are_refused_with_a_clear_error() {
    let error = Builder::new().worker_threads(0).build().unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid runtime configuration: worker_threads must be at least 1"
    );
    let error = Builder::new().message_budget(0).build().unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid runtime configuration: message_budget must be at least 1"
    );
    let error = Builder::new().start_paused(true).build().unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid runtime configuration: paused time needs the current-thread scheduler"
    );
}

#[test]
fn system_current_is_only_found_inside_a_system() {
    assert!(System::try_current().is_none());
    let runtime = Builder::new_current_thread().build().unwrap();
    assert!(runtime.block_on(async { System::try_current().is_some() }));
    runtime.shutdown();
}

#[tokio::test]
async fn a_system_attaches_to_a_running_tokio_runtime() {
    let system = System::attach().unwrap();
    let actor = system.spawn::<Named>(Named);
    assert!(actor.ask(ThreadName).await.is_ok());
    // Inside the actor, the system is found as the current one.
    assert_eq!(system.live_actors(), 1);
    let report = system.shutdown().await;
    assert_eq!(report.stopped, vec![actor.to_string()]);
    assert_eq!(actor.wait().await, ExitReason::Shutdown);
}

#[test]
fn attach_outside_tokio_is_an_error_not_a_panic() {
    let error = System::attach().unwrap_err();
    assert!(
        error.to_string().contains("inside a tokio runtime"),
        "{error}"
    );
}

/// Counts messages; `Flood` actors and a `Probe` share one thread to show fairness.
#[derive(Actor)]
struct Busy {
    handled: Arc<AtomicUsize>,
}

struct Tick;
impl Message for Tick {
    type Reply = ();
}
impl Handler<Tick> for Busy {
    async fn handle(&mut self, _: Tick, _ctx: &mut Context<Self>) {
        self.handled.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn a_busy_actor_yields_after_its_message_budget() {
    let runtime = Builder::new_current_thread()
        .message_budget(16)
        .build()
        .unwrap();
    runtime.block_on(async {
        let flood_count = Arc::new(AtomicUsize::new(0));
        let flood = Busy::builder().mailbox(Mailbox::unbounded()).spawn(Busy {
            handled: Arc::clone(&flood_count),
        });
        for _ in 0..1_000 {
            flood.try_tell(Tick).unwrap();
        }
        let other = Busy::spawn(Busy {
            handled: Arc::new(AtomicUsize::new(0)),
        });
        // The other actor gets its turn long before the flood is drained: the flooded actor
        // yields its (only) thread every 16 messages.
        other.ask(Tick).await.unwrap();
        let handled = flood_count.load(Ordering::Relaxed);
        assert!(
            handled < 1_000,
            "the flooded actor handled all {handled} messages first"
        );
        assert!(handled >= 16);
    });
    runtime.shutdown();
}

#[test]
fn an_actor_woken_by_a_sender_that_never_waits_runs_beside_it() {
    // tokio runs a woken task next on the waking worker, once the waker yields. A sender
    // that never waits would keep the actor it woke from running until it is done; the
    // actor must start on the other worker meanwhile.
    let runtime = Builder::new().worker_threads(2).build().unwrap();
    let handled = runtime.block_on(async {
        let handled = Arc::new(AtomicUsize::new(0));
        let actor = Busy::builder().mailbox(Mailbox::unbounded()).spawn(Busy {
            handled: Arc::clone(&handled),
        });
        // Started and waiting for mail, so the sender's first tell wakes it.
        actor.ask(Tick).await.unwrap();
        let seen = Arc::clone(&handled);
        let sender = tokio::spawn(async move {
            // Many more tells than it takes to call for another worker, then the worker is
            // held: the actor can only run on the other one.
            for _ in 0..10_000 {
                actor.try_tell(Tick).unwrap();
            }
            playhouse_tests::hold_worker_until(Duration::from_secs(10), || {
                seen.load(Ordering::Relaxed) > 1
            })
        });
        assert!(
            sender.await.unwrap(),
            "the actor handled nothing while its sender held its worker"
        );
        handled.load(Ordering::Relaxed)
    });
    assert!(handled > 1);
    assert!(runtime.shutdown().is_clean());
}

#[test]
fn the_runtime_reports_its_message_budget() {
    let runtime = Builder::new_current_thread()
        .message_budget(7)
        .build()
        .unwrap();
    assert_eq!(runtime.handle().message_budget(), 7);
    runtime.shutdown();
}

#[test]
fn blocking_work_runs_on_the_blocking_pool_and_reports_panics() {
    let runtime = Builder::new().worker_threads(1).build().unwrap();
    runtime.block_on(async {
        let handle = playhouse::runtime::Handle::current();
        assert_eq!(handle.run_blocking(|| 6 * 7).await.unwrap(), 42);
        let error = handle
            .run_blocking(|| -> u8 { panic!("disk on fire") })
            .await
            .unwrap_err();
        assert_eq!(error.message(), "disk on fire");
    });
    runtime.shutdown();
}

/// Answers whether it finds its own system as the current one, and spawns a task that checks
/// the same from there.
struct FindsItsSystem;

impl Actor for FindsItsSystem {
    type Args = ();
    type Error = std::convert::Infallible;

    async fn on_start((): (), _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(FindsItsSystem)
    }
}

struct WhereAmI;
impl Message for WhereAmI {
    type Reply = (bool, bool);
}
impl Handler<WhereAmI> for FindsItsSystem {
    async fn handle(&mut self, _: WhereAmI, ctx: &mut Context<Self>) -> (bool, bool) {
        let mine = ctx.system().handle().clone();
        let here = playhouse::runtime::Handle::try_current().is_some_and(|h| h.same_system(&mine));
        let in_task = tokio::spawn(async move {
            playhouse::runtime::Handle::try_current().is_some_and(|h| h.same_system(&mine))
        })
        .await
        .unwrap();
        (here, in_task)
    }
}

#[test]
fn actors_and_their_tasks_find_their_system_on_every_kind_of_runtime() {
    for runtime in [
        Builder::new().worker_threads(2).build().unwrap(),
        Builder::new_current_thread().build().unwrap(),
    ] {
        let found = runtime.block_on(async {
            let actor = FindsItsSystem::spawn(());
            actor.ask(WhereAmI).await.unwrap()
        });
        assert_eq!(found, (true, true));
        runtime.shutdown();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actors_find_their_system_when_attached() {
    let system = System::attach().unwrap();
    let actor = system.spawn::<FindsItsSystem>(());
    assert!(actor.ask(WhereAmI).await.unwrap().0);
    system.shutdown().await;
}

/// Dropped with the system's extensions, so it tells whether the system was freed.
struct DropFlag(Arc<AtomicUsize>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(Actor)]
struct Pinger;

#[messages]
impl Pinger {
    #[message]
    fn ping(&self) -> u32 {
        1
    }
}

#[test]
fn a_runtime_frees_its_system_when_dropped() {
    for current_thread in [false, true] {
        let dropped = Arc::new(AtomicUsize::new(0));
        let builder = if current_thread {
            Builder::new_current_thread()
        } else {
            Builder::new().worker_threads(2)
        };
        let runtime = builder
            .extension(DropFlag(Arc::clone(&dropped)))
            .build()
            .unwrap();
        runtime.block_on(async {
            // Actors, asks (the coarse clock) and worker threads that found the system.
            let pinger = Pinger::spawn(Pinger);
            assert_eq!(pinger.ask(Ping).await.unwrap(), 1);
            let on_worker = tokio::spawn(async { System::current().live_actors() });
            assert!(on_worker.await.unwrap() >= 1);
        });
        assert_eq!(dropped.load(Ordering::SeqCst), 0, "still in use");
        runtime.shutdown();
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            1,
            "the system outlived its runtime (a reference cycle)"
        );
    }
}
