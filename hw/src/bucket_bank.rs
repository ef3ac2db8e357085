//! One bucket bank (docs/DESIGN.md §4), pipeline stages 3 and 4.
//!
//! Stage 3 compares the record's line with the line of the record one ahead
//! of it and computes every level's age of that line at the record's epoch
//! ([`LevelAges`]); the block RAM reads the record's line as it enters stage
//! 4. Stage 4 takes the RAM's output (no register of its own: on the iCE40
//! a register there is a logic cell a bit) or, when the record ahead wrote
//! the same line at the edge of the read, that line; ages every level to the
//! record's epoch, hands the aged rings to the estimator, marks the record's
//! direction ring in every level and writes the line back ([`AgeMark`]). The
//! one-cycle loop is "last written line → mux → shift by a registered amount
//! → mark → register".
//!
//! Lines are `types::LineBits` (as `bank::Banks::pack`). Epochs here are the
//! low `E` bits: the sweeper keeps every distance below `2^E` (§9).
//! Operations are the `hash_unit::op` codes (literals for `#[hdl_gen]`):
//! 1 packet, 2 sweep, 3 clear, 6 stale.

use crate::bram::Bram;
use crate::consts::*;
use crate::hash_unit::OP_BITS;
use crate::leaf::ConstBit;
use crate::levels::{AgeMark, LevelAges, Unmark};
use crate::types::{LineBits, RingsBits};
use rust_hdl::prelude::*;

#[derive(LogicBlock, Default)]
pub struct BucketBank {
    pub clock: Signal<In, Clock>,
    pub advance: Signal<In, Bit>,
    /// The core's spaced configuration: no forwarding of the words written
    /// last, because no two operations within three clocks share a word.
    pub spaced: ConstBit,
    /// Stage-2 record: operation, line, epoch (low `E` bits), direction.
    pub s2_op: Signal<In, Bits<OP_BITS>>,
    pub s2_addr: Signal<In, Bits<LINE_ADDR>>,
    pub s2_epoch: Signal<In, Bits<E>>,
    pub s2_dir: Signal<In, Bit>,
    /// Stage-5 output: every ring of the line, aged, before marking.
    pub rings: Signal<Out, RingsBits>,
    ram: Bram<LineBits, LINE_ADDR>,
    // Stage 3.
    op3: DFF<Bits<OP_BITS>>,
    addr3: DFF<Bits<LINE_ADDR>>,
    epoch3: DFF<Bits<E>>,
    dir3: DFF<Bit>,
    // Stage 4.
    op4: DFF<Bits<OP_BITS>>,
    addr4: DFF<Bits<LINE_ADDR>>,
    epoch4: DFF<Bits<E>>,
    dir4: DFF<Bit>,
    /// The record one ahead wrote this line (at the edge of this record's
    /// read), and every level's age of that line.
    h1: DFF<Bit>,
    d1: DFF<Bits<DELTAS_BITS>>,
    // The line written last (by the record one ahead).
    w1_valid: DFF<Bit>,
    w1_line: DFF<RingsBits>,
    // Stage 5: the new rings, and bit 0 of each level's ring `dir` before
    // marking (the rings the estimator sees differ only there).
    rings5: DFF<RingsBits>,
    own0_5: DFF<Bits<L>>,
    dir5: DFF<Bit>,
    // Stage 3 combinational.
    age_1: LevelAges,
    // Stage 4 combinational.
    age_raw: LevelAges,
    raw: Signal<Local, RingsBits>,
    sel: Signal<Local, RingsBits>,
    dsel: Signal<Local, Bits<DELTAS_BITS>>,
    step: AgeMark,
    writes: Signal<Local, Bit>,
    // Stage 5 combinational.
    unmark: Unmark,
}

impl Logic for BucketBank {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, op3, addr3, epoch3, dir3, op4, addr4, epoch4, dir4, h1, d1, w1_valid,
            w1_line, rings5, own0_5, dir5
        );
        self.ram.clock.next = self.clock.val();
        // Read the line of the record entering stage 4; while stalled, keep
        // reading the line of the record held there.
        self.ram.read_address.next = self.addr4.q.val();
        if self.advance.val() {
            self.ram.read_address.next = self.addr3.q.val();
        }

        // Stage 3: the hazard against the record one ahead, and every
        // level's age of the line it writes.
        self.age_1.e.next = self.epoch3.q.val();
        self.age_1.t.next = self.epoch4.q.val();
        if self.advance.val() {
            self.op3.d.next = self.s2_op.val();
            self.addr3.d.next = self.s2_addr.val();
            self.epoch3.d.next = self.s2_epoch.val();
            self.dir3.d.next = self.s2_dir.val();
            self.op4.d.next = self.op3.q.val();
            self.addr4.d.next = self.addr3.q.val();
            self.epoch4.d.next = self.epoch3.q.val();
            self.dir4.d.next = self.dir3.q.val();
            self.h1.d.next = self.addr3.q.val() == self.addr4.q.val();
            self.d1.d.next = self.age_1.d.val();
        }

        // Stage 4: freshest copy, age, mark, write back.
        self.age_raw.e.next = self.epoch4.q.val();
        self.age_raw.t.next = self.ram.read_data.val().tag;
        self.raw.next.lv0 = self.ram.read_data.val().lv0;
        self.raw.next.lv1 = self.ram.read_data.val().lv1;
        self.raw.next.lv2 = self.ram.read_data.val().lv2;
        self.raw.next.lv3 = self.ram.read_data.val().lv3;
        self.raw.next.lv4 = self.ram.read_data.val().lv4;
        self.raw.next.lv5 = self.ram.read_data.val().lv5;
        self.raw.next.lv6 = self.ram.read_data.val().lv6;
        self.sel.next = self.raw.val();
        self.dsel.next = self.age_raw.d.val();
        if !self.spaced.y.val() & self.h1.q.val() & self.w1_valid.q.val() {
            self.sel.next = self.w1_line.q.val();
            self.dsel.next = self.d1.q.val();
        }
        self.step.rings.next = self.sel.val();
        self.step.d.next = self.dsel.val();
        self.step.mark.next = self.op4.q.val() == 1;
        self.step.dir.next = self.dir4.q.val();
        self.step.clear.next = (self.op4.q.val() == 3) | (self.op4.q.val() == 6);
        self.step.epoch.next = self.epoch4.q.val();
        self.writes.next = (self.op4.q.val() == 1)
            | (self.op4.q.val() == 2)
            | (self.op4.q.val() == 3)
            | (self.op4.q.val() == 6);
        self.ram.write_address.next = self.addr4.q.val();
        self.ram.write_data.next = self.step.y.val();
        self.ram.write_enable.next = self.advance.val() & self.writes.val();
        if self.advance.val() {
            self.w1_valid.d.next = self.writes.val();
            self.w1_line.d.next = self.step.y_rings.val();
            self.rings5.d.next = self.step.y_rings.val();
            self.own0_5.d.next = self.step.own0.val();
            self.dir5.d.next = self.dir4.q.val();
        }
        self.unmark.rings.next = self.rings5.q.val();
        self.unmark.own0.next = self.own0_5.q.val();
        self.unmark.dir.next = self.dir5.q.val();
        self.rings.next = self.unmark.y.val();
    }
}
crate::impl_clocked!(BucketBank);
impl BucketBank {
    /// A line as stored, in 64-bit words as `Banks::pack` (for tests).
    pub fn stored_line(&self, addr: usize) -> Vec<u64> {
        self.ram.peek(addr).to_words()
    }
}
