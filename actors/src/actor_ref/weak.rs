//! `WeakActorRef<A>`: a reference that does not keep the mailbox allocated.

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Weak};

use crate::actor::Actor;
use crate::actor_ref::ActorRef;
use crate::cell::{ActorCell, ActorId};

/// A reference to an actor that does not keep its mailbox and shared state allocated.
///
/// Hold one where a strong reference would keep memory alive for nothing: caches, lists
/// of observers, back references from child to parent. [`upgrade`](Self::upgrade) returns
/// an [`ActorRef`] while the actor is alive, and `None` once it has ended.
///
/// # Examples
///
/// ```
/// use playhouse::prelude::*;
///
/// #[derive(Actor)]
/// struct Idle;
///
/// # #[playhouse::main]
/// # async fn main() {
/// let actor = Idle::spawn(Idle);
/// let weak = actor.downgrade();
/// assert!(weak.upgrade().is_some());
/// actor.stop();
/// actor.wait().await;
/// assert!(weak.upgrade().is_none());
/// # }
/// ```
pub struct WeakActorRef<A: Actor> {
    cell: Weak<ActorCell>,
    id: ActorId,
    _actor: PhantomData<fn(A)>,
}

impl<A: Actor> WeakActorRef<A> {
    pub(crate) fn new(actor: &ActorRef<A>) -> Self {
        Self {
            cell: Arc::downgrade(&actor.cell),
            id: actor.id(),
            _actor: PhantomData,
        }
    }

    /// Returns the actor's id.
    pub fn id(&self) -> ActorId {
        self.id
    }

    /// Returns a strong reference while the actor is alive, `None` once it has ended.
    pub fn upgrade(&self) -> Option<ActorRef<A>> {
        let cell = self.cell.upgrade()?;
        if !cell.is_alive() {
            return None;
        }
        Some(ActorRef::from_cell(cell))
    }
}

impl<A: Actor> Clone for WeakActorRef<A> {
    fn clone(&self) -> Self {
        Self {
            cell: Weak::clone(&self.cell),
            id: self.id,
            _actor: PhantomData,
        }
    }
}

impl<A: Actor> fmt::Debug for WeakActorRef<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WeakActorRef({}{})",
            crate::cell::short_type_name(std::any::type_name::<A>()),
            self.id
        )
    }
}
