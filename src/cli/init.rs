//! `infra init`: writes the embedded default config.

use crate::config::DEFAULT_YAML;
use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::ExitCode;

/// Options of `infra init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Overwrite an existing file
    #[arg(long)]
    force: bool,
}

/// Writes the default config to `--config`'s path, or `./infra.yaml`.
pub fn run(args: &Args, config: Option<&Path>) -> Result<ExitCode> {
    let path = config.unwrap_or(Path::new("infra.yaml"));
    let shown = path.display();
    if path.exists() && !args.force {
        bail!("{shown} already exists; pass --force to overwrite it");
    }
    std::fs::write(path, DEFAULT_YAML).with_context(|| format!("cannot write {shown}"))?;
    // The next command must find the same file: only ./infra.yaml is found without --config.
    let next = if path == Path::new("infra.yaml") {
        "infra plan".to_string()
    } else {
        format!("infra plan --config {shown}")
    };
    println!("Wrote {shown} (stack grpc-eks in us-east-1). Next: {next}");
    Ok(ExitCode::SUCCESS)
}
