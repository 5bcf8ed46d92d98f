//! The command layer: argument parsing and one module per command. Commands compose the
//! pipeline stages; they hold no AWS knowledge of their own.

mod apply;
mod confirm;
mod init;
mod plan;
mod trigger_build;

use crate::aws::Aws;
use crate::config::{self, Loaded};
use crate::graph::Graph;
use crate::model::Observed;
use crate::{observe, stack};
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Command-line interface.
#[derive(Debug, Parser)]
#[command(
    name = "infra",
    version,
    about = "Provision, keep in shape and tear down the AWS stack of a gRPC service on EKS",
    long_about = "Provision, keep in shape and tear down the AWS stack of a gRPC service on EKS.\n\n\
                  AWS credentials and region come from the standard chain (environment, \
                  ~/.aws profiles with AWS_PROFILE, SSO, instance roles); AWS_ENDPOINT_URL \
                  points every service at another endpoint, such as the local emulator."
)]
pub struct Cli {
    /// Config file [default: ./infra.yaml if present, else the embedded default]
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,

    /// More detail on stderr (-v: AWS calls; -vv: debug)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write the default config to ./infra.yaml
    Init(init::Args),
    /// Show what apply would change, read from the live account; changes nothing
    Plan(plan::Args),
    /// Make the account match the config
    Apply(apply::Args),
    /// Delete everything this stack owns, and nothing else
    Destroy(apply::DestroyArgs),
    /// Start the stack's CodeBuild project (build, push, deploy) and optionally follow it
    TriggerBuild(trigger_build::Args),
}

/// Runs the command line; the exit code is the process's.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let result = match &cli.command {
        Command::Init(a) => init::run(a),
        Command::Plan(a) => plan::run(&cli, a).await,
        Command::Apply(a) => apply::run_apply(&cli, a).await,
        Command::Destroy(a) => apply::run_destroy(&cli, a).await,
        Command::TriggerBuild(a) => trigger_build::run(&cli, a).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        // The credential chain warns about every provider it tries; the error says what matters.
        0 => "warn,aws_config=error",
        1 => "info,aws_smithy_runtime=debug",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("INFRA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

/// The config, its desired graph, and what the account holds now.
struct Session {
    loaded: Loaded,
    desired: Graph,
    aws: Aws,
    observed: Vec<Observed>,
}

/// Loads and validates the config (no AWS call before it is valid), then reads the account.
async fn load_and_observe(cli: &Cli) -> Result<Session> {
    let loaded = config::load(cli.config.as_deref())?;
    let aws = Aws::connect(&loaded.config.region).await;
    let account = aws
        .account_id()
        .await
        .context("cannot find out which AWS account the credentials belong to")?;
    eprintln!(
        "Stack {} in account {account}, {} (config: {})",
        loaded.config.stack, loaded.config.region, loaded.file
    );
    let desired = stack::build(&loaded.config, &account);
    let observed = observe::observe(&aws, &loaded.config.stack, &account)
        .await
        .with_context(|| {
            format!(
                "could not read the state of stack {} in {}",
                loaded.config.stack, loaded.config.region
            )
        })?;
    Ok(Session {
        loaded,
        desired,
        aws,
        observed,
    })
}
