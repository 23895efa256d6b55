//! The part of an actor every reference shares: identity, the control lane, the exit reason.
//!
//! Control signals (stop, kill, shutdown) are bits in one atomic word plus a wake-up for the
//! actor's loop, so they never queue behind a full mailbox.

use std::fmt;
use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use crate::exit::ExitReason;
use crate::idle_waker::IdleWaker;
use crate::mailbox::{Mailbox, MailboxCore};
use crate::supervision::{Notice, Relations, Supervision};

/// A process-unique number naming one actor.
///
/// Ids grow in spawn order within a system, so a larger id means a later start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActorId(u64);

impl ActorId {
    pub(crate) fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        ActorId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// Returns the id as a number.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Stop gracefully: handle what is queued, then end with `Normal`.
pub(crate) const STOP: u16 = 1;
/// Stop gracefully and never restart: the supervisor or the system shuts the actor down.
pub(crate) const SHUTDOWN: u16 = 2;
/// End at once, cancelling the current handler at its next await.
pub(crate) const KILL: u16 = 4;
/// End this incarnation after the current message, keeping the mailbox, to be restarted.
pub(crate) const RESTART: u16 = 8;
/// End this incarnation after the current message with the failure stored in the relations.
pub(crate) const FAIL: u16 = 16;
/// Notices (watch, link, child exits) wait in the relations.
pub(crate) const NOTICE: u16 = 32;
/// The actor has ended for good and cleaned up; its reason is in the relations or below.
/// Never cleared.
const EXITED: u16 = 64;
/// The actor is stopping its children: it adopts no more until it restarts. Set and read
/// under the relations lock.
const CLOSING: u16 = 128;
/// The actor has ended for good and told its watchers. Never cleared. Set under the
/// relations lock, with the reason's code below when the relations were never made.
const ENDED: u16 = 256;
/// Where a common exit reason is kept, so that an actor with no relations ends without
/// making them: 1 `Normal`, 2 `Killed`, 3 `Shutdown`, 0 none (the reason is in the
/// relations).
const REASON_SHIFT: u32 = 9;
const REASON_BITS: u16 = 0b11 << REASON_SHIFT;
/// The signals after which the mailbox refuses new messages.
pub(crate) const REFUSING: u16 = STOP | SHUTDOWN | KILL;
/// The signals the actor's task acts on (the others record state).
pub(crate) const ACTIONS: u16 = STOP | SHUTDOWN | KILL | RESTART | FAIL | NOTICE;

/// The code of an exit reason common enough to be kept in the signals.
fn reason_code(reason: &ExitReason) -> Option<u16> {
    match reason {
        ExitReason::Normal => Some(1),
        ExitReason::Killed => Some(2),
        ExitReason::Shutdown => Some(3),
        _ => None,
    }
}

/// The exit reason kept in `signals`, if any.
fn reason_in(signals: u16) -> Option<ExitReason> {
    match (signals & REASON_BITS) >> REASON_SHIFT {
        1 => Some(ExitReason::Normal),
        2 => Some(ExitReason::Killed),
        3 => Some(ExitReason::Shutdown),
        _ => None,
    }
}

/// What a cell knows of its actor's type, one static per type, so that it costs the cell
/// one pointer.
pub(crate) struct ActorKind {
    /// `std::any::type_name` of the actor.
    pub(crate) type_name: fn() -> &'static str,
    /// How the actor supervises children (`Actor::supervision`), read when it adopts one.
    pub(crate) supervision: fn() -> Supervision,
}

/// The fields of a cell set once it is made, or written only when its actor waits: they
/// live inside the mailbox, between the shared fields and the senders' end of the queue
/// (see `MailboxCore`), where they keep the two apart.
pub(crate) struct CellSettled {
    id: ActorId,
    /// The actor's type: its name and how it supervises children.
    kind: &'static ActorKind,
    /// The default timeout of asks, in nanoseconds (saturating at 584 years).
    ask_timeout_nanos: u64,
    /// The system's coarse clock, which watches the deadlines of asks to this actor.
    clock: playhouse_runtime::CoarseClock,
    /// Wakes the actor's task when a signal or mail arrives while it waits: a lock-free slot
    /// for the task's waker, registered each time it is about to wait (for free when
    /// unchanged), whether for mail, for a handler, or in a cold step. Written by a wake,
    /// which a busy actor's senders never make.
    idle: IdleWaker,
}

/// The fields of a cell that relate it to others: written at events (a new child, a
/// watch, the end), never per message. They live inside the mailbox, between the actor's
/// end of the queue and the shared fields (see `MailboxCore`), where they keep the two
/// apart.
pub(crate) struct CellLinks {
    /// The supervisor: another actor, or the system's root. `None` only for the root.
    parent: Option<Weak<ActorCell>>,
    /// Children, links, watchers, notices, the exit reason and its waiters: allocated on
    /// first use, so that an actor with none of them pays one word while it runs.
    relations: Mutex<Option<Box<Relations>>>,
    /// Where this actor sits among its parent's children (see `Children`); written and
    /// read under the parent's relations lock. `u32::MAX`: too far to keep.
    sibling: AtomicU32,
}

impl CellLinks {
    /// Links for a mailbox made on its own in tests.
    #[cfg(test)]
    pub(crate) fn for_tests() -> Self {
        Self {
            parent: None,
            relations: Mutex::new(None),
            sibling: AtomicU32::new(u32::MAX),
        }
    }
}

impl CellSettled {
    /// Settled fields for a mailbox made on its own in tests.
    #[cfg(test)]
    pub(crate) fn for_tests(clock: playhouse_runtime::CoarseClock) -> Self {
        Self {
            id: ActorId::next(),
            kind: KindOf::<crate::actor::Quiet>::KIND,
            ask_timeout_nanos: 1_000_000_000,
            clock,
            idle: IdleWaker::new(),
        }
    }
}

/// The [`ActorKind`] of actor type `A`.
pub(crate) struct KindOf<A>(std::marker::PhantomData<A>);

impl<A: crate::Actor> KindOf<A> {
    pub(crate) const KIND: &'static ActorKind = &ActorKind {
        type_name: std::any::type_name::<A>,
        supervision: A::supervision,
    };
}

