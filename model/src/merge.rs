//! Host-side merge of exported events into exact per-flow sums
//! (docs/DESIGN.md §6, "Host merge").

use crate::config::Config;
use crate::hash::Hashes;
use crate::key::FlowKey;
use crate::key_map::KeyMap;
use crate::table::{
    Acc, AccMoments, Event, EventKind, EventLog, EvictReason, SlotCounts, SlotMoments, SlotStats,
    NO_MOMENTS,
};
use rustc_hash::FxHashMap as HashMap;
use std::collections::VecDeque;
use std::fmt;

/// Accumulator merged over any number of slot records.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct MergedAcc {
    pub n: u64,
    pub sum: u128,
    /// `Σx²` (exact), or the estimate's `Σ(x² − d_level)` (§7).
    pub sumsq: i128,
    pub min: u64,
    pub max: u64,
}

impl MergedAcc {
    #[inline]
    pub fn add_acc(&mut self, a: &Acc) {
        if a.n == 0 {
            return;
        }
        add_moments(
            &mut self.sumsq,
            &mut self.min,
            &mut self.max,
            self.n,
            &a.moments(),
        );
        self.n += a.n as u64;
        self.sum += a.sum as u128;
    }

    pub fn merge(&mut self, o: &MergedAcc) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        self.n += o.n;
        self.sum += o.sum;
        self.sumsq += o.sumsq;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }
}

/// A flow's statistics merged from all its slot records.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct MergedStats {
    pub packets: u64,
    pub iat: MergedAcc,
    pub rtt: MergedAcc,
}

impl MergedStats {
    #[inline]
    pub fn add_slot(&mut self, s: &SlotStats) {
        self.packets += s.packets as u64;
        self.iat.add_acc(&s.iat);
        self.rtt.add_acc(&s.rtt);
    }
    pub fn merge(&mut self, o: &MergedStats) {
        self.packets += o.packets;
        self.iat.merge(&o.iat);
        self.rtt.merge(&o.rtt);
    }
}

/// The event stream is inconsistent: never silently absorbed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergeError {
    /// An `Open` names a slot its key does not hash to.
    WrongSlot {
        slot: u32,
        key: FlowKey,
        expected: u32,
    },
    /// An `Evict` (or a slot read) for a slot nobody opened.
    NoOwner { slot: u32 },
    /// A slot index outside the table.
    BadSlot { slot: u32 },
    /// Evictions and exported histograms do not pair up.
    MissingHistogram,
}

impl fmt::Display for MergeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MergeError::WrongSlot {
                slot,
                key,
                expected,
            } => write!(
                f,
                "device opened slot {slot} for {key}, which hashes to slot {expected}"
            ),
            MergeError::NoOwner { slot } => {
                write!(
                    f,
                    "device exported slot {slot}, which no open event announced"
                )
            }
            MergeError::BadSlot { slot } => {
                write!(f, "device named slot {slot}, outside the table")
            }
            MergeError::MissingHistogram => {
                write!(f, "evictions and exported histograms do not pair up")
            }
        }
    }
}
impl std::error::Error for MergeError {}

/// Per slot, the queue of keys announced and not yet evicted, each as its
/// flow's position in the merged flows: a vector indexed by slot up to 2^20
/// slots, a map beyond.
#[derive(Clone, Debug)]
enum Owners {
    Dense(Vec<VecDeque<u32>>),
    Sparse(HashMap<u32, VecDeque<u32>>),
}

