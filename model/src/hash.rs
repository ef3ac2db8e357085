//! Hash functions (docs/DESIGN.md §3): H3 matrices from fixed seeds.
//!
//! The RTL computes output bit `j` of each matrix as the parity of the input
//! AND [`column`]`(rows, j)`; the model uses byte lookup tables built from the
//! same rows. Nothing else defines a hash.

use crate::config::Config;
use crate::key::{FlowKey, Record};

/// splitmix64, the generator behind every matrix.
pub const fn splitmix64(state: u64) -> (u64, u64) {
    let s = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = s;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (s, z ^ (z >> 31))
}

const fn rows<const N: usize>(seed: u64) -> [u64; N] {
    let mut out = [0u64; N];
    let mut s = seed;
    let mut i = 0;
    while i < N {
        let (ns, v) = splitmix64(s);
        s = ns;
        out[i] = v;
        i += 1;
    }
    out
}

/// Rows of `Fa`, the address hash (32 input bits of the folded address).
pub const FA_ROWS: [u64; 32] = rows::<32>(0xB100_D71E_0000_00FA);
/// Rows of `Fp`, the port hash (16 input bits).
pub const FP_ROWS: [u64; 16] = rows::<16>(0xB100_D71E_0000_00F0);
/// Rows of `P`, the protocol hash: bits 0..8 the protocol, bit 8 the family.
pub const PR_ROWS: [u64; 9] = rows::<9>(0xB100_D71E_0000_0070);

/// H3 of `x` with `rows` (bit `i` of `x` selects row `i`).
pub fn h3(rows: &[u64], x: u64) -> u64 {
    let mut h = 0;
    for (i, r) in rows.iter().enumerate() {
        if (x >> i) & 1 == 1 {
            h ^= r;
        }
    }
    h
}

/// Column `j` of a matrix: the input bits whose rows have bit `j` set.
/// Output bit `j` of `h3(rows, x)` is `parity(x & column(rows, j))`.
pub fn column(rows: &[u64], j: u32) -> u64 {
    let mut c = 0;
    for (i, r) in rows.iter().enumerate() {
        if (r >> j) & 1 == 1 {
            c |= 1 << i;
        }
    }
    c
}

/// The 128-bit address folded to 32 bits.
#[inline]
pub fn fold(addr: &[u8; 16]) -> u32 {
    let w = |i: usize| {
        u32::from_be_bytes([
            addr[4 * i],
            addr[4 * i + 1],
            addr[4 * i + 2],
            addr[4 * i + 3],
        ])
    };
    w(0) ^ w(1).rotate_left(8) ^ w(2).rotate_left(16) ^ w(3).rotate_left(24)
}

const fn byte_tables<const BYTES: usize>(rows: &[u64]) -> [[u64; 256]; BYTES] {
    let mut t = [[0u64; 256]; BYTES];
    let mut b = 0;
    while b < BYTES {
        let mut v = 0;
        while v < 256 {
            let mut h = 0u64;
            let mut i = 0;
            while i < 8 {
                if (v >> i) & 1 == 1 && b * 8 + i < rows.len() {
                    h ^= rows[b * 8 + i];
                }
                i += 1;
            }
            t[b][v] = h;
            v += 1;
        }
        b += 1;
    }
    t
}

static FA_T: [[u64; 256]; 4] = byte_tables::<4>(&FA_ROWS);
static FP_T: [[u64; 256]; 2] = byte_tables::<2>(&FP_ROWS);
static PR_T: [[u64; 256]; 2] = byte_tables::<2>(&PR_ROWS);

#[inline]
pub fn fa(x: u32) -> u64 {
    FA_T[0][x as u8 as usize]
        ^ FA_T[1][(x >> 8) as u8 as usize]
        ^ FA_T[2][(x >> 16) as u8 as usize]
        ^ FA_T[3][(x >> 24) as usize]
}
#[inline]
pub fn fp(x: u16) -> u64 {
    FP_T[0][x as u8 as usize] ^ FP_T[1][(x >> 8) as usize]
}
#[inline]
pub fn pr(proto: u8, v6: bool) -> u64 {
    PR_T[0][proto as usize] ^ PR_T[1][v6 as usize]
}

/// Everything the hash unit computes for one record.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Hashes {
    /// Conversation hash (symmetric in the endpoints).
    pub conv: u64,
    /// Flow hash (depends on the key only).
    pub flow: u64,
    /// Direction: which ring of the conversation's lines this record marks.
    pub dir: u8,
}

impl Hashes {
    #[inline]
    pub fn compute(rec: &Record) -> Hashes {
        Self::of_key(&rec.key, rec.flags)
    }

