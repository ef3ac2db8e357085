//! `bloomtime`: parse flags, run, map errors to exit codes. Every error is
//! one line on standard error; the work is in the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli: bloomtime_host::Cli = match bloomtime_host::cli::parse_args("bloomtime") {
        Ok(c) => c,
        Err(code) => return code,
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
