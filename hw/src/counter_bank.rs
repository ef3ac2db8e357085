//! The pipeline counters (`bloomtime_model::counters`) and the link counters
//! (`regmap`): 32-bit, saturating, kept in one block RAM.
//!
//! Each counter has a 6-bit pre-counter in registers that takes its strobe
//! every clock (strobes are registered first, so they count a clock late). A
//! flusher visits one counter per clock in turn, 28 per round: it reads the
//! RAM word, and a clock later writes `min(word + pre, 2^32 − 1)`. A readout
//! is a flush of the requested counter out of turn, and the value it writes
//! is the answer. The same counter is never flushed on two clocks in a row
//! (so a read never meets the write of the same word), and readouts are never
//! taken on two clocks in a row (so every counter is flushed at least once in
//! 56 clocks and a pre-counter stays below 64). One RAM and ~300 logic cells
//! instead of ~1000 for 28 register counters and their readout multiplexer.

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
    out_valid: DFF<Bit>,
    out_value: DFF<Bits<32>>,
    took: DFF<Bit>,
    // Combinational.
    index: Signal<Local, Bits<CNT_INDEX_BITS>>,
    taking: Signal<Local, Bit>,
    amount: Signal<Local, Bits<6>>,
    sum: Signal<Local, Bits<33>>,
    newval: Signal<Local, Bits<32>>,
}

impl Logic for CounterBank {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, inc_r, clear_r, req_r, idx_r, cursor, clearing, f_valid, f_index,
            f_amount, f_read, f_clear, out_valid, out_value, took
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
        // Never flush the counter flushed last clock (its write and this
        // read meet at the same edge): such a request waits a clock.
        self.taking.next = self.req_r.q.val()
            & !self.clearing.q.val()
            & !self.took.q.val()
            & !(self.f_valid.q.val() & (self.idx_r.q.val() == self.f_index.q.val()));
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
        self.amount.next = bits::<6>(0);
        for i in 0..28 {
            self.pre[i].clock.next = self.clock.val();
            self.pre[i].d.next = self.pre[i].q.val();
            // (`bit_cast` cannot take the loop index inside `#[hdl_gen]`.)
            if self.inc_r.q.val().get_bit(i) {
                self.pre[i].d.next = self.pre[i].q.val() + 1;
            }
            if (self.index.val().index() == i) & !self.clearing.q.val() {
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
        self.f_valid.d.next = true;
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
        // The flush a clock later: saturating add and write back.
        self.sum.next =
            bit_cast::<33, 32>(self.ram.read_data.val()) + bit_cast::<33, 6>(self.f_amount.q.val());
        self.newval.next = bit_cast::<32, 33>(self.sum.val());
        if self.sum.val().get_bit(32) {
            self.newval.next = bits::<32>(0xffff) | (bits::<32>(0xffff) << 16);
        }
        if self.f_clear.q.val() {
            self.newval.next = bits::<32>(0);
        }
        self.ram.write_address.next = self.f_index.q.val();
        self.ram.write_data.next = self.newval.val();
        self.ram.write_enable.next = self.f_valid.q.val();
        self.out_valid.d.next = self.f_read.q.val() & self.f_valid.q.val();
        self.out_value.d.next = self.newval.val();
        self.rd_valid.next = self.out_valid.q.val();
        self.rd_value.next = self.out_value.q.val();
    }
}
crate::impl_clocked!(CounterBank);
