//! The deadline of an ask: coarse and cheap for the usual long timeouts, exact for short ones.

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::Poll;
use std::time::Duration;

use playhouse_runtime::{CoarseClock, CoarseTimeout};
use tokio::sync::oneshot;

use crate::envelope::NoReply;
use crate::error::AskError;
use crate::message::Message;

/// Timeouts at least this long are watched by the system's coarse deadline table (fired
/// at most [`COARSE_RESOLUTION`](playhouse_runtime::COARSE_RESOLUTION) late, 1% of this),
/// shorter ones by an exact tokio timer.
pub(crate) const COARSE_FROM: Duration = Duration::from_secs(1);

/// When an operation must have finished, and how that is watched.
///
/// Nothing is set up until something has to wait. A long timeout first lets its task go
/// round its worker once (tokio wakes it again before the worker would sleep): most
/// replies come within that round, from an actor that runs next on the same worker, and
/// need no timer at all. Still waiting after it, the timeout becomes an entry in the
/// system's coarse table without reading the clock (the table's watcher fixes its
/// instant). A short timeout reads the clock and arms an exact tokio timer at once. Either
/// timer is kept for the next wait, so a wait for room and the wait for the reply share
/// one timeout, which counts from when its timer is set up: never early, and late by at
/// most the round.
pub(crate) struct Deadline<'a> {
    timeout: Duration,
    /// The clock whose coarse table watches this deadline; `None` for an exact timer.
    coarse: Option<&'a CoarseClock>,
    timer: Option<Timer<'a>>,
    /// Whether a long wait has let its task go round once before setting up its timer.
    went_round: bool,
}

impl<'a> Deadline<'a> {
    pub(crate) fn after(clock: &'a CoarseClock, timeout: Duration) -> Self {
        Self {
            timeout,
            coarse: (timeout >= COARSE_FROM).then_some(clock),
            timer: None,
            went_round: false,
        }
    }

    /// Runs `future` until it finishes (`Ok`) or the deadline passes (`Err`). The future
    /// is polled first, so one that is ready never looks at a clock or a timer.
    pub(crate) async fn run<F: Future>(&mut self, future: F) -> Result<F::Output, Elapsed> {
        let mut future = pin!(future);
        std::future::poll_fn(|cx| {
            if let Poll::Ready(output) = future.as_mut().poll(cx) {
                return Poll::Ready(Ok(output));
            }
            let (timeout, coarse) = (self.timeout, self.coarse);
            if coarse.is_some() && self.timer.is_none() && !self.went_round {
                // A reply usually comes within the worker's current round (the actor runs
                // next, on the same worker): go round once first, woken by tokio before the
                // worker would sleep, and set the timer up only if still waiting then. The
                // timeout counts from then, so it is never early.
                self.went_round = true;
                let _deferred = pin!(tokio::task::yield_now()).poll(cx);
                return Poll::Pending;
            }
            // Set up only once something has to wait.
            let timer = self.timer.get_or_insert_with(|| match coarse {
                Some(clock) => Timer::Coarse(clock.timeout(timeout)),
                None => Timer::Exact(Box::pin(tokio::time::sleep_until(
                    playhouse_runtime::deadline_after(timeout),
                ))),
            });
            let fired = match timer {
                Timer::Coarse(deadline) => Pin::new(deadline).poll(cx),
                Timer::Exact(sleep) => sleep.as_mut().poll(cx),
            };
            fired.map(|()| Err(Elapsed))
        })
        .await
    }
}

impl Deadline<'_> {
    /// Waits for an ask's reply until the deadline, and says what became of it.
    pub(crate) async fn reply<M: Message>(
        &mut self,
        reply: oneshot::Receiver<Result<M::Reply, NoReply>>,
    ) -> Result<M::Reply, AskError<M>> {
        match self.run(reply).await {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(NoReply::Panicked(message)))) => Err(AskError::Panicked(message)),
            Ok(Ok(Err(NoReply::Dropped)) | Err(_)) => Err(AskError::Dropped),
            Err(Elapsed) => Err(AskError::Timeout),
        }
    }
}

enum Timer<'a> {
    Coarse(CoarseTimeout<'a>),
    /// Boxed: a tokio `Sleep` is large and must stay pinned; short timeouts are the rare case.
    Exact(Pin<Box<tokio::time::Sleep>>),
}

/// The deadline passed first.
#[derive(Debug)]
pub(crate) struct Elapsed;

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::task::Poll;
    use std::time::Duration;

    use super::Deadline;

    fn runtime() -> playhouse_runtime::Runtime {
        playhouse_runtime::Builder::new_current_thread()
            .build()
            .expect("runtime starts")
    }

    #[test]
    fn a_wait_over_within_one_round_sets_up_no_timer() {
        let runtime = runtime();
        let clock = runtime.handle().coarse_clock().clone();
        runtime.block_on(async {
            let mut deadline = Deadline::after(&clock, Duration::from_secs(5));
            // Ready once its task was polled again: as a reply from an actor that runs in
            // between, on the same worker.
            let mut polled = false;
            let reply = poll_fn(|cx| {
                if polled {
                    return Poll::Ready(7);
                }
                polled = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            });
            assert_eq!(deadline.run(reply).await.ok(), Some(7));
            assert!(
                deadline.timer.is_none(),
                "no timer for a wait within the round"
            );
        });
        runtime.shutdown();
    }

    #[test]
    fn a_longer_wait_sets_up_its_timer_and_still_times_out() {
        let runtime = runtime();
        let clock = runtime.handle().coarse_clock().clone();
        runtime.block_on(async {
            let mut deadline = Deadline::after(&clock, Duration::from_secs(1));
            let started = tokio::time::Instant::now();
            let never = std::future::pending::<()>();
            assert!(deadline.run(never).await.is_err(), "the deadline passed");
            assert!(deadline.timer.is_some());
            let waited = started.elapsed();
            assert!(waited >= Duration::from_secs(1), "early: {waited:?}");
            assert!(waited < Duration::from_secs(3), "late: {waited:?}");
        });
        runtime.shutdown();
    }
}
