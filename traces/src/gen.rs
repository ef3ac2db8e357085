//! Deterministic synthetic traces with known ground truth.
//!
//! A trace is a set of *conversations*, each of one kind:
//!
//! * `constant` — UDP, one direction, constant inter-arrival time;
//! * `poisson` — UDP, one direction, exponential inter-arrival times;
//! * `bursty` — UDP, one direction, on/off: bursts of 4–32 packets at a short
//!   gap, separated by exponential silences;
//! * `heavy` — UDP, one direction, heavy-tailed gaps (Pareto, shape 1.5, or
//!   lognormal, σ = 1.5; the truth names which);
//! * `ping` — ICMP (ICMPv6 on IPv6) echo requests at a fixed interval, each
//!   answered after the conversation's RTT (±10 % jitter);
//! * `tcp` — SYN, SYN-ACK one RTT later, ACK, then data at exponential gaps
//!   with the server acknowledging every second segment one RTT later.
//!
//! Some conversations are IPv6, some carry one 802.1Q tag or a QinQ pair. The
//! generator is an event simulation over a binary heap (ties broken by
//! insertion order), driven by one ChaCha8 stream seeded with `seed`: the same
//! options give the same bytes. Frames are built once per conversation and
//! direction with `bloomtime_model::parse::build` and only the ICMP sequence
//! number is patched per packet, so generating allocates nothing per packet.
//!
//! The ground truth is accumulated as packets are emitted, from the schedule
//! itself: for each direction the previous emission time gives the IAT, and a
//! reply's RTT is its time minus the latest packet of the reverse direction
//! (docs/DESIGN.md §8). It never runs the exact tracker.

use crate::truth::{Truth, TruthAcc, TruthFlow};
use crate::writer::PcapWriter;
use bloomtime_model::key::*;
use bloomtime_model::parse::build;
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Relative weights of the conversation kinds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mix {
    pub constant: f64,
    pub poisson: f64,
    pub bursty: f64,
    pub heavy: f64,
    pub ping: f64,
    pub tcp: f64,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            constant: 1.0,
            poisson: 2.0,
            bursty: 1.0,
            heavy: 1.0,
            ping: 1.0,
            tcp: 2.0,
        }
    }
}

const KIND_NAMES: [&str; 6] = ["constant", "poisson", "bursty", "heavy", "ping", "tcp"];

impl Mix {
    fn weights(&self) -> [f64; 6] {
        [
            self.constant,
            self.poisson,
            self.bursty,
            self.heavy,
            self.ping,
            self.tcp,
        ]
    }
}

impl std::str::FromStr for Mix {
    type Err = String;
    /// `kind=weight,...` over constant, poisson, bursty, heavy, ping, tcp;
    /// kinds not named get weight 0.
    fn from_str(s: &str) -> Result<Mix, String> {
        let mut w = [0.0f64; 6];
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("mix entry '{part}' is not kind=weight"))?;
            let i = KIND_NAMES
                .iter()
                .position(|n| *n == k.trim())
                .ok_or_else(|| {
                    format!(
                        "unknown flow kind '{}' in mix (known: {})",
                        k.trim(),
                        KIND_NAMES.join(", ")
                    )
                })?;
            let v: f64 = v
                .trim()
                .parse()
                .map_err(|_| format!("bad weight '{}' for {}", v.trim(), KIND_NAMES[i]))?;
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("weight of {} must be >= 0", KIND_NAMES[i]));
            }
            w[i] = v;
        }
        if w.iter().sum::<f64>() <= 0.0 {
            return Err("mix has no positive weight".into());
        }
        Ok(Mix {
            constant: w[0],
            poisson: w[1],
            bursty: w[2],
            heavy: w[3],
            ping: w[4],
            tcp: w[5],
        })
    }
}

