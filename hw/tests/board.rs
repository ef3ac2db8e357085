//! The whole board (link, command processor, parser, core, event buffer)
//! in the rust-hdl simulation, driven byte per clock by the host's own
//! protocol client: `device replay` must print what `analyze` prints, and
//! garbage on the line must not wedge the link.

mod common;
use bloomtime_host::device::cmd::{replay, ReplayOptions};
use bloomtime_host::device::{Client, ClientOptions, Transport};
use bloomtime_model::counters::Counter;
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
        bloomtime_model::config::HARDWARE_PRESET,
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

/// A client of a fresh simulated board (INFO answered).
fn board_client() -> Client<SimBoard> {
    let opts = ClientOptions {
        timeout: Duration::from_secs(10),
        retries: 3,
    };
    Client::connect(SimBoard::new(), opts).expect("INFO from the board")
}

#[test]
fn replay_through_the_board_equals_analyze() {
    let trace = prefix(&demo(), 300, "demo300");
    let mut c = board_client();
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

/// The reset button clears the board as CLEAR does, without a response:
/// counters, table and event buffer are empty after it, and the board
/// answers again.
#[test]
fn the_reset_button_clears_the_board() {
    let trace = prefix(&demo(), 40, "demo40");
    let mut c = board_client();
    let frames: Vec<(u64, Vec<u8>)> = bloomtime_traces::pcap::read_file(&trace)
        .unwrap()
        .iter()
        .map(|p| (p.ns, p.data.clone()))
        .collect();
    let refs: Vec<(u64, &[u8])> = frames.iter().map(|(t, d)| (*t, d.as_slice())).collect();
    let r = c.replay(&refs[..20]).expect("replay");
    assert!(r.accepted > 0);
    let records = |c: &mut Client<SimBoard>| c.counters().unwrap().get(Counter::Records);
    assert!(records(&mut c) > 0);
    assert!(c.read_table().unwrap().iter().any(|s| s.valid));
    assert!(!c.peek_all().unwrap().is_empty());
    let b = c.transport_mut();
    b.press_reset = true;
    for _ in 0..5_000 {
        b.cycle();
    }
    assert!(b.tx.is_empty(), "the reset button is answered: {:?}", b.tx);
    assert_eq!(records(&mut c), 0);
    assert!(c.read_table().unwrap().iter().all(|s| !s.valid));
    assert!(c.peek_all().unwrap().is_empty());
    assert!(c.status().unwrap().quiet());
}

#[test]
fn garbage_then_a_normal_exchange() {
    let mut b = SimBoard::new();
    let mut junk = common::Rng::new(0x1234_5678);
    let mut bytes: Vec<u8> = (0..3000).map(|_| junk.byte()).collect();
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

/// The port bits (`name` or `name[i]`) of `module` in Verilog `v`.
fn port_bits(v: &str, module: &str) -> std::collections::BTreeSet<String> {
    let start = v
        .find(&format!("module {module}("))
        .unwrap_or_else(|| panic!("module {module}"));
    let body = &v[start..];
    let body = &body[..body.find("endmodule").unwrap()];
    let mut bits = std::collections::BTreeSet::new();
    for line in body.lines() {
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
    bits
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
    // The top's port bits, from the Verilog that goes into the bitstream,
    // at 100 MHz and with the divided clock (the same pins).
    let bits = port_bits(
        &bloomtime_hw::tops::board_verilog(100_000_000, 1_000_000),
        "top",
    );
    let divided = bloomtime_hw::tops::board_verilog_divided(2, 1_000_000);
    assert_eq!(
        port_bits(&divided, bloomtime_hw::tops::DIVIDED_TOP),
        bits,
        "the divided top's ports != the board top's"
    );
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

/// The IAT sample (in ns) of the one flow of two frames replayed `gap`
/// clocks apart with timestamps `ts1`, `ts2`, in live or replay mode; and
/// the device time (TIME_LO, in time units) read before each frame.
fn two_frames(live: bool, ts1: u64, ts2: u64, gap: u64) -> (u64, u64, u64) {
    use bloomtime_hw::consts::CFG;
    use bloomtime_model::regmap;
    use bloomtime_model::table::Event;
    let mut c = board_client();
    c.clear().unwrap();
    let control = if live { regmap::CONTROL_LIVE } else { 0 };
    c.write_reg(regmap::CONTROL, control).unwrap();
    assert_eq!(c.read_reg(regmap::CONTROL).unwrap(), control);
    let pk = bloomtime_traces::pcap::read_file(demo()).unwrap();
    let frame = pk[0].data.clone();
    let t1 = c.read_reg(regmap::TIME_LO).unwrap() as u64;
    assert_eq!(c.replay(&[(ts1, &frame)]).unwrap().accepted, 1);
    for _ in 0..gap {
        c.transport_mut().cycle();
    }
    let t2 = c.read_reg(regmap::TIME_LO).unwrap() as u64;
    assert_eq!(c.replay(&[(ts2, &frame)]).unwrap().accepted, 1);
    c.flush().unwrap();
    while c.status().unwrap().busy {}
    let mut iat = None;
    loop {
        let (events, _) = c.drain(400).unwrap();
        if events.is_empty() {
            break;
        }
        for e in events {
            if let Event::Evict { stats, .. } = e {
                assert_eq!(stats.packets, 2, "one flow of two packets");
                assert_eq!(stats.iat.n, 1, "one IAT sample");
                iat = Some(stats.iat.sum * CFG.sample_unit_ns());
            }
        }
    }
    (iat.expect("the flow's record"), t1, t2)
}

/// The golden model's IAT sample (ns) for the same frame at `ts1`, `ts2`.
fn model_iat(ts1: u64, ts2: u64) -> u64 {
    use bloomtime_hw::consts::CFG;
    let pk = bloomtime_traces::pcap::read_file(demo()).unwrap();
    let f = &pk[0].data;
    let w = bloomtime_traces::window(f);
    let mut m = bloomtime_model::golden::BloomTime::new(&CFG);
    m.frame(ts1, w, f.len()).unwrap();
    let o = m.frame(ts2, w, f.len()).unwrap();
    o.iat.expect("an IAT sample") as u64 * CFG.sample_unit_ns()
}

/// Live mode: records are stamped with the device's free-running clock
/// (time units of 1024 ns, 10 ns a clock), whatever the frame's timestamp:
/// the sample is the model's for two records stamped with the device time
/// read just before each frame was sent (plus the few units the request
/// takes to reach the pipeline), never the frames' own (equal) timestamps'.
#[test]
fn live_mode_stamps_with_the_device_clock() {
    let gap = 200_000; // clocks: 2 ms
    let (iat, t1, t2) = two_frames(true, 5, 5, gap);
    let device_ns = (t2 - t1) * 1024;
    assert!(
        device_ns >= gap * 10 && device_ns < gap * 10 + 100_000,
        "TIME_LO advanced {device_ns} ns over {gap} clocks (10 ns a clock)"
    );
    let candidates: Vec<u64> = (0..6)
        .flat_map(|a| (0..6).map(move |b| model_iat(t1 + a, t2 + b)))
        .collect();
    assert!(
        candidates.contains(&iat),
        "live IAT {iat} ns is not the model's for device times near {t1}, {t2}: {candidates:?}"
    );
    assert_ne!(iat, model_iat(5, 5), "the frames' own timestamps were used");
}

/// Replay mode: records carry the frame's timestamp, exactly; the clocks
/// between the frames do not matter.
#[test]
fn replay_mode_stamps_with_the_frame_timestamp() {
    let (t1, t2) = (1_000, 1_000 + 3_333);
    let want = model_iat(t1, t2);
    let (iat, _, _) = two_frames(false, t1, t2, 50_000);
    assert_eq!(iat, want, "replay IAT against the model's");
    let (iat2, _, _) = two_frames(false, t1, t2, 0);
    assert_eq!(iat2, want, "no clocks between the frames");
}