// `pub` (in a private module) only so that the sealed `AnyActorRef` can hand it out
// within the crate without a private-interfaces warning; users cannot name it.
#[allow(unreachable_pub)]
pub struct ActorCell {
    /// The mailbox: its queue and counters live here, so a reference is one pointer. The
    /// cell's other fields ([`CellLinks`], the signals, [`CellSettled`]) live inside it,
    /// between the queue's ends.
    mailbox: MailboxCore,
}

impl ActorCell {
    pub(crate) fn new(
        kind: &'static ActorKind,
        mailbox: Mailbox,
        ask_timeout: Duration,
        clock: playhouse_runtime::CoarseClock,
        parent: Option<Weak<ActorCell>>,
    ) -> Self {
        Self {
            mailbox: MailboxCore::new(
                mailbox,
                CellLinks {
                    parent,
                    relations: Mutex::new(None),
                    sibling: AtomicU32::new(u32::MAX),
                },
                CellSettled {
                    id: ActorId::next(),
                    kind,
                    ask_timeout_nanos: u64::try_from(ask_timeout.as_nanos()).unwrap_or(u64::MAX),
                    clock,
                    idle: IdleWaker::new(),
                },
            ),
        }
    }

    pub(crate) fn id(&self) -> ActorId {
        self.settled().id
    }

    /// This actor's place among its parent's children, if it was small enough to keep.
    pub(crate) fn sibling_index(&self) -> Option<usize> {
        match self.links().sibling.load(Ordering::Relaxed) {
            u32::MAX => None,
            index => usize::try_from(index).ok(),
        }
    }

    /// Records this actor's place among its parent's children (under the parent's lock).
    pub(crate) fn set_sibling_index(&self, index: usize) {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        self.links().sibling.store(index, Ordering::Relaxed);
    }

