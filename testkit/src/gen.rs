//! Random inputs of the core tests: keys from a small universe (so flows
//! repeat), protocol-consistent flags, record streams with bursts, reverse
//! flows, gaps and regressions, and keys that collide in the banks and
//! the table.

use crate::seed::Rng;
use bloomtime_model::config::HARDWARE as CFG;
use bloomtime_model::hash::Hashes;
use bloomtime_model::key::{
    FlowKey, Record, FLAG_ECHO_REPLY, FLAG_ECHO_REQUEST, FLAG_TCP_SYN, FLAG_TCP_SYNACK,
};

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
        let mut rec = match (last, r.below(4)) {
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
        if r.chance(0.01) {
            rec.ts = rec.ts.saturating_sub(r.below(1 << 14));
        }
        last = Some(rec);
        out.push(rec);
    }
    out
}

/// `n` keys on the bank line of one base key and `n` on its table slot
/// (the board's configuration), so that back-to-back records hit every
/// forwarding path.
pub fn colliding_keys(n: usize) -> Vec<FlowKey> {
    let base = FlowKey::v4(17, [10, 1, 1, 1], 0, [10, 2, 2, 2], 53);
    let h0 = Hashes::of_key(&base, 0);
    let mut same_line = Vec::new();
    let mut same_slot = Vec::new();
    for p in 0..u16::MAX {
        let k = FlowKey { sport: p, ..base };
        let h = Hashes::of_key(&k, 0);
        if h.line(&CFG, 0) == h0.line(&CFG, 0) && same_line.len() < n {
            same_line.push(k);
        }
        if h.slot(&CFG) == h0.slot(&CFG) && same_slot.len() < n {
            same_slot.push(k);
        }
    }
    same_line.into_iter().chain(same_slot).collect()
}
