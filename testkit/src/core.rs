//! A core (the rust-hdl simulation or the Verilated Verilog) behind one
//! trait, and the one comparison of a core with the golden model.

use crate::seed::Rng;
use bloomtime_model::config::HARDWARE as CFG;
use bloomtime_model::counters::Counters;
use bloomtime_model::golden::BloomTime;
use bloomtime_model::key::{FlowKey, Record};
use bloomtime_model::merge::{FlowMerger, MergedStats};
use bloomtime_model::parse::DropReason;
use bloomtime_model::table::{Event, SlotStats};
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// What a core said about one record as it left the pipeline.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Outcome {
    pub ts: u64,
    pub dir: u8,
    pub slot: u32,
    pub fp: u32,
    pub iat: Option<u32>,
    pub rtt: Option<u32>,
}

impl From<&bloomtime_model::golden::Outcome> for Outcome {
    fn from(o: &bloomtime_model::golden::Outcome) -> Self {
        Outcome {
            ts: o.ts,
            dir: o.dir,
            slot: o.slot,
            fp: o.fingerprint,
            iat: o.iat,
            rtt: o.rtt,
        }
    }
}

/// A flow-table slot as read back from a core.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Slot {
    pub valid: bool,
    pub fingerprint: u32,
    pub stats: SlotStats,
}

/// The pipeline core (`bloomtime_hw::core::BloomtimeCore`) as the tests
/// drive it: records and frame pulses in, one clock at a time; per-record
/// outcomes, key announcements and exports (events), slots and counters
/// out. Each output is taken when valid, or at random with
/// [`set_backpressure`](Core::set_backpressure).
pub trait Core {
    /// `rust-hdl` or `verilator`: in messages and VCD file names.
    const NAME: &'static str;
    /// A fast simulation (Verilator, ~1000x rust-hdl): the table of core
    /// tests gives it many more records.
    const FAST: bool;
    /// Each output is not ready in a cycle with probability `p`, drawn
    /// from a generator seeded with `seed`.
    fn set_backpressure(&mut self, p: f64, seed: u64);
    /// One clock with the record input idle.
    fn clock(&mut self);
    /// Offer `rec` until the core takes it; with `frame`, the frame's
    /// `frame_done` pulse rides on the first clock (the parser's frame
    /// accounting).
    fn send(&mut self, rec: &Record, frame: bool);
    /// One clock with the pulse of a frame the parser dropped for `reason`.
    fn drop_frame(&mut self, reason: DropReason);
    /// Idle clocks until the pipeline is empty and every output taken.
    fn drain(&mut self);
    /// FLUSH: export every valid slot, empty the table; drain.
    fn flush(&mut self);
    /// PEEK one slot (an export that changes nothing); drain.
    fn peek(&mut self, slot: u32) -> Slot;
    /// A slot as stored: by default a [`peek`](Core::peek); a simulation
    /// that can read its RAM directly does so without clocking.
    fn stored_slot(&mut self, slot: u32) -> Slot {
        self.peek(slot)
    }
    /// The model's counters, through the readout port.
    fn read_counters(&mut self) -> Counters;
    /// Every outcome since the last call, in record order.
    fn take_outcomes(&mut self) -> Vec<Outcome>;
    /// Every announcement and export (peeks apart) since the last call, in
    /// the order the core emitted them (within a clock the announcement first).
    fn take_events(&mut self) -> Vec<Event>;
    /// Clocks since power-on.
    fn cycles(&self) -> u64;
    /// Clocks in which an offered record was refused.
    fn refused(&self) -> u64;
    /// Before the first clock: write a VCD to `path` covering at least
    /// `cycles`. `Ok`: what it will hold; `Err`: why this core cannot.
    fn trace(&mut self, path: &Path, cycles: Range<u64>) -> Result<String, String>;
}

/// How to drive a core.
#[derive(Clone, Copy, Debug)]
pub struct Drive {
    /// Probability that an output is not ready in a cycle.
    pub backpressure: f64,
    /// Probability of an idle input clock before a record (repeated).
    pub gaps: f64,
    /// Seeds the back-pressure and the gaps.
    pub seed: u64,
}

impl Drive {
    /// Always ready, no gaps.
    pub fn plain() -> Drive {
        Drive::new(1, 0.0, 0.0)
    }
    pub fn new(seed: u64, backpressure: f64, gaps: f64) -> Drive {
        Drive {
            backpressure,
            gaps,
            seed,
        }
    }
}