    pub(crate) fn type_name(&self) -> &'static str {
        (self.settled().kind.type_name)()
    }

    pub(crate) fn ask_timeout(&self) -> Duration {
        Duration::from_nanos(self.settled().ask_timeout_nanos)
    }

    /// The coarse clock of the actor's system.
    pub(crate) fn clock(&self) -> &playhouse_runtime::CoarseClock {
        &self.settled().clock
    }

    fn settled(&self) -> &CellSettled {
        &self.mailbox.settled().cell
    }

    fn links(&self) -> &CellLinks {
        &self.mailbox.settled().links
    }

    /// The signals (see the constants above), which live among the mailbox's fields that
    /// both ends read for every message.
    fn signal_bits(&self) -> &AtomicU16 {
        &self.mailbox.settled().signals
    }

    pub(crate) fn mailbox(&self) -> &MailboxCore {
        &self.mailbox
    }

    /// Wakes the actor's loop if it waits for mail.
    pub(crate) fn wake_idle(&self) {
        self.settled().idle.wake();
    }

    /// Raises a control signal and wakes the actor's loop.
    pub(crate) fn signal(&self, bits: u16) {
        self.signal_bits().fetch_or(bits, Ordering::AcqRel);
        self.settled().idle.wake();
    }

    /// Registers the waker of the actor's task, about to wait, for the next signal (and, with
    /// the mailbox's parked flag, the next message). Only the actor's own task calls it.
    /// Check the signals again after this: one that came just before is not missed then.
    pub(crate) fn register_idle(&self, waker: &std::task::Waker) {
        self.settled().idle.register(waker);
    }

    /// Forgets the loop's waker once the actor has ended: it would keep the finished task's
    /// memory alive for as long as references to the actor exist.
    pub(crate) fn clear_idle(&self) {
        self.settled().idle.clear();
    }

    pub(crate) fn signals(&self) -> u16 {
        self.signal_bits().load(Ordering::Acquire)
    }

    /// Clears signals that were acted upon (a restart begins a fresh incarnation).
    pub(crate) fn clear_signals(&self, bits: u16) {
        self.signal_bits().fetch_and(!bits, Ordering::AcqRel);
    }

    /// Returns `true` once the mailbox refuses new messages.
    pub(crate) fn refusing(&self) -> bool {
        self.signals() & REFUSING != 0
    }

    /// Returns `true` for the system's root, the supervisor of top-level actors.
    pub(crate) fn is_root(&self) -> bool {
        self.links().parent.is_none()
    }

    /// Returns how this actor supervises its children.
    pub(crate) fn supervision(&self) -> Supervision {
        (self.settled().kind.supervision)()
    }

    pub(crate) fn parent(&self) -> Option<Arc<ActorCell>> {
        self.links().parent.as_ref()?.upgrade()
    }

    /// Runs `f` on the relations, creating them on first use.
    ///
    /// Never call it while holding another cell's relations: lock one cell at a time.
    pub(crate) fn with_relations<R>(&self, f: impl FnOnce(&mut Relations) -> R) -> R {
        f(self.lock_relations().get_or_insert_with(Box::default))
    }

    fn lock_relations(&self) -> MutexGuard<'_, Option<Box<Relations>>> {
        self.links()
            .relations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Refuses new children from now on (until [`reopen_children`](Self::reopen_children))
    /// and runs `f` on the relations, if there are any, under the same lock.
    pub(crate) fn close_children<R>(&self, f: impl FnOnce(&mut Relations) -> R) -> Option<R> {
        let mut guard = self.lock_relations();
        self.signal_bits().fetch_or(CLOSING, Ordering::AcqRel);
        guard.as_deref_mut().map(f)
    }

    /// Adopts children again: a new incarnation begins.
    pub(crate) fn reopen_children(&self) {
        let _guard = self.lock_relations();
        self.clear_signals(CLOSING);
    }

    /// Whether this actor takes no more children: it is closing them, or it has ended.
    /// Call it with `relations`, this actor's, locked.
    pub(crate) fn refuses_children(&self, relations: &Relations) -> bool {
        self.signals() & (CLOSING | ENDED) != 0 || relations.ended.is_some()
    }

    /// Records that the actor ended for good and returns its watchers, to be told. A
    /// common reason of an actor that never made its relations is kept in the signals.
    pub(crate) fn mark_ended(&self, reason: &ExitReason) -> Vec<Weak<ActorCell>> {
        let mut guard = self.lock_relations();
        if guard.is_none() {
            if let Some(code) = reason_code(reason) {
                self.signal_bits()
                    .fetch_or(ENDED | (code << REASON_SHIFT), Ordering::AcqRel);
                return Vec::new();
            }
        }
        let relations = guard.get_or_insert_with(Box::default);
        self.signal_bits().fetch_or(ENDED, Ordering::AcqRel);
        relations.ended = Some(reason.clone());
        std::mem::take(&mut relations.watchers)
    }

    /// Why the actor ended for good, if it has. Call it with `relations`, this actor's,
    /// locked, so that the answer stays true while the lock is held.
    pub(crate) fn ended_reason(&self, relations: &Relations) -> Option<ExitReason> {
        relations.ended.clone().or_else(|| self.short_reason())
    }

    /// The reason kept in the signals, once the actor has ended.
    fn short_reason(&self) -> Option<ExitReason> {
        let signals = self.signals();
        if signals & ENDED == 0 {
            return None;
        }
        reason_in(signals)
    }

    /// Runs `f` on the relations if they exist.
    pub(crate) fn with_existing_relations<R>(
        &self,
        f: impl FnOnce(&mut Relations) -> R,
    ) -> Option<R> {
        self.lock_relations().as_deref_mut().map(f)
    }

    /// Takes the reason for a `FAIL` signal.
    pub(crate) fn take_failure(&self) -> Arc<str> {
        self.with_relations(|relations| relations.failure.take())
            .unwrap_or_else(|| Arc::from("failed"))
    }

    /// Takes the oldest queued notice.
    pub(crate) fn next_notice(&self) -> Option<Notice> {
        self.with_existing_relations(|relations| relations.notices.pop_front())
            .flatten()
    }

    /// Queues a notice for the actor's loop and wakes it.
    pub(crate) fn notify(&self, notice: Notice) {
        self.with_relations(|relations| relations.notices.push_back(notice));
        self.signal(NOTICE);
    }

    /// Makes the actor's current incarnation fail with `reason` after its current message.
    pub(crate) fn fail(&self, reason: impl Into<Arc<str>>) {
        let reason = reason.into();
        self.with_relations(|relations| {
            relations.failure.get_or_insert(reason);
        });
        self.signal(FAIL);
    }

    pub(crate) fn killed(&self) -> bool {
        self.signals() & KILL != 0
    }

    pub(crate) fn is_alive(&self) -> bool {
        self.signals() & EXITED == 0
    }

    /// Why the actor ended, once it has.
    pub(crate) fn exit_reason(&self) -> Option<ExitReason> {
        if self.is_alive() {
            return None;
        }
        let guard = self.lock_relations();
        guard
            .as_deref()
            .and_then(|relations| relations.ended.clone())
            .or_else(|| self.short_reason())
    }

    /// Records the exit reason and wakes every waiter. Only the first call counts.
    pub(crate) fn finish(&self, reason: ExitReason) {
        let waiters = {
            let mut guard = self.lock_relations();
            if self.signals() & EXITED != 0 {
                return;
            }
            // Under the lock, with the bit: a waiter that registers later sees the bit, and
            // the reason is in place before anyone can see the bit and look for it.
            let waiters = match guard.as_deref_mut() {
                Some(relations) => {
                    relations.ended.get_or_insert(reason);
                    relations.exit_waiters.take()
                }
                // No relations, so no waiters; a common reason goes into the signals.
                None if self.short_reason().is_some() => None,
                None => match reason_code(&reason) {
                    Some(code) => {
                        self.signal_bits()
                            .fetch_or(ENDED | (code << REASON_SHIFT), Ordering::AcqRel);
                        None
                    }
                    None => {
                        guard.get_or_insert_with(Box::default).ended = Some(reason);
                        None
                    }
                },
            };
            self.signal_bits().fetch_or(EXITED, Ordering::AcqRel);
            waiters
        };
        if let Some(waiters) = waiters {
            waiters.notify_waiters();
        }
    }

    /// Waits for the actor to end and returns why.
    pub(crate) async fn wait(&self) -> ExitReason {
        loop {
            if let Some(reason) = self.exit_reason() {
                return reason;
            }
            let waiters = self.with_relations(|relations| {
                Arc::clone(relations.exit_waiters.get_or_insert_with(Default::default))
            });
            let notified = waiters.notified();
            tokio::pin!(notified);
            // Register before checking, so a `finish` in between is not missed.
            notified.as_mut().enable();
            if let Some(reason) = self.exit_reason() {
                return reason;
            }
            notified.await;
        }
    }
}

