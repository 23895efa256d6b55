//! Topics: publish a message once, and every live subscriber gets a copy.
//!
//! A [`Topic<M>`] is a cheap, cloneable handle to a list of subscribers, actors that handle
//! `M`. [`publish`](Topic::publish) hands each of them a clone of the message without
//! waiting and returns a [`PublishReport`] saying who got it. Topics are plain values: make
//! one with [`Topic::new`] and pass clones around, or look one up by name on a system with
//! [`System::topic`](crate::System::topic).
//!
//! # Examples
//!
//! ```
//! use playhouse::prelude::*;
//! use playhouse::topic::Topic;
//!
//! /// A new price for a symbol.
//! #[derive(Clone)]
//! struct Price {
//!     symbol: &'static str,
//!     cents: u64,
//! }
//!
//! impl Message for Price {
//!     type Reply = ();
//! }
//!
//! /// Remembers the last price it heard.
//! #[derive(Actor, Default)]
//! struct Board {
//!     last: Option<u64>,
//! }
//!
//! impl Handler<Price> for Board {
//!     async fn handle(&mut self, price: Price, _ctx: &mut Context<Self>) {
//!         self.last = Some(price.cents);
//!     }
//! }
//!
//! #[messages]
//! impl Board {
//!     /// Replies with the last price heard.
//!     #[message]
//!     fn last(&self) -> Option<u64> {
//!         self.last
//!     }
//! }
//!
//! # #[playhouse::main]
//! # async fn main() {
//! let prices = Topic::<Price>::new();
//! let left = Board::spawn(Board::default());
//! let right = Board::spawn(Board::default());
//! prices.subscribe(left.clone()).unwrap();
//! prices.subscribe(right.clone()).unwrap();
//!
//! let report = prices.publish(Price { symbol: "ACME", cents: 4_200 });
//! assert_eq!(report.delivered, 2);
//! assert_eq!(left.ask(Last).await.unwrap(), Some(4_200));
//! assert_eq!(right.ask(Last).await.unwrap(), Some(4_200));
//!
//! // A subscriber that stops is removed.
//! right.stop();
//! right.wait().await;
//! assert_eq!(prices.subscriber_count(), 1);
//! # }
//! ```
//!
//! # Policies
//!
//! - **Publishing never waits, and a full subscriber never holds up the others.** Each
//!   subscriber gets its copy with [`try_tell`](crate::Recipient::try_tell). A subscriber
//!   whose mailbox is full *misses that message*: the miss is listed in
//!   [`PublishReport::missed`] and recorded as a [dead letter](crate::DeadLetter) of that
//!   subscriber on the current system (counted by
//!   [`System::dead_letters`](crate::System::dead_letters), passed to dead-letter streams and
//!   subscribers, logged at `debug`), so nothing is lost silently. A subscriber that must
//!   not miss anything needs a mailbox large enough for its bursts, or an unbounded one.
//!   (Outside a system, as on a thread of your own, the miss is only in the report.)
//! - **Stopped subscribers are removed.** A subscriber whose actor has ended, or refuses
//!   messages because it is stopping, is dropped from the topic the next time the topic is
//!   used: published to, subscribed to, or asked about its subscribers. It is never sent
//!   anything after that, and it is listed in [`PublishReport::removed`] when a publish
//!   finds it. Implementation detail: until then the topic holds its reference, which keeps
//!   its mailbox allocated. A subscriber that its supervisor restarts stays subscribed: its
//!   reference and mailbox survive the restart.
//! - **Ordering.** Every subscriber receives a topic's messages in one order, the order in
//!   which the `publish` calls ran; in particular, the messages of one publisher arrive in
//!   the order it published them. Messages a subscriber gets from elsewhere may come in
//!   between.
//! - **No subscribers, no delivery.** Publishing to a topic with no subscribers drops the
//!   message and reports that nobody got it. That is not a dead letter: nobody asked for it.
//! - **Subscriptions end explicitly.** [`Subscription::unsubscribe`] or
//!   [`Topic::unsubscribe`] ends one, and so does the subscriber's end. Dropping the
//!   [`Subscription`] does *not* unsubscribe (as a spawned task keeps running when its
//!   handle is dropped). One actor is subscribed at most once per topic.

