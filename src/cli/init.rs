//! `infra init`: writes the embedded default config.

use crate::config::DEFAULT_YAML;
use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::ExitCode;

/// Options of `infra init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Overwrite an existing infra.yaml
    #[arg(long)]
    force: bool,
}

/// Writes `./infra.yaml`.
pub fn run(args: &Args) -> Result<ExitCode> {
    let path = Path::new("infra.yaml");
    if path.exists() && !args.force {
        bail!("infra.yaml already exists; pass --force to overwrite it");
    }
    std::fs::write(path, DEFAULT_YAML).context("cannot write infra.yaml")?;
    println!("Wrote infra.yaml (stack grpc-eks in us-east-1). Next: infra plan");
    Ok(ExitCode::SUCCESS)
}
