//! The whole core against the golden model on captures: traces from the
//! traces crate's generator and the real captures in `../shared/traces`.
//!
//! Every frame becomes a harness input by the path the host's analyze
//! takes (`bloomtime_traces::Records`, as `Analyzer::feed` gets them):
//! record time `replay_ts` from the first packet, header window `window`,
//! captured length `data.len()`. The model takes the frame through
//! `BloomTime::frame` (parser, drop counters); the core gets the frame's
//! record, or a drop pulse with the reason. The harness
//! compares every record's outcome (samples included), every final table
//! slot, the events and the counters; each test then runs the host's
//! `Analyzer` on the same packets and checks that its counters and merged
//! flows are the core's, so the conversion here is the analyze path's.

use bloomtime_host::analyze::Analyzer;
use bloomtime_hw::consts::CFG;
use bloomtime_model::counters::Counter;
use bloomtime_testkit::core::{check, Drive, Input, Summary};
use bloomtime_testkit::rusthdl::RustHdlCore;
use bloomtime_testkit::{seed, shared};
use bloomtime_traces::gen::{generate, GenOptions, Mix};
use bloomtime_traces::{Packet, Records, TraceErrorKind, TraceReader};
use std::path::Path;
use std::time::Instant;

/// Frames compared per real capture (a prefix, for CI time).
const REAL_PREFIX: usize = 20_000;

/// Harness inputs of captured packets, by the analyze path's rule.
fn inputs_of(packets: &[Packet]) -> Vec<Input> {
    let mut r = Records::of_packets(packets, &CFG);
    let mut v = Vec::with_capacity(packets.len());
    while let Some(f) = r.next_frame().unwrap() {
        v.push(Input::frame(&f));
    }
    v
}

/// The host's analyze path on the same packets agrees with the core.
fn check_against_host(name: &str, packets: &[Packet], s: &Summary) {
    let mut a = Analyzer::new(&CFG, true, false);
    a.feed_packets(packets).unwrap();
    let est = a.finish().unwrap().0.unwrap();
    assert_eq!(
        est.counters.0.to_vec(),
        s.counters,
        "{name}: host analyze's counters vs the core's"
    );
    assert!(
        est.flows == s.flows,
        "{name}: host analyze's merged flows ({}) differ from the core's ({})",
        est.flows.len(),
        s.flows.len()
    );
}

/// The core, the model and the host on `packets`.
fn run(name: &str, packets: &[Packet], seed: u64, backpressure: f64, gaps: f64) -> Summary {
    let t = Instant::now();
    let d = Drive::new(seed, backpressure, gaps);
    let s = check(name, &inputs_of(packets), d, RustHdlCore::new);
    check_against_host(name, packets, &s);
    assert_eq!(s.inputs, packets.len());
    assert_eq!(s.counters[Counter::Frames as usize], packets.len() as u64);
    assert_eq!(s.records + s.drops, packets.len());
    eprintln!("{name}: {s} in {:.1} s", t.elapsed().as_secs_f64());
    s
}

/// A generated trace, written as pcap and read back by the traces crate's reader.
fn generated(opts: &GenOptions) -> Vec<Packet> {
    let mut buf = Vec::new();
    let truth = generate(opts, &mut buf).unwrap();
    let packets = TraceReader::from_reader("generated.pcap", std::io::Cursor::new(buf))
        .unwrap()
        .read_all()
        .unwrap();
    assert_eq!(packets.len() as u64, truth.packets);
    packets
}

#[test]
fn generated_trace_matches_the_model() {
    // More conversations than the table's 256 slots: collisions and evictions.
    let s = seed("generated_trace_matches_the_model", 31);
    let packets = generated(&GenOptions {
        seed: s,
        flows: 600,
        packets: 20_000,
        duration_s: 20.0,
        ipv6_fraction: 0.3,
        vlan_fraction: 0.15,
        qinq_fraction: 0.1,
        ..GenOptions::default()
    });
    let r = run("core_gen_trace", &packets, s, 0.0, 0.0);
    assert!(r.records >= 19_000, "{r}");
    assert!(r.iat_samples >= 5_000 && r.rtt_samples >= 200, "{r}");
    assert!(r.valid_slots >= 100 && r.evicts >= 500, "{r}");
    assert!(r.counters[Counter::EvictCollision as usize] >= 100, "{r}");
}

#[test]
fn generated_trace_with_truncation_backpressure_and_gaps() {
    // A 64-byte snap length truncates IPv6 TCP/UDP behind VLAN tags (drops
    // counted by reason); RTT-heavy mix; random back-pressure and idle input.
    let s = seed("generated_trace_with_truncation_backpressure_and_gaps", 32);
    let packets = generated(&GenOptions {
        seed: s,
        flows: 300,
        packets: 10_000,
        duration_s: 10.0,
        mix: Mix {
            ping: 3.0,
            tcp: 3.0,
            ..Mix::default()
        },
        rtt_min_us: 50.0,
        rtt_max_us: 500_000.0,
        ipv6_fraction: 0.5,
        vlan_fraction: 0.3,
        qinq_fraction: 0.2,
        snaplen: 64,
        ..GenOptions::default()
    });
    let r = run("core_gen_trace_bp", &packets, s, 0.3, 0.2);
    assert!(r.drops >= 200 && r.records >= 5_000, "{r}");
    assert!(r.counters[Counter::DropTruncated as usize] > 0, "{r}");
    assert!(r.iat_samples >= 2_000 && r.rtt_samples >= 200, "{r}");
    assert!(r.evicts >= 100, "{r}");
}

