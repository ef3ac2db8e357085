//! `bloomtime_core`: the whole BloomTime pipeline at one record per clock.
//!
//! ```text
//!  records ─┐
//!           ├─ S0 input: clamp time ──┐
//!  (frames ─┘   via the frame parser) │   sweeper / clear / flush / peek ops
//!                                     ▼          │
//!  S1,S2 hash unit ──► S3,S4 bucket bank ──► S5 estimator ──► S6,S7 flow-table stats ──► evictions
//!                  └─► S3,S4 tag check ──► opens (key announcements)                     └─► peeks
//! ```
//!
//! One operation enters stage 1 per clock: the pending record when its epoch
//! is within the sweeper's limit, else a control operation, else a sweep of
//! the next line. A full event output stalls every stage (`advance`).
//! Operation codes are `hash_unit::op` (literals here for `#[hdl_gen]`).

use crate::admit::{AdmitCompare, EpochLe};
use crate::bucket_bank::BucketBank;
use crate::consts::*;
use crate::counter_bank::{CounterBank, CNT_INDEX_BITS, N_ALL};
use crate::estimator::Estimator;
use crate::flow_table::{FlowTable, REASON_BITS};
use crate::hash_unit::{HashUnit, IDX_BITS, OP_BITS};
use crate::leaf::ConstBit;
use crate::tag_check::TagCheck;
use crate::types::{KeyBits, StatsBits, Ts};
use bloomtime_model::counters::{Counter, N_COUNTERS};
use rust_hdl::prelude::*;

/// Control commands.
pub mod cmd {
    pub const CLEAR: u64 = 1;
    pub const FLUSH: u64 = 2;
    pub const PEEK: u64 = 3;
}
pub const CMD_BITS: usize = 2;

// `#[hdl_gen]` takes literals only. The sweep horizon (8_126_456 epochs) and
// its saturation at the top of the 37-bit epoch range; the window (a record
// this far after the last finds every line empty: a stale pass); the last
// line (511: a clear runs over every line, and over every slot on the way,
// a slot being the index's low 8 bits) and the last slot (255: a flush).
const _: () = assert!(SWEEP_HORIZON == 8_126_456 && EPOCH_BITS == 37 && WINDOW_EPOCHS == 2_097_152);
const _: () = assert!(IDX_BITS == 9 && LINE_ADDR == 9 && SLOT_ADDR == 8);
// Counter strobe positions, as literals below.
const _: () = assert!(
    Counter::Frames as usize == 0
        && Counter::Records as usize == 8
        && Counter::TimeRegressions as usize == 9
        && Counter::IatSamples as usize == 10
        && Counter::IatMisses as usize == 11
        && Counter::RttLookups as usize == 12
        && Counter::RttSamples as usize == 13
        && Counter::RttMisses as usize == 14
        && Counter::Opens as usize == 15
        && Counter::EvictCollision as usize == 16
        && Counter::EvictOverflow as usize == 17
        && Counter::EvictFlush as usize == 18
);

/// Control state.
#[derive(Copy, Clone, PartialEq, Eq, Debug, LogicState)]
pub enum CtlState {
    Idle,
    Drain,
    Issue,
    Tail,
}

#[derive(LogicBlock, Default)]
pub struct BloomtimeCore {
    pub clock: Signal<In, Clock>,
    /// Record stream in.
    pub s_rec_valid: Signal<In, Bit>,
    pub s_rec_ready: Signal<Out, Bit>,
    pub s_rec_ts: Signal<In, Ts>,
    pub s_rec_flags: Signal<In, Bits<FLAGS>>,
    pub s_rec_key: Signal<In, KeyBits>,
    /// Frame accounting from an upstream parser: one pulse per frame, and
    /// whether it was dropped and why (added to the counters).
    pub frame_done: Signal<In, Bit>,
    pub frame_drop: Signal<In, Bit>,
    pub frame_drop_reason: Signal<In, Bits<3>>,
    /// Control: clear everything, flush the table, or peek one slot.
    pub ctl_valid: Signal<In, Bit>,
    pub ctl_ready: Signal<Out, Bit>,
    pub ctl_cmd: Signal<In, Bits<CMD_BITS>>,
    pub ctl_slot: Signal<In, Bits<SLOT_ADDR>>,
    /// Strobes of the board's link counters (`regmap` order), counted with
    /// the pipeline's at readout indices 19.. and cleared with them.
    pub link_inc: Signal<In, Bits<{ N_ALL - N_COUNTERS }>>,
    /// A control command is running (its exports may still be pending).
    pub busy: Signal<Out, Bit>,
    /// Key announcements: a key took a slot.
    pub m_open_valid: Signal<Out, Bit>,
    pub m_open_ready: Signal<In, Bit>,
    pub m_open_slot: Signal<Out, Bits<SLOT_ADDR>>,
    pub m_open_key: Signal<Out, KeyBits>,
    /// Exported statistics, and peek results (reason 3, with the slot's tag).
    pub m_evict_valid: Signal<Out, Bit>,
    pub m_evict_ready: Signal<In, Bit>,
    pub m_evict_slot: Signal<Out, Bits<SLOT_ADDR>>,
    pub m_evict_reason: Signal<Out, Bits<REASON_BITS>>,
    pub m_evict_stats: Signal<Out, StatsBits>,
    pub m_evict_tag: Signal<Out, Bits<TAG_BITS>>,
    /// Per-record outcome (for tests and debugging; no back-pressure).
    pub o_valid: Signal<Out, Bit>,
    pub o_ts: Signal<Out, Ts>,
    pub o_dir: Signal<Out, Bit>,
    pub o_slot: Signal<Out, Bits<SLOT_ADDR>>,
    pub o_fp: Signal<Out, Bits<FP_BITS>>,
    pub o_iat_valid: Signal<Out, Bit>,
    pub o_iat: Signal<Out, Bits<X_BITS>>,
    pub o_rtt_valid: Signal<Out, Bit>,
    pub o_rtt: Signal<Out, Bits<X_BITS>>,
    /// Counter readout: a request taken when `cnt_ready`, answered with
    /// `cnt_valid` and the value within a round of the counter bank's
    /// flusher (`counter_bank`: at most 31 clocks).
    pub cnt_req: Signal<In, Bit>,
    pub cnt_ready: Signal<Out, Bit>,
    pub cnt_index: Signal<In, Bits<CNT_INDEX_BITS>>,
    pub cnt_valid: Signal<Out, Bit>,
    pub cnt_value: Signal<Out, Bits<32>>,
    /// The pipeline holds no record (only sweeps, or nothing), and no
    /// counter readout is waiting for its answer.
    pub idle: Signal<Out, Bit>,

