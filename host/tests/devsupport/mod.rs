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
        bloomtime_model::config::HARDWARE_PRESET,
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
    bloomtime_testkit::shared::for_test()
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
