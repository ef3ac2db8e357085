//! One pass over captures: every packet becomes a record by the replay rule
//! (`bloomtime_traces::Records`: `replay_ts`, header window of
//! `min(caplen, 128)` bytes) and goes through the golden model, whose events
//! are merged as they come (bounded memory), and/or through the exact
//! tracker. Where asked for ([`Analyzer::keep_flow_times`]), it also keeps
//! each flow's first and last packet time ([`FlowTimes`]).

use crate::error::Error;
use bloomtime_model::config::Config;
use bloomtime_model::counters::{Counter, Counters};
use bloomtime_model::exact::ExactTracker;
use bloomtime_model::key::FlowKey;
use bloomtime_model::key_map::KeyMap;
use bloomtime_model::merge::{FlowMerger, MergedStats};
use bloomtime_model::stats::{estimated_row, exact_row, hist_percentiles, FlowRow};
use bloomtime_model::table::FlowTable;
use bloomtime_model::{BloomTime, Outcome};
use bloomtime_traces::{Packet, PacketSource, Records, ReplayFrame};
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::path::Path;

/// Events are moved from the model to the merger in batches of this size.
const DRAIN_BATCH: usize = 256;

/// A flow's first and last packet: the times (nanoseconds since the Unix
/// epoch for a real capture or a live interface) of the first and the last
/// of the records its row counts, after the pipeline's monotonic clamp
/// (docs/DESIGN.md §1): the capture's timestamps, except that a record
/// stamped before one already seen counts at the latest time seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowTimes {
    pub first_ns: u64,
    pub last_ns: u64,
}

impl FlowTimes {
    /// One packet at `ns`.
    pub fn at(ns: u64) -> FlowTimes {
        FlowTimes {
            first_ns: ns,
            last_ns: ns,
        }
    }

    /// One more packet at `ns` (in any order).
    pub fn add(&mut self, ns: u64) {
        self.first_ns = self.first_ns.min(ns);
        self.last_ns = self.last_ns.max(ns);
    }

    /// The packets of `other` too.
    pub fn merge(&mut self, other: FlowTimes) {
        self.first_ns = self.first_ns.min(other.first_ns);
        self.last_ns = self.last_ns.max(other.last_ns);
    }
}

/// Flow times by key.
pub type TimesMap = FxHashMap<FlowKey, FlowTimes>;

fn add_time(m: &mut TimesMap, key: &FlowKey, t: FlowTimes) {
    m.entry(*key).and_modify(|x| x.merge(t)).or_insert(t);
}

/// Flow times by key, credited in batches ([`credit`]).
type TimesStore = KeyMap<FlowTimes>;

/// Merge every `(key, times)` of `batch` into `store`: first every index
/// word the batch needs is asked for, then the entries they name, so that
/// the cache misses of a map larger than the caches overlap (a hash map's
/// entry lookup per eviction took a quarter of the run with a 256-slot
/// table and 48 000 flows).
fn credit(store: &mut TimesStore, batch: &[(FlowKey, FlowTimes)]) {
    store.reserve(batch.len());
    let hashes: Vec<u64> = batch.iter().map(|(k, _)| TimesStore::hash(k)).collect();
    for &h in &hashes {
        store.prefetch_index(h);
    }
    for &h in &hashes {
        store.prefetch_entry(h);
    }
    for ((key, t), &h) in batch.iter().zip(&hashes) {
        // A new key starts with its times; merging them again is a no-op.
        store.get_or_insert_with(key, h, || *t).merge(*t);
    }
}

/// The times of the estimate's flows, kept the way the host merge credits
/// packets: per slot, the times of the records since its `Open`, which go
/// to the key that opened it when a collision or the final flush evicts it
/// (an overflow keeps the owner). A record merged into a slot of another
/// key with an equal fingerprint (aliasing) counts for that key, as its
/// packet does.
#[derive(Clone, Debug)]
struct SlotTimes {
    live: Vec<Option<(FlowKey, FlowTimes)>>,
    closed: TimesStore,
    /// Evicted slots' times not yet in `closed`: credited in batches, so
    /// that the map's cache misses overlap instead of coming one per
    /// record between the model's work.
    pending: Vec<(FlowKey, FlowTimes)>,
}

/// Evicted slots' times are credited in batches of this many.
const TIMES_BATCH: usize = 256;

