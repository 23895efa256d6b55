//! `System`: the actors of one runtime, their defaults, and their shutdown.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use playhouse_runtime::{BuildError, Builder, Handle, ShutdownFuture, ShutdownReport};
use tokio::time::Instant;

use crate::actor::Actor;
use crate::actor_ref::ActorRef;
use crate::actor_ref::Recipient;
use crate::cell::{ActorCell, ActorKind, KILL, SHUTDOWN};
use crate::dead_letters::{DeadLetter, DeadLetterOffice, DeadLetterStream};
use crate::exit::ExitReason;
use crate::registry::Registry;
use crate::spawn::ActorBuilder;
use crate::supervision::{self, Restart, Strategy, Supervision, SupervisionTree};

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
    supervision: Supervision,
}

impl Default for SystemConfig {
    fn default() -> Self {
        Self {
            ask_timeout: DEFAULT_ASK_TIMEOUT,
            stop_timeout: DEFAULT_STOP_TIMEOUT,
            supervision: Supervision::default(),
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

    /// Sets how the system supervises top-level actors ([`Supervision::default`] unless
    /// set). The strategy is always one-for-one: top-level actors are independent. A
    /// top-level actor that exceeds the intensity is stopped and an error is logged.
    pub fn supervision(mut self, supervision: Supervision) -> Self {
        self.supervision = supervision.strategy(Strategy::OneForOne);
        self
    }
}

/// The system's root: named "system"; its supervision comes from `SystemConfig`.
static ROOT_KIND: ActorKind = ActorKind {
    type_name: || "system",
    supervision: Supervision::default,
};

struct SystemState {
    config: SystemConfig,
    /// The supervisor of top-level actors: a cell with no task of its own.
    root: Arc<ActorCell>,
    /// How many actors are alive. The actors themselves are found through the supervision
    /// tree (every actor is in its parent's children until it ends for good), so spawning
    /// costs one counter here, not a map entry.
    live: AtomicUsize,
    /// Actors spawned while their parent was already stopping its children: in nobody's
    /// children, so the final sweep of a shutdown finds them here. Rare, and pruned as it
    /// grows.
    orphans: Mutex<Vec<Weak<ActorCell>>>,
    dead_letters: DeadLetterOffice,
    registry: Registry,
    shutdown_hook: AtomicBool,
    /// While shutting down: each actor's end, in the order they ended.
    ended_in_shutdown: Mutex<Vec<(String, ExitReason)>>,
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
        Self::of(Handle::current())
    }

    /// Returns the system running the current task, if any.
    pub fn try_current() -> Option<Self> {
        Handle::try_current().map(Self::of)
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
        Self::of(handle.clone())
    }

    /// [`from_handle`](Self::from_handle), keeping the handle it is given.
    fn of(handle: Handle) -> Self {
        // The common case, on every `spawn` from outside an actor: the system exists.
        let existing = handle.extensions().with(|slot: &StateSlot| {
            slot.0
                .shutdown_hook
                .load(Ordering::Acquire)
                .then(|| Arc::clone(&slot.0))
        });
        if let Some(Some(state)) = existing {
            return Self { handle, state };
        }
        let extensions = handle.extensions();
        // Read the settings before get_or_insert_with: it holds a lock on the map.
        let config = extensions
            .get::<SystemConfig>()
            .map(|config| (*config).clone())
            .unwrap_or_default();
        let slot = extensions.get_or_insert_with(|| {
            let root = Arc::new(ActorCell::new(
                &ROOT_KIND,
                // The root takes no messages: its mailbox stays empty.
                crate::Mailbox::unbounded(),
                config.ask_timeout,
                handle.coarse_clock().clone(),
                None,
            ));
            root.with_relations(|relations| relations.supervision = Some(config.supervision));
            StateSlot(Arc::new(SystemState {
                config,
                root,
                live: AtomicUsize::new(0),
                orphans: Mutex::new(Vec::new()),
                dead_letters: DeadLetterOffice::default(),
                registry: Registry::default(),
                shutdown_hook: AtomicBool::new(false),
                ended_in_shutdown: Mutex::new(Vec::new()),
            }))
        });
        let state = Arc::clone(&slot.0);
        if !state.shutdown_hook.swap(true, Ordering::AcqRel) {
            let weak = Arc::downgrade(&state);
            handle.on_shutdown(move |deadline| stop_all(weak, deadline));
        }
        Self { handle, state }
    }

    /// Returns the runtime handle underneath.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Spawns a top-level actor on this system with its type's default mailbox. It is
    /// not restarted when it ends; see [`supervise`](Self::supervise).
    pub fn spawn<A: Actor>(&self, args: A::Args) -> ActorRef<A> {
        ActorBuilder::new().spawn_in(self, args)
    }

    /// Spawns a top-level actor that the system restarts according to `restart` and the
    /// system's [supervision](SystemConfig::supervision).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::prelude::*;
    /// use playhouse::supervision::Restart;
    ///
    /// #[derive(Actor, Clone)]
    /// struct Flaky;
    ///
    /// #[messages]
    /// impl Flaky {
    ///     #[message]
    ///     fn crash(&self) {
    ///         panic!("oops");
    ///     }
    ///
    ///     #[message]
    ///     fn ping(&self) -> &'static str {
    ///         "pong"
    ///     }
    /// }
    ///
    /// # #[playhouse::main]
    /// # async fn main() {
    /// let flaky = System::current().supervise::<Flaky>(Restart::Permanent, Flaky);
    /// assert!(flaky.ask(Crash).await.is_err());
    /// // Restarted behind the same reference; the mailbox survived.
    /// assert_eq!(flaky.ask(Ping).await.unwrap(), "pong");
    /// # }
    /// ```
    pub fn supervise<A: Actor>(&self, restart: Restart, args: A::Args) -> ActorRef<A>
    where
        A::Args: Clone,
    {
        ActorBuilder::new().supervise_in(self, restart, args)
    }

    /// Returns a snapshot of the supervision tree.
    pub fn tree(&self) -> SupervisionTree {
        SupervisionTree::of(&self.state.root)
    }

    /// Passes every future dead letter to `subscriber` (an actor handling [`DeadLetter`]).
    ///
    /// A subscriber whose mailbox is full misses the dead letter (the count still has it);
    /// a subscriber that stopped is dropped.
    pub fn subscribe_dead_letters(&self, subscriber: Recipient<DeadLetter>) {
        self.state.dead_letters.subscribe(subscriber);
    }

    /// Returns a stream of every future dead letter.
    pub fn dead_letter_stream(&self) -> DeadLetterStream {
        self.state.dead_letters.stream()
    }

    /// Returns how long shutdown waits for one actor to stop before killing it.
    pub fn stop_timeout(&self) -> Duration {
        self.state.config.stop_timeout
    }

    pub(crate) fn registry(&self) -> &Registry {
        &self.state.registry
    }

    pub(crate) fn root(&self) -> Arc<ActorCell> {
        Arc::clone(&self.state.root)
    }

    /// Returns the default timeout of asks on this system.
    pub fn ask_timeout(&self) -> Duration {
        self.state.config.ask_timeout
    }

    /// Returns how many actors are alive (started and not yet ended).
    pub fn live_actors(&self) -> usize {
        self.state.live.load(Ordering::Relaxed)
    }

    /// Returns how many messages never reached a handler without their sender being told:
    /// accepted by a mailbox whose actor was killed, failed for good or never started, or
    /// missed by a topic subscriber whose mailbox was full. See [`DeadLetter`].
    pub fn dead_letters(&self) -> u64 {
        self.state.dead_letters.count()
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

    /// Counts a new actor as alive.
    pub(crate) fn track(&self) {
        self.state.live.fetch_add(1, Ordering::Relaxed);
    }

    /// Remembers an actor that no parent adopted, for the final sweep of a shutdown.
    pub(crate) fn track_orphan(&self, cell: &Arc<ActorCell>) {
        let mut orphans = self
            .state
            .orphans
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if orphans.len() == orphans.capacity() {
            orphans.retain(|orphan| orphan.upgrade().is_some_and(|cell| cell.is_alive()));
        }
        orphans.push(Arc::downgrade(cell));
    }

    /// Counts an actor that ended for good.
    pub(crate) fn untrack(&self) {
        self.state.live.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn dead_letter(&self, cell: &ActorCell, message_type: &'static str) {
        self.state.dead_letters.record(cell, message_type);
    }

    /// Notes an actor's end for the shutdown report, if the system is shutting down.
    pub(crate) fn record_end(&self, cell: &ActorCell, reason: &ExitReason) {
        if self.handle.is_shutting_down() {
            self.state
                .ended_in_shutdown
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push((cell.to_string(), reason.clone()));
        }
    }
}

impl fmt::Debug for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("System")
            .field("live_actors", &self.live_actors())
            .finish_non_exhaustive()
    }
}

/// The actor layer's shutdown hook: stop the tree from the top, newest first; each actor
/// stops its own children first. Whatever the deadline cuts off is killed.
async fn stop_all(state: Weak<SystemState>, deadline: Instant) -> ShutdownReport {
    let Some(state) = state.upgrade() else {
        return ShutdownReport::default();
    };
    for cell in supervision::close_children(&state.root) {
        cell.signal(SHUTDOWN);
        let wait_until = deadline.min(playhouse_runtime::deadline_after(state.config.stop_timeout));
        if tokio::time::timeout_at(wait_until, cell.wait())
            .await
            .is_err()
        {
            cell.signal(KILL);
            // Killed, it ends at its next await; wait for that only until the deadline.
            let _ = tokio::time::timeout_at(deadline, cell.wait()).await;
        }
    }
    // Anything still alive (spawned meanwhile, or stuck past the deadline) is cut off.
    let mut cut_off = Vec::new();
    let orphans = std::mem::take(
        &mut *state
            .orphans
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    );
    let mut pending: Vec<Arc<ActorCell>> = orphans.iter().filter_map(Weak::upgrade).collect();
    pending.extend(supervision::children(&state.root));
    while let Some(cell) = pending.pop() {
        if cell.is_alive() {
            cell.signal(SHUTDOWN | KILL);
            cut_off.push(cell.to_string());
        }
        pending.extend(supervision::children(&cell));
    }
    let ended = std::mem::take(
        &mut *state
            .ended_in_shutdown
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    );
    let mut report = ShutdownReport::default();
    for (name, reason) in ended {
        match reason {
            ExitReason::Killed => report.cut_off.push(name),
            ExitReason::Shutdown | ExitReason::Normal => report.stopped.push(name),
            other => report.stopped.push(format!("{name} ({other})")),
        }
    }
    report.cut_off.extend(cut_off);
    report
}
