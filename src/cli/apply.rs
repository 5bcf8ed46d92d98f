//! `infra apply` and `infra destroy`: show the plan, confirm, execute, summarise.

use super::confirm::confirm;
use super::{load_and_observe, Cli};
use crate::exec::{self, Inputs, Outcome};
use crate::kinds;
use crate::plan::{self, Plan};
use crate::report::Style;
use anyhow::Result;
use std::process::ExitCode;
use std::time::Duration;

/// Options of `infra apply`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Apply without asking for confirmation
    #[arg(long)]
    auto_approve: bool,

    /// Most AWS operations in flight at once
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=64))]
    parallelism: u16,
}

/// Options of `infra destroy`.
#[derive(Debug, clap::Args)]
pub struct DestroyArgs {
    /// Destroy without asking for confirmation
    #[arg(long)]
    auto_approve: bool,

    /// Also delete resources that still hold data (an ECR repository with images)
    #[arg(long)]
    force: bool,

    /// Most AWS operations in flight at once
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=64))]
    parallelism: u16,
}

/// Plans, confirms and applies.
pub async fn run_apply(cli: &Cli, args: &Args) -> Result<ExitCode> {
    let cx = load_and_observe(cli).await?;
    let stack = &cx.loaded.config.stack;
    let p = plan::diff(stack, &cx.desired, &cx.observed, &kinds::attr_rule)?;
    // With -q and nobody to confirm, the plan is noise; conflicts still fail loudly below.
    if !(cli.quiet && args.auto_approve) {
        print!("{}", plan::render_human(&p));
        super::print_warnings(&cx.loaded.config);
    }
    p.check_conflicts()
        .map_err(|e| e.context("apply stopped before touching anything"))?;
    if p.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if !confirm(
        &format!("Apply these changes to stack {stack}?"),
        args.auto_approve,
    )? {
        println!("Apply cancelled; nothing was changed.");
        return Ok(ExitCode::FAILURE);
    }
    let outcome = execute(cli, &cx, &p, args.parallelism, false).await;
    Ok(finish("Apply", &outcome, cli.quiet))
}

/// Plans the deletion of everything the stack owns, confirms and deletes.
pub async fn run_destroy(cli: &Cli, args: &DestroyArgs) -> Result<ExitCode> {
    let cx = load_and_observe(cli).await?;
    let stack = &cx.loaded.config.stack;
    let p = plan::destroy(stack, &cx.desired, &cx.observed)?;
    if p.changes.is_empty() {
        println!("Nothing to destroy: no resource carries infra:stack={stack}.");
        return Ok(ExitCode::SUCCESS);
    }
    if !(cli.quiet && args.auto_approve) {
        print!("{}", plan::render_human(&p));
    }
    if !confirm(
        &format!(
            "Destroy all {} resources of stack {stack}? There is no undo.",
            p.changes.len()
        ),
        args.auto_approve,
    )? {
        println!("Destroy cancelled; nothing was changed.");
        return Ok(ExitCode::FAILURE);
    }
    let outcome = execute(cli, &cx, &p, args.parallelism, args.force).await;
    Ok(finish("Destroy", &outcome, cli.quiet))
}

async fn execute(
    cli: &Cli,
    cx: &super::Session,
    p: &Plan,
    parallelism: u16,
    force: bool,
) -> Outcome {
    let reporter = Style::detect(cli.quiet).reporter(p.steps.len());
    let work = exec::execute(
        Inputs {
            plan: p,
            desired: &cx.desired,
            observed: &cx.observed,
            aws: &cx.aws,
            parallelism: usize::from(parallelism),
            force,
        },
        reporter.as_ref(),
    );
    tokio::pin!(work);
    // Heartbeats for long waits; the work itself never waits on this.
    let mut ticker = tokio::time::interval(Duration::from_secs(5));
    let outcome = loop {
        tokio::select! {
            o = &mut work => break o,
            _ = ticker.tick() => reporter.tick(),
        }
    };
    reporter.done();
    outcome
}

fn finish(what: &str, o: &Outcome, quiet: bool) -> ExitCode {
    let summary = format!(
        "{} created, {} updated, {} replaced, {} deleted in {:.1}s",
        o.created,
        o.updated,
        o.replaced,
        o.deleted,
        o.elapsed.as_secs_f64()
    );
    if o.ok() {
        if !quiet {
            println!("\n{what} complete: {summary}.");
        }
        return ExitCode::SUCCESS;
    }
    eprintln!("\n{what} incomplete: {summary}.");
    for (id, e) in &o.failures {
        eprintln!("  failed: {id}: {e:#}");
    }
    if !o.not_started.is_empty() {
        let ids: Vec<&str> = o.not_started.iter().map(|i| i.as_str()).collect();
        eprintln!("  not started: {}", ids.join(", "));
    }
    if o.interrupted {
        eprintln!(
            "Interrupted. Run the same command again to finish: it continues from what exists."
        );
    } else {
        eprintln!("Fix the cause and run the same command again: it continues from what exists.");
    }
    ExitCode::FAILURE
}
