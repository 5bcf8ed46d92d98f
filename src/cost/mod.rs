//! What the stack costs by the hour, now and after a plan, priced by AWS's Price List API.

mod prices;
mod usage;

pub use prices::{Prices, PRICING_REGION};
pub use usage::{Meter, Usage};

use crate::aws::Aws;
use crate::graph::Graph;
use crate::model::{LogicalId, Observed};
use crate::plan::{Action, Plan};
use serde::Serialize;
use serde_json::Map;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Hours in an average month (365 × 24 / 12), as AWS's pricing calculator counts them.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// What the estimate leaves out: billed by use, not by the hour.
pub const LEAVES_OUT: &str =
    "data processed and transferred (NAT gateways, VPC endpoints, ALB, between zones), \
     ALB capacity units (LCUs), the nodes' EBS volumes, logs, ECR storage and CodeBuild minutes";

/// One resource's part of the bill for one meter.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Line {
    /// The resource.
    pub id: LogicalId,
    /// What it is billed for.
    pub meter: Meter,
    /// How many run now.
    pub count_before: u32,
    /// How many run after the change.
    pub count_after: u32,
    /// USD per hour for one; `None` when AWS lists no price for it in the region.
    pub usd_per_hour: Option<f64>,
    /// USD per month now.
    pub monthly_before: f64,
    /// USD per month after the change.
    pub monthly_after: f64,
}

/// The monthly cost of what is billed by the hour, before and after a plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// The region priced.
    pub region: String,
    /// One line per resource and meter, in plan order.
    pub lines: Vec<Line>,
    /// USD per month now.
    pub monthly_before: f64,
    /// USD per month after the change.
    pub monthly_after: f64,
    /// What is not in it.
    pub leaves_out: &'static str,
}

/// The plan's cost: an estimate, or the one line that says why there is none.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cost {
    /// Priced.
    Estimated(Estimate),
    /// Not priced, and why.
    Unavailable(String),
}

/// What each resource of `plan` runs now (from `observed`) and after it (from `desired`, or
/// the live resource when it stays as it is). `extended` says whether a Kubernetes version is
/// in extended support.
pub fn usage(
    plan: &Plan,
    desired: &Graph,
    observed: &[Observed],
    extended: &dyn Fn(&str) -> bool,
) -> (Vec<Usage>, Vec<Usage>) {
    let live = |c: &crate::plan::Change| {
        observed
            .iter()
            .find(|o| o.id == c.id && Some(&o.physical_id) == c.physical_id.as_ref())
            .map(|o| o.attrs.clone().into_iter().collect::<Map<_, _>>())
    };
    let mut before = Vec::new();
    let mut after = Vec::new();
    for c in &plan.changes {
        let now = if c.action == Action::Create {
            None
        } else {
            live(c)
        };
        if let Some(attrs) = &now {
            before.extend(usage::of(&c.id, c.kind, attrs, extended));
        }
        let then = match (c.action, now) {
            (Action::Delete, _) => None,
            (Action::NoOp, Some(attrs)) => Some(attrs),
            _ => desired.get(&c.id).map(|d| usage::literal_attrs(&d.attrs)),
        };
        if let Some(attrs) = then {
            after.extend(usage::of(&c.id, c.kind, &attrs, extended));
        }
    }
    (before, after)
}

/// Every meter in `usages`, to price.
pub fn meters<'a>(usages: impl IntoIterator<Item = &'a Usage>) -> BTreeSet<Meter> {
    usages.into_iter().map(|u| u.meter.clone()).collect()
}

/// Prices `before` and `after` with `prices`, one line per resource and meter.
pub fn estimate(region: &str, before: &[Usage], after: &[Usage], prices: &Prices) -> Estimate {
    let mut order: Vec<(LogicalId, Meter)> = Vec::new();
    let mut counts: BTreeMap<(LogicalId, Meter), (u32, u32)> = BTreeMap::new();
    for (u, is_after) in before
        .iter()
        .map(|u| (u, false))
        .chain(after.iter().map(|u| (u, true)))
    {
        let key = (u.id.clone(), u.meter.clone());
        if !counts.contains_key(&key) {
            order.push(key.clone());
        }
        let entry = counts.entry(key).or_default();
        if is_after {
            entry.1 += u.count;
        } else {
            entry.0 += u.count;
        }
    }
    let lines: Vec<Line> = order
        .into_iter()
        .map(|(id, meter)| {
            let (count_before, count_after) = counts[&(id.clone(), meter.clone())];
            let usd_per_hour = prices.get(&meter).copied();
            let monthly = |n: u32| usd_per_hour.unwrap_or(0.0) * f64::from(n) * HOURS_PER_MONTH;
            Line {
                monthly_before: monthly(count_before),
                monthly_after: monthly(count_after),
                usd_per_hour,
                id,
                meter,
                count_before,
                count_after,
            }
        })
        .collect();
    Estimate {
        region: region.to_string(),
        monthly_before: lines.iter().map(|l| l.monthly_before).sum(),
        monthly_after: lines.iter().map(|l| l.monthly_after).sum(),
        lines,
        leaves_out: LEAVES_OUT,
    }
}

