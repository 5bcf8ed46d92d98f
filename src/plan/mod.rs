//! The plan: what must change to make the account match the config, as plain data.

mod diff;
mod duplicates;
mod hazards;
mod render;
mod saved;
mod steps;
mod target;

pub use diff::{destroy, diff};
pub use duplicates::Contest;
pub use hazards::hazards;
pub use render::{render_human, render_markdown};
pub use saved::Saved;
pub use steps::{Step, StepKind};

use crate::model::{Area, Kind, LogicalId};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// What happens to one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Does not exist yet.
    Create,
    /// Exists; some attributes change in place.
    Update,
    /// Exists; an attribute that cannot change in place differs, so it is replaced: deleted and
    /// re-created, or re-created beside it first ([`Change::new_first`]).
    Replace,
    /// Exists but is no longer wanted.
    Delete,
    /// Exists as wanted.
    NoOp,
}

impl Action {
    /// The symbol shown in front of the resource in human output.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
            Action::NoOp => " ",
        }
    }
}

/// One attribute's change. `new: None` means the value is known only after apply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttrChange {
    /// Attribute name.
    pub name: String,
    /// Current value (absent for creates or attributes not set yet).
    pub old: Option<Json>,
    /// Wanted value; `None` when it depends on a resource not created yet.
    pub new: Option<Json>,
    /// True when this attribute cannot change in place.
    pub forces_replacement: bool,
}

/// The plan for one resource.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Logical id.
    pub id: LogicalId,
    /// Resource kind.
    pub kind: Kind,
    /// Area, for grouping.
    pub area: Area,
    /// What happens.
    pub action: Action,
    /// The current AWS id, when it exists.
    pub physical_id: Option<String>,
    /// Attribute changes (every attribute for a create).
    pub attrs: Vec<AttrChange>,
    /// Why, when the attributes alone do not say (deleted outside infra, duplicate, failed).
    pub reason: Option<String>,
    /// For a replacement: the new copy is made first, and the old one goes once it (and what
    /// hangs on it) is applied. Otherwise the old one goes first.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub new_first: bool,
}

impl Change {
    /// The symbol shown in front of the resource: a new-first replacement is `+/-`, as
    /// Terraform shows create-before-destroy.
    pub fn symbol(&self) -> &'static str {
        match self.action {
            Action::Replace if self.new_first => "+/-",
            a => a.symbol(),
        }
    }
}

/// A resource the plan shows but never touches: under a name the stack uses without the
/// stack's tag (a conflict), or with the stack's tag and an id infra never makes (a stray).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Untouched {
    /// The logical id it would have.
    pub id: LogicalId,
    /// Resource kind.
    pub kind: Kind,
    /// Its AWS id.
    pub physical_id: String,
}

/// The whole plan, plus the ordered steps the executor walks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Stack name.
    pub stack: String,
    /// Every resource, no-ops included, in dependency order.
    pub changes: Vec<Change>,
    /// Resources in the way: same name, not this stack's. Apply refuses while there are any.
    pub conflicts: Vec<Untouched>,
    /// Tagged with this stack, not made by infra: left alone.
    pub strays: Vec<Untouched>,
    /// Logical ids several resources claim where the plan cannot tell which to keep. Apply
    /// refuses while there are any.
    pub contests: Vec<Contest>,
    /// The execution DAG: one step per create/update/delete, with its prerequisites.
    #[serde(skip)]
    pub steps: Vec<Step>,
}

/// Counts of each action, for summaries and exit codes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Resources to create.
    pub create: usize,
    /// Resources to update in place.
    pub update: usize,
    /// Resources to replace.
    pub replace: usize,
    /// Resources to delete.
    pub delete: usize,
}

impl Plan {
    /// How many resources each action touches.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for ch in &self.changes {
            match ch.action {
                Action::Create => c.create += 1,
                Action::Update => c.update += 1,
                Action::Replace => c.replace += 1,
                Action::Delete => c.delete += 1,
                Action::NoOp => {}
            }
        }
        c
    }

    /// An error naming the conflicts and contests, when there are any: nothing can be applied
    /// until they go.
    pub fn check_conflicts(&self) -> anyhow::Result<()> {
        if !self.conflicts.is_empty() {
            let names: Vec<String> = self
                .conflicts
                .iter()
                .map(|c| format!("{} ({})", c.id, c.physical_id))
                .collect();
            anyhow::bail!(
                "{} resource(s) with this stack's names belong to someone else: {}. Nothing was changed.",
                names.len(),
                names.join(", ")
            )
        }
        if !self.contests.is_empty() {
            let each: Vec<String> = self
                .contests
                .iter()
                .map(|c| {
                    format!(
                        "{} is claimed by {} ({})",
                        c.id,
                        c.physical_ids.join(", "),
                        c.why
                    )
                })
                .collect();
            anyhow::bail!(
                "infra cannot tell which copy to keep: {}. Nothing was changed. Delete the copies \
                 you do not want (and what uses them), or take the infra:stack tag off them, then \
                 plan again.",
                each.join("; ")
            )
        }
        Ok(())
    }

    /// True when applying would change nothing.
    pub fn is_empty(&self) -> bool {
        self.changes.iter().all(|c| c.action == Action::NoOp)
    }
}

#[cfg(test)]
pub(crate) mod tests;
