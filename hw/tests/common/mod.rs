//! Shared helpers for the hardware tests.
#![allow(dead_code)]

pub mod core_harness;
pub mod sim_board;

use bloomtime_model::key::{
    FlowKey, Record, FLAG_ECHO_REPLY, FLAG_ECHO_REQUEST, FLAG_TCP_SYN, FLAG_TCP_SYNACK,
};

/// A small seeded generator (xorshift*), so every random test can print and replay its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 > 1.0 - p
    }
}

/// The seed for a random test: `BLOOMTIME_SEED` or a fixed default; printed.
pub fn seed(test: &str, default: u64) -> u64 {
    let s = std::env::var("BLOOMTIME_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    eprintln!("{test}: seed {s} (set BLOOMTIME_SEED to replay another)");
    s
}

/// A random key from a small universe of hosts and ports, so flows repeat.
pub fn random_key(r: &mut Rng, hosts: u64, ports: u64) -> FlowKey {
    let h = |r: &mut Rng| {
        let v = r.below(hosts) as u32;
        [10, (v >> 16) as u8, (v >> 8) as u8, v as u8]
    };
    let proto = [6u8, 17, 1, 58, 47][r.below(5) as usize];
    let (sp, dp) = (r.below(ports) as u16, r.below(ports) as u16);
    if r.chance(0.2) {
        let mut s = [0u8; 16];
        let mut d = [0u8; 16];
        s[0] = 0x20;
        d[0] = 0x20;
        s[15] = r.below(hosts) as u8;
        d[15] = r.below(hosts) as u8;
        s[8] = r.below(3) as u8;
        FlowKey::v6(proto, s, sp, d, dp)
    } else {
        FlowKey::v4(proto, h(r), sp, h(r), dp)
    }
}

/// Random flags consistent with the protocol.
pub fn random_flags(r: &mut Rng, key: &FlowKey) -> u8 {
    match key.proto {
        1 | 58 => [0, FLAG_ECHO_REQUEST, FLAG_ECHO_REPLY][r.below(3) as usize],
        6 => [0, 0, FLAG_TCP_SYN, FLAG_TCP_SYNACK][r.below(4) as usize],
        _ => 0,
    }
}

/// A random record stream: bursts of same-flow and reverse-flow packets,
/// time gaps from zero to far beyond the window, occasional time regressions.
pub fn random_records(r: &mut Rng, n: usize, hosts: u64, ports: u64) -> Vec<Record> {
    let mut out = Vec::with_capacity(n);
    let mut ts: u64 = r.below(1 << 20);
    let mut last: Option<Record> = None;
    for _ in 0..n {
        let gap = match r.below(10) {
            0..=3 => 0,
            4..=6 => r.below(1 << 12),
            7 => r.below(1 << 16),
            8 => r.below(1 << 20),
            _ => r.below(1 << 24),
        };
        ts = (ts + gap) & ((1 << 40) - 1);
        let rec = match (last, r.below(4)) {
            (Some(l), 0) => Record { ts, ..l },
            (Some(l), 1) => {
                let echo = l.is_echo();
                let key = l.key.reverse(echo);
                let flags = if echo {
                    FLAG_ECHO_REPLY
                } else {
                    random_flags(r, &key)
                };
                Record { ts, key, flags }
            }
            _ => {
                let key = random_key(r, hosts, ports);
                let flags = random_flags(r, &key);
                Record { ts, key, flags }
            }
        };
        let mut rec = rec;
        if r.chance(0.01) {
            rec.ts = rec.ts.saturating_sub(r.below(1 << 14));
        }
        last = Some(rec);
        out.push(rec);
    }
    out
}

/// Running under CI (`CI=true`): a missing external input (the shared
/// traces, yosys, verilator) is a failure there, a printed skip elsewhere.
pub fn in_ci() -> bool {
    bloomtime_traces::shared::ci()
}

/// Skip a test for a missing external input: a failure under CI, else a
/// message on stderr. Returns normally only outside CI.
pub fn skip_or_fail(test: &str, what: &str) {
    if in_ci() {
        panic!("{test}: {what} (CI=true: a missing input is a failure)");
    }
    eprintln!("{test}: SKIPPED: {what} (under CI=true this fails)");
}
