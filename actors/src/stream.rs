//! Attached streams: each item of a `Stream` arrives at the actor as a message.
//!
//! A pump task on the system's scheduler polls the stream and sends each item like
//! [`ActorRef::tell`]. It holds at most one item at a time and polls the stream again
//! only once the mailbox has accepted that item, so a bounded mailbox pushes back on the
//! stream. Each poll runs under a panic guard: a stream that panics fails the actor.
//!
//! Streams follow the timers' rule (see `timer.rs`): they belong to the incarnation that
//! attached them and end with it, through the same [`Control`] switches.

use std::fmt;
use std::future::{poll_fn, Future};
use std::sync::Arc;
use std::task::Poll;

use futures_core::Stream;

use crate::actor::Actor;
use crate::actor_ref::ActorRef;
use crate::cell::short_type_name;
use crate::context::Context;
use crate::envelope::catch_panic;
use crate::message::{Handler, Message};
use crate::run::drop_catching;
use crate::timer::{Control, FinishOnDrop};

/// A stream attached to an actor with [`Context::attach_stream`] or
/// [`Context::attach_stream_with_end`]: detach it, or ask whether it is done.
///
/// # Rules
///
/// - Items arrive as messages, in the stream's order, sent like [`ActorRef::tell`]. The
///   stream is polled for its next item only once the mailbox has accepted the previous
///   one, so a full bounded mailbox stops the stream from being drained (at most one
///   item waits outside the mailbox). With an unbounded mailbox nothing holds it back.
/// - [`attach_stream_with_end`](Context::attach_stream_with_end) sends its end message
///   after the last item, once the stream has ended by itself.
/// - **Dropping the handle does not detach the stream.** [`detach`](Self::detach) does:
///   once it returns, no more items and no end message are sent, and the stream is
///   dropped soon after.
/// - A stream belongs to the *incarnation* of the actor that attached it: when the actor
///   stops, is killed, fails, or is restarted, the stream is dropped without an end
///   message. A restarted actor attaches its streams again in
///   [`on_start`](Actor::on_start). Items already in the mailbox stay there (the mailbox
///   survives a restart) and are handled.
/// - A stream that panics while polled fails the actor, with the reason
///   `attached stream panicked: ...` (an [`ExitReason::Failed`](crate::ExitReason::Failed));
///   its supervisor decides what happens next. No end message is sent.
///
/// Cloning the handle is cheap; every clone controls the same stream.
///
/// # Examples
///
/// ```
/// use std::pin::Pin;
/// use std::task::{self, Poll};
///
/// use futures_core::Stream;
/// use playhouse::prelude::*;
/// use tokio::sync::oneshot;
///
/// /// Adds up the numbers of a stream and reports the sum when it ends.
/// #[derive(Actor)]
/// struct Summer {
///     sum: u64,
///     report: Option<oneshot::Sender<u64>>,
/// }
///
/// struct Number(u64);
/// impl Message for Number {
///     type Reply = ();
/// }
/// impl Handler<Number> for Summer {
///     async fn handle(&mut self, Number(n): Number, _ctx: &mut Context<Self>) {
///         self.sum += n;
///     }
/// }
///
/// struct Done;
/// impl Message for Done {
///     type Reply = ();
/// }
/// impl Handler<Done> for Summer {
///     async fn handle(&mut self, _: Done, ctx: &mut Context<Self>) {
///         if let Some(report) = self.report.take() {
///             let _ = report.send(self.sum);
///         }
///         ctx.stop();
///     }
/// }
///
/// /// Attaches a stream of these numbers.
/// struct Sum(Vec<u64>);
/// impl Message for Sum {
///     type Reply = ();
/// }
/// impl Handler<Sum> for Summer {
///     async fn handle(&mut self, Sum(numbers): Sum, ctx: &mut Context<Self>) {
///         ctx.attach_stream_with_end(Numbers(numbers.into_iter()), Done);
///     }
/// }
///
/// /// Any `Stream` will do; `tokio_stream::iter(..)` from the tokio-stream crate is the
/// /// same as this one.
/// struct Numbers(std::vec::IntoIter<u64>);
/// impl Stream for Numbers {
///     type Item = Number;
///     fn poll_next(mut self: Pin<&mut Self>, _: &mut task::Context<'_>) -> Poll<Option<Number>> {
///         Poll::Ready(self.0.next().map(Number))
///     }
/// }
///
/// # #[playhouse::main]
/// # async fn main() {
/// let (report, sum) = oneshot::channel();
/// let summer = Summer::spawn(Summer { sum: 0, report: Some(report) });
/// summer.tell(Sum(vec![1, 2, 3, 4])).await.unwrap();
/// assert_eq!(sum.await.unwrap(), 10);
/// assert_eq!(summer.wait().await, ExitReason::Normal);
/// # }
/// ```
#[derive(Clone)]
pub struct StreamHandle {
    control: Arc<Control>,
}

