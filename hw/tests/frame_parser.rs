//! The RTL frame parser against the model's `parse_window`, bit for bit.

use bloomtime_hw::frame_parser::FrameParser;
use bloomtime_hw::util::{bits_from_words, vcd_path, words_from_bits, Stepper};
use bloomtime_model::config::{HEADER_WINDOW, TS_MASK};
use bloomtime_model::key::*;
use bloomtime_model::parse::build::*;
use bloomtime_model::parse::{parse_window, DropReason, ETH_IPV4, ETH_IPV6};
use bloomtime_testkit::{seed, Rng};
use rust_hdl::prelude::*;

#[path = "common/lint.rs"]
mod lint;
use std::fmt;
use std::path::Path;
use std::time::Instant;

// ---------------------------------------------------------------- harness

/// One frame as the parser receives it.
#[derive(Clone)]
struct Frame {
    /// The byte stream (at least one byte).
    stream: Vec<u8>,
    caplen: usize,
    ts: u64,
}

impl Frame {
    /// A captured frame: the stream is its first `min(len, 128)` bytes.
    fn captured(bytes: &[u8]) -> Frame {
        Frame::new(bloomtime_traces::window(bytes), bytes.len())
    }
    /// A stream and a captured length (an empty stream is sent as one dummy byte).
    fn new(stream: &[u8], caplen: usize) -> Frame {
        let mut stream = stream.to_vec();
        if stream.is_empty() {
            stream.push(0);
        }
        Frame {
            stream,
            caplen,
            ts: 0,
        }
    }
    /// What the model says.
    fn expected(&self) -> Outcome {
        let n = self.stream.len().min(self.caplen).min(HEADER_WINDOW);
        match parse_window(&self.stream[..n], self.caplen) {
            Ok(p) => Outcome::Record {
                ts: self.ts & TS_MASK,
                flags: p.flags,
                key: p.key.pack(),
            },
            Err(r) => Outcome::Drop(r as u8),
        }
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "caplen {} ts {:#x} stream ({} bytes):",
            self.caplen,
            self.ts,
            self.stream.len()
        )?;
        for (i, b) in self.stream.iter().enumerate() {
            if i % 32 == 0 {
                write!(f, "\n  {i:3}:")?;
            }
            write!(f, " {b:02x}")?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Record { ts: u64, flags: u8, key: [u64; 5] },
    Drop(u8),
}

impl fmt::Debug for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Record { ts, flags, key } => write!(
                f,
                "record ts {ts:#x} flags {flags:#x} key {} (words {key:x?})",
                FlowKey::unpack(key)
            ),
            Outcome::Drop(r) => match DropReason::from_index(*r) {
                Some(d) => write!(f, "drop {d}"),
                None => write!(f, "drop #{r} (no such reason)"),
            },
        }
    }
}

/// Input and output timing of a run.
#[derive(Clone, Copy)]
struct Drive {
    /// Percent of cycles `m_ready` is high.
    ready: u64,
    /// Percent of cycles the source offers no byte.
    gap: u64,
    /// Percent of waiting records whose key is turned once round
    /// (`key_rot` 32 clocks, `m_ready` low) before being taken, its tap
    /// checked against the key's address bytes in wire order.
    turn: u64,
    /// The source never offers a byte while a record waits, and the parser
    /// is built for it (`FrameParser::for_waiting_source`, the board's).
    waiting: bool,
    seed: u64,
}

const STREAM: Drive = Drive {
    ready: 100,
    gap: 0,
    turn: 0,
    waiting: false,
    seed: 0,
};

struct Run {
    /// One outcome per frame_done, in order.
    got: Vec<Outcome>,
    cycles: u64,
}

/// Feed the frames back to back and collect one outcome per frame. Protocol
/// violations (a frame_done too many or too early, drop_valid or a record
/// without frame_done, a hang) are errors.
/// One clock of a trace: the inputs packed as the co-simulation testbench
/// reads them, `{key_rot, reset, s_valid, s_last, m_ready, s_data, s_caplen,
/// s_ts}`, and the outputs as it prints them.
type Io = (u128, String);

fn io(u: &FrameParser) -> Io {
    let inputs = (u.key_rot.val() as u128) << 68
        | (u.reset.val() as u128) << 67
        | (u.s_valid.val() as u128) << 66
        | (u.s_last.val() as u128) << 65
        | (u.m_ready.val() as u128) << 64
        | (u.s_data.val().to_u64() as u128) << 56
        | (u.s_caplen.val().to_u64() as u128) << 40
        | u.s_ts.val().to_u64() as u128;
    let k = words_from_bits(u.m_key.val());
    let outputs = format!(
        "{}{}{}{} {:x} {:x} {:010x} {:011x}{:016x}{:016x}{:016x}{:016x} {:02x}",
        u.s_ready.val() as u8,
        u.m_valid.val() as u8,
        u.frame_done.val() as u8,
        u.drop_valid.val() as u8,
        u.drop_reason.val().to_u64(),
        u.m_flags.val().to_u64(),
        u.m_ts.val().to_u64(),
        k[4],
        k[3],
        k[2],
        k[1],
        k[0],
        u.key_tap.val().to_u64()
    );
    (inputs, outputs)
}

