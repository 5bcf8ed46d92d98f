//! The command layer: argument parsing and one module per command. Commands compose the
//! pipeline stages; they hold no AWS knowledge of their own.

mod apply;
mod completions;
mod confirm;
mod graph;
mod init;
mod list;
mod output;
mod plan;
mod schema;
mod trigger_build;
mod unlock;

use crate::aws::{Aws, Caller};
use crate::config::{self, Loaded};
use crate::graph::Graph;
use crate::kinds::eks::versions::{self, Versions};
use crate::model::{Kind, Observed};
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

    /// More detail on stderr (-v: every AWS call with status, duration and retry; -vv: debug)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    /// Only errors: no progress, no summaries
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,

    /// No colours (also when NO_COLOR is set or output is not a terminal)
    #[arg(long, global = true)]
    no_color: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write the default config to ./infra.yaml (or to --config's path)
    Init(init::Args),
    /// Show what apply would change, read from the live account; changes nothing
    Plan(plan::Args),
    /// Make the account match the config
    Apply(apply::Args),
    /// Delete everything this stack owns, and nothing else
    Destroy(apply::DestroyArgs),
    /// Release the stack's lock left by a run that died (asks first; --force in CI)
    Unlock(unlock::Args),
    /// Start the stack's CodeBuild project (build, push, deploy) and optionally follow it
    TriggerBuild(trigger_build::Args),
    /// List what the stack owns: logical id, kind, AWS id (read from the account)
    List(list::Args),
    /// Show what you need after apply: the URL, the repository, the cluster, the build project
    Output(output::Args),
    /// Print the stack's dependency graph in Graphviz DOT (no AWS call)
    Graph(graph::Args),
    /// Print the JSON Schema of infra.yaml
    Schema(schema::Args),
    /// Print a shell completion script
    Completions(completions::Args),
}

/// Runs the command line; the exit code is the process's.
pub async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if let Some(hint) = one_dash_hint(std::env::args().skip(1)) {
                eprintln!("error: {hint}");
                return ExitCode::from(2);
            }
            e.exit()
        }
    };
    if cli.no_color {
        console::set_colors_enabled(false);
        console::set_colors_enabled_stderr(false);
    }
    init_tracing(cli.verbose, cli.quiet);
    let result = match &cli.command {
        Command::Init(a) => init::run(a, cli.config.as_deref()),
        Command::Plan(a) => plan::run(&cli, a).await,
        Command::Apply(a) => apply::run_apply(&cli, a).await,
        Command::Destroy(a) => apply::run_destroy(&cli, a).await,
        Command::Unlock(a) => unlock::run(&cli, a).await,
        Command::TriggerBuild(a) => trigger_build::run(&cli, a).await,
        Command::List(a) => list::run(&cli, a).await,
        Command::Output(a) => output::run(&cli, a).await,
        Command::Graph(a) => graph::run(&cli, a),
        Command::Schema(a) => schema::run(a),
        Command::Completions(a) => completions::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// For a command line clap refused: the first long flag written with one dash, as Terraform
/// spells them (`-auto-approve`), and how infra spells it.
fn one_dash_hint(args: impl Iterator<Item = String>) -> Option<String> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let mut longs: Vec<String> = cmd
        .get_arguments()
        .chain(cmd.get_subcommands().flat_map(|c| c.get_arguments()))
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect();
    longs.push("help".to_string());
    args.filter(|a| a.starts_with('-') && !a.starts_with("--") && a.len() > 2)
        .find_map(|a| {
            let name = a[1..].split('=').next().unwrap_or_default();
            longs.iter().any(|l| l == name).then(|| {
                format!(
                    "`{a}` is a long flag with one dash, as Terraform spells it: infra takes \
                     `-{a}` (two dashes)"
                )
            })
        })
}

fn init_tracing(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        // The credential chain warns about every provider it tries; the error says what matters.
        (false, 0) => "warn,aws_config=error",
        (false, 1) => "warn,aws_config=error,infra=info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("INFRA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(console::colors_enabled_stderr())
        .with_target(false)
        .init();
}

/// The config, its desired graph, and what the account holds now.
struct Session {
    /// The config, `eks.version` resolved against EKS's list and the live cluster.
    loaded: Loaded,
    desired: Graph,
    aws: Aws,
    /// Who the credentials belong to, asked of STS once per run.
    caller: Caller,
    observed: Vec<Observed>,
    /// The Kubernetes versions EKS offers, for the plan's cost.
    versions: Versions,
    /// What resolving the version found worth a warning (extended support, an upgrade EKS made).
    version_warnings: Vec<String>,
}

/// How a command treats a config the account cannot take (a version EKS refuses, a zone the
/// region lacks).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Checks {
    /// Check everything and refuse before any change: plan and apply.
    Strict,
    /// Carry on with the live version and skip the preflight: destroy, list and output do not
    /// create anything.
    Lenient,
}

