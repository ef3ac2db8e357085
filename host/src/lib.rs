//! # bloomtime-host
//!
//! The library behind the `bloomtime` command. `main.rs` only parses flags
//! and maps errors to exit codes; everything else lives here so evaluation
//! code can reuse it:
//!
//! * [`analyze`] — one pass over captures through the golden model (with the
//!   host merge) and/or the exact tracker;
//! * [`compare`] — estimate against exact on the same packets, error
//!   statistics;
//! * [`plot`] — SVG figures of a comparison;
//! * [`eval`] — `bloomtime eval`: the fidelity evaluation over real and
//!   generated traces and a sweep of configurations, errors split by cause;
//! * [`device`] — the board link: transport, protocol client, the model
//!   device, `bloomtime device`;
//! * [`cli`] — the flags and `run`.

pub mod analyze;
pub mod cli;
pub mod compare;
pub mod device;
pub mod error;
pub mod eval;
pub mod plot;

pub use cli::{run, Cli};
pub use error::Error;
