//! Ctrl-C (SIGINT) ends `block_on_or_ctrl_c`, which `#[playhouse::main]` uses to shut a
//! program down gracefully. Its own test binary: the signal handler stays installed.

use playhouse::prelude::*;
use playhouse::Builder;

#[derive(Actor)]
struct Idle;

#[test]
fn ctrl_c_interrupts_the_program_and_shutdown_still_runs() {
    let runtime = Builder::new_current_thread().build().unwrap();
    let interrupted = runtime.block_on_or_ctrl_c(async {
        let idle = Idle::spawn(Idle);
        // The signal handler is installed by the time the body first waits.
        tokio::task::yield_now().await;
        let pid = std::process::id().to_string();
        let status = std::process::Command::new("sh")
            .args(["-c", &format!("kill -INT {pid}")])
            .status()
            .expect("sh runs");
        assert!(status.success());
        std::future::pending::<()>().await;
        idle
    });
    assert!(interrupted.is_none());
    let report = runtime.shutdown();
    assert_eq!(report.stopped.len(), 1, "{report}");
}

#[test]
fn without_ctrl_c_the_future_runs_to_its_end() {
    let runtime = Builder::new_current_thread().build().unwrap();
    assert_eq!(runtime.block_on_or_ctrl_c(async { 42 }), Some(42));
    runtime.shutdown();
}
