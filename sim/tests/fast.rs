//! The fast core (the core's Verilog behind the wrapper's input queue, run
//! in batches: `bloomtime-sim replay`) against `CoreSim` (inputs on the
//! top's ports, one cycle per call, checked against rust-hdl and the golden
//! model elsewhere): the same outcomes, the same events in the same order,
//! the same counters, on random records with dropped frames, on a generated
//! trace and on the shared captures, pushed in batches of every size; and
//! the outcomes against the golden model.

mod common;
use bloomtime_model::counters::Counters;
use bloomtime_model::golden::BloomTime;
use bloomtime_model::key::Record;
use bloomtime_model::parse::DROP_REASONS;
use bloomtime_model::table::Event;
use bloomtime_sim::fast::{event, FastCore};
use bloomtime_sim::{Cmd, CoreSim, Outcome, ParsedFrame, CFG, TRACE_BUILT};
use bloomtime_traces::gen::{generate_file, GenOptions};
use bloomtime_traces::Records;
use common::*;
use std::path::Path;

/// What a run gave: outcomes, events in order with the cycle each was
/// transferred in (counted from the first frame), counters after a drain,
/// a flush and a drain.
struct Seen {
    outcomes: Vec<Outcome>,
    events: Vec<(u64, Event)>,
    counters: Counters,
}

fn through_core_sim(frames: &[ParsedFrame]) -> Seen {
    let mut sim = CoreSim::new();
    let mut outcomes = Vec::new();
    let mut events = Vec::new();
    let mut cycle = 0u64;
    let mut take = |t: &bloomtime_sim::Transfers| {
        outcomes.extend(t.outcome);
        events.extend(t.open.map(|e| (cycle, e)));
        events.extend(t.evict.map(|e| (cycle, e)));
        cycle += 1;
    };
    sim.push_frames(frames, &mut take);
    sim.drain_into(&mut take);
    let at = sim.cycles();
    sim.flush();
    events.extend(sim.take_events().into_iter().map(|e| (at, e)));
    let counters = sim.read_counters();
    Seen {
        outcomes,
        events,
        counters,
    }
}

/// The frames in batches of the given sizes (cycled).
fn through_fast_core(frames: &[ParsedFrame], sizes: &[usize]) -> Seen {
    let mut f = FastCore::new().with_outcomes(true);
    let mut outcomes = Vec::new();
    let mut events = Vec::new();
    let mut rest = frames;
    let mut k = 0;
    while !rest.is_empty() {
        let n = sizes[k % sizes.len()].min(rest.len());
        k += 1;
        let (batch, tail) = rest.split_at(n);
        rest = tail;
        f.push_frames(
            batch,
            |e| events.push((e.cycle, event(e))),
            |o| outcomes.push(o),
        )
        .unwrap();
    }
    f.drain(|e| events.push((e.cycle, event(e))), |o| outcomes.push(o))
        .unwrap();
    f.control(Cmd::Flush, |e| events.push((e.cycle, event(e))), |_| {})
        .unwrap();
    let counters = f
        .read_counters(|e| events.push((e.cycle, event(e))), |_| {})
        .unwrap();
    Seen {
        outcomes,
        events,
        counters,
    }
}

