//! The smallest Playhouse program: one actor, one message, one reply.
//!
//! Run it with `cargo run --example hello`.

use playhouse::prelude::*;

/// Greets whoever asks.
#[derive(Actor)]
struct Greeter {
    greeting: String,
}

#[messages]
impl Greeter {
    /// Replies with a greeting for `name`.
    #[message]
    fn greet(&self, name: String) -> String {
        format!("{}, {name}!", self.greeting)
    }
}

#[playhouse::main]
async fn main() {
    let greeter = Greeter::spawn(Greeter {
        greeting: "Hello".to_owned(),
    });
    let reply = greeter
        .ask(Greet {
            name: "world".to_owned(),
        })
        .await
        .expect("greeter replies");
    println!("{reply}");
}
