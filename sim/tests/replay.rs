//! `bloomtime-sim replay`: whole captures through the Verilated core give
//! the CSV of `bloomtime analyze --preset alchitry-cu`, byte for byte, on
//! every shared capture and on a generated trace of a million packets; the
//! table and JSON carry the same flows and counters; bad input is one line.

mod support;
use bloomtime_traces::gen::{generate_file, GenOptions};
use std::path::Path;
use std::time::Instant;
use support::*;

#[test]
fn every_shared_trace_replays_like_analyze() {
    let Some(traces) = bloomtime_testkit::shared::for_test() else {
        return;
    };
    for t in &traces {
        let want = analyze(&[t], "csv");
        assert!(want.lines().count() > 1, "{}: no flows", t.display());
        assert_eq!(sim_replay(&[t], "csv"), want, "{}", t.display());
    }
    // All of them at once, merged by timestamp.
    let all: Vec<&Path> = traces.iter().map(|p| p.as_path()).collect();
    assert_eq!(sim_replay(&all, "csv"), analyze(&all, "csv"), "all merged");
}

#[test]
fn a_million_generated_packets_replay_like_analyze() {
    let dir = tmpdir("million");
    let pcap = dir.join("g.pcap");
    let opts = GenOptions {
        seed: 5,
        flows: 50_000,
        packets: 1_000_000,
        duration_s: 60.0,
        ..GenOptions::default()
    };
    let t = Instant::now();
    let truth = generate_file(&opts, &pcap, None).unwrap();
    assert_eq!(truth.packets, 1_000_000);
    let t_gen = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let want = analyze(&[&pcap], "csv");
    let t_analyze = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let got = sim_replay(&[&pcap], "csv");
    let t_sim = t.elapsed().as_secs_f64();
    eprintln!(
        "1M packets: generated in {t_gen:.2} s, analyze {t_analyze:.2} s, bloomtime-sim replay \
         {t_sim:.2} s; {} flows",
        want.lines().count() - 1
    );
    assert!(want.lines().count() > 10_000);
    assert!(got == want, "the CSVs differ");
    let _ = std::fs::remove_dir_all(dir);
}

/// The lines of a table report between its title and its note.
fn table_body(s: &str) -> Vec<&str> {
    let v: Vec<&str> = s.lines().collect();
    v[1..v.len() - 1].to_vec()
}

#[test]
fn table_and_json_carry_the_flows_and_counters_of_analyze() {
    let demo = demo();
    let t = sim_replay(&[&demo], "table");
    let a = analyze(&[&demo], "table");
    assert!(
        t.starts_with("Verilated core of 4000 packets, preset alchitry-cu"),
        "{t}"
    );
    assert!(t.contains("counters: frames"), "{t}");
    assert_eq!(table_body(&t), table_body(&a));
    let j: serde_json::Value = serde_json::from_str(&sim_replay(&[&demo], "json")).unwrap();
    let ja: serde_json::Value = serde_json::from_str(&analyze(&[&demo], "json")).unwrap();
    assert_eq!(j["meta"]["tool"], "bloomtime-sim replay");
    assert_eq!(j["meta"]["packets"], 4000);
    assert_eq!(j["meta"]["config"], ja["meta"]["config"]);
    assert_eq!(j["meta"]["merge"]["open_slots_after_flush"], 0);
    assert!(j["flows"].as_array().is_some_and(|f| !f.is_empty()));
    assert_eq!(j["flows"], ja["flows"]);
    assert_eq!(j["counters"], ja["counters"]);
}

#[test]
fn output_file_and_several_traces() {
    let dir = tmpdir("output");
    let out = dir.join("flows.csv");
    let demo = demo();
    let d = demo.to_str().unwrap();
    let o = sim(&[
        "replay",
        d,
        d,
        "--format",
        "csv",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty());
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        analyze(&[&demo, &demo], "csv")
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_input_is_one_line() {
    let dir = tmpdir("bad");
    let demo = demo();
    let d = demo.to_str().unwrap();
    fails(
        &["replay", d, "--preset", "paper"],
        2,
        &["preset paper is not synthesized", "alchitry-cu"],
    );
    fails(
        &["replay", d, "--preset", "nope"],
        2,
        &["unknown preset 'nope'"],
    );
    fails(
        &["replay", d, "--format", "xml"],
        2,
        &["unknown format 'xml'"],
    );
    fails(&["replay"], 2, &["TRACE"]);
    let missing = dir.join("missing.pcap");
    fails(
        &["replay", missing.to_str().unwrap()],
        1,
        &["missing.pcap", "no such file"],
    );
    let junk = dir.join("junk.pcap");
    std::fs::write(&junk, b"this is not a capture at all").unwrap();
    fails(&["replay", junk.to_str().unwrap()], 1, &["junk.pcap"]);
    // A capture cut in the middle of a packet.
    let bytes = std::fs::read(&demo).unwrap();
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() / 2 + 7]).unwrap();
    fails(&["replay", cut.to_str().unwrap()], 1, &["cut.pcap"]);
    let o = dir.join("no/such/dir/out.csv");
    fails(
        &["replay", d, "--format", "csv", "-o", o.to_str().unwrap()],
        1,
        &["out.csv"],
    );
    fails(&["board", "--baud", "9600"], 2, &["9600", "12500000"]);
    fails(&["frobnicate"], 2, &["frobnicate"]);
    let _ = std::fs::remove_dir_all(dir);
}
