use playhouse::prelude::*;

#[derive(Actor)]
struct Counter;

#[messages(crate = "not a path")]
impl Counter {
    #[message]
    fn ping(&self) {}
}

fn main() {
    let _ = Ping;
}
