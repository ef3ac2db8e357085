//! The Verilated core against the golden model: every outcome, the final
//! table, every event, the merged flows and the counters. The same cases as
//! hw/tests/core.rs, with many more records (Verilator is ~1000x faster than
//! rust-hdl's simulation).

mod common;
use bloomtime_model::counters::{Counter, Counters};
use bloomtime_model::golden::BloomTime;
use bloomtime_model::key::{FlowKey, Record};
use bloomtime_model::table::Event;
use bloomtime_sim::{hw, Cmd, CoreSim, Outcome, CFG};
use common::*;

#[test]
fn random_records_match_the_model() {
    let s = seed("random_records_match_the_model", 11);
    let mut r = Rng::new(s);
    let recs = random_records(&mut r, 60_000, 64, 64);
    check(
        "random",
        &recs,
        Drive {
            seed: s,
            ..Drive::plain()
        },
    );
}

#[test]
fn random_records_many_flows() {
    let s = seed("random_records_many_flows", 21);
    let mut r = Rng::new(s);
    let recs = random_records(&mut r, 40_000, 1 << 16, 1 << 10);
    check(
        "many_flows",
        &recs,
        Drive {
            seed: s,
            ..Drive::plain()
        },
    );
}

#[test]
fn random_records_with_backpressure_and_gaps() {
    let s = seed("random_records_with_backpressure_and_gaps", 12);
    let mut r = Rng::new(s);
    let recs = random_records(&mut r, 20_000, 1 << 16, 1 << 10);
    for (bp, gaps) in [(0.3, 0.2), (0.8, 0.0), (0.05, 0.5)] {
        let d = Drive {
            backpressure: bp,
            gaps,
            seed: s,
        };
        check(&format!("backpressure_{bp}_{gaps}"), &recs, d);
    }
}

#[test]
fn same_line_and_same_slot_bursts() {
    let s = seed("same_line_and_same_slot_bursts", 13);
    let mut r = Rng::new(s);
    let keys = colliding_keys(6);
    let mut recs = Vec::new();
    let mut ts = 0u64;
    for _ in 0..100_000 {
        ts += [0, 0, 0, 1, 100, 3000, 9000][r.below(7) as usize];
        let k = keys[r.below(keys.len() as u64) as usize];
        let k = if r.chance(0.3) { k.reverse(false) } else { k };
        recs.push(Record {
            ts,
            key: k,
            flags: 0,
        });
    }
    check(
        "bursts",
        &recs,
        Drive {
            seed: s,
            ..Drive::plain()
        },
    );
    let d = Drive {
        backpressure: 0.4,
        gaps: 0.0,
        seed: s,
    };
    check("bursts_bp", &recs[..30_000], d);
}

#[test]
fn time_jumps_force_sweeps_without_aliasing() {
    let s = seed("time_jumps_force_sweeps_without_aliasing", 14);
    let mut r = Rng::new(s);
    let keys: Vec<FlowKey> = (0..40).map(|_| random_key(&mut r, 8, 8)).collect();
    let mut recs = Vec::new();
    let mut ts = 0u64;
    for _ in 0..30_000 {
        // Epochs are 2^13 units: jumps of 1..600 epochs, and now and then
        // one across the 40-bit wrap (a regression, clamped).
        ts += match r.below(20) {
            0 | 1 => (1 + r.below(600)) << 13,
            2 | 3 => r.below(200) << 13,
            4 => r.below(1 << 36),
            _ => r.below(1 << 14),
        };
        ts &= (1 << 40) - 1;
        recs.push(Record {
            ts,
            key: keys[r.below(40) as usize],
            flags: 0,
        });
    }
    check(
        "time_jumps",
        &recs,
        Drive {
            seed: s,
            ..Drive::plain()
        },
    );
}

#[test]
fn counter_overflow_evicts() {
    // 2^16 + a few packets of one flow, twice: the slot overflows and restarts.
    let k = FlowKey::v4(6, [1, 2, 3, 4], 5, [6, 7, 8, 9], 10);
    let recs: Vec<Record> = (0..140_000u64)
        .map(|i| Record {
            ts: i * 7,
            key: k,
            flags: 0,
        })
        .collect();
    check("overflow", &recs, Drive::plain());
}

#[test]
fn one_record_per_clock() {
    // Records offered on consecutive clocks are all taken, and the last
    // outcome leaves at most LATENCY cycles after the last record.
    let s = seed("one_record_per_clock", 15);
    let mut r = Rng::new(s);
    let recs: Vec<Record> = random_records(&mut r, 50_000, 1 << 12, 1 << 12)
        .into_iter()
        .enumerate()
        .map(|(i, rec)| Record {
            ts: i as u64 * 4,
            ..rec
        })
        .collect();
    let mut sim = CoreSim::new();
    let start = sim.cycles();
    for rec in &recs {
        assert!(sim.push_record(rec), "refused");
    }
    assert_eq!(sim.cycles() - start, recs.len() as u64);
    let mut n = 0;
    let mut extra = 0;
    loop {
        while sim.pop_outcome().is_some() {
            n += 1;
        }
        if n == recs.len() {
            break;
        }
        sim.clock();
        extra += 1;
        assert!(extra <= LATENCY, "outcomes late");
    }
    eprintln!("{} records in {} cycles + {extra} cycles latency", n, n);
}

/// Cycles from a record's acceptance to its outcome leaving the core.
const LATENCY: u64 = 10;

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
            let ms = &m.table().slots[slot as usize];
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
