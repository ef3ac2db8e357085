//! # bloomtime-testkit
//!
//! What every BloomTime test shares, once (issue 15). A dev-dependency
//! only: no shipped crate depends on it.
//!
//! * [`seed`]: the seeded [`Rng`], the `BLOOMTIME_SEED` replay variable,
//!   a fixed-seed proptest configuration; a failing test prints its seed.
//! * [`env`]: the rule for what a test needs from outside the repository
//!   (the shared captures, yosys, verilator, nfcapd, root): under
//!   `CI=true` a missing one is a failure, never a skip; elsewhere a skip
//!   with a message on stderr. [`shared`] applies it to `../shared/traces`.
//! * [`gen`]: random record streams and colliding keys.
//! * [`core`]: the [`Core`] trait (a record in, a clock, outcomes, events,
//!   table slots and counters out) and the one comparison of a core with
//!   the golden model ([`core::check`]: the first diverging record, and a
//!   VCD where the core can write one).
//! * [`table`]: the core tests every implementation runs
//!   ([`core_tests!`]); with the `rust-hdl` feature [`rusthdl::RustHdlCore`]
//!   (bloomtime-hw's tests), with `verilator` the [`Core`] of
//!   `bloomtime_sim::CoreSim` (bloomtime-sim's tests).

pub mod core;
pub mod env;
pub mod gen;
pub mod seed;
pub mod shared;
pub mod table;

#[cfg(feature = "rust-hdl")]
pub mod rusthdl;
#[cfg(feature = "verilator")]
pub mod verilated;

pub use crate::core::{check, check_records, compare, Core, Drive, Input, Summary};
pub use env::{ci, have, need_tools, skip_or_fail};
pub use gen::{colliding_keys, random_flags, random_key, random_records};
pub use seed::{prop_config, seed, Rng};