mod named;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::actor_ref::private::HasCell;
use crate::actor_ref::{AnyActorRef, Recipient};
use crate::cell::{short_type_name, ActorCell, ActorId};
use crate::error::TrySendError;
use crate::message::Message;
use crate::system::System;

/// A cheap, cloneable handle to a list of subscribers that each get a copy of every message
/// published.
///
/// Clones share the subscribers: subscribe through one clone, publish through another. See
/// the [module documentation](self) for the policies (full subscribers, stopped
/// subscribers, ordering).
///
/// The message must be [`Clone`] (each subscriber gets its own copy; for a large message,
/// publish an `Arc` of it) and its reply must be `()`, since nobody waits for one.
pub struct Topic<M: Message<Reply = ()> + Clone> {
    shared: Arc<Shared<M>>,
}

struct Shared<M: Message> {
    name: Option<Arc<str>>,
    subscribers: Mutex<Subscribers<M>>,
}

struct Subscribers<M: Message> {
    list: Vec<Subscriber<M>>,
    next_token: u64,
}

struct Subscriber<M: Message> {
    recipient: Recipient<M>,
    /// Tells this subscription from a later one of the same actor.
    token: u64,
}

impl<M: Message> Subscriber<M> {
    fn actor(&self) -> ActorId {
        self.recipient.id()
    }
}

/// Whether an actor can still be sent messages: it has not ended and is not stopping.
fn accepts_messages(cell: &ActorCell) -> bool {
    cell.is_alive() && !cell.refusing()
}

impl<M: Message> Shared<M> {
    fn new(name: Option<Arc<str>>) -> Self {
        Self {
            name,
            subscribers: Mutex::new(Subscribers {
                list: Vec::new(),
                next_token: 0,
            }),
        }
    }

    /// Locks the subscribers, dropping those that stopped.
    fn live_subscribers(&self) -> MutexGuard<'_, Subscribers<M>> {
        let mut subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        subscribers
            .list
            .retain(|subscriber| accepts_messages(subscriber.recipient.cell()));
        subscribers
    }
}

/// The part of a topic a [`Subscription`] needs, whatever the message type.
trait Subscriptions: Send + Sync {
    /// Removes the subscription with this token; `true` if it was there.
    fn remove(&self, token: u64) -> bool;
    /// Returns `true` while the subscription with this token is there and its actor lives.
    fn holds(&self, token: u64) -> bool;
}

impl<M: Message> Subscriptions for Shared<M> {
    fn remove(&self, token: u64) -> bool {
        let removed = {
            let mut subscribers = self.live_subscribers();
            let position = subscribers
                .list
                .iter()
                .position(|subscriber| subscriber.token == token);
            position.map(|index| subscribers.list.remove(index))
        };
        // The subscriber's reference is dropped outside the lock.
        removed.is_some()
    }

    fn holds(&self, token: u64) -> bool {
        self.live_subscribers()
            .list
            .iter()
            .any(|subscriber| subscriber.token == token)
    }
}

