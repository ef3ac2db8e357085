//! Wide values as LogicStructs of fields no wider than 32 bits.
//!
//! In Verilog a struct is one flat vector (fields LSB first, in declaration
//! order), so the layouts below are exactly the model's packed layouts. In
//! rust-hdl's simulator a `Bits<N>` wider than 32 bits is an array of bools
//! and its arithmetic goes through bignums; fields of at most 32 bits are
//! machine words, which makes the stepped simulation about five times faster.

use crate::consts::*;
use bloomtime_model::key::{key_layout, FlowKey};
use bloomtime_model::table::{Acc, SlotStats};
#[cfg(test)]
use bloomtime_model::{estimator::Hit, table::AccRule};
use rust_hdl::prelude::*;

/// A flow key, laid out as `key_layout` (src0/dst0 are the least significant
/// 32 bits of the addresses as 128-bit big-endian numbers).
#[derive(LogicStruct, Copy, Clone, Default, PartialEq, Eq, Debug)]
pub struct KeyBits {
    pub proto: Bits<8>,
    pub v6: Bit,
    pub sport: Bits<16>,
    pub dport: Bits<16>,
    pub src0: Bits<32>,
    pub src1: Bits<32>,
    pub src2: Bits<32>,
    pub src3: Bits<32>,
    pub dst0: Bits<32>,
    pub dst1: Bits<32>,
    pub dst2: Bits<32>,
    pub dst3: Bits<32>,
}

const _: () = assert!(key_layout::BITS == 297 && key_layout::SRC == 41 && key_layout::DST == 169);

fn words(a: &[u8; 16]) -> [u64; 4] {
    let v = u128::from_be_bytes(*a);
    [0, 1, 2, 3].map(|i| ((v >> (32 * i)) & 0xffff_ffff) as u64)
}

impl KeyBits {
    pub fn from_key(k: &FlowKey) -> KeyBits {
        let s = words(&k.src);
        let d = words(&k.dst);
        KeyBits {
            proto: (k.proto as u64).into(),
            v6: k.v6,
            sport: (k.sport as u64).into(),
            dport: (k.dport as u64).into(),
            src0: s[0].into(),
            src1: s[1].into(),
            src2: s[2].into(),
            src3: s[3].into(),
            dst0: d[0].into(),
            dst1: d[1].into(),
            dst2: d[2].into(),
            dst3: d[3].into(),
        }
    }

    pub fn to_key(&self) -> FlowKey {
        let join = |w: [Bits<32>; 4]| -> [u8; 16] {
            let mut v = 0u128;
            for (i, x) in w.iter().enumerate() {
                v |= (x.to_u64() as u128) << (32 * i);
            }
            v.to_be_bytes()
        };
        FlowKey {
            proto: self.proto.to_u64() as u8,
            v6: self.v6,
            sport: self.sport.to_u64() as u16,
            dport: self.dport.to_u64() as u16,
            src: join([self.src0, self.src1, self.src2, self.src3]),
            dst: join([self.dst0, self.dst1, self.dst2, self.dst3]),
        }
    }
}

/// A 40-bit timestamp in time units, split where the pipeline uses it: the
/// bits inside a level-0 bucket and the epoch (`ts >> s_0`).
#[derive(LogicStruct, Copy, Clone, Default, PartialEq, Eq, Debug)]
pub struct Ts {
    pub sub: Bits<S_SHIFT>,
    pub epoch: Bits<EPOCH_BITS>,
}

const _: () = assert!(TS_BITS == 40 && S_SHIFT + EPOCH_BITS == TS_BITS);

impl Ts {
    pub fn from_u64(t: u64) -> Ts {
        Ts {
            sub: (t & ((1 << S_SHIFT) - 1)).into(),
            epoch: ((t >> S_SHIFT) & ((1 << EPOCH_BITS) - 1)).into(),
        }
    }
    pub fn to_u64(&self) -> u64 {
        self.sub.to_u64() | self.epoch.to_u64() << S_SHIFT
    }
}

/// The rings of every level, finest first; level `i` is its ring 0 (low `B`
/// bits) and ring 1 (high `B` bits).
#[derive(LogicStruct, Copy, Clone, Default, PartialEq, Eq, Debug)]
pub struct RingsBits {
    pub lv0: Bits<PAIR_BITS>,
    pub lv1: Bits<PAIR_BITS>,
    pub lv2: Bits<PAIR_BITS>,
    pub lv3: Bits<PAIR_BITS>,
    pub lv4: Bits<PAIR_BITS>,
    pub lv5: Bits<PAIR_BITS>,
    pub lv6: Bits<PAIR_BITS>,
}

const _: () = assert!(L == 7, "RingsBits and LineBits have one field a level");

