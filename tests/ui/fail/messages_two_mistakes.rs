use playhouse::prelude::*;

#[derive(Actor)]
struct Counter {
    count: u64,
}

#[messages]
impl Counter {
    #[message]
    fn set(&mut self, name: &str, count: u64) {
        let _ = name;
        self.count = count;
    }

    #[message]
    fn get(&self) -> u64 {
        self.count
    }

    #[message]
    fn reset(self) {}
}

#[playhouse::main]
async fn main() {
    // `Get` is valid: using it causes no further error.
    let counter = Counter::spawn(Counter { count: 0 });
    assert_eq!(counter.ask(Get).await.unwrap(), 0);
}
