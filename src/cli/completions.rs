//! `infra completions`: shell completion scripts generated from the command line definition.

use super::Cli;
use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;
use std::io::Write;
use std::process::ExitCode;

/// Options of `infra completions`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Install:\n\
    bash:  infra completions bash > ~/.local/share/bash-completion/completions/infra\n\
    zsh:   infra completions zsh > \"${fpath[1]}/_infra\"\n\
    fish:  infra completions fish > ~/.config/fish/completions/infra.fish")]
pub struct Args {
    /// The shell to complete in
    #[arg(value_enum)]
    shell: Shell,
}

/// Writes the completion script for `shell` to `out`.
fn generate(shell: Shell, out: &mut dyn Write) {
    let mut cmd = Cli::command();
    let name = cmd.get_name().to_string();
    clap_complete::generate(shell, &mut cmd, name, out);
}

/// Prints the script.
pub fn run(args: &Args) -> Result<ExitCode> {
    // Generated into memory first: clap_complete panics on a failed write (a closed pipe).
    let mut script = Vec::new();
    generate(args.shell, &mut script);
    super::emit(&script)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn every_shell_gets_a_script_naming_every_subcommand() {
        let subcommands: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .collect();
        for want in [
            "plan",
            "apply",
            "destroy",
            "output",
            "graph",
            "schema",
            "completions",
        ] {
            assert!(subcommands.iter().any(|s| s == want), "{want} missing");
        }
        for shell in Shell::value_variants() {
            let mut out = Vec::new();
            generate(*shell, &mut out);
            let script = String::from_utf8(out).expect("scripts are UTF-8");
            assert!(script.contains("infra"), "{shell}: {script}");
            for sub in &subcommands {
                assert!(script.contains(sub.as_str()), "{shell} script lacks {sub}");
            }
            // Options of a subcommand are completed too.
            assert!(
                script.contains("auto-approve"),
                "{shell} lacks --auto-approve"
            );
        }
    }
}