fn simulate(
    frames: &[Frame],
    d: Drive,
    vcd: Option<&Path>,
    mut trace: Option<&mut Vec<Io>>,
) -> Result<Run, String> {
    let uut = if d.waiting {
        FrameParser::for_waiting_source()
    } else {
        FrameParser::default()
    };
    let mut s = Stepper::new(uut, vcd);
    let mut rng = Rng::new(d.seed);
    s.uut.reset.next = true;
    s.settle();
    if let Some(t) = trace.as_deref_mut() {
        t.push(io(&s.uut));
    }
    s.tick();
    s.uut.reset.next = false;
    let total: usize = frames.iter().map(|f| f.stream.len() + 1).sum();
    let limit = s.cycle + 50 + (total as u64) * if d.ready < 100 || d.gap > 0 { 40 } else { 2 };
    let (mut fi, mut bi) = (0usize, 0usize);
    let mut got: Vec<Option<Outcome>> = vec![];
    let mut records_owed: std::collections::VecDeque<usize> = Default::default();
    let mut last_accepted = 0usize;
    // A key being turned: its address bytes in wire order, the taps seen.
    let mut turning: Option<(Vec<u8>, Vec<u8>)> = None;
    let start = s.cycle;
    while got.len() < frames.len() || !records_owed.is_empty() {
        if s.cycle > limit {
            return Err(format!(
                "hang: {} frames sent, {} frame_done, records owed {:?}",
                fi,
                got.len(),
                records_owed
            ));
        }
        let offer = fi < frames.len() && !rng.pct(d.gap) && !(d.waiting && s.uut.m_valid.val());
        {
            let u = &mut s.uut;
            u.s_valid.next = offer;
            if offer {
                let f = &frames[fi];
                u.s_data.next = (f.stream[bi] as u64).into();
                u.s_last.next = bi + 1 == f.stream.len();
                u.s_ts.next = (f.ts & TS_MASK).into();
                u.s_caplen.next = (f.caplen as u64).into();
            } else {
                // Garbage on the data lines while nothing is offered.
                u.s_data.next = (rng.byte() as u64).into();
                u.s_last.next = rng.pct(50);
            }
            u.m_ready.next = rng.pct(d.ready);
            u.key_rot.next = turning.is_some();
            if turning.is_some() {
                u.m_ready.next = false;
            }
        }
        s.settle();
        if let Some(t) = trace.as_deref_mut() {
            t.push(io(&s.uut));
        }
        let u = &s.uut;
        let fire = u.s_valid.val() && u.s_ready.val();
        if let Some(m) = u.class_mismatch() {
            return Err(format!("cycle {}: {m}", s.cycle));
        }
        if u.drop_valid.val() && !u.frame_done.val() {
            return Err(format!("drop_valid without frame_done (cycle {})", s.cycle));
        }
        if u.frame_done.val() {
            if got.len() >= last_accepted {
                return Err(format!(
                    "frame_done #{} before the frame's last byte (cycle {})",
                    got.len(),
                    s.cycle
                ));
            }
            if u.drop_valid.val() {
                got.push(Some(Outcome::Drop(u.drop_reason.val().to_u64() as u8)));
            } else {
                if !u.m_valid.val() {
                    return Err(format!(
                        "frame_done without drop or record (cycle {})",
                        s.cycle
                    ));
                }
                records_owed.push_back(got.len());
                got.push(None);
            }
        }
        if let Some((want, seen)) = &mut turning {
            seen.push(u.key_tap.val().to_u64() as u8);
            if seen.len() == want.len() {
                if seen != want {
                    return Err(format!(
                        "cycle {}: the key's tap showed {seen:02x?}, its address bytes are \
                         {want:02x?}",
                        s.cycle
                    ));
                }
                turning = None;
            }
        } else if u.m_valid.val() && !u.m_ready.val() && rng.pct(d.turn) {
            let key = FlowKey::unpack(&words_from_bits(u.m_key.val()));
            turning = Some((key.to_wire()[2..34].to_vec(), vec![]));
        }
        if u.m_valid.val() && u.m_ready.val() {
            let Some(i) = records_owed.pop_front() else {
                return Err(format!("record without frame_done (cycle {})", s.cycle));
            };
            let w = words_from_bits(u.m_key.val());
            got[i] = Some(Outcome::Record {
                ts: u.m_ts.val().to_u64(),
                flags: u.m_flags.val().to_u64() as u8,
                key: [w[0], w[1], w[2], w[3], w[4]],
            });
        }
        s.tick();
        if fire {
            bi += 1;
            if bi == frames[fi].stream.len() {
                fi += 1;
                bi = 0;
                last_accepted += 1;
            }
        }
    }
    // A few idle cycles: nothing more may come out.
    for _ in 0..4 {
        s.uut.s_valid.next = false;
        s.uut.m_ready.next = true;
        s.uut.key_rot.next = false;
        s.settle();
        if let Some(t) = trace.as_deref_mut() {
            t.push(io(&s.uut));
        }
        if s.uut.frame_done.val() || s.uut.m_valid.val() {
            return Err("output after the last frame".into());
        }
        s.tick();
    }
    Ok(Run {
        got: got.into_iter().map(|o| o.unwrap()).collect(),
        cycles: s.cycle - start,
    })
}

/// Run the frames; on the first mismatch re-run the same stimulus with a VCD
/// and panic with the frame, the model's outcome and the parser's.
fn check(name: &str, frames: &[Frame], d: Drive) -> Run {
    let first_bad = match simulate(frames, d, None, None) {
        Ok(run) => {
            let bad = frames
                .iter()
                .zip(&run.got)
                .position(|(f, g)| f.expected() != *g);
            match bad {
                None => return run,
                Some(i) => Err((i, run.got[i])),
            }
        }
        Err(e) => Ok(e),
    };
    // The VCD shows the failing frame alone if it fails alone, else all
    // frames up to it.
    let vcd = vcd_path(&format!("frame_parser_{name}"));
    let replay = match first_bad {
        Err((i, _)) => {
            let alone = std::slice::from_ref(&frames[i]);
            match simulate(alone, d, None, None) {
                Ok(r) if r.got[0] == frames[i].expected() => &frames[..=i],
                _ => alone,
            }
        }
        Ok(_) => frames,
    };
    let _ = simulate(replay, d, Some(&vcd), None);
    match first_bad {
        Err((i, got)) => panic!(
            "{name}: frame #{i} of {} mismatches (VCD: {})\n{}\nexpected {:?}\n     got {:?}",
            frames.len(),
            vcd.display(),
            frames[i],
            frames[i].expected(),
            got
        ),
        Ok(e) => panic!("{name}: {e} (VCD: {})", vcd.display()),
    }
}

// ---------------------------------------------------------------- frames

const A: [u8; 4] = [10, 0, 0, 1];
const B: [u8; 4] = [192, 168, 7, 9];

fn v6a(last: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    a[15] = last;
    a
}

fn tcp_frame(vlans: usize, flags: u8) -> Vec<u8> {
    let k = FlowKey::v4(PROTO_TCP, A, 40000, B, 443);
    frame(&k, vlans, &tcp(40000, 443, flags), 10)
}

fn v6_with_ext(n: usize) -> Vec<u8> {
    let mut f = eth(0, ETH_IPV6);
    f.extend(ipv6(60, v6a(1), v6a(2), 0));
    for i in 0..n {
        let next = if i + 1 == n { PROTO_UDP } else { 60 };
        f.extend_from_slice(&[next, 0, 0, 0, 0, 0, 0, 0]);
    }
    f.extend(udp(1, 2, 0));
    f
}

