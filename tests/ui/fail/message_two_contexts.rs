use playhouse::prelude::*;

#[derive(Actor)]
struct Worker;

#[messages]
impl Worker {
    #[message]
    fn quit(&mut self, ctx: &mut Context<Self>, again: &Context<Self>) {
        ctx.stop();
        again.stop();
    }
}

fn main() {}
