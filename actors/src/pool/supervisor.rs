//! The actor that owns a pool's workers: it supervises them, resizes the pool, and
//! publishes the list that sends are routed over.

use std::convert::Infallible;
use std::sync::Arc;

use crate::actor::Actor;
use crate::actor_ref::ActorRef;
use crate::cell::ActorCell;
use crate::context::Context;
use crate::exit::ExitReason;
use crate::mailbox::Mailbox;
use crate::message::{Handler, Message};
use crate::pool::shared::Shared;
use crate::spawn::ActorBuilder;
use crate::supervision::{Restart, Strategy, Supervision};

/// Supervises the workers of one pool; shows in the supervision tree as
/// `PoolSupervisor<Worker>#id`.
///
/// Its workers are permanent children: a worker that fails or is killed is restarted
/// behind the same reference, its mailbox intact. Too many restarts within the pool's
/// intensity and it fails: its workers stop, and its own supervisor restarts it (it is
/// transient) with fresh workers, as many as the pool had.
pub(super) struct PoolSupervisor<A: Actor> {
    shared: Arc<Shared<A>>,
    args: A::Args,
    mailbox: Option<Mailbox>,
    /// Oldest first; the list sends are routed over.
    workers: Vec<ActorRef<A>>,
}

/// What a pool supervisor is built (and rebuilt) from.
pub(super) struct SupervisorArgs<A: Actor> {
    pub(super) shared: Arc<Shared<A>>,
    pub(super) args: A::Args,
    pub(super) mailbox: Option<Mailbox>,
    pub(super) supervision: Supervision,
}

impl<A: Actor> Clone for SupervisorArgs<A>
where
    A::Args: Clone,
{
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            args: self.args.clone(),
            mailbox: self.mailbox,
            supervision: self.supervision,
        }
    }
}

/// Makes `supervisor` supervise its children with `supervision`, one-for-one, from its
/// next child on. (`Actor::supervision` takes no arguments, so a pool sets its own here.)
pub(super) fn set_supervision(supervisor: &ActorCell, supervision: Supervision) {
    let supervision = supervision.strategy(Strategy::OneForOne);
    supervisor.with_relations(|relations| relations.supervision = Some(supervision));
}

/// Starts one worker as a permanent child of the actor that owns `ctx`.
pub(super) fn spawn_worker<A: Actor, P: Actor>(
    ctx: &Context<P>,
    args: &A::Args,
    mailbox: Option<Mailbox>,
) -> ActorRef<A>
where
    A::Args: Clone,
{
    let builder = ActorBuilder::<A>::new();
    let builder = match mailbox {
        Some(mailbox) => builder.mailbox(mailbox),
        None => builder,
    };
    builder.supervise_child(ctx, Restart::Permanent, args.clone())
}

impl<A: Actor> Actor for PoolSupervisor<A>
where
    A::Args: Clone,
{
    type Args = SupervisorArgs<A>;
    type Error = Infallible;

    async fn on_start(
        args: SupervisorArgs<A>,
        ctx: &mut Context<Self>,
    ) -> Result<Self, Infallible> {
        set_supervision(ctx.cell(), args.supervision);
        // The first incarnation adopts the workers the builder started (so that a pool has
        // its workers as soon as it is spawned); a restarted one starts fresh workers.
        let initial = args
            .shared
            .initial
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        let adopted = match initial {
            Some(initial) => initial.await.ok(),
            None => None,
        };
        let workers = adopted.unwrap_or_else(|| {
            (0..args.shared.size())
                .map(|_| spawn_worker::<A, Self>(ctx, &args.args, args.mailbox))
                .collect()
        });
        args.shared.publish(&workers);
        Ok(PoolSupervisor {
            shared: args.shared,
            args: args.args,
            mailbox: args.mailbox,
            workers,
        })
    }

    async fn on_stop(&mut self, _ctx: &mut Context<Self>, _reason: &ExitReason) {
        // The workers have stopped (children stop first): nothing to route to.
        self.workers.clear();
        self.shared.publish(&[]);
    }
}

impl<A: Actor> Drop for PoolSupervisor<A> {
    /// Also when the supervisor is killed (then `on_stop` does not run): the handle must
    /// not keep routing to, and holding, the workers of an incarnation that is gone.
    fn drop(&mut self) {
        self.shared.publish(&[]);
    }
}

/// Grows or shrinks the pool to the given number of workers (at least one).
pub(super) struct Resize(pub(super) usize);

impl Message for Resize {
    type Reply = ();
}

impl<A: Actor> Handler<Resize> for PoolSupervisor<A>
where
    A::Args: Clone,
{
    async fn handle(&mut self, Resize(size): Resize, ctx: &mut Context<Self>) {
        if size > self.workers.len() {
            while self.workers.len() < size {
                let worker = spawn_worker::<A, Self>(ctx, &self.args, self.mailbox);
                self.workers.push(worker);
            }
            self.shared.set_size(size);
            self.shared.publish(&self.workers);
        } else if size < self.workers.len() {
            let retired = self.workers.split_off(size);
            self.shared.set_size(size);
            // Publish first: new sends go to the workers that stay, while the retired ones
            // finish what they already have.
            self.shared.publish(&self.workers);
            for worker in retired.iter().rev() {
                ctx.stop_child(worker);
            }
        }
    }
}
