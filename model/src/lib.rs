//! # bloomtime-model
//!
//! The golden model of BloomTime: the specification every other
//! implementation (the RustHDL design, its Verilog under Verilator, the
//! board) is compared with bit for bit. `docs/DESIGN.md` is its prose form.
//!
//! No dependency on rust-hdl or Verilator: the host builds without them.

pub mod bank;
pub mod config;
pub mod counters;
pub mod estimator;
pub mod exact;
pub mod golden;
pub mod hash;
pub mod key;
pub mod merge;
pub mod parse;
pub mod protocol;
pub mod regmap;
pub mod report;
pub mod stats;
pub mod table;

pub use config::{preset, Config, PRESETS};
pub use counters::{Counter, Counters};
pub use golden::{BloomTime, Outcome};
pub use key::{FlowKey, Record};

/// Property tests run from a fixed, printed seed (`BLOOMTIME_SEED` replays
/// another) and write no regression files: the test kit's rule.
#[cfg(test)]
pub(crate) use bloomtime_testkit::prop_config;