/// One input of a comparison.
#[derive(Clone, Debug)]
pub enum Input {
    /// A record, straight into the core and into `BloomTime::process`.
    Record(Record),
    /// A captured frame at record time `ts` ([`Input::frame`]): the model
    /// takes it through `BloomTime::frame` (its parser and drop counters,
    /// as the host's analyze path does); the core gets the frame's record
    /// with its frame pulse, or a drop pulse with the reason.
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

    /// Records as inputs.
    pub fn records(recs: &[Record]) -> Vec<Input> {
        recs.iter().map(|r| Input::Record(*r)).collect()
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

/// A difference, and the clock near which it shows (for a VCD window).
#[derive(Clone, Debug)]
pub struct Mismatch {
    pub what: String,
    pub cycle: u64,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (near clock {})", self.what, self.cycle)
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

/// Run `inputs` through `core` (fresh) and the golden model; the first
/// difference: every record's outcome (the first diverging record is
/// named), every final table slot, the events per slot and kind after a
/// flush, the merged flows (the host's merge over the core's
/// interleaving), and the counters (read twice: the readout does not
/// disturb them).
pub fn compare<C: Core>(core: &mut C, inputs: &[Input], d: Drive) -> Result<Summary, Mismatch> {
    core.set_backpressure(d.backpressure, d.seed);
    let mut gaps = Rng::new(d.seed ^ 0x5eed);
    let mut m = BloomTime::new(&CFG);
    let mut want = Vec::with_capacity(inputs.len());
    // The records the core was given: the input each came from, the clock
    // it was taken in.
    let mut recs: Vec<(usize, Record, u64)> = Vec::with_capacity(inputs.len());
    let mut drops = 0;
    for (n, inp) in inputs.iter().enumerate() {
        let (rec, o, frame) = match inp {
            Input::Record(r) => (*r, m.process(r), false),
            Input::Frame {
                ts,
                window,
                caplen,
                record,
            } => match (*record, m.frame(*ts, window, *caplen)) {
                (Ok(r), Ok(o)) => (r, o, true),
                (Err(a), Err(b)) if a == b => {
                    core.drop_frame(a);
                    drops += 1;
                    continue;
                }
                (a, b) => {
                    return Err(Mismatch {
                        what: format!("input #{n}: the parser says {a:?}, the model {b:?}"),
                        cycle: core.cycles(),
                    })
                }
            },
        };
        while d.gaps > 0.0 && gaps.chance(d.gaps) {
            core.clock();
        }
        core.send(&rec, frame);
        recs.push((n, rec, core.cycles()));
        want.push(Outcome::from(&o));
    }
    core.drain();
    let got = core.take_outcomes();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        if g != w {
            let (n, r, c) = recs[i];
            return Err(Mismatch {
                what: format!(
                    "first diverging record #{i} (input #{n}, taken in clock {c}) {r:?}\n  \
                     core:  {g:?}\n  model: {w:?}"
                ),
                cycle: c,
            });
        }
    }
    if got.len() != want.len() {
        return Err(Mismatch {
            what: format!(
                "the core produced {} outcomes for {} records",
                got.len(),
                want.len()
            ),
            cycle: recs
                .get(got.len())
                .map(|r| r.2)
                .unwrap_or_else(|| core.cycles()),
        });
    }
    // The final table, slot by slot.
    let valid_slots = m.table().slots().filter(|s| s.valid).count();
    for (i, s) in m.table().slots().enumerate() {
        let c = core.cycles();
        let p = core.stored_slot(i as u32);
        if p.valid != s.valid || (s.valid && (p.fingerprint != s.fingerprint || p.stats != s.stats))
        {
            return Err(Mismatch {
                what: format!("slot {i}: core {p:?}\n  model {s:?}"),
                cycle: c,
            });
        }
    }
    let flush_at = core.cycles();
    core.flush();
    m.flush();
    let model_events = m.drain_events();
    let hw_events = core.take_events();
    for opens in [true, false] {
        let (a, b) = (per_slot(&hw_events, opens), per_slot(&model_events, opens));
        if a != b {
            let slot = a
                .keys()
                .chain(b.keys())
                .find(|k| a.get(k) != b.get(k))
                .unwrap();
            return Err(Mismatch {
                what: format!(
                    "slot {slot} {} events differ\n  core:  {:?}\n  model: {:?}",
                    if opens { "open" } else { "evict" },
                    a.get(slot),
                    b.get(slot)
                ),
                cycle: flush_at,
            });
        }
    }
    // Merged flows, through the host's merge in the core's interleaving.
    let merged = |events: &[Event]| -> Result<_, String> {
        let mut fm = FlowMerger::new(&CFG);
        for e in events {
            fm.push(e).map_err(|e| format!("merge: {e}"))?;
        }
        Ok(fm.flows())
    };
    let flows = merged(&hw_events).map_err(|what| Mismatch {
        what,
        cycle: flush_at,
    })?;
    if flows != merged(&model_events).unwrap() {
        return Err(Mismatch {
            what: "merged flows differ".into(),
            cycle: flush_at,
        });
    }
    let c = core.cycles();
    let hc = core.read_counters();
    if hc != *m.counters() {
        return Err(Mismatch {
            what: format!(
                "counters differ\n  core:  {hc:?}\n  model: {:?}",
                m.counters()
            ),
            cycle: c,
        });
    }
    if core.read_counters() != *m.counters() {
        return Err(Mismatch {
            what: "a second counter readout differs".into(),
            cycle: c,
        });
    }
    let count = |opens: bool| {
        hw_events
            .iter()
            .filter(|e| matches!(e, Event::Open { .. }) == opens)
            .count()
    };
    Ok(Summary {
        inputs: inputs.len(),
        records: want.len(),
        drops,
        iat_samples: want.iter().filter(|w| w.iat.is_some()).count(),
        rtt_samples: want.iter().filter(|w| w.rtt.is_some()).count(),
        valid_slots,
        opens: count(true),
        evicts: count(false),
        flows,
        counters: hc.0.to_vec(),
        cycles: core.cycles(),
    })
}

/// Where a failing test writes its VCD: `build/vcd/<name>.vcd` in the workspace.
pub fn vcd_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../build/vcd")
        .join(format!("{name}.vcd"))
}

/// [`compare`] on a core from `new`; on a difference, once more on a new
/// core writing a VCD around it (`build/vcd/<core>_<name>.vcd`, where the
/// core can), and panic with both.
pub fn check<C: Core>(name: &str, inputs: &[Input], d: Drive, new: impl Fn() -> C) -> Summary {
    let mut core = new();
    let t = std::time::Instant::now();
    let r = compare(&mut core, inputs, d);
    eprintln!(
        "{name} ({}): {} inputs, {} clocks in {:.2} s",
        C::NAME,
        inputs.len(),
        core.cycles(),
        t.elapsed().as_secs_f64()
    );
    r.unwrap_or_else(|e| {
        let p = vcd_path(&format!("{}_{name}", C::NAME));
        let mut core = new();
        let trace = match core.trace(&p, e.cycle.saturating_sub(200)..e.cycle + 200) {
            Ok(what) => {
                let _ = compare(&mut core, inputs, d);
                format!("VCD of {what}: {}", p.display())
            }
            Err(why) => format!("no VCD: {why}"),
        };
        panic!("{name} ({}): {e}\n{trace}", C::NAME)
    })
}

/// [`check`] of records.
pub fn check_records<C: Core>(
    name: &str,
    recs: &[Record],
    d: Drive,
    new: impl Fn() -> C,
) -> Summary {
    check(name, &Input::records(recs), d, new)
}

/// The comparison must be able to fail: the golden model itself as a
/// [`Core`] passes it, and each deliberate divergence is caught and
/// reported where it happens.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::random_records;
    use bloomtime_model::counters::Counter;
    use bloomtime_model::table::Event;

