//! The blocking pool.

use std::fmt;

use crate::handle::Handle;

/// A closure sent to the blocking pool panicked or was cancelled.
#[derive(Debug)]
pub struct BlockingError {
    message: String,
}

impl BlockingError {
    /// Returns the panic message, or why the work did not finish.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for BlockingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "blocking work failed: {}", self.message)
    }
}

impl std::error::Error for BlockingError {}

/// Returns the message of a caught panic: its `&str` or `String` payload, or a note that
/// the payload was something else.
///
/// # Examples
///
/// ```
/// let payload = std::panic::catch_unwind(|| panic!("disk on {}", "fire")).unwrap_err();
/// assert_eq!(playhouse_runtime::panic_message(&*payload), "disk on fire");
/// ```
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

impl Handle {
    /// Runs a blocking or CPU-heavy closure on the runtime's blocking pool and awaits it.
    ///
    /// The calling task yields while the closure runs, so other actors keep their worker
    /// threads.
    ///
    /// # Errors
    ///
    /// Returns a [`BlockingError`] with the panic message if the closure panicked, or if the
    /// runtime shut down before it ran.
    pub async fn run_blocking<F, R>(&self, work: F) -> Result<R, BlockingError>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        match self.tokio().spawn_blocking(work).await {
            Ok(value) => Ok(value),
            Err(error) if error.is_panic() => Err(BlockingError {
                message: panic_message(&*error.into_panic()),
            }),
            Err(_) => Err(BlockingError {
                message: "the runtime shut down".to_owned(),
            }),
        }
    }
}

impl Handle {
    /// Runs `future` on an OS thread of its own, named `name`, with a single-thread tokio
    /// runtime that lives as long as the future.
    ///
    /// For work that must stay on one thread (thread-local state, libraries that require
    /// it) or that blocks often: it can block its own thread without stalling the shared
    /// workers. The future sees this system as [current](Handle::current), and the thread
    /// ends when the future does.
    ///
    /// # Errors
    ///
    /// Returns an error if the name contains a NUL byte or the operating system refused to
    /// start the thread; the future is then dropped without running. If the thread starts
    /// but its runtime cannot, the error is logged and the future dropped on that thread.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let handle = playhouse_runtime::Builder::new().attach().unwrap();
    /// let (done, finished) = tokio::sync::oneshot::channel();
    /// handle
    ///     .spawn_dedicated("my-thread", tracing::Span::none(), async move {
    ///         let name = std::thread::current().name().map(str::to_owned);
    ///         done.send(name).unwrap();
    ///     })
    ///     .unwrap();
    /// assert_eq!(finished.await.unwrap().as_deref(), Some("my-thread"));
    /// # }
    /// ```
    pub fn spawn_dedicated<F>(
        &self,
        name: impl Into<String>,
        span: tracing::Span,
        future: F,
    ) -> std::io::Result<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        use tracing::Instrument;

        let name = name.into();
        if name.contains('\0') {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "a thread name cannot contain a NUL byte",
            ));
        }
        let handle = self.clone();
        // The runtime is built on the new thread: if anything fails, it is dropped there,
        // never on the caller's (possibly asynchronous) thread.
        std::thread::Builder::new().name(name).spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(handle.scope(future).instrument(span)),
                Err(error) => {
                    tracing::error!(%error, "runtime.dedicated_thread_failed");
                    drop(future);
                }
            }
        })?;
        Ok(())
    }
}
