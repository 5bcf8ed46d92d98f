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
            to: "certificate_arn: arn:aws:acm:eu-west-1:123456789012:certificate/0f6e8a2c-1b3d-4e5f-8a9b-0c1d2e3f4a5b",
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
        ("upgrade_policy: standard", "version: \"2\"", "eks.version"),
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

/// Line and column (1-based) of the first `needle` in `text`.
fn at(text: &str, needle: &str) -> (usize, usize) {
    let i = text.find(needle).expect("needle in text");
    let line = text[..i].matches('\n').count() + 1;
    let column = i - text[..i].rfind('\n').map_or(0, |n| n + 1) + 1;
    (line, column)
}

/// `from` in the default config becomes `to`; the problems reported are exactly `want`, each
/// `(field, message)` at the line and column where `value` starts in the new text.
fn assert_refused(from: &str, to: &str, value: &str, want: &[(&str, &str)]) {
    let text = default_with(from, to);
    let (line, column) = at(&text, value);
    let p = problems(&text);
    let got: Vec<(String, String)> = p
        .iter()
        .map(|p| (p.field.clone(), p.message.clone()))
        .collect();
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(f, m)| (f.to_string(), m.to_string()))
        .collect();
    assert_eq!(got, want, "{to}");
    for p in &p {
        assert_eq!((p.line, p.column), (Some(line), Some(column)), "{p}");
    }
}

#[test]
fn instance_types_are_the_ec2_models() {
    let field = "eks.instance_types[0]";
    assert_refused(
        "instance_types: [t3.medium]",
        "instance_types: [banana.huge]",
        "banana.huge",
        &[(
            field,
            "\"banana.huge\" is not an EC2 instance type: a family (series, generation digit, \
             attributes), a dot and a size, e.g. t3.medium or m7i-flex.large (EC2)",
        )],
    );
    assert_refused(
        "instance_types: [t3.medium]",
        "instance_types: [t3.metal]",
        "t3.metal",
        &[(
            field,
            "\"t3.metal\" is not an EC2 instance type: t3 comes in 2xlarge, large, medium, \
             micro, nano, small, xlarge (EC2), not metal",
        )],
    );
    let newer = format!(
        "\"t99.large\" is not among the {} EC2 instance types infra knows (botocore {}'s EC2 \
         model); if it is newer than that, a newer infra knows it",
        aws_rules::instance_types().len(),
        aws_rules::instance_types_from()
    );
    assert_refused(
        "instance_types: [t3.medium]",
        "instance_types: [t99.large]",
        "t99.large",
        &[(field, &newer)],
    );
    for fine in [
        "m7i-flex.large",
        "u-6tb1.metal",
        "c7i.metal-48xl",
        "mac2-m2pro.metal",
    ] {
        parse(&default_with("[t3.medium]", &format!("[{fine}]"))).expect(fine);
    }
}

#[test]
fn zones_are_the_region_and_one_letter() {
    assert_refused(
        "name: us-east-1a",
        "name: us-east-1zz",
        "us-east-1zz",
        &[(
            "network.zones[0].name",
            "\"us-east-1zz\" is not an availability zone of region \"us-east-1\": a zone is \
             the region and one letter, e.g. us-east-1a (EC2)",
        )],
    );
    assert_refused(
        "name: us-east-1a",
        "name: us-east-1-bos-1a",
        "us-east-1-bos-1a",
        &[(
            "network.zones[0].name",
            "\"us-east-1-bos-1a\" is not an availability zone of region \"us-east-1\": a zone \
             is the region and one letter, e.g. us-east-1a (EC2); Local Zones and Wavelength \
             Zones cannot hold the EKS cluster or a managed node group (EKS)",
        )],
    );
}

