//! Reads what the stack owns from the live account, one batched call per resource family.

use crate::aws::Aws;
use crate::kinds;
use crate::model::{Kind, Observed};
use crate::snapshot::Snapshot;
use crate::stack;
use anyhow::Result;

/// Everything the stack owns, found by its `infra:stack` tag (or through a tagged parent);
/// what carries the tag with an id infra never makes is marked a stray.
pub async fn observe(aws: &Aws, stack: &str, account: &str) -> Result<Vec<Observed>> {
    let snap = Snapshot::new(aws.clone(), stack, account);
    let reads = Kind::ALL.iter().map(|&k| kinds::get(k).observe(&snap));
    let mut out = Vec::new();
    for found in futures::future::join_all(reads).await {
        out.extend(found?);
    }
    for o in out.iter_mut().filter(|o| !o.unowned) {
        o.stray = !stack::ids::is_infra_id(o.id.as_str());
    }
    out.sort_by(|a, b| (&a.id, &a.physical_id).cmp(&(&b.id, &b.physical_id)));
    Ok(out)
}
