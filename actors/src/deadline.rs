//! The deadline of an ask: coarse and cheap for the usual long timeouts, exact for short ones.

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::Poll;
use std::time::Duration;

use playhouse_runtime::{CoarseClock, CoarseTimeout};

use crate::error::AskError;
use crate::message::Message;
use crate::reply::{NoReply, Reply, WatchedReply};

/// Timeouts at least this long are watched by the system's coarse deadline table (fired
/// at most [`COARSE_RESOLUTION`](playhouse_runtime::COARSE_RESOLUTION) late, 1% of this),
/// shorter ones by an exact tokio timer.
pub(crate) const COARSE_FROM: Duration = Duration::from_secs(1);

/// When an operation must have finished, and how that is watched.
///
/// Nothing is set up until something has to wait. A long timeout then becomes an entry in
/// the system's coarse table without reading the clock (the table's watcher fixes its
/// instant); a short one reads the clock and arms an exact tokio timer. Either is kept for
/// the next wait, so a wait for room and the wait for the reply share one timeout.
pub(crate) struct Deadline<'a> {
    timeout: Duration,
    /// The clock whose coarse table watches this deadline; `None` for an exact timer.
    coarse: Option<&'a CoarseClock>,
    timer: Option<Timer<'a>>,
}

impl<'a> Deadline<'a> {
    pub(crate) fn after(clock: &'a CoarseClock, timeout: Duration) -> Self {
        Self {
            timeout,
            coarse: (timeout >= COARSE_FROM).then_some(clock),
            timer: None,
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
    ///
    /// A coarse deadline not yet set up is watched through the reply's own slot (see
    /// [`WatchedReply`]), which saves the deadline table a waker of its own; one already
    /// running (the ask waited for room) goes on as it was.
    pub(crate) async fn reply<M: Message>(
        &mut self,
        reply: Reply<M::Reply>,
    ) -> Result<M::Reply, AskError<M>> {
        let outcome = match (self.coarse, &self.timer) {
            (Some(clock), None) => WatchedReply::new(reply, clock, self.timeout).await,
            _ => self.run(reply).await.unwrap_or(Err(NoReply::TimedOut)),
        };
        match outcome {
            Ok(value) => Ok(value),
            Err(NoReply::Panicked(message)) => Err(AskError::Panicked(message)),
            Err(NoReply::Dropped) => Err(AskError::Dropped),
            Err(NoReply::TimedOut) => Err(AskError::Timeout),
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