/// Every frame of the model's parser unit tests (model/src/parse.rs).
fn model_test_frames() -> Vec<Vec<u8>> {
    let mut v = vec![];
    // ethernet_ipv4_tcp, tcp flags, VLAN / QinQ, a third tag.
    for vlans in 0..=3 {
        for flags in [0x10, 0x02, 0x12, 0x11, 0x00] {
            v.push(tcp_frame(vlans, flags));
        }
    }
    // runt_frames_are_truncated
    for n in 0..14 {
        v.push(tcp_frame(0, 0)[..n].to_vec());
    }
    let f = tcp_frame(1, 0);
    for n in [16, 18 + 19, 18 + 20 + 13, 18 + 20 + 14] {
        v.push(f[..n].to_vec());
    }
    // non_ip_ethertypes_are_dropped
    for (vlans, et) in [(0, 0x0806), (0, 0x0040), (1, 0x0806)] {
        let mut x = eth(vlans, et);
        x.resize(60, 0);
        v.push(x);
    }
    // ipv4_options_are_skipped
    let mut x = eth(0, ETH_IPV4);
    x.extend(ipv4(PROTO_UDP, A, B, &[1; 40], 8));
    x.extend(udp(53, 5353, 0));
    v.push(x);
    // bad_ipv4_headers
    let good = tcp_frame(0, 0);
    let mut x = good.clone();
    x[14] = 0x65;
    v.push(x);
    let mut x = good.clone();
    x[14] = 0x44;
    v.push(x);
    let mut x = good.clone();
    x[16] = 0;
    x[17] = 19;
    v.push(x);
    // fragments
    let mut x = tcp_frame(0, 0);
    x[20] = 0x20;
    v.push(x);
    let mut x = tcp_frame(0, 0);
    x[20] = 0x00;
    x[21] = 0xb9;
    v.push(x);
    // ipv6_udp_and_extension_headers
    let k = FlowKey::v6(PROTO_UDP, v6a(1), 1000, v6a(2), 2000);
    v.push(frame(&k, 0, &udp(1000, 2000, 0), 0));
    let mut x = eth(0, ETH_IPV6);
    x.extend(ipv6(0, k.src, k.dst, 0));
    x.extend_from_slice(&[43, 0, 0, 0, 0, 0, 0, 0]);
    x.extend_from_slice(&[51, 2]);
    x.resize(x.len() + 22, 0);
    x.extend_from_slice(&[PROTO_UDP, 1, 0, 0]);
    x.resize(x.len() + 8, 0);
    x.extend(udp(1000, 2000, 0));
    v.push(x);
    // ipv6_extension_chain_is_bounded
    for n in 0..=6 {
        v.push(v6_with_ext(n));
    }
    // ipv6_fragments
    for off in [[0u8, 0], [0x05, 0x00]] {
        let mut x = eth(0, ETH_IPV6);
        x.extend(ipv6(44, v6a(1), v6a(2), 0));
        x.extend_from_slice(&[PROTO_UDP, 0, off[0], off[1], 0, 0, 0, 1]);
        x.extend(udp(1, 2, 0));
        v.push(x);
    }
    // bad_ipv6_version
    let k6 = FlowKey::v6(PROTO_UDP, v6a(1), 1, v6a(2), 2);
    let mut x = frame(&k6, 0, &udp(1, 2, 0), 0);
    x[14] = 0x40;
    v.push(x);
    // headers_beyond_the_window
    let mut x = eth(0, ETH_IPV6);
    x.extend(ipv6(43, v6a(1), v6a(2), 0));
    x.extend_from_slice(&[PROTO_UDP, 9]);
    x.resize(x.len() + 78, 0);
    x.extend(udp(1, 2, 0));
    x.resize(200, 0);
    v.push(x.clone());
    v.push(x[..130].to_vec());
    // icmp_echo_and_other_types
    let k = FlowKey::v4(PROTO_ICMP, A, 0, B, 0);
    let req = frame(&k, 0, &icmp(8, 0, 0x1234, 1), 56);
    let unreach = frame(&k, 0, &icmp(3, 1, 0, 0), 28);
    v.push(req.clone());
    v.push(frame(&k, 0, &icmp(0, 0, 0x1234, 1), 56));
    v.push(unreach.clone());
    v.push(req[..14 + 20 + 5].to_vec());
    v.push(unreach[..14 + 20 + 4].to_vec());
    // icmpv6_echo
    let k = FlowKey::v6(PROTO_ICMPV6, v6a(1), 0, v6a(2), 0);
    v.push(frame(&k, 1, &icmp(128, 0, 7, 1), 8));
    v.push(frame(&k, 1, &icmp(129, 0, 7, 1), 8));
    // other_protocols_are_flows_without_ports
    v.push(frame(&FlowKey::v4(47, A, 0, B, 0), 0, &[], 0));
    v
}

// ---------------------------------------------------------------- tests

#[test]
fn model_unit_test_frames() {
    let frames: Vec<Frame> = model_test_frames()
        .iter()
        .enumerate()
        .map(|(i, b)| Frame {
            ts: (i as u64) << 30 | 0x5a5a,
            ..Frame::captured(b)
        })
        .collect();
    let t = Instant::now();
    let run = check("model_unit_test_frames", &frames, STREAM);
    let dt = t.elapsed().as_secs_f64();
    eprintln!(
        "{} frames, {} cycles, {:.0} cycles/s",
        frames.len(),
        run.cycles,
        run.cycles as f64 / dt
    );
}