impl SlotTimes {
    fn new(slots: usize) -> SlotTimes {
        SlotTimes {
            live: vec![None; slots],
            closed: TimesStore::default(),
            pending: Vec::with_capacity(TIMES_BATCH),
        }
    }

    fn credit_pending(&mut self) {
        credit(&mut self.closed, &self.pending);
        self.pending.clear();
    }

    /// The record of `o`, at `ns`, now in `table`.
    fn record(&mut self, table: &FlowTable, o: &Outcome, ns: u64) {
        let s = o.slot as usize;
        let Some(live) = self.live.get_mut(s).filter(|_| s < table.slot_count()) else {
            return;
        };
        match live {
            Some((_, t)) if !o.table.opened => t.add(ns),
            _ => {
                if let Some(old) = live.replace((*table.key(o.slot), FlowTimes::at(ns))) {
                    self.pending.push(old);
                    if self.pending.len() >= TIMES_BATCH {
                        self.credit_pending();
                    }
                }
            }
        }
    }

    /// Every flow's times so far: the evicted slots' and the live ones'.
    fn all(&self) -> TimesMap {
        let mut m: TimesMap = self.closed.entries().map(|(k, t)| (*k, *t)).collect();
        for (k, t) in self.pending.iter().chain(self.live.iter().flatten()) {
            add_time(&mut m, k, *t);
        }
        m
    }
}

/// Per flow of `keys`, its times in `m` (None where it has none).
fn times_of<'a>(m: &TimesMap, keys: impl Iterator<Item = &'a FlowKey>) -> Vec<Option<FlowTimes>> {
    keys.map(|k| m.get(k).copied()).collect()
}

/// What the estimate mode produced.
#[derive(Clone, Debug)]
pub struct EstimateResult {
    pub cfg: Config,
    /// Merged per-flow sums (sample units), sorted by key.
    pub flows: Vec<(FlowKey, MergedStats)>,
    pub counters: Counters,
    /// Merges of different keys with equal fingerprints.
    pub aliased: u64,
    /// The host merge's consistency.
    pub merge: MergeSummary,
    /// Per flow (as `flows`), its merged histograms (IAT bins then RTT
    /// bins); empty where the configuration keeps none.
    pub hists: Vec<Vec<u64>>,
    /// Per flow (as `flows`), its first and last packet times, when
    /// [`Analyzer::keep_flow_times`] asked for them; else empty.
    pub times: Vec<Option<FlowTimes>>,
}

/// Consistency of the host merge at the end of a run.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct MergeSummary {
    /// Events merged (opens and evicts).
    pub events: u64,
    pub opens: u64,
    pub evicts: u64,
    /// Slots still owned after the final flush (must be 0).
    pub open_slots_after_flush: usize,
}

impl EstimateResult {
    /// Report rows, with percentiles where the configuration keeps
    /// histograms.
    pub fn rows(&self) -> Vec<FlowRow> {
        let bins = self.cfg.hist_bins() as usize;
        self.flows
            .iter()
            .zip(&self.hists)
            .map(|((k, s), h)| {
                let mut r = estimated_row(&self.cfg, k, s);
                if bins > 0 && h.len() == 2 * bins {
                    r.iat.pct_us = hist_percentiles(&self.cfg, &h[..bins]);
                    r.rtt.pct_us = hist_percentiles(&self.cfg, &h[bins..]);
                }
                r
            })
            .collect()
    }
}

/// What the exact mode produced.
#[derive(Clone, Debug)]
pub struct ExactResult {
    /// Exact per-flow sums (nanoseconds), sorted by key.
    pub flows: Vec<(FlowKey, MergedStats)>,
    /// Frames, drops, records and sample counts as the model would count them.
    pub counters: Counters,
    /// Bytes of the exact tracker's state.
    pub state_bytes: u64,
    /// Per flow (as `flows`), exact p50/p90/p99 of IAT and RTT, when asked for.
    pub percentiles: Option<Vec<([f64; 3], [f64; 3])>>,
    /// Per flow (as `flows`), its first and last packet times, when
    /// [`Analyzer::keep_flow_times`] asked for them; else empty.
    pub times: Vec<Option<FlowTimes>>,
}

impl ExactResult {
    pub fn rows(&self) -> Vec<FlowRow> {
        self.flows
            .iter()
            .enumerate()
            .map(|(i, (k, s))| {
                let mut r = exact_row(k, s);
                if let Some(p) = &self.percentiles {
                    (r.iat.pct_us, r.rtt.pct_us) = p[i];
                }
                r
            })
            .collect()
    }
}

