//! AWS's own rules for the values infra sends (`aws_rules.yaml`, each rule with its botocore
//! shape or guide page), and the one function that applies every rule of a check at once, so the
//! strictest service wins. tests/test_aws_rules.py keeps the table equal to the botocore models.

use serde::Deserialize;
use std::fmt;
use std::sync::OnceLock;

const TABLE: &str = include_str!("aws_rules.yaml");
const INSTANCE_TYPES: &str = include_str!("ec2_instance_types.txt");

/// One rule of one service, as the table states it (fields only the Python test reads are kept
/// so that a typo in the table is refused rather than ignored).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    check: String,
    service: String,
    #[allow(dead_code)]
    shape: Option<String>,
    #[allow(dead_code)]
    member: Option<String>,
    #[allow(dead_code)]
    says: Option<String>,
    min: Option<usize>,
    max: Option<usize>,
    #[allow(dead_code)]
    pattern: Option<String>,
    chars: Option<String>,
    first: Option<String>,
    last: Option<String>,
    #[allow(dead_code)]
    grammar: Option<String>,
    #[serde(default)]
    not_prefix: Vec<String>,
    #[serde(default)]
    values: Vec<String>,
    #[allow(dead_code)]
    values_file: Option<String>,
    #[serde(default)]
    usable: Vec<String>,
    #[allow(dead_code)]
    url: Option<String>,
    #[allow(dead_code)]
    source: String,
    #[allow(dead_code)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Partition {
    prefix: String,
    partition: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    rules: Vec<Entry>,
    partitions: Vec<Partition>,
}

/// A rule ready to apply: its character classes parsed.
struct Rule {
    entry: Entry,
    chars: Option<CharClass>,
    first: Option<CharClass>,
    last: Option<CharClass>,
}

struct Table {
    rules: Vec<Rule>,
    partitions: Vec<Partition>,
    instance_types: Vec<&'static str>,
    instance_types_from: &'static str,
}

fn table() -> &'static Table {
    static TABLE_CELL: OnceLock<Table> = OnceLock::new();
    TABLE_CELL.get_or_init(|| {
        // Embedded at compile time and parsed by a unit test: a broken table never ships.
        let file: File = serde_yaml::from_str(TABLE).expect("aws_rules.yaml parses");
        let class = |body: &Option<String>| body.as_deref().map(CharClass::parse);
        let rules = file
            .rules
            .into_iter()
            .map(|entry| Rule {
                chars: class(&entry.chars),
                first: class(&entry.first),
                last: class(&entry.last),
                entry,
            })
            .collect();
        let mut lines = INSTANCE_TYPES.lines();
        let header = lines.next().unwrap_or_default();
        let instance_types_from = header
            .split_once("botocore ")
            .and_then(|(_, rest)| rest.split(',').next())
            .unwrap_or("unknown");
        Table {
            rules,
            partitions: file.partitions,
            instance_types: lines.filter(|l| !l.is_empty()).collect(),
            instance_types_from,
        }
    })
}

fn rules_of(check: &str) -> impl Iterator<Item = &'static Rule> + '_ {
    table().rules.iter().filter(move |r| r.entry.check == check)
}

/// The longest value every service taking values of `check` accepts.
pub fn max_len(check: &str) -> Option<usize> {
    rules_of(check).filter_map(|r| r.entry.max).min()
}

/// The shortest value every service taking values of `check` accepts.
pub fn min_len(check: &str) -> usize {
    rules_of(check)
        .filter_map(|r| r.entry.min)
        .max()
        .unwrap_or(0)
}

/// The enum of `check` (e.g. every CodeBuild compute type).
pub fn values(check: &str) -> Vec<&'static str> {
    rules_of(check)
        .flat_map(|r| r.entry.values.iter().map(String::as_str))
        .collect()
}

/// The part of the enum of `check` that infra's own setup can use.
pub fn usable(check: &str) -> Vec<&'static str> {
    rules_of(check)
        .flat_map(|r| r.entry.usable.iter().map(String::as_str))
        .collect()
}

/// Every EC2 instance type of the botocore model the list was generated from, sorted.
pub fn instance_types() -> &'static [&'static str] {
    &table().instance_types
}

/// The botocore version the instance type list comes from.
pub fn instance_types_from() -> &'static str {
    table().instance_types_from
}

/// The partition of `region` (`aws`, `aws-cn`, `aws-us-gov`, ...), as its ARNs name it.
pub fn partition(region: &str) -> &'static str {
    table()
        .partitions
        .iter()
        .find(|p| region.starts_with(&p.prefix))
        .map_or("aws", |p| p.partition.as_str())
}

