use super::*;

fn problems(yaml: &str) -> Vec<Problem> {
    parse(yaml).expect_err("config should be rejected")
}

fn default_with(from: &str, to: &str) -> String {
    assert!(DEFAULT_YAML.contains(from), "default config lacks {from:?}");
    DEFAULT_YAML.replacen(from, to, 1)
}

#[test]
fn default_config_is_valid_and_matches_the_original_project() {
    let c = parse(DEFAULT_YAML).expect("default config is valid");
    assert_eq!(c.stack, "grpc-eks");
    assert_eq!(c.region, "us-east-1");
    assert_eq!(c.network.vpc_cidr, "10.0.0.0/16");
    assert_eq!(c.network.nat, NatMode::Single);
    let cidrs = |pick: fn(&Zone) -> &str| -> Vec<String> {
        c.network
            .zones
            .iter()
            .map(|z| pick(z).to_string())
            .collect()
    };
    assert_eq!(cidrs(|z| &z.public), ["10.0.0.0/24", "10.0.1.0/24"]);
    assert_eq!(cidrs(|z| &z.private_app), ["10.0.2.0/24", "10.0.3.0/24"]);
    assert_eq!(cidrs(|z| &z.private_data), ["10.0.4.0/24", "10.0.5.0/24"]);
    assert_eq!(c.network.zones[0].suffix(&c.region), "a");
}

#[test]
fn nat_modes_parse() {
    for (text, mode) in [
        ("single", NatMode::Single),
        ("per-az", NatMode::PerAz),
        ("none", NatMode::None),
    ] {
        let c = parse(&default_with("nat: single", &format!("nat: {text}"))).unwrap();
        assert_eq!(c.network.nat, mode);
    }
    let p = problems(&default_with("nat: single", "nat: double"));
    assert_eq!(p[0].field, "network.nat");
    assert!(p[0].message.contains("double"), "{:?}", p[0]);
}

#[test]
fn yaml_syntax_error_has_a_line() {
    let p = problems("stack: grpc-eks\nregion: [us-east-1\n");
    assert_eq!(p.len(), 1);
    assert!(p[0].line.is_some(), "{:?}", p[0]);
}

/// One bad value: `from` in the default config becomes `to`, and the single problem reported
/// is at `field`, mentions `says` and, where given, points at `line`.
struct Rejected {
    from: &'static str,
    to: &'static str,
    field: &'static str,
    says: &'static str,
    line: Option<usize>,
}

#[test]
fn each_bad_value_is_reported_once_at_its_field_and_line() {
    let cases = [
        Rejected {
            from: "  nat: single",
            to: "  nat: single\n  natt: per-az",
            field: "network",
            says: "unknown field `natt`",
            line: Some(15),
        },
        Rejected {
            from: "public: 10.0.1.0/24",
            to: "public: 10.0.300.0/24",
            field: "network.zones[1].public",
            says: "10.0.300.0/24",
            line: Some(21),
        },
        Rejected {
            from: "vpc_cidr: 10.0.0.0/16",
            to: "vpc_cidr: 10.0.0.1/16",
            field: "network.vpc_cidr",
            says: "did you mean 10.0.0.0/16",
            line: Some(12),
        },
        Rejected {
            from: "private_data: 10.0.5.0/24",
            to: "private_data: 10.1.5.0/24",
            field: "network.zones[1].private_data",
            says: "outside the VPC 10.0.0.0/16",
            line: None,
        },
        Rejected {
            from: "private_app: 10.0.3.0/24",
            to: "private_app: 10.0.0.0/23",
            field: "network.zones[1].private_app",
            says: "overlaps network.zones[0].public",
            line: None,
        },
        Rejected {
            from: "name: us-east-1b",
            to: "name: eu-west-1b",
            field: "network.zones[1].name",
            says: "eu-west-1b",
            line: None,
        },
        Rejected {
            from: "node_port: 30080",
            to: "node_port: 8080",
            field: "service.node_port",
            says: "8080",
            line: None,
        },
        Rejected {
            from: "certificate_arn: null",
            to: "certificate_arn: arn:aws:acm:eu-west-1:123456789012:certificate/abc",
            field: "alb.certificate_arn",
            says: "us-east-1",
            line: None,
        },
        Rejected {
            from: "public_access_cidrs: [0.0.0.0/0]",
            to: "public_access_cidrs: [203.0.113.7/24]",
            field: "eks.public_access_cidrs[0]",
            says: "did you mean 203.0.113.0/24",
            line: None,
        },
        Rejected {
            from: "kms_key_arn: null",
            to: "kms_key_arn: arn:aws:kms:eu-west-1:123456789012:key/abc",
            field: "eks.root_volume.kms_key_arn",
            says: "not in region us-east-1",
            line: None,
        },
        Rejected {
            from: "size_gib: 20",
            to: "size_gib: 8",
            field: "eks.root_volume.size_gib",
            says: "outside 20-16384",
            line: None,
        },
        Rejected {
            from: "timeout_minutes: 30",
            to: "timeout_minutes: 3",
            field: "codebuild.timeout_minutes",
            says: "5-2160",
            line: None,
        },
        Rejected {
            from: "secrets: {}",
            to: "secrets: {API_TOKEN: hunter2}",
            field: "codebuild.secrets.API_TOKEN",
            says: "is not a secret reference",
            line: None,
        },
        Rejected {
            from: "secrets: {}",
            to: "secrets: {CLUSTER_NAME: ssm:/x}",
            field: "codebuild.secrets.CLUSTER_NAME",
            says: "set by the project itself",
            line: None,
        },
        Rejected {
            from: "retention_days: 30",
            to: "retention_days: 31",
            field: "logs.retention_days",
            says: "not a retention CloudWatch Logs accepts",
            line: None,
        },
        Rejected {
            from: "nat: single",
            to: "nat: none",
            field: "eks.endpoint",
            says: "no way out",
            line: None,
        },
    ];
    for c in cases {
        let text = default_with(c.from, c.to);
        // The last case needs both: a private endpoint and no NAT gateway.
        let text = if c.field == "eks.endpoint" {
            text.replace("endpoint: public-and-private", "endpoint: private")
        } else {
            text
        };
        let p = problems(&text);
        assert_eq!(p.len(), 1, "{}: {p:?}", c.to);
        assert_eq!(p[0].field, c.field, "{}", c.to);
        assert!(p[0].message.contains(c.says), "{}", p[0].message);
        if c.line.is_some() {
            assert_eq!(p[0].line, c.line, "{}", c.to);
        }
    }
}

