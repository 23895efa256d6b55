//! A snapshot of the supervision tree, for printing and inspection.

use std::fmt;
use std::sync::Arc;

use crate::cell::{ActorCell, ActorId};
use crate::supervision::Restart;

/// One actor in a [`SupervisionTree`], with its children in start order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeNode {
    /// The actor's id.
    pub id: ActorId,
    /// The actor's type and id, such as `Worker#12`.
    pub name: String,
    /// Its restart policy.
    pub restart: Restart,
    /// Its children, oldest first.
    pub children: Vec<TreeNode>,
}

/// The actors of a system as their supervisors see them: top-level actors under the
/// system, each actor's children under it, oldest first.
///
/// [`Display`](fmt::Display) draws it:
///
/// ```text
/// system
/// ├── Registry#1 (permanent)
/// └── Pool#2 (permanent)
///     ├── Worker#3 (transient)
///     └── Worker#4 (transient)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisionTree {
    /// The top-level actors.
    pub roots: Vec<TreeNode>,
}

impl SupervisionTree {
    pub(crate) fn of(root: &ActorCell) -> Self {
        Self {
            roots: children_of(root),
        }
    }

    /// Returns how many actors the tree holds.
    pub fn len(&self) -> usize {
        fn count(nodes: &[TreeNode]) -> usize {
            nodes.iter().map(|node| 1 + count(&node.children)).sum()
        }
        count(&self.roots)
    }

    /// Returns `true` when no actor is alive.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }
}

fn children_of(cell: &ActorCell) -> Vec<TreeNode> {
    let children: Vec<(Arc<ActorCell>, Restart)> = cell
        .with_existing_relations(|relations| {
            relations
                .children
                .values()
                .map(|child| (Arc::clone(&child.cell), child.restart))
                .collect()
        })
        .unwrap_or_default();
    children
        .into_iter()
        .map(|(child, restart)| TreeNode {
            id: child.id(),
            name: child.to_string(),
            restart,
            children: children_of(&child),
        })
        .collect()
}

impl fmt::Display for SupervisionTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "system")?;
        draw(f, &self.roots, "")
    }
}

fn draw(f: &mut fmt::Formatter<'_>, nodes: &[TreeNode], indent: &str) -> fmt::Result {
    for (index, node) in nodes.iter().enumerate() {
        let last = index + 1 == nodes.len();
        let (branch, next) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        let policy = match node.restart {
            Restart::Permanent => "permanent",
            Restart::Transient => "transient",
            Restart::Temporary => "temporary",
        };
        writeln!(f, "{indent}{branch}{} ({policy})", node.name)?;
        draw(f, &node.children, &format!("{indent}{next}"))?;
    }
    Ok(())
}
