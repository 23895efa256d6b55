//! Starting from arguments, stopping gracefully, killing, waiting for the end.

use std::sync::Arc;

use playhouse::prelude::*;
use tokio::sync::{mpsc, Notify};

/// Reports its lifecycle on a channel so tests can see the hooks run.
struct Probe {
    events: mpsc::UnboundedSender<String>,
    handled: u32,
}

struct ProbeArgs {
    events: mpsc::UnboundedSender<String>,
    fail_start: bool,
}

impl Actor for Probe {
    type Args = ProbeArgs;
    type Error = String;

    async fn on_start(args: ProbeArgs, ctx: &mut Context<Self>) -> Result<Self, String> {
        if args.fail_start {
            return Err("no database".to_owned());
        }
        args.events.send(format!("start {}", ctx.id())).unwrap();
        Ok(Probe {
            events: args.events,
            handled: 0,
        })
    }

    async fn on_stop(&mut self, _ctx: &mut Context<Self>, reason: &ExitReason) {
        self.events
            .send(format!("stop after {}: {reason}", self.handled))
            .unwrap();
    }
}

struct Work(Arc<Notify>);
impl Message for Work {
    type Reply = u32;
}
impl Handler<Work> for Probe {
    async fn handle(&mut self, Work(gate): Work, _ctx: &mut Context<Self>) -> u32 {
        self.events.send("working".to_owned()).unwrap();
        gate.notified().await;
        self.handled += 1;
        self.handled
    }
}

struct Quick;
impl Message for Quick {
    type Reply = u32;
}
impl Handler<Quick> for Probe {
    async fn handle(&mut self, _: Quick, _ctx: &mut Context<Self>) -> u32 {
        self.handled += 1;
        self.handled
    }
}

fn probe() -> (ProbeArgs, mpsc::UnboundedReceiver<String>) {
    let (events, receiver) = mpsc::unbounded_channel();
    (
        ProbeArgs {
            events,
            fail_start: false,
        },
        receiver,
    )
}

#[playhouse::test]
async fn on_start_builds_the_actor_from_its_arguments_and_on_stop_hears_the_reason() {
    let (args, mut events) = probe();
    let actor = Probe::spawn(args);
    assert_eq!(actor.ask(Quick).await.unwrap(), 1);
    assert_eq!(
        events.recv().await.unwrap(),
        format!("start {}", actor.id())
    );
    actor.stop();
    assert_eq!(actor.wait().await, ExitReason::Normal);
    assert_eq!(events.recv().await.unwrap(), "stop after 1: stopped");
}

#[playhouse::test]
async fn a_failed_start_ends_the_actor_and_its_queued_asks_resolve() {
    let (mut args, mut events) = probe();
    args.fail_start = true;
    let actor = Probe::spawn(args);
    let ask = actor.ask(Quick).await;
    assert!(
        matches!(ask, Err(AskError::Dropped) | Err(AskError::Stopped(_))),
        "{ask:?}"
    );
    assert_eq!(
        actor.wait().await,
        ExitReason::StartFailed("no database".into())
    );
    assert_eq!(
        actor.wait().await.to_string(),
        "failed to start: no database"
    );
    // on_stop does not run for an actor that never started.
    drop(actor);
    assert!(events.recv().await.is_none());
}

#[playhouse::test]
async fn stop_handles_what_is_already_queued_then_refuses_new_messages() {
    let (args, mut events) = probe();
    let actor = Probe::spawn(args);
    let gate = Arc::new(Notify::new());
    actor.tell(Work(Arc::clone(&gate))).await.unwrap();
    assert!(events.recv().await.unwrap().starts_with("start"));
    assert_eq!(events.recv().await.unwrap(), "working");
    let queued: Vec<_> = (0..3)
        .map(|_| {
            let actor = actor.clone();
            tokio::spawn(async move { actor.ask(Quick).await })
        })
        .collect();
    // Let the asks reach the mailbox before stopping.
    while actor.mailbox_len() < 3 {
        tokio::task::yield_now().await;
    }
    actor.stop();
    assert!(matches!(actor.tell(Quick).await, Err(SendError(Quick))));
    gate.notify_one();
    let mut replies = Vec::new();
    for ask in queued {
        replies.push(ask.await.unwrap().unwrap());
    }
    replies.sort();
    assert_eq!(replies, vec![2, 3, 4]);
    assert_eq!(actor.wait().await, ExitReason::Normal);
    assert_eq!(events.recv().await.unwrap(), "stop after 4: stopped");
}

