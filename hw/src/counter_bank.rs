//! The pipeline counters (`bloomtime_model::counters`): 32-bit, saturating,
//! incremented by one strobe each, read through a registered index port.

use bloomtime_model::counters::N_COUNTERS;
use rust_hdl::prelude::*;

/// Counter readout index bits.
pub const CNT_INDEX_BITS: usize = 5;
const _: () = assert!(N_COUNTERS <= 1 << CNT_INDEX_BITS && N_COUNTERS == 19);

#[derive(LogicBlock, Default)]
pub struct CounterBank {
    pub clock: Signal<In, Clock>,
    /// Zero every counter (wins over increments).
    pub clear: Signal<In, Bit>,
    /// One strobe per counter, in `Counter` order.
    pub inc: Signal<In, Bits<N_COUNTERS>>,
    pub rd_index: Signal<In, Bits<CNT_INDEX_BITS>>,
    /// Value of counter `rd_index`, one clock later.
    pub rd_value: Signal<Out, Bits<32>>,
    c: [DFF<Bits<32>>; N_COUNTERS],
    rv: DFF<Bits<32>>,
}

impl Logic for CounterBank {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, rv);
        self.rv.d.next = bits::<32>(0);
        for i in 0..19 {
            self.c[i].clock.next = self.clock.val();
            self.c[i].d.next = self.c[i].q.val();
            if self.inc.val().get_bit(i) & !self.c[i].q.val().all() {
                self.c[i].d.next = self.c[i].q.val() + 1;
            }
            if self.clear.val() {
                self.c[i].d.next = bits::<32>(0);
            }
            if self.rd_index.val().index() == i {
                self.rv.d.next = self.c[i].q.val();
            }
        }
        self.rd_value.next = self.rv.q.val();
    }
}
crate::impl_clocked!(CounterBank);

impl CounterBank {
    /// All values (for tests).
    pub fn values(&self) -> Vec<u64> {
        self.c.iter().map(|d| d.q.val().to_u64()).collect()
    }
}
