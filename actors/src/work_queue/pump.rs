//! A consumer's pump: the task that takes the next item from the queue and asks the
//! consumer to handle it, one item at a time.

use std::sync::Arc;
use std::time::Duration;

use crate::actor_ref::private::HasCell;
use crate::actor_ref::Recipient;
use crate::cell::{ActorCell, FAIL, SHUTDOWN};
use crate::error::AskError;
use crate::message::Message;
use crate::supervision::Restart;
use crate::work_queue::shared::{Outcome, Shared};

/// A pump waits for its consumer as long as the handler takes (the runtime caps it at
/// decades): a slow item is not a lost one.
const NO_TIMEOUT: Duration = Duration::MAX;

/// Feeds `consumer` until it leaves the queue (it ended, refused an item, or failed for
/// good) or the queue is closed and empty.
pub(super) async fn pump<M: Message>(shared: Arc<Shared<M>>, consumer: Recipient<M>) {
    let cell = Arc::clone(consumer.cell());
    tracing::debug!(consumer = %cell, "work_queue.consumer_attached");
    loop {
        let item = tokio::select! {
            biased;
            _ = cell.wait() => break,
            item = shared.take() => item,
        };
        let Some(item) = item else {
            // Closed and empty: nothing more will come.
            break;
        };
        match consumer.ask_timeout(item, NO_TIMEOUT).await {
            Ok(_reply) => shared.finished(Outcome::Completed),
            Err(AskError::Stopped(item) | AskError::Full(item)) => {
                // Never delivered: the consumer is stopping. Another consumer gets it.
                shared.put_back(item);
                break;
            }
            Err(error) => {
                // Panicked, or the consumer ended (was killed) before handling it: the item
                // is not retried. The runtime has already counted a dead letter if it was
                // never handled.
                tracing::debug!(consumer = %cell, %error, "work_queue.item_failed");
                shared.finished(Outcome::Failed);
                if !will_restart(&cell) {
                    break;
                }
                continue;
            }
        }
        // A handler may fail its actor on purpose (`Context::fail`) and still reply.
        if cell.signals() & FAIL != 0 && !will_restart(&cell) {
            break;
        }
    }
    tracing::debug!(consumer = %cell, "work_queue.consumer_left");
    shared.leave(cell.id());
}

/// Whether a consumer whose incarnation is failing will be restarted behind the same
/// reference (its mailbox kept), according to its restart policy.
///
/// If it will not, the pump must not hand it another item: between the failure and the
/// end of the actor its mailbox still accepts messages, which would become dead letters.
/// (A restartable consumer that exceeds its supervisor's restart intensity ends anyway;
/// at most one more item is lost to it, as a dead letter.)
fn will_restart(cell: &ActorCell) -> bool {
    if !cell.is_alive() || cell.signals() & SHUTDOWN != 0 {
        return false;
    }
    let restart = cell.parent().and_then(|parent| {
        parent
            .with_existing_relations(|relations| {
                relations.children.get(cell).map(|child| child.restart)
            })
            .flatten()
    });
    matches!(restart, Some(Restart::Permanent | Restart::Transient))
}