/// Valid frames of every shape the parser walks.
fn shape_frames() -> Vec<(&'static str, Vec<u8>)> {
    let k4 = |p| FlowKey::v4(p, A, 1111, B, 2222);
    let k6 = |p| FlowKey::v6(p, v6a(1), 3333, v6a(2), 4444);
    let mut v: Vec<(&'static str, Vec<u8>)> = vec![
        (
            "v4 tcp",
            frame(&k4(PROTO_TCP), 0, &tcp(1111, 2222, 0x02), 6),
        ),
        ("v4 udp", frame(&k4(PROTO_UDP), 0, &udp(1111, 2222, 4), 4)),
        (
            "vlan v4 udp",
            frame(&k4(PROTO_UDP), 1, &udp(1111, 2222, 4), 4),
        ),
        (
            "qinq v4 tcp",
            frame(&k4(PROTO_TCP), 2, &tcp(1111, 2222, 0x12), 0),
        ),
        (
            "3 tags v4 tcp",
            frame(&k4(PROTO_TCP), 3, &tcp(1111, 2222, 0x12), 0),
        ),
        (
            "v4 icmp echo",
            frame(&k4(PROTO_ICMP), 0, &icmp(8, 0, 77, 1), 8),
        ),
        (
            "qinq v4 icmp reply",
            frame(&k4(PROTO_ICMP), 2, &icmp(0, 0, 77, 1), 8),
        ),
        (
            "v4 icmp other",
            frame(&k4(PROTO_ICMP), 0, &icmp(11, 1, 0, 0), 8),
        ),
        ("v4 gre", frame(&k4(47), 0, &[0x55; 12], 0)),
        ("v6 udp", frame(&k6(PROTO_UDP), 0, &udp(3333, 4444, 0), 2)),
        (
            "vlan v6 tcp",
            frame(&k6(PROTO_TCP), 1, &tcp(3333, 4444, 0x02), 0),
        ),
        (
            "v6 icmpv6 echo",
            frame(&k6(PROTO_ICMPV6), 0, &icmp(128, 0, 9, 9), 0),
        ),
        (
            "v6 icmpv6 other",
            frame(&k6(PROTO_ICMPV6), 0, &icmp(1, 4, 9, 9), 0),
        ),
        ("v6 sctp", frame(&k6(PROTO_SCTP), 0, &udp(3333, 4444, 0), 0)),
        ("v6 no next header", frame(&k6(59), 0, &[1, 2, 3, 4], 0)),
    ];
    // IPv4 with options, before TCP, UDP-Lite, ICMP and a protocol without ports.
    for (name, proto, l4) in [
        ("v4 opts tcp", PROTO_TCP, tcp(5, 6, 0x12)),
        ("v4 opts udplite", PROTO_UDPLITE, udp(5, 6, 0)),
        ("v4 opts icmp echo", PROTO_ICMP, icmp(0, 0, 5, 6)),
        ("v4 opts ospf", 89, vec![7; 8]),
    ] {
        let mut f = eth(1, ETH_IPV4);
        f.extend(ipv4(proto, A, B, &[0x94, 4, 0, 0, 1, 1, 1, 0], l4.len()));
        f.extend(l4);
        v.push((name, f));
    }
    // IPv6 with 1..=5 extension headers: hop-by-hop, routing, fragment, AH,
    // destination options (the fifth one is too many).
    let exts: [(u8, Vec<u8>); 5] = [
        (0, vec![0, 0, 1, 4, 0, 0, 0, 0]),
        (43, [vec![0, 1], vec![0xaa; 14]].concat()),
        (44, vec![0, 0, 0, 1, 0x12, 0x34, 0x56, 0x78]),
        (51, [vec![0, 2], vec![0xbb; 10]].concat()),
        (60, vec![0, 0, 1, 4, 0, 0, 0, 0]),
    ];
    for n in 1..=5 {
        for (l4name, proto, l4) in [
            ("udp", PROTO_UDP, udp(7, 8, 0)),
            ("tcp", PROTO_TCP, tcp(7, 8, 0x02)),
            ("icmpv6 reply", PROTO_ICMPV6, icmp(129, 0, 7, 8)),
        ] {
            let mut f = eth(0, ETH_IPV6);
            f.extend(ipv6(exts[0].0, v6a(3), v6a(4), 0));
            for i in 0..n {
                let mut h = exts[i].1.clone();
                h[0] = if i + 1 < n { exts[i + 1].0 } else { proto };
                f.extend(h);
            }
            f.extend(l4);
            let name: &'static str = Box::leak(format!("v6 {n} ext {l4name}").into_boxed_str());
            v.push((name, f));
        }
    }
    v
}

/// The corners of the model's `need` order named in the brief, checked
/// against the model's answers first (so a change of rules shows here).
#[test]
fn need_order_corners() {
    use DropReason::*;
    let udp4 = frame(&FlowKey::v4(PROTO_UDP, A, 1, B, 2), 0, &udp(1, 2, 0), 0);
    let mut bad_ver = udp4.clone();
    bad_ver[14] = 0x55;
    let mut gre_opts = eth(0, ETH_IPV4);
    gre_opts.extend(ipv4(47, A, B, &[1; 40], 0));
    let k = FlowKey::v4(PROTO_ICMP, A, 0, B, 0);
    let echo = frame(&k, 0, &icmp(8, 0, 7, 1), 0);
    let other = frame(&k, 0, &icmp(3, 3, 0, 0), 0);
    // A routing header of (200 + 1) * 8 bytes: UDP at 1662, need(1666).
    let mut long_rh = eth(0, ETH_IPV6);
    long_rh.extend(ipv6(43, v6a(1), v6a(2), 0));
    long_rh.extend_from_slice(&[PROTO_UDP, 200]);
    long_rh.resize(54 + 201 * 8, 0);
    long_rh.extend(udp(1, 2, 0));
    let need = long_rh.len() - 4;
    let cases: Vec<(&str, Frame, Option<DropReason>)> = vec![
        // need(34) fails before the version is looked at.
        (
            "bad IPv4 version, 10 IP bytes",
            Frame::captured(&bad_ver[..24]),
            Some(Truncated),
        ),
        (
            "bad IPv4 version, whole header",
            Frame::captured(&bad_ver[..34]),
            Some(BadIp),
        ),
        // The fifth extension header is refused before its bytes are needed.
        (
            "5th ext header absent",
            Frame::captured(&v6_with_ext(5)[..54 + 32]),
            Some(ExtChain),
        ),
        (
            "4 ext headers, UDP absent",
            Frame::captured(&v6_with_ext(4)[..54 + 32]),
            Some(Truncated),
        ),
        // The third tag is refused before its bytes are needed.
        (
            "third VLAN tag absent",
            Frame::captured(&tcp_frame(3, 0)[..22]),
            Some(VlanDepth),
        ),
        (
            "second VLAN tag cut",
            Frame::captured(&tcp_frame(2, 0)[..21]),
            Some(Truncated),
        ),
        // No ports: neither the options nor the L4 bytes are needed.
        (
            "GRE, options absent",
            Frame::captured(&gre_opts[..34]),
            None,
        ),
        // Echo needs 6 L4 bytes, other ICMP types 4.
        (
            "echo, 5 L4 bytes",
            Frame::captured(&echo[..34 + 5]),
            Some(Truncated),
        ),
        ("echo, 6 L4 bytes", Frame::captured(&echo[..34 + 6]), None),
        (
            "unreachable, 4 L4 bytes",
            Frame::captured(&other[..34 + 4]),
            None,
        ),
        // The stream ends early: truncated if the need is beyond caplen,
        // else header_window.
        (
            "stream short, need <= caplen",
            Frame::new(&udp4[..30], 42),
            Some(HeaderWindow),
        ),
        (
            "stream short, need > caplen",
            Frame::new(&udp4[..30], 33),
            Some(Truncated),
        ),
        // An extension header pointing far beyond the window.
        (
            "far header, full capture",
            Frame::new(&long_rh[..128], need + 4),
            Some(HeaderWindow),
        ),
        (
            "far header, exactly the need",
            Frame::new(&long_rh[..128], need),
            Some(HeaderWindow),
        ),
        (
            "far header, capture 1 short",
            Frame::new(&long_rh[..128], need - 1),
            Some(Truncated),
        ),
        (
            "far header, 64k capture",
            Frame::new(&long_rh[..128], 65535),
            Some(HeaderWindow),
        ),
        // A caplen-0 frame is one dummy byte.
        ("caplen 0", Frame::new(&[0xff], 0), Some(Truncated)),
        ("caplen 13", Frame::new(&udp4[..13], 13), Some(Truncated)),
        (
            "caplen 14, one byte streamed",
            Frame::new(&udp4[..1], 14),
            Some(HeaderWindow),
        ),
    ];
    for (name, f, want) in &cases {
        let got = match f.expected() {
            Outcome::Drop(r) => DropReason::from_index(r),
            Outcome::Record { .. } => None,
        };
        assert_eq!(got, *want, "model: {name}");
    }
    let frames: Vec<Frame> = cases.into_iter().map(|c| c.1).collect();
    check("need_order_corners", &frames, STREAM);
}

