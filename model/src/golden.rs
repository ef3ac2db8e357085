//! The golden model: one record at a time through hash, banks, estimator and
//! flow table, exactly as the hardware does it.

use crate::bank::Banks;
use crate::config::{Config, MAX_LEVELS, TS_MASK};
use crate::counters::{Counter, Counters};
use crate::estimator::{estimate, Hit};
use crate::hash::Hashes;
use crate::key::Record;
use crate::parse::{parse_window, DropReason, DROP_REASONS};
use crate::table::{Event, FlowTable, TableOutcome};

/// Everything one record produced: what the RTL tests compare per record.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Outcome {
    /// Timestamp after the monotonic clamp.
    pub ts: u64,
    pub dir: u8,
    pub slot: u32,
    pub fingerprint: u32,
    /// The IAT sample in units `q_0`.
    pub iat: Option<u32>,
    /// The RTT sample; `None` also when the record does not ask for RTT.
    pub rtt: Option<u32>,
    /// Where the IAT sample came from: level and age (`Some` with `iat`).
    pub iat_hit: Option<Hit>,
    /// Where the RTT sample came from.
    pub rtt_hit: Option<Hit>,
    pub table: TableOutcome,
}

/// A BloomTime instance.
#[derive(Clone, Debug)]
pub struct BloomTime {
    cfg: Config,
    banks: Banks,
    table: FlowTable,
    counters: Counters,
    aliased: u64,
    last_ts: u64,
    events: Vec<Event>,
}

impl BloomTime {
    pub fn new(cfg: &Config) -> BloomTime {
        cfg.validate().expect("invalid configuration");
        BloomTime {
            cfg: *cfg,
            banks: Banks::new(cfg),
            table: FlowTable::new(cfg),
            counters: Counters::default(),
            aliased: 0,
            last_ts: 0,
            events: Vec::new(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }
    pub fn counters(&self) -> &Counters {
        &self.counters
    }
    /// Merges of different keys with equal fingerprints (the model alone sees these).
    pub fn aliased(&self) -> u64 {
        self.aliased
    }
    pub fn table(&self) -> &FlowTable {
        &self.table
    }
    pub fn banks(&self) -> &Banks {
        &self.banks
    }

    /// A frame from a capture: parse (counting drops), then process.
    pub fn frame(&mut self, ts: u64, window: &[u8], caplen: usize) -> Result<Outcome, DropReason> {
        self.counters.inc(Counter::Frames);
        match parse_window(window, caplen) {
            Ok(p) => Ok(self.process(&Record {
                ts,
                key: p.key,
                flags: p.flags,
            })),
            Err(r) => {
                self.counters.0[Counter::DropTruncated as usize + r as usize] += 1;
                debug_assert_eq!(DROP_REASONS[r as usize], r);
                Err(r)
            }
        }
    }

    /// Count a time regression the monotonic clamp cannot see: a record
    /// stamped before the capture's first packet while every record so far
    /// had timestamp 0 (both replay to 0; docs/DESIGN.md §1). The replay
    /// path (`bloomtime_traces::ReplayFrame::process`) calls it.
    pub fn count_time_regression(&mut self) {
        self.counters.inc(Counter::TimeRegressions);
    }

    /// One record through the pipeline.
    #[inline]
    pub fn process(&mut self, rec: &Record) -> Outcome {
        let cfg = self.cfg;
        let mut ts = rec.ts & TS_MASK;
        if ts < self.last_ts {
            ts = self.last_ts;
            self.counters.inc(Counter::TimeRegressions);
        }
        self.last_ts = ts;
        self.counters.inc(Counter::Records);
        let epoch = ts >> cfg.level(0).bucket_log2;
        let h = Hashes::compute(rec);
        let d = h.dir as usize;
        let nl = cfg.level_count();
        let (mut and_d, mut and_r) = ([u64::MAX; MAX_LEVELS], [u64::MAX; MAX_LEVELS]);
        for i in 0..cfg.banks {
            self.banks
                .touch(i, h.line(&cfg, i), epoch, d, &mut and_d, &mut and_r);
        }
        let iat = estimate(&cfg, ts, &and_d[..nl]);
        self.counters.inc(if iat.is_some() {
            Counter::IatSamples
        } else {
            Counter::IatMisses
        });
        let rtt = if rec.wants_rtt() {
            self.counters.inc(Counter::RttLookups);
            let r = estimate(&cfg, ts, &and_r[..nl]);
            self.counters.inc(if r.is_some() {
                Counter::RttSamples
            } else {
                Counter::RttMisses
            });
            r
        } else {
            None
        };
        let (slot, fingerprint) = (h.slot(&cfg), h.fingerprint(&cfg));
        let t = self
            .table
            .update(slot, fingerprint, &rec.key, iat, rtt, &mut self.events);
        if t.opened {
            self.counters.inc(Counter::Opens);
        }
        match t.evicted {
            Some(crate::table::EvictReason::Collision) => {
                self.counters.inc(Counter::EvictCollision)
            }
            Some(crate::table::EvictReason::Overflow) => self.counters.inc(Counter::EvictOverflow),
            _ => {}
        }
        self.aliased += t.aliased as u64;
        Outcome {
            ts,
            dir: h.dir,
            slot,
            fingerprint,
            iat: iat.map(|s| s.0),
            rtt: rtt.map(|s| s.0),
            iat_hit: iat.map(|s| s.1),
            rtt_hit: rtt.map(|s| s.1),
            table: t,
        }
    }

    /// Export every slot and empty the table.
    pub fn flush(&mut self) {
        let n = self.table.flush(&mut self.events);
        self.counters.0[Counter::EvictFlush as usize] += n;
    }

    /// Flush one slot (if valid): what `flush` does for every slot in order.
    /// A device exports slot by slot as its event buffer has room.
    pub fn flush_slot(&mut self, slot: u32) -> bool {
        let done = self.table.flush_slot(slot, &mut self.events);
        if done {
            self.counters.inc(Counter::EvictFlush);
        }
        done
    }

    /// Take the exported events so far.
    pub fn drain_events(&mut self) -> Vec<Event> {
        // Keep the capacity: the next batch fills without regrowing.
        let cap = self.events.capacity();
        std::mem::replace(&mut self.events, Vec::with_capacity(cap))
    }

    /// Take the exported histograms: `2·hist_bins` counters (IAT bins, RTT
    /// bins) per `Evict` drained since the last call, in event order. Empty
    /// when the configuration keeps no histograms.
    pub fn drain_hists(&mut self) -> Vec<u32> {
        self.table.take_hist_out()
    }

    /// Drain events (and their histograms) into a host merge.
    pub fn drain_into(
        &mut self,
        merger: &mut crate::merge::FlowMerger,
    ) -> Result<(), crate::merge::MergeError> {
        let events = self.drain_events();
        let hists = self.drain_hists();
        merger.push_all(&events, &hists)
    }

    /// Events exported and not yet drained.
    pub fn pending_events(&self) -> &[Event] {
        &self.events
    }
}
