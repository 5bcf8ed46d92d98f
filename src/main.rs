//! `infra`: provisions, keeps in shape and tears down the AWS stack of a gRPC service on EKS.

mod aws;
mod call_log;
mod cli;
mod config;
mod cost;
mod delivery;
mod exec;
mod graph;
mod graph_dot;
mod kinds;
mod kube;
mod lock;
mod model;
mod naming;
mod observe;
mod plan;
mod preflight;
mod report;
mod retry;
mod snapshot;
mod stack;
mod tags;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    cli::main().await
}
