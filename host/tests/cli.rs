//! The `bloomtime` binary end to end: exact output equals the generator's
//! truth byte for byte, every shared capture analyzes in every mode and
//! format, and bad input gives one line on stderr and a non-zero exit.

use bloomtime_model::config::{ALCHITRY_CU, LARGE};
use bloomtime_model::report::write_csv;
use bloomtime_model::stats::exact_row;
use bloomtime_traces::truth::Truth;
use bloomtime_traces::writer::{PcapNgWriter, PcapWriter};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bloomtime"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run bloomtime")
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(
        o.status.success(),
        "bloomtime {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bloomtime-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../traces/data")
        .join(name)
}

fn truth_csv(t: &Truth) -> String {
    let rows: Vec<_> = t
        .merged()
        .unwrap()
        .iter()
        .map(|(k, s)| exact_row(k, s))
        .collect();
    let mut out = Vec::new();
    write_csv(&mut out, &rows).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn exact_csv_equals_the_generator_truth() {
    let d = tmpdir("truth");
    let (pcap, json) = (d.join("g.pcap"), d.join("g.json"));
    let (p, j) = (pcap.to_str().unwrap(), json.to_str().unwrap());
    run(&[
        "gen",
        p,
        "--truth",
        j,
        "--seed",
        "7",
        "--flows",
        "70",
        "--packets",
        "5000",
        "--duration",
        "3",
    ]);
    let t = Truth::read(&json).unwrap();
    assert_eq!(t.packets, 5000);
    let csv = ok(&["analyze", "--exact", "--format", "csv", p]);
    assert_eq!(csv, truth_csv(&t));
    // The committed demo too.
    let demo = data("demo.pcap");
    let t = Truth::read(data("demo.truth.json")).unwrap();
    let csv = ok(&[
        "analyze",
        "--exact",
        "--format",
        "csv",
        demo.to_str().unwrap(),
    ]);
    assert_eq!(csv, truth_csv(&t));
}

#[test]
fn gen_demo_reproduces_the_committed_demo() {
    let d = tmpdir("demo");
    let p = d.join("demo.pcap");
    let j = d.join("demo.truth.json");
    ok(&[
        "gen",
        "--demo",
        p.to_str().unwrap(),
        "--truth",
        j.to_str().unwrap(),
    ]);
    assert!(std::fs::read(&p).unwrap() == std::fs::read(data("demo.pcap")).unwrap());
    assert_eq!(
        std::fs::read_to_string(&j).unwrap(),
        std::fs::read_to_string(data("demo.truth.json")).unwrap()
    );
}

#[test]
fn estimate_counts_every_packet_of_every_flow() {
    // Without aliasing the merged estimate has exactly the exact packet counts.
    let demo = data("demo.pcap");
    let t = Truth::read(data("demo.truth.json")).unwrap();
    let out = ok(&["analyze", "--format", "json", demo.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["meta"]["tool"], "bloomtime analyze");
    assert_eq!(v["meta"]["preset"], "alchitry-cu");
    assert_eq!(v["meta"]["mode"], "estimate");
    let levels = &v["meta"]["config"]["levels"];
    assert_eq!(levels.as_array().unwrap().len(), ALCHITRY_CU.level_count());
    assert_eq!(levels[0]["buckets"], ALCHITRY_CU.level(0).buckets);
    assert_eq!(v["meta"]["merge"]["open_slots_after_flush"], 0);
    assert_eq!(v["meta"]["aliased"], 0);
    assert!(v["meta"]["traces"][0]
        .as_str()
        .unwrap()
        .ends_with("demo.pcap"));
    let flows = v["flows"].as_array().unwrap();
    assert_eq!(flows.len(), t.flows.len());
    let est: Vec<u64> = flows
        .iter()
        .map(|f| f["packets"].as_u64().unwrap())
        .collect();
    let exact: Vec<u64> = t.merged().unwrap().iter().map(|f| f.1.packets).collect();
    assert_eq!(est, exact);
    assert_eq!(v["counters"]["frames"], 4000);
}

#[test]
fn table_output_has_counters_and_merge_consistency() {
    let demo = data("demo.pcap");
    let out = ok(&["analyze", demo.to_str().unwrap()]);
    assert!(out.contains("counters: frames 4000"), "{out}");
    assert!(out.contains("merge: consistent"), "{out}");
    let out = ok(&[
        "analyze",
        "--exact",
        "--preset",
        "paper",
        demo.to_str().unwrap(),
    ]);
    assert!(out.contains("exact tracker:"), "{out}");
}

#[test]
fn output_flag_writes_a_file() {
    let d = tmpdir("output");
    let o = d.join("r.csv");
    let demo = data("demo.pcap");
    let stdout = ok(&[
        "analyze",
        "--format",
        "csv",
        "-o",
        o.to_str().unwrap(),
        demo.to_str().unwrap(),
    ]);
    assert!(stdout.is_empty());
    let csv = std::fs::read_to_string(&o).unwrap();
    assert!(csv.starts_with("proto,src,sport,dst,dport,packets,"));
}

#[test]
fn compare_reports_and_plots() {
    let d = tmpdir("plots");
    let demo = data("demo.pcap");
    let out = ok(&[
        "compare",
        demo.to_str().unwrap(),
        "--plot",
        d.to_str().unwrap(),
    ]);
    assert!(out.contains("flows compared"), "{out}");
    for f in ["error_cdf.svg", "iat_hist.svg"] {
        let svg = std::fs::read_to_string(d.join(f)).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<polyline"), "{f}");
    }
    let out = ok(&[
        "compare",
        "--format",
        "json",
        "--preset",
        "large",
        demo.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let c = &v["comparison"];
    assert_eq!(v["preset"], "large");
    assert!(c["flows_compared"].as_u64().unwrap() > 50);
    assert!(c["coverage"].as_f64().unwrap() > 0.5);
    assert!(c["iat_mean"]["median"].as_f64().is_some());
    assert!(c["rtt_mean"]["flows"].as_u64().unwrap() > 5);
    assert_eq!(c["state_bytes"], LARGE.state_bytes());
    assert!(c["exact_state_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn presets_lists_memory() {
    let out = ok(&["presets"]);
    for n in [
        "alchitry-cu",
        "paper",
        "large",
        "alchitry-cu-v1",
        "datacenter",
        "12064 B",
        "window 134.218 ms",
        "iCE40 block RAMs: core 24 + board buffers 8 = 32 of 32",
    ] {
        assert!(out.contains(n), "{n} missing from\n{out}");
    }
    let v: serde_json::Value = serde_json::from_str(&ok(&["presets", "--format", "json"])).unwrap();
    assert_eq!(v[0]["state_bytes"], ALCHITRY_CU.state_bytes());
    assert_eq!(v[0]["board_brams"], ALCHITRY_CU.board_brams());
    assert_eq!(v[1]["state_bytes"], 12064);
    assert_eq!(
        ok(&["presets", "--hardware"]).trim(),
        bloomtime_model::config::HARDWARE_PRESET
    );
}

// Real captures from ../shared/traces: required when CI=true.

fn shared_traces() -> Option<Vec<PathBuf>> {
    bloomtime_testkit::shared::for_test()
}

#[test]
fn every_shared_trace_analyzes_in_every_mode_and_format() {
    let Some(traces) = shared_traces() else {
        return;
    };
    for t in &traces {
        let p = t.to_str().unwrap();
        for mode in [&[][..], &["--exact"][..]] {
            for fmt in ["table", "csv", "json"] {
                let mut args = vec!["analyze", p, "--format", fmt];
                args.extend_from_slice(mode);
                let out = ok(&args);
                match fmt {
                    "csv" => assert!(out.lines().count() > 1, "{p}: no flows"),
                    "json" => {
                        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
                        assert!(!v["flows"].as_array().unwrap().is_empty(), "{p}");
                        assert!(v["counters"]["records"].as_u64().unwrap() > 0, "{p}");
                    }
                    _ => assert!(out.contains("counters: frames"), "{p}"),
                }
            }
        }
    }
    // All of them at once, merged by timestamp, estimate and exact agree on packets.
    let mut args = vec!["compare", "--format", "json"];
    args.extend(traces.iter().map(|t| t.to_str().unwrap()));
    let v: serde_json::Value = serde_json::from_str(&ok(&args)).unwrap();
    assert!(v["comparison"]["flows_compared"].as_u64().unwrap() > 100);
}

// Bad input: one line on stderr naming the file and the problem, exit != 0.

fn fails(args: &[&str], expect: &[&str]) {
    let o = run(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{args:?} succeeded");
    assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for e in expect {
        assert!(err.contains(e), "{args:?}: {err:?} lacks {e:?}");
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}

fn small_pcap() -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), 65535).unwrap();
    let mut f = vec![0u8; 60];
    f[12] = 0x08;
    w.write(1_000, &f).unwrap();
    w.write(2_000, &f).unwrap();
    w.into_inner()
}

#[test]
fn bad_input_is_one_line_and_nonzero() {
    let d = tmpdir("bad");
    let good = small_pcap();
    let missing = d.join("missing.pcap");
    fails(
        &["analyze", missing.to_str().unwrap()],
        &["missing.pcap", "no such file"],
    );
    let text = write(&d, "notes.pcap", b"these are notes, not packets\n");
    fails(
        &["analyze", &text],
        &["notes.pcap", "not a pcap or pcapng capture"],
    );
    let empty = write(&d, "empty.pcap", b"");
    fails(
        &["analyze", "--exact", &empty],
        &["empty.pcap", "empty file"],
    );
    let trunc = write(&d, "trunc.pcap", &good[..good.len() - 5]);
    fails(&["analyze", &trunc], &["trunc.pcap", "truncated record"]);
    fails(&["compare", &trunc], &["trunc.pcap", "truncated record"]);
    let mut absurd = good.clone();
    absurd[24 + 8..24 + 12].copy_from_slice(&1_000_000u32.to_le_bytes());
    let absurd = write(&d, "absurd.pcap", &absurd);
    fails(
        &["analyze", &absurd],
        &["absurd.pcap", "absurd captured length 1000000"],
    );
    // 802.11 and a pcapng interface of the old DLT_RAW 12 (issue 14 reads
    // Linux cooked, raw IP (101, 228, 229) and BSD loopback).
    let mut wifi = good.clone();
    wifi[20..24].copy_from_slice(&105u32.to_le_bytes());
    let wifi = write(&d, "wifi.pcap", &wifi);
    fails(
        &["analyze", &wifi],
        &[
            "wifi.pcap",
            "link type 105 (IEEE 802.11) is not supported: BloomTime reads Ethernet (1), \
             Linux cooked SLL and SLL2 (113, 276), raw IP (101, 228, 229) and BSD loopback (0, 108)",
        ],
    );
    let mut ng = PcapNgWriter::new(false);
    ng.interface(12, 0, None);
    ng.epb(0, 1, &[0u8; 60], 60);
    let raw12 = write(&d, "raw12.pcapng", &ng.bytes);
    fails(
        &["analyze", &raw12],
        &[
            "raw12.pcapng",
            "link type 12 (raw IP, an old system-specific DLT_RAW value)",
        ],
    );
    // Issue 15, item 3: a fraction of a second that is none (here the
    // second record's ts_nsec), not an IAT of 4.3 s.
    let mut frac = good.clone();
    frac[24 + 16 + 60 + 4..24 + 16 + 60 + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    let frac = write(&d, "frac.pcap", &frac);
    fails(
        &["analyze", "--exact", &frac],
        &[
            "frac.pcap",
            "record 2 at byte 100: ts_nsec 4294967295 is not below 1000000000",
        ],
    );
    // A good file first, a bad one second: still an error.
    let ok_file = write(&d, "good.pcap", &good);
    fails(&["analyze", &ok_file, &trunc], &["trunc.pcap"]);
    fails(&["analyze", d.to_str().unwrap()], &["is a directory"]);
    // Flags.
    fails(
        &["analyze", "--preset", "huge", &ok_file],
        &["unknown preset 'huge'", "alchitry-cu"],
    );
    fails(
        &["compare", "--preset", "huge", &ok_file],
        &["unknown preset 'huge'"],
    );
    fails(&["analyze", "--format", "xml", &ok_file], &["xml"]);
    fails(&["compare", "--format", "csv", &ok_file], &["csv"]);
    fails(&["analyze"], &["TRACE"]);
    fails(&["frobnicate"], &["frobnicate"]);
    let out = d.join("g.pcap");
    let out = out.to_str().unwrap();
    fails(&["gen", out, "--flows", "many"], &["--flows", "many"]);
    fails(&["gen", out, "--flows", "0"], &["flows"]);
    fails(&["gen", out, "--duration=-2"], &["duration"]);
    fails(&["gen", out, "--duration", "0"], &["duration"]);
    fails(&["gen", out, "--ipv6", "1.5"], &["ipv6 fraction"]);
    fails(
        &["gen", out, "--mix", "ping=1,warp=2"],
        &["unknown flow kind 'warp'"],
    );
    fails(
        &["gen", "/nonexistent-dir/x.pcap"],
        &["/nonexistent-dir/x.pcap"],
    );
    fails(
        &["analyze", "-o", "/nonexistent-dir/r.csv", &ok_file],
        &["/nonexistent-dir/r.csv"],
    );
}

/// `bloomtime eval` (the `bloomtime-eval` crate behind the command): the
/// evaluation's errors are one line with the command's exit codes, 2 for
/// usage, 1 for a bad capture; a small run reports every file it writes.
#[test]
fn eval_errors_and_files_written() {
    let d = tmpdir("eval");
    let out = d.join("out");
    let o = out.to_str().unwrap();
    let status = |args: &[&str], expect: &str| {
        fails(args, &["bloomtime: ", expect]);
        run(args).status.code().unwrap()
    };
    let missing = d.join("missing");
    let args = ["eval", "--quick", "--out", o, "--traces"];
    let code = status(
        &[&args[..], &[missing.to_str().unwrap()]].concat(),
        "cannot read the traces directory",
    );
    assert_eq!(code, 2);
    let garbage = d.join("garbage");
    std::fs::create_dir_all(&garbage).unwrap();
    write(&garbage, "bad.pcap", b"not a capture at all");
    let code = status(
        &[&args[..], &[garbage.to_str().unwrap()]].concat(),
        "bad.pcap",
    );
    assert_eq!(code, 1);
    let code = status(
        &[
            "eval",
            "--quick",
            "--no-real",
            "--out",
            o,
            "--only",
            "no-such-config",
        ],
        "--only no-such-config matches no configuration",
    );
    assert_eq!(code, 2);

    let r = run(&[
        "eval",
        "--quick",
        "--no-real",
        "--out",
        o,
        "--only",
        "alchitry-cu-v1",
        "--jobs",
        "2",
    ]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "eval failed: {err}");
    let wrote: Vec<&str> = err
        .lines()
        .filter_map(|l| l.strip_prefix("wrote "))
        .collect();
    assert!(wrote.iter().any(|p| p.ends_with("results.csv")), "{err}");
    for p in wrote {
        assert!(Path::new(p).is_file(), "{p}");
    }
}

#[test]
fn several_files_merge_by_timestamp() {
    // The demo split into two files by packet parity analyzes like the demo.
    let d = tmpdir("split");
    let pk = bloomtime_traces::pcap::read_file(data("demo.pcap")).unwrap();
    let mut a = PcapWriter::new(Vec::new(), 65535).unwrap();
    let mut b = PcapWriter::new(Vec::new(), 65535).unwrap();
    for (i, p) in pk.iter().enumerate() {
        // Keep captured bytes exactly: write the captured data as the frame.
        let w = if i % 2 == 0 { &mut a } else { &mut b };
        w.write(p.ns, &p.data).unwrap();
    }
    let pa = write(&d, "a.pcap", &a.into_inner());
    let pb = write(&d, "b.pcap", &b.into_inner());
    let demo = data("demo.pcap");
    let whole = ok(&["analyze", "--format", "csv", demo.to_str().unwrap()]);
    let split = ok(&["analyze", "--format", "csv", &pb, &pa]);
    assert_eq!(whole, split);
    let whole = ok(&[
        "analyze",
        "--exact",
        "--format",
        "csv",
        demo.to_str().unwrap(),
    ]);
    let split = ok(&["analyze", "--exact", "--format", "csv", &pa, &pb]);
    assert_eq!(whole, split);
}

/// `--percentiles` appends six columns after the contract's 14: exact with
/// `--exact`, from the histograms for a preset that keeps them (within half
/// a half-octave bin of the exact ones on a constant-rate flow), empty for
/// one that does not.
#[test]
fn percentiles_are_six_more_columns() {
    let demo = data("demo.pcap");
    let d = demo.to_str().unwrap();
    let parse = |out: &str| -> Vec<Vec<String>> {
        out.lines()
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect()
    };
    let exact = parse(&ok(&[
        "analyze",
        "--exact",
        "--percentiles",
        "--format",
        "csv",
        d,
    ]));
    let large = parse(&ok(&[
        "analyze",
        "--preset",
        "large",
        "--percentiles",
        "--format",
        "csv",
        d,
    ]));
    let hw = parse(&ok(&["analyze", "--percentiles", "--format", "csv", d]));
    let header = bloomtime_model::report::csv_header(true);
    for t in [&exact, &large, &hw] {
        assert_eq!(t[0].join(","), header);
        assert!(t.iter().all(|r| r.len() == 20));
    }
    // Without --percentiles the contract's 14 columns, unchanged.
    let plain = ok(&["analyze", "--exact", "--format", "csv", d]);
    assert_eq!(
        plain.lines().next().unwrap(),
        bloomtime_model::report::CSV_HEADER
    );
    let col = |name: &str| exact[0].iter().position(|h| h == name).unwrap();
    let (p50, p99) = (col("iat_p50_us"), col("iat_p99_us"));
    let mut compared = 0;
    for (x, e) in exact[1..].iter().zip(&large[1..]) {
        assert_eq!(x[..5], e[..5], "same flows in the same order");
        if x[p50].is_empty() {
            assert!(e[p50].is_empty());
            continue;
        }
        let (xv, ev): (f64, f64) = (x[p50].parse().unwrap(), e[p50].parse().unwrap());
        // A half-octave bin's midpoint is within a quarter of any of its
        // samples, plus the samples' own quantization.
        assert!((ev - xv).abs() <= xv * 0.3 + 5.0, "{x:?} vs {e:?}");
        assert!(!e[p99].is_empty());
        compared += 1;
    }
    assert!(compared > 50, "{compared}");
    // alchitry-cu keeps no histograms: empty percentile cells.
    assert!(hw[1..].iter().all(|r| r[14..].iter().all(String::is_empty)));
}

// Issue 15: options that destroyed data or misled.

fn exit_code(args: &[&str]) -> i32 {
    run(args).status.code().expect("exited")
}

/// Item 4: `-o` naming a capture being read (by the same path, another
/// spelling, a symlink or a hard link) is refused before anything is
/// written; the capture is intact.
#[test]
fn output_over_an_input_capture_is_refused() {
    let d = tmpdir("clobber");
    let demo = std::fs::read(data("demo.pcap")).unwrap();
    let c = write(&d, "c.pcap", &demo);
    let other = write(&d, "other.pcap", &demo);
    let link = d.join("link.pcap");
    std::os::unix::fs::symlink(&c, &link).unwrap();
    let hard = d.join("hard.pcap");
    std::fs::hard_link(&c, &hard).unwrap();
    let dotted = d.join(".").join("c.pcap");
    let (link, hard, dotted) = (
        link.to_str().unwrap(),
        hard.to_str().unwrap(),
        dotted.to_str().unwrap(),
    );
    for out in [c.as_str(), link, hard, dotted] {
        for cmd in ["analyze", "compare"] {
            let args = [cmd, "-o", out, &other, &c];
            fails(
                &args,
                &["--output", out, "is the same file as the capture", &c],
            );
            assert_eq!(exit_code(&args), 2);
        }
    }
    fails(
        &["device", "--port", "/dev/null", "replay", "-o", link, &c],
        &["--output", "is the same file as the capture"],
    );
    fails(
        &["device", "--port", "/dev/null", "replay", "--csv", hard, &c],
        &["--csv", "is the same file as the capture"],
    );
    assert!(
        std::fs::read(&c).unwrap() == demo,
        "the capture was overwritten"
    );
    // `gen --truth` over the capture it just wrote: refused, the capture kept.
    let g = d.join("g.pcap");
    let gl = d.join("g-truth.json");
    std::os::unix::fs::symlink(&g, &gl).unwrap();
    let g = g.to_str().unwrap();
    for truth in [g, gl.to_str().unwrap()] {
        fails(
            &["gen", g, "--truth", truth, "--packets", "10"],
            &["--truth", "is the same file as the capture"],
        );
        assert_eq!(bloomtime_traces::pcap::read_file(g).unwrap().len(), 10);
    }
    // A report next to the capture is fine.
    let r = d.join("r.csv");
    ok(&["analyze", "-o", r.to_str().unwrap(), &c]);
    assert!(std::fs::read_to_string(&r)
        .unwrap()
        .contains("counters: frames 4000"));
}

/// Item 5: `--packets` is bounded; nothing is written above the bound.
#[test]
fn gen_packets_are_bounded() {
    let d = tmpdir("genbound");
    let out = d.join("x.pcap");
    let args = [
        "gen",
        out.to_str().unwrap(),
        "--packets",
        "3000000000",
        "--duration",
        "0.001",
    ];
    fails(
        &args,
        &["packets must be at most 100000000", "got 3000000000"],
    );
    assert_eq!(exit_code(&args), 2);
    assert!(
        std::fs::read_dir(&d).unwrap().next().is_none(),
        "wrote a file"
    );
}

/// Item 7: `--timeout-ms 0` (or an absurd wait) is a flag error, not a
/// board that "stopped answering".
#[test]
fn timeout_ms_must_be_sane() {
    for v in ["0", "60001", "18446744073709551615", "-5", "soon"] {
        let flag = format!("--timeout-ms={v}");
        let args = ["device", "--port", "/dev/null", &flag, "info"];
        fails(&args, &["--timeout-ms", "must be 1 to 60000 ms"]);
        assert_eq!(exit_code(&args), 2);
    }
}

/// Item 8: `--plot FILE` says it needs a directory (before any analysis).
#[test]
fn plot_needs_a_directory() {
    let d = tmpdir("plotfile");
    let f = write(&d, "figures", b"not a directory");
    let demo = data("demo.pcap");
    fails(
        &["compare", "--plot", &f, demo.to_str().unwrap()],
        &["--plot needs a directory", "figures is a file"],
    );
}

/// Item 8: a report that cannot be written is a non-zero exit: standard
/// output closed (`>&-`, one line on stderr), a full device (one line), a
/// closed pipe (quiet).
#[test]
fn a_report_that_cannot_be_written_is_an_error() {
    let demo = data("demo.pcap");
    let demo = demo.to_str().unwrap();
    for args in [&["analyze", demo][..], &["compare", demo], &["presets"]] {
        let o = Command::new("sh")
            .arg("-c")
            .arg("exec \"$@\" >&-")
            .arg("sh")
            .arg(env!("CARGO_BIN_EXE_bloomtime"))
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(
            err.trim(),
            "bloomtime: <stdout>: closed, the report would be lost (use -o FILE)"
        );
    }
    if Path::new("/dev/full").exists() {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let o = bin().args(["analyze", demo]).stdout(full).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.starts_with("bloomtime: <stdout>: No space left"),
            "{err}"
        );
    }
    // A pipe whose reader is gone before the first write.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = bin()
        .args(["analyze", demo])
        .stdout(writer)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A capture whose clock stepped back by hours after its first packet: the
/// packets before the first are counted time regressions, in the JSON
/// counters of both modes and in a one-line warning on stderr (issue 15,
/// item 1: they were all at time 0, counted nowhere, exit 0 and silence).
#[test]
fn packets_before_the_first_are_counted_and_warned() {
    let d = tmpdir("before-first");
    let s = 1_000_000_000u64;
    let t = 1_700_000_000 * s;
    let h3 = 3 * 3600 * s;
    let key = bloomtime_model::key::FlowKey::v4(17, [10, 0, 0, 1], 9, [10, 0, 0, 2], 53);
    let f = bloomtime_model::parse::build::frame(
        &key,
        0,
        &bloomtime_model::parse::build::udp(9, 53, 10),
        10,
    );
    let mut w = PcapWriter::new(Vec::new(), 65535).unwrap();
    for ns in [t, t - h3, t - h3 + s, t - h3 + 2 * s] {
        w.write(ns, &f).unwrap();
    }
    let p = write(&d, "back.pcap", &w.into_inner());
    for exact in [false, true] {
        let mut args = vec!["analyze", "--format", "json", &p];
        if exact {
            args.insert(1, "--exact");
        }
        let o = run(&args);
        assert!(o.status.success(), "{args:?}");
        let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let n = &j["counters"]["time_regressions"];
        assert_eq!(n, 3, "{args:?}: {j}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains("warning: 3 time regressions"), "{err}");
        assert!(err.contains("3 packets stamped before"), "{err}");
    }
    let o = run(&["compare", &p]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("warning: 3 time regressions"), "{err}");
    // A capture whose clock never goes back: no warning.
    let demo = data("demo.pcap");
    let o = run(&["analyze", demo.to_str().unwrap()]);
    assert!(o.status.success() && o.stderr.is_empty());
}
