//! Drives `BloomtimeCore` clock by clock and compares it with the golden model.
#![allow(dead_code)]

use super::Rng;
use bloomtime_hw::consts::*;
use bloomtime_hw::core::{cmd, BloomtimeCore};
use bloomtime_hw::types::{KeyBits, Ts};
use bloomtime_hw::util::{vcd_path, Stepper};
use bloomtime_model::golden::BloomTime;
use bloomtime_model::key::{FlowKey, Record};
use bloomtime_model::merge::{FlowMerger, MergedStats};
use bloomtime_model::parse::DropReason;
use bloomtime_model::table::{Event, EvictReason, SlotStats};

use std::collections::HashMap;

/// What the core said about one record.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HwOutcome {
    pub ts: u64,
    pub dir: u8,
    pub slot: u32,
    pub fp: u32,
    pub iat: Option<u32>,
    pub rtt: Option<u32>,
}

pub struct Harness {
    pub st: Stepper<BloomtimeCore>,
    pub opens: Vec<Event>,
    pub evicts: Vec<Event>,
    pub outcomes: Vec<HwOutcome>,
    pub peeks: Vec<(u32, u64, SlotStats)>,
    /// Probability that an output is not ready in a cycle.
    pub backpressure: f64,
    /// Probability that the input is idle in a cycle.
    pub gaps: f64,
    rng: Rng,
    /// Cycles in which the record input was offered and refused.
    pub refused: u64,
    /// The core's spaced configuration: hold each key until the pipeline
    /// is quiet again (the board's contract).
    pub spaced: bool,
    /// A frame-accounting pulse for the next clock: the frame's drop reason,
    /// or `None` for a frame that became a record.
    frame_pulse: Option<Option<DropReason>>,
}

impl Harness {
    pub fn new(seed: u64, backpressure: f64, gaps: f64, vcd: Option<&std::path::Path>) -> Self {
        Self::with_core(
            BloomtimeCore::default(),
            false,
            seed,
            backpressure,
            gaps,
            vcd,
        )
    }

    /// The spaced configuration, driven as the board drives it.
    pub fn new_spaced(
        seed: u64,
        backpressure: f64,
        gaps: f64,
        vcd: Option<&std::path::Path>,
    ) -> Self {
        Self::with_core(BloomtimeCore::spaced(), true, seed, backpressure, gaps, vcd)
    }

    fn with_core(
        core: BloomtimeCore,
        spaced: bool,
        seed: u64,
        backpressure: f64,
        gaps: f64,
        vcd: Option<&std::path::Path>,
    ) -> Self {
        Harness {
            st: Stepper::new(core, vcd),
            opens: Vec::new(),
            evicts: Vec::new(),
            outcomes: Vec::new(),
            peeks: Vec::new(),
            backpressure,
            gaps,
            rng: Rng::new(seed),
            refused: 0,
            spaced,
            frame_pulse: None,
        }
    }

    fn ready(&mut self) -> bool {
        self.backpressure == 0.0 || !self.rng.chance(self.backpressure)
    }

    /// Drive this cycle's output readies (and a pending frame pulse) and settle.
    fn prepare(&mut self) -> (bool, bool, bool) {
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
        (ro, re, false)
    }

    /// One clock: drive the output readies, collect transfers, tick.
    pub fn cycle(&mut self) {
        let r = self.prepare();
        self.finish(r);
    }

