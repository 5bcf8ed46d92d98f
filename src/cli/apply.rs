//! `infra apply` and `infra destroy`: show the plan, confirm, execute, summarise.

use super::confirm::confirm;
use super::{connect, Checks, Cli, Session};
use crate::exec::{self, Inputs, Outcome};
use crate::kinds::{self, ecr::repository};
use crate::lock::{self, Lock};
use crate::model::{Kind, LogicalId};
use crate::plan::{self, Plan};
use crate::report::Style;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Options apply and destroy share.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Go ahead without asking for confirmation
    #[arg(long)]
    auto_approve: bool,

    /// Most AWS operations in flight at once
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=64))]
    parallelism: u16,

    /// Only this resource and what it needs (destroy: what needs it); repeatable
    #[arg(long, value_name = "ID")]
    target: Vec<String>,

    /// While another run holds the stack's lock, wait this long for it (e.g. 30s, 15m) instead
    /// of failing at once
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = humantime::parse_duration)]
    lock_timeout: Duration,
}

/// Options of `infra apply`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    run: RunArgs,

    /// A plan saved by `infra plan --out FILE`: applied exactly, without a prompt, unless the
    /// account or the config changed since it was made
    #[arg(value_name = "FILE", conflicts_with = "target")]
    plan: Option<PathBuf>,
}

/// Options of `infra destroy`.
#[derive(Debug, clap::Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    run: RunArgs,

    /// Also delete resources that still hold data (an ECR repository with images)
    #[arg(long)]
    force: bool,
}

/// Takes the stack's lock (waiting up to `--lock-timeout`), then reads the account under it.
async fn lock_and_observe(cli: &Cli, run: &RunArgs, check: Checks) -> Result<(Session, Lock)> {
    let conn = connect(cli).await?;
    let stack = conn.loaded.config.stack.clone();
    let waiting = |h: &lock::Holder| {
        if !cli.quiet {
            eprintln!(
                "Waiting up to {} for the lock of stack {stack}, held by {h}",
                humantime::format_duration(run.lock_timeout)
            );
        }
    };
    let held = lock::acquire(&conn.aws, &stack, &conn.caller, run.lock_timeout, waiting)
        .await
        .map_err(anyhow::Error::new)?;
    match conn.observe(check).await {
        Ok(session) => Ok((session, held)),
        Err(e) => {
            release(held).await;
            Err(e)
        }
    }
}

/// Releases the lock; a failure only costs the lease, so it is a warning.
async fn release(held: Lock) {
    if let Err(e) = held.release().await {
        eprintln!("warning: {e:#}; it frees itself when its lease ends");
    }
}

/// Plans, confirms and applies, holding the stack's lock.
pub async fn run_apply(cli: &Cli, args: &Args) -> Result<ExitCode> {
    let (cx, held) = lock_and_observe(cli, &args.run, Checks::Strict).await?;
    let result = apply_locked(cli, args, &cx, &held).await;
    release(held).await;
    result
}

async fn apply_locked(cli: &Cli, args: &Args, cx: &Session, held: &Lock) -> Result<ExitCode> {
    let stack = &cx.loaded.config.stack;
    let mut p = plan::diff(stack, &cx.desired, &cx.observed, &kinds::attr_rule)?;
    let reviewed = match &args.plan {
        Some(file) => {
            check_saved(file, cx, &mut p)?;
            true
        }
        None => {
            p.narrow(&targets(&args.run))?;
            false
        }
    };
    let args = &args.run;
    // With -q and nobody to confirm, the plan is noise; conflicts still fail loudly below.
    if !(cli.quiet && (args.auto_approve || reviewed)) {
        super::emit(plan::render_human(&p))?;
        super::print_warnings(&super::warnings(cx, &p));
    }
    p.check_conflicts()
        .map_err(|e| e.context("apply stopped before touching anything"))?;
    if p.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    // A saved plan was reviewed when it was made; applying the file is the approval.
    if !confirm(
        &format!("Apply these changes to stack {stack}?"),
        args.auto_approve || reviewed,
    )? {
        println!("Apply cancelled; nothing was changed.");
        return Ok(ExitCode::FAILURE);
    }
    let outcome = execute(cli, cx, &cx.observed, &p, (args.parallelism, false), held).await;
    Ok(finish("Apply", &outcome, cli.quiet))
}

/// Refuses unless the plan saved in `file` still holds and is the plan `p` made now.
/// The `--target` ids.
fn targets(run: &RunArgs) -> Vec<LogicalId> {
    run.target.iter().map(LogicalId::new).collect()
}

