//! Compile-time widths of the hardware, all derived from the model's
//! [`config::HARDWARE`] preset (`alchitry-cu`, BloomTime v2): the one
//! configuration the RTL is built for.

use bloomtime_model::config::{self, Config};
use bloomtime_model::key::{key_layout, FLAG_BITS};

/// The configuration the hardware is built with.
pub const CFG: Config = config::HARDWARE;

/// Levels per line (`L`).
pub const L: usize = CFG.level_count();
/// Buckets per ring, the same in every level (`B`).
pub const B: usize = CFG.level(0).buckets as usize;
/// Bits of one level's ring pair.
pub const PAIR_BITS: usize = 2 * B;
/// Bits of a saturated level age `0..=B` (`B` means "older than the ring").
pub const DELTA_BITS: usize = B.trailing_zeros() as usize + 1;
/// Bits of every level's saturated age, level `i` at `i·DELTA_BITS`.
pub const DELTAS_BITS: usize = L * DELTA_BITS;
/// Bits of a line's epoch difference as bank stage 3 registers it
/// (`levels::EpochDiff`): per level the low age bits, the borrow and one
/// segment of the high bits' OR.
pub const DIFF_BITS: usize = L * (HIT_AGE_BITS + 2);
/// Bits of a bucket age inside a ring (`0..B`).
pub const HIT_AGE_BITS: usize = B.trailing_zeros() as usize;
/// Bits of a level index.
pub const LEVEL_BITS: usize = 3;
/// The window in finest epochs: a record this far after every line finds
/// every level empty (what a stale sweep pass does at once).
pub const WINDOW_EPOCHS: u64 = CFG.window_epochs();
/// Finest epochs a sweep pass keeps every tag unambiguous (docs/DESIGN.md §9).
pub const SWEEP_HORIZON: u64 = CFG.sweep_horizon();
/// Epoch-tag bits stored with each line (`E`).
pub const E: usize = CFG.epoch_tag_bits as usize;
/// Bits of a bank line: tag, then ring 0 and ring 1 of every level.
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
/// Stats RAM word.
pub const STATS_BITS: usize = CFG.stats_bits() as usize;
/// Level 0's bucket width, log2 time units (`s_0`).
pub const S_SHIFT: usize = CFG.level(0).bucket_log2 as usize;
/// Sample fraction bits (`f`).
pub const F_BITS: usize = CFG.sample_frac_bits as usize;
/// Timestamp bits.
pub const TS_BITS: usize = config::TS_BITS as usize;
/// Epoch bits (timestamp without level 0's in-bucket part).
pub const EPOCH_BITS: usize = TS_BITS - S_SHIFT;
/// Record flag bits.
pub const FLAGS: usize = FLAG_BITS as usize;
/// Packed key bits.
pub const KEY_BITS: usize = key_layout::BITS as usize;
/// Hash bits computed per endpoint: enough for the bank lines and slot + fingerprint.
pub const HASH_BITS: usize = 32;

const _: () = assert!(K == 1, "the RTL instantiates one bank");
const _: () = assert!(
    !CFG.second_moment && !CFG.extremes && !CFG.histogram,
    "the RTL keeps packets and the sums of the samples (the mean)"
);
const _: () = assert!(B.is_power_of_two() && L <= 1 << LEVEL_BITS && L >= 1);
const _: () = {
    let mut i = 0;
    while i < L {
        assert!(
            CFG.level(i).buckets as usize == B,
            "every level has B buckets"
        );
        i += 1;
    }
};
const _: () = assert!(K * LINE_ADDR <= HASH_BITS && SLOT_ADDR + FP_BITS <= HASH_BITS);
const _: () = assert!(X_BITS <= 32 && SUM_BITS <= 32 && E <= 32 && DELTAS_BITS <= 32);
