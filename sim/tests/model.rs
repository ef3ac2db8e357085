//! The Verilated core against the golden model: the table of core tests
//! that bloomtime-hw runs on rust-hdl's simulation
//! (`bloomtime_testkit::table`: every outcome, the final table, every event,
//! the merged flows and the counters), with many more records (Verilator
//! is ~1000x faster), and what only `CoreSim` drives: control commands
//! mid-stream, frame and link counter pulses, `run`.

mod common;
use bloomtime_model::counters::{Counter, Counters};
use bloomtime_model::golden::BloomTime;
use bloomtime_model::table::Event;
use bloomtime_sim::{hw, Cmd, CoreSim, Outcome, CFG};
use common::*;

bloomtime_testkit::core_tests!(CoreSim::new);

/// (kind, slot) of an event: sorting by it (stably) groups the events per
/// slot and kind in emission order.
fn kind_slot(e: &Event) -> (bool, u32) {
    match e {
        Event::Open { slot, .. } => (false, *slot),
        Event::Evict { slot, .. } => (true, *slot),
    }
}

#[test]
fn control_commands_mid_stream() {
    // Peeks, flushes and clears between records, against the model doing the
    // same (a clear is a new model).
    let s = seed("control_commands_mid_stream", 16);
    let mut r = Rng::new(s);
    let recs = random_records(&mut r, 40_000, 256, 64);
    let mut sim = CoreSim::new();
    sim.set_backpressure(0.2, s);
    let mut m = BloomTime::new(&CFG);
    let mut want = std::collections::VecDeque::new();
    let mut model_events = Vec::new();
    let mut peeks = 0;
    for (i, rec) in recs.iter().enumerate() {
        sim.send_record(rec);
        want.push_back(Outcome::from(&m.process(rec)));
        while let Some(o) = sim.pop_outcome() {
            assert_eq!(Some(o), want.pop_front(), "outcome before record {i}");
        }
        if i % 997 == 0 {
            let slot = r.below(256) as u32;
            let p = sim.peek(slot);
            let ms = &m.table().slot(slot);
            assert_eq!(p.valid, ms.valid, "record {i} slot {slot}");
            if ms.valid {
                assert_eq!(
                    (p.fingerprint, p.stats),
                    (ms.fingerprint, ms.stats),
                    "slot {slot}"
                );
            }
            peeks += 1;
        }
        if i % 7919 == 7918 {
            sim.flush();
            m.flush();
        }
        if i % 15013 == 15012 {
            // Compare everything so far, then clear both.
            sim.flush();
            m.flush();
            while let Some(o) = sim.pop_outcome() {
                assert_eq!(Some(o), want.pop_front(), "outcome before clear {i}");
            }
            assert!(want.is_empty());
            assert_eq!(
                sim.read_counters(),
                *m.counters(),
                "counters before clear {i}"
            );
            let mut hw_events = sim.take_events();
            model_events.extend(m.drain_events());
            hw_events.sort_by_key(kind_slot);
            model_events.sort_by_key(kind_slot);
            assert_eq!(hw_events, model_events, "events before clear {i}");
            model_events.clear();
            sim.control(Cmd::Clear, 0);
            m = BloomTime::new(&CFG);
            assert_eq!(
                sim.read_counters(),
                Counters::default(),
                "counters after clear"
            );
        }
        model_events.extend(m.drain_events());
    }
    assert!(peeks > 30);
}

#[test]
fn frame_and_link_counters() {
    // Frame pulses (dropped or not) and the link counter strobes count in
    // the readout; a clear zeroes them.
    let mut sim = CoreSim::new();
    let mut want = Counters::default();
    let mut r = Rng::new(17);
    let mut link = [0u32; hw::N_ALL - bloomtime_model::counters::N_COUNTERS];
    for _ in 0..5000 {
        let drop = r.chance(0.3).then(|| r.below(7) as u8);
        sim.frame(drop);
        want.inc(Counter::Frames);
        if let Some(d) = drop {
            want.0[Counter::Frames as usize + 1 + d as usize] += 1;
        }
        let strobes = r.below(1 << link.len());
        for (j, c) in link.iter_mut().enumerate() {
            *c += (strobes >> j) as u32 & 1;
        }
        sim.link_strobes(strobes);
    }
    sim.drain();
    assert_eq!(sim.read_counters(), want);
    let all = sim.read_all_counters();
    assert_eq!(&all[bloomtime_model::counters::N_COUNTERS..], &link[..]);
    sim.control(Cmd::Clear, 0);
    assert!(sim.read_all_counters().iter().all(|&c| c == 0));
}

#[test]
fn run_matches_the_model() {
    // The convenience `run`: outcomes, events and counters as the model's.
    let s = seed("run_matches_the_model", 18);
    let mut r = Rng::new(s);
    let recs = random_records(&mut r, 50_000, 1 << 10, 256);
    let mut sim = CoreSim::new();
    let (outcomes, events, counters) = sim.run(&recs);
    let mut m = BloomTime::new(&CFG);
    let want: Vec<Outcome> = recs.iter().map(|r| Outcome::from(&m.process(r))).collect();
    m.flush();
    let mut model_events = m.drain_events();
    assert_eq!(outcomes, want);
    assert_eq!(counters, *m.counters());
    let mut events = events;
    events.sort_by_key(kind_slot);
    model_events.sort_by_key(kind_slot);
    assert_eq!(events, model_events);
}
