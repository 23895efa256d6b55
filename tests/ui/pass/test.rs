//! `#[test]` accepts its options. (The tests crate runs such tests for real.)

fn main() {}

#[playhouse::test]
async fn current_thread() {}

#[playhouse::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread() {}

#[playhouse::test(flavor = "current_thread", start_paused = true)]
async fn paused() -> Result<(), String> {
    Ok(())
}

#[playhouse::test(worker_threads = 1, crate = "::playhouse")]
#[should_panic = "boom"]
async fn panics() {
    panic!("boom");
}
