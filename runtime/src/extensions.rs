//! Per-system typed state.

use std::any::{Any, TypeId};
use std::hash::{BuildHasherDefault, Hasher};
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
    map: DashMap<TypeId, Arc<dyn Any + Send + Sync>, BuildHasherDefault<TypeIdHasher>>,
}

/// Hashes the map's keys. A `TypeId` is a hash of its type already and hashes itself as
/// one `u64`, which is used as it is: the actor layer looks its system up here on every
/// spawn from outside an actor, where SipHash cost a fifth of the lookup.
struct TypeIdHasher(u64);

impl Default for TypeIdHasher {
    fn default() -> Self {
        // FNV-1a's offset basis, for the byte fallback below; a `TypeId`'s bits are mixed
        // in whole, and stay as uniform as they were.
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for TypeIdHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Not how a `TypeId` hashes itself today, but kept correct if that changes:
        // FNV-1a over the bytes.
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl Extensions {
    /// Returns the value of type `T`, if one was inserted.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        let value = self.map.get(&TypeId::of::<T>())?.value().clone();
        // The key is the value's own TypeId, so the downcast cannot fail.
        value.downcast::<T>().ok()
    }

    /// Calls `read` with the value of type `T`, if one was inserted, without cloning its
    /// `Arc`: the cheaper look when the caller only reads from the value.
    ///
    /// `read` runs while the map's shard is locked for reading: it must not insert into or
    /// remove from these extensions (`insert`, `get_or_insert_with`).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse_runtime::Extensions;
    ///
    /// struct Limit(u32);
    ///
    /// let extensions = Extensions::default();
    /// assert_eq!(extensions.with(|limit: &Limit| limit.0), None);
    /// extensions.insert(Limit(7));
    /// assert_eq!(extensions.with(|limit: &Limit| limit.0), Some(7));
    /// ```
    pub fn with<T: Send + Sync + 'static, R>(&self, read: impl FnOnce(&T) -> R) -> Option<R> {
        let entry = self.map.get(&TypeId::of::<T>())?;
        // The key is the value's own TypeId, so the downcast cannot fail.
        entry.value().downcast_ref::<T>().map(read)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::Hash;

    struct First(u8);
    struct Second(u8);
    struct Third(u8);

    #[test]
    fn values_of_different_types_are_kept_apart() {
        let extensions = Extensions::default();
        extensions.insert(First(1));
        extensions.insert(Second(2));
        assert_eq!(extensions.with(|value: &First| value.0), Some(1));
        assert_eq!(extensions.with(|value: &Second| value.0), Some(2));
        assert!(extensions.with(|value: &Third| value.0).is_none());
        assert_eq!(extensions.insert(First(3)).map(|old| old.0), Some(1));
        assert_eq!(extensions.get::<First>().map(|value| value.0), Some(3));
    }

    #[test]
    fn the_key_hasher_spreads_bytes_as_well_as_type_ids() {
        let hash = |write: &dyn Fn(&mut TypeIdHasher)| {
            let mut hasher = TypeIdHasher::default();
            write(&mut hasher);
            hasher.finish()
        };
        let first = hash(&|h| TypeId::of::<First>().hash(h));
        let second = hash(&|h| TypeId::of::<Second>().hash(h));
        assert_ne!(first, second);
        assert_ne!(hash(&|h| h.write(b"ab")), hash(&|h| h.write(b"ba")));
    }
}
