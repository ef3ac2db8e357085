//! The per-level logic of BloomTime v2 (docs/DESIGN.md §4, §5) as leaf
//! blocks: their Verilog is generated from the configuration's levels (which
//! `#[hdl_gen]`, taking literals only, cannot loop over), and their Rust
//! `update` computes the same thing the same way. Each has a test against
//! the model's formula here; the Verilator tests check the Verilog.
//!
//! * [`EpochDiff`], [`SaturateAges`]: every level's saturated age of a line,
//!   from two `E`-bit epochs and one subtraction (bank stage 3), saturated
//!   in bank stage 4.
//! * [`AgeMark`]: age every level's ring pair, mark and retag (bank stage 4,
//!   the one-clock loop).
//! * [`FinestHit`]: the bank's aged rings, the finest level with a mark and
//!   its newest bucket, for both directions (estimator).
//! * [`LevelSample`]: a hit's sample from the level's offset, in units `q_0`.

use crate::consts::*;
use crate::types::{RingsBits, Ts};
use bloomtime_model::bank;
use bloomtime_model::estimator::{estimate, hit_sample, Hit};
use rust_hdl::prelude::*;

/// Level `i`'s shift over level 0, `g_i`.
fn g(i: usize) -> usize {
    CFG.level_shift(i) as usize
}

/// Level `i`'s saturated age of a line with tag `t` at epoch `e` (both taken
/// mod `2^E`): `(e >> g) − (t >> g)`, as the floor of the distance plus the
/// borrow out of the low `g` bits, saturated at `B`.
pub fn level_age(e: u64, t: u64, i: usize) -> u64 {
    let m = (1u64 << E) - 1;
    let (e, t) = (e & m, t & m);
    let gi = g(i);
    let q = (e.wrapping_sub(t) & m) >> gi;
    let borrow = (e & ((1 << gi) - 1)) < (t & ((1 << gi) - 1));
    (q + borrow as u64).min(B as u64)
}

/// Bit `c_i = g_i + log2 B` of the epoch difference: level `i` is saturated
/// when a bit at or above it is set. Every level's `c_i` starts a segment of
/// the difference that runs to the next level's (the last one to bit `E`).
fn seg_start(i: usize) -> usize {
    g(i) + HIT_AGE_BITS
}

fn seg_end(i: usize) -> usize {
    if i + 1 < L {
        seg_start(i + 1)
    } else {
        E
    }
}

const _: () = assert!(CFG.level_shift(L - 1) as usize + HIT_AGE_BITS < E);

/// Bank stage 3: the epoch difference of a line, as much of every level's
/// age as one subtraction gives, for [`SaturateAges`] to finish a stage
/// later. Level `i` at bits `i·(log2 B + 2)..`: the low `log2 B` bits of
/// `(e − t) >> g_i`, the borrow out of the low `g_i` bits, and the OR of the
/// difference's bits `c_i..c_(i+1)` (see [`seg_start`]).
#[derive(LogicBlock, Default)]
pub struct EpochDiff {
    pub e: Signal<In, Bits<E>>,
    pub t: Signal<In, Bits<E>>,
    pub pre: Signal<Out, Bits<DIFF_BITS>>,
}

/// The [`EpochDiff`] of epochs `e` and `t` (mod `2^E`).
pub fn epoch_diff(e: u64, t: u64) -> u64 {
    let m = (1u64 << E) - 1;
    let (e, t) = (e & m, t & m);
    let diff = e.wrapping_sub(t) & m;
    let hb = HIT_AGE_BITS;
    (0..L).fold(0u64, |acc, i| {
        let gi = g(i);
        let low = (diff >> gi) & ((1 << hb) - 1);
        let borrow = (e & ((1 << gi) - 1)) < (t & ((1 << gi) - 1));
        let seg = (diff >> seg_start(i)) & ((1 << (seg_end(i) - seg_start(i))) - 1) != 0;
        let v = low | (borrow as u64) << hb | (seg as u64) << (hb + 1);
        acc | v << (i * (hb + 2))
    })
}

