//! `infra.yaml`: its types, where it is read from, and validation before any AWS call.

mod arn;
pub(crate) mod aws_rules;
mod limits;
mod locate;
mod required;
mod schema;
mod secrets;
mod validate;
mod warnings;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use locate::Locations;
pub use schema::json_schema;
pub use secrets::SecretRef;
pub use warnings::warnings;

/// The config `infra init` writes and `infra` uses when no file is given or found.
pub const DEFAULT_YAML: &str = include_str!("default.yaml");

/// Name shown for the embedded default config in messages.
pub const EMBEDDED_NAME: &str = "<embedded default config>";

/// The whole stack configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Stack name: prefixes AWS names and is the `infra:stack` tag value.
    #[schemars(regex(pattern = schema::STACK))]
    #[schemars(length(min = crate::naming::min_stack_len(), max = crate::naming::max_stack_len()))]
    pub stack: String,
    /// AWS region the stack lives in.
    #[schemars(regex(pattern = schema::REGION))]
    pub region: String,
    /// User tags added to every resource.
    #[serde(default)]
    #[schemars(extend(
        "maxProperties" = validate::max_user_tags(),
        "propertyNames" = {
            "minLength": 1,
            "maxLength": aws_rules::max_len("tag_key"),
            "allOf": [{"pattern": schema::TAG_KEY}, {"pattern": schema::TAG_TEXT}]
        },
        "additionalProperties" = {
            "type": "string",
            "maxLength": aws_rules::max_len("tag_value"),
            "pattern": schema::TAG_TEXT
        }
    ))]
    pub tags: BTreeMap<String, String>,
    /// VPC layout.
    pub network: Network,
    /// The service the stack hosts.
    #[serde(default)]
    pub service: Service,
    /// EKS cluster and node group.
    #[serde(default)]
    pub eks: Eks,
    /// Application Load Balancer.
    #[serde(default)]
    pub alb: Alb,
    /// Image repository.
    #[serde(default)]
    pub ecr: Ecr,
    /// Build project.
    #[serde(default)]
    pub codebuild: CodeBuild,
    /// Log groups the stack owns.
    #[serde(default)]
    pub logs: Logs,
}

/// VPC, zones and NAT layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// IPv4 CIDR of the VPC.
    #[schemars(regex(pattern = schema::CIDR))]
    pub vpc_cidr: String,
    /// How private subnets reach the internet.
    #[serde(default)]
    pub nat: NatMode,
    /// One entry per availability zone, at least two.
    #[schemars(length(min = 2))]
    pub zones: Vec<Zone>,
}

/// The subnets of one availability zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    /// Availability zone name, e.g. `us-east-1a`.
    #[schemars(regex(pattern = schema::ZONE))]
    pub name: String,
    /// CIDR of the public subnet (ALB, NAT gateway).
    #[schemars(regex(pattern = schema::CIDR))]
    pub public: String,
    /// CIDR of the private application subnet (EKS nodes).
    #[schemars(regex(pattern = schema::CIDR))]
    pub private_app: String,
    /// CIDR of the private data subnet.
    #[schemars(regex(pattern = schema::CIDR))]
    pub private_data: String,
}

/// NAT gateway layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NatMode {
    /// One NAT gateway in the first zone, shared by all private subnets.
    #[default]
    Single,
    /// One NAT gateway per zone, so a zone outage does not cut the others off.
    PerAz,
    /// No NAT gateway: private subnets have no route to the internet.
    None,
}

/// Settings of the hosted service that the infrastructure must agree with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// NodePort of the client Service; the ALB's HTTP listener sends traffic to it.
    #[serde(default = "default_node_port")]
    #[schemars(range(min = 30000, max = 32767))]
    pub node_port: u16,
    /// NodePort of the gRPC server Service; with a certificate, the HTTPS listener sends to it.
    #[serde(default = "default_grpc_node_port")]
    #[schemars(range(min = 30000, max = 32767))]
    pub grpc_node_port: u16,
    /// HTTP path the ALB health check calls on the client Service.
    #[serde(default = "default_health_path")]
    #[schemars(regex(pattern = schema::HTTP_PATH), length(max = aws_rules::max_len("health_check_path").unwrap_or(1024)))]
    pub health_check_path: String,
    /// Kubernetes namespace the service runs in: infra makes it, and the build may deploy only
    /// into it.
    #[serde(default = "default_namespace")]
    #[schemars(regex(pattern = schema::K8S_NAMESPACE), length(min = 1, max = 63))]
    pub namespace: String,
}

