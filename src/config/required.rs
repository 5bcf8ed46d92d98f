//! Every required key a config lacks, at once. serde stops at the first missing field; the
//! config's own JSON Schema (the one `infra schema` prints) knows them all.

use super::locate::Locations;
use super::schema::json_schema;
use super::Problem;
use serde_json::Value as Json;

/// A problem for each required key missing from `doc`, located at the map that lacks it.
pub fn missing(doc: &Json, locations: &Locations) -> Vec<Problem> {
    let schema = json_schema();
    let mut paths = Vec::new();
    walk(doc, &schema, &schema, "", &mut paths);
    paths
        .into_iter()
        .map(|(parent, key)| {
            // The line of the map that lacks the key; a column would point inside it, and a
            // key missing at the top has no line of its own.
            let line = (!parent.is_empty())
                .then(|| locations.get(&parent).map(|(l, _)| l))
                .flatten();
            Problem {
                line,
                column: None,
                field: if parent.is_empty() {
                    key.clone()
                } else {
                    format!("{parent}.{key}")
                },
                message: format!("missing required field `{key}`"),
            }
        })
        .collect()
}

/// A problem for each YAML null where the config wants text, and for each null map key:
/// serde_yaml reads them as the word (`project: null` became the tag value "null").
pub fn nulls(locations: &Locations) -> Vec<Problem> {
    let schema = json_schema();
    locations
        .nulls()
        .iter()
        .filter_map(|n| {
            let message = if n.is_key {
                "is a null key (YAML reads null, ~ and an empty key as no key): write the key, \
                 quoted if it is one of those words"
            } else if wants_text(schema_at(&schema, &n.segments)?, &schema) {
                "is null, and text is expected (YAML reads null, ~ and an empty value as no \
                 value): write the value, quoted if it is one of those words (\"null\")"
            } else {
                return None;
            };
            Some(Problem {
                line: Some(n.at.0),
                column: Some(n.at.1),
                field: n.field.clone(),
                message: message.to_string(),
            })
        })
        .collect()
}

/// The schema of the value at `segments` (`["tags", "project"]`, `["network", "zones", "[0]"]`).
fn schema_at<'a>(root: &'a Json, segments: &[String]) -> Option<&'a Json> {
    let mut node = root;
    for segment in segments {
        let n = resolve(node, root);
        node = if segment.starts_with('[') {
            n.get("items")?
        } else {
            n.get("properties")
                .and_then(|p| p.get(segment))
                .or_else(|| n.get("additionalProperties").filter(|a| a.is_object()))?
        };
    }
    Some(node)
}

/// Whether `node` takes text and not null (an `Option` field takes null).
fn wants_text(node: &Json, root: &Json) -> bool {
    let has = |n: &Json, t: &str| {
        n["type"] == t
            || n["type"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == t))
    };
    let nullable = has(node, "null")
        || ["anyOf", "oneOf"].iter().any(|k| {
            node[*k]
                .as_array()
                .is_some_and(|b| b.iter().any(|x| has(x, "null")))
        });
    !nullable && has(resolve(node, root), "string")
}

/// Collects `(parent path, key)` for each required key `doc` lacks under `node`.
fn walk(doc: &Json, node: &Json, root: &Json, path: &str, out: &mut Vec<(String, String)>) {
    let node = resolve(node, root);
    if let Json::Object(map) = doc {
        for key in node["required"].as_array().into_iter().flatten() {
            if let Some(key) = key.as_str().filter(|k| !map.contains_key(*k)) {
                out.push((path.to_string(), key.to_string()));
            }
        }
        for (key, sub) in node["properties"].as_object().into_iter().flatten() {
            if let Some(value) = map.get(key) {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                walk(value, sub, root, &child, out);
            }
        }
    }
    if let (Json::Array(items), Some(item)) = (doc, node.get("items")) {
        for (i, value) in items.iter().enumerate() {
            walk(value, item, root, &format!("{path}[{i}]"), out);
        }
    }
}

/// The schema `node` stands for: its `$ref` followed, or the one non-null branch of an
/// `anyOf`/`oneOf` (how an optional field is written).
fn resolve<'a>(node: &'a Json, root: &'a Json) -> &'a Json {
    if let Some(r) = node["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or_default();
        return resolve(&root["$defs"][name], root);
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(branches) = node[key].as_array() {
            let mut real = branches.iter().filter(|b| b["type"] != "null");
            if let (Some(only), None) = (real.next(), real.next()) {
                return resolve(only, root);
            }
        }
    }
    node
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(yaml: &str) -> Vec<String> {
        let doc: Json = serde_yaml::from_str(yaml).unwrap();
        missing(&doc, &Locations::of(yaml))
            .iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn every_missing_key_is_reported_at_once_where_its_map_is() {
        let yaml =
            "tags: {}\nnetwork:\n  zones:\n    - name: us-east-1a\n      public: 10.0.0.0/24\n";
        assert_eq!(
            problems(yaml),
            [
                "stack: missing required field `stack`",
                "region: missing required field `region`",
                "line 3: network.vpc_cidr: missing required field `vpc_cidr`",
                "line 4: network.zones[0].private_app: missing required field `private_app`",
                "line 4: network.zones[0].private_data: missing required field `private_data`",
            ]
        );
    }

    #[test]
    fn nulls_are_problems_where_text_is_wanted_only() {
        let yaml = "stack: ~\ntags: {project: null, ~: x, quoted: \"null\"}\nalb: {certificate_arn: null}\nservice:\n  namespace:\n";
        let found: Vec<String> = nulls(&Locations::of(yaml))
            .iter()
            .map(|p| {
                format!(
                    "{}:{} {}",
                    p.line.unwrap_or(0),
                    p.column.unwrap_or(0),
                    p.field
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                "1:8 stack",
                "2:17 tags.project",
                "2:23 tags.~",
                "5:3 service.namespace"
            ]
        );
    }

    #[test]
    fn the_default_config_lacks_nothing() {
        assert!(problems(crate::config::DEFAULT_YAML).is_empty());
    }
}
