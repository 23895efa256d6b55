#[playhouse::main]
async fn main(name: String) {
    println!("hello {name}");
}
