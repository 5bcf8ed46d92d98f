//! `infra trigger-build`: start the stack's CodeBuild project, optionally follow it.

use super::Cli;
use crate::aws::Aws;
use crate::{config, delivery, naming};
use anyhow::{anyhow, Result};
use aws_sdk_codebuild::types::StatusType;
use std::process::ExitCode;

/// Options of `infra trigger-build`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Branch, tag or commit to build [default: the project's branch]
    #[arg(long, value_name = "REF")]
    source_version: Option<String>,

    /// Override an environment variable of the build (repeatable)
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
    env: Vec<(String, String)>,

    /// Follow the build phase by phase; exit 0 only if it succeeds
    #[arg(long)]
    wait: bool,

    /// With --wait: stop the build when interrupted with Ctrl-C (default: leave it running)
    #[arg(long, requires = "wait")]
    cancel_on_interrupt: bool,
}

fn parse_env(s: &str) -> Result<(String, String)> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| anyhow!("{s:?} is not KEY=VALUE"))?;
    if k.is_empty() {
        return Err(anyhow!("{s:?} has an empty KEY"));
    }
    Ok((k.to_string(), v.to_string()))
}

/// Words that make a variable name look like it holds a secret.
const SECRET_WORDS: [&str; 5] = ["PASSWORD", "TOKEN", "SECRET", "KEY", "CREDENTIAL"];

/// Whether `name` looks like it holds a secret (`DB_PASSWORD`, `ApiKey`, `GITHUB_TOKEN`).
fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|w| upper.contains(w))
}

/// Starts the build and, with --wait, follows it to its end.
pub async fn run(cli: &Cli, args: &Args) -> Result<ExitCode> {
    let loaded = config::load(cli.config.as_deref())?;
    let c = &loaded.config;
    for (name, _) in args.env.iter().filter(|(k, _)| looks_secret(k)) {
        eprintln!(
            "{} --env {name} looks like a secret: it goes to CodeBuild as plain text, visible \
             in BatchGetBuilds, the console and this machine's process list. Name it in \
             codebuild.secrets (ssm:<parameter> or secretsmanager:<secret>) instead.",
            console::style("Warning:").yellow().bold()
        );
    }
    let aws = Aws::connect(&c.region).await;
    let project = naming::build_project(&c.stack);
    let build = delivery::start(
        &aws,
        &delivery::Request {
            project: &project,
            source_version: args.source_version.as_deref(),
            env: &args.env,
        },
    )
    .await?;
    let id = build.id().unwrap_or_default().to_string();
    println!(
        "Started build {id} of project {project} (source {})",
        build
            .source_version()
            .or(args.source_version.as_deref())
            .unwrap_or(&c.codebuild.branch)
    );
    if !args.wait {
        println!("{}", delivery::logs_line(&build));
        println!(
            "Follow it with: aws codebuild batch-get-builds --ids {id} --region {}",
            c.region
        );
        return Ok(ExitCode::SUCCESS);
    }

    let mut stdout = std::io::stdout();
    let finished = tokio::select! {
        b = delivery::follow(&aws, &id, &mut stdout) => b?,
        _ = tokio::signal::ctrl_c() => {
            if args.cancel_on_interrupt {
                delivery::stop(&aws, &id).await?;
                eprintln!("Interrupted: asked CodeBuild to stop build {id}.");
            } else {
                eprintln!(
                    "Interrupted: build {id} keeps running in CodeBuild. Stop it with:\n  \
                     aws codebuild stop-build --id {id} --region {}",
                    c.region
                );
            }
            return Ok(ExitCode::from(130));
        }
    };
    let status = finished
        .build_status()
        .cloned()
        .unwrap_or(StatusType::InProgress);
    println!("{}", delivery::logs_line(&finished));
    if status == StatusType::Succeeded {
        println!("SUCCEEDED: build {id}");
        return Ok(ExitCode::SUCCESS);
    }
    let phase = delivery::failed_phase(&finished).unwrap_or_else(|| "an unknown phase".into());
    println!("{}: build {id} in phase {phase}", status.as_str());
    Ok(ExitCode::FAILURE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_names_are_recognised() {
        for name in [
            "DB_PASSWORD",
            "GITHUB_TOKEN",
            "ApiKey",
            "client_secret",
            "AWS_CREDENTIALS",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in ["IMAGE_TAG", "LOG_LEVEL", "REPLICAS"] {
            assert!(!looks_secret(name), "{name}");
        }
    }
}
