//! The id grammar: every logical id this version of infra can give a resource, for any config.
//! A resource that carries the stack's tag with an `infra:id` outside it (or none) was not made
//! by infra: plan lists it, and neither apply nor destroy touches it.

/// Every id shape, one per line. `{zone}` is a zone's suffix (`a`, or `-bos-1a` for a Local
/// Zone); `{name}` a policy or namespace name; the other placeholders are closed sets.
const GRAMMAR: &[&str] = &[
    "vpc",
    "igw",
    "igw-attachment",
    "subnet/{tier}/{zone}",
    "rta/{tier}/{zone}",
    "eip/{zone}",
    "nat/{zone}",
    "rt/public",
    "rt/private",
    "rt/private/{zone}",
    "route/public",
    "route/private",
    "route/private/{zone}",
    "sg/{sg}",
    "vpce/{vpce}",
    "role/{role}",
    "trust/{role}",
    "attach/{role}/{name}",
    "policy/{role}/{name}",
    "eks/cluster",
    "eks/nodegroup",
    "eks/access/codebuild",
    "lt/nodes",
    "k8s/namespace/{name}",
    "alb",
    "listener/{listener}",
    "rule/grpc",
    "tg/{tg}",
    "tg-attachment/{tg}",
    "ecr/repository",
    "codebuild/project",
    "logs/{logs}",
];

/// The values of each closed placeholder.
fn closed(placeholder: &str) -> Option<&'static [&'static str]> {
    Some(match placeholder {
        "tier" => &["public", "private-app", "private-data"],
        "sg" => &["alb", "nodes", "build", "api", "endpoints"],
        "vpce" => &["s3", "ec2", "ecr.api", "ecr.dkr", "logs", "sts"],
        "role" => &["cluster", "node", "codebuild"],
        "listener" => &["http", "https"],
        "tg" => &["http", "grpc"],
        "logs" => &["cluster", "codebuild"],
        _ => return None,
    })
}

/// True when some config makes infra give a resource logical id `id`.
pub fn is_infra_id(id: &str) -> bool {
    GRAMMAR.iter().any(|pattern| matches(pattern, id))
}

fn matches(pattern: &str, id: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let id: Vec<&str> = id.split('/').collect();
    pattern.len() == id.len() && pattern.iter().zip(&id).all(|(p, s)| segment(p, s))
}

fn segment(pattern: &str, s: &str) -> bool {
    let Some(placeholder) = pattern.strip_prefix('{').and_then(|p| p.strip_suffix('}')) else {
        return pattern == s;
    };
    match (placeholder, closed(placeholder)) {
        (_, Some(values)) => values.contains(&s),
        // A zone suffix: what is left of a zone name once the region is taken off.
        ("zone", _) => {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        }
        // IAM policy names (`[\w+=,.@-]+`) and Kubernetes namespace names fit in this.
        ("name", _) => {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse, NatMode, DEFAULT_YAML};
    use std::collections::BTreeSet;

    /// The desired ids of configs that between them use every option that adds resources.
    fn every_config_ids() -> BTreeSet<String> {
        let mut ids = BTreeSet::new();
        let private = DEFAULT_YAML.replace("endpoint: public-and-private", "endpoint: private");
        for text in [DEFAULT_YAML.to_string(), private] {
            for nat in [NatMode::Single, NatMode::PerAz, NatMode::None] {
                for cert in [false, true] {
                    let mut c = parse(&text).expect("the default config parses");
                    c.network.nat = nat;
                    if cert {
                        c.alb.certificate_arn =
                            Some("arn:aws:acm:us-east-1:123456789012:certificate/abc".into());
                    }
                    let g = crate::stack::build(&c, "123456789012");
                    ids.extend(g.resources.keys().map(|k| k.to_string()));
                }
            }
        }
        ids
    }

    #[test]
    fn every_id_the_stack_makes_is_in_the_grammar() {
        for id in every_config_ids() {
            assert!(
                is_infra_id(&id),
                "{id} is made by the stack but not in GRAMMAR"
            );
        }
    }

    #[test]
    fn every_line_of_the_grammar_is_made_by_some_config() {
        let ids = every_config_ids();
        for pattern in GRAMMAR {
            assert!(
                ids.iter().any(|id| matches(pattern, id)),
                "no config makes an id like {pattern}: remove it from GRAMMAR"
            );
        }
    }

    #[test]
    fn every_endpoint_and_group_name_is_made_by_some_config() {
        let ids = every_config_ids();
        for (prefix, placeholder) in [("vpce", "vpce"), ("sg", "sg")] {
            for value in closed(placeholder).unwrap_or_default() {
                let id = format!("{prefix}/{value}");
                assert!(ids.contains(&id), "no config makes {id}: remove it");
            }
        }
    }

    #[test]
    fn ids_of_other_zones_are_ours_and_made_up_ones_are_not() {
        for ours in [
            "subnet/public/c",
            "nat/-bos-1a",
            "rta/private-data/f",
            "attach/node/X",
            "vpce/ecr.dkr",
            "sg/endpoints",
        ] {
            assert!(is_infra_id(ours), "{ours}");
        }
        for not in [
            "bogus/thing",
            "untracked/vpc-0abc",
            "",
            "vpc/extra",
            "role/bogus",
            "subnet/dmz/a",
            "subnet/public/",
            "subnet/public/A",
            "sg/db",
            "vpce/dynamodb",
            "vpce/",
        ] {
            assert!(!is_infra_id(not), "{not:?} must not be ours");
        }
    }
}
