//! A panic in a handler or hook is caught, ends only that actor, and is reported.

use playhouse::prelude::*;

#[derive(Actor, Default)]
struct Fragile {
    handled: u32,
}

struct Boom;
impl Message for Boom {
    type Reply = u32;
}
impl Handler<Boom> for Fragile {
    async fn handle(&mut self, _: Boom, _ctx: &mut Context<Self>) -> u32 {
        panic!("boom at {}", self.handled)
    }
}

/// Keeps the actor busy until the gate opens.
struct Hold(std::sync::Arc<tokio::sync::Notify>);
impl Message for Hold {
    type Reply = ();
}
impl Handler<Hold> for Fragile {
    async fn handle(&mut self, Hold(gate): Hold, _ctx: &mut Context<Self>) {
        gate.notified().await;
    }
}

struct Fine;
impl Message for Fine {
    type Reply = u32;
}
impl Handler<Fine> for Fragile {
    async fn handle(&mut self, _: Fine, _ctx: &mut Context<Self>) -> u32 {
        self.handled += 1;
        self.handled
    }
}

#[playhouse::test]
async fn an_ask_whose_handler_panics_gets_the_panic_message() {
    let actor = Fragile::spawn(Fragile::default());
    assert_eq!(actor.ask(Fine).await.unwrap(), 1);
    match actor.ask(Boom).await {
        Err(AskError::Panicked(message)) => assert_eq!(&*message, "boom at 1"),
        other => panic!("expected AskError::Panicked, got {other:?}"),
    }
    let reason = actor.wait().await;
    let ExitReason::Panicked(report) = &reason else {
        panic!("expected a panic, got {reason:?}")
    };
    assert_eq!(report.during(), "handle(Boom)");
    assert_eq!(report.message(), "boom at 1");
    assert_eq!(reason.to_string(), "panicked in handle(Boom): boom at 1");
    assert!(reason.is_failure());
}

/// Panics before it makes its future: a handler written as a plain `fn` returning one.
struct EagerBoom;
impl Message for EagerBoom {
    type Reply = u32;
}
impl Handler<EagerBoom> for Fragile {
    #[allow(clippy::manual_async_fn)] // The point: code that runs before the future exists.
    fn handle(
        &mut self,
        _: EagerBoom,
        _ctx: &mut Context<Self>,
    ) -> impl std::future::Future<Output = u32> + Send {
        assert!(self.handled > 100, "eager boom at {}", self.handled);
        async { 0 }
    }
}

#[playhouse::test]
async fn a_handler_that_panics_before_making_its_future_is_caught_like_any_other() {
    let actor = Fragile::spawn(Fragile::default());
    assert_eq!(actor.ask(Fine).await.unwrap(), 1);
    match actor.ask(EagerBoom).await {
        Err(AskError::Panicked(message)) => assert_eq!(&*message, "eager boom at 1"),
        other => panic!("expected AskError::Panicked, got {other:?}"),
    }
    let reason = actor.wait().await;
    let ExitReason::Panicked(report) = &reason else {
        panic!("expected a panic, got {reason:?}")
    };
    assert_eq!(report.during(), "handle(EagerBoom)");
    assert_eq!(report.message(), "eager boom at 1");
}

#[playhouse::test(worker_threads = 2)]
async fn a_panic_ends_only_its_own_actor() {
    let victim = Fragile::spawn(Fragile::default());
    let bystander = Fragile::spawn(Fragile::default());
    victim.tell(Boom).await.unwrap();
    assert!(matches!(victim.wait().await, ExitReason::Panicked(_)));
    assert_eq!(bystander.ask(Fine).await.unwrap(), 1);
    assert!(bystander.is_alive());
}

#[playhouse::test]
async fn messages_queued_behind_a_panic_become_dead_letters_and_their_asks_resolve() {
    let actor = Fragile::spawn(Fragile::default());
    let system = System::current();
    let before = system.dead_letters();
    let gate = std::sync::Arc::new(tokio::sync::Notify::new());
    actor.tell(Hold(gate.clone())).await.unwrap();
    actor.tell(Boom).await.unwrap();
    // Once only `Boom` waits, the actor is inside `Hold`.
    while actor.mailbox_len() > 1 {
        tokio::task::yield_now().await;
    }
    let behind = {
        let actor = actor.clone();
        tokio::spawn(async move { actor.ask(Fine).await })
    };
    while actor.mailbox_len() < 2 {
        tokio::task::yield_now().await;
    }
    gate.notify_one();
    let behind = behind.await.unwrap();
    assert!(matches!(behind, Err(AskError::Dropped)), "{behind:?}");
    assert!(matches!(actor.wait().await, ExitReason::Panicked(_)));
    assert_eq!(system.dead_letters(), before + 1);
}

