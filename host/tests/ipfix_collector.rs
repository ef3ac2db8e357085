//! `bloomtime analyze --ipfix` against a real collector (issue 14): nfcapd
//! (Debian's nfdump) on a loopback port stores what arrives, `nfdump -r`
//! must show every flow of the CSV with its packet count; nfcapd repeats
//! every datagram (`-R`) to scripts/ipfix-check.py, an independent decoder
//! written from RFC 7011 alone, which compares every timing figure with
//! the CSV. Both check every flow's start and end time against the
//! earliest and latest timestamp of its packets, read from the capture
//! here apart from `analyze`. nfcapd speaks UDP only: `--ipfix tcp://`
//! goes to the decoder alone (`--tcp`). Needs nfcapd, nfdump and python3 (`just tools`
//! installs them): missing, the test is skipped with a note, and fails
//! under `CI=true`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, UdpSocket};
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

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The exports of this file run one at a time: UDP has no flow control,
/// and a decoder or collector starved of CPU by a parallel export (on a
/// busy 2-core machine) misses datagrams.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Each flow's first and last packet (nanoseconds since the Unix epoch)
/// by the CSV's first five cells (`proto,src,sport,dst,dport`).
type Times = BTreeMap<String, (u64, u64)>;

/// The earliest and latest capture timestamp of each key's packets, as the
/// model's parser keys them: read from the capture here, apart from
/// `analyze`'s bookkeeping.
fn reference_times(trace: &Path) -> Times {
    let cfg = bloomtime_model::preset("alchitry-cu").unwrap();
    let mut recs = bloomtime_traces::Records::open(&[trace], &cfg).unwrap();
    let mut t = Times::new();
    while let Some(f) = recs.next_frame().unwrap() {
        let Ok(r) = f.record() else { continue };
        let k = r.key;
        let addr = |a: &[u8; 16]| {
            if k.v6 {
                std::net::Ipv6Addr::from(*a).to_string()
            } else {
                std::net::Ipv4Addr::new(a[12], a[13], a[14], a[15]).to_string()
            }
        };
        let name = format!(
            "{},{},{},{},{}",
            k.proto,
            addr(&k.src),
            k.sport,
            addr(&k.dst),
            k.dport
        );
        let e = t.entry(name).or_insert((f.ns, f.ns));
        e.0 = e.0.min(f.ns);
        e.1 = e.1.max(f.ns);
    }
    t
}

/// The times as scripts/ipfix-check.py --times reads them.
fn write_times(path: &Path, t: &Times) {
    let mut s = String::from("proto,src,sport,dst,dport,first_ns,last_ns\n");
    for (k, (a, b)) in t {
        s += &format!("{k},{a},{b}\n");
    }
    std::fs::write(path, s).unwrap();
}

/// Nanoseconds since the Unix epoch as nfdump prints a time under TZ=UTC:
/// `YYYY-MM-DD HH:MM:SS.mmm`.
fn utc_ms(ns: u64) -> String {
    let ms = ns / 1_000_000;
    let (days, rest) = ((ms / 86_400_000) as i64, ms % 86_400_000);
    // The civil date of a day number (days since 1970-01-01), by eras of
    // 400 years of 146 097 days, years starting in March.
    let z = days + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + (month <= 2) as i64;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03}",
        rest / 3_600_000,
        rest / 60_000 % 60,
        rest / 1000 % 60,
        rest % 1000
    )
}

#[test]
fn utc_ms_is_the_civil_time() {
    assert_eq!(utc_ms(0), "1970-01-01 00:00:00.000");
    assert_eq!(utc_ms(1_700_000_000_123_456_789), "2023-11-14 22:13:20.123");
    assert_eq!(utc_ms(951_782_400_000_000_000), "2000-02-29 00:00:00.000");
    assert_eq!(utc_ms(4_107_542_399_999_000_000), "2100-02-28 23:59:59.999");
}

/// (proto, src, dst, ports unless ICMP, packets, first and last packet as
/// nfdump prints them) of every flow: nfdump shows ICMP's ports as its own
/// type.code, so those are left out.
type FlowCount = (u8, String, String, Option<(u16, u16)>, u64, String, String);

fn csv_flows(csv: &str, times: &Times) -> Vec<FlowCount> {
    let mut v: Vec<FlowCount> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            let proto: u8 = c[0].parse().unwrap();
            let ports =
                (proto != 1 && proto != 58).then(|| (c[2].parse().unwrap(), c[4].parse().unwrap()));
            let (first, last) = times[&c[..5].join(",")];
            (
                proto,
                c[1].to_string(),
                c[3].to_string(),
                ports,
                c[5].parse().unwrap(),
                utc_ms(first),
                utc_ms(last),
            )
        })
        .collect();
    v.sort();
    v
}

