use playhouse::prelude::*;

#[derive(Actor)]
struct Counter;

#[messages]
impl Counter {
    #[message]
    const LIMIT: u64 = 10;

    #[message]
    fn limit(&self) -> u64 {
        Self::LIMIT
    }
}

fn main() {
    let _ = Limit;
}
