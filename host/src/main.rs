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
                let line = bloomtime_host::cli::clap_error_line(&e);
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
