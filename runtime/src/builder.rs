//! The runtime builder.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::error::BuildError;
use crate::extensions::Extensions;
use crate::handle::{Config, Handle};
use crate::runtime::Runtime;

/// How many messages an actor handles in a row before it yields its worker thread.
///
/// After this many messages without waiting, an actor's task yields to the scheduler so that
/// other actors on the same worker get their turn, like a time slice. Set it with
/// [`Builder::message_budget`].
pub const DEFAULT_MESSAGE_BUDGET: u32 = 64;

/// How long [`Runtime::shutdown`] waits for the system to stop before cutting it off.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Which tokio scheduler a [`Builder`] builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Flavor {
    /// tokio's multi-thread, work-stealing scheduler (the default).
    MultiThread,
    /// One thread runs everything: the thread that calls [`Runtime::block_on`]. Useful for
    /// deterministic tests, and needed for paused time.
    CurrentThread,
}

/// Configures and builds a [`Runtime`], or attaches a system to a running tokio runtime.
///
/// # Examples
///
/// ```
/// use playhouse_runtime::Builder;
///
/// let runtime = Builder::new()
///     .worker_threads(2)
///     .thread_name("my-app")
///     .message_budget(32)
///     .build()
///     .expect("runtime starts");
/// assert_eq!(runtime.handle().message_budget(), 32);
/// runtime.shutdown();
/// ```
#[derive(Debug)]
pub struct Builder {
    flavor: Flavor,
    worker_threads: Option<usize>,
    thread_name: String,
    message_budget: u32,
    shutdown_timeout: Duration,
    start_paused: bool,
    extensions: Extensions,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    /// Starts a builder for the multi-thread, work-stealing scheduler.
    ///
    /// Defaults: one worker thread per core, threads named `playhouse-worker`, a message
    /// budget of [`DEFAULT_MESSAGE_BUDGET`], a shutdown timeout of
    /// [`DEFAULT_SHUTDOWN_TIMEOUT`].
    pub fn new() -> Self {
        Self {
            flavor: Flavor::MultiThread,
            worker_threads: None,
            thread_name: "playhouse-worker".to_owned(),
            message_budget: DEFAULT_MESSAGE_BUDGET,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            start_paused: false,
            extensions: Extensions::default(),
        }
    }

    /// Starts a builder for a single-thread scheduler (see [`Flavor::CurrentThread`]).
    pub fn new_current_thread() -> Self {
        Self {
            flavor: Flavor::CurrentThread,
            ..Self::new()
        }
    }

    /// Sets the number of worker threads of the multi-thread scheduler.
    ///
    /// Zero is rejected by [`build`](Self::build).
    pub fn worker_threads(mut self, count: usize) -> Self {
        self.worker_threads = Some(count);
        self
    }

    /// Sets the name of the worker threads.
    pub fn thread_name(mut self, name: impl Into<String>) -> Self {
        self.thread_name = name.into();
        self
    }

    /// Sets how many messages an actor handles in a row before it yields (see
    /// [`DEFAULT_MESSAGE_BUDGET`]). Zero is rejected by [`build`](Self::build).
    pub fn message_budget(mut self, messages: u32) -> Self {
        self.message_budget = messages;
        self
    }

    /// Sets how long [`Runtime::shutdown`] waits before cutting the system off.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Starts the runtime with time paused, as `#[tokio::test(start_paused = true)]` does.
    ///
    /// Only the [`Flavor::CurrentThread`] scheduler supports paused time; `build` rejects
    /// the combination with the multi-thread one.
    #[cfg(feature = "test-util")]
    pub fn start_paused(mut self, paused: bool) -> Self {
        self.start_paused = paused;
        self
    }

