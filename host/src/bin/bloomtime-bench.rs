//! Throughput of the golden model against the exact tracker, and of
//! `bloomtime analyze` end to end.
//!
//! `cargo run --release -p bloomtime-host --bin bloomtime-bench [-- --packets N --reps N]`
//!
//! Generates a synthetic trace into `build/bench/` if absent (never
//! committed), parses it once into records in memory, then measures on one
//! core, each as the median of `reps` runs over the same records:
//! `BloomTime::process` (with event draining) for the alchitry-cu, paper and
//! large presets; `ExactTracker::record`; and `analyze` (estimate mode, table
//! to /dev/null) on the pcap. Writes `build/bench/model.json`.
//!
//! Every figure is given twice: per second of wall time and per second of
//! the measuring thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`). On a shared
//! machine the wall figure falls with the load; the CPU figure much less.

use bloomtime_host::cli::AnalyzeArgs;
use bloomtime_model::config::preset;
use bloomtime_model::exact::ExactTracker;
use bloomtime_model::key::Record;
use bloomtime_model::report::Format;
use bloomtime_model::table::EventLog;
use bloomtime_model::BloomTime;
use bloomtime_traces::gen::bench_trace;
use bloomtime_traces::Records;
use serde_json::json;
use std::hint::black_box;
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

/// Wall and CPU time of one run.
struct Clock {
    wall: Instant,
    cpu: f64,
}

