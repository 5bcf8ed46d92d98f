//! `infra output`: what a user needs once the stack is applied (the URL to call, the image
//! repository, the cluster and how to reach it, the build project), read from the live account.

use super::{load_and_observe, Cli};
use crate::config::Config;
use crate::graph::Graph;
use crate::model::{Desired, Kind, LogicalId, Observed, Value};
use anyhow::{anyhow, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::process::ExitCode;

/// Options of `infra output`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Shows the load balancer's DNS name and the URL to call, the image \
    repository, the cluster with its endpoint and the command that configures kubectl, and \
    the build project, read from the live account.\n\n\
    Exits 1 when the stack is not (fully) applied, naming what is missing."
)]
pub struct Args {
    /// Print one JSON object (stable keys; values not in the account yet are null and their
    /// keys are listed in `missing`)
    #[arg(long)]
    json: bool,
}

/// A resource the outputs need that the account does not hold in usable form.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Lack {
    /// Its logical id.
    id: LogicalId,
    /// Its kind.
    kind: Kind,
    /// Why it cannot be used.
    reason: String,
}

/// Everything `infra output` reports; `None` where the account does not hold the value yet.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Outputs {
    stack: String,
    region: String,
    account: String,
    alb_dns_name: Option<String>,
    url: Option<String>,
    /// Only with a certificate: the ALB speaks gRPC to targets only behind HTTPS.
    grpc_endpoint: Option<String>,
    repository_uri: Option<String>,
    cluster_name: Option<String>,
    cluster_endpoint: Option<String>,
    kubeconfig_command: Option<String>,
    build_project: Option<String>,
    /// Keys above that should have a value and do not.
    missing: Vec<&'static str>,
    /// The resources behind them, and why.
    missing_resources: Vec<Lack>,
}

/// Reads values out of the observed resources that stand for desired ones.
struct Reader<'a> {
    desired: &'a Graph,
    observed: BTreeMap<&'a LogicalId, &'a Observed>,
    lacks: Vec<Lack>,
}

impl<'a> Reader<'a> {
    fn new(desired: &'a Graph, observed: &'a [Observed]) -> Self {
        Reader {
            desired,
            observed: observed.iter().map(|o| (&o.id, o)).collect(),
            lacks: Vec::new(),
        }
    }

    /// The desired resource of `kind` that `pick` accepts; the stack builder always makes one.
    fn find(&self, kind: Kind, pick: impl Fn(&Desired) -> bool) -> Result<&'a Desired> {
        self.desired
            .resources
            .values()
            .find(|d| d.kind == kind && pick(d))
            .ok_or_else(|| anyhow!("the desired stack has no {kind}: this is a bug in infra"))
    }

    /// Output `output` of the live resource standing for `d`, noting why when there is none.
    fn get(&mut self, d: &Desired, output: &str) -> Option<String> {
        let reason = match self.observed.get(&d.id) {
            None => "not created".to_string(),
            Some(o) if o.unowned => {
                "a resource of that name exists but belongs to someone else (no infra:stack tag \
                 of this stack)"
                    .to_string()
            }
            Some(o) => match (&o.broken, o.outputs.get(output)) {
                (Some(why), _) => format!("unusable: {why}"),
                (None, Some(v)) if !v.is_empty() => return Some(v.clone()),
                (None, _) => format!("has no {} yet", output.replace('_', " ")),
            },
        };
        let lack = Lack {
            id: d.id.clone(),
            kind: d.kind,
            reason,
        };
        if !self.lacks.contains(&lack) {
            self.lacks.push(lack);
        }
        None
    }
}

/// The listener for `protocol` (`HTTP` or `HTTPS`).
fn is_listener(protocol: &str) -> impl Fn(&Desired) -> bool + '_ {
    move |d| d.attrs.get("protocol") == Some(&Value::str(protocol))
}