/// Same outcomes and events (in order) and counters, or the first
/// difference with the frame or cycle it is near, and (built with the
/// `trace` feature) a VCD of `CoreSim` around that cycle.
fn same(name: &str, frames: &[ParsedFrame], sizes: &[usize]) {
    let a = through_core_sim(frames);
    let b = through_fast_core(frames, sizes);
    let records: Vec<&Record> = frames.iter().filter_map(|f| f.as_ref().ok()).collect();
    let mut problem = None;
    if let Some(i) = (0..a.outcomes.len().max(b.outcomes.len()))
        .find(|&i| a.outcomes.get(i) != b.outcomes.get(i))
    {
        problem = Some((
            format!(
                "first diverging outcome #{i} (record {:?})\n  CoreSim:  {:?}\n  FastCore: {:?}",
                records.get(i),
                a.outcomes.get(i),
                b.outcomes.get(i)
            ),
            0,
        ));
    } else if let Some(i) = (0..a.events.len().max(b.events.len()))
        .find(|&i| a.events.get(i).map(|e| e.1) != b.events.get(i).map(|e| e.1))
    {
        let cycle = a.events.get(i).map_or(0, |e| e.0);
        problem = Some((
            format!(
                "first diverging event #{i}\n  CoreSim:  {:?}\n  FastCore: {:?}",
                a.events.get(i),
                b.events.get(i)
            ),
            cycle,
        ));
    } else if a.counters != b.counters {
        problem = Some((
            format!(
                "counters differ\n  CoreSim:  {:?}\n  FastCore: {:?}",
                a.counters, b.counters
            ),
            0,
        ));
    }
    if let Some((what, cycle)) = problem {
        let vcd = if TRACE_BUILT {
            let p = vcd_path(&format!("fast_{name}"));
            let mut sim = CoreSim::new();
            sim.trace_window(&p, cycle.saturating_sub(200)..cycle + 200)
                .unwrap();
            sim.push_frames(frames, |_| {});
            sim.drain();
            format!("VCD of CoreSim near cycle {cycle}: {}", p.display())
        } else {
            "rerun with `--features trace` for a VCD".into()
        };
        panic!("{name}: {what}\n{vcd}");
    }
    // And against the golden model.
    let mut m = BloomTime::new(&CFG);
    for (i, (r, o)) in records.iter().zip(&b.outcomes).enumerate() {
        assert_eq!(
            Outcome::from(&m.process(r)),
            *o,
            "{name}: record #{i} {r:?}"
        );
    }
    assert_eq!(
        b.outcomes.len(),
        records.len(),
        "{name}: one outcome a record"
    );
    eprintln!(
        "{name}: {} frames, {} records, {} events equal",
        frames.len(),
        records.len(),
        b.events.len()
    );
}

#[test]
fn random_records_and_drops_in_batches_of_every_size() {
    let s = seed("random_records_and_drops_in_batches_of_every_size", 31);
    let mut r = Rng::new(s);
    for (hosts, ports) in [(64, 64), (1 << 16, 1 << 10)] {
        let recs = random_records(&mut r, 20_000, hosts, ports);
        let mut frames: Vec<ParsedFrame> = Vec::new();
        for rec in recs {
            while r.chance(0.1) {
                frames.push(Err(
                    DROP_REASONS[r.below(DROP_REASONS.len() as u64) as usize]
                ));
            }
            frames.push(Ok(rec));
        }
        let name = format!("random_{hosts}_{ports}");
        same(&name, &frames, &[1, 2, 7, 8, 9, 4096, 333]);
    }
}

/// The frames of a capture as the replay parses them (at most `limit`).
fn frames_of(path: &Path, limit: usize) -> Vec<ParsedFrame> {
    let mut rd = Records::open(&[path], &CFG).unwrap();
    let mut out = Vec::new();
    while out.len() < limit {
        let Some(f) = rd.next_frame().unwrap() else {
            break;
        };
        out.push(f.record());
    }
    out
}

#[test]
fn a_generated_trace_and_the_shared_captures() {
    let dir = std::env::temp_dir().join(format!("bt_fast_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("g.pcap");
    let opts = GenOptions {
        seed: 9,
        flows: 3000,
        packets: 40_000,
        duration_s: 20.0,
        ..GenOptions::default()
    };
    generate_file(&opts, &pcap, None).unwrap();
    same("generated", &frames_of(&pcap, usize::MAX), &[4096]);
    let _ = std::fs::remove_dir_all(&dir);
    let Some(traces) = bloomtime_testkit::shared::for_test() else {
        return;
    };
    for t in &traces {
        let name = t.file_stem().unwrap().to_string_lossy().to_string();
        same(&name, &frames_of(t, 5000), &[4096, 5]);
    }
}
