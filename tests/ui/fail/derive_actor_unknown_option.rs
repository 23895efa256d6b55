use playhouse::Actor;

#[derive(Actor)]
#[actor(crate = "::playhouse", mailbox = 10)]
struct Counter;

#[playhouse::main]
async fn main() {
    // The impl is still generated: no cascade of missing `Actor` impls.
    let counter = Counter::spawn(Counter);
    counter.stop();
}
