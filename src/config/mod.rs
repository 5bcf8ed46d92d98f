//! `infra.yaml`: its types, where it is read from, and validation before any AWS call.

mod locate;
mod validate;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use locate::Locations;

/// The config `infra init` writes and `infra` uses when no file is given or found.
pub const DEFAULT_YAML: &str = include_str!("default.yaml");

/// Name shown for the embedded default config in messages.
pub const EMBEDDED_NAME: &str = "<embedded default config>";

/// The whole stack configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Stack name: prefixes AWS names and is the `infra:stack` tag value.
    pub stack: String,
    /// AWS region the stack lives in.
    pub region: String,
    /// User tags added to every resource.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// VPC layout.
    pub network: Network,
    /// The service the stack hosts.
    #[serde(default)]
    pub service: Service,
}

/// VPC, zones and NAT layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// IPv4 CIDR of the VPC.
    pub vpc_cidr: String,
    /// How private subnets reach the internet.
    #[serde(default)]
    pub nat: NatMode,
    /// One entry per availability zone, at least two.
    pub zones: Vec<Zone>,
}

/// The subnets of one availability zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    /// Availability zone name, e.g. `us-east-1a`.
    pub name: String,
    /// CIDR of the public subnet (ALB, NAT gateway).
    pub public: String,
    /// CIDR of the private application subnet (EKS nodes).
    pub private_app: String,
    /// CIDR of the private data subnet.
    pub private_data: String,
}

/// NAT gateway layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// NodePort of the client Service; the ALB sends traffic to it.
    #[serde(default = "default_node_port")]
    pub node_port: u16,
}

fn default_node_port() -> u16 {
    30080
}

impl Default for Service {
    fn default() -> Self {
        Service {
            node_port: default_node_port(),
        }
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
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The path that failed.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
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
    Ok(Loaded { config, file })
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Parses and validates config text; every problem found is returned, not just the first.
pub fn parse(text: &str) -> Result<Config, Vec<Problem>> {
    let config: Config = serde_yaml::from_str(text).map_err(|e| vec![yaml_problem(&e)])?;
    let locations = Locations::of(text);
    let problems = validate::check(&config, &locations);
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
