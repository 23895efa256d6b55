//! The deadline of an ask: coarse and cheap for the usual long timeouts, exact for short ones.

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::Poll;
use std::time::Duration;

use playhouse_runtime::CoarseClock;
use tokio::time::Instant;

/// Timeouts at least this long are watched by the system's coarse deadline table (fired
/// at most [`COARSE_RESOLUTION`](playhouse_runtime::COARSE_RESOLUTION) late, 1% of this),
/// shorter ones by an exact tokio timer.
pub(crate) const COARSE_FROM: Duration = Duration::from_secs(1);

/// When an operation must have finished, and how that is watched.
pub(crate) struct Deadline<'a> {
    at: Instant,
    /// The clock whose coarse table watches this deadline; `None` for an exact timer.
    coarse: Option<&'a CoarseClock>,
}

impl<'a> Deadline<'a> {
    pub(crate) fn after(clock: &'a CoarseClock, timeout: Duration) -> Self {
        Self {
            at: playhouse_runtime::deadline_after(timeout),
            coarse: (timeout >= COARSE_FROM).then_some(clock),
        }
    }

    /// Runs `future` until it finishes (`Ok`) or the deadline passes (`Err`). The future
    /// is polled first, so one that is ready never looks at a clock or a timer.
    pub(crate) async fn run<F: Future>(&self, future: F) -> Result<F::Output, Elapsed> {
        let mut future = pin!(future);
        match self.coarse {
            Some(clock) => {
                let mut timer = None;
                std::future::poll_fn(|cx| {
                    if let Poll::Ready(output) = future.as_mut().poll(cx) {
                        return Poll::Ready(Ok(output));
                    }
                    // Registered only once the future has to wait.
                    let timer = timer.get_or_insert_with(|| clock.deadline(self.at));
                    Pin::new(timer).poll(cx).map(|()| Err(Elapsed))
                })
                .await
            }
            None => tokio::time::timeout_at(self.at, future)
                .await
                .map_err(|_| Elapsed),
        }
    }
}

/// The deadline passed first.
#[derive(Debug)]
pub(crate) struct Elapsed;
