//! What in a plan costs more than it says: changes that remove capacity, lose data or cannot be
//! undone. Plan lists them with the config's warnings; apply and destroy show them above the
//! prompt, in yellow, each with what to do.

use super::{Action, Change, Plan};
use crate::model::Kind;

/// One line per hazardous change in `plan`, saying what happens and what to do.
pub fn hazards(plan: &Plan) -> Vec<String> {
    plan.changes.iter().filter_map(hazard).collect()
}

fn hazard(c: &Change) -> Option<String> {
    let id = &c.id;
    let gone = matches!(c.action, Action::Delete | Action::Replace);
    let verb = if c.action == Action::Replace {
        "is replaced"
    } else {
        "is deleted"
    };
    let replaced = c.action == Action::Replace;
    Some(match (c.kind, gone) {
        (Kind::EksNodeGroup, true) if c.new_first => format!(
            "{id} {verb}: new group first, no gap in capacity. The new group comes up under \
             the node group's other name and takes traffic from the target groups before the \
             old one is drained and deleted; both run, and are billed, meanwhile."
        ),
        // Destroy deletes it on purpose; only a replacement takes capacity away mid-flight.
        (Kind::EksNodeGroup, true) if replaced => format!(
            "{id} {verb}: its nodes are drained and gone before new ones exist (the new group \
             needs what is replaced before it), so the service is down until they are ready \
             (several minutes). Apply at a quiet time."
        ),
        (Kind::EksCluster, true) => format!(
            "{id} {verb}: every workload, secret and setting in the cluster is lost, and its \
             API endpoint changes. Back up what you cannot redeploy from the pipeline."
        ),
        (Kind::EcrRepository, true) => format!(
            "{id} {verb} with every image in it (destroy needs --force while it holds any). \
             Copy the images you need first."
        ),
        (Kind::LoadBalancer, true) if replaced => {
            format!("{id} {verb}: its DNS name changes; update the DNS records that point at it.")
        }
        (Kind::LoadBalancer, true) => format!(
            "{id} {verb}: its DNS name stops answering; remove the DNS records that point at it."
        ),
        (Kind::LogGroup, true) => format!("{id} {verb} with the logs it holds."),
        (Kind::EksCluster, false) if upgrades(c) => format!(
            "{id} upgrades Kubernetes: EKS cannot downgrade a cluster, so this cannot be undone. \
             Check the upgrade notes of the new version first."
        ),
        _ => return None,
    })
}

/// True when the change moves the cluster to another Kubernetes version.
fn upgrades(c: &Change) -> bool {
    c.action == Action::Update
        && c.attrs
            .iter()
            .any(|a| a.name == "version" && a.old.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LogicalId;
    use crate::plan::AttrChange;
    use serde_json::json;

    fn change(id: &str, kind: Kind, action: Action) -> Change {
        Change {
            id: LogicalId::new(id),
            kind,
            area: kind.area(),
            action,
            physical_id: Some("p".into()),
            attrs: Vec::new(),
            reason: None,
            new_first: false,
        }
    }

    fn plan(changes: Vec<Change>) -> Plan {
        Plan {
            stack: "s".into(),
            changes,
            conflicts: Vec::new(),
            strays: Vec::new(),
            contests: Vec::new(),
            steps: Vec::new(),
        }
    }

    #[test]
    fn capacity_data_and_one_way_changes_are_named_with_what_to_do() {
        let mut upgrade = change("eks/cluster", Kind::EksCluster, Action::Update);
        upgrade.attrs.push(AttrChange {
            name: "version".into(),
            old: Some(json!("1.31")),
            new: Some(json!("1.32")),
            forces_replacement: false,
        });
        let mut new_first = change("eks/nodegroup", Kind::EksNodeGroup, Action::Replace);
        new_first.new_first = true;
        let p = plan(vec![
            change("eks/nodegroup", Kind::EksNodeGroup, Action::Replace),
            new_first,
            change("ecr/repository", Kind::EcrRepository, Action::Delete),
            upgrade,
            change("vpc", Kind::Vpc, Action::Replace),
            change("eks/nodegroup", Kind::EksNodeGroup, Action::Update),
            change("eks/nodegroup", Kind::EksNodeGroup, Action::Delete),
        ]);
        let lines = hazards(&p);
        assert_eq!(lines.len(), 4, "{lines:#?}");
        assert!(lines[0].starts_with("eks/nodegroup is replaced: its nodes are drained"));
        assert!(lines[1].starts_with("eks/nodegroup is replaced: new group first, no gap"));
        assert!(lines[2].contains("with every image in it"));
        assert!(lines[3].contains("cannot be undone"));
    }
}