struct Estimate {
    bt: BloomTime,
    merger: FlowMerger,
    merge: MergeSummary,
    times: Option<SlotTimes>,
}

impl Estimate {
    fn drain(&mut self) -> Result<(), Error> {
        let events = self.bt.pending_events();
        self.merge.opens += events.opens() as u64;
        self.merge.evicts += events.evicts() as u64;
        self.merge.events += events.len() as u64;
        self.bt.drain_into(&mut self.merger)?;
        Ok(())
    }
}

struct Exact {
    tracker: ExactTracker,
    counters: Counters,
    last_ns: u64,
    /// When asked for: each flow's first record, at the tracker's time
    /// (inserted as the tracker starts the flow: no lookup per record;
    /// the last is the tracker's), and the capture time of tracker time 0.
    times: Option<(FxHashMap<FlowKey, u64>, Option<u64>)>,
}

impl Exact {
    fn times(&self) -> Option<TimesMap> {
        let (first, origin) = self.times.as_ref()?;
        let origin = origin.unwrap_or(0);
        Some(
            first
                .iter()
                .map(|(k, &f)| {
                    let last = self.tracker.last_ns(k).unwrap_or(f);
                    let t = FlowTimes {
                        first_ns: origin.saturating_add(f),
                        last_ns: origin.saturating_add(last),
                    };
                    (*k, t)
                })
                .collect(),
        )
    }
}

/// A pass over packets feeding the estimator, the exact tracker, or both.
pub struct Analyzer {
    cfg: Config,
    est: Option<Estimate>,
    exact: Option<Exact>,
    packets: u64,
    before_first: u64,
    /// The latest capture time of a record so far (the monotonic clamp of
    /// the estimate's flow times).
    clock_ns: u64,
}

impl Analyzer {
    pub fn new(cfg: &Config, estimate: bool, exact: bool) -> Analyzer {
        Analyzer {
            cfg: *cfg,
            est: estimate.then(|| Estimate {
                bt: BloomTime::new(cfg),
                merger: FlowMerger::of_model(cfg),
                merge: MergeSummary::default(),
                times: None,
            }),
            exact: exact.then(|| Exact {
                tracker: ExactTracker::new(),
                counters: Counters::default(),
                last_ns: 0,
                times: None,
            }),
            packets: 0,
            before_first: 0,
            clock_ns: 0,
        }
    }

    /// Keep every exact sample, for exact percentiles (memory grows with
    /// the samples).
    pub fn exact_percentiles(&mut self) {
        if let Some(x) = &mut self.exact {
            x.tracker = ExactTracker::keeping_samples();
        }
    }

    /// Keep each flow's first and last packet time ([`FlowTimes`]; for
    /// IPFIX's flowStart and flowEnd): in the exact mode a map insert
    /// per flow, in the estimate a slot's times per record and a map
    /// update per eviction. Call it before the first packet.
    pub fn keep_flow_times(&mut self) {
        if let Some(e) = &mut self.est {
            e.times = Some(SlotTimes::new(e.bt.table().slot_count()));
        }
        if let Some(x) = &mut self.exact {
            x.times = Some((FxHashMap::default(), None));
        }
    }

    /// Per row (of [`Analyzer::rows_so_far`]), its flow's times so far;
    /// empty unless [`Analyzer::keep_flow_times`] asked for them.
    pub fn times_so_far(&self, rows: &[FlowRow]) -> Vec<Option<FlowTimes>> {
        let keys = rows.iter().map(|r| &r.key);
        if let Some(e) = &self.est {
            return match &e.times {
                Some(t) => times_of(&t.all(), keys),
                None => Vec::new(),
            };
        }
        match self.exact.as_ref().and_then(Exact::times) {
            Some(m) => times_of(&m, keys),
            None => Vec::new(),
        }
    }

    /// The configuration (its time unit makes the records' timestamps).
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Packets fed so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Packets fed so far that were stamped before the capture's first
    /// packet ([`ReplayFrame::before_first`]; each record among them is a
    /// time regression).
    pub fn before_first(&self) -> u64 {
        self.before_first
    }

