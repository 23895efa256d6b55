//! The actor loop: start, receive, dispatch, stop.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use tokio::sync::futures::Notified;

use crate::actor::Actor;
use crate::cell::{short_type_name, ActorCell, FAIL, KILL, NOTICE, RESTART, SHUTDOWN, STOP};
use crate::context::Context;
use crate::envelope::catch_panic;
use crate::exit::{ExitReason, PanicReport};
use crate::future_slot::FutureSlot;
use crate::mailbox::{MailboxReceiver, TryRecv};
use crate::supervision::{self, Notice};
use crate::trace;

/// Runs one incarnation of an actor, from `on_start` to `on_stop`, and returns why it
/// ended. Its children stop before it does. The mailbox is left as it is: a restarted
/// incarnation goes on with it.
pub(crate) async fn run<A: Actor>(
    args: A::Args,
    ctx: &mut Context<A>,
    mailbox: &mut MailboxReceiver<A>,
) -> ExitReason {
    let cell = Arc::clone(ctx.cell());
    let stop_timeout = ctx.system().stop_timeout();
    // The cold steps (stopping children, `on_stop`) are boxed: an idle actor's future is
    // then only as large as its receive loop.
    let reason = match start(args, ctx, &cell).await {
        Err(reason) => {
            Box::pin(supervision::stop_children(
                &cell,
                reason == ExitReason::Killed,
                stop_timeout,
            ))
            .await;
            reason
        }
        Ok(mut actor) => {
            let reason = receive(&mut actor, ctx, mailbox, &cell).await;
            let killed = reason == ExitReason::Killed;
            Box::pin(supervision::stop_children(&cell, killed, stop_timeout)).await;
            let reason = if killed {
                reason
            } else {
                Box::pin(stop(&mut actor, ctx, &cell, reason)).await
            };
            // The actor's own `Drop` is user code too.
            match drop_catching(actor) {
                Some(message) if !reason.is_failure() => {
                    ExitReason::Panicked(PanicReport::new("drop", message))
                }
                _ => reason,
            }
        }
    };
    tracing::debug!(actor = %cell, %reason, "actor.incarnation_ended");
    reason
}

async fn start<A: Actor>(
    args: A::Args,
    ctx: &mut Context<A>,
    cell: &ActorCell,
) -> Result<A, ExitReason> {
    // Inside an async block, so that even the synchronous part of `on_start` runs under
    // the panic guard.
    let mut starting = Box::pin(async move { A::on_start(args, ctx).await });
    match Guarded::new(&mut starting, cell).await {
        Outcome::Done(Ok(actor)) => {
            tracing::debug!(actor = %cell, "actor.started");
            Ok(actor)
        }
        Outcome::Done(Err(error)) => Err(ExitReason::StartFailed(error.to_string().into())),
        Outcome::Panicked(message) => {
            Err(ExitReason::Panicked(PanicReport::new("on_start", message)))
        }
        Outcome::Killed => Err(ExitReason::Killed),
    }
}

/// Handles messages one at a time until a signal or a panic ends the actor.
async fn receive<A: Actor>(
    actor: &mut A,
    ctx: &mut Context<A>,
    mailbox: &mut MailboxReceiver<A>,
    cell: &ActorCell,
) -> ExitReason {
    let budget = ctx.system().handle().message_budget();
    let mut slot = FutureSlot::new();
    let mut handled_in_a_row = 0;
    loop {
        let signals = cell.signals();
        if signals & KILL != 0 {
            return ExitReason::Killed;
        }
        if signals & NOTICE != 0 {
            // Before a failure or restart takes effect, so the actor hears why.
            cell.clear_signals(NOTICE);
            while let Some(notice) = cell.next_notice() {
                // Boxed: notices are rare, and their state would otherwise widen every
                // idle actor's future.
                if let Some(reason) = Box::pin(hear(actor, ctx, cell, notice)).await {
                    return reason;
                }
            }
            continue;
        }
        if signals & FAIL != 0 {
            return ExitReason::Failed(cell.take_failure());
        }
        if signals & RESTART != 0 {
            return ExitReason::Restart;
        }
        let envelope = match mailbox.try_recv() {
            TryRecv::Message(envelope) => envelope,
            TryRecv::Empty | TryRecv::Closed => {
                // Stopping gracefully: what was queued is handled; senders are refused.
                if signals & SHUTDOWN != 0 {
                    return ExitReason::Shutdown;
                }
                if signals & STOP != 0 {
                    return ExitReason::Normal;
                }
                handled_in_a_row = 0;
                let next = std::future::poll_fn(|cx| {
                    cell.register_idle(cx.waker());
                    if cell.signals() != 0 {
                        return Poll::Ready(None);
                    }
                    mailbox.poll_recv(cx).map(Some)
                })
                .await;
                match next {
                    // A signal: look at it at the top of the loop.
                    None => continue,
                    Some(Some(envelope)) => envelope,
                    Some(None) => return ExitReason::Normal,
                }
            }
        };

        let message_type = envelope.message_type();
        let span = trace::message_span(cell, message_type, envelope.sender_span());
        let mut handler = envelope.dispatch(cell.mailbox(), actor, ctx, &mut slot);
        match Guarded::new(&mut handler, cell).within(&span).await {
            Outcome::Done(()) => {}
            Outcome::Killed => {
                // The message was taken but not handled: the asker hears `Dropped`, and it
                // counts as a dead letter.
                drop_catching(handler);
                ctx.system().dead_letter(cell, message_type);
                return ExitReason::Killed;
            }
            Outcome::Panicked(message) => {
                drop_catching(handler);
                let during = format!("handle({})", short_type_name(message_type));
                return ExitReason::Panicked(PanicReport::new(during, message));
            }
        }

        handled_in_a_row += 1;
        if handled_in_a_row >= budget {
            // A busy actor gives other tasks on this worker their turn.
            handled_in_a_row = 0;
            tokio::task::yield_now().await;
        }
    }
}

