//! `PoolBuilder`: the size, routing, mailbox and supervision of a pool.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use tokio::sync::oneshot;

use crate::actor::Actor;
use crate::actor_ref::ActorRef;
use crate::context::Context;
use crate::mailbox::Mailbox;
use crate::pool::error::PoolSizeError;
use crate::pool::routing::{mix, Router, Routing};
use crate::pool::shared::Shared;
use crate::pool::supervisor::{set_supervision, spawn_worker, PoolSupervisor, SupervisorArgs};
use crate::pool::Pool;
use crate::spawn::ActorBuilder;
use crate::supervision::{Restart, Supervision};
use crate::system::System;

/// Chooses a pool's size, routing, worker mailboxes and supervision, then spawns it.
///
/// Made by [`Pool::builder`]. Every setting has a default: round-robin routing, the
/// workers' [`Actor::mailbox`], and [`Supervision::default`] (at most 3 restarts within 5
/// seconds, over all the pool's workers).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use playhouse::pool::{Pool, Routing};
/// use playhouse::prelude::*;
/// use playhouse::supervision::Supervision;
///
/// #[derive(Actor, Clone)]
/// struct Worker;
///
/// # #[playhouse::main]
/// # async fn main() {
/// let pool = Pool::<Worker>::builder(4)
///     .routing(Routing::LeastLoaded)
///     .mailbox(Mailbox::bounded(16))
///     .supervision(Supervision::default().intensity(10, Duration::from_secs(1)))
///     .spawn(Worker)
///     .expect("four is not zero");
/// assert_eq!(pool.size(), 4);
/// # }
/// ```
pub struct PoolBuilder<A: Actor> {
    size: usize,
    routing: Routing,
    mailbox: Option<Mailbox>,
    supervision: Supervision,
    seed: Option<u64>,
    _actor: PhantomData<fn() -> A>,
}

impl<A: Actor> fmt::Debug for PoolBuilder<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolBuilder")
            .field("size", &self.size)
            .field("routing", &self.routing)
            .field("mailbox", &self.mailbox)
            .field("supervision", &self.supervision)
            .field("seed", &self.seed)
            .finish()
    }
}

impl<A: Actor> PoolBuilder<A> {
    pub(super) fn new(size: usize) -> Self {
        Self {
            size,
            routing: Routing::default(),
            mailbox: None,
            supervision: Supervision::default(),
            seed: None,
            _actor: PhantomData,
        }
    }

    /// Chooses how sends pick a worker ([`Routing::RoundRobin`] unless set).
    pub fn routing(mut self, routing: Routing) -> Self {
        self.routing = routing;
        self
    }

    /// Chooses every worker's mailbox instead of [`Actor::mailbox`].
    ///
    /// With bounded mailboxes the pool pushes back once every worker's mailbox is full;
    /// see [backpressure](super#backpressure).
    pub fn mailbox(mut self, mailbox: Mailbox) -> Self {
        self.mailbox = Some(mailbox);
        self
    }

    /// Sets how the workers are restarted: restart intensity (counted over all the pool's
    /// workers) and backoff. The strategy is always one-for-one: workers are independent.
    pub fn supervision(mut self, supervision: Supervision) -> Self {
        self.supervision = supervision;
        self
    }

    /// Seeds [`Routing::Random`], so that the same sends pick the same workers run after
    /// run. Unseeded, each pool starts from its own seed.
    pub fn random_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Spawns the pool on the current system, as a top-level actor and its workers.
    ///
    /// # Errors
    ///
    /// Returns [`PoolSizeError`] if the pool was asked for no workers; nothing is spawned.
    ///
    /// # Panics
    ///
    /// Panics outside a Playhouse system; see [`System::current`].
    #[track_caller]
    pub fn spawn(self, args: A::Args) -> Result<Pool<A>, PoolSizeError>
    where
        A::Args: Clone,
    {
        self.spawn_in(&System::current(), args)
    }

    /// Spawns the pool on `system`, as a top-level actor and its workers.
    ///
    /// The pool's supervisor is restarted by the system after a failure (it fails when its
    /// workers exceed their restart intensity), not after a normal stop.
    ///
    /// # Errors
    ///
    /// Returns [`PoolSizeError`] if the pool was asked for no workers; nothing is spawned.
    pub fn spawn_in(self, system: &System, args: A::Args) -> Result<Pool<A>, PoolSizeError>
    where
        A::Args: Clone,
    {
        self.start(system, args, |supervisor_args| {
            ActorBuilder::new().supervise_in(system, Restart::Transient, supervisor_args)
        })
    }

    /// Spawns the pool as a child of the actor that owns `ctx`: the pool stops before that
    /// actor does, and is restarted by it after a failure.
    ///
    /// # Errors
    ///
    /// Returns [`PoolSizeError`] if the pool was asked for no workers; nothing is spawned.
    pub fn spawn_child<P: Actor>(
        self,
        ctx: &Context<P>,
        args: A::Args,
    ) -> Result<Pool<A>, PoolSizeError>
    where
        A::Args: Clone,
    {
        self.start(ctx.system(), args, |supervisor_args| {
            ActorBuilder::new().supervise_child(ctx, Restart::Transient, supervisor_args)
        })
    }

    fn start(
        self,
        system: &System,
        args: A::Args,
        spawn_supervisor: impl FnOnce(SupervisorArgs<A>) -> ActorRef<PoolSupervisor<A>>,
    ) -> Result<Pool<A>, PoolSizeError>
    where
        A::Args: Clone,
    {
        if self.size == 0 {
            return Err(PoolSizeError);
        }
        let (hand_over, initial) = oneshot::channel();
        let shared = Arc::new(Shared::new(
            self.size,
            Router::new(self.routing, self.seed.unwrap_or(0)),
            system.ask_timeout(),
            system.handle().coarse_clock().clone(),
            initial,
        ));
        let supervisor = spawn_supervisor(SupervisorArgs {
            shared: Arc::clone(&shared),
            args: args.clone(),
            mailbox: self.mailbox,
            supervision: self.supervision,
        });
        // Start the workers now, as the supervisor's children, so that the pool can take
        // messages as soon as this returns (they wait in the workers' mailboxes until each
        // has started, as with any actor). The supervisor adopts them when it starts.
        if self.seed.is_none() {
            shared.router.reseed(unseeded(supervisor.id().as_u64()));
        }
        set_supervision(&supervisor.cell, self.supervision);
        let parent = Context::new(supervisor.clone(), system.clone());
        let workers: Vec<ActorRef<A>> = (0..self.size)
            .map(|_| spawn_worker::<A, PoolSupervisor<A>>(&parent, &args, self.mailbox))
            .collect();
        shared.publish(&workers);
        // If the supervisor is already gone, it started fresh workers or none: either way,
        // these ones stop with it, as its children.
        let _ = hand_over.send(workers);
        Ok(Pool {
            shared,
            supervisor: supervisor.recipient(),
        })
    }
}

/// A seed for a pool whose routing was not seeded: different for every pool (`unique`
/// is its supervisor's id) and every run.
fn unseeded(unique: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    mix(mix(unique) ^ u64::from(nanos))
}