    /// One frame, in capture order, from [`Records`] by this analyzer's
    /// configuration (its time unit): the model takes `ts`, the exact
    /// tracker `rel_ns`.
    #[inline]
    pub fn feed(&mut self, f: &ReplayFrame<'_>) -> Result<(), Error> {
        self.packets += 1;
        self.before_first += f.before_first as u64;
        if let Some(e) = &mut self.est {
            let o = f.process(&mut e.bt);
            if let (Some(t), Ok(o)) = (&mut e.times, &o) {
                self.clock_ns = self.clock_ns.max(f.ns);
                t.record(e.bt.table(), o, self.clock_ns);
            }
            if e.bt.pending_events().len() >= DRAIN_BATCH {
                e.drain()?;
            }
        }
        if let Some(x) = &mut self.exact {
            let ns = f.rel_ns;
            x.counters.inc(Counter::Frames);
            match f.record() {
                Ok(rec) => {
                    x.counters.inc(Counter::Records);
                    // Before the first packet `ns` is 0, maybe equal to
                    // `last_ns`: a regression all the same.
                    if ns < x.last_ns || f.before_first {
                        x.counters.inc(Counter::TimeRegressions);
                    }
                    x.last_ns = x.last_ns.max(ns);
                    if rec.wants_rtt() {
                        x.counters.inc(Counter::RttLookups);
                    }
                    let flows = x.tracker.len();
                    x.tracker.record(ns, &rec.key, rec.flags);
                    if let Some((first, origin)) = &mut x.times {
                        if origin.is_none() && !f.before_first {
                            *origin = Some(f.ns - f.rel_ns);
                        }
                        if x.tracker.len() > flows {
                            // The tracker's time of this record: `ns`
                            // clamped, as `last_ns` is.
                            first.insert(rec.key, x.last_ns);
                        }
                    }
                }
                Err(r) => x.counters.0[Counter::DropTruncated as usize + r as usize] += 1,
            }
        }
        Ok(())
    }

    /// Every flow's report row so far, without ending the run (a live
    /// run's interval): for the estimate, the evicted flows merged with
    /// the slots still open (read, not evicted, as `bloomtime device
    /// stats` reads a board's table); for the exact mode, the tracker's
    /// flows. No percentiles (those come with [`Analyzer::finish`]).
    pub fn rows_so_far(&mut self) -> Result<Vec<FlowRow>, Error> {
        if let Some(e) = &mut self.est {
            e.drain()?;
            let mut m = e.merger.clone();
            for (i, s) in e.bt.table().slots().enumerate() {
                if s.valid {
                    m.credit_live_slot(i as u32, &s.stats)?;
                }
            }
            let cfg = self.cfg;
            return Ok(m
                .flows()
                .iter()
                .map(|(k, s)| estimated_row(&cfg, k, s))
                .collect());
        }
        Ok(match &self.exact {
            Some(x) => x
                .tracker
                .flows()
                .iter()
                .map(|(k, s)| exact_row(k, s))
                .collect(),
            None => Vec::new(),
        })
    }

    /// Feed every frame of a packet source (the first packet it gives is
    /// the first of the capture).
    pub fn feed_source<S: PacketSource>(&mut self, src: S) -> Result<(), Error> {
        let mut recs = Records::new(src, &self.cfg);
        while let Some(f) = recs.next_frame()? {
            self.feed(&f)?;
        }
        Ok(())
    }

    /// Feed every packet of the captures, merged by timestamp.
    pub fn feed_traces<P: AsRef<Path>>(&mut self, paths: &[P]) -> Result<(), Error> {
        self.feed_source(bloomtime_traces::MergedTraces::open(paths)?)
    }

    /// Feed packets in memory, the first being the capture's first.
    pub fn feed_packets(&mut self, packets: &[Packet]) -> Result<(), Error> {
        self.feed_source(packets.iter())
    }

