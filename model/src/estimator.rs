//! The estimator (docs/DESIGN.md §5): a sample from the age of the newest
//! bucket set in all banks and the current packet's sub-bucket offset.

use crate::config::Config;

/// Sample in units `q` for a previous packet `age` buckets ago and a current
/// sub-bucket offset `offset` (`f` bits).
#[inline]
pub fn sample(age: u32, offset: u32, frac_bits: u32) -> u32 {
    if age == 0 {
        offset >> 1
    } else {
        (age << frac_bits) + offset - (1 << (frac_bits - 1))
    }
}

/// The newest bucket set in `and` (an AND over banks), if any.
#[inline]
pub fn newest(and: u64) -> Option<u32> {
    if and == 0 {
        None
    } else {
        Some(and.trailing_zeros())
    }
}

/// Epoch and sub-bucket offset of a timestamp.
#[inline]
pub fn epoch_offset(cfg: &Config, ts: u64) -> (u64, u32) {
    let epoch = ts >> cfg.bucket_log2;
    let off = (ts >> (cfg.bucket_log2 - cfg.sample_frac_bits)) & ((1 << cfg.sample_frac_bits) - 1);
    (epoch, off as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PRESETS;
    use proptest::prelude::*;

    proptest! {
        /// Without false positives, every sample is within w/2 + q of the true gap.
        #[test]
        fn samples_are_within_the_bound(
            (p, prev, gap) in (0usize..3).prop_flat_map(|p| {
                let c = PRESETS[p].config;
                (Just(p), 0u64..(1 << 36), 0u64..((c.buckets as u64) << c.bucket_log2))
            })
        ) {
            let cfg = PRESETS[p].config;
            let now = prev + gap;
            let (ep, _) = epoch_offset(&cfg, prev);
            let (en, o) = epoch_offset(&cfg, now);
            let age = en - ep;
            prop_assume!(age < cfg.buckets as u64);
            let x = sample(age as u32, o, cfg.sample_frac_bits) as i128;
            let q = 1i128 << (cfg.bucket_log2 - cfg.sample_frac_bits);
            let w = 1i128 << cfg.bucket_log2;
            let err = gap as i128 - x * q;
            prop_assert!(err.abs() < w / 2 + q, "gap {gap} x {x} q {q} w {w}");
            prop_assert!(x as u64 <= cfg.sample_max());
        }
    }

    #[test]
    fn worked_examples() {
        // f = 4: a bucket has 16 sample units.
        assert_eq!(sample(0, 0, 4), 0);
        assert_eq!(sample(0, 15, 4), 7);
        assert_eq!(sample(1, 0, 4), 8); // previous bucket's midpoint to now
        assert_eq!(sample(3, 5, 4), 48 + 5 - 8);
        assert_eq!(newest(0), None);
        assert_eq!(newest(0b1000), Some(3));
    }
}
