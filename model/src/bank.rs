//! Bucket banks (docs/DESIGN.md §4): `k` banks of `M` lines, each line an
//! epoch tag and, for each of its `L` levels, two rings of `B_i` one-bit
//! buckets.

use crate::config::{Config, MAX_LEVELS};

/// A one-level line (the single-ring design; the v1 RTL's bank word). The
/// model keeps the exact epoch; hardware keeps `E` bits of it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Line {
    pub tag: u64,
    pub ring: [u64; 2],
}

impl Line {
    /// Age the line to `epoch` (>= its tag): shift both rings by the epochs
    /// elapsed, or clear them after a full ring.
    #[inline]
    pub fn age(&mut self, epoch: u64, buckets: u32) {
        age_pair(&mut self.ring, epoch - self.tag, buckets);
        self.tag = epoch;
    }

    /// Pack as the hardware stores it: tag (low `E` bits), ring 0, ring 1.
    pub fn pack(&self, cfg: &Config) -> u128 {
        let e = cfg.epoch_tag_bits;
        let b = cfg.level(0).buckets;
        (self.tag as u128 & ((1u128 << e) - 1))
            | (self.ring[0] as u128) << e
            | (self.ring[1] as u128) << (e + b)
    }
}

/// Mask of a ring of `buckets` bits.
#[inline]
pub fn ring_mask(buckets: u32) -> u64 {
    if buckets >= 64 {
        u64::MAX
    } else {
        (1u64 << buckets) - 1
    }
}

/// Age a ring pair by `delta` epochs of its level: shift both rings, or
/// clear them after a full ring.
#[inline]
pub fn age_pair(pair: &mut [u64], delta: u64, buckets: u32) {
    if delta >= buckets as u64 {
        pair[0] = 0;
        pair[1] = 0;
    } else if delta > 0 {
        let mask = ring_mask(buckets);
        pair[0] = (pair[0] << delta) & mask;
        pair[1] = (pair[1] << delta) & mask;
    }
}

/// What a level needs per touch: `g_i`, `B_i` and the ring's mask.
#[derive(Clone, Copy, Debug)]
struct LevelGeom {
    shift: u32,
    buckets: u64,
    mask: u64,
}

/// All banks, bank-major. A line is stored as its exact finest epoch (the
/// tag) and then ring 0 and ring 1 of every level, finest first.
#[derive(Clone, Debug)]
pub struct Banks {
    words: Vec<u64>,
    stride: usize,
    lines_per_bank: usize,
    levels: Vec<LevelGeom>,
}

impl Banks {
    pub fn new(cfg: &Config) -> Banks {
        let m = cfg.lines() as usize;
        let stride = 1 + 2 * cfg.level_count();
        Banks {
            words: vec![0; m * cfg.banks as usize * stride],
            stride,
            lines_per_bank: m,
            levels: (0..cfg.level_count())
                .map(|i| LevelGeom {
                    shift: cfg.level_shift(i),
                    buckets: cfg.level(i).buckets as u64,
                    mask: ring_mask(cfg.level(i).buckets),
                })
                .collect(),
        }
    }

    #[inline]
    fn at(&self, bank: u32, index: u32) -> usize {
        (bank as usize * self.lines_per_bank + index as usize) * self.stride
    }

    /// One record's read-modify-write of one line (docs/DESIGN.md §4): age
    /// every level to `epoch` (in finest epochs), AND each level's ring `d`
    /// into `and_d[i]` and ring `1 − d` into `and_r[i]`, mark bit 0 of ring
    /// `d` in every level and set the tag.
    #[inline]
    pub fn touch(
        &mut self,
        bank: u32,
        index: u32,
        epoch: u64,
        d: usize,
        and_d: &mut [u64],
        and_r: &mut [u64],
    ) {
        let n = and_d.len().min(and_r.len());
        let mut ands = [[u64::MAX; MAX_LEVELS]; 2];
        let [and0, and1] = &mut ands;
        self.touch_rings(bank, index, epoch, d, &mut and0[..n], &mut and1[..n]);
        for i in 0..n {
            and_d[i] &= ands[d][i];
            and_r[i] &= ands[1 - d][i];
        }
    }

