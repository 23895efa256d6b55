//! The registry: names to references, per system.

use playhouse::prelude::*;
use playhouse::{LookupError, RegisterError};

#[derive(Actor)]
struct Cache;

#[messages]
impl Cache {
    #[message]
    fn ping(&self) -> &'static str {
        "pong"
    }
}

#[derive(Actor)]
struct Logger;

#[playhouse::test]
async fn a_registered_actor_is_found_by_name_and_type() {
    let system = System::current();
    let cache = Cache::spawn(Cache);
    system.register("cache", &cache).unwrap();
    let found = system.lookup::<Cache>("cache").unwrap();
    assert_eq!(found, cache);
    assert_eq!(found.ask(Ping).await.unwrap(), "pong");
    assert_eq!(system.registered_names(), vec!["cache".to_owned()]);
}

#[playhouse::test]
async fn a_taken_name_is_an_error_naming_its_holder() {
    let system = System::current();
    let first = Cache::spawn(Cache);
    let second = Cache::spawn(Cache);
    system.register("cache", &first).unwrap();
    let error = system.register("cache", &second).unwrap_err();
    assert_eq!(
        error,
        RegisterError::Taken {
            name: "cache".into(),
            holder: first.id()
        }
    );
    assert_eq!(
        error.to_string(),
        format!("name `cache` is already registered to actor {}", first.id())
    );
    assert_eq!(system.lookup::<Cache>("cache").unwrap(), first);
}

#[playhouse::test]
async fn a_lookup_of_the_wrong_type_is_an_error_not_a_panic() {
    let system = System::current();
    system.register("cache", &Cache::spawn(Cache)).unwrap();
    match system.lookup::<Logger>("cache") {
        Err(LookupError::WrongType {
            expected, actual, ..
        }) => {
            assert!(expected.ends_with("Logger"), "{expected}");
            assert!(actual.ends_with("Cache"), "{actual}");
        }
        other => panic!("expected WrongType, got {other:?}"),
    }
    assert!(matches!(
        system.lookup::<Cache>("nobody"),
        Err(LookupError::NotFound { .. })
    ));
}

#[playhouse::test]
async fn a_name_is_freed_when_its_actor_stops_and_can_be_reused() {
    let system = System::current();
    let cache = Cache::spawn(Cache);
    system.register("cache", &cache).unwrap();
    cache.stop();
    cache.wait().await;
    assert!(matches!(
        system.lookup::<Cache>("cache"),
        Err(LookupError::NotFound { .. })
    ));
    assert!(system.registered_names().is_empty());
    let successor = Cache::spawn(Cache);
    system.register("cache", &successor).unwrap();
    assert_eq!(system.lookup::<Cache>("cache").unwrap(), successor);
}

#[playhouse::test]
async fn a_stopped_actor_cannot_be_registered() {
    let system = System::current();
    let cache = Cache::spawn(Cache);
    cache.kill();
    cache.wait().await;
    assert_eq!(
        system.register("cache", &cache),
        Err(RegisterError::Stopped {
            name: "cache".into()
        })
    );
}

#[playhouse::test]
async fn an_actor_that_ended_unobserved_cannot_be_registered() {
    let system = System::current();
    let cache = Cache::spawn(Cache);
    cache.stop();
    // Nobody waits on it, so it ends without making its relations.
    while cache.is_alive() {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    assert_eq!(
        system.register("cache", &cache),
        Err(RegisterError::Stopped {
            name: "cache".into()
        })
    );
    assert!(system.lookup::<Cache>("cache").is_err());
}

#[playhouse::test]
async fn unregister_frees_a_name_and_an_actor_may_hold_several() {
    let system = System::current();
    let cache = Cache::spawn(Cache);
    system.register("cache", &cache).unwrap();
    system.register("store", &cache).unwrap();
    assert_eq!(system.unregister("cache"), Some(cache.id()));
    assert_eq!(system.unregister("cache"), None);
    assert_eq!(system.lookup::<Cache>("store").unwrap(), cache);
}

/// Registers itself when it starts.
struct SelfNamed;

impl Actor for SelfNamed {
    type Args = &'static str;
    type Error = RegisterError;

    async fn on_start(name: &'static str, ctx: &mut Context<Self>) -> Result<Self, RegisterError> {
        ctx.register(name)?;
        Ok(SelfNamed)
    }
}

#[playhouse::test]
async fn an_actor_can_register_itself_and_fail_to_start_if_the_name_is_taken() {
    let system = System::current();
    let first = SelfNamed::spawn("unique");
    // A message round trip is not available on SelfNamed; wait until the name appears.
    while system.lookup::<SelfNamed>("unique").is_err() {
        tokio::task::yield_now().await;
    }
    assert_eq!(system.lookup::<SelfNamed>("unique").unwrap(), first);
    let second = SelfNamed::spawn("unique");
    assert!(matches!(second.wait().await, ExitReason::StartFailed(_)));
}

#[test]
fn names_belong_to_one_system() {
    let first = playhouse::Builder::new_current_thread().build().unwrap();
    let second = playhouse::Builder::new_current_thread().build().unwrap();
    first.block_on(async {
        System::current()
            .register("cache", &Cache::spawn(Cache))
            .unwrap();
    });
    second.block_on(async {
        assert!(System::current().lookup::<Cache>("cache").is_err());
    });
    first.shutdown();
    second.shutdown();
}

/// Registers itself in `on_start` and crashes on request; restarted by the system.
#[derive(Clone)]
struct Phoenix;

impl Actor for Phoenix {
    type Args = Phoenix;
    type Error = RegisterError;

    async fn on_start(phoenix: Phoenix, ctx: &mut Context<Self>) -> Result<Self, RegisterError> {
        ctx.register("phoenix")?;
        Ok(phoenix)
    }
}

#[messages]
impl Phoenix {
    #[message]
    fn burn(&self) {
        panic!("burn");
    }

    #[message]
    fn rise(&self) -> bool {
        true
    }
}

#[playhouse::test]
async fn a_restarted_actor_registers_its_own_name_again() {
    let system = System::current();
    let phoenix = system.supervise::<Phoenix>(playhouse::supervision::Restart::Permanent, Phoenix);
    assert!(phoenix.ask(Burn).await.is_err());
    assert!(
        phoenix.ask(Rise).await.unwrap(),
        "restarted, not failed to start"
    );
    assert_eq!(system.lookup::<Phoenix>("phoenix").unwrap(), phoenix);
}
