//! What an actor knows of the actors around it: children, links, watchers, notices.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Weak};

use tokio::time::Instant;

use crate::cell::{ActorCell, ActorId};
use crate::exit::ExitReason;
use crate::supervision::{Restart, Supervision};

/// A supervised child in its parent's relations.
pub(crate) struct Child {
    pub(crate) cell: Arc<ActorCell>,
    pub(crate) restart: Restart,
    /// When this child was restarted, within the parent's intensity window (for backoff).
    /// Boxed on the first restart: the system's root keeps an entry for every top-level
    /// actor, and most are never restarted.
    #[allow(clippy::box_collection)] // One word in the entry instead of the deque's four.
    pub(crate) restarts: Option<Box<VecDeque<Instant>>>,
}

/// Something the actor's loop must hear about between messages.
#[derive(Debug, Clone)]
pub(crate) enum Notice {
    /// A watched actor ended for good.
    Terminated { actor: ActorId, reason: ExitReason },
    /// A linked actor's incarnation ended, and this actor traps exits.
    LinkExit { actor: ActorId, reason: ExitReason },
    /// A child ended an incarnation, with what its supervisor decided.
    ChildExit(ChildExit),
}

#[derive(Default)]
pub(crate) struct Relations {
    /// Keyed by id, which grows in spawn order: iteration is start order, and removing a
    /// child is cheap even for the system's root with a million top-level actors.
    pub(crate) children: BTreeMap<ActorId, Child>,
    /// This actor's supervision of its children: `Actor::supervision`, read when the first
    /// child is adopted (the system's root has its own from `SystemConfig`).
    pub(crate) supervision: Option<Supervision>,
    /// Restart times of all children within the intensity window.
    pub(crate) restarts: VecDeque<Instant>,
    pub(crate) links: Vec<Weak<ActorCell>>,
    pub(crate) trap_exits: bool,
    pub(crate) watchers: Vec<Weak<ActorCell>>,
    pub(crate) notices: VecDeque<Notice>,
    /// Why the current incarnation must fail (set with the `FAIL` signal).
    pub(crate) failure: Option<Arc<str>>,
    /// Set once the actor has ended for good, with why (for late watchers and links, and
    /// for `ActorRef::exit_reason`).
    pub(crate) ended: Option<ExitReason>,
    /// Tasks waiting for the actor's end (`ActorRef::wait`), woken by `ActorCell::finish`.
    pub(crate) exit_waiters: Option<Arc<tokio::sync::Notify>>,
    /// Names this actor holds in its system's registry, freed when it ends.
    pub(crate) names: Vec<Arc<str>>,
    /// The current incarnation's timers and attached streams, which end with it (set by
    /// the first one, taken by `timer::end_incarnation`).
    pub(crate) incarnation: Option<Arc<crate::timer::Incarnation>>,
}

/// What happened to a child, as its supervisor's [`on_child_exit`](crate::Actor::on_child_exit)
/// hook hears it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildExit {
    /// The child.
    pub child: ActorId,
    /// The child's type and id, such as `Worker#12`.
    pub name: String,
    /// Why its incarnation ended.
    pub reason: ExitReason,
    /// What the supervisor did about it.
    pub decision: Decision,
}

/// A supervisor's decision about a child that ended an incarnation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Restarted after `delay`; `attempt` counts its restarts within the intensity window.
    Restarted {
        /// How many times this child was restarted within the window, this one included.
        attempt: u32,
        /// The backoff waited before the restart.
        delay: std::time::Duration,
    },
    /// Restarted together with a sibling, by the one-for-all or rest-for-one strategy.
    RestartedWithSibling,
    /// Not restarted: its policy or the way it ended says so. It is gone.
    Stopped,
    /// Too many restarts: the child is gone and the supervisor fails too (escalation).
    Escalated,
}
