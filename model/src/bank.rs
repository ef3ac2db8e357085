//! Bucket banks (docs/DESIGN.md §4): `k` banks of `M` lines, each line an
//! epoch tag and, for each of its `L` levels, two rings of `B_i` one-bit
//! buckets.

use crate::config::{Config, MAX_LEVELS};
use crate::estimator::Hit;

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

/// Words one vector step of [`Banks::touch_words`] takes (4 × 64 bits).
const LANES: usize = 4;

/// Stored words per line at most, the tag included and rounded up to whole
/// vector steps: the length of the accumulator [`Banks::touch_words`] takes.
pub const MAX_WORDS: usize = (2 * MAX_LEVELS + 1).next_multiple_of(LANES);

/// What each stored word needs per touch, by word (structure of arrays, so
/// that a vector step loads four words' worth at once): its level's `g_i`
/// and `B_i`, the mask of its ring bits, and the bit a record of direction
/// `d` marks in it (`mark[d]`: bucket 0 of ring `d` if that ring is in this
/// word, else 0). Entries past the stored words (padding, and the tag's
/// place) have `B = 0`, so they age to 0 and mark nothing.
#[derive(Clone, Debug)]
#[repr(C, align(32))]
struct Geoms {
    shift: [u64; MAX_WORDS],
    buckets: [u64; MAX_WORDS],
    keep: [u64; MAX_WORDS],
    mark: [[u64; MAX_WORDS]; 2],
    /// `ring[d]`: the bits of ring `d` in this word (0 if it is elsewhere).
    ring: [[u64; MAX_WORDS]; 2],
    /// The word's level.
    level: [u8; MAX_WORDS],
}

/// Where ring `d` of a level is stored: word and bit offset.
#[derive(Clone, Copy, Debug, Default)]
struct RingAt {
    word: usize,
    bit: u32,
}

/// How [`Banks::touch_words`] runs: word by word, or four words per step
/// with AVX2 (x86_64 machines that have it). Both give the same words; the
/// bank tests compare them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Path {
    Scalar,
    Vector,
}

impl Path {
    /// The vector path where the CPU has it, else the scalar one.
    pub fn best() -> Path {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            return Path::Vector;
        }
        Path::Scalar
    }
}

/// All banks, bank-major. A line is each level's rings, finest first, then
/// its exact finest epoch (the tag) in the line's last word: one word per
/// level of at most [`PAIR_MAX_BUCKETS`] buckets (both rings), two words
/// (ring 0, ring 1) per wider level. On the vector path a line is padded to
/// whole vector steps, and lines of 8 words (64 bytes) sit in one cache line
/// each. The layout is the model's own; the hardware's is [`Banks::pack`].
#[derive(Clone, Debug)]
pub struct Banks {
    words: Vec<u64>,
    /// Where line 0 of bank 0 starts in `words` (aligned to a cache line).
    base: usize,
    stride: usize,
    /// Stored words per line, the tag not counted.
    n: usize,
    lines_per_bank: usize,
    geoms: Geoms,
    path: Path,
    /// Per level: where ring 0 and ring 1 are, and the ring's mask.
    rings_at: Vec<([RingAt; 2], u64)>,
}

impl Banks {
    pub fn new(cfg: &Config) -> Banks {
        Banks::with_path(cfg, Path::best())
    }

