//! `System`: the actors of one runtime, their defaults, and their shutdown.

use std::cmp::Reverse;
use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use dashmap::DashMap;
use playhouse_runtime::{BuildError, Builder, Handle, ShutdownFuture, ShutdownReport};
use tokio::time::Instant;

use crate::actor::Actor;
use crate::actor_ref::ActorRef;
use crate::cell::{ActorCell, ActorId, KILL, SHUTDOWN};
use crate::spawn::ActorBuilder;

/// How long an [`ask`](crate::ActorRef::ask) waits for its reply unless configured.
pub const DEFAULT_ASK_TIMEOUT: Duration = Duration::from_secs(5);

/// How long system shutdown waits for one actor to stop gracefully before killing it.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Actor-level defaults of a system, set when the runtime is built.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use playhouse::{Builder, System, SystemConfig};
///
/// let runtime = Builder::new()
///     .extension(SystemConfig::default().ask_timeout(Duration::from_millis(250)))
///     .build()
///     .unwrap();
/// runtime.block_on(async {
///     assert_eq!(System::current().ask_timeout(), Duration::from_millis(250));
/// });
/// runtime.shutdown();
/// ```
#[derive(Debug, Clone)]
pub struct SystemConfig {
    ask_timeout: Duration,
    stop_timeout: Duration,
}

impl Default for SystemConfig {
    fn default() -> Self {
        Self {
            ask_timeout: DEFAULT_ASK_TIMEOUT,
            stop_timeout: DEFAULT_STOP_TIMEOUT,
        }
    }
}

impl SystemConfig {
    /// Sets the default timeout of every ask on this system ([`DEFAULT_ASK_TIMEOUT`]
    /// unless set). A single ask can choose its own with
    /// [`ask_timeout`](crate::ActorRef::ask_timeout).
    pub fn ask_timeout(mut self, timeout: Duration) -> Self {
        self.ask_timeout = timeout;
        self
    }

    /// Sets how long system shutdown waits for each actor to stop gracefully before it
    /// kills that actor and moves on to the next ([`DEFAULT_STOP_TIMEOUT`] unless set).
    /// The shutdown's own timeout still bounds the whole.
    pub fn stop_timeout(mut self, timeout: Duration) -> Self {
        self.stop_timeout = timeout;
        self
    }
}

struct SystemState {
    config: SystemConfig,
    live: DashMap<ActorId, Arc<ActorCell>>,
    dead_letters: AtomicU64,
    shutdown_hook: AtomicBool,
}

/// The value kept in the runtime's extensions.
struct StateSlot(Arc<SystemState>);

/// A cheap, cloneable handle to the actors of one runtime.
///
/// A system spawns actors, holds the per-system defaults (such as the ask timeout), counts
/// dead letters, and stops every actor at shutdown. Each [`Runtime`](crate::Runtime) has one;
/// [`System::attach`] makes one on a tokio runtime you already run. Two systems never share
/// state, so tests may run side by side.
#[derive(Clone)]
pub struct System {
    handle: Handle,
    state: Arc<SystemState>,
}

impl System {
    /// Returns the system running the current task.
    ///
    /// # Panics
    ///
    /// Panics outside a system: not inside [`Runtime::block_on`](crate::Runtime::block_on),
    /// `#[playhouse::main]`, `#[playhouse::test]`, an actor, or a task the system spawned.
    #[track_caller]
    pub fn current() -> Self {
        Self::from_handle(&Handle::current())
    }

    /// Returns the system running the current task, if any.
    pub fn try_current() -> Option<Self> {
        Handle::try_current().map(|handle| Self::from_handle(&handle))
    }

    /// Makes a system on the tokio runtime this task runs on, such as `#[tokio::main]`'s.
    ///
    /// Shut it down with [`shutdown`](Self::shutdown) before the tokio runtime ends, so
    /// that actors stop gracefully. The tokio runtime needs its time driver (asks and
    /// shutdown have timeouts): `#[tokio::main]` and `enable_all()` turn it on.
    ///
    /// # Errors
    ///
    /// Returns a [`BuildError`] when called outside a tokio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::prelude::*;
    ///
    /// #[derive(Actor)]
    /// struct Echo;
    ///
    /// #[messages]
    /// impl Echo {
    ///     #[message]
    ///     fn say(&self, text: String) -> String {
    ///         text
    ///     }
    /// }
    ///
    /// #[tokio::main]
    /// async fn main() {
    ///     let system = System::attach().unwrap();
    ///     let echo = system.spawn::<Echo>(Echo);
    ///     assert_eq!(echo.ask(Say { text: "hi".into() }).await.unwrap(), "hi");
    ///     let report = system.shutdown().await;
    ///     assert!(report.is_clean());
    /// }
    /// ```
    pub fn attach() -> Result<Self, BuildError> {
        Ok(Self::from_handle(&Builder::new().attach()?))
    }