fn default_node_port() -> u16 {
    30080
}

fn default_grpc_node_port() -> u16 {
    30090
}

fn default_health_path() -> String {
    "/healthz".to_string()
}

fn default_namespace() -> String {
    "grpc-app".to_string()
}

impl Default for Service {
    fn default() -> Self {
        Service {
            node_port: default_node_port(),
            grpc_node_port: default_grpc_node_port(),
            health_check_path: default_health_path(),
            namespace: default_namespace(),
        }
    }
}

/// EKS settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Eks {
    /// Kubernetes version of the cluster and node group. Without it, a new cluster gets EKS's
    /// default version and an existing one keeps its own.
    // serde_yaml also reads an unquoted `1.31` as this string, so the schema takes a number too.
    #[schemars(regex(pattern = schema::K8S_VERSION), extend("type" = ["string", "number"]))]
    pub version: Option<String>,
    /// What EKS does when the version's standard support ends: `standard` lets EKS upgrade the
    /// cluster, `extended` keeps the version at the extended-support price.
    pub upgrade_policy: UpgradePolicy,
    /// EC2 instance types of the node group.
    #[schemars(length(min = 1), inner(regex(pattern = schema::INSTANCE_TYPE)))]
    pub instance_types: Vec<String>,
    /// Node group size.
    pub scaling: Scaling,
    /// Where the Kubernetes API endpoint can be reached from.
    pub endpoint: EndpointAccess,
    /// CIDR blocks that may reach the public endpoint (with `public-and-private`).
    #[schemars(length(min = 1, max = 40), inner(regex(pattern = schema::ANY_CIDR)))]
    pub public_access_cidrs: Vec<String>,
    /// Control-plane log types sent to CloudWatch Logs; an empty list turns logging off.
    pub logging: Vec<ControlPlaneLog>,
    /// The nodes' root volume (always gp3 and encrypted).
    pub root_volume: RootVolume,
}

impl Default for Eks {
    fn default() -> Self {
        Eks {
            version: None,
            upgrade_policy: UpgradePolicy::default(),
            instance_types: vec!["t3.medium".to_string()],
            scaling: Scaling::default(),
            endpoint: EndpointAccess::default(),
            public_access_cidrs: vec![ANYWHERE.to_string()],
            logging: vec![
                ControlPlaneLog::Api,
                ControlPlaneLog::Audit,
                ControlPlaneLog::Authenticator,
            ],
            root_volume: RootVolume::default(),
        }
    }
}

/// What EKS does with a cluster whose version leaves standard support.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum UpgradePolicy {
    /// EKS upgrades the cluster at the end of standard support; no extended-support charges.
    #[default]
    Standard,
    /// The cluster stays on its version through extended support, at six times the price.
    Extended,
}

impl UpgradePolicy {
    /// As EKS names it (`supportType`).
    pub fn as_eks(self) -> &'static str {
        match self {
            UpgradePolicy::Standard => "STANDARD",
            UpgradePolicy::Extended => "EXTENDED",
        }
    }
}

/// The CIDR block of every IPv4 address.
pub const ANYWHERE: &str = "0.0.0.0/0";

/// Where the cluster's Kubernetes API endpoint can be reached from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EndpointAccess {
    /// From the VPC, and from the internet within `eks.public_access_cidrs`.
    #[default]
    PublicAndPrivate,
    /// From the VPC only; the build then runs in the private subnets to reach it.
    Private,
}

/// A control-plane log type EKS can send to CloudWatch Logs.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum ControlPlaneLog {
    /// The API server's log.
    Api,
    /// The audit log: who did what in the cluster.
    Audit,
    /// The IAM authenticator's log: which IAM identity became which Kubernetes user.
    Authenticator,
    /// The controller manager's log.
    ControllerManager,
    /// The scheduler's log.
    Scheduler,
}

impl ControlPlaneLog {
    /// The name EKS uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ControlPlaneLog::Api => "api",
            ControlPlaneLog::Audit => "audit",
            ControlPlaneLog::Authenticator => "authenticator",
            ControlPlaneLog::ControllerManager => "controllerManager",
            ControlPlaneLog::Scheduler => "scheduler",
        }
    }
}

