use playhouse::prelude::*;

#[derive(Actor)]
struct Counter {
    count: u64,
}

#[messages]
impl Counter {
    #[message]
    fn get(&self) -> u64 {
        self.count
    }

    #[message(name = Get)]
    fn get_twice(&self) -> u64 {
        self.count * 2
    }
}

fn main() {
    let _ = Get;
}