/// Every level's saturated age from an [`epoch_diff`], level `i` in bits
/// `i·DELTA_BITS..`: `B` when a segment at or above `c_i` is set or the low
/// bits are all ones with a borrow, else the low bits plus the borrow.
pub fn saturate_ages(pre: u64) -> u64 {
    let hb = HIT_AGE_BITS;
    let field = |i: usize| (pre >> (i * (hb + 2))) & ((1 << (hb + 2)) - 1);
    (0..L).fold(0u64, |acc, i| {
        let (low, b) = (field(i) & ((1 << hb) - 1), field(i) >> hb & 1);
        let high = (i..L).any(|j| field(j) >> (hb + 1) & 1 == 1);
        let d = if high || (low == (1 << hb) - 1 && b == 1) {
            B as u64
        } else {
            low + b
        };
        acc | d << (i * DELTA_BITS)
    })
}

impl Logic for EpochDiff {
    fn update(&mut self) {
        self.pre.next = epoch_diff(self.e.val().to_u64(), self.t.val().to_u64()).into();
    }
    fn connect(&mut self) {
        self.pre.connect();
    }
    fn hdl(&self) -> Verilog {
        let hb = HIT_AGE_BITS;
        // e − t as ~(~e + t): the inversion sits on the register's side
        // (and in the sum's LUTs), so the RAM's tag enters the carry chain
        // with no LUT in front of it.
        let mut s = format!(
            "wire [{m}:0] sum = ~e + t;\nwire [{m}:0] diff = ~sum;\n",
            m = E - 1
        );
        let mut parts = Vec::new();
        for i in 0..L {
            let gi = g(i);
            let b = if gi == 0 {
                "1'b0".to_string()
            } else {
                format!("diff[{gi}] ^ e[{gi}] ^ t[{gi}]")
            };
            parts.push(format!(
                "|diff[{}:{}], {b}, diff[{}:{gi}]",
                seg_end(i) - 1,
                seg_start(i),
                gi + hb - 1
            ));
        }
        parts.reverse();
        s += &format!("always @(*) pre = {{{}}};\n", parts.join(", "));
        Verilog::Custom(s)
    }
}

/// Bank stage 4: every level's saturated age from a registered
/// [`EpochDiff`] (see [`saturate_ages`]).
#[derive(LogicBlock, Default)]
pub struct SaturateAges {
    pub pre: Signal<In, Bits<DIFF_BITS>>,
    pub d: Signal<Out, Bits<DELTAS_BITS>>,
}

impl Logic for SaturateAges {
    fn update(&mut self) {
        self.d.next = saturate_ages(self.pre.val().to_u64()).into();
    }
    fn connect(&mut self) {
        self.d.connect();
    }
    fn hdl(&self) -> Verilog {
        let (hb, db, fw) = (HIT_AGE_BITS, DELTA_BITS, HIT_AGE_BITS + 2);
        let mut s = String::new();
        let mut body = String::from("always @(*) begin\n");
        for i in 0..L {
            let at = i * fw;
            let segs: Vec<String> = (i..L)
                .map(|j| format!("pre[{}]", j * fw + hb + 1))
                .collect();
            s += &format!(
                "wire sat{i} = {} | ((&pre[{}:{at}]) & pre[{}]);\n",
                segs.join(" | "),
                at + hb - 1,
                at + hb
            );
            body += &format!(
                "    if (sat{i}) d[{lo} +: {db}] = {db}'d{bb};\n    else d[{lo} +: {db}] = {{1'b0, pre[{h}:{at}]}} + {{{hb}'d0, pre[{bi}]}};\n",
                lo = i * db,
                bb = B,
                h = at + hb - 1,
                bi = at + hb,
            );
        }
        body += "end\n";
        Verilog::Custom(s + &body)
    }
}

/// A line's rings aged by `d` (every level's saturated age), marked in ring
/// `dir` of every level when `mark`, emptied when `clear` (the new tag, the
/// record's epoch, is written beside them). What the estimator sees, the rings after ageing and before
/// marking, differs from the new rings only in bit 0 of ring `dir` of each
/// level: `own0` is that bit before marking (one shifter for both).
#[derive(LogicBlock, Default)]
pub struct AgeMark {
    pub rings: Signal<In, RingsBits>,
    pub d: Signal<In, Bits<DELTAS_BITS>>,
    pub mark: Signal<In, Bit>,
    pub dir: Signal<In, Bit>,
    pub clear: Signal<In, Bit>,
    pub own0: Signal<Out, Bits<L>>,
    /// The new rings.
    pub y_rings: Signal<Out, RingsBits>,
}

