//! Checks a deserialised config against AWS's rules, before anything is sent to AWS.

use super::aws_rules::{self, ViolationKind};
use super::{secrets, Config, EndpointAccess, Locations, NatMode, Problem, SecretRef};
use crate::naming;
use ipnet::Ipv4Net;
use std::ops::RangeInclusive;
use std::str::FromStr;

/// The retention periods CloudWatch Logs accepts (PutRetentionPolicy's documented values).
pub(super) const RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// The most tags infra puts on one resource itself: `Name`, `infra:stack` and `infra:id` on
/// all, and a `kubernetes.io/role/...` tag on the subnets the load balancers use (a test builds
/// the stack and checks this is the most any resource carries).
pub(super) const INFRA_TAGS: usize = 4;

/// How many tags the user may add: what AWS allows per resource, less infra's own.
pub(super) fn max_user_tags() -> usize {
    aws_rules::max_len("tags_per_resource")
        .unwrap_or(50)
        .saturating_sub(INFRA_TAGS)
}

struct Checker<'a> {
    locations: &'a Locations,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn report(&mut self, field: &str, message: String) {
        self.report_as(field, field, message);
    }

    /// Reports at the place of `path`, naming the field `shown` (a map key quoted, say).
    fn report_as(&mut self, path: &str, shown: &str, message: String) {
        let at = self.locations.get(path);
        self.report_at(at, shown, message);
    }

    /// Reports a problem with the key of the map entry at `path`, at the key.
    fn report_key(&mut self, path: &str, shown: &str, message: String) {
        let at = self.locations.key(path).or(self.locations.get(path));
        self.report_at(at, shown, message);
    }

    fn report_at(&mut self, at: Option<(usize, usize)>, shown: &str, message: String) {
        self.problems.push(Problem {
            line: at.map(|a| a.0),
            column: at.map(|a| a.1),
            field: shown.to_string(),
            message,
        });
    }

    /// Reports `value` at `field` when it is outside `range`; `what` says whose limits they are.
    fn within(&mut self, field: &str, value: u32, range: RangeInclusive<u32>, what: &str) {
        if !range.contains(&value) {
            let (lo, hi) = range.into_inner();
            self.report(field, format!("{value} is outside {lo}-{hi} ({what})"));
        }
    }

    /// Parses a CIDR that must be a network address with a prefix AWS accepts for VPCs and subnets.
    fn cidr(&mut self, field: &str, text: &str) -> Option<Ipv4Net> {
        let net = match Ipv4Net::from_str(text) {
            Ok(n) => n,
            Err(_) => {
                self.report(
                    field,
                    format!("{text:?} is not an IPv4 CIDR block (expected e.g. 10.0.0.0/16)"),
                );
                return None;
            }
        };
        if net.addr() != net.network() {
            self.report(
                field,
                format!("{text:?} has host bits set; did you mean {}?", net.trunc()),
            );
            return None;
        }
        if !(16..=28).contains(&net.prefix_len()) {
            self.report(
                field,
                format!("{text:?}: AWS accepts prefix lengths /16 to /28 only"),
            );
            return None;
        }
        Some(net)
    }
}

/// Every problem in `config`; empty when it is valid.
pub fn check(config: &Config, locations: &Locations) -> Vec<Problem> {
    let mut c = Checker {
        locations,
        problems: Vec::new(),
    };
    check_stack(&mut c, &config.stack);
    check_region(&mut c, &config.region);
    check_tags(&mut c, config);
    check_network(&mut c, config);
    check_service(&mut c, config);
    check_eks(&mut c, config);
    check_alb(&mut c, config);
    check_ecr_and_codebuild(&mut c, config);
    check_source_access(&mut c, config);
    check_security(&mut c, config);
    c.problems
}

