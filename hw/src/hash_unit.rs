//! Hash unit (docs/DESIGN.md §3), pipeline stages 1 and 2.
//!
//! Stage 1 folds the addresses and computes the H3 matrices (`Fa` of both
//! folded addresses, `Fp` of both ports, `P` of protocol and family) and the
//! endpoint comparison that gives the direction. Stage 2 combines them with
//! adders into the bank lines, the flow-table slot and the fingerprint.
//! Maintenance operations (sweep, clear, flush, peek) pass their index through
//! as line and slot.

use crate::consts::*;
use crate::h3::H3;
use crate::leaf::{Fold, HashCombine};
use crate::types::{KeyBits, Ts};
use bloomtime_model::hash::{FA_ROWS, FP_ROWS, PR_ROWS};
use rust_hdl::prelude::*;

/// Pipeline operation carried with every record.
pub mod op {
    pub const NONE: u64 = 0;
    pub const PACKET: u64 = 1;
    pub const SWEEP: u64 = 2;
    pub const CLEAR: u64 = 3;
    pub const FLUSH: u64 = 4;
    pub const PEEK: u64 = 5;
    /// Sweeper: empty every ring of a line and tag it with the op's epoch
    /// (equal to ageing it by at least the window, `WINDOW_EPOCHS`).
    pub const STALE: u64 = 6;
}
const _: () = assert!(
    op::PACKET == 1
        && op::SWEEP == 2
        && op::CLEAR == 3
        && op::FLUSH == 4
        && op::PEEK == 5
        && op::STALE == 6
);
/// Bits of an operation code.
pub const OP_BITS: usize = 3;
/// Bits of a maintenance index (line or slot).
pub const IDX_BITS: usize = if LINE_ADDR > SLOT_ADDR {
    LINE_ADDR
} else {
    SLOT_ADDR
};

#[derive(LogicBlock)]
pub struct HashUnit {
    pub clock: Signal<In, Clock>,
    /// Move every stage one step.
    pub advance: Signal<In, Bit>,
    pub in_op: Signal<In, Bits<OP_BITS>>,
    pub in_idx: Signal<In, Bits<IDX_BITS>>,
    pub in_ts: Signal<In, Ts>,
    pub in_flags: Signal<In, Bits<FLAGS>>,
    pub in_key: Signal<In, KeyBits>,
    /// Stage-2 outputs.
    pub op: Signal<Out, Bits<OP_BITS>>,
    pub ts: Signal<Out, Ts>,
    /// The timestamp's epoch (`ts >> s`).
    pub epoch: Signal<Out, Bits<EPOCH_BITS>>,
    pub flags: Signal<Out, Bits<FLAGS>>,
    pub key: Signal<Out, KeyBits>,
    pub dir: Signal<Out, Bit>,
    pub line0: Signal<Out, Bits<LINE_ADDR>>,
    pub slot: Signal<Out, Bits<SLOT_ADDR>>,
    pub fp: Signal<Out, Bits<FP_BITS>>,
    // Stage 1 registers.
    op1: DFF<Bits<OP_BITS>>,
    idx1: DFF<Bits<IDX_BITS>>,
    ts1: DFF<Ts>,
    flags1: DFF<Bits<FLAGS>>,
    key1: DFF<KeyBits>,
    as1: DFF<Bits<HASH_BITS>>,
    ad1: DFF<Bits<HASH_BITS>>,
    fps1: DFF<Bits<HASH_BITS>>,
    fpd1: DFF<Bits<HASH_BITS>>,
    p1: DFF<Bits<HASH_BITS>>,
    /// The endpoint comparison in 16-bit pieces (a 48-bit carry chain after
    /// the fold does not fit a clock): `gt1` has the fold's high half, its
    /// low half and the ports compared source > destination, `lt1` the
    /// fold's halves compared source < destination (a tie is neither: a
    /// carry chain, shallower than a 16-bit equality's AND tree after the fold).
    gt1: DFF<Bits<3>>,
    lt1: DFF<Bits<2>>,
    // Stage 2 registers.
    op2: DFF<Bits<OP_BITS>>,
    ts2: DFF<Ts>,
    flags2: DFF<Bits<FLAGS>>,
    key2: DFF<KeyBits>,
    dir2: DFF<Bit>,
    line0_2: DFF<Bits<LINE_ADDR>>,
    slot2: DFF<Bits<SLOT_ADDR>>,
    fp2: DFF<Bits<FP_BITS>>,
    // Matrices.
    fa_s: H3<32, HASH_BITS>,
    fa_d: H3<32, HASH_BITS>,
    fp_s: H3<16, HASH_BITS>,
    fp_d: H3<16, HASH_BITS>,
    pr: H3<9, HASH_BITS>,
    // Stage 1 combinational.
    fold_s: Fold,
    fold_d: Fold,
    // Stage 2 combinational.
    combine: HashCombine,
    echo: Signal<Local, Bit>,
    maint: Signal<Local, Bit>,
    /// (fold(src), sport) > (fold(dst), dport), from the pieces.
    gt: Signal<Local, Bit>,
    idx_line: Signal<Local, Bits<LINE_ADDR>>,
    idx_slot: Signal<Local, Bits<SLOT_ADDR>>,
}

