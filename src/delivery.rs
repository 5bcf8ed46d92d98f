//! Starting the stack's CodeBuild build and following it phase by phase.

use crate::aws::{Aws, AwsResultExt};
use anyhow::{bail, Context, Result};
use aws_sdk_codebuild::types::{
    Build, BuildPhase, BuildPhaseType, EnvironmentVariable, EnvironmentVariableType, StatusType,
};
use std::io::Write;
use std::time::{Duration, Instant};

/// What to start.
pub struct Request<'a> {
    /// CodeBuild project name.
    pub project: &'a str,
    /// Branch, tag or commit; the project's default when absent.
    pub source_version: Option<&'a str>,
    /// Environment overrides, `KEY=VALUE`.
    pub env: &'a [(String, String)],
}

/// Starts a build and returns it as CodeBuild first reports it.
pub async fn start(aws: &Aws, req: &Request<'_>) -> Result<Build> {
    let overrides: Vec<EnvironmentVariable> = req
        .env
        .iter()
        .map(|(k, v)| {
            EnvironmentVariable::builder()
                .name(k)
                .value(v)
                .r#type(EnvironmentVariableType::Plaintext)
                .build()
        })
        .collect::<Result<_, _>>()
        .context("invalid --env override")?;
    let r = aws
        .codebuild
        .start_build()
        .project_name(req.project)
        .set_source_version(req.source_version.map(str::to_string))
        .set_environment_variables_override((!overrides.is_empty()).then_some(overrides))
        .send()
        .await
        .aws("StartBuild");
    match r {
        Ok(out) => out.build_value.context("StartBuild returned no build"),
        Err(e) if e.is("ResourceNotFoundException") => bail!(
            "the stack's CodeBuild project {} does not exist in {}. Run `infra apply` first to \
             create the stack, then trigger the build again.",
            req.project,
            aws.region
        ),
        Err(e) => Err(e.into()),
    }
}

/// Reads the build's current state.
pub async fn describe(aws: &Aws, id: &str) -> Result<Build> {
    let out = aws
        .codebuild
        .batch_get_builds()
        .ids(id)
        .send()
        .await
        .aws("BatchGetBuilds")?;
    out.builds
        .and_then(|b| b.into_iter().next())
        .with_context(|| format!("build {id} is not known to CodeBuild"))
}

/// Asks CodeBuild to stop the build.
pub async fn stop(aws: &Aws, id: &str) -> Result<()> {
    aws.codebuild
        .stop_build()
        .id(id)
        .send()
        .await
        .aws("StopBuild")?;
    Ok(())
}

/// How often `follow` says it is still waiting when no phase ends.
const HEARTBEAT: Duration = Duration::from_secs(60);

/// Follows the build until it completes, printing each phase as it finishes.
pub async fn follow(aws: &Aws, id: &str, out: &mut impl Write) -> Result<Build> {
    let start = Instant::now();
    let mut last_sign = start;
    let mut printed = 0;
    let mut running: Option<String> = None;
    let mut delay = Duration::from_millis(200);
    loop {
        let build = describe(aws, id).await?;
        let done = build.build_complete();
        for phase in build.phases().iter().skip(printed) {
            // A phase is printed once it has ended, or when the build is over.
            if phase.end_time().is_none() && !done {
                break;
            }
            printed += 1;
            // COMPLETED only marks the end; the verdict line says how it ended.
            if phase.phase_type() != Some(&BuildPhaseType::Completed) {
                writeln!(out, "{}", phase_line(phase))?;
            }
        }
        // Which phase runs now, said once when it starts: a long BUILD is not a silent one.
        let now = build.current_phase().filter(|p| *p != "COMPLETED");
        if !done && now.is_some() && now != running.as_deref() {
            running = now.map(str::to_string);
            writeln!(
                out,
                "  {:<18} running (build at {}s)",
                now.unwrap_or_default(),
                start.elapsed().as_secs()
            )?;
        }
        out.flush()?;
        if done {
            return Ok(build);
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 3 / 2).min(Duration::from_secs(2));
        // A long QUEUED or BUILD phase must not look like a hang in CI logs.
        if last_sign.elapsed() >= HEARTBEAT {
            last_sign = Instant::now();
            writeln!(
                out,
                "  ... still in {} after {}s",
                build.current_phase().unwrap_or("an unknown phase"),
                start.elapsed().as_secs()
            )?;
        }
    }
}

/// One finished phase, aligned: name, status, duration.
fn phase_line(p: &BuildPhase) -> String {
    let name = p.phase_type().map(|t| t.as_str()).unwrap_or("?");
    let status = p.phase_status().map(|s| s.as_str()).unwrap_or("");
    let secs = p.duration_in_seconds().unwrap_or(0);
    format!("  {name:<18} {status:<10} {secs:>4}s")
}

/// The phase that did not succeed, with CodeBuild's reason when it gives one.
pub fn failed_phase(build: &Build) -> Option<String> {
    let phase = build.phases().iter().find(|p| {
        matches!(
            p.phase_status(),
            Some(
                StatusType::Failed | StatusType::Fault | StatusType::TimedOut | StatusType::Stopped
            )
        )
    })?;
    let name = phase.phase_type().map(|t| t.as_str()).unwrap_or("UNKNOWN");
    let reasons: Vec<String> = phase
        .contexts()
        .iter()
        .map(|c| match (c.status_code(), c.message()) {
            (Some(code), Some(msg)) => format!("{code}: {msg}"),
            (Some(only), None) | (None, Some(only)) => only.to_string(),
            (None, None) => String::new(),
        })
        .filter(|r| !r.is_empty())
        .collect();
    Some(if reasons.is_empty() {
        name.to_string()
    } else {
        format!("{name} ({})", reasons.join("; "))
    })
}

/// Where the build's logs are, for people.
pub fn logs_line(build: &Build) -> String {
    match build.logs() {
        Some(l) => {
            let mut s = format!(
                "Logs: CloudWatch group {} stream {}",
                l.group_name().unwrap_or("?"),
                l.stream_name().unwrap_or("?")
            );
            if let Some(link) = l.deep_link() {
                s.push_str(&format!("\n      {link}"));
            }
            s
        }
        None => "Logs: not available (the build has not written any yet)".to_string(),
    }
}
