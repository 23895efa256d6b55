//! Messages and their handlers.

use std::future::Future;

use crate::actor::Actor;
use crate::context::Context;

/// A value that can be sent to an actor, and the type of its reply.
///
/// The reply is what [`ActorRef::ask`](crate::ActorRef::ask) returns; a
/// [`tell`](crate::ActorRef::tell) drops it. Messages cross threads, so they must be `Send`
/// and own their data (`'static`).
///
/// `#[messages]` generates message types and their impls from methods; write one by hand
/// when a message is shared by several actors.
///
/// # Examples
///
/// ```
/// use playhouse::Message;
///
/// /// Asks for the current count.
/// struct GetCount;
///
/// impl Message for GetCount {
///     type Reply = u64;
/// }
/// ```
pub trait Message: Send + 'static {
    /// What the handler returns to an asker.
    type Reply: Send + 'static;
}

/// How actor `Self` handles message `M`.
///
/// Handlers run one at a time with exclusive access to the actor, so they take `&mut self`.
/// They may be `async`: the actor handles nothing else until the handler's future is done,
/// which keeps state changes in order. A panic in a handler is caught and stops only this
/// actor; an asker waiting on that message gets [`AskError::Panicked`](crate::AskError).
///
/// # Examples
///
/// ```
/// use playhouse::prelude::*;
///
/// #[derive(Actor)]
/// struct Counter {
///     count: u64,
/// }
///
/// /// Adds to the count and replies with the new total.
/// struct Add(u64);
///
/// impl Message for Add {
///     type Reply = u64;
/// }
///
/// impl Handler<Add> for Counter {
///     async fn handle(&mut self, Add(amount): Add, _ctx: &mut Context<Self>) -> u64 {
///         self.count += amount;
///         self.count
///     }
/// }
///
/// # #[playhouse::main]
/// # async fn main() {
/// let counter = Counter::spawn(Counter { count: 0 });
/// counter.tell(Add(2)).await.unwrap();
/// assert_eq!(counter.ask(Add(3)).await.unwrap(), 5);
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not handle messages of type `{M}`",
    label = "`{Self}` has no `Handler<{M}>`",
    note = "implement `Handler<{M}>` for `{Self}`, or mark a method that takes it with #[message] inside a #[messages] impl block"
)]
pub trait Handler<M: Message>: Actor {
    /// Handles one message and returns the reply.
    fn handle(
        &mut self,
        message: M,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = M::Reply> + Send;
}
