//! Shared helpers of the device tests.
#![allow(dead_code)]

use bloomtime_host::cli::{Cli, Command};
use bloomtime_host::device::cmd::run_on;
use bloomtime_host::device::{Loopback, ModelDevice, ModelOptions, Transport};
use bloomtime_host::Error;
use clap::Parser;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../traces/data")
        .join(name)
}

pub fn tmpdir(name: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let d = std::env::temp_dir().join(format!(
        "bloomtime-dev-{}-{name}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `bloomtime analyze --preset alchitry-cu --format csv TRACES`, in process.
pub fn analyze_csv(traces: &[&Path]) -> String {
    let out = tmpdir("analyze").join("a.csv");
    let mut args: Vec<String> = [
        "bloomtime",
        "analyze",
        "--preset",
        "alchitry-cu",
        "--format",
        "csv",
        "-o",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(out.display().to_string());
    args.extend(traces.iter().map(|t| t.display().to_string()));
    bloomtime_host::run(Cli::try_parse_from(args).unwrap()).unwrap();
    std::fs::read_to_string(out).unwrap()
}

/// `bloomtime device --port model ARGS -o FILE` over `t`, in process: the
/// report's text.
pub fn device_out<T: Transport>(args: &[&str], t: T) -> Result<String, Error> {
    let out = tmpdir("device").join("out");
    let mut v: Vec<String> = vec![
        "bloomtime".into(),
        "device".into(),
        "--port".into(),
        "model".into(),
    ];
    v.extend(args.iter().map(|s| s.to_string()));
    v.push("-o".into());
    v.push(out.display().to_string());
    let cli = Cli::try_parse_from(v).unwrap();
    let Command::Device(a) = &cli.command else {
        unreachable!()
    };
    run_on(a, t)?;
    Ok(std::fs::read_to_string(out).unwrap())
}

pub fn model() -> Loopback {
    Loopback::new(ModelDevice::new(ModelOptions::default()))
}

/// Real captures from ../shared/traces: required when CI=true, else skipped
/// with a message when missing.
pub fn shared_traces() -> Option<Vec<PathBuf>> {
    let ci = std::env::var("CI").map(|v| v == "true").unwrap_or(false);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        assert!(
            !ci,
            "CI=true and the shared traces dir {} is missing",
            dir.display()
        );
        eprintln!("skip: no shared traces at {}", dir.display());
        return None;
    };
    let mut v: Vec<PathBuf> = rd
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("pcap" | "pcapng")
            )
        })
        .collect();
    v.sort();
    // Every capture the README lists must be there under CI.
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap_or_default();
    for line in readme
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| file"))
    {
        let cell = line
            .trim_start_matches("| ")
            .split(" |")
            .next()
            .unwrap_or("");
        for name in cell.split(", ").map(str::trim) {
            if (name.ends_with(".pcap") || name.ends_with(".pcapng")) && !dir.join(name).is_file() {
                assert!(!ci, "CI=true and {} is missing", dir.join(name).display());
                eprintln!("skip: {name} listed in the README is missing");
            }
        }
    }
    if v.is_empty() {
        assert!(!ci, "CI=true and {} has no captures", dir.display());
        eprintln!("skip: no captures in {}", dir.display());
        return None;
    }
    Some(v)
}

/// The first `n` packets of a capture, as a new pcap.
pub fn head_of(trace: &Path, n: usize, dir: &Path) -> PathBuf {
    let pk = bloomtime_traces::pcap::read_file(trace).unwrap();
    let mut w = bloomtime_traces::writer::PcapWriter::new(Vec::new(), 65535).unwrap();
    for p in pk.iter().take(n) {
        w.write(p.ns, &p.data).unwrap();
    }
    let out = dir.join(format!("head{n}.pcap"));
    std::fs::write(&out, w.into_inner()).unwrap();
    out
}
