//! Helpers every implementation shares, so that they cost the same everywhere: the
//! completion latch, the random numbers of `big`, the colours of `chameneos`, and memory.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// Counts down to zero once; one task waits for zero.
///
/// Workloads end with it (the last hop, the last meeting, the last started actor), so
/// every library is timed up to the same event, signalled the same way.
#[derive(Debug)]
pub(crate) struct Latch {
    remaining: AtomicU64,
    zero: Notify,
}

impl Latch {
    pub(crate) fn new(count: u64) -> Arc<Self> {
        Arc::new(Self {
            remaining: AtomicU64::new(count),
            zero: Notify::new(),
        })
    }

    pub(crate) fn count_down(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            // Stores a permit if the waiter has not started waiting yet.
            self.zero.notify_one();
        }
    }

    pub(crate) async fn wait(&self) {
        while self.remaining.load(Ordering::Acquire) != 0 {
            self.zero.notified().await;
        }
    }
}

/// A small, fast, deterministic random number generator (xorshift64*), one per actor, so
/// that every library's `big` sends the same pings to the same peers.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        // Never zero, and different seeds diverge at once.
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) % bound
    }

    /// A peer of actor `me` among `actors` actors, never `me` itself.
    pub(crate) fn peer(&mut self, me: usize, actors: usize) -> usize {
        let other = self.below(actors as u64 - 1) as usize;
        if other >= me {
            other + 1
        } else {
            other
        }
    }
}

/// A chameneo's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Color {
    Blue,
    Red,
    Yellow,
}

impl Color {
    /// The colour of chameneo `index` at the start.
    pub(crate) fn initial(index: usize) -> Self {
        [Color::Blue, Color::Red, Color::Yellow][index % 3]
    }

    /// The colour after meeting a chameneo of colour `other`.
    pub(crate) fn complement(self, other: Color) -> Self {
        match (self, other) {
            (a, b) if a == b => a,
            (Color::Blue, Color::Red) | (Color::Red, Color::Blue) => Color::Yellow,
            (Color::Blue, Color::Yellow) | (Color::Yellow, Color::Blue) => Color::Red,
            _ => Color::Blue,
        }
    }
}

/// This process's resident memory in bytes (`VmRSS` in `/proc/self/status`), or 0 where
/// there is no such file.
pub(crate) fn resident_memory() -> u64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}
