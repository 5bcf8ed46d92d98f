//! `infra plan`: what apply would change; reads only.

use super::{connect, Cli, Session};
use crate::model::LogicalId;
use crate::{cost, kinds, lock, plan};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Options of `infra plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the plan as JSON (the same as --format json)
    #[arg(long, conflicts_with = "format")]
    json: bool,

    /// How to print the plan: for a person, as JSON, or as markdown for a pull request comment
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,

    /// Exit 0 when there is nothing to change, 2 when there is, 1 on error
    #[arg(long)]
    detailed_exitcode: bool,

    /// Only this resource and what it needs; repeatable
    #[arg(long, value_name = "ID")]
    target: Vec<String>,

    /// Also save the plan to FILE, for `infra apply FILE` to apply exactly it (no secrets in it)
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// The plan's printed forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Grouped by area, with attribute diffs and colours on a terminal.
    Human,
    /// Machine-readable, with summary counts and warnings.
    Json,
    /// A pull request comment: warnings first, a summary table, details folded.
    Markdown,
}

/// The plan as `--json` prints it: the plan's own fields, with the counts and the warnings a
/// pipeline checks first.
#[derive(serde::Serialize)]
struct Json<'a> {
    /// How many resources each action touches.
    summary: plan::Counts,
    /// What in the config deserves a second look (the yellow lines of the human plan).
    warnings: Vec<String>,
    /// What the stack's hourly-billed resources cost per month now and after the change.
    cost: &'a cost::Cost,
    #[serde(flatten)]
    plan: &'a plan::Plan,
}

/// Writes `p` with what it was made from to `file`.
fn save(file: &Path, p: &plan::Plan, targets: Vec<LogicalId>, cx: &Session) -> Result<()> {
    let config = &cx.loaded.config;
    let saved = plan::Saved::new(
        p.clone(),
        targets,
        config,
        &cx.caller.account,
        &config.region,
        &cx.observed,
    );
    let text = serde_json::to_string_pretty(&saved)? + "\n";
    std::fs::write(file, text)
        .with_context(|| format!("cannot write the plan to {}", file.display()))
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
    let cx = conn.observe(super::Checks::Strict).await?;
    let mut p = plan::diff(
        &cx.loaded.config.stack,
        &cx.desired,
        &cx.observed,
        &kinds::attr_rule,
    )?;
    let targets: Vec<LogicalId> = args.target.iter().map(LogicalId::new).collect();
    p.narrow(&targets)?;
    let warnings = super::warnings(&cx, &p);
    let quiet = cli.quiet && !args.json && args.format == Format::Human;
    // A quiet plan prints nothing, so it asks nothing of the Price List API either.
    let cost = if quiet {
        None
    } else {
        Some(
            cost::of_plan(&cx.aws, &p, &cx.desired, &cx.observed, &|v| {
                cx.versions.is_extended(v)
            })
            .await,
        )
    };
    match (args.json, args.format, &cost) {
        (true, _, Some(cost)) | (_, Format::Json, Some(cost)) => {
            let out = Json {
                summary: p.counts(),
                warnings,
                cost,
                plan: &p,
            };
            super::emit(serde_json::to_string_pretty(&out)? + "\n")?;
        }
        (_, Format::Markdown, Some(cost)) => {
            super::emit(plan::render_markdown(&p, &warnings) + &cost.markdown())?
        }
        (_, Format::Human, Some(cost)) => {
            super::emit(plan::render_human(&p) + &cost.human())?;
            super::print_warnings(&warnings);
        }
        (_, _, None) => {}
    }
    p.check_conflicts()?;
    if let Some(file) = &args.out {
        save(file, &p, targets, &cx)?;
        if !cli.quiet {
            eprintln!(
                "Saved this plan to {f}. `infra apply {f}` applies exactly it, and refuses if the \
                 account or the config changed since.",
                f = file.display()
            );
        }
    }
    Ok(if args.detailed_exitcode && !p.is_empty() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::{Meter, Prices};

    /// The drifted plan's printed forms, with a warning and the cost, as a pull request and a
    /// pipeline see them.
    fn drifted() -> (plan::Plan, Vec<String>, cost::Cost) {
        let (g, observed, p) = crate::plan::tests::drifted_parts();
        let (before, after) = cost::usage(&p, &g, &observed, &|_| false);
        let prices = Prices::from([
            (Meter::EksStandard, 0.10),
            (Meter::NatGateway, 0.045),
            (Meter::LoadBalancer, 0.0225),
            (Meter::PublicIpv4, 0.005),
            (Meter::Instance("t3.medium".into()), 0.0416),
        ]);
        let estimate = cost::estimate("us-east-1", &before, &after, &prices);
        let warnings = vec!["eks.logging is empty: no control-plane audit log".to_string()];
        (p, warnings, cost::Cost::Estimated(estimate))
    }

    #[test]
    fn snapshot_of_the_markdown_plan_with_warnings_and_cost() {
        let (p, warnings, cost) = drifted();
        insta::assert_snapshot!(plan::render_markdown(&p, &warnings) + &cost.markdown());
    }

    #[test]
    fn snapshot_of_the_json_plan_with_summary_warnings_and_cost() {
        let (p, warnings, cost) = drifted();
        let out = Json {
            summary: p.counts(),
            warnings,
            cost: &cost,
            plan: &p,
        };
        insta::assert_snapshot!(serde_json::to_string_pretty(&out).unwrap());
    }
}
