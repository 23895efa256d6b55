fn main() {}

#[playhouse::test(flavor = "current_thread", worker_threads = 2)]
async fn adds() {}
