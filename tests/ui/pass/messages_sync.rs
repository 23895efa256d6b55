//! Sync `&mut self` and `&self` methods with any number of arguments.

use playhouse::prelude::*;

/// Keeps a running total.
#[derive(Actor)]
pub struct Counter {
    count: u64,
}

#[messages]
impl Counter {
    /// Adds `by` and replies with the new total.
    #[message]
    pub fn inc(&mut self, by: u64) -> u64 {
        self.count += by;
        self.count
    }

    /// Adds `times` times `by`.
    #[message]
    pub fn add_many(&mut self, by: u64, times: u64, mut label: String) {
        label.push('!');
        self.count += by * times;
    }

    #[message]
    fn get_count(&self) -> u64 {
        self.count
    }

    /// Configured out, with its message.
    #[cfg(any())]
    #[message]
    fn never(&self) -> Missing {
        unreachable!()
    }

    /// Not a message: left alone.
    pub fn plain(&self) -> u64 {
        self.count
    }
}

#[playhouse::main]
async fn main() {
    let counter = Counter::spawn(Counter { count: 0 });
    assert_eq!(counter.ask(Inc { by: 2 }).await.unwrap(), 2);
    counter
        .tell(AddMany {
            by: 3,
            times: 2,
            label: String::from("x"),
        })
        .await
        .unwrap();
    assert_eq!(counter.ask(GetCount).await.unwrap(), 8);
    assert_eq!(Counter { count: 1 }.plain(), 1);
}