#[test]
fn truncations_at_every_length() {
    let mut frames = vec![];
    for (_, f) in shape_frames() {
        for len in 0..=f.len() {
            // Captured short, and captured in full but streamed short.
            frames.push(Frame::new(&f[..len.min(HEADER_WINDOW)], len));
            frames.push(Frame::new(&f[..len.min(HEADER_WINDOW)], f.len()));
        }
    }
    let t = Instant::now();
    let run = check("truncations_at_every_length", &frames, STREAM);
    let dt = t.elapsed().as_secs_f64();
    eprintln!(
        "{} frames, {} cycles, {:.0} cycles/s",
        frames.len(),
        run.cycles,
        run.cycles as f64 / dt
    );
    // The shapes themselves parse (so the truncations test every step).
    for (name, f) in shape_frames() {
        let e = Frame::captured(&f).expected();
        let five = name.starts_with("v6 5 ext") || name.starts_with("3 tags");
        assert_eq!(matches!(e, Outcome::Record { .. }), !five, "{name}: {e:?}");
    }
}

/// IPv6 frames whose extension headers push the L4 header towards and past
/// the window, or far past it, captured with lengths around every boundary.
#[test]
fn long_frames_and_headers_beyond_the_window() {
    let mut frames = vec![];
    let mut add = |f: &[u8], need: usize| {
        let mut caplens = vec![f.len(), 65535, 4096, 4095, 2100, 2055, 200, 129, 128, 127];
        caplens.extend([need - 1, need, need + 1, need + 2]);
        for caplen in caplens {
            let mut stream = f[..f.len().min(caplen).min(HEADER_WINDOW)].to_vec();
            if caplen > f.len() {
                // Captured beyond our bytes: pad the stream up to the window.
                stream.resize(caplen.min(HEADER_WINDOW), 0xee);
            }
            frames.push(Frame::new(&stream, caplen));
            // The same stream offered too short (the window not filled).
            if stream.len() > 100 {
                frames.push(Frame::new(&stream[..100], caplen));
            }
        }
    };
    for (ext, lens) in [(43u8, 0u8..=12), (51, 0..=20), (60, 250..=255)] {
        for len in lens {
            for (proto, l4) in [(PROTO_UDP, udp(1, 2, 0)), (PROTO_TCP, tcp(1, 2, 0x12))] {
                let mut f = eth(0, ETH_IPV6);
                f.extend(ipv6(ext, v6a(1), v6a(2), 0));
                let hlen = if ext == 51 {
                    (len as usize + 2) * 4
                } else {
                    (len as usize + 1) * 8
                };
                let mut h = vec![proto, len];
                h.resize(hlen, 0x77);
                f.extend(h);
                let need = f.len() + if proto == PROTO_TCP { 14 } else { 4 };
                f.extend(l4);
                f.resize(f.len() + 40, 0);
                add(&f, need);
            }
        }
    }
    // Four maximal routing headers: the fourth ends at 54 + 4 * 2048.
    let mut f = eth(0, ETH_IPV6);
    f.extend(ipv6(43, v6a(1), v6a(2), 0));
    for i in 0..4 {
        let mut h = vec![if i < 3 { 43 } else { PROTO_UDP }, 255];
        h.resize(2048, 0);
        f.extend(h);
    }
    let need = f.len() + 4;
    f.extend(udp(9, 9, 0));
    add(&f, need);
    // Ordinary long frames (payload beyond the window).
    for vlans in 0..=2 {
        let f = frame(
            &FlowKey::v4(PROTO_UDP, A, 53, B, 53),
            vlans,
            &udp(53, 53, 1400),
            1400,
        );
        add(&f, 14 + 4 * vlans + 24);
    }
    check("long_frames_and_headers_beyond_the_window", &frames, STREAM);
    let n_window = frames
        .iter()
        .filter(|f| f.expected() == Outcome::Drop(DropReason::HeaderWindow as u8))
        .count();
    let n_trunc = frames
        .iter()
        .filter(|f| f.expected() == Outcome::Drop(DropReason::Truncated as u8))
        .count();
    let n_rec = frames
        .iter()
        .filter(|f| matches!(f.expected(), Outcome::Record { .. }))
        .count();
    eprintln!(
        "{} frames: {n_rec} records, {n_window} header_window, {n_trunc} truncated",
        frames.len()
    );
    assert!(n_window > 100 && n_trunc > 100 && n_rec > 100);
}

/// Random bytes, often with an IP or VLAN EtherType and a plausible version
/// nibble; random captured lengths, streams cut short, bytes beyond caplen.
#[test]
fn random_junk() {
    let mut r = Rng::new(seed("random_junk", 7));
    let mut frames = vec![];
    for _ in 0..3000 {
        let len = r.below(200) as usize;
        let mut f: Vec<u8> = (0..len).map(|_| r.byte()).collect();
        if len >= 15 && r.pct(80) {
            let (et, ver) = [
                (ETH_IPV4, 0x40),
                (ETH_IPV6, 0x60),
                (0x8100, 0x00),
                (0x88a8, 0x00),
                (0x9100, 0x00),
            ][r.below(5) as usize];
            f[12..14].copy_from_slice(&et.to_be_bytes());
            if r.pct(80) {
                f[14] = ver | (f[14] & 0x0f);
            }
            if r.pct(50) && len > 34 {
                // Small IPv4 IHL / IPv6 next header from the interesting set.
                f[14] = 0x45;
                f[20] = [6, 17, 1, 58, 0, 43, 44, 51, 60][r.below(9) as usize];
                f[23] = f[20];
            }
        }
        let caplen = match r.below(4) {
            0 => len,
            1 => len + r.below(100) as usize,
            2 => r.below(65536) as usize,
            _ => len.saturating_sub(r.below(20) as usize),
        };
        let stream_len = match r.below(3) {
            0 => len,
            _ => len.min(caplen).min(HEADER_WINDOW),
        };
        frames.push(Frame {
            ts: r.next(),
            ..Frame::new(&f[..stream_len], caplen)
        });
    }
    check("random_junk", &frames, STREAM);
}

