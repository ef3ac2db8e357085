//! Flow table (docs/DESIGN.md §6): direct-mapped slots with a fingerprint and
//! per-flow accumulators; takeovers and overflows export events.

use crate::config::Config;
use crate::key::{get, put, FlowKey};
use serde::Serialize;

/// Accumulator of one sample kind, in sample units `q`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Acc {
    pub n: u32,
    pub sum: u64,
    pub sumsq: u64,
    /// All ones (of `xb` bits) while `n = 0`.
    pub min: u32,
    pub max: u32,
}

impl Acc {
    #[inline]
    pub fn empty(cfg: &Config) -> Acc {
        Acc {
            n: 0,
            sum: 0,
            sumsq: 0,
            min: ((1u64 << cfg.sample_bits()) - 1) as u32,
            max: 0,
        }
    }

    #[inline]
    pub fn add(&mut self, x: u32) {
        self.n += 1;
        self.sum += x as u64;
        self.sumsq += x as u64 * x as u64;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }

    fn pack(&self, cfg: &Config, w: &mut [u64], off: &mut u32) {
        let xb = cfg.sample_bits();
        for (v, width) in [
            (self.n as u128, cfg.packet_bits),
            (self.sum as u128, cfg.sum_bits()),
            (self.sumsq as u128, cfg.sumsq_bits()),
            (self.min as u128, xb),
            (self.max as u128, xb),
        ] {
            put(w, *off, width, v);
            *off += width;
        }
    }

    fn unpack(cfg: &Config, w: &[u64], off: &mut u32) -> Acc {
        let xb = cfg.sample_bits();
        let mut f = |width: u32| {
            let v = get(w, *off, width);
            *off += width;
            v
        };
        Acc {
            n: f(cfg.packet_bits) as u32,
            sum: f(cfg.sum_bits()) as u64,
            sumsq: f(cfg.sumsq_bits()) as u64,
            min: f(xb) as u32,
            max: f(xb) as u32,
        }
    }
}

/// A slot's statistics: what an `Evict` carries.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SlotStats {
    pub packets: u32,
    pub iat: Acc,
    pub rtt: Acc,
}

impl SlotStats {
    /// Statistics of a slot that starts with one record.
    #[inline]
    pub fn first(cfg: &Config, iat: Option<u32>, rtt: Option<u32>) -> SlotStats {
        let mut s = SlotStats {
            packets: 1,
            iat: Acc::empty(cfg),
            rtt: Acc::empty(cfg),
        };
        if let Some(x) = iat {
            s.iat.add(x);
        }
        if let Some(x) = rtt {
            s.rtt.add(x);
        }
        s
    }

    #[inline]
    pub fn add(&mut self, iat: Option<u32>, rtt: Option<u32>) {
        self.packets += 1;
        if let Some(x) = iat {
            self.iat.add(x);
        }
        if let Some(x) = rtt {
            self.rtt.add(x);
        }
    }

    /// Number of 64-bit words of the packed statistics.
    pub fn words(cfg: &Config) -> usize {
        (cfg.stats_bits() as usize).div_ceil(64)
    }

    /// Pack in the stats-RAM layout (LSB first): packets, IAT (n, Σx, Σx²,
    /// min, max), RTT (the same).
    pub fn pack(&self, cfg: &Config) -> Vec<u64> {
        let mut w = vec![0u64; Self::words(cfg)];
        let mut off = 0;
        put(&mut w, off, cfg.packet_bits, self.packets as u128);
        off += cfg.packet_bits;
        self.iat.pack(cfg, &mut w, &mut off);
        self.rtt.pack(cfg, &mut w, &mut off);
        debug_assert_eq!(off, cfg.stats_bits());
        w
    }

    pub fn unpack(cfg: &Config, w: &[u64]) -> SlotStats {
        let mut off = cfg.packet_bits;
        let packets = get(w, 0, cfg.packet_bits) as u32;
        let iat = Acc::unpack(cfg, w, &mut off);
        let rtt = Acc::unpack(cfg, w, &mut off);
        SlotStats { packets, iat, rtt }
    }