fn check_service(c: &mut Checker, config: &Config) {
    let s = &config.service;
    for (field, port) in [
        ("service.node_port", s.node_port),
        ("service.grpc_node_port", s.grpc_node_port),
    ] {
        if !(30000..=32767).contains(&port) {
            c.report(
                field,
                format!("{port} is outside the Kubernetes NodePort range 30000-32767"),
            );
        }
    }
    if s.node_port == s.grpc_node_port {
        c.report(
            "service.grpc_node_port",
            format!(
                "{} is also service.node_port; the two Services need distinct ports",
                s.grpc_node_port
            ),
        );
    }
    if !s.health_check_path.starts_with('/') {
        c.report(
            "service.health_check_path",
            format!("{:?} must start with /", s.health_check_path),
        );
    }
    for v in aws_rules::violations("health_check_path", &s.health_check_path) {
        c.report("service.health_check_path", format!("the path {v}"));
    }
    if let Some(problem) = namespace_problem(&s.namespace) {
        c.report("service.namespace", format!("{:?} {problem}", s.namespace));
    }
}

/// Why `name` cannot be the service's namespace: it must be a DNS-1123 label, and not one of
/// the namespaces every cluster has (Kubernetes reserves `kube-`), which infra would never own.
fn namespace_problem(name: &str) -> Option<&'static str> {
    let label = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !label {
        Some(
            "is not a Kubernetes namespace name: at most 63 lowercase letters, digits and \
             hyphens, starting and ending with a letter or digit",
        )
    } else if name == "default" || name.starts_with("kube-") {
        Some("is a namespace Kubernetes itself keeps; choose one for the service (e.g. grpc-app)")
    } else {
        None
    }
}

fn check_eks(c: &mut Checker, config: &Config) {
    let e = &config.eks;
    // Whether EKS offers the version is for EKS to say (plan asks it); here only the shape.
    if let Some(v) = &e.version {
        let version_ok = v
            .strip_prefix("1.")
            .is_some_and(|minor| !minor.is_empty() && minor.chars().all(|ch| ch.is_ascii_digit()));
        if !version_ok {
            c.report(
                "eks.version",
                format!("{v:?} is not a Kubernetes version (expected e.g. \"1.33\")"),
            );
        }
    }
    if e.instance_types.is_empty() {
        c.report(
            "eks.instance_types",
            "at least one instance type is needed".to_string(),
        );
    }
    for (i, t) in e.instance_types.iter().enumerate() {
        if let Some(problem) = instance_type_problem(t) {
            c.report(
                &format!("eks.instance_types[{i}]"),
                format!("{t:?} {problem}"),
            );
        }
    }
    let s = e.scaling;
    if s.max == 0 || s.min > s.desired || s.desired > s.max {
        c.report(
            "eks.scaling",
            format!(
                "min {} / desired {} / max {}: need min <= desired <= max and max >= 1",
                s.min, s.desired, s.max
            ),
        );
    }
}

/// Why `t` is not an EC2 instance type. The list is the EC2 model's (every type AWS had when
/// botocore was released); a type newer than it is refused too, saying so, since EC2 would
/// refuse a mistyped one only once the cluster exists, ten minutes into an apply.
fn instance_type_problem(t: &str) -> Option<String> {
    let known = aws_rules::instance_types();
    if known.binary_search(&t).is_ok() {
        return None;
    }
    let Some((family, size)) = t.split_once('.').filter(|_| instance_type_grammar(t)) else {
        return Some(
            "is not an EC2 instance type: a family (series, generation digit, attributes), a dot \
             and a size, e.g. t3.medium or m7i-flex.large (EC2)"
                .to_string(),
        );
    };
    let sizes: Vec<&str> = known
        .iter()
        .filter_map(|k| k.strip_prefix(family)?.strip_prefix('.'))
        .collect();
    Some(if sizes.is_empty() {
        format!(
            "is not among the {} EC2 instance types infra knows (botocore {}'s EC2 model); if it \
             is newer than that, a newer infra knows it",
            known.len(),
            aws_rules::instance_types_from()
        )
    } else {
        format!(
            "is not an EC2 instance type: {family} comes in {} (EC2), not {size}",
            sizes.join(", ")
        )
    })
}

