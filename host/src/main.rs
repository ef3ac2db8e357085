//! `bloomtime`: parse flags, run, map errors to exit codes. Every error is
//! one line on standard error; the work is in the library.

use clap::error::ErrorKind;
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match bloomtime_host::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                let _ = e.print();
                return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
            }
            _ => {
                // clap's message, up to its usage lines, as one line.
                let msg = e.render().to_string();
                let line = msg
                    .lines()
                    .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more"))
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                let line = line.strip_prefix("error: ").unwrap_or(&line);
                eprintln!("bloomtime: {line} (see bloomtime --help)");
                return ExitCode::from(2);
            }
        },
    };
    match bloomtime_host::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bloomtime: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
