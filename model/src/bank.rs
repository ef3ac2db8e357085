//! Bucket banks (docs/DESIGN.md §4): `k` banks of `M` lines, each line an
//! epoch tag and two rings of `B` one-bit buckets.

use crate::config::Config;

/// One line. The model keeps the exact epoch; hardware keeps `E` bits of it.
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
        let delta = epoch - self.tag;
        if delta >= buckets as u64 {
            self.ring = [0, 0];
        } else if delta > 0 {
            let mask = ring_mask(buckets);
            self.ring[0] = (self.ring[0] << delta) & mask;
            self.ring[1] = (self.ring[1] << delta) & mask;
        }
        self.tag = epoch;
    }

    /// Pack as the hardware stores it: tag (low `E` bits), ring 0, ring 1.
    pub fn pack(&self, cfg: &Config) -> u128 {
        let e = cfg.epoch_tag_bits;
        let b = cfg.buckets;
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

/// All banks, bank-major.
#[derive(Clone, Debug)]
pub struct Banks {
    lines: Vec<Line>,
    lines_per_bank: usize,
}

impl Banks {
    pub fn new(cfg: &Config) -> Banks {
        let m = cfg.lines() as usize;
        Banks {
            lines: vec![Line::default(); m * cfg.banks as usize],
            lines_per_bank: m,
        }
    }

    #[inline]
    pub fn line_mut(&mut self, bank: u32, index: u32) -> &mut Line {
        &mut self.lines[bank as usize * self.lines_per_bank + index as usize]
    }

    pub fn line(&self, bank: u32, index: u32) -> &Line {
        &self.lines[bank as usize * self.lines_per_bank + index as usize]
    }

    pub fn clear(&mut self) {
        self.lines.fill(Line::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
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
