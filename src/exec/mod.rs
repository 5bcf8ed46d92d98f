//! Walks a plan's steps concurrently: each step starts once its prerequisites are done, at most
//! `parallelism` at a time. A failed step blocks only what depends on it.

use crate::aws::Aws;
use crate::graph::Graph;
use crate::kinds::{self, Outputs, Spec, StepCtx};
use crate::model::{Kind, LogicalId, Observed};
use crate::plan::{Action, Change, Plan, StepKind};
use crate::report::{Eta, Finished, Reporter, Verb};
use crate::retry;
use anyhow::{anyhow, Result};
use futures::stream::{FuturesUnordered, StreamExt};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

/// What an execution did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Resources created.
    pub created: usize,
    /// Resources updated in place.
    pub updated: usize,
    /// Resources replaced.
    pub replaced: usize,
    /// Resources deleted.
    pub deleted: usize,
    /// Steps that failed, with why.
    pub failures: Vec<(LogicalId, anyhow::Error)>,
    /// Steps whose wait was abandoned on Ctrl-C: the next run picks them up.
    pub abandoned: Vec<LogicalId>,
    /// Steps never started (blocked by a failure or an interrupt).
    pub not_started: Vec<LogicalId>,
    /// True when the user interrupted.
    pub interrupted: bool,
    /// Wall time.
    pub elapsed: Duration,
}

impl Outcome {
    /// True when every step ran and succeeded.
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
            && self.abandoned.is_empty()
            && self.not_started.is_empty()
            && !self.interrupted
    }
}

type Key = (LogicalId, StepKind);

/// Everything the executor reads while it runs.
pub struct Inputs<'a> {
    /// The plan to carry out.
    pub plan: &'a Plan,
    /// Desired specs, for creates and updates.
    pub desired: &'a Graph,
    /// What was observed, for updates and deletes.
    pub observed: &'a [Observed],
    /// AWS clients.
    pub aws: &'a Aws,
    /// Most steps in flight at once.
    pub parallelism: usize,
    /// `destroy --force`.
    pub force: bool,
    /// Turns true when the run lost the stack's lock: stop starting work, as on Ctrl-C.
    pub halt: tokio::sync::watch::Receiver<bool>,
}

