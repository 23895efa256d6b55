use playhouse::prelude::*;

#[derive(Actor)]
struct Counter;

#[messages]
impl Counter {
    #[message(rename = Ping)]
    fn ping(&self) {}

    #[message]
    fn pong(&self) {}
}

fn main() {
    let _ = Pong;
}