    /// The spaced configuration (see [`BloomtimeCore::spaced`]); off by
    /// default: the one-record-per-clock core.
    spaced: ConstBit,
    /// Spaced configuration: clocks since the last operation entered stage 1
    /// (saturating at 2), and bubbles still owed after a packet.
    gap: DFF<Bits<2>>,
    hold: DFF<Bits<2>>,
    /// Decodes of the control state, `hold`, `gap` and `cursor`, registered
    /// with them (each assigned beside its source, from that source's
    /// present value), so that the stall and sweep decisions read flags
    /// instead of compares. Zero at power-up like their sources: `ncur0` is
    /// "cursor != 0". The testkit checks them against their definitions
    /// every clock ([`BloomtimeCore::decode_mismatch`]).
    iss_r: DFF<Bit>,
    hold_nz: DFF<Bit>,
    gap2: DFF<Bit>,
    ncur0: DFF<Bit>,
    cur1: DFF<Bit>,
    cur2: DFF<Bit>,
    cur_last: DFF<Bit>,
    cur_end: DFF<Bit>,
    bubble: Signal<Local, Bit>,
    hash: HashUnit,
    bank: BucketBank,
    tags: TagCheck,
    est: Estimator,
    ftable: FlowTable,
    counters: CounterBank,

    // Input stage.
    s0_valid: DFF<Bit>,
    s0_ts: DFF<Ts>,
    s0_flags: DFF<Bits<FLAGS>>,
    s0_key: DFF<KeyBits>,
    newest_ts: DFF<Ts>,
    /// `admit::hi_plus_one` of the newest epoch (0 at power-up, when the
    /// newest is 0 and it does not matter).
    newest_hi1: DFF<Bits<17>>,
    admit: AdmitCompare,
    eff_hi1: Signal<Local, Bits<17>>,
    rec_hi1: Signal<Local, Bits<17>>,
    admitted_ts: DFF<Ts>,
    // Sweeper.
    cursor: DFF<Bits<LINE_ADDR>>,
    pass_stale: DFF<Bit>,
    /// `pass_start + SWEEP_HORIZON`, and the same for the last completed
    /// pass: records up to that epoch are safe. Stored XOR the horizon so the
    /// power-up value (0)
    /// is the limit of a pass completed at epoch 0.
    pass_start: DFF<Bits<EPOCH_BITS>>,
    pass_limit: DFF<Bits<EPOCH_BITS>>,
    /// The carry out of `pass_start + SWEEP_HORIZON`, registered.
    lim_c: DFF<Bit>,
    limit_x: DFF<Bits<EPOCH_BITS>>,
    // Control.
    state: DFF<CtlState>,
    ctl_cmd_r: DFF<Bits<CMD_BITS>>,
    ctl_idx: DFF<Bits<IDX_BITS>>,
    ctl_last: DFF<Bits<IDX_BITS>>,
    tail: DFF<Bits<4>>,
    /// `ctl_idx == ctl_last` and `tail == 8`, registered beside the
    /// counters, so that Issue's and Tail's exits (the control state's
    /// enable) wait on no compare after the pipeline's `advance`.
    at_last: DFF<Bit>,
    tail8: DFF<Bit>,
    // Stage registers the blocks do not carry.
    op3: DFF<Bits<OP_BITS>>,
    op4: DFF<Bits<OP_BITS>>,
    op5: DFF<Bits<OP_BITS>>,
    op6: DFF<Bits<OP_BITS>>,
    op7: DFF<Bits<OP_BITS>>,
    ts3: DFF<Ts>,
    ts4: DFF<Ts>,
    ts5: DFF<Ts>,
    ts6: DFF<Ts>,
    ts7: DFF<Ts>,
    flags3: DFF<Bits<FLAGS>>,
    flags4: DFF<Bits<FLAGS>>,
    flags5: DFF<Bits<FLAGS>>,
    flags6: DFF<Bits<FLAGS>>,
    dir3: DFF<Bit>,
    dir4: DFF<Bit>,
    dir5: DFF<Bit>,
    dir6: DFF<Bit>,
    dir7: DFF<Bit>,
    slot3: DFF<Bits<SLOT_ADDR>>,
    slot4: DFF<Bits<SLOT_ADDR>>,
    slot5: DFF<Bits<SLOT_ADDR>>,
    slot6: DFF<Bits<SLOT_ADDR>>,
    slot7: DFF<Bits<SLOT_ADDR>>,
    fp3: DFF<Bits<FP_BITS>>,
    fp4: DFF<Bits<FP_BITS>>,
    fp5: DFF<Bits<FP_BITS>>,
    fp6: DFF<Bits<FP_BITS>>,
    fp7: DFF<Bits<FP_BITS>>,
    key3: DFF<KeyBits>,
    key4: DFF<KeyBits>,
    iat_valid7: DFF<Bit>,
    iat7: DFF<Bits<X_BITS>>,
    rtt_valid7: DFF<Bit>,
    rtt7: DFF<Bits<X_BITS>>,
    // Outputs.
    open_valid: DFF<Bit>,
    open_slot: DFF<Bits<SLOT_ADDR>>,
    open_key: DFF<KeyBits>,
    out_valid: DFF<Bit>,
    out_ts: DFF<Ts>,
    out_dir: DFF<Bit>,
    out_slot: DFF<Bits<SLOT_ADDR>>,
    out_fp: DFF<Bits<FP_BITS>>,
    out_iat_valid: DFF<Bit>,
    out_iat: DFF<Bits<X_BITS>>,
    out_rtt_valid: DFF<Bit>,
    out_rtt: DFF<Bits<X_BITS>>,

