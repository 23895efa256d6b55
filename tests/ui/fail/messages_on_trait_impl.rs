use playhouse::prelude::*;

#[derive(Actor)]
struct Counter {
    count: u64,
}

trait Count {
    fn count(&self) -> u64;
}

#[messages]
impl Count for Counter {
    #[message]
    fn count(&self) -> u64 {
        self.count
    }
}

fn main() {
    let _ = Counter { count: 0 }.count();
}
