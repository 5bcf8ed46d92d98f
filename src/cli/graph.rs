//! `infra graph`: the stack's desired dependency graph as Graphviz DOT; no AWS call.

use super::Cli;
use crate::{config, graph_dot, stack};
use anyhow::Result;
use std::process::ExitCode;

/// Stands in for the account id, which the desired graph needs only inside ARNs and build
/// variables; the picture shows logical ids, kinds and edges, none of which depend on it.
const PLACEHOLDER_ACCOUNT: &str = "000000000000";

/// Options of `infra graph`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Read from the config alone. Resources are grouped by area; an arrow points from a \
    resource to one that needs it, dashed where the order is AWS's rule rather than a \
    reference.\n\nRender it with: infra graph | dot -Tpng -o graph.png"
)]
pub struct Args {}

/// Prints the graph.
pub fn run(cli: &Cli, _args: &Args) -> Result<ExitCode> {
    let loaded = config::load(cli.config.as_deref())?;
    let c = &loaded.config;
    let graph = stack::build(c, PLACEHOLDER_ACCOUNT);
    // A graph the executor could not order is a bug; say so rather than draw it.
    graph.topo_order()?;
    let dot = graph_dot::render(&format!("stack {} ({})", c.stack, c.region), &graph);
    super::emit(dot)?;
    Ok(ExitCode::SUCCESS)
}