    // Combinational.
    advance: Signal<Local, Bit>,
    blocked: Signal<Local, Bit>,
    accept: Signal<Local, Bit>,
    ts_eff: Signal<Local, Ts>,
    s0_epoch: Signal<Local, Bits<EPOCH_BITS>>,
    adm_epoch: Signal<Local, Bits<EPOCH_BITS>>,
    s0_ok: Signal<Local, Bit>,
    lim_start: Signal<Local, Bits<EPOCH_BITS>>,
    lim: Signal<Local, Bits<{ EPOCH_BITS + 1 }>>,
    /// The S0 record's epoch is within the sweeper's limit (registered at
    /// load against the current limit — conservative if the limit moves in the
    /// same clock — and recomputed when a sweep pass completes).
    ok_r: DFF<Bit>,
    /// The S0 record is at least the window after the previous record.
    jump_r: DFF<Bit>,
    /// Spaced configuration: the input's comparisons, computed a clock
    /// ahead from the held input (a record is taken a clock after it appears).
    in_seen: DFF<Bit>,
    /// Spaced: `s0_epoch <= pass_limit` as `EpochLe`'s three pieces,
    /// registered (S0 holds still while the pass ends), and joined after
    /// the register (`le_pre`), so the carry chain ends in a flip-flop.
    le_p: DFF<Bits<3>>,
    le_pre: Signal<Local, Bit>,
    ple: EpochLe,
    pass_ending: Signal<Local, Bit>,
    lt_use: Signal<Local, Bit>,
    ok_use: Signal<Local, Bit>,
    jump_use: Signal<Local, Bit>,
    s0_take: Signal<Local, Bit>,
    issuing: Signal<Local, Bit>,
    sweeping: Signal<Local, Bit>,
    stale_next: Signal<Local, Bit>,
    stale_op: Signal<Local, Bit>,
    packets_in_flight: Signal<Local, Bit>,
    /// Which of stages 1..=7 hold a packet (bit `i`: stage `i + 1`), shifted
    /// with the operations, so that `idle` ORs seven flags instead of
    /// decoding seven operation codes ([`BloomtimeCore::decode_mismatch`]).
    pk: DFF<Bits<7>>,
    c_frame: Signal<Local, Bit>,
    c_drop: Signal<Local, Bit>,
    c_regress: Signal<Local, Bit>,
    c_records: Signal<Local, Bit>,
    c_opens: Signal<Local, Bit>,
    c_iat: Signal<Local, Bit>,
    c_iat_miss: Signal<Local, Bit>,
    c_rtt_lookup: Signal<Local, Bit>,
    c_rtt: Signal<Local, Bit>,
    c_rtt_miss: Signal<Local, Bit>,
    c_ev_coll: Signal<Local, Bit>,
    c_ev_over: Signal<Local, Bit>,
    c_ev_flush: Signal<Local, Bit>,
    wants_rtt6: Signal<Local, Bit>,
    packet6: Signal<Local, Bit>,
}

impl BloomtimeCore {
    /// The core that takes one record per clock and carries each record's
    /// key through the pipeline to announce it.
    pub fn pipelined() -> Self {
        Self::default()
    }

    /// The board's configuration, for a record source that (a) holds
    /// `s_rec_key` stable from a record's acceptance until its key
    /// announcement has been taken, and (b) sends a record only while the
    /// pipeline is `idle`. The board's command processor does both: it
    /// feeds one frame at a time to a quiet pipeline, and the parser keeps
    /// its key register until the next frame. The core then (a) hashes and
    /// announces the input key itself, and (b) keeps two empty clocks before
    /// and after every packet — sweeps and control operations touch a
    /// different line or slot each clock — so no record ever needs a word
    /// written by one of the two operations ahead of it, and stage 6 takes a
    /// packet's time from `admitted_ts`. Yosys removes the five 297-bit key
    /// registers, the timestamps of stages 3 to 7 and all forwarding
    /// registers and multiplexers: ~3000 logic cells the HX8K does not have.
    /// The results are the same; the one-record-per-clock configuration is
    /// the default.
    pub fn spaced() -> Self {
        let mut c = Self {
            spaced: ConstBit::new(true),
            ..Default::default()
        };
        c.bank.spaced = ConstBit::new(true);
        c.tags.spaced = ConstBit::new(true);
        c.ftable.spaced = ConstBit::new(true);
        c.admit.spaced = ConstBit::new(true);
        c
    }
}

