//! One bucket bank (docs/DESIGN.md §4), pipeline stages 3 and 4.
//!
//! A line is two block RAMs read one stage apart, so that no cycle has both
//! a RAM read and a long path behind it:
//! * the tag RAM reads the record's line as it enters stage 3. Stage 3
//!   takes its output, or the epoch of the record one or two ahead when that
//!   record writes the same line (its tag is its epoch), and subtracts it
//!   from the record's epoch ([`EpochDiff`]) into a register;
//! * the rings RAM reads the line as the record enters stage 4 (no register
//!   of its own: on the iCE40 a register there is a logic cell a bit).
//!   Stage 4 takes its output, or the rings written by the record one ahead
//!   when it wrote the same line at the edge of the read; saturates every
//!   level's age from the registered difference ([`SaturateAges`]), ages
//!   every level by it, hands the aged rings to the estimator, marks the
//!   record's direction ring in every level and writes the line back
//!   ([`AgeMark`]). The one-cycle loop is "RAM or last written rings → shift
//!   by a registered amount → mark → write". In the core's spaced
//!   configuration the rings are written a clock later, from stage 5's
//!   register, and the tag a clock earlier, as the record leaves stage 3
//!   (no operation within three clocks shares a line).
//!
//! Lines are `types::LineBits` (as `bank::Banks::pack`), stored as their tag
//! and their rings. Epochs here are the low `E` bits: the sweeper keeps every
//! distance below `2^E` (§9). Operations are the `hash_unit::op` codes
//! (literals for `#[hdl_gen]`): 1 packet, 2 sweep, 3 clear, 6 stale.

use crate::bram::Bram;
use crate::consts::*;
use crate::hash_unit::OP_BITS;
use crate::leaf::ConstBit;
use crate::levels::{AgeMark, EpochDiff, SaturateAges, Unmark};
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
    tag_ram: Bram<Bits<E>, LINE_ADDR>,
    rings_ram: Bram<RingsBits, LINE_ADDR>,
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
    /// The line's epoch difference from this record's epoch.
    pre4: DFF<Bits<DIFF_BITS>>,
    /// The record one ahead wrote this line at the edge of the rings read.
    h1: DFF<Bit>,
    // The rings written last (by the record one ahead).
    w1_valid: DFF<Bit>,
    w1_line: DFF<RingsBits>,
    // Stage 5: the new rings, and bit 0 of each level's ring `dir` before
    // marking (the rings the estimator sees differ only there); the line
    // written there (for the tag read two behind).
    rings5: DFF<RingsBits>,
    own0_5: DFF<Bits<L>>,
    dir5: DFF<Bit>,
    addr5: DFF<Bits<LINE_ADDR>>,
    epoch5: DFF<Bits<E>>,
    writes5: DFF<Bit>,
    // Stage 3 combinational.
    tag: Signal<Local, Bits<E>>,
    epoch_diff: EpochDiff,
    // Stage 4 combinational.
    ages: SaturateAges,
    sel: Signal<Local, RingsBits>,
    step: AgeMark,
    writes: Signal<Local, Bit>,
    /// The stage-3 record writes its line (`writes3`, decoded from its
    /// operation), registered with it into stage 4 (`writes`).
    writes3: Signal<Local, Bit>,
    writes4: DFF<Bit>,
    // Stage 5 combinational.
    unmark: Unmark,
}

