//! The system layer of [Playhouse](https://docs.rs/playhouse): it knows nothing of actors.
//!
//! This crate wraps tokio's multi-thread, work-stealing scheduler and adds what an actor
//! system needs from the ground it stands on:
//!
//! - a [`Builder`] for the scheduler (worker threads, thread names, the per-actor message
//!   budget) that either builds a [`Runtime`] owning its threads or [attaches](Builder::attach)
//!   to a tokio runtime that already runs, such as the one `#[tokio::main]` starts;
//! - a cheap, cloneable [`Handle`] to the system, found again with [`Handle::current`] from
//!   any task the system spawned;
//! - named task spawning with tracing spans and the blocking pool;
//! - per-system typed state ([`Extensions`]), so upper layers need no global variables;
//! - coordinated shutdown: upper layers register [shutdown hooks](Handle::on_shutdown), and
//!   [`Handle::shutdown`] runs them within a timeout and returns a [`ShutdownReport`].
//!
//! Most users never name this crate: `playhouse` re-exports what they touch.
//!
//! # Examples
//!
//! ```
//! use playhouse_runtime::Builder;
//!
//! let runtime = Builder::new().worker_threads(2).thread_name("example").build().unwrap();
//! let answer = runtime.block_on(async {
//!     let handle = playhouse_runtime::Handle::current();
//!     handle.spawn("compute", async { 6 * 7 }).await.unwrap()
//! });
//! assert_eq!(answer, 42);
//! let report = runtime.shutdown();
//! assert!(report.is_clean());
//! ```

mod builder;
mod coarse;
mod error;
mod extensions;
mod handle;
mod runtime;
mod shutdown;
mod spawn;
mod spin;

pub use builder::{Builder, Flavor, DEFAULT_MESSAGE_BUDGET, DEFAULT_SHUTDOWN_TIMEOUT};
pub use coarse::{
    CoarseClock, CoarseDeadline, CoarseTarget, CoarseTimeout, CoarseWatch, COARSE_RESOLUTION,
};
pub use error::BuildError;
pub use extensions::Extensions;
pub use handle::Handle;
pub use runtime::Runtime;
pub use shutdown::{deadline_after, ShutdownFuture, ShutdownReport};
pub use spawn::{panic_message, BlockingError};
