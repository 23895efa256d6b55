use playhouse::prelude::*;

#[derive(Actor)]
struct Counter {
    count: u64,
}

#[messages]
impl Counter {
    #[message]
    fn into_count(self) -> u64 {
        self.count
    }

    #[message]
    fn boxed(self: Box<Self>) -> u64 {
        self.count
    }
}

fn main() {}