    /// Bytes of the packed statistics on the wire (little-endian bit order).
    pub fn wire_bytes(cfg: &Config) -> usize {
        (cfg.stats_bits() as usize).div_ceil(8)
    }

    pub fn to_wire(&self, cfg: &Config) -> Vec<u8> {
        let w = self.pack(cfg);
        let mut b: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
        b.truncate(Self::wire_bytes(cfg));
        b
    }

    pub fn from_wire(cfg: &Config, b: &[u8]) -> SlotStats {
        let mut w = vec![0u64; Self::words(cfg)];
        for (i, &byte) in b.iter().enumerate().take(Self::wire_bytes(cfg)) {
            w[i / 8] |= (byte as u64) << (8 * (i % 8));
        }
        Self::unpack(cfg, &w)
    }
}

/// Why a slot's statistics were exported.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvictReason {
    /// A different key took the slot.
    Collision = 0,
    /// The packet counter was full.
    Overflow = 1,
    /// A flush emptied the table.
    Flush = 2,
}

impl EvictReason {
    pub fn from_index(i: u8) -> Option<EvictReason> {
        match i {
            0 => Some(EvictReason::Collision),
            1 => Some(EvictReason::Overflow),
            2 => Some(EvictReason::Flush),
            _ => None,
        }
    }
    /// Does this eviction end the slot's ownership by its key?
    pub fn ends_ownership(self) -> bool {
        self != EvictReason::Overflow
    }
}

/// What the flow table exports. `Evict` does not name its key: the host
/// credits it to the key the slot's `Open` announced (docs/DESIGN.md §6).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Event {
    Open {
        slot: u32,
        key: FlowKey,
    },
    Evict {
        slot: u32,
        reason: EvictReason,
        stats: SlotStats,
    },
}

/// One slot of the flow table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Slot {
    pub valid: bool,
    pub fingerprint: u32,
    /// The key that opened the slot (the model keeps it to count aliasing;
    /// hardware does not store it).
    pub key: FlowKey,
    pub stats: SlotStats,
}

/// What one record did to the table.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct TableOutcome {
    pub opened: bool,
    pub evicted: Option<EvictReason>,
    /// A different key with an equal fingerprint was merged (model only).
    pub aliased: bool,
}

#[derive(Clone, Debug)]
pub struct FlowTable {
    pub slots: Vec<Slot>,
    cfg: Config,
}

impl FlowTable {
    pub fn new(cfg: &Config) -> FlowTable {
        let empty = Slot {
            valid: false,
            fingerprint: 0,
            key: FlowKey::default(),
            stats: SlotStats {
                packets: 0,
                iat: Acc::empty(cfg),
                rtt: Acc::empty(cfg),
            },
        };
        FlowTable {
            slots: vec![empty; cfg.slots() as usize],
            cfg: *cfg,
        }
    }

    /// Account one record with its samples in `slot`; push exported events.
    #[inline]
    pub fn update(
        &mut self,
        slot: u32,
        fingerprint: u32,
        key: &FlowKey,
        iat: Option<u32>,
        rtt: Option<u32>,
        events: &mut Vec<Event>,
    ) -> TableOutcome {
        let cfg = self.cfg;
        let s = &mut self.slots[slot as usize];
        let mut out = TableOutcome::default();
        if !s.valid || s.fingerprint != fingerprint {
            events.push(Event::Open { slot, key: *key });
            out.opened = true;
            if s.valid {
                events.push(Event::Evict {
                    slot,
                    reason: EvictReason::Collision,
                    stats: s.stats,
                });
                out.evicted = Some(EvictReason::Collision);
            }
            *s = Slot {
                valid: true,
                fingerprint,
                key: *key,
                stats: SlotStats::first(&cfg, iat, rtt),
            };
        } else if s.stats.packets as u64 == cfg.packet_max() {
            events.push(Event::Evict {
                slot,
                reason: EvictReason::Overflow,
                stats: s.stats,
            });
            out.evicted = Some(EvictReason::Overflow);
            out.aliased = s.key != *key;
            s.stats = SlotStats::first(&cfg, iat, rtt);
        } else {
            out.aliased = s.key != *key;
            s.stats.add(iat, rtt);
        }
        out
    }