/// Generator options. Every field is recorded in the truth file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GenOptions {
    pub seed: u64,
    /// Conversations (each one or two unidirectional flows).
    pub flows: u32,
    /// Generation stops after this many packets (or at the duration). Rates
    /// are set so that the target is reached near the end of the duration.
    pub packets: u64,
    /// Length of the trace in seconds.
    pub duration_s: f64,
    pub mix: Mix,
    /// Conversation RTTs are log-uniform in `[rtt_min_us, rtt_max_us]`.
    pub rtt_min_us: f64,
    pub rtt_max_us: f64,
    /// Fraction of conversations with one 802.1Q tag, and with two (QinQ).
    pub vlan_fraction: f64,
    pub qinq_fraction: f64,
    /// Fraction of IPv6 conversations.
    pub ipv6_fraction: f64,
    /// Captured bytes per frame (the wire length is kept as `orig_len`).
    pub snaplen: u32,
    /// Timestamp of the trace's start, nanoseconds since the Unix epoch.
    pub start_ns: u64,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            seed: 1,
            flows: 100,
            packets: 10_000,
            duration_s: 10.0,
            mix: Mix::default(),
            rtt_min_us: 200.0,
            rtt_max_us: 80_000.0,
            vlan_fraction: 0.1,
            qinq_fraction: 0.05,
            ipv6_fraction: 0.2,
            snaplen: 128,
            start_ns: 1_700_000_000_000_000_000,
        }
    }
}

/// The most packets one trace may have (100 million: at the default
/// snaplen of 128 bytes at most 14.4 GB of pcap). `--packets` is bounded so
/// that a slip of the finger (`3000000000`) is an error, not a full disk.
pub const MAX_PACKETS: u64 = 100_000_000;

impl GenOptions {
    /// The benchmarks' trace: `packets` packets of 50 000 flows over 60 s
    /// ([`bench_trace`]).
    pub fn bench(packets: u64) -> GenOptions {
        GenOptions {
            seed: 42,
            flows: 50_000,
            packets,
            duration_s: 60.0,
            ..GenOptions::default()
        }
    }

    /// The committed demo trace (`traces/data/demo.pcap`).
    pub fn demo() -> GenOptions {
        GenOptions {
            seed: 2024,
            flows: 60,
            packets: 4000,
            duration_s: 4.0,
            ..GenOptions::default()
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.packets > MAX_PACKETS {
            return Err(format!(
                "packets must be at most {MAX_PACKETS} (100 million), got {}",
                self.packets
            ));
        }
        if self.flows == 0 || self.flows > 1 << 24 {
            return Err(format!("flows must be 1..=2^24, got {}", self.flows));
        }
        if !(self.duration_s.is_finite() && self.duration_s > 0.0 && self.duration_s <= 1e6) {
            return Err(format!(
                "duration must be > 0 and <= 1e6 s, got {}",
                self.duration_s
            ));
        }
        if !(self.rtt_min_us > 0.0
            && self.rtt_min_us <= self.rtt_max_us
            && self.rtt_max_us.is_finite())
        {
            return Err("RTT range must satisfy 0 < min <= max".into());
        }
        for (n, f) in [
            ("vlan", self.vlan_fraction),
            ("qinq", self.qinq_fraction),
            ("ipv6", self.ipv6_fraction),
        ] {
            if !(0.0..=1.0).contains(&f) {
                return Err(format!("{n} fraction must be in [0, 1], got {f}"));
            }
        }
        if self.vlan_fraction + self.qinq_fraction > 1.0 {
            return Err("vlan + qinq fractions exceed 1".into());
        }
        if self.snaplen < 64 || self.snaplen > 65535 {
            return Err(format!("snaplen must be 64..=65535, got {}", self.snaplen));
        }
        if self
            .mix
            .weights()
            .iter()
            .any(|w| !(w.is_finite() && *w >= 0.0))
            || self.mix.weights().iter().sum::<f64>() <= 0.0
        {
            return Err("mix weights must be >= 0 with a positive sum".into());
        }
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Constant,
    Poisson,
    Bursty,
    Pareto,
    LogNormal,
    Ping,
    Tcp,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Constant => "constant",
            Kind::Poisson => "poisson",
            Kind::Bursty => "bursty",
            Kind::Pareto => "pareto",
            Kind::LogNormal => "lognormal",
            Kind::Ping => "ping",
            Kind::Tcp => "tcp",
        }
    }
}