#[test]
fn sparse_generated_trace_matches_the_model() {
    // Few packets over minutes: gaps beyond the window (misses), heavy-tailed
    // silences, and every 250 packets a silence of the whole trace longer
    // than the sweep horizon, so that the input waits for a stale pass.
    use bloomtime_hw::consts::{CFG, SWEEP_HORIZON};
    let s = seed("sparse_generated_trace_matches_the_model", 33);
    let mut packets = generated(&GenOptions {
        seed: s,
        flows: 80,
        packets: 3_000,
        duration_s: 600.0,
        mix: Mix {
            heavy: 3.0,
            bursty: 2.0,
            ..Mix::default()
        },
        ..GenOptions::default()
    });
    let epoch_ns = 1u64 << (CFG.time_unit_log2_ns + CFG.level(0).bucket_log2);
    let silence = (SWEEP_HORIZON + SWEEP_HORIZON / 4) * epoch_ns;
    for (i, p) in packets.iter_mut().enumerate() {
        p.ns += (i as u64 / 250) * silence;
    }
    let r = run("core_gen_trace_sparse", &packets, s, 0.1, 0.0);
    assert!(r.records >= 2_500, "{r}");
    assert!(r.counters[Counter::IatMisses as usize] >= 200, "{r}");
    // Eleven stale passes of 2^LINE_ADDR clocks each.
    let passes = (packets.len() as u64 - 1) / 250;
    assert!(
        r.iat_samples >= 200
            && r.cycles >= r.records as u64 + passes * (1 << bloomtime_hw::consts::LINE_ADDR),
        "{r}"
    );
}

/// Up to `n` packets of a capture. `Err((unsupported, message))`:
/// `unsupported` for a format or link type the traces crate does not read
/// by design (reported), otherwise a reader error (a failure).
fn read_prefix(path: &Path, n: usize) -> Result<Vec<Packet>, (bool, String)> {
    let unsupported = |k: &TraceErrorKind| {
        matches!(
            k,
            TraceErrorKind::UnsupportedFormat(_) | TraceErrorKind::UnsupportedLinkType { .. }
        )
    };
    let mut r = TraceReader::open(path).map_err(|e| (unsupported(&e.kind), e.to_string()))?;
    let mut out = Vec::new();
    let mut p = Packet::default();
    while out.len() < n {
        match r.next_into(&mut p) {
            Ok(true) => out.push(p.clone()),
            Ok(false) => break,
            Err(e) => return Err((unsupported(&e.kind), e.to_string())),
        }
    }
    Ok(out)
}

/// What became of one capture.
enum Verdict {
    Compared(Summary),
    Unsupported(String),
    Unreadable(String),
    Mismatch,
}

#[test]
fn real_traces_match_the_model() {
    let test = "real_traces_match_the_model";
    // Every *.pcap and *.pcapng in ../shared/traces; under CI=true a missing
    // directory or a capture its README lists but that is absent fails here.
    let Some(mut captures) = shared::for_test() else {
        eprintln!("{test}: SKIPPED: no shared captures (under CI=true this fails)");
        return;
    };
    let dir = shared::dir();
    // Largest first over two workers (the machine's cores), so the long
    // captures do not end up in one thread.
    captures.sort_by_key(|p| std::cmp::Reverse(std::fs::metadata(p).map_or(0, |m| m.len())));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let verdicts = std::sync::Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
    std::thread::scope(|sc| {
        for _ in 0..workers {
            sc.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(path) = captures.get(i) else { break };
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                let v = match read_prefix(path, REAL_PREFIX) {
                    Ok(packets) => {
                        let stem = format!("core_real_{}", name.replace('.', "_"));
                        // A mismatch panics with its first difference and VCD
                        // (printed by the panic hook); the other captures go on.
                        match std::panic::catch_unwind(|| run(&stem, &packets, 41, 0.0, 0.0)) {
                            Ok(s) => Verdict::Compared(s),
                            Err(_) => Verdict::Mismatch,
                        }
                    }
                    Err((true, e)) => {
                        eprintln!("{test}: {name}: UNSUPPORTED by the traces crate: {e}");
                        Verdict::Unsupported(e)
                    }
                    Err((false, e)) => {
                        eprintln!("{test}: {name}: UNREADABLE: {e}");
                        Verdict::Unreadable(e)
                    }
                };
                verdicts.lock().unwrap().push((name, v));
            });
        }
    });
    let mut verdicts = verdicts.into_inner().unwrap();
    verdicts.sort_by(|a, b| a.0.cmp(&b.0));
    let mut records = 0;
    let mut bad = Vec::new();
    eprintln!("{test}: {} captures in {}:", captures.len(), dir.display());
    for (name, v) in &verdicts {
        match v {
            Verdict::Compared(s) => {
                eprintln!(
                    "  {name}: {} frames, {} records, {} drops, {} IAT + {} RTT samples: equal",
                    s.inputs, s.records, s.drops, s.iat_samples, s.rtt_samples
                );
                assert!(s.records > 0, "{name}: no records ({s})");
                records += s.records;
            }
            Verdict::Unsupported(e) => eprintln!("  {name}: not compared, unsupported: {e}"),
            Verdict::Unreadable(e) => {
                eprintln!("  {name}: UNREADABLE: {e}");
                bad.push(name.clone());
            }
            Verdict::Mismatch => {
                eprintln!("  {name}: MISMATCH (see its panic above)");
                bad.push(name.clone());
            }
        }
    }
    assert!(bad.is_empty(), "captures that failed: {bad:?}");
    let compared = verdicts
        .iter()
        .filter(|v| matches!(v.1, Verdict::Compared(_)))
        .count();
    assert!(compared > 0, "no capture compared in {}", dir.display());
    assert!(records >= 10_000, "only {records} records compared");
    eprintln!(
        "{test}: {compared} of {} captures compared, {records} records (prefix {REAL_PREFIX} frames)",
        captures.len()
    );
}
