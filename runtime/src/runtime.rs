//! A runtime that owns its worker threads.

use std::future::Future;

use crate::handle::Handle;
use crate::shutdown::ShutdownReport;

/// A system together with the tokio runtime it owns.
///
/// Built by [`Builder::build`](crate::Builder::build). Drive it with
/// [`block_on`](Self::block_on) and end it with [`shutdown`](Self::shutdown), which stops
/// the system within its timeout and then the threads. Dropping a `Runtime` without calling
/// `shutdown` cancels every task at once, without running shutdown hooks.
#[derive(Debug)]
pub struct Runtime {
    tokio: tokio::runtime::Runtime,
    handle: Handle,
}

impl Runtime {
    pub(crate) fn new(tokio: tokio::runtime::Runtime, handle: Handle) -> Self {
        Self { tokio, handle }
    }

    /// Returns the system's handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Runs `future` to completion on this runtime, with the system as
    /// [current](Handle::current).
    ///
    /// # Panics
    ///
    /// Panics when called from inside an asynchronous context, as tokio's `block_on` does.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        // A current-thread runtime runs every task on this thread: they find the system
        // through this thread-local.
        let _thread = crate::handle::enter_thread(&self.handle);
        self.tokio.block_on(self.handle.scope(future))
    }

    /// Runs `future` like [`block_on`](Self::block_on), unless Ctrl-C (SIGINT) comes
    /// first: then the future is dropped and this returns `None`, so the caller can shut
    /// the system down gracefully. `#[playhouse::main]` does exactly that.
    ///
    /// If the signal handler cannot be installed, only the future can end the wait.
    ///
    /// # Panics
    ///
    /// Panics when called from inside an asynchronous context.
    #[track_caller]
    pub fn block_on_or_ctrl_c<F: Future>(&self, future: F) -> Option<F::Output> {
        self.block_on(async {
            let interrupted = async {
                if tokio::signal::ctrl_c().await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                biased;
                () = interrupted => None,
                output = future => Some(output),
            }
        })
    }

    /// Shuts the system down within its default timeout, then stops the worker threads.
    ///
    /// Returns what stopped cleanly and what was cut off.
    ///
    /// # Panics
    ///
    /// Panics when called from inside an asynchronous context.
    pub fn shutdown(self) -> ShutdownReport {
        let timeout = self.handle.default_shutdown_timeout();
        self.shutdown_timeout(timeout)
    }

    /// Shuts the system down, cutting off whatever still runs after `timeout`.
    ///
    /// # Panics
    ///
    /// Panics when called from inside an asynchronous context.
    pub fn shutdown_timeout(self, timeout: std::time::Duration) -> ShutdownReport {
        let report = self.block_on(self.handle.shutdown_timeout(timeout));
        // Whatever tasks remain (not actors: the hooks stopped those) get a short grace.
        self.tokio
            .shutdown_timeout(std::time::Duration::from_millis(100));
        report
    }
}
