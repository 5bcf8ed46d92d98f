//! The JSON Schema (draft 2020-12) of `infra.yaml`, derived from the config types so it cannot
//! drift from what serde accepts. The patterns below are the part of `validate.rs` a schema can
//! express. Each is exactly as strict as the check it mirrors, or looser where JSON Schema cannot
//! say it, so an editor does not flag a file `infra` would accept. One difference is deliberate:
//! serde_yaml reads a bare number into a text field (`branch: 123`), the schema asks for a
//! string there, except for `eks.version`, whose unquoted form (`1.31`) is the natural one.

use super::Config;
use serde_json::Value as Json;

/// A stack name: a lowercase letter first, then lowercase letters, digits and single hyphens;
/// not `sg`/`sg-...` (EC2 refuses security group names starting `sg-`) nor `internal`/
/// `internal-...` (ELB refuses load balancer names starting `internal-`).
pub(super) const STACK: &str = r"^(?!(sg|internal)(-|$))[a-z][a-z0-9]*(-[a-z0-9]+)*$";

/// An AWS region name such as `us-east-1` or `us-gov-west-1`.
pub(super) const REGION: &str = r"^[a-z]{2}(-[a-z]+)+-[0-9]+$";

/// An availability zone name: a region name and one letter (Local Zones, `us-west-2-lax-1a`,
/// cannot hold an EKS cluster or managed node group).
pub(super) const ZONE: &str = r"^[a-z]{2}(-[a-z]+)+-[0-9]+[a-z]$";

/// An IPv4 CIDR block with a prefix AWS accepts for VPCs and subnets (/16 to /28). Octets may
/// carry leading zeros, as the parser behind validation allows them.
pub(super) const CIDR: &str = concat!(
    r"^((25[0-5]|2[0-4][0-9]|[01]?[0-9]{1,2})\.){3}",
    r"(25[0-5]|2[0-4][0-9]|[01]?[0-9]{1,2})/(1[6-9]|2[0-8])$"
);

/// Any IPv4 CIDR block (/0 to /32), as EKS takes for who may reach its public endpoint.
pub(super) const ANY_CIDR: &str = concat!(
    r"^((25[0-5]|2[0-4][0-9]|[01]?[0-9]{1,2})\.){3}",
    r"(25[0-5]|2[0-4][0-9]|[01]?[0-9]{1,2})/([0-9]|[12][0-9]|3[0-2])$"
);

/// A KMS key or alias ARN; the region must also be the stack's, which no pattern can check.
pub(super) const KMS_KEY_ARN: &str = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/\S+$";

/// A build environment variable name.
pub(super) const VARIABLE_NAME: &str = r"^[A-Za-z_][A-Za-z0-9_]*$";

/// A build secret reference: a Parameter Store name or a Secrets Manager secret.
pub(super) const SECRET_REFERENCE: &str = r"^(ssm:[a-zA-Z0-9_.\-/]+|secretsmanager:\S+)$";

/// A Kubernetes minor version as EKS names it (`1.31`).
pub(super) const K8S_VERSION: &str = r"^1\.[0-9]+$";

/// An EC2 instance type by the naming grammar every type of the EC2 model follows (validation
/// also looks it up in the model's list, too long for a schema).
pub(super) const INSTANCE_TYPE: &str = concat!(
    r"^(?=[^.]*[0-9])[a-z][a-z0-9]*(-[a-z0-9]+)*\.",
    r"(nano|micro|small|medium|large|[0-9]*xlarge|metal(-[0-9]+xl)?)$"
);

/// An HTTP path.
pub(super) const HTTP_PATH: &str = r"^/";

/// A Kubernetes namespace name: a DNS-1123 label (lowercase letters, digits and hyphens, a
/// letter or digit at each end), not one of Kubernetes' own (`default`, `kube-*`).
pub(super) const K8S_NAMESPACE: &str = r"^(?!default$|kube-)[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

/// An ACM certificate ARN; the region must also be the stack's, which no pattern can check.
pub(super) const CERTIFICATE_ARN: &str = concat!(
    r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/",
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
);

/// A CodeConnections or legacy CodeStar Connections connection ARN, the CodeConnections
/// model's `ConnectionArn` pattern anchored.
pub(super) const CONNECTION_ARN: &str = concat!(
    r"^arn:aws(-[A-Za-z0-9_]+)*:(codestar-connections|codeconnections):[a-z0-9-]+:[0-9]{12}:",
    r"connection/[A-Za-z0-9_-]+$"
);