impl Owners {
    fn new(cfg: &Config) -> Owners {
        if cfg.slots_log2 <= 20 {
            Owners::Dense(vec![VecDeque::new(); cfg.slots() as usize])
        } else {
            Owners::Sparse(HashMap::default())
        }
    }
    /// The queue of `slot` (checked to be inside the table).
    #[inline]
    fn queue(&mut self, slot: u32) -> &mut VecDeque<u32> {
        match self {
            Owners::Dense(v) => &mut v[slot as usize],
            Owners::Sparse(m) => m.entry(slot).or_default(),
        }
    }
    fn front(&self, slot: u32) -> Option<&u32> {
        match self {
            Owners::Dense(v) => v[slot as usize].front(),
            Owners::Sparse(m) => m.get(&slot).and_then(|q| q.front()),
        }
    }
    fn open(&self) -> usize {
        match self {
            Owners::Dense(v) => v.iter().filter(|q| !q.is_empty()).count(),
            Owners::Sparse(m) => m.values().filter(|q| !q.is_empty()).count(),
        }
    }
}

/// A flow's merged counts and sums, and whether it has any (its entry is
/// made at its first `Open`, before its first eviction is credited): what
/// every configuration keeps, 56 bytes, so that a flow's key and sums are a
/// 96-byte entry, which never spans more than two cache lines (with `u128`
/// sums, aligned to 16, it was 112 bytes and three lines for half the
/// entries). A sum is 96 bits, low 64 and high 32: a sum of fewer than
/// 2^64 samples (its count is a `u64`) of 32 bits each is below 2^96.
/// `Σx²`, minimum and maximum are in [`Extras`], kept only by
/// configurations that keep them.
#[derive(Clone, Copy, Debug, Default)]
struct Merged {
    packets: u64,
    iat_n: u64,
    rtt_n: u64,
    iat_lo: u64,
    rtt_lo: u64,
    iat_hi: u32,
    rtt_hi: u32,
    credited: bool,
}

/// Add `x` to the 96-bit sum `(lo, hi)`.
#[inline]
fn add96(lo: &mut u64, hi: &mut u32, x: u64) {
    let (l, carry) = lo.overflowing_add(x);
    *lo = l;
    *hi += carry as u32;
}

/// The 96-bit sum `(lo, hi)`.
#[inline]
fn sum96(lo: u64, hi: u32) -> u128 {
    (hi as u128) << 64 | lo as u128
}

const _: () = assert!(std::mem::size_of::<FlowKey>() + std::mem::size_of::<Merged>() <= 96);

/// A merged accumulator's `Σx²`, minimum and maximum.
#[derive(Clone, Copy, Debug, Default)]
struct Moments {
    sumsq: i128,
    min: u64,
    max: u64,
}

/// A flow's merged [`Moments`] of IAT and RTT.
#[derive(Clone, Copy, Debug, Default)]
struct Extras {
    iat: Moments,
    rtt: Moments,
}

/// Merge a non-empty slot accumulator's `Σx²`, minimum and maximum into a
/// merged accumulator's, whose count was `n` before (its minimum and
/// maximum are the slot's when `n` is 0). [`MergedAcc::add_acc`]'s rule,
/// and the merge's for [`Extras`].
#[inline]
fn add_moments(sumsq: &mut i128, min: &mut u64, max: &mut u64, n: u64, a: &AccMoments) {
    if n == 0 {
        (*min, *max) = (a.min as u64, a.max as u64);
    } else {
        (*min, *max) = ((*min).min(a.min as u64), (*max).max(a.max as u64));
    }
    *sumsq += a.sumsq;
}

impl Moments {
    /// The moments `a` of a slot accumulator of `a_n` samples.
    #[inline]
    fn add(&mut self, n: u64, a_n: u32, a: &AccMoments) {
        if a_n > 0 {
            add_moments(&mut self.sumsq, &mut self.min, &mut self.max, n, a);
        }
    }
}

