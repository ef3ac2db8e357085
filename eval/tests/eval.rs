//! `bloomtime eval --quick` end to end, in process: the flags parsed as
//! the command parses them, then `bloomtime_eval::run`. The shared captures
//! (required under `CI=true`) and a small generated corpus give
//! `results.csv` with one row per configuration and trace, the summary and
//! every plot; bad input is an error of one line. (The command's exit codes
//! for these errors: `host/tests/cli.rs`.)

use bloomtime_eval::{Error, EvalArgs};
use clap::Parser;
use std::path::{Path, PathBuf};

/// The flags of `bloomtime eval`.
#[derive(Parser)]
struct Eval {
    #[command(flatten)]
    args: EvalArgs,
}

/// `bloomtime ARGS` for `ARGS` = `eval ...`: the files written.
fn run(args: &[&str]) -> Result<Vec<PathBuf>, Error> {
    assert_eq!(args[0], "eval");
    let e = Eval::try_parse_from(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    bloomtime_eval::run(&e.args)
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bloomtime-eval-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The captures of `../shared/traces` (names without extension, sorted);
/// `None` (a skip) only when they are missing and `CI` is not `true`
/// (`bloomtime_testkit::shared`).
fn shared_captures() -> Option<(PathBuf, Vec<String>)> {
    let traces = bloomtime_testkit::shared::for_test()?;
    let names = traces
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    Some((bloomtime_testkit::shared::dir(), names))
}

/// Split one CSV line (cells are quoted only when they hold a comma).
fn cells(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn is_svg(p: &Path) -> bool {
    std::fs::read_to_string(p).is_ok_and(|s| s.contains("<svg") && s.trim_end().ends_with("</svg>"))
}

#[test]
fn quick_eval_writes_results_summary_and_plots() {
    let out = tmpdir("quick");
    let o = out.to_str().unwrap();
    let shared = shared_captures();
    let mut args = vec!["eval", "--quick", "--out", o, "--jobs", "2"];
    let dir;
    match &shared {
        Some((d, _)) => {
            dir = d.to_str().unwrap().to_string();
            args.extend(["--traces", &dir]);
        }
        None => args.push("--no-real"),
    }
    let written = run(&args).unwrap_or_else(|e| panic!("eval failed: {e}"));

    let mut traces: Vec<String> = shared.map(|s| s.1).unwrap_or_default();
    traces.extend(["gen-demo", "gen-us-rtt", "load-250"].map(String::from));

    // results.csv: the header, then one row per configuration and trace.
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let mut lines = csv.lines();
    let header = cells(lines.next().unwrap());
    for col in [
        "trace",
        "family",
        "config",
        "group",
        "design",
        "counterfactual_of",
        "level_count",
        "bucket_log2",
        "buckets",
        "board_brams",
        "banks",
        "lines_log2",
        "state_bytes",
        "iat_mean_median",
        "iat_mean_median_all",
        "iat_mean_within_20pct",
        "rtt_mean_median",
        "iat_dominant",
        "iat_share_quantization",
        "iat_share_window",
        "iat_share_collision",
        "iat_share_table",
        "rtt_dominant",
        "iat_samples_collision",
        "export_bytes_per_record",
        "exact_bytes_per_flow",
    ] {
        assert!(header.iter().any(|h| h == col), "no column {col}");
    }
    assert_eq!(
        &header[..4],
        ["trace", "family", "load_conversations", "config"]
    );
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<Vec<String>> = lines.map(cells).collect();
    for r in &rows {
        assert_eq!(r.len(), header.len(), "{r:?}");
    }
    // Quick: every preset, three of them with three counterfactuals each,
    // and four more.
    let hx8k: Vec<String> = bloomtime_eval::sweep::hx8k_candidates()
        .into_iter()
        .take(2)
        .map(|c| c.label)
        .collect();
    let mut configs = vec![
        "alchitry-cu",
        "alchitry-cu/cf:infinite-table",
        "alchitry-cu/cf:no-collisions",
        "alchitry-cu/cf:no-collisions-infinite-window",
        "alchitry-cu-v1",
        "alchitry-cu-v1/cf:infinite-table",
        "alchitry-cu-v1/cf:no-collisions",
        "alchitry-cu-v1/cf:no-collisions-infinite-window",
        "paper",
        "paper/cf:infinite-table",
        "paper/cf:no-collisions",
        "paper/cf:no-collisions-infinite-window",
        "large",
        "datacenter",
        "cu:bucket_log2=16",
        "paper-scaled:lines_log2=8",
    ];
    configs.extend(hx8k.iter().map(|s| s.as_str()));
    assert_eq!(rows.len(), configs.len() * traces.len());
    for c in configs {
        for t in &traces {
            let n = rows
                .iter()
                .filter(|r| r[col("config")] == c && &r[col("trace")] == t)
                .count();
            assert_eq!(n, 1, "{c} on {t}");
        }
    }
    // Counterfactual rows name their preset; a run of the generated demo
    // trace estimates flows.
    for r in &rows {
        let cf = &r[col("counterfactual_of")];
        assert_eq!(cf.is_empty(), !r[col("config")].contains("/cf:"));
        if r[col("config")] == "alchitry-cu" && r[col("trace")] == "gen-demo" {
            let est: usize = r[col("iat_mean_flows_estimated")].parse().unwrap();
            assert!(est > 50, "{est}");
            assert!(!r[col("iat_dominant")].is_empty());
        }
    }

    // Summary and plots.
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    for s in [
        "Error causes by traffic",
        "Counterfactual runs",
        "Pareto front",
        "Capacity on the load ladder",
        "The paper's claims in our setup",
        "Proposed presets",
    ] {
        assert!(md.contains(s), "summary.md lacks {s}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert!(!json["objectives"].as_array().unwrap().is_empty());
    let mut plots = vec![
        out.join("error_vs_state_generated.svg"),
        out.join("flows_per_kib.svg"),
        out.join("breakdown_alchitry-cu.svg"),
        out.join("breakdown_paper.svg"),
        out.join("cdf/gen-demo.svg"),
        out.join("cdf/load-250.svg"),
    ];
    if traces.len() > 2 {
        plots.push(out.join("error_vs_state_real.svg"));
        plots.push(out.join("error_vs_state_mixed.svg"));
    }
    for p in &plots {
        assert!(is_svg(p), "{} missing or not an SVG", p.display());
    }
    for p in plots.iter().chain([
        &out.join("results.csv"),
        &out.join("summary.md"),
        &out.join("summary.json"),
    ]) {
        assert!(written.contains(p), "{} not reported written", p.display());
    }
    for p in &written {
        assert!(p.is_file(), "{}", p.display());
    }
}

fn fails(args: &[&str], expect: &str) {
    let err = match run(args) {
        Ok(_) => panic!("{args:?} succeeded"),
        Err(e) => e.to_string(),
    };
    assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err}");
    assert!(err.contains(expect), "{args:?}: {err:?} lacks {expect:?}");
}

#[test]
fn bad_input_is_one_line_and_nonzero() {
    let d = tmpdir("bad");
    let out = d.join("out");
    let o = out.to_str().unwrap();
    let missing = d.join("missing");
    fails(
        &[
            "eval",
            "--quick",
            "--out",
            o,
            "--traces",
            missing.to_str().unwrap(),
        ],
        "cannot read the traces directory",
    );
    let empty = d.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    fails(
        &[
            "eval",
            "--quick",
            "--out",
            o,
            "--traces",
            empty.to_str().unwrap(),
        ],
        "no captures",
    );
    let garbage = d.join("garbage");
    std::fs::create_dir_all(&garbage).unwrap();
    std::fs::write(garbage.join("bad.pcap"), b"not a capture at all").unwrap();
    fails(
        &[
            "eval",
            "--quick",
            "--out",
            o,
            "--traces",
            garbage.to_str().unwrap(),
        ],
        "bad.pcap",
    );
    fails(
        &[
            "eval",
            "--quick",
            "--no-real",
            "--out",
            o,
            "--only",
            "no-such-config",
        ],
        "matches no configuration",
    );
}
