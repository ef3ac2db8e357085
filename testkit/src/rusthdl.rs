//! The rust-hdl core (`BloomtimeCore`) stepped clock by clock, as a [`Core`].

use crate::core::{Core, Outcome, Slot};
use crate::seed::Rng;
use bloomtime_hw::consts::FP_BITS;
use bloomtime_hw::core::{cmd, BloomtimeCore};
use bloomtime_hw::types::{KeyBits, Ts};
use bloomtime_hw::util::Stepper;
use bloomtime_model::counters::{Counters, N_COUNTERS};
use bloomtime_model::key::Record;
use bloomtime_model::parse::DropReason;
use bloomtime_model::table::{Event, EvictReason};
use std::ops::Range;
use std::path::Path;

/// Clocks a record may wait at the input, or a drain last, before the core
/// counts as stalled: far more than a sweep pass (512 lines) under heavy
/// back-pressure, so that a stall fails the test instead of hanging it.
pub const STALL_CYCLES: u64 = 200_000;

fn stall_check(from: u64, now: u64, what: &str, ctx: &dyn std::fmt::Debug) {
    assert!(
        now - from < STALL_CYCLES,
        "STALL: {what} for {STALL_CYCLES} clocks (at clock {now}) {ctx:?}"
    );
}

/// `BloomtimeCore` in rust-hdl's simulation.
pub struct RustHdlCore {
    pub st: Stepper<BloomtimeCore>,
    outcomes: Vec<Outcome>,
    events: Vec<Event>,
    peeks: Vec<(u32, Slot)>,
    backpressure: f64,
    rng: Rng,
    refused: u64,
    /// The core's spaced configuration: hold each key until the pipeline
    /// is quiet again (the board's contract).
    spaced: bool,
    /// A frame-accounting pulse for the next clock: the frame's drop
    /// reason, or `None` for a frame that became a record.
    frame_pulse: Option<Option<DropReason>>,
}

impl Default for RustHdlCore {
    fn default() -> Self {
        Self::new()
    }
}

impl RustHdlCore {
    /// The one-record-per-clock configuration.
    pub fn new() -> Self {
        Self::with(false)
    }

    /// The spaced configuration, driven as the board drives it.
    pub fn spaced() -> Self {
        Self::with(true)
    }

    fn with(spaced: bool) -> Self {
        RustHdlCore {
            st: Stepper::new(Self::block(spaced), None),
            outcomes: Vec::new(),
            events: Vec::new(),
            peeks: Vec::new(),
            backpressure: 0.0,
            rng: Rng::new(1),
            refused: 0,
            spaced,
            frame_pulse: None,
        }
    }

    fn block(spaced: bool) -> BloomtimeCore {
        if spaced {
            BloomtimeCore::spaced()
        } else {
            BloomtimeCore::default()
        }
    }

    fn ready(&mut self) -> bool {
        self.backpressure == 0.0 || !self.rng.chance(self.backpressure)
    }

    /// Drive this clock's output readies (and a pending frame pulse) and settle.
    fn prepare(&mut self) -> (bool, bool) {
        let (ro, re) = (self.ready(), self.ready());
        let pulse = self.frame_pulse.take();
        let u = &mut self.st.uut;
        u.m_open_ready.next = ro;
        u.m_evict_ready.next = re;
        u.frame_done.next = pulse.is_some();
        u.frame_drop.next = matches!(pulse, Some(Some(_)));
        u.frame_drop_reason.next = match pulse {
            Some(Some(r)) => (r as u64).into(),
            _ => 0u64.into(),
        };
        self.st.settle();
        (ro, re)
    }

    /// Collect the transfers of this clock and tick.
    fn finish(&mut self, (ro, re): (bool, bool)) {
        let u = &self.st.uut;
        if let Some(m) = u.decode_mismatch() {
            panic!("a registered decode of the core differs: {m}");
        }
        if u.m_open_valid.val() && ro {
            self.events.push(Event::Open {
                slot: u.m_open_slot.val().index() as u32,
                key: u.m_open_key.val().to_key(),
            });
        }
        if u.m_evict_valid.val() && re {
            let slot = u.m_evict_slot.val().index() as u32;
            let reason = u.m_evict_reason.val().index() as u8;
            let stats = u.m_evict_stats.val().to_stats();
            if reason as u64 == bloomtime_hw::flow_table::REASON_PEEK {
                let tag = u.m_evict_tag.val().to_u64();
                self.peeks.push((slot, slot_of(tag, stats)));
            } else {
                self.events.push(Event::Evict {
                    slot,
                    reason: EvictReason::from_index(reason).expect("reason"),
                    stats,
                });
            }
        }
        if u.o_valid.val() {
            self.outcomes.push(Outcome {
                ts: u.o_ts.val().to_u64(),
                dir: u.o_dir.val() as u8,
                slot: u.o_slot.val().index() as u32,
                fp: u.o_fp.val().index() as u32,
                iat: u.o_iat_valid.val().then(|| u.o_iat.val().index() as u32),
                rtt: u.o_rtt_valid.val().then(|| u.o_rtt.val().index() as u32),
            });
        }
        self.st.tick();
    }