/// Event kinds (the packet an event emits).
const EV_DATA: u8 = 0; // direction 0 data (UDP kinds and TCP data)
const EV_ECHO_REQ: u8 = 1;
const EV_ECHO_REP: u8 = 2;
const EV_SYN: u8 = 3;
const EV_SYNACK: u8 = 4;
const EV_ACK: u8 = 5; // client's handshake ACK
const EV_SERVER_ACK: u8 = 6;

/// One direction of a conversation: its frames and its truth.
struct Dir {
    key: FlowKey,
    /// Frames by event role (e.g. SYN, ACK, data for the client direction).
    frames: Vec<Vec<u8>>,
    /// Byte offset of the ICMP sequence number, if any.
    icmp_seq_at: Option<usize>,
    last_ns: Option<u64>,
    packets: u64,
    iat: TruthAcc,
    rtt: TruthAcc,
}

struct Conv {
    kind: Kind,
    vlans: u8,
    dirs: [Dir; 2],
    /// Mean gap of the kind's process, ns (the ping interval for pings).
    mean_ns: f64,
    rtt_ns: u64,
    end_ns: u64,
    /// Bursty: packets left in the current burst. TCP: data segments sent.
    count: u32,
    seq: u16,
}

struct Gen {
    rng: ChaCha8Rng,
    /// `(time, order << 27 | conversation << 3 | event)`: 16-byte entries,
    /// ties broken by insertion order.
    heap: BinaryHeap<Reverse<(u64, u64)>>,
    order: u64,
}

impl Gen {
    #[inline]
    fn uniform(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Uniform in (0, 1].
    #[inline]
    fn uniform_open(&mut self) -> f64 {
        1.0 - self.uniform()
    }
    fn below(&mut self, n: u64) -> u64 {
        ((self.rng.next_u64() as u128 * n as u128) >> 64) as u64
    }
    #[inline]
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * self.uniform_open().ln()
    }
    #[inline]
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform_open(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
    fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + (hi.ln() - lo.ln()) * self.uniform()).exp()
    }
    #[inline]
    fn schedule(&mut self, ns: u64, conv: u32, ev: u8) {
        debug_assert!(conv < 1 << 24 && ev < 8);
        self.heap.push(Reverse((
            ns,
            self.order << 27 | (conv as u64) << 3 | ev as u64,
        )));
        self.order += 1;
    }
    /// A gap in ns of at least 1.
    #[inline]
    fn gap(x: f64) -> u64 {
        if x.is_finite() && x >= 1.0 {
            x.min(1e15) as u64
        } else {
            1
        }
    }
}

fn v4(i: u32, net: u8) -> [u8; 4] {
    [net, (i >> 16) as u8, (i >> 8) as u8, i as u8]
}

fn v6(i: u32, net: u16) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    a[4..6].copy_from_slice(&net.to_be_bytes());
    a[12..].copy_from_slice(&i.to_be_bytes());
    a
}

fn make_dir(key: FlowKey, frames: Vec<Vec<u8>>, icmp_seq_at: Option<usize>) -> Dir {
    Dir {
        key,
        frames,
        icmp_seq_at,
        last_ns: None,
        packets: 0,
        iat: TruthAcc::default(),
        rtt: TruthAcc::default(),
    }
}

/// Offset of the L4 header in a frame built by `build::frame`.
fn l4_offset(key: &FlowKey, vlans: usize) -> usize {
    14 + 4 * vlans + if key.v6 { 40 } else { 20 }
}

/// The generator's output summary.
pub type GenResult = Truth;

