//! The actor's task: one hand-written future per actor, the only state a waiting actor keeps.
//!
//! The hot path, receiving a message and polling its handler, is written out by hand here,
//! so that an idle actor's task holds just the actor, its context, the handler slot and a
//! few words (an `async fn` nesting the same steps kept every level's locals side by side,
//! several hundred bytes per actor). The rare steps (starting, notices, stopping,
//! restarting, the end) are `async fn`s in [`crate::run`], run as boxed futures between
//! stretches of receiving, so they cost nothing while the actor waits for mail.
//!
//! Both kinds of step borrow the task's own fields: the handler borrows the actor and the
//! context from inside the slot, and a cold step borrows whatever it works on. That is
//! sound because the task is pinned (it never moves once polled), because those fields are
//! not touched while something borrows them, and because the borrowing future is always
//! dropped first: on completion, or in the task's `Drop`.

use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use crate::actor::Actor;
use crate::cell::{short_type_name, ACTIONS, FAIL, KILL, NOTICE, RESTART, SHUTDOWN, STOP};
use crate::context::Context;
use crate::envelope::{catch_panic, Envelope};
use crate::exit::{ExitReason, PanicReport};
use crate::future_slot::FutureSlot;
use crate::mailbox::{MailboxReceiver, TryRecv};
use crate::run::{self, drop_catching, After, Parts};
use crate::spawn::ArgsSource;
use crate::supervision::Restart;
use crate::trace;

/// A cold step, its borrows of the task erased (see the module's docs).
type ColdStep = Pin<Box<dyn Future<Output = After> + Send>>;

enum Phase {
    /// Not polled yet: the first cold step (`on_start`) borrows the task, so it can only be
    /// made once the task is pinned.
    Unstarted,
    /// A cold step is running.
    Cold(ColdStep),
    /// Waiting for mail or a signal.
    Receiving,
    /// A handler lives in the slot and has not finished.
    Handling {
        message_type: &'static str,
        /// The message's span, entered around each poll; only kept if anybody records it.
        span: Option<Box<tracing::Span>>,
    },
    /// The actor has ended for good.
    Done,
}

/// What the actor does next while receiving.
enum Next<A: Actor> {
    Message(Envelope<A>),
    Notices,
    End(ExitReason),
    /// A signal came as the task was about to sleep: look again from the top.
    Again,
    Wait,
}

/// The future that runs one actor for its whole life, from the first `on_start` to the
/// last dead letter.
pub(crate) struct ActorTask<A: Actor> {
    /// Declared first so that it drops first: a cold step borrows the fields below.
    phase: Phase,
    /// The running handler's future, which borrows `actor` and `ctx`; dropped before them.
    slot: FutureSlot,
    /// The current incarnation, once started.
    actor: Option<A>,
    ctx: Context<A>,
    mailbox: MailboxReceiver<A>,
    args: ArgsSource<A::Args>,
    restart: Restart,
    /// Messages the actor may still handle in a row before it yields its worker; 0 once it
    /// waited for mail or yielded, and the system's message budget is read again at the
    /// next one.
    left_in_a_row: u32,
    /// Futures inside borrow the task's fields: it must never move once polled.
    _pinned: PhantomPinned,
}

impl<A: Actor> ActorTask<A> {
    pub(crate) fn new(
        ctx: Context<A>,
        mailbox: MailboxReceiver<A>,
        restart: Restart,
        args: ArgsSource<A::Args>,
    ) -> Self {
        Self {
            phase: Phase::Unstarted,
            slot: FutureSlot::new(),
            actor: None,
            ctx,
            mailbox,
            args,
            restart,
            left_in_a_row: 0,
            _pinned: PhantomPinned,
        }
    }

