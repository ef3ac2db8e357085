//! Statistics (docs/DESIGN.md §7): per-flow mean, standard deviation, min and
//! max in microseconds, from estimated or exact sums.

use crate::config::Config;
use crate::key::FlowKey;
use crate::merge::{MergedAcc, MergedStats};
use serde::Serialize;

/// Summary of one sample kind of one flow; `n = 0` means no samples.
#[derive(Clone, Copy, PartialEq, Debug, Default, Serialize)]
pub struct Moments {
    pub n: u64,
    pub mean_us: f64,
    pub std_us: f64,
    pub min_us: f64,
    pub max_us: f64,
}

/// One row of every flow report.
#[derive(Clone, Copy, PartialEq, Debug, Serialize)]
pub struct FlowRow {
    pub key: FlowKey,
    pub packets: u64,
    pub iat: Moments,
    pub rtt: Moments,
}

/// `n·Σx² − (Σx)²` divided by `n²`, exactly while it fits in 128 bits.
fn variance(n: u64, sum: u128, sumsq: u128) -> f64 {
    let n128 = n as u128;
    match (n128.checked_mul(sumsq), sum.checked_mul(sum)) {
        (Some(a), Some(b)) => (a.saturating_sub(b)) as f64 / (n as f64 * n as f64),
        _ => {
            let m = sum as f64 / n as f64;
            (sumsq as f64 / n as f64 - m * m).max(0.0)
        }
    }
}

/// Moments of estimated samples (units `q`), with the §7 corrections.
pub fn estimated_moments(cfg: &Config, a: &MergedAcc) -> Moments {
    if a.n == 0 {
        return Moments::default();
    }
    let q = cfg.sample_unit_ns() as f64;
    let w = cfg.bucket_ns() as f64;
    let mean_x = a.sum as f64 / a.n as f64;
    let var_ns = (variance(a.n, a.sum, a.sumsq) * q * q - (w * w + q * q) / 12.0).max(0.0);
    Moments {
        n: a.n,
        mean_us: (mean_x + 0.5) * q / 1e3,
        std_us: var_ns.sqrt() / 1e3,
        min_us: (a.min as f64 + 0.5) * q / 1e3,
        max_us: (a.max as f64 + 0.5) * q / 1e3,
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
        std_us: variance(a.n, a.sum, a.sumsq).sqrt() / 1e3,
        min_us: a.min as f64 / 1e3,
        max_us: a.max as f64 / 1e3,
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
    use crate::config::ALCHITRY_CU;

    #[test]
    fn exact_moments_of_a_known_set() {
        let mut a = MergedAcc::default();
        for x in [1000u64, 3000, 5000] {
            let one = MergedAcc {
                n: 1,
                sum: x as u128,
                sumsq: (x * x) as u128,
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
                sumsq: (x * x) as u128,
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
