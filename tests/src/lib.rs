//! Behaviour tests of Playhouse live in `tests/`; this library is empty.