/// Merges `Open`/`Evict` events (and snapshots of live slots) into per-flow sums.
#[derive(Clone, Debug)]
pub struct FlowMerger {
    cfg: Config,
    /// Check that an `Open` names the slot its key hashes to (a device's
    /// events); off for the golden model's own ([`FlowMerger::of_model`]).
    verify_slots: bool,
    owners: Owners,
    /// Merged flows by key, each entered at its first `Open`.
    flows: KeyMap<Merged>,
    /// Per flow (by position in `flows`), its `Σx²`, minimum and maximum,
    /// when the configuration keeps either; else empty.
    extras: Vec<Extras>,
    keeps_extras: bool,
    /// `push_log`'s evictions to credit (the owner's position in `flows`,
    /// the index of the eviction's counts, that of its moments or
    /// `u32::MAX`), reused between batches.
    pending: Vec<(u32, u32, u32)>,
    /// `push_log`'s hashes of its `Open` keys, reused between batches.
    hashes: Vec<u64>,
    /// Bins per histogram (0: the configuration keeps none).
    bins: usize,
    /// Per flow, its merged histograms: IAT bins then RTT bins.
    hists: HashMap<FlowKey, Vec<u64>>,
}

impl FlowMerger {
    /// A merger of a device's events: every `Open` is checked against the
    /// key's hash.
    pub fn new(cfg: &Config) -> FlowMerger {
        FlowMerger {
            cfg: *cfg,
            verify_slots: true,
            owners: Owners::new(cfg),
            flows: KeyMap::default(),
            extras: Vec::new(),
            keeps_extras: cfg.second_moment || cfg.extremes,
            pending: Vec::new(),
            hashes: Vec::new(),
            bins: cfg.hist_bins() as usize,
            hists: HashMap::default(),
        }
    }

    /// A merger of the in-process golden model's events, whose slots the
    /// model computed from the same hash: the per-`Open` rehash is skipped
    /// (it is a hash of the whole key per event; debug builds still check).
    pub fn of_model(cfg: &Config) -> FlowMerger {
        FlowMerger {
            verify_slots: false,
            ..FlowMerger::new(cfg)
        }
    }

    /// Events with the histograms of their evictions (`2·bins` counters per
    /// `Evict`, in order, as `BloomTime::drain_hists` gives them; empty when
    /// the configuration keeps none).
    pub fn push_all(&mut self, events: &[Event], hists: &[u32]) -> Result<(), MergeError> {
        if self.bins == 0 {
            return self.push_log_plain(&events.iter().copied().collect(), hists);
        }
        self.push_with_hists(events.iter().copied(), hists)
    }

    /// [`FlowMerger::push_all`] of events in the model's compact form.
    pub fn push_log(&mut self, events: &EventLog, hists: &[u32]) -> Result<(), MergeError> {
        if self.bins == 0 {
            return self.push_log_plain(events, hists);
        }
        self.push_with_hists(events.iter(), hists)
    }

    /// Events one by one, each `Evict` with its block of histograms.
    fn push_with_hists(
        &mut self,
        events: impl Iterator<Item = Event>,
        hists: &[u32],
    ) -> Result<(), MergeError> {
        let block = 2 * self.bins;
        let mut at = 0;
        for ev in events {
            let h = match ev {
                Event::Evict { .. } => {
                    let h = hists
                        .get(at..at + block)
                        .ok_or(MergeError::MissingHistogram)?;
                    at += block;
                    Some(h)
                }
                _ => None,
            };
            self.push_with_hist(&ev, h)?;
        }
        if at != hists.len() {
            return Err(MergeError::MissingHistogram);
        }
        Ok(())
    }

