//! Names to references, per system.

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::Arc;

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;

use crate::actor::Actor;
use crate::actor_ref::ActorRef;
use crate::cell::{ActorCell, ActorId};
use crate::context::Context;
use crate::system::System;

/// One registered name.
struct Registration {
    cell: Arc<ActorCell>,
    type_id: TypeId,
    type_name: &'static str,
    /// The `ActorRef<A>`, typed again on lookup.
    actor: Box<dyn Any + Send + Sync>,
}

/// The names of one system.
#[derive(Default)]
pub(crate) struct Registry {
    names: DashMap<Arc<str>, Registration>,
}

/// Registering a name failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegisterError {
    /// Another live actor holds the name.
    Taken {
        /// The name.
        name: String,
        /// The actor that holds it.
        holder: ActorId,
    },
    /// The actor has already ended: a name for it would point nowhere.
    Stopped {
        /// The name.
        name: String,
    },
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegisterError::Taken { name, holder } => {
                write!(f, "name `{name}` is already registered to actor {holder}")
            }
            RegisterError::Stopped { name } => {
                write!(f, "cannot register `{name}`: the actor has stopped")
            }
        }
    }
}

impl std::error::Error for RegisterError {}

/// Looking a name up failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LookupError {
    /// No live actor holds the name.
    NotFound {
        /// The name.
        name: String,
    },
    /// The name belongs to an actor of another type.
    WrongType {
        /// The name.
        name: String,
        /// The type asked for.
        expected: &'static str,
        /// The type of the actor that holds the name.
        actual: &'static str,
    },
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookupError::NotFound { name } => write!(f, "no actor is registered as `{name}`"),
            LookupError::WrongType {
                name,
                expected,
                actual,
            } => write!(
                f,
                "`{name}` is registered to an actor of type `{actual}`, not `{expected}`"
            ),
        }
    }
}

impl std::error::Error for LookupError {}

impl Registry {
    fn register<A: Actor>(&self, name: &str, actor: &ActorRef<A>) -> Result<(), RegisterError> {
        let cell = Arc::clone(&actor.cell);
        let name: Arc<str> = Arc::from(name);
        // Note the name on the actor first, so that its end frees it.
        let alive = cell.with_relations(|relations| {
            if cell.ended_reason(relations).is_some() {
                return false;
            }
            if !relations.names.contains(&name) {
                relations.names.push(Arc::clone(&name));
            }
            true
        });
        if !alive {
            return Err(RegisterError::Stopped {
                name: name.to_string(),
            });
        }
        let registration = Registration {
            cell: Arc::clone(&cell),
            type_id: TypeId::of::<A>(),
            type_name: std::any::type_name::<A>(),
            actor: Box::new(actor.clone()),
        };
        let taken = match self.names.entry(Arc::clone(&name)) {
            Entry::Occupied(mut occupied) if !occupied.get().cell.is_alive() => {
                occupied.insert(registration);
                None
            }
            // Registering again under a name it holds (a restarted actor's `on_start`
            // does this) changes nothing.
            Entry::Occupied(occupied) if occupied.get().cell.id() == cell.id() => None,
            Entry::Occupied(occupied) => Some(occupied.get().cell.id()),
            Entry::Vacant(vacant) => {
                vacant.insert(registration);
                None
            }
        };
        if let Some(holder) = taken {
            forget_name(&cell, &name);
            return Err(RegisterError::Taken {
                name: name.to_string(),
                holder,
            });
        }
        // The actor may have ended between the two steps; then its end missed this name.
        if !cell.is_alive()
            || cell.with_relations(|relations| cell.ended_reason(relations).is_some())
        {
            self.release_name(&name, &cell);
            return Err(RegisterError::Stopped {
                name: name.to_string(),
            });
        }
        Ok(())
    }

