//! Flow table (docs/DESIGN.md §6): direct-mapped slots with a fingerprint and
//! per-flow accumulators; takeovers and overflows export events.

use crate::config::{Config, MAX_LEVELS};
use crate::estimator::Hit;
use crate::key::{get, put, FlowKey};
use serde::Serialize;

/// A sample in units `q_0` and the bucket it came from.
pub type Sample = (u32, Hit);

/// A sample of level 0 (the only level of a one-level configuration).
pub fn level0(x: u32) -> Sample {
    (x, Hit::default())
}

/// What an accumulator keeps and how a sample enters it (docs/DESIGN.md §6,
/// §7), fixed by the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccRule {
    /// Keeps `Σ(x² − d_level)`.
    pub second_moment: bool,
    /// Keeps min and max.
    pub extremes: bool,
    /// `min` of an empty accumulator: all ones of `xb` bits.
    pub empty_min: u32,
    /// `d_i`, the level's excess quantization variance in units `q_0²`.
    pub corr: [i64; MAX_LEVELS],
}

impl AccRule {
    pub fn new(cfg: &Config) -> AccRule {
        let mut corr = [0i64; MAX_LEVELS];
        for (i, c) in corr.iter_mut().enumerate().take(cfg.level_count()) {
            *c = level_correction(cfg.level_shift(i), cfg.sample_frac_bits);
        }
        AccRule {
            second_moment: cfg.second_moment,
            extremes: cfg.extremes,
            empty_min: if cfg.extremes {
                ((1u64 << cfg.sample_bits()) - 1) as u32
            } else {
                0
            },
            corr,
        }
    }
}

/// `d_g = round((4^g − 1)(4^f + 1) / 12)`: how much more quantization
/// variance (units `q_0²`) a level `g` octaves coarser than level 0 has
/// (`(w_i² + q_i²)/12 − (w_0² + q_0²)/12`). Level 0: 0.
pub fn level_correction(g: u32, f: u32) -> i64 {
    let num = ((1i128 << (2 * g)) - 1) * ((1i128 << (2 * f)) + 1);
    ((num + 6) / 12) as i64
}

/// Accumulator of one sample kind, in sample units `q_0`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Acc {
    pub n: u32,
    pub sum: u64,
    /// `Σ(x² − d_level)` (§7): signed where levels correct; 0 when not kept.
    pub sumsq: i128,
    /// All ones (of `xb` bits) while `n = 0`; 0 when extremes are not kept.
    pub min: u32,
    /// 0 when extremes are not kept.
    pub max: u32,
}

impl Acc {
    #[inline]
    pub fn empty(rule: &AccRule) -> Acc {
        Acc {
            n: 0,
            sum: 0,
            sumsq: 0,
            min: rule.empty_min,
            max: 0,
        }
    }