/// The name users know a service by.
fn service_name(service: &'static str) -> &'static str {
    match service {
        "codebuild" => "CodeBuild",
        "ec2" => "EC2",
        "ecr" => "ECR",
        "eks" => "EKS",
        "elbv2" => "Elastic Load Balancing",
        "iam" => "IAM",
        "logs" => "CloudWatch Logs",
        "acm" => "ACM",
        "codeconnections" => "CodeConnections",
        "codestar-connections" => "CodeStar Connections",
        "codecommit" => "CodeCommit",
        other => other,
    }
}

/// What values of `check` are, in plain words, for messages.
fn noun(check: &str) -> &'static str {
    match check {
        "tag_key" => "AWS tag keys",
        "tag_value" => "AWS tag values",
        "health_check_path" => "health check paths",
        "certificate_arn" => "certificate ARNs",
        "security_group_name" => "security group names",
        "eks_cluster_name" => "EKS cluster names",
        "node_group_name" => "node group names",
        "launch_template_name" => "launch template names",
        "iam_role_name" => "IAM role names",
        "load_balancer_name" => "load balancer names",
        "target_group_name" => "target group names",
        "ecr_repository_name" => "ECR repository names",
        "codebuild_project_name" => "CodeBuild project names",
        "log_group_name" => "log group names",
        "connection_arn" => "connection ARNs",
        "codecommit_repository_name" => "CodeCommit repository names",
        _ => "values",
    }
}

/// One way a value breaks the rules of a check, with the services whose rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// What is wrong.
    pub kind: ViolationKind,
    noun: &'static str,
    services: Vec<&'static str>,
}

/// What is wrong with a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViolationKind {
    /// Longer than the strictest maximum.
    TooLong {
        /// Its length in characters.
        len: usize,
        /// The strictest maximum.
        max: usize,
    },
    /// Shorter than the strictest minimum.
    TooShort {
        /// Its length in characters.
        len: usize,
        /// The strictest minimum.
        min: usize,
    },
    /// Holds characters a service refuses.
    Chars {
        /// The characters refused, each once, in order.
        bad: String,
        /// The characters allowed, in words.
        allowed: String,
    },
    /// Starts with a character a service refuses there.
    First {
        /// The character.
        ch: char,
        /// The characters allowed there, in words.
        allowed: String,
    },
    /// Ends with a character a service refuses there.
    Last {
        /// The character.
        ch: char,
        /// The characters allowed there, in words.
        allowed: String,
    },
    /// Starts with a prefix a service reserves.
    Prefix(String),
}

impl fmt::Display for Violation {
    /// A phrase to follow the value's name: `is 128 characters: AWS tag keys allow at most 127
    /// (CodeBuild)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = self.noun;
        match &self.kind {
            ViolationKind::TooLong { len, max } => {
                write!(f, "is {len} characters: {noun} allow at most {max}")?
            }
            ViolationKind::TooShort { len, min } => {
                let s = if *len == 1 { "" } else { "s" };
                write!(f, "is {len} character{s}: {noun} need at least {min}")?
            }
            ViolationKind::Chars { bad, allowed } => {
                let bad: Vec<String> = bad.chars().map(|c| format!("{c:?}")).collect();
                write!(f, "has {}: {noun} allow only {allowed}", bad.join(" "))?
            }
            ViolationKind::First { ch, allowed } => {
                write!(f, "starts with {ch:?}: {noun} start with {allowed}")?
            }
            ViolationKind::Last { ch, allowed } => {
                write!(f, "ends with {ch:?}: {noun} end with {allowed}")?
            }
            ViolationKind::Prefix(p) => write!(f, "starts with {p:?}, which {noun} may not")?,
        }
        write!(f, " ({})", self.services.join(", "))
    }
}

/// Which of a rule's classes to test: `chars`, `first` or `last`.
type ClassOf = fn(&Rule) -> Option<&CharClass>;