    /// One clock: drive the output readies, collect transfers, tick.
    pub fn cycle(&mut self) {
        let r = self.prepare();
        self.finish(r);
    }

    /// Issue a control command (`bloomtime_hw::core::cmd`) and drain.
    pub fn control(&mut self, c: u64, slot: u32) {
        let u = &mut self.st.uut;
        u.ctl_valid.next = true;
        u.ctl_cmd.next = c.into();
        u.ctl_slot.next = (slot as u64).into();
        loop {
            let r = self.prepare();
            let ok = self.st.uut.ctl_ready.val();
            self.finish(r);
            if ok {
                break;
            }
        }
        self.st.uut.ctl_valid.next = false;
        self.drain();
    }

    /// One counter of the readout port.
    pub fn read_counter(&mut self, i: usize) -> u64 {
        self.st.uut.cnt_index.next = (i as u64).into();
        self.st.uut.cnt_req.next = true;
        loop {
            self.st.settle();
            let taken = self.st.uut.cnt_ready.val();
            self.cycle();
            if taken {
                break;
            }
        }
        self.st.uut.cnt_req.next = false;
        loop {
            self.st.settle();
            if self.st.uut.cnt_valid.val() {
                let v = self.st.uut.cnt_value.val().to_u64();
                self.cycle();
                return v;
            }
            self.cycle();
        }
    }
}

/// A slot from a table tag (valid bit above the fingerprint) and its stats.
fn slot_of(tag: u64, stats: bloomtime_model::table::SlotStats) -> Slot {
    Slot {
        valid: tag >> FP_BITS == 1,
        fingerprint: (tag & ((1 << FP_BITS) - 1)) as u32,
        stats,
    }
}

impl Core for RustHdlCore {
    const NAME: &'static str = "rust-hdl";
    const FAST: bool = false;

    fn set_backpressure(&mut self, p: f64, seed: u64) {
        self.backpressure = p;
        self.rng = Rng::new(seed);
    }

    fn clock(&mut self) {
        self.st.uut.s_rec_valid.next = false;
        self.cycle();
    }

    fn send(&mut self, rec: &Record, frame: bool) {
        if self.spaced {
            // The key of the previous record stays on the input until its
            // announcement has been taken and the pipeline is empty.
            self.drain();
        }
        if frame {
            self.frame_pulse = Some(None);
        }
        let u = &mut self.st.uut;
        u.s_rec_valid.next = true;
        u.s_rec_ts.next = Ts::from_u64(rec.ts);
        u.s_rec_flags.next = (rec.flags as u64).into();
        u.s_rec_key.next = KeyBits::from_key(&rec.key);
        let offered = self.st.cycle;
        loop {
            let r = self.prepare();
            let accepted = self.st.uut.s_rec_ready.val();
            self.finish(r);
            if accepted {
                break;
            }
            self.refused += 1;
            stall_check(
                offered,
                self.st.cycle,
                "the core does not accept the record",
                rec,
            );
        }
        self.st.uut.s_rec_valid.next = false;
    }

    fn drop_frame(&mut self, reason: DropReason) {
        self.frame_pulse = Some(Some(reason));
        self.clock();
    }

    fn drain(&mut self) {
        self.st.uut.s_rec_valid.next = false;
        let mut quiet = 0;
        let start = self.st.cycle;
        while quiet < 12 {
            stall_check(start, self.st.cycle, "the core does not drain", &());
            self.cycle();
            let u = &self.st.uut;
            let busy =
                !u.idle.val() || u.busy.val() || u.m_open_valid.val() || u.m_evict_valid.val();
            quiet = if busy { 0 } else { quiet + 1 };
        }
    }

    fn flush(&mut self) {
        self.control(cmd::FLUSH, 0);
    }

    fn peek(&mut self, slot: u32) -> Slot {
        self.control(cmd::PEEK, slot);
        let (s, p) = self.peeks.pop().expect("a peek result");
        assert_eq!(s, slot, "peek answered for another slot");
        p
    }

    /// Straight from the tag and statistics RAMs, without clocking.
    fn stored_slot(&mut self, slot: u32) -> Slot {
        let (tag, stats) = self.st.uut.stored_slot(slot as usize);
        slot_of(tag, stats.to_stats())
    }

    fn read_counters(&mut self) -> Counters {
        let mut c = Counters::default();
        for i in 0..N_COUNTERS {
            c.0[i] = self.read_counter(i);
        }
        c
    }

    fn take_outcomes(&mut self) -> Vec<Outcome> {
        std::mem::take(&mut self.outcomes)
    }

    fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    fn cycles(&self) -> u64 {
        self.st.cycle
    }

    fn refused(&self) -> u64 {
        self.refused
    }

    /// Every clock of the run (rust-hdl's probe has no window).
    fn trace(&mut self, path: &Path, _cycles: Range<u64>) -> Result<String, String> {
        if self.st.cycle != 0 {
            return Err("the core has already been clocked".into());
        }
        self.st = Stepper::new(Self::block(self.spaced), Some(path));
        Ok("every clock".into())
    }
}
