fn main() {}

#[playhouse::test(flavor = "multi_thread", start_paused = true)]
async fn paused() {}

#[playhouse::test(worker_threads = 2, start_paused = true)]
async fn paused_with_workers() {}
