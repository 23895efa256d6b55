//! Supervision trees: let it crash, restart cleanly.
//!
//! Every actor has a supervisor. An actor spawned from a handler with
//! [`Context::spawn`](crate::Context::spawn) or [`Context::supervise`](crate::Context::supervise)
//! is a child of that actor; an actor spawned from outside is a child of the system. A
//! supervisor decides what happens when a child ends, and a supervisor that gives up
//! escalates to its own supervisor:
//!
//! ```text
//!                 system                 top-level actors: one-for-one, SystemConfig's intensity
//!               /        \
//!        Registry#1       Pool#2         Pool's children: Pool::supervision()
//!       (permanent)    (permanent)
//!                     /     |     \
//!             Worker#3  Worker#4  Worker#5
//!           (transient) (transient) (transient)
//! ```
//!
//! If `Worker#4` panics, `Pool#2` restarts it ([`Restart::Transient`] restarts after a
//! failure) after a short [`Backoff`]; with [`Strategy::OneForAll`] it would restart all
//! three workers, with [`Strategy::RestForOne`] `Worker#4` and `Worker#5`. If the workers
//! fail more often than the pool's intensity allows, the pool stops them and fails itself;
//! the system then restarts the pool (it is permanent), which starts fresh workers from its
//! `on_start`.
//!
//! # What a restart does
//!
//! The actor is built again by [`Actor::on_start`](crate::Actor::on_start) from a clone of
//! the arguments it was first spawned with (hence `Args: Clone` for restartable actors).
//! Its [`ActorRef`](crate::ActorRef) stays valid and its mailbox survives: queued messages
//! are handled by the new incarnation. The message whose handler panicked is not retried;
//! an asker waiting on it gets [`AskError::Panicked`](crate::AskError::Panicked).
//!
//! # What counts as a failure
//!
//! A panic in any handler or hook, an error from `on_start`, [`Context::fail`](crate::Context::fail)
//! (a handler error the actor declares fatal), and the abnormal end of a linked actor.
//! [`ExitReason`](crate::ExitReason) tells them apart.
//!
//! # Watching and linking
//!
//! [`Context::watch`](crate::Context::watch) delivers one
//! [`on_terminated`](crate::Actor::on_terminated) notice when the watched actor ends for
//! good, even if it already had. [`Context::link`](crate::Context::link) ties two actors
//! together as Erlang links do: when either one's incarnation ends abnormally, the other
//! fails too, unless it [traps exits](crate::Context::trap_exits), in which case it hears
//! [`on_link_exit`](crate::Actor::on_link_exit) instead. A restarted actor starts with no
//! links, like a new process.
//!
//! # Shutdown
//!
//! An actor's children stop before it does, newest first, each within the system's
//! [stop timeout](crate::SystemConfig::stop_timeout) and then killed. System shutdown does
//! the same from the top, so the whole tree stops in reverse start order.
//!
//! Every decision is logged (`warn` for a restart, `error` when intensity is exceeded) and
//! passed to the supervisor's [`on_child_exit`](crate::Actor::on_child_exit) hook.

mod relations;
mod strategy;
mod supervisor;
mod tree;
mod watch;

pub use relations::{ChildExit, Decision};
pub use strategy::{Backoff, Restart, Strategy, Supervision};
pub use tree::{SupervisionTree, TreeNode};

pub(crate) use relations::{Notice, Relations};
pub(crate) use supervisor::{
    adopt, children, close_children, decide, release, reopen, stop_children, Next,
};
pub(crate) use watch::{ended_for_good, incarnation_ended, link, unlink, unwatch, watch};
