//! Coordinated shutdown: hooks, the deadline, the report.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

type HookFuture = Pin<Box<dyn Future<Output = ShutdownReport> + Send>>;
type Hook = Box<dyn FnOnce(Instant) -> HookFuture + Send>;

/// What a shutdown stopped cleanly and what it had to cut off.
///
/// Entries are short descriptions chosen by whoever registered the shutdown hook (the actor
/// layer writes one per actor, such as `Counter#3`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// What stopped on its own before the deadline.
    pub stopped: Vec<String>,
    /// What was still running at the deadline and was cut off.
    pub cut_off: Vec<String>,
    /// How long the shutdown took.
    pub elapsed: Duration,
}

impl ShutdownReport {
    /// Returns `true` when nothing had to be cut off.
    pub fn is_clean(&self) -> bool {
        self.cut_off.is_empty()
    }

    /// Adds the entries of `other` to this report.
    pub fn merge(&mut self, other: ShutdownReport) {
        self.stopped.extend(other.stopped);
        self.cut_off.extend(other.cut_off);
    }
}

impl fmt::Display for ShutdownReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "shutdown in {:?}: {} stopped, {} cut off",
            self.elapsed,
            self.stopped.len(),
            self.cut_off.len()
        )?;
        if !self.cut_off.is_empty() {
            write!(f, " ({})", self.cut_off.join(", "))?;
        }
        Ok(())
    }
}

/// The future returned by [`Handle::shutdown`](crate::Handle::shutdown).
///
/// It resolves to the merged [`ShutdownReport`] of every shutdown hook.
#[must_use = "shutdown does nothing until awaited"]
pub struct ShutdownFuture {
    inner: HookFuture,
}

impl Future for ShutdownFuture {
    type Output = ShutdownReport;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ShutdownReport> {
        self.inner.as_mut().poll(cx)
    }
}

impl fmt::Debug for ShutdownFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShutdownFuture").finish_non_exhaustive()
    }
}

pub(crate) struct Shutdown {
    started: AtomicBool,
    hooks: Mutex<Vec<Hook>>,
    /// The report, once the one shutdown run has finished; every caller waits on it.
    done: watch::Sender<Option<ShutdownReport>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self {
            started: AtomicBool::new(false),
            hooks: Mutex::new(Vec::new()),
            done: watch::channel(None).0,
        }
    }
}

impl fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shutdown")
            .field("started", &self.started())
            .finish_non_exhaustive()
    }
}

impl Shutdown {
    pub(crate) fn started(&self) -> bool {
        self.started.load(Ordering::Acquire)
    }

    fn lock_hooks(&self) -> std::sync::MutexGuard<'_, Vec<Hook>> {
        self.hooks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn register<H, F>(&self, handle: &crate::Handle, hook: H)
    where
        H: FnOnce(Instant) -> F + Send + 'static,
        F: Future<Output = ShutdownReport> + Send + 'static,
    {
        let boxed: Hook = Box::new(move |deadline| Box::pin(hook(deadline)));
        let mut hooks = self.lock_hooks();
        if !self.started() {
            hooks.push(boxed);
            return;
        }
        drop(hooks);
        // Shutdown already began: run the late hook at once, within the default timeout.
        let deadline = deadline_after(handle.default_shutdown_timeout());
        handle.spawn("shutdown.late_hook", boxed(deadline));
    }

    /// Starts the one shutdown run if it has not started, and waits for its report.
    ///
    /// The run is a task of its own, so a caller that stops waiting (a dropped future, a
    /// timeout around it) does not stop the shutdown halfway.
    pub(crate) fn run(&self, handle: &crate::Handle, timeout: Duration) -> ShutdownFuture {
        let mut report = self.done.subscribe();
        let hooks = {
            let mut hooks = self.lock_hooks();
            let first = !self.started.swap(true, Ordering::AcqRel);
            first.then(|| std::mem::take(&mut *hooks))
        };
        if let Some(hooks) = hooks {
            let owner = handle.clone();
            handle.spawn("system.shutdown", async move {
                let start = Instant::now();
                let deadline = deadline_after(timeout);
                let mut report = ShutdownReport::default();
                for hook in hooks.into_iter().rev() {
                    report.merge(hook(deadline).await);
                }
                report.elapsed = start.elapsed();
                tracing::debug!(
                    stopped = report.stopped.len(),
                    cut_off = report.cut_off.len(),
                    "system.shutdown finished"
                );
                owner.shutdown_state().done.send_replace(Some(report));
            });
        }
        ShutdownFuture {
            inner: Box::pin(async move {
                match report.wait_for(Option::is_some).await {
                    Ok(done) => done.clone().unwrap_or_default(),
                    // The system itself is gone; nothing is left running.
                    Err(_) => ShutdownReport::default(),
                }
            }),
        }
    }
}

/// Returns the instant `timeout` from now, or a point decades away when `timeout` is too
/// large to add (such as `Duration::MAX`), so that no timeout a user passes can panic.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let soon = playhouse_runtime::deadline_after(Duration::from_secs(1));
/// let never = playhouse_runtime::deadline_after(Duration::MAX);
/// assert!(never > soon);
/// # }
/// ```
pub fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout).unwrap_or_else(|| now + FAR_FUTURE)
}

/// About thirty years: later than any process lives, small enough to add to any instant.
pub(crate) const FAR_FUTURE: Duration = Duration::from_secs(60 * 60 * 24 * 365 * 30);
