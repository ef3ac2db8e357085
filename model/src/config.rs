//! Configuration of a BloomTime instance and its named presets.
//!
//! One definition, used by the golden model, the RustHDL design (which takes
//! the `alchitry-cu` preset as compile-time constants), the Verilator model and
//! the host. Every derived width lives here too, so no other crate computes one.

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

/// Parameters of one BloomTime instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Time unit is `2^time_unit_log2_ns` nanoseconds.
    pub time_unit_log2_ns: u32,
    /// Bucket width is `2^bucket_log2` time units (`s`).
    pub bucket_log2: u32,
    /// Buckets per ring (`B`), 2..=64.
    pub buckets: u32,
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
    /// Sub-bucket resolution of a sample: `q = w / 2^sample_frac_bits` (`f`).
    pub sample_frac_bits: u32,
    /// Width of the packet and sample counters (`P`); a full counter evicts.
    pub packet_bits: u32,
}

/// A named preset.
#[derive(Clone, Copy, Debug)]
pub struct Preset {
    pub name: &'static str,
    pub summary: &'static str,
    pub config: Config,
}

/// The preset the hardware is built with: fits an iCE40 HX8K (32 × 4 Kbit
/// block RAM) with room for the UART link.
pub const ALCHITRY_CU: Config = Config {
    time_unit_log2_ns: 10,
    bucket_log2: 13,
    buckets: 16,
    banks: 2,
    lines_log2: 9,
    epoch_tag_bits: 8,
    slots_log2: 8,
    fingerprint_bits: 24,
    sample_frac_bits: 4,
    packet_bits: 16,
};

/// As close as powers of two allow to the paper's NetFPGA setup: 14 buckets of
/// 16.8 ms (paper: 23 ms), 2 hash functions, 2^19 lines (two banks of 2^18).
pub const PAPER: Config = Config {
    time_unit_log2_ns: 10,
    bucket_log2: 14,
    buckets: 14,
    banks: 2,
    lines_log2: 18,
    epoch_tag_bits: 8,
    slots_log2: 16,
    fingerprint_bits: 24,
    sample_frac_bits: 4,
    packet_bits: 32,
};

/// Software use: millions of flows.
pub const LARGE: Config = Config {
    time_unit_log2_ns: 10,
    bucket_log2: 12,
    buckets: 32,
    banks: 3,
    lines_log2: 20,
    epoch_tag_bits: 16,
    slots_log2: 20,
    fingerprint_bits: 32,
    sample_frac_bits: 6,
    packet_bits: 32,
};