/// Random back-pressure on the output and gaps on the input.
#[test]
fn backpressure_and_gaps() {
    let s = seed("backpressure_and_gaps", 11);
    let mut r = Rng::new(s);
    let shapes = shape_frames();
    let mut frames = vec![];
    for _ in 0..600 {
        let (_, f) = &shapes[r.below(shapes.len() as u64) as usize];
        let cut = if r.pct(30) {
            r.below(f.len() as u64 + 1) as usize
        } else {
            f.len()
        };
        let caplen = if r.pct(50) { cut } else { f.len() };
        frames.push(Frame {
            ts: r.next(),
            ..Frame::new(&f[..cut.min(HEADER_WINDOW)], caplen)
        });
    }
    // Each twice: a source that offers regardless, and one that waits
    // while a record does, with the parser built for it (the board's).
    for (i, (ready, gap, waiting)) in [(50, 30), (10, 0), (90, 60), (100, 50)]
        .into_iter()
        .flat_map(|(r, g)| [(r, g, false), (r, g, true)])
        .enumerate()
    {
        let d = Drive {
            ready,
            gap,
            turn: 30,
            waiting,
            seed: s + i as u64,
        };
        check("backpressure_and_gaps", &frames, d);
    }
}

/// N back-to-back 64-byte frames with m_ready high take at most one idle
/// cycle each.
#[test]
fn throughput() {
    let n = 300;
    let mut frames = vec![];
    for i in 0..n {
        let k = FlowKey::v4(PROTO_UDP, A, i as u16, B, 53);
        let mut f = frame(&k, 0, &udp(i as u16, 53, 22), 22);
        if i % 3 == 2 {
            f[12] = 0x08;
            f[13] = 0x06; // ARP: dropped
        }
        assert_eq!(f.len(), 64);
        frames.push(Frame::captured(&f));
    }
    let run = check("throughput", &frames, STREAM);
    // Counted from the first byte to the four idle cycles after the last
    // frame_done: a record costs one idle cycle on the input, a drop none.
    eprintln!("{n} frames of 64 bytes: {} cycles", run.cycles);
    assert!(
        run.cycles <= n * 65 + 5,
        "{n} frames of 64 bytes took {} cycles",
        run.cycles
    );
}

/// A reset in the middle of a frame abandons it: no frame_done, and the next
/// frame parses normally.
#[test]
fn reset_abandons_the_frame() {
    let f = tcp_frame(1, 0x02);
    let mut s = Stepper::new(FrameParser::default(), None);
    let mut dones = 0;
    let mut feed = |s: &mut Stepper<FrameParser>, bytes: &[u8], last: bool| {
        for (i, b) in bytes.iter().enumerate() {
            s.uut.s_valid.next = true;
            s.uut.s_data.next = (*b as u64).into();
            s.uut.s_last.next = last && i + 1 == bytes.len();
            s.uut.s_caplen.next = (f.len() as u64).into();
            s.uut.s_ts.next = 5u64.into();
            s.uut.m_ready.next = false;
            s.settle();
            assert!(s.uut.s_ready.val());
            dones += s.uut.frame_done.val() as usize;
            s.tick();
        }
        s.uut.s_valid.next = false;
        s.settle();
    };
    feed(&mut s, &f[..40], false);
    s.uut.reset.next = true;
    s.uut.s_valid.next = true;
    s.settle();
    assert!(!s.uut.s_ready.val(), "no byte is taken during reset");
    s.tick();
    s.uut.reset.next = false;
    feed(&mut s, &f, true);
    for _ in 0..3 {
        dones += s.uut.frame_done.val() as usize;
        s.tick();
    }
    assert_eq!(dones, 1);
    assert!(s.uut.m_valid.val() && !s.uut.drop_valid.val());
    let p = parse_window(&f, f.len()).unwrap();
    assert_eq!(s.uut.m_key.val(), bits_from_words::<297>(&p.key.pack()));
    assert_eq!(s.uut.m_flags.val().to_u64(), FLAG_TCP_SYN as u64);
}

// ---------------------------------------------------------------- proptest

mod structured {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum L3 {
        V4 {
            version: u8,
            /// IHL override (else from the options).
            ihl: Option<u8>,
            /// Total length override (else consistent).
            total: Option<u16>,
            frag: u16,
            proto: u8,
            options: Vec<u8>,
        },
        V6 {
            version: u8,
            /// (type, length byte, fragment offset field) per extension header.
            exts: Vec<(u8, u8, u16)>,
            proto: u8,
        },
        Other(u16),
    }

    #[derive(Debug, Clone)]
    struct Spec {
        tags: Vec<u16>,
        l3: L3,
        l4: Vec<u8>,
        payload: usize,
        /// Stream cut (fraction of the frame, in 1/1000); >= 1000 keeps all.
        cut: u16,
        /// 0: caplen = stream length, 1: = frame length, else a random caplen
        /// of at least the stream length.
        cap_mode: u8,
        cap_extra: u16,
        ts: u64,
    }

    fn proto() -> impl Strategy<Value = u8> {
        prop_oneof![
            Just(PROTO_TCP),
            Just(PROTO_UDP),
            Just(PROTO_UDPLITE),
            Just(PROTO_SCTP),
            Just(PROTO_DCCP),
            Just(PROTO_ICMP),
            Just(PROTO_ICMPV6),
            Just(47u8),
            Just(59u8),
            any::<u8>(),
        ]
    }

    fn ext() -> impl Strategy<Value = (u8, u8, u16)> {
        (
            prop::sample::select(vec![0u8, 43, 44, 51, 60, 135, 139, 140]),
            prop_oneof![4 => 0u8..4, 1 => any::<u8>()],
            prop_oneof![3 => Just(0u16), 1 => Just(1u16), 1 => any::<u16>()],
        )
    }

