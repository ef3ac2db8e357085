//! The pipeline counters (`bloomtime_model::counters`) and the link counters
//! (`regmap`): 32-bit, saturating, kept in one block RAM.
//!
//! Each counter has a 6-bit pre-counter in registers that takes its strobe
//! every clock (strobes are registered first, so they count a clock late). A
//! flusher visits one counter per clock in turn, 28 per round: it reads the
//! RAM word; a clock later it adds the pre-count to the word's low byte and
//! notes whether the rest is all ones; a clock after that it carries into
//! the rest and writes `min(word + pre, 2^32 − 1)` (no BRAM read and 32-bit
//! carry chain in one clock). A readout is a flush of the requested counter
//! out of turn, and the value it writes is the answer. A counter is never
//! read while its previous flush is still in flight (two clocks): a readout
//! waits (the check is registered, so a request waits at least a clock),
//! and the cursor skips it (it was flushed by that readout two clocks ago),
//! so a read never meets the write of the same word. Readouts are never
//! taken on two clocks in a row, so every counter is flushed at least once
//! in 58 clocks and a pre-counter stays below 64. One RAM and
//! ~300 logic cells instead of ~1000 for 28 register counters and their
//! readout multiplexer.

use crate::bram::Bram;
use bloomtime_model::counters::N_COUNTERS;
use bloomtime_model::regmap::N_LINK_COUNTERS;

/// Counters held: the pipeline's, then the link's (`regmap` order).
pub const N_ALL: usize = N_COUNTERS + N_LINK_COUNTERS;
use rust_hdl::prelude::*;

/// Counter readout index bits.
pub const CNT_INDEX_BITS: usize = 5;
const _: () = assert!(N_ALL <= 1 << CNT_INDEX_BITS && N_ALL == 28);

#[derive(LogicBlock, Default)]
pub struct CounterBank {
    pub clock: Signal<In, Clock>,
    /// Zero every counter: takes 19 clocks, during which readouts wait
    /// (`rd_ready` low) and strobes still count.
    pub clear: Signal<In, Bit>,
    /// One strobe per counter, in `Counter` order.
    pub inc: Signal<In, Bits<N_ALL>>,
    /// Readout request (taken when `rd_ready`).
    pub rd_req: Signal<In, Bit>,
    pub rd_ready: Signal<Out, Bit>,
    pub rd_index: Signal<In, Bits<CNT_INDEX_BITS>>,
    /// The counter's value, a few clocks after the request (it waits in a
    /// register until the flusher takes it), counting every strobe that
    /// arrived at least two clocks before it was taken.
    pub rd_valid: Signal<Out, Bit>,
    pub rd_value: Signal<Out, Bits<32>>,
    ram: Bram<Bits<32>, CNT_INDEX_BITS>,
    /// The strobes, registered: counted a clock after they arrive (keeps
    /// the pipeline's stall logic out of the counters' paths).
    inc_r: DFF<Bits<N_ALL>>,
    /// Clear and a pending readout request, registered.
    clear_r: DFF<Bit>,
    req_r: DFF<Bit>,
    idx_r: DFF<Bits<CNT_INDEX_BITS>>,
    pre: [DFF<Bits<6>>; N_ALL],
    cursor: DFF<Bits<CNT_INDEX_BITS>>,
    clearing: DFF<Bit>,
    // Flush in flight: which counter, how much, whether it answers a readout.
    f_valid: DFF<Bit>,
    f_index: DFF<Bits<CNT_INDEX_BITS>>,
    f_amount: DFF<Bits<6>>,
    f_read: DFF<Bit>,
    f_clear: DFF<Bit>,
    // The flush's second clock: the low byte's sum, the rest of the word and
    // whether it is all ones.
    g_valid: DFF<Bit>,
    g_index: DFF<Bits<CNT_INDEX_BITS>>,
    g_read: DFF<Bit>,
    g_clear: DFF<Bit>,
    g_lo: DFF<Bits<9>>,
    g_hi: DFF<Bits<24>>,
    g_ones: DFF<Bit>,
    out_valid: DFF<Bit>,
    out_value: DFF<Bits<32>>,
    took: DFF<Bit>,
    /// The request was pending last clock too (its index is the one the
    /// conflict below was computed for).
    held: DFF<Bit>,
    /// The pending request's counter is in flight (computed a clock ahead).
    conf: DFF<Bit>,
    /// A readout two and one clock ago took the counter after the cursor's:
    /// the cursor meets it while it is in flight.
    s1: DFF<Bit>,
    s2: DFF<Bit>,
    // Combinational.
    index: Signal<Local, Bits<CNT_INDEX_BITS>>,
    taking: Signal<Local, Bit>,
    /// The cursor's counter is still in flight (read out a clock or two ago).
    skip: Signal<Local, Bit>,
    amount: Signal<Local, Bits<6>>,
    word: Signal<Local, Bits<32>>,
    hi_new: Signal<Local, Bits<24>>,
    newval: Signal<Local, Bits<32>>,
}