    /// [`Banks::touch`] with the rings ANDed by ring number, not by
    /// direction: ring 0 of level `i` into `and0[i]`, ring 1 into
    /// `and1[i]`. The record's own ring is then `and[d]` and the reverse
    /// one `and[1 − d]`, chosen once per record by the caller rather than
    /// per bank and level.
    ///
    /// Branch-free per level (the per-record hot path): whether a level's
    /// rings shift, stay or empty depends on the gap since the line's last
    /// record, which a branch predictor cannot guess. A ring never holds a
    /// bit above its mask, so "shift by 0 and mask" is "stay", and "mask by
    /// 0" is "empty after a full ring".
    #[inline]
    pub fn touch_rings(
        &mut self,
        bank: u32,
        index: u32,
        epoch: u64,
        d: usize,
        and0: &mut [u64],
        and1: &mut [u64],
    ) {
        debug_assert!(d < 2);
        let at = self.at(bank, index);
        let (tag, rings) = self.words[at..at + self.stride]
            .split_first_mut()
            .expect("a line has a tag");
        debug_assert!(epoch >= *tag, "lines age forwards only");
        let old = *tag;
        // The bit each ring gets: bucket 0 of ring `d`.
        let (mark0, mark1) = ((d == 0) as u64, (d == 1) as u64);
        let levels = self.levels.iter().zip(rings.chunks_exact_mut(2));
        for ((l, pair), (a0, a1)) in levels.zip(and0.iter_mut().zip(and1.iter_mut())) {
            let delta = (epoch >> l.shift) - (old >> l.shift);
            // A select, not a branch (taken or not by the gap).
            let keep = std::hint::select_unpredictable(delta < l.buckets, l.mask, 0);
            // `wrapping_shl` shifts by `delta mod 64`, which differs from
            // `delta` only when `delta >= 64 >= buckets`, and then `keep`
            // is 0.
            let p0 = pair[0].wrapping_shl(delta as u32) & keep;
            let p1 = pair[1].wrapping_shl(delta as u32) & keep;
            *a0 &= p0;
            *a1 &= p1;
            pair[0] = p0 | mark0;
            pair[1] = p1 | mark1;
        }
        *tag = epoch;
    }

    /// Ask for a line's words in the cache ahead of its touch (a hint).
    #[inline]
    pub fn prefetch(&self, bank: u32, index: u32) {
        let at = self.at(bank, index);
        crate::prefetch(&self.words[at]);
        crate::prefetch(&self.words[at + self.stride - 1]);
    }

    /// Age one line to `epoch` without touching it (what a sweeper does).
    pub fn age(&mut self, bank: u32, index: u32, epoch: u64) {
        let at = self.at(bank, index);
        let line = &mut self.words[at..at + self.stride];
        let tag = line[0];
        for (i, l) in self.levels.iter().enumerate() {
            age_pair(
                &mut line[1 + 2 * i..3 + 2 * i],
                (epoch >> l.shift) - (tag >> l.shift),
                l.buckets as u32,
            );
        }
        line[0] = epoch;
    }

    /// Empty every ring of a line and tag it `epoch` (what a clear, or a
    /// sweep after a jump of at least the window, does to one line).
    pub fn empty_line(&mut self, bank: u32, index: u32, epoch: u64) {
        let at = self.at(bank, index);
        let line = &mut self.words[at..at + self.stride];
        line.fill(0);
        line[0] = epoch;
    }

    /// A line's exact tag.
    pub fn tag(&self, bank: u32, index: u32) -> u64 {
        self.words[self.at(bank, index)]
    }

    /// A line's rings: `[level][direction]`, flattened.
    pub fn rings(&self, bank: u32, index: u32) -> &[u64] {
        let at = self.at(bank, index);
        &self.words[at + 1..at + self.stride]
    }

    /// The line as the hardware stores it (LSB first): tag (low `E` bits),
    /// then ring 0 and ring 1 of each level, finest first; 64-bit words.
    pub fn pack(&self, cfg: &Config, bank: u32, index: u32) -> Vec<u64> {
        let mut w = vec![0u64; (cfg.line_bits() as usize).div_ceil(64)];
        let e = cfg.epoch_tag_bits;
        crate::key::put(
            &mut w,
            0,
            e,
            self.tag(bank, index) as u128 & ((1u128 << e) - 1),
        );
        let mut off = e;
        for (i, r) in self.rings(bank, index).chunks(2).enumerate() {
            let b = cfg.level(i).buckets;
            crate::key::put(&mut w, off, b, r[0] as u128);
            crate::key::put(&mut w, off + b, b, r[1] as u128);
            off += 2 * b;
        }
        w
    }