/// The naming grammar every type in the EC2 model follows (`aws_rules.yaml`, `instance_type`):
/// a family of lowercase letters and digits with at least one digit and optional `-parts`, a
/// dot, and a size.
fn instance_type_grammar(t: &str) -> bool {
    let Some((family, size)) = t.split_once('.') else {
        return false;
    };
    let family_ok = family.starts_with(|c: char| c.is_ascii_lowercase())
        && family.contains(|c: char| c.is_ascii_digit())
        && family.split('-').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    let xlarge = |s: &str| {
        s.strip_suffix("xlarge")
            .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
    };
    let metal = |s: &str| {
        s == "metal"
            || s.strip_prefix("metal-")
                .and_then(|n| n.strip_suffix("xl"))
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    };
    let size_ok = matches!(size, "nano" | "micro" | "small" | "medium" | "large")
        || xlarge(size)
        || metal(size);
    family_ok && size_ok
}

fn check_alb(c: &mut Checker, config: &Config) {
    let Some(arn) = &config.alb.certificate_arn else {
        return;
    };
    let field = "alb.certificate_arn";
    let Some((partition, region)) = certificate_arn_parts(arn) else {
        c.report(
            field,
            format!(
                "{arn:?} is not an ACM certificate ARN: expected \
                 arn:aws:acm:<region>:<12-digit account>:certificate/<UUID> (ACM)"
            ),
        );
        return;
    };
    let want = aws_rules::partition(&config.region);
    if partition != want {
        c.report(
            field,
            format!(
                "{arn:?} is in partition {partition}, but region {} is in {want}; an ALB can \
                 only use a certificate of its own region (ACM, Elastic Load Balancing)",
                config.region
            ),
        );
    } else if region != config.region {
        c.report(
            field,
            format!(
                "{arn:?} is not in region {}; an ALB can only use certificates of its own region \
                 (ACM, Elastic Load Balancing)",
                config.region
            ),
        );
    }
}

/// The partition and region of an ACM certificate ARN, if `arn` is one:
/// `arn:<partition>:acm:<region>:<12-digit account>:certificate/<UUID>`.
fn certificate_arn_parts(arn: &str) -> Option<(&str, &str)> {
    let a = super::arn::Arn::parse(arn)?;
    let id = a.resource.strip_prefix("certificate/")?;
    let hex =
        |s: &str, n: usize| s.len() == n && s.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'));
    let groups: Vec<&str> = id.split('-').collect();
    let uuid = groups.len() == 5 && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| hex(g, n));
    (a.service == "acm" && uuid).then_some((a.partition, a.region))
}

fn check_ecr_and_codebuild(c: &mut Checker, config: &Config) {
    let keep = config.ecr.keep_images;
    c.within(
        "ecr.keep_images",
        keep,
        1..=1000,
        "images the lifecycle policy keeps",
    );
    let b = &config.codebuild;
    if b.source_type().is_none() {
        c.report(
            "codebuild.repository_url",
            format!(
                "{:?} is not an https URL of a Git host CodeBuild builds from \
                 (github.com, bitbucket.org, gitlab.com, git-codecommit.<region>.amazonaws.com; \
                 infra does not set up GitHub Enterprise Server or GitLab self-managed hosts)",
                b.repository_url
            ),
        );
    }
    for (field, value) in [
        ("codebuild.branch", &b.branch),
        ("codebuild.buildspec", &b.buildspec),
        ("codebuild.image", &b.image),
    ] {
        if value.trim().is_empty() {
            c.report(field, "must not be empty".to_string());
        }
    }
    let usable = aws_rules::usable("compute_type");
    if !usable.contains(&b.compute_type.as_str()) {
        let known = aws_rules::values("compute_type").contains(&b.compute_type.as_str());
        let what = if known {
            "is a CodeBuild compute type infra's project cannot use: it builds images with \
             docker in a privileged LINUX_CONTAINER, which Lambda compute cannot run, and sets \
             no fleet or compute configuration"
        } else {
            "is not a CodeBuild compute type"
        };
        c.report(
            "codebuild.compute_type",
            format!(
                "{:?} {what}; use one of {} (CodeBuild)",
                b.compute_type,
                usable.join(", ")
            ),
        );
    }
}

