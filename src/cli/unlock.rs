//! `infra unlock`: releases a stack's lock that a dead run left behind.

use super::confirm::confirm;
use super::{connect, Cli};
use crate::lock;
use anyhow::Result;
use std::process::ExitCode;

/// Options of `infra unlock`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Release without asking (for CI, where nobody can answer)
    #[arg(long)]
    force: bool,
}

/// Shows who holds the lock, confirms, and deletes it if that holder still has it.
pub async fn run(cli: &Cli, args: &Args) -> Result<ExitCode> {
    let conn = connect(cli).await?;
    let stack = &conn.loaded.config.stack;
    let Some(holder) = lock::holder(&conn.aws, stack).await? else {
        println!("Stack {stack} is not locked: nothing to release.");
        return Ok(ExitCode::SUCCESS);
    };
    println!("Stack {stack} is locked by {holder}.");
    let question = "Release it? If that run is still alive, it stops starting new work when it \
                    notices, and another run may start beside the calls it has in flight.";
    if !confirm(question, args.force)? {
        println!("Unlock cancelled; the lock is still held.");
        return Ok(ExitCode::FAILURE);
    }
    if lock::force_release(&conn.aws, stack, &holder).await? {
        println!("Released the lock of stack {stack}.");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "error: the lock of stack {stack} changed hands meanwhile; nothing was released. \
             Run `infra unlock` again to see who holds it now."
        );
        Ok(ExitCode::FAILURE)
    }
}