/// One level's packed pair (ring 0 in the low `B` bits) aged by `d`, by the
/// model's `bank::age_pair`.
fn age_packed_pair(pair: u64, d: u64) -> u64 {
    let m = (1u64 << B) - 1;
    let mut rings = [pair & m, pair >> B];
    bank::age_pair(&mut rings, d, B as u32);
    rings[0] | rings[1] << B
}

impl Logic for AgeMark {
    fn update(&mut self) {
        let d = self.d.val().to_u64();
        let pairs = self.rings.val().pairs();
        let aged: [u64; L] = std::array::from_fn(|i| {
            age_packed_pair(pairs[i], (d >> (i * DELTA_BITS)) & ((1 << DELTA_BITS) - 1))
        });
        let mark = if self.mark.val() {
            1u64 << (if self.dir.val() { B } else { 0 })
        } else {
            0
        };
        let new: [u64; L] =
            std::array::from_fn(|i| if self.clear.val() { 0 } else { aged[i] | mark });
        let own0 = (0..L).fold(0u64, |acc, i| {
            let bit = aged[i] >> (if self.dir.val() { B } else { 0 }) & 1;
            acc | bit << i
        });
        self.own0.next = own0.into();
        self.y_rings.next = RingsBits::from_pairs(new);
    }
    fn connect(&mut self) {
        self.own0.connect();
        self.y_rings.connect();
    }
    fn hdl(&self) -> Verilog {
        let (hb, db) = (HIT_AGE_BITS, DELTA_BITS);
        let mut s = String::new();
        let mut own0 = Vec::new();
        let mut new = Vec::new();
        for i in 0..L {
            for r in 0..2 {
                let at = i * PAIR_BITS + r * B;
                s += &format!(
                    "wire [{m}:0] a{i}_{r} = d[{sat}] ? {B}'d0 : (rings[{at} +: {B}] << d[{lo} +: {hb}]);\n",
                    m = B - 1,
                    sat = i * db + hb,
                    lo = i * db,
                );
                s += &format!(
                    "wire [{m}:0] n{i}_{r} = clear ? {B}'d0 : (a{i}_{r} | {{{z}'d0, mark & {want}dir}});\n",
                    m = B - 1,
                    z = B - 1,
                    want = if r == 0 { "~" } else { "" },
                );
                new.push(format!("n{i}_{r}"));
            }
            own0.push(format!("(dir ? a{i}_1[0] : a{i}_0[0])"));
        }
        own0.reverse();
        new.reverse();
        s += &format!(
            "always @(*) begin\n    own0 = {{{}}};\n    y_rings = {{{n}}};\nend\n",
            own0.join(", "),
            n = new.join(", ")
        );
        Verilog::Custom(s)
    }
}

/// The rings before marking, from the new rings and [`AgeMark`]'s `own0`:
/// bit 0 of ring `dir` of every level replaced.
#[derive(LogicBlock, Default)]
pub struct Unmark {
    pub rings: Signal<In, RingsBits>,
    pub own0: Signal<In, Bits<L>>,
    pub dir: Signal<In, Bit>,
    pub y: Signal<Out, RingsBits>,
}

impl Logic for Unmark {
    fn update(&mut self) {
        let p = self.rings.val().pairs();
        let own0 = self.own0.val().to_u64();
        let at = if self.dir.val() { B } else { 0 };
        self.y.next = RingsBits::from_pairs(std::array::from_fn(|i| {
            p[i] & !(1 << at) | (own0 >> i & 1) << at
        }));
    }
    fn connect(&mut self) {
        self.y.connect();
    }
    fn hdl(&self) -> Verilog {
        let mut s = String::from("always @(*) begin\n    y = rings;\n");
        for i in 0..L {
            let at = i * PAIR_BITS;
            s += &format!(
                "    if (dir) y[{}] = own0[{i}];\n    else y[{at}] = own0[{i}];\n",
                at + B
            );
        }
        s += "end\n";
        Verilog::Custom(s)
    }
}

