//! Records per second of the Verilated core.
//!
//! `cargo run --release -p bloomtime-sim --bin bloomtime-sim-bench [-- --packets N --reps N --only replay|run]`
//!
//! Generates the synthetic trace of `bloomtime-bench` (same options, same
//! file in `build/bench/`, reused if present), parses it once into records,
//! then replays them through [`CoreSim::run`] `reps` times (a new core each
//! time: records, drain, flush, counter readout) and prints the median
//! records/s, by wall clock and by this thread's CPU time (the two differ
//! when the machine is busy). The first run is checked against the golden
//! model (outcomes and counters). Writes `build/bench/sim.json`.

use bloomtime_model::config::HEADER_WINDOW;
use bloomtime_model::key::Record;
use bloomtime_model::parse::parse_window;
use bloomtime_model::BloomTime;
use bloomtime_sim::{CoreSim, Outcome, CFG};
use bloomtime_traces::gen::{generate_file, GenOptions};
use bloomtime_traces::{replay_ts, Packet, TraceReader};
use std::path::PathBuf;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} takes a number, got {v}"))
        })
        .unwrap_or(default)
}

/// This thread's CPU time in seconds (Linux), if available.
fn cpu_s() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

fn main() {
    let packets = arg("--packets", 1_000_000);
    let reps = arg("--reps", 5).max(1) as usize;
    // `--only replay|run` measures one of the two (profiling).
    let args: Vec<String> = std::env::args().collect();
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("sim/ is inside the workspace")
        .to_path_buf();
    let dir = root.join("build/bench");
    std::fs::create_dir_all(&dir).expect("create build/bench");
    // The options of host/src/bin/bloomtime-bench.rs, so the file is shared.
    let opts = GenOptions {
        seed: 42,
        flows: 50_000,
        packets,
        duration_s: 60.0,
        ..GenOptions::default()
    };
    let pcap = dir.join(format!("bench-{packets}.pcap"));
    if !pcap.exists() {
        let t0 = Instant::now();
        let tmp = dir.join(format!("bench-{packets}.pcap.sim-partial"));
        generate_file(&opts, &tmp, None).expect("generate the bench trace");
        std::fs::rename(&tmp, &pcap).expect("rename the bench trace");
        eprintln!(
            "generated {} in {:.2} s",
            pcap.display(),
            t0.elapsed().as_secs_f64()
        );
    }
    let mut rd = TraceReader::open(&pcap).expect("open the bench trace");
    let mut p = Packet::default();
    let mut recs: Vec<Record> = Vec::with_capacity(packets as usize);
    let mut first = None;
    while rd.next_into(&mut p).expect("read the bench trace") {
        let f = *first.get_or_insert(p.ns);
        let n = p.data.len().min(HEADER_WINDOW);
        if let Ok(parsed) = parse_window(&p.data[..n], p.data.len()) {
            recs.push(Record {
                ts: replay_ts(&CFG, p.ns, f),
                key: parsed.key,
                flags: parsed.flags,
            });
        }
    }
    let n = recs.len() as f64;
    eprintln!("{} records from {}", recs.len(), pcap.display());

    // Check once against the golden model.
    {
        let mut sim = CoreSim::new();
        let (outcomes, events, counters) = sim.run(&recs);
        let mut m = BloomTime::new(&CFG);
        let same = recs
            .iter()
            .zip(&outcomes)
            .all(|(r, o)| Outcome::from(&m.process(r)) == *o);
        m.flush();
        assert!(
            same && outcomes.len() == recs.len(),
            "outcomes differ from the model"
        );
        assert_eq!(counters, *m.counters(), "counters differ from the model");
        assert_eq!(events.len(), m.drain_events().len(), "event counts differ");
        eprintln!(
            "{:.3} cycles per record; outcomes and counters equal the model's",
            sim.cycles() as f64 / n
        );
    }

    // `replay` (transfers streamed to a closure that counts them) and `run`
    // (outcomes and events collected, then a flush and the counters).
    let mut results = Vec::new();
    for mode in ["replay", "run"] {
        if only.as_deref().is_some_and(|o| o != mode) {
            continue;
        }
        let mut wall = Vec::new();
        let mut cpu = Vec::new();
        for rep in 0..reps {
            let mut sim = CoreSim::new();
            let (t, c) = (Instant::now(), cpu_s());
            let mut seen = 0u64;
            if mode == "replay" {
                sim.replay(&recs, |t| {
                    seen += t.outcome.is_some() as u64 + t.open.is_some() as u64;
                });
            } else {
                let (o, e, _) = sim.run(&recs);
                seen = (o.len() + e.len()) as u64;
            }
            let w = t.elapsed().as_secs_f64();
            std::hint::black_box(seen);
            wall.push(n / w);
            if let (Some(c0), Some(c1)) = (c, cpu_s()) {
                cpu.push(n / (c1 - c0));
            }
            eprintln!(
                "{mode} {}: {:.2} M records/s (wall){}",
                rep + 1,
                n / w / 1e6,
                cpu.last()
                    .map(|c| format!(", {:.2} M records/s (CPU)", c / 1e6))
                    .unwrap_or_default()
            );
        }
        let mw = median(wall.clone());
        let mc = (!cpu.is_empty()).then(|| median(cpu.clone()));
        println!(
            "Verilated core, {mode:<6}: {} records, median of {reps} runs {:.2} M records/s wall{}",
            recs.len(),
            mw / 1e6,
            mc.map(|c| format!(", {:.2} M records/s CPU", c / 1e6))
                .unwrap_or_default()
        );
        results.push(format!(
            "  \"{mode}\": {{\"median_records_per_s_wall\": {mw:.0}, \"median_records_per_s_cpu\": {}, \"runs_wall\": {:?}, \"runs_cpu\": {:?}}}",
            mc.map_or("null".to_string(), |c| format!("{c:.0}")),
            wall.iter().map(|x| x.round()).collect::<Vec<_>>(),
            cpu.iter().map(|x| x.round()).collect::<Vec<_>>(),
        ));
    }
    let json = format!(
        "{{\n  \"trace\": \"{}\",\n  \"records\": {},\n  \"reps\": {reps},\n{}\n}}\n",
        pcap.display(),
        recs.len(),
        results.join(",\n")
    );
    let path = dir.join("sim.json");
    std::fs::write(&path, json).expect("write sim.json");
    eprintln!("wrote {}", path.display());
}
