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

/// A level of at most this many buckets keeps both its rings in one 64-bit
/// word: ring 0 in bits `0..B`, ring 1 in bits `PAIR_BIT..PAIR_BIT + B`.
/// Shifted by less than `B`, ring 0's bits stay below `2B − 1 <= PAIR_BIT`
/// and ring 1's leave the word, so one shift and one mask age both rings.
/// Wider levels keep a ring per word.
pub const PAIR_MAX_BUCKETS: u32 = 16;
const PAIR_BIT: u32 = 32;

/// Stored words per line at most (the tag not counted).
pub const MAX_WORDS: usize = 2 * MAX_LEVELS;

/// What one stored word needs per touch: its level's `g_i` and `B_i`, the
/// mask of its ring bits, and the bit a record of direction `d` marks in it
/// (`mark[d]`: bucket 0 of ring `d` if that ring is in this word, else 0).
#[derive(Clone, Copy, Debug)]
struct WordGeom {
    shift: u32,
    buckets: u64,
    keep: u64,
    mark: [u64; 2],
}

/// Where ring `d` of a level is stored: word (after the tag) and bit offset.
#[derive(Clone, Copy, Debug, Default)]
struct RingAt {
    word: usize,
    bit: u32,
}

/// All banks, bank-major. A line is stored as its exact finest epoch (the
/// tag) and then each level's rings, finest first: one word per level of
/// at most [`PAIR_MAX_BUCKETS`] buckets (both rings), two words (ring 0,
/// ring 1) per wider level. The layout is the model's own; the hardware's
/// is [`Banks::pack`].
#[derive(Clone, Debug)]
pub struct Banks {
    words: Vec<u64>,
    stride: usize,
    lines_per_bank: usize,
    geoms: Vec<WordGeom>,
    /// Per level: where ring 0 and ring 1 are, and the ring's mask.
    rings_at: Vec<([RingAt; 2], u64)>,
}

impl Banks {
    pub fn new(cfg: &Config) -> Banks {
        let m = cfg.lines() as usize;
        let mut geoms = Vec::new();
        let mut rings_at = Vec::new();
        for i in 0..cfg.level_count() {
            let (shift, b) = (cfg.level_shift(i), cfg.level(i).buckets);
            let mask = ring_mask(b);
            let w = geoms.len();
            let geom = |keep, mark| WordGeom {
                shift,
                buckets: b as u64,
                keep,
                mark,
            };
            if b <= PAIR_MAX_BUCKETS {
                geoms.push(geom(mask | mask << PAIR_BIT, [1, 1 << PAIR_BIT]));
                let at = |bit| RingAt { word: w, bit };
                rings_at.push(([at(0), at(PAIR_BIT)], mask));
            } else {
                geoms.push(geom(mask, [1, 0]));
                geoms.push(geom(mask, [0, 1]));
                let at = |word| RingAt { word, bit: 0 };
                rings_at.push(([at(w), at(w + 1)], mask));
            }
        }
        let stride = 1 + geoms.len();
        Banks {
            words: vec![0; m * cfg.banks as usize * stride],
            stride,
            lines_per_bank: m,
            geoms,
            rings_at,
        }
    }

    #[inline]
    fn at(&self, bank: u32, index: u32) -> usize {
        (bank as usize * self.lines_per_bank + index as usize) * self.stride
    }

    /// Stored words per line (the tag not counted): the length of the
    /// accumulator [`Banks::touch_words`] takes.
    #[inline]
    pub fn word_count(&self) -> usize {
        self.geoms.len()
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
        let mut acc = [u64::MAX; MAX_WORDS];
        let n = self.word_count();
        self.touch_words(bank, index, epoch, d, &mut acc[..n]);
        let mut ands = [[0; MAX_LEVELS]; 2];
        self.split(&acc, &mut ands);
        for i in 0..and_d.len().min(and_r.len()) {
            and_d[i] &= ands[d][i];
            and_r[i] &= ands[1 - d][i];
        }
    }

