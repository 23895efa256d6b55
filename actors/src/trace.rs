//! Span names and fields in one place.
//!
//! - `actor.run` (debug): one per actor, the parent of everything it does; fields
//!   `actor.id` and `actor.type`.
//! - `actor.handle_message` (trace): one per handled message; field `message.type`.
//!
//! Lifecycle events are `debug`, panics nobody handles are `error`, dead letters `debug`.
//! Field values are computed only when a subscriber listens at that level.

use crate::cell::{short_type_name, ActorCell};

pub(crate) fn actor_span(cell: &ActorCell) -> tracing::Span {
    tracing::debug_span!(
        "actor.run",
        actor.id = cell.id().as_u64(),
        actor.type = %short_type_name(cell.type_name()),
    )
}

pub(crate) fn message_span(message_type: &'static str) -> tracing::Span {
    tracing::trace_span!("actor.handle_message", message.type = message_type)
}
