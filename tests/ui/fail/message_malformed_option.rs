use playhouse::prelude::*;

#[derive(Actor)]
struct Counter;

#[messages]
impl Counter {
    #[message(name = "Ping")]
    fn ping(&self) {}

    #[message(derive = Debug)]
    fn pong(&self) {}

    #[message = "Reset"]
    fn reset(&self) {}
}

fn main() {}