/// How CodeBuild reaches the repository: a CodeCommit URL it can name the repository of (its
/// role pulls that one), and a connection only where CodeBuild takes one, usable from the stack's
/// region.
fn check_source_access(c: &mut Checker, config: &Config) {
    let b = &config.codebuild;
    let url_field = "codebuild.repository_url";
    let source_type = b.source_type();
    if source_type == Some("CODECOMMIT") {
        match b.codecommit_repository() {
            None => c.report(
                url_field,
                format!(
                    "{:?} is not a CodeCommit clone URL: expected \
                     https://git-codecommit.<region>.amazonaws.com/v1/repos/<repository> \
                     (CodeCommit); the build role may pull exactly that repository",
                    b.repository_url
                ),
            ),
            Some((_, name)) => {
                for v in aws_rules::violations("codecommit_repository_name", name) {
                    c.report(url_field, format!("the repository name {name:?} {v}"));
                }
            }
        }
    }
    let Some(arn) = &b.connection_arn else {
        return;
    };
    let field = "codebuild.connection_arn";
    match source_type {
        Some("CODECOMMIT") => c.report(
            field,
            "CodeBuild reads a CodeCommit repository with its role (codecommit:GitPull), not \
             through a connection; remove connection_arn, or point repository_url at GitHub, \
             GitLab or Bitbucket"
                .to_string(),
        ),
        // An unknown host is already reported at repository_url.
        None => return,
        Some(_) => {}
    }
    for v in aws_rules::violations("connection_arn", arn) {
        c.report(field, format!("the ARN {v}"));
    }
    let Some(conn) = super::ConnectionArn::parse(arn) else {
        c.report(
            field,
            format!(
                "{arn:?} is not a connection ARN: expected \
                 arn:aws:codeconnections:<region>:<12-digit account>:connection/<id> (or \
                 arn:aws:codestar-connections:... for one made before the rename) \
                 (CodeConnections)"
            ),
        );
        return;
    };
    let partition = aws_rules::partition(&config.region);
    if conn.partition != partition {
        c.report(
            field,
            format!(
                "{arn:?} is in partition {}, but region {} is in {partition}; CodeBuild uses \
                 connections of its own partition only (CodeBuild)",
                conn.partition, config.region
            ),
        );
    } else if conn.region != config.region
        && partition == "aws"
        && !aws_rules::values("default_region").contains(&conn.region)
    {
        c.report(
            field,
            format!(
                "{arn:?} was made in {}, an opt-in region: CodeBuild can use such a connection \
                 only in that region, and the stack is in {}; create the connection in {} \
                 (CodeBuild)",
                conn.region, config.region, config.region
            ),
        );
    }
}

fn check_stack(c: &mut Checker, stack: &str) {
    let valid_chars = stack
        .chars()
        .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
    let starts_with_letter = stack
        .chars()
        .next()
        .is_some_and(|ch| ch.is_ascii_lowercase());
    if !valid_chars || !starts_with_letter || stack.ends_with('-') || stack.contains("--") {
        c.report(
            "stack",
            format!(
                "{stack:?} must start with a lowercase letter and hold only lowercase letters, \
                 digits and single hyphens (it prefixes AWS names that allow nothing else)"
            ),
        );
        return;
    }
    for rule in naming::all(stack) {
        for v in aws_rules::violations(rule.check, &rule.name) {
            let hint = match v.kind {
                ViolationKind::TooLong { .. } => format!(
                    " (use a stack name of at most {} characters)",
                    naming::max_stack_len()
                ),
                ViolationKind::TooShort { .. } => format!(
                    " (use a stack name of at least {} characters)",
                    naming::min_stack_len()
                ),
                _ => String::new(),
            };
            c.report(
                "stack",
                format!(
                    "{stack:?} makes the {} name {:?}, which {v}{hint}",
                    rule.what, rule.name
                ),
            );
        }
    }
}

