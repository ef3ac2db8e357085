//! One bucket bank (docs/DESIGN.md §4), pipeline stages 3 and 4.
//!
//! Stage 3 holds the block RAM's output for the record's line and compares
//! the record's line with the lines written by the two records ahead of it
//! (the only lines the RAM cannot have returned yet), and computes the epoch
//! distances to them. Stage 4 picks the freshest copy of the line, ages it to
//! the record's epoch, hands the aged rings to the estimator, marks the
//! record's direction ring and writes the line back. The one-cycle loop is
//! "last written line → mux → shift by a registered amount → mark → register".
//!
//! Lines are `types::LineBits`: tag, ring 0, ring 1, as `bank::Line::pack`.
//! `#[hdl_gen]` takes literals only: 16 is `B` (asserted in `consts`), and
//! operations are the `hash_unit::op` codes 1 packet, 2 sweep, 3 clear, 6 stale.

use crate::bram::Bram;
use crate::consts::*;
use crate::hash_unit::OP_BITS;
use crate::leaf::AgeRing;
use crate::leaf::ConstBit;
use crate::types::LineBits;
use rust_hdl::prelude::*;

#[derive(LogicBlock, Default)]
pub struct BucketBank {
    pub clock: Signal<In, Clock>,
    pub advance: Signal<In, Bit>,
    /// The core's spaced configuration: no forwarding of the words written
    /// last, because no two operations within three clocks share a word.
    pub spaced: ConstBit,
    /// Stage-2 record: operation, line, epoch, direction.
    pub s2_op: Signal<In, Bits<OP_BITS>>,
    pub s2_addr: Signal<In, Bits<LINE_ADDR>>,
    pub s2_epoch: Signal<In, Bits<EPOCH_BITS>>,
    pub s2_dir: Signal<In, Bit>,
    /// Stage-5 outputs: both rings of the line, aged, before marking.
    pub ring0: Signal<Out, Bits<B>>,
    pub ring1: Signal<Out, Bits<B>>,
    ram: Bram<LineBits, LINE_ADDR>,
    // Stage 3.
    op3: DFF<Bits<OP_BITS>>,
    addr3: DFF<Bits<LINE_ADDR>>,
    epoch3: DFF<Bits<EPOCH_BITS>>,
    dir3: DFF<Bit>,
    // Stage 4.
    op4: DFF<Bits<OP_BITS>>,
    addr4: DFF<Bits<LINE_ADDR>>,
    epoch4: DFF<Bits<EPOCH_BITS>>,
    dir4: DFF<Bit>,
    raw4: DFF<LineBits>,
    /// Epochs from the raw line's tag to the record (saturated at 16).
    draw4: DFF<Bits<AGE_BITS>>,
    h1: DFF<Bit>,
    h2: DFF<Bit>,
    d1: DFF<Bits<AGE_BITS>>,
    d2: DFF<Bits<AGE_BITS>>,
    // The two lines written last (by the records one and two ahead).
    w1_valid: DFF<Bit>,
    w1_addr: DFF<Bits<LINE_ADDR>>,
    w1_line: DFF<LineBits>,
    w1_epoch: DFF<Bits<EPOCH_BITS>>,
    w2_valid: DFF<Bit>,
    w2_line: DFF<LineBits>,
    // Stage 5.
    ring0_5: DFF<Bits<B>>,
    ring1_5: DFF<Bits<B>>,
    // Stage 3 combinational.
    e31: Signal<Local, Bits<EPOCH_BITS>>,
    e32: Signal<Local, Bits<EPOCH_BITS>>,
    // Stage 4 combinational.
    draw: Signal<Local, Bits<E>>,
    sel: Signal<Local, LineBits>,
    dsel: Signal<Local, Bits<AGE_BITS>>,
    age0: AgeRing,
    age1: AgeRing,
    mark0: Signal<Local, Bits<B>>,
    mark1: Signal<Local, Bits<B>>,
    newline: Signal<Local, LineBits>,
    writes: Signal<Local, Bit>,
}