#[test]
fn compute_types_are_codebuilds_and_usable_by_the_project() {
    let usable = "BUILD_GENERAL1_SMALL, BUILD_GENERAL1_MEDIUM, BUILD_GENERAL1_LARGE, \
                  BUILD_GENERAL1_XLARGE, BUILD_GENERAL1_2XLARGE (CodeBuild)";
    assert_refused(
        "compute_type: BUILD_GENERAL1_SMALL",
        "compute_type: HUGE",
        "HUGE",
        &[(
            "codebuild.compute_type",
            &format!("\"HUGE\" is not a CodeBuild compute type; use one of {usable}"),
        )],
    );
    assert_refused(
        "compute_type: BUILD_GENERAL1_SMALL",
        "compute_type: BUILD_LAMBDA_1GB",
        "BUILD_LAMBDA_1GB",
        &[(
            "codebuild.compute_type",
            &format!(
                "\"BUILD_LAMBDA_1GB\" is a CodeBuild compute type infra's project cannot use: \
                 it builds images with docker in a privileged LINUX_CONTAINER, which Lambda \
                 compute cannot run, and sets no fleet or compute configuration; use one of \
                 {usable}"
            ),
        )],
    );
}

#[test]
fn certificate_arns_are_acms_in_the_stacks_region_and_partition() {
    let uuid = "0f6e8a2c-1b3d-4e5f-8a9b-0c1d2e3f4a5b";
    let field = "alb.certificate_arn";
    let no_id = "arn:aws:acm:us-east-1:123456789012:certificate/";
    assert_refused(
        "certificate_arn: null",
        &format!("certificate_arn: {no_id}"),
        no_id,
        &[(
            field,
            &format!(
                "{no_id:?} is not an ACM certificate ARN: expected \
                 arn:aws:acm:<region>:<12-digit account>:certificate/<UUID> (ACM)"
            ),
        )],
    );
    let china = format!("arn:aws-cn:acm:us-east-1:123456789012:certificate/{uuid}");
    assert_refused(
        "certificate_arn: null",
        &format!("certificate_arn: {china}"),
        &china,
        &[(
            field,
            &format!(
                "{china:?} is in partition aws-cn, but region us-east-1 is in aws; an ALB can \
                 only use a certificate of its own region (ACM, Elastic Load Balancing)"
            ),
        )],
    );
    let short_account = format!("arn:aws:acm:us-east-1:1234:certificate/{uuid}");
    let p = problems(&default_with(
        "certificate_arn: null",
        &format!("certificate_arn: {short_account}"),
    ));
    assert!(
        p[0].message.contains("is not an ACM certificate ARN"),
        "{p:?}"
    );
    parse(&default_with(
        "certificate_arn: null",
        &format!("certificate_arn: arn:aws:acm:us-east-1:123456789012:certificate/{uuid}"),
    ))
    .expect("a good ARN");
}

#[test]
fn a_health_check_path_longer_than_elb_takes_is_refused() {
    let long = format!("/{}", "h".repeat(1024));
    assert_refused(
        "health_check_path: /healthz",
        &format!("health_check_path: {long}"),
        &long,
        &[(
            "service.health_check_path",
            "the path is 1025 characters: health check paths allow at most 1024 \
             (Elastic Load Balancing)",
        )],
    );
}

#[test]
fn tags_meet_the_strictest_service() {
    let services = "(CodeBuild, Elastic Load Balancing, IAM, CloudWatch Logs)";
    assert_refused(
        "project: grpc-eks",
        "\"R&D #1, (shared)!\": x",
        "\"R&D",
        &[(
            "tags.\"R&D #1, (shared)!\"",
            &format!(
                "the key has '&' '#' ',' '(' ')' '!': AWS tag keys allow only letters, digits, \
                 spaces and _ . : / = @ + - {services}"
            ),
        )],
    );
    assert_refused(
        "project: grpc-eks",
        "project: a*b",
        "a*b",
        &[(
            "tags.project",
            &format!(
                "the value has '*': AWS tag values allow only letters, digits, spaces and \
                 _ . : / = @ + - {services}"
            ),
        )],
    );
    let key = "k".repeat(128);
    assert_refused(
        "project: grpc-eks",
        &format!("{key}: x"),
        &key,
        &[(
            &*format!("tags.{key}"),
            "the key is 128 characters: AWS tag keys allow at most 127 (CodeBuild, EC2)",
        )],
    );
    let value = "v".repeat(256);
    assert_refused(
        "project: grpc-eks",
        &format!("project: {value}"),
        &value,
        &[(
            "tags.project",
            "the value is 256 characters: AWS tag values allow at most 255 (CodeBuild)",
        )],
    );
    assert_refused(
        "project: grpc-eks",
        "AWS:project: x",
        "AWS:",
        &[(
            "tags.AWS:project",
            "the key starts with \"aws:\", which AWS tag keys may not (EC2)",
        )],
    );
    // Letters and digits of any script are letters and digits to AWS.
    parse(&default_with("project: grpc-eks", "Straße: München 2")).expect("unicode tags");
}