fn check_region(c: &mut Checker, region: &str) {
    let parts: Vec<&str> = region.split('-').collect();
    let ok = parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].chars().all(|ch| ch.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|ch| ch.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.chars().all(|ch| ch.is_ascii_digit()));
    if !ok {
        c.report(
            "region",
            format!("{region:?} is not an AWS region name (expected e.g. us-east-1)"),
        );
    }
}

fn check_tags(c: &mut Checker, config: &Config) {
    let most = max_user_tags();
    if config.tags.len() > most {
        c.report(
            "tags",
            format!(
                "{} tags given; AWS allows {} per resource (CodeBuild, EC2, EKS, CloudWatch Logs) \
                 and infra puts up to {INFRA_TAGS} of its own on a subnet, so at most {most}",
                config.tags.len(),
                most + INFRA_TAGS
            ),
        );
    }
    for (key, value) in &config.tags {
        let path = format!("tags.{key}");
        // A key with a space or a dot in it reads better quoted.
        let plain = key
            .chars()
            .all(|ch| ch.is_alphanumeric() || matches!(ch, '_' | '-' | ':' | '/' | '@'));
        let shown = if plain && !key.is_empty() {
            path.clone()
        } else {
            format!("tags.{key:?}")
        };
        let lower = key.to_lowercase();
        if lower.starts_with("infra:") || key == "Name" {
            c.report_key(
                &path,
                &shown,
                format!("tag key {key:?} is set by infra itself to track ownership"),
            );
        }
        for v in aws_rules::violations("tag_key", key) {
            c.report_key(&path, &shown, format!("the key {v}"));
        }
        for v in aws_rules::violations("tag_value", value) {
            c.report_as(&path, &shown, format!("the value {v}"));
        }
    }
}

fn check_network(c: &mut Checker, config: &Config) {
    let net = &config.network;
    let vpc = c.cidr("network.vpc_cidr", &net.vpc_cidr);
    if net.zones.len() < 2 {
        c.report(
            "network.zones",
            format!(
                "{} zone(s) given; EKS and the ALB need subnets in at least two availability zones",
                net.zones.len()
            ),
        );
    }
    let mut subnets: Vec<(String, Ipv4Net)> = Vec::new();
    let mut seen_zones: Vec<&str> = Vec::new();
    for (i, zone) in net.zones.iter().enumerate() {
        let base = format!("network.zones[{i}]");
        let suffix = zone.suffix(&config.region);
        let one_letter = suffix.len() == 1 && suffix.chars().all(|ch| ch.is_ascii_lowercase());
        if suffix == zone.name || !one_letter {
            // Local Zones (us-west-2-lax-1a) and Wavelength Zones (us-east-1-wl1-bos-wlz-1)
            // extend the region name; EKS places neither its cluster nor managed nodes there.
            let local = if suffix != zone.name && suffix.starts_with('-') {
                "; Local Zones and Wavelength Zones cannot hold the EKS cluster or a managed node \
                 group (EKS)"
            } else {
                ""
            };
            c.report(
                &format!("{base}.name"),
                format!(
                    "{:?} is not an availability zone of region {:?}: a zone is the region and \
                     one letter, e.g. {}a (EC2){local}",
                    zone.name, config.region, config.region
                ),
            );
        }
        if seen_zones.contains(&zone.name.as_str()) {
            c.report(
                &format!("{base}.name"),
                format!(
                    "{:?} is listed twice; each zone must be distinct",
                    zone.name
                ),
            );
        }
        seen_zones.push(&zone.name);
        for (tier, text) in [
            ("public", &zone.public),
            ("private_app", &zone.private_app),
            ("private_data", &zone.private_data),
        ] {
            let field = format!("{base}.{tier}");
            let Some(subnet) = c.cidr(&field, text) else {
                continue;
            };
            if let Some(vpc) = vpc {
                if !vpc.contains(&subnet) {
                    c.report(
                        &field,
                        format!("{text:?} is outside the VPC {vpc} (network.vpc_cidr)"),
                    );
                    continue;
                }
            }
            if let Some((other, _)) = subnets
                .iter()
                .find(|(_, o)| o.contains(&subnet.network()) || subnet.contains(&o.network()))
            {
                c.report(&field, format!("{text:?} overlaps {other}"));
            }
            subnets.push((format!("{field} ({text})"), subnet));
        }
    }
}