    /// The cold step from the end of an incarnation (or from the beginning) to the next
    /// stretch of receiving, or to the end.
    ///
    /// # Safety
    ///
    /// The task is pinned, and until the step is dropped only the step touches the fields
    /// other than `phase`.
    unsafe fn between(&mut self, ended: Option<ExitReason>) -> Phase {
        let step: Pin<Box<dyn Future<Output = After> + Send + '_>> = Box::pin(run::between(
            Parts {
                actor: &mut self.actor,
                ctx: &mut self.ctx,
                mailbox: &mut self.mailbox,
                restart: self.restart,
                args: &mut self.args,
            },
            ended,
        ));
        // SAFETY: the caller's contract.
        Phase::Cold(unsafe { erase(step) })
    }

    /// The cold step that hands queued notices to their hooks.
    ///
    /// # Safety
    ///
    /// As for [`between`](Self::between).
    unsafe fn hear(&mut self) -> Phase {
        let actor = self
            .actor
            .as_mut()
            .expect("an incarnation is in place while receiving");
        let step: Pin<Box<dyn Future<Output = After> + Send + '_>> =
            Box::pin(run::hear_all(actor, &mut self.ctx, self.mailbox.cell()));
        // SAFETY: the caller's contract.
        Phase::Cold(unsafe { erase(step) })
    }

    /// Looks at the signals, then the mailbox. Only called with no handler alive.
    fn next(&mut self, cx: &mut TaskContext<'_>) -> Next<A> {
        let cell = self.ctx.cell();
        let signals = cell.signals();
        if signals & KILL != 0 {
            return Next::End(ExitReason::Killed);
        }
        if signals & NOTICE != 0 {
            // Before a failure or restart takes effect, so the actor hears why.
            cell.clear_signals(NOTICE);
            return Next::Notices;
        }
        if signals & FAIL != 0 {
            return Next::End(ExitReason::Failed(cell.take_failure()));
        }
        if signals & RESTART != 0 {
            return Next::End(ExitReason::Restart);
        }
        if let TryRecv::Message(envelope) = self.mailbox.try_recv() {
            return Next::Message(envelope);
        }
        // Stopping gracefully: what was queued is handled; senders are refused.
        if signals & SHUTDOWN != 0 {
            return Next::End(ExitReason::Shutdown);
        }
        if signals & STOP != 0 {
            return Next::End(ExitReason::Normal);
        }
        self.left_in_a_row = 0;
        cell.register_idle(cx.waker());
        if cell.signals() & ACTIONS != 0 {
            return Next::Again;
        }
        match self.mailbox.poll_recv(cx) {
            Poll::Ready(Some(envelope)) => Next::Message(envelope),
            Poll::Ready(None) => Next::End(ExitReason::Normal),
            Poll::Pending => Next::Wait,
        }
    }

    /// Hands `envelope` to its handler, which then lives in the slot, and polls it once.
    /// `None` when the handler is over and the task goes on.
    fn dispatch(&mut self, envelope: Envelope<A>, cx: &mut TaskContext<'_>) -> Option<Poll<()>> {
        let message_type = envelope.message_type();
        let cell = self.mailbox.cell();
        // A message span only if anybody may record it: checking first costs one load.
        let span = crate::envelope::tracing_messages()
            .then(|| trace::message_span(cell, message_type, envelope.sender_span()))
            .filter(|span| !span.is_disabled())
            .map(Box::new);
        self.phase = Phase::Handling { message_type, span };
        self.poll_handler(Some(envelope), cx)
    }

    /// Polls the handler in the slot, after calling it with `envelope` (the message just
    /// taken) if there is one. `None` when it is over and the task goes on.
    fn poll_handler(
        &mut self,
        envelope: Option<Envelope<A>>,
        cx: &mut TaskContext<'_>,
    ) -> Option<Poll<()>> {
        let Phase::Handling { message_type, span } = &self.phase else {
            return None;
        };
        let message_type = *message_type;
        let polled = {
            let _entered = span.as_deref().map(tracing::Span::enter);
            catch_panic(|| {
                if let Some(envelope) = envelope {
                    // Calling the handler makes its future, and a handler written as a
                    // plain `fn` returning one may run code of its own right there: under
                    // this guard and span too. The handler stays in the slot after this
                    // borrow ends: it is polled and dropped here before `actor` or `ctx`
                    // is touched again.
                    let actor = self
                        .actor
                        .as_mut()
                        .expect("an incarnation is in place while receiving");
                    envelope
                        .dispatch(&mut self.mailbox, actor, &mut self.ctx, &mut self.slot)
                        .detach();
                }
                // SAFETY: the handler borrows `actor` and `ctx`, which stay where they are
                // and are left alone until it is dropped (here once it is done, under the
                // same guard, since its `Drop` is user code too).
                let poll = unsafe { self.slot.poll_live(cx) };
                if poll.is_ready() {
                    // SAFETY: as above.
                    unsafe { self.slot.drop_live() };
                }
                poll
            })
        };
        let ended = match polled {
            Ok(Poll::Ready(())) => None,
            Err(message) => {
                self.drop_handler();
                Some(handler_panicked(message_type, message))
            }
            Ok(Poll::Pending) => {
                let cell = self.mailbox.cell();
                // Register first, then look: a kill in between still wakes this task.
                cell.register_idle(cx.waker());
                if !cell.killed() {
                    // No message is taken while the handler waits: every waiting sender
                    // is released, and a sender woken by this message's take needs no
                    // end of turn.
                    self.mailbox.waiting();
                    let _ = crate::mailbox::woke_sender();
                    return Some(Poll::Pending);
                }
                // The message was taken but not handled: the asker hears `Dropped`, and it
                // counts as a dead letter.
                self.drop_handler();
                self.ctx
                    .system()
                    .dead_letter(self.mailbox.cell(), message_type);
                Some(ExitReason::Killed)
            }
        };
        if let Some(reason) = ended {
            // SAFETY: the handler is gone; the task is pinned.
            self.phase = unsafe { self.between(Some(reason)) };
            return None;
        }
        self.phase = Phase::Receiving;
        let left = match self.left_in_a_row {
            0 => self.ctx.system().handle().message_budget(),
            left => left,
        };
        self.left_in_a_row = left.saturating_sub(1);
        if crate::mailbox::woke_sender() {
            // This message's take woke a sender waiting for room, queued on this worker:
            // ending the turn lets it fill the room now, instead of at the budget's end
            // or once another worker steals it. (On a strand, the strand's other members
            // go first, and the sender once the strand's runner yields.)
            self.left_in_a_row = 0;
        }
        if self.left_in_a_row == 0 {
            // A busy actor gives other tasks on this worker their turn. tokio's own yield
            // defers the wake-up until the worker has run the others, without waking an
            // idle worker to steal the actor (as a plain self-wake would). Its first poll
            // only defers the wake-up, so it need not be kept.
            if crate::strand::on_turn() {
                // On a strand, the other actors' turns come first: back of its queue.
                cx.waker().wake_by_ref();
            } else {
                let _deferred = std::pin::pin!(tokio::task::yield_now()).poll(cx);
            }
            return Some(Poll::Pending);
        }
        None
    }

    /// Drops the handler in the slot, returning the message of a panic in its `Drop`.
    fn drop_handler(&mut self) -> Option<String> {
        // SAFETY: what the handler borrows is still in place.
        catch_panic(|| unsafe { self.slot.drop_live() }).err()
    }
}