/// The nodes' root volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RootVolume {
    /// Size in GiB (the EKS AMIs need 20).
    #[schemars(range(min = 20, max = 16384))]
    pub size_gib: u32,
    /// KMS key that encrypts it; null uses the account's default EBS key (`aws/ebs`).
    #[schemars(regex(pattern = schema::KMS_KEY_ARN))]
    pub kms_key_arn: Option<String>,
}

impl Default for RootVolume {
    fn default() -> Self {
        RootVolume {
            size_gib: 20,
            kms_key_arn: None,
        }
    }
}

/// Node group size bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scaling {
    /// Fewest nodes.
    pub min: u32,
    /// Nodes wanted now.
    pub desired: u32,
    /// Most nodes.
    #[schemars(range(min = 1))]
    pub max: u32,
}

impl Default for Scaling {
    fn default() -> Self {
        Scaling {
            min: 1,
            desired: 1,
            max: 2,
        }
    }
}

/// Load balancer settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Alb {
    /// ACM certificate ARN; when set, adds an HTTPS listener on 443 sending gRPC to the server.
    #[schemars(regex(pattern = schema::CERTIFICATE_ARN))]
    pub certificate_arn: Option<String>,
}

/// Image tag mutability of the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum TagMutability {
    /// Tags can be pushed again (rebuilding a commit overwrites its image).
    Mutable,
    /// A pushed tag never changes: what was deployed as a commit stays that commit's image.
    #[default]
    Immutable,
}

impl TagMutability {
    /// The value ECR uses.
    pub fn as_str(self) -> &'static str {
        match self {
            TagMutability::Mutable => "MUTABLE",
            TagMutability::Immutable => "IMMUTABLE",
        }
    }
}

/// Repository settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Ecr {
    /// Whether tags can be overwritten.
    pub image_tag_mutability: TagMutability,
    /// Scan images for vulnerabilities when pushed.
    pub scan_on_push: bool,
    /// How many images the lifecycle policy keeps.
    #[schemars(range(min = 1, max = 1000))]
    pub keep_images: u32,
}

impl Default for Ecr {
    fn default() -> Self {
        Ecr {
            image_tag_mutability: TagMutability::Immutable,
            scan_on_push: true,
            keep_images: 10,
        }
    }
}

/// Build project settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CodeBuild {
    /// HTTPS URL of the Git repository holding the service and its buildspec.
    #[schemars(regex(pattern = schema::REPOSITORY_URL))]
    pub repository_url: String,
    /// Branch built by default.
    #[schemars(regex(pattern = schema::NOT_BLANK))]
    pub branch: String,
    /// Path of the buildspec inside the repository.
    #[schemars(regex(pattern = schema::NOT_BLANK))]
    pub buildspec: String,
    /// CodeBuild image.
    #[schemars(regex(pattern = schema::NOT_BLANK))]
    pub image: String,
    /// CodeBuild compute type: one of those a privileged LINUX_CONTAINER build can use.
    #[schemars(extend("enum" = aws_rules::usable("compute_type")))]
    pub compute_type: String,
    /// Minutes a build may run before CodeBuild stops it.
    #[schemars(range(min = 5, max = 2160))]
    pub timeout_minutes: u32,
    /// Build secrets by reference: variable name to `ssm:<parameter name>` or
    /// `secretsmanager:<secret name or ARN>`. The build reads them; the config never holds them.
    #[schemars(extend(
        "propertyNames" = {"pattern": schema::VARIABLE_NAME},
        "additionalProperties" = {"type": "string", "pattern": schema::SECRET_REFERENCE}
    ))]
    pub secrets: BTreeMap<String, String>,
    /// CodeConnections (or legacy CodeStar Connections) connection CodeBuild reads a GitHub,
    /// GitLab or Bitbucket repository through; null for a public GitHub repository (or one the
    /// account's default source credential reaches) and for CodeCommit, which the role reads.
    #[schemars(regex(pattern = schema::CONNECTION_ARN), length(max = aws_rules::max_len("connection_arn").unwrap_or(256)))]
    pub connection_arn: Option<String>,
}

