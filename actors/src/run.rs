//! The cold steps of an actor's life: starting, hearing notices, stopping, restarting and
//! the end. The hot one, receiving and handling messages, is the actor's task
//! ([`crate::task`]), which runs these as boxed futures between its stretches of receiving.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use crate::actor::Actor;
use crate::cell::{ActorCell, FAIL, KILL, RESTART, SHUTDOWN, STOP};
use crate::context::Context;
use crate::envelope::catch_panic;
use crate::exit::{ExitReason, PanicReport};
use crate::mailbox::MailboxReceiver;
use crate::spawn::ArgsSource;
use crate::supervision::{self, Next, Notice, Restart};
use crate::system::System;
use crate::timer;

/// What the actor's task does after a cold step.
pub(crate) enum After {
    /// Receive messages with the incarnation now in place.
    Receive,
    /// The incarnation ends, for this reason.
    End(ExitReason),
    /// The actor has ended for good.
    Done,
}

/// The parts of the actor's task that its lifecycle steps work on.
pub(crate) struct Parts<'a, A: Actor> {
    pub(crate) actor: &'a mut Option<A>,
    pub(crate) ctx: &'a mut Context<A>,
    pub(crate) mailbox: &'a mut MailboxReceiver<A>,
    pub(crate) restart: Restart,
    pub(crate) args: &'a mut ArgsSource<A::Args>,
}

/// Everything between two stretches of receiving: the end of an incarnation (`ended`: its
/// children stop, then `on_stop`, then the actor is dropped), the supervisor's decision, a
/// restart's backoff, and the next incarnation's `on_start`. With `ended` `None` it only
/// starts the first incarnation. Ends the actor for good when there is nothing to start.
pub(crate) async fn between<A: Actor>(parts: Parts<'_, A>, mut ended: Option<ExitReason>) -> After {
    let Parts {
        actor,
        ctx,
        mailbox,
        restart,
        args,
    } = parts;
    let cell = Arc::clone(ctx.cell());
    loop {
        if let Some(reason) = ended.take() {
            let reason = end_incarnation(actor.take(), ctx, &cell, reason).await;
            timer::end_incarnation(&cell);
            let seen = cell.signals() & (STOP | KILL | RESTART | FAIL);
            supervision::incarnation_ended(&cell, &reason);
            match supervision::decide(&cell, restart, &reason) {
                Next::End => return finish(ctx, mailbox, &cell, reason).await,
                Next::Restart(delay) => {
                    cell.clear_signals(seen);
                    supervision::reopen(&cell);
                    if !backoff(&cell, delay).await {
                        return finish(ctx, mailbox, &cell, ExitReason::Shutdown).await;
                    }
                }
            }
        }
        let Some(incarnation_args) = args.next() else {
            return finish(ctx, mailbox, &cell, ExitReason::Shutdown).await;
        };
        match start(incarnation_args, ctx, &cell).await {
            Ok(started) => {
                *actor = Some(started);
                return After::Receive;
            }
            Err(reason) => ended = Some(reason),
        }
    }
}