    /// Banks whose touches take `path` ([`Path::Vector`] only where
    /// [`Path::best`] gives it).
    pub fn with_path(cfg: &Config, path: Path) -> Banks {
        assert!(
            path == Path::Scalar || Path::best() == Path::Vector,
            "the vector path needs AVX2"
        );
        let m = cfg.lines() as usize;
        let mut g = Geoms {
            shift: [0; MAX_WORDS],
            buckets: [0; MAX_WORDS],
            keep: [0; MAX_WORDS],
            mark: [[0; MAX_WORDS]; 2],
            ring: [[0; MAX_WORDS]; 2],
            level: [0; MAX_WORDS],
        };
        let mut n = 0;
        let mut rings_at = Vec::new();
        // A word of level `i`: its rings' masks and marks are its bucket 0s
        // shifted to where they sit.
        let mut push = |i, shift, b, keep, mark: [u64; 2]| {
            g.shift[n] = shift as u64;
            g.buckets[n] = b as u64;
            g.keep[n] = keep;
            g.level[n] = i as u8;
            for (d, &m) in mark.iter().enumerate() {
                g.mark[d][n] = m;
                g.ring[d][n] = ring_mask(b) * m;
            }
            n += 1;
            n - 1
        };
        for i in 0..cfg.level_count() {
            let (shift, b) = (cfg.level_shift(i), cfg.level(i).buckets);
            let mask = ring_mask(b);
            if b <= PAIR_MAX_BUCKETS {
                let w = push(i, shift, b, mask | mask << PAIR_BIT, [1, 1 << PAIR_BIT]);
                let at = |bit| RingAt { word: w, bit };
                rings_at.push(([at(0), at(PAIR_BIT)], mask));
            } else {
                let w0 = push(i, shift, b, mask, [1, 0]);
                let w1 = push(i, shift, b, mask, [0, 1]);
                let at = |word| RingAt { word, bit: 0 };
                rings_at.push(([at(w0), at(w1)], mask));
            }
        }
        // A line of one or two words is cheaper word by word than padded.
        let path = if n < LANES - 1 { Path::Scalar } else { path };
        let stride = match path {
            Path::Scalar => n + 1,
            Path::Vector => (n + 1).next_multiple_of(LANES),
        };
        let len = m * cfg.banks as usize * stride;
        // A cache line's worth more, to start on one.
        let words = vec![0u64; len + 8];
        let base = words.as_ptr().align_offset(64).min(8);
        Banks {
            words,
            base,
            stride,
            n,
            lines_per_bank: m,
            geoms: g,
            path,
            rings_at,
        }
    }

    /// Which touch this instance runs.
    pub fn path(&self) -> Path {
        self.path
    }

    /// Where a line starts in `words`; its tag is at `+ stride − 1`.
    #[inline]
    fn at(&self, bank: u32, index: u32) -> usize {
        self.base + (bank as usize * self.lines_per_bank + index as usize) * self.stride
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
        self.touch_words(bank, index, epoch, d, &mut acc);
        let mut ands = [[0; MAX_LEVELS]; 2];
        self.split(&acc, &mut ands);
        for i in 0..and_d.len().min(and_r.len()) {
            and_d[i] &= ands[d][i];
            and_r[i] &= ands[1 - d][i];
        }
    }

