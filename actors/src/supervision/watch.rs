//! Death watch and links.

use std::sync::{Arc, Weak};

use crate::cell::{ActorCell, ActorId};
use crate::exit::ExitReason;
use crate::supervision::relations::Notice;

/// `watcher` hears `target`'s end exactly once, even if it has already ended.
pub(crate) fn watch(watcher: &Arc<ActorCell>, target: &ActorCell) {
    let ended = target.with_relations(|relations| match target.ended_reason(relations) {
        Some(reason) => Some(reason),
        None => {
            let already = relations
                .watchers
                .iter()
                .any(|existing| existing.as_ptr() == Arc::as_ptr(watcher));
            if !already {
                relations.watchers.push(Arc::downgrade(watcher));
            }
            None
        }
    });
    if let Some(reason) = ended {
        watcher.notify(Notice::Terminated {
            actor: target.id(),
            reason,
        });
    }
}

/// Undoes [`watch`], including a notice already queued but not yet handled.
pub(crate) fn unwatch(watcher: &ActorCell, target: &ActorCell) {
    target.with_existing_relations(|relations| {
        relations
            .watchers
            .retain(|existing| existing.as_ptr() != std::ptr::from_ref(watcher));
    });
    forget_notices_from(watcher, target.id(), |notice| {
        matches!(notice, Notice::Terminated { .. })
    });
}

/// Links two actors: when one's incarnation ends abnormally, the other fails too, unless it
/// traps exits and hears a notice instead.
pub(crate) fn link(this: &Arc<ActorCell>, other: &Arc<ActorCell>) {
    if Arc::ptr_eq(this, other) {
        return;
    }
    let ended = other.with_relations(|relations| match other.ended_reason(relations) {
        Some(reason) => Some(reason),
        None => {
            add_link(&mut relations.links, this);
            None
        }
    });
    match ended {
        Some(reason) => deliver_exit(this, other.id(), &reason),
        None => this.with_relations(|relations| add_link(&mut relations.links, other)),
    }
}

/// Removes a link from both sides.
pub(crate) fn unlink(this: &ActorCell, other: &ActorCell) {
    for (from, to) in [(this, other), (other, this)] {
        from.with_existing_relations(|relations| {
            relations
                .links
                .retain(|link| link.as_ptr() != std::ptr::from_ref(to));
        });
    }
    forget_notices_from(this, other.id(), |notice| {
        matches!(notice, Notice::LinkExit { .. })
    });
}

fn add_link(links: &mut Vec<Weak<ActorCell>>, cell: &Arc<ActorCell>) {
    if !links.iter().any(|link| link.as_ptr() == Arc::as_ptr(cell)) {
        links.push(Arc::downgrade(cell));
    }
}

fn forget_notices_from(cell: &ActorCell, from: ActorId, kind: impl Fn(&Notice) -> bool) {
    cell.with_existing_relations(|relations| {
        relations.notices.retain(|notice| {
            let sender = match notice {
                Notice::Terminated { actor, .. } | Notice::LinkExit { actor, .. } => *actor,
                Notice::ChildExit(exit) => exit.child,
            };
            !(sender == from && kind(notice))
        });
    });
}

/// Passes the end of `cell`'s incarnation to its links, and breaks them: a restarted actor
/// starts unlinked, like a new Erlang process.
pub(crate) fn incarnation_ended(cell: &ActorCell, reason: &ExitReason) {
    let links = cell
        .with_existing_relations(|relations| std::mem::take(&mut relations.links))
        .unwrap_or_default();
    for linked in links.iter().filter_map(Weak::upgrade) {
        linked.with_existing_relations(|relations| {
            relations
                .links
                .retain(|link| link.as_ptr() != std::ptr::from_ref(cell));
        });
        deliver_exit(&linked, cell.id(), reason);
    }
}

fn deliver_exit(to: &ActorCell, from: ActorId, reason: &ExitReason) {
    let traps = to.with_relations(|relations| relations.trap_exits);
    if traps {
        to.notify(Notice::LinkExit {
            actor: from,
            reason: reason.clone(),
        });
    } else if reason.is_abnormal() {
        to.fail(format!("linked actor {from} ended: {reason}"));
    }
}

/// Records that `cell` ended for good and tells its watchers, each exactly once.
pub(crate) fn ended_for_good(cell: &ActorCell, reason: &ExitReason) {
    let watchers = cell.mark_ended(reason);
    for watcher in watchers.iter().filter_map(Weak::upgrade) {
        watcher.notify(Notice::Terminated {
            actor: cell.id(),
            reason: reason.clone(),
        });
    }
}
