use playhouse::prelude::*;

#[derive(Actor)]
struct Counter;

#[messages(crate = "::playhouse", mailbox = 10)]
impl Counter {
    #[message]
    fn ping(&self) {}
}

fn main() {
    let _ = Ping;
}
