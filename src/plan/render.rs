//! Human-readable plan output.

use super::{Action, AttrChange, Change, Counts, Plan};
use crate::model::readable;
use console::style;
use serde_json::Value as Json;
use std::fmt::Write;

const UNKNOWN: &str = "(known after apply)";

/// The change's mark, padded to three columns, coloured when the terminal takes colour.
fn symbol(c: &Change) -> String {
    let mark = format!("{:<3}", c.symbol());
    match c.action {
        Action::Create => style(mark).green().to_string(),
        Action::Update => style(mark).yellow().to_string(),
        Action::Replace => style(mark).magenta().to_string(),
        Action::Delete => style(mark).red().to_string(),
        Action::NoOp => mark,
    }
}

/// The plan as a person reads it: changes grouped by area, attribute diffs, and a summary line.
pub fn render_human(plan: &Plan) -> String {
    let mut out = String::new();
    if !plan.conflicts.is_empty() {
        let _ = writeln!(
            out,
            "Conflicts: these exist under stack {}'s names but lack its tag infra:stack={} (for \
             a Kubernetes namespace, its label infra/stack={}).\n\
             infra never touches resources it does not own:",
            plan.stack, plan.stack, plan.stack
        );
        for c in &plan.conflicts {
            let _ = writeln!(
                out,
                "  {}   {} ({} {})",
                style("!").red().bold(),
                c.id,
                c.kind,
                c.physical_id
            );
        }
        let _ = writeln!(
            out,
            "Delete or rename them, or choose another stack name; then plan again.\n"
        );
    }
    if !plan.contests.is_empty() {
        let _ = writeln!(
            out,
            "Duplicates infra cannot settle: several resources claim one id, and it cannot tell \
             which one the stack uses. Nothing is applied until one is left:"
        );
        for c in &plan.contests {
            let _ = writeln!(
                out,
                "  {}   {} ({}): {} ({})",
                style("!").red().bold(),
                c.id,
                c.kind,
                c.physical_ids.join(", "),
                c.why
            );
        }
        let _ = writeln!(
            out,
            "Delete the copies you do not want (and what uses them), or take the infra:stack tag \
             off them; then plan again.\n"
        );
    }
    if !plan.strays.is_empty() {
        let _ = writeln!(
            out,
            "Tagged with stack {}, not made by infra (their infra:id is none it makes): left alone:",
            plan.stack
        );
        for c in &plan.strays {
            let _ = writeln!(
                out,
                "  {}   {} {}",
                style("?").yellow(),
                c.kind,
                c.physical_id
            );
        }
        out.push('\n');
    }
    if plan.is_empty() {
        let _ = writeln!(
            out,
            "No changes. Stack {} matches the config ({} resources).",
            plan.stack,
            plan.changes.len()
        );
        return out;
    }
    let _ = writeln!(out, "Stack {}: changes to make\n", plan.stack);
    let mut changed: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .collect();
    changed.sort_by(|a, b| (a.area, &a.id).cmp(&(b.area, &b.id)));
    let replaces = format!("  {}", style("# forces replacement").red());
    let mut area = None;
    for c in changed {
        if area != Some(c.area) {
            let _ = writeln!(out, "{}", style(format!("{}:", c.area)).bold());
            area = Some(c.area);
        }
        let physical = c
            .physical_id
            .as_deref()
            .map(|p| format!(" {}", readable(p)))
            .unwrap_or_default();
        let _ = write!(
            out,
            "  {} {} ({}{})",
            symbol(c),
            style(&c.id).bold(),
            c.kind,
            physical
        );
        match (c.action, &c.reason) {
            (Action::Replace, Some(r)) => {
                let _ = write!(out, ": must be replaced ({r})");
            }
            (Action::Replace, None) if c.new_first => {
                out.push_str(": must be replaced, the new one first")
            }
            (Action::Replace, None) => out.push_str(": must be replaced"),
            (_, Some(r)) => {
                let _ = write!(out, ": {r}");
            }
            _ => {}
        }
        out.push('\n');
        let lines: Vec<(String, String)> = c
            .attrs
            .iter()
            .flat_map(|a| attr_lines(c.action, a, &replaces))
            .collect();
        let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, v) in lines {
            let _ = writeln!(out, "        {k:<width$}  {v}");
        }
    }
    let _ = writeln!(out, "\n{}", summary_line(plan.counts()));
    out
}

