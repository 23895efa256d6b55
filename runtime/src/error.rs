//! Errors of building a runtime.

use std::fmt;

/// The runtime could not be built.
///
/// Returned by [`Builder::build`](crate::Builder::build) when the configuration is invalid
/// or the operating system refused to start the worker threads.
#[derive(Debug)]
pub struct BuildError {
    kind: BuildErrorKind,
}

#[derive(Debug)]
enum BuildErrorKind {
    Invalid(&'static str),
    Io(std::io::Error),
}

impl BuildError {
    pub(crate) fn invalid(what: &'static str) -> Self {
        Self {
            kind: BuildErrorKind::Invalid(what),
        }
    }

    pub(crate) fn io(error: std::io::Error) -> Self {
        Self {
            kind: BuildErrorKind::Io(error),
        }
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BuildErrorKind::Invalid(what) => write!(f, "invalid runtime configuration: {what}"),
            BuildErrorKind::Io(_) => f.write_str("failed to start the runtime"),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            BuildErrorKind::Invalid(_) => None,
            BuildErrorKind::Io(error) => Some(error),
        }
    }
}
