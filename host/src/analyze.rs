//! One pass over captures: every packet becomes a record by the replay rule
//! (`bloomtime_traces::replay_ts`, header window of `min(caplen, 128)`
//! bytes) and goes through the golden model, whose events are merged as they
//! come (bounded memory), and/or through the exact tracker.

use crate::error::Error;
use bloomtime_model::config::Config;
use bloomtime_model::counters::{Counter, Counters};
use bloomtime_model::exact::ExactTracker;
use bloomtime_model::key::{FlowKey, Record};
use bloomtime_model::merge::{FlowMerger, MergedStats};
use bloomtime_model::parse::parse_window;
use bloomtime_model::stats::{estimated_row, exact_row, FlowRow};
use bloomtime_model::BloomTime;
use bloomtime_traces::{replay_ts, window, MergedTraces, Packet};
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
    pub fn rows(&self) -> Vec<FlowRow> {
        self.flows
            .iter()
            .map(|(k, s)| estimated_row(&self.cfg, k, s))
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
}

impl ExactResult {
    pub fn rows(&self) -> Vec<FlowRow> {
        self.flows.iter().map(|(k, s)| exact_row(k, s)).collect()
    }
}

struct Estimate {
    bt: BloomTime,
    merger: FlowMerger,
    merge: MergeSummary,
}

impl Estimate {
    fn drain(&mut self) -> Result<(), Error> {
        for ev in self.bt.drain_events() {
            match ev {
                bloomtime_model::table::Event::Open { .. } => self.merge.opens += 1,
                bloomtime_model::table::Event::Evict { .. } => self.merge.evicts += 1,
            }
            self.merge.events += 1;
            self.merger.push(&ev)?;
        }
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
    ns_first: Option<u64>,
    packets: u64,
}

impl Analyzer {
    pub fn new(cfg: &Config, estimate: bool, exact: bool) -> Analyzer {
        Analyzer {
            cfg: *cfg,
            est: estimate.then(|| Estimate {
                bt: BloomTime::new(cfg),
                merger: FlowMerger::new(cfg),
                merge: MergeSummary::default(),
            }),
            exact: exact.then(|| Exact {
                tracker: ExactTracker::new(),
                counters: Counters::default(),
                last_ns: 0,
            }),
            ns_first: None,
            packets: 0,
        }
    }

    /// Packets fed so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// One packet, in capture order (the first one fixes `ns_first`).
    #[inline]
    pub fn feed(&mut self, p: &Packet) -> Result<(), Error> {
        self.packets += 1;
        let ns_first = *self.ns_first.get_or_insert(p.ns);
        let win = window(&p.data);
        let caplen = p.data.len();
        if let Some(e) = &mut self.est {
            let ts = replay_ts(&self.cfg, p.ns, ns_first);
            let _ = e.bt.frame(ts, win, caplen);
            if e.bt.pending_events().len() >= DRAIN_BATCH {
                e.drain()?;
            }
        }
        if let Some(x) = &mut self.exact {
            let ns = p.ns.saturating_sub(ns_first);
            x.counters.inc(Counter::Frames);
            match parse_window(win, caplen) {
                Ok(parsed) => {
                    x.counters.inc(Counter::Records);
                    if ns < x.last_ns {
                        x.counters.inc(Counter::TimeRegressions);
                    }
                    x.last_ns = x.last_ns.max(ns);
                    let rec = Record {
                        ts: 0,
                        key: parsed.key,
                        flags: parsed.flags,
                    };
                    if rec.wants_rtt() {
                        x.counters.inc(Counter::RttLookups);
                    }
                    x.tracker.record(ns, &parsed.key, parsed.flags);
                }
                Err(r) => x.counters.0[Counter::DropTruncated as usize + r as usize] += 1,
            }
        }
        Ok(())
    }

    /// Feed every packet of the captures, merged by timestamp.
    pub fn feed_traces<P: AsRef<Path>>(&mut self, paths: &[P]) -> Result<(), Error> {
        let mut src = MergedTraces::open(paths)?;
        while let Some((p, _)) = src.next_packet()? {
            self.feed(p)?;
        }
        Ok(())
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
                Some(EstimateResult {
                    cfg: self.cfg,
                    flows,
                    counters,
                    aliased: e.bt.aliased(),
                    merge: e.merge,
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
                Some(ExactResult {
                    state_bytes: x.tracker.state_bytes(),
                    flows,
                    counters: c,
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
