//! The terminal view: one spinner line per resource in flight with what it waits for and its
//! elapsed time, finished resources scrolling above, and an overall bar at the bottom.

use super::{human_duration, Finished, Reporter, Verb};
use crate::model::{readable, LogicalId};
use crate::retry::{abandoned, Abandoned};
use console::style;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Live progress on stderr.
pub struct Live {
    multi: MultiProgress,
    overall: ProgressBar,
    bars: Mutex<HashMap<LogicalId, ProgressBar>>,
    start: Instant,
}

impl Live {
    /// A view for a run of `steps` steps.
    pub fn new(steps: usize) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(steps as u64));
        overall.set_style(
            ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} steps  {elapsed}  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        overall.enable_steady_tick(Duration::from_millis(500));
        Live {
            multi,
            overall,
            bars: Mutex::new(HashMap::new()),
            start: Instant::now(),
        }
    }

    fn bars(&self) -> std::sync::MutexGuard<'_, HashMap<LogicalId, ProgressBar>> {
        self.bars.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn println(&self, text: String) {
        let t = human_duration(self.start.elapsed());
        let _ = self
            .multi
            .println(format!("{} {text}", style(format!("[{t:>6}]")).dim()));
    }
}

impl Reporter for Live {
    fn started(&self, id: &LogicalId, verb: Verb) {
        let bar = self
            .multi
            .insert_before(&self.overall, ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner:.cyan} {prefix:.bold} {msg:.dim} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(id.to_string());
        bar.set_message(verb.doing());
        bar.enable_steady_tick(Duration::from_millis(120));
        self.bars().insert(id.clone(), bar);
    }

    fn note(&self, id: &LogicalId, what: &str) {
        if let Some(bar) = self.bars().get(id) {
            bar.set_message(what.to_string());
        }
    }

    fn finished(&self, step: Finished<'_>) {
        let (id, verb) = (step.id, step.verb);
        if let Some(bar) = self.bars().remove(id) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        self.overall.inc(1);
        let took = human_duration(step.elapsed);
        let line = match step.outcome {
            Ok(physical) => format!(
                "{} {id} {}{} in {took}",
                style("✓").green(),
                verb.done(),
                physical
                    .map(|p| format!(" {}", style(readable(p)).dim()))
                    .unwrap_or_default()
            ),
            Err(e) if abandoned(e) => format!(
                "{} {id} {} abandoned after {took}: {Abandoned}",
                style("…").yellow(),
                verb.doing()
            ),
            Err(e) => format!(
                "{} {id} {} failed: {e:#}",
                style("✗").red().bold(),
                verb.doing()
            ),
        };
        self.println(line);
    }

    fn eta(&self, left: Duration) {
        self.overall
            .set_message(format!("about {} left", human_duration(left)));
    }

    fn interrupted(&self) {
        self.println(format!(
            "{} interrupted: abandoning waits and starting nothing new; calls already sent finish (Ctrl-C again to exit now)",
            style("!").yellow().bold()
        ));
    }

    fn done(&self) {
        for (_, bar) in self.bars().drain() {
            bar.finish_and_clear();
        }
        self.overall.finish_and_clear();
    }
}
