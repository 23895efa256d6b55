//! Undeliverable messages: counted, logged, and passed to subscribers.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use tokio::sync::broadcast;

use crate::actor_ref::Recipient;
use crate::cell::{ActorCell, ActorId};
use crate::error::TrySendError;
use crate::message::Message;

/// A message that never reached a handler and that no sender was told about: its actor
/// was killed, failed for good, or never started after its mailbox accepted it, or it was
/// a [topic](crate::topic) message that a subscriber with a full mailbox missed.
///
/// (A message *refused* at send time is not a dead letter: it comes back to the sender
/// inside the error.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The actor it was sent to.
    pub actor: ActorId,
    /// That actor's type and id, such as `Worker#12`.
    pub actor_name: String,
    /// The message's type name.
    pub message_type: &'static str,
}

impl Message for DeadLetter {
    type Reply = ();
}

/// How many dead letters a [`DeadLetterStream`] may fall behind before it skips the oldest.
pub const DEAD_LETTER_STREAM_CAPACITY: usize = 1024;

/// Dead letters as they happen, from [`System::dead_letter_stream`](crate::System::dead_letter_stream).
///
/// A stream that falls more than [`DEAD_LETTER_STREAM_CAPACITY`] behind skips the oldest
/// ones and says how many in [`skipped`](Self::skipped); the system's
/// [count](crate::System::dead_letters) always has them all.
#[derive(Debug)]
pub struct DeadLetterStream {
    receiver: broadcast::Receiver<DeadLetter>,
    skipped: u64,
}

impl DeadLetterStream {
    /// Waits for the next dead letter; `None` once the system is gone.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dead letter is never lost by dropping this future.
    pub async fn recv(&mut self) -> Option<DeadLetter> {
        loop {
            match self.receiver.recv().await {
                Ok(letter) => return Some(letter),
                Err(broadcast::error::RecvError::Lagged(count)) => self.skipped += count,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// Returns how many dead letters this stream skipped because it fell behind.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}

#[derive(Default)]
pub(crate) struct DeadLetterOffice {
    count: AtomicU64,
    listening: AtomicBool,
    subscribers: Mutex<Vec<Recipient<DeadLetter>>>,
    stream: OnceLock<broadcast::Sender<DeadLetter>>,
}

impl DeadLetterOffice {
    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    pub(crate) fn record(&self, cell: &ActorCell, message_type: &'static str) {
        self.count.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(actor = %cell, message.type = message_type, "actor.dead_letter");
        if !self.listening.load(Ordering::Acquire) {
            return;
        }
        let letter = DeadLetter {
            actor: cell.id(),
            actor_name: cell.to_string(),
            message_type,
        };
        if let Some(stream) = self.stream.get() {
            // No receiver left is fine: nobody listens any more.
            let _ = stream.send(letter.clone());
        }
        let mut subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // A subscriber that stopped is dropped; one whose mailbox is full misses this one
        // (a dead letter of a dead letter would never end).
        subscribers.retain(|subscriber| {
            !matches!(
                subscriber.try_tell(letter.clone()),
                Err(TrySendError::Stopped(_))
            )
        });
    }

    pub(crate) fn subscribe(&self, subscriber: Recipient<DeadLetter>) {
        self.subscribers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(subscriber);
        self.listening.store(true, Ordering::Release);
    }

    pub(crate) fn stream(&self) -> DeadLetterStream {
        let sender = self
            .stream
            .get_or_init(|| broadcast::channel(DEAD_LETTER_STREAM_CAPACITY).0);
        let receiver = sender.subscribe();
        self.listening.store(true, Ordering::Release);
        DeadLetterStream {
            receiver,
            skipped: 0,
        }
    }
}