/// A valid config and the account it is for, before anything is read from it.
struct Connected {
    loaded: Loaded,
    aws: Aws,
    caller: Caller,
}

/// Writes `text` to stdout. A reader that went away (`infra plan --json | head`) is not an
/// error: there is nobody left to tell.
fn emit(text: impl AsRef<[u8]>) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_ref()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write to stdout")
        }
        _ => Ok(()),
    }
}

/// The config's warnings (an open endpoint, no audit log), the version's (extended support),
/// and the plan's hazards (capacity removed, data lost, one-way changes), each with what to do.
fn warnings(cx: &Session, p: &crate::plan::Plan) -> Vec<String> {
    let mut all = config::warnings(&cx.loaded.config);
    all.extend(cx.version_warnings.iter().cloned());
    all.extend(crate::plan::hazards(p));
    all
}

/// Prints `warnings` in yellow, under the plan and above any prompt.
fn print_warnings(warnings: &[String]) {
    for w in warnings {
        println!("{} {w}", console::style("Warning:").yellow().bold());
    }
}

/// Loads and validates the config (no AWS call before it is valid), then asks who we are.
async fn connect(cli: &Cli) -> Result<Connected> {
    let loaded = config::load(cli.config.as_deref())?;
    let aws = Aws::connect(&loaded.config.region).await;
    let caller = aws
        .caller()
        .await
        .context("cannot find out which AWS account the credentials belong to")?;
    if !cli.quiet {
        eprintln!(
            "Stack {} in account {}, {} (config: {})",
            loaded.config.stack, caller.account, loaded.config.region, loaded.file
        );
    }
    Ok(Connected {
        loaded,
        aws,
        caller,
    })
}

impl Connected {
    /// Reads what the account holds of the stack and which Kubernetes versions EKS offers,
    /// and builds the desired stack with the version that follows from both.
    async fn observe(self, check: Checks) -> Result<Session> {
        let Connected {
            mut loaded,
            aws,
            caller,
        } = self;
        let stack = loaded.config.stack.clone();
        // What only the account knows about the config is checked before anything changes;
        // a command that changes nothing in the cluster does not need it.
        let preflight = async {
            match check {
                Checks::Strict => crate::preflight::run(&aws, &loaded).await,
                Checks::Lenient => Ok(()),
            }
        };
        let (observed, offered, fits) = tokio::join!(
            observe::observe(&aws, &stack, &caller.account),
            versions::read(&aws),
            preflight
        );
        fits?;
        let observed = observed.with_context(|| {
            format!(
                "could not read the state of stack {stack} in {}",
                loaded.config.region
            )
        })?;
        let offered = match offered {
            Ok(v) => v,
            Err(e) if check == Checks::Strict => {
                return Err(e.context("cannot read the Kubernetes versions EKS offers"))
            }
            Err(_) => Versions::default(),
        };
        let live = observed
            .iter()
            .find(|o| o.kind == Kind::EksCluster && !o.unowned && !o.stray)
            .and_then(|o| Some((o.physical_id.as_str(), o.attrs.get("version")?.as_str()?)));
        let asked = loaded.config.eks.version.clone();
        let (version, version_warnings) = match versions::resolve(asked.as_deref(), live, &offered)
        {
            Ok(r) => (r.version, r.warnings),
            Err(e) if check == Checks::Strict => {
                anyhow::bail!("{}: {e}. Nothing was changed.", loaded.file)
            }
            Err(_) => {
                let fallback = live.map(|(_, v)| v.to_string()).or(asked);
                (fallback.unwrap_or_default(), Vec::new())
            }
        };
        loaded.config.eks.version = Some(version);
        let desired = stack::build(&loaded.config, &caller.account);
        Ok(Session {
            loaded,
            desired,
            aws,
            caller,
            observed,
            versions: offered,
            version_warnings,
        })
    }
}

/// Loads and validates the config, then reads the account, for a command that changes
/// nothing in the cluster.
async fn load_and_observe(cli: &Cli) -> Result<Session> {
    connect(cli).await?.observe(Checks::Lenient).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(args: &[&str]) -> Option<String> {
        one_dash_hint(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn terraform_spellings_get_the_two_dash_one() {
        let h = hint(&["apply", "-auto-approve"]).expect("a hint");
        assert!(h.contains("`--auto-approve`"), "{h}");
        assert!(hint(&["plan", "-detailed-exitcode"]).is_some());
        assert!(hint(&["destroy", "-lock-timeout=5m"]).is_some());
        assert!(hint(&["plan", "-out=plan.json"]).is_some());
        // Short flags and flags infra does not have are clap's to explain.
        assert_eq!(hint(&["plan", "-vv"]), None);
        assert_eq!(hint(&["apply", "-var=region=x"]), None);
    }
}
