//! Shared helpers: seeded random records (the same shapes as the rust-hdl
//! core tests, hw/tests/common) and the comparison of the Verilated core
//! with the golden model (hw/tests/common/core_harness.rs `compare`, on the
//! Verilator harness).
#![allow(dead_code)]

use bloomtime_model::golden::BloomTime;
use bloomtime_model::hash::Hashes;
use bloomtime_model::key::{
    FlowKey, Record, FLAG_ECHO_REPLY, FLAG_ECHO_REQUEST, FLAG_TCP_SYN, FLAG_TCP_SYNACK,
};
use bloomtime_model::merge::FlowMerger;
use bloomtime_model::table::Event;
use bloomtime_sim::{CoreSim, Outcome, CFG, TRACE_BUILT};
use std::collections::HashMap;
use std::path::PathBuf;

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
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
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

/// Keys whose lines collide in both banks and keys whose slots collide, so
/// that back-to-back records hit every forwarding path.
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

/// How to drive the core.
#[derive(Clone, Copy, Debug)]
pub struct Drive {
    /// Probability that an output is not ready in a cycle.
    pub backpressure: f64,
    /// Probability of an idle input cycle before a record.
    pub gaps: f64,
    pub seed: u64,
}

impl Drive {
    pub fn plain() -> Drive {
        Drive {
            backpressure: 0.0,
            gaps: 0.0,
            seed: 1,
        }
    }
}

/// A difference, and the cycle near which it shows (for a trace window).
pub struct Mismatch {
    pub what: String,
    pub cycle: u64,
}

/// Per-slot sequences of one event kind.
fn per_slot(events: &[Event], opens: bool) -> HashMap<u32, Vec<Event>> {
    let mut m: HashMap<u32, Vec<Event>> = HashMap::new();
    for e in events {
        match (e, opens) {
            (Event::Open { slot, .. }, true) | (Event::Evict { slot, .. }, false) => {
                m.entry(*slot).or_default().push(*e)
            }
            _ => {}
        }
    }
    m
}

/// Run `recs` through the Verilated core and the model and return the first
/// difference: every outcome, the final table (read with PEEK), the events
/// per slot and kind after a flush, the merged flows (the host's merge over
/// the core's real interleaving), and the counters (read twice).
pub fn compare(recs: &[Record], d: Drive, sim: &mut CoreSim) -> Result<(), Mismatch> {
    sim.set_backpressure(d.backpressure, d.seed);
    let mut gaps = Rng::new(d.seed ^ 0x5eed);
    let mut m = BloomTime::new(&CFG);
    let mut want = Vec::with_capacity(recs.len());
    let mut taken_at = Vec::with_capacity(recs.len());
    for r in recs {
        while d.gaps > 0.0 && gaps.chance(d.gaps) {
            sim.clock();
        }
        sim.send_record(r);
        taken_at.push(sim.cycles());
        want.push(Outcome::from(&m.process(r)));
    }
    sim.drain();
    let got = sim.take_outcomes();
    let end = sim.cycles();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        if g != w {
            return Err(Mismatch {
                what: format!(
                    "first diverging record #{i} (taken in cycle {}): {:?}\n  core:  {g:?}\n  model: {w:?}",
                    taken_at[i], recs[i]
                ),
                cycle: taken_at[i],
            });
        }
    }
    if got.len() != want.len() {
        return Err(Mismatch {
            what: format!(
                "the core produced {} outcomes for {} records",
                got.len(),
                want.len()
            ),
            cycle: taken_at.get(got.len()).copied().unwrap_or(end),
        });
    }
    // The final table, slot by slot, through PEEK.
    let slots = m.table().slots.len() as u32;
    for slot in 0..slots {
        let c = sim.cycles();
        let p = sim.peek(slot);
        let s = &m.table().slots[slot as usize];
        if p.valid != s.valid || (s.valid && (p.fingerprint != s.fingerprint || p.stats != s.stats))
        {
            return Err(Mismatch {
                what: format!("slot {slot}: core {p:?}\n  model {s:?}"),
                cycle: c,
            });
        }
    }
    let flush_at = sim.cycles();
    sim.flush();
    m.flush();
    let model_events = m.drain_events();
    let hw_events = sim.take_events();
    for opens in [true, false] {
        let (a, b) = (per_slot(&hw_events, opens), per_slot(&model_events, opens));
        if a != b {
            let slot = a
                .keys()
                .chain(b.keys())
                .find(|k| a.get(k) != b.get(k))
                .unwrap();
            return Err(Mismatch {
                what: format!(
                    "slot {slot} {} events differ\n  core:  {:?}\n  model: {:?}",
                    if opens { "open" } else { "evict" },
                    a.get(slot),
                    b.get(slot)
                ),
                cycle: flush_at,
            });
        }
    }
    let merged = |events: &[Event]| -> Result<_, String> {
        let mut fm = FlowMerger::new(&CFG);
        for e in events {
            fm.push(e).map_err(|e| format!("merge: {e}"))?;
        }
        Ok(fm.flows())
    };
    let hf = merged(&hw_events).map_err(|what| Mismatch {
        what,
        cycle: flush_at,
    })?;
    if hf != merged(&model_events).unwrap() {
        return Err(Mismatch {
            what: "merged flows differ".into(),
            cycle: flush_at,
        });
    }
    let c = sim.cycles();
    let hc = sim.read_counters();
    if hc != *m.counters() {
        return Err(Mismatch {
            what: format!(
                "counters differ\n  core:  {hc:?}\n  model: {:?}",
                m.counters()
            ),
            cycle: c,
        });
    }
    // Read again: the readout is exact and does not disturb the counters.
    if sim.read_counters() != *m.counters() {
        return Err(Mismatch {
            what: "a second counter readout differs".into(),
            cycle: c,
        });
    }
    Ok(())
}

/// Where a failing test writes its VCD: `build/vcd/sim_<name>.vcd` in the workspace.
pub fn vcd_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../build/vcd")
        .join(format!("sim_{name}.vcd"))
}

/// Compare; on a difference, re-run with a VCD of the cycles around it (with
/// the `trace` feature) and panic.
pub fn check(name: &str, recs: &[Record], d: Drive) {
    let mut sim = CoreSim::new();
    let t = std::time::Instant::now();
    let r = compare(recs, d, &mut sim);
    eprintln!(
        "{name}: {} records, {} cycles in {:.2} s",
        recs.len(),
        sim.cycles(),
        t.elapsed().as_secs_f64()
    );
    if let Err(e) = r {
        let trace = if TRACE_BUILT {
            let p = vcd_path(name);
            let mut sim = CoreSim::new();
            sim.trace_window(&p, e.cycle.saturating_sub(200)..e.cycle + 200)
                .expect("trace");
            let _ = compare(recs, d, &mut sim);
            format!(
                "VCD of cycles {}..{}: {}",
                e.cycle.saturating_sub(200),
                e.cycle + 200,
                p.display()
            )
        } else {
            "for a VCD around it, run again with `--features trace`".into()
        };
        panic!("{name}: {}\n{trace}", e.what);
    }
}