impl Logic for BloomtimeCore {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            pk,
            s0_valid,
            s0_ts,
            s0_flags,
            s0_key,
            newest_ts,
            newest_hi1,
            admitted_ts,
            cursor,
            pass_stale,
            ok_r,
            jump_r,
            in_seen,
            le_p,
            pass_start,
            pass_limit,
            lim_c,
            limit_x,
            state,
            ctl_cmd_r,
            ctl_idx,
            ctl_last,
            tail,
            at_last,
            tail8,
            op3,
            op4,
            op5,
            op6,
            op7,
            ts3,
            ts4,
            ts5,
            ts6,
            ts7,
            flags3,
            flags4,
            flags5,
            flags6,
            dir3,
            dir4,
            dir5,
            dir6,
            dir7,
            slot3,
            slot4,
            slot5,
            slot6,
            slot7,
            fp3,
            fp4,
            fp5,
            fp6,
            fp7,
            key3,
            key4,
            iat_valid7,
            iat7,
            rtt_valid7,
            rtt7,
            open_valid,
            open_slot,
            open_key,
            out_valid,
            out_ts,
            out_dir,
            out_slot,
            out_fp,
            out_iat_valid,
            out_iat,
            out_rtt_valid,
            out_rtt,
            gap,
            hold,
            iss_r,
            hold_nz,
            gap2,
            ncur0,
            cur1,
            cur2,
            cur_last,
            cur_end
        );
        self.hash.clock.next = self.clock.val();
        self.bank.clock.next = self.clock.val();
        self.tags.clock.next = self.clock.val();
        self.est.clock.next = self.clock.val();
        self.ftable.clock.next = self.clock.val();
        self.counters.clock.next = self.clock.val();

        // Every stage moves unless an output holds an unconsumed item.
        self.advance.next = !(self.open_valid.q.val() & !self.m_open_ready.val())
            & !(self.ftable.evict_valid.val() & !self.m_evict_ready.val());
        self.c_regress.next = false;
        self.c_records.next = false;
        self.c_opens.next = false;
        self.c_iat.next = false;
        self.c_iat_miss.next = false;
        self.c_rtt_lookup.next = false;
        self.c_rtt.next = false;
        self.c_rtt_miss.next = false;
        self.c_ev_coll.next = false;
        self.c_ev_over.next = false;
        self.c_ev_flush.next = false;

        // ---- Stage 0: input register with the monotonic clamp.
        self.s0_epoch.next = self.s0_ts.q.val().epoch;
        // The cursor at its last two lines: the pass ends within a sweep.
        self.pass_ending.next = self.cur_end.q.val();
        self.ple.a.next = self.s0_epoch.val();
        self.ple.b.next = self.pass_limit.q.val();
        self.le_p.d.next = self.ple.pieces.val();
        self.le_pre.next = self.le_p.q.val().get_bit(2)
            | (self.le_p.q.val().get_bit(1) & self.le_p.q.val().get_bit(0));
        self.adm_epoch.next = self.admitted_ts.q.val().epoch;
        self.s0_ok.next = self.ok_r.q.val();
        self.blocked.next = self.state.q.val() != CtlState::Idle;
        self.issuing.next = self.iss_r.q.val();
        // Spaced configuration: two empty clocks before and after a packet.
        self.bubble.next = self.spaced.y.val()
            & !self.issuing.val()
            & (self.hold_nz.q.val()
                | (self.s0_valid.q.val() & self.s0_ok.val() & !self.gap2.q.val()));
        self.s0_take.next = self.advance.val()
            & self.s0_valid.q.val()
            & self.s0_ok.val()
            & !self.issuing.val()
            & !self.bubble.val();
        self.accept.next = !self.blocked.val() & (!self.s0_valid.q.val() | self.s0_take.val());
        if self.spaced.y.val() {
            // Records are far apart: take one only into an empty S0 (so the
            // input handshake does not wait on the pipeline's advance), and
            // only a clock after it appeared (its comparisons are ready),
            // and not while a pass ends (S0 holds still for `le_pre`).
            self.accept.next = !self.blocked.val()
                & !self.s0_valid.q.val()
                & self.in_seen.q.val()
                & !self.pass_ending.val();
        }
        self.s_rec_ready.next = self.accept.val();
        self.admit.clock.next = self.clock.val();
        self.admit.rec.next = self.s_rec_ts.val();
        self.admit.newest.next = self.newest_ts.q.val();
        self.admit.newest_hi1.next = self.newest_hi1.q.val();
        self.admit.limit.next = self.limit_x.q.val() ^ 8_126_456;
        self.lt_use.next = self.admit.lt.val();
        self.ok_use.next = self.admit.ok.val();
        self.jump_use.next = self.admit.jump.val();
        // Spaced: the comparisons are registered a clock ahead, from the
        // held input.
        self.in_seen.d.next =
            self.s_rec_valid.val() & !(self.accept.val() & self.s_rec_valid.val());
        self.ts_eff.next = self.s_rec_ts.val();
        if self.lt_use.val() {
            self.ts_eff.next = self.newest_ts.q.val();
        }
        // The clamp chooses between two ready values: the input's high half
        // plus one is added beside the admission's compare, not after it.
        self.rec_hi1.next = bit_cast::<17, 37>(self.s_rec_ts.val().epoch >> 21) + 1;
        self.eff_hi1.next = self.rec_hi1.val();
        if self.lt_use.val() {
            self.eff_hi1.next = self.newest_hi1.q.val();
        }
        if self.s0_take.val() {
            self.s0_valid.d.next = false;
        }
        if self.accept.val() & self.s_rec_valid.val() {
            self.s0_valid.d.next = true;
            self.s0_ts.d.next = self.ts_eff.val();
            self.s0_flags.d.next = self.s_rec_flags.val();
            self.s0_key.d.next = self.s_rec_key.val();
            self.newest_ts.d.next = self.ts_eff.val();
            self.newest_hi1.d.next = self.eff_hi1.val();
            if self.lt_use.val() {
                self.c_regress.next = true;
            }
            // A clamped record has the previous record's time: within the
            // limit, no jump. (The comparisons run beside the clamp.)
            self.ok_r.d.next = self.ok_use.val();
            self.jump_r.d.next = self.jump_use.val();
        }

        // ---- Into stage 1: control op, else the record, else a sweep.
        self.stale_next.next = self.s0_valid.q.val() & !self.s0_ok.val() & self.jump_r.q.val();
        self.stale_op.next = self.pass_stale.q.val();
        if !self.ncur0.q.val() {
            self.stale_op.next = self.stale_next.val();
        }
        self.sweeping.next =
            self.advance.val() & !self.issuing.val() & !self.s0_take.val() & !self.bubble.val();
        if self.advance.val() {
            if self.bubble.val() {
                if !self.gap2.q.val() {
                    self.gap.d.next = self.gap.q.val() + 1;
                    self.gap2.d.next = self.gap.q.val() == 1;
                }
                if self.hold_nz.q.val() {
                    self.hold.d.next = self.hold.q.val() - 1;
                    self.hold_nz.d.next = self.hold.q.val().get_bit(1);
                }
            } else {
                self.gap.d.next = bits::<2>(0);
                self.gap2.d.next = false;
            }
            if self.s0_take.val() {
                self.hold.d.next = bits::<2>(2);
                self.hold_nz.d.next = true;
            }
        }
        self.hash.advance.next = self.advance.val();
        self.hash.in_op.next = bits::<OP_BITS>(2);
        self.hash.in_idx.next = self.cursor.q.val();
        self.hash.in_ts.next = self.admitted_ts.q.val();
        self.hash.in_flags.next = self.s0_flags.q.val();
        self.hash.in_key.next = self.s0_key.q.val();
        if self.spaced.y.val() {
            self.hash.in_key.next = self.s_rec_key.val();
        }
        if self.stale_op.val() {
            self.hash.in_op.next = bits::<OP_BITS>(6);
            // The waiting record's time (S0 holds still during the pass).
            self.hash.in_ts.next = self.s0_ts.q.val();
        }
        if self.s0_valid.q.val() & self.s0_ok.val() {
            self.hash.in_op.next = bits::<OP_BITS>(1);
            self.hash.in_ts.next = self.s0_ts.q.val();
        }
        if self.bubble.val() {
            self.hash.in_op.next = bits::<OP_BITS>(0);
        }
        if self.s0_take.val() {
            self.admitted_ts.d.next = self.s0_ts.q.val();
            self.c_records.next = true;
        }
        if self.issuing.val() {
            self.hash.in_idx.next = self.ctl_idx.q.val();
            self.hash.in_ts.next.sub = bits::<S_SHIFT>(0);
            self.hash.in_ts.next.epoch = bits::<EPOCH_BITS>(0);
            self.hash.in_op.next = bits::<OP_BITS>(3);
            if self.ctl_cmd_r.q.val() == 2 {
                self.hash.in_op.next = bits::<OP_BITS>(4);
            }
            if self.ctl_cmd_r.q.val() == 3 {
                self.hash.in_op.next = bits::<OP_BITS>(5);
            }
        }
        // A pass's limit: its start (the waiting record's epoch for a stale
        // pass), taken as the pass begins (cursor 0), + the horizon at
        // cursor 2 (the limit is used at the pass's end), saturating: bit 37
        // is the carry, registered (`lim_c`, valid from cursor 2), so that
        // the saturation (a set of the whole register) does not follow the
        // carry chain in the same clock.
        self.lim_start.next = self.adm_epoch.val();
        if self.stale_next.val() {
            self.lim_start.next = self.s0_epoch.val();
        }
        self.lim.next = bit_cast::<38, 37>(self.pass_start.q.val()) + 8_126_456;
        self.lim_c.d.next = self.lim.val().get_bit(37);
        // Loaded on every clock the cursor is at 0, not only on the one
        // that sweeps line 0: the last load is that one's, and both are
        // read only while the pass runs (the stale flag from cursor 1, the
        // start at cursor 2). So their enable is a flip-flop, not the issue
        // decision (`sweeping`).
        if !self.ncur0.q.val() {
            self.pass_stale.d.next = self.stale_next.val();
            self.pass_start.d.next = self.lim_start.val();
        }
        if self.sweeping.val() {
            self.cursor.d.next = self.cursor.q.val() + 1;
            // The flags of cursor + 1.
            self.ncur0.d.next = !self.cur_last.q.val();
            self.cur1.d.next = !self.ncur0.q.val();
            self.cur2.d.next = self.cur1.q.val();
            self.cur_last.d.next = self.cursor.q.val() == 510;
            self.cur_end.d.next = (self.cursor.q.val() == 509) | (self.cursor.q.val() == 510);
            if self.cur2.q.val() {
                // Saturating: near the top of the 37-bit epoch range the
                // limit is the last epoch (no later record can follow).
                self.pass_limit.d.next = bit_cast::<37, 38>(self.lim.val());
                if self.lim_c.q.val() {
                    self.pass_limit.d.next = !bits::<EPOCH_BITS>(0);
                }
            }
            if self.cur_last.q.val() {
                self.limit_x.d.next = self.pass_limit.q.val() ^ 8_126_456;
                if self.spaced.y.val() {
                    self.ok_r.d.next = self.le_pre.val();
                } else if !(self.accept.val() & self.s_rec_valid.val()) {
                    self.ok_r.d.next = self.s0_epoch.val() <= self.pass_limit.q.val();
                }
            }
        }

        // ---- Control: clear, flush, peek.
        self.ctl_ready.next = self.state.q.val() == CtlState::Idle;
        self.busy.next = self.state.q.val() != CtlState::Idle;
        self.packets_in_flight.next = self.pk.q.val().any();
        self.idle.next = !self.s0_valid.q.val()
            & !self.packets_in_flight.val()
            & !self.counters.rd_pending.val();
        self.counters.clear.next = false;
        match self.state.q.val() {
            CtlState::Idle => {
                if self.ctl_valid.val() {
                    self.ctl_cmd_r.d.next = self.ctl_cmd.val();
                    self.ctl_idx.d.next = bits::<IDX_BITS>(0);
                    self.ctl_last.d.next = bits::<IDX_BITS>(511);
                    if self.ctl_cmd.val() == 2 {
                        self.ctl_last.d.next = bits::<IDX_BITS>(255);
                    }
                    self.at_last.d.next = false;
                    if self.ctl_cmd.val() == 3 {
                        self.ctl_idx.d.next = bit_cast::<IDX_BITS, SLOT_ADDR>(self.ctl_slot.val());
                        self.ctl_last.d.next = bit_cast::<IDX_BITS, SLOT_ADDR>(self.ctl_slot.val());
                        self.at_last.d.next = true;
                    }
                    self.state.d.next = CtlState::Drain;
                }
            }
            CtlState::Drain => {
                // Every accepted record goes first.
                if !self.s0_valid.q.val() & !self.packets_in_flight.val() {
                    self.state.d.next = CtlState::Issue;
                    self.iss_r.d.next = true;
                    if self.ctl_cmd_r.q.val() == 1 {
                        self.counters.clear.next = true;
                        self.newest_ts.d.next.sub = bits::<S_SHIFT>(0);
                        self.newest_ts.d.next.epoch = bits::<EPOCH_BITS>(0);
                        self.newest_hi1.d.next = bits::<17>(1);
                        self.admitted_ts.d.next.sub = bits::<S_SHIFT>(0);
                        self.admitted_ts.d.next.epoch = bits::<EPOCH_BITS>(0);
                        self.limit_x.d.next = bits::<EPOCH_BITS>(0);
                        self.cursor.d.next = bits::<LINE_ADDR>(0);
                        self.ncur0.d.next = false;
                        self.cur1.d.next = false;
                        self.cur2.d.next = false;
                        self.cur_last.d.next = false;
                        self.cur_end.d.next = false;
                        self.pass_stale.d.next = false;
                    }
                }
            }
            CtlState::Issue => {
                if self.advance.val() {
                    self.ctl_idx.d.next = self.ctl_idx.q.val() + 1;
                    self.at_last.d.next = (self.ctl_idx.q.val() + 1) == self.ctl_last.q.val();
                    if self.at_last.q.val() {
                        self.state.d.next = CtlState::Tail;
                        self.iss_r.d.next = false;
                        self.tail.d.next = bits::<4>(0);
                        self.tail8.d.next = false;
                    }
                }
            }
            CtlState::Tail => {
                if self.advance.val() {
                    self.tail.d.next = self.tail.q.val() + 1;
                    self.tail8.d.next = self.tail.q.val() == 7;
                    if self.tail8.q.val() {
                        self.state.d.next = CtlState::Idle;
                    }
                }
            }
            _ => {
                self.state.d.next = CtlState::Idle;
                self.iss_r.d.next = false;
            }
        }

        // ---- Stages 3..7: what the blocks do not carry.
        if self.advance.val() {
            // Stage 1 takes the hash unit's input operation.
            self.pk.d.next = self.pk.q.val() << 1;
            if self.hash.in_op.val() == 1 {
                self.pk.d.next = (self.pk.q.val() << 1) | bits::<7>(1);
            }
            self.op3.d.next = self.hash.op.val();
            self.op4.d.next = self.op3.q.val();
            self.op5.d.next = self.op4.q.val();
            self.op6.d.next = self.op5.q.val();
            self.op7.d.next = self.op6.q.val();
            self.ts3.d.next = self.hash.ts.val();
            self.ts4.d.next = self.ts3.q.val();
            self.ts5.d.next = self.ts4.q.val();
            self.ts6.d.next = self.ts5.q.val();
            self.ts7.d.next = self.ts6.q.val();
            self.flags3.d.next = self.hash.flags.val();
            self.flags4.d.next = self.flags3.q.val();
            self.flags5.d.next = self.flags4.q.val();
            self.flags6.d.next = self.flags5.q.val();
            self.dir3.d.next = self.hash.dir.val();
            self.dir4.d.next = self.dir3.q.val();
            self.dir5.d.next = self.dir4.q.val();
            self.dir6.d.next = self.dir5.q.val();
            self.dir7.d.next = self.dir6.q.val();
            self.slot3.d.next = self.hash.slot.val();
            self.slot4.d.next = self.slot3.q.val();
            self.slot5.d.next = self.slot4.q.val();
            self.slot6.d.next = self.slot5.q.val();
            self.slot7.d.next = self.slot6.q.val();
            self.fp3.d.next = self.hash.fp.val();
            self.fp4.d.next = self.fp3.q.val();
            self.fp5.d.next = self.fp4.q.val();
            self.fp6.d.next = self.fp5.q.val();
            self.fp7.d.next = self.fp6.q.val();
            self.key3.d.next = self.hash.key.val();
            self.key4.d.next = self.key3.q.val();
            self.iat_valid7.d.next = self.est.iat_valid.val();
            self.iat7.d.next = self.est.iat.val();
            self.rtt_valid7.d.next = self.est.rtt_valid.val();
            self.rtt7.d.next = self.est.rtt.val();
        }

        // Banks and tag check read at the end of stage 2.
        self.bank.advance.next = self.advance.val();
        self.bank.s2_op.next = self.hash.op.val();
        self.bank.s2_addr.next = self.hash.line0.val();
        self.bank.s2_epoch.next = bit_cast::<E, EPOCH_BITS>(self.hash.epoch.val());
        self.bank.s2_dir.next = self.hash.dir.val();
        self.tags.advance.next = self.advance.val();
        self.tags.s2_op.next = self.hash.op.val();
        self.tags.s2_slot.next = self.hash.slot.val();
        self.tags.s2_fp.next = self.hash.fp.val();

        // Key announcements leave at the end of stage 4.
        if self.m_open_ready.val() {
            self.open_valid.d.next = false;
        }
        if self.advance.val() {
            self.open_valid.d.next = self.tags.opening.val();
            self.open_slot.d.next = self.slot4.q.val();
            self.open_key.d.next = self.key4.q.val();
            if self.tags.opening.val() {
                self.c_opens.next = true;
            }
        }
        self.m_open_valid.next = self.open_valid.q.val();
        self.m_open_slot.next = self.open_slot.q.val();
        self.m_open_key.next = self.open_key.q.val();
        if self.spaced.y.val() {
            self.m_open_key.next = self.s_rec_key.val();
        }

        // Stage 5: estimator.
        self.est.advance.next = self.advance.val();
        self.est.s5_packet.next = self.op5.q.val() == 1;
        self.est.s5_wants_rtt.next =
            self.flags5.q.val().get_bit(1) | self.flags5.q.val().get_bit(3);
        self.est.s5_dir.next = self.dir5.q.val();
        self.est.s6_ts.next = self.ts6.q.val();
        if self.spaced.y.val() {
            // The last packet taken: records come into an idle pipeline.
            self.est.s6_ts.next = self.admitted_ts.q.val();
        }
        self.est.rings.next = self.bank.rings.val();

        // Stage 6 counters: samples and misses.
        self.packet6.next = self.op6.q.val() == 1;
        self.wants_rtt6.next = self.flags6.q.val().get_bit(1) | self.flags6.q.val().get_bit(3);
        if self.advance.val() & self.packet6.val() {
            if self.est.iat_valid.val() {
                self.c_iat.next = true;
            } else {
                self.c_iat_miss.next = true;
            }
            if self.wants_rtt6.val() {
                self.c_rtt_lookup.next = true;
                if self.est.rtt_valid.val() {
                    self.c_rtt.next = true;
                } else {
                    self.c_rtt_miss.next = true;
                }
            }
        }

        // Stages 5..7: flow-table statistics.
        self.ftable.advance.next = self.advance.val();
        self.ftable.s5_op.next = self.op5.q.val();
        self.ftable.s5_slot.next = self.slot5.q.val();
        self.ftable.s5_opened.next = self.tags.opened.val();
        self.ftable.s5_collided.next = self.tags.collided.val();
        self.ftable.s5_flush_evict.next = self.tags.flush_evict.val();
        self.ftable.s5_tag.next = self.tags.tag.val();
        self.ftable.s6_iat_valid.next = self.est.iat_valid.val();
        self.ftable.s6_iat.next = self.est.iat.val();
        self.ftable.s6_rtt_valid.next = self.est.rtt_valid.val();
        self.ftable.s6_rtt.next = self.est.rtt.val();
        self.ftable.evict_ready.next = self.m_evict_ready.val();
        self.m_evict_valid.next = self.ftable.evict_valid.val();
        self.m_evict_slot.next = self.ftable.evict_slot.val();
        self.m_evict_reason.next = self.ftable.evict_reason.val();
        self.m_evict_stats.next = self.ftable.evict_stats.val();
        self.m_evict_tag.next = self.ftable.evict_tag.val();
        if self.advance.val() & self.ftable.evicting.val() {
            if self.ftable.evicting_reason.val() == 0 {
                self.c_ev_coll.next = true;
            }
            if self.ftable.evicting_reason.val() == 1 {
                self.c_ev_over.next = true;
            }
            if self.ftable.evicting_reason.val() == 2 {
                self.c_ev_flush.next = true;
            }
        }

        // Outcome of each record as it leaves stage 7.
        if self.advance.val() {
            self.out_valid.d.next = self.op7.q.val() == 1;
            self.out_ts.d.next = self.ts7.q.val();
            self.out_dir.d.next = self.dir7.q.val();
            self.out_slot.d.next = self.slot7.q.val();
            self.out_fp.d.next = self.fp7.q.val();
            self.out_iat_valid.d.next = self.iat_valid7.q.val();
            self.out_iat.d.next = self.iat7.q.val();
            self.out_rtt_valid.d.next = self.rtt_valid7.q.val();
            self.out_rtt.d.next = self.rtt7.q.val();
        } else {
            self.out_valid.d.next = false;
        }
        self.o_valid.next = self.out_valid.q.val();
        self.o_ts.next = self.out_ts.q.val();
        self.o_dir.next = self.out_dir.q.val();
        self.o_slot.next = self.out_slot.q.val();
        self.o_fp.next = self.out_fp.q.val();
        self.o_iat_valid.next = self.out_iat_valid.q.val();
        self.o_iat.next = self.out_iat.q.val();
        self.o_rtt_valid.next = self.out_rtt_valid.q.val();
        self.o_rtt.next = self.out_rtt.q.val();

        // Frames and drops, from the parser.
        self.c_frame.next = self.frame_done.val();
        self.c_drop.next = self.frame_done.val() & self.frame_drop.val();
        self.counters.inc.next = bits::<N_ALL>(0)
            .replace_bit(0, self.c_frame.val())
            .replace_bit(1, self.c_drop.val() & (self.frame_drop_reason.val() == 0))
            .replace_bit(2, self.c_drop.val() & (self.frame_drop_reason.val() == 1))
            .replace_bit(3, self.c_drop.val() & (self.frame_drop_reason.val() == 2))
            .replace_bit(4, self.c_drop.val() & (self.frame_drop_reason.val() == 3))
            .replace_bit(5, self.c_drop.val() & (self.frame_drop_reason.val() == 4))
            .replace_bit(6, self.c_drop.val() & (self.frame_drop_reason.val() == 5))
            .replace_bit(7, self.c_drop.val() & (self.frame_drop_reason.val() == 6))
            .replace_bit(8, self.c_records.val())
            .replace_bit(9, self.c_regress.val())
            .replace_bit(10, self.c_iat.val())
            .replace_bit(11, self.c_iat_miss.val())
            .replace_bit(12, self.c_rtt_lookup.val())
            .replace_bit(13, self.c_rtt.val())
            .replace_bit(14, self.c_rtt_miss.val())
            .replace_bit(15, self.c_opens.val())
            .replace_bit(16, self.c_ev_coll.val())
            .replace_bit(17, self.c_ev_over.val())
            .replace_bit(18, self.c_ev_flush.val())
            .replace_bit(19, self.link_inc.val().get_bit(0))
            .replace_bit(20, self.link_inc.val().get_bit(1))
            .replace_bit(21, self.link_inc.val().get_bit(2))
            .replace_bit(22, self.link_inc.val().get_bit(3))
            .replace_bit(23, self.link_inc.val().get_bit(4))
            .replace_bit(24, self.link_inc.val().get_bit(5))
            .replace_bit(25, self.link_inc.val().get_bit(6))
            .replace_bit(26, self.link_inc.val().get_bit(7))
            .replace_bit(27, self.link_inc.val().get_bit(8));
        self.counters.rd_req.next = self.cnt_req.val();
        self.counters.rd_index.next = self.cnt_index.val();
        self.cnt_ready.next = self.counters.rd_ready.val();
        self.cnt_valid.next = self.counters.rd_valid.val();
        self.cnt_value.next = self.counters.rd_value.val();
    }
}
crate::impl_clocked!(BloomtimeCore);