    /// Stores a value in the new system's [`Extensions`] before anything runs.
    ///
    /// Upper layers read their settings from here (the actor layer reads its defaults, such
    /// as the ask timeout, this way).
    pub fn extension<T: Send + Sync + 'static>(self, value: T) -> Self {
        self.extensions.insert(value);
        self
    }

    fn validate(&self) -> Result<(), BuildError> {
        if self.worker_threads == Some(0) {
            return Err(BuildError::invalid("worker_threads must be at least 1"));
        }
        if self.message_budget == 0 {
            return Err(BuildError::invalid("message_budget must be at least 1"));
        }
        if self.start_paused && self.flavor != Flavor::CurrentThread {
            return Err(BuildError::invalid(
                "paused time needs the current-thread scheduler",
            ));
        }
        Ok(())
    }

    fn config(self, owns_threads: bool) -> (Config, Extensions) {
        let config = Config {
            message_budget: self.message_budget,
            shutdown_timeout: self.shutdown_timeout,
            owns_threads,
        };
        (config, self.extensions)
    }

    /// Builds a [`Runtime`] that owns its worker threads.
    ///
    /// # Errors
    ///
    /// Returns a [`BuildError`] when a setting is invalid (zero worker threads, a zero
    /// message budget, paused time on the multi-thread scheduler) or the threads could not
    /// be started.
    pub fn build(self) -> Result<Runtime, BuildError> {
        self.validate()?;
        let flavor = self.flavor;
        let worker_threads = self.worker_threads;
        let thread_name = self.thread_name.clone();
        let start_paused = self.start_paused;
        // Worker threads carry the system in a thread-local from their start, and
        // `Runtime::block_on` sets it on its thread (where a current-thread runtime runs
        // every task).
        let (config, extensions) = self.config(true);

        // Worker threads learn their system when they start, so that `Handle::current`
        // works on them; the handle exists only once tokio has built the runtime.
        let slot: crate::handle::ThreadSlot = Arc::new(OnceLock::new());
        let mut tokio_builder = match flavor {
            Flavor::MultiThread => tokio::runtime::Builder::new_multi_thread(),
            Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread(),
        };
        tokio_builder.enable_all().thread_name(thread_name);
        if let Some(count) = worker_threads {
            tokio_builder.worker_threads(count);
        }
        #[cfg(feature = "test-util")]
        tokio_builder.start_paused(start_paused);
        #[cfg(not(feature = "test-util"))]
        let _ = start_paused;
        let on_start = Arc::clone(&slot);
        tokio_builder.on_thread_start(move || {
            crate::handle::set_thread_current(Some(Arc::clone(&on_start)));
        });
        tokio_builder.on_thread_stop(|| crate::handle::set_thread_current(None));
        let tokio_runtime = tokio_builder.build().map_err(BuildError::io)?;
        let handle = Handle::new(tokio_runtime.handle().clone(), config, extensions);
        // Threads may already run; they read the slot when asked, so setting it now is enough.
        let _ = slot.set(crate::handle::WeakHandle::new(&handle));
        Ok(Runtime::new(tokio_runtime, handle))
    }

    /// Attaches a system to the tokio runtime this task already runs on.
    ///
    /// Use it from inside `#[tokio::main]` or any tokio runtime you manage yourself. The
    /// worker thread settings do not apply (tokio already started its threads); the message
    /// budget, shutdown timeout and extensions do.
    ///
    /// # Errors
    ///
    /// Returns a [`BuildError`] when a setting is invalid or when called outside a tokio
    /// runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let handle = playhouse_runtime::Builder::new().attach().unwrap();
    /// let done = handle.spawn("job", async { "done" }).await.unwrap();
    /// assert_eq!(done, "done");
    /// handle.shutdown().await;
    /// # }
    /// ```
    pub fn attach(self) -> Result<Handle, BuildError> {
        self.validate()?;
        let tokio_handle = tokio::runtime::Handle::try_current()
            .map_err(|_| BuildError::invalid("attach must be called inside a tokio runtime"))?;
        let (config, extensions) = self.config(false);
        Ok(Handle::new(tokio_handle, config, extensions))
    }
}
