//! Why an actor ended.

use std::fmt;
use std::sync::Arc;

/// Why an actor stopped, as seen by everyone who [waits](crate::ActorRef::wait) for it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExitReason {
    /// Stopped gracefully, by [`ActorRef::stop`](crate::ActorRef::stop) or
    /// [`Context::stop`](crate::Context::stop), after handling what was queued.
    Normal,
    /// Killed by [`ActorRef::kill`](crate::ActorRef::kill); queued messages became dead
    /// letters and `on_stop` did not run.
    Killed,
    /// Stopped gracefully because its supervisor (another actor or the system) shut it
    /// down: the system shutting down, its parent ending, or its parent giving up. Never
    /// restarted.
    Shutdown,
    /// Ended by its supervisor so that it restarts together with a sibling that failed
    /// (the one-for-all and rest-for-one strategies). Seen by `on_stop` and supervision
    /// hooks; the actor itself goes on, restarted.
    Restart,
    /// Failed on purpose: [`Context::fail`](crate::Context::fail) with the error's text, a
    /// linked actor's failure, too many restarts of its children, or a panic in an attached
    /// stream or an interval timer's message factory.
    Failed(Arc<str>),
    /// A handler or a lifecycle hook panicked.
    Panicked(PanicReport),
    /// `on_start` returned an error; the text is the error's `Display`.
    StartFailed(Arc<str>),
}

impl ExitReason {
    /// Returns `true` for the reasons that are not failures and were not forced: a normal
    /// stop, a shutdown, a restart with a sibling.
    pub fn is_normal(&self) -> bool {
        matches!(
            self,
            ExitReason::Normal | ExitReason::Shutdown | ExitReason::Restart
        )
    }

    /// Returns `true` when the actor failed: it panicked, could not start, or failed on
    /// purpose.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            ExitReason::Panicked(_) | ExitReason::StartFailed(_) | ExitReason::Failed(_)
        )
    }

    /// Returns `true` for a failure or a kill: the exits a transient child is restarted
    /// after, and that a link passes on.
    pub fn is_abnormal(&self) -> bool {
        self.is_failure() || matches!(self, ExitReason::Killed)
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Normal => f.write_str("stopped"),
            ExitReason::Killed => f.write_str("killed"),
            ExitReason::Shutdown => f.write_str("shut down"),
            ExitReason::Restart => f.write_str("stopped to restart with a sibling"),
            ExitReason::Failed(error) => write!(f, "failed: {error}"),
            ExitReason::Panicked(panic) => fmt::Display::fmt(panic, f),
            ExitReason::StartFailed(error) => write!(f, "failed to start: {error}"),
        }
    }
}

/// A panic caught inside an actor: where it happened and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanicReport {
    during: Arc<str>,
    message: Arc<str>,
}

impl PanicReport {
    pub(crate) fn new(during: impl Into<Arc<str>>, message: impl Into<Arc<str>>) -> Self {
        Self {
            during: during.into(),
            message: message.into(),
        }
    }

    /// Where the panic happened: `on_start`, `on_stop`, or `handle(MessageType)`.
    pub fn during(&self) -> &str {
        &self.during
    }

    /// The panic's message (its `&str` or `String` payload).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for PanicReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "panicked in {}: {}", self.during, self.message)
    }
}
