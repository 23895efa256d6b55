use playhouse::prelude::*;

#[derive(Actor)]
struct Store;

#[messages]
impl Store {
    #[message]
    fn put<T: Send + 'static>(&mut self, value: T) {
        let _ = value;
    }

    #[message]
    fn fill<const N: usize>(&mut self, values: [u8; N]) {
        let _ = values;
    }

    #[message]
    fn longest<'a>(&'a self, line: String) -> usize {
        line.len()
    }
}

fn main() {}
