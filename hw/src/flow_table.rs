//! Flow-table statistics (docs/DESIGN.md §6), pipeline stages 6 and 7.
//!
//! Stage 6 holds the stats RAM's output for the record's slot and flags a
//! full packet counter. Stage 7 picks the
//! freshest copy of the slot (forwarding the two records ahead), and either
//! accumulates the samples, or — when the tag check opened the slot, or the
//! packet counter is full — exports the old statistics and restarts the slot
//! with this record. Flushes export valid slots; clears empty them; peeks
//! return a slot through the same valid/ready register as exports, with
//! reason 3 ([`REASON_PEEK`]). The core stalls the pipeline while it is full.
//!
//! The stats word is `types::StatsBits` (the layout of `SlotStats::pack`).
//!
//! Note for every `#[hdl_gen]` block here: never read a signal after assigning
//! it in the same `update` — the simulator sees the old value, Verilog the new.

use crate::bram::Bram;
use crate::consts::*;
use crate::hash_unit::OP_BITS;
use crate::leaf::ConstBit;
use crate::types::StatsBits;
use rust_hdl::prelude::*;

// `#[hdl_gen]` takes literals only: a slot is full at 2^P − 1 packets, so a
// write of 2^P − 2 + 1 packets makes it full (62 below).
const _: () = assert!(P_BITS == 6 && CFG.packet_max() == 63);

/// Eviction reasons (as `table::EvictReason`).
pub const REASON_BITS: usize = 2;
/// Reason code of a peek result on the export port (not an eviction).
pub const REASON_PEEK: u64 = 3;

#[derive(LogicBlock, Default)]
pub struct FlowTable {
    pub clock: Signal<In, Clock>,
    pub advance: Signal<In, Bit>,
    /// The core's spaced configuration: no forwarding of the words written
    /// last, because no two operations within three clocks share a word.
    pub spaced: ConstBit,
    /// Stage-5 record: its slot is read now.
    pub s5_op: Signal<In, Bits<OP_BITS>>,
    pub s5_slot: Signal<In, Bits<SLOT_ADDR>>,
    pub s5_opened: Signal<In, Bit>,
    pub s5_collided: Signal<In, Bit>,
    pub s5_flush_evict: Signal<In, Bit>,
    pub s5_tag: Signal<In, Bits<TAG_BITS>>,
    /// Stage-6 samples (from the estimator).
    pub s6_iat_valid: Signal<In, Bit>,
    pub s6_iat: Signal<In, Bits<X_BITS>>,
    pub s6_rtt_valid: Signal<In, Bit>,
    pub s6_rtt: Signal<In, Bits<X_BITS>>,
    /// Export stream.
    pub evict_valid: Signal<Out, Bit>,
    pub evict_ready: Signal<In, Bit>,
    pub evict_slot: Signal<Out, Bits<SLOT_ADDR>>,
    pub evict_reason: Signal<Out, Bits<REASON_BITS>>,
    pub evict_stats: Signal<Out, StatsBits>,
    /// The slot's tag (valid bit and fingerprint); meaningful for peeks.
    pub evict_tag: Signal<Out, Bits<TAG_BITS>>,
    /// Stage 7, combinational: this record exports statistics (for counters).
    pub evicting: Signal<Out, Bit>,
    pub evicting_reason: Signal<Out, Bits<REASON_BITS>>,
    ram: Bram<StatsBits, SLOT_ADDR>,
    // Stage 6.
    op6: DFF<Bits<OP_BITS>>,
    slot6: DFF<Bits<SLOT_ADDR>>,
    opened6: DFF<Bit>,
    collided6: DFF<Bit>,
    flush6: DFF<Bit>,
    tag6: DFF<Bits<TAG_BITS>>,
    // Stage 7.
    op7: DFF<Bits<OP_BITS>>,
    slot7: DFF<Bits<SLOT_ADDR>>,
    opened7: DFF<Bit>,
    collided7: DFF<Bit>,
    flush7: DFF<Bit>,
    tag7: DFF<Bits<TAG_BITS>>,
    raw7: DFF<StatsBits>,
    raw7_full: DFF<Bit>,
    iv7: DFF<Bit>,
    ix7: DFF<Bits<X_BITS>>,
    rv7: DFF<Bit>,
    rx7: DFF<Bits<X_BITS>>,
    h1: DFF<Bit>,
    h2: DFF<Bit>,
    w1_valid: DFF<Bit>,
    w1_slot: DFF<Bits<SLOT_ADDR>>,
    w1_stats: DFF<StatsBits>,
    w1_full: DFF<Bit>,
    w2_valid: DFF<Bit>,
    w2_stats: DFF<StatsBits>,
    w2_full: DFF<Bit>,
    /// Spaced core: the export decided as its record enters stage 7 (see
    /// `update`), from decisions registered as it enters stage 6: an export
    /// whatever the statistics (`x6`), one if the slot is full (`pn6`), and
    /// the reason.
    x6: DFF<Bit>,
    pn6: DFF<Bit>,
    r6: DFF<Bits<REASON_BITS>>,
    sv_valid: DFF<Bit>,
    sv_reason: DFF<Bits<REASON_BITS>>,
    // Outputs.
    ev_valid: DFF<Bit>,
    ev_slot: DFF<Bits<SLOT_ADDR>>,
    ev_reason: DFF<Bits<REASON_BITS>>,
    ev_stats: DFF<StatsBits>,
    ev_tag: DFF<Bits<TAG_BITS>>,
    // Combinational.
    sel: Signal<Local, StatsBits>,
    sel_full: Signal<Local, Bit>,
    packet: Signal<Local, Bit>,
    restart: Signal<Local, Bit>,
    accumulated: Signal<Local, StatsBits>,
    first: Signal<Local, StatsBits>,
    newstats: Signal<Local, StatsBits>,
    new_full: Signal<Local, Bit>,
    writes: Signal<Local, Bit>,
    ev6: Signal<Local, Bit>,
}

