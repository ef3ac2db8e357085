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
pub mod plot;

pub use cli::{run, Cli};
pub use error::Error;
