//! Plain lines on stderr, one per state change, stamped with the time since start: what CI logs
//! show. Long waits get a heartbeat so a 10-minute cluster creation does not look like a hang.

use super::{human_duration, Finished, Reporter, Verb};
use crate::model::{readable, LogicalId};
use crate::retry::{abandoned, Abandoned};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a step may be quiet before a heartbeat line says it is still going.
const HEARTBEAT: Duration = Duration::from_secs(30);

/// A step in flight: what it does, since when, what it waits for, when it was last mentioned.
struct InFlight {
    verb: Verb,
    since: Instant,
    waiting: Option<String>,
    last_said: Instant,
}

/// At most one estimate line this often, unless the estimate moves by half.
const ETA_EVERY: Duration = Duration::from_secs(10);

/// Timestamped progress lines.
pub struct Lines {
    start: Instant,
    in_flight: Mutex<BTreeMap<LogicalId, InFlight>>,
    /// The last estimate said, and when.
    said_eta: Mutex<Option<(Duration, Instant)>>,
}

impl Lines {
    /// A reporter whose clock starts now.
    pub fn new() -> Self {
        Lines {
            start: Instant::now(),
            in_flight: Mutex::new(BTreeMap::new()),
            said_eta: Mutex::new(None),
        }
    }

    fn line(&self, text: &str) {
        let t = self.start.elapsed().as_secs_f64();
        // A closed stderr must not fail the apply.
        let _ = writeln!(std::io::stderr(), "[{t:7.1}s] {text}");
    }

    fn steps(&self) -> std::sync::MutexGuard<'_, BTreeMap<LogicalId, InFlight>> {
        // A panic elsewhere while holding the lock leaves the map usable for progress lines.
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for Lines {
    fn default() -> Self {
        Self::new()
    }
}

impl Reporter for Lines {
    fn started(&self, id: &LogicalId, verb: Verb) {
        let now = Instant::now();
        self.steps().insert(
            id.clone(),
            InFlight {
                verb,
                since: now,
                waiting: None,
                last_said: now,
            },
        );
        self.line(&format!("{id}: {}", verb.doing()));
    }

    fn note(&self, id: &LogicalId, what: &str) {
        if let Some(s) = self.steps().get_mut(id) {
            s.waiting = Some(what.to_string());
            s.last_said = Instant::now();
        }
        self.line(&format!("{id}: {what}"));
    }

    fn finished(&self, step: Finished<'_>) {
        let (id, verb, took) = (step.id, step.verb, human_duration(step.elapsed));
        self.steps().remove(id);
        match step.outcome {
            Ok(Some(physical)) => self.line(&format!(
                "{id}: {} {} in {took}",
                verb.done(),
                readable(physical)
            )),
            Ok(None) => self.line(&format!("{id}: {} in {took}", verb.done())),
            Err(e) if abandoned(e) => self.line(&format!(
                "{id}: {} abandoned after {took}: {}",
                verb.doing(),
                Abandoned
            )),
            Err(e) => self.line(&format!("{id}: {} FAILED: {e:#}", verb.doing())),
        }
    }

    fn interrupted(&self) {
        self.line(
            "interrupted: abandoning waits and starting nothing new; calls already sent finish (Ctrl-C again to exit now)",
        );
    }

    fn eta(&self, left: Duration) {
        let mut said = self.said_eta.lock().unwrap_or_else(|e| e.into_inner());
        let due = match *said {
            None => true,
            Some((before, at)) => {
                let now_before = before.saturating_sub(at.elapsed());
                at.elapsed() >= ETA_EVERY || left > now_before * 3 / 2 || left < now_before / 2
            }
        };
        if due && !left.is_zero() {
            *said = Some((left, Instant::now()));
            self.line(&format!("about {} left", human_duration(left)));
        }
    }

    fn tick(&self) {
        let now = Instant::now();
        let mut due = Vec::new();
        for (id, s) in self.steps().iter_mut() {
            if now.duration_since(s.last_said) >= HEARTBEAT {
                s.last_said = now;
                let what = s.waiting.as_deref().unwrap_or(s.verb.doing());
                due.push(format!(
                    "{id}: still {} after {} ({what})",
                    s.verb.doing(),
                    human_duration(now.duration_since(s.since))
                ));
            }
        }
        for l in due {
            self.line(&l);
        }
    }
}
