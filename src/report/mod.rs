//! What the user sees while the executor works: a live view on a terminal, plain timestamped
//! lines in CI logs, nothing with `-q`.

mod eta;
mod lines;
mod live;

pub use eta::Eta;
pub use lines::Lines;
pub use live::Live;

use crate::model::LogicalId;
use std::io::IsTerminal;
use std::time::Duration;

/// What a step does to its resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    /// Creating a new resource (also the second half of a replace).
    Create,
    /// Changing attributes in place.
    Update,
    /// Deleting (also the first half of a replace).
    Delete,
}

impl Verb {
    fn doing(self) -> &'static str {
        match self {
            Verb::Create => "creating",
            Verb::Update => "updating",
            Verb::Delete => "deleting",
        }
    }

    fn done(self) -> &'static str {
        match self {
            Verb::Create => "created",
            Verb::Update => "updated",
            Verb::Delete => "deleted",
        }
    }
}

/// How a step ended, as the executor reports it.
pub struct Finished<'a> {
    /// The step.
    pub id: &'a LogicalId,
    /// What it did.
    pub verb: Verb,
    /// The resource's AWS id after it, when there is one; or why it failed.
    pub outcome: Result<Option<&'a str>, &'a anyhow::Error>,
    /// How long it took.
    pub elapsed: Duration,
}

/// Receives executor progress.
pub trait Reporter: Send + Sync {
    /// A step began.
    fn started(&self, id: &LogicalId, verb: Verb);
    /// A step is waiting on something (`waiting for nat-123 to become available`).
    fn note(&self, id: &LogicalId, what: &str);
    /// A step ended.
    fn finished(&self, step: Finished<'_>);
    /// The user pressed Ctrl-C.
    fn interrupted(&self);
    /// The estimate of how long the rest of the run takes changed (see [`Eta`]).
    fn eta(&self, _left: Duration) {}
    /// Called every few seconds while work is in flight (heartbeats, clocks).
    fn tick(&self) {}
    /// The run is over: clear anything drawn.
    fn done(&self) {}
}

/// Reports nothing (`-q`): failures still reach the final summary.
pub struct Silent;

impl Reporter for Silent {
    fn started(&self, _: &LogicalId, _: Verb) {}
    fn note(&self, _: &LogicalId, _: &str) {}
    fn finished(&self, _: Finished<'_>) {}
    fn interrupted(&self) {}
}

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Nothing (`-q`).
    Quiet,
    /// The live view: stderr is a terminal and this is not CI.
    Live,
    /// Timestamped lines, one per state change.
    Lines,
}

impl Style {
    /// The style for this process: `quiet` from `-q`; live only on an interactive terminal.
    pub fn detect(quiet: bool) -> Style {
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
        if quiet {
            Style::Quiet
        } else if std::io::stderr().is_terminal() && !ci {
            Style::Live
        } else {
            Style::Lines
        }
    }

    /// A reporter of this style for a run of `steps` steps.
    pub fn reporter(self, steps: usize) -> Box<dyn Reporter> {
        match self {
            Style::Quiet => Box::new(Silent),
            Style::Live => Box::new(Live::new(steps)),
            Style::Lines => Box::new(Lines::new()),
        }
    }
}

/// `1m05s`, `42s`: elapsed times as people read them.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(human_duration(Duration::from_secs(65)), "1m05s");
        assert_eq!(human_duration(Duration::from_secs(600)), "10m00s");
    }
}