    #[inline]
    pub fn add(&mut self, rule: &AccRule, (x, hit): Sample) {
        self.n += 1;
        self.sum += x as u64;
        if rule.second_moment {
            self.sumsq += x as i128 * x as i128 - rule.corr[hit.level as usize] as i128;
        }
        if rule.extremes {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
    }

    fn pack(&self, cfg: &Config, w: &mut [u64], off: &mut u32) {
        let xb = cfg.sample_bits();
        let sq = cfg.sumsq_bits();
        let mut fields = vec![
            (self.n as u128, cfg.packet_bits),
            (self.sum as u128, cfg.sum_bits()),
        ];
        if sq > 0 {
            fields.push((self.sumsq as u128 & ((1u128 << sq) - 1), sq));
        }
        if cfg.extremes {
            fields.push((self.min as u128, xb));
            fields.push((self.max as u128, xb));
        }
        for (v, width) in fields {
            put(w, *off, width, v);
            *off += width;
        }
    }

    fn unpack(cfg: &Config, w: &[u64], off: &mut u32) -> Acc {
        let xb = cfg.sample_bits();
        let sq = cfg.sumsq_bits();
        let mut f = |width: u32| {
            let v = get(w, *off, width);
            *off += width;
            v
        };
        let n = f(cfg.packet_bits) as u32;
        let sum = f(cfg.sum_bits()) as u64;
        let sumsq = if sq == 0 {
            0
        } else {
            let v = f(sq);
            if cfg.level_count() > 1 {
                // Two's complement of `sq` bits.
                ((v << (128 - sq)) as i128) >> (128 - sq)
            } else {
                v as i128
            }
        };
        let (min, max) = if cfg.extremes {
            (f(xb) as u32, f(xb) as u32)
        } else {
            (0, 0)
        };
        Acc {
            n,
            sum,
            sumsq,
            min,
            max,
        }
    }
}

/// The histogram bin of a sample (half-octave bins, docs/DESIGN.md §7): 0
/// for `x = 0`; else `1 + 2e + m` with `e = ⌊log2 x⌋` and `m` the bit below
/// the leading one.
#[inline]
pub fn hist_bin(x: u32) -> usize {
    if x == 0 {
        return 0;
    }
    let e = 31 - x.leading_zeros();
    let m = if e >= 1 { (x >> (e - 1)) & 1 } else { 0 };
    (1 + 2 * e + m) as usize
}

/// The samples of bin `b`: `lo..hi` (half-open, units `q_0`).
pub fn hist_bin_range(b: usize) -> (u64, u64) {
    if b == 0 {
        return (0, 1);
    }
    let e = ((b - 1) / 2) as u32;
    let m = ((b - 1) % 2) as u64;
    if e == 0 {
        return if m == 0 { (1, 2) } else { (2, 2) };
    }
    let lo = (1u64 << e) + (m << (e - 1));
    (lo, lo + (1u64 << (e - 1)))
}

/// A slot's statistics: what an `Evict` carries.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SlotStats {
    pub packets: u32,
    pub iat: Acc,
    pub rtt: Acc,
}

impl SlotStats {
    /// Statistics of an empty slot.
    #[inline]
    pub fn empty(rule: &AccRule) -> SlotStats {
        SlotStats {
            packets: 0,
            iat: Acc::empty(rule),
            rtt: Acc::empty(rule),
        }
    }

    /// Statistics of a slot that starts with one record.
    #[inline]
    pub fn first(rule: &AccRule, iat: Option<Sample>, rtt: Option<Sample>) -> SlotStats {
        let mut s = SlotStats::empty(rule);
        s.add(rule, iat, rtt);
        s
    }

    #[inline]
    pub fn add(&mut self, rule: &AccRule, iat: Option<Sample>, rtt: Option<Sample>) {
        self.packets += 1;
        if let Some(x) = iat {
            self.iat.add(rule, x);
        }
        if let Some(x) = rtt {
            self.rtt.add(rule, x);
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
    pub const fn wire_bytes(cfg: &Config) -> usize {
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

/// What an event of an [`EventLog`] is.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum EventKind {
    Open,
    Evict(EvictReason),
}

/// An event without its key or statistics: its slot and kind.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct EventHead {
    pub slot: u32,
    pub kind: EventKind,
}

/// Exported events in order, kept compactly: per event its slot and kind
/// (8 bytes), and the keys of the `Open`s and the statistics of the
/// `Evict`s each in their own vector, in event order. The `k`-th `Open`'s
/// key is `keys()[k]`, the `k`-th `Evict`'s statistics `stats()[k]`.
///
/// The same stream as a `Vec<Event>` ([`EventLog::iter`] gives the
/// `Event`s), without its cost: an `Event` is as large as its largest
/// variant (128 bytes), and building one per `Open` and `Evict` (nearly
/// every record of a busy table exports both) was a quarter of the model's
/// time; here an event writes its 8-byte head and copies its key or its
/// statistics straight from the record or the slot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventLog {
    heads: Vec<EventHead>,
    keys: Vec<FlowKey>,
    stats: Vec<SlotStats>,
}

impl EventLog {
    pub fn new() -> EventLog {
        EventLog::default()
    }

    /// Append an `Open` of `slot` by `key`.
    #[inline]
    pub fn push_open(&mut self, slot: u32, key: &FlowKey) {
        self.heads.push(EventHead {
            slot,
            kind: EventKind::Open,
        });
        self.keys.push(*key);
    }

