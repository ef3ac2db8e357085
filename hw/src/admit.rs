//! Admission comparisons of stage 0 (docs/DESIGN.md §1, §9): is the input
//! record older than the newest admitted (clamp and count a time
//! regression), is its epoch within the sweeper's limit (else it waits), and
//! is it a window or more after the newest (a stale pass empties every line
//! at once)?
//!
//! Each comparison is split at epoch bit 21 (`log2` of the window) into
//! halves whose results are one short carry chain or equality each: the
//! core's spaced configuration registers those pieces a clock ahead, so that
//! admission is two logic levels from registers instead of three 37-bit
//! carry chains. The one-record-per-clock configuration combines them at
//! once. "A window or more after" needs the newest epoch's high half plus
//! one: the core keeps it in a register beside the newest timestamp
//! ([`hi_plus_one`]).
//!
//! All three results are the model's (`golden::BloomTime::admit`):
//! `lt = rec < newest` as (epoch, sub); `ok = lt or rec.epoch ≤ limit`;
//! `jump = not lt and rec.epoch − newest.epoch ≥ 2^21`.

use crate::consts::*;
use crate::leaf::ConstBit;
use crate::types::Ts;
use rust_hdl::prelude::*;

/// Epoch bits below the split (the window's `log2`), and above it.
pub const LO_BITS: usize = 21;
pub const HI_BITS: usize = EPOCH_BITS - LO_BITS;
const _: () = assert!(WINDOW_EPOCHS == 1 << LO_BITS && EPOCH_BITS == 37 && HI_BITS == 16);

/// The register the core keeps beside the newest timestamp: its epoch's high
/// half plus one (one bit wider, so that it never wraps).
pub fn hi_plus_one(epoch: u64) -> u64 {
    (epoch >> LO_BITS) + 1
}

/// The halves' comparisons.
#[derive(LogicStruct, Copy, Clone, Default, PartialEq, Eq, Debug)]
pub struct Pieces {
    /// rec.hi < newest.hi, rec.hi == newest.hi, rec.hi == newest.hi + 1.
    pub lt_hi: Bit,
    pub eq_hi: Bit,
    pub eq_hi1: Bit,
    /// rec.lo < newest.lo, rec.lo == newest.lo, rec.sub < newest.sub.
    pub lt_lo: Bit,
    pub eq_lo: Bit,
    pub lt_sub: Bit,
    /// limit.hi < rec.hi, limit.hi == rec.hi, limit.lo < rec.lo.
    pub lim_lt_hi: Bit,
    pub lim_eq_hi: Bit,
    pub lim_lt_lo: Bit,
}

#[derive(LogicBlock, Default)]
pub struct AdmitCompare {
    pub clock: Signal<In, Clock>,
    /// Register the pieces (the core's spaced configuration).
    pub spaced: ConstBit,
    pub rec: Signal<In, Ts>,
    pub newest: Signal<In, Ts>,
    /// `hi_plus_one(newest.epoch)`.
    pub newest_hi1: Signal<In, Bits<{ HI_BITS + 1 }>>,
    /// The sweeper's limit.
    pub limit: Signal<In, Bits<EPOCH_BITS>>,
    pub lt: Signal<Out, Bit>,
    pub ok: Signal<Out, Bit>,
    pub jump: Signal<Out, Bit>,
    re: Signal<Local, Bits<EPOCH_BITS>>,
    ne: Signal<Local, Bits<EPOCH_BITS>>,
    now: Signal<Local, Pieces>,
    pre: DFF<Pieces>,
    p: Signal<Local, Pieces>,
    near: Signal<Local, Bit>,
}

impl Logic for AdmitCompare {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, pre);
        // (Locals: the Verilog cannot select bits of a struct's field.)
        self.re.next = self.rec.val().epoch;
        self.ne.next = self.newest.val().epoch;
        self.now.next.lt_hi = self.re.val().get_bits::<16>(21) < self.ne.val().get_bits::<16>(21);
        self.now.next.eq_hi = self.re.val().get_bits::<16>(21) == self.ne.val().get_bits::<16>(21);
        self.now.next.eq_hi1 =
            bit_cast::<17, 16>(self.re.val().get_bits::<16>(21)) == self.newest_hi1.val();
        self.now.next.lt_lo = self.re.val().get_bits::<21>(0) < self.ne.val().get_bits::<21>(0);
        self.now.next.eq_lo = self.re.val().get_bits::<21>(0) == self.ne.val().get_bits::<21>(0);
        self.now.next.lt_sub = self.rec.val().sub < self.newest.val().sub;
        self.now.next.lim_lt_hi =
            self.limit.val().get_bits::<16>(21) < self.re.val().get_bits::<16>(21);
        self.now.next.lim_eq_hi =
            self.limit.val().get_bits::<16>(21) == self.re.val().get_bits::<16>(21);
        self.now.next.lim_lt_lo =
            self.limit.val().get_bits::<21>(0) < self.re.val().get_bits::<21>(0);
        self.pre.d.next = self.now.val();
        self.p.next = self.now.val();
        if self.spaced.y.val() {
            self.p.next = self.pre.q.val();
        }
        self.lt.next = self.p.val().lt_hi
            | (self.p.val().eq_hi
                & (self.p.val().lt_lo | (self.p.val().eq_lo & self.p.val().lt_sub)));
        self.ok.next = self.lt.val()
            | !(self.p.val().lim_lt_hi | (self.p.val().lim_eq_hi & self.p.val().lim_lt_lo));
        // Not older: the distance is below the window exactly when the high
        // halves are equal, or one apart with a borrow from the low halves.
        self.near.next = self.p.val().eq_hi | (self.p.val().eq_hi1 & self.p.val().lt_lo);
        self.jump.next = !self.lt.val() & !self.near.val();
    }
}
crate::impl_clocked!(AdmitCompare);