/// Every way `value` breaks the rules of `check`, the strictest rule of each kind; empty when
/// every service taking it accepts it.
pub fn violations(check: &str, value: &str) -> Vec<Violation> {
    let noun = noun(check);
    let rules: Vec<&Rule> = rules_of(check).collect();
    let len = value.chars().count();
    let mut out = Vec::new();
    let mut push = |kind, services: Vec<&'static str>| {
        if !services.is_empty() {
            out.push(Violation {
                kind,
                noun,
                services,
            });
        }
    };
    let names = |pick: &dyn Fn(&Rule) -> bool| -> Vec<&'static str> {
        let mut s: Vec<&'static str> = Vec::new();
        for r in rules.iter().filter(|r| pick(r)) {
            let name = service_name(&r.entry.service);
            if !s.contains(&name) {
                s.push(name);
            }
        }
        s
    };
    if let Some(max) = rules.iter().filter_map(|r| r.entry.max).min() {
        if len > max {
            let services = names(&|r| r.entry.max == Some(max));
            push(ViolationKind::TooLong { len, max }, services);
        }
    }
    if let Some(min) = rules.iter().filter_map(|r| r.entry.min).max() {
        if len < min {
            let services = names(&|r| r.entry.min == Some(min));
            push(ViolationKind::TooShort { len, min }, services);
        }
    }
    // The class shown is the first refusing rule's; the services are every one that refuses.
    let refusing = |class: ClassOf, c: char| {
        rules
            .iter()
            .filter(move |r| class(r).is_some_and(|k| !k.contains(c)))
    };
    let mut bad = String::new();
    let mut refusers: Vec<&Rule> = Vec::new();
    for c in value.chars() {
        let by: Vec<&Rule> = refusing(|r| r.chars.as_ref(), c).copied().collect();
        if !by.is_empty() && !bad.contains(c) {
            bad.push(c);
            for r in by {
                if !refusers.iter().any(|x| std::ptr::eq(*x, r)) {
                    refusers.push(r);
                }
            }
        }
    }
    if let Some(first) = refusers.first() {
        let allowed = first
            .chars
            .as_ref()
            .map(CharClass::describe)
            .unwrap_or_default();
        let services = names(&|r| refusers.iter().any(|x| std::ptr::eq(*x, r)));
        push(ViolationKind::Chars { bad, allowed }, services);
    }
    let ends: [(Option<char>, ClassOf, bool); 2] = [
        (value.chars().next(), |r| r.first.as_ref(), true),
        (value.chars().last(), |r| r.last.as_ref(), false),
    ];
    for (ch, class, is_first) in ends {
        let Some(ch) = ch else { continue };
        let by: Vec<&&Rule> = refusing(class, ch).collect();
        if let Some(r) = by.first() {
            let allowed = class(r).map(CharClass::describe).unwrap_or_default();
            let services = names(&|x| class(x).is_some_and(|k| !k.contains(ch)));
            let kind = if is_first {
                ViolationKind::First { ch, allowed }
            } else {
                ViolationKind::Last { ch, allowed }
            };
            push(kind, services);
        }
    }
    let lower = value.to_lowercase();
    let mut prefixes: Vec<&str> = rules
        .iter()
        .flat_map(|r| r.entry.not_prefix.iter().map(String::as_str))
        .filter(|p| lower.starts_with(&p.to_lowercase()))
        .collect();
    prefixes.dedup();
    for p in prefixes {
        let services = names(&|r| r.entry.not_prefix.iter().any(|x| x == p));
        push(ViolationKind::Prefix(p.to_string()), services);
    }
    out
}

/// A regex character class body as the botocore models write them (`\p{L}\p{N}_.:/=+\-@`,
/// `a-zA-Z0-9`, `\w+=,.@-`), which is all the checker needs of their patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CharClass(Vec<Item>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    /// `\p{L}`: a Unicode letter.
    Letter,
    /// `\p{N}`: a Unicode number.
    Number,
    /// `\p{Z}`: a Unicode separator (spaces).
    Separator,
    /// `\w`: ASCII letters, digits and `_` (as in Java, whose patterns these are).
    Word,
    /// A range of characters, or a single one.
    Range(char, char),
}

