//! Helpers of the command-line tests: temporary directories, the host's
//! `analyze` and `device` in process, the `bloomtime-sim` binary and the
//! virtual board.
#![allow(dead_code)]

use bloomtime_host::cli::Cli;
use clap::Parser;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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
        bloomtime_model::config::HARDWARE_PRESET,
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

/// `bloomtime device --port PORT ARGS -o FILE`, in process: what the
/// `bloomtime` binary runs (`bloomtime_host::run`), without its `main`.
/// The report's text, or the error's one-line message.
pub fn device(port: &str, args: &[&str]) -> Result<String, String> {
    let out = tmpdir("device").join("out");
    let mut v: Vec<String> = ["bloomtime", "device", "--port", port]
        .iter()
        .map(|s| s.to_string())
        .collect();
    v.extend(args.iter().map(|s| s.to_string()));
    v.push("-o".into());
    v.push(out.display().to_string());
    let cli = Cli::try_parse_from(&v).unwrap_or_else(|e| panic!("{v:?}: {e}"));
    let r = bloomtime_host::run(cli).map_err(|e| e.to_string());
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_dir_all(out.parent().unwrap());
    r.map(|_| text)
}

/// The first `n` packets of a capture, as a new pcap in `dir`.
pub fn head_of(trace: &Path, n: usize, dir: &Path) -> PathBuf {
    let pk = bloomtime_traces::pcap::read_file(trace).unwrap();
    assert!(
        pk.len() >= n,
        "{} has {} packets",
        trace.display(),
        pk.len()
    );
    let mut w = bloomtime_traces::writer::PcapWriter::new(Vec::new(), 65535).unwrap();
    for p in pk.iter().take(n) {
        w.write(p.ns, &p.data).unwrap();
    }
    let out = dir.join(format!("head{n}.pcap"));
    std::fs::write(&out, w.into_inner()).unwrap();
    out
}

/// Packets in a capture (pcap or pcapng).
pub fn packets_in(trace: &Path) -> u64 {
    let mut src = bloomtime_traces::MergedTraces::open(&[trace]).unwrap();
    let mut n = 0;
    while src.next_packet().unwrap().is_some() {
        n += 1;
    }
    n
}

/// `bloomtime-sim board --link DIR/tty ARGS`, running.
pub struct VirtualBoard {
    child: Child,
    pub link: PathBuf,
    /// The pty's path, as printed.
    pub pty: PathBuf,
}

impl VirtualBoard {
    /// Start it and wait until it serves (it prints the pty's path then).
    pub fn start(dir: &Path, extra: &[&str]) -> VirtualBoard {
        let link = dir.join("tty");
        let mut child = Command::new(env!("CARGO_BIN_EXE_bloomtime-sim"))
            .arg("board")
            .arg("--link")
            .arg(&link)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start bloomtime-sim board");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("/dev/pts/"), "{line:?}");
        let pty = PathBuf::from(line.trim());
        assert_eq!(std::fs::read_link(&link).unwrap(), pty);
        VirtualBoard { child, link, pty }
    }

    pub fn port(&self) -> &str {
        self.link.to_str().unwrap()
    }

    /// Send `sig`; the board must exit 0 within 5 s and remove its link.
    /// Its standard error.
    pub fn stop_with(mut self, sig: Signal) -> String {
        kill(Pid::from_raw(self.child.id() as i32), sig).unwrap();
        let t0 = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "the virtual board ignores {sig}"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut err = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert!(status.success(), "{status:?}: {err}");
        assert!(
            std::fs::symlink_metadata(&self.link).is_err(),
            "link left behind"
        );
        assert!(err.contains("stopped after"), "{err}");
        assert!(!err.contains("framing errors"), "{err}");
        err
    }

    pub fn stop(self) -> String {
        self.stop_with(Signal::SIGTERM)
    }
}

impl Drop for VirtualBoard {
    fn drop(&mut self) {
        // Only if a test failed before stopping it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