    fn l3() -> impl Strategy<Value = L3> {
        prop_oneof![
            4 => (
                prop_oneof![9 => Just(4u8), 1 => 0u8..16],
                prop_oneof![9 => Just(None), 1 => (0u8..16).prop_map(Some)],
                prop_oneof![9 => Just(None), 1 => (0u16..80).prop_map(Some)],
                prop_oneof![3 => Just(0u16), 1 => Just(0x2000u16), 1 => any::<u16>()],
                proto(),
                (0usize..=10).prop_flat_map(|w| prop::collection::vec(any::<u8>(), w * 4)),
            )
                .prop_map(|(version, ihl, total, frag, proto, options)| L3::V4 {
                    version,
                    ihl,
                    total,
                    frag,
                    proto,
                    options
                }),
            4 => (
                prop_oneof![9 => Just(6u8), 1 => 0u8..16],
                prop::collection::vec(ext(), 0..=6),
                proto(),
            )
                .prop_map(|(version, exts, proto)| L3::V6 { version, exts, proto }),
            1 => prop_oneof![Just(0x0806u16), Just(0x88ccu16), any::<u16>()].prop_map(L3::Other),
        ]
    }

    fn spec() -> impl Strategy<Value = Spec> {
        (
            prop_oneof![6 => Just(0usize), 3 => Just(1), 2 => Just(2), 1 => Just(3)].prop_flat_map(
                |n| prop::collection::vec(prop::sample::select(vec![0x8100u16, 0x88a8, 0x9100]), n),
            ),
            l3(),
            (
                prop::sample::select(vec![0u8, 8, 128, 129, 3, 11, 1, 255]),
                prop::collection::vec(any::<u8>(), 0..24),
            )
                .prop_map(|(t, mut v)| {
                    v.insert(0, t);
                    v
                }),
            0usize..40,
            prop_oneof![2 => Just(1000u16), 1 => 0u16..1000],
            0u8..3,
            any::<u16>(),
            any::<u64>(),
        )
            .prop_map(
                |(tags, l3, l4, payload, cut, cap_mode, cap_extra, ts)| Spec {
                    tags,
                    l3,
                    l4,
                    payload,
                    cut,
                    cap_mode,
                    cap_extra,
                    ts,
                },
            )
    }

    fn build(s: &Spec) -> Frame {
        let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
        for (i, t) in s.tags.iter().enumerate() {
            f.extend_from_slice(&t.to_be_bytes());
            f.extend_from_slice(&(0x100 + i as u16).to_be_bytes());
        }
        let l4len = s.l4.len() + s.payload;
        match &s.l3 {
            L3::V4 {
                version,
                ihl,
                total,
                frag,
                proto,
                options,
            } => {
                f.extend_from_slice(&ETH_IPV4.to_be_bytes());
                let mut h = ipv4(*proto, A, B, options, l4len);
                let ihl = ihl.unwrap_or(h[0] & 0x0f);
                h[0] = version << 4 | ihl;
                if let Some(t) = total {
                    h[2..4].copy_from_slice(&t.to_be_bytes());
                }
                h[6..8].copy_from_slice(&frag.to_be_bytes());
                f.extend(h);
            }
            L3::V6 {
                version,
                exts,
                proto,
            } => {
                f.extend_from_slice(&ETH_IPV6.to_be_bytes());
                let first = exts.first().map_or(*proto, |e| e.0);
                let mut h = ipv6(first, v6a(0x11), v4_mapped([1, 2, 3, 4]), l4len);
                h[0] = version << 4;
                f.extend(h);
                for (i, (ty, len, off)) in exts.iter().enumerate() {
                    let next = exts.get(i + 1).map_or(*proto, |e| e.0);
                    let n = match ty {
                        44 => 8,
                        51 => (*len as usize + 2) * 4,
                        _ => (*len as usize + 1) * 8,
                    };
                    let mut e = vec![next, *len];
                    e.extend_from_slice(&off.to_be_bytes());
                    e.resize(n, 0x5a);
                    f.extend(e);
                }
            }
            L3::Other(et) => f.extend_from_slice(&et.to_be_bytes()),
        }
        f.extend_from_slice(&s.l4);
        f.resize(f.len() + s.payload, 0);
        let cut = if s.cut >= 1000 {
            f.len()
        } else {
            f.len() * s.cut as usize / 1000
        };
        let stream = &f[..cut.min(HEADER_WINDOW)];
        let caplen = match s.cap_mode {
            0 => cut,
            1 => f.len().max(cut),
            _ => cut + s.cap_extra as usize,
        };
        Frame {
            ts: s.ts,
            ..Frame::new(stream, caplen.min(65535))
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..bloomtime_testkit::prop_config("frame_parser") })]
        #[test]
        fn structured_random_frames(specs in prop::collection::vec(spec(), 1..8)) {
            let frames: Vec<Frame> = specs.iter().map(build).collect();
            check("structured_random_frames", &frames, STREAM);
        }
    }
}

// ---------------------------------------------------------------- Verilog

#[test]
fn verilog_synthesizes_and_lints() {
    lint::lint("frame_parser", FrameParser::default());
}

