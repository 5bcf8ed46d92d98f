//! `infra plan`: what apply would change; reads only.

use super::{connect, Cli};
use crate::{kinds, lock, plan};
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
    let conn = connect(cli).await?;
    // Plan never locks; it only says when a run is changing the stack under it.
    if let Some(h) = lock::holder(&conn.aws, &conn.loaded.config.stack).await? {
        eprintln!(
            "Note: stack {} is locked by {h}: this plan may change when that run finishes.",
            conn.loaded.config.stack
        );
    }
    let cx = conn.observe().await?;
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
