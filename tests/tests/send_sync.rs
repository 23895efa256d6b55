//! Public types are `Send`/`Sync` where users need them to be: checked at compile time.

use playhouse::prelude::*;

#[derive(Actor)]
struct Plain;

struct Ping;
impl Message for Ping {
    type Reply = ();
}

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}

#[test]
fn public_types_are_send_and_sync() {
    send_sync::<ActorRef<Plain>>();
    send_sync::<WeakActorRef<Plain>>();
    send_sync::<Recipient<Ping>>();
    send_sync::<System>();
    send_sync::<playhouse::Runtime>();
    send_sync::<playhouse::runtime::Handle>();
    send_sync::<ExitReason>();
    send_sync::<playhouse::ActorId>();
    send_sync::<playhouse::ShutdownReport>();
    send_sync::<SendError<Ping>>();
    send_sync::<TrySendError<Ping>>();
    send_sync::<AskError<Ping>>();
    send_sync::<Mailbox>();
    send_sync::<playhouse::Strand>();
    send::<Context<Plain>>();
    send::<playhouse::ActorBuilder<Plain>>();
}

#[test]
fn errors_are_std_errors() {
    fn error<E: std::error::Error + Send + Sync + 'static>() {}
    error::<SendError<Ping>>();
    error::<TrySendError<Ping>>();
    error::<AskError<Ping>>();
    error::<playhouse::BuildError>();
}