impl RingsBits {
    /// Level `i`'s pair (ring 0 in the low `B` bits).
    pub fn pair(&self, i: usize) -> u64 {
        [
            self.lv0, self.lv1, self.lv2, self.lv3, self.lv4, self.lv5, self.lv6,
        ][i]
            .to_u64()
    }
    pub fn from_pairs(p: [u64; L]) -> RingsBits {
        RingsBits {
            lv0: p[0].into(),
            lv1: p[1].into(),
            lv2: p[2].into(),
            lv3: p[3].into(),
            lv4: p[4].into(),
            lv5: p[5].into(),
            lv6: p[6].into(),
        }
    }
    pub fn pairs(&self) -> [u64; L] {
        std::array::from_fn(|i| self.pair(i))
    }
}

/// A bank line: tag, then ring 0 and ring 1 of every level, finest first
/// (as `bank::Banks::pack`).
#[derive(LogicStruct, Copy, Clone, Default, PartialEq, Eq, Debug)]
pub struct LineBits {
    pub tag: Bits<E>,
    pub lv0: Bits<PAIR_BITS>,
    pub lv1: Bits<PAIR_BITS>,
    pub lv2: Bits<PAIR_BITS>,
    pub lv3: Bits<PAIR_BITS>,
    pub lv4: Bits<PAIR_BITS>,
    pub lv5: Bits<PAIR_BITS>,
    pub lv6: Bits<PAIR_BITS>,
}

impl LineBits {
    pub fn new(tag: u64, r: RingsBits) -> LineBits {
        LineBits {
            tag: tag.into(),
            lv0: r.lv0,
            lv1: r.lv1,
            lv2: r.lv2,
            lv3: r.lv3,
            lv4: r.lv4,
            lv5: r.lv5,
            lv6: r.lv6,
        }
    }
    pub fn rings(&self) -> RingsBits {
        RingsBits {
            lv0: self.lv0,
            lv1: self.lv1,
            lv2: self.lv2,
            lv3: self.lv3,
            lv4: self.lv4,
            lv5: self.lv5,
            lv6: self.lv6,
        }
    }
    /// The packed line in 64-bit words, LSB first (as `Banks::pack`).
    pub fn to_words(&self) -> Vec<u64> {
        let mut w = vec![0u64; LINE_BITS.div_ceil(64)];
        bloomtime_model::key::put(&mut w, 0, E as u32, self.tag.to_u64() as u128);
        for (i, p) in self.rings().pairs().iter().enumerate() {
            bloomtime_model::key::put(
                &mut w,
                (E + i * PAIR_BITS) as u32,
                PAIR_BITS as u32,
                *p as u128,
            );
        }
        w
    }
}

/// A slot's statistics, laid out as `SlotStats::pack` for a configuration
/// that keeps the mean only: packets, then count and sum of each sample kind.
#[derive(LogicStruct, Copy, Clone, Default, PartialEq, Eq, Debug)]
pub struct StatsBits {
    pub packets: Bits<P_BITS>,
    pub iat_n: Bits<P_BITS>,
    pub iat_sum: Bits<SUM_BITS>,
    pub rtt_n: Bits<P_BITS>,
    pub rtt_sum: Bits<SUM_BITS>,
}

const _: () = assert!(STATS_BITS == 2 * (P_BITS + SUM_BITS) + P_BITS);

impl StatsBits {
    pub fn to_stats(&self) -> SlotStats {
        let acc = |n: Bits<P_BITS>, s: Bits<SUM_BITS>| Acc {
            n: n.to_u64() as u32,
            sum: s.to_u64(),
            sumsq: 0,
            min: 0,
            max: 0,
        };
        SlotStats {
            packets: self.packets.to_u64() as u32,
            iat: acc(self.iat_n, self.iat_sum),
            rtt: acc(self.rtt_n, self.rtt_sum),
        }
    }

    pub fn from_stats(s: &SlotStats) -> StatsBits {
        StatsBits {
            packets: (s.packets as u64).into(),
            iat_n: (s.iat.n as u64).into(),
            iat_sum: s.iat.sum.into(),
            rtt_n: (s.rtt.n as u64).into(),
            rtt_sum: s.rtt.sum.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::words_from_bits;

    #[test]
    fn layouts_equal_the_model_packing() {
        let k = FlowKey::v6(17, [7; 16], 1234, [0xab; 16], 4321);
        let kb = KeyBits::from_key(&k);
        assert_eq!(kb.to_key(), k);
        let flat: Bits<{ KeyBits::BITS }> = kb.into();
        assert_eq!(words_from_bits(flat), k.pack().to_vec());
        let cfg = CFG;
        let rule = AccRule::new(&cfg);
        let x = |x| Some((x, Hit::default()));
        let mut s = SlotStats::first(&rule, x(200), x(3));
        s.add(&rule, x(7), None);
        let sb = StatsBits::from_stats(&s);
        assert_eq!(sb.to_stats(), s);
        let flat: Bits<{ StatsBits::BITS }> = sb.into();
        assert_eq!(words_from_bits(flat), s.pack(&cfg));
        let t = 0xab_cdef_1234u64;
        let tb = Ts::from_u64(t);
        assert_eq!(tb.to_u64(), t);
        let flat: Bits<{ Ts::BITS }> = tb.into();
        assert_eq!(words_from_bits(flat), vec![t]);
    }
}