impl fmt::Display for ActorCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", short_type_name(self.type_name()), self.id())
    }
}

/// `my_crate::module::Counter<my_crate::Thing>` becomes `Counter<Thing>`.
pub(crate) fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut segment_start = 0;
    for (index, ch) in full.char_indices() {
        if matches!(
            ch,
            '<' | '>' | ',' | ' ' | '(' | ')' | '[' | ']' | '&' | ';'
        ) {
            out.push_str(last_segment(&full[segment_start..index]));
            out.push(ch);
            segment_start = index + ch.len_utf8();
        }
    }
    out.push_str(last_segment(&full[segment_start..]));
    out
}

fn last_segment(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::{reason_code, reason_in, short_type_name, ActorCell, ExitReason, REASON_SHIFT};

    #[test]
    fn a_cell_stays_small() {
        // Every live actor pays for its cell: keep an eye on it. 184 since the senders
        // waiting list is made by the first sender to wait (it was 32 bytes in every
        // cell). The pointer to an actor's gathered run of
        // nodes (8 bytes) lives in its task's receiver, not here.
        let size = std::mem::size_of::<ActorCell>();
        assert!(size <= 184, "ActorCell grew to {size} bytes");
    }

    #[test]
    fn the_common_exit_reasons_round_trip_through_the_signals() {
        for reason in [ExitReason::Normal, ExitReason::Killed, ExitReason::Shutdown] {
            let code = reason_code(&reason).unwrap();
            assert_eq!(reason_in(code << REASON_SHIFT), Some(reason));
        }
        assert_eq!(reason_code(&ExitReason::Failed("disk".into())), None);
        assert_eq!(reason_in(0), None);
    }

    #[test]
    fn short_type_name_drops_module_paths() {
        assert_eq!(short_type_name("a::b::Counter"), "Counter");
        assert_eq!(
            short_type_name("a::Wrap<b::c::Inner, u8>"),
            "Wrap<Inner, u8>"
        );
        assert_eq!(short_type_name("Plain"), "Plain");
    }
}
