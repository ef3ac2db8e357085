//! The pipeline counters (`bloomtime_model::counters`) and the link counters
//! (`regmap`): 32-bit, saturating, kept in one block RAM.
//!
//! Each counter has a 5-bit pre-counter in registers that takes its strobe
//! every clock (strobes are registered first, so they count a clock late). A
//! flusher visits one counter per clock in turn, all 28 in a round, and
//! nothing else: it reads the RAM word; a clock later it adds the pre-count
//! to the word's low byte and notes whether the rest is all ones; a clock
//! after that it carries into the rest, `min(word + pre, 2^32 − 1)`, into a
//! register written a clock later (no BRAM read and 32-bit carry chain in
//! one clock; the sum's logic drives that register alone, so they share
//! logic cells). A counter is read
//! again only 28 clocks after its last read, long after that flush's write,
//! so a read never meets a write of its own word, and a pre-counter never
//! holds more than 28 strobes.
//!
//! A readout waits for the flusher to reach its counter (at most a round) and
//! answers with the value that flush writes. It is never taken out of turn:
//! the flusher's choice of counter is then a register (`sel`, one-hot, beside
//! the RAM address `cursor`), and no request, conflict or skip lies on the
//! path from a register to a pre-counter or to the amount it flushes (the
//! 100 MHz board's worst path when readouts were flushes out of turn). One
//! RAM and ~300 logic cells instead of ~1000 for 28 register counters and
//! their readout multiplexer.

use crate::bram::Bram;
use bloomtime_model::counters::N_COUNTERS;
use bloomtime_model::regmap::N_LINK_COUNTERS;

/// Counters held: the pipeline's, then the link's (`regmap` order).
pub const N_ALL: usize = N_COUNTERS + N_LINK_COUNTERS;
use rust_hdl::prelude::*;

/// Counter readout index bits.
pub const CNT_INDEX_BITS: usize = 5;
/// Pre-counter bits: a counter is flushed every `N_ALL` clocks, so its
/// pre-counter holds at most `N_ALL` strobes.
pub const PRE_BITS: usize = 5;
const _: () = assert!(N_ALL <= 1 << CNT_INDEX_BITS && N_ALL == 28 && N_ALL < 1 << PRE_BITS);

#[derive(LogicBlock, Default)]
pub struct CounterBank {
    pub clock: Signal<In, Clock>,
    /// Zero every counter: takes a round (28 clocks), during which readouts
    /// wait and strobes still count.
    pub clear: Signal<In, Bit>,
    /// One strobe per counter, in `Counter` order.
    pub inc: Signal<In, Bits<N_ALL>>,
    /// Readout request (taken when `rd_ready`).
    pub rd_req: Signal<In, Bit>,
    pub rd_ready: Signal<Out, Bit>,
    pub rd_index: Signal<In, Bits<CNT_INDEX_BITS>>,
    /// The counter's value, at most a round and three clocks after the
    /// request (it waits in a register until the flusher reaches its
    /// counter), counting every strobe that arrived at least two clocks
    /// before that flush.
    pub rd_valid: Signal<Out, Bit>,
    pub rd_value: Signal<Out, Bits<32>>,
    /// A readout is waiting or on its way (low again with `rd_valid`).
    pub rd_pending: Signal<Out, Bit>,
    ram: Bram<Bits<32>, CNT_INDEX_BITS>,
    /// The strobes, registered: counted a clock after they arrive (keeps
    /// the pipeline's stall logic out of the counters' paths).
    inc_r: DFF<Bits<N_ALL>>,
    /// Clear and a pending readout request, registered.
    clear_r: DFF<Bit>,
    req_r: DFF<Bit>,
    idx_r: DFF<Bits<CNT_INDEX_BITS>>,
    pre: [DFF<Bits<PRE_BITS>>; N_ALL],
    /// The counter flushed this clock: its RAM address, and one-hot with
    /// bit 0 stored inverted (`onehot ^ 1`), so that the power-up value is
    /// counter 0 in both.
    cursor: DFF<Bits<CNT_INDEX_BITS>>,
    selx: DFF<Bits<N_ALL>>,
    clearing: DFF<Bit>,
    // Flush in flight: which counter, how much, whether it answers a readout.
    f_valid: DFF<Bit>,
    f_index: DFF<Bits<CNT_INDEX_BITS>>,
    f_amount: DFF<Bits<PRE_BITS>>,
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
    /// The flush's new value, written from here a clock later.
    out_value: DFF<Bits<32>>,
    h_valid: DFF<Bit>,
    h_index: DFF<Bits<CNT_INDEX_BITS>>,
    // Combinational.
    sel: Signal<Local, Bits<N_ALL>>,
    sel_next: Signal<Local, Bits<N_ALL>>,
    taking: Signal<Local, Bit>,
    /// Each pre-counter masked by its select bit (ORed into `amount`).
    masked: [Signal<Local, Bits<PRE_BITS>>; N_ALL],
    amount: Signal<Local, Bits<PRE_BITS>>,
    word: Signal<Local, Bits<32>>,
    hi_new: Signal<Local, Bits<24>>,
    newval: Signal<Local, Bits<32>>,
}

