//! Runnable examples of Playhouse live in `examples/`; this library is empty.