/// An https URL on a Git host CodeBuild builds from.
pub(super) const REPOSITORY_URL: &str =
    r"^https://(github\.com|bitbucket\.org|gitlab\.com|git-codecommit\.[^/]*)(/.*)?$";

/// Anything but blank.
pub(super) const NOT_BLANK: &str = r"\S";

/// User tag keys: none of the prefixes AWS and infra reserve.
pub(super) const TAG_KEY: &str = r"^(?![aA][wW][sS]:|[iI][nN][fF][rR][aA]:|Name$)";

/// The characters AWS takes in tags (letters, digits, spaces and `_ . : / = + - @`), as far as
/// a pattern every JSON Schema regex engine reads can say it: no other ASCII character. Other
/// Unicode letters and digits are allowed, so is, more loosely, the rest of Unicode.
pub(super) const TAG_TEXT: &str = r##"^[^\x00-\x1f!"#$%&'()*,;<>?\[\\\]^`{|}~\x7f]*$"##;

/// The schema of the whole file, as JSON.
pub fn json_schema() -> Json {
    let mut schema = schemars::schema_for!(Config);
    schema.insert("title".into(), "infra.yaml".into());
    schema.to_value()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every object schema in `schema`, with the dotted path it sits at.
    fn objects<'a>(
        path: &str,
        schema: &'a Json,
        defs: &'a Json,
        out: &mut Vec<(String, &'a Json)>,
    ) {
        let schema = match schema.get("$ref").and_then(Json::as_str) {
            Some(r) => &defs[r.trim_start_matches("#/$defs/")],
            None => schema,
        };
        if let Some(props) = schema.get("properties").and_then(Json::as_object) {
            out.push((path.to_string(), schema));
            for (k, v) in props {
                objects(&format!("{path}.{k}"), v, defs, out);
            }
        }
        if let Some(items) = schema.get("items") {
            objects(&format!("{path}[]"), items, defs, out);
        }
    }

    #[test]
    fn schema_is_draft_2020_12() {
        let s = json_schema();
        assert_eq!(
            s["$schema"].as_str(),
            Some("https://json-schema.org/draft/2020-12/schema")
        );
        assert_eq!(s["title"].as_str(), Some("infra.yaml"));
    }

    #[test]
    fn every_object_refuses_unknown_keys_like_the_parser() {
        let s = json_schema();
        let mut found = Vec::new();
        objects("", &s, &s["$defs"], &mut found);
        let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        for want in [
            "",
            ".network",
            ".network.zones[]",
            ".eks.scaling",
            ".codebuild",
        ] {
            assert!(paths.contains(&want), "{want:?} not in {paths:?}");
        }
        for (path, o) in found {
            assert_eq!(
                o["additionalProperties"],
                Json::Bool(false),
                "object at {path:?} accepts unknown keys"
            );
        }
    }

    #[test]
    fn required_keys_are_those_without_defaults() {
        let s = json_schema();
        let required = |v: &Json| -> Vec<String> {
            let mut r: Vec<String> = v["required"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            r.sort();
            r
        };
        assert_eq!(required(&s), ["network", "region", "stack"]);
        assert_eq!(required(&s["$defs"]["Network"]), ["vpc_cidr", "zones"]);
        assert!(required(&s["$defs"]["Eks"]).is_empty());
        assert_eq!(
            s["$defs"]["Service"]["properties"]["node_port"]["default"],
            30080
        );
    }

    #[test]
    fn limits_match_validation() {
        let s = json_schema();
        let stack = &s["properties"]["stack"];
        assert_eq!(stack["pattern"].as_str(), Some(STACK));
        assert_eq!(
            stack["maxLength"].as_u64(),
            Some(crate::naming::max_stack_len() as u64)
        );
        assert_eq!(s["$defs"]["Network"]["properties"]["zones"]["minItems"], 2);
        let port = &s["$defs"]["Service"]["properties"]["node_port"];
        assert_eq!(
            (&port["minimum"], &port["maximum"]),
            (&30000.into(), &32767.into())
        );
        let nat = &s["$defs"]["NatMode"];
        let names: Vec<&str> = nat["oneOf"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["const"].as_str())
            .collect();
        assert_eq!(names, ["single", "per-az", "none"]);
    }
}