    /// A divergence to plant in [`ModelCore`].
    #[derive(Clone, Copy, PartialEq, Debug)]
    enum Fault {
        None,
        /// The IAT of this record (by index) one more.
        Iat(usize),
        /// The first export after the flush lost.
        LostEvict,
        /// One more record counted.
        Counter,
        /// A slot's fingerprint flipped when read back.
        Slot,
    }

    /// The golden model behind the [`Core`] trait.
    struct ModelCore {
        m: BloomTime,
        outcomes: Vec<Outcome>,
        events: Vec<Event>,
        sent: usize,
        cycles: u64,
        fault: Fault,
        /// The parser's frame and drop counts (the model counts those in
        /// `BloomTime::frame`, which this adapter's records bypass).
        parser: Counters,
    }

    impl ModelCore {
        fn new(fault: Fault) -> Self {
            ModelCore {
                m: BloomTime::new(&CFG),
                outcomes: Vec::new(),
                events: Vec::new(),
                sent: 0,
                cycles: 0,
                fault,
                parser: Counters::default(),
            }
        }
    }

    impl Core for ModelCore {
        const NAME: &'static str = "model";
        const FAST: bool = true;
        fn set_backpressure(&mut self, _p: f64, _seed: u64) {}
        fn clock(&mut self) {
            self.cycles += 1;
        }
        fn send(&mut self, rec: &Record, frame: bool) {
            self.parser.0[Counter::Frames as usize] += frame as u64;
            let mut o = Outcome::from(&self.m.process(rec));
            if self.fault == Fault::Iat(self.sent) {
                o.iat = Some(o.iat.unwrap_or(0) + 1);
            }
            self.outcomes.push(o);
            self.events.extend(self.m.drain_events());
            self.sent += 1;
            self.cycles += 1;
        }
        fn drop_frame(&mut self, reason: DropReason) {
            // As `BloomTime::frame` counts a frame its parser drops.
            self.parser.0[Counter::Frames as usize] += 1;
            self.parser.0[Counter::DropTruncated as usize + reason as usize] += 1;
            self.cycles += 1;
        }
        fn drain(&mut self) {}
        fn flush(&mut self) {
            self.m.flush();
            let mut ev = self.m.drain_events();
            if self.fault == Fault::LostEvict {
                ev.remove(0);
            }
            self.events.extend(ev);
        }
        fn peek(&mut self, slot: u32) -> Slot {
            let s = &self.m.table().slot(slot);
            let flip = self.fault == Fault::Slot && s.valid;
            Slot {
                valid: s.valid,
                fingerprint: s.fingerprint ^ flip as u32,
                stats: s.stats,
            }
        }
        fn read_counters(&mut self) -> Counters {
            let mut c = *self.m.counters();
            for (n, p) in c.0.iter_mut().zip(self.parser.0) {
                *n += p;
            }
            c.0[Counter::Records as usize] += (self.fault == Fault::Counter) as u64;
            c
        }
        fn take_outcomes(&mut self) -> Vec<Outcome> {
            std::mem::take(&mut self.outcomes)
        }
        fn take_events(&mut self) -> Vec<Event> {
            std::mem::take(&mut self.events)
        }
        fn cycles(&self) -> u64 {
            self.cycles
        }
        fn refused(&self) -> u64 {
            0
        }
        fn trace(&mut self, _path: &Path, _cycles: Range<u64>) -> Result<String, String> {
            Err("the model has no waveform".into())
        }
    }