#[test]
fn user_tags_leave_room_for_the_stacks_own() {
    let tags: String = (0..47).map(|i| format!("  t{i}: x\n")).collect();
    let text = default_with("  project: grpc-eks\n", &tags);
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!((p[0].field.as_str(), p[0].line), ("tags", Some(9)));
    assert_eq!(
        p[0].message,
        "47 tags given; AWS allows 50 per resource (CodeBuild, EC2, EKS, CloudWatch Logs) and \
         infra puts up to 4 of its own on a subnet, so at most 46"
    );
    let tags: String = (0..46).map(|i| format!("  t{i}: x\n")).collect();
    parse(&default_with("  project: grpc-eks\n", &tags)).expect("46 tags fit");
}

#[test]
fn infra_tags_is_the_most_any_resource_carries() {
    let c = parse(DEFAULT_YAML).unwrap();
    let graph = crate::stack::build(&c, "123456789012");
    let most = graph
        .resources
        .values()
        .filter_map(|d| match d.attrs.get("tags") {
            Some(crate::model::Value::Map(m)) => Some(m.len() - c.tags.len()),
            _ => None,
        })
        .max();
    assert_eq!(most, Some(validate::INFRA_TAGS));
}

#[test]
fn stack_names_meet_every_derived_names_rules() {
    let p = problems(&default_with("stack: grpc-eks", "stack: a"));
    let got: Vec<(Option<usize>, &str, &str)> = p
        .iter()
        .map(|p| (p.line, p.field.as_str(), p.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                Some(4),
                "stack",
                "\"a\" makes the ECR repository name \"a\", which is 1 character: ECR \
                 repository names need at least 2 (ECR) (use a stack name of at least 2 \
                 characters)"
            ),
            (
                Some(4),
                "stack",
                "\"a\" makes the CodeBuild project name \"a\", which is 1 character: CodeBuild \
                 project names need at least 2 (CodeBuild) (use a stack name of at least 2 \
                 characters)"
            ),
        ]
    );
    let p = problems(&default_with("stack: grpc-eks", "stack: sg-app"));
    let messages: Vec<&str> = p.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "\"sg-app\" makes the security group name \"sg-app-alb\", which starts with \"sg-\", \
             which security group names may not (EC2)",
            "\"sg-app\" makes the security group name \"sg-app-nodes\", which starts with \
             \"sg-\", which security group names may not (EC2)",
        ]
    );
    let p = problems(&default_with("stack: grpc-eks", "stack: internal"));
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(
        (p[0].line, p[0].column, p[0].message.as_str()),
        (
            Some(4),
            Some(8),
            "\"internal\" makes the load balancer name \"internal-alb\", which starts with \
             \"internal-\", which load balancer names may not (Elastic Load Balancing)"
        )
    );
    for fine in ["ab", "sgx", "internals", "grpc-eks"] {
        parse(&default_with("stack: grpc-eks", &format!("stack: {fine}"))).expect(fine);
    }
}

