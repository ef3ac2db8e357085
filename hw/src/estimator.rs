//! Estimator (docs/DESIGN.md §5), pipeline stage 5.
//!
//! ANDs the aged rings of both banks, finds the newest bucket set in the
//! record's own direction (IAT) and in the other direction (RTT, for echo
//! replies and SYN-ACKs), and turns each age into a sample with the record's
//! sub-bucket offset: `a = 0 → o >> 1`, else `a·16 + o − 8` (f = 4).

use crate::consts::*;
use crate::leaf::SampleCalc;
use crate::prio::LowestSet;
use rust_hdl::prelude::*;

const _: () = assert!(F_BITS == 4 && X_BITS == 8 && K == 2);

#[derive(LogicBlock, Default)]
pub struct Estimator {
    pub clock: Signal<In, Clock>,
    pub advance: Signal<In, Bit>,
    /// Stage-5 record.
    pub s5_packet: Signal<In, Bit>,
    pub s5_wants_rtt: Signal<In, Bit>,
    pub s5_dir: Signal<In, Bit>,
    pub s5_offset: Signal<In, Bits<F_BITS>>,
    pub a_ring0: Signal<In, Bits<B>>,
    pub a_ring1: Signal<In, Bits<B>>,
    pub b_ring0: Signal<In, Bits<B>>,
    pub b_ring1: Signal<In, Bits<B>>,
    /// Stage-6 outputs.
    pub iat_valid: Signal<Out, Bit>,
    pub iat: Signal<Out, Bits<X_BITS>>,
    pub rtt_valid: Signal<Out, Bit>,
    pub rtt: Signal<Out, Bits<X_BITS>>,
    and_own: Signal<Local, Bits<B>>,
    and_rev: Signal<Local, Bits<B>>,
    own: LowestSet<B, 4>,
    rev: LowestSet<B, 4>,
    x_own: SampleCalc,
    x_rev: SampleCalc,
    iat_valid6: DFF<Bit>,
    iat6: DFF<Bits<X_BITS>>,
    rtt_valid6: DFF<Bit>,
    rtt6: DFF<Bits<X_BITS>>,
}

impl Logic for Estimator {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, iat_valid6, iat6, rtt_valid6, rtt6);
        self.and_own.next = self.a_ring0.val() & self.b_ring0.val();
        self.and_rev.next = self.a_ring1.val() & self.b_ring1.val();
        if self.s5_dir.val() {
            self.and_own.next = self.a_ring1.val() & self.b_ring1.val();
            self.and_rev.next = self.a_ring0.val() & self.b_ring0.val();
        }
        self.own.x.next = self.and_own.val();
        self.rev.x.next = self.and_rev.val();
        self.x_own.age.next = self.own.index.val();
        self.x_own.off.next = self.s5_offset.val();
        self.x_rev.age.next = self.rev.index.val();
        self.x_rev.off.next = self.s5_offset.val();
        if self.advance.val() {
            self.iat_valid6.d.next = self.s5_packet.val() & self.own.found.val();
            self.iat6.d.next = self.x_own.x.val();
            self.rtt_valid6.d.next =
                self.s5_packet.val() & self.s5_wants_rtt.val() & self.rev.found.val();
            self.rtt6.d.next = self.x_rev.x.val();
        }
        self.iat_valid.next = self.iat_valid6.q.val();
        self.iat.next = self.iat6.q.val();
        self.rtt_valid.next = self.rtt_valid6.q.val();
        self.rtt.next = self.rtt6.q.val();
    }
}
crate::impl_clocked!(Estimator);
