//! `infra list`: what the stack owns now, one resource per line (as `terraform state list`).

use super::{emit, load_and_observe, Cli};
use anyhow::Result;
use serde::Serialize;
use std::process::ExitCode;

/// Options of `infra list`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print a JSON array of {id, kind, physical_id}
    #[arg(long)]
    json: bool,
}

/// One owned resource.
#[derive(Serialize)]
struct Row<'a> {
    id: &'a str,
    kind: &'a str,
    physical_id: &'a str,
}

/// Lists the resources that carry the stack's tag and an id infra makes, read from the account.
pub async fn run(cli: &Cli, args: &Args) -> Result<ExitCode> {
    let cx = load_and_observe(cli).await?;
    let rows: Vec<Row> = cx
        .observed
        .iter()
        .filter(|o| !o.unowned && !o.stray)
        .map(|o| Row {
            id: o.id.as_str(),
            kind: o.kind.as_str(),
            physical_id: &o.physical_id,
        })
        .collect();
    if args.json {
        emit(serde_json::to_string_pretty(&rows)? + "\n")?;
        return Ok(ExitCode::SUCCESS);
    }
    emit(table(&rows))?;
    Ok(ExitCode::SUCCESS)
}

/// Aligned columns: logical id, kind, physical id.
fn table(rows: &[Row]) -> String {
    let id = rows.iter().map(|r| r.id.len()).max().unwrap_or(0);
    let kind = rows.iter().map(|r| r.kind.len()).max().unwrap_or(0);
    rows.iter()
        .map(|r| format!("{:id$}  {:kind$}  {}\n", r.id, r.kind, r.physical_id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let rows = [
            Row {
                id: "vpc",
                kind: "vpc",
                physical_id: "vpc-1",
            },
            Row {
                id: "subnet/public/a",
                kind: "subnet",
                physical_id: "subnet-1",
            },
        ];
        assert_eq!(
            table(&rows),
            "vpc              vpc     vpc-1\nsubnet/public/a  subnet  subnet-1\n"
        );
    }
}