    /// [`FlowMerger::push_log`] without histograms, in two passes: the
    /// slot owners first (in event order, stopping at the first
    /// inconsistency), then the evictions credited to their flows, whose
    /// index words and sums are prefetched a few evictions ahead (a flow's
    /// sums are rarely in cache; crediting is commutative, so the result
    /// is that of crediting event by event).
    fn push_log_plain(&mut self, events: &EventLog, hists: &[u32]) -> Result<(), MergeError> {
        let mut pending = std::mem::take(&mut self.pending);
        let mut hashes = std::mem::take(&mut self.hashes);
        pending.clear();
        hashes.clear();
        hashes.extend(events.keys().iter().map(KeyMap::<Merged>::hash));
        // An `Open` enters its flow, looking ahead: the index word of the
        // `Open` 2·AHEAD on, the entry of the one AHEAD on (found from its
        // index word, in cache by then; a hint only).
        const AHEAD: usize = 12;
        let mut failed = Ok(());
        // The next `Open`'s key and the next `Evict`'s counts and moments.
        let (keys, mut opens) = (events.keys(), 0usize);
        let (mut counts, mut moments) = (0u32, 0u32);
        for head in events.heads() {
            match head.kind {
                EventKind::Open => {
                    if let Some(&h) = hashes.get(opens + 2 * AHEAD) {
                        self.flows.prefetch_index(h);
                    }
                    if let Some(&h) = hashes.get(opens + AHEAD) {
                        self.flows.prefetch_entry(h);
                    }
                    let key = keys[opens];
                    if let Err(e) = self.open_hashed(head.slot, key, hashes[opens]) {
                        failed = Err(e);
                        break;
                    }
                    opens += 1;
                }
                EventKind::Evict(reason) => {
                    let m = if head.moments {
                        moments += 1;
                        moments - 1
                    } else {
                        u32::MAX
                    };
                    match self.owner(head.slot, reason) {
                        Ok(at) => pending.push((at, counts, m)),
                        Err(e) => {
                            failed = Err(e);
                            break;
                        }
                    }
                    counts += 1;
                }
            }
        }
        // Credit in order (the sums of an eviction AHEAD on asked for).
        let (all, all_moments) = (events.counts(), events.moments());
        for (i, &(at, c, m)) in pending.iter().enumerate() {
            if let Some(&(ahead, _, _)) = pending.get(i + AHEAD) {
                self.flows.prefetch_at(ahead as usize);
            }
            let m = all_moments.get(m as usize).unwrap_or(&NO_MOMENTS);
            self.credit(at, &all[c as usize], m);
        }
        self.pending = pending;
        self.hashes = hashes;
        failed?;
        if !hists.is_empty() {
            return Err(MergeError::MissingHistogram);
        }
        Ok(())
    }

    /// An `Open`: `key` takes `slot` after the keys already announced.
    #[inline]
    fn open(&mut self, slot: u32, key: FlowKey) -> Result<(), MergeError> {
        self.open_hashed(slot, key, KeyMap::<Merged>::hash(&key))
    }

    /// [`FlowMerger::open`] of a key whose hash `h` is known.
    #[inline]
    fn open_hashed(&mut self, slot: u32, key: FlowKey, h: u64) -> Result<(), MergeError> {
        self.check_slot(slot)?;
        if self.verify_slots || cfg!(debug_assertions) {
            let expected = Hashes::of_key(&key, 0).slot(&self.cfg);
            if expected != slot {
                return Err(MergeError::WrongSlot {
                    slot,
                    key,
                    expected,
                });
            }
        }
        let at = self.flows.position_or_insert_with(&key, h, Merged::default);
        if self.keeps_extras && at == self.extras.len() {
            self.extras.push(Extras::default());
        }
        let at = u32::try_from(at).expect("fewer than 2^32 flows");
        self.owners.queue(slot).push_back(at);
        Ok(())
    }

    /// Credit a slot's counts `c` and moments `mo` to the flow at `at`.
    #[inline]
    fn credit(&mut self, at: u32, c: &SlotCounts, mo: &SlotMoments) {
        let m = self.flows.value_at(at as usize);
        let (iat_n, rtt_n) = (m.iat_n, m.rtt_n);
        m.credited = true;
        m.packets += c.packets as u64;
        m.iat_n += c.iat_n as u64;
        add96(&mut m.iat_lo, &mut m.iat_hi, c.iat_sum);
        m.rtt_n += c.rtt_n as u64;
        add96(&mut m.rtt_lo, &mut m.rtt_hi, c.rtt_sum);
        if self.keeps_extras {
            let x = &mut self.extras[at as usize];
            x.iat.add(iat_n, c.iat_n, &mo[0]);
            x.rtt.add(rtt_n, c.rtt_n, &mo[1]);
        } else {
            // Not kept: the accumulators carry zeros (`Acc`).
            debug_assert_eq!(*mo, NO_MOMENTS);
        }
    }

