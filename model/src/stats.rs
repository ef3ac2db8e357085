//! Statistics (docs/DESIGN.md §7): per-flow mean, standard deviation, min and
//! max in microseconds, from estimated or exact sums.

use crate::config::Config;
use crate::key::FlowKey;
use crate::merge::{MergedAcc, MergedStats};
use serde::Serialize;

/// Summary of one sample kind of one flow; `n = 0` means no samples. A
/// figure the configuration does not keep is NaN (an empty CSV cell, `null`
/// in JSON).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Moments {
    pub n: u64,
    pub mean_us: f64,
    pub std_us: f64,
    pub min_us: f64,
    pub max_us: f64,
    /// p50, p90, p99 ([`PERCENTILES`]).
    pub pct_us: [f64; 3],
}

/// Equal figures, a figure not kept (NaN) equal to another not kept.
impl PartialEq for Moments {
    fn eq(&self, o: &Moments) -> bool {
        let same = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
        self.n == o.n
            && same(self.mean_us, o.mean_us)
            && same(self.std_us, o.std_us)
            && same(self.min_us, o.min_us)
            && same(self.max_us, o.max_us)
            && self.pct_us.iter().zip(&o.pct_us).all(|(a, b)| same(*a, *b))
    }
}

impl Default for Moments {
    fn default() -> Moments {
        Moments {
            n: 0,
            mean_us: 0.0,
            std_us: 0.0,
            min_us: 0.0,
            max_us: 0.0,
            pct_us: [f64::NAN; 3],
        }
    }
}

/// The percentiles reported: nearest rank, `⌈p·n⌉`-th smallest sample.
pub const PERCENTILES: [f64; 3] = [0.5, 0.9, 0.99];

/// The rank (1-based) of percentile `p` among `n` samples.
fn rank(p: f64, n: u64) -> u64 {
    ((p * n as f64).ceil() as u64).clamp(1, n)
}

/// Percentiles of an estimate's histogram (docs/DESIGN.md §7): the bin that
/// holds the rank, reported at its midpoint `(lo + hi)/2 · q_0` (the `+q_0/2`
/// of the mean's correction included).
pub fn hist_percentiles(cfg: &Config, bins: &[u64]) -> [f64; 3] {
    let n: u64 = bins.iter().sum();
    let q = cfg.sample_unit_ns() as f64;
    let mut out = [f64::NAN; 3];
    if n == 0 {
        return out;
    }
    for (o, p) in out.iter_mut().zip(PERCENTILES) {
        let r = rank(p, n);
        let mut c = 0;
        for (b, &k) in bins.iter().enumerate() {
            c += k;
            if c >= r {
                let (lo, hi) = crate::table::hist_bin_range(b);
                *o = (lo + hi) as f64 / 2.0 * q / 1e3;
                break;
            }
        }
    }
    out
}

/// Percentiles of exact samples in nanoseconds (sorted in place).
pub fn exact_percentiles(samples: &mut [u64]) -> [f64; 3] {
    let mut out = [f64::NAN; 3];
    if samples.is_empty() {
        return out;
    }
    samples.sort_unstable();
    for (o, p) in out.iter_mut().zip(PERCENTILES) {
        *o = samples[rank(p, samples.len() as u64) as usize - 1] as f64 / 1e3;
    }
    out
}

/// One row of every flow report.
#[derive(Clone, Copy, PartialEq, Debug, Serialize)]
pub struct FlowRow {
    pub key: FlowKey,
    pub packets: u64,
    pub iat: Moments,
    pub rtt: Moments,
}

/// `n·Σx² − (Σx)²` divided by `n²`, exactly while it fits in 128 bits
/// (negative where a corrected `Σx²` is smaller than the square of the mean).
fn variance(n: u64, sum: u128, sumsq: i128) -> f64 {
    let n128 = n as i128;
    let exact = i128::try_from(sum)
        .ok()
        .and_then(|s| s.checked_mul(s))
        .zip(n128.checked_mul(sumsq));
    match exact {
        Some((b, a)) => (a - b) as f64 / (n as f64 * n as f64),
        None => {
            let m = sum as f64 / n as f64;
            sumsq as f64 / n as f64 - m * m
        }
    }
}

/// Moments of estimated samples (units `q_0`), with the §7 corrections:
/// mean `(Σx/n + ½)·q_0`; variance `Σ(x² − d)/n − (Σx/n)² − (w_0² + q_0²)/12`
/// (in `q_0²`), clamped at 0; min and max `(x + ½)·q_0`. Figures the
/// configuration does not keep are NaN.
pub fn estimated_moments(cfg: &Config, a: &MergedAcc) -> Moments {
    if a.n == 0 {
        return Moments::default();
    }
    let q = cfg.sample_unit_ns() as f64;
    let w = cfg.bucket_ns() as f64;
    let mean_x = a.sum as f64 / a.n as f64;
    let std_us = if cfg.second_moment {
        let var_ns = (variance(a.n, a.sum, a.sumsq) * q * q - (w * w + q * q) / 12.0).max(0.0);
        var_ns.sqrt() / 1e3
    } else {
        f64::NAN
    };
    let (min_us, max_us) = if cfg.extremes {
        (
            (a.min as f64 + 0.5) * q / 1e3,
            (a.max as f64 + 0.5) * q / 1e3,
        )
    } else {
        (f64::NAN, f64::NAN)
    };
    Moments {
        n: a.n,
        mean_us: (mean_x + 0.5) * q / 1e3,
        std_us,
        min_us,
        max_us,
        pct_us: [f64::NAN; 3],
    }
}

