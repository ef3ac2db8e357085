//! `bloomtime`: parse flags, run, map errors to exit codes. Every error is
//! one line on standard error; the work is in the library.

use std::process::ExitCode;

bloomtime_host::note_closed_stdout!();

fn main() -> ExitCode {
    let cli: bloomtime_host::Cli = match bloomtime_host::cli::parse_args("bloomtime") {
        Ok(c) => c,
        Err(code) => return code,
    };
    match bloomtime_host::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that went away (`| head`): quiet, but not a success.
        Err(e) if e.is_broken_pipe() => ExitCode::from(e.exit_code()),
        Err(e) => {
            eprintln!("bloomtime: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
