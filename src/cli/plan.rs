//! `infra plan`: what apply would change; reads only.

use super::{load_and_observe, Cli};
use crate::{kinds, plan};
use anyhow::Result;
use std::process::ExitCode;

/// Options of `infra plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the plan as JSON
    #[arg(long)]
    json: bool,

    /// Exit 0 when there is nothing to change, 2 when there is, 1 on error
    #[arg(long)]
    detailed_exitcode: bool,
}

/// Prints the plan.
pub async fn run(cli: &Cli, args: &Args) -> Result<ExitCode> {
    let cx = load_and_observe(cli).await?;
    let p = plan::diff(
        &cx.loaded.config.stack,
        &cx.desired,
        &cx.observed,
        &kinds::attr_rule,
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&p)?);
    } else {
        print!("{}", plan::render_human(&p));
        super::print_warnings(&cx.loaded.config);
    }
    p.check_conflicts()?;
    Ok(if args.detailed_exitcode && !p.is_empty() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
