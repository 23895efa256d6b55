use playhouse::prelude::*;

#[derive(Actor)]
struct Counter;

#[messages]
impl Counter {
    #[message(name = Ping, name = Pong)]
    fn ping(&self) {}

    #[message]
    #[message]
    fn pong(&self) {}
}

fn main() {}
