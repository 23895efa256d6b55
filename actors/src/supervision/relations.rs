//! What an actor knows of the actors around it: children, links, watchers, notices.

use std::collections::VecDeque;
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

/// A parent's children, in the order they were adopted (which is the order they started).
///
/// A vector with holes where children left, compacted once holes outnumber children.
/// Each child's cell keeps its place in the vector (written under the parent's relations
/// lock), so adopting a child is a push and releasing one is a store, even for the
/// system's root with a million top-level actors. (A B-tree keyed by id was ~9% of
/// spawning and stopping 100 k actors.)
#[derive(Default)]
pub(crate) struct Children {
    slots: Vec<Option<Child>>,
    live: usize,
}

/// Holes are squeezed out only past this many slots, so small parents never compact.
const COMPACT_FROM: usize = 32;

impl Children {
    /// Adds a child after the others.
    pub(crate) fn insert(&mut self, child: Child) {
        child.cell.set_sibling_index(self.slots.len());
        self.slots.push(Some(child));
        self.live += 1;
    }

    /// The index of `cell` among the slots, if it is a child here.
    fn index_of(&self, cell: &ActorCell) -> Option<usize> {
        let is_it = |slot: &Option<Child>| {
            slot.as_ref()
                .is_some_and(|child| std::ptr::eq(Arc::as_ptr(&child.cell), cell))
        };
        match cell.sibling_index() {
            Some(index) if self.slots.get(index).is_some_and(is_it) => Some(index),
            // Not a child here, or an index too large for the cell to keep.
            Some(_) => None,
            None => self.slots.iter().position(is_it),
        }
    }

    /// The entry of child `cell`, if it is one.
    pub(crate) fn get(&self, cell: &ActorCell) -> Option<&Child> {
        self.index_of(cell)
            .and_then(|index| self.slots[index].as_ref())
    }

    /// The entry of child `cell`, if it is one.
    pub(crate) fn get_mut(&mut self, cell: &ActorCell) -> Option<&mut Child> {
        self.index_of(cell)
            .and_then(|index| self.slots[index].as_mut())
    }

    /// Removes child `cell`, if it is one.
    pub(crate) fn remove(&mut self, cell: &ActorCell) -> Option<Child> {
        let index = self.index_of(cell)?;
        let child = self.slots[index].take();
        self.live -= 1;
        if self.live == 0 {
            self.slots.clear();
        } else if self.slots.len() >= COMPACT_FROM && self.live * 2 < self.slots.len() {
            self.slots.retain(Option::is_some);
            for (index, child) in self.slots.iter().flatten().enumerate() {
                child.cell.set_sibling_index(index);
            }
        }
        if self.slots.capacity() > COMPACT_FROM && self.slots.capacity() > self.slots.len() * 4 {
            self.slots.shrink_to(self.slots.len() * 2);
        }
        child
    }

    /// The children, oldest first.
    pub(crate) fn values(&self) -> impl DoubleEndedIterator<Item = &Child> {
        self.slots.iter().flatten()
    }

    /// The children adopted after `cell` (none if it is not a child here).
    pub(crate) fn after(&self, cell: &ActorCell) -> impl Iterator<Item = &Child> {
        let from = self
            .index_of(cell)
            .map_or(self.slots.len(), |index| index + 1);
        self.slots[from..].iter().flatten()
    }
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
    /// In start order.
    pub(crate) children: Children,
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