/// Refuses unless the plan saved in `file` still holds and is `p` (narrowed to the saved
/// plan's targets) planned again now.
fn check_saved(file: &Path, cx: &Session, p: &mut Plan) -> Result<()> {
    let shown = file.display();
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read the plan {shown}"))?;
    let saved: plan::Saved = serde_json::from_str(&text)
        .with_context(|| format!("{shown} is not a plan saved by `infra plan --out`"))?;
    let config = &cx.loaded.config;
    let again = || {
        format!(
            "the plan {shown} no longer holds; nothing was changed. Plan again \
             (`infra plan --out {shown}`) and review it"
        )
    };
    saved
        .check(config, &cx.caller.account, &config.region, &cx.observed)
        .with_context(again)?;
    p.narrow(&saved.targets)?;
    // Compared as the file holds them: JSON does not tell a null value from an absent one.
    let same = serde_json::to_value(&saved.plan.changes)? == serde_json::to_value(&p.changes)?;
    if saved.plan.stack != p.stack || !same {
        anyhow::bail!("{}: planned again, the changes differ", again());
    }
    Ok(())
}

/// Plans the deletion of everything the stack owns, confirms and deletes, holding the lock.
pub async fn run_destroy(cli: &Cli, args: &DestroyArgs) -> Result<ExitCode> {
    let (cx, held) = lock_and_observe(cli, &args.run, Checks::Lenient).await?;
    let result = destroy_locked(cli, args, &cx, &held).await;
    release(held).await;
    result
}

async fn destroy_locked(
    cli: &Cli,
    args: &DestroyArgs,
    cx: &Session,
    held: &Lock,
) -> Result<ExitCode> {
    let stack = &cx.loaded.config.stack;
    let left = kinds::leftovers::find(&cx.aws, stack, &cx.observed)
        .await
        .context("could not look for what Kubernetes left in the stack's network")?;
    let mut p = plan::destroy(stack, &cx.desired, &cx.observed, &left)?;
    p.narrow(&targets(&args.run))?;
    let mut observed = cx.observed.clone();
    observed.extend(left.into_iter().map(|(o, _)| o));
    if p.changes.is_empty() {
        if p.strays.is_empty() {
            println!("Nothing to destroy: no resource carries infra:stack={stack}.");
        } else {
            super::emit(plan::render_human(&p))?;
            println!("Nothing to destroy: what carries infra:stack={stack} was not made by infra.");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !(cli.quiet && args.run.auto_approve) {
        super::emit(plan::render_human(&p))?;
        super::print_warnings(&plan::hazards(&p));
    }
    if !args.force {
        refuse_to_strand_images(cx, &p).await?;
    }
    if !confirm(
        &format!(
            "Destroy {} {} resources of stack {stack}? There is no undo.",
            if args.run.target.is_empty() {
                "all"
            } else {
                "these"
            },
            p.changes.len()
        ),
        args.run.auto_approve,
    )? {
        println!("Destroy cancelled; nothing was changed.");
        return Ok(ExitCode::FAILURE);
    }
    let outcome = execute(
        cli,
        cx,
        &observed,
        &p,
        (args.run.parallelism, args.force),
        held,
    )
    .await;
    Ok(finish("Destroy", &outcome, cli.quiet))
}

/// Stops a destroy before anything is deleted when the repository holds images: without
/// `--force` it would delete everything else and then stop there.
async fn refuse_to_strand_images(cx: &Session, p: &Plan) -> Result<()> {
    let repos = p.changes.iter().filter(|c| c.kind == Kind::EcrRepository);
    for name in repos.filter_map(|c| c.physical_id.as_deref()) {
        if let Some(held) = repository::images_held(&cx.aws, name).await {
            anyhow::bail!(
                "ECR repository {name} holds {held}: destroy would delete everything else and \
                 stop there. Nothing was changed. Run `infra destroy --force` to delete the \
                 images with the stack (there is no undo), or copy them elsewhere first."
            );
        }
    }
    Ok(())
}

/// Runs `p` over `observed`, `parallelism` steps at a time, `force` as `destroy --force`.
async fn execute(
    cli: &Cli,
    cx: &Session,
    observed: &[crate::model::Observed],
    p: &Plan,
    (parallelism, force): (u16, bool),
    held: &Lock,
) -> Outcome {
    let reporter = Style::detect(cli.quiet).reporter(p.steps.len());
    let work = exec::execute(
        Inputs {
            plan: p,
            desired: &cx.desired,
            observed,
            aws: &cx.aws,
            parallelism: usize::from(parallelism),
            force,
            halt: held.lost(),
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
    if !o.abandoned.is_empty() {
        let ids: Vec<&str> = o.abandoned.iter().map(|i| i.as_str()).collect();
        eprintln!("  abandoned while waiting: {}", ids.join(", "));
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