/// Works out the outputs from the desired graph and what the account holds. Pure.
fn collect(
    config: &Config,
    account: &str,
    desired: &Graph,
    observed: &[Observed],
) -> Result<Outputs> {
    let mut r = Reader::new(desired, observed);
    let alb = r.find(Kind::LoadBalancer, |_| true)?;
    let http = r.find(Kind::Listener, is_listener("HTTP"))?;
    let repo = r.find(Kind::EcrRepository, |_| true)?;
    let cluster = r.find(Kind::EksCluster, |_| true)?;
    let project = r.find(Kind::CodeBuildProject, |_| true)?;

    let dns = r.get(alb, "dns_name");
    let url = r
        .get(http, "arn")
        .and(dns.clone())
        .map(|d| format!("http://{d}/"));
    let grpc_endpoint = match &config.alb.certificate_arn {
        Some(_) => {
            let https = r.find(Kind::Listener, is_listener("HTTPS"))?;
            r.get(https, "arn")
                .and(dns.clone())
                .map(|d| format!("{d}:443"))
        }
        None => None,
    };
    let repository_uri = r.get(repo, "uri");
    let cluster_name = r.get(cluster, "name");
    let cluster_endpoint = r.get(cluster, "endpoint");
    let kubeconfig_command = cluster_name.as_ref().map(|n| {
        format!(
            "aws eks update-kubeconfig --name {n} --region {}",
            config.region
        )
    });
    let build_project = r.get(project, "name");

    let expected = [
        ("alb_dns_name", &dns, true),
        ("url", &url, true),
        (
            "grpc_endpoint",
            &grpc_endpoint,
            config.alb.certificate_arn.is_some(),
        ),
        ("repository_uri", &repository_uri, true),
        ("cluster_name", &cluster_name, true),
        ("cluster_endpoint", &cluster_endpoint, true),
        ("kubeconfig_command", &kubeconfig_command, true),
        ("build_project", &build_project, true),
    ];
    let missing = expected
        .iter()
        .filter(|(_, v, wanted)| *wanted && v.is_none())
        .map(|(k, _, _)| *k)
        .collect();
    Ok(Outputs {
        stack: config.stack.clone(),
        region: config.region.clone(),
        account: account.to_string(),
        alb_dns_name: dns,
        url,
        grpc_endpoint,
        repository_uri,
        cluster_name,
        cluster_endpoint,
        kubeconfig_command,
        build_project,
        missing,
        missing_resources: r.lacks,
    })
}

/// The human form: one aligned line per value, the commands to run next.
fn render_human(o: &Outputs, certificate: bool, trigger: &str) -> String {
    const NOT_YET: &str = "(not in the account: run `infra apply`)";
    let v = |x: &Option<String>| x.clone().unwrap_or_else(|| NOT_YET.to_string());
    let grpc = if certificate {
        v(&o.grpc_endpoint)
    } else {
        "not served: set alb.certificate_arn (the ALB speaks gRPC only behind HTTPS)".to_string()
    };
    let rows = [
        ("Load balancer", v(&o.alb_dns_name)),
        ("  HTTP URL", v(&o.url)),
        ("  gRPC endpoint", grpc),
        ("Image repository", v(&o.repository_uri)),
        ("Cluster", v(&o.cluster_name)),
        ("  endpoint", v(&o.cluster_endpoint)),
        ("  kubectl", v(&o.kubeconfig_command)),
        ("Build project", v(&o.build_project)),
        (
            "  ship with",
            match o.build_project {
                Some(_) => trigger.to_string(),
                None => NOT_YET.to_string(),
            },
        ),
    ];
    let mut out = format!(
        "Outputs of stack {} (account {}, {})\n\n",
        o.stack, o.account, o.region
    );
    for (label, value) in rows {
        out.push_str(&format!("{label:<18} {value}\n"));
    }
    out
}

/// What is missing and what to do about it, for stderr.
fn render_missing(o: &Outputs) -> String {
    let mut out = format!(
        "error: stack {} is not fully applied in {}; missing:\n",
        o.stack, o.region
    );
    for l in &o.missing_resources {
        out.push_str(&format!("  {} ({}): {}\n", l.id, l.kind, l.reason));
    }
    out.push_str("Run `infra apply` to create them, then `infra output` again.");
    out
}

