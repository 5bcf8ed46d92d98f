//! What the user sees while the executor works.

use crate::model::LogicalId;
use std::io::Write;
use std::time::{Duration, Instant};

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

/// Receives executor progress.
pub trait Reporter: Send + Sync {
    /// A step began.
    fn started(&self, id: &LogicalId, verb: Verb);
    /// A step is waiting on something (`waiting for nat-123 to become available`).
    fn note(&self, id: &LogicalId, what: &str);
    /// A step ended; `physical` is the resource's AWS id after it, when there is one.
    fn finished(
        &self,
        id: &LogicalId,
        verb: Verb,
        outcome: Result<Option<&str>, &anyhow::Error>,
        elapsed: Duration,
    );
    /// The user pressed Ctrl-C.
    fn interrupted(&self);
}

/// Plain lines on stderr, one per state change, stamped with the time since start: readable
/// in CI logs and in a terminal alike.
pub struct Lines {
    start: Instant,
}

impl Lines {
    /// A reporter whose clock starts now.
    pub fn new() -> Self {
        Lines {
            start: Instant::now(),
        }
    }

    fn line(&self, text: &str) {
        let t = self.start.elapsed().as_secs_f64();
        // A closed stderr must not fail the apply.
        let _ = writeln!(std::io::stderr(), "[{t:7.1}s] {text}");
    }
}

impl Default for Lines {
    fn default() -> Self {
        Self::new()
    }
}

impl Reporter for Lines {
    fn started(&self, id: &LogicalId, verb: Verb) {
        self.line(&format!("{id}: {}", verb.doing()));
    }

    fn note(&self, id: &LogicalId, what: &str) {
        self.line(&format!("{id}: {what}"));
    }

    fn finished(
        &self,
        id: &LogicalId,
        verb: Verb,
        outcome: Result<Option<&str>, &anyhow::Error>,
        elapsed: Duration,
    ) {
        match outcome {
            Ok(Some(physical)) => self.line(&format!(
                "{id}: {} {physical} in {:.1}s",
                verb.done(),
                elapsed.as_secs_f64()
            )),
            Ok(None) => self.line(&format!(
                "{id}: {} in {:.1}s",
                verb.done(),
                elapsed.as_secs_f64()
            )),
            Err(e) => self.line(&format!("{id}: {} FAILED: {e:#}", verb.doing())),
        }
    }

    fn interrupted(&self) {
        self.line(
            "interrupted: finishing the calls in flight, starting nothing new (Ctrl-C again to exit now)",
        );
    }
}