    pub fn clear(&mut self) {
        self.words.fill(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(crate::prop_config("model::bank"))]

        /// Ageing is idempotent and composes: ageing to e1 then e2 equals ageing
        /// to e2 directly. This is what lets the hardware sweeper age idle lines
        /// at any time without changing a result.
        #[test]
        fn ageing_composes(
            r0 in any::<u64>(), r1 in any::<u64>(), tag in 0u64..1000,
            d1 in 0u64..80, d2 in 0u64..80, b in 2u32..=64
        ) {
            let m = ring_mask(b);
            let start = Line { tag, ring: [r0 & m, r1 & m] };
            let mut two = start;
            two.age(tag + d1, b);
            two.age(tag + d1 + d2, b);
            let mut one = start;
            one.age(tag + d1 + d2, b);
            prop_assert_eq!(one, two);
            let mut again = one;
            again.age(tag + d1 + d2, b);
            prop_assert_eq!(again, one);
        }

        /// With levels: a sweeper ageing lines at any epochs between records
        /// changes no lookup (what lets hardware age idle lines lazily).
        #[test]
        fn sweeping_levels_changes_nothing(
            p in 0usize..crate::config::PRESETS.len(),
            steps in proptest::collection::vec((0u64..5000, any::<bool>(), 0u64..5000, any::<bool>()), 1..40),
        ) {
            let cfg = crate::config::PRESETS[p].config;
            let n = cfg.level_count();
            let mut plain = Banks::new(&cfg);
            let mut swept = Banks::new(&cfg);
            let mut epoch = 0u64;
            for (gap, dir, sweep_at, sweep) in steps {
                if sweep {
                    swept.age(0, 0, epoch + sweep_at.min(gap));
                }
                epoch += gap;
                let d = dir as usize;
                let (mut a1, mut r1) = (vec![u64::MAX; n], vec![u64::MAX; n]);
                let (mut a2, mut r2) = (vec![u64::MAX; n], vec![u64::MAX; n]);
                plain.touch(0, 0, epoch, d, &mut a1, &mut r1);
                swept.touch(0, 0, epoch, d, &mut a2, &mut r2);
                prop_assert_eq!((&a1, &r1), (&a2, &r2));
                prop_assert_eq!(plain.rings(0, 0), swept.rings(0, 0));
            }
        }

        /// `touch` is the reference reading of §4 on a whole line: each
        /// level aged by `age_pair` over its own epochs, its rings ANDed,
        /// then bucket 0 of ring `d` marked.
        #[test]
        fn touch_ages_ands_and_marks_each_level(
            p in 0usize..crate::config::PRESETS.len(),
            steps in proptest::collection::vec((0u64..1 << 20, any::<bool>()), 1..40),
        ) {
            let cfg = crate::config::PRESETS[p].config;
            let n = cfg.level_count();
            let mut banks = Banks::new(&cfg);
            let mut want = vec![0u64; 2 * n];
            let (mut epoch, mut tag) = (0u64, 0u64);
            for (gap, dir) in steps {
                epoch += gap >> (gap % 24);
                let d = dir as usize;
                let (mut ad, mut ar) = (vec![u64::MAX; n], vec![u64::MAX; n]);
                banks.touch(0, 1, epoch, d, &mut ad, &mut ar);
                for i in 0..n {
                    let g = cfg.level_shift(i);
                    let pair = &mut want[2 * i..2 * i + 2];
                    age_pair(pair, (epoch >> g) - (tag >> g), cfg.level(i).buckets);
                    prop_assert_eq!((ad[i], ar[i]), (pair[d], pair[1 - d]), "level {}", i);
                    pair[d] |= 1;
                }
                tag = epoch;
                prop_assert_eq!(banks.rings(0, 1), &want[..]);
                prop_assert_eq!(banks.tag(0, 1), epoch);
            }
        }

        /// A bit set at epoch e sits at position (now - e) until it falls off.
        #[test]
        fn a_mark_moves_one_bucket_per_epoch(e in 0u64..1000, d in 0u64..70, b in 2u32..=64) {
            let mut l = Line { tag: e, ring: [1, 0] };
            l.age(e + d, b);
            if d < b as u64 {
                prop_assert_eq!(l.ring[0], 1u64 << d);
            } else {
                prop_assert_eq!(l.ring[0], 0);
            }
            prop_assert_eq!(l.ring[1], 0);
        }
    }
}