#[test]
fn a_null_where_text_is_wanted_is_an_error_not_the_word() {
    let p = problems(&default_with("project: grpc-eks", "project: null"));
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(
        p[0].to_string(),
        "line 9, column 12: tags.project: is null, and text is expected (YAML reads null, ~ \
         and an empty value as no value): write the value, quoted if it is one of those words \
         (\"null\")"
    );
    // The stack name "null" would pass its own check; it is still refused, once.
    let p = problems(&default_with("stack: grpc-eks", "stack: ~"));
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(
        (p[0].line, p[0].column, p[0].field.as_str()),
        (Some(4), Some(8), "stack")
    );
    let p = problems(&default_with("branch: main", "branch:"));
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].field, "codebuild.branch");
    // Quoted, it is the word; optional fields take null.
    parse(&default_with("project: grpc-eks", "project: \"null\"")).expect("quoted null");
    parse(&default_with("kms_key_arn: null", "kms_key_arn: ~")).expect("optional null");
}

#[test]
fn a_huge_or_deeply_nested_file_is_refused_before_parsing() {
    let deep = format!(
        "{}tags: {{x: {}{}}}\n",
        DEFAULT_YAML.replace("tags:\n  project: grpc-eks\n", ""),
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let started = std::time::Instant::now();
    let p = problems(&deep);
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].message.contains("nested more than 64 levels"), "{p:?}");
    assert!(p[0].line.is_some(), "{p:?}");
    let huge = format!("{DEFAULT_YAML}#{}\n", "x".repeat(limits::MAX_BYTES));
    let p = problems(&huge);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].message.contains("over 1048576 bytes (1 MiB)"), "{p:?}");
}

