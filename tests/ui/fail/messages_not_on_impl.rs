#[playhouse::messages]
struct Counter {
    count: u64,
}

fn main() {
    let _ = Counter { count: 0 }.count;
}