    /// Flush the model, merge its last events and check every invariant.
    pub fn finish(self) -> Result<(Option<EstimateResult>, Option<ExactResult>), Error> {
        let est = match self.est {
            Some(mut e) => {
                e.bt.flush();
                e.drain()?;
                e.merge.open_slots_after_flush = e.merger.open_slots();
                let counters = *e.bt.counters();
                let flows = e.merger.flows();
                check_estimate(&counters, &e.merge, &flows, "the model")?;
                let hists = flows
                    .iter()
                    .map(|(k, _)| e.merger.hist(k).map(<[u64]>::to_vec).unwrap_or_default())
                    .collect();
                let times = match &e.times {
                    Some(t) => times_of(&t.all(), flows.iter().map(|f| &f.0)),
                    None => Vec::new(),
                };
                Some(EstimateResult {
                    times,
                    cfg: self.cfg,
                    flows,
                    counters,
                    aliased: e.bt.aliased(),
                    merge: e.merge,
                    hists,
                })
            }
            None => None,
        };
        let exact = match self.exact {
            Some(x) => {
                let flows = x.tracker.flows();
                let mut c = x.counters;
                let iat: u64 = flows.iter().map(|f| f.1.iat.n).sum();
                let rtt: u64 = flows.iter().map(|f| f.1.rtt.n).sum();
                c.0[Counter::IatSamples as usize] = iat;
                c.0[Counter::IatMisses as usize] = c.get(Counter::Records).saturating_sub(iat);
                c.0[Counter::RttSamples as usize] = rtt;
                c.0[Counter::RttMisses as usize] = c.get(Counter::RttLookups).saturating_sub(rtt);
                c.check_invariants().map_err(Error::Invariant)?;
                let percentiles = flows
                    .iter()
                    .map(|(k, _)| x.tracker.percentiles(k))
                    .collect::<Option<Vec<_>>>();
                let times = match x.times() {
                    Some(m) => times_of(&m, flows.iter().map(|f| &f.0)),
                    None => Vec::new(),
                };
                Some(ExactResult {
                    times,
                    state_bytes: x.tracker.state_bytes(),
                    flows,
                    counters: c,
                    percentiles,
                })
            }
            None => None,
        };
        Ok((est, exact))
    }
}

/// The checks of a finished estimate (after the final flush and merge):
/// every slot closed, the counters' conservation laws, merged packets equal
/// to the records `who` processed.
pub fn check_estimate(
    counters: &Counters,
    merge: &MergeSummary,
    flows: &[(FlowKey, MergedStats)],
    who: &str,
) -> Result<(), Error> {
    if merge.open_slots_after_flush != 0 {
        return Err(Error::Invariant(format!(
            "{} slots still owned after the final flush",
            merge.open_slots_after_flush
        )));
    }
    counters.check_invariants().map_err(Error::Invariant)?;
    let packets: u64 = flows.iter().map(|f| f.1.packets).sum();
    if packets != counters.get(Counter::Records) {
        return Err(Error::Invariant(format!(
            "merged flows hold {packets} packets but {who} processed {} records",
            counters.get(Counter::Records)
        )));
    }
    Ok(())
}

/// Estimate mode over captures.
pub fn estimate<P: AsRef<Path>>(cfg: &Config, paths: &[P]) -> Result<EstimateResult, Error> {
    let mut a = Analyzer::new(cfg, true, false);
    a.feed_traces(paths)?;
    Ok(a.finish()?.0.expect("estimate requested"))
}

/// Exact mode over captures.
pub fn exact<P: AsRef<Path>>(cfg: &Config, paths: &[P]) -> Result<ExactResult, Error> {
    let mut a = Analyzer::new(cfg, false, true);
    a.feed_traces(paths)?;
    Ok(a.finish()?.1.expect("exact requested"))
}

