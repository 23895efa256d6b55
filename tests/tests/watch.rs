//! Death watch and links.

use std::sync::{Arc, Mutex};

use playhouse::prelude::*;
use playhouse::ActorId;

/// Records the notices it hears.
#[derive(Clone, Default)]
struct Heard(Arc<Mutex<Vec<String>>>);

impl Heard {
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

struct Observer {
    heard: Heard,
}

impl Actor for Observer {
    type Args = Heard;
    type Error = std::convert::Infallible;

    async fn on_start(heard: Heard, _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Observer { heard })
    }

    async fn on_terminated(
        &mut self,
        _ctx: &mut Context<Self>,
        actor: ActorId,
        reason: ExitReason,
    ) {
        self.heard
            .0
            .lock()
            .unwrap()
            .push(format!("terminated {actor}: {reason}"));
    }

    async fn on_link_exit(&mut self, _ctx: &mut Context<Self>, actor: ActorId, reason: ExitReason) {
        self.heard
            .0
            .lock()
            .unwrap()
            .push(format!("link {actor}: {reason}"));
    }
}

/// What an observer is told to do, through a message so that it happens in its context.
enum Order {
    Watch(ActorRef<Target>),
    Unwatch(ActorRef<Target>),
    Link(ActorRef<Target>),
    Unlink(ActorRef<Target>),
    TrapExits,
}

impl Message for Order {
    type Reply = ();
}

impl Handler<Order> for Observer {
    async fn handle(&mut self, order: Order, ctx: &mut Context<Self>) {
        match order {
            Order::Watch(target) => ctx.watch(&target),
            Order::Unwatch(target) => ctx.unwatch(&target),
            Order::Link(target) => ctx.link(&target),
            Order::Unlink(target) => ctx.unlink(&target),
            Order::TrapExits => ctx.trap_exits(true),
        }
    }
}

/// Lets a test wait until the observer has handled everything before it.
struct Sync;
impl Message for Sync {
    type Reply = ();
}
impl Handler<Sync> for Observer {
    async fn handle(&mut self, _: Sync, _ctx: &mut Context<Self>) {}
}

#[derive(Actor)]
struct Target;

#[messages]
impl Target {
    #[message]
    fn explode(&self) {
        panic!("kaboom");
    }
}

fn observer() -> (ActorRef<Observer>, Heard) {
    let heard = Heard::default();
    (Observer::spawn(heard.clone()), heard)
}

/// Waits until the observer has heard `count` notices.
async fn heard_at_least(heard: &Heard, count: usize) -> Vec<String> {
    loop {
        let lines = heard.lines();
        if lines.len() >= count {
            return lines;
        }
        tokio::task::yield_now().await;
    }
}

#[playhouse::test]
async fn a_watcher_hears_once_when_the_watched_actor_ends() {
    let (observer, heard) = observer();
    let target = Target::spawn(Target);
    observer.ask(Order::Watch(target.clone())).await.unwrap();
    observer.ask(Order::Watch(target.clone())).await.unwrap();
    target.stop();
    target.wait().await;
    let lines = heard_at_least(&heard, 1).await;
    assert_eq!(lines, vec![format!("terminated {}: stopped", target.id())]);
    observer.ask(Sync).await.unwrap();
    assert_eq!(heard.lines().len(), 1, "watching twice gives one notice");
}

#[playhouse::test]
async fn watching_an_actor_that_already_ended_gives_its_notice_at_once() {
    let (observer, heard) = observer();
    let target = Target::spawn(Target);
    let _ = target.ask(Explode).await;
    target.wait().await;
    observer.ask(Order::Watch(target.clone())).await.unwrap();
    let lines = heard_at_least(&heard, 1).await;
    assert_eq!(
        lines,
        vec![format!(
            "terminated {}: panicked in handle(Explode): kaboom",
            target.id()
        )]
    );
}

