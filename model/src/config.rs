//! Configuration of a BloomTime instance and its named presets.
//!
//! One definition, used by the golden model, the RustHDL design (which takes
//! the [`HARDWARE`] preset as compile-time constants), the Verilator model and
//! the host. Every derived width lives here too, so no other crate computes
//! one; so does the iCE40 block-RAM cost of a configuration ([`bram`]).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Width of a record timestamp in time units.
pub const TS_BITS: u32 = 40;
/// Mask of a record timestamp.
pub const TS_MASK: u64 = (1 << TS_BITS) - 1;
/// The parser's header window: bytes of a frame it may look at.
pub const HEADER_WINDOW: usize = 128;
/// At most this many IPv6 extension headers are walked.
pub const MAX_EXT_HEADERS: usize = 4;
/// Most levels a line may hold.
pub const MAX_LEVELS: usize = 12;

/// One level of a bank line (docs/DESIGN.md §4): a ring pair of `buckets`
/// one-bit buckets, each `2^bucket_log2` time units wide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Level {
    /// Bucket width is `2^bucket_log2` time units (`s_i`).
    pub bucket_log2: u32,
    /// Buckets per ring (`B_i`), 2..=64.
    pub buckets: u32,
}

/// The levels of a line, finest first (`L` of them, `1..=MAX_LEVELS`);
/// serialized as the list of levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Vec<Level>", try_from = "Vec<Level>")]
pub struct Levels {
    n: u32,
    l: [Level; MAX_LEVELS],
}

impl From<Levels> for Vec<Level> {
    fn from(l: Levels) -> Vec<Level> {
        l.as_slice().to_vec()
    }
}

impl TryFrom<Vec<Level>> for Levels {
    type Error = String;
    fn try_from(v: Vec<Level>) -> Result<Levels, String> {
        if v.is_empty() || v.len() > MAX_LEVELS {
            Err(format!("1..={MAX_LEVELS} levels, got {}", v.len()))
        } else {
            Ok(Levels::new(&v))
        }
    }
}

impl Levels {
    /// Levels from a list (finest first). Panics at compile time (presets) or
    /// run time on more than [`MAX_LEVELS`]; [`Config::validate`] checks the rest.
    pub const fn new(list: &[Level]) -> Levels {
        assert!(!list.is_empty() && list.len() <= MAX_LEVELS);
        let mut l = [Level {
            bucket_log2: 0,
            buckets: 0,
        }; MAX_LEVELS];
        let mut i = 0;
        while i < list.len() {
            l[i] = list[i];
            i += 1;
        }
        Levels {
            n: list.len() as u32,
            l,
        }
    }
    /// One level: the single-ring design.
    pub const fn one(bucket_log2: u32, buckets: u32) -> Levels {
        Levels::new(&[Level {
            bucket_log2,
            buckets,
        }])
    }
    /// Levels `s0, s0+step, s0+2·step, …` of `buckets` each, `n` of them.
    pub const fn geometric(s0: u32, step: u32, buckets: u32, n: usize) -> Levels {
        assert!(n >= 1 && n <= MAX_LEVELS);
        let mut l = [Level {
            bucket_log2: 0,
            buckets: 0,
        }; MAX_LEVELS];
        let mut i = 0;
        while i < n {
            l[i] = Level {
                bucket_log2: s0 + step * i as u32,
                buckets,
            };
            i += 1;
        }
        Levels { n: n as u32, l }
    }
    /// `L`.
    pub const fn len(&self) -> usize {
        self.n as usize
    }
    pub const fn is_empty(&self) -> bool {
        self.n == 0
    }
    /// Level `i` (`i < L`).
    pub const fn get(&self, i: usize) -> Level {
        assert!(i < self.n as usize);
        self.l[i]
    }
    pub fn as_slice(&self) -> &[Level] {
        &self.l[..self.n as usize]
    }
}

