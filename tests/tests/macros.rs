//! The code that `#[messages]`, `#[derive(Actor)]` and `#[playhouse::test]` generate, run for
//! real against a live actor.

use std::time::Duration;

use playhouse::prelude::*;

/// A counter that exercises every kind of message method.
#[derive(Actor)]
struct Counter {
    count: u64,
}

#[messages]
impl Counter {
    /// Sync, `&mut self`, one argument.
    #[message]
    fn inc(&mut self, by: u64) -> u64 {
        self.count += by;
        self.count
    }

    /// Sync, `&mut self`, no reply.
    #[message]
    fn set(&mut self, count: u64) {
        self.count = count;
    }

    /// Async, `&self`.
    #[message]
    async fn get_count(&self) -> u64 {
        tokio::task::yield_now().await;
        self.count
    }

    /// A `Result` reply.
    #[message]
    fn checked_dec(&mut self, by: u64) -> Result<u64, String> {
        let count = self
            .count
            .checked_sub(by)
            .ok_or_else(|| format!("cannot take {by} from {}", self.count))?;
        self.count = count;
        Ok(count)
    }

    /// Takes the context and stops the actor.
    #[message]
    fn stop_now(&mut self, ctx: &mut Context<Self>) {
        ctx.stop();
    }

    /// Takes the context among other arguments, by shared reference.
    #[message(name = Describe)]
    async fn describe_with(&self, prefix: String, ctx: &Context<Self>) -> String {
        format!("{prefix} {} at {}", ctx.id(), self.count)
    }
}

#[playhouse::test]
async fn sync_method_replies_to_ask() {
    let counter = Counter::spawn(Counter { count: 0 });
    assert_eq!(counter.ask(Inc { by: 2 }).await.unwrap(), 2);
    assert_eq!(counter.ask(Inc { by: 3 }).await.unwrap(), 5);
}

#[playhouse::test]
async fn tell_runs_the_method_and_drops_the_reply() {
    let counter = Counter::spawn(Counter { count: 0 });
    counter.tell(Set { count: 40 }).await.unwrap();
    counter.tell(Inc { by: 2 }).await.unwrap();
    assert_eq!(counter.ask(GetCount).await.unwrap(), 42);
}

#[playhouse::test]
async fn result_reply_is_returned_as_is() {
    let counter = Counter::spawn(Counter { count: 5 });
    assert_eq!(counter.ask(CheckedDec { by: 2 }).await.unwrap(), Ok(3));
    assert_eq!(
        counter.ask(CheckedDec { by: 4 }).await.unwrap(),
        Err("cannot take 4 from 3".to_owned())
    );
    assert_eq!(counter.ask(GetCount).await.unwrap(), 3);
}

#[playhouse::test]
async fn context_parameter_receives_the_handlers_context() {
    let counter = Counter::spawn(Counter { count: 7 });
    let description = counter
        .ask(Describe {
            prefix: "counter".to_owned(),
        })
        .await
        .unwrap();
    assert_eq!(description, format!("counter {} at 7", counter.id()));
}

#[playhouse::test]
async fn method_calling_ctx_stop_ends_the_actor_normally() {
    let counter = Counter::spawn(Counter { count: 0 });
    counter.tell(StopNow).await.unwrap();
    assert_eq!(counter.wait().await, ExitReason::Normal);
    assert!(counter.ask(GetCount).await.is_err());
}

#[playhouse::test(start_paused = true)]
async fn test_macro_can_start_with_paused_time() {
    let start = tokio::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert!(start.elapsed() >= Duration::from_secs(3600));
}

#[playhouse::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_macro_can_use_the_multi_thread_flavor() {
    let counter = Counter::spawn(Counter { count: 1 });
    assert_eq!(counter.ask(Inc { by: 1 }).await.unwrap(), 2);
}

#[playhouse::test]
async fn test_macro_returns_the_body_result() -> Result<(), String> {
    let counter = Counter::spawn(Counter { count: 1 });
    counter
        .ask(CheckedDec { by: 1 })
        .await
        .map_err(|error| error.to_string())??;
    Ok(())
}

#[playhouse::test]
#[should_panic = "expected panic"]
async fn test_macro_keeps_should_panic() {
    panic!("expected panic");
}
