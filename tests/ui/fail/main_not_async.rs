#[playhouse::main]
fn main() {
    println!("hello");
}