/// The settings that close the cluster, encrypt the nodes' disks and keep secrets out of the
/// config.
fn check_security(c: &mut Checker, config: &Config) {
    let e = &config.eks;
    if e.endpoint == EndpointAccess::PublicAndPrivate && e.public_access_cidrs.is_empty() {
        c.report(
            "eks.public_access_cidrs",
            "at least one CIDR block is needed with a public endpoint \
             (or set eks.endpoint: private)"
                .to_string(),
        );
    }
    if e.endpoint == EndpointAccess::Private && config.network.nat == NatMode::None {
        c.report(
            "eks.endpoint",
            "private runs the builds in the private subnets, which then have no way out to \
             fetch the source and images; set network.nat to single or per-az"
                .to_string(),
        );
    }
    if e.public_access_cidrs.len() > 40 {
        c.report(
            "eks.public_access_cidrs",
            format!(
                "{} blocks given; EKS allows 40",
                e.public_access_cidrs.len()
            ),
        );
    }
    for (i, text) in e.public_access_cidrs.iter().enumerate() {
        let field = format!("eks.public_access_cidrs[{i}]");
        match Ipv4Net::from_str(text) {
            Ok(net) if net.addr() == net.network() => {}
            Ok(net) => c.report(
                &field,
                format!("{text:?} has host bits set; did you mean {}?", net.trunc()),
            ),
            Err(_) => c.report(
                &field,
                format!("{text:?} is not an IPv4 CIDR block (expected e.g. 203.0.113.0/24)"),
            ),
        }
    }
    let mut logs = e.logging.clone();
    logs.sort();
    logs.dedup();
    if logs.len() != e.logging.len() {
        c.report("eks.logging", "a log type is listed twice".to_string());
    }
    let v = &e.root_volume;
    let why = "GiB: the EKS AMIs need 20, gp3 allows 16384";
    c.within("eks.root_volume.size_gib", v.size_gib, 20..=16384, why);
    if let Some(arn) = &v.kms_key_arn {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let ok = parts.len() == 6
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && parts[2] == "kms"
            && parts[4].len() == 12
            && parts[4].chars().all(|ch| ch.is_ascii_digit())
            && (parts[5].starts_with("key/") || parts[5].starts_with("alias/"))
            && parts[5].len() > 6;
        if !ok {
            c.report(
                "eks.root_volume.kms_key_arn",
                format!(
                    "{arn:?} is not a KMS key ARN \
                     (expected arn:aws:kms:<region>:<account>:key/<id> or .../alias/<name>)"
                ),
            );
        } else if parts[3] != config.region {
            c.report(
                "eks.root_volume.kms_key_arn",
                format!(
                    "{arn:?} is not in region {}; EBS encrypts only with keys of its own region",
                    config.region
                ),
            );
        }
    }
    let b = &config.codebuild;
    let why = "the minutes CodeBuild allows";
    c.within(
        "codebuild.timeout_minutes",
        b.timeout_minutes,
        5..=2160,
        why,
    );
    for (name, reference) in &b.secrets {
        let field = format!("codebuild.secrets.{name}");
        if let Some(problem) = secrets::name_problem(name) {
            c.report(&field, problem);
        }
        if let Err(problem) = SecretRef::parse(reference) {
            c.report(&field, problem);
        }
    }
    let days = config.logs.retention_days;
    if !RETENTION_DAYS.contains(&days) {
        let allowed: Vec<String> = RETENTION_DAYS.iter().map(u32::to_string).collect();
        c.report(
            "logs.retention_days",
            format!(
                "{days} is not a retention CloudWatch Logs accepts ({})",
                allowed.join(", ")
            ),
        );
    }
}
