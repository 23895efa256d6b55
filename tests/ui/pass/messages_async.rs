//! `async` methods, with `&self` and `&mut self`.

use playhouse::prelude::*;

#[derive(Actor)]
struct Store {
    items: Vec<String>,
}

#[messages]
impl Store {
    #[message]
    async fn push(&mut self, item: String) -> usize {
        std::future::ready(()).await;
        self.items.push(item);
        self.items.len()
    }

    #[message]
    async fn first(&self) -> Option<String> {
        self.items.first().cloned()
    }
}

#[playhouse::main]
async fn main() {
    let store = Store::spawn(Store { items: Vec::new() });
    assert_eq!(
        store
            .ask(Push {
                item: "a".to_owned()
            })
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.ask(First).await.unwrap().as_deref(), Some("a"));
}