    /// Append an `Evict` of `slot` with its statistics.
    #[inline]
    pub fn push_evict(&mut self, slot: u32, reason: EvictReason, stats: &SlotStats) {
        self.heads.push(EventHead {
            slot,
            kind: EventKind::Evict(reason),
        });
        self.stats.push(*stats);
    }

    /// Append an event.
    pub fn push(&mut self, ev: &Event) {
        match ev {
            Event::Open { slot, key } => self.push_open(*slot, key),
            Event::Evict {
                slot,
                reason,
                stats,
            } => self.push_evict(*slot, *reason, stats),
        }
    }

    /// Number of events.
    #[inline]
    pub fn len(&self) -> usize {
        self.heads.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.heads.is_empty()
    }

    /// Number of `Open`s.
    #[inline]
    pub fn opens(&self) -> usize {
        self.keys.len()
    }

    /// Number of `Evict`s.
    #[inline]
    pub fn evicts(&self) -> usize {
        self.stats.len()
    }

    /// Every event's slot and kind, in order.
    pub fn heads(&self) -> &[EventHead] {
        &self.heads
    }

    /// The `Open`s' keys, in order.
    pub fn keys(&self) -> &[FlowKey] {
        &self.keys
    }

    /// The `Evict`s' statistics, in order.
    pub fn stats(&self) -> &[SlotStats] {
        &self.stats
    }

    /// The events, in order.
    pub fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        let (mut keys, mut stats) = (self.keys.iter(), self.stats.iter());
        self.heads.iter().map(move |h| match h.kind {
            EventKind::Open => Event::Open {
                slot: h.slot,
                key: *keys.next().expect("an Open has a key"),
            },
            EventKind::Evict(reason) => Event::Evict {
                slot: h.slot,
                reason,
                stats: *stats.next().expect("an Evict has statistics"),
            },
        })
    }

    /// The events as a vector, in order.
    pub fn to_vec(&self) -> Vec<Event> {
        self.iter().collect()
    }

    /// Forget every event, keeping the buffers.
    pub fn clear(&mut self) {
        self.heads.clear();
        self.keys.clear();
        self.stats.clear();
    }
}

impl FromIterator<Event> for EventLog {
    fn from_iter<I: IntoIterator<Item = Event>>(iter: I) -> EventLog {
        let mut log = EventLog::new();
        for ev in iter {
            log.push(&ev);
        }
        log
    }
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
    rule: AccRule,
    /// Bins per histogram (0: no histograms).
    bins: usize,
    /// `[slot][iat, rtt][bin]` counters, when the configuration keeps them.
    hist: Vec<u32>,
    /// The histograms of exported slots, `2·bins` counters per `Evict`, in
    /// event order (drained with the events).
    hist_out: Vec<u32>,
}

impl FlowTable {
    pub fn new(cfg: &Config) -> FlowTable {
        let rule = AccRule::new(cfg);
        let empty = Slot {
            valid: false,
            fingerprint: 0,
            key: FlowKey::default(),
            stats: SlotStats::empty(&rule),
        };
        let bins = cfg.hist_bins() as usize;
        FlowTable {
            slots: vec![empty; cfg.slots() as usize],
            cfg: *cfg,
            rule,
            bins,
            hist: vec![0; cfg.slots() as usize * 2 * bins],
            hist_out: Vec::new(),
        }
    }

    /// How samples enter the accumulators.
    pub fn rule(&self) -> &AccRule {
        &self.rule
    }

    /// Bins per histogram (0 when the configuration keeps none).
    pub fn hist_bins(&self) -> usize {
        self.bins
    }

    /// A slot's histograms: IAT bins then RTT bins.
    pub fn hist(&self, slot: u32) -> &[u32] {
        let at = slot as usize * 2 * self.bins;
        &self.hist[at..at + 2 * self.bins]
    }

