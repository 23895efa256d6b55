use playhouse::prelude::*;

#[derive(Actor)]
struct Printer;

#[messages]
impl Printer {
    #[message]
    fn print(&self, value: impl std::fmt::Display) {
        println!("{value}");
    }

    #[message]
    fn print_all(&self, values: Vec<impl std::fmt::Display>) {
        let _ = values;
    }

    #[message]
    fn describe(&self) -> impl std::fmt::Display {
        "printer"
    }
}

fn main() {}