    /// [`Banks::touch`] on the stored words: each word of the line, aged,
    /// is ANDed into `acc` (one entry per stored word); [`Banks::split`]
    /// then gives the rings. The per-record hot path: the words of all
    /// banks are ANDed first, the rings taken apart once.
    ///
    /// Branch-free per word: whether a level's rings shift, stay or empty
    /// depends on the gap since the line's last record, which a branch
    /// predictor cannot guess. A word never holds a bit outside its mask,
    /// so "shift by 0 and mask" is "stay", and "mask by 0" is "empty after
    /// a full ring".
    #[inline]
    pub fn touch_words(&mut self, bank: u32, index: u32, epoch: u64, d: usize, acc: &mut [u64]) {
        debug_assert!(d < 2);
        let at = self.at(bank, index);
        let (tag, words) = self.words[at..at + self.stride]
            .split_first_mut()
            .expect("a line has a tag");
        debug_assert!(epoch >= *tag, "lines age forwards only");
        let old = *tag;
        for ((g, w), a) in self.geoms.iter().zip(words.iter_mut()).zip(acc.iter_mut()) {
            let delta = (epoch >> g.shift) - (old >> g.shift);
            // A select, not a branch (taken or not by the gap).
            let keep = std::hint::select_unpredictable(delta < g.buckets, g.keep, 0);
            // `wrapping_shl` shifts by `delta mod 64`, which differs from
            // `delta` only when `delta >= 64 >= buckets`, and then `keep`
            // is 0.
            let p = w.wrapping_shl(delta as u32) & keep;
            *a &= p;
            *w = p | g.mark[d];
        }
        *tag = epoch;
    }

    /// The rings in words as [`Banks::touch_words`] stores and ANDs them:
    /// `out[r][i]` is ring `r` of level `i`.
    #[inline]
    pub fn split(&self, words: &[u64], out: &mut [[u64; MAX_LEVELS]; 2]) {
        for (i, (at, mask)) in self.rings_at.iter().enumerate() {
            for r in 0..2 {
                out[r][i] = (words[at[r].word] >> at[r].bit) & mask;
            }
        }
    }

    /// Ask for a line's words in the cache ahead of its touch (a hint).
    #[inline]
    pub fn prefetch(&self, bank: u32, index: u32) {
        let at = self.at(bank, index);
        crate::prefetch(&self.words[at]);
        crate::prefetch(&self.words[at + self.stride - 1]);
    }

    /// Age one line to `epoch` without touching it (what a sweeper does):
    /// as [`age_pair`] on every level.
    pub fn age(&mut self, bank: u32, index: u32, epoch: u64) {
        let at = self.at(bank, index);
        let (tag, words) = self.words[at..at + self.stride]
            .split_first_mut()
            .expect("a line has a tag");
        for (g, w) in self.geoms.iter().zip(words.iter_mut()) {
            let delta = (epoch >> g.shift) - (*tag >> g.shift);
            *w = if delta >= g.buckets {
                0
            } else {
                (*w << delta) & g.keep
            };
        }
        *tag = epoch;
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
    pub fn rings(&self, bank: u32, index: u32) -> Vec<u64> {
        let at = self.at(bank, index);
        let mut out = [[0; MAX_LEVELS]; 2];
        self.split(&self.words[at + 1..at + self.stride], &mut out);
        (0..self.rings_at.len())
            .flat_map(|i| [out[0][i], out[1][i]])
            .collect()
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
    use crate::config::{Level, Levels, PRESETS};
    use proptest::prelude::*;

    /// The presets (every level at most `PAIR_MAX_BUCKETS`: both rings in a
    /// word) and lines that mix paired and wide levels (a ring per word).
    fn configs() -> Vec<Config> {
        let mut v: Vec<Config> = PRESETS.iter().map(|p| p.config).collect();
        let lv = |bucket_log2, buckets| Level {
            bucket_log2,
            buckets,
        };
        for levels in [
            &[lv(10, 8), lv(13, PAIR_MAX_BUCKETS + 1), lv(18, 64)][..],
            &[lv(10, 64), lv(16, PAIR_MAX_BUCKETS), lv(20, 33)][..],
            &[lv(10, 64)][..],
        ] {
            let mut c = crate::config::LARGE;
            c.levels = Levels::new(levels);
            c.epoch_tag_bits = c.min_epoch_tag_bits();
            c.validate().expect("a test configuration");
            v.push(c);
        }
        v
    }

    #[test]
    fn wide_and_paired_levels_are_both_tested() {
        let widths = configs()
            .iter()
            .flat_map(|c| {
                (0..c.level_count())
                    .map(|i| c.level(i).buckets > PAIR_MAX_BUCKETS)
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>();
        assert!(widths.contains(&true) && widths.contains(&false));
    }

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
            p in 0usize..configs().len(),
            steps in proptest::collection::vec((0u64..5000, any::<bool>(), 0u64..5000, any::<bool>()), 1..40),
        ) {
            let cfg = configs()[p];
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
            p in 0usize..configs().len(),
            steps in proptest::collection::vec((0u64..1 << 20, any::<bool>()), 1..40),
        ) {
            let cfg = configs()[p];
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
                prop_assert_eq!(banks.rings(0, 1), want.clone());
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
