//! One pass over captures: every packet becomes a record by the replay rule
//! (`bloomtime_traces::Records`: `replay_ts`, header window of
//! `min(caplen, 128)` bytes) and goes through the golden model, whose events
//! are merged as they come (bounded memory), and/or through the exact
//! tracker.

use crate::error::Error;
use bloomtime_model::config::Config;
use bloomtime_model::counters::{Counter, Counters};
use bloomtime_model::exact::ExactTracker;
use bloomtime_model::key::FlowKey;
use bloomtime_model::merge::{FlowMerger, MergedStats};
use bloomtime_model::stats::{estimated_row, exact_row, hist_percentiles, FlowRow};
use bloomtime_model::BloomTime;
use bloomtime_traces::{Packet, PacketSource, Records, ReplayFrame};
use serde::Serialize;
use std::path::Path;

/// Events are moved from the model to the merger in batches of this size.
const DRAIN_BATCH: usize = 256;

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
}

/// A pass over packets feeding the estimator, the exact tracker, or both.
pub struct Analyzer {
    cfg: Config,
    est: Option<Estimate>,
    exact: Option<Exact>,
    packets: u64,
    before_first: u64,
}

impl Analyzer {
    pub fn new(cfg: &Config, estimate: bool, exact: bool) -> Analyzer {
        Analyzer {
            cfg: *cfg,
            est: estimate.then(|| Estimate {
                bt: BloomTime::new(cfg),
                merger: FlowMerger::of_model(cfg),
                merge: MergeSummary::default(),
            }),
            exact: exact.then(|| Exact {
                tracker: ExactTracker::new(),
                counters: Counters::default(),
                last_ns: 0,
            }),
            packets: 0,
            before_first: 0,
        }
    }

    /// Keep every exact sample, for exact percentiles (memory grows with
    /// the samples).
    pub fn exact_percentiles(&mut self) {
        if let Some(x) = &mut self.exact {
            x.tracker = ExactTracker::keeping_samples();
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
            let _ = f.process(&mut e.bt);
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
                    x.tracker.record(ns, &rec.key, rec.flags);
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
            for (i, s) in e.bt.table().slots.iter().enumerate() {
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
                Some(EstimateResult {
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
                Some(ExactResult {
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
