//! The stack and the files that ship the service must agree: the ports the ALB targets are the
//! NodePorts the manifests declare, the health check path is one the client serves, every object
//! lives in the namespace the stack makes, and the buildspec reads only variables the CodeBuild
//! project (or CodeBuild itself) provides.

use super::build;
use crate::config::{parse, DEFAULT_YAML};
use crate::model::{Kind, LogicalId, Value};
use serde::Deserialize;
use serde_yaml::Value as Yaml;

const CLIENT: &str = include_str!("../../manifests/client.yaml");
const SERVER: &str = include_str!("../../manifests/server.yaml");
const BUILDSPEC: &str = include_str!("../../buildspec.yml");

fn docs(text: &str) -> Vec<Yaml> {
    serde_yaml::Deserializer::from_str(text)
        .map(|d| Yaml::deserialize(d).expect("manifest parses"))
        .filter(|d| !d.is_null())
        .collect()
}

fn find<'a>(docs: &'a [Yaml], kind: &str, name: &str) -> &'a Yaml {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn node_port(svc: &Yaml) -> u64 {
    let ports = svc["spec"]["ports"].as_sequence().expect("ports");
    assert_eq!(ports.len(), 1);
    ports[0]["nodePort"].as_u64().expect("nodePort")
}

fn lit(v: Option<&Value>) -> serde_json::Value {
    match v {
        Some(Value::Lit(j)) => j.clone(),
        other => panic!("not a literal: {other:?}"),
    }
}

#[test]
fn alb_targets_the_node_ports_the_manifests_declare() {
    let mut c = parse(DEFAULT_YAML).unwrap();
    c.alb.certificate_arn = Some("arn:aws:acm:us-east-1:123456789012:certificate/x".into());
    let g = build(&c, "123456789012");
    let (client, server) = (docs(CLIENT), docs(SERVER));

    let http = &g.resources[&LogicalId::new("tg/http")];
    let grpc = &g.resources[&LogicalId::new("tg/grpc")];
    let edge = find(&client, "Service", "grpc-client");
    assert_eq!(edge["spec"]["type"], "NodePort");
    assert_eq!(node_port(edge), u64::from(c.service.node_port));
    assert_eq!(lit(http.attrs.get("port")), c.service.node_port);
    let grpc_edge = find(&server, "Service", "grpc-server-edge");
    assert_eq!(grpc_edge["spec"]["type"], "NodePort");
    assert_eq!(node_port(grpc_edge), u64::from(c.service.grpc_node_port));
    assert_eq!(lit(grpc.attrs.get("port")), c.service.grpc_node_port);

    // The ALB's health check is the client's own readiness check.
    let deploy = find(&client, "Deployment", "grpc-client");
    let probe = &deploy["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"];
    assert_eq!(probe["path"], c.service.health_check_path.as_str());
    let hc = lit(http.attrs.get("health_check"));
    assert_eq!(hc["path"], c.service.health_check_path.as_str());
}

#[test]
fn every_object_lives_in_the_namespace_and_runs_the_pushed_image() {
    let c = parse(DEFAULT_YAML).unwrap();
    let g = build(&c, "123456789012");
    let name = c.service.namespace.as_str();
    // The stack makes the namespace, enforcing the Pod Security Standard the pods are built to;
    // the manifests hold no Namespace (the build role could not apply one).
    let ns = &g.resources[&LogicalId::new(format!("k8s/namespace/{name}"))];
    let labels = lit(ns.attrs.get("labels"));
    assert_eq!(labels["pod-security.kubernetes.io/enforce"], "restricted");
    for d in docs(CLIENT).iter().chain(docs(SERVER).iter()) {
        assert_ne!(d["kind"], "Namespace");
        assert_eq!(
            d["metadata"]["namespace"], name,
            "{:?}",
            d["metadata"]["name"]
        );
        if d["kind"] == "Deployment" {
            for c in d["spec"]["template"]["spec"]["containers"]
                .as_sequence()
                .expect("containers")
            {
                assert_eq!(c["image"], "${IMAGE}");
            }
        }
    }
}

#[test]
fn services_select_the_pods_their_deployments_label() {
    for (file, pairs) in [
        (CLIENT, &[("grpc-client", "grpc-client")][..]),
        (
            SERVER,
            &[
                ("grpc-server", "grpc-server"),
                ("grpc-server-edge", "grpc-server"),
            ][..],
        ),
    ] {
        let d = docs(file);
        for (service, deployment) in pairs {
            let svc = find(&d, "Service", service);
            let deploy = find(&d, "Deployment", deployment);
            let selector = svc["spec"]["selector"].as_mapping().expect("selector");
            let labels = &deploy["spec"]["template"]["metadata"]["labels"];
            assert!(!selector.is_empty());
            for (k, v) in selector {
                assert_eq!(&labels[k], v, "{service} selects {k:?}={v:?}");
            }
            // The Deployment's own selector must match its template too.
            for (k, v) in deploy["spec"]["selector"]["matchLabels"]
                .as_mapping()
                .expect("matchLabels")
            {
                assert_eq!(&labels[k], v);
            }
            // Service ports point at ports the container declares.
            let container = &deploy["spec"]["template"]["spec"]["containers"][0];
            let declared: Vec<&Yaml> = container["ports"]
                .as_sequence()
                .expect("container ports")
                .iter()
                .map(|p| &p["containerPort"])
                .collect();
            for p in svc["spec"]["ports"].as_sequence().expect("ports") {
                assert!(declared.contains(&&p["targetPort"]), "{service}: {p:?}");
            }
        }
    }
}

#[test]
fn buildspec_reads_only_variables_the_project_provides() {
    let c = parse(DEFAULT_YAML).unwrap();
    let g = build(&c, "123456789012");
    let project = g
        .resources
        .values()
        .find(|r| r.kind == Kind::CodeBuildProject)
        .expect("project");
    let Some(Value::Map(env)) = project.attrs.get("environment") else {
        panic!("project has no environment map");
    };
    let Some(Value::Map(vars)) = env.get("variables") else {
        panic!("project environment has no variables");
    };
    // The buildspec insists on these with ${VAR:?}; CodeBuild itself sets the CODEBUILD_ ones.
    let required: Vec<&str> = BUILDSPEC
        .split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once(":?}").map(|(name, _)| name))
        .filter(|name| name.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_'))
        .collect();
    assert!(required.contains(&"REPOSITORY_URI"), "{required:?}");
    for name in required {
        assert!(
            vars.contains_key(name) || name.starts_with("CODEBUILD_"),
            "buildspec requires {name}, which the project does not set"
        );
    }
    let spec: Yaml = serde_yaml::from_str(BUILDSPEC).expect("buildspec parses");
    assert_eq!(spec["version"], 0.2);
}