#[playhouse::test]
async fn kill_cancels_the_current_handler_and_drops_the_queue_as_dead_letters() {
    let (args, mut events) = probe();
    let actor = Probe::spawn(args);
    let system = System::current();
    let before = system.dead_letters();
    let stuck = {
        let actor = actor.clone();
        tokio::spawn(async move { actor.ask(Work(Arc::new(Notify::new()))).await })
    };
    assert!(events.recv().await.unwrap().starts_with("start"));
    assert_eq!(events.recv().await.unwrap(), "working");
    let queued = {
        let actor = actor.clone();
        tokio::spawn(async move { actor.ask(Quick).await })
    };
    while actor.mailbox_len() < 1 {
        tokio::task::yield_now().await;
    }
    actor.kill();
    assert_eq!(actor.wait().await, ExitReason::Killed);
    assert!(matches!(stuck.await.unwrap(), Err(AskError::Dropped)));
    assert!(matches!(queued.await.unwrap(), Err(AskError::Dropped)));
    // Both the message whose handler was cut short and the queued one are dead letters.
    assert_eq!(system.dead_letters(), before + 2);
    // Killed: on_stop did not run.
    drop(actor);
    assert!(events.recv().await.is_none());
}

#[playhouse::test]
async fn many_waiters_all_see_the_same_reason_even_after_the_end() {
    let (args, _events) = probe();
    let actor = Probe::spawn(args);
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let actor = actor.clone();
            tokio::spawn(async move { actor.wait().await })
        })
        .collect();
    actor.stop();
    for waiter in waiters {
        assert_eq!(waiter.await.unwrap(), ExitReason::Normal);
    }
    assert_eq!(actor.wait().await, ExitReason::Normal);
}

/// Spawns a child on request and keeps a message for itself.
#[derive(Actor, Default)]
struct Parent {
    notes: Vec<&'static str>,
}

struct SpawnChild;
impl Message for SpawnChild {
    type Reply = ActorRef<Parent>;
}
impl Handler<SpawnChild> for Parent {
    async fn handle(&mut self, _: SpawnChild, ctx: &mut Context<Self>) -> ActorRef<Parent> {
        ctx.spawn::<Parent>(Parent::default())
    }
}

struct Note(&'static str);
impl Message for Note {
    type Reply = ();
}
impl Handler<Note> for Parent {
    async fn handle(&mut self, Note(text): Note, ctx: &mut Context<Self>) {
        self.notes.push(text);
        if text == "first" {
            // A message to itself goes to the back of its own mailbox.
            ctx.actor_ref().try_tell(Note("to myself")).unwrap();
        }
        if text == "last" {
            ctx.stop();
        }
    }
}

struct Notes;
impl Message for Notes {
    type Reply = Vec<&'static str>;
}
impl Handler<Notes> for Parent {
    async fn handle(&mut self, _: Notes, _ctx: &mut Context<Self>) -> Vec<&'static str> {
        self.notes.clone()
    }
}

#[playhouse::test]
async fn a_handler_can_reach_itself_spawn_children_and_stop_itself() {
    let parent = Parent::spawn(Parent::default());
    let child = parent.ask(SpawnChild).await.unwrap();
    assert_ne!(child.id(), parent.id());
    child.tell(Note("hello child")).await.unwrap();
    assert_eq!(child.ask(Notes).await.unwrap(), vec!["hello child"]);

    // The ask returns once "first" is handled, so the note to itself is queued before `Notes`.
    parent.ask(Note("first")).await.unwrap();
    assert_eq!(parent.ask(Notes).await.unwrap(), vec!["first", "to myself"]);
    let bystander = Parent::spawn(Parent::default());
    parent.tell(Note("last")).await.unwrap();
    assert_eq!(parent.wait().await, ExitReason::Normal);
    // The child stopped before its parent ended; an unrelated actor runs on.
    assert_eq!(child.exit_reason(), Some(ExitReason::Shutdown));
    assert!(bystander.is_alive());
}