    /// Take the exported histograms (one `2·bins` block per `Evict` since
    /// the last call, in order).
    pub fn take_hist_out(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.hist_out)
    }

    /// The exported histograms not yet taken (as [`FlowTable::take_hist_out`]
    /// would give them).
    pub fn hist_out(&self) -> &[u32] {
        &self.hist_out
    }

    /// Forget the exported histograms, keeping the buffer.
    pub fn clear_hist_out(&mut self) {
        self.hist_out.clear();
    }

    /// Export slot `slot`'s histograms and clear them.
    fn export_hist(&mut self, slot: u32) {
        if self.bins > 0 {
            let at = slot as usize * 2 * self.bins;
            let h = &mut self.hist[at..at + 2 * self.bins];
            self.hist_out.extend_from_slice(h);
            h.fill(0);
        }
    }

    /// Count the samples in slot `slot`'s histograms.
    #[inline]
    fn hist_add(&mut self, slot: u32, iat: Option<Sample>, rtt: Option<Sample>) {
        if self.bins > 0 {
            let at = slot as usize * 2 * self.bins;
            if let Some((x, _)) = iat {
                self.hist[at + hist_bin(x)] += 1;
            }
            if let Some((x, _)) = rtt {
                self.hist[at + self.bins + hist_bin(x)] += 1;
            }
        }
    }

    /// Ask for slot `slot` in the cache ahead of its update (a hint).
    #[inline]
    pub fn prefetch(&self, slot: u32) {
        let s = &self.slots[slot as usize];
        crate::prefetch(&s.valid);
        crate::prefetch(&s.stats.rtt);
    }

    /// Account one record with its samples in `slot`; push exported events.
    #[inline]
    pub fn update(
        &mut self,
        slot: u32,
        fingerprint: u32,
        key: &FlowKey,
        iat: Option<Sample>,
        rtt: Option<Sample>,
        events: &mut EventLog,
    ) -> TableOutcome {
        let packet_max = self.cfg.packet_max();
        let rule = &self.rule;
        let s = &mut self.slots[slot as usize];
        let mut out = TableOutcome::default();
        if !s.valid || s.fingerprint != fingerprint {
            events.push_open(slot, key);
            out.opened = true;
            let was_valid = s.valid;
            if was_valid {
                events.push_evict(slot, EvictReason::Collision, &s.stats);
                out.evicted = Some(EvictReason::Collision);
            }
            *s = Slot {
                valid: true,
                fingerprint,
                key: *key,
                stats: SlotStats::first(rule, iat, rtt),
            };
            if was_valid {
                self.export_hist(slot);
            }
        } else if s.stats.packets as u64 == packet_max {
            events.push_evict(slot, EvictReason::Overflow, &s.stats);
            out.evicted = Some(EvictReason::Overflow);
            out.aliased = s.key != *key;
            s.stats = SlotStats::first(rule, iat, rtt);
            self.export_hist(slot);
        } else {
            out.aliased = s.key != *key;
            s.stats.add(rule, iat, rtt);
        }
        self.hist_add(slot, iat, rtt);
        out
    }

    /// Export every valid slot (slot order) and empty the table.
    pub fn flush(&mut self, events: &mut EventLog) -> u64 {
        (0..self.slots.len() as u32)
            .map(|i| self.flush_slot(i, events) as u64)
            .sum()
    }

    /// Export one slot if it is valid and empty it (a flush, one slot at a
    /// time, as a device does while its event buffer has room).
    pub fn flush_slot(&mut self, slot: u32, events: &mut EventLog) -> bool {
        let s = &mut self.slots[slot as usize];
        if !s.valid {
            return false;
        }
        events.push_evict(slot, EvictReason::Flush, &s.stats);
        s.valid = false;
        self.export_hist(slot);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ALCHITRY_CU_V1, PRESETS};
    use proptest::prelude::*;

    fn arb_acc(cfg: Config) -> impl Strategy<Value = Acc> {
        let xmax = cfg.sample_max() as u32;
        let pmax = cfg.packet_max() as u32;
        let rule = AccRule::new(&cfg);
        let dmax = rule.corr[cfg.level_count() - 1];
        (0..=pmax, 0..=xmax, 0..=xmax, 0..=dmax).prop_map(move |(n, a, b, d)| Acc {
            n,
            sum: n as u64 * a as u64,
            sumsq: if cfg.second_moment {
                n as i128 * (a as i128 * a as i128 - d as i128)
            } else {
                0
            },
            min: if cfg.extremes { a.min(b) } else { 0 },
            max: if cfg.extremes { a.max(b) } else { 0 },
        })
    }

    /// A level-0 sample.
    fn s(x: u32) -> Sample {
        (x, Hit::default())
    }

    #[test]
    fn histogram_bins_cover_every_sample_once() {
        let mut prev_hi = 0;
        for b in 0..=64 {
            let (lo, hi) = hist_bin_range(b);
            if lo == hi {
                continue; // the unused bin 2
            }
            assert_eq!(lo, prev_hi, "bin {b}");
            for x in [lo, hi - 1] {
                assert_eq!(hist_bin(x as u32), b, "x {x}");
            }
            prev_hi = hi;
            if hi > u32::MAX as u64 {
                break;
            }
        }
    }

    #[test]
    fn level_corrections() {
        assert_eq!(level_correction(0, 4), 0);
        // (4 - 1)(256 + 1)/12 = 64.25
        assert_eq!(level_correction(1, 4), 64);
        assert_eq!(level_correction(3, 2), (63 * 17 + 6) / 12);
    }

    #[test]
    fn histograms_are_exported_with_their_evictions() {
        let mut cfg = crate::config::LARGE;
        cfg.packet_bits = 4;
        let mut t = FlowTable::new(&cfg);
        let k = FlowKey::v4(6, [1, 1, 1, 1], 1, [2, 2, 2, 2], 2);
        let mut ev = EventLog::new();
        for i in 0..20u32 {
            t.update(3, 7, &k, Some(s(i)), None, &mut ev);
        }
        t.flush(&mut ev);
        let h = t.take_hist_out();
        let bins = t.hist_bins();
        assert_eq!(h.len(), 2 * 2 * bins, "an overflow and a flush");
        let counted: u32 = h.iter().sum();
        assert_eq!(counted, 20);
        assert_eq!(h[hist_bin(0)], 1);
        // The flush's block holds 15..=19: 15 alone in its bin, 16..=19 in one.
        assert_eq!(h[2 * bins + hist_bin(15)], 1);
        assert_eq!(h[2 * bins + hist_bin(19)], 4);
    }

    proptest! {
        #![proptest_config(crate::prop_config("model::table"))]

        #[test]
        fn stats_pack_roundtrips(
            (p, a, b) in (0usize..PRESETS.len()).prop_flat_map(|p| (Just(p), arb_acc(PRESETS[p].config), arb_acc(PRESETS[p].config)))
        ) {
            let cfg = PRESETS[p].config;
            let s = SlotStats { packets: a.n.max(b.n), iat: a, rtt: b };
            prop_assert_eq!(SlotStats::unpack(&cfg, &s.pack(&cfg)), s);
            prop_assert_eq!(SlotStats::from_wire(&cfg, &s.to_wire(&cfg)), s);
        }
    }

    #[test]
    fn overflow_evicts_and_restarts() {
        let mut cfg = ALCHITRY_CU_V1;
        cfg.packet_bits = 4;
        let mut t = FlowTable::new(&cfg);
        let k = FlowKey::v4(6, [1, 1, 1, 1], 1, [2, 2, 2, 2], 2);
        let mut ev = EventLog::new();
        for _ in 0..16 {
            t.update(3, 7, &k, Some(s(1)), None, &mut ev);
        }
        assert_eq!(ev.len(), 2);
        let ev = ev.to_vec();
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
        let cfg = ALCHITRY_CU_V1;
        let mut t = FlowTable::new(&cfg);
        let a = FlowKey::v4(6, [1, 1, 1, 1], 1, [2, 2, 2, 2], 2);
        let b = FlowKey::v4(6, [1, 1, 1, 1], 3, [2, 2, 2, 2], 2);
        let mut ev = EventLog::new();
        t.update(0, 1, &a, None, None, &mut ev);
        t.update(0, 1, &a, Some(s(5)), None, &mut ev);
        let o = t.update(0, 2, &b, None, Some(s(9)), &mut ev);
        assert_eq!(o.evicted, Some(EvictReason::Collision));
        assert_eq!(ev.len(), 3);
        assert_eq!(t.slots[0].stats.rtt.n, 1);
        let mut f = EventLog::new();
        assert_eq!(t.flush(&mut f), 1);
        assert!(!t.slots[0].valid);
    }
}
