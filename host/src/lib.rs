//! # bloomtime-host
//!
//! The library behind the `bloomtime` command: the command line and the
//! device client. `main.rs` only parses flags and maps errors to exit codes;
//! everything else lives here so tests and tools can reuse it:
//!
//! * [`analyze`] — one pass over captures through the golden model (with the
//!   host merge) and/or the exact tracker;
//! * [`compare`] — estimate against exact on the same packets, error
//!   statistics;
//! * [`plot`] — SVG figures of a comparison;
//! * [`device`] — the board link: transport, protocol client, the model
//!   device, `bloomtime device`;
//! * [`live`] — `bloomtime live`: an interface's packets through an
//!   AF_PACKET memory-mapped ring;
//! * [`ipfix`] — IPFIX export (RFC 7011) of flow rows over UDP or TCP;
//! * [`cli`] — the flags and `run`.
//!
//! `bloomtime eval`, the fidelity evaluation over real and generated traces
//! and a sweep of configurations, is the `bloomtime-eval` crate
//! (`bloomtime_eval::run`); the command line only passes its flags on.

pub mod analyze;
pub mod cli;
pub mod compare;
pub mod device;
pub mod error;
pub mod ipfix;
pub mod live;
pub mod plot;

pub use cli::{run, Cli};
pub use error::Error;

/// In a binary: a constructor that runs [`cli::note_stdout_at_start`]
/// before Rust's runtime reopens a closed standard output on `/dev/null`,
/// so that a report for standard output is an error there, not lost with
/// exit 0. Every binary that writes a report to standard output invokes it
/// once, at the top level of its `main.rs`.
#[macro_export]
macro_rules! note_closed_stdout {
    () => {
        #[used]
        #[cfg_attr(
            any(target_os = "linux", target_os = "android", target_os = "freebsd"),
            link_section = ".init_array"
        )]
        #[cfg_attr(target_os = "macos", link_section = "__DATA,__mod_init_func")]
        static NOTE_CLOSED_STDOUT: extern "C" fn() = {
            extern "C" fn note() {
                $crate::cli::note_stdout_at_start();
            }
            note
        };
    };
}