#[test]
fn fewer_than_two_zones_is_rejected() {
    let one_zone = DEFAULT_YAML
        .split("    - name: us-east-1b")
        .next()
        .unwrap()
        .to_string()
        + "\nservice:\n  node_port: 30080\n";
    let p = problems(&one_zone);
    assert!(p
        .iter()
        .any(|p| p.field == "network.zones" && p.message.contains("1 zone")));
}

#[test]
fn long_stack_name_is_rejected_for_the_names_it_breaks() {
    let long = "a".repeat(30);
    let p = problems(&default_with("stack: grpc-eks", &format!("stack: {long}")));
    assert!(p.iter().all(|p| p.field == "stack" && p.line == Some(4)));
    assert!(p
        .iter()
        .any(|p| p.message.contains("target group") && p.message.contains("32")));
}

#[test]
fn bad_stack_characters_and_region_and_tags_are_each_reported() {
    let text = default_with("stack: grpc-eks", "stack: Grpc_EKS");
    let text = text.replacen("region: us-east-1", "region: moon", 1);
    let text = text.replacen("project: grpc-eks", "infra:stack: other", 1);
    let p = problems(&text);
    let fields: Vec<_> = p.iter().map(|p| p.field.as_str()).collect();
    assert!(fields.contains(&"stack"), "{fields:?}");
    assert!(fields.contains(&"region"), "{fields:?}");
    assert!(fields.contains(&"tags.infra:stack"), "{fields:?}");
}

#[test]
fn error_display_names_file_line_field_and_value() {
    let err = ConfigError::Invalid {
        file: "infra.yaml".into(),
        problems: problems(&default_with("vpc_cidr: 10.0.0.0/16", "vpc_cidr: banana")),
    };
    let text = err.to_string();
    assert!(text.contains("infra.yaml"), "{text}");
    assert!(text.contains("line 12"), "{text}");
    assert!(text.contains("network.vpc_cidr"), "{text}");
    assert!(text.contains("banana"), "{text}");
}

#[test]
fn stack_sections_are_validated() {
    let cases = [
        ("version: \"1.31\"", "version: \"2\"", "eks.version"),
        (
            "min: 1\n    desired: 1",
            "min: 2\n    desired: 1",
            "eks.scaling",
        ),
        (
            "instance_types: [t3.medium]",
            "instance_types: []",
            "eks.instance_types",
        ),
        (
            "certificate_arn: null",
            "certificate_arn: not-an-arn",
            "alb.certificate_arn",
        ),
        ("keep_images: 10", "keep_images: 0", "ecr.keep_images"),
        (
            "repository_url: https://github.com/your-org/grpc-eks.git",
            "repository_url: ftp://example.com/x.git",
            "codebuild.repository_url",
        ),
        (
            "grpc_node_port: 30090",
            "grpc_node_port: 30080",
            "service.grpc_node_port",
        ),
        (
            "namespace: grpc-app",
            "namespace: Grpc_App",
            "service.namespace",
        ),
        (
            "namespace: grpc-app",
            "namespace: kube-system",
            "service.namespace",
        ),
        (
            "namespace: grpc-app",
            "namespace: grpc-app-",
            "service.namespace",
        ),
    ];
    for (from, to, field) in cases {
        let p = problems(&default_with(from, to));
        assert_eq!(p.len(), 1, "{field}: {p:?}");
        assert_eq!(p[0].field, field);
        assert!(p[0].line.is_some(), "{field} has no line");
    }
}

#[test]
fn codebuild_source_type_follows_the_host() {
    let mut b = CodeBuild::default();
    assert_eq!(b.source_type(), Some("GITHUB"));
    b.repository_url = "https://git-codecommit.us-east-1.amazonaws.com/v1/repos/x".into();
    assert_eq!(b.source_type(), Some("CODECOMMIT"));
    b.repository_url = "https://example.com/x.git".into();
    assert_eq!(b.source_type(), None);
}