    /// Credit whole statistics to the flow at `at`.
    #[inline]
    fn credit_stats(&mut self, at: u32, s: &SlotStats) {
        self.credit(at, &s.counts(), &s.moments());
    }

    /// The key an `Evict` of `slot` is credited to (ending its ownership
    /// unless the eviction was an overflow).
    #[inline]
    fn owner(&mut self, slot: u32, reason: EvictReason) -> Result<u32, MergeError> {
        self.check_slot(slot)?;
        let q = self.owners.queue(slot);
        let key = *q.front().ok_or(MergeError::NoOwner { slot })?;
        if reason.ends_ownership() {
            q.pop_front();
        }
        Ok(key)
    }

    /// One event (an `Evict` without histograms).
    pub fn push(&mut self, ev: &Event) -> Result<(), MergeError> {
        self.push_with_hist(ev, None)
    }

    /// One event; `hist` is the evicted slot's histograms.
    pub fn push_with_hist(&mut self, ev: &Event, hist: Option<&[u32]>) -> Result<(), MergeError> {
        match *ev {
            Event::Open { slot, key } => self.open(slot, key)?,
            Event::Evict {
                slot,
                reason,
                stats,
            } => {
                let at = self.owner(slot, reason)?;
                self.credit_stats(at, &stats);
                if let Some(h) = hist {
                    let key = *self.flows.key_at(at as usize);
                    let m = self
                        .hists
                        .entry(key)
                        .or_insert_with(|| vec![0; 2 * self.bins]);
                    for (a, &b) in m.iter_mut().zip(h) {
                        *a += b as u64;
                    }
                }
            }
        }
        Ok(())
    }

    /// Credit a live slot's statistics (read without evicting) to its owner.
    pub fn credit_live_slot(&mut self, slot: u32, stats: &SlotStats) -> Result<(), MergeError> {
        self.check_slot(slot)?;
        let at = *self
            .owners
            .front(slot)
            .ok_or(MergeError::NoOwner { slot })?;
        self.credit_stats(at, stats);
        Ok(())
    }

    fn check_slot(&self, slot: u32) -> Result<(), MergeError> {
        if slot >= self.cfg.slots() {
            Err(MergeError::BadSlot { slot })
        } else {
            Ok(())
        }
    }

    /// Slots whose latest key has not been flushed yet.
    pub fn open_slots(&self) -> usize {
        self.owners.open()
    }

    /// A flow's merged histograms (IAT bins then RTT bins), if it has any.
    pub fn hist(&self, key: &FlowKey) -> Option<&[u64]> {
        self.hists.get(key).map(|v| v.as_slice())
    }

    /// Bins per histogram (0 when the configuration keeps none).
    pub fn hist_bins(&self) -> usize {
        self.bins
    }

    /// The merged flows, sorted by key: every flow credited at least once
    /// (a flow announced by an `Open` and not evicted yet has no sums).
    pub fn flows(&self) -> Vec<(FlowKey, MergedStats)> {
        let mut v: Vec<_> = (self.flows.entries().enumerate())
            .filter(|(_, (_, m))| m.credited)
            .map(|(at, (k, m))| {
                let x = self.extras.get(at).copied().unwrap_or_default();
                let acc = |n, sum, x: Moments| MergedAcc {
                    n,
                    sum,
                    sumsq: x.sumsq,
                    min: x.min,
                    max: x.max,
                };
                let stats = MergedStats {
                    packets: m.packets,
                    iat: acc(m.iat_n, sum96(m.iat_lo, m.iat_hi), x.iat),
                    rtt: acc(m.rtt_n, sum96(m.rtt_lo, m.rtt_hi), x.rtt),
                };
                (*k, stats)
            })
            .collect();
        v.sort_by_key(|a| a.0);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ALCHITRY_CU, ALCHITRY_CU_V1};
    use crate::estimator::Hit;
    use crate::table::{AccRule, EvictReason};
    use proptest::prelude::*;