impl Logic for FlowTable {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, op6, slot6, opened6, collided6, flush6, tag6, op7, slot7, opened7,
            collided7, flush7, tag7, raw7, raw7_full, iv7, ix7, rv7, rx7, h1, h2, w1_valid,
            w1_slot, w1_stats, w1_full, w2_valid, w2_stats, w2_full, ev_valid, ev_slot, ev_reason,
            ev_stats, ev_tag, x6, pn6, r6, sv_valid, sv_reason
        );
        self.ram.clock.next = self.clock.val();
        self.ram.read_address.next = self.slot6.q.val();
        if self.advance.val() {
            self.ram.read_address.next = self.s5_slot.val();
            // Stage 6.
            self.op6.d.next = self.s5_op.val();
            self.slot6.d.next = self.s5_slot.val();
            self.opened6.d.next = self.s5_opened.val();
            self.collided6.d.next = self.s5_collided.val();
            self.flush6.d.next = self.s5_flush_evict.val();
            self.tag6.d.next = self.s5_tag.val();
            self.x6.d.next = ((self.s5_op.val() == 1) & self.s5_collided.val())
                | self.s5_flush_evict.val()
                | (self.s5_op.val() == 5);
            self.pn6.d.next = (self.s5_op.val() == 1) & !self.s5_opened.val();
            self.r6.d.next = bits::<REASON_BITS>(1);
            if self.s5_op.val() == 5 {
                self.r6.d.next = bits::<REASON_BITS>(3);
            }
            if self.s5_flush_evict.val() {
                self.r6.d.next = bits::<REASON_BITS>(2);
            }
            if (self.s5_op.val() == 1) & self.s5_collided.val() {
                self.r6.d.next = bits::<REASON_BITS>(0);
            }
            // Stage 7.
            self.op7.d.next = self.op6.q.val();
            self.slot7.d.next = self.slot6.q.val();
            self.opened7.d.next = self.opened6.q.val();
            self.collided7.d.next = self.collided6.q.val();
            self.flush7.d.next = self.flush6.q.val();
            self.tag7.d.next = self.tag6.q.val();
            self.raw7.d.next = self.ram.read_data.val();
            self.raw7_full.d.next = self.ram.read_data.val().packets.all();
            self.iv7.d.next = self.s6_iat_valid.val();
            self.ix7.d.next = self.s6_iat.val();
            self.rv7.d.next = self.s6_rtt_valid.val();
            self.rx7.d.next = self.s6_rtt.val();
            self.h1.d.next = self.slot6.q.val() == self.slot7.q.val();
            self.h2.d.next = self.slot6.q.val() == self.w1_slot.q.val();
        }

        // Stage 7: freshest copy of the slot.
        self.sel.next = self.raw7.q.val();
        self.sel_full.next = self.raw7_full.q.val();
        if !self.spaced.y.val() & self.h2.q.val() & self.w2_valid.q.val() {
            self.sel.next = self.w2_stats.q.val();
            self.sel_full.next = self.w2_full.q.val();
        }
        if !self.spaced.y.val() & self.h1.q.val() & self.w1_valid.q.val() {
            self.sel.next = self.w1_stats.q.val();
            self.sel_full.next = self.w1_full.q.val();
        }
        self.packet.next = self.op7.q.val() == 1;
        self.restart.next = self.opened7.q.val() | self.sel_full.val();
        // Accumulate.
        self.accumulated.next = self.sel.val();
        self.accumulated.next.packets = self.sel.val().packets + 1;
        if self.iv7.q.val() {
            self.accumulated.next.iat_n = self.sel.val().iat_n + 1;
            self.accumulated.next.iat_sum =
                self.sel.val().iat_sum + bit_cast::<SUM_BITS, X_BITS>(self.ix7.q.val());
        }
        if self.rv7.q.val() {
            self.accumulated.next.rtt_n = self.sel.val().rtt_n + 1;
            self.accumulated.next.rtt_sum =
                self.sel.val().rtt_sum + bit_cast::<SUM_BITS, X_BITS>(self.rx7.q.val());
        }
        // A slot that starts with this record.
        self.first.next.packets = bits::<P_BITS>(1);
        self.first.next.iat_n = bits::<P_BITS>(0);
        self.first.next.iat_sum = bits::<SUM_BITS>(0);
        self.first.next.rtt_n = bits::<P_BITS>(0);
        self.first.next.rtt_sum = bits::<SUM_BITS>(0);
        if self.iv7.q.val() {
            self.first.next.iat_n = bits::<P_BITS>(1);
            self.first.next.iat_sum = bit_cast::<SUM_BITS, X_BITS>(self.ix7.q.val());
        }
        if self.rv7.q.val() {
            self.first.next.rtt_n = bits::<P_BITS>(1);
            self.first.next.rtt_sum = bit_cast::<SUM_BITS, X_BITS>(self.rx7.q.val());
        }
        self.newstats.next = self.accumulated.val();
        self.new_full.next = self.sel.val().packets == 62;
        if self.restart.val() {
            self.newstats.next = self.first.val();
            self.new_full.next = false;
        }
        // Clear: empty statistics.
        if self.op7.q.val() == 3 {
            self.newstats.next.packets = bits::<P_BITS>(0);
            self.newstats.next.iat_n = bits::<P_BITS>(0);
            self.newstats.next.iat_sum = bits::<SUM_BITS>(0);
            self.newstats.next.rtt_n = bits::<P_BITS>(0);
            self.newstats.next.rtt_sum = bits::<SUM_BITS>(0);
            self.new_full.next = false;
        }
        self.writes.next = self.packet.val() | (self.op7.q.val() == 3);
        self.ram.write_address.next = self.slot7.q.val();
        self.ram.write_data.next = self.newstats.val();
        self.ram.write_enable.next = self.advance.val() & self.writes.val();
        // Exports.
        self.evicting.next = (self.packet.val()
            & (self.collided7.q.val() | (!self.opened7.q.val() & self.sel_full.val())))
            | self.flush7.q.val();
        self.evicting_reason.next = bits::<REASON_BITS>(1);
        if self.collided7.q.val() {
            self.evicting_reason.next = bits::<REASON_BITS>(0);
        }
        if self.flush7.q.val() {
            self.evicting_reason.next = bits::<REASON_BITS>(2);
        }
        if self.evict_ready.val() {
            self.ev_valid.d.next = false;
        }
        if self.advance.val() {
            self.w1_valid.d.next = self.writes.val();
            self.w1_slot.d.next = self.slot7.q.val();
            self.w1_stats.d.next = self.newstats.val();
            self.w1_full.d.next = self.new_full.val();
            self.w2_valid.d.next = self.w1_valid.q.val();
            self.w2_stats.d.next = self.w1_stats.q.val();
            self.w2_full.d.next = self.w1_full.q.val();
            if self.evicting.val() {
                self.ev_valid.d.next = true;
                self.ev_slot.d.next = self.slot7.q.val();
                self.ev_reason.d.next = self.evicting_reason.val();
                self.ev_stats.d.next = self.sel.val();
            }
            if self.op7.q.val() == 5 {
                self.ev_valid.d.next = true;
                self.ev_slot.d.next = self.slot7.q.val();
                self.ev_reason.d.next = bits::<REASON_BITS>(3);
                self.ev_stats.d.next = self.sel.val();
                self.ev_tag.d.next = self.tag7.q.val();
            }
        }
        self.evict_valid.next = self.ev_valid.q.val();
        self.evict_slot.next = self.ev_slot.q.val();
        self.evict_reason.next = self.ev_reason.q.val();
        self.evict_stats.next = self.ev_stats.q.val();
        self.evict_tag.next = self.ev_tag.q.val();
        // Spaced core: nothing is forwarded, so the stage-6 RAM output is
        // the slot's statistics and the export can be decided as its record
        // enters stage 7. The pipeline then stalls with the record in stage
        // 7 until the export is taken, so stage 7's own registers are the
        // export's (the copies above, ~100 flip-flops fed by flip-flops, are
        // not kept). The record's open, if any, was taken in stage 5.
        self.ev6.next =
            self.x6.q.val() | (self.pn6.q.val() & self.ram.read_data.val().packets.all());
        if self.evict_ready.val() {
            self.sv_valid.d.next = false;
        }
        if self.advance.val() & self.ev6.val() {
            self.sv_valid.d.next = true;
            self.sv_reason.d.next = self.r6.q.val();
        }
        if self.spaced.y.val() {
            self.evict_valid.next = self.sv_valid.q.val();
            self.evict_slot.next = self.slot7.q.val();
            self.evict_reason.next = self.sv_reason.q.val();
            self.evict_stats.next = self.raw7.q.val();
            self.evict_tag.next = self.tag7.q.val();
        }
    }
}
crate::impl_clocked!(FlowTable);

impl FlowTable {
    /// A stats word as stored (for tests).
    pub fn stored_stats(&self, slot: usize) -> StatsBits {
        self.ram.peek(slot)
    }
}
