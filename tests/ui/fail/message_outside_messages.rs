use playhouse::prelude::*;

#[derive(Actor)]
struct Counter {
    count: u64,
}

impl Counter {
    #[message]
    fn get(&self) -> u64 {
        self.count
    }
}

fn main() {
    let _ = Counter { count: 0 }.get();
}