    /// Returns the actor system of a runtime handle, creating it on first use.
    pub fn from_handle(handle: &Handle) -> Self {
        let extensions = handle.extensions();
        // Read the settings before get_or_insert_with: it holds a lock on the map.
        let config = extensions
            .get::<SystemConfig>()
            .map(|config| (*config).clone())
            .unwrap_or_default();
        let slot = extensions.get_or_insert_with(|| {
            StateSlot(Arc::new(SystemState {
                config,
                live: DashMap::new(),
                dead_letters: AtomicU64::new(0),
                shutdown_hook: AtomicBool::new(false),
            }))
        });
        let state = Arc::clone(&slot.0);
        if !state.shutdown_hook.swap(true, Ordering::AcqRel) {
            let weak = Arc::downgrade(&state);
            handle.on_shutdown(move |deadline| stop_all(weak, deadline));
        }
        Self {
            handle: handle.clone(),
            state,
        }
    }

    /// Returns the runtime handle underneath.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Spawns an actor on this system with its type's default mailbox.
    pub fn spawn<A: Actor>(&self, args: A::Args) -> ActorRef<A> {
        ActorBuilder::new().spawn_in(self, args)
    }

    /// Returns the default timeout of asks on this system.
    pub fn ask_timeout(&self) -> Duration {
        self.state.config.ask_timeout
    }

    /// Returns how many actors are alive (started and not yet ended).
    pub fn live_actors(&self) -> usize {
        self.state.live.len()
    }

    /// Returns how many messages were accepted by a mailbox but never handled, because
    /// their actor was killed, failed, or never started.
    pub fn dead_letters(&self) -> u64 {
        self.state.dead_letters.load(Ordering::Relaxed)
    }

    /// Stops every actor and waits, within the runtime's shutdown timeout.
    ///
    /// Actors stop one after another in reverse start order, each handling what it already
    /// has queued and then running `on_stop`, and end with
    /// [`ExitReason::Shutdown`](crate::ExitReason::Shutdown). An actor that takes longer
    /// than the [stop timeout](SystemConfig::stop_timeout) is killed and the next one's turn
    /// comes; once the shutdown's own timeout has passed, every actor left is killed at
    /// once. Killed actors are listed as cut off in the report. Actors spawned after
    /// shutdown began are stopped as soon as they start.
    pub fn shutdown(&self) -> ShutdownFuture {
        self.handle.shutdown()
    }

    /// Like [`shutdown`](Self::shutdown), with its own timeout.
    pub fn shutdown_timeout(&self, timeout: Duration) -> ShutdownFuture {
        self.handle.shutdown_timeout(timeout)
    }

    pub(crate) fn register(&self, cell: &Arc<ActorCell>) {
        self.state.live.insert(cell.id(), Arc::clone(cell));
    }

    pub(crate) fn unregister(&self, cell: &ActorCell) {
        self.state.live.remove(&cell.id());
    }

    pub(crate) fn dead_letter(&self, cell: &ActorCell, message_type: &'static str) {
        self.state.dead_letters.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(actor = %cell, message.type = message_type, "actor.dead_letter");
    }
}

impl fmt::Debug for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("System")
            .field("live_actors", &self.live_actors())
            .finish_non_exhaustive()
    }
}

/// The actor layer's shutdown hook: stop actors newest first, kill what the deadline cuts off.
async fn stop_all(state: Weak<SystemState>, deadline: Instant) -> ShutdownReport {
    let mut report = ShutdownReport::default();
    let Some(state) = state.upgrade() else {
        return report;
    };
    // Actors spawned while shutting down show up in a later round.
    let mut seen = HashSet::new();
    loop {
        let mut cells: Vec<Arc<ActorCell>> = state
            .live
            .iter()
            .filter(|entry| !seen.contains(entry.key()))
            .map(|entry| Arc::clone(entry.value()))
            .collect();
        if cells.is_empty() {
            return report;
        }
        if Instant::now() >= deadline {
            // Out of time: cut off everything left in one pass, even actors that keep
            // being spawned, so the shutdown ends.
            for cell in state.live.iter().map(|entry| Arc::clone(entry.value())) {
                if seen.insert(cell.id()) {
                    cell.signal(KILL);
                    report.cut_off.push(cell.to_string());
                }
            }
            return report;
        }
        cells.sort_by_key(|cell| Reverse(cell.id()));
        for cell in cells {
            seen.insert(cell.id());
            cell.signal(SHUTDOWN);
            let wait_until =
                deadline.min(playhouse_runtime::deadline_after(state.config.stop_timeout));
            if tokio::time::timeout_at(wait_until, cell.wait())
                .await
                .is_ok()
            {
                report.stopped.push(cell.to_string());
            } else {
                // Killed, it ends at its next await; the report does not wait for that.
                cell.signal(KILL);
                report.cut_off.push(cell.to_string());
            }
        }
    }
}
