use playhouse::prelude::*;

#[derive(Actor)]
struct Holder<T: Send + 'static> {
    value: T,
}

#[messages]
impl<T: Clone + Send + 'static> Holder<T> {
    #[message]
    fn set(&mut self, value: T) {
        self.value = value;
    }

    #[message]
    fn get(&self) -> Option<T> {
        Some(self.value.clone())
    }

    #[message]
    fn snapshot(&self) -> Self {
        Holder {
            value: self.value.clone(),
        }
    }
}

fn main() {}
