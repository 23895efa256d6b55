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
        self.tokio.block_on(self.handle.scope(future))
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