/// Generate a trace into `out` (classic pcap, nanosecond timestamps).
pub fn generate<W: Write>(opts: &GenOptions, out: W) -> io::Result<Truth> {
    opts.validate()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let mut w = PcapWriter::new(out, opts.snaplen)?;
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(opts.seed),
        heap: BinaryHeap::with_capacity(opts.flows as usize * 2 + 16),
        order: 0,
    };
    let dur_ns = (opts.duration_s * 1e9) as u64;
    let start = opts.start_ns;
    let end = start + dur_ns;
    let weights = opts.mix.weights();
    let wsum: f64 = weights.iter().sum();
    let servers = (opts.flows / 16).clamp(1, 4096);
    // Conversations start in the first half of the trace; their expected
    // share of the target (with 20 % head room) sets their rate.
    let per_conv = (opts.packets as f64 * 1.2 / opts.flows as f64).max(1.0);
    let mut convs: Vec<Conv> = Vec::with_capacity(opts.flows as usize);
    for i in 0..opts.flows {
        let pick = g.uniform() * wsum;
        let mut k = weights.iter().rposition(|w| *w > 0.0).unwrap_or(0);
        let mut acc = 0.0;
        for (j, wj) in weights.iter().enumerate() {
            acc += wj;
            if *wj > 0.0 && pick < acc {
                k = j;
                break;
            }
        }
        let is_v6 = g.uniform() < opts.ipv6_fraction;
        let vr = g.uniform();
        let vlans: usize = if vr < opts.qinq_fraction {
            2
        } else if vr < opts.qinq_fraction + opts.vlan_fraction {
            1
        } else {
            0
        };
        let server = g.below(servers as u64) as u32;
        let first = start + g.below(dur_ns / 2 + 1);
        let life = (end - first).max(1) as f64;
        // Rate spread: each conversation gets 1/4..4 times its share.
        let share = per_conv * g.log_uniform(0.25, 4.0) / 1.352_5;
        let rtt_ns = g.log_uniform(opts.rtt_min_us, opts.rtt_max_us) * 1e3;
        let cport = 1024 + g.below(60_000) as u16;
        let kind = match k {
            0 => Kind::Constant,
            1 => Kind::Poisson,
            2 => Kind::Bursty,
            3 => {
                if g.uniform() < 0.5 {
                    Kind::Pareto
                } else {
                    Kind::LogNormal
                }
            }
            4 => Kind::Ping,
            _ => Kind::Tcp,
        };
        let (src, dst) = if is_v6 {
            (v6(i, 0xc), v6(server, 0x5))
        } else {
            (
                v4_mapped(v4(i + 1, 10)),
                v4_mapped([192, 168, (server >> 8) as u8, server as u8 + 1]),
            )
        };
        let mk = |proto, sport, dport| FlowKey {
            proto,
            v6: is_v6,
            src,
            dst,
            sport,
            dport,
        };
        let (conv, first_ev) = match kind {
            Kind::Ping => {
                let proto = if is_v6 { PROTO_ICMPV6 } else { PROTO_ICMP };
                let (req_t, rep_t) = if is_v6 { (128, 129) } else { (8, 0) };
                let id = cport;
                let req = mk(proto, id, 0);
                let rep = req.reverse(true);
                let at = l4_offset(&req, vlans) + 6;
                let f0 = build::frame(&req, vlans, &build::icmp(req_t, 0, id, 0), 56);
                let f1 = build::frame(&rep, vlans, &build::icmp(rep_t, 0, id, 0), 56);
                let interval = (2.0 * life / share).max(rtt_ns * 0.5);
                (
                    Conv {
                        kind,
                        vlans: vlans as u8,
                        dirs: [
                            make_dir(req, vec![f0], Some(at)),
                            make_dir(rep, vec![f1], Some(at)),
                        ],
                        mean_ns: interval,
                        rtt_ns: rtt_ns as u64,
                        end_ns: end,
                        count: 0,
                        seq: 0,
                    },
                    EV_ECHO_REQ,
                )
            }
            Kind::Tcp => {
                let sport = [80u16, 443, 22, 8080, 993][g.below(5) as usize];
                let c2s = mk(PROTO_TCP, cport, sport);
                let s2c = c2s.reverse(false);
                let (cp, sp) = (cport, sport);
                let client = vec![
                    build::frame(&c2s, vlans, &build::tcp(cp, sp, 0x02), 0), // SYN
                    build::frame(&c2s, vlans, &build::tcp(cp, sp, 0x10), 0), // ACK
                    build::frame(&c2s, vlans, &build::tcp(cp, sp, 0x18), 1448), // data
                ];
                let server = vec![
                    build::frame(&s2c, vlans, &build::tcp(sp, cp, 0x12), 0), // SYN-ACK
                    build::frame(&s2c, vlans, &build::tcp(sp, cp, 0x10), 0), // ACK
                ];
                (
                    Conv {
                        kind,
                        vlans: vlans as u8,
                        dirs: [make_dir(c2s, client, None), make_dir(s2c, server, None)],
                        mean_ns: 1.5 * life / share,
                        rtt_ns: rtt_ns as u64,
                        end_ns: end,
                        count: 0,
                        seq: 0,
                    },
                    EV_SYN,
                )
            }
            _ => {
                let dport = [53u16, 123, 443, 5004, 4789, 5060][g.below(6) as usize];
                let key = mk(PROTO_UDP, cport, dport);
                let payload = match kind {
                    Kind::Constant => 160,
                    _ => 64 + g.below(1200) as usize,
                };
                let f = build::frame(&key, vlans, &build::udp(cport, dport, payload), payload);
                let dummy = key.reverse(false);
                (
                    Conv {
                        kind,
                        vlans: vlans as u8,
                        dirs: [make_dir(key, vec![f], None), make_dir(dummy, vec![], None)],
                        mean_ns: life / share,
                        rtt_ns: rtt_ns as u64,
                        end_ns: end,
                        count: 0,
                        seq: 0,
                    },
                    EV_DATA,
                )
            }
        };
        convs.push(conv);
        g.schedule(first, i, first_ev);
    }

    let mut emitted = 0u64;
    let mut first_ns = None;
    let mut last_ns = 0u64;
    while let Some(Reverse((ns, tag))) = g.heap.pop() {
        let (ci, ev) = (((tag >> 3) & ((1 << 24) - 1)) as u32, (tag & 7) as u8);
        if emitted >= opts.packets {
            break;
        }
        let c = &mut convs[ci as usize];
        if ns > c.end_ns {
            continue;
        }
        // Which direction and frame this event emits; what comes next.
        let (dir, frame) = match ev {
            EV_DATA if c.kind == Kind::Tcp => (0, 2),
            EV_DATA => (0, 0),
            EV_ECHO_REQ => (0, 0),
            EV_ECHO_REP => (1, 0),
            EV_SYN => (0, 0),
            EV_SYNACK => (1, 0),
            EV_ACK => (0, 1),
            _ => (1, 1), // EV_SERVER_ACK
        };
        // Truth, from the schedule.
        let other_last = c.dirs[1 - dir].last_ns;
        let d = &mut c.dirs[dir];
        if let Some(l) = d.last_ns {
            d.iat.add(ns - l);
        }
        if ev == EV_ECHO_REP || ev == EV_SYNACK {
            if let Some(l) = other_last {
                d.rtt.add(ns - l);
            }
        }
        d.packets += 1;
        d.last_ns = Some(ns);
        // The frame.
        if let Some(at) = d.icmp_seq_at {
            let s = c.seq.to_be_bytes();
            let f = &mut d.frames[frame];
            f[at] = s[0];
            f[at + 1] = s[1];
        }
        w.write(ns, &d.frames[frame])?;
        emitted += 1;
        first_ns.get_or_insert(ns);
        last_ns = ns;
        // What follows.
        let (mean, rtt) = (c.mean_ns, c.rtt_ns);
        match (c.kind, ev) {
            (Kind::Constant, _) => g.schedule(ns + Gen::gap(mean), ci, EV_DATA),
            (Kind::Poisson, _) => {
                let x = g.exp(mean);
                g.schedule(ns + Gen::gap(x), ci, EV_DATA)
            }
            (Kind::Bursty, _) => {
                // Bursts average 18 packets at mean/8 apart; the silence
                // keeps the long-run mean gap near `mean`.
                if c.count == 0 {
                    c.count = 4 + g.below(29) as u32;
                    let x = g.exp(mean * 17.0);
                    g.schedule(ns + Gen::gap(x), ci, EV_DATA);
                } else {
                    c.count -= 1;
                    let x = g.exp(mean / 8.0);
                    g.schedule(ns + Gen::gap(x), ci, EV_DATA);
                }
            }
            (Kind::Pareto, _) => {
                // Shape 1.5: mean = 3 * scale.
                let x = mean / 3.0 / g.uniform_open().powf(1.0 / 1.5);
                g.schedule(ns + Gen::gap(x), ci, EV_DATA)
            }
            (Kind::LogNormal, _) => {
                // sigma 1.5: mean = exp(mu + sigma^2 / 2).
                let mu = mean.ln() - 1.125;
                let x = (mu + 1.5 * g.normal()).exp();
                g.schedule(ns + Gen::gap(x), ci, EV_DATA)
            }
            (Kind::Ping, EV_ECHO_REQ) => {
                let jitter = 0.9 + 0.2 * g.uniform();
                g.schedule(ns + Gen::gap(rtt as f64 * jitter), ci, EV_ECHO_REP);
                g.schedule(ns + Gen::gap(mean), ci, EV_ECHO_REQ);
                c.seq = c.seq.wrapping_add(1);
            }
            (Kind::Ping, _) => {}
            (Kind::Tcp, EV_SYN) => g.schedule(ns + rtt.max(1), ci, EV_SYNACK),
            (Kind::Tcp, EV_SYNACK) => {
                let think = 20_000.0 + 180_000.0 * g.uniform();
                g.schedule(ns + Gen::gap(think), ci, EV_ACK)
            }
            (Kind::Tcp, EV_ACK) | (Kind::Tcp, EV_DATA) => {
                if ev == EV_DATA {
                    c.count += 1;
                    if c.count.is_multiple_of(2) {
                        g.schedule(ns + rtt.max(1), ci, EV_SERVER_ACK);
                    }
                }
                let x = g.exp(mean);
                g.schedule(ns + Gen::gap(x), ci, EV_DATA)
            }
            (Kind::Tcp, _) => {}
        }
    }
    w.flush()?;

    let mut flows = Vec::new();
    for c in &convs {
        for d in &c.dirs {
            if d.packets == 0 {
                continue;
            }
            let k = &d.key;
            let f = TruthFlow {
                kind: c.kind.name().to_string(),
                proto: k.proto,
                v6: k.v6,
                src: k.src_string(),
                sport: k.sport,
                dst: k.dst_string(),
                dport: k.dport,
                vlans: c.vlans,
                packets: d.packets,
                iat: d.iat,
                rtt: d.rtt,
            };
            flows.push((*k, f));
        }
    }
    flows.sort_by_key(|a| a.0);
    let flows = flows.into_iter().map(|a| a.1).collect();
    Ok(Truth {
        generator: opts.clone(),
        packets: emitted,
        first_ns: first_ns.unwrap_or(0),
        last_ns,
        flows,
    })
}

