//! The estimator (docs/DESIGN.md §5): a sample from the age of the newest
//! bucket set in all banks, in the finest level that has one, and the
//! current packet's sub-bucket offset in that level.

use crate::config::Config;

/// Sample in units `q` for a previous packet `age` buckets ago and a current
/// sub-bucket offset `offset` (`f` bits).
#[inline]
pub fn sample(age: u32, offset: u32, frac_bits: u32) -> u32 {
    sample_wide(age as u64, offset, frac_bits) as u32
}

/// [`sample`] for any age (the ideal estimator beyond the window).
#[inline]
fn sample_wide(age: u64, offset: u32, frac_bits: u32) -> u64 {
    if age == 0 {
        (offset >> 1) as u64
    } else {
        (age << frac_bits) + offset as u64 - (1 << (frac_bits - 1))
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

/// Epoch and sub-bucket offset of a timestamp at level 0.
#[inline]
pub fn epoch_offset(cfg: &Config, ts: u64) -> (u64, u32) {
    level_epoch_offset(cfg, 0, ts)
}

/// Epoch and sub-bucket offset of a timestamp at level `i`:
/// `ts >> s_i` and `(ts >> (s_i − f)) & (2^f − 1)`.
#[inline]
pub fn level_epoch_offset(cfg: &Config, i: usize, ts: u64) -> (u64, u32) {
    let s = cfg.level(i).bucket_log2;
    let f = cfg.sample_frac_bits;
    let off = (ts >> (s - f)) & ((1 << f) - 1);
    (ts >> s, off as u32)
}

/// Which bucket gave a sample: the level, and the age in that level's buckets.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, serde::Serialize)]
pub struct Hit {
    pub level: u8,
    pub age: u32,
}

/// A level-`i` sample `x_i` (units `q_i`) in units `q_0`: `x_i · 2^g` for
/// level 0 (g = 0), else `x_i · 2^g + 2^(g−1)` (its `q_i/2` bias removed but
/// for the `q_0/2` every sample gets back in the statistics, §7).
#[inline]
pub fn scale(x: u32, g: u32) -> u32 {
    scale_wide(x as u64, g) as u32
}

#[inline]
fn scale_wide(x: u64, g: u32) -> u64 {
    if g == 0 {
        x
    } else {
        (x << g) + (1 << (g - 1))
    }
}

/// The sample for a hit: level `hit.level`'s formula on its own offset,
/// scaled to units `q_0`.
#[inline]
pub fn hit_sample(cfg: &Config, ts: u64, hit: Hit) -> u32 {
    let i = hit.level as usize;
    let (_, o) = level_epoch_offset(cfg, i, ts);
    scale(sample(hit.age, o, cfg.sample_frac_bits), cfg.level_shift(i))
}

/// The estimator over levels (docs/DESIGN.md §5): the finest level whose AND
/// has a bit set gives the hit; `None` when no level has one.
#[inline]
pub fn estimate(cfg: &Config, ts: u64, ands: &[u64]) -> Option<(u32, Hit)> {
    ands.iter().enumerate().find_map(|(i, &a)| {
        newest(a).map(|age| {
            let hit = Hit {
                level: i as u8,
                age,
            };
            (hit_sample(cfg, ts, hit), hit)
        })
    })
}

/// What the estimator gives when the newest mark is exactly a packet at
/// `prev <= now` (exact membership): the finest level whose ring still holds
/// it; beyond the window, the coarsest level's formula at its real age (the
/// "infinite window" of the evaluation). The second value says whether the
/// mark is still inside the window.
pub fn ideal(cfg: &Config, prev: u64, now: u64) -> (u64, Hit, bool) {
    let last = cfg.level_count() - 1;
    for i in 0..=last {
        let s = cfg.level(i).bucket_log2;
        let age = (now >> s) - (prev >> s);
        let inside = age < cfg.level(i).buckets as u64;
        if inside || i == last {
            let hit = Hit {
                level: i as u8,
                age: age.min(u32::MAX as u64) as u32,
            };
            let (_, o) = level_epoch_offset(cfg, i, now);
            // The level's formula at any age (64-bit: beyond the window too).
            let x = scale_wide(
                sample_wide(age, o, cfg.sample_frac_bits),
                cfg.level_shift(i),
            );
            return (x, hit, inside);
        }
    }
    unreachable!("the last level always answers")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PRESETS;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(crate::prop_config("model::estimator"))]

        /// Without false positives, every sample of level `i` is within
        /// `w_i/2 + q_i` of the true gap (and `q_0/2` for the coarse levels'
        /// rounding), and the finest level that still holds the mark answers.
        #[test]
        fn samples_are_within_the_bound(
            (p, prev, gap) in (0usize..PRESETS.len()).prop_flat_map(|p| {
                let c = PRESETS[p].config;
                let top = c.level(c.level_count() - 1);
                let span = (top.buckets as u64) << (top.bucket_log2 + 1);
                (Just(p), 0u64..(1 << 36), 0u64..span)
            })
        ) {
            let cfg = PRESETS[p].config;
            let now = prev + gap;
            let (x, hit, inside) = ideal(&cfg, prev, now);
            prop_assume!(inside);
            let i = hit.level as usize;
            for j in 0..i {
                let s = cfg.level(j).bucket_log2;
                prop_assert!((now >> s) - (prev >> s) >= cfg.level(j).buckets as u64);
            }
            let q0 = 1i128 << (cfg.level(0).bucket_log2 - cfg.sample_frac_bits);
            let w = 1i128 << cfg.level(i).bucket_log2;
            let q = w >> cfg.sample_frac_bits;
            let est = x as i128 * q0 + q0 / 2;
            let err = gap as i128 - est;
            prop_assert!(2 * err.abs() < w + 2 * q + q0, "gap {gap} x {x} level {i}");
            prop_assert!(x <= cfg.level_sample_max(i));
            // The banks' estimator gives the same for a ring holding only that mark.
            let mut ands = vec![0u64; cfg.level_count()];
            ands[i] = 1 << hit.age;
            prop_assert_eq!(estimate(&cfg, now, &ands), Some((x as u32, hit)));
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
        // A level 3 octaves coarser: x_i·8 + 4.
        assert_eq!(scale(sample(3, 5, 4), 3), (48 + 5 - 8) * 8 + 4);
        assert_eq!(scale(7, 0), 7);
    }

    #[test]
    fn the_finest_level_with_a_hit_answers() {
        let cfg = crate::config::ALCHITRY_CU;
        let ts = 1 << 30;
        assert_eq!(
            estimate(&cfg, ts, &[0, 0, 0b100, 0b1]).map(|h| h.1),
            Some(Hit { level: 2, age: 2 })
        );
        assert_eq!(estimate(&cfg, ts, &[0; 4]), None);
    }
}