/// Prints the outputs; exits 1 when some are missing.
pub async fn run(cli: &Cli, args: &Args) -> Result<ExitCode> {
    let cx = load_and_observe(cli).await?;
    let config = &cx.loaded.config;
    let o = collect(config, &cx.caller.account, &cx.desired, &cx.observed)?;
    let text = if args.json {
        serde_json::to_string_pretty(&o)? + "\n"
    } else {
        let trigger = match &cli.config {
            Some(p) => format!("infra trigger-build --wait --config {}", p.display()),
            None => "infra trigger-build --wait".to_string(),
        };
        render_human(&o, config.alb.certificate_arn.is_some(), &trigger)
    };
    super::emit(text)?;
    if o.missing.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{}", render_missing(&o));
        Ok(ExitCode::FAILURE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;
    use serde_json::json;

    const CERT: &str = "arn:aws:acm:us-east-1:123456789012:certificate/abc";

    fn config(certificate: bool) -> Config {
        let mut c = config::parse(config::DEFAULT_YAML).expect("default config is valid");
        if certificate {
            c.alb.certificate_arn = Some(CERT.to_string());
        }
        c
    }

    fn seen(id: &str, kind: Kind, outputs: &[(&str, &str)]) -> Observed {
        let mut o = Observed::new(LogicalId::new(id), kind, "phys");
        for (k, v) in outputs {
            o.outputs.insert(k.to_string(), v.to_string());
        }
        o
    }

    fn applied(certificate: bool) -> Vec<Observed> {
        let mut all = vec![
            seen(
                "alb",
                Kind::LoadBalancer,
                &[("arn", "lb-arn"), ("dns_name", "lb.example")],
            ),
            seen("listener/http", Kind::Listener, &[("arn", "l80")]),
            seen(
                "ecr/repository",
                Kind::EcrRepository,
                &[("uri", "1.dkr/grpc-eks")],
            ),
            seen(
                "eks/cluster",
                Kind::EksCluster,
                &[("name", "grpc-eks"), ("endpoint", "https://eks.example")],
            ),
            seen(
                "codebuild/project",
                Kind::CodeBuildProject,
                &[("name", "grpc-eks")],
            ),
        ];
        if certificate {
            all.push(seen("listener/https", Kind::Listener, &[("arn", "l443")]));
        }
        all
    }

    fn outputs(certificate: bool, observed: &[Observed]) -> Outputs {
        let c = config(certificate);
        let g = crate::stack::build(&c, "123456789012");
        collect(&c, "123456789012", &g, observed).expect("the stack has every kind")
    }

    #[test]
    fn applied_stack_gives_every_value_under_stable_keys() {
        let o = outputs(true, &applied(true));
        assert_eq!(
            serde_json::to_value(&o).expect("serialisable"),
            json!({
                "stack": "grpc-eks",
                "region": "us-east-1",
                "account": "123456789012",
                "alb_dns_name": "lb.example",
                "url": "http://lb.example/",
                "grpc_endpoint": "lb.example:443",
                "repository_uri": "1.dkr/grpc-eks",
                "cluster_name": "grpc-eks",
                "cluster_endpoint": "https://eks.example",
                "kubeconfig_command": "aws eks update-kubeconfig --name grpc-eks --region us-east-1",
                "build_project": "grpc-eks",
                "missing": [],
                "missing_resources": [],
            })
        );
    }

    #[test]
    fn without_certificate_grpc_is_null_and_not_missing() {
        let o = outputs(false, &applied(false));
        assert_eq!(o.grpc_endpoint, None);
        assert!(o.missing.is_empty(), "{:?}", o.missing);
        let text = render_human(&o, false, "infra trigger-build --wait");
        assert!(text.contains("http://lb.example/"), "{text}");
        assert!(text.contains("set alb.certificate_arn"), "{text}");
        assert!(text.contains("aws eks update-kubeconfig --name grpc-eks --region us-east-1"));
        assert!(text.contains("infra trigger-build --wait"), "{text}");
    }

    #[test]
    fn nothing_applied_names_every_missing_part() {
        let o = outputs(true, &[]);
        assert_eq!(
            o.missing,
            [
                "alb_dns_name",
                "url",
                "grpc_endpoint",
                "repository_uri",
                "cluster_name",
                "cluster_endpoint",
                "kubeconfig_command",
                "build_project"
            ]
        );
        let ids: Vec<&str> = o.missing_resources.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "alb",
                "listener/http",
                "listener/https",
                "ecr/repository",
                "eks/cluster",
                "codebuild/project"
            ]
        );
        let err = render_missing(&o);
        assert!(
            err.contains("eks/cluster (eks_cluster): not created"),
            "{err}"
        );
        assert!(err.contains("infra apply"), "{err}");
    }

    #[test]
    fn partly_applied_stack_names_only_what_lacks() {
        let mut observed = applied(false);
        observed.retain(|o| o.id.as_str() != "ecr/repository");
        let cluster = observed
            .iter_mut()
            .find(|o| o.id.as_str() == "eks/cluster")
            .expect("cluster observed");
        cluster.outputs.remove("endpoint");
        let o = outputs(false, &observed);
        assert_eq!(o.missing, ["repository_uri", "cluster_endpoint"]);
        assert_eq!(o.cluster_name.as_deref(), Some("grpc-eks"));
        let reasons: Vec<String> = o
            .missing_resources
            .iter()
            .map(|l| format!("{}: {}", l.id, l.reason))
            .collect();
        assert_eq!(
            reasons,
            [
                "ecr/repository: not created",
                "eks/cluster: has no endpoint yet"
            ]
        );
    }

    #[test]
    fn broken_or_foreign_resources_give_no_values() {
        let mut observed = applied(false);
        for o in &mut observed {
            match o.id.as_str() {
                "alb" => o.broken = Some("failed".to_string()),
                "codebuild/project" => o.unowned = true,
                _ => {}
            }
        }
        let o = outputs(false, &observed);
        assert_eq!(o.missing, ["alb_dns_name", "url", "build_project"]);
        assert!(o.missing_resources[0].reason.contains("unusable: failed"));
        assert!(o.missing_resources[1].reason.contains("someone else"));
    }
}
