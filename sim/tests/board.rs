//! The virtual board end to end: `bloomtime-sim board --link X` (the
//! Verilated board top, UART included, behind a pseudo-terminal) driven by
//! `bloomtime device --port X` (run in process: `bloomtime_host::run`, the
//! code of the `bloomtime` binary) gives the CSV of `bloomtime analyze
//! --preset alchitry-cu`, byte for byte, and the same pipeline counters; the
//! other device commands work; a damaged link still ends with the same
//! flows; the board stops cleanly on SIGTERM and SIGINT.
//!
//! The board simulates ~1.2 M clocks/s, ~14 kB/s of link at its
//! 12.5 Mbaud: the traces here are a few thousand packets at most.

mod support;
use bloomtime_host::device::client::{Client, ClientOptions};
use bloomtime_host::device::cmd::{replay, ReplayOptions};
use bloomtime_host::device::fault::{FaultRates, FaultyTransport};
use bloomtime_host::device::SerialTransport;
use bloomtime_model::counters::Counter;
use bloomtime_traces::gen::{generate_file, GenOptions, Mix};
use nix::sys::signal::Signal;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Instant;
use support::*;

/// A generated trace with every kind of flow (pings and TCP handshakes
/// give RTT samples), VLAN, QinQ and IPv6 conversations.
fn generated(dir: &Path, seed: u64, packets: u64) -> PathBuf {
    let p = dir.join(format!("gen-{seed}-{packets}.pcap"));
    let o = GenOptions {
        seed,
        flows: 80,
        packets,
        duration_s: 3.0,
        mix: Mix {
            ping: 2.0,
            tcp: 3.0,
            ..Mix::default()
        },
        ..GenOptions::default()
    };
    let truth = generate_file(&o, &p, None).unwrap();
    assert_eq!(truth.packets, packets);
    p
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

fn count(v: &Value, name: &str) -> u64 {
    v[name]
        .as_u64()
        .unwrap_or_else(|| panic!("no counter {name} in {v}"))
}

/// The packet-conservation laws on INFO's counters, and the counters equal
/// to those of `bloomtime analyze` (the golden model) on the same capture.
fn check_counters(info: &Value, analyzed: &Value, packets: u64) {
    assert_eq!(info["invariants"]["ok"], true, "{info}");
    let k = &info["counters"];
    let drops: u64 = k
        .as_object()
        .unwrap()
        .iter()
        .filter(|(n, _)| n.starts_with("drop_"))
        .map(|(_, v)| v.as_u64().unwrap())
        .sum();
    assert_eq!(count(k, "frames"), packets);
    assert_eq!(count(k, "frames"), count(k, "records") + drops);
    assert_eq!(
        count(k, "records"),
        count(k, "iat_samples") + count(k, "iat_misses")
    );
    assert_eq!(
        count(k, "rtt_lookups"),
        count(k, "rtt_samples") + count(k, "rtt_misses")
    );
    assert!(count(k, "opens") >= count(k, "evict_collision") + count(k, "evict_flush"));
    let l = &info["link_counters"];
    assert_eq!(count(l, "replay_frames"), packets);
    for e in ["rx_crc_errors", "rx_slip_errors", "rx_uart_errors"] {
        assert_eq!(count(l, e), 0, "{e}: {l}");
    }
    assert_eq!(k, &analyzed["counters"], "counters differ from analyze's");
}

#[test]
fn a_generated_trace_over_the_virtual_board_equals_analyze() {
    let d = tmpdir("gen");
    let trace = generated(&d, 21, 1500);
    let t = trace.to_str().unwrap();
    let board = VirtualBoard::start(&d, &[]);
    let want = analyze(&[&trace], "csv");
    let t0 = Instant::now();
    let got = device(board.port(), &["replay", t, "--format", "csv"]).unwrap();
    eprintln!(
        "1500 generated packets over the virtual board in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    assert!(got == want, "the CSVs differ:\n{got}\n---\n{want}");
    let analyzed = json(&analyze(&[&trace], "json"));
    // Pings and handshakes measured, several flows.
    assert!(count(&analyzed["counters"], "rtt_samples") > 20);
    assert!(want.lines().count() > 40);
    let info = json(&device(board.port(), &["info", "--format", "json"]).unwrap());
    check_counters(&info, &analyzed, 1500);
    assert_eq!(info["device"]["baud"], 12_500_000);
    assert_eq!(info["device"]["clock_hz"], 100_000_000);
    let err = board.stop();
    assert!(err.contains("bytes to the board"), "{err}");
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn small_shared_traces_over_the_virtual_board_equal_analyze() {
    let Some(traces) = bloomtime_testkit::shared::for_test() else {
        return;
    };
    // The captures of at most 1000 packets (about 10 s each at most here):
    // pings, ICMPv6, 802.1Q, TCP handshakes (cs-http_espn), an ICMP tunnel.
    let small: Vec<(PathBuf, u64)> = traces
        .iter()
        .map(|t| (t.clone(), packets_in(t)))
        .filter(|(_, n)| *n <= 1000)
        .collect();
    assert!(
        small.len() >= 2,
        "fewer than two shared captures of at most 1000 packets: {small:?}"
    );
    let d = tmpdir("shared");
    let board = VirtualBoard::start(&d, &[]);
    for (t, n) in &small {
        let want = analyze(&[t], "csv");
        let t0 = Instant::now();
        let got = device(
            board.port(),
            &["replay", t.to_str().unwrap(), "--format", "csv"],
        )
        .unwrap_or_else(|e| panic!("{}: {e}", t.display()));
        eprintln!(
            "{} ({n} packets) over the virtual board in {:.1} s",
            t.display(),
            t0.elapsed().as_secs_f64()
        );
        assert!(got == want, "{}: the CSVs differ", t.display());
        let info = json(&device(board.port(), &["info", "--format", "json"]).unwrap());
        check_counters(&info, &json(&analyze(&[t], "json")), *n);
    }
    board.stop();
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn info_stats_flush_and_clear() {
    let d = tmpdir("cmds");
    let board = VirtualBoard::start(&d, &[]);
    let port = board.port();
    let info = device(port, &["info"]).unwrap();
    let version = format!(
        "BloomTime, protocol {}",
        bloomtime_model::protocol::PROTOCOL_VERSION
    );
    assert!(info.contains(&version), "{info}");
    assert!(info.contains("link 12500000 baud"), "{info}");
    assert!(info.contains("counter invariants: ok"), "{info}");
    let csv = device(port, &["info", "--format", "csv"]).unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + bloomtime_model::regmap::registers().len()
    );

    // Frames replayed through the library, nothing drained: `stats` reads
    // the waiting open events and the live slots without changing them.
    let head = head_of(&demo(), 25, &d);
    let frames: Vec<(u64, Vec<u8>)> = {
        let mut r = bloomtime_traces::Records::open(&[&head], &bloomtime_sim::CFG).unwrap();
        let mut v = Vec::new();
        while let Some(f) = r.next_frame().unwrap() {
            v.push((f.ts, f.data.to_vec()));
        }
        v
    };
    {
        let mut c = Client::connect(
            SerialTransport::open(port, 1_000_000).unwrap(),
            ClientOptions::default(),
        )
        .unwrap();
        c.clear().unwrap();
        let refs: Vec<(u64, &[u8])> = frames.iter().map(|(t, f)| (*t, f.as_slice())).collect();
        let mut i = 0;
        while i < refs.len() {
            let n = c.replay(&refs[i..]).unwrap().accepted;
            assert!(n > 0, "the board refused frame {i} with nothing drained");
            i += n;
        }
    }
    let want = analyze(&[&head], "csv");
    let stats = device(port, &["stats", "--format", "csv"]).unwrap();
    assert_eq!(stats, want);
    assert_eq!(device(port, &["stats", "--format", "csv"]).unwrap(), want);
    let table = device(port, &["stats"]).unwrap();
    assert!(table.contains("live slots"), "{table}");

    // FLUSH exports every live slot into the event buffer.
    let out = device(port, &["flush"]).unwrap();
    assert!(out.contains("flush started"), "{out}");
    let info = json(&device(port, &["info", "--format", "json"]).unwrap());
    assert!(
        info["counters"]["evict_flush"].as_u64().unwrap() > 0,
        "{info}"
    );
    assert_eq!(info["counters"]["frames"], 25);
    // CLEAR empties everything and zeroes the counters.
    let out = json(&device(port, &["clear", "--format", "json"]).unwrap());
    assert_eq!(out["status"]["events_empty"], true, "{out}");
    let info = json(&device(port, &["info", "--format", "json"]).unwrap());
    assert_eq!(info["counters"]["frames"], 0);
    assert_eq!(info["counters"]["opens"], 0);
    assert_eq!(info["status"]["waiting"], 0);
    assert_eq!(info["invariants"]["ok"], true);
    // Nothing waiting, nothing live: no flows.
    let stats = device(port, &["stats", "--format", "csv"]).unwrap();
    assert_eq!(stats.lines().count(), 1, "{stats}");
    board.stop_with(Signal::SIGINT);
    let _ = std::fs::remove_dir_all(d);
}

/// Dropped, duplicated, corrupted and inserted bytes both ways (seeded)
/// between the host and the board's pty: the UART carries the damage to the
/// board's receiver, the retries repair it, the flows are the same.
#[test]
fn a_damaged_link_still_gives_the_flows_of_analyze() {
    let d = tmpdir("faults");
    let trace = generated(&d, 33, 400);
    let want = analyze(&[&trace], "csv");
    let board = VirtualBoard::start(&d, &[]);
    for seed in [1u64, 2] {
        let t = FaultyTransport::new(
            SerialTransport::open(board.port(), 1_000_000).unwrap(),
            seed,
            FaultRates::uniform(3e-4),
            FaultRates::uniform(3e-4),
        );
        let mut c = Client::connect(
            t,
            ClientOptions {
                retries: 16,
                ..ClientOptions::default()
            },
        )
        .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let run = replay(
            &mut c,
            &[&trace],
            ReplayOptions {
                clear: true,
                progress: false,
            },
        )
        .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let (to_dev, to_host) = (c.transport().counts_to_device, c.transport().counts_to_host);
        eprintln!(
            "seed {seed}: to the board {to_dev:?}, to the host {to_host:?}, {:?}",
            run.summary
        );
        // The damage happened and was seen on both sides.
        assert!(to_dev.total() > 0 && to_host.total() > 0, "seed {seed}");
        assert!(c.link_stats().retries > 0, "seed {seed}");
        assert!(
            run.summary.device_rx_crc_errors + run.summary.device_rx_slip_errors > 0,
            "seed {seed}: the board saw no damaged request"
        );
        let mut csv = Vec::new();
        bloomtime_model::report::write_csv(&mut csv, &run.rows()).unwrap();
        assert!(
            String::from_utf8(csv).unwrap() == want,
            "seed {seed}: a damaged link changed the result"
        );
        let k = &run.counters;
        assert_eq!(k.get(Counter::Frames), 400);
        assert_eq!(
            k.get(Counter::Frames),
            k.get(Counter::Records) + k.drops().iter().sum::<u64>()
        );
        let packets: u64 = run.flows.iter().map(|f| f.1.packets).sum();
        assert_eq!(packets, k.get(Counter::Records));
    }
    board.stop();
    let _ = std::fs::remove_dir_all(d);
}

/// The bitstream's own Verilog (1 Mbaud, 100 clocks a bit): 12.5 times
/// slower to simulate a byte, so only INFO, with a long timeout.
#[test]
fn the_board_at_the_bitstreams_baud_rate_answers() {
    let d = tmpdir("1m");
    let board = VirtualBoard::start(&d, &["--baud", "1000000"]);
    let info = json(
        &device(
            board.port(),
            &["info", "--format", "json", "--timeout-ms", "20000"],
        )
        .unwrap(),
    );
    assert_eq!(info["device"]["baud"], 1_000_000);
    assert_eq!(info["invariants"]["ok"], true);
    assert_eq!(info["host_link"]["retries"], 0);
    let err = board.stop();
    assert!(err.contains("1000000 baud"), "{err}");
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn board_errors_are_one_line() {
    let d = tmpdir("errors");
    let file = d.join("plain");
    std::fs::write(&file, b"not a link").unwrap();
    fails(
        &["board", "--link", file.to_str().unwrap()],
        1,
        &["plain", "exists and is not a symlink"],
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"not a link");
    let nodir = d.join("no/such/dir/tty");
    fails(&["board", "--link", nodir.to_str().unwrap()], 1, &["tty"]);
    fails(&["board", "--baud", "115200"], 2, &["115200", "1000000"]);
    fails(&["board", "extra"], 2, &["extra"]);
    let _ = std::fs::remove_dir_all(d);
}
