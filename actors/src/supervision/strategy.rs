//! Restart policies, strategies, intensity and backoff.

use std::time::Duration;

/// When a supervised actor is restarted after it ends (OTP's restart types).
///
/// An actor that its supervisor or the system shuts down is never restarted, whatever its
/// policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Restart {
    /// Always restarted: after a failure, a kill, and also after it stopped normally (even
    /// by [`ActorRef::stop`](crate::ActorRef::stop)). For services that must always run;
    /// to retire one, stop its supervisor or use
    /// [`Context::stop_child`](crate::Context::stop_child).
    Permanent,
    /// Restarted only after an abnormal end: a panic, a failed start,
    /// [`Context::fail`](crate::Context::fail), a linked failure, or a kill. A normal stop
    /// ends it for good.
    Transient,
    /// Never restarted (the default for [`Context::spawn`](crate::Context::spawn) and
    /// top-level actors).
    #[default]
    Temporary,
}

impl Restart {
    pub(crate) fn restarts_after(self, reason: &crate::ExitReason) -> bool {
        match self {
            Restart::Permanent => true,
            Restart::Transient => reason.is_abnormal(),
            Restart::Temporary => false,
        }
    }
}

/// Which children a supervisor restarts when one of them must be restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Only the child that ended (the default).
    #[default]
    OneForOne,
    /// Every child: for children that cannot work without each other.
    OneForAll,
    /// The child that ended and every child started after it: for children that depend
    /// on the ones started before them.
    RestForOne,
}

/// Exponential backoff between restarts of one child, with a cap and jitter.
///
/// The n-th restart of a child within the supervisor's intensity window waits
/// `min(initial × 2ⁿ⁻¹, max)`, then scaled by a random factor in `1 ± jitter`. The first
/// restart waits `initial`: short enough to be invisible to a user, long enough that a
/// crash loop cannot spin a core or hammer whatever made the child crash.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    jitter: f64,
}

impl Default for Backoff {
    /// 10 ms, doubling up to 1 s, ±20 % jitter.
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(10),
            max: Duration::from_secs(1),
            jitter: 0.2,
        }
    }
}

impl Backoff {
    /// Backoff from `initial` doubling up to `max`, with the default ±20 % jitter.
    pub fn exponential(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max: max.max(initial),
            ..Self::default()
        }
    }

    /// No waiting: restart at once, as Erlang/OTP does.
    pub fn none() -> Self {
        Self {
            initial: Duration::ZERO,
            max: Duration::ZERO,
            jitter: 0.0,
        }
    }

    /// Sets the jitter, a fraction from 0 (none) to 1; values outside are clamped.
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = if jitter.is_nan() {
            0.0
        } else {
            jitter.clamp(0.0, 1.0)
        };
        self
    }

    /// The wait before restart number `attempt` (1 for the first), with `random` in
    /// `[0, 1)` choosing the jitter.
    pub(crate) fn delay(&self, attempt: u32, random: f64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(32);
        let base = self
            .initial
            .saturating_mul(1u32 << doublings.min(31))
            .min(self.max);
        let factor = 1.0 + self.jitter * (2.0 * random - 1.0);
        base.mul_f64(factor.max(0.0))
    }
}

/// How an actor supervises its children: the strategy, the restart intensity, the backoff.
///
/// Returned by [`Actor::supervision`](crate::Actor::supervision) for the children of an
/// actor, and set in [`SystemConfig`](crate::SystemConfig) for top-level actors.
///
/// **Intensity**: at most `max_restarts` restarts within `within`, counted over all the
/// supervisor's children. One more and the supervisor gives up: it stops its children and
/// fails itself with [`ExitReason::Failed`](crate::ExitReason::Failed), so its own
/// supervisor decides what happens next (escalation). The system, at the top, stops the
/// actor that keeps failing and logs an error.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use playhouse::supervision::{Backoff, Strategy, Supervision};
///
/// let supervision = Supervision::default()
///     .strategy(Strategy::OneForAll)
///     .intensity(5, Duration::from_secs(10))
///     .backoff(Backoff::exponential(Duration::from_millis(50), Duration::from_secs(2)));
/// assert_ne!(supervision, Supervision::default());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Supervision {
    pub(crate) strategy: Strategy,
    pub(crate) max_restarts: u32,
    pub(crate) within: Duration,
    pub(crate) backoff: Backoff,
}

impl Default for Supervision {
    /// One-for-one, at most 3 restarts within 5 seconds, the default [`Backoff`].
    fn default() -> Self {
        Self {
            strategy: Strategy::OneForOne,
            max_restarts: 3,
            within: Duration::from_secs(5),
            backoff: Backoff::default(),
        }
    }
}

impl Supervision {
    /// Sets the strategy.
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Sets the intensity: at most `max_restarts` restarts within `within`.
    pub fn intensity(mut self, max_restarts: u32, within: Duration) -> Self {
        self.max_restarts = max_restarts;
        self.within = within;
        self
    }

    /// Sets the backoff between restarts.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_and_jitters_within_bounds() {
        let backoff =
            Backoff::exponential(Duration::from_millis(10), Duration::from_millis(50)).jitter(0.0);
        let delays: Vec<_> = (1..=5).map(|attempt| backoff.delay(attempt, 0.5)).collect();
        assert_eq!(
            delays,
            [10, 20, 40, 50, 50].map(Duration::from_millis).to_vec()
        );
        let jittery = Backoff::default();
        assert_eq!(jittery.delay(1, 0.0), Duration::from_millis(8));
        assert!(jittery.delay(1, 0.999) < Duration::from_millis(12));
        assert_eq!(jittery.delay(1000, 0.5), Duration::from_secs(1));
        assert_eq!(Backoff::none().delay(7, 0.3), Duration::ZERO);
    }

    #[test]
    fn policies_restart_after_the_documented_reasons() {
        use crate::ExitReason;
        let failed = ExitReason::Failed("x".into());
        assert!(Restart::Permanent.restarts_after(&ExitReason::Normal));
        assert!(!Restart::Transient.restarts_after(&ExitReason::Normal));
        assert!(Restart::Transient.restarts_after(&failed));
        assert!(Restart::Transient.restarts_after(&ExitReason::Killed));
        assert!(!Restart::Temporary.restarts_after(&failed));
    }
}