    fn lookup<A: Actor>(&self, name: &str) -> Result<ActorRef<A>, LookupError> {
        let not_found = || LookupError::NotFound {
            name: name.to_owned(),
        };
        let entry = self.names.get(name).ok_or_else(not_found)?;
        if !entry.cell.is_alive() {
            return Err(not_found());
        }
        if entry.type_id != TypeId::of::<A>() {
            return Err(LookupError::WrongType {
                name: name.to_owned(),
                expected: std::any::type_name::<A>(),
                actual: entry.type_name,
            });
        }
        let actor = entry.actor.downcast_ref::<ActorRef<A>>();
        // The TypeId matched, so the downcast cannot fail; say "not found" if it ever did.
        actor.cloned().ok_or_else(not_found)
    }

    fn unregister(&self, name: &str) -> Option<ActorId> {
        let (name, registration) = self.names.remove(name)?;
        forget_name(&registration.cell, &name);
        Some(registration.cell.id())
    }

    fn release_name(&self, name: &Arc<str>, cell: &ActorCell) {
        self.names
            .remove_if(name, |_, registration| registration.cell.id() == cell.id());
    }

    /// Frees every name of an actor that ended.
    pub(crate) fn release(&self, cell: &ActorCell) {
        let names = cell
            .with_existing_relations(|relations| std::mem::take(&mut relations.names))
            .unwrap_or_default();
        for name in names {
            self.release_name(&name, cell);
        }
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .names
            .iter()
            .filter(|entry| entry.value().cell.is_alive())
            .map(|entry| entry.key().to_string())
            .collect();
        names.sort();
        names
    }
}

fn forget_name(cell: &ActorCell, name: &str) {
    cell.with_existing_relations(|relations| relations.names.retain(|held| &**held != name));
}

impl System {
    /// Registers `actor` under `name` in this system, until the actor ends or the name is
    /// [unregistered](Self::unregister). An actor may hold several names.
    ///
    /// # Errors
    ///
    /// [`RegisterError::Taken`] if another live actor holds the name (registering an actor
    /// again under a name it already holds succeeds and changes nothing, so a restarted
    /// actor may register itself again in `on_start`);
    /// [`RegisterError::Stopped`] if the actor has ended.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::prelude::*;
    ///
    /// #[derive(Actor)]
    /// struct Cache;
    ///
    /// #[derive(Actor)]
    /// struct Logger;
    ///
    /// # #[playhouse::main]
    /// # async fn main() {
    /// let system = System::current();
    /// let cache = Cache::spawn(Cache);
    /// system.register("cache", &cache).unwrap();
    /// assert_eq!(system.lookup::<Cache>("cache").unwrap(), cache);
    /// // A lookup of the wrong type is an error, not a panic.
    /// assert!(system.lookup::<Logger>("cache").is_err());
    /// cache.stop();
    /// cache.wait().await;
    /// // The name was freed when the actor stopped.
    /// assert!(system.lookup::<Cache>("cache").is_err());
    /// # }
    /// ```
    pub fn register<A: Actor>(&self, name: &str, actor: &ActorRef<A>) -> Result<(), RegisterError> {
        self.registry().register(name, actor)
    }

    /// Returns the actor registered under `name`, typed.
    ///
    /// # Errors
    ///
    /// [`LookupError::NotFound`] if no live actor holds the name;
    /// [`LookupError::WrongType`] if it belongs to an actor of another type.
    pub fn lookup<A: Actor>(&self, name: &str) -> Result<ActorRef<A>, LookupError> {
        self.registry().lookup(name)
    }

    /// Frees `name`; returns the id of the actor that held it, if any.
    pub fn unregister(&self, name: &str) -> Option<ActorId> {
        self.registry().unregister(name)
    }

    /// Returns the registered names of live actors, sorted.
    pub fn registered_names(&self) -> Vec<String> {
        self.registry().names()
    }
}

impl<A: Actor> Context<A> {
    /// Registers this actor under `name` in its system; see [`System::register`].
    ///
    /// # Errors
    ///
    /// As [`System::register`].
    pub fn register(&self, name: &str) -> Result<(), RegisterError> {
        self.system().register(name, self.actor_ref())
    }
}
