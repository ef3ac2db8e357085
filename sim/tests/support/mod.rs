//! Helpers of the command-line tests: temporary directories, the host's
//! `analyze` in process, the `bloomtime-sim` binary.
#![allow(dead_code)]

use bloomtime_host::cli::Cli;
use clap::Parser;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};

pub fn tmpdir(name: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let d = std::env::temp_dir().join(format!(
        "bloomtime-sim-{}-{name}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The committed demo trace.
pub fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../traces/data/demo.pcap")
}

/// `bloomtime analyze --preset alchitry-cu --format FORMAT TRACES`, in
/// process: the report's text.
pub fn analyze(traces: &[&Path], format: &str) -> String {
    let out = tmpdir("analyze").join("a.out");
    let mut args: Vec<String> = [
        "bloomtime",
        "analyze",
        "--preset",
        "alchitry-cu",
        "--format",
        format,
        "-o",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(out.display().to_string());
    args.extend(traces.iter().map(|t| t.display().to_string()));
    bloomtime_host::run(Cli::try_parse_from(args).unwrap()).unwrap();
    let s = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_dir_all(out.parent().unwrap());
    s
}

/// Run `bloomtime-sim ARGS`.
pub fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bloomtime-sim"))
        .args(args)
        .output()
        .expect("run bloomtime-sim")
}

/// `bloomtime-sim replay --format FORMAT TRACES`: the report's text
/// (standard output); the run must succeed.
pub fn sim_replay(traces: &[&Path], format: &str) -> String {
    let mut args = vec!["replay", "--format", format];
    let names: Vec<String> = traces.iter().map(|t| t.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let o = sim(&args);
    assert!(
        o.status.success(),
        "bloomtime-sim {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// The command fails with one line on standard error containing every
/// `expect`, and exit code `code`.
pub fn fails(args: &[&str], code: i32, expect: &[&str]) {
    let o = sim(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for e in expect {
        assert!(err.contains(e), "{args:?}: {err:?} lacks {e:?}");
    }
}
