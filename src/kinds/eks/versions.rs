//! Which Kubernetes version the cluster runs: EKS's own list of versions
//! (`DescribeClusterVersions`), the config, and the live cluster. EKS upgrades one minor version
//! at a time, never downgrades, and upgrades by itself a cluster whose support has ended.

use crate::aws::{Aws, AwsResultExt};
use anyhow::Result;
use aws_sdk_eks::types::VersionStatus;
use std::collections::BTreeMap;

/// Where a version is in EKS's support calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// In standard support: the cluster costs the standard hourly price.
    Standard,
    /// In extended support: six times the standard price, until its end date.
    Extended,
    /// No longer offered: EKS refuses new clusters and upgrades existing ones by itself.
    Ended,
}

/// One version EKS knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offered {
    /// Its support status.
    pub support: Support,
    /// When its standard support ends (`YYYY-MM-DD`), if EKS says.
    pub end_of_standard: Option<String>,
    /// When its extended support ends (`YYYY-MM-DD`), if EKS says.
    pub end_of_extended: Option<String>,
}

/// Every version EKS lists, by `1.<minor>`, and the one it makes new clusters with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Versions {
    /// Versions by name.
    pub all: BTreeMap<String, Offered>,
    /// EKS's default for new clusters.
    pub default: Option<String>,
}

impl Versions {
    /// True when `version` is in extended support (priced at the extended rate).
    pub fn is_extended(&self, version: &str) -> bool {
        self.all
            .get(version)
            .is_some_and(|v| v.support == Support::Extended)
    }

    /// The versions a new cluster may take, oldest first.
    fn offered(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .all
            .iter()
            .filter(|(_, o)| o.support != Support::Ended)
            .map(|(k, _)| k.as_str())
            .collect();
        v.sort_by_key(|k| minor(k));
        v
    }
}

/// The minor number of `1.<minor>`.
fn minor(version: &str) -> Option<u32> {
    version.strip_prefix("1.")?.parse().ok()
}