impl BloomtimeCore {
    /// A slot's tag and statistics as stored (for tests).
    pub fn stored_slot(&self, slot: usize) -> (u64, StatsBits) {
        (self.tags.stored_tag(slot), self.ftable.stored_stats(slot))
    }

    /// The registered decodes against their definitions (for tests, every
    /// clock): the first that differs, if any.
    pub fn decode_mismatch(&self) -> Option<String> {
        let cursor = self.cursor.q.val().index();
        let hold = self.hold.q.val().index();
        let gap = self.gap.q.val().index();
        let state = self.state.q.val();
        let ops = [
            self.hash.op_s1(),
            self.hash.op.val().to_u64(),
            self.op3.q.val().to_u64(),
            self.op4.q.val().to_u64(),
            self.op5.q.val().to_u64(),
            self.op6.q.val().to_u64(),
            self.op7.q.val().to_u64(),
        ];
        let want_pk = (0..7).fold(0, |m, i| m | ((ops[i] == 1) as u64) << i);
        if self.pk.q.val().to_u64() != want_pk {
            return Some(format!(
                "pk is {:07b}, the stages' operations {ops:?}",
                self.pk.q.val().to_u64()
            ));
        }
        [
            ("iss_r", self.iss_r.q.val(), state == CtlState::Issue),
            (
                "at_last",
                self.at_last.q.val(),
                if state == CtlState::Issue {
                    self.ctl_idx.q.val() == self.ctl_last.q.val()
                } else {
                    self.at_last.q.val()
                },
            ),
            (
                "tail8",
                self.tail8.q.val(),
                if state == CtlState::Tail {
                    self.tail.q.val().index() == 8
                } else {
                    self.tail8.q.val()
                },
            ),
            ("hold_nz", self.hold_nz.q.val(), hold != 0),
            ("gap2", self.gap2.q.val(), gap == 2),
            ("ncur0", self.ncur0.q.val(), cursor != 0),
            ("cur1", self.cur1.q.val(), cursor == 1),
            ("cur2", self.cur2.q.val(), cursor == 2),
            ("cur_last", self.cur_last.q.val(), cursor == 511),
            ("cur_end", self.cur_end.q.val(), cursor >= 510),
            // The newest epoch's high half plus one, kept beside it (0
            // before the first record, while the newest is 0).
            (
                "newest_hi1",
                self.newest_hi1.q.val().to_u64()
                    == crate::admit::hi_plus_one(self.newest_ts.q.val().epoch.to_u64()),
                self.newest_ts.q.val().epoch.any() || self.newest_hi1.q.val().any(),
            ),
            // S0 holds still while the pass ends, so at its last sweep the
            // registered compare is the compare of what is there.
            (
                "le_pre",
                self.le_pre.val(),
                if self.spaced.y.val() && cursor == 511 {
                    self.s0_ts.q.val().epoch <= self.pass_limit.q.val()
                } else {
                    crate::admit::join_le(self.le_p.q.val().to_u64())
                },
            ),
        ]
        .into_iter()
        .find(|&(_, got, want)| got != want)
        .map(|(name, got, _)| {
            format!("{name} is {got} with cursor {cursor}, hold {hold}, gap {gap}, {state:?}")
        })
    }
}
