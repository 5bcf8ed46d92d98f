//! `infra schema`: the JSON Schema of infra.yaml, for editors and CI checks.

use crate::config;
use anyhow::Result;
use std::process::ExitCode;

/// Options of `infra schema`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The schema follows draft 2020-12. Editors with a YAML language server complete and check the file with it, e.g. with \
    `# yaml-language-server: $schema=infra.schema.json` as its first line after \
    `infra schema > infra.schema.json`. The schema covers keys, types, defaults and the \
    per-field rules; cross-field rules (subnets inside the VPC, no overlaps) are checked \
    by infra itself."
)]
pub struct Args {}

/// Prints the schema.
pub fn run(_args: &Args) -> Result<ExitCode> {
    let mut text = serde_json::to_string_pretty(&config::json_schema())?;
    text.push('\n');
    super::emit(text)?;
    Ok(ExitCode::SUCCESS)
}
