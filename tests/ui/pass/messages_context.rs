//! A parameter that takes the context receives the handler's; it is not a message field.

use playhouse::prelude::*;

#[derive(Actor)]
struct Worker;

#[messages]
impl Worker {
    #[message]
    fn quit(&mut self, ctx: &mut Context<Self>) {
        ctx.stop();
    }

    #[message]
    async fn whoami(&self, ctx: &Context<Self>) -> playhouse::ActorId {
        ctx.id()
    }

    #[message]
    fn tag(&self, prefix: String, ctx: &mut playhouse::Context<Worker>, suffix: String) -> String {
        format!("{prefix}{}{suffix}", ctx.id())
    }

    #[message]
    fn ignores_it(&self, _: &mut Context<Self>) {}
}

#[playhouse::main]
async fn main() {
    let worker = Worker::spawn(Worker);
    assert_eq!(worker.ask(Whoami).await.unwrap(), worker.id());
    let tag = worker
        .ask(Tag {
            prefix: "<".into(),
            suffix: ">".into(),
        })
        .await
        .unwrap();
    assert_eq!(tag, format!("<{}>", worker.id()));
    worker.tell(IgnoresIt).await.unwrap();
    worker.tell(Quit).await.unwrap();
    assert_eq!(worker.wait().await, ExitReason::Normal);
}