pub const PRESETS: &[Preset] = &[
    Preset {
        name: "alchitry-cu",
        summary: "the hardware build: iCE40 HX8K block RAM with room for the UART link",
        config: ALCHITRY_CU,
    },
    Preset {
        name: "paper",
        summary: "the paper's NetFPGA setup: 14 buckets of ~17 ms, 2 hashes, 2^19 lines",
        config: PAPER,
    },
    Preset {
        name: "large",
        summary: "software: millions of flows",
        config: LARGE,
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
        if !(2..=64).contains(&self.buckets) {
            return e(format!("buckets must be 2..=64, got {}", self.buckets));
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
        if self.sample_frac_bits < 1 || self.sample_frac_bits > self.bucket_log2 {
            return e(format!(
                "sample_frac_bits must be 1..=bucket_log2 ({}), got {}",
                self.bucket_log2, self.sample_frac_bits
            ));
        }
        if self.bucket_log2 > 30 || self.time_unit_log2_ns > 20 {
            return e("bucket_log2 must be <= 30 and time_unit_log2_ns <= 20".into());
        }
        if self.epoch_tag_bits < bit_length(self.buckets as u64) + 1 || self.epoch_tag_bits > 32 {
            return e(format!(
                "epoch_tag_bits must be > log2(buckets)+1 and <= 32, got {}",
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
        if self.sumsq_bits() > 64 {
            return e(format!(
                "sum of squares needs {} bits (> 64): fewer packet_bits or sample bits",
                self.sumsq_bits()
            ));
        }
        Ok(())
    }

    /// `M`, lines per bank.
    pub const fn lines(&self) -> u32 {
        1 << self.lines_log2
    }
    /// `S`, flow-table slots.
    pub const fn slots(&self) -> u32 {
        1 << self.slots_log2
    }
    /// Bucket width in time units.
    pub const fn bucket_units(&self) -> u64 {
        1 << self.bucket_log2
    }
    /// Bucket width in nanoseconds.
    pub const fn bucket_ns(&self) -> u64 {
        1 << (self.bucket_log2 + self.time_unit_log2_ns)
    }
    /// Sample unit `q` in nanoseconds.
    pub const fn sample_unit_ns(&self) -> u64 {
        1 << (self.bucket_log2 - self.sample_frac_bits + self.time_unit_log2_ns)
    }
    /// Window covered by one ring, in nanoseconds.
    pub const fn window_ns(&self) -> u64 {
        self.bucket_ns() * self.buckets as u64
    }
    /// Largest sample the estimator can produce.
    pub const fn sample_max(&self) -> u64 {
        ((self.buckets as u64) << self.sample_frac_bits) - 1 - (1 << (self.sample_frac_bits - 1))
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
    /// Bits of a sum of squared samples.
    pub const fn sumsq_bits(&self) -> u32 {
        self.packet_bits + 2 * self.sample_bits()
    }
    /// Bits of one accumulator (n, Σx, Σx², min, max).
    pub const fn acc_bits(&self) -> u32 {
        self.packet_bits + self.sum_bits() + self.sumsq_bits() + 2 * self.sample_bits()
    }
    /// Bits of a slot's statistics word (packets + IAT + RTT accumulators).
    pub const fn stats_bits(&self) -> u32 {
        self.packet_bits + 2 * self.acc_bits()
    }
    /// Bits of a bank line: epoch tag and two rings.
    pub const fn line_bits(&self) -> u32 {
        self.epoch_tag_bits + 2 * self.buckets
    }
    /// Bytes of all bucket banks.
    pub const fn bank_bytes(&self) -> u64 {
        (self.banks as u64 * self.lines() as u64 * self.line_bits() as u64).div_ceil(8)
    }
    /// Bytes of the flow table (valid bit, fingerprint, statistics per slot).
    pub const fn table_bytes(&self) -> u64 {
        (self.slots() as u64 * (1 + self.fingerprint_bits + self.stats_bits()) as u64).div_ceil(8)
    }
    /// All state bytes of an instance.
    pub const fn state_bytes(&self) -> u64 {
        self.bank_bytes() + self.table_bytes()
    }
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "time unit {} ns, bucket {:.3} ms x {} (window {:.1} ms), sample unit {:.3} us, \
             {} banks x {} lines x {} bits, {} slots (fingerprint {} bits, stats {} bits)",
            1u64 << self.time_unit_log2_ns,
            self.bucket_ns() as f64 / 1e6,
            self.buckets,
            self.window_ns() as f64 / 1e6,
            self.sample_unit_ns() as f64 / 1e3,
            self.banks,
            self.lines(),
            self.line_bits(),
            self.slots(),
            self.fingerprint_bits,
            self.stats_bits(),
        )
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
    fn alchitry_cu_fits_the_hx8k() {
        let c = ALCHITRY_CU;
        // 32 block RAMs of 4 Kbit = 16 KiB; the link needs a few of them.
        assert!(c.state_bytes() <= 13 * 1024, "{} bytes", c.state_bytes());
        assert_eq!(c.line_bits(), 40);
        assert_eq!(c.sample_bits(), 8);
        assert_eq!(c.stats_bits(), 192);
    }

    #[test]
    fn derived_widths_cover_the_worst_case() {
        for p in PRESETS {
            let c = p.config;
            let pmax = c.packet_max() as u128;
            let xmax = c.sample_max() as u128;
            assert!(pmax * xmax < 1u128 << c.sum_bits());
            assert!(pmax * xmax * xmax < 1u128 << c.sumsq_bits());
        }
    }

    #[test]
    fn unknown_preset_names_the_known_ones() {
        let e = preset("nope").unwrap_err();
        assert!(e.0.contains("alchitry-cu") && e.0.contains("paper"), "{e}");
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let mut c = ALCHITRY_CU;
        c.sample_frac_bits = 0;
        assert!(c.validate().is_err());
        let mut c = ALCHITRY_CU;
        c.epoch_tag_bits = 4;
        assert!(c.validate().is_err());
        let mut c = LARGE;
        c.packet_bits = 32;
        c.buckets = 64;
        c.sample_frac_bits = 12;
        assert!(c.validate().is_err());
    }
}
