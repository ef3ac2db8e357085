//! `bloomtime analyze --ipfix` against a real collector (issue 14): nfcapd
//! (Debian's nfdump) on a loopback port stores what arrives, `nfdump -r`
//! must show every flow of the CSV with its packet count; nfcapd repeats
//! every datagram (`-R`) to scripts/ipfix-check.py, an independent decoder
//! written from RFC 7011 alone, which compares every timing figure with
//! the CSV. Needs nfcapd, nfdump and python3 (`just tools` installs them):
//! missing, the test is skipped with a note, and fails under `CI=true`.

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether the tools are there; under CI a missing tool fails the test.
fn tools() -> bool {
    bloomtime_testkit::need_tools("ipfix_collector", &["nfcapd", "nfdump", "python3"])
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// (proto, src, dst, ports unless ICMP, packets) of every flow: nfdump
/// shows ICMP's ports as its own type.code, so those are left out.
type FlowCount = (u8, String, String, Option<(u16, u16)>, u64);

fn csv_flows(csv: &str) -> Vec<FlowCount> {
    let mut v: Vec<FlowCount> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            let proto: u8 = c[0].parse().unwrap();
            let ports =
                (proto != 1 && proto != 58).then(|| (c[2].parse().unwrap(), c[4].parse().unwrap()));
            (
                proto,
                c[1].to_string(),
                c[3].to_string(),
                ports,
                c[5].parse().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn nfdump_flows(dir: &Path) -> Vec<FlowCount> {
    let o = Command::new("nfdump")
        .arg("-R")
        .arg(dir)
        .args(["-q", "-N", "-6", "-o", "fmt:%pr|%sa|%sp|%da|%dp|%pkt"])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "nfdump: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut v: Vec<FlowCount> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('|').map(str::trim).collect();
            let proto: u8 = c[0].parse().unwrap();
            let ports =
                (proto != 1 && proto != 58).then(|| (c[2].parse().unwrap(), c[4].parse().unwrap()));
            (
                proto,
                c[1].to_string(),
                c[3].to_string(),
                ports,
                c[5].parse().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// One export of `trace` with `args` to nfcapd and the decoder.
fn export_to_nfcapd(name: &str, trace: &Path, args: &[&str]) {
    let dir = std::env::temp_dir().join(format!("bloomtime-ipfix-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let flows_dir = dir.join("flows");
    std::fs::create_dir_all(&flows_dir).unwrap();
    let bin = env!("CARGO_BIN_EXE_bloomtime");
    // The CSV without export: the reference.
    let csv_path = dir.join("flows.csv");
    let st = Command::new(bin)
        .arg("analyze")
        .args(args)
        .args(["--format", "csv", "-o"])
        .arg(&csv_path)
        .arg(trace)
        .status()
        .unwrap();
    assert!(st.success());
    let csv = std::fs::read_to_string(&csv_path).unwrap();

    let (collector, repeat) = (free_udp_port(), free_udp_port());
    let mut check = Killed(
        Command::new("python3")
            .arg(root().join("scripts/ipfix-check.py"))
            .args(["--listen", &repeat.to_string(), "--csv"])
            .arg(&csv_path)
            .args(["--idle", "5", "--timeout", "60"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut out = BufReader::new(check.0.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "listening");
    let log = dir.join("nfcapd.log");
    let log_file = std::fs::File::create(&log).unwrap();
    let nfcapd = Killed(
        Command::new("nfcapd")
            .args([
                "-b",
                "127.0.0.1",
                "-p",
                &collector.to_string(),
                "-t",
                "3600",
            ])
            .arg("-w")
            .arg(&flows_dir)
            .args(["-R", &format!("127.0.0.1/{repeat}")])
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .unwrap(),
    );
    let t = Instant::now();
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("Startup")
    {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "nfcapd did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    let o = Command::new(bin)
        .arg("analyze")
        .args(args)
        .args([
            "--format",
            "csv",
            "--ipfix",
            &format!("127.0.0.1:{collector}"),
        ])
        .arg(trace)
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        csv,
        "the report is the same"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("warning"), "{err}");

    // The decoder ends 1.5 s after the last datagram.
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let st = check.0.wait().unwrap();
    assert!(st.success(), "ipfix-check failed: {rest}");
    assert!(rest.contains("every flow of"), "{rest}");
    eprintln!("{name}: {}", rest.trim());

    // nfcapd writes its file when it stops (SIGTERM).
    let mut nfcapd = nfcapd;
    let pid = nix::unistd::Pid::from_raw(nfcapd.0.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    assert!(nfcapd.0.wait().unwrap().success());
    let stored = nfdump_flows(&flows_dir);
    let want = csv_flows(&csv);
    assert_eq!(stored.len(), want.len(), "flows in nfcapd's file");
    assert_eq!(stored, want);
    let nlog = std::fs::read_to_string(&log).unwrap();
    assert!(nlog.contains("Sequence Errors: 0"), "{nlog}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn exact_export_reaches_nfcapd_with_every_flow_and_figure() {
    if !tools() {
        return;
    }
    let demo = root().join("traces/data/demo.pcap");
    export_to_nfcapd("exact", &demo, &["--exact", "--percentiles"]);
}

#[test]
fn estimate_export_of_loopback_sll2_reaches_nfcapd() {
    if !tools() {
        return;
    }
    // The estimate (figures the preset does not keep are NaN), of a
    // `tcpdump -i any` capture.
    let sll2 = root().join("traces/data/linktypes/lo-sll2.pcap");
    export_to_nfcapd("estimate", &sll2, &["--preset", "large", "--percentiles"]);
}

/// 37 669 flows in 4 201 messages (templates sent again every 64): every
/// one stored, no sequence error.
#[test]
fn thousands_of_messages_reach_nfcapd() {
    if !tools() {
        return;
    }
    let Some(traces) = bloomtime_testkit::shared::for_test() else {
        return;
    };
    let Some(ddos) = traces
        .iter()
        .find(|p| p.ends_with("ddos-synflood-spoofed.pcap"))
    else {
        let test = "thousands_of_messages_reach_nfcapd";
        bloomtime_testkit::skip_or_fail(test, "no ddos-synflood-spoofed.pcap in the shared traces");
        return;
    };
    export_to_nfcapd("ddos", ddos, &["--exact"]);
}
