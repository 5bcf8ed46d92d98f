//! Saved plans: what `plan --out FILE` writes and `apply FILE` applies exactly, or refuses to
//! when the account or the config changed since. The file holds the plan and digests of what it
//! was made from, never a secret (build secrets are references, see `config::secrets`).

use super::Plan;
use crate::model::{LogicalId, Observed};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The file format this version writes and reads.
const FORMAT: u32 = 1;

/// A plan with what it was made from.
#[derive(Debug, Serialize, Deserialize)]
pub struct Saved {
    /// [`FORMAT`].
    pub format: u32,
    /// The infra version that made it: another version may plan differently.
    pub infra_version: String,
    /// The account it was planned in.
    pub account: String,
    /// The region it was planned in.
    pub region: String,
    /// Digest of the validated config it was planned from.
    pub config: String,
    /// Digest of each resource it read, by `<logical id> (<kind> <AWS id>)`.
    pub observed: BTreeMap<String, String>,
    /// The `--target` ids it was narrowed to (none: the whole stack).
    #[serde(default)]
    pub targets: Vec<LogicalId>,
    /// The plan itself.
    pub plan: Plan,
}

/// Why a saved plan cannot be applied as it is.
#[derive(Debug, thiserror::Error)]
pub enum Stale {
    /// Made by another version of infra, or another file format.
    #[error("the plan was made by infra {made_by} (file format {format}); this is infra {ours}")]
    Version {
        /// Who made it.
        made_by: String,
        /// Its format.
        format: u32,
        /// This version.
        ours: String,
    },
    /// Made for another account or region.
    #[error("the plan is for account {0} in {1}")]
    Place(String, String),
    /// The config changed since.
    #[error("the config is not the one the plan was made from")]
    Config,
    /// What the plan read is not what the account holds now.
    #[error("the account changed since the plan was made:\n  {}", .0.join("\n  "))]
    Account(Vec<String>),
}

impl Saved {
    /// Records `plan` (narrowed to `targets`) with digests of `config` and of every resource
    /// in `observed`.
    pub fn new<C: Serialize>(
        plan: Plan,
        targets: Vec<LogicalId>,
        config: &C,
        account: &str,
        region: &str,
        observed: &[Observed],
    ) -> Self {
        Saved {
            format: FORMAT,
            infra_version: env!("CARGO_PKG_VERSION").to_string(),
            account: account.to_string(),
            region: region.to_string(),
            config: digest(config),
            observed: fingerprints(observed),
            targets,
            plan,
        }
    }

    /// Checks that the plan still holds for `config` in `account`/`region` holding `observed`.
    pub fn check<C: Serialize>(
        &self,
        config: &C,
        account: &str,
        region: &str,
        observed: &[Observed],
    ) -> Result<(), Stale> {
        let ours = env!("CARGO_PKG_VERSION");
        if self.format != FORMAT || self.infra_version != ours {
            return Err(Stale::Version {
                made_by: self.infra_version.clone(),
                format: self.format,
                ours: ours.to_string(),
            });
        }
        if self.account != account || self.region != region {
            return Err(Stale::Place(self.account.clone(), self.region.clone()));
        }
        if self.config != digest(config) {
            return Err(Stale::Config);
        }
        let changed = differences(&self.observed, &fingerprints(observed));
        if changed.is_empty() {
            Ok(())
        } else {
            Err(Stale::Account(changed))
        }
    }
}

/// A digest of each observed resource, by `<logical id> (<kind> <AWS id>)`.
fn fingerprints(observed: &[Observed]) -> BTreeMap<String, String> {
    observed
        .iter()
        .map(|o| {
            (
                format!("{} ({} {})", o.id, o.kind, o.physical_id),
                digest(o),
            )
        })
        .collect()
}

/// SHA-256 of `value`'s JSON, in hex. The maps inside are ordered, so equal values hash alike.
fn digest<T: Serialize>(value: &T) -> String {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One line per resource that appeared, went or changed between `then` and `now`.
fn differences(then: &BTreeMap<String, String>, now: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for (what, d) in then {
        match now.get(what) {
            None => out.push(format!("{what}: gone")),
            Some(n) if n != d => out.push(format!("{what}: changed")),
            Some(_) => {}
        }
    }
    out.extend(
        now.keys()
            .filter(|k| !then.contains_key(*k))
            .map(|k| format!("{k}: new")),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    fn plan() -> Plan {
        Plan {
            stack: "s".into(),
            changes: Vec::new(),
            conflicts: Vec::new(),
            strays: Vec::new(),
            contests: Vec::new(),
            steps: Vec::new(),
        }
    }

    fn vpc(physical: &str) -> Observed {
        Observed::new(LogicalId::new("vpc"), Kind::Vpc, physical)
    }

    #[test]
    fn an_unchanged_account_and_config_keep_the_plan() {
        let observed = [vpc("vpc-1")];
        let saved = Saved::new(plan(), Vec::new(), &"config", "1", "r", &observed);
        assert!(saved.check(&"config", "1", "r", &observed).is_ok());
    }

    #[test]
    fn any_change_since_is_named() {
        let observed = [vpc("vpc-1"), vpc("vpc-2")];
        let saved = Saved::new(plan(), Vec::new(), &"config", "1", "r", &observed);
        let mut edited = vpc("vpc-1");
        edited
            .attrs
            .insert("cidr_block".into(), serde_json::json!("10.1.0.0/16"));
        let now = [edited, vpc("vpc-3")];
        let Err(Stale::Account(lines)) = saved.check(&"config", "1", "r", &now) else {
            panic!("the account changed")
        };
        assert_eq!(
            lines,
            [
                "vpc (vpc vpc-1): changed",
                "vpc (vpc vpc-2): gone",
                "vpc (vpc vpc-3): new"
            ]
        );
        assert!(matches!(
            saved.check(&"other", "1", "r", &observed),
            Err(Stale::Config)
        ));
        assert!(matches!(
            saved.check(&"config", "2", "r", &observed),
            Err(Stale::Place(..))
        ));
    }

    #[test]
    fn the_file_round_trips() {
        let saved = Saved::new(plan(), Vec::new(), &"config", "1", "r", &[vpc("vpc-1")]);
        let text = serde_json::to_string(&saved).unwrap();
        let back: Saved = serde_json::from_str(&text).unwrap();
        assert!(back.check(&"config", "1", "r", &[vpc("vpc-1")]).is_ok());
    }
}
