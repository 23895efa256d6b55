use playhouse::prelude::*;

#[derive(Actor)]
struct Counter {
    count: u64,
}

#[messages]
impl Counter {
    #[message]
    fn create(count: u64) -> Counter {
        Counter { count }
    }

    #[message]
    fn get(&self) -> u64 {
        self.count
    }
}

fn main() {
    let _ = Get;
}