/// Hands a notice to its hook. Returns why the actor must end, if it must.
async fn hear<A: Actor>(
    actor: &mut A,
    ctx: &mut Context<A>,
    cell: &ActorCell,
    notice: Notice,
) -> Option<ExitReason> {
    let (during, mut hook): (&str, Pin<Box<dyn Future<Output = ()> + Send + '_>>) = match notice {
        Notice::Terminated { actor: id, reason } => (
            "on_terminated",
            Box::pin(async move { actor.on_terminated(ctx, id, reason).await }),
        ),
        Notice::LinkExit { actor: id, reason } => (
            "on_link_exit",
            Box::pin(async move { actor.on_link_exit(ctx, id, reason).await }),
        ),
        Notice::ChildExit(exit) => (
            "on_child_exit",
            Box::pin(async move { actor.on_child_exit(ctx, exit).await }),
        ),
    };
    match Guarded::new(&mut hook, cell).await {
        Outcome::Done(()) => None,
        Outcome::Panicked(message) => Some(ExitReason::Panicked(PanicReport::new(during, message))),
        Outcome::Killed => Some(ExitReason::Killed),
    }
}

async fn stop<A: Actor>(
    actor: &mut A,
    ctx: &mut Context<A>,
    cell: &ActorCell,
    reason: ExitReason,
) -> ExitReason {
    let mut stopping = Box::pin(async { actor.on_stop(ctx, &reason).await });
    let outcome = Guarded::new(&mut stopping, cell).await;
    drop(stopping);
    match outcome {
        Outcome::Done(()) => reason,
        Outcome::Panicked(message) => ExitReason::Panicked(PanicReport::new("on_stop", message)),
        Outcome::Killed => ExitReason::Killed,
    }
}

enum Outcome<T> {
    Done(T),
    Panicked(String),
    Killed,
}

/// Polls an actor's future, catching its panics and giving up when the actor is killed.
///
/// A future that completes on its first poll costs one poll; the kill check and its
/// wake-up registration only happen when the future has to wait.
struct Guarded<'a, F> {
    future: &'a mut F,
    cell: &'a ActorCell,
    kill_wait: Option<Pin<Box<Notified<'a>>>>,
    /// Entered around each poll, if anybody records it.
    span: Option<&'a tracing::Span>,
}

impl<'a, F> Guarded<'a, F> {
    fn new(future: &'a mut F, cell: &'a ActorCell) -> Self {
        Self {
            future,
            cell,
            kill_wait: None,
            span: None,
        }
    }

    /// Polls inside `span` (a disabled span costs nothing: it is not even entered).
    fn within(mut self, span: &'a tracing::Span) -> Self {
        self.span = (!span.is_disabled()).then_some(span);
        self
    }
}

impl<F: Future + Unpin> Future for Guarded<'_, F> {
    type Output = Outcome<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let _entered = this.span.map(tracing::Span::enter);
        match catch_panic(|| Pin::new(&mut *this.future).poll(cx)) {
            Ok(Poll::Ready(output)) => return Poll::Ready(Outcome::Done(output)),
            Err(message) => return Poll::Ready(Outcome::Panicked(message)),
            Ok(Poll::Pending) => {}
        }
        loop {
            if this.cell.killed() {
                return Poll::Ready(Outcome::Killed);
            }
            let cell = this.cell;
            let wait = this
                .kill_wait
                .get_or_insert_with(|| Box::pin(cell.wake_notified()));
            match wait.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                // A signal arrived (maybe only a stop): look again, and wait anew if needed.
                Poll::Ready(()) => this.kill_wait = None,
            }
        }
    }
}

/// Drops `value`, catching a panic in its `Drop` and returning the panic's message.
pub(crate) fn drop_catching<T>(value: T) -> Option<String> {
    catch_panic(move || drop(value)).err()
}