impl Logic for CounterBank {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, inc_r, clear_r, req_r, idx_r, cursor, clearing, f_valid, f_index,
            f_amount, f_read, f_clear, g_valid, g_index, g_read, g_clear, g_lo, g_hi, g_ones,
            out_valid, out_value, took, held, conf, s1, s2
        );
        self.ram.clock.next = self.clock.val();
        self.inc_r.d.next = self.inc.val();
        // A request waits in req_r until the flusher can take it.
        self.clear_r.d.next = self.clear.val();
        self.rd_ready.next = !self.req_r.q.val();
        if self.rd_req.val() & !self.req_r.q.val() {
            self.req_r.d.next = true;
            self.idx_r.d.next = self.rd_index.val();
        }
        // Never read a counter whose flush is in flight (its write comes
        // at or after this read's edge): such a request waits. The check is
        // registered: a clock ahead, for the request held since then.
        self.held.d.next = self.req_r.q.val();
        self.taking.next = self.req_r.q.val()
            & self.held.q.val()
            & !self.clearing.q.val()
            & !self.took.q.val()
            & !self.conf.q.val();
        self.took.d.next = self.taking.val();
        if self.taking.val() {
            self.req_r.d.next = false;
        }
        // This clock's flush: the requested counter, else the next in turn.
        self.index.next = self.cursor.q.val();
        if self.taking.val() {
            self.index.next = self.idx_r.q.val();
        }
        self.ram.read_address.next = self.index.val();
        // Next clock's flush is this clock's (`f_index`) or the one before
        // (`g_index`): does the pending request meet either?
        self.conf.d.next = (self.idx_r.q.val() == self.index.val())
            | (self.f_valid.q.val() & (self.idx_r.q.val() == self.f_index.q.val()));
        // The cursor skips a counter a readout flushed two clocks ago: a
        // readout of the counter after the cursor's (the cursor moves on the
        // clock after a readout, which is never followed by another). Clearing
        // writes zeros, whatever it reads: it never skips; nor does a clock a
        // readout takes (the cursor stays, and meets the counter later).
        self.s1.d.next = self.taking.val()
            & (self.idx_r.q.val() != self.cursor.q.val())
            & ((self.idx_r.q.val() == self.cursor.q.val() + 1)
                | ((self.cursor.q.val() == 27) & (self.idx_r.q.val() == 0)));
        self.s2.d.next = self.s1.q.val();
        self.skip.next = self.s2.q.val() & !self.clearing.q.val() & !self.taking.val();
        self.amount.next = bits::<6>(0);
        for i in 0..28 {
            self.pre[i].clock.next = self.clock.val();
            self.pre[i].d.next = self.pre[i].q.val();
            // (`bit_cast` cannot take the loop index inside `#[hdl_gen]`.)
            if self.inc_r.q.val().get_bit(i) {
                self.pre[i].d.next = self.pre[i].q.val() + 1;
            }
            if (self.index.val().index() == i) & !self.clearing.q.val() & !self.skip.val() {
                self.amount.next = self.pre[i].q.val();
                self.pre[i].d.next = bits::<6>(0);
                if self.inc_r.q.val().get_bit(i) {
                    self.pre[i].d.next = bits::<6>(1);
                }
            }
        }
        // The cursor moves on unless a readout took its clock for another
        // counter (a readout of the cursor's own counter is its flush).
        if !self.taking.val() | (self.idx_r.q.val() == self.cursor.q.val()) {
            self.cursor.d.next = self.cursor.q.val() + 1;
            if self.cursor.q.val() == 27 {
                self.cursor.d.next = bits::<CNT_INDEX_BITS>(0);
                self.clearing.d.next = false;
            }
        }
        self.f_valid.d.next = !self.skip.val();
        self.f_index.d.next = self.index.val();
        self.f_amount.d.next = self.amount.val();
        self.f_read.d.next = self.taking.val();
        self.f_clear.d.next = self.clearing.q.val();
        if self.clear_r.q.val() {
            // Zero the pre-counters now and the RAM words over the next round.
            for i in 0..28 {
                self.pre[i].d.next = bits::<6>(0);
                if self.inc_r.q.val().get_bit(i) {
                    self.pre[i].d.next = bits::<6>(1);
                }
            }
            self.clearing.d.next = true;
            self.cursor.d.next = bits::<CNT_INDEX_BITS>(0);
            self.f_valid.d.next = false;
        }
        // The flush a clock later: the low byte's sum, the rest's carry-in
        // condition.
        self.word.next = self.ram.read_data.val();
        self.g_valid.d.next = self.f_valid.q.val();
        self.g_index.d.next = self.f_index.q.val();
        self.g_read.d.next = self.f_read.q.val();
        self.g_clear.d.next = self.f_clear.q.val();
        self.g_lo.d.next = bit_cast::<9, 8>(self.word.val().get_bits::<8>(0))
            + bit_cast::<9, 6>(self.f_amount.q.val());
        self.g_hi.d.next = self.word.val().get_bits::<24>(8);
        self.g_ones.d.next = self.word.val().get_bits::<24>(8).all();
        // And a clock after that: carry, saturate, write back.
        self.hi_new.next = self.g_hi.q.val();
        if self.g_lo.q.val().get_bit(8) {
            self.hi_new.next = self.g_hi.q.val() + 1;
        }
        self.newval.next = (bit_cast::<32, 24>(self.hi_new.val()) << 8)
            | bit_cast::<32, 8>(self.g_lo.q.val().get_bits::<8>(0));
        if self.g_lo.q.val().get_bit(8) & self.g_ones.q.val() {
            self.newval.next = bits::<32>(0xffff) | (bits::<32>(0xffff) << 16);
        }
        if self.g_clear.q.val() {
            self.newval.next = bits::<32>(0);
        }
        self.ram.write_address.next = self.g_index.q.val();
        self.ram.write_data.next = self.newval.val();
        self.ram.write_enable.next = self.g_valid.q.val();
        self.out_valid.d.next = self.g_read.q.val() & self.g_valid.q.val();
        self.out_value.d.next = self.newval.val();
        self.rd_valid.next = self.out_valid.q.val();
        self.rd_value.next = self.out_value.q.val();
    }
}
crate::impl_clocked!(CounterBank);
