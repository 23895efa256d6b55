//! `#[message(name = .., derive(..))]` and `#[messages(crate = "..")]`.

use ph::Actor;
use playhouse as ph;

#[derive(ph::Actor)]
#[actor(crate = "ph")]
struct Counter {
    count: u64,
}

#[ph::messages(crate = "ph")]
impl Counter {
    #[ph::message(name = Increment, derive(Debug, Clone, PartialEq))]
    fn inc(&mut self, by: u64) -> u64 {
        self.count += by;
        self.count
    }

    #[message(derive(Default))]
    fn reset(&mut self) {
        self.count = 0;
    }
}

#[ph::main(crate = "ph")]
async fn main() {
    let message = Increment { by: 1 };
    assert_eq!(message.clone(), Increment { by: 1 });
    assert_eq!(format!("{message:?}"), "Increment { by: 1 }");

    let counter = Counter::spawn(Counter { count: 0 });
    assert_eq!(counter.ask(message).await.unwrap(), 1);
    counter.tell(Reset::default()).await.unwrap();
    assert_eq!(counter.ask(Increment { by: 5 }).await.unwrap(), 5);
}
