//! Every desired spec the stack can produce converts into its kind's typed attributes: a name
//! spelled differently in `stack/` and in a kind fails here, in milliseconds.

use super::{get, Attributes, Spec};
use crate::config::{parse, Config, NatMode, DEFAULT_YAML};
use crate::graph::Graph;
use crate::model::{LogicalId, Ref};
use serde_json::Value as Json;

/// The value every reference resolves to in these tests: `<id>.<attr>`, so that a recorded
/// SDK response can carry the same placeholder where AWS would put the real id.
pub fn placeholder(r: &Ref) -> String {
    format!("{}.{}", r.id, r.attr)
}

/// The default config, its Kubernetes version resolved as the command layer does.
pub fn default_config() -> Config {
    match parse(DEFAULT_YAML) {
        Ok(mut c) => {
            c.eks.version = Some("1.31".into());
            c
        }
        Err(problems) => panic!("the embedded default config is invalid: {problems:?}"),
    }
}

/// The richest config: a certificate, a NAT gateway per zone, three zones.
pub fn richest_config() -> Config {
    let text = DEFAULT_YAML
        .replace("nat: single", "nat: per-az")
        .replace(
            "certificate_arn: null",
            "certificate_arn: arn:aws:acm:us-east-1:123456789012:certificate/0c9a6bd3-8c0e-4c7c-9d0f-3f6f1b6e2a41",
        )
        .replace(
            "      private_data: 10.0.5.0/24\n",
            "      private_data: 10.0.5.0/24\n    - name: us-east-1c\n      public: 10.0.6.0/24\n      private_app: 10.0.7.0/24\n      private_data: 10.0.8.0/24\n",
        );
    let mut c = match parse(&text) {
        Ok(c) => c,
        Err(problems) => panic!("the richest test config is invalid: {problems:?}"),
    };
    c.eks.version = Some("1.31".into());
    assert_eq!(c.network.nat, NatMode::PerAz);
    assert_eq!(c.network.zones.len(), 3);
    assert!(c.alb.certificate_arn.is_some());
    c
}

/// The desired spec of `id` in `graph`, every reference filled with its placeholder.
pub fn resolved(graph: &Graph, id: &str) -> Spec {
    let d = graph
        .get(&LogicalId::new(id))
        .unwrap_or_else(|| panic!("{id} is not in the desired graph"));
    let lookup = |r: &Ref| Some(Json::String(placeholder(r)));
    Spec(
        d.attrs
            .iter()
            .map(|(k, v)| {
                let value = v.resolve(&lookup).expect("placeholders resolve everything");
                (k.clone(), value)
            })
            .collect(),
    )
}

/// The typed desired attributes of `id` in the default stack, references as placeholders.
pub fn desired<A: Attributes>(id: &str) -> A {
    let graph = crate::stack::build(&default_config(), "123456789012");
    match resolved(&graph, id).typed() {
        Ok(a) => a,
        Err(e) => panic!("{id} does not fit its attributes: {e:#}"),
    }
}

#[test]
fn every_desired_spec_fits_its_kinds_attributes() {
    let mut private = default_config();
    private.network.nat = NatMode::None;
    for config in [default_config(), richest_config(), private] {
        let graph = crate::stack::build(&config, "123456789012");
        for (id, d) in &graph.resources {
            let spec = resolved(&graph, id.as_str());
            if let Err(e) = get(d.kind).check(&spec) {
                panic!("{id} ({}) does not fit its attributes: {e:#}", d.kind);
            }
        }
    }
}
