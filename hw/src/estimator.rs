//! Estimator (docs/DESIGN.md §5), pipeline stage 5.
//!
//! ANDs the aged rings of both banks in every level, finds the finest level
//! with a bucket set in the record's own direction (IAT) and in the other
//! direction (RTT, for echo replies and SYN-ACKs) and that level's newest
//! bucket ([`FinestHit`]), and turns each hit into a sample in units `q_0`
//! with the record's offset in that level ([`LevelSample`]).

use crate::consts::*;
use crate::levels::{FinestHit, LevelSample};
use crate::types::{RingsBits, Ts};
use rust_hdl::prelude::*;

#[derive(LogicBlock, Default)]
pub struct Estimator {
    pub clock: Signal<In, Clock>,
    pub advance: Signal<In, Bit>,
    /// Stage-5 record.
    pub s5_packet: Signal<In, Bit>,
    pub s5_wants_rtt: Signal<In, Bit>,
    pub s5_dir: Signal<In, Bit>,
    pub s5_ts: Signal<In, Ts>,
    /// Both banks' aged rings.
    pub a_rings: Signal<In, RingsBits>,
    pub b_rings: Signal<In, RingsBits>,
    /// Stage-6 outputs.
    pub iat_valid: Signal<Out, Bit>,
    pub iat: Signal<Out, Bits<X_BITS>>,
    pub rtt_valid: Signal<Out, Bit>,
    pub rtt: Signal<Out, Bits<X_BITS>>,
    hit: FinestHit,
    x_own: LevelSample,
    x_rev: LevelSample,
    iat_valid6: DFF<Bit>,
    iat6: DFF<Bits<X_BITS>>,
    rtt_valid6: DFF<Bit>,
    rtt6: DFF<Bits<X_BITS>>,
}

impl Logic for Estimator {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, iat_valid6, iat6, rtt_valid6, rtt6);
        self.hit.a.next = self.a_rings.val();
        self.hit.b.next = self.b_rings.val();
        self.hit.dir.next = self.s5_dir.val();
        self.x_own.level.next = self.hit.own_level.val();
        self.x_own.age.next = self.hit.own_age.val();
        self.x_own.ts.next = self.s5_ts.val();
        self.x_rev.level.next = self.hit.rev_level.val();
        self.x_rev.age.next = self.hit.rev_age.val();
        self.x_rev.ts.next = self.s5_ts.val();
        if self.advance.val() {
            self.iat_valid6.d.next = self.s5_packet.val() & self.hit.own_found.val();
            self.iat6.d.next = self.x_own.x.val();
            self.rtt_valid6.d.next =
                self.s5_packet.val() & self.s5_wants_rtt.val() & self.hit.rev_found.val();
            self.rtt6.d.next = self.x_rev.x.val();
        }
        self.iat_valid.next = self.iat_valid6.q.val();
        self.iat.next = self.iat6.q.val();
        self.rtt_valid.next = self.rtt_valid6.q.val();
        self.rtt.next = self.rtt6.q.val();
    }
}
crate::impl_clocked!(Estimator);