    fn run(fault: Fault) -> Result<Summary, Mismatch> {
        let recs = random_records(&mut Rng::new(3), 3000, 64, 64);
        compare(
            &mut ModelCore::new(fault),
            &Input::records(&recs),
            Drive::plain(),
        )
    }

    #[test]
    fn the_model_equals_itself() {
        let s = run(Fault::None).unwrap();
        assert!(
            s.records == 3000 && s.iat_samples > 500 && s.evicts > 0,
            "{s}"
        );
    }

    #[test]
    fn every_planted_divergence_is_caught() {
        let e = run(Fault::Iat(1234)).unwrap_err();
        assert!(e.what.starts_with("first diverging record #1234 "), "{e}");
        assert_eq!(e.cycle, 1235, "{e}");
        let e = run(Fault::Slot).unwrap_err();
        assert!(e.what.starts_with("slot "), "{e}");
        let e = run(Fault::LostEvict).unwrap_err();
        assert!(e.what.contains("evict events differ"), "{e}");
        let e = run(Fault::Counter).unwrap_err();
        assert!(e.what.starts_with("counters differ"), "{e}");
    }

    #[test]
    #[should_panic(expected = "first diverging record #7 ")]
    fn check_panics_with_the_first_difference() {
        let recs = random_records(&mut Rng::new(4), 100, 64, 64);
        check_records("planted", &recs, Drive::plain(), || {
            ModelCore::new(Fault::Iat(7))
        });
    }
}