/// Parameters of one BloomTime instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Time unit is `2^time_unit_log2_ns` nanoseconds.
    pub time_unit_log2_ns: u32,
    /// The levels of a line, finest first. One level is the single-ring design.
    pub levels: Levels,
    /// Bloom-filter banks, one hash each (`k`), 1..=4.
    pub banks: u32,
    /// Lines per bank is `2^lines_log2` (`M`).
    pub lines_log2: u32,
    /// Width of the epoch tag stored with each line in hardware (`E`).
    pub epoch_tag_bits: u32,
    /// Flow-table slots is `2^slots_log2` (`S`).
    pub slots_log2: u32,
    /// Fingerprint bits stored per slot.
    pub fingerprint_bits: u32,
    /// Sub-bucket resolution of a sample: `q_i = w_i / 2^sample_frac_bits` (`f`).
    pub sample_frac_bits: u32,
    /// Width of the packet and sample counters (`P`); a full counter evicts.
    pub packet_bits: u32,
    /// The slot keeps `Σx²` (standard deviations).
    pub second_moment: bool,
    /// The slot keeps the smallest and largest sample.
    pub extremes: bool,
    /// The slot keeps a log-scale histogram of samples (percentiles).
    pub histogram: bool,
}

/// A named preset.
#[derive(Clone, Copy, Debug)]
pub struct Preset {
    pub name: &'static str,
    pub summary: &'static str,
    pub config: Config,
}

/// The hardware build (BloomTime v2): an iCE40 HX8K, core and board in 31 of
/// its 32 block RAMs and 85 % of its logic at 100 MHz. Seven levels of 8
/// buckets, 8.2 µs to 2.1 s wide (window 17 s), a 2 µs sample unit; the slot
/// keeps count and sum (the mean), with 6-bit counters and 15-bit
/// fingerprints. One bank of 512 lines: the best design of `just eval`
/// (docs/EVAL.md) has two banks of 256, which the board cannot clock at
/// 100 MHz within 85 % of its cells (docs/BOARD.md); one bank is the trade
/// that gets there at the least cost in fidelity.
pub const ALCHITRY_CU: Config = Config {
    time_unit_log2_ns: 10,
    levels: Levels::geometric(3, 3, 8, 7),
    banks: 1,
    lines_log2: 9,
    epoch_tag_bits: 23,
    slots_log2: 8,
    fingerprint_bits: 15,
    sample_frac_bits: 2,
    packet_bits: 6,
    second_moment: false,
    extremes: false,
    histogram: false,
};

/// The single-ring design the RTL implements today (one level of 16 buckets
/// of 8.4 ms); kept until the RTL follows [`ALCHITRY_CU`] (issue 13).
pub const ALCHITRY_CU_V1: Config = Config {
    time_unit_log2_ns: 10,
    levels: Levels::one(13, 16),
    banks: 2,
    lines_log2: 9,
    epoch_tag_bits: 8,
    slots_log2: 8,
    fingerprint_bits: 24,
    sample_frac_bits: 4,
    packet_bits: 16,
    second_moment: true,
    extremes: true,
    histogram: false,
};

/// The configuration the RTL is built with, and its preset's name.
pub const HARDWARE: Config = ALCHITRY_CU;
pub const HARDWARE_PRESET: &str = "alchitry-cu";

/// As close as powers of two allow to the paper's NetFPGA setup: 14 buckets of
/// 16.8 ms (paper: 23 ms), 2 hash functions, 2^19 lines (two banks of 2^18).
pub const PAPER: Config = Config {
    time_unit_log2_ns: 10,
    levels: Levels::one(14, 14),
    banks: 2,
    lines_log2: 18,
    epoch_tag_bits: 8,
    slots_log2: 16,
    fingerprint_bits: 24,
    sample_frac_bits: 4,
    packet_bits: 32,
    second_moment: true,
    extremes: true,
    histogram: false,
};

/// Software use: hundreds of thousands of concurrent flows, gaps from 1 µs to
/// 275 s (nine levels of 16 buckets, 1.0 µs to 17 s wide), percentiles.
pub const LARGE: Config = Config {
    time_unit_log2_ns: 9,
    levels: Levels::geometric(1, 3, 16, 9),
    banks: 3,
    lines_log2: 18,
    epoch_tag_bits: 30,
    slots_log2: 16,
    fingerprint_bits: 32,
    sample_frac_bits: 1,
    packet_bits: 16,
    second_moment: true,
    extremes: true,
    histogram: true,
};

/// Microsecond RTTs (data-centre fabrics): a 256 ns time unit, eight levels
/// of 16 buckets from 0.5 µs to 1.1 s wide (window 17 s), percentiles.
pub const DATACENTER: Config = Config {
    time_unit_log2_ns: 8,
    levels: Levels::geometric(1, 3, 16, 8),
    banks: 3,
    lines_log2: 16,
    epoch_tag_bits: 27,
    slots_log2: 14,
    fingerprint_bits: 32,
    sample_frac_bits: 1,
    packet_bits: 16,
    second_moment: true,
    extremes: true,
    histogram: true,
};