fn nfdump_flows(dir: &Path) -> Vec<FlowCount> {
    let o = Command::new("nfdump")
        .env("TZ", "UTC")
        .arg("-R")
        .arg(dir)
        .args([
            "-q",
            "-N",
            "-6",
            "-o",
            "fmt:%pr|%sa|%sp|%da|%dp|%pkt|%ts|%te",
        ])
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
                c[6].to_string(),
                c[7].to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// A fresh directory of this test process for `name`.
fn test_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bloomtime-ipfix-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The CSV of `trace` with `args`, without export: the reference (its
/// path in `dir`, and its text).
fn reference_csv(dir: &Path, trace: &Path, args: &[&str]) -> (PathBuf, String) {
    let csv_path = dir.join("flows.csv");
    let st = Command::new(env!("CARGO_BIN_EXE_bloomtime"))
        .arg("analyze")
        .args(args)
        .args(["--format", "csv", "-o"])
        .arg(&csv_path)
        .arg(trace)
        .status()
        .unwrap();
    assert!(st.success());
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    (csv_path, csv)
}

/// `bloomtime analyze` of `trace` with `args`, `--ipfix target` and
/// `export_args`: the report must be `csv` and standard error free of
/// warnings.
fn analyze_with_export(trace: &Path, args: &[&str], export_args: &[&str], target: &str, csv: &str) {
    let o = Command::new(env!("CARGO_BIN_EXE_bloomtime"))
        .arg("analyze")
        .args(args)
        .args(["--format", "csv", "--ipfix", target])
        .args(export_args)
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
}

/// scripts/ipfix-check.py listening on `port` (over TCP if `tcp`), once it
/// says so; and its standard output after that line. The flows' times
/// must be those of `times_path`, or there must be none.
fn start_check(
    port: u16,
    csv_path: &Path,
    times_path: Option<&Path>,
    tcp: bool,
) -> (Killed, BufReader<std::process::ChildStdout>) {
    let times: Vec<&std::ffi::OsStr> = match times_path {
        Some(p) => vec!["--times".as_ref(), p.as_os_str()],
        None => Vec::new(),
    };
    let mut check = Killed(
        Command::new("python3")
            .arg(root().join("scripts/ipfix-check.py"))
            .args(["--listen", &port.to_string(), "--csv"])
            .arg(csv_path)
            .args(times)
            .args(if tcp { &["--tcp"][..] } else { &[] })
            .args(["--idle", "5", "--timeout", "60"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut out = BufReader::new(check.0.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "listening");
    (check, out)
}

/// The decoder's verdict: it must end with success, every record with
/// the times asked for if `times`, else none with times.
fn check_passes(
    name: &str,
    mut check: Killed,
    mut out: BufReader<std::process::ChildStdout>,
    times: bool,
) {
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let st = check.0.wait().unwrap();
    assert!(st.success(), "ipfix-check failed: {rest}");
    assert!(rest.contains("every flow of"), "{rest}");
    if times {
        assert!(rest.contains("records with times, each as in"), "{rest}");
    } else {
        assert!(rest.contains("; 0 records with times"), "{rest}");
    }
    eprintln!("{name}: {}", rest.trim());
}

/// One export of `trace` with `args` (and `export_args` where it exports)
/// to nfcapd and the decoder, every flow with its start and end time.
fn export_to_nfcapd(name: &str, trace: &Path, args: &[&str], export_args: &[&str]) {
    let _one = one_at_a_time();
    let dir = test_dir(name);
    let flows_dir = dir.join("flows");
    std::fs::create_dir_all(&flows_dir).unwrap();
    let (csv_path, csv) = reference_csv(&dir, trace, args);
    let times = reference_times(trace);
    let times_path = dir.join("times.csv");
    write_times(&times_path, &times);
    let (collector, repeat) = (free_udp_port(), free_udp_port());
    let (check, out) = start_check(repeat, &csv_path, Some(&times_path), false);
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
                // A socket buffer for the bursts (docs/IPFIX.md).
                "-B",
                "8000000",
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

    let target = format!("127.0.0.1:{collector}");
    analyze_with_export(trace, args, export_args, &target, &csv);
    // The decoder ends 5 s (--idle) after the last datagram.
    check_passes(name, check, out, true);

    // nfcapd writes its file when it stops (SIGTERM).
    let mut nfcapd = nfcapd;
    let pid = nix::unistd::Pid::from_raw(nfcapd.0.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    assert!(nfcapd.0.wait().unwrap().success());
    let stored = nfdump_flows(&flows_dir);
    // Every flow with its packet count and its start and end times.
    let want = csv_flows(&csv, &times);
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
    export_to_nfcapd("exact", &demo, &["--exact", "--percentiles"], &[]);
}

#[test]
fn estimate_export_of_loopback_sll2_reaches_nfcapd() {
    if !tools() {
        return;
    }
    // The estimate (figures the preset does not keep are NaN), of a
    // `tcpdump -i any` capture, with its flows' times.
    let sll2 = root().join("traces/data/linktypes/lo-sll2.pcap");
    let args = ["--preset", "large", "--percentiles"];
    export_to_nfcapd("estimate", &sll2, &args, &["--flow-times"]);
}

/// The shared DDoS capture (37 669 flows), or None after the kit's rule for
/// a missing capture (a failure under `CI=true`).
fn ddos_trace(test: &str) -> Option<PathBuf> {
    let traces = bloomtime_testkit::shared::for_test()?;
    let found = traces
        .iter()
        .find(|p| p.ends_with("ddos-synflood-spoofed.pcap"))
        .cloned();
    if found.is_none() {
        bloomtime_testkit::skip_or_fail(test, "no ddos-synflood-spoofed.pcap in the shared traces");
    }
    found
}

/// 37 669 flows in 5 430 messages with times (templates sent again every
/// 64): every one stored with its times, no sequence error.
#[test]
fn thousands_of_messages_reach_nfcapd() {
    if !tools() {
        return;
    }
    let Some(ddos) = ddos_trace("thousands_of_messages_reach_nfcapd") else {
        return;
    };
    export_to_nfcapd("ddos", &ddos, &["--exact"], &[]);
}

/// One export of `trace` with `args` over TCP to the decoder, which reads
/// the stream until the exporter closes it; every flow with its times if
/// `times`, else none.
fn export_over_tcp(name: &str, trace: &Path, args: &[&str], times: bool) {
    let _one = one_at_a_time();
    let dir = test_dir(name);
    let (csv_path, csv) = reference_csv(&dir, trace, args);
    let times_path = dir.join("times.csv");
    write_times(&times_path, &reference_times(trace));
    let port = free_tcp_port();
    let (check, out) = start_check(port, &csv_path, times.then_some(&*times_path), true);
    analyze_with_export(trace, args, &[], &format!("tcp://127.0.0.1:{port}"), &csv);
    check_passes(name, check, out, times);
    let _ = std::fs::remove_dir_all(&dir);
}

fn python() -> bool {
    bloomtime_testkit::need_tools("ipfix_collector (TCP)", &["python3"])
}

#[test]
fn exact_export_over_tcp_has_every_flow_and_figure() {
    if !python() {
        return;
    }
    let demo = root().join("traces/data/demo.pcap");
    export_over_tcp("tcp-exact", &demo, &["--exact", "--percentiles"], true);
}

#[test]
fn estimate_export_over_tcp_has_every_flow_and_figure() {
    if !python() {
        return;
    }
    let sll2 = root().join("traces/data/linktypes/lo-sll2.pcap");
    // Without --flow-times the estimate sends no times.
    let args = ["--preset", "large", "--percentiles"];
    export_over_tcp("tcp-estimate", &sll2, &args, false);
}

/// Thousands of flows in long messages (up to 65 535 bytes) over one
/// connection: every one arrives, templates once.
#[test]
fn thousands_of_flows_over_tcp() {
    if !python() {
        return;
    }
    let Some(ddos) = ddos_trace("thousands_of_flows_over_tcp") else {
        return;
    };
    export_over_tcp("tcp-ddos", &ddos, &["--exact"], true);
}

/// A closed TCP port: one warning at once and one at the end with the
/// count of flow records not sent; the report is written, exit status 0,
/// no wait.
#[test]
fn a_refused_tcp_collector_is_a_warning() {
    let demo = root().join("traces/data/demo.pcap");
    let dir = test_dir("tcp-refused");
    let (_, csv) = reference_csv(&dir, &demo, &["--exact"]);
    let flows = csv.lines().count() - 1;
    let port = free_tcp_port();
    let t = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_bloomtime"))
        .args(["analyze", "--exact", "--format", "csv", "--ipfix"])
        .arg(format!("tcp://127.0.0.1:{port}"))
        .arg(&demo)
        .output()
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert!(o.status.success());
    assert_eq!(String::from_utf8(o.stdout).unwrap(), csv);
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    let to = format!("bloomtime analyze: warning: IPFIX export to tcp://127.0.0.1:{port}: ");
    assert!(lines[0].starts_with(&to), "{err}");
    assert!(lines[0].contains("refused"), "{err}");
    assert!(lines[1].starts_with(&to), "{err}");
    assert!(
        lines[1].contains(&format!("{flows} flow records in them")),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--flow-times` only means something with `--ipfix`: a flag error
/// without it.
#[test]
fn flow_times_need_ipfix() {
    let demo = root().join("traces/data/demo.pcap");
    let o = Command::new(env!("CARGO_BIN_EXE_bloomtime"))
        .args(["analyze", "--flow-times"])
        .arg(&demo)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--ipfix"), "{err}");
}