/// The cost of `plan`: what its resources run now and after it, priced by the Price List
/// API (or the reason there is no estimate).
pub async fn of_plan(
    aws: &Aws,
    plan: &Plan,
    desired: &Graph,
    observed: &[Observed],
    extended: &dyn Fn(&str) -> bool,
) -> Cost {
    let (before, after) = usage(plan, desired, observed, extended);
    let wanted = meters(before.iter().chain(&after));
    match prices::read(aws, &aws.region, &wanted).await {
        Ok(p) => Cost::Estimated(estimate(&aws.region, &before, &after, &p)),
        Err(why) => Cost::Unavailable(why.to_string()),
    }
}

/// `3`, or `2 -> 3` when the change changes it.
fn counts(l: &Line, arrow: &str) -> String {
    if l.count_before == l.count_after {
        l.count_after.to_string()
    } else {
        format!("{} {arrow} {}", l.count_before, l.count_after)
    }
}

/// `+$12.34`, `-$5.00`, `±$0.00`.
fn delta(d: f64) -> String {
    if d.abs() < 0.005 {
        "±$0.00".to_string()
    } else if d > 0.0 {
        format!("+${d:.2}")
    } else {
        format!("-${:.2}", -d)
    }
}

impl Cost {
    /// The cost section of the human plan.
    pub fn human(&self) -> String {
        let e = match self {
            Cost::Unavailable(why) => return format!("\nCost: not estimated: {why}.\n"),
            Cost::Estimated(e) => e,
        };
        let mut out = format!(
            "\nEstimated cost, billed by the hour (on-demand, {}): ${:.2}/month after this \
             change ({} from ${:.2}).\n",
            e.region,
            e.monthly_after,
            delta(e.monthly_after - e.monthly_before),
            e.monthly_before
        );
        let rows: Vec<[String; 6]> = e
            .lines
            .iter()
            .map(|l| {
                [
                    l.id.to_string(),
                    counts(l, "->"),
                    l.meter.to_string(),
                    l.usd_per_hour
                        .map_or_else(|| "no price".into(), |p| format!("${p:.4}")),
                    format!("${:.2}", l.monthly_after),
                    delta(l.monthly_after - l.monthly_before),
                ]
            })
            .collect();
        let header = [
            "resource",
            "count",
            "billed for",
            "per hour",
            "per month",
            "change",
        ];
        let mut width = header.map(str::len);
        for r in &rows {
            for (w, cell) in width.iter_mut().zip(r) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for r in std::iter::once(header.map(String::from)).chain(rows) {
            let [w0, w1, w2, w3, w4, w5] = width;
            let _ = writeln!(
                out,
                "  {:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {:>w4$}  {:>w5$}",
                r[0], r[1], r[2], r[3], r[4], r[5],
            );
        }
        if e.lines.iter().any(|l| l.usd_per_hour.is_none()) {
            let _ = writeln!(
                out,
                "AWS lists no price in {} for what says \"no price\"; it is left out of the total.",
                e.region
            );
        }
        let _ = writeln!(out, "Not included: {}.", e.leaves_out);
        out
    }

    /// The cost section of the markdown plan.
    pub fn markdown(&self) -> String {
        let e = match self {
            Cost::Unavailable(why) => return format!("\n**Cost:** not estimated: {why}.\n"),
            Cost::Estimated(e) => e,
        };
        let mut out = format!(
            "\n**Estimated cost** (billed by the hour, on-demand, {}): **${:.2}/month** after \
             this change ({} from ${:.2}).\n\n\
             | resource | billed for | count | $/hour | $/month | change |\n\
             |---|---|---:|---:|---:|---:|\n",
            e.region,
            e.monthly_after,
            delta(e.monthly_after - e.monthly_before),
            e.monthly_before
        );
        for l in &e.lines {
            let count = counts(l, "→");
            let price = l
                .usd_per_hour
                .map_or("no price".to_string(), |p| format!("{p:.4}"));
            let _ = writeln!(
                out,
                "| `{}` | {} | {count} | {price} | {:.2} | {} |",
                l.id,
                l.meter,
                l.monthly_after,
                delta(l.monthly_after - l.monthly_before)
            );
        }
        let _ = writeln!(out, "\nNot included: {}.", e.leaves_out);
        out
    }
}

#[cfg(test)]
mod tests;