pub const PRESETS: &[Preset] = &[
    Preset {
        name: "alchitry-cu",
        summary: "BloomTime v2 for the iCE40 HX8K at 100 MHz: 7 levels, 8 us to 17 s, one bank, 31 of its 32 block RAMs",
        config: ALCHITRY_CU,
    },
    Preset {
        name: "alchitry-cu-v1",
        summary: "the single-ring design the RTL implemented before v2: 16 x 8.4 ms",
        config: ALCHITRY_CU_V1,
    },
    Preset {
        name: "paper",
        summary: "the paper's NetFPGA setup: 14 buckets of ~17 ms, 2 hashes, 2^19 lines",
        config: PAPER,
    },
    Preset {
        name: "large",
        summary: "software: 1 us to 275 s, hundreds of thousands of flows, percentiles",
        config: LARGE,
    },
    Preset {
        name: "datacenter",
        summary: "software: microsecond RTTs, 0.5 us to 17 s, percentiles",
        config: DATACENTER,
    },
];

/// Look a preset up by name.
pub fn preset(name: &str) -> Result<Config, ConfigError> {
    PRESETS
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.config)
        .ok_or_else(|| {
            ConfigError(format!(
                "unknown preset '{name}' (known: {})",
                PRESETS
                    .iter()
                    .map(|p| p.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// A configuration that cannot be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ConfigError {}

/// Number of bits needed to hold `v`.
pub const fn bit_length(v: u64) -> u32 {
    64 - v.leading_zeros()
}

impl Config {
    /// Check every constraint the model and hardware rely on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let e = |m: String| Err(ConfigError(m));
        let n = self.levels.n as usize;
        if !(1..=MAX_LEVELS).contains(&n) {
            return e(format!("levels must be 1..={MAX_LEVELS}, got {n}"));
        }
        let s0 = self.levels.l[0].bucket_log2;
        for (i, l) in self.levels.as_slice().iter().enumerate() {
            if !(2..=64).contains(&l.buckets) {
                return e(format!(
                    "level {i}: buckets must be 2..=64, got {}",
                    l.buckets
                ));
            }
            if l.bucket_log2 > 30 {
                return e(format!(
                    "level {i}: bucket_log2 must be <= 30, got {}",
                    l.bucket_log2
                ));
            }
            if i > 0 && l.bucket_log2 <= self.levels.l[i - 1].bucket_log2 {
                return e(format!(
                    "level {i}: buckets must be wider than level {}'s (bucket_log2 {} after {})",
                    i - 1,
                    l.bucket_log2,
                    self.levels.l[i - 1].bucket_log2
                ));
            }
        }
        if !(1..=4).contains(&self.banks) {
            return e(format!("banks must be 1..=4, got {}", self.banks));
        }
        if !(1..=24).contains(&self.lines_log2) || self.banks * self.lines_log2 > 64 {
            return e(format!(
                "lines_log2 must be 1..=24 and banks*lines_log2 <= 64, got {}",
                self.lines_log2
            ));
        }
        if self.sample_frac_bits < 1 || self.sample_frac_bits > s0 {
            return e(format!(
                "sample_frac_bits must be 1..=bucket_log2 of level 0 ({s0}), got {}",
                self.sample_frac_bits
            ));
        }
        if self.time_unit_log2_ns > 20 {
            return e("time_unit_log2_ns must be <= 20".into());
        }
        if self.epoch_tag_bits < self.min_epoch_tag_bits() || self.epoch_tag_bits > 32 {
            return e(format!(
                "epoch_tag_bits must be {}..=32 (the widest level's span in finest epochs, plus a bit), got {}",
                self.min_epoch_tag_bits(),
                self.epoch_tag_bits
            ));
        }
        if !(1..=24).contains(&self.slots_log2)
            || self.fingerprint_bits == 0
            || self.slots_log2 + self.fingerprint_bits > 64
        {
            return e("slots_log2 must be 1..=24, fingerprint_bits >= 1, sum <= 64".into());
        }
        if !(4..=32).contains(&self.packet_bits) {
            return e(format!(
                "packet_bits must be 4..=32, got {}",
                self.packet_bits
            ));
        }
        if self.sample_bits() > 32 || self.sum_bits() > 64 {
            return e(format!(
                "samples need {} bits and their sum {} (at most 32 and 64)",
                self.sample_bits(),
                self.sum_bits()
            ));
        }
        if self.sumsq_bits() > 127 {
            return e(format!(
                "sum of squares needs {} bits (> 127): fewer packet_bits or sample bits",
                self.sumsq_bits()
            ));
        }
        Ok(())
    }

    /// `L`, levels per line.
    pub const fn level_count(&self) -> usize {
        self.levels.len()
    }
    /// Level `i`.
    pub const fn level(&self, i: usize) -> Level {
        self.levels.get(i)
    }
    /// `g_i = s_i − s_0`: level `i`'s bucket width over level 0's, log2.
    pub const fn level_shift(&self, i: usize) -> u32 {
        self.levels.get(i).bucket_log2 - self.levels.get(0).bucket_log2
    }
    /// Smallest epoch tag with which hardware can age every level: the
    /// widest span `B_i · 2^g_i` in finest epochs, plus one bit.
    pub const fn min_epoch_tag_bits(&self) -> u32 {
        let mut m = 0;
        let mut i = 0;
        while i < self.levels.len() {
            let b = bit_length((self.levels.get(i).buckets as u64) << self.level_shift(i)) + 1;
            if b > m {
                m = b;
            }
            i += 1;
        }
        m
    }
    /// The span of level `i` in finest epochs: `B_i · 2^g_i`.
    pub const fn level_span_epochs(&self, i: usize) -> u64 {
        (self.levels.get(i).buckets as u64) << self.level_shift(i)
    }
    /// The window in finest epochs (the widest level span): a record this
    /// many epochs after a line's tag finds every level of it empty.
    pub const fn window_epochs(&self) -> u64 {
        let mut m = 0;
        let mut i = 0;
        while i < self.levels.len() {
            if self.level_span_epochs(i) > m {
                m = self.level_span_epochs(i);
            }
            i += 1;
        }
        m
    }
    /// Finest epochs after a sweep pass's start within which every line's
    /// `E`-bit tag still gives every level's age (docs/DESIGN.md §9):
    /// `2^E − 2^(g_(L−1)) − B_0`.
    pub const fn sweep_horizon(&self) -> u64 {
        (1u64 << self.epoch_tag_bits)
            - (1u64 << self.level_shift(self.levels.len() - 1))
            - self.levels.get(0).buckets as u64
    }
    /// `M`, lines per bank.
    pub const fn lines(&self) -> u32 {
        1 << self.lines_log2
    }
    /// `S`, flow-table slots.
    pub const fn slots(&self) -> u32 {
        1 << self.slots_log2
    }
    /// Level 0's bucket width in time units (`w_0`, in units).
    pub const fn bucket_units(&self) -> u64 {
        1 << self.levels.get(0).bucket_log2
    }
    /// Level `i`'s bucket width in nanoseconds.
    pub const fn level_bucket_ns(&self, i: usize) -> u64 {
        1 << (self.levels.get(i).bucket_log2 + self.time_unit_log2_ns)
    }
    /// Level 0's bucket width in nanoseconds (`w_0`).
    pub const fn bucket_ns(&self) -> u64 {
        self.level_bucket_ns(0)
    }
    /// Sample unit `q = q_0` in nanoseconds: every sample is counted in it.
    pub const fn sample_unit_ns(&self) -> u64 {
        1 << (self.levels.get(0).bucket_log2 - self.sample_frac_bits + self.time_unit_log2_ns)
    }
    /// Window of level `i` in nanoseconds.
    pub const fn level_window_ns(&self, i: usize) -> u64 {
        self.level_bucket_ns(i) * self.levels.get(i).buckets as u64
    }
    /// Window of the line (its coarsest level) in nanoseconds.
    pub const fn window_ns(&self) -> u64 {
        self.level_window_ns(self.levels.len() - 1)
    }
    /// Largest sample level `i` can produce, in units `q_0`.
    pub const fn level_sample_max(&self, i: usize) -> u64 {
        let f = self.sample_frac_bits;
        let top = ((self.levels.get(i).buckets as u64) << f) - 1 - (1 << (f - 1));
        let g = self.level_shift(i);
        if g == 0 {
            top
        } else {
            (top << g) + (1 << (g - 1))
        }
    }
    /// Largest sample the estimator can produce (the coarsest level's).
    pub const fn sample_max(&self) -> u64 {
        self.level_sample_max(self.levels.len() - 1)
    }
    /// Bits of one sample (`xb`).
    pub const fn sample_bits(&self) -> u32 {
        bit_length(self.sample_max())
    }
    /// Largest packet count a slot holds before it is evicted.
    pub const fn packet_max(&self) -> u64 {
        (1 << self.packet_bits) - 1
    }
    /// Bits of a sum of samples.
    pub const fn sum_bits(&self) -> u32 {
        self.packet_bits + self.sample_bits()
    }
    /// Bits of the sum of corrected squares (two's complement where levels
    /// subtract a correction, §7); 0 without the second moment.
    pub const fn sumsq_bits(&self) -> u32 {
        if !self.second_moment {
            0
        } else if self.levels.len() > 1 {
            self.packet_bits + 2 * self.sample_bits() + 1
        } else {
            self.packet_bits + 2 * self.sample_bits()
        }
    }
    /// Bits of the minimum and the maximum together; 0 without extremes.
    pub const fn extremes_bits(&self) -> u32 {
        if self.extremes {
            2 * self.sample_bits()
        } else {
            0
        }
    }
    /// Bits of one accumulator (n, Σx, Σx², min, max).
    pub const fn acc_bits(&self) -> u32 {
        self.packet_bits + self.sum_bits() + self.sumsq_bits() + self.extremes_bits()
    }
    /// Bits of a slot's statistics word (packets + IAT + RTT accumulators).
    pub const fn stats_bits(&self) -> u32 {
        self.packet_bits + 2 * self.acc_bits()
    }
    /// Histogram bins per sample kind: 0 without a histogram (§7).
    pub const fn hist_bins(&self) -> u32 {
        if self.histogram {
            1 + 2 * self.sample_bits()
        } else {
            0
        }
    }
    /// Bits of a slot's two histograms (one `P`-bit counter a bin).
    pub const fn hist_bits(&self) -> u32 {
        2 * self.hist_bins() * self.packet_bits
    }
    /// Bits of all levels' rings of a line.
    pub const fn ring_bits(&self) -> u32 {
        let mut b = 0;
        let mut i = 0;
        while i < self.levels.len() {
            b += 2 * self.levels.get(i).buckets;
            i += 1;
        }
        b
    }
    /// Bits of a bank line: epoch tag and two rings per level.
    pub const fn line_bits(&self) -> u32 {
        self.epoch_tag_bits + self.ring_bits()
    }
    /// Bytes of all bucket banks.
    pub const fn bank_bytes(&self) -> u64 {
        (self.banks as u64 * self.lines() as u64 * self.line_bits() as u64).div_ceil(8)
    }
    /// Bits of one flow-table slot (valid bit, fingerprint, statistics, histograms).
    pub const fn slot_bits(&self) -> u32 {
        1 + self.fingerprint_bits + self.stats_bits() + self.hist_bits()
    }
    /// Bytes of the flow table.
    pub const fn table_bytes(&self) -> u64 {
        (self.slots() as u64 * self.slot_bits() as u64).div_ceil(8)
    }
    /// All state bytes of an instance.
    pub const fn state_bytes(&self) -> u64 {
        self.bank_bytes() + self.table_bytes()
    }
    /// iCE40 block RAMs of the core: banks, the flow table's tag and stats
    /// memories, as the RTL lays them out ([`bram`]).
    pub const fn core_brams(&self) -> u64 {
        self.banks as u64 * bram::blocks(self.lines() as u64, self.line_bits() as u64)
            + bram::blocks(self.slots() as u64, 1 + self.fingerprint_bits as u64)
            + bram::blocks(
                self.slots() as u64,
                (self.stats_bits() + self.hist_bits()) as u64,
            )
    }
    /// Block RAMs of core and board (the board's buffers, [`bram::BOARD`]).
    pub const fn board_brams(&self) -> u64 {
        self.core_brams() + bram::board_blocks()
    }
}

/// The iCE40's block RAM (SB_RAM40_4K): what a memory of the design costs.
pub mod bram {
    /// Blocks on the HX8K.
    pub const HX8K_BLOCKS: u64 = 32;
    /// The geometries of one SB_RAM40_4K: (depth, width).
    pub const GEOMETRIES: [(u64, u64); 4] = [(256, 16), (512, 8), (1024, 4), (2048, 2)];

    /// Blocks of a memory of `depth` words of `width` bits: the cheapest
    /// geometry, words spread over `⌈depth/d⌉ · ⌈width/w⌉` blocks.
    pub const fn blocks(depth: u64, width: u64) -> u64 {
        if depth == 0 || width == 0 {
            return 0;
        }
        let mut best = u64::MAX;
        let mut i = 0;
        while i < GEOMETRIES.len() {
            let (d, w) = GEOMETRIES[i];
            let b = depth.div_ceil(d) * width.div_ceil(w);
            if b < best {
                best = b;
            }
            i += 1;
        }
        best
    }

    /// The board's memories besides the core: (what, depth, width).
    pub const BOARD: [(&str, u64, u64); 4] = [
        (
            "event buffer",
            crate::protocol::EVENT_BUFFER_BYTES as u64,
            8,
        ),
        (
            "link request buffer",
            crate::protocol::LINK_BUFFER_BYTES as u64,
            8,
        ),
        (
            "link response buffer",
            crate::protocol::LINK_BUFFER_BYTES as u64,
            8,
        ),
        ("counter bank", crate::regmap::COUNTER_RAM_WORDS as u64, 32),
    ];

    /// Blocks of the board's own memories.
    pub const fn board_blocks() -> u64 {
        let mut b = 0;
        let mut i = 0;
        while i < BOARD.len() {
            b += blocks(BOARD[i].1, BOARD[i].2);
            i += 1;
        }
        b
    }
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.level_count();
        if n == 1 {
            write!(
                f,
                "time unit {} ns, bucket {} x {} (window {}), ",
                1u64 << self.time_unit_log2_ns,
                fmt_ns(self.bucket_ns()),
                self.level(0).buckets,
                fmt_ns(self.window_ns()),
            )?;
        } else {
            let buckets: Vec<String> = self
                .levels
                .as_slice()
                .iter()
                .map(|l| l.buckets.to_string())
                .collect();
            write!(
                f,
                "time unit {} ns, {n} levels of {} buckets, {} to {} wide (window {}), ",
                1u64 << self.time_unit_log2_ns,
                buckets.join("/"),
                fmt_ns(self.bucket_ns()),
                fmt_ns(self.level_bucket_ns(n - 1)),
                fmt_ns(self.window_ns()),
            )?;
        }
        let mut keeps = vec!["n", "sum"];
        if self.second_moment {
            keeps.push("sum of squares");
        }
        if self.extremes {
            keeps.push("min/max");
        }
        if self.histogram {
            keeps.push("histogram");
        }
        write!(
            f,
            "sample unit {}, {} banks x {} lines x {} bits, {} slots (fingerprint {} bits, stats {} bits: {})",
            fmt_ns(self.sample_unit_ns()),
            self.banks,
            self.lines(),
            self.line_bits(),
            self.slots(),
            self.fingerprint_bits,
            self.stats_bits() + self.hist_bits(),
            keeps.join(", "),
        )
    }
}

/// A duration in nanoseconds with a unit a person reads.
pub fn fmt_ns(ns: u64) -> String {
    let v = ns as f64;
    if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 1_000_000 {
        format!("{:.3} us", v / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.3} ms", v / 1e6)
    } else {
        format!("{:.3} s", v / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid() {
        for p in PRESETS {
            p.config
                .validate()
                .unwrap_or_else(|e| panic!("{}: {e}", p.name));
        }
    }

    #[test]
    fn the_v1_hardware_is_todays_design() {
        let c = ALCHITRY_CU_V1;
        assert_eq!(c.line_bits(), 40);
        assert_eq!(c.sample_bits(), 8);
        assert_eq!(c.stats_bits(), 192);
        assert_eq!(c.state_bytes(), 12_064);
        // 2 banks x 5 + tags 2 + stats 12, board 8: the 32 of the HX8K.
        assert_eq!(c.core_brams(), 24);
        assert_eq!(c.board_brams(), bram::HX8K_BLOCKS);
    }

    #[test]
    fn alchitry_cu_fits_the_hx8k_and_the_range() {
        let c = ALCHITRY_CU;
        assert!(
            c.board_brams() <= bram::HX8K_BLOCKS,
            "{} blocks",
            c.board_brams()
        );
        // Resolves gaps of 16 us or less, sees gaps of 8 s or more.
        assert!(c.bucket_ns() <= 16_000, "{}", c.bucket_ns());
        assert!(c.window_ns() >= 8_000_000_000, "{}", c.window_ns());
    }

    #[test]
    fn software_presets_span_microseconds_to_a_minute() {
        assert!(LARGE.bucket_ns() <= 2_000 && LARGE.window_ns() >= 60_000_000_000);
        assert!(DATACENTER.bucket_ns() <= 1_000 && DATACENTER.window_ns() >= 8_000_000_000);
        const { assert!(LARGE.histogram && DATACENTER.histogram) };
    }

    #[test]
    fn sweep_horizon_and_window() {
        // One level of 16 with 8-bit tags: the v1 RTL's 239 epochs and a
        // window of one ring.
        assert_eq!(ALCHITRY_CU_V1.sweep_horizon(), 239);
        assert_eq!(ALCHITRY_CU_V1.window_epochs(), 16);
        // Seven levels of 8, three octaves apart, 23-bit tags.
        assert_eq!(ALCHITRY_CU.window_epochs(), 8 << 18);
        assert_eq!(ALCHITRY_CU.sweep_horizon(), (1 << 23) - (1 << 18) - 8);
        for p in PRESETS {
            let c = p.config;
            // A pass's horizon always covers the window: a record within the
            // window of the last never waits for a stale pass.
            assert!(c.sweep_horizon() >= c.window_epochs(), "{}", p.name);
        }
    }

    #[test]
    fn block_ram_geometries() {
        // The example: a 78-bit line on 512 lines costs 10 blocks.
        assert_eq!(bram::blocks(512, 78), 10);
        assert_eq!(bram::blocks(256, 16), 1);
        assert_eq!(bram::blocks(256, 17), 2);
        assert_eq!(bram::blocks(2048, 8), 4);
        assert_eq!(bram::blocks(32, 32), 2);
        assert_eq!(bram::blocks(4096, 2), 2);
        assert_eq!(bram::board_blocks(), 8);
    }

    #[test]
    fn derived_widths_cover_the_worst_case() {
        for p in PRESETS {
            let c = p.config;
            let pmax = c.packet_max() as u128;
            let xmax = c.sample_max() as u128;
            assert!(pmax * xmax < 1u128 << c.sum_bits());
            if c.second_moment {
                assert!(pmax * xmax * xmax < 1u128 << c.sumsq_bits());
            }
            for i in 0..c.level_count() {
                assert!(c.level_sample_max(i) <= c.sample_max());
            }
        }
    }

    #[test]
    fn unknown_preset_names_the_known_ones() {
        let e = preset("nope").unwrap_err();
        assert!(e.0.contains("alchitry-cu") && e.0.contains("paper"), "{e}");
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let mut c = ALCHITRY_CU_V1;
        c.sample_frac_bits = 0;
        assert!(c.validate().is_err());
        let mut c = ALCHITRY_CU_V1;
        c.epoch_tag_bits = 4;
        assert!(c.validate().is_err());
        let mut c = LARGE;
        c.levels = Levels::one(12, 64);
        c.packet_bits = 32;
        c.sample_frac_bits = 12;
        c.epoch_tag_bits = 8;
        // 18-bit samples: sum 50 bits, sum of squares 68: fits.
        assert!(c.validate().is_ok());
        c.levels = Levels::new(&[
            Level {
                bucket_log2: 12,
                buckets: 64,
            },
            Level {
                bucket_log2: 30,
                buckets: 64,
            },
        ]);
        c.epoch_tag_bits = 32;
        // Samples of 37 bits do not fit.
        assert!(c.validate().unwrap_err().0.contains("samples need"));
        let mut c = LARGE;
        let l = Level {
            bucket_log2: 10,
            buckets: 8,
        };
        c.levels = Levels::new(&[l, l]);
        assert!(c.validate().unwrap_err().0.contains("wider"));
        let mut c = ALCHITRY_CU;
        c.epoch_tag_bits = c.min_epoch_tag_bits() - 1;
        assert!(c.validate().is_err());
    }
}
