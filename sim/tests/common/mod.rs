//! Shared helpers: the test kit's seeded generator and random records
//! (`bloomtime-testkit`, as in bloomtime-hw's tests), and where a failing
//! test writes its VCD.
#![allow(dead_code)]

#[allow(unused_imports)]
pub use bloomtime_testkit::{colliding_keys, random_key, random_records, seed, Rng};
use std::path::PathBuf;

/// Where a failing test writes its VCD: `build/vcd/sim_<name>.vcd` in the workspace.
pub fn vcd_path(name: &str) -> PathBuf {
    bloomtime_testkit::core::vcd_path(&format!("sim_{name}"))
}
