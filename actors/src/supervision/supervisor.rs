//! What happens when a child ends an incarnation: the decision, the strategy, escalation;
//! and how a parent stops its children.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::cell::{ActorCell, KILL, RESTART, SHUTDOWN};
use crate::exit::ExitReason;
use crate::supervision::relations::{Child, ChildExit, Decision, Notice, Relations};
use crate::supervision::{Restart, Strategy};

/// Adds `child` to `parent`'s children. Returns `false` if the parent is stopping its
/// children (or has ended), in which case the child must shut down at once.
pub(crate) fn adopt(parent: &ActorCell, child: &Arc<ActorCell>, restart: Restart) -> bool {
    parent.with_relations(|relations| {
        if parent.refuses_children(relations) {
            return false;
        }
        relations
            .supervision
            .get_or_insert_with(|| parent.supervision());
        relations.children.insert(Child {
            cell: Arc::clone(child),
            restart,
            restarts: None,
        });
        true
    })
}

/// Removes a child that ended for good from its parent's children.
pub(crate) fn release(child: &ActorCell) {
    if let Some(parent) = child.parent() {
        parent.with_existing_relations(|relations| {
            relations.children.remove(child);
        });
    }
}

/// What the child's task does next.
pub(crate) enum Next {
    Restart(Duration),
    End,
}

/// Decides what follows the end of `child`'s incarnation, applies the parent's strategy to
/// its siblings, tells the parent's `on_child_exit` hook, and logs at `warn` or `error`.
pub(crate) fn decide(child: &ActorCell, restart: Restart, reason: &ExitReason) -> Next {
    let Some(parent) = child.parent() else {
        return Next::End;
    };
    let (decision, next, give_up) = supervise(&parent, child, restart, reason);
    match &decision {
        Decision::Restarted { attempt, delay } => tracing::warn!(
            actor = %child, %reason, attempt, delay = ?delay, supervisor = %parent, "actor.restart"
        ),
        Decision::Escalated => tracing::error!(
            actor = %child, %reason, supervisor = %parent, "actor.restart_intensity_exceeded"
        ),
        Decision::RestartedWithSibling | Decision::Stopped => {}
    }
    // The system's root has no loop to hear notices.
    if !parent.is_root() {
        parent.notify(Notice::ChildExit(ChildExit {
            child: child.id(),
            name: child.to_string(),
            reason: reason.clone(),
            decision,
        }));
        // After the notice, so that the supervisor hears why before it fails.
        if let Some(why) = give_up {
            parent.fail(format!("restart intensity exceeded: {why}"));
        }
    }
    next
}

/// Returns the decision, what the child does next, and, when the supervisor must give up,
/// why.
fn supervise(
    parent: &ActorCell,
    child: &ActorCell,
    restart: Restart,
    reason: &ExitReason,
) -> (Decision, Next, Option<String>) {
    let shut_down = child.signals() & SHUTDOWN != 0 || *reason == ExitReason::Shutdown;
    if shut_down {
        return (Decision::Stopped, Next::End, None);
    }
    if restart == Restart::Temporary {
        return (Decision::Stopped, Next::End, None);
    }
    if *reason == ExitReason::Restart {
        return (
            Decision::RestartedWithSibling,
            Next::Restart(Duration::ZERO),
            None,
        );
    }
    if !restart.restarts_after(reason) {
        return (Decision::Stopped, Next::End, None);
    }
    let outcome = parent.with_relations(|relations| {
        let now = Instant::now();
        let supervision = *relations
            .supervision
            .get_or_insert_with(|| parent.supervision());
        let window_start = now.checked_sub(supervision.within);
        let in_window = |at: &Instant| window_start.is_none_or(|start| *at > start);
        relations.restarts.retain(in_window);
        if relations.restarts.len() >= supervision.max_restarts as usize {
            return Err(format!(
                "more than {} restarts within {:?}",
                supervision.max_restarts, supervision.within
            ));
        }
        relations.restarts.push_back(now);
        let attempt = match relations.children.get_mut(child) {
            Some(entry) => {
                let restarts = entry.restarts.get_or_insert_with(Box::default);
                restarts.retain(in_window);
                restarts.push_back(now);
                restarts.len() as u32
            }
            None => 1,
        };
        let siblings: Vec<Arc<ActorCell>> = match supervision.strategy {
            Strategy::OneForOne => Vec::new(),
            Strategy::OneForAll => relations
                .children
                .values()
                .filter(|entry| entry.cell.id() != child.id())
                .map(|entry| Arc::clone(&entry.cell))
                .collect(),
            Strategy::RestForOne => relations
                .children
                .after(child)
                .map(|entry| Arc::clone(&entry.cell))
                .collect(),
        };
        let delay = supervision.backoff.delay(attempt, random_unit(child));
        Ok((attempt, delay, siblings))
    });
    match outcome {
        Ok((attempt, delay, siblings)) => {
            for sibling in siblings {
                sibling.signal(RESTART);
            }
            (
                Decision::Restarted { attempt, delay },
                Next::Restart(delay),
                None,
            )
        }
        // The supervisor gives up: it fails, which stops its other children too (the
        // system's root only stops this child).
        Err(why) => (Decision::Escalated, Next::End, Some(why)),
    }
}

/// A number in `[0, 1)` for backoff jitter: cheap, and different per actor and moment.
fn random_unit(cell: &ActorCell) -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    // SplitMix64 finaliser over the actor id and the clock.
    let mut z = cell.id().as_u64().wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(nanos);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Makes `parent` refuse new children from now on (they are shut down at once instead),
/// and returns the children it has, newest first.
pub(crate) fn close_children(parent: &ActorCell) -> Vec<Arc<ActorCell>> {
    parent.close_children(newest_first).unwrap_or_default()
}

/// `cell`'s children, newest first (none if it never had relations).
pub(crate) fn children(cell: &ActorCell) -> Vec<Arc<ActorCell>> {
    cell.with_existing_relations(newest_first)
        .unwrap_or_default()
}

fn newest_first(relations: &mut Relations) -> Vec<Arc<ActorCell>> {
    relations
        .children
        .values()
        .rev()
        .map(|child| Arc::clone(&child.cell))
        .collect()
}

/// Stops `parent`'s children, newest first, before the parent itself ends.
///
/// Each child gets `stop_timeout` to stop gracefully, then is killed. If the parent was
/// killed, its children are killed too, without waiting.
pub(crate) async fn stop_children(parent: &ActorCell, killed: bool, stop_timeout: Duration) {
    for child in close_children(parent) {
        if killed {
            child.signal(SHUTDOWN | KILL);
            continue;
        }
        child.signal(SHUTDOWN);
        if tokio::time::timeout(stop_timeout, child.wait())
            .await
            .is_err()
        {
            child.signal(KILL);
            // A killed child ends at its next await; one that never awaits is left behind
            // rather than holding up its parent forever.
            let _ = tokio::time::timeout(stop_timeout, child.wait()).await;
        }
    }
}

/// Readies the relations for a new incarnation: it supervises its own children afresh
/// (no restarts counted against it, adopting again), traps no exits, has no pending
/// failure, and hears nothing about the children of the incarnation before it. Watches
/// it set stay (the reference is the same); links are already gone.
pub(crate) fn reopen(cell: &ActorCell) {
    cell.reopen_children();
    cell.with_existing_relations(|relations| {
        relations.restarts.clear();
        relations.trap_exits = false;
        relations.failure = None;
        relations
            .notices
            .retain(|notice| !matches!(notice, Notice::ChildExit(_)));
    });
}
