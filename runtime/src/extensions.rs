//! Per-system typed state.

use std::any::{Any, TypeId};
use std::sync::Arc;

use dashmap::DashMap;

/// A map from a type to one shared value of that type, owned by one system.
///
/// Upper layers keep their per-system state here (the actor layer keeps its table of live
/// actors and its defaults), so two systems in one process never share state and tests can
/// run in parallel. Values are stored behind an [`Arc`] and handed out as clones of it.
///
/// # Examples
///
/// ```
/// use playhouse_runtime::Extensions;
///
/// #[derive(Debug, PartialEq)]
/// struct Greeting(&'static str);
///
/// let extensions = Extensions::default();
/// assert!(extensions.get::<Greeting>().is_none());
/// let first = extensions.get_or_insert_with(|| Greeting("hello"));
/// let again = extensions.get_or_insert_with(|| Greeting("ignored"));
/// assert_eq!(*again, Greeting("hello"));
/// assert!(std::sync::Arc::ptr_eq(&first, &again));
/// ```
#[derive(Default)]
pub struct Extensions {
    map: DashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl Extensions {
    /// Returns the value of type `T`, if one was inserted.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        let value = self.map.get(&TypeId::of::<T>())?.value().clone();
        // The key is the value's own TypeId, so the downcast cannot fail.
        value.downcast::<T>().ok()
    }

    /// Inserts `value`, replacing and returning any earlier value of the same type.
    pub fn insert<T: Send + Sync + 'static>(&self, value: T) -> Option<Arc<T>> {
        let old = self.map.insert(TypeId::of::<T>(), Arc::new(value))?;
        old.downcast::<T>().ok()
    }

    /// Returns the value of type `T`, inserting the one `init` makes if there is none.
    ///
    /// When two threads race, `init` may run in both but only one value is kept and both
    /// get that one.
    pub fn get_or_insert_with<T: Send + Sync + 'static>(&self, init: impl FnOnce() -> T) -> Arc<T> {
        if let Some(value) = self.get::<T>() {
            return value;
        }
        let value = self
            .map
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(init()))
            .value()
            .clone();
        value
            .downcast::<T>()
            .expect("extension stored under the TypeId of another type")
    }
}

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extensions")
            .field("len", &self.map.len())
            .finish()
    }
}