/// The bank's aged rings (one bank: `K == 1`, so no AND across banks) →
/// for the record's own direction (IAT) and the other (RTT): whether a
/// level has a bucket marked, the finest such level and its newest
/// bucket's age.
#[derive(LogicBlock, Default)]
pub struct FinestHit {
    pub rings: Signal<In, RingsBits>,
    pub dir: Signal<In, Bit>,
    pub own_found: Signal<Out, Bit>,
    pub own_level: Signal<Out, Bits<LEVEL_BITS>>,
    pub own_age: Signal<Out, Bits<HIT_AGE_BITS>>,
    pub rev_found: Signal<Out, Bit>,
    pub rev_level: Signal<Out, Bits<LEVEL_BITS>>,
    pub rev_age: Signal<Out, Bits<HIT_AGE_BITS>>,
}

/// The finest hit of per-level rings: the model's `estimate`, its sample unused.
fn finest(rings: &[u64]) -> Option<Hit> {
    estimate(&CFG, 0, rings).map(|(_, hit)| hit)
}

const _: () = assert!(K == 1, "FinestHit reads one bank's rings");

impl Logic for FinestHit {
    fn update(&mut self) {
        let p = self.rings.val().pairs();
        let m = (1u64 << B) - 1;
        let ring = |p: u64, r: bool| if r { p >> B } else { p & m };
        let d = self.dir.val();
        let own: [u64; L] = std::array::from_fn(|i| ring(p[i], d));
        let rev: [u64; L] = std::array::from_fn(|i| ring(p[i], !d));
        let h = finest(&own);
        self.own_found.next = h.is_some();
        self.own_level.next = (h.map_or(0, |h| h.level) as u64).into();
        self.own_age.next = (h.map_or(0, |h| h.age) as u64).into();
        let h = finest(&rev);
        self.rev_found.next = h.is_some();
        self.rev_level.next = (h.map_or(0, |h| h.level) as u64).into();
        self.rev_age.next = (h.map_or(0, |h| h.age) as u64).into();
    }
    fn connect(&mut self) {
        self.own_found.connect();
        self.own_level.connect();
        self.own_age.connect();
        self.rev_found.connect();
        self.rev_level.connect();
        self.rev_age.connect();
    }
    fn hdl(&self) -> Verilog {
        // The finest hit of each ring (0 and 1), then each chosen by `dir`:
        // no multiplexer in front of the priority encoders.
        let (lb, hb) = (LEVEL_BITS, HIT_AGE_BITS);
        let mut s = String::new();
        for i in 0..L {
            for r in 0..2 {
                let at = i * PAIR_BITS + r * B;
                s += &format!("wire [{m}:0] and{r}_{i} = rings[{at} +: {B}];\n", m = B - 1);
            }
        }
        // Per ring: each level's "any" and newest bucket, then the finest
        // level one-hot, then its age by AND-OR: a tree, not an if-chain.
        for r in 0..2 {
            for i in 0..L {
                s += &format!(
                    "wire any{r}_{i} = |and{r}_{i};\nreg [{}:0] age{r}_{i};\n",
                    hb - 1
                );
                s += &format!("always @(*) begin\n    age{r}_{i} = {hb}'d0;\n");
                for k in (0..B).rev() {
                    s += &format!("    if (and{r}_{i}[{k}]) age{r}_{i} = {hb}'d{k};\n");
                }
                s += "end\n";
                let finer: String = (0..i).map(|j| format!(" & ~any{r}_{j}")).collect();
                s += &format!("wire first{r}_{i} = any{r}_{i}{finer};\n");
            }
            let any: Vec<String> = (0..L).map(|i| format!("any{r}_{i}")).collect();
            s += &format!("wire found{r} = {};\n", any.join(" | "));
            let level: Vec<String> = (0..lb)
                .map(|j| {
                    let t: Vec<String> = (0..L)
                        .filter(|i| i >> j & 1 == 1)
                        .map(|i| format!("first{r}_{i}"))
                        .collect();
                    if t.is_empty() {
                        "1'b0".into()
                    } else {
                        t.join(" | ")
                    }
                })
                .rev()
                .collect();
            s += &format!("wire [{}:0] level{r} = {{{}}};\n", lb - 1, level.join(", "));
            let age: Vec<String> = (0..L)
                .map(|i| format!("({{{hb}{{first{r}_{i}}}}} & age{r}_{i})"))
                .collect();
            s += &format!("wire [{}:0] age{r} = {};\n", hb - 1, age.join(" | "));
        }
        s += "always @(*) begin\n";
        for (side, mine, other) in [("own", 1, 0), ("rev", 0, 1)] {
            for f in ["found", "level", "age"] {
                s += &format!("    {side}_{f} = dir ? {f}{mine} : {f}{other};\n");
            }
        }
        s += "end\n";
        Verilog::Custom(s)
    }
}

