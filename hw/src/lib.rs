//! # bloomtime-hw
//!
//! BloomTime in RustHDL 0.46, built for the model's `alchitry-cu` preset.
//! One pipeline stage per file; every block has a test that compares it with
//! the golden model bit for bit.

pub mod admit;
pub mod board;
pub mod bram;
pub mod bucket_bank;
pub mod command;
pub mod consts;
pub mod core;
pub mod counter_bank;
pub mod estimator;
pub mod event_buffer;
pub mod event_walk;
pub mod flow_table;
pub mod frame_parser;
pub mod h3;
pub mod hash_unit;
pub mod leaf;
pub mod levels;
pub mod link;
pub mod prio;
pub mod registers;
pub mod replay_feed;
pub mod responder;
pub mod tag_check;
pub mod tops;
pub mod types;
pub mod uart;
pub mod util;