    #[inline]
    pub fn of_key(key: &FlowKey, flags: u8) -> Hashes {
        let echo = flags & (crate::key::FLAG_ECHO_REQUEST | crate::key::FLAG_ECHO_REPLY) != 0;
        let (fs, fd) = (fold(&key.src), fold(&key.dst));
        let (as_, ad) = (fa(fs), fa(fd));
        let p = pr(key.proto, key.v6);
        let (ps, pd) = (fp(key.sport), fp(key.dport));
        // The conversation hash takes the echo identifier (`sport`) on both
        // sides of an echo, the two ports otherwise.
        let es = as_ ^ ps;
        let ed = ad ^ if echo { ps } else { pd };
        let conv = es.wrapping_add(ed) ^ p;
        let gs = as_ ^ ps;
        let gd = ad ^ pd;
        let flow = gs.wrapping_add(gd.wrapping_mul(2)) ^ p;
        let dir = if echo {
            (flags & crate::key::FLAG_ECHO_REPLY != 0) as u8
        } else {
            let s = ((fs as u64) << 16) | key.sport as u64;
            let d = ((fd as u64) << 16) | key.dport as u64;
            (s > d) as u8
        };
        Hashes { conv, flow, dir }
    }

    /// Line of bank `i`.
    #[inline]
    pub fn line(&self, cfg: &Config, i: u32) -> u32 {
        ((self.conv >> (i * cfg.lines_log2)) & (cfg.lines() as u64 - 1)) as u32
    }
    /// Flow-table slot.
    #[inline]
    pub fn slot(&self, cfg: &Config) -> u32 {
        (self.flow & (cfg.slots() as u64 - 1)) as u32
    }
    /// Fingerprint stored in the slot.
    #[inline]
    pub fn fingerprint(&self, cfg: &Config) -> u32 {
        ((self.flow >> cfg.slots_log2) & ((1u64 << cfg.fingerprint_bits) - 1)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(crate::prop_config("model::hash"))]

        #[test]
        fn tables_equal_the_matrix(x in any::<u32>(), y in any::<u16>(), p in any::<u8>(), v6 in any::<bool>()) {
            prop_assert_eq!(fa(x), h3(&FA_ROWS, x as u64));
            prop_assert_eq!(fp(y), h3(&FP_ROWS, y as u64));
            prop_assert_eq!(pr(p, v6), h3(&PR_ROWS, p as u64 | (v6 as u64) << 8));
        }

        #[test]
        fn columns_give_each_output_bit(x in any::<u32>(), j in 0u32..64) {
            let bit = ((x as u64) & column(&FA_ROWS, j)).count_ones() & 1;
            prop_assert_eq!(bit as u64, (fa(x) >> j) & 1);
        }

        #[test]
        fn conversation_hash_is_symmetric(
            s in any::<[u8; 4]>(), d in any::<[u8; 4]>(), sp in any::<u16>(), dp in any::<u16>()
        ) {
            let fwd = FlowKey::v4(PROTO_TCP, s, sp, d, dp);
            let rev = fwd.reverse(false);
            let (a, b) = (Hashes::of_key(&fwd, FLAG_TCP_SYN), Hashes::of_key(&rev, FLAG_TCP_SYNACK));
            prop_assert_eq!(a.conv, b.conv);
            if (s, sp) != (d, dp) {
                prop_assert_ne!(a.dir, b.dir);
            }
        }

        #[test]
        fn echo_request_and_reply_share_lines_and_split_rings(
            s in any::<[u8; 16]>(), d in any::<[u8; 16]>(), id in any::<u16>()
        ) {
            let req = FlowKey::v6(PROTO_ICMPV6, s, id, d, 0);
            let rep = req.reverse(true);
            let (a, b) = (Hashes::of_key(&req, FLAG_ECHO_REQUEST), Hashes::of_key(&rep, FLAG_ECHO_REPLY));
            prop_assert_eq!(a.conv, b.conv);
            prop_assert_eq!((a.dir, b.dir), (0, 1));
        }
    }

    #[test]
    fn fold_is_bijective_on_ipv4() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..100_000u32 {
            let a = v4_mapped((i.wrapping_mul(2_654_435_761)).to_be_bytes());
            assert!(seen.insert(fold(&a)));
        }
    }

    #[test]
    fn flow_hash_spreads_sequential_ports() {
        // 4096 flows from one client to one server, sequential source ports:
        // slots of a 256-slot table should be close to uniform.
        let cfg = crate::config::ALCHITRY_CU;
        let mut counts = vec![0u32; cfg.slots() as usize];
        let mut lines = vec![0u32; cfg.lines() as usize];
        for p in 0..4096u16 {
            let k = FlowKey::v4(PROTO_TCP, [10, 0, 0, 1], 30000 + p, [10, 0, 0, 2], 80);
            let h = Hashes::of_key(&k, 0);
            counts[h.slot(&cfg) as usize] += 1;
            lines[h.line(&cfg, 1) as usize] += 1;
        }
        let chi = |c: &[u32]| {
            let e = 4096.0 / c.len() as f64;
            c.iter().map(|&x| (x as f64 - e).powi(2) / e).sum::<f64>() / (c.len() - 1) as f64
        };
        // Reduced chi-square of a uniform hash is ~1; allow generous slack.
        assert!(chi(&counts) < 1.6, "slots {}", chi(&counts));
        assert!(chi(&lines) < 1.6, "lines {}", chi(&lines));
    }
}