impl Logic for CounterBank {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, inc_r, clear_r, req_r, idx_r, cursor, selx, clearing, f_valid, f_index,
            f_amount, f_read, f_clear, g_valid, g_index, g_read, g_clear, g_lo, g_hi, g_ones,
            out_valid, out_value, h_valid, h_index
        );
        self.ram.clock.next = self.clock.val();
        self.inc_r.d.next = self.inc.val();
        self.clear_r.d.next = self.clear.val();
        // A request waits in req_r until the flusher reaches its counter
        // (not while clearing: that flush writes zero, whatever it reads).
        self.rd_ready.next = !self.req_r.q.val();
        if self.rd_req.val() & !self.req_r.q.val() {
            self.req_r.d.next = true;
            self.idx_r.d.next = self.rd_index.val();
        }
        self.taking.next = self.req_r.q.val()
            & !self.clearing.q.val()
            & (self.idx_r.q.val() == self.cursor.q.val());
        if self.taking.val() {
            self.req_r.d.next = false;
        }
        self.ram.read_address.next = self.cursor.q.val();
        self.sel.next = self.selx.q.val() ^ 1;
        // The flushed counter's pre-count (one-hot select: an AND-OR tree),
        // and every pre-counter's next value.
        for i in 0..28 {
            self.masked[i].next = bits::<PRE_BITS>(0);
            self.pre[i].clock.next = self.clock.val();
            self.pre[i].d.next = self.pre[i].q.val();
            // (`bit_cast` cannot take the loop index inside `#[hdl_gen]`.)
            if self.inc_r.q.val().get_bit(i) {
                self.pre[i].d.next = self.pre[i].q.val() + 1;
            }
            if self.sel.val().get_bit(i) {
                self.masked[i].next = self.pre[i].q.val();
                self.pre[i].d.next = bits::<PRE_BITS>(0);
                if self.inc_r.q.val().get_bit(i) {
                    self.pre[i].d.next = bits::<PRE_BITS>(1);
                }
            }
        }
        self.amount.next = self.masked[0].val()
            | self.masked[1].val()
            | self.masked[2].val()
            | self.masked[3].val()
            | self.masked[4].val()
            | self.masked[5].val()
            | self.masked[6].val()
            | self.masked[7].val()
            | self.masked[8].val()
            | self.masked[9].val()
            | self.masked[10].val()
            | self.masked[11].val()
            | self.masked[12].val()
            | self.masked[13].val()
            | self.masked[14].val()
            | self.masked[15].val()
            | self.masked[16].val()
            | self.masked[17].val()
            | self.masked[18].val()
            | self.masked[19].val()
            | self.masked[20].val()
            | self.masked[21].val()
            | self.masked[22].val()
            | self.masked[23].val()
            | self.masked[24].val()
            | self.masked[25].val()
            | self.masked[26].val()
            | self.masked[27].val();
        // On to the next counter; a round of clearing ends at the last.
        self.cursor.d.next = self.cursor.q.val() + 1;
        self.sel_next.next = self.sel.val() << 1;
        if self.sel.val().get_bit(27) {
            self.cursor.d.next = bits::<CNT_INDEX_BITS>(0);
            self.sel_next.next = bits::<N_ALL>(1);
            self.clearing.d.next = false;
        }
        self.selx.d.next = self.sel_next.val() ^ 1;
        self.f_valid.d.next = true;
        self.f_index.d.next = self.cursor.q.val();
        self.f_amount.d.next = self.amount.val();
        self.f_read.d.next = self.taking.val();
        self.f_clear.d.next = self.clearing.q.val();
        if self.clear_r.q.val() {
            // Zero the pre-counters now and the RAM words over the next round.
            for i in 0..28 {
                self.pre[i].d.next = bits::<PRE_BITS>(0);
                if self.inc_r.q.val().get_bit(i) {
                    self.pre[i].d.next = bits::<PRE_BITS>(1);
                }
            }
            self.clearing.d.next = true;
            self.cursor.d.next = bits::<CNT_INDEX_BITS>(0);
            self.selx.d.next = bits::<N_ALL>(0); // counter 0
            self.f_valid.d.next = false;
            self.f_read.d.next = false;
            self.req_r.d.next = self.req_r.q.val();
        }
        // The flush a clock later: the low byte's sum, the rest's carry-in
        // condition.
        self.word.next = self.ram.read_data.val();
        self.g_valid.d.next = self.f_valid.q.val();
        self.g_index.d.next = self.f_index.q.val();
        self.g_read.d.next = self.f_read.q.val();
        self.g_clear.d.next = self.f_clear.q.val();
        self.g_lo.d.next = bit_cast::<9, 8>(self.word.val().get_bits::<8>(0))
            + bit_cast::<9, PRE_BITS>(self.f_amount.q.val());
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
        self.h_valid.d.next = self.g_valid.q.val();
        self.h_index.d.next = self.g_index.q.val();
        self.ram.write_address.next = self.h_index.q.val();
        self.ram.write_data.next = self.out_value.q.val();
        self.ram.write_enable.next = self.h_valid.q.val();
        self.out_valid.d.next = self.g_read.q.val() & self.g_valid.q.val();
        self.out_value.d.next = self.newval.val();
        self.rd_valid.next = self.out_valid.q.val();
        self.rd_pending.next = self.req_r.q.val() | self.f_read.q.val() | self.g_read.q.val();
        self.rd_value.next = self.out_value.q.val();
    }
}
crate::impl_clocked!(CounterBank);