impl Logic for BucketBank {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, op3, addr3, epoch3, dir3, op4, addr4, epoch4, dir4, pre4, h1, w1_valid,
            w1_line, rings5, own0_5, dir5, addr5, epoch5, writes5, writes4
        );
        self.tag_ram.clock.next = self.clock.val();
        self.rings_ram.clock.next = self.clock.val();
        // Read the tag of the record entering stage 3 and the rings of the
        // record entering stage 4; while stalled, keep reading the lines of
        // the records held there.
        self.tag_ram.read_address.next = self.addr3.q.val();
        self.rings_ram.read_address.next = self.addr4.q.val();
        if self.advance.val() {
            self.tag_ram.read_address.next = self.s2_addr.val();
            self.rings_ram.read_address.next = self.addr3.q.val();
        }

        self.writes.next = self.writes4.q.val();
        self.writes3.next = (self.op3.q.val() == 1)
            | (self.op3.q.val() == 2)
            | (self.op3.q.val() == 3)
            | (self.op3.q.val() == 6);

        // Stage 3: the freshest tag (the RAM's missed the writes of the two
        // records ahead), every level's age of the line.
        self.tag.next = self.tag_ram.read_data.val();
        if !self.spaced.y.val() & self.writes5.q.val() & (self.addr3.q.val() == self.addr5.q.val())
        {
            self.tag.next = self.epoch5.q.val();
        }
        if !self.spaced.y.val() & self.writes.val() & (self.addr3.q.val() == self.addr4.q.val()) {
            self.tag.next = self.epoch4.q.val();
        }
        self.epoch_diff.e.next = self.epoch3.q.val();
        self.epoch_diff.t.next = self.tag.val();
        if self.advance.val() {
            self.op3.d.next = self.s2_op.val();
            self.addr3.d.next = self.s2_addr.val();
            self.epoch3.d.next = self.s2_epoch.val();
            self.dir3.d.next = self.s2_dir.val();
            self.op4.d.next = self.op3.q.val();
            self.writes4.d.next = self.writes3.val();
            self.addr4.d.next = self.addr3.q.val();
            self.epoch4.d.next = self.epoch3.q.val();
            self.dir4.d.next = self.dir3.q.val();
            self.pre4.d.next = self.epoch_diff.pre.val();
            self.h1.d.next = self.addr3.q.val() == self.addr4.q.val();
        }

        // Stage 4: freshest rings, age, mark, write back.
        self.sel.next = self.rings_ram.read_data.val();
        if !self.spaced.y.val() & self.h1.q.val() & self.w1_valid.q.val() {
            self.sel.next = self.w1_line.q.val();
        }
        self.step.rings.next = self.sel.val();
        self.ages.pre.next = self.pre4.q.val();
        self.step.d.next = self.ages.d.val();
        self.step.mark.next = self.op4.q.val() == 1;
        self.step.dir.next = self.dir4.q.val();
        self.step.clear.next = (self.op4.q.val() == 3) | (self.op4.q.val() == 6);
        self.tag_ram.write_address.next = self.addr4.q.val();
        self.tag_ram.write_data.next = self.epoch4.q.val();
        self.tag_ram.write_enable.next = self.advance.val() & self.writes.val();
        if self.spaced.y.val() {
            // A clock earlier, as the record leaves stage 3 (its tag was
            // read as it entered): stage 4's epoch is then not kept.
            self.tag_ram.write_address.next = self.addr3.q.val();
            self.tag_ram.write_data.next = self.epoch3.q.val();
            self.tag_ram.write_enable.next = self.advance.val() & self.writes3.val();
        }
        self.rings_ram.write_address.next = self.addr4.q.val();
        self.rings_ram.write_data.next = self.step.y_rings.val();
        self.rings_ram.write_enable.next = self.advance.val() & self.writes.val();
        if self.spaced.y.val() {
            // A clock later, from stage 5's register: the aged rings' logic
            // then drives that register alone, so each of its bits shares a
            // logic cell with its flip-flop (a logic cell has one output:
            // logic that also fed the RAM kept the flip-flop in a cell of
            // its own). No operation within three clocks shares the line.
            self.rings_ram.write_address.next = self.addr5.q.val();
            self.rings_ram.write_data.next = self.rings5.q.val();
            self.rings_ram.write_enable.next = self.writes5.q.val();
        }
        if self.advance.val() {
            self.w1_valid.d.next = self.writes.val();
            self.w1_line.d.next = self.step.y_rings.val();
            self.rings5.d.next = self.step.y_rings.val();
            self.own0_5.d.next = self.step.own0.val();
            self.dir5.d.next = self.dir4.q.val();
            self.addr5.d.next = self.addr4.q.val();
            self.epoch5.d.next = self.epoch4.q.val();
            self.writes5.d.next = self.writes.val();
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
        let tag = self.tag_ram.peek(addr).to_u64();
        LineBits::new(tag, self.rings_ram.peek(addr)).to_words()
    }
}
