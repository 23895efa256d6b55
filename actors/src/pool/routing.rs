//! How a pool picks a worker: the strategies, and the arithmetic behind them.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::actor::Actor;
use crate::actor_ref::ActorRef;

/// How a [`Pool`](super::Pool) picks the worker for each [`tell`](super::Pool::tell),
/// [`try_tell`](super::Pool::try_tell) and [`ask`](super::Pool::ask).
///
/// Whatever the strategy, a worker with no room is passed over for the next one (see
/// [backpressure](super#backpressure)). Two more ways to route are chosen per send rather
/// than per pool, because they need something from the message that not every message
/// has: [`Pool::with_key`](super::Pool::with_key) (consistent hashing on a key) and
/// [`Pool::broadcast`](super::Pool::broadcast) (every worker, for `Clone` messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Routing {
    /// Each worker in turn (the default): even spreading of similar work.
    #[default]
    RoundRobin,
    /// The worker with the fewest messages waiting in its mailbox; ties are broken in turn.
    ///
    /// For work of uneven length: a busy worker's mailbox grows, so new work goes around
    /// it. The message a worker is handling does not count, only those waiting.
    LeastLoaded,
    /// A worker chosen at random, uniformly; reproducible with
    /// [`PoolBuilder::random_seed`](super::PoolBuilder::random_seed).
    Random,
}

/// Which workers a send tries, in order: `count` workers from `start`, wrapping around.
#[derive(Debug, Clone, Copy)]
pub(super) struct Order {
    start: usize,
    count: usize,
    len: usize,
}

impl Order {
    /// Every worker, from `start`.
    pub(super) fn from(start: usize, len: usize) -> Self {
        Self {
            start,
            count: len,
            len,
        }
    }

    /// Only the worker at `index`.
    pub(super) fn only(index: usize, len: usize) -> Self {
        Self {
            start: index,
            count: 1,
            len,
        }
    }

    pub(super) fn iter(self) -> impl Iterator<Item = usize> {
        (0..self.count).map(move |step| (self.start + step) % self.len)
    }
}

/// The state a pool's routing keeps between sends: lock-free counters.
pub(super) struct Router {
    routing: Routing,
    /// The next turn, for round-robin and for breaking least-loaded ties.
    turn: AtomicUsize,
    /// A Weyl sequence; each step, mixed, is one random number.
    random: AtomicU64,
}

impl Router {
    pub(super) fn new(routing: Routing, seed: u64) -> Self {
        Self {
            routing,
            turn: AtomicUsize::new(0),
            random: AtomicU64::new(seed),
        }
    }

    /// Restarts the random sequence from `seed`.
    pub(super) fn reseed(&self, seed: u64) {
        self.random.store(seed, Ordering::Relaxed);
    }

    pub(super) fn routing(&self) -> Routing {
        self.routing
    }

    /// Picks the first worker to try among `workers` (not empty).
    pub(super) fn pick<A: Actor>(&self, workers: &[ActorRef<A>]) -> usize {
        let len = workers.len();
        match self.routing {
            Routing::RoundRobin => self.turn.fetch_add(1, Ordering::Relaxed) % len,
            Routing::Random => below(self.next_random(), len),
            Routing::LeastLoaded => {
                let first = self.turn.fetch_add(1, Ordering::Relaxed) % len;
                let mut best = first;
                let mut best_len = usize::MAX;
                for index in Order::from(first, len).iter() {
                    let worker = &workers[index];
                    if worker.cell.refusing() {
                        continue;
                    }
                    let queued = worker.mailbox_len();
                    if queued < best_len {
                        best = index;
                        best_len = queued;
                        if queued == 0 {
                            break;
                        }
                    }
                }
                best
            }
        }
    }

    fn next_random(&self) -> u64 {
        const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
        let state = self
            .random
            .fetch_add(GOLDEN_GAMMA, Ordering::Relaxed)
            .wrapping_add(GOLDEN_GAMMA);
        mix(state)
    }
}

/// SplitMix64's finaliser: spreads the bits of `z` over the whole word.
pub(super) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Maps a random `value` onto `0..len` without modulo bias worth speaking of.
fn below(value: u64, len: usize) -> usize {
    ((u128::from(value) * len as u128) >> 64) as usize
}

/// The 64-bit hash of a routing key: stable for the life of the process.
pub(super) fn key_hash(key: impl Hash) -> u64 {
    // `DefaultHasher::new` always starts from the same keys, so equal keys hash equally
    // in every pool and every call.
    let mut hasher = std::hash::DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}

/// Jump consistent hash (Lamping and Veach, 2014): the bucket in `0..buckets` of `key`.
///
/// When `buckets` grows from `n` to `n + 1`, a key either stays in its bucket or moves to
/// the new bucket `n`, and only about `1 / (n + 1)` of the keys move; shrinking undoes
/// that. A pool adds workers at the end of its list and removes the newest first, so a
/// resize moves as few keys as it can.
pub(super) fn jump_hash(mut key: u64, buckets: usize) -> usize {
    debug_assert!(buckets > 0, "jump_hash needs at least one bucket");
    let buckets = buckets as u64;
    let mut bucket = 0;
    let mut next = 0;
    while next < buckets {
        bucket = next;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        // The next bucket where this key would jump, were there enough of them.
        let scale = f64::from(1u32 << 31) / ((key >> 33) + 1) as f64;
        next = ((bucket + 1) as f64 * scale) as u64;
    }
    bucket as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jump_hash_moves_keys_only_to_the_new_bucket() {
        for buckets in 1..20 {
            let mut moved = 0;
            for key in 0..2_000u64 {
                let key = mix(key);
                let before = jump_hash(key, buckets);
                let after = jump_hash(key, buckets + 1);
                assert!(before < buckets);
                if before != after {
                    assert_eq!(after, buckets, "a moved key goes to the new bucket");
                    moved += 1;
                }
            }
            let expected = 2_000 / (buckets + 1);
            assert!(
                moved < expected * 2 + 20,
                "{moved} keys moved going to {} buckets",
                buckets + 1
            );
        }
    }

    #[test]
    fn jump_hash_with_one_bucket_is_always_zero() {
        assert!((0..100).all(|key| jump_hash(mix(key), 1) == 0));
    }

    #[test]
    fn below_stays_in_range() {
        for len in 1..10 {
            for value in [0, 1, u64::MAX / 2, u64::MAX - 1, u64::MAX] {
                assert!(below(value, len) < len);
            }
        }
        assert_eq!(below(u64::MAX, 4), 3);
        assert_eq!(below(0, 4), 0);
    }

    #[test]
    fn orders_wrap_around() {
        assert_eq!(Order::from(2, 4).iter().collect::<Vec<_>>(), [2, 3, 0, 1]);
        assert_eq!(Order::only(3, 4).iter().collect::<Vec<_>>(), [3]);
    }
}
