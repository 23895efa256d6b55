fn main() {}

#[playhouse::test(flavor = "single_thread")]
async fn adds() {}

#[playhouse::test(paused = true)]
async fn paused() {}
