//! Span names and fields in one place.
//!
//! - `actor.run` (debug): one per actor, the parent of everything it does; fields
//!   `actor.id` and `actor.type`.
//! - `actor.handle_message` (trace): one per handled message; fields `actor.id`,
//!   `actor.type`, `message.type`. It starts a trace of its own (no parent), so a
//!   long-lived actor does not grow one endless trace, and it *follows from* the span that
//!   was current where the message was sent, which links the two traces.
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

pub(crate) fn message_span(
    cell: &ActorCell,
    message_type: &'static str,
    sender: Option<&tracing::Span>,
) -> tracing::Span {
    let span = tracing::trace_span!(
        parent: None,
        "actor.handle_message",
        actor.id = cell.id().as_u64(),
        actor.type = %short_type_name(cell.type_name()),
        message.type = message_type,
    );
    if let Some(sender) = sender {
        span.follows_from(sender);
    }
    span
}
