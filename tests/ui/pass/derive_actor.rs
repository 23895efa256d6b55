//! `#[derive(Actor)]` on structs and enums, generic or not.

use playhouse::prelude::*;

#[derive(Actor)]
struct Unit;

#[derive(Actor)]
enum Light {
    On,
    Off,
}

#[derive(Actor)]
struct Holder<T>
where
    T: Clone + Send + 'static,
{
    value: T,
}

#[messages]
impl Light {
    #[message]
    fn toggle(&mut self) -> bool {
        *self = match self {
            Light::On => Light::Off,
            Light::Off => Light::On,
        };
        matches!(self, Light::On)
    }
}

fn assert_actor<A: Actor<Args = A, Error = std::convert::Infallible>>() {}

#[playhouse::main]
async fn main() {
    assert_actor::<Unit>();
    assert_actor::<Holder<String>>();
    let light = Light::spawn(Light::Off);
    assert!(light.ask(Toggle).await.unwrap());
    let holder = Holder::spawn(Holder { value: 1_u8 });
    holder.stop();
    assert_eq!(holder.wait().await, ExitReason::Normal);
    let _ = Holder { value: 2_u8 }.value;
}