/// The calling thread's CPU time, seconds.
fn thread_cpu_s() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to fill.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(r, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

impl Clock {
    fn start() -> Clock {
        Clock {
            wall: Instant::now(),
            cpu: thread_cpu_s(),
        }
    }
    /// `n` per wall second and per CPU second since the start.
    fn rates(&self, n: f64) -> (f64, f64) {
        (
            n / self.wall.elapsed().as_secs_f64(),
            n / (thread_cpu_s() - self.cpu),
        )
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

fn main() {
    let packets = arg("--packets", 10_000_000);
    let reps = arg("--reps", 5).max(1) as usize;
    // `--only PART` runs one part (profiling): `model-PRESET` (that preset
    // alone: `model-alchitry-cu` is not also `model-alchitry-cu-v1`),
    // `model` (every preset), `exact` or `analyze`.
    let args: Vec<String> = std::env::args().collect();
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let want = |part: &str| {
        only.as_deref()
            .is_none_or(|o| part == o || (o == "model" && part.starts_with("model-")))
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ is inside the workspace")
        .to_path_buf();
    let dir = root.join("build/bench");
    std::fs::create_dir_all(&dir).expect("create build/bench");
    let t0 = Instant::now();
    let (pcap, truth) = bench_trace(&dir, packets).expect("generate the bench trace");
    let mut gen_s = None;
    if let Some(t) = truth {
        let s = t0.elapsed().as_secs_f64();
        eprintln!(
            "generated {} ({} packets, {} flows) in {:.2} s: {:.1} M packets/s",
            pcap.display(),
            t.packets,
            t.flows.len(),
            s,
            t.packets as f64 / s / 1e6
        );
        gen_s = Some(s);
    }

    // Parse once into records.
    let t0 = Instant::now();
    let cfg = preset("alchitry-cu").unwrap();
    let mut rd = Records::open(&[&pcap], &cfg).expect("open the bench trace");
    let mut recs: Vec<Record> = Vec::with_capacity(packets as usize);
    let mut ns: Vec<u64> = Vec::with_capacity(packets as usize);
    while let Some(f) = rd.next_frame().expect("read the bench trace") {
        if let Ok(r) = f.record() {
            recs.push(r);
            ns.push(f.rel_ns);
        }
    }
    eprintln!(
        "parsed {} records in {:.2} s",
        recs.len(),
        t0.elapsed().as_secs_f64()
    );
    let n = recs.len() as f64;

    // Golden model.
    let mut model = serde_json::Map::new();
    let mut model_rps = Vec::new();
    for name in ["alchitry-cu", "alchitry-cu-v1", "paper", "large"] {
        if !want(&format!("model-{name}")) {
            continue;
        }
        let c = preset(name).unwrap();
        // The records in this preset's time unit (the replay rule on the
        // same nanoseconds).
        let own: Vec<Record> = recs
            .iter()
            .zip(&ns)
            .map(|(r, &x)| Record {
                ts: bloomtime_traces::replay_ts(&c, x, 0),
                ..*r
            })
            .collect();
        let (mut runs, mut cpu) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            let mut bt = BloomTime::new(&c);
            // Events are taken in the model's own form (as `analyze`'s
            // merge reads them), into a log reused between batches.
            let mut log = EventLog::new();
            let t = Clock::start();
            for (i, r) in own.iter().enumerate() {
                black_box(bt.process(r));
                if i & 255 == 255 {
                    bt.take_events(&mut log);
                    black_box(&log);
                }
            }
            bt.flush();
            bt.take_events(&mut log);
            black_box(&log);
            let (w, c) = t.rates(n);
            runs.push(w);
            cpu.push(c);
        }
        let m = median(runs.clone());
        let mc = median(cpu.clone());
        eprintln!(
            "model {name:<12} {:>8.2} M records/s  ({:.2} M per CPU s)",
            m / 1e6,
            mc / 1e6
        );
        model.insert(
            name.into(),
            json!({"median_records_per_s": m, "runs": runs,
                   "median_records_per_cpu_s": mc, "cpu_runs": cpu}),
        );
        model_rps.push((name, m));
    }

    // Exact tracker.
    let med = |r: &Vec<f64>| {
        if r.is_empty() {
            f64::NAN
        } else {
            median(r.clone())
        }
    };
    let (mut runs, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..if want("exact") { reps } else { 0 } {
        let mut t = ExactTracker::new();
        let t0 = Clock::start();
        for (r, &x) in recs.iter().zip(&ns) {
            t.record(x, &r.key, r.flags);
        }
        let (w, c) = t0.rates(n);
        runs.push(w);
        cpu.push(c);
        black_box(t.len());
    }
    let (exact, exact_cpu) = (med(&runs), med(&cpu));
    eprintln!(
        "exact              {:>8.2} M records/s  ({:.2} M per CPU s)",
        exact / 1e6,
        exact_cpu / 1e6
    );
    let exact_json = json!({"median_records_per_s": exact, "runs": runs,
                            "median_records_per_cpu_s": exact_cpu, "cpu_runs": cpu});

    // analyze end to end.
    drop(recs);
    drop(ns);
    // `bloomtime analyze` end to end, the estimate (alchitry-cu) and --exact,
    // runs interleaved so that both see the same machine.
    let (mut runs, mut runs_exact) = (Vec::new(), Vec::new());
    let (mut cpu, mut cpu_exact) = (Vec::new(), Vec::new());
    for _ in 0..if want("analyze") { reps } else { 0 } {
        for (exact, runs, cpu) in [
            (false, &mut runs, &mut cpu),
            (true, &mut runs_exact, &mut cpu_exact),
        ] {
            let a = AnalyzeArgs {
                traces: vec![pcap.clone()],
                exact,
                preset: "alchitry-cu".into(),
                format: Format::Table,
                output: Some(PathBuf::from("/dev/null")),
                percentiles: false,
                ipfix: None,
                flow_times: false,
            };
            let t0 = Clock::start();
            bloomtime_host::cli::analyze(&a).expect("analyze the bench trace");
            let (w, c) = t0.rates(n);
            runs.push(w);
            cpu.push(c);
        }
    }
    let (analyze, analyze_exact) = (med(&runs), med(&runs_exact));
    let (analyze_cpu, analyze_exact_cpu) = (med(&cpu), med(&cpu_exact));
    eprintln!(
        "analyze            {:>8.2} M packets/s  ({:.2} M per CPU s)",
        analyze / 1e6,
        analyze_cpu / 1e6
    );
    eprintln!(
        "analyze --exact    {:>8.2} M packets/s  ({:.2} M per CPU s)",
        analyze_exact / 1e6,
        analyze_exact_cpu / 1e6
    );

    let ratios: serde_json::Map<String, serde_json::Value> = model_rps
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v / exact)))
        .collect();
    for (k, v) in &model_rps {
        eprintln!("model/exact {k:<12} {:.2}", v / exact);
    }
    let out = json!({
        "trace": pcap.display().to_string(),
        "records": n as u64,
        "generator": bloomtime_traces::gen::GenOptions::bench(packets),
        "generated_in_s": gen_s,
        "reps": reps,
        "model": model,
        "exact": exact_json,
        "model_over_exact": ratios,
        "analyze_estimate_table": {"median_packets_per_s": analyze, "runs": runs,
                                   "median_packets_per_cpu_s": analyze_cpu, "cpu_runs": cpu},
        "analyze_exact_table": {"median_packets_per_s": analyze_exact, "runs": runs_exact,
                                "median_packets_per_cpu_s": analyze_exact_cpu, "cpu_runs": cpu_exact},
        "analyze_estimate_over_exact": analyze / analyze_exact,
    });
    if only.is_some() {
        return;
    }
    let path = dir.join("model.json");
    std::fs::write(&path, serde_json::to_string_pretty(&out).unwrap() + "\n")
        .expect("write model.json");
    eprintln!("wrote {}", path.display());
}