impl<M: Message<Reply = ()> + Clone> Topic<M> {
    /// Makes a topic with no subscribers.
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Shared::new(None)),
        }
    }

    fn named(name: Arc<str>) -> Self {
        Self {
            shared: Arc::new(Shared::new(Some(name))),
        }
    }

    /// Returns the topic's name if it came from [`System::topic`](crate::System::topic).
    pub fn name(&self) -> Option<&str> {
        self.shared.name.as_deref()
    }

    /// Subscribes an actor that handles `M`: an [`ActorRef`](crate::ActorRef) (by value)
    /// or a [`Recipient<M>`].
    ///
    /// From now on the actor gets a copy of every message published, until it is
    /// unsubscribed or ends. Subscribing an actor that is already subscribed changes
    /// nothing and returns a handle to the same subscription. Dropping the returned
    /// [`Subscription`] does not unsubscribe.
    ///
    /// # Errors
    ///
    /// Returns [`SubscribeError`] if the actor has ended or is stopping: it would never
    /// hear anything.
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::prelude::*;
    /// use playhouse::topic::Topic;
    ///
    /// #[derive(Clone)]
    /// struct Tick;
    /// impl Message for Tick {
    ///     type Reply = ();
    /// }
    ///
    /// #[derive(Actor)]
    /// struct Listener;
    /// impl Handler<Tick> for Listener {
    ///     async fn handle(&mut self, _tick: Tick, _ctx: &mut Context<Self>) {}
    /// }
    ///
    /// # #[playhouse::main]
    /// # async fn main() {
    /// let ticks = Topic::<Tick>::new();
    /// let listener = Listener::spawn(Listener);
    /// let subscription = ticks.subscribe(listener.clone()).unwrap();
    /// assert_eq!(ticks.publish(Tick).delivered, 1);
    ///
    /// assert!(subscription.unsubscribe());
    /// assert_eq!(ticks.publish(Tick).delivered, 0);
    ///
    /// listener.stop();
    /// listener.wait().await;
    /// assert!(ticks.subscribe(listener).is_err());
    /// # }
    /// ```
    pub fn subscribe(
        &self,
        subscriber: impl Into<Recipient<M>>,
    ) -> Result<Subscription, SubscribeError> {
        let recipient = subscriber.into();
        let actor = recipient.id();
        if !accepts_messages(recipient.cell()) {
            return Err(SubscribeError { actor });
        }
        let token = {
            let mut subscribers = self.shared.live_subscribers();
            let existing = subscribers
                .list
                .iter()
                .find(|subscriber| subscriber.actor() == actor)
                .map(|subscriber| subscriber.token);
            match existing {
                Some(token) => token,
                None => {
                    let token = subscribers.next_token;
                    subscribers.next_token += 1;
                    subscribers.list.push(Subscriber { recipient, token });
                    token
                }
            }
        };
        tracing::debug!(topic = %self, actor = %actor, "topic.subscribe");
        let topic: Weak<dyn Subscriptions> = Arc::downgrade(&self.shared) as _;
        Ok(Subscription {
            actor,
            token,
            topic,
        })
    }

    /// Unsubscribes an actor. Returns `true` if it was subscribed.
    ///
    /// A message already published stays in its mailbox; nothing published afterwards
    /// reaches it.
    pub fn unsubscribe(&self, actor: &impl AnyActorRef) -> bool {
        let actor = actor.actor_id();
        let removed = {
            let mut subscribers = self.shared.live_subscribers();
            let position = subscribers
                .list
                .iter()
                .position(|subscriber| subscriber.actor() == actor);
            position.map(|index| subscribers.list.remove(index))
        };
        removed.is_some()
    }

    /// Returns `true` if the actor is subscribed and has not stopped.
    pub fn is_subscribed(&self, actor: &impl AnyActorRef) -> bool {
        let actor = actor.actor_id();
        self.shared
            .live_subscribers()
            .list
            .iter()
            .any(|subscriber| subscriber.actor() == actor)
    }

    /// Returns how many subscribers the topic has, after dropping those that stopped.
    pub fn subscriber_count(&self) -> usize {
        self.shared.live_subscribers().list.len()
    }

    /// Sends a copy of `message` to every subscriber, without waiting, and says who got it.
    ///
    /// Never waits and never fails: a subscriber whose mailbox is full misses this message
    /// (it is recorded as that subscriber's dead letter), and a subscriber that has stopped
    /// is removed. Every subscriber receives the topic's messages in the order the
    /// `publish` calls ran. With no subscribers the message is dropped. See the
    /// [module documentation](self).
    ///
    /// Implementation detail: the last subscriber gets `message` itself, the others
    /// clones; no subscriber is sent anything while another publish to the same topic is
    /// under way.
    pub fn publish(&self, message: M) -> PublishReport {
        let mut report = PublishReport::default();
        let mut missed_by: Vec<Arc<ActorCell>> = Vec::new();
        // Copies that were not delivered are dropped after the lock is released: their
        // `Drop` is user code.
        let mut undelivered: Vec<M> = Vec::new();
        {
            let mut subscribers = self
                .shared
                .subscribers
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let count = subscribers.list.len();
            let mut message = Some(message);
            let mut index = 0;
            subscribers.list.retain(|subscriber| {
                index += 1;
                let copy = if index == count {
                    message.take()
                } else {
                    message.clone()
                };
                // Always `Some`: only the last subscriber takes the message.
                let Some(copy) = copy else {
                    return true;
                };
                match subscriber.recipient.try_tell(copy) {
                    Ok(()) => {
                        report.delivered += 1;
                        true
                    }
                    Err(TrySendError::Full(copy)) => {
                        report.missed.push(subscriber.actor());
                        missed_by.push(Arc::clone(subscriber.recipient.cell()));
                        undelivered.push(copy);
                        true
                    }
                    Err(TrySendError::Stopped(copy)) => {
                        report.removed.push(subscriber.actor());
                        undelivered.push(copy);
                        false
                    }
                }
            });
        }
        drop(undelivered);
        if !missed_by.is_empty() {
            if let Some(system) = System::try_current() {
                for cell in &missed_by {
                    system.dead_letter(cell, std::any::type_name::<M>());
                }
            }
        }
        tracing::trace!(
            topic = %self,
            message.type = std::any::type_name::<M>(),
            delivered = report.delivered,
            missed = report.missed.len(),
            removed = report.removed.len(),
            "topic.publish"
        );
        report
    }
}