    /// Collect the transfers of this cycle and tick.
    fn finish(&mut self, (ro, re, _): (bool, bool, bool)) {
        let u = &self.st.uut;
        if u.m_open_valid.val() && ro {
            let key = u.m_open_key.val().to_key();
            self.opens.push(Event::Open {
                slot: u.m_open_slot.val().index() as u32,
                key,
            });
        }
        if u.m_evict_valid.val() && re {
            let slot = u.m_evict_slot.val().index() as u32;
            let reason = u.m_evict_reason.val().index() as u8;
            let stats = u.m_evict_stats.val().to_stats();
            if reason as u64 == bloomtime_hw::flow_table::REASON_PEEK {
                self.peeks.push((slot, u.m_evict_tag.val().to_u64(), stats));
            } else {
                self.evicts.push(Event::Evict {
                    slot,
                    reason: EvictReason::from_index(reason).expect("reason"),
                    stats,
                });
            }
        }
        if u.o_valid.val() {
            self.outcomes.push(HwOutcome {
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

    /// Account one frame as an upstream parser does: a one-clock
    /// `frame_done` pulse, with `frame_drop` and the reason for a dropped
    /// frame. The pulse goes out in the next clock (for a frame that became
    /// a record, call [`Harness::push`] next: the pulse rides on its first
    /// clock, as the board's parser emits it with the record).
    pub fn frame(&mut self, drop: Option<DropReason>) {
        assert!(self.frame_pulse.is_none(), "two frame pulses in one clock");
        self.frame_pulse = Some(drop);
    }

    /// Offer a record until it is accepted (with random idle cycles first).
    pub fn push(&mut self, rec: &Record) {
        if self.spaced {
            // The key of the previous record stays on the input until its
            // announcement has been taken and the pipeline is empty.
            self.drain();
        }
        while self.gaps > 0.0 && self.rng.chance(self.gaps) {
            self.st.uut.s_rec_valid.next = false;
            self.cycle();
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

    /// Run idle cycles until the pipeline is empty and every output drained.
    pub fn drain(&mut self) {
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

    /// Issue a control command and wait for it to finish.
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

    pub fn flush(&mut self) {
        self.control(cmd::FLUSH, 0);
    }

    /// Counters through the readout port.
    pub fn read_counters(&mut self) -> Vec<u64> {
        let n = bloomtime_model::counters::N_COUNTERS;
        let mut out = Vec::new();
        for i in 0..n {
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
                    out.push(self.st.uut.cnt_value.val().to_u64());
                    self.cycle();
                    break;
                }
                self.cycle();
            }
        }
        out
    }
}

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

/// Per-slot sequences of one event kind.
fn per_slot(events: &[Event], opens: bool) -> HashMap<u32, Vec<Event>> {
    let mut m: HashMap<u32, Vec<Event>> = HashMap::new();
    for e in events {
        match (e, opens) {
            (Event::Open { slot, .. }, true) | (Event::Evict { slot, .. }, false) => {
                m.entry(*slot).or_default().push(*e)
            }
            _ => {}
        }
    }
    m
}

/// One input of a comparison.
#[derive(Clone, Debug)]
pub enum Input {
    /// A record, straight into the core and into `BloomTime::process`.
    Record(Record),
    /// A captured frame at record time `ts` ([`Input::frame`]): the model
    /// takes it through `BloomTime::frame` (its parser and drop counters,
    /// as the host's analyze path does); the core gets the frame's record,
    /// or a drop pulse with the reason.
    Frame {
        ts: u64,
        /// The header window (`bloomtime_traces::window`).
        window: Vec<u8>,
        /// The captured length.
        caplen: usize,
        /// The frame's record or drop reason
        /// (`bloomtime_traces::ReplayFrame::record`).
        record: Result<Record, DropReason>,
    },
}

impl Input {
    /// A captured frame, as `bloomtime_traces::Records` yields it.
    pub fn frame(f: &bloomtime_traces::ReplayFrame<'_>) -> Input {
        Input::Frame {
            ts: f.ts,
            window: f.window.to_vec(),
            caplen: f.caplen,
            record: f.record(),
        }
    }
}

/// What a comparison compared, for the tests to check it was not trivial.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Inputs offered (records and frames).
    pub inputs: usize,
    /// Records that went through the core, each compared with its outcome.
    pub records: usize,
    /// Frames the parser dropped (counted by reason on both sides).
    pub drops: usize,
    pub iat_samples: usize,
    pub rtt_samples: usize,
    /// Final table slots compared that were valid in the model.
    pub valid_slots: usize,
    pub opens: usize,
    pub evicts: usize,
    /// The merged flows of the core's events (equal to the model's).
    pub flows: Vec<(FlowKey, MergedStats)>,
    /// The core's counters (equal to the model's).
    pub counters: Vec<u64>,
    /// Clock cycles the core was stepped.
    pub cycles: u64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} inputs, {} records ({} dropped frames), {} IAT + {} RTT samples, \
             {} valid slots, {} opens, {} evicts, {} flows, {} cycles",
            self.inputs,
            self.records,
            self.drops,
            self.iat_samples,
            self.rtt_samples,
            self.valid_slots,
            self.opens,
            self.evicts,
            self.flows.len(),
            self.cycles
        )
    }
}

/// Run `recs` through core and model; return the first difference.
pub fn compare(
    recs: &[Record],
    seed: u64,
    backpressure: f64,
    gaps: f64,
    vcd: Option<&std::path::Path>,
) -> Result<Summary, String> {
    let inputs: Vec<Input> = recs.iter().map(|r| Input::Record(*r)).collect();
    compare_inputs(&inputs, seed, backpressure, gaps, vcd)
}

/// Run records and frames through core and model; return the first difference.
pub fn compare_inputs(
    inputs: &[Input],
    seed: u64,
    backpressure: f64,
    gaps: f64,
    vcd: Option<&std::path::Path>,
) -> Result<Summary, String> {
    compare_with(Harness::new(seed, backpressure, gaps, vcd), inputs)
}

/// The same comparison for the spaced configuration.
pub fn compare_spaced(
    recs: &[Record],
    seed: u64,
    backpressure: f64,
    vcd: Option<&std::path::Path>,
) -> Result<Summary, String> {
    let inputs: Vec<Input> = recs.iter().map(|r| Input::Record(*r)).collect();
    compare_with(Harness::new_spaced(seed, backpressure, 0.0, vcd), &inputs)
}

fn compare_with(mut h: Harness, inputs: &[Input]) -> Result<Summary, String> {
    let mut m = BloomTime::new(&CFG);
    let mut want = Vec::new();
    // The records the core was given, and the input each came from.
    let mut recs: Vec<(usize, Record)> = Vec::new();
    let mut drops = 0;
    for (n, inp) in inputs.iter().enumerate() {
        let (rec, o) = match inp {
            Input::Record(r) => (*r, m.process(r)),
            Input::Frame {
                ts,
                window,
                caplen,
                record,
            } => match (*record, m.frame(*ts, window, *caplen)) {
                (Ok(r), Ok(o)) => {
                    h.frame(None);
                    (r, o)
                }
                (Err(a), Err(b)) if a == b => {
                    h.frame(Some(a));
                    h.cycle();
                    drops += 1;
                    continue;
                }
                (a, b) => {
                    return Err(format!(
                        "input #{n}: the parser says {a:?}, the model {b:?}"
                    ))
                }
            },
        };
        h.push(&rec);
        recs.push((n, rec));
        want.push(HwOutcome {
            ts: o.ts,
            dir: o.dir,
            slot: o.slot,
            fp: o.fingerprint,
            iat: o.iat,
            rtt: o.rtt,
        });
    }
    h.drain();
    for (i, (g, w)) in h.outcomes.iter().zip(&want).enumerate() {
        if g != w {
            let (n, r) = recs[i];
            return Err(format!(
                "first diverging record #{i} (input #{n}) {r:?}\n  core:  {g:?}\n  model: {w:?}"
            ));
        }
    }
    if h.outcomes.len() != want.len() {
        return Err(format!(
            "core produced {} outcomes for {} records",
            h.outcomes.len(),
            want.len()
        ));
    }
    // Final table state, slot by slot.
    let cfg = CFG;
    let valid_slots = m.table().slots.iter().filter(|s| s.valid).count();
    for (i, s) in m.table().slots.iter().enumerate() {
        let (tag, stats) = h.st.uut.stored_slot(i);
        let valid = tag >> FP_BITS == 1;
        let fp = (tag & ((1 << FP_BITS) - 1)) as u32;
        if valid != s.valid || (valid && (fp != s.fingerprint || stats.to_stats() != s.stats)) {
            return Err(format!(
                "slot {i}: core tag {tag:x} stats {:?}\n  model {s:?}",
                stats.to_stats()
            ));
        }
    }
    h.flush();
    m.flush();
    let model_events = m.drain_events();
    // Event sequences per slot and kind.
    let hw_events: Vec<Event> = h.opens.iter().chain(h.evicts.iter()).copied().collect();
    for opens in [true, false] {
        let (a, b) = (per_slot(&hw_events, opens), per_slot(&model_events, opens));
        if a != b {
            let slot = a
                .keys()
                .chain(b.keys())
                .find(|k| a.get(k) != b.get(k))
                .unwrap();
            return Err(format!(
                "slot {slot} {} events differ\n  core:  {:?}\n  model: {:?}",
                if opens { "open" } else { "evict" },
                a.get(slot),
                b.get(slot)
            ));
        }
    }
    // Merged flows, through the host's merge in the core's interleaving.
    let mut hm = FlowMerger::new(&cfg);
    let mut hw_stream: Vec<(u64, Event)> = Vec::new();
    // Opens and evicts were collected separately; the core emits an open at
    // least a stage before the evict of its predecessor, so opens-first per
    // collection order is a valid interleaving for the merge.
    for e in h.opens.iter() {
        hw_stream.push((0, *e));
    }
    for e in h.evicts.iter() {
        hw_stream.push((1, *e));
    }
    for (_, e) in &hw_stream {
        hm.push(e).map_err(|e| format!("merge: {e}"))?;
    }
    let mut mm = FlowMerger::new(&cfg);
    for e in &model_events {
        mm.push(e).unwrap();
    }
    let flows = hm.flows();
    if flows != mm.flows() {
        return Err("merged flows differ".into());
    }
    let hc = h.read_counters();
    let mc: Vec<u64> = m.counters().0.to_vec();
    if hc != mc {
        return Err(format!("counters differ\n  core:  {hc:?}\n  model: {mc:?}"));
    }
    // Read again: the readout is exact and does not disturb the counters.
    if h.read_counters() != mc {
        return Err("a second counter readout differs".into());
    }
    Ok(Summary {
        inputs: inputs.len(),
        records: want.len(),
        drops,
        iat_samples: want.iter().filter(|w| w.iat.is_some()).count(),
        rtt_samples: want.iter().filter(|w| w.rtt.is_some()).count(),
        valid_slots,
        opens: h.opens.len(),
        evicts: h.evicts.len(),
        flows,
        counters: hc,
        cycles: h.st.cycle,
    })
}

/// The spaced configuration: compare, and on a difference re-run with a VCD.
pub fn check_spaced(name: &str, recs: &[Record], seed: u64, backpressure: f64) -> Summary {
    compare_spaced(recs, seed, backpressure, None).unwrap_or_else(|e| {
        let p = vcd_path(name);
        let _ = compare_spaced(recs, seed, backpressure, Some(&p));
        panic!("{name}: {e}\nVCD: {}", p.display());
    })
}

/// Compare, and on a difference re-run with a VCD and panic.
pub fn check(name: &str, recs: &[Record], seed: u64, backpressure: f64, gaps: f64) -> Summary {
    compare(recs, seed, backpressure, gaps, None).unwrap_or_else(|e| {
        let p = vcd_path(name);
        let _ = compare(recs, seed, backpressure, gaps, Some(&p));
        panic!("{name}: {e}\nVCD: {}", p.display());
    })
}

/// [`check`] for records and frames.
pub fn check_inputs(
    name: &str,
    inputs: &[Input],
    seed: u64,
    backpressure: f64,
    gaps: f64,
) -> Summary {
    compare_inputs(inputs, seed, backpressure, gaps, None).unwrap_or_else(|e| {
        let p = vcd_path(name);
        let _ = compare_inputs(inputs, seed, backpressure, gaps, Some(&p));
        panic!("{name}: {e}\nVCD: {}", p.display());
    })
}
