//! Flow-table tag check (docs/DESIGN.md §6), pipeline stages 3 and 4.
//!
//! The tag RAM holds a valid bit and the fingerprint of each slot. Stage 4
//! compares the record's fingerprint with the freshest copy of its slot's tag
//! (forwarding the tags written by the two records ahead) and decides, early
//! in the pipeline while the key is still at hand, whether the record opens
//! the slot (announcing its key) and whether that evicts another flow. The
//! statistics stage later acts on these decisions.
//!
//! Tag word: fingerprint in bits 0..15, valid in bit 15. Operation codes as
//! `hash_unit::op` (literals for `#[hdl_gen]`): 1 packet, 3 clear, 4 flush, 5 peek.

use crate::bram::Bram;
use crate::consts::*;
use crate::hash_unit::OP_BITS;
use crate::leaf::ConstBit;
use rust_hdl::prelude::*;

const _: () = assert!(FP_BITS == 15 && TAG_BITS == 16);

#[derive(LogicBlock, Default)]
pub struct TagCheck {
    pub clock: Signal<In, Clock>,
    pub advance: Signal<In, Bit>,
    /// The core's spaced configuration: no forwarding of the words written
    /// last, because no two operations within three clocks share a word.
    pub spaced: ConstBit,
    pub s2_op: Signal<In, Bits<OP_BITS>>,
    pub s2_slot: Signal<In, Bits<SLOT_ADDR>>,
    pub s2_fp: Signal<In, Bits<FP_BITS>>,
    /// Stage 4, combinational: this packet takes the slot (emit `Open`).
    pub opening: Signal<Out, Bit>,
    /// Stage-5 outputs.
    pub opened: Signal<Out, Bit>,
    /// The slot held another fingerprint: its statistics are evicted.
    pub collided: Signal<Out, Bit>,
    /// A flush found the slot valid: its statistics are exported.
    pub flush_evict: Signal<Out, Bit>,
    /// The tag as the record found it (for peeks).
    pub tag: Signal<Out, Bits<TAG_BITS>>,
    ram: Bram<Bits<TAG_BITS>, SLOT_ADDR>,
    op3: DFF<Bits<OP_BITS>>,
    slot3: DFF<Bits<SLOT_ADDR>>,
    fp3: DFF<Bits<FP_BITS>>,
    op4: DFF<Bits<OP_BITS>>,
    slot4: DFF<Bits<SLOT_ADDR>>,
    fp4: DFF<Bits<FP_BITS>>,
    raw4: DFF<Bits<TAG_BITS>>,
    h1: DFF<Bit>,
    h2: DFF<Bit>,
    w1_valid: DFF<Bit>,
    w1_slot: DFF<Bits<SLOT_ADDR>>,
    w1_tag: DFF<Bits<TAG_BITS>>,
    w2_valid: DFF<Bit>,
    w2_tag: DFF<Bits<TAG_BITS>>,
    opened5: DFF<Bit>,
    collided5: DFF<Bit>,
    flush5: DFF<Bit>,
    tag5: DFF<Bits<TAG_BITS>>,
    sel: Signal<Local, Bits<TAG_BITS>>,
    hit: Signal<Local, Bit>,
    wr: Signal<Local, Bit>,
    wtag: Signal<Local, Bits<TAG_BITS>>,
    /// The stage-4 record's fingerprint.
    fp: Signal<Local, Bits<FP_BITS>>,
}

impl Logic for TagCheck {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, op3, slot3, fp3, op4, slot4, fp4, raw4, h1, h2, w1_valid, w1_slot, w1_tag,
            w2_valid, w2_tag, opened5, collided5, flush5, tag5
        );
        self.ram.clock.next = self.clock.val();
        self.ram.read_address.next = self.slot3.q.val();
        if self.advance.val() {
            self.ram.read_address.next = self.s2_slot.val();
            self.op3.d.next = self.s2_op.val();
            self.slot3.d.next = self.s2_slot.val();
            self.fp3.d.next = self.s2_fp.val();
            self.op4.d.next = self.op3.q.val();
            self.slot4.d.next = self.slot3.q.val();
            self.fp4.d.next = self.fp3.q.val();
            self.raw4.d.next = self.ram.read_data.val();
            self.h1.d.next = self.slot3.q.val() == self.slot4.q.val();
            self.h2.d.next = self.slot3.q.val() == self.w1_slot.q.val();
        }
        // Stage 4. In the spaced core a record's key, so its fingerprint,
        // holds on the input until the pipeline is idle again: `fp4` is not kept.
        self.fp.next = self.fp4.q.val();
        if self.spaced.y.val() {
            self.fp.next = self.s2_fp.val();
        }
        self.sel.next = self.raw4.q.val();
        if !self.spaced.y.val() & self.h2.q.val() & self.w2_valid.q.val() {
            self.sel.next = self.w2_tag.q.val();
        }
        if !self.spaced.y.val() & self.h1.q.val() & self.w1_valid.q.val() {
            self.sel.next = self.w1_tag.q.val();
        }
        self.hit.next = self.sel.val().get_bit(15)
            & (bit_cast::<FP_BITS, TAG_BITS>(self.sel.val()) == self.fp.val());
        self.opening.next = (self.op4.q.val() == 1) & !self.hit.val();
        self.wr.next = false;
        self.wtag.next = bits::<TAG_BITS>(0);
        if self.op4.q.val() == 1 {
            self.wr.next = !self.hit.val();
            self.wtag.next =
                bit_cast::<TAG_BITS, FP_BITS>(self.fp.val()) | bits::<TAG_BITS>(0x8000);
        }
        if (self.op4.q.val() == 3) | (self.op4.q.val() == 4) {
            self.wr.next = true;
        }
        self.ram.write_address.next = self.slot4.q.val();
        self.ram.write_data.next = self.wtag.val();
        self.ram.write_enable.next = self.advance.val() & self.wr.val();
        if self.advance.val() {
            self.w1_valid.d.next = self.wr.val();
            self.w1_slot.d.next = self.slot4.q.val();
            self.w1_tag.d.next = self.wtag.val();
            self.w2_valid.d.next = self.w1_valid.q.val();
            self.w2_tag.d.next = self.w1_tag.q.val();
            self.opened5.d.next = self.opening.val();
            self.collided5.d.next = self.opening.val() & self.sel.val().get_bit(15);
            self.flush5.d.next = (self.op4.q.val() == 4) & self.sel.val().get_bit(15);
            self.tag5.d.next = self.sel.val();
        }
        self.opened.next = self.opened5.q.val();
        self.collided.next = self.collided5.q.val();
        self.flush_evict.next = self.flush5.q.val();
        self.tag.next = self.tag5.q.val();
    }
}
crate::impl_clocked!(TagCheck);

impl TagCheck {
    /// A tag as stored (for tests).
    pub fn stored_tag(&self, slot: usize) -> u64 {
        self.ram.peek(slot).to_u64()
    }
}