impl StreamHandle {
    /// Detaches the stream: once this returns, no more of its items and no end message
    /// are sent. Items already in the mailbox stay there and are handled.
    ///
    /// The stream itself is dropped by its pump task shortly after. Detaching a finished
    /// stream does nothing.
    pub fn detach(&self) {
        self.control.stop();
    }

    /// Returns `true` once the stream will send nothing more.
    ///
    /// That is: the stream ended and its end message (if any) is in the mailbox, or it
    /// was detached, or it panicked, or the incarnation that attached it has ended, or
    /// the actor refused its message.
    pub fn is_finished(&self) -> bool {
        self.control.is_finished()
    }
}

impl fmt::Debug for StreamHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl<A: Actor> Context<A> {
    /// Attaches `stream` to this actor: each item arrives as a message, in order.
    ///
    /// Nothing marks the stream's end; use
    /// [`attach_stream_with_end`](Self::attach_stream_with_end) to hear it. See
    /// [`StreamHandle`] for backpressure, detaching, restarts and panics. Dropping the
    /// handle does not detach the stream.
    pub fn attach_stream<S>(&self, stream: S) -> StreamHandle
    where
        S: Stream + Send + 'static,
        S::Item: Message,
        A: Handler<S::Item>,
    {
        self.attach(stream, NoEnd)
    }

    /// Attaches `stream` to this actor and sends `end` after its last item.
    ///
    /// `end` is sent only when the stream ends by itself: not after
    /// [`detach`](StreamHandle::detach), a panic, or the end of the actor's incarnation.
    /// See [`StreamHandle`] for the rest of the rules and an example.
    pub fn attach_stream_with_end<S, E>(&self, stream: S, end: E) -> StreamHandle
    where
        S: Stream + Send + 'static,
        S::Item: Message,
        E: Message,
        A: Handler<S::Item> + Handler<E>,
    {
        self.attach(stream, EndWith(end))
    }

    fn attach<S, End>(&self, stream: S, end: End) -> StreamHandle
    where
        S: Stream + Send + 'static,
        S::Item: Message,
        A: Handler<S::Item>,
        End: EndNotice<A>,
    {
        let control = Control::new(self.cell(), self.cell());
        if self.cell().refusing() {
            control.stop();
            return StreamHandle { control };
        }
        let span = tracing::debug_span!(
            "stream.run",
            actor.id = self.id().as_u64(),
            message.type = %short_type_name(std::any::type_name::<S::Item>()),
        );
        let task = pump(self.actor_ref().clone(), Arc::clone(&control), stream, end);
        drop(self.system().handle().spawn_in_span(span, task));
        StreamHandle { control }
    }
}

/// What to send once the stream has ended by itself.
trait EndNotice<A: Actor>: Send + 'static {
    fn deliver(self, actor: &ActorRef<A>, control: &Control) -> impl Future<Output = ()> + Send;
}

struct NoEnd;

impl<A: Actor> EndNotice<A> for NoEnd {
    async fn deliver(self, _actor: &ActorRef<A>, control: &Control) {
        control.stop();
    }
}

struct EndWith<E>(E);

impl<A, E> EndNotice<A> for EndWith<E>
where
    A: Handler<E>,
    E: Message,
{
    async fn deliver(self, actor: &ActorRef<A>, control: &Control) {
        control.deliver(actor, self.0, true).await;
    }
}

/// The pump's task: items in order, then the end notice, unless stopped first.
async fn pump<A, S, End>(actor: ActorRef<A>, control: Arc<Control>, stream: S, end: End)
where
    S: Stream + Send + 'static,
    S::Item: Message,
    A: Handler<S::Item>,
    End: EndNotice<A>,
{
    let _finish = FinishOnDrop(&control);
    let mut stream = Box::pin(stream);
    let ended = loop {
        let next = poll_fn(|cx| match catch_panic(|| stream.as_mut().poll_next(cx)) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(item)) => Poll::Ready(Ok(item)),
            Err(panic) => Poll::Ready(Err(panic)),
        });
        let next = tokio::select! {
            biased;
            () = control.stopped(&actor.cell) => break Ended::Stopped,
            next = next => next,
        };
        match next {
            Ok(Some(item)) => {
                if !control.deliver(&actor, item, false).await {
                    break Ended::Stopped;
                }
            }
            Ok(None) => break Ended::ByItself,
            Err(panic) => {
                control.fail("attached stream", &panic);
                break Ended::Panicked;
            }
        }
    };
    // The stream's `Drop` is user code too; drop it before the end message.
    if let Some(panic) = drop_catching(stream) {
        if ended != Ended::Panicked {
            control.fail("attached stream", &panic);
            return;
        }
    }
    if ended == Ended::ByItself {
        end.deliver(&actor, &control).await;
    }
}

/// Why a pump stopped polling its stream.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    ByItself,
    Stopped,
    Panicked,
}
