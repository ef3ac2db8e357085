//! Shared helpers for the hardware tests: the test kit's seeded generator
//! and record generators (`bloomtime-testkit`), and the board as a host
//! transport.
#![allow(dead_code)]

pub mod sim_board;

#[allow(unused_imports)]
pub use bloomtime_testkit::{random_flags, random_key, random_records, seed, skip_or_fail, Rng};