    /// [`Banks::touch`] on the stored words: each word of the line, aged,
    /// is ANDed into `acc` (indexed by stored word; entries past them are
    /// left undefined); [`Banks::split`] then gives the rings. The
    /// per-record hot path: the words of all banks are ANDed first, the
    /// rings taken apart once.
    ///
    /// Branch-free per word: whether a level's rings shift, stay or empty
    /// depends on the gap since the line's last record, which a branch
    /// predictor cannot guess. A word never holds a bit outside its mask,
    /// so "shift by 0 and mask" is "stay", and "mask by 0" is "empty after
    /// a full ring".
    #[inline]
    pub fn touch_words(
        &mut self,
        bank: u32,
        index: u32,
        epoch: u64,
        d: usize,
        acc: &mut [u64; MAX_WORDS],
    ) {
        debug_assert!(d < 2);
        let at = self.at(bank, index);
        let line = &mut self.words[at..at + self.stride];
        let tag_at = line.len() - 1;
        let old = line[tag_at];
        debug_assert!(epoch >= old, "lines age forwards only");
        match self.path {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Path::Vector` is only ever chosen where the CPU has
            // AVX2 (`with_path` asserts it); the line is whole vector steps.
            Path::Vector => unsafe { touch_avx2(line, &self.geoms, old, epoch, d, acc) },
            _ => {
                let g = &self.geoms;
                for i in 0..self.n {
                    let delta = (epoch >> g.shift[i]) - (old >> g.shift[i]);
                    // A select, not a branch (taken or not by the gap).
                    let keep = std::hint::select_unpredictable(delta < g.buckets[i], g.keep[i], 0);
                    // `wrapping_shl` shifts by `delta mod 64`, which
                    // differs from `delta` only when `delta >= 64 >=
                    // buckets`, and then `keep` is 0.
                    let p = line[i].wrapping_shl(delta as u32) & keep;
                    acc[i] &= p;
                    line[i] = p | g.mark[d][i];
                }
            }
        }
        line[tag_at] = epoch;
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

    /// The finest level whose ring `d` has a bucket set in `acc` (the
    /// words as [`Banks::touch_words`] ANDs them), and that ring's newest
    /// bucket: `estimator::estimate`'s hit, found on the words without
    /// [`Banks::split`]. Words are finest first and ring `d` of a level is
    /// in one word, so the first word with a bit of ring `d` set is the hit.
    #[inline]
    pub fn finest_hit(&self, acc: &[u64; MAX_WORDS], d: usize) -> Option<Hit> {
        let g = &self.geoms;
        let words = match self.path {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as in `touch_words`.
            Path::Vector => unsafe { nonzero_avx2(acc, &g.ring[d], self.stride) },
            _ => (0..self.n).fold(0u32, |m, i| m | ((acc[i] & g.ring[d][i] != 0) as u32) << i),
        };
        if words == 0 {
            return None;
        }
        let w = words.trailing_zeros() as usize;
        Some(Hit {
            level: g.level[w],
            age: (acc[w] & g.ring[d][w]).trailing_zeros() - g.ring[d][w].trailing_zeros(),
        })
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
        let line = &mut self.words[at..at + self.stride];
        let tag_at = line.len() - 1;
        let (tag, g) = (line[tag_at], &self.geoms);
        for (i, w) in line[..self.n].iter_mut().enumerate() {
            let delta = (epoch >> g.shift[i]) - (tag >> g.shift[i]);
            *w = if delta >= g.buckets[i] {
                0
            } else {
                (*w << delta) & g.keep[i]
            };
        }
        line[tag_at] = epoch;
    }

    /// Empty every ring of a line and tag it `epoch` (what a clear, or a
    /// sweep after a jump of at least the window, does to one line).
    pub fn empty_line(&mut self, bank: u32, index: u32, epoch: u64) {
        let at = self.at(bank, index);
        let line = &mut self.words[at..at + self.stride];
        line.fill(0);
        line[self.stride - 1] = epoch;
    }

    /// A line's exact tag.
    pub fn tag(&self, bank: u32, index: u32) -> u64 {
        self.words[self.at(bank, index) + self.stride - 1]
    }

    /// A line's rings: `[level][direction]`, flattened.
    pub fn rings(&self, bank: u32, index: u32) -> Vec<u64> {
        let at = self.at(bank, index);
        let mut out = [[0; MAX_LEVELS]; 2];
        self.split(&self.words[at..at + self.n], &mut out);
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

/// Bit `i` set where `acc[i] & ring[i]` is not 0, for `i < len`.
///
/// # Safety
/// The CPU must have AVX2, and `len` be whole vector steps.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn nonzero_avx2(acc: &[u64; MAX_WORDS], ring: &[u64; MAX_WORDS], len: usize) -> u32 {
    use std::arch::x86_64::*;
    let mut m = 0u32;
    for i in (0..len).step_by(LANES) {
        let a = _mm256_loadu_si256(acc.as_ptr().add(i) as *const __m256i);
        let r = _mm256_load_si256(ring.as_ptr().add(i) as *const __m256i);
        let zero = _mm256_cmpeq_epi64(_mm256_and_si256(a, r), _mm256_setzero_si256());
        m |= ((!_mm256_movemask_pd(_mm256_castsi256_pd(zero)) & 0xf) as u32) << i;
    }
    m
}