/// The plan as a pull request comment (GitHub-flavoured markdown): warnings first, a summary
/// table, the changes by area, and each resource's attribute changes folded away.
pub fn render_markdown(plan: &Plan, warnings: &[String]) -> String {
    let mut out = format!("### infra plan: stack `{}`\n\n", plan.stack);
    for w in warnings {
        let _ = writeln!(out, "> **Warning:** {w}\n");
    }
    for c in &plan.conflicts {
        let _ = writeln!(
            out,
            "> **Conflict:** `{}` ({} `{}`) has one of the stack's names but not its tag; apply \
             stops until it goes.\n",
            c.id, c.kind, c.physical_id
        );
    }
    for c in &plan.contests {
        let _ = writeln!(
            out,
            "> **Duplicates infra cannot settle:** `{}` ({}) is claimed by {}: {}.\n",
            c.id,
            c.kind,
            c.physical_ids.join(", "),
            c.why
        );
    }
    let n = plan.counts();
    let _ = writeln!(
        out,
        "| to add | to change | to replace | to destroy |\n|---:|---:|---:|---:|\n| {} | {} | {} | {} |",
        n.create, n.update, n.replace, n.delete
    );
    let mut changed: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .collect();
    if changed.is_empty() {
        let _ = writeln!(out, "No changes: the stack matches the config.");
    }
    changed.sort_by(|a, b| (a.area, &a.id).cmp(&(b.area, &b.id)));
    let mut area = None;
    for c in &changed {
        if area != Some(c.area) {
            let _ = writeln!(
                out,
                "\n**{}**\n\n| | resource | kind | AWS id | why |\n|---|---|---|---|---|",
                c.area
            );
            area = Some(c.area);
        }
        let _ = writeln!(
            out,
            "| `{}` | `{}` | {} | {} | {} |",
            c.symbol(),
            c.id,
            c.kind,
            c.physical_id
                .as_deref()
                .map(|p| format!("`{}`", readable(p)))
                .unwrap_or_default(),
            c.reason.as_deref().unwrap_or_default().replace('|', "\\|")
        );
    }
    let details: Vec<String> = changed
        .iter()
        .filter(|c| !c.attrs.is_empty())
        .map(|c| {
            let lines: String = c
                .attrs
                .iter()
                .flat_map(|a| attr_lines(c.action, a, "  # forces replacement"))
                .map(|(k, v)| format!("    {k} = {v}\n"))
                .collect();
            format!("{} {}\n{lines}", c.symbol(), c.id)
        })
        .collect();
    if !details.is_empty() {
        let _ = write!(
            out,
            "\n<details><summary>Attribute changes ({} resources)</summary>\n\n```\n{}```\n\n</details>\n",
            details.len(),
            details.join("")
        );
    }
    if !plan.strays.is_empty() {
        let ids: Vec<String> = plan
            .strays
            .iter()
            .map(|s| format!("{} `{}`", s.kind, s.physical_id))
            .collect();
        let _ = writeln!(
            out,
            "\nTagged with this stack, not made by infra (left alone): {}.",
            ids.join(", ")
        );
    }
    out
}

/// `Plan: X to add, Y to change, Z to destroy.` A replace counts as one add and one destroy.
pub fn summary_line(c: Counts) -> String {
    format!(
        "Plan: {} to add, {} to change, {} to destroy.",
        c.create + c.replace,
        c.update,
        c.delete + c.replace
    )
}

/// The lines of one attribute's change, plain; `note` ends each when the change forces a
/// replacement.
fn attr_lines(action: Action, a: &AttrChange, note: &str) -> Vec<(String, String)> {
    let note = if a.forces_replacement && action == Action::Replace {
        note
    } else {
        ""
    };
    match (&a.old, &a.new) {
        // Maps (tags) show only the keys that differ.
        (Some(Json::Object(old)), Some(Json::Object(new))) => {
            let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| old.get(*k) != new.get(*k))
                .map(|k| {
                    let value = match (old.get(k), new.get(k)) {
                        (Some(o), Some(n)) => format!("{} -> {}", show(o), show(n)),
                        (None, Some(n)) => format!("(none) -> {}", show(n)),
                        (Some(o), None) => format!("{} -> (removed)", show(o)),
                        (None, None) => String::new(),
                    };
                    (format!("{}.{k}", a.name), format!("{value}{note}"))
                })
                .collect()
        }
        (None, new) => vec![(a.name.clone(), format!("{}{note}", show_opt(new.as_ref())))],
        (Some(old), new) => vec![(
            a.name.clone(),
            format!("{} -> {}{note}", show(old), show_opt(new.as_ref())),
        )],
    }
}

fn show_opt(v: Option<&Json>) -> String {
    v.map(show).unwrap_or_else(|| UNKNOWN.to_string())
}

fn show(v: &Json) -> String {
    v.to_string()
}