#[test]
fn a_huge_file_is_not_read_past_the_cap() {
    let dir = std::env::temp_dir().join(format!("infra-config-cap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("infra.yaml");
    std::fs::write(&path, format!("#{}\n", "x".repeat(3 * limits::MAX_BYTES))).unwrap();
    let err = load(Some(&path)).expect_err("refused");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(err.to_string().contains("1 MiB"), "{err}");
}

const CONNECTION: &str =
    "arn:aws:codeconnections:us-east-1:123456789012:connection/0b1c2d3e-aaaa-bbbb-cccc-000000000001";

/// The default config with another repository URL and connection.
fn with_source(url: &str, connection: &str) -> String {
    default_with(
        "repository_url: https://github.com/your-org/grpc-eks.git",
        &format!("repository_url: {url}"),
    )
    .replacen(
        "connection_arn: null",
        &format!("connection_arn: {connection}"),
        1,
    )
}

#[test]
fn a_connection_is_taken_for_github_gitlab_and_bitbucket_in_either_arn_form() {
    for url in [
        "https://github.com/org/app.git",
        "https://gitlab.com/org/app.git",
        "https://bitbucket.org/org/app.git",
    ] {
        for arn in [
            CONNECTION,
            "arn:aws:codestar-connections:us-east-1:123456789012:connection/abc-1_2",
            // Another region: CodeBuild uses connections across regions.
            "arn:aws:codeconnections:eu-west-1:123456789012:connection/abc",
        ] {
            let c = parse(&with_source(url, arn)).unwrap_or_else(|p| panic!("{url} {arn}: {p:?}"));
            assert_eq!(c.codebuild.connection_arn.as_deref(), Some(arn));
        }
    }
    assert_eq!(parse(DEFAULT_YAML).unwrap().codebuild.connection_arn, None);
}

#[test]
fn connection_arns_are_refused_at_their_field_by_codeconnections_and_codebuilds_rules() {
    let field = "codebuild.connection_arn";
    let github = "https://github.com/your-org/grpc-eks.git";
    let from = "connection_arn: null";
    let to = |arn: &str| format!("connection_arn: {arn}");
    for bad in [
        "arn:aws:codeconnections:us-east-1:123456789012:host/abc",
        "arn:aws:codepipeline:us-east-1:123456789012:connection/abc",
        "arn:aws:codeconnections:us-east-1:12345:connection/abc",
        "arn:aws:codeconnections:us-east-1:123456789012:connection/a/b",
        "connection/abc",
    ] {
        assert_refused(
            from,
            &to(bad),
            bad,
            &[(
                field,
                &format!(
                    "{bad:?} is not a connection ARN: expected \
                     arn:aws:codeconnections:<region>:<12-digit account>:connection/<id> (or \
                     arn:aws:codestar-connections:... for one made before the rename) \
                     (CodeConnections)"
                ),
            )],
        );
    }
    let long = format!("{}{}", &CONNECTION[..CONNECTION.len() - 1], "a".repeat(200));
    assert_refused(
        from,
        &to(&long),
        &long,
        &[(
            field,
            "the ARN is 293 characters: connection ARNs allow at most 256 (CodeConnections, \
             CodeStar Connections)",
        )],
    );
    let china = "arn:aws-cn:codeconnections:cn-north-1:123456789012:connection/abc";
    assert_refused(
        from,
        &to(china),
        china,
        &[(
            field,
            &format!(
                "{china:?} is in partition aws-cn, but region us-east-1 is in aws; CodeBuild uses \
                 connections of its own partition only (CodeBuild)"
            ),
        )],
    );
    let milan = "arn:aws:codeconnections:eu-south-1:123456789012:connection/abc";
    assert_refused(
        from,
        &to(milan),
        milan,
        &[(
            field,
            &format!(
                "{milan:?} was made in eu-south-1, an opt-in region: CodeBuild can use such a \
                 connection only in that region, and the stack is in us-east-1; create the \
                 connection in us-east-1 (CodeBuild)"
            ),
        )],
    );
    // In its own opt-in region it is fine.
    let text = with_source(github, milan)
        .replacen("region: us-east-1", "region: eu-south-1", 1)
        .replace("us-east-1a", "eu-south-1a")
        .replace("us-east-1b", "eu-south-1b");
    assert!(parse(&text).is_ok(), "{:?}", parse(&text).err());
}

#[test]
fn codecommit_takes_no_connection_and_needs_a_url_naming_its_repository() {
    let cc = "https://git-codecommit.us-east-1.amazonaws.com/v1/repos/grpc-app";
    let c = parse(&with_source(cc, "null")).unwrap();
    assert_eq!(
        c.codebuild.codecommit_repository(),
        Some(("us-east-1", "grpc-app"))
    );
    let text = with_source(cc, CONNECTION);
    let (line, column) = at(&text, CONNECTION);
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(
        (p[0].field.as_str(), p[0].line, p[0].column),
        ("codebuild.connection_arn", Some(line), Some(column))
    );
    assert_eq!(
        p[0].message,
        "CodeBuild reads a CodeCommit repository with its role (codecommit:GitPull), not through \
         a connection; remove connection_arn, or point repository_url at GitHub, GitLab or \
         Bitbucket"
    );
    let url_from = "repository_url: https://github.com/your-org/grpc-eks.git";
    let field = "codebuild.repository_url";
    let no_repo = "https://git-codecommit.us-east-1.amazonaws.com/repos";
    assert_refused(
        url_from,
        &format!("repository_url: {no_repo}"),
        no_repo,
        &[(
            field,
            &format!(
                "{no_repo:?} is not a CodeCommit clone URL: expected \
                 https://git-codecommit.<region>.amazonaws.com/v1/repos/<repository> \
                 (CodeCommit); the build role may pull exactly that repository"
            ),
        )],
    );
    let bad_name = "https://git-codecommit.us-east-1.amazonaws.com/v1/repos/grpc+app";
    assert_refused(
        url_from,
        &format!("repository_url: {bad_name}"),
        bad_name,
        &[(
            field,
            "the repository name \"grpc+app\" has '+': CodeCommit repository names allow only \
             letters, digits and _ . - (CodeCommit)",
        )],
    );
}

#[test]
fn gitlab_without_a_connection_is_warned_about() {
    let gitlab = parse(&with_source("https://gitlab.com/org/app.git", "null")).unwrap();
    let w = warnings(&gitlab);
    assert!(
        w.iter()
            .any(|w| w.starts_with("codebuild.repository_url is on gitlab.com")),
        "{w:?}"
    );
    let connected = parse(&with_source("https://gitlab.com/org/app.git", CONNECTION)).unwrap();
    assert!(!warnings(&connected).iter().any(|w| w.contains("gitlab")));
}