fn handler_panicked(message_type: &'static str, message: String) -> ExitReason {
    let during = format!("handle({})", short_type_name(message_type));
    ExitReason::Panicked(PanicReport::new(during, message))
}

/// Forgets the lifetime of a cold step's borrows of its task.
///
/// # Safety
///
/// As for [`ActorTask::between`].
unsafe fn erase<'a>(step: Pin<Box<dyn Future<Output = After> + Send + 'a>>) -> ColdStep {
    // SAFETY: only the lifetime changes; the caller keeps the borrows valid.
    unsafe {
        std::mem::transmute::<Pin<Box<dyn Future<Output = After> + Send + 'a>>, ColdStep>(step)
    }
}

impl<A: Actor> Future for ActorTask<A> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        // SAFETY: nothing is moved out of the task; the futures that borrow its fields
        // rely on exactly that.
        let this = unsafe { self.get_unchecked_mut() };
        loop {
            match &mut this.phase {
                Phase::Handling { .. } => {
                    if let Some(poll) = this.poll_handler(None, cx) {
                        return poll;
                    }
                }
                Phase::Receiving => match this.next(cx) {
                    Next::Message(envelope) => {
                        if let Some(poll) = this.dispatch(envelope, cx) {
                            return poll;
                        }
                    }
                    Next::Again => {}
                    Next::Wait => return Poll::Pending,
                    Next::Notices => {
                        // SAFETY: no handler is alive; the task is pinned.
                        this.phase = unsafe { this.hear() };
                    }
                    Next::End(reason) => {
                        // SAFETY: no handler is alive; the task is pinned.
                        this.phase = unsafe { this.between(Some(reason)) };
                    }
                },
                Phase::Cold(step) => {
                    let after = match step.as_mut().poll(cx) {
                        Poll::Pending => {
                            // No message is taken until the step is over.
                            this.mailbox.waiting();
                            return Poll::Pending;
                        }
                        Poll::Ready(after) => after,
                    };
                    // The finished step goes before the fields it borrowed are used again.
                    this.phase = Phase::Receiving;
                    match after {
                        After::Receive => {}
                        // SAFETY: the step is gone; the task is pinned.
                        After::End(reason) => this.phase = unsafe { this.between(Some(reason)) },
                        After::Done => {
                            this.phase = Phase::Done;
                            return Poll::Ready(());
                        }
                    }
                }
                // SAFETY: nothing borrows the task yet; it is pinned from now on.
                Phase::Unstarted => this.phase = unsafe { this.between(None) },
                Phase::Done => return Poll::Ready(()),
            }
        }
    }
}

impl<A: Actor> Drop for ActorTask<A> {
    fn drop(&mut self) {
        // What borrows the fields goes first: a cold step, then a handler. Both can hold
        // user values (the actor, hook futures), whose drop may panic: caught, so that the
        // end below is always recorded.
        drop_catching(std::mem::replace(&mut self.phase, Phase::Done));
        self.drop_handler();
        // The actor too, before its end is announced: waiters then find its resources let go.
        drop_catching(self.actor.take());
        // The task was dropped unfinished (its runtime went away): the actor's end is still
        // recorded, so that waiters and asks are released rather than left hanging.
        let cell = self.mailbox.cell();
        if cell.is_alive() {
            run::end_for_good(cell, self.ctx.system(), ExitReason::Killed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ActorTask;
    use crate::actor::Quiet;

    #[test]
    fn a_small_actors_task_fits_a_small_tokio_task() {
        // tokio adds about 104 bytes to a future and rounds the task up to 128-byte
        // steps: at most 152 bytes of our own keep an idle actor's task at 256.
        let size = std::mem::size_of::<ActorTask<Quiet>>();
        assert!(size <= 152, "ActorTask<Quiet> grew to {size} bytes");
    }
}