impl Default for CodeBuild {
    fn default() -> Self {
        CodeBuild {
            repository_url: "https://github.com/your-org/grpc-eks.git".to_string(),
            branch: "main".to_string(),
            buildspec: "buildspec.yml".to_string(),
            image: "aws/codebuild/standard:7.0".to_string(),
            compute_type: "BUILD_GENERAL1_SMALL".to_string(),
            timeout_minutes: 30,
            secrets: BTreeMap::new(),
            connection_arn: None,
        }
    }
}

impl CodeBuild {
    /// CodeBuild's source type for the repository URL, when it is one CodeBuild knows.
    pub fn source_type(&self) -> Option<&'static str> {
        let host = self
            .repository_url
            .strip_prefix("https://")?
            .split('/')
            .next()?;
        match host {
            "github.com" => Some("GITHUB"),
            "bitbucket.org" => Some("BITBUCKET"),
            "gitlab.com" => Some("GITLAB"),
            h if h.starts_with("git-codecommit.") => Some("CODECOMMIT"),
            _ => None,
        }
    }

    /// The region and name of the CodeCommit repository the URL names, when it is one:
    /// `https://git-codecommit.<region>.amazonaws.com[.cn]/v1/repos/<name>`.
    pub fn codecommit_repository(&self) -> Option<(&str, &str)> {
        let rest = self
            .repository_url
            .strip_prefix("https://git-codecommit.")?;
        let (host, path) = rest.split_once('/')?;
        let region = host
            .strip_suffix(".amazonaws.com")
            .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
        // The name's own rules are CodeCommit's (aws_rules.yaml); validation applies them.
        let name = path.strip_prefix("v1/repos/")?;
        let name_ok = !name.is_empty() && !name.contains('/');
        let region_ok = !region.is_empty()
            && region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        (name_ok && region_ok).then_some((region, name))
    }
}

/// A CodeConnections connection by its ARN: `arn:<partition>:codeconnections:<region>:
/// <account>:connection/<id>`, or the same with the legacy `codestar-connections` service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionArn<'a> {
    /// The partition (`aws`, `aws-cn`, ...).
    pub partition: &'a str,
    /// `codeconnections`, or `codestar-connections` for connections made before the rename;
    /// IAM actions on it take the same prefix.
    pub service: &'a str,
    /// The region the connection lives in.
    pub region: &'a str,
    /// The account that owns it.
    pub account: &'a str,
}

impl<'a> ConnectionArn<'a> {
    /// Parses `arn` by the CodeConnections model's `ConnectionArn` pattern
    /// (`arn:aws(-[\w]+)*:(codestar-connections|codeconnections):[a-z0-9\-]+:[0-9]{12}:connection\/[\w\-]+`).
    pub fn parse(arn: &'a str) -> Option<ConnectionArn<'a>> {
        let a = arn::Arn::parse(arn)?;
        let id = a.resource.strip_prefix("connection/")?;
        let ok = matches!(a.service, "codeconnections" | "codestar-connections")
            && !id.is_empty()
            && id.chars().all(|c| arn::word(c) || c == '-');
        ok.then_some(ConnectionArn {
            partition: a.partition,
            service: a.service,
            region: a.region,
            account: a.account,
        })
    }
}

/// Log group settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Logs {
    /// Days CloudWatch Logs keeps the stack's logs (one of the values CloudWatch Logs accepts).
    #[schemars(extend("enum" = validate::RETENTION_DAYS))]
    pub retention_days: u32,
}

impl Default for Logs {
    fn default() -> Self {
        Logs { retention_days: 30 }
    }
}

impl Zone {
    /// The short suffix that names this zone in logical ids (`a` for `us-east-1a`).
    pub fn suffix<'a>(&'a self, region: &str) -> &'a str {
        self.name.strip_prefix(region).unwrap_or(&self.name)
    }
}

/// One thing wrong with the config, located as precisely as possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// Dotted path of the field (`network.zones[1].public`), empty for the whole file.
    pub field: String,
    /// What is wrong, naming the bad value.
    pub message: String,
}

/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read. The I/O error is part of the message, not a source, so
    /// that printing the chain says it once.
    #[error("cannot read config file {}: {cause}{}", path.display(), read_hint(path, cause))]
    Read {
        /// The path that failed.
        path: PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// The file was read but is not a valid config.
    #[error("{}", render_problems(file, problems))]
    Invalid {
        /// File name as shown to the user.
        file: String,
        /// Everything wrong with it.
        problems: Vec<Problem>,
    },
}

