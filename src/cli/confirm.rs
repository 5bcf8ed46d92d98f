//! Asking before changing the account.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, IsTerminal, Write};

/// Returns Ok(true) when the user typed `yes`; refuses without a terminal unless pre-approved.
pub fn confirm(question: &str, auto_approve: bool) -> Result<bool> {
    if auto_approve {
        return Ok(true);
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!(
            "refusing to change the account without confirmation: stdin is not a terminal. \
             Review the plan above, then re-run with --auto-approve. Nothing was changed."
        );
    }
    print!("\n{question}\n  Only 'yes' will be accepted: ");
    std::io::stdout().flush().ok();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    Ok(answer.trim() == "yes")
}
