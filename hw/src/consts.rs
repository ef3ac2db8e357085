//! Compile-time widths of the hardware, all derived from the model's
//! [`config::HARDWARE`] preset (`alchitry-cu-v1`, one level): the one
//! configuration the RTL is built for.

use bloomtime_model::config::{self, Config};
use bloomtime_model::key::{key_layout, FLAG_BITS};

/// The configuration the hardware is built with.
pub const CFG: Config = config::HARDWARE;

/// Buckets per ring (`B`).
pub const B: usize = CFG.level(0).buckets as usize;
/// Epoch-tag bits stored with each line (`E`).
pub const E: usize = CFG.epoch_tag_bits as usize;
/// Bits of a bank line: tag, ring 0, ring 1.
pub const LINE_BITS: usize = CFG.line_bits() as usize;
/// Banks (`k`).
pub const K: usize = CFG.banks as usize;
/// Line address bits (`log2 M`).
pub const LINE_ADDR: usize = CFG.lines_log2 as usize;
/// Slot address bits (`log2 S`).
pub const SLOT_ADDR: usize = CFG.slots_log2 as usize;
/// Fingerprint bits.
pub const FP_BITS: usize = CFG.fingerprint_bits as usize;
/// Tag RAM word: valid bit and fingerprint.
pub const TAG_BITS: usize = FP_BITS + 1;
/// Sample bits (`xb`).
pub const X_BITS: usize = CFG.sample_bits() as usize;
/// Packet and sample-count bits (`P`).
pub const P_BITS: usize = CFG.packet_bits as usize;
/// Sum-of-samples bits.
pub const SUM_BITS: usize = CFG.sum_bits() as usize;
/// Sum-of-squares bits.
pub const SUMSQ_BITS: usize = CFG.sumsq_bits() as usize;
/// Stats RAM word.
pub const STATS_BITS: usize = CFG.stats_bits() as usize;
/// Bucket width, log2 time units (`s`).
pub const S_SHIFT: usize = CFG.level(0).bucket_log2 as usize;
/// Sample fraction bits (`f`).
pub const F_BITS: usize = CFG.sample_frac_bits as usize;
/// Timestamp bits.
pub const TS_BITS: usize = config::TS_BITS as usize;
/// Epoch bits (timestamp without the in-bucket part).
pub const EPOCH_BITS: usize = TS_BITS - S_SHIFT;
/// Record flag bits.
pub const FLAGS: usize = FLAG_BITS as usize;
/// Packed key bits.
pub const KEY_BITS: usize = key_layout::BITS as usize;
/// Bits of a bucket age (0..B-1) and its found flag.
pub const AGE_BITS: usize = 5;
/// Hash bits computed per endpoint: enough for the bank lines and slot + fingerprint.
pub const HASH_BITS: usize = 32;

const _: () = assert!(K == 2, "the RTL instantiates two banks");
const _: () = assert!(
    CFG.level_count() == 1 && CFG.second_moment && CFG.extremes && !CFG.histogram,
    "the RTL implements one level and keeps every moment"
);
const _: () = assert!(B == 16 && (1 << (AGE_BITS - 1)) >= B);
const _: () = assert!(K * LINE_ADDR <= HASH_BITS && SLOT_ADDR + FP_BITS <= HASH_BITS);
const _: () = assert!(X_BITS == 8 && F_BITS == 4 && E == 8 && LINE_BITS == 40);
