use playhouse::prelude::*;

#[derive(Actor)]
struct Canvas;

#[messages]
impl Canvas {
    #[message]
    fn draw(&mut self, (x, y): (u32, u32)) -> u32 {
        x + y
    }

    #[message]
    fn skip(&mut self, _: u32) {}
}

fn main() {}
