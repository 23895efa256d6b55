fn main() {}

#[playhouse::test(worker_threads = 2, worker_threads = 4)]
async fn adds() {}
