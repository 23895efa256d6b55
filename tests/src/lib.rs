//! Behaviour tests of Playhouse live in `tests/`; this library holds what several of them
//! share.

use std::time::{Duration, Instant};

/// Keeps the calling thread busy, without ever yielding to its async runtime, until `done`
/// returns `true` or `limit` has passed; returns whether `done` came true.
///
/// For tests that show something happening on another worker while a task holds its own:
/// the limit is generous, so that a loaded machine is slow to run the other worker rather
/// than a reason to fail.
pub fn hold_worker_until(limit: Duration, done: impl Fn() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if done() {
            return true;
        }
        std::hint::spin_loop();
    }
    done()
}