/// Panics in the hook named by its argument.
struct PanicsIn(&'static str);

impl Actor for PanicsIn {
    type Args = &'static str;
    type Error = std::convert::Infallible;

    async fn on_start(hook: &'static str, _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        if hook == "on_start" {
            panic!("cannot start");
        }
        Ok(PanicsIn(hook))
    }

    async fn on_stop(&mut self, _ctx: &mut Context<Self>, _reason: &ExitReason) {
        if self.0 == "on_stop" {
            panic!("cannot stop");
        }
    }
}

#[playhouse::test]
async fn a_panic_in_a_lifecycle_hook_is_the_exit_reason() {
    let starting = PanicsIn::spawn("on_start");
    let reason = starting.wait().await;
    assert_eq!(reason.to_string(), "panicked in on_start: cannot start");

    let stopping = PanicsIn::spawn("on_stop");
    stopping.stop();
    assert_eq!(
        stopping.wait().await.to_string(),
        "panicked in on_stop: cannot stop"
    );
}

/// Panics in the synchronous part of `on_start`, before any future exists.
struct PanicsEagerly;

impl Actor for PanicsEagerly {
    type Args = ();
    type Error = std::convert::Infallible;

    #[allow(clippy::manual_async_fn)]
    fn on_start(
        (): (),
        _ctx: &mut Context<Self>,
    ) -> impl std::future::Future<Output = Result<Self, Self::Error>> + Send {
        panic!("before the future");
        #[allow(unreachable_code)]
        async {
            Ok(PanicsEagerly)
        }
    }
}

#[playhouse::test]
async fn a_panic_before_on_start_returns_its_future_is_caught_too() {
    let actor = PanicsEagerly::spawn(());
    assert_eq!(
        actor.wait().await.to_string(),
        "panicked in on_start: before the future"
    );
}

/// Panics when dropped.
#[derive(Actor)]
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("cannot let go");
    }
}

#[playhouse::test]
async fn a_panic_in_the_actors_drop_is_the_exit_reason() {
    let actor = PanicsOnDrop::spawn(PanicsOnDrop);
    let other = Fragile::spawn(Fragile::default());
    actor.stop();
    assert_eq!(
        actor.wait().await.to_string(),
        "panicked in drop: cannot let go"
    );
    assert_eq!(other.ask(Fine).await.unwrap(), 1);
}

/// Panics when dropped, from inside a handler's future.
struct Landmine;

impl Drop for Landmine {
    fn drop(&mut self) {
        panic!("stepped on it");
    }
}

/// Waits at the gate holding a `Landmine`, which goes off when the future is dropped.
struct HoldMine(std::sync::Arc<tokio::sync::Notify>);
impl Message for HoldMine {
    type Reply = ();
}
impl Handler<HoldMine> for Fragile {
    async fn handle(&mut self, HoldMine(gate): HoldMine, _ctx: &mut Context<Self>) {
        let _mine = Landmine;
        gate.notified().await;
        std::mem::forget(_mine);
    }
}

#[playhouse::test]
async fn killing_an_actor_whose_waiting_handler_panics_when_dropped_ends_only_that_actor() {
    let actor = Fragile::spawn(Fragile::default());
    let other = Fragile::spawn(Fragile::default());
    let gate = std::sync::Arc::new(tokio::sync::Notify::new());
    let held = actor.ask(HoldMine(gate));
    tokio::pin!(held);
    // Let the handler start and wait at its gate.
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(50), &mut held)
            .await
            .is_err()
    );
    actor.kill();
    assert_eq!(actor.wait().await, ExitReason::Killed);
    assert!(
        held.await.is_err(),
        "the asker hears that its message was dropped"
    );
    assert_eq!(other.ask(Fine).await.unwrap(), 1);
}