/// [`Banks::touch_words`] four words per step: the same formula as the
/// scalar loop, lane by lane. `vpsrlvq`/`vpsllvq` shift each lane by its own
/// count (a count of 64 or more gives 0), and the gaps are far below 2^63,
/// so the signed compare is the unsigned one. The tag's place gets 0 here
/// (its `B` is 0) and the epoch from the caller.
///
/// # Safety
/// The CPU must have AVX2, and `line` be whole vector steps.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn touch_avx2(
    line: &mut [u64],
    g: &Geoms,
    old: u64,
    epoch: u64,
    d: usize,
    acc: &mut [u64; MAX_WORDS],
) {
    use std::arch::x86_64::*;
    debug_assert!(line.len().is_multiple_of(LANES) && line.len() <= MAX_WORDS);
    let e = _mm256_set1_epi64x(epoch as i64);
    let t = _mm256_set1_epi64x(old as i64);
    let vec = |a: &[u64; MAX_WORDS], i: usize| a.as_ptr().add(i) as *const __m256i;
    for i in (0..line.len()).step_by(LANES) {
        let shift = _mm256_load_si256(vec(&g.shift, i));
        let delta = _mm256_sub_epi64(_mm256_srlv_epi64(e, shift), _mm256_srlv_epi64(t, shift));
        let live = _mm256_cmpgt_epi64(_mm256_load_si256(vec(&g.buckets, i)), delta);
        let keep = _mm256_and_si256(live, _mm256_load_si256(vec(&g.keep, i)));
        let w = line.as_mut_ptr().add(i) as *mut __m256i;
        let p = _mm256_and_si256(_mm256_sllv_epi64(_mm256_loadu_si256(w), delta), keep);
        let a = acc.as_mut_ptr().add(i) as *mut __m256i;
        _mm256_storeu_si256(a, _mm256_and_si256(_mm256_loadu_si256(a), p));
        let mark = _mm256_load_si256(vec(&g.mark[d], i));
        _mm256_storeu_si256(w, _mm256_or_si256(p, mark));
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

    /// Where the CPU has AVX2, lines of three words or more take the vector
    /// path (so `vector_and_scalar_paths_agree` compares two paths).
    #[test]
    fn vector_path_is_taken() {
        let cfg = crate::config::preset("alchitry-cu").expect("a preset");
        let path = Banks::new(&cfg).path();
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            assert_eq!(path, Path::Vector);
            return;
        }
        assert_eq!(path, Path::Scalar);
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

        /// The vector path is the scalar one: the same stored lines, the
        /// same ANDed words and the same finest hits, on every test
        /// configuration, over its banks and a few lines (on a machine
        /// without AVX2 both sides are scalar: `vector_path_is_taken`
        /// says which).
        #[test]
        fn vector_and_scalar_paths_agree(
            p in 0usize..configs().len(),
            steps in proptest::collection::vec((0u64..1 << 22, any::<bool>(), 0u32..3), 1..60),
        ) {
            let cfg = configs()[p];
            let mut v = Banks::new(&cfg);
            let mut s = Banks::with_path(&cfg, Path::Scalar);
            let mut epoch = [0u64; 3];
            for (gap, dir, line) in steps {
                let l = line as usize;
                epoch[l] += gap >> (gap % 24);
                let d = dir as usize;
                let (mut av, mut a_s) = ([u64::MAX; MAX_WORDS], [u64::MAX; MAX_WORDS]);
                for bank in 0..cfg.banks {
                    v.touch_words(bank, line, epoch[l], d, &mut av);
                    s.touch_words(bank, line, epoch[l], d, &mut a_s);
                    prop_assert_eq!(v.rings(bank, line), s.rings(bank, line));
                    prop_assert_eq!(v.tag(bank, line), epoch[l]);
                    prop_assert_eq!(s.tag(bank, line), epoch[l]);
                }
                let n = cfg.level_count();
                let (mut rv, mut rs) = ([[0; MAX_LEVELS]; 2], [[0; MAX_LEVELS]; 2]);
                v.split(&av, &mut rv);
                s.split(&a_s, &mut rs);
                prop_assert_eq!(rv, rs);
                for (r, rings) in rs.iter().enumerate() {
                    let want = crate::estimator::estimate(&cfg, epoch[l], &rings[..n]).map(|x| x.1);
                    prop_assert_eq!(v.finest_hit(&av, r), want);
                    prop_assert_eq!(s.finest_hit(&a_s, r), want);
                }
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