/// The emitted Verilog, simulated by Verilator, matches the Rust simulation
/// clock for clock on every output (random frames, gaps and back-pressure).
/// This is what makes `-Wno-WIDTH` (common/lint.rs) safe to allow.
#[test]
fn verilog_matches_simulation() {
    let s = seed("verilog_matches_simulation", 5);
    let mut r = Rng::new(s);
    let mut frames: Vec<Frame> = model_test_frames()
        .iter()
        .map(|b| Frame::captured(b))
        .collect();
    let shapes = shape_frames();
    for _ in 0..400 {
        let (_, f) = &shapes[r.below(shapes.len() as u64) as usize];
        let cut = if r.pct(40) {
            r.below(f.len() as u64 + 1) as usize
        } else {
            f.len()
        };
        let caplen = match r.below(3) {
            0 => cut,
            1 => f.len(),
            _ => r.below(65536) as usize,
        };
        let mut stream = f[..cut.min(HEADER_WINDOW)].to_vec();
        if r.pct(10) {
            stream.push(r.byte()); // a byte beyond caplen
        }
        frames.push(Frame {
            ts: r.next(),
            ..Frame::new(&stream, caplen)
        });
    }
    let d = Drive {
        ready: 70,
        gap: 20,
        turn: 30,
        waiting: false,
        seed: s,
    };
    let mut trace = vec![];
    let run = simulate(&frames, d, None, Some(&mut trace)).expect("Rust simulation");
    assert!(frames.iter().zip(&run.got).all(|(f, g)| f.expected() == *g));

    let dir = std::env::temp_dir().join(format!("frame_parser_cosim.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut uut = FrameParser::default();
    uut.connect_all();
    std::fs::write(dir.join("top.v"), generate_verilog(&uut)).unwrap();
    std::fs::write(dir.join("tb.v"), TESTBENCH).unwrap();
    let stim: String = trace.iter().map(|(i, _)| format!("{i:018x}\n")).collect();
    std::fs::write(dir.join("stim.hex"), stim).unwrap();
    let build = std::process::Command::new("verilator")
        .current_dir(&dir)
        .args(["--binary", "--timing", "-Wno-WIDTH", "-Wno-DECLFILENAME"])
        .arg(format!("-DN={}", trace.len()))
        .args(["--top-module", "tb", "-o", "Vtb", "tb.v", "top.v"])
        .output()
        .expect("verilator");
    assert!(
        build.status.success(),
        "verilator:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let sim = std::process::Command::new(dir.join("obj_dir/Vtb"))
        .current_dir(&dir)
        .output()
        .expect("Vtb");
    assert!(sim.status.success());
    let out = std::fs::read_to_string(dir.join("out.txt")).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), trace.len());
    for (c, ((i, want), got)) in trace.iter().zip(&lines).enumerate() {
        assert_eq!(
            want,
            got,
            "cycle {c} (inputs {i:018x}): Rust simulation vs Verilator \
             (s_ready m_valid frame_done drop_valid, drop_reason, flags, ts, key, tap); \
             files in {}",
            dir.display()
        );
    }
    eprintln!("{} cycles identical in Verilator", trace.len());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Applies one line of `stim.hex` per clock, prints the outputs before the
/// rising edge (as `io` formats them).
const TESTBENCH: &str = r#"
module tb;
  reg clock = 0;
  reg key_rot, reset, s_valid, s_last, m_ready;
  reg [7:0] s_data;
  reg [15:0] s_caplen;
  reg [39:0] s_ts;
  wire s_ready, m_valid, frame_done, drop_valid;
  wire [2:0] drop_reason;
  wire [3:0] m_flags;
  wire [39:0] m_ts;
  wire [296:0] m_key;
  wire [7:0] key_tap;
  top uut(.clock(clock), .reset(reset), .s_valid(s_valid), .s_ready(s_ready),
    .s_data(s_data), .s_last(s_last), .s_ts(s_ts), .s_caplen(s_caplen),
    .m_valid(m_valid), .m_ready(m_ready), .m_ts(m_ts), .m_flags(m_flags),
    .m_key(m_key), .frame_done(frame_done), .drop_valid(drop_valid),
    .drop_reason(drop_reason), .key_rot(key_rot), .key_tap(key_tap));
  reg [68:0] stim [0:`N-1];
  integer i, f;
  initial begin
    $readmemh("stim.hex", stim);
    f = $fopen("out.txt", "w");
    for (i = 0; i < `N; i = i + 1) begin
      {key_rot, reset, s_valid, s_last, m_ready, s_data, s_caplen, s_ts} = stim[i];
      #1;
      $fwrite(f, "%b%b%b%b %h %h %h %h %h\n", s_ready, m_valid, frame_done, drop_valid,
        drop_reason, m_flags, m_ts, m_key, key_tap);
      clock = 1;
      #5;
      clock = 0;
      #4;
    end
    $fclose(f);
    $finish;
  end
endmodule
"#;

/// Resources and timing on the iCE40 HX8K (not run by default; about a
/// minute): `cargo test -p bloomtime-hw --test frame_parser ice40 --
/// --ignored --nocapture`. Prints yosys' cell counts for the parser alone
/// (LCs counted as SB_LUT4 + SB_CARRY + SB_DFF*), then nextpnr's maximum
/// frequency for a few placement seeds, the parser wrapped so that its
/// ports need no pins (inputs from a shift register, outputs XOR-reduced).
#[test]
#[ignore]
fn ice40_resources_and_timing() {
    let dir = std::env::temp_dir().join("frame_parser_ice40");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut uut = FrameParser::default();
    uut.connect_all();
    std::fs::write(dir.join("top.v"), generate_verilog(&uut)).unwrap();
    std::fs::write(dir.join("wrap.v"), WRAPPER).unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(args[0])
            .current_dir(&dir)
            .args(&args[1..])
            .output()
            .expect(args[0]);
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
    };
    let log = run(&[
        "yosys",
        "-p",
        "read_verilog top.v; synth_ice40 -top top; stat",
    ]);
    let stat = &log[log.rfind("Number of cells").expect("yosys stat")..];
    let mut lcs = 0;
    for line in stat.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() != 2 || !f[0].starts_with("SB_") {
            break;
        }
        eprintln!("  {:10} {}", f[0], f[1]);
        lcs += f[1].parse::<u32>().unwrap();
    }
    eprintln!("LCs (SB_LUT4 + SB_CARRY + SB_DFF*): {lcs}");
    run(&[
        "yosys",
        "-q",
        "-p",
        "read_verilog top.v wrap.v; synth_ice40 -top wrap -json wrap.json",
    ]);
    for seed in ["1", "2", "3"] {
        let log = run(&[
            "nextpnr-ice40",
            "--hx8k",
            "--package",
            "cb132",
            "--json",
            "wrap.json",
            "--pcf-allow-unconstrained",
            "--freq",
            "100",
            "--seed",
            seed,
        ]);
        let fmax = log
            .lines()
            .rfind(|l| l.contains("Max frequency for clock"))
            .unwrap_or("no timing report");
        eprintln!("seed {seed}: {}", fmax.trim());
    }
}

const WRAPPER: &str = r#"
module wrap(input clk, input din, input rdy, output reg dout, output reg sready);
  reg [79:0] sh;
  always @(posedge clk) sh <= {sh[78:0], din};
  wire s_ready, m_valid, frame_done, drop_valid;
  wire [39:0] m_ts;
  wire [3:0] m_flags;
  wire [296:0] m_key;
  wire [2:0] drop_reason;
  wire [7:0] key_tap;
  top u(.clock(clk), .reset(sh[79]), .s_valid(sh[0]), .s_ready(s_ready), .s_data(sh[8:1]),
    .s_last(sh[9]), .s_ts(sh[49:10]), .s_caplen(sh[65:50]), .m_valid(m_valid), .m_ready(rdy),
    .m_ts(m_ts), .m_flags(m_flags), .m_key(m_key), .frame_done(frame_done),
    .drop_valid(drop_valid), .drop_reason(drop_reason), .key_rot(sh[78]), .key_tap(key_tap));
  always @(posedge clk) begin
    dout <= ^m_key ^ ^m_ts ^ ^m_flags ^ m_valid ^ frame_done ^ drop_valid ^ ^drop_reason
      ^ ^key_tap;
    sready <= s_ready;
  end
endmodule
"#;
