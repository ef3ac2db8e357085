//! Drives `BloomtimeCore` clock by clock and compares it with the golden model.
#![allow(dead_code)]

use super::Rng;
use bloomtime_hw::consts::*;
use bloomtime_hw::core::{cmd, BloomtimeCore};
use bloomtime_hw::types::{KeyBits, Ts};
use bloomtime_hw::util::{vcd_path, Stepper};
use bloomtime_model::golden::BloomTime;
use bloomtime_model::key::Record;
use bloomtime_model::merge::FlowMerger;
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
        }
    }

    fn ready(&mut self) -> bool {
        self.backpressure == 0.0 || !self.rng.chance(self.backpressure)
    }

    /// Drive this cycle's output readies and settle.
    fn prepare(&mut self) -> (bool, bool, bool) {
        let (ro, re) = (self.ready(), self.ready());
        let u = &mut self.st.uut;
        u.m_open_ready.next = ro;
        u.m_evict_ready.next = re;
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
        loop {
            let r = self.prepare();
            let accepted = self.st.uut.s_rec_ready.val();
            self.finish(r);
            if accepted {
                break;
            }
            self.refused += 1;
        }
        self.st.uut.s_rec_valid.next = false;
    }

    /// Run idle cycles until the pipeline is empty and every output drained.
    pub fn drain(&mut self) {
        self.st.uut.s_rec_valid.next = false;
        let mut quiet = 0;
        while quiet < 12 {
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

/// Run `recs` through core and model; return the first difference.
pub fn compare(
    recs: &[Record],
    seed: u64,
    backpressure: f64,
    gaps: f64,
    vcd: Option<&std::path::Path>,
) -> Result<(), String> {
    compare_with(Harness::new(seed, backpressure, gaps, vcd), recs)
}

/// The same comparison for the spaced configuration.
pub fn compare_spaced(
    recs: &[Record],
    seed: u64,
    backpressure: f64,
    vcd: Option<&std::path::Path>,
) -> Result<(), String> {
    compare_with(Harness::new_spaced(seed, backpressure, 0.0, vcd), recs)
}

fn compare_with(mut h: Harness, recs: &[Record]) -> Result<(), String> {
    let mut m = BloomTime::new(&CFG);
    let mut want = Vec::new();
    for r in recs {
        h.push(r);
        let o = m.process(r);
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
            return Err(format!(
                "first diverging record #{i} {:?}\n  core:  {g:?}\n  model: {w:?}",
                recs[i]
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
    for (i, s) in m.table().slots.iter().enumerate() {
        let (tag, stats) = h.st.uut.stored_slot(i);
        let valid = tag >> 24 == 1;
        if valid != s.valid
            || (valid && ((tag & 0xff_ffff) as u32 != s.fingerprint || stats.to_stats() != s.stats))
        {
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
    if hm.flows() != mm.flows() {
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
    Ok(())
}

/// The spaced configuration: compare, and on a difference re-run with a VCD.
pub fn check_spaced(name: &str, recs: &[Record], seed: u64, backpressure: f64) {
    if let Err(e) = compare_spaced(recs, seed, backpressure, None) {
        let p = vcd_path(name);
        let _ = compare_spaced(recs, seed, backpressure, Some(&p));
        panic!("{name}: {e}\nVCD: {}", p.display());
    }
}

/// Compare, and on a difference re-run with a VCD and panic.
pub fn check(name: &str, recs: &[Record], seed: u64, backpressure: f64, gaps: f64) {
    if let Err(e) = compare(recs, seed, backpressure, gaps, None) {
        let p = vcd_path(name);
        let _ = compare(recs, seed, backpressure, gaps, Some(&p));
        panic!("{name}: {e}\nVCD: {}", p.display());
    }
}