fn day(d: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    d.and_then(|d| d.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
        .map(|s| s.chars().take(10).collect())
}

/// Reads EKS's list of versions, the ended ones included.
pub async fn read(aws: &Aws) -> Result<Versions> {
    let mut out = Versions::default();
    let mut next: Option<String> = None;
    loop {
        let page = aws
            .eks
            .describe_cluster_versions()
            .include_all(true)
            .set_next_token(next.take())
            .send()
            .await
            .aws("DescribeClusterVersions")?;
        for v in page.cluster_versions() {
            let Some(name) = v.cluster_version() else {
                continue;
            };
            if v.default_version() {
                out.default = Some(name.to_string());
            }
            let support = match v.version_status() {
                Some(VersionStatus::StandardSupport) => Support::Standard,
                Some(VersionStatus::ExtendedSupport) => Support::Extended,
                _ => Support::Ended,
            };
            out.all.insert(
                name.to_string(),
                Offered {
                    support,
                    end_of_standard: day(v.end_of_standard_support_date()),
                    end_of_extended: day(v.end_of_extended_support_date()),
                },
            );
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

/// The version the cluster should run, and what the plan should say about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The version to build the stack with.
    pub version: String,
    /// Worth a yellow line above the prompt (extended-support cost, an upgrade AWS made).
    pub warnings: Vec<String>,
}

/// Why the configured version cannot be applied; nothing is changed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VersionError {
    /// Not a version EKS offers for clusters.
    #[error("eks.version {asked:?} is not a Kubernetes version EKS offers{}; it offers {}", .ended.then_some(" any more (its support has ended)").unwrap_or(""), .offered.join(", "))]
    NotOffered {
        /// The configured version.
        asked: String,
        /// True when EKS lists it as ended.
        ended: bool,
        /// The versions EKS offers.
        offered: Vec<String>,
    },
    /// EKS lists no version a new cluster could take.
    #[error("EKS lists no Kubernetes version for new clusters in this region: set eks.version")]
    NoneOffered,
    /// Lower than the live cluster's: EKS cannot downgrade.
    #[error("eks.version {asked} is below the {live} cluster {cluster} runs, and EKS cannot downgrade a cluster: set eks.version to \"{live}\" (or a later version, one minor at a time)")]
    Downgrade {
        /// The configured version.
        asked: String,
        /// The live version.
        live: String,
        /// The cluster's name.
        cluster: String,
    },
    /// More than one minor version above the live cluster's.
    #[error("eks.version {asked} is {steps} minor versions above the {live} cluster {cluster} runs, and EKS upgrades one minor version at a time: apply with eks.version {}, in that order", .path.join(", then "))]
    Jump {
        /// The configured version.
        asked: String,
        /// The live version.
        live: String,
        /// The cluster's name.
        cluster: String,
        /// How many minor versions apart.
        steps: u32,
        /// Each version to apply, in order.
        path: Vec<String>,
    },
}

/// The version to build the stack with: the configured one (checked against EKS's list and
/// the live cluster's version), else the live cluster's, else EKS's default.
pub fn resolve(
    asked: Option<&str>,
    live: Option<(&str, &str)>,
    versions: &Versions,
) -> Result<Resolved, VersionError> {
    let mut warnings = Vec::new();
    let offered = || versions.offered().iter().map(|s| s.to_string()).collect();
    let version = match (asked, live) {
        (None, Some((_, live))) => live.to_string(),
        (None, None) => match &versions.default {
            Some(d) => d.clone(),
            // EKS names a default whenever it lists versions; without one, the newest.
            None => versions
                .offered()
                .last()
                .map(|s| s.to_string())
                .ok_or(VersionError::NoneOffered)?,
        },
        (Some(asked), live) => {
            let Some(known) = versions.all.get(asked) else {
                return Err(VersionError::NotOffered {
                    asked: asked.to_string(),
                    ended: false,
                    offered: offered(),
                });
            };
            let ended = known.support == Support::Ended;
            match live.and_then(|(cluster, l)| Some((cluster, l, minor(l)?))) {
                Some((cluster, l, lm)) => {
                    let am = minor(asked).unwrap_or(0);
                    if am < lm && ended {
                        // Support ran out and EKS moved the cluster up by itself: follow it
                        // rather than ask for a downgrade AWS refuses.
                        warnings.push(format!(
                            "EKS upgraded cluster {cluster} to {l} when support for {asked} \
                             ended; infra keeps {l}. Set eks.version to \"{l}\" in the config."
                        ));
                        l.to_string()
                    } else if am < lm {
                        return Err(VersionError::Downgrade {
                            asked: asked.to_string(),
                            live: l.to_string(),
                            cluster: cluster.to_string(),
                        });
                    } else if ended {
                        return Err(VersionError::NotOffered {
                            asked: asked.to_string(),
                            ended: true,
                            offered: offered(),
                        });
                    } else if am > lm + 1 {
                        return Err(VersionError::Jump {
                            asked: asked.to_string(),
                            live: l.to_string(),
                            cluster: cluster.to_string(),
                            steps: am - lm,
                            path: (lm + 1..=am).map(|m| format!("1.{m}")).collect(),
                        });
                    } else {
                        asked.to_string()
                    }
                }
                None if ended => {
                    return Err(VersionError::NotOffered {
                        asked: asked.to_string(),
                        ended: true,
                        offered: offered(),
                    })
                }
                None => asked.to_string(),
            }
        }
    };
    if let Some(o) = versions.all.get(&version) {
        if o.support == Support::Extended {
            warnings.push(format!(
                "Kubernetes {version} is in EKS extended support{}: the control plane costs six \
                 times the standard price. Upgrade (one minor version per apply) to leave it.",
                o.end_of_extended
                    .as_deref()
                    .map(|d| format!(" until {d}"))
                    .unwrap_or_default()
            ));
        }
    }
    Ok(Resolved { version, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions() -> Versions {
        let mut all = BTreeMap::new();
        for (v, support) in [
            ("1.31", Support::Ended),
            ("1.32", Support::Extended),
            ("1.33", Support::Standard),
            ("1.34", Support::Standard),
            ("1.35", Support::Standard),
        ] {
            all.insert(
                v.to_string(),
                Offered {
                    support,
                    end_of_standard: None,
                    end_of_extended: Some("2027-03-23".into()),
                },
            );
        }
        Versions {
            all,
            default: Some("1.34".into()),
        }
    }

    fn ok(asked: Option<&str>, live: Option<&str>) -> Resolved {
        resolve(asked, live.map(|l| ("c", l)), &versions()).unwrap()
    }

    fn err(asked: &str, live: Option<&str>) -> String {
        resolve(Some(asked), live.map(|l| ("c", l)), &versions())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn without_a_version_a_new_cluster_gets_the_default_and_a_live_one_keeps_its_own() {
        assert_eq!(ok(None, None).version, "1.34");
        assert_eq!(ok(None, Some("1.33")).version, "1.33");
    }

    #[test]
    fn unknown_and_ended_versions_are_refused_with_what_eks_offers() {
        let e = err("1.3", None);
        assert!(
            e.contains("\"1.3\" is not a Kubernetes version EKS offers;"),
            "{e}"
        );
        assert!(e.contains("1.32, 1.33, 1.34, 1.35"), "{e}");
        let e = err("1.31", None);
        assert!(e.contains("any more (its support has ended)"), "{e}");
    }

    #[test]
    fn one_minor_step_up_is_an_upgrade() {
        assert_eq!(ok(Some("1.34"), Some("1.33")).version, "1.34");
        assert_eq!(ok(Some("1.33"), Some("1.33")).version, "1.33");
    }

    #[test]
    fn a_jump_is_refused_with_the_steps() {
        let e = err("1.35", Some("1.32"));
        assert!(
            e.contains("3 minor versions above the 1.32 cluster c runs"),
            "{e}"
        );
        assert!(
            e.contains("apply with eks.version 1.33, then 1.34, then 1.35, in that order"),
            "{e}"
        );
    }

    #[test]
    fn an_unknown_version_is_refused_even_below_a_live_cluster() {
        let e = err("1.3", Some("1.33"));
        assert!(
            e.contains("\"1.3\" is not a Kubernetes version EKS offers;"),
            "{e}"
        );
    }

    #[test]
    fn a_downgrade_is_refused() {
        let e = err("1.33", Some("1.34"));
        assert!(e.contains("EKS cannot downgrade"), "{e}");
        assert!(e.contains("set eks.version to \"1.34\""), "{e}");
    }

    #[test]
    fn a_cluster_eks_upgraded_at_end_of_support_is_followed_not_downgraded() {
        let r = ok(Some("1.31"), Some("1.32"));
        assert_eq!(r.version, "1.32");
        assert!(
            r.warnings[0].contains("EKS upgraded cluster c to 1.32"),
            "{r:?}"
        );
        // ... and 1.32 is itself in extended support, which costs.
        assert!(
            r.warnings[1].contains("extended support until 2027-03-23"),
            "{r:?}"
        );
    }

    #[test]
    fn extended_support_is_warned_about_and_priced() {
        let r = ok(Some("1.32"), None);
        assert!(r.warnings.iter().any(|w| w.contains("six times")), "{r:?}");
        assert!(versions().is_extended("1.32"));
        assert!(!versions().is_extended("1.33"));
    }
}
