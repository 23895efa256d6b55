//! The cheap, cloneable handle to a system.

use std::cell::RefCell;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tracing::Instrument;

use crate::coarse::CoarseClock;
use crate::extensions::Extensions;
use crate::shutdown::{Shutdown, ShutdownFuture};

/// Settings shared by everything that runs on one system.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) message_budget: u32,
    pub(crate) shutdown_timeout: Duration,
    /// The system owns its worker threads, which all know it (thread-locals set when they
    /// start), so its tasks need no task-local to find it.
    pub(crate) owns_threads: bool,
}

#[derive(Debug)]
struct Inner {
    tokio: tokio::runtime::Handle,
    config: Config,
    extensions: Extensions,
    shutdown: Shutdown,
    coarse: CoarseClock,
}

/// A cheap, cloneable handle to one system: its scheduler, settings, extensions and shutdown.
///
/// Every task the system spawns, and every worker thread of a [`Runtime`](crate::Runtime)
/// it owns, can find the handle again with [`Handle::current`].
#[derive(Debug, Clone)]
pub struct Handle {
    inner: Arc<Inner>,
}

tokio::task_local! {
    static TASK_CURRENT: Handle;
}

/// Where a thread finds its system: set once the system exists. It holds the handle only
/// weakly: tokio keeps this slot (in the thread-start hook) for as long as its runtime
/// lives, and the handle keeps the tokio runtime, so a strong handle here would be a cycle
/// that leaks the whole system.
pub(crate) type ThreadSlot = Arc<OnceLock<WeakHandle>>;

/// A handle that does not keep its system alive.
#[derive(Debug)]
pub(crate) struct WeakHandle(std::sync::Weak<Inner>);

impl WeakHandle {
    pub(crate) fn new(handle: &Handle) -> Self {
        Self(Arc::downgrade(&handle.inner))
    }

    fn upgrade(&self) -> Option<Handle> {
        self.0.upgrade().map(|inner| Handle { inner })
    }
}

thread_local! {
    static THREAD_CURRENT: RefCell<Option<ThreadSlot>> = const { RefCell::new(None) };
}

pub(crate) fn set_thread_current(slot: Option<ThreadSlot>) {
    THREAD_CURRENT.with(|current| *current.borrow_mut() = slot);
}

/// Makes `handle` the current system of this thread until dropped, then restores the
/// previous one.
pub(crate) struct ThreadGuard {
    previous: Option<ThreadSlot>,
    /// Keeps the system alive while the thread is inside it.
    _handle: Handle,
}

pub(crate) fn enter_thread(handle: &Handle) -> ThreadGuard {
    let slot = Arc::new(OnceLock::from(WeakHandle::new(handle)));
    let previous = THREAD_CURRENT.with(|current| current.borrow_mut().replace(slot));
    ThreadGuard {
        previous,
        _handle: handle.clone(),
    }
}

impl Drop for ThreadGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        THREAD_CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