/// Moments of exact samples in nanoseconds.
pub fn exact_moments(a: &MergedAcc) -> Moments {
    if a.n == 0 {
        return Moments::default();
    }
    Moments {
        n: a.n,
        mean_us: a.sum as f64 / a.n as f64 / 1e3,
        std_us: variance(a.n, a.sum, a.sumsq).max(0.0).sqrt() / 1e3,
        min_us: a.min as f64 / 1e3,
        max_us: a.max as f64 / 1e3,
        pct_us: [f64::NAN; 3],
    }
}

/// A report row from merged estimated statistics.
pub fn estimated_row(cfg: &Config, key: &FlowKey, s: &MergedStats) -> FlowRow {
    FlowRow {
        key: *key,
        packets: s.packets,
        iat: estimated_moments(cfg, &s.iat),
        rtt: estimated_moments(cfg, &s.rtt),
    }
}

/// A report row from exact statistics (nanoseconds).
pub fn exact_row(key: &FlowKey, s: &MergedStats) -> FlowRow {
    FlowRow {
        key: *key,
        packets: s.packets,
        iat: exact_moments(&s.iat),
        rtt: exact_moments(&s.rtt),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ALCHITRY_CU_V1 as ALCHITRY_CU;

    #[test]
    fn exact_moments_of_a_known_set() {
        let mut a = MergedAcc::default();
        for x in [1000u64, 3000, 5000] {
            let one = MergedAcc {
                n: 1,
                sum: x as u128,
                sumsq: (x * x) as i128,
                min: x,
                max: x,
            };
            a.merge(&one);
        }
        let m = exact_moments(&a);
        assert_eq!(m.mean_us, 3.0);
        assert!((m.std_us - (8.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!((m.min_us, m.max_us), (1.0, 5.0));
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut xs: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(exact_percentiles(&mut xs), [50.0, 90.0, 99.0]);
        assert!(exact_percentiles(&mut []).iter().all(|p| p.is_nan()));
        let cfg = crate::config::LARGE;
        let mut bins = vec![0u64; cfg.hist_bins() as usize];
        // 60 samples of x = 0 (bin 0), 40 of x = 100 (bin 1 + 2*6 + 1 = 14).
        bins[0] = 60;
        bins[crate::table::hist_bin(100)] = 40;
        let q = cfg.sample_unit_ns() as f64 / 1e3;
        let p = hist_percentiles(&cfg, &bins);
        assert_eq!(p[0], 0.5 * q);
        let (lo, hi) = crate::table::hist_bin_range(crate::table::hist_bin(100));
        assert_eq!((lo, hi), (96, 128));
        assert_eq!(p[1], 112.0 * q);
        assert_eq!(p[2], 112.0 * q);
    }

    #[test]
    fn a_coarse_levels_correction_removes_its_quantization_variance() {
        use crate::estimator::Hit;
        use crate::table::{Acc, AccRule};
        let mut cfg = crate::config::LARGE;
        cfg.packet_bits = 32;
        let rule = AccRule::new(&cfg);
        // Level 2 (g = 6) samples of a constant gap spread uniformly over the
        // level's sample cells: x_i = 40 + o for o in 0..2^f, scaled.
        let g = cfg.level_shift(2);
        let mut acc = Acc::empty(&rule);
        let f = cfg.sample_frac_bits;
        for rep in 0..(1u32 << 8) {
            let o = rep % (1 << f);
            let x = crate::estimator::scale(40 + o, g);
            acc.add(&rule, (x, Hit { level: 2, age: 3 }));
        }
        let mut m = MergedAcc::default();
        m.add_acc(&acc);
        let est = estimated_moments(&cfg, &m);
        // The spread of x is all quantization: the corrected std is ~0 where
        // level 0's correction alone would leave most of it.
        let raw = (variance(m.n, m.sum, m.sumsq) + rule.corr[2] as f64).sqrt();
        assert!(
            est.std_us < 0.05 * raw * cfg.sample_unit_ns() as f64 / 1e3,
            "{} vs {raw}",
            est.std_us
        );
    }

    #[test]
    fn estimated_mean_is_centred_and_variance_corrected() {
        let cfg = ALCHITRY_CU;
        // A constant gap of exactly 3 buckets seen from uniformly spread phases
        // gives samples 3*16 - 8 + o, o uniform in 0..16: mean 48 - 8 + 7.5.
        let mut a = MergedAcc::default();
        for o in 0..16u64 {
            let x = 48 - 8 + o;
            a.merge(&MergedAcc {
                n: 1,
                sum: x as u128,
                sumsq: (x * x) as i128,
                min: x,
                max: x,
            });
        }
        let m = estimated_moments(&cfg, &a);
        let q = cfg.sample_unit_ns() as f64;
        assert!((m.mean_us - 48.0 * q / 1e3).abs() < 1e-9, "{}", m.mean_us);
        // Sample variance of o is (16^2-1)/12 q^2, below the (w^2+q^2)/12 correction.
        assert_eq!(m.std_us, 0.0);
    }
}
