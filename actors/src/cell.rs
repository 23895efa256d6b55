//! The part of an actor every reference shares: identity, the control lane, the exit reason.
//!
//! Control signals (stop, kill, shutdown) are bits in one atomic word plus a wake-up for the
//! actor's loop, so they never queue behind a full mailbox.

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use tokio::sync::Notify;

use crate::exit::ExitReason;

/// A process-unique number naming one actor.
///
/// Ids grow in spawn order within a system, so a larger id means a later start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActorId(u64);

impl ActorId {
    pub(crate) fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        ActorId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// Returns the id as a number.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

pub(crate) const STOP: u8 = 1;
pub(crate) const SHUTDOWN: u8 = 2;
pub(crate) const KILL: u8 = 4;

pub(crate) struct ActorCell {
    id: ActorId,
    type_name: &'static str,
    ask_timeout: Duration,
    signals: AtomicU8,
    /// Messages in an unbounded mailbox (a bounded one knows its own length).
    queued: AtomicUsize,
    /// Wakes the actor's loop when a signal arrives; one permit is kept if it is busy.
    wake: Notify,
    exit: OnceLock<ExitReason>,
    exited: Notify,
}

impl ActorCell {
    pub(crate) fn new(type_name: &'static str, ask_timeout: Duration) -> Self {
        Self {
            id: ActorId::next(),
            type_name,
            ask_timeout,
            signals: AtomicU8::new(0),
            queued: AtomicUsize::new(0),
            wake: Notify::new(),
            exit: OnceLock::new(),
            exited: Notify::new(),
        }
    }

    pub(crate) fn id(&self) -> ActorId {
        self.id
    }

    pub(crate) fn type_name(&self) -> &'static str {
        self.type_name
    }

    pub(crate) fn ask_timeout(&self) -> Duration {
        self.ask_timeout
    }

    pub(crate) fn queued(&self) -> &AtomicUsize {
        &self.queued
    }

    pub(crate) fn dequeued(&self) {
        self.queued.fetch_sub(1, Ordering::Relaxed);
    }

    /// Raises a control signal and wakes the actor's loop.
    pub(crate) fn signal(&self, bits: u8) {
        self.signals.fetch_or(bits, Ordering::AcqRel);
        self.wake.notify_one();
    }

    pub(crate) fn signals(&self) -> u8 {
        self.signals.load(Ordering::Acquire)
    }

    pub(crate) fn killed(&self) -> bool {
        self.signals() & KILL != 0
    }

    /// Waits until a signal may have arrived (spurious wake-ups are possible).
    pub(crate) async fn signalled(&self) {
        self.wake.notified().await;
    }

    /// The same wait as a nameable future, for hand-written futures.
    pub(crate) fn wake_notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.wake.notified()
    }

    pub(crate) fn is_alive(&self) -> bool {
        self.exit.get().is_none()
    }

    pub(crate) fn exit_reason(&self) -> Option<&ExitReason> {
        self.exit.get()
    }

    /// Records the exit reason and wakes every waiter. Only the first call counts.
    pub(crate) fn finish(&self, reason: ExitReason) {
        if self.exit.set(reason).is_ok() {
            self.exited.notify_waiters();
        }
    }

    /// Waits for the actor to end and returns why.
    pub(crate) async fn wait(&self) -> ExitReason {
        loop {
            let notified = self.exited.notified();
            tokio::pin!(notified);
            // Register before checking, so a `finish` in between is not missed.
            notified.as_mut().enable();
            if let Some(reason) = self.exit.get() {
                return reason.clone();
            }
            notified.await;
        }
    }
}

impl fmt::Display for ActorCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", short_type_name(self.type_name), self.id)
    }
}

/// `my_crate::module::Counter<my_crate::Thing>` becomes `Counter<Thing>`.
pub(crate) fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut segment_start = 0;
    for (index, ch) in full.char_indices() {
        if matches!(
            ch,
            '<' | '>' | ',' | ' ' | '(' | ')' | '[' | ']' | '&' | ';'
        ) {
            out.push_str(last_segment(&full[segment_start..index]));
            out.push(ch);
            segment_start = index + ch.len_utf8();
        }
    }
    out.push_str(last_segment(&full[segment_start..]));
    out
}

fn last_segment(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::short_type_name;

    #[test]
    fn short_type_name_drops_module_paths() {
        assert_eq!(short_type_name("a::b::Counter"), "Counter");
        assert_eq!(
            short_type_name("a::Wrap<b::c::Inner, u8>"),
            "Wrap<Inner, u8>"
        );
        assert_eq!(short_type_name("Plain"), "Plain");
    }
}