/// Ends an incarnation: its children stop first, then (unless it was killed or never
/// started) `on_stop` runs and the actor is dropped. Returns the final reason.
async fn end_incarnation<A: Actor>(
    actor: Option<A>,
    ctx: &mut Context<A>,
    cell: &ActorCell,
    reason: ExitReason,
) -> ExitReason {
    let killed = reason == ExitReason::Killed;
    supervision::stop_children(cell, killed, ctx.system().stop_timeout()).await;
    let reason = match actor {
        None => reason,
        Some(mut actor) => {
            let reason = if killed {
                reason
            } else {
                stop(&mut actor, ctx, cell, reason).await
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

/// The actor's end: what is still queued becomes dead letters, then everybody hears why.
async fn finish<A: Actor>(
    ctx: &mut Context<A>,
    mailbox: &mut MailboxReceiver<A>,
    cell: &Arc<ActorCell>,
    reason: ExitReason,
) -> After {
    if reason.is_failure() {
        tracing::error!(actor = %cell, %reason, "actor.failed");
    } else {
        tracing::debug!(actor = %cell, %reason, "actor.stopped");
    }
    // Whatever is still queued will never be handled. `recv` (not `try_recv`) also waits
    // for a sender that reserved a place before the close and is putting its message in.
    mailbox.close();
    while let Some(envelope) = mailbox.recv().await {
        ctx.system().dead_letter(cell, envelope.message_type());
        drop_catching(envelope);
    }
    // References to the actor may outlive it: they keep the cell, and no more spare
    // memory than a waiting actor's mailbox does.
    mailbox.waiting();
    end_for_good(cell, ctx.system(), reason);
    After::Done
}

/// Records the actor's end: its supervisor, watchers, links, names and system hear of it,
/// and every waiter is released.
pub(crate) fn end_for_good(cell: &Arc<ActorCell>, system: &System, reason: ExitReason) {
    // Children still alive (their parent gave up waiting for them, or was killed) are no
    // longer reachable from the root once this actor leaves its parent: the final sweep of
    // a shutdown finds them among the orphans.
    for child in supervision::children(cell) {
        if child.is_alive() {
            system.track_orphan(&child);
        }
    }
    supervision::release(cell);
    supervision::ended_for_good(cell, &reason);
    system.registry().release(cell);
    system.record_end(cell, &reason);
    system.untrack();
    // The loop's waker would keep the finished task's memory alive for as long as
    // references to the actor exist.
    cell.clear_idle();
    cell.finish(reason);
}

/// Waits out a restart's backoff. Returns `false` if the actor was shut down meanwhile.
async fn backoff(cell: &ActorCell, delay: std::time::Duration) -> bool {
    let mut sleep = std::pin::pin!(tokio::time::sleep(delay));
    std::future::poll_fn(|cx| {
        cell.register_idle(cx.waker());
        if cell.signals() & SHUTDOWN != 0 {
            return Poll::Ready(false);
        }
        sleep
            .as_mut()
            .poll(cx)
            .map(|()| cell.signals() & SHUTDOWN == 0)
    })
    .await
}

async fn start<A: Actor>(
    args: A::Args,
    ctx: &mut Context<A>,
    cell: &ActorCell,
) -> Result<A, ExitReason> {
    // Inside an async block, so that even the synchronous part of `on_start` runs under
    // the panic guard.
    let mut starting = std::pin::pin!(async move { A::on_start(args, ctx).await });
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

/// Hands every queued notice to its hook. Ends the incarnation if a hook says so.
pub(crate) async fn hear_all<A: Actor>(
    actor: &mut A,
    ctx: &mut Context<A>,
    cell: &ActorCell,
) -> After {
    while let Some(notice) = cell.next_notice() {
        if let Some(reason) = hear(actor, ctx, cell, notice).await {
            return After::End(reason);
        }
    }
    After::Receive
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
    // Pinned in place: the step that runs this is boxed already, and a box of its own
    // would cost every stopping actor an allocation.
    let outcome = {
        let mut stopping = std::pin::pin!(async { actor.on_stop(ctx, &reason).await });
        Guarded::new(&mut stopping, cell).await
    };
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
/// Only ever polled by the actor's own task, whose waker it registers with the cell's idle
/// waker while the future waits, so that a kill wakes it.
struct Guarded<'a, F> {
    future: &'a mut F,
    cell: &'a ActorCell,
}

impl<'a, F> Guarded<'a, F> {
    fn new(future: &'a mut F, cell: &'a ActorCell) -> Self {
        Self { future, cell }
    }
}

impl<F: Future + Unpin> Future for Guarded<'_, F> {
    type Output = Outcome<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match catch_panic(|| Pin::new(&mut *this.future).poll(cx)) {
            Ok(Poll::Ready(output)) => return Poll::Ready(Outcome::Done(output)),
            Err(message) => return Poll::Ready(Outcome::Panicked(message)),
            Ok(Poll::Pending) => {}
        }
        // Register first, then look: a kill in between still wakes this task.
        this.cell.register_idle(cx.waker());
        if this.cell.killed() {
            return Poll::Ready(Outcome::Killed);
        }
        Poll::Pending
    }
}

/// Drops `value`, catching a panic in its `Drop` and returning the panic's message.
pub(crate) fn drop_catching<T>(value: T) -> Option<String> {
    catch_panic(move || drop(value)).err()
}
