//! Estimator (docs/DESIGN.md §5), pipeline stage 5.
//!
//! ANDs the aged rings of both banks in every level, finds the finest level
//! with a bucket set in the record's own direction (IAT) and in the other
//! direction (RTT, for echo replies and SYN-ACKs) and that level's newest
//! bucket ([`FinestHit`]), and turns each hit into a sample in units `q_0`
//! with the record's offset in that level ([`LevelSample`]).
//!
//! Two halves, so that neither is a long path on the iCE40: the hit is found
//! in stage 5 and registered (level and age, 7 bits per side); the sample is
//! computed from it and stage 6's timestamp in stage 6, in front of the flow
//! table's own register. The outputs keep their stage-6 timing.

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
    /// The stage-6 record's timestamp (the sample's offsets).
    pub s6_ts: Signal<In, Ts>,
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
    own_level6: DFF<Bits<LEVEL_BITS>>,
    own_age6: DFF<Bits<HIT_AGE_BITS>>,
    rtt_valid6: DFF<Bit>,
    rev_level6: DFF<Bits<LEVEL_BITS>>,
    rev_age6: DFF<Bits<HIT_AGE_BITS>>,
}

impl Logic for Estimator {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, iat_valid6, own_level6, own_age6, rtt_valid6, rev_level6, rev_age6);
        // Stage 5: the finest hit of each side.
        self.hit.a.next = self.a_rings.val();
        self.hit.b.next = self.b_rings.val();
        self.hit.dir.next = self.s5_dir.val();
        if self.advance.val() {
            self.iat_valid6.d.next = self.s5_packet.val() & self.hit.own_found.val();
            self.own_level6.d.next = self.hit.own_level.val();
            self.own_age6.d.next = self.hit.own_age.val();
            self.rtt_valid6.d.next =
                self.s5_packet.val() & self.s5_wants_rtt.val() & self.hit.rev_found.val();
            self.rev_level6.d.next = self.hit.rev_level.val();
            self.rev_age6.d.next = self.hit.rev_age.val();
        }
        // Stage 6: its samples.
        self.x_own.level.next = self.own_level6.q.val();
        self.x_own.age.next = self.own_age6.q.val();
        self.x_own.ts.next = self.s6_ts.val();
        self.x_rev.level.next = self.rev_level6.q.val();
        self.x_rev.age.next = self.rev_age6.q.val();
        self.x_rev.ts.next = self.s6_ts.val();
        self.iat_valid.next = self.iat_valid6.q.val();
        self.iat.next = self.x_own.x.val();
        self.rtt_valid.next = self.rtt_valid6.q.val();
        self.rtt.next = self.x_rev.x.val();
    }
}
crate::impl_clocked!(Estimator);
