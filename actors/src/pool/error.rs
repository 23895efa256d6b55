//! The errors of spawning and resizing a pool. Sends reuse the errors of `ActorRef`.

use std::fmt;

/// A pool could not be spawned because it was asked for no workers.
///
/// A pool always has at least one worker while it runs, so a send to a running pool
/// always has somewhere to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolSizeError;

impl fmt::Display for PoolSizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a pool needs at least one worker")
    }
}

impl std::error::Error for PoolSizeError {}

/// [`Pool::resize`](super::Pool::resize) did not resize the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResizeError {
    /// The new size was zero: a pool needs at least one worker. The pool is unchanged.
    NoWorkers,
    /// The pool has stopped (or its supervisor did not answer within the ask timeout).
    Stopped,
}

impl fmt::Display for ResizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResizeError::NoWorkers => f.write_str("a pool needs at least one worker"),
            ResizeError::Stopped => f.write_str("pool stopped; not resized"),
        }
    }
}

impl std::error::Error for ResizeError {}
