use playhouse::prelude::*;

#[derive(Actor)]
struct Device;

#[messages]
impl Device {
    #[message]
    unsafe fn poke(&mut self, address: usize) {
        let _ = address;
    }
}

fn main() {}