    fn acc(cfg: &Config, xs: &[u32]) -> Acc {
        let rule = AccRule::new(cfg);
        let mut a = Acc::empty(&rule);
        for &x in xs {
            a.add(&rule, (x, Hit::default()));
        }
        a
    }

    proptest! {
        #![proptest_config(crate::prop_config("model::merge"))]

        /// Merging is associative and commutative: any split of a sample
        /// sequence into slot records merges to the sums of the whole.
        #[test]
        fn merge_of_any_split_equals_the_whole(
            xs in proptest::collection::vec(0u32..200, 0..60),
            cuts in proptest::collection::vec(0usize..60, 0..5),
        ) {
            let cfg = ALCHITRY_CU_V1;
            let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c.min(xs.len())).collect();
            bounds.push(0);
            bounds.push(xs.len());
            bounds.sort();
            let mut parts = Vec::new();
            for w in bounds.windows(2) {
                let chunk = &xs[w[0]..w[1]];
                parts.push(SlotStats { packets: chunk.len() as u32, iat: acc(&cfg, chunk), rtt: Acc::empty(&AccRule::new(&cfg)) });
            }
            let mut fwd = MergedStats::default();
            for p in &parts { fwd.add_slot(p); }
            let mut rev = MergedStats::default();
            for p in parts.iter().rev() {
                let mut one = MergedStats::default();
                one.add_slot(p);
                rev.merge(&one);
            }
            let mut whole = MergedStats::default();
            whole.add_slot(&SlotStats { packets: xs.len() as u32, iat: acc(&cfg, &xs), rtt: Acc::empty(&AccRule::new(&cfg)) });
            prop_assert_eq!(fwd, whole);
            prop_assert_eq!(rev, whole);
        }
    }

    #[test]
    fn evicts_are_credited_to_the_announced_key_in_any_interleaving() {
        let cfg = ALCHITRY_CU_V1;
        // Find three keys of one slot.
        let mut keys = Vec::new();
        let mut p = 0u16;
        let target =
            Hashes::of_key(&FlowKey::v4(17, [9, 9, 9, 9], 0, [8, 8, 8, 8], 53), 0).slot(&cfg);
        while keys.len() < 3 {
            let k = FlowKey::v4(17, [9, 9, 9, 9], p, [8, 8, 8, 8], 53);
            if Hashes::of_key(&k, 0).slot(&cfg) == target {
                keys.push(k);
            }
            p += 1;
        }
        let rule = AccRule::new(&cfg);
        let st = |n| SlotStats::first(&rule, Some((n, Hit::default())), None);
        let open = |k| Event::Open {
            slot: target,
            key: k,
        };
        let ev = |r, n| Event::Evict {
            slot: target,
            reason: r,
            stats: st(n),
        };
        // Model order and a hardware order where opens ran ahead of evicts.
        let model = [
            open(keys[0]),
            ev(EvictReason::Overflow, 1),
            open(keys[1]),
            ev(EvictReason::Collision, 2),
            open(keys[2]),
            ev(EvictReason::Collision, 3),
            ev(EvictReason::Flush, 4),
        ];
        let hw = [
            open(keys[0]),
            open(keys[1]),
            open(keys[2]),
            ev(EvictReason::Overflow, 1),
            ev(EvictReason::Collision, 2),
            ev(EvictReason::Collision, 3),
            ev(EvictReason::Flush, 4),
        ];
        let mut results = Vec::new();
        for seq in [&model[..], &hw[..]] {
            let mut m = FlowMerger::new(&cfg);
            for e in seq {
                m.push(e).unwrap();
            }
            assert_eq!(m.open_slots(), 0);
            results.push(m.flows());
        }
        assert_eq!(results[0], results[1]);
        let r = &results[0];
        let of = |k: FlowKey| r.iter().find(|(kk, _)| *kk == k).unwrap().1;
        assert_eq!(of(keys[0]).iat.sum, 1 + 2);
        assert_eq!(of(keys[1]).iat.sum, 3);
        assert_eq!(of(keys[2]).iat.sum, 4);
    }

    /// The merge of a golden model's events (in batches as `push_log`, and
    /// one by one) equals crediting each eviction's statistics to its slot's
    /// announced key with `MergedStats::add_slot`, for a configuration that
    /// keeps only counts and sums and one that keeps `Σx²`, minimum and
    /// maximum too.
    #[test]
    fn merged_flows_equal_add_slot_per_announced_key() {
        use crate::golden::BloomTime;
        use crate::key::Record;
        for cfg in [ALCHITRY_CU, ALCHITRY_CU_V1] {
            let mut r = bloomtime_testkit::Rng::new(7);
            let mut bt = BloomTime::new(&cfg);
            let (mut batched, mut single) =
                (FlowMerger::of_model(&cfg), FlowMerger::of_model(&cfg));
            let mut owners: HashMap<u32, VecDeque<FlowKey>> = HashMap::default();
            let mut want: HashMap<FlowKey, MergedStats> = HashMap::default();
            let mut ts = 0u64;
            for i in 0..20_000u32 {
                // Flows revisited within the windows (several samples a
                // slot record), some asking for RTTs.
                ts += r.next() % (1 << (r.next() % 14));
                let k = (r.next() % 400) as u16;
                let rtt = r.next().is_multiple_of(4);
                let (proto, flags) = if rtt {
                    (6, crate::key::FLAG_TCP_SYNACK)
                } else {
                    (17, 0)
                };
                let (a, b) = ([10, 0, (k >> 8) as u8, k as u8], [10, 1, 0, 1]);
                let key = if r.next().is_multiple_of(2) {
                    FlowKey::v4(proto, a, k, b, 53)
                } else {
                    FlowKey::v4(proto, b, 53, a, k)
                };
                bt.process(&Record { ts, key, flags });
                if i % 997 == 0 || i == 19_999 {
                    if i == 19_999 {
                        bt.flush();
                    }
                    let log = bt.pending_events().clone();
                    for ev in log.iter() {
                        single.push(&ev).unwrap();
                        match ev {
                            Event::Open { slot, key } => {
                                owners.entry(slot).or_default().push_back(key)
                            }
                            Event::Evict {
                                slot,
                                reason,
                                stats,
                            } => {
                                let q = owners.get_mut(&slot).unwrap();
                                let key = *q.front().unwrap();
                                if reason.ends_ownership() {
                                    q.pop_front();
                                }
                                want.entry(key).or_default().add_slot(&stats);
                            }
                        }
                    }
                    bt.drain_into(&mut batched).unwrap();
                }
            }
            let mut want: Vec<_> = want.into_iter().collect();
            want.sort_by_key(|a| a.0);
            assert!(want.len() > 1000, "{} flows", want.len());
            // Slot records of several samples in both directions were merged.
            let many =
                |f: fn(&MergedStats) -> u64, k| want.iter().filter(|(_, m)| f(m) > k).count();
            assert!(many(|m| m.iat.n, 3) > 300 && many(|m| m.rtt.n, 1) > 50);
            assert_eq!(batched.flows(), want);
            assert_eq!(single.flows(), want);
        }
    }

    /// `alchitry-cu-v1` (it keeps `Σx²`, minimum and maximum), a flow from
    /// source port `port`, its slot and the accumulator rule.
    fn one_flow(port: u16) -> (Config, FlowKey, u32, AccRule) {
        let cfg = ALCHITRY_CU_V1;
        let k = FlowKey::v4(6, [10, 0, 0, 1], port, [10, 0, 0, 2], 80);
        let slot = Hashes::of_key(&k, 0).slot(&cfg);
        (cfg, k, slot, AccRule::new(&cfg))
    }

    /// A flow's sums carry past 64 bits (they are 96 bits wide).
    #[test]
    fn sums_carry_past_64_bits() {
        let (cfg, k, slot, rule) = one_flow(53);
        let mut big = SlotStats::first(&rule, Some((7, Hit::default())), Some((9, Hit::default())));
        (big.iat.sum, big.rtt.sum) = (u64::MAX, u64::MAX - 1);
        let evict = Event::Evict {
            slot,
            reason: EvictReason::Overflow,
            stats: big,
        };
        let mut log: EventLog = [Event::Open { slot, key: k }].into_iter().collect();
        for _ in 0..3 {
            log.push(&evict);
        }
        let mut m = FlowMerger::new(&cfg);
        m.push_log(&log, &[]).unwrap();
        let f = m.flows();
        assert_eq!(f[0].1.iat.sum, 3 * u64::MAX as u128);
        assert_eq!(f[0].1.rtt.sum, 3 * (u64::MAX - 1) as u128);
        assert_eq!(f[0].1.packets, 3);
    }

    /// A flow is listed once it has been credited, with what it was
    /// credited, however little (a device's eviction of no packets too),
    /// and not before: its entry is made at its `Open`. The compact log and
    /// events one by one agree at every step.
    #[test]
    fn flows_are_listed_from_their_first_credit() {
        let (cfg, k, slot, rule) = one_flow(1234);
        let mut empty = SlotStats::first(&rule, None, None);
        empty.packets = 0;
        let open = Event::Open { slot, key: k };
        let evict = |stats| Event::Evict {
            slot,
            reason: EvictReason::Overflow,
            stats,
        };
        let steps = [
            (open, 0, None),
            (evict(empty), 1, Some(0)),
            (
                evict(SlotStats::first(&rule, Some((5, Hit::default())), None)),
                1,
                Some(1),
            ),
        ];
        let (mut one, mut log) = (FlowMerger::new(&cfg), FlowMerger::new(&cfg));
        for (ev, listed, packets) in steps {
            one.push(&ev).unwrap();
            log.push_log(&[ev].into_iter().collect(), &[]).unwrap();
            for m in [&one, &log] {
                let f = m.flows();
                assert_eq!(f.len(), listed);
                assert_eq!(
                    f.first().map(|(kk, s)| (*kk, s.packets)),
                    packets.map(|p| (k, p))
                );
            }
        }
        // A live slot's statistics credit a flow not evicted yet.
        let mut m = FlowMerger::new(&cfg);
        m.push(&open).unwrap();
        assert!(m.flows().is_empty());
        m.credit_live_slot(slot, &SlotStats::first(&rule, None, None))
            .unwrap();
        assert_eq!(m.flows().len(), 1);
    }

    #[test]
    fn inconsistent_streams_are_errors() {
        let cfg = ALCHITRY_CU_V1;
        let mut m = FlowMerger::new(&cfg);
        let st = SlotStats::first(&AccRule::new(&cfg), None, None);
        assert_eq!(
            m.push(&Event::Evict {
                slot: 5,
                reason: EvictReason::Flush,
                stats: st
            }),
            Err(MergeError::NoOwner { slot: 5 })
        );
        let k = FlowKey::v4(6, [1, 2, 3, 4], 5, [6, 7, 8, 9], 10);
        let right = Hashes::of_key(&k, 0).slot(&cfg);
        let wrong = (right + 1) % cfg.slots();
        assert!(matches!(
            m.push(&Event::Open {
                slot: wrong,
                key: k
            }),
            Err(MergeError::WrongSlot { .. })
        ));
        assert!(matches!(
            m.push(&Event::Open { slot: 9999, key: k }),
            Err(MergeError::BadSlot { .. })
        ));
    }
}