/// `a <= b` on epochs, split at the same bit as the admission's pieces: two
/// carry chains side by side (16 and 21 bits) and one LUT, where a single
/// comparison is one chain of 37 (the sweeper's registered `le_pre`, whose
/// chain was the worst path of five of eight seeds once the command
/// processor was one-hot).
///
/// The pieces are outputs too (`pieces`: bit 2 the high halves `<`, bit 1
/// their `==`, bit 0 the low halves `<=`), so that a user may register them
/// and join them a clock later with [`join_le`] (the core does: the chain
/// then ends in a flip-flop).
#[derive(LogicBlock, Default)]
pub struct EpochLe {
    pub a: Signal<In, Bits<EPOCH_BITS>>,
    pub b: Signal<In, Bits<EPOCH_BITS>>,
    pub pieces: Signal<Out, Bits<3>>,
    pub le: Signal<Out, Bit>,
}

impl Logic for EpochLe {
    #[hdl_gen]
    fn update(&mut self) {
        self.pieces.next = bits::<3>(0)
            .replace_bit(
                2,
                self.a.val().get_bits::<16>(21) < self.b.val().get_bits::<16>(21),
            )
            .replace_bit(
                1,
                self.a.val().get_bits::<16>(21) == self.b.val().get_bits::<16>(21),
            )
            .replace_bit(
                0,
                self.a.val().get_bits::<21>(0) <= self.b.val().get_bits::<21>(0),
            );
        self.le.next = self.pieces.val().get_bit(2)
            | (self.pieces.val().get_bit(1) & self.pieces.val().get_bit(0));
    }
}

/// [`EpochLe`]'s pieces joined: `a <= b`.
pub fn join_le(pieces: u64) -> bool {
    pieces & 4 != 0 || pieces & 3 == 3
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::settle;

    fn ts(t: u64) -> Ts {
        Ts {
            sub: (t & ((1 << S_SHIFT) - 1)).into(),
            epoch: ((t >> S_SHIFT) & ((1 << EPOCH_BITS) - 1)).into(),
        }
    }

    /// The three results against their definitions, on random and boundary
    /// timestamps (the one-record-per-clock configuration: combinational).
    #[test]
    fn admission_comparisons_equal_their_definitions() {
        let mut rng = bloomtime_testkit::Rng::new(2);
        let mut r = move || rng.next();
        let w = WINDOW_EPOCHS << S_SHIFT;
        for n in 0..20_000u64 {
            let newest = r() & ((1 << TS_BITS) - 1);
            let rec = match n % 5 {
                0 => r() & ((1 << TS_BITS) - 1),
                1 => newest
                    .wrapping_add(w)
                    .wrapping_add(r() % 32)
                    .wrapping_sub(16),
                2 => newest.wrapping_add(r() % (2 * w)),
                3 => newest.wrapping_sub(r() % 64),
                _ => newest ^ (1 << (r() % 40)),
            } & ((1 << TS_BITS) - 1);
            let limit = match n % 3 {
                0 => r() & ((1 << EPOCH_BITS) - 1),
                1 => rec >> S_SHIFT,
                _ => ((rec >> S_SHIFT) + (r() % 3)).wrapping_sub(1) & ((1 << EPOCH_BITS) - 1),
            };
            let mut b = AdmitCompare::default();
            b.rec.next = ts(rec);
            b.newest.next = ts(newest);
            b.newest_hi1.next = hi_plus_one(newest >> S_SHIFT).into();
            b.limit.next = limit.into();
            b.clock.next = Clock::default();
            b.connect_all();
            settle(&mut b);
            let lt = rec < newest;
            let (re, ne) = (rec >> S_SHIFT, newest >> S_SHIFT);
            assert_eq!(b.lt.val(), lt, "rec {rec} newest {newest}");
            assert_eq!(b.ok.val(), lt || re <= limit, "rec {rec} limit {limit}");
            assert_eq!(
                b.jump.val(),
                !lt && re - ne >= WINDOW_EPOCHS,
                "rec {rec} newest {newest}"
            );
        }
    }

    /// The split `<=` against `<=`, on random epochs and on pairs whose
    /// high halves are equal or one apart with low halves near each other.
    #[test]
    fn split_epoch_compare_is_le() {
        let mut rng = bloomtime_testkit::Rng::new(3);
        let mask = (1u64 << EPOCH_BITS) - 1;
        let mut b = EpochLe::default();
        b.connect_all();
        let (mut seen_hi_eq_gt, mut seen_hi_eq_le) = (0, 0);
        for n in 0..20_000u64 {
            let x = rng.next() & mask;
            let y = match n % 4 {
                0 => rng.next() & mask,
                1 => (x + rng.next() % 64).wrapping_sub(32) & mask,
                2 => (x ^ (1 << LO_BITS)) & mask,
                _ => (x & !((1 << LO_BITS) - 1)) | (rng.next() & ((1 << LO_BITS) - 1)),
            };
            b.a.next = x.into();
            b.b.next = y.into();
            settle(&mut b);
            assert_eq!(b.le.val(), x <= y, "{x} <= {y}");
            assert_eq!(join_le(b.pieces.val().to_u64()), x <= y, "{x} <= {y}");
            if x >> LO_BITS == y >> LO_BITS {
                if x > y {
                    seen_hi_eq_gt += 1;
                } else {
                    seen_hi_eq_le += 1;
                }
            }
        }
        assert!(seen_hi_eq_gt > 1000 && seen_hi_eq_le > 1000);
    }
}
