//! The whole board (link, command processor, parser, core, event buffer)
//! in the rust-hdl simulation, driven byte per clock by the host's own
//! protocol client: `device replay` must print what `analyze` prints, and
//! garbage on the line must not wedge the link.

mod common;
use bloomtime_host::device::cmd::{replay, ReplayOptions};
use bloomtime_host::device::{Client, ClientOptions, Transport};
use bloomtime_model::protocol;
use bloomtime_model::report::write_csv;
use clap::Parser;
use common::sim_board::SimBoard;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../traces/data/demo.pcap")
}

/// The first `n` packets of a capture, as a pcap file.
fn prefix(trace: &Path, n: usize, name: &str) -> PathBuf {
    let out = std::env::temp_dir().join(format!(
        "bloomtime-board-{}-{name}.pcap",
        std::process::id()
    ));
    let pk = bloomtime_traces::pcap::read_file(trace).unwrap();
    let mut w = bloomtime_traces::writer::PcapWriter::new(Vec::new(), 65535).unwrap();
    for p in pk.iter().take(n) {
        w.write(p.ns, &p.data).unwrap();
    }
    std::fs::write(&out, w.into_inner()).unwrap();
    out
}

fn analyze_csv(trace: &Path) -> String {
    let out = std::env::temp_dir().join(format!(
        "bloomtime-board-{}-analyze.csv",
        std::process::id()
    ));
    let cli = bloomtime_host::cli::Cli::try_parse_from([
        "bloomtime",
        "analyze",
        "--preset",
        "alchitry-cu",
        "--format",
        "csv",
        "-o",
        out.to_str().unwrap(),
        trace.to_str().unwrap(),
    ])
    .unwrap();
    bloomtime_host::run(cli).unwrap();
    std::fs::read_to_string(out).unwrap()
}

#[test]
fn replay_through_the_board_equals_analyze() {
    let trace = prefix(&demo(), 300, "demo300");
    let opts = ClientOptions {
        timeout: Duration::from_millis(250),
        retries: 3,
    };
    let mut c = Client::connect(SimBoard::new(), opts).expect("INFO from the board");
    assert_eq!(c.info().config, bloomtime_hw::consts::CFG);
    let run = replay(
        &mut c,
        &[&trace],
        ReplayOptions {
            clear: true,
            progress: false,
        },
    )
    .expect("replay");
    let mut got = Vec::new();
    write_csv(&mut got, &run.rows()).unwrap();
    assert_eq!(String::from_utf8(got).unwrap(), analyze_csv(&trace));
    eprintln!("{} clocks simulated", c.transport().st.cycle);
}

#[test]
fn garbage_then_a_normal_exchange() {
    let mut b = SimBoard::new();
    let mut junk: u64 = 0x1234_5678;
    let mut bytes = Vec::new();
    for _ in 0..3000 {
        junk ^= junk << 13;
        junk ^= junk >> 7;
        junk ^= junk << 17;
        bytes.push(junk as u8);
    }
    // Long garbage, an overlong frame, a bad escape, a truncated frame.
    bytes.extend(vec![0x41; protocol::MAX_FRAME + 20]);
    bytes.extend([
        protocol::SLIP_END,
        protocol::SLIP_ESC,
        7,
        protocol::SLIP_END,
    ]);
    let mut f = protocol::encode_frame(&[9, protocol::cmd::INFO]);
    f.truncate(f.len() - 2);
    bytes.extend(f);
    b.write_all(&bytes).unwrap();
    for _ in 0..20_000 {
        b.cycle();
    }
    b.tx.clear();
    let opts = ClientOptions {
        timeout: Duration::from_millis(250),
        retries: 3,
    };
    let mut c = Client::connect(b, opts).expect("a normal exchange after the garbage");
    let link = c.link_counters().unwrap();
    eprintln!("link counters after garbage: {link:?}");
    assert!(c.status().unwrap().quiet());
}

/// `constraints/alchitry_cu.pcf` against the board top's ports: every port
/// bit has exactly one pin, no pin names a port that does not exist, and the
/// pins are Alchitry's (clock P7, reset P8, UART in P14, out M9, LEDs).
#[test]
fn pcf_matches_the_board_top() {
    let pcf_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../constraints/alchitry_cu.pcf");
    let pcf = std::fs::read_to_string(&pcf_path).unwrap();
    let mut pins = std::collections::BTreeMap::new();
    for (n, line) in pcf.lines().enumerate() {
        let line = line.split('#').next().unwrap().trim();
        if line.is_empty() {
            continue;
        }
        let w: Vec<&str> = line.split_whitespace().collect();
        assert!(
            w.len() == 3 && w[0] == "set_io",
            "line {}: not `set_io PORT PIN`: {line}",
            n + 1
        );
        assert!(
            pins.insert(w[1].to_string(), w[2].to_string()).is_none(),
            "line {}: {} constrained twice",
            n + 1,
            w[1]
        );
    }
    // The top's port bits, from the Verilog that goes into the bitstream.
    let v = bloomtime_hw::tops::board_verilog(100_000_000, 1_000_000);
    let head = &v[v.find("module top(").expect("module top")..];
    let head = &head[..head.find("// Update code").unwrap_or(head.len())];
    let mut bits = std::collections::BTreeSet::new();
    for line in head.lines() {
        let w: Vec<&str> = line
            .trim()
            .trim_end_matches(';')
            .split_whitespace()
            .collect();
        if w.first().is_some_and(|d| *d == "input" || *d == "output") {
            let name = w.last().unwrap().to_string();
            match w.iter().find(|x| x.starts_with('[')) {
                Some(range) => {
                    let hi: usize = range[1..range.find(':').unwrap()].parse().unwrap();
                    for i in 0..=hi {
                        bits.insert(format!("{name}[{i}]"));
                    }
                }
                None => {
                    bits.insert(name);
                }
            }
        }
    }
    assert!(bits.len() >= 12, "ports found: {bits:?}");
    let constrained: std::collections::BTreeSet<String> = pins.keys().cloned().collect();
    assert_eq!(constrained, bits, "pcf ports != board top ports");
    let want = [
        ("clock", "P7"),
        ("reset_n", "P8"),
        ("uart_rx", "P14"),
        ("uart_tx", "M9"),
        ("leds[0]", "J11"),
        ("leds[1]", "K11"),
        ("leds[2]", "K12"),
        ("leds[3]", "K14"),
        ("leds[4]", "L12"),
        ("leds[5]", "L14"),
        ("leds[6]", "M12"),
        ("leds[7]", "N14"),
    ];
    for (port, pin) in want {
        assert_eq!(pins.get(port).map(String::as_str), Some(pin), "{port}");
    }
}