impl<M: Message<Reply = ()> + Clone> Default for Topic<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M: Message<Reply = ()> + Clone> Clone for Topic<M> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<M: Message<Reply = ()> + Clone> fmt::Display for Topic<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "Topic<{}>({name:?})", message_name::<M>()),
            None => write!(f, "Topic<{}>", message_name::<M>()),
        }
    }
}

impl<M: Message<Reply = ()> + Clone> fmt::Debug for Topic<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Topic");
        debug
            .field("message", &message_name::<M>())
            .field("name", &self.name());
        // `try_lock`: formatting must not wait for (or deadlock with) a publish.
        if let Ok(subscribers) = self.shared.subscribers.try_lock() {
            debug.field("subscribers", &subscribers.list.len());
        }
        debug.finish_non_exhaustive()
    }
}

fn message_name<M>() -> String {
    short_type_name(std::any::type_name::<M>())
}

/// One actor's subscription to a topic, returned by [`Topic::subscribe`].
///
/// Dropping it does not unsubscribe: the actor stays subscribed until
/// [`unsubscribe`](Self::unsubscribe) (or [`Topic::unsubscribe`]), or until it ends.
pub struct Subscription {
    actor: ActorId,
    token: u64,
    topic: Weak<dyn Subscriptions>,
}

impl Subscription {
    /// Returns the subscribed actor's id.
    pub fn actor(&self) -> ActorId {
        self.actor
    }

    /// Returns `true` while the actor is subscribed: not unsubscribed, not stopped, and
    /// the topic still exists.
    pub fn is_active(&self) -> bool {
        self.topic
            .upgrade()
            .is_some_and(|topic| topic.holds(self.token))
    }

    /// Ends the subscription. Returns `true` if it was active.
    ///
    /// Messages already published stay in the actor's mailbox.
    pub fn unsubscribe(self) -> bool {
        self.topic
            .upgrade()
            .is_some_and(|topic| topic.remove(self.token))
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

/// What one [`publish`](Topic::publish) did: who got the message and who did not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PublishReport {
    /// How many subscribers' mailboxes accepted the message.
    pub delivered: usize,
    /// Subscribers whose mailbox was full: they miss this message, which was recorded as
    /// a dead letter of each.
    pub missed: Vec<ActorId>,
    /// Subscribers found stopped: they were removed from the topic.
    pub removed: Vec<ActorId>,
}

impl PublishReport {
    /// Returns `true` when no live subscriber missed the message (also when there were
    /// no subscribers).
    pub fn is_complete(&self) -> bool {
        self.missed.is_empty()
    }
}

impl fmt::Display for PublishReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "delivered to {}", self.delivered)?;
        if !self.missed.is_empty() {
            write!(f, ", missed by {} (mailbox full)", self.missed.len())?;
        }
        if !self.removed.is_empty() {
            write!(f, ", {} stopped subscriber(s) removed", self.removed.len())?;
        }
        Ok(())
    }
}

/// [`Topic::subscribe`] refused an actor that has ended or is stopping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeError {
    actor: ActorId,
}

impl SubscribeError {
    /// Returns the id of the actor that was not subscribed.
    pub fn actor(&self) -> ActorId {
        self.actor
    }
}

impl fmt::Display for SubscribeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("actor stopped; not subscribed")
    }
}

impl std::error::Error for SubscribeError {}