    /// Export every valid slot (slot order) and empty the table.
    pub fn flush(&mut self, events: &mut Vec<Event>) -> u64 {
        (0..self.slots.len() as u32)
            .map(|i| self.flush_slot(i, events) as u64)
            .sum()
    }

    /// Export one slot if it is valid and empty it (a flush, one slot at a
    /// time, as a device does while its event buffer has room).
    pub fn flush_slot(&mut self, slot: u32, events: &mut Vec<Event>) -> bool {
        let s = &mut self.slots[slot as usize];
        if !s.valid {
            return false;
        }
        events.push(Event::Evict {
            slot,
            reason: EvictReason::Flush,
            stats: s.stats,
        });
        s.valid = false;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ALCHITRY_CU, PRESETS};
    use proptest::prelude::*;

    fn arb_acc(cfg: Config) -> impl Strategy<Value = Acc> {
        let xmax = cfg.sample_max() as u32;
        let pmax = cfg.packet_max() as u32;
        (0..=pmax, 0..=xmax, 0..=xmax).prop_map(move |(n, a, b)| Acc {
            n,
            sum: n as u64 * a as u64,
            sumsq: n as u64 * a as u64 * a as u64,
            min: a.min(b),
            max: a.max(b),
        })
    }

    proptest! {
        #[test]
        fn stats_pack_roundtrips(
            (p, a, b) in (0usize..3).prop_flat_map(|p| (Just(p), arb_acc(PRESETS[p].config), arb_acc(PRESETS[p].config)))
        ) {
            let cfg = PRESETS[p].config;
            let s = SlotStats { packets: a.n.max(b.n), iat: a, rtt: b };
            prop_assert_eq!(SlotStats::unpack(&cfg, &s.pack(&cfg)), s);
            prop_assert_eq!(SlotStats::from_wire(&cfg, &s.to_wire(&cfg)), s);
        }
    }

    #[test]
    fn overflow_evicts_and_restarts() {
        let mut cfg = ALCHITRY_CU;
        cfg.packet_bits = 4;
        let mut t = FlowTable::new(&cfg);
        let k = FlowKey::v4(6, [1, 1, 1, 1], 1, [2, 2, 2, 2], 2);
        let mut ev = Vec::new();
        for _ in 0..16 {
            t.update(3, 7, &k, Some(1), None, &mut ev);
        }
        assert_eq!(ev.len(), 2);
        assert!(matches!(ev[0], Event::Open { slot: 3, .. }));
        match ev[1] {
            Event::Evict {
                slot: 3,
                reason: EvictReason::Overflow,
                stats,
            } => {
                assert_eq!(stats.packets, 15);
                assert_eq!(stats.iat.n, 15);
            }
            e => panic!("{e:?}"),
        }
        assert_eq!(t.slots[3].stats.packets, 1);
    }

    #[test]
    fn collision_opens_and_evicts() {
        let cfg = ALCHITRY_CU;
        let mut t = FlowTable::new(&cfg);
        let a = FlowKey::v4(6, [1, 1, 1, 1], 1, [2, 2, 2, 2], 2);
        let b = FlowKey::v4(6, [1, 1, 1, 1], 3, [2, 2, 2, 2], 2);
        let mut ev = Vec::new();
        t.update(0, 1, &a, None, None, &mut ev);
        t.update(0, 1, &a, Some(5), None, &mut ev);
        let o = t.update(0, 2, &b, None, Some(9), &mut ev);
        assert_eq!(o.evicted, Some(EvictReason::Collision));
        assert_eq!(ev.len(), 3);
        assert_eq!(t.slots[0].stats.rtt.n, 1);
        let mut f = Vec::new();
        assert_eq!(t.flush(&mut f), 1);
        assert!(!t.slots[0].valid);
    }
}
