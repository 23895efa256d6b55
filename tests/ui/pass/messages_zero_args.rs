//! A method without arguments gives a unit struct; no return type means a `()` reply.

use playhouse::prelude::*;

#[derive(Actor)]
struct Bell {
    rung: u32,
}

#[messages]
impl Bell {
    #[message]
    fn ring(&mut self) {
        self.rung += 1;
    }

    #[message]
    fn times(&self) -> u32 {
        self.rung
    }
}

#[playhouse::main]
async fn main() {
    let bell = Bell::spawn(Bell { rung: 0 });
    let (): () = bell.ask(Ring).await.unwrap();
    bell.tell(Ring).await.unwrap();
    assert_eq!(bell.ask(Times).await.unwrap(), 2);
}