impl CharClass {
    fn parse(body: &str) -> CharClass {
        let chars: Vec<char> = body.chars().collect();
        let mut items = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let (lo, next) = match chars[i] {
                '\\' if chars.get(i + 1) == Some(&'p') => {
                    let end = chars[i..]
                        .iter()
                        .position(|&c| c == '}')
                        .map_or(chars.len(), |p| i + p);
                    let name: String = chars[(i + 3).min(end)..end].iter().collect();
                    items.push(match name.as_str() {
                        "L" => Item::Letter,
                        "N" => Item::Number,
                        _ => Item::Separator,
                    });
                    i = end + 1;
                    continue;
                }
                '\\' if chars.get(i + 1) == Some(&'w') => {
                    items.push(Item::Word);
                    i += 2;
                    continue;
                }
                '\\' => (chars.get(i + 1).copied().unwrap_or('\\'), i + 2),
                c => (c, i + 1),
            };
            // `a-z` is a range; a `-` last in the body, or first, is itself.
            if chars.get(next) == Some(&'-') && next + 1 < chars.len() {
                let (hi, after) = match chars[next + 1] {
                    '\\' => (chars.get(next + 2).copied().unwrap_or('\\'), next + 3),
                    c => (c, next + 2),
                };
                items.push(Item::Range(lo, hi));
                i = after;
            } else {
                items.push(Item::Range(lo, lo));
                i = next;
            }
        }
        CharClass(items)
    }

    fn contains(&self, c: char) -> bool {
        self.0.iter().any(|item| match *item {
            // Unicode Alphabetic: the letters, plus a few combining marks (\p{L} excludes those;
            // near enough, and never refuses a letter AWS takes).
            Item::Letter => c.is_alphabetic(),
            Item::Number => c.is_numeric(),
            Item::Separator => is_separator(c),
            Item::Word => c.is_ascii_alphanumeric() || c == '_',
            Item::Range(lo, hi) => (lo..=hi).contains(&c),
        })
    }

    /// The class in words: `letters, digits, spaces and _ . : / = + - @`.
    fn describe(&self) -> String {
        let mut words: Vec<String> = Vec::new();
        let mut symbols: Vec<String> = Vec::new();
        for item in &self.0 {
            match *item {
                Item::Letter => words.push("letters".into()),
                Item::Number => words.push("digits".into()),
                Item::Separator => words.push("spaces".into()),
                Item::Word => words.push("letters, digits".into()),
                Item::Range(' ', ' ') => words.push("spaces".into()),
                Item::Range(lo, hi) if lo == hi => symbols.push(lo.to_string()),
                Item::Range(lo, hi) => words.push(format!("{lo}-{hi}")),
            }
        }
        if self.0.contains(&Item::Word) {
            symbols.insert(0, "_".into());
        }
        // Letters, digits, spaces: the order people say them in, whatever the model's.
        let rank = |w: &String| match w.as_str() {
            "letters" | "letters, digits" => 0,
            "digits" => 1,
            "spaces" => 2,
            _ => 3,
        };
        words.sort_by_key(rank);
        words.dedup();
        match (words.is_empty(), symbols.is_empty()) {
            (_, true) => words.join(", "),
            (true, false) => symbols.join(" "),
            (false, false) => format!("{} and {}", words.join(", "), symbols.join(" ")),
        }
    }
}

/// Unicode's separators (general category Z): the space characters and the line and paragraph
/// separators. Listed, as the standard library has no general-category test.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_and_the_instance_types_load() {
        assert!(table().rules.len() > 20);
        assert!(instance_types().len() > 1000);
        assert!(instance_types().windows(2).all(|w| w[0] < w[1]), "sorted");
        assert!(instance_types().binary_search(&"t3.medium").is_ok());
        assert!(instance_types_from().starts_with("1."));
    }

    #[test]
    fn classes_parse_like_the_models_regexes() {
        let tag = CharClass::parse(r"\p{L}\p{Z}\p{N}_.:/=+\-@");
        for ok in [
            'a', 'Z', 'é', 'ß', '7', '٣', ' ', '\u{a0}', '_', '-', '@', '/', ':',
        ] {
            assert!(tag.contains(ok), "{ok:?}");
        }
        for bad in ['&', '#', ',', '(', ')', '!', '*', '\t', '\n', '"'] {
            assert!(!tag.contains(bad), "{bad:?}");
        }
        assert_eq!(
            tag.describe(),
            "letters, digits, spaces and _ . : / = + - @"
        );
        let lt = CharClass::parse(r"a-zA-Z0-9\(\)\.\-/_");
        assert!(lt.contains('(') && lt.contains('-') && lt.contains('Q') && !lt.contains(' '));
        let iam = CharClass::parse(r"\w+=,.@-");
        assert!(iam.contains('_') && iam.contains('-') && iam.contains(',') && !iam.contains('/'));
        assert_eq!(iam.describe(), "letters, digits and _ + = , . @ -");
    }

    #[test]
    fn the_strictest_service_wins_and_is_named() {
        let v = violations("tag_key", &"k".repeat(128));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].kind, ViolationKind::TooLong { len: 128, max: 127 });
        assert_eq!(
            v[0].to_string(),
            "is 128 characters: AWS tag keys allow at most 127 (CodeBuild, EC2)"
        );
        assert!(violations("tag_value", &"v".repeat(255)).is_empty());
        assert_eq!(max_len("tag_value"), Some(255));
        assert_eq!(max_len("tags_per_resource"), Some(50));
    }

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(partition("us-east-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition("us-isob-east-1"), "aws-iso-b");
    }
}
