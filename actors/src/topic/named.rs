//! Named topics, one set per system, kept in the system's extensions.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::message::Message;
use crate::system::System;
use crate::topic::Topic;

/// The named topics of one system: by message type, then by name.
#[derive(Default)]
struct NamedTopics {
    topics: Mutex<HashMap<TypeId, TopicsByName>>,
}

/// Topics of one message type by name; each value is a `Topic<M>` of that type.
type TopicsByName = HashMap<Arc<str>, Box<dyn Any + Send + Sync>>;

impl System {
    /// Returns this system's topic of messages `M` called `name`, making it on first use.
    ///
    /// Every call with the same message type and name returns a handle to the same topic,
    /// so parts of a program can meet on a topic without passing it around. A topic is
    /// named by its message type *and* its name: `topic::<Price>("market")` and
    /// `topic::<Trade>("market")` are two topics. Each system has its own named topics
    /// (no globals), and they live as long as the system unless
    /// [removed](Self::remove_topic).
    ///
    /// # Examples
    ///
    /// ```
    /// use playhouse::prelude::*;
    ///
    /// #[derive(Clone)]
    /// struct Alarm;
    /// impl Message for Alarm {
    ///     type Reply = ();
    /// }
    ///
    /// #[derive(Actor)]
    /// struct Siren;
    /// impl Handler<Alarm> for Siren {
    ///     async fn handle(&mut self, _alarm: Alarm, _ctx: &mut Context<Self>) {}
    /// }
    ///
    /// # #[playhouse::main]
    /// # async fn main() {
    /// let system = System::current();
    /// system
    ///     .topic::<Alarm>("alarms")
    ///     .subscribe(Siren::spawn(Siren))
    ///     .unwrap();
    ///
    /// // Elsewhere, the same name finds the same topic.
    /// let alarms = system.topic::<Alarm>("alarms");
    /// assert_eq!(alarms.name(), Some("alarms"));
    /// assert_eq!(alarms.publish(Alarm).delivered, 1);
    /// # }
    /// ```
    pub fn topic<M: Message<Reply = ()> + Clone>(&self, name: &str) -> Topic<M> {
        let named = self
            .handle()
            .extensions()
            .get_or_insert_with(NamedTopics::default);
        let mut topics = named
            .topics
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let of_type = topics.entry(TypeId::of::<M>()).or_default();
        if let Some(topic) = of_type
            .get(name)
            .and_then(|topic| topic.downcast_ref::<Topic<M>>())
        {
            return topic.clone();
        }
        let name: Arc<str> = Arc::from(name);
        let topic = Topic::<M>::named(Arc::clone(&name));
        of_type.insert(name, Box::new(topic.clone()));
        topic
    }

    /// Forgets this system's topic of messages `M` called `name`; returns whether there
    /// was one.
    ///
    /// Handles to it keep working with their subscribers, but [`topic`](Self::topic) makes
    /// a new, empty topic under that name from now on. Use it for topics named after
    /// something that ends (a session, a user), so that named topics do not grow forever.
    pub fn remove_topic<M: Message<Reply = ()> + Clone>(&self, name: &str) -> bool {
        let Some(named) = self.handle().extensions().get::<NamedTopics>() else {
            return false;
        };
        let mut topics = named
            .topics
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(of_type) = topics.get_mut(&TypeId::of::<M>()) else {
            return false;
        };
        let removed = of_type.remove(name).is_some();
        if of_type.is_empty() {
            topics.remove(&TypeId::of::<M>());
        }
        removed
    }
}