/// A hit's sample in units `q_0` (`estimator::hit_sample`): level `i`'s
/// offset `o = (ts >> (s_i − f)) mod 2^f`, `x = a = 0 ? o >> 1 : a·2^f + o −
/// 2^(f−1)`, scaled by `2^g_i` with `2^(g_i−1)` added for coarse levels.
#[derive(LogicBlock, Default)]
pub struct LevelSample {
    pub level: Signal<In, Bits<LEVEL_BITS>>,
    pub age: Signal<In, Bits<HIT_AGE_BITS>>,
    pub ts: Signal<In, Ts>,
    pub x: Signal<Out, Bits<X_BITS>>,
}

impl Logic for LevelSample {
    fn update(&mut self) {
        let level = self.level.val().to_u64() as usize;
        self.x.next = if level < L {
            let hit = Hit {
                level: level as u8,
                age: self.age.val().to_u64() as u32,
            };
            hit_sample(&CFG, self.ts.val().to_u64(), hit) as u64
        } else {
            0
        }
        .into();
    }
    fn connect(&mut self) {
        self.x.connect();
    }
    fn hdl(&self) -> Verilog {
        let (hb, f, xb, lb) = (HIT_AGE_BITS, F_BITS, X_BITS, LEVEL_BITS);
        let w = hb + f;
        let mut s = String::new();
        let mut body = String::from("always @(*) begin\n    case (level)\n");
        for i in 0..L {
            let si = S_SHIFT + g(i);
            let gi = g(i);
            s += &format!("wire [{}:0] o{i} = ts[{}:{}];\n", f - 1, si - 1, si - f);
            s += &format!(
                "wire [{m}:0] u{i} = (age == {hb}'d0) ? {{{hb}'d0, o{i}}} >> 1 : {{age, o{i}}} - {w}'d{half};\n",
                m = w - 1,
                half = 1 << (f - 1),
            );
            let bias = if gi == 0 { 0u64 } else { 1u64 << (gi - 1) };
            body += &format!(
                "        {lb}'d{i}: x = ({{{z}'d0, u{i}}} << {gi}) | {xb}'d{bias};\n",
                z = xb - w,
            );
        }
        body += &format!("        default: x = {xb}'d0;\n    endcase\nend\n");
        // Only the levels' offset bits of `ts` are used (Verilator's idiom).
        s += "wire _unused_ts = &{1'b0, ts, 1'b0};\n";
        Verilog::Custom(s + &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::LineBits;
    use crate::util::settle;

    /// Deterministic pseudo-random words (the test kit's generator).
    fn rng(seed: u64) -> impl FnMut() -> u64 {
        let mut r = bloomtime_testkit::Rng::new(seed);
        move || r.next()
    }

    #[test]
    fn epoch_diff_then_saturate_equals_the_models_formula() {
        let mut r = rng(1);
        for n in 0..20_000 {
            // Tags up to the sweep horizon behind the epoch, as the sweeper
            // guarantees; small distances more often.
            let span = if n % 2 == 0 {
                4 * WINDOW_EPOCHS
            } else {
                SWEEP_HORIZON
            };
            let t = r() & ((1 << 37) - 1);
            let e = t + r() % span;
            let mut b = EpochDiff::default();
            b.e.next = (e & ((1 << E) - 1)).into();
            b.t.next = (t & ((1 << E) - 1)).into();
            b.connect_all();
            settle(&mut b);
            let mut sat = SaturateAges::default();
            sat.pre.next = b.pre.val();
            sat.connect_all();
            settle(&mut sat);
            let d = sat.d.val().to_u64();
            for i in 0..L {
                let gi = g(i);
                let want = ((e >> gi) - (t >> gi)).min(B as u64);
                let got = (d >> (i * DELTA_BITS)) & ((1 << DELTA_BITS) - 1);
                assert_eq!(got, want, "level {i}, e {e}, t {t}");
            }
        }
    }

    #[test]
    fn age_mark_equals_the_model_bank() {
        use bloomtime_model::bank::Banks;
        let mut r = rng(2);
        for _ in 0..2000 {
            let mut banks = Banks::new(&CFG);
            let t0 = r() % (1 << 30);
            // A random line: mark it at a few earlier epochs.
            let mut t = t0;
            let (mut ad, mut ar) = ([u64::MAX; L], [u64::MAX; L]);
            for _ in 0..(r() % 12) {
                banks.touch(0, 0, t, (r() & 1) as usize, &mut ad, &mut ar);
                t += r() % (1 << (r() % 22));
            }
            let line = banks.pack(&CFG, 0, 0);
            let tag = banks.tag(0, 0);
            let e = t;
            let dir = (r() & 1) as usize;
            let mut b = AgeMark::default();
            let lb = LineBits::new(
                tag & ((1 << E) - 1),
                RingsBits::from_pairs(std::array::from_fn(|i| {
                    let p = banks.rings(0, 0);
                    p[2 * i] | p[2 * i + 1] << B
                })),
            );
            assert_eq!(lb.to_words(), line);
            let d = (0..L).fold(0u64, |a, i| a | level_age(e, tag, i) << (i * DELTA_BITS));
            b.rings.next = lb.rings();
            b.d.next = d.into();
            b.mark.next = true;
            b.dir.next = dir == 1;
            b.clear.next = false;
            b.connect_all();
            settle(&mut b);
            let (mut ad, mut ar) = ([u64::MAX; L], [u64::MAX; L]);
            banks.touch(0, 0, e, dir, &mut ad, &mut ar);
            let y = LineBits::new(e & ((1 << E) - 1), b.y_rings.val());
            assert_eq!(y.to_words(), banks.pack(&CFG, 0, 0));
            // Before marking: the new rings with bit 0 of ring `dir` from `own0`.
            let new = b.y_rings.val().pairs();
            let own0 = b.own0.val().to_u64();
            let m = (1u64 << B) - 1;
            for i in 0..L {
                let (r0, r1) = (new[i] & m, new[i] >> B);
                let (own, rev) = if dir == 0 { (r0, r1) } else { (r1, r0) };
                let own = own & !1 | (own0 >> i & 1);
                assert_eq!((own, rev), (ad[i], ar[i]), "level {i}");
            }
        }
    }

    #[test]
    fn finest_hit_and_sample_equal_the_estimator() {
        let mut r = rng(3);
        for _ in 0..20_000 {
            // Sparse rings, so that levels are often empty.
            let mut pair = || r() & r() & r() & ((1 << PAIR_BITS) - 1);
            let a: [u64; L] = std::array::from_fn(|_| pair());
            let dir = r() & 1 == 1;
            let ts = r() & ((1 << 40) - 1);
            let mut h = FinestHit::default();
            h.rings.next = RingsBits::from_pairs(a);
            h.dir.next = dir;
            h.connect_all();
            settle(&mut h);
            let m = (1u64 << B) - 1;
            let ring = |p: u64, r: bool| if r { p >> B } else { p & m };
            for (rev, found, level, age) in [
                (false, &h.own_found, &h.own_level, &h.own_age),
                (true, &h.rev_found, &h.rev_level, &h.rev_age),
            ] {
                let d = dir ^ rev;
                let rings: Vec<u64> = (0..L).map(|i| ring(a[i], d)).collect();
                let want = estimate(&CFG, ts, &rings);
                assert_eq!(found.val(), want.is_some());
                if let Some((x, hit)) = want {
                    assert_eq!(level.val().to_u64(), hit.level as u64);
                    assert_eq!(age.val().to_u64(), hit.age as u64);
                    let mut s = LevelSample::default();
                    s.level.next = level.val();
                    s.age.next = age.val();
                    s.ts.next = Ts::from_u64(ts);
                    s.connect_all();
                    settle(&mut s);
                    assert_eq!(s.x.val().to_u64(), x as u64);
                }
            }
        }
    }
}