/// What to do about a config file that is not there.
fn read_hint(path: &Path, cause: &std::io::Error) -> String {
    if cause.kind() == std::io::ErrorKind::NotFound {
        format!(
            ". `infra init --config {}` writes the default config there",
            path.display()
        )
    } else {
        String::new()
    }
}

fn render_problems(file: &str, problems: &[Problem]) -> String {
    let mut out = format!(
        "{file} is not a valid infra config ({} problem{}):",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        out.push_str("\n  ");
        out.push_str(&p.to_string());
    }
    out.push_str("\nNothing was sent to AWS.");
    out
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: ")?,
            (Some(l), None) => write!(f, "line {l}: ")?,
            _ => {}
        }
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// A config together with where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The validated config.
    pub config: Config,
    /// File name as shown to the user.
    pub file: String,
    /// The text it was read from, to locate fields in messages about it.
    pub text: String,
}

/// Reads the config from `path`, else `./infra.yaml` when present, else the embedded default.
pub fn load(path: Option<&Path>) -> Result<Loaded, ConfigError> {
    let (file, text) = match path {
        Some(p) => (p.display().to_string(), read(p)?),
        None if Path::new("infra.yaml").exists() => {
            ("infra.yaml".to_string(), read(Path::new("infra.yaml"))?)
        }
        None => (EMBEDDED_NAME.to_string(), DEFAULT_YAML.to_string()),
    };
    let config = parse(&text).map_err(|problems| ConfigError::Invalid {
        file: file.clone(),
        problems,
    })?;
    Ok(Loaded { config, file, text })
}

fn read(path: &Path) -> Result<String, ConfigError> {
    use std::io::Read;
    let failed = |cause| ConfigError::Read {
        path: path.to_path_buf(),
        cause,
    };
    // One byte past the cap is enough for parse() to refuse the file; no need to read it all.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(limits::MAX_BYTES as u64 + 1).read_to_end(&mut bytes))
        .map_err(failed)?;
    if bytes.len() > limits::MAX_BYTES {
        // Cut mid-character perhaps: the size is what parse() reports, not the text.
        return Ok(String::from_utf8_lossy(&bytes).into_owned());
    }
    String::from_utf8(bytes)
        .map_err(|e| failed(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
}

/// Parses and validates config text; every problem found is returned, not just the first.
pub fn parse(text: &str) -> Result<Config, Vec<Problem>> {
    if let Some(problem) = limits::problem(text) {
        return Err(vec![problem]);
    }
    let locations = Locations::of(text);
    let config: Config = serde_yaml::from_str(text).map_err(|e| {
        // serde stops at the first missing field; the schema names them all.
        let missing = serde_yaml::from_str::<serde_json::Value>(text)
            .map(|doc| required::missing(&doc, &locations))
            .unwrap_or_default();
        let first = yaml_problem(&e);
        if first.message.starts_with("missing field") && !missing.is_empty() {
            missing
        } else {
            std::iter::once(first).chain(missing).collect()
        }
    })?;
    // A null read as the word "null" would pass or fail the checks by accident; it is reported
    // as what it is, and the checks' own words about that field are left out.
    let mut problems = required::nulls(&locations);
    let null_fields: Vec<String> = problems.iter().map(|p| p.field.clone()).collect();
    problems.extend(
        validate::check(&config, &locations)
            .into_iter()
            .filter(|p| !null_fields.contains(&p.field)),
    );
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(problems)
    }
}

fn yaml_problem(e: &serde_yaml::Error) -> Problem {
    let full = e.to_string();
    // serde_yaml appends " at line L column C"; the location is shown separately.
    let message = match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    };
    // serde_yaml prefixes nested errors with the field path ("network.zones[0]: ...").
    let (field, message) = match message.split_once(": ") {
        Some((path, rest)) if !path.contains(' ') => (path.to_string(), rest.to_string()),
        _ => (String::new(), message),
    };
    Problem {
        line: e.location().map(|l| l.line()),
        column: e.location().map(|l| l.column()),
        field,
        message,
    }
}

#[cfg(test)]
mod tests;