impl Handle {
    pub(crate) fn new(
        tokio: tokio::runtime::Handle,
        config: Config,
        extensions: Extensions,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                coarse: CoarseClock::new(tokio.clone()),
                tokio,
                config,
                extensions,
                shutdown: Shutdown::default(),
            }),
        }
    }

    /// The system's coarse clock, for cheap timeouts that are rarely reached (asks use it).
    pub fn coarse_clock(&self) -> &CoarseClock {
        &self.inner.coarse
    }

    /// Returns the handle of the system running the current task or thread.
    ///
    /// # Panics
    ///
    /// Panics when called outside a system: not in a task it spawned, not inside
    /// [`Runtime::block_on`](crate::Runtime::block_on), not on one of its worker threads.
    /// Use [`try_current`](Self::try_current) to get an `Option` instead.
    #[track_caller]
    pub fn current() -> Self {
        match Self::try_current() {
            Some(handle) => handle,
            None => panic!(
                "no Playhouse system is running here: call this inside Runtime::block_on, \
                 #[playhouse::main], or a task the system spawned"
            ),
        }
    }

    /// Returns the handle of the system running the current task or thread, if any.
    pub fn try_current() -> Option<Self> {
        if let Ok(handle) = TASK_CURRENT.try_with(Handle::clone) {
            return Some(handle);
        }
        THREAD_CURRENT.with(|current| {
            current
                .borrow()
                .as_ref()
                .and_then(|slot| slot.get().and_then(WeakHandle::upgrade))
        })
    }

    /// Runs `future` with this system as the [current](Self::current) one.
    pub fn scope<F: Future>(&self, future: F) -> impl Future<Output = F::Output> {
        TASK_CURRENT.scope(self.clone(), future)
    }

    /// Returns the tokio runtime handle the system runs on.
    pub fn tokio(&self) -> &tokio::runtime::Handle {
        &self.inner.tokio
    }

    /// Returns how many messages an actor handles in a row before it yields.
    pub fn message_budget(&self) -> u32 {
        self.inner.config.message_budget
    }

    /// Returns the default timeout of [`shutdown`](Self::shutdown).
    pub fn default_shutdown_timeout(&self) -> Duration {
        self.inner.config.shutdown_timeout
    }

    /// Returns the system's typed state.
    pub fn extensions(&self) -> &Extensions {
        &self.inner.extensions
    }

    /// Returns `true` when both handles belong to the same system.
    pub fn same_system(&self, other: &Handle) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Spawns a named task on the system, inside a `task.run` span carrying its name.
    ///
    /// The task sees this system as [current](Self::current).
    pub fn spawn<F>(&self, name: &'static str, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let span = tracing::debug_span!("task.run", task.name = name);
        self.spawn_in_span(span, future)
    }

    /// Spawns a task on the system inside the given span.
    ///
    /// The task sees this system as [current](Self::current).
    pub fn spawn_in_span<F>(
        &self,
        span: tracing::Span,
        future: F,
    ) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // A span nobody records is not worth carrying (40 bytes per task) and entering on
        // every poll.
        match (self.inner.config.owns_threads, span.is_disabled()) {
            // Every thread of this runtime already finds the system: skip the task-local.
            (true, true) => self.inner.tokio.spawn(future),
            (true, false) => self.inner.tokio.spawn(future.instrument(span)),
            (false, true) => self.inner.tokio.spawn(self.scope(future)),
            (false, false) => self.inner.tokio.spawn(self.scope(future).instrument(span)),
        }
    }

    /// Whether a future polled by an executor of our own must be [bound](Self::bind) to
    /// run inside `span` and see this system as current: `false` when `span` records
    /// nothing and the system built the runtime, whose threads already know it. Such an
    /// executor can then keep the future as it is, without the box.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = playhouse_runtime::Builder::new().build().unwrap();
    /// assert!(!runtime.handle().needs_binding(&tracing::Span::none()));
    ///
    /// // Attached to a tokio runtime it did not build, the system must travel with the
    /// // future.
    /// let tokio = tokio::runtime::Builder::new_current_thread()
    ///     .enable_all()
    ///     .build()
    ///     .unwrap();
    /// tokio.block_on(async {
    ///     let attached = playhouse_runtime::Builder::new().attach().unwrap();
    ///     assert!(attached.needs_binding(&tracing::Span::none()));
    /// });
    /// ```
    pub fn needs_binding(&self, span: &tracing::Span) -> bool {
        !(self.inner.config.owns_threads && span.is_disabled())
    }

    /// Boxes `future` so that it runs inside `span` and sees this system as
    /// [current](Self::current) when polled on the system's runtime, as a task from
    /// [`spawn_in_span`](Self::spawn_in_span) does. On a runtime the system built, its
    /// threads already know it; on one it [attached](crate::Builder::attach) to, the future
    /// carries the system with it and finds it on any thread.
    ///
    /// For executors of our own that poll many futures in one task, such as an actor
    /// strand.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let handle = playhouse_runtime::Builder::new().attach().unwrap();
    /// let bound = handle.bind(tracing::Span::none(), async {
    ///     playhouse_runtime::Handle::try_current().is_some()
    /// });
    /// // This task is not the system's; the bound future finds it all the same.
    /// assert!(playhouse_runtime::Handle::try_current().is_none());
    /// assert!(bound.await);
    /// # }
    /// ```
    pub fn bind<F>(
        &self,
        span: tracing::Span,
        future: F,
    ) -> std::pin::Pin<Box<dyn Future<Output = F::Output> + Send>>
    where
        F: Future + Send + 'static,
    {
        match (self.inner.config.owns_threads, span.is_disabled()) {
            (true, true) => Box::pin(future),
            (true, false) => Box::pin(future.instrument(span)),
            (false, true) => Box::pin(self.scope(future)),
            (false, false) => Box::pin(self.scope(future).instrument(span)),
        }
    }

    /// Registers work to run when the system shuts down.
    ///
    /// Hooks run in the reverse order of registration, each given the deadline by which the
    /// whole shutdown must end; each returns a report of what it stopped and what it had to
    /// cut off. A hook registered after shutdown started runs at once.
    pub fn on_shutdown<H, F>(&self, hook: H)
    where
        H: FnOnce(tokio::time::Instant) -> F + Send + 'static,
        F: Future<Output = crate::ShutdownReport> + Send + 'static,
    {
        self.inner.shutdown.register(self, hook);
    }

    /// Returns `true` once [`shutdown`](Self::shutdown) has been called.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutdown.started()
    }

    /// Shuts the system down within its [default timeout](Self::default_shutdown_timeout).
    ///
    /// Runs every shutdown hook and returns their merged report. The shutdown runs as a
    /// task of its own: dropping this future (or a timeout around it) stops the waiting, not
    /// the shutdown. Calling it again, or from many tasks, waits for the same shutdown and
    /// returns the same report. The tokio runtime itself keeps running: it belongs to
    /// whoever built it (see [`Runtime::shutdown`](crate::Runtime::shutdown)).
    pub fn shutdown(&self) -> ShutdownFuture {
        self.shutdown_timeout(self.default_shutdown_timeout())
    }

    /// Shuts the system down, cutting off whatever is still running after `timeout`.
    ///
    /// The timeout only applies if this call starts the shutdown.
    pub fn shutdown_timeout(&self, timeout: Duration) -> ShutdownFuture {
        self.inner.shutdown.run(self, timeout)
    }

    pub(crate) fn shutdown_state(&self) -> &Shutdown {
        &self.inner.shutdown
    }
}