/// Carries out the plan's steps.
pub async fn execute(inp: Inputs<'_>, reporter: &dyn Reporter) -> Outcome {
    let start = Instant::now();
    let changes: HashMap<&LogicalId, &Change> =
        inp.plan.changes.iter().map(|c| (&c.id, c)).collect();
    let by_physical: HashMap<(Kind, &str), &Observed> = inp
        .observed
        .iter()
        .map(|o| ((o.kind, o.physical_id.as_str()), o))
        .collect();
    let observed_of = |c: &Change| -> Option<Observed> {
        let p = c.physical_id.as_deref()?;
        by_physical.get(&(c.kind, p)).map(|o| (*o).clone())
    };

    // Outputs of everything that stays as it is, so references to it resolve.
    let mut outputs: HashMap<LogicalId, Outputs> = HashMap::new();
    for c in &inp.plan.changes {
        if matches!(c.action, Action::NoOp | Action::Update) {
            if let Some(o) = observed_of(c) {
                outputs.insert(c.id.clone(), o.outputs.clone());
            }
        }
    }

    let mut waiting: BTreeMap<Key, usize> = BTreeMap::new();
    let mut dependents: HashMap<Key, Vec<Key>> = HashMap::new();
    let mut ready = VecDeque::new();
    for s in &inp.plan.steps {
        let key = (s.id.clone(), s.kind);
        for a in &s.after {
            dependents.entry(a.clone()).or_default().push(key.clone());
        }
        if s.after.is_empty() {
            ready.push_back(key);
        } else {
            waiting.insert(key, s.after.len());
        }
    }

    let mut out = Outcome::default();
    let mut eta = Eta::new(inp.plan);
    reporter.eta(eta.remaining());
    let mut running = FuturesUnordered::new();
    // One listener for the whole run: a fresh `ctrl_c()` per loop turn would miss a Ctrl-C
    // pressed between turns (the handler is installed, so the signal is simply lost).
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    let mut halt = inp.halt.clone();
    let lock_lost = async move {
        // An error means the lock was released cleanly: nothing to stop for.
        if halt.wait_for(|lost| *lost).await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(lock_lost);
    loop {
        while running.len() < inp.parallelism.max(1) && !out.interrupted {
            let Some(key) = ready.pop_front() else { break };
            let Some(change) = changes.get(&key.0).copied() else {
                continue;
            };
            let current = observed_of(change);
            let spec = match key.1 {
                StepKind::Apply => resolve(inp.desired, &key.0, &outputs),
                StepKind::Delete => Ok(Spec::default()),
            };
            eta.started(&key);
            running.push(run_step(&inp, key, change, current, spec, reporter));
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            Some((key, result)) = running.next() => {
                eta.finished(&key);
                let change = changes[&key.0];
                match result {
                    Ok(new_outputs) => {
                        match (key.1, change.action) {
                            (StepKind::Apply, Action::Create) => out.created += 1,
                            (StepKind::Apply, Action::Update) => out.updated += 1,
                            (StepKind::Apply, Action::Replace) => out.replaced += 1,
                            (StepKind::Delete, Action::Delete) => out.deleted += 1,
                            _ => {}
                        }
                        match new_outputs {
                            Some(o) => { outputs.insert(key.0.clone(), o); }
                            // The old half of a new-first replacement leaves its successor's.
                            None if change.new_first => {}
                            None => { outputs.remove(&key.0); }
                        }
                        for d in dependents.get(&key).into_iter().flatten() {
                            if let Some(n) = waiting.get_mut(d) {
                                *n -= 1;
                                if *n == 0 {
                                    waiting.remove(d);
                                    ready.push_back(d.clone());
                                }
                            }
                        }
                    }
                    Err(e) if out.interrupted && retry::abandoned(&e) => {
                        out.abandoned.push(key.0.clone());
                    }
                    Err(e) => out.failures.push((key.0.clone(), e)),
                }
                if !out.interrupted {
                    reporter.eta(eta.remaining());
                }
            }
            _ = &mut lock_lost, if !out.interrupted => {
                out.interrupted = true;
                eprintln!("this run lost the stack's lock: starting nothing more; the calls in flight finish");
            }
            _ = &mut interrupt, if !out.interrupted => {
                out.interrupted = true;
                // Waits end now; calls already sent finish (their steps then end at their next wait).
                retry::RUN.raise();
                reporter.interrupted();
                tokio::spawn(async {
                    if tokio::signal::ctrl_c().await.is_ok() {
                        eprintln!("second interrupt: exiting now; the next run picks up where this one stopped");
                        std::process::exit(130);
                    }
                });
            }
        }
    }
    out.not_started = ready
        .into_iter()
        .map(|k| k.0)
        .chain(waiting.into_keys().map(|k| k.0))
        .collect();
    out.not_started.sort();
    out.not_started.dedup();
    out.elapsed = start.elapsed();
    out
}

/// The desired spec of `id` with references replaced by the outputs known so far.
fn resolve(desired: &Graph, id: &LogicalId, outputs: &HashMap<LogicalId, Outputs>) -> Result<Spec> {
    let d = desired
        .get(id)
        .ok_or_else(|| anyhow!("{id} is not in the desired graph"))?;
    let lookup = |r: &crate::model::Ref| {
        outputs
            .get(&r.id)
            .and_then(|o| o.get(&r.attr))
            .map(|s| serde_json::Value::String(s.clone()))
    };
    let mut spec = BTreeMap::new();
    for (k, v) in &d.attrs {
        let value = v
            .resolve(&lookup)
            .ok_or_else(|| anyhow!("{id}.{k} refers to a value that is still unknown"))?;
        spec.insert(k.clone(), value);
    }
    Ok(Spec(spec))
}

/// Runs one step; `Ok(Some(outputs))` after an apply, `Ok(None)` after a delete.
async fn run_step(
    inp: &Inputs<'_>,
    key: Key,
    change: &Change,
    current: Option<Observed>,
    spec: Result<Spec>,
    reporter: &dyn Reporter,
) -> (Key, Result<Option<Outputs>>) {
    let kind = kinds::get(change.kind);
    let verb = match (key.1, change.action) {
        (StepKind::Delete, _) => Verb::Delete,
        (StepKind::Apply, Action::Update) => Verb::Update,
        _ => Verb::Create,
    };
    let cx = StepCtx {
        aws: inp.aws,
        stack: &inp.plan.stack,
        force: inp.force,
        id: &key.0,
        reporter,
    };
    let started = Instant::now();
    reporter.started(&key.0, verb);
    let result = async {
        match verb {
            Verb::Delete => {
                let current = current.ok_or_else(|| anyhow!("nothing observed to delete"))?;
                kind.delete(&cx, &current).await?;
                Ok(None)
            }
            Verb::Update => {
                let current = current.ok_or_else(|| anyhow!("nothing observed to update"))?;
                Ok(Some(kind.update(&cx, &current, &spec?).await?))
            }
            Verb::Create => {
                // Replaced new-first: the old one still exists, and its successor is made beside it.
                let replacing = current.as_ref().filter(|_| change.new_first);
                Ok(Some(kind.create(&cx, &spec?, replacing).await?))
            }
        }
    }
    .await;
    let physical = match &result {
        Ok(Some(o)) => o.get("id").map(String::as_str),
        Ok(None) => change.physical_id.as_deref(),
        Err(_) => None,
    };
    reporter.finished(Finished {
        id: &key.0,
        verb,
        outcome: result.as_ref().map(|_| physical),
        elapsed: started.elapsed(),
    });
    (key, result)
}