/// The benchmarks' trace of `packets` packets, `dir/bench-<packets>.pcap`
/// ([`GenOptions::bench`]), shared by `bloomtime-bench`, `rusthdl-bench`
/// and `bloomtime-sim-bench`: generated (into a partial file renamed at
/// the end) unless it is there. Returns its path, and the ground truth if
/// it was generated now.
pub fn bench_trace(dir: &Path, packets: u64) -> io::Result<(PathBuf, Option<Truth>)> {
    let pcap = dir.join(format!("bench-{packets}.pcap"));
    if pcap.exists() {
        return Ok((pcap, None));
    }
    let truth = generate_file(&GenOptions::bench(packets), &pcap, None)?;
    Ok((pcap, Some(truth)))
}

/// Generate into a file (and write the truth there if asked). The capture
/// is written to `<name>.partial-<pid>` in the same directory and renamed
/// into place when complete, so that a failed or killed run never leaves a
/// partial capture under the name asked for (a killed run may leave the
/// `.partial-` file; a failed one removes it). An existing `pcap` that is a
/// symlink is replaced at its target.
pub fn generate_file(
    opts: &GenOptions,
    pcap: impl AsRef<Path>,
    truth: Option<&Path>,
) -> io::Result<Truth> {
    let pcap = pcap.as_ref();
    let dest = std::fs::canonicalize(pcap).unwrap_or_else(|_| pcap.to_path_buf());
    let name = dest
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut partial = name.to_os_string();
    partial.push(format!(".partial-{}", std::process::id()));
    let tmp = dest.with_file_name(partial);
    let written = File::create(&tmp).and_then(|f| {
        let t = generate(opts, BufWriter::with_capacity(1 << 20, f))?;
        std::fs::rename(&tmp, &dest)?;
        Ok(t)
    });
    let t = match written {
        Ok(t) => t,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    if let Some(p) = truth {
        t.write(p)?;
    }
    Ok(t)
}