/// Both modes in one pass over the same packets.
pub fn both<P: AsRef<Path>>(
    cfg: &Config,
    paths: &[P],
) -> Result<(EstimateResult, ExactResult, u64), Error> {
    let mut a = Analyzer::new(cfg, true, true);
    a.feed_traces(paths)?;
    let n = a.packets();
    let (e, x) = a.finish()?;
    Ok((e.expect("estimate"), x.expect("exact"), n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bloomtime_model::counters::Counter;
    use bloomtime_model::parse::build;

    /// UDP packets of `flows` flows (one of every `flows` packets each, in
    /// turn, with jitter), so that flows share slots and evict each other.
    fn packets(flows: u32, n: u32) -> Vec<Packet> {
        let t0 = 1_700_000_000_000_000_000u64;
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        (0..n)
            .map(|i| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let f = (rng % flows as u64) as u32;
                let b = f.to_be_bytes();
                let key = FlowKey::v4(17, [10, b[1], b[2], b[3]], 5000, [10, 9, 9, 9], 53);
                let data = build::frame(&key, 0, &build::udp(5000, 53, 10), 10);
                Packet {
                    ns: t0 + i as u64 * 1000 + rng % 700,
                    orig_len: data.len() as u32,
                    data,
                }
            })
            .collect()
    }

    /// Every flow's first and last packet, straight from the packets.
    fn reference(p: &[Packet]) -> TimesMap {
        let mut m = TimesMap::default();
        for x in p {
            let key = bloomtime_model::parse::parse_window(&x.data, x.data.len())
                .unwrap()
                .key;
            add_time(&mut m, &key, FlowTimes::at(x.ns));
        }
        m
    }

    /// A packet stamped before one already seen counts at the latest time
    /// seen (the monotonic clamp), the same in both modes.
    #[test]
    fn a_time_regression_counts_at_the_latest_time_seen() {
        let t0 = 1_700_000_000_000_000_000u64;
        let key = |i: u8| FlowKey::v4(17, [10, 0, 0, i], 5000, [10, 9, 9, 9], 53);
        let pkt = |i: u8, us: u64| {
            let data = build::frame(&key(i), 0, &build::udp(5000, 53, 10), 10);
            Packet {
                ns: t0 + us * 1000,
                orig_len: data.len() as u32,
                data,
            }
        };
        // A at 100, 200, 300 µs; B at 250 µs, then one stamped at 150 µs
        // that arrives after A's 300.
        let p = [
            pkt(1, 100),
            pkt(1, 200),
            pkt(2, 250),
            pkt(1, 300),
            pkt(2, 150),
        ];
        let cfg = bloomtime_model::preset("large").unwrap();
        for exact in [false, true] {
            let mut a = Analyzer::new(&cfg, !exact, exact);
            a.keep_flow_times();
            a.feed_packets(&p).unwrap();
            let (e, x) = a.finish().unwrap();
            let (flows, times) = match (e, x) {
                (Some(e), _) => (e.flows, e.times),
                (_, Some(x)) => (x.flows, x.times),
                _ => unreachable!(),
            };
            let at = |i: u8| {
                let j = flows.iter().position(|f| f.0 == key(i)).unwrap();
                times[j].map(|t| ((t.first_ns - t0) / 1000, (t.last_ns - t0) / 1000))
            };
            assert_eq!(at(1), Some((100, 300)), "exact {exact}");
            assert_eq!(at(2), Some((250, 300)), "exact {exact}");
        }
    }

    #[test]
    fn flow_times_survive_evictions_and_match_the_packets() {
        let cfg = bloomtime_model::preset("alchitry-cu").unwrap();
        let slots = BloomTime::new(&cfg).table().slot_count() as u32;
        let p = packets(3 * slots, 40 * slots);
        let want = reference(&p);
        // Mid-run (one stream: each feed starts a capture): the evicted
        // slots' times and the live ones'.
        for exact in [false, true] {
            let mut a = Analyzer::new(&cfg, !exact, exact);
            a.keep_flow_times();
            a.feed_packets(&p[..p.len() / 2]).unwrap();
            let rows = a.rows_so_far().unwrap();
            let mid = reference(&p[..p.len() / 2]);
            let times = a.times_so_far(&rows);
            assert_eq!(times.len(), rows.len());
            assert_eq!(rows.len(), mid.len());
            for (r, t) in rows.iter().zip(&times) {
                assert_eq!(t.as_ref(), mid.get(&r.key), "{:?}", r.key);
            }
        }
        let mut a = Analyzer::new(&cfg, true, true);
        a.keep_flow_times();
        a.feed_packets(&p).unwrap();
        let (est, exact) = a.finish().unwrap();
        let (est, exact) = (est.unwrap(), exact.unwrap());
        // Flows were evicted by others and opened again many times.
        assert!(est.counters.get(Counter::EvictCollision) > 10 * slots as u64);
        // Without aliasing every flow's credited packets are its own: the
        // estimate's times are the packets' times, as the exact mode's.
        assert_eq!(est.aliased, 0);
        assert_eq!(est.times.len(), est.flows.len());
        assert_eq!(est.flows.len(), want.len());
        for ((k, _), t) in est.flows.iter().zip(&est.times) {
            assert_eq!(t.as_ref(), want.get(k), "{k:?}");
        }
        assert_eq!(exact.times.len(), exact.flows.len());
        for ((k, _), t) in exact.flows.iter().zip(&exact.times) {
            assert_eq!(t.as_ref(), want.get(k), "{k:?}");
        }
        // Not asked for: none kept.
        let mut b = Analyzer::new(&cfg, true, true);
        b.feed_packets(&p[..100]).unwrap();
        let rows = b.rows_so_far().unwrap();
        assert!(b.times_so_far(&rows).is_empty());
        let (e, x) = b.finish().unwrap();
        assert!(e.unwrap().times.is_empty() && x.unwrap().times.is_empty());
    }
}
