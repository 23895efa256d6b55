//! What a pool's handles and its supervisor share: the published workers, and delivery to
//! them from the caller's task.

use std::future::{poll_fn, Future};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::task::Poll;
use std::time::Duration;

use tokio::sync::{oneshot, Notify};

use crate::actor::Actor;
use crate::actor_ref::ActorRef;
use crate::deadline::{Deadline, Elapsed};
use crate::envelope::{send_ask, send_tell};
use crate::error::{AskError, SendError, TrySendError};
use crate::mailbox::{Permit, TryReserveError};
use crate::message::{Handler, Message};
use crate::pool::routing::{jump_hash, Order, Router};

/// Which worker a send goes to.
#[derive(Debug, Clone, Copy)]
pub(super) enum Route {
    /// The pool's routing strategy picks.
    Pick,
    /// The worker that owns this key hash.
    Key(u64),
}

/// How a non-waiting attempt to deliver ended.
enum Attempt {
    Delivered,
    /// Some worker was open but full.
    Full,
    /// Every worker tried refused: stopped, or its mailbox closed.
    Refused,
}

/// Puts a message in a reserved place.
trait Put<A: Actor, M> {
    fn put(&mut self, permit: Permit<'_, A>, message: M);
}

impl<A, M, F> Put<A, M> for F
where
    A: Actor,
    F: FnMut(Permit<'_, A>, M),
{
    fn put(&mut self, permit: Permit<'_, A>, message: M) {
        self(permit, message);
    }
}

/// A pool's state, shared by every [`Pool`](super::Pool) handle and the pool's supervisor.
pub(super) struct Shared<A: Actor> {
    /// The workers sends go to: replaced whole (never edited) by the supervisor, so a
    /// sender clones the `Arc` out and routes without holding the lock.
    workers: RwLock<Arc<[ActorRef<A>]>>,
    /// Woken whenever `workers` is replaced, for sends waiting for room.
    changed: Notify,
    /// Set by `Pool::stop`: from then on, the published list stays empty.
    stopped: AtomicBool,
    /// How many workers the pool should have: what a restarted supervisor starts.
    size: AtomicUsize,
    pub(super) router: Router,
    pub(super) ask_timeout: Duration,
    /// The system's coarse clock, for the deadlines of asks.
    clock: playhouse_runtime::CoarseClock,
    /// The workers the builder started, for the supervisor's first incarnation to adopt.
    pub(super) initial: Mutex<Option<oneshot::Receiver<Vec<ActorRef<A>>>>>,
}

impl<A: Actor> Shared<A> {
    pub(super) fn new(
        size: usize,
        router: Router,
        ask_timeout: Duration,
        clock: playhouse_runtime::CoarseClock,
        initial: oneshot::Receiver<Vec<ActorRef<A>>>,
    ) -> Self {
        Self {
            workers: RwLock::new(Arc::from(Vec::new())),
            changed: Notify::new(),
            stopped: AtomicBool::new(false),
            size: AtomicUsize::new(size),
            router,
            ask_timeout,
            clock,
            initial: Mutex::new(Some(initial)),
        }
    }

    /// Returns the current workers.
    pub(super) fn load(&self) -> Arc<[ActorRef<A>]> {
        Arc::clone(
            &self
                .workers
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// Returns `true` if `workers` is still the published list.
    fn is_current(&self, workers: &Arc<[ActorRef<A>]>) -> bool {
        Arc::ptr_eq(
            &self
                .workers
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
            workers,
        )
    }

    /// Makes `workers` the list sends go to (an empty one once the pool has stopped), and
    /// wakes the sends waiting for room.
    pub(super) fn publish(&self, workers: &[ActorRef<A>]) {
        {
            let mut published = self
                .workers
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            // Read under the lock, so that a publish racing with `stop` cannot win.
            *published = if self.stopped.load(Ordering::Acquire) {
                Arc::from(Vec::new())
            } else {
                Arc::from(workers)
            };
        }
        self.changed.notify_waiters();
    }

    /// Refuses every send from now on.
    pub(super) fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.publish(&[]);
    }

    pub(super) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    pub(super) fn size(&self) -> usize {
        self.size.load(Ordering::Acquire)
    }

    pub(super) fn set_size(&self, size: usize) {
        self.size.store(size, Ordering::Release);
    }

    /// The order in which a send tries the workers.
    fn order(&self, workers: &[ActorRef<A>], route: Route) -> Order {
        match route {
            Route::Pick => Order::from(self.router.pick(workers), workers.len()),
            Route::Key(key) => Order::only(jump_hash(key, workers.len()), workers.len()),
        }
    }

    /// The worker a key goes to now, if the pool has any.
    pub(super) fn worker_for_key(&self, key: u64) -> Option<ActorRef<A>> {
        let workers = self.load();
        (!workers.is_empty()).then(|| workers[jump_hash(key, workers.len())].clone())
    }

    /// Tries `workers` in `order` without waiting; on success `slot` is emptied.
    fn try_deliver<M>(
        workers: &[ActorRef<A>],
        order: Order,
        slot: &mut Option<M>,
        put: &mut impl Put<A, M>,
    ) -> Attempt {
        let mut full = false;
        for index in order.iter() {
            let worker = &workers[index];
            if worker.cell.refusing() {
                continue;
            }
            match worker.try_reserve() {
                Ok(permit) => {
                    if let Some(message) = slot.take() {
                        put.put(permit, message);
                    }
                    return Attempt::Delivered;
                }
                Err(TryReserveError::Full) => full = true,
                Err(TryReserveError::Closed) => {}
            }
        }
        if full {
            Attempt::Full
        } else {
            Attempt::Refused
        }
    }

    /// Delivers the message in `slot` to a worker, waiting for room if every candidate is
    /// full. Returns with `slot` empty once delivered, or still holding the message when no
    /// worker takes messages (the pool has stopped).
    ///
    /// Cancel safe: dropped before it returns, the message is still in `slot`.
    async fn deliver<M>(&self, route: Route, slot: &mut Option<M>, mut put: impl Put<A, M>) {
        loop {
            let workers = self.load();
            if workers.is_empty() {
                return;
            }
            let order = self.order(&workers, route);
            match Self::try_deliver(&workers, order, slot, &mut put) {
                Attempt::Delivered => return,
                Attempt::Refused if self.is_current(&workers) => return,
                // Routed on an outdated list (a resize raced with this send): route again.
                Attempt::Refused => continue,
                Attempt::Full => {}
            }
            // Every open candidate is full: wait for room in any of them, or for a new list.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if !self.is_current(&workers) {
                continue;
            }
            let mut waiting: Vec<_> = order
                .iter()
                .map(|index| &workers[index])
                .filter(|worker| !worker.cell.refusing())
                .map(|worker| Box::pin(worker.reserve()))
                .collect();
            let room = poll_fn(|cx| {
                if changed.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(None);
                }
                let mut index = 0;
                while index < waiting.len() {
                    match waiting[index].as_mut().poll(cx) {
                        Poll::Ready(Ok(permit)) => return Poll::Ready(Some(permit)),
                        // Closed for good: stop waiting on it.
                        Poll::Ready(Err(())) => drop(waiting.swap_remove(index)),
                        Poll::Pending => index += 1,
                    }
                }
                if waiting.is_empty() {
                    Poll::Ready(None)
                } else {
                    Poll::Pending
                }
            })
            .await;
            // Nothing has room after all (the list changed, or every mailbox closed): look
            // again; a stopped pool then shows as refusing.
            let Some(permit) = room else { continue };
            if let Some(message) = slot.take() {
                put.put(permit, message);
            }
            return;
        }
    }

    pub(super) async fn tell<M>(&self, route: Route, message: M) -> Result<(), SendError<M>>
    where
        A: Handler<M>,
        M: Message,
    {
        let mut slot = Some(message);
        self.deliver(route, &mut slot, send_tell::<A, M>).await;
        slot.map_or(Ok(()), |message| Err(SendError(message)))
    }

    pub(super) fn try_tell<M>(&self, route: Route, message: M) -> Result<(), TrySendError<M>>
    where
        A: Handler<M>,
        M: Message,
    {
        let mut slot = Some(message);
        loop {
            let workers = self.load();
            let attempt = if workers.is_empty() {
                Attempt::Refused
            } else {
                let order = self.order(&workers, route);
                Self::try_deliver(&workers, order, &mut slot, &mut send_tell::<A, M>)
            };
            let error: fn(M) -> TrySendError<M> = match attempt {
                Attempt::Delivered => return Ok(()),
                Attempt::Full => TrySendError::Full,
                Attempt::Refused if workers.is_empty() || self.is_current(&workers) => {
                    TrySendError::Stopped
                }
                Attempt::Refused => continue,
            };
            return slot.map_or(Ok(()), |message| Err(error(message)));
        }
    }

    pub(super) async fn ask<M>(
        &self,
        route: Route,
        message: M,
        timeout: Duration,
    ) -> Result<M::Reply, AskError<M>>
    where
        A: Handler<M>,
        M: Message,
    {
        let mut deadline = Deadline::after(&self.clock, timeout);
        let mut slot = Some(message);
        let mut reply = None;
        let put = |permit: Permit<'_, A>, message: M| {
            reply = Some(send_ask(permit, message));
        };
        let delivery = deadline.run(self.deliver(route, &mut slot, put)).await;
        if let Some(message) = slot {
            return Err(match delivery {
                Ok(()) => AskError::Stopped(message),
                Err(Elapsed) => AskError::Full(message),
            });
        }
        let Some(reply) = reply else {
            return Err(AskError::Dropped);
        };
        deadline.reply(reply).await
    }

    pub(super) async fn broadcast<M>(&self, message: M) -> Result<usize, SendError<M>>
    where
        A: Handler<M>,
        M: Message + Clone,
    {
        let workers = self.load();
        let mut delivered = 0;
        for worker in workers.iter() {
            if worker.tell(message.clone()).await.is_ok() {
                delivered += 1;
            }
        }
        if delivered == 0 {
            Err(SendError(message))
        } else {
            Ok(delivered)
        }
    }
}
