//! Records per second of the RustHDL core, stepped directly in rust-hdl's
//! simulator (the way every hw test drives it), for `just bench`.
//!
//! `cargo run --release -p bloomtime-hw --example rusthdl-bench [-- --records N --reps N]`
//!
//! Takes the first N records (default 100 000) of the trace `bloomtime-bench`
//! generates (`build/bench/bench-1000000.pcap`, generated with the same
//! options if absent), pushes them into `BloomtimeCore` one per clock, then
//! drains and flushes; checks the first run against the golden model (every
//! outcome, event and counter, via the test kit's comparison) and prints the
//! median records/s and clocks/s. Writes `build/bench/rusthdl.json`.

use bloomtime_hw::consts::CFG;
use bloomtime_model::key::Record;
use bloomtime_testkit::rusthdl::RustHdlCore;
use bloomtime_testkit::{compare, Core, Drive, Input};
use bloomtime_traces::gen::bench_trace;
use bloomtime_traces::Records;
use std::path::PathBuf;
use std::time::Instant;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    match args
        .iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
    {
        Some(v) => v.parse().unwrap_or_else(|_| {
            eprintln!("rusthdl-bench: {name} takes a number, got {v}");
            std::process::exit(2)
        }),
        None => default,
    }
}

fn main() {
    let n_rec = arg("--records", 100_000) as usize;
    let reps = arg("--reps", 3).max(1) as usize;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join("build/bench");
    std::fs::create_dir_all(&dir).expect("create build/bench");
    let (pcap, _) = bench_trace(&dir, 1_000_000).expect("generate the bench trace");
    let mut rd = Records::open(&[&pcap], &CFG).expect("open the bench trace");
    let mut recs: Vec<Record> = Vec::with_capacity(n_rec);
    while recs.len() < n_rec {
        let Some(f) = rd.next_frame().expect("read the bench trace") else {
            break;
        };
        if let Ok(r) = f.record() {
            recs.push(r);
        }
    }
    eprintln!("{} records from {}", recs.len(), pcap.display());

    // Once against the golden model (outcomes, events, slots, counters).
    let t0 = Instant::now();
    if let Err(e) = compare(
        &mut RustHdlCore::new(),
        &Input::records(&recs),
        Drive::plain(),
    ) {
        eprintln!("rusthdl-bench: the core differs from the golden model: {e}");
        std::process::exit(1);
    }
    eprintln!(
        "checked against the golden model in {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    let mut rps = Vec::new();
    let mut cps = Vec::new();
    for rep in 0..reps {
        let mut h = RustHdlCore::new();
        let t = Instant::now();
        for r in &recs {
            h.send(r, false);
        }
        h.drain();
        h.flush();
        let s = t.elapsed().as_secs_f64();
        let clocks = h.cycles() as f64;
        let outcomes = h.take_outcomes().len();
        assert_eq!(outcomes, recs.len(), "every record has an outcome");
        rps.push(recs.len() as f64 / s);
        cps.push(clocks / s);
        eprintln!(
            "run {}: {:.0} records/s, {:.0} clocks/s ({} clocks)",
            rep + 1,
            recs.len() as f64 / s,
            clocks / s,
            clocks
        );
    }
    let med = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let (r, c) = (med(rps.clone()), med(cps.clone()));
    println!(
        "RustHDL core (stepped): {} records, median of {reps} runs {:.0} records/s, {:.0} clocks/s",
        recs.len(),
        r,
        c
    );
    let json = format!(
        "{{\n  \"trace\": \"{}\",\n  \"records\": {},\n  \"reps\": {reps},\n  \
         \"median_records_per_s\": {r:.0},\n  \"median_clocks_per_s\": {c:.0},\n  \
         \"runs_records_per_s\": {:?}\n}}\n",
        pcap.display(),
        recs.len(),
        rps.iter().map(|x| x.round()).collect::<Vec<_>>()
    );
    let path = dir.join("rusthdl.json");
    std::fs::write(&path, json).expect("write rusthdl.json");
    eprintln!("wrote {}", path.display());
}
