//! `infra plan`: what apply would change; reads only.

use super::{connect, Cli};
use crate::{config, kinds, lock, plan};
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

/// The plan as `--json` prints it: the plan's own fields, with the counts and the warnings a
/// pipeline checks first.
#[derive(serde::Serialize)]
struct Json<'a> {
    /// How many resources each action touches.
    summary: plan::Counts,
    /// What in the config deserves a second look (the yellow lines of the human plan).
    warnings: Vec<String>,
    #[serde(flatten)]
    plan: &'a plan::Plan,
}

/// Prints the plan (with `-q`, nothing but errors: the exit code of `--detailed-exitcode` says
/// whether there is anything to do).
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
        let out = Json {
            summary: p.counts(),
            warnings: config::warnings(&cx.loaded.config),
            plan: &p,
        };
        super::emit(serde_json::to_string_pretty(&out)? + "\n")?;
    } else if !cli.quiet {
        super::emit(plan::render_human(&p))?;
        super::print_warnings(&cx.loaded.config);
    }
    p.check_conflicts()?;
    Ok(if args.detailed_exitcode && !p.is_empty() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