/// Waits for `target` to end without waiting on it (which would register a waiter first).
async fn ended_unobserved(target: &ActorRef<Target>) {
    while target.is_alive() {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}

#[playhouse::test]
async fn an_actor_that_ended_unobserved_still_tells_later_watchers_and_waiters_why() {
    // Nobody watched or waited while these ended, so their common reasons are kept
    // without the relations a watcher would have made.
    let (observer, heard) = observer();
    let stopped = Target::spawn(Target);
    stopped.stop();
    ended_unobserved(&stopped).await;
    let killed = Target::spawn(Target);
    killed.kill();
    ended_unobserved(&killed).await;
    observer.ask(Order::Watch(stopped.clone())).await.unwrap();
    observer.ask(Order::Watch(killed.clone())).await.unwrap();
    let lines = heard_at_least(&heard, 2).await;
    assert_eq!(
        lines,
        vec![
            format!("terminated {}: stopped", stopped.id()),
            format!("terminated {}: killed", killed.id()),
        ]
    );
    assert_eq!(stopped.wait().await, ExitReason::Normal);
    assert_eq!(killed.wait().await, ExitReason::Killed);
    // A normal end does not fail a linker; a kill does.
    observer.ask(Order::Link(stopped.clone())).await.unwrap();
    assert!(observer.is_alive());
    let _ = observer.ask(Order::Link(killed.clone())).await;
    assert!(matches!(observer.wait().await, ExitReason::Failed(_)));
}

#[playhouse::test]
async fn unwatch_removes_the_notice() {
    let (observer, heard) = observer();
    let target = Target::spawn(Target);
    observer.ask(Order::Watch(target.clone())).await.unwrap();
    observer.ask(Order::Unwatch(target.clone())).await.unwrap();
    target.stop();
    target.wait().await;
    observer.ask(Sync).await.unwrap();
    assert!(heard.lines().is_empty());
}

#[playhouse::test]
async fn a_linked_actor_fails_when_its_partner_fails() {
    let (observer, heard) = observer();
    let target = Target::spawn(Target);
    observer.ask(Order::Link(target.clone())).await.unwrap();
    let _ = target.ask(Explode).await;
    let reason = observer.wait().await;
    assert_eq!(
        reason,
        ExitReason::Failed(
            format!(
                "linked actor {} ended: panicked in handle(Explode): kaboom",
                target.id()
            )
            .into()
        )
    );
    assert!(heard.lines().is_empty());
}

#[playhouse::test]
async fn a_link_works_both_ways() {
    let (observer, _heard) = observer();
    let target = Target::spawn(Target);
    observer.ask(Order::Link(target.clone())).await.unwrap();
    observer.kill();
    assert!(matches!(target.wait().await, ExitReason::Failed(_)));
}

#[playhouse::test]
async fn a_normal_end_does_not_travel_along_a_link() {
    let (observer, _heard) = observer();
    let target = Target::spawn(Target);
    observer.ask(Order::Link(target.clone())).await.unwrap();
    target.stop();
    target.wait().await;
    observer.ask(Sync).await.unwrap();
    assert!(observer.is_alive());
}

#[playhouse::test]
async fn an_actor_that_traps_exits_hears_a_notice_and_lives() {
    let (observer, heard) = observer();
    let target = Target::spawn(Target);
    observer.ask(Order::TrapExits).await.unwrap();
    observer.ask(Order::Link(target.clone())).await.unwrap();
    let _ = target.ask(Explode).await;
    let lines = heard_at_least(&heard, 1).await;
    assert_eq!(
        lines,
        vec![format!(
            "link {}: panicked in handle(Explode): kaboom",
            target.id()
        )]
    );
    assert!(observer.is_alive());
}

#[playhouse::test]
async fn unlink_removes_the_link_on_both_sides() {
    let (observer, _heard) = observer();
    let target = Target::spawn(Target);
    observer.ask(Order::Link(target.clone())).await.unwrap();
    observer.ask(Order::Unlink(target.clone())).await.unwrap();
    let _ = target.ask(Explode).await;
    target.wait().await;
    observer.ask(Sync).await.unwrap();
    assert!(observer.is_alive());
}

#[playhouse::test]
async fn linking_to_an_actor_that_already_failed_fails_at_once() {
    let (observer, _heard) = observer();
    let target = Target::spawn(Target);
    let _ = target.ask(Explode).await;
    target.wait().await;
    observer.ask(Order::Link(target.clone())).await.unwrap();
    assert!(matches!(observer.wait().await, ExitReason::Failed(_)));
}

/// Counts its starts; traps exits, crashes or links on request. Restarted by the system.
struct Trapper;

impl Actor for Trapper {
    type Args = Arc<std::sync::atomic::AtomicUsize>;
    type Error = std::convert::Infallible;

    async fn on_start(starts: Self::Args, _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        starts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Trapper)
    }
}

enum TrapperOrder {
    Trap,
    Crash,
    Link(ActorRef<Target>),
}

impl Message for TrapperOrder {
    type Reply = ();
}

impl Handler<TrapperOrder> for Trapper {
    async fn handle(&mut self, order: TrapperOrder, ctx: &mut Context<Self>) {
        match order {
            TrapperOrder::Trap => ctx.trap_exits(true),
            TrapperOrder::Crash => panic!("crash"),
            TrapperOrder::Link(target) => ctx.link(&target),
        }
    }
}

#[playhouse::test]
async fn trapping_exits_ends_with_the_incarnation_that_chose_it() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let starts = Arc::new(AtomicUsize::new(0));
    let trapper = System::current().supervise::<Trapper>(
        playhouse::supervision::Restart::Permanent,
        Arc::clone(&starts),
    );
    trapper.ask(TrapperOrder::Trap).await.unwrap();
    assert!(trapper.ask(TrapperOrder::Crash).await.is_err());
    // The second incarnation does not trap: a linked failure makes it fail, and restart.
    let target = Target::spawn(Target);
    trapper
        .ask(TrapperOrder::Link(target.clone()))
        .await
        .unwrap();
    let _ = target.ask(Explode).await;
    while starts.load(Ordering::SeqCst) < 3 {
        tokio::task::yield_now().await;
    }
    assert!(trapper.is_alive());
}