impl Logic for BucketBank {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, op3, addr3, epoch3, dir3, op4, addr4, epoch4, dir4, raw4, draw4, h1, h2,
            d1, d2, w1_valid, w1_addr, w1_line, w1_epoch, w2_valid, w2_line, ring0_5, ring1_5
        );
        self.ram.clock.next = self.clock.val();
        // Read the line of the record entering stage 3; while stalled, keep
        // reading the line of the record held there.
        self.ram.read_address.next = self.addr3.q.val();
        if self.advance.val() {
            self.ram.read_address.next = self.s2_addr.val();
        }

        // Stage 3: hazards against the records one (stage 4) and two (last
        // written) ahead, and saturated epoch distances to them.
        self.draw.next =
            bit_cast::<E, EPOCH_BITS>(self.epoch3.q.val()) - self.ram.read_data.val().tag;
        self.e31.next = self.epoch3.q.val() - self.epoch4.q.val();
        self.e32.next = self.epoch3.q.val() - self.w1_epoch.q.val();
        if self.advance.val() {
            self.op3.d.next = self.s2_op.val();
            self.addr3.d.next = self.s2_addr.val();
            self.epoch3.d.next = self.s2_epoch.val();
            self.dir3.d.next = self.s2_dir.val();
            self.op4.d.next = self.op3.q.val();
            self.addr4.d.next = self.addr3.q.val();
            self.epoch4.d.next = self.epoch3.q.val();
            self.dir4.d.next = self.dir3.q.val();
            self.raw4.d.next = self.ram.read_data.val();
            // The raw line's distance, computed from the RAM output here so
            // that stage 4 only selects, shifts and marks.
            self.draw4.d.next = bit_cast::<AGE_BITS, E>(self.draw.val());
            if self.draw.val() >= 16 {
                self.draw4.d.next = bits::<AGE_BITS>(16);
            }
            self.h1.d.next = self.addr3.q.val() == self.addr4.q.val();
            self.h2.d.next = self.addr3.q.val() == self.w1_addr.q.val();
            self.d1.d.next = bit_cast::<AGE_BITS, EPOCH_BITS>(self.e31.val());
            if self.e31.val() >= 16 {
                self.d1.d.next = bits::<AGE_BITS>(16);
            }
            self.d2.d.next = bit_cast::<AGE_BITS, EPOCH_BITS>(self.e32.val());
            if self.e32.val() >= 16 {
                self.d2.d.next = bits::<AGE_BITS>(16);
            }
        }

        // Stage 4: freshest copy, age, mark, write back.
        self.sel.next = self.raw4.q.val();
        self.dsel.next = self.draw4.q.val();
        if !self.spaced.y.val() & self.h2.q.val() & self.w2_valid.q.val() {
            self.sel.next = self.w2_line.q.val();
            self.dsel.next = self.d2.q.val();
        }
        if !self.spaced.y.val() & self.h1.q.val() & self.w1_valid.q.val() {
            self.sel.next = self.w1_line.q.val();
            self.dsel.next = self.d1.q.val();
        }
        self.age0.ring.next = self.sel.val().ring0;
        self.age0.d.next = self.dsel.val();
        self.age1.ring.next = self.sel.val().ring1;
        self.age1.d.next = self.dsel.val();
        self.mark0.next = bits::<B>(0);
        self.mark1.next = bits::<B>(0);
        if self.op4.q.val() == 1 {
            if self.dir4.q.val() {
                self.mark1.next = bits::<B>(1);
            } else {
                self.mark0.next = bits::<B>(1);
            }
        }
        self.newline.next.tag = bit_cast::<E, EPOCH_BITS>(self.epoch4.q.val());
        self.newline.next.ring0 = self.age0.y.val() | self.mark0.val();
        self.newline.next.ring1 = self.age1.y.val() | self.mark1.val();
        if (self.op4.q.val() == 3) | (self.op4.q.val() == 6) {
            self.newline.next.ring0 = bits::<B>(0);
            self.newline.next.ring1 = bits::<B>(0);
        }
        self.writes.next = (self.op4.q.val() == 1)
            | (self.op4.q.val() == 2)
            | (self.op4.q.val() == 3)
            | (self.op4.q.val() == 6);
        self.ram.write_address.next = self.addr4.q.val();
        self.ram.write_data.next = self.newline.val();
        self.ram.write_enable.next = self.advance.val() & self.writes.val();
        if self.advance.val() {
            self.w1_valid.d.next = self.writes.val();
            self.w1_addr.d.next = self.addr4.q.val();
            self.w1_line.d.next = self.newline.val();
            self.w1_epoch.d.next = self.epoch4.q.val();
            self.w2_valid.d.next = self.w1_valid.q.val();
            self.w2_line.d.next = self.w1_line.q.val();
            self.ring0_5.d.next = self.age0.y.val();
            self.ring1_5.d.next = self.age1.y.val();
        }
        self.ring0.next = self.ring0_5.q.val();
        self.ring1.next = self.ring1_5.q.val();
    }
}
crate::impl_clocked!(BucketBank);

impl BucketBank {
    /// A line as stored (for tests).
    pub fn stored_line(&self, addr: usize) -> u64 {
        self.ram.peek(addr).to_u64()
    }
}
