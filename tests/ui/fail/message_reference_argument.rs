use playhouse::prelude::*;

#[derive(Actor)]
struct Printer;

#[messages]
impl Printer {
    #[message]
    fn print(&self, line: &str) {
        println!("{line}");
    }

    #[message]
    fn clear(&mut self, lines: &mut Vec<String>) {
        lines.clear();
    }
}

fn main() {}