impl Default for HashUnit {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            advance: Default::default(),
            in_op: Default::default(),
            in_idx: Default::default(),
            in_ts: Default::default(),
            in_flags: Default::default(),
            in_key: Default::default(),
            op: Default::default(),
            ts: Default::default(),
            epoch: Default::default(),
            flags: Default::default(),
            key: Default::default(),
            dir: Default::default(),
            line0: Default::default(),
            slot: Default::default(),
            fp: Default::default(),
            op1: Default::default(),
            idx1: Default::default(),
            ts1: Default::default(),
            flags1: Default::default(),
            key1: Default::default(),
            as1: Default::default(),
            ad1: Default::default(),
            fps1: Default::default(),
            fpd1: Default::default(),
            p1: Default::default(),
            gt1: Default::default(),
            lt1: Default::default(),
            op2: Default::default(),
            ts2: Default::default(),
            flags2: Default::default(),
            key2: Default::default(),
            dir2: Default::default(),
            line0_2: Default::default(),
            slot2: Default::default(),
            fp2: Default::default(),
            fa_s: H3::new(&FA_ROWS),
            fa_d: H3::new(&FA_ROWS),
            fp_s: H3::new(&FP_ROWS),
            fp_d: H3::new(&FP_ROWS),
            pr: H3::new(&PR_ROWS),
            echo: Default::default(),
            fold_s: Default::default(),
            fold_d: Default::default(),
            combine: Default::default(),
            maint: Default::default(),
            gt: Default::default(),
            idx_line: Default::default(),
            idx_slot: Default::default(),
        }
    }
}

