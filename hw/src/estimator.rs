//! Estimator (docs/DESIGN.md §5), pipeline stage 5.
//!
//! Takes the bank's aged rings (one bank, `K == 1`), finds the finest level
//! with a bucket set in the record's own direction (IAT) and in the other
//! direction (RTT, for echo replies and SYN-ACKs) and that level's newest
//! bucket ([`FinestHit`]), and turns each hit into a sample in units `q_0`
//! with the record's offset in that level ([`LevelSample`]).
//!
//! Two halves, so that neither is a long path on the iCE40: the hit is found
//! in stage 5 and registered (found, level and age of each ring: ring 0 and
//! ring 1, not own and other, so that no direction multiplexer follows the
//! priority encoders); stage 6 takes the record's own ring and the other by
//! its direction and computes the samples from them and stage 6's
//! timestamp, in front of the flow table's own register. The outputs keep
//! their stage-6 timing.

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
    /// The bank's aged rings.
    pub rings: Signal<In, RingsBits>,
    /// Stage-6 outputs.
    pub iat_valid: Signal<Out, Bit>,
    pub iat: Signal<Out, Bits<X_BITS>>,
    pub rtt_valid: Signal<Out, Bit>,
    pub rtt: Signal<Out, Bits<X_BITS>>,
    hit: FinestHit,
    x_own: LevelSample,
    x_rev: LevelSample,
    /// Stage 6: the record is a packet (asking for RTT), its direction, and
    /// the finest hit of ring 0 and of ring 1.
    packet6: DFF<Bit>,
    rtt6: DFF<Bit>,
    dir6: DFF<Bit>,
    found0_6: DFF<Bit>,
    level0_6: DFF<Bits<LEVEL_BITS>>,
    age0_6: DFF<Bits<HIT_AGE_BITS>>,
    found1_6: DFF<Bit>,
    level1_6: DFF<Bits<LEVEL_BITS>>,
    age1_6: DFF<Bits<HIT_AGE_BITS>>,
}

impl Logic for Estimator {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, packet6, rtt6, dir6, found0_6, level0_6, age0_6, found1_6, level1_6,
            age1_6
        );
        // Stage 5: the finest hit of each ring. With `dir` low, "own" is
        // ring 0 and "rev" ring 1.
        self.hit.rings.next = self.rings.val();
        self.hit.dir.next = false;
        if self.advance.val() {
            self.packet6.d.next = self.s5_packet.val();
            self.rtt6.d.next = self.s5_packet.val() & self.s5_wants_rtt.val();
            self.dir6.d.next = self.s5_dir.val();
            self.found0_6.d.next = self.hit.own_found.val();
            self.level0_6.d.next = self.hit.own_level.val();
            self.age0_6.d.next = self.hit.own_age.val();
            self.found1_6.d.next = self.hit.rev_found.val();
            self.level1_6.d.next = self.hit.rev_level.val();
            self.age1_6.d.next = self.hit.rev_age.val();
        }
        // Stage 6: the record's own ring and the other, and their samples.
        self.iat_valid.next = self.packet6.q.val() & self.found0_6.q.val();
        self.x_own.level.next = self.level0_6.q.val();
        self.x_own.age.next = self.age0_6.q.val();
        self.rtt_valid.next = self.rtt6.q.val() & self.found1_6.q.val();
        self.x_rev.level.next = self.level1_6.q.val();
        self.x_rev.age.next = self.age1_6.q.val();
        if self.dir6.q.val() {
            self.iat_valid.next = self.packet6.q.val() & self.found1_6.q.val();
            self.x_own.level.next = self.level1_6.q.val();
            self.x_own.age.next = self.age1_6.q.val();
            self.rtt_valid.next = self.rtt6.q.val() & self.found0_6.q.val();
            self.x_rev.level.next = self.level0_6.q.val();
            self.x_rev.age.next = self.age0_6.q.val();
        }
        self.x_own.ts.next = self.s6_ts.val();
        self.x_rev.ts.next = self.s6_ts.val();
        self.iat.next = self.x_own.x.val();
        self.rtt.next = self.x_rev.x.val();
    }
}
crate::impl_clocked!(Estimator);
