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
    pub fn add(&mut self, rule: &AccRule, x: Sample) {
        self.n += 1;
        self.sum += x.0 as u64;
        let mut m = self.moments();
        m.add(rule, x);
        (self.sumsq, self.min, self.max) = (m.sumsq, m.min, m.max);
    }

    /// What the accumulator keeps beyond its count and sum.
    #[inline]
    pub fn moments(&self) -> AccMoments {
        AccMoments {
            sumsq: self.sumsq,
            min: self.min,
            max: self.max,
        }
    }

    /// The accumulator of count `n`, sum `sum` and moments `m`.
    #[inline]
    pub fn from_parts(n: u32, sum: u64, m: &AccMoments) -> Acc {
        Acc {
            n,
            sum,
            sumsq: m.sumsq,
            min: m.min,
            max: m.max,
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

/// An accumulator's `Σ(x² − d_level)`, minimum and maximum: what it keeps
/// beyond its count and sum, where the configuration says (all zero where
/// it keeps neither).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct AccMoments {
    pub sumsq: i128,
    pub min: u32,
    pub max: u32,
}

impl AccMoments {
    /// Of an empty accumulator.
    #[inline]
    pub fn empty(rule: &AccRule) -> AccMoments {
        AccMoments {
            sumsq: 0,
            min: rule.empty_min,
            max: 0,
        }
    }

    /// How a sample enters them (the one rule, [`Acc::add`]'s too).
    #[inline]
    pub fn add(&mut self, rule: &AccRule, (x, hit): Sample) {
        if rule.second_moment {
            self.sumsq += x as i128 * x as i128 - rule.corr[hit.level as usize] as i128;
        }
        if rule.extremes {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
    }
}

/// A slot's packet count and its accumulators' counts and sums: what every
/// configuration keeps, in 32 bytes. With [`AccMoments`] (IAT, RTT) it is
/// a [`SlotStats`]; the flow table and the event log keep the two apart,
/// so that a configuration that keeps no moments does not carry them.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct SlotCounts {
    pub packets: u32,
    pub iat_n: u32,
    pub rtt_n: u32,
    pub iat_sum: u64,
    pub rtt_sum: u64,
}

impl SlotCounts {
    /// Count one record with its samples.
    #[inline]
    fn add(&mut self, iat: Option<Sample>, rtt: Option<Sample>) {
        self.packets += 1;
        if let Some((x, _)) = iat {
            self.iat_n += 1;
            self.iat_sum += x as u64;
        }
        if let Some((x, _)) = rtt {
            self.rtt_n += 1;
            self.rtt_sum += x as u64;
        }
    }
}

/// The moments of a slot's two accumulators (IAT, RTT).
pub type SlotMoments = [AccMoments; 2];

/// Moments of no accumulator: what a configuration that keeps none carries.
pub const NO_MOMENTS: SlotMoments = [AccMoments {
    sumsq: 0,
    min: 0,
    max: 0,
}; 2];

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

    /// The statistics of counts `c` and moments `m`.
    #[inline]
    pub fn from_parts(c: &SlotCounts, m: &SlotMoments) -> SlotStats {
        SlotStats {
            packets: c.packets,
            iat: Acc::from_parts(c.iat_n, c.iat_sum, &m[0]),
            rtt: Acc::from_parts(c.rtt_n, c.rtt_sum, &m[1]),
        }
    }

    /// The counts and sums.
    #[inline]
    pub fn counts(&self) -> SlotCounts {
        SlotCounts {
            packets: self.packets,
            iat_n: self.iat.n,
            rtt_n: self.rtt.n,
            iat_sum: self.iat.sum,
            rtt_sum: self.rtt.sum,
        }
    }

    /// The moments (IAT, RTT).
    #[inline]
    pub fn moments(&self) -> SlotMoments {
        [self.iat.moments(), self.rtt.moments()]
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
    /// An `Evict` whose moments are not all zero: they are stored (in the
    /// log's moments, in order); else they are zero.
    pub moments: bool,
}

/// Exported events in order, kept compactly: per event its slot and kind
/// (8 bytes), the keys of the `Open`s and the counts of the `Evict`s each
/// in their own vector, in event order, and the moments of the `Evict`s
/// whose moments are not all zero (none, where the configuration keeps no
/// moments). The `k`-th `Open`'s key is `keys()[k]`, the `k`-th `Evict`'s
/// counts `counts()[k]`; [`EventLog::stats`] gives whole statistics.
///
/// The same stream as a `Vec<Event>` ([`EventLog::iter`] gives the
/// `Event`s), without its cost: an `Event` is as large as its largest
/// variant (128 bytes), and building one per `Open` and `Evict` (nearly
/// every record of a busy table exports both) was a quarter of the model's
/// time; here an event writes its 8-byte head and copies its key or its
/// 32 bytes of counts straight from the record or the slot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventLog {
    heads: Vec<EventHead>,
    keys: Vec<FlowKey>,
    counts: Vec<SlotCounts>,
    moments: Vec<SlotMoments>,
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
            moments: false,
        });
        self.keys.push(*key);
    }

    /// Append an `Evict` of `slot` with its counts and moments.
    #[inline]
    pub fn push_evict(
        &mut self,
        slot: u32,
        reason: EvictReason,
        counts: &SlotCounts,
        moments: &SlotMoments,
    ) {
        let stored = *moments != NO_MOMENTS;
        self.heads.push(EventHead {
            slot,
            kind: EventKind::Evict(reason),
            moments: stored,
        });
        self.counts.push(*counts);
        if stored {
            self.moments.push(*moments);
        }
    }

    /// Append an event.
    pub fn push(&mut self, ev: &Event) {
        match ev {
            Event::Open { slot, key } => self.push_open(*slot, key),
            Event::Evict {
                slot,
                reason,
                stats,
            } => self.push_evict(*slot, *reason, &stats.counts(), &stats.moments()),
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
        self.counts.len()
    }

    /// Every event's slot and kind, in order.
    pub fn heads(&self) -> &[EventHead] {
        &self.heads
    }

    /// The `Open`s' keys, in order.
    pub fn keys(&self) -> &[FlowKey] {
        &self.keys
    }

    /// The `Evict`s' counts, in order.
    pub fn counts(&self) -> &[SlotCounts] {
        &self.counts
    }

    /// The `Evict`s' moments, in order, each `Evict` with its head's
    /// `moments` flag set having one.
    pub fn moments(&self) -> &[SlotMoments] {
        &self.moments
    }

    /// The `Evict`s' statistics, in order.
    pub fn stats(&self) -> impl Iterator<Item = SlotStats> + '_ {
        let mut moments = self.moments.iter();
        self.heads
            .iter()
            .filter_map(|h| match h.kind {
                EventKind::Open => None,
                EventKind::Evict(_) => Some(h.moments),
            })
            .zip(&self.counts)
            .map(move |(stored, c)| {
                let m = if stored {
                    moments.next().expect("a flagged Evict has moments")
                } else {
                    &NO_MOMENTS
                };
                SlotStats::from_parts(c, m)
            })
    }

    /// The events, in order.
    pub fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        let (mut keys, mut stats) = (self.keys.iter(), self.stats());
        self.heads.iter().map(move |h| match h.kind {
            EventKind::Open => Event::Open {
                slot: h.slot,
                key: *keys.next().expect("an Open has a key"),
            },
            EventKind::Evict(reason) => Event::Evict {
                slot: h.slot,
                reason,
                stats: stats.next().expect("an Evict has statistics"),
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
        self.counts.clear();
        self.moments.clear();
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

/// One slot of the flow table, as [`FlowTable::slot`] gives it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Slot {
    pub valid: bool,
    pub fingerprint: u32,
    /// The key that opened the slot (the model keeps it to count aliasing;
    /// hardware does not store it).
    pub key: FlowKey,
    pub stats: SlotStats,
}

/// A slot as the table stores it: its counts beside its key (80 bytes);
/// its moments, where the configuration keeps any, in a vector of their own.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
struct Stored {
    counts: SlotCounts,
    fingerprint: u32,
    key: FlowKey,
    valid: bool,
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
    slots: Vec<Stored>,
    /// Per slot, its accumulators' moments, when the configuration keeps
    /// `Σx²` or extremes; else empty.
    moments: Vec<SlotMoments>,
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
        let n = cfg.slots() as usize;
        let keeps = rule.second_moment || rule.extremes;
        let bins = cfg.hist_bins() as usize;
        FlowTable {
            slots: vec![Stored::default(); n],
            moments: vec![[AccMoments::empty(&rule); 2]; if keeps { n } else { 0 }],
            cfg: *cfg,
            rule,
            bins,
            hist: vec![0; n * 2 * bins],
            hist_out: Vec::new(),
        }
    }

    /// Number of slots.
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Slot `slot` (which must be below [`FlowTable::slot_count`]).
    pub fn slot(&self, slot: u32) -> Slot {
        let s = &self.slots[slot as usize];
        Slot {
            valid: s.valid,
            fingerprint: s.fingerprint,
            key: s.key,
            stats: SlotStats::from_parts(&s.counts, self.moments_of(slot)),
        }
    }

    /// Every slot, in order.
    pub fn slots(&self) -> impl ExactSizeIterator<Item = Slot> + '_ {
        (0..self.slots.len() as u32).map(|i| self.slot(i))
    }

    /// The key that opened slot `slot` (model only).
    pub fn key(&self, slot: u32) -> &FlowKey {
        &self.slots[slot as usize].key
    }

    /// Whether slot `slot` holds a flow.
    pub fn is_valid(&self, slot: u32) -> bool {
        self.slots[slot as usize].valid
    }

    /// Slot `slot`'s moments ([`NO_MOMENTS`] where none are kept).
    #[inline]
    fn moments_of(&self, slot: u32) -> &SlotMoments {
        self.moments.get(slot as usize).unwrap_or(&NO_MOMENTS)
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
        crate::prefetch(&s.counts);
        crate::prefetch(&s.valid);
        if let Some(m) = self.moments.get(slot as usize) {
            crate::prefetch(m);
        }
    }

    /// Export slot `slot`'s statistics as an `Evict` for `reason`.
    #[inline]
    fn push_evict(&self, slot: u32, reason: EvictReason, events: &mut EventLog) {
        let s = &self.slots[slot as usize];
        events.push_evict(slot, reason, &s.counts, self.moments_of(slot));
    }

    /// Start slot `slot`'s statistics afresh with one record.
    #[inline]
    fn restart(&mut self, slot: u32, iat: Option<Sample>, rtt: Option<Sample>) {
        let s = &mut self.slots[slot as usize];
        s.counts = SlotCounts::default();
        s.counts.add(iat, rtt);
        if let Some(m) = self.moments.get_mut(slot as usize) {
            *m = [AccMoments::empty(&self.rule); 2];
            Self::add_moments(&self.rule, m, iat, rtt);
        }
    }

    /// Count one record with its samples into slot `slot`'s statistics.
    #[inline]
    fn add(&mut self, slot: u32, iat: Option<Sample>, rtt: Option<Sample>) {
        self.slots[slot as usize].counts.add(iat, rtt);
        if let Some(m) = self.moments.get_mut(slot as usize) {
            Self::add_moments(&self.rule, m, iat, rtt);
        }
    }

    #[inline]
    fn add_moments(rule: &AccRule, m: &mut SlotMoments, iat: Option<Sample>, rtt: Option<Sample>) {
        if let Some(x) = iat {
            m[0].add(rule, x);
        }
        if let Some(x) = rtt {
            m[1].add(rule, x);
        }
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
        let mut out = TableOutcome::default();
        let s = &self.slots[slot as usize];
        if !s.valid || s.fingerprint != fingerprint {
            events.push_open(slot, key);
            out.opened = true;
            let was_valid = s.valid;
            if was_valid {
                self.push_evict(slot, EvictReason::Collision, events);
                out.evicted = Some(EvictReason::Collision);
            }
            let s = &mut self.slots[slot as usize];
            (s.valid, s.fingerprint, s.key) = (true, fingerprint, *key);
            self.restart(slot, iat, rtt);
            if was_valid {
                self.export_hist(slot);
            }
        } else if s.counts.packets as u64 == packet_max {
            out.aliased = s.key != *key;
            self.push_evict(slot, EvictReason::Overflow, events);
            out.evicted = Some(EvictReason::Overflow);
            self.restart(slot, iat, rtt);
            self.export_hist(slot);
        } else {
            out.aliased = s.key != *key;
            self.add(slot, iat, rtt);
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
        if !self.slots[slot as usize].valid {
            return false;
        }
        self.push_evict(slot, EvictReason::Flush, events);
        self.slots[slot as usize].valid = false;
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

        /// The table keeps counts and moments apart, and its log stores
        /// only moments that are not all zero: slot by slot and event by
        /// event it is the plain table of whole `SlotStats`
        /// (`SlotStats::first` and `SlotStats::add`), under every preset.
        #[test]
        fn split_table_is_the_plain_table(
            p in 0usize..PRESETS.len(),
            ops in prop::collection::vec(
                (0u32..4, 0u32..3, 0u32..3, prop::option::of((0u32..300, 0u8..3)),
                 prop::option::of((0u32..300, 0u8..3))),
                1..200),
        ) {
            let mut cfg = PRESETS[p].config;
            cfg.packet_bits = 3;
            let rule = AccRule::new(&cfg);
            let mut t = FlowTable::new(&cfg);
            let mut log = EventLog::new();
            // The plain table: (valid, fingerprint, key, stats) per slot.
            let mut plain = vec![(false, 0u32, FlowKey::default(), SlotStats::empty(&rule)); cfg.slots() as usize];
            let mut want = Vec::new();
            let level = |l: u8| (l as usize % cfg.level_count()) as u8;
            for (slot, fp, port, iat, rtt) in ops {
                let iat = iat.map(|(x, l)| (x, Hit { level: level(l), age: 0 }));
                let rtt = rtt.map(|(x, l)| (x, Hit { level: level(l), age: 0 }));
                let key = FlowKey::v4(6, [10, 0, 0, 1], port as u16, [10, 0, 0, 2], 80);
                t.update(slot, fp, &key, iat, rtt, &mut log);
                let s = &mut plain[slot as usize];
                if !s.0 || s.1 != fp {
                    want.push(Event::Open { slot, key });
                    if s.0 {
                        want.push(Event::Evict { slot, reason: EvictReason::Collision, stats: s.3 });
                    }
                    *s = (true, fp, key, SlotStats::first(&rule, iat, rtt));
                } else if s.3.packets as u64 == cfg.packet_max() {
                    want.push(Event::Evict { slot, reason: EvictReason::Overflow, stats: s.3 });
                    s.3 = SlotStats::first(&rule, iat, rtt);
                } else {
                    s.3.add(&rule, iat, rtt);
                }
            }
            for (i, s) in plain.iter().enumerate() {
                let got = t.slot(i as u32);
                prop_assert_eq!((got.valid, got.fingerprint, got.key), (s.0, s.1, s.2));
                if s.0 {
                    prop_assert_eq!(got.stats, s.3, "slot {}", i);
                }
            }
            t.flush(&mut log);
            for (i, s) in plain.iter().enumerate() {
                if s.0 {
                    want.push(Event::Evict { slot: i as u32, reason: EvictReason::Flush, stats: s.3 });
                }
            }
            prop_assert_eq!(log.to_vec(), want.clone());
            prop_assert_eq!(log.stats().count(), log.evicts());
            // Rebuilt from its events, the log is the same log.
            prop_assert_eq!(want.iter().copied().collect::<EventLog>(), log);
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
        assert_eq!(t.slot(3).stats.packets, 1);
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
        assert_eq!(t.slot(0).stats.rtt.n, 1);
        let mut f = EventLog::new();
        assert_eq!(t.flush(&mut f), 1);
        assert!(!t.is_valid(0));
    }
}