impl Logic for HashUnit {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, op1, idx1, ts1, flags1, key1, as1, ad1, fps1, fpd1, p1, gt1, lt1, op2,
            ts2, flags2, key2, dir2, line0_2, slot2, fp2
        );
        // Stage 1: fold, matrices, endpoint comparison.
        self.fold_s.a0.next = self.in_key.val().src0;
        self.fold_s.a1.next = self.in_key.val().src1;
        self.fold_s.a2.next = self.in_key.val().src2;
        self.fold_s.a3.next = self.in_key.val().src3;
        self.fold_d.a0.next = self.in_key.val().dst0;
        self.fold_d.a1.next = self.in_key.val().dst1;
        self.fold_d.a2.next = self.in_key.val().dst2;
        self.fold_d.a3.next = self.in_key.val().dst3;
        self.fa_s.x.next = self.fold_s.y.val();
        self.fa_d.x.next = self.fold_d.y.val();
        self.fp_s.x.next = self.in_key.val().sport;
        self.fp_d.x.next = self.in_key.val().dport;
        self.pr.x.next =
            bit_cast::<9, 8>(self.in_key.val().proto).replace_bit(8, self.in_key.val().v6);
        if self.advance.val() {
            self.op1.d.next = self.in_op.val();
            self.idx1.d.next = self.in_idx.val();
            self.ts1.d.next = self.in_ts.val();
            self.flags1.d.next = self.in_flags.val();
            self.key1.d.next = self.in_key.val();
            self.as1.d.next = self.fa_s.h.val();
            self.ad1.d.next = self.fa_d.h.val();
            self.fps1.d.next = self.fp_s.h.val();
            self.fpd1.d.next = self.fp_d.h.val();
            self.p1.d.next = self.pr.h.val();
            // (fold(src), sport) > (fold(dst), dport) as 48-bit numbers, in
            // three 16-bit pieces combined in stage 2.
            self.gt1.d.next = bits::<3>(0)
                .replace_bit(
                    2,
                    self.fold_s.y.val().get_bits::<16>(16) > self.fold_d.y.val().get_bits::<16>(16),
                )
                .replace_bit(
                    1,
                    self.fold_s.y.val().get_bits::<16>(0) > self.fold_d.y.val().get_bits::<16>(0),
                )
                .replace_bit(0, self.in_key.val().sport > self.in_key.val().dport);
            self.lt1.d.next = bits::<2>(0)
                .replace_bit(
                    1,
                    self.fold_s.y.val().get_bits::<16>(16) < self.fold_d.y.val().get_bits::<16>(16),
                )
                .replace_bit(
                    0,
                    self.fold_s.y.val().get_bits::<16>(0) < self.fold_d.y.val().get_bits::<16>(0),
                );
        }
        // Stage 2: combine.
        self.echo.next = self.flags1.q.val().get_bit(0) | self.flags1.q.val().get_bit(1);
        self.combine.fa_s.next = self.as1.q.val();
        self.combine.fa_d.next = self.ad1.q.val();
        self.combine.fp_s.next = self.fps1.q.val();
        self.combine.fp_d.next = self.fpd1.q.val();
        self.combine.p.next = self.p1.q.val();
        self.combine.echo.next = self.echo.val();
        self.maint.next = (self.op1.q.val() != 0) & (self.op1.q.val() != 1);
        self.gt.next = self.gt1.q.val().get_bit(2)
            | (!self.lt1.q.val().get_bit(1)
                & (self.gt1.q.val().get_bit(1)
                    | (!self.lt1.q.val().get_bit(0) & self.gt1.q.val().get_bit(0))));
        self.idx_line.next = bit_cast::<LINE_ADDR, IDX_BITS>(self.idx1.q.val());
        self.idx_slot.next = bit_cast::<SLOT_ADDR, IDX_BITS>(self.idx1.q.val());
        if self.advance.val() {
            self.op2.d.next = self.op1.q.val();
            self.ts2.d.next = self.ts1.q.val();
            self.flags2.d.next = self.flags1.q.val();
            self.key2.d.next = self.key1.q.val();
            self.dir2.d.next = self.gt.val();
            if self.echo.val() {
                self.dir2.d.next = self.flags1.q.val().get_bit(1);
            }
            self.line0_2.d.next = self.combine.line0.val();
            self.slot2.d.next = self.combine.slot.val();
            self.fp2.d.next = self.combine.fp.val();
            if self.maint.val() {
                self.line0_2.d.next = self.idx_line.val();
                self.slot2.d.next = self.idx_slot.val();
            }
        }
        self.op.next = self.op2.q.val();
        self.ts.next = self.ts2.q.val();
        self.epoch.next = self.ts2.q.val().epoch;
        self.flags.next = self.flags2.q.val();
        self.key.next = self.key2.q.val();
        self.dir.next = self.dir2.q.val();
        self.line0.next = self.line0_2.q.val();
        self.slot.next = self.slot2.q.val();
        self.fp.next = self.fp2.q.val();
    }
}

crate::impl_clocked!(HashUnit);

impl HashUnit {
    /// The stage-1 operation (for the core's checks in tests; the core
    /// keeps its own flags of what is in flight).
    pub fn op_s1(&self) -> u64 {
        self.op1.q.val().to_u64()
    }
}
