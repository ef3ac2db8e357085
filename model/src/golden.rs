//! The golden model: one record at a time through hash, banks, estimator and
//! flow table, exactly as the hardware does it.

use crate::bank::{Banks, MAX_WORDS};
use crate::config::{Config, MAX_LEVELS, TS_MASK};
use crate::counters::{Counter, Counters};
use crate::estimator::{sample, scale, Hit};
use crate::hash::Hashes;
use crate::key::Record;
use crate::parse::{parse_window, DropReason, DROP_REASONS};
use crate::table::{Event, EventLog, FlowTable, TableOutcome};

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

/// What [`BloomTime::process`] needs of the configuration per record,
/// derived once (the same formulas as `Hashes::line`, `Hashes::slot`,
/// `Hashes::fingerprint` and `estimator::estimate`, without re-deriving
/// widths and level geometry from the `Config` for every record).
#[derive(Clone, Copy, Debug)]
struct Derived {
    /// `s_0`: a timestamp's finest epoch is `ts >> s_0`.
    epoch_shift: u32,
    banks: u32,
    lines_log2: u32,
    line_mask: u64,
    slot_mask: u64,
    fp_shift: u32,
    fp_mask: u64,
    /// `f` and `2^f − 1`.
    frac_bits: u32,
    frac_mask: u64,
    /// Per level: `s_i − f` (its sub-bucket offset's shift) and `g_i`.
    off_shift: [u32; MAX_LEVELS],
    scale: [u32; MAX_LEVELS],
}

impl Derived {
    fn new(cfg: &Config) -> Derived {
        let mut off_shift = [0; MAX_LEVELS];
        let mut scale = [0; MAX_LEVELS];
        for i in 0..cfg.level_count() {
            off_shift[i] = cfg.level(i).bucket_log2 - cfg.sample_frac_bits;
            scale[i] = cfg.level_shift(i);
        }
        Derived {
            epoch_shift: cfg.level(0).bucket_log2,
            banks: cfg.banks,
            lines_log2: cfg.lines_log2,
            line_mask: cfg.lines() as u64 - 1,
            slot_mask: cfg.slots() as u64 - 1,
            fp_shift: cfg.slots_log2,
            fp_mask: (1u64 << cfg.fingerprint_bits) - 1,
            frac_bits: cfg.sample_frac_bits,
            frac_mask: (1u64 << cfg.sample_frac_bits) - 1,
            off_shift,
            scale,
        }
    }

    /// A hit's sample (`estimator::estimate` once the hit is found).
    #[inline]
    fn sample(&self, ts: u64, hit: Option<Hit>) -> Option<(u32, Hit)> {
        let h = hit?;
        let i = h.level as usize;
        let o = ((ts >> self.off_shift[i]) & self.frac_mask) as u32;
        Some((scale(sample(h.age, o, self.frac_bits), self.scale[i]), h))
    }
}

/// A BloomTime instance.
#[derive(Clone, Debug)]
pub struct BloomTime {
    cfg: Config,
    derived: Derived,
    banks: Banks,
    table: FlowTable,
    counters: Counters,
    aliased: u64,
    last_ts: u64,
    events: EventLog,
}

impl BloomTime {
    pub fn new(cfg: &Config) -> BloomTime {
        cfg.validate().expect("invalid configuration");
        BloomTime {
            cfg: *cfg,
            derived: Derived::new(cfg),
            banks: Banks::new(cfg),
            table: FlowTable::new(cfg),
            counters: Counters::default(),
            aliased: 0,
            last_ts: 0,
            events: EventLog::new(),
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

    /// `Hashes::line`: the line of bank `i`.
    #[inline]
    fn line(&self, h: &Hashes, i: u32) -> u32 {
        let g = &self.derived;
        ((h.conv >> (i * g.lines_log2)) & g.line_mask) as u32
    }

    /// One record through the pipeline.
    #[inline]
    pub fn process(&mut self, rec: &Record) -> Outcome {
        let g = &self.derived;
        let mut ts = rec.ts & TS_MASK;
        if ts < self.last_ts {
            ts = self.last_ts;
            self.counters.inc(Counter::TimeRegressions);
        }
        self.last_ts = ts;
        self.counters.inc(Counter::Records);
        let epoch = ts >> g.epoch_shift;
        let h = Hashes::compute(rec);
        let d = h.dir as usize;
        // `Hashes::slot` and `Hashes::fingerprint`.
        let slot = (h.flow & g.slot_mask) as u32;
        let fingerprint = ((h.flow >> g.fp_shift) & g.fp_mask) as u32;
        // The slot and the banks' lines are rarely in L1 (tens of KB each):
        // ask for all of them now, so that their misses overlap.
        self.table.prefetch(slot);
        for i in 1..g.banks {
            self.banks.prefetch(i, self.line(&h, i));
        }
        // Per stored word, the AND over banks; then per level, ring 0's
        // AND and ring 1's.
        let mut acc = [u64::MAX; MAX_WORDS];
        for i in 0..g.banks {
            let line = self.line(&h, i);
            self.banks.touch_words(i, line, epoch, d, &mut acc);
        }
        // The record's own direction's rings and the reverse's (indexed,
        // not branched on: `d` is as likely 0 as 1).
        let iat = g.sample(ts, self.banks.finest_hit(&acc, d));
        self.counters.inc(if iat.is_some() {
            Counter::IatSamples
        } else {
            Counter::IatMisses
        });
        let rtt = if rec.wants_rtt() {
            self.counters.inc(Counter::RttLookups);
            let r = g.sample(ts, self.banks.finest_hit(&acc, 1 - d));
            self.counters.inc(if r.is_some() {
                Counter::RttSamples
            } else {
                Counter::RttMisses
            });
            r
        } else {
            None
        };
        debug_assert_eq!(
            (slot, fingerprint),
            (h.slot(&self.cfg), h.fingerprint(&self.cfg))
        );
        #[cfg(debug_assertions)]
        {
            let mut ands = [[0; MAX_LEVELS]; 2];
            self.banks.split(&acc, &mut ands);
            let (est, nl) = (crate::estimator::estimate, self.cfg.level_count());
            debug_assert_eq!(iat, est(&self.cfg, ts, &ands[d][..nl]));
            if rec.wants_rtt() {
                debug_assert_eq!(rtt, est(&self.cfg, ts, &ands[1 - d][..nl]));
            }
        }
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
        let v = self.events.to_vec();
        self.events.clear();
        v
    }

    /// Take the exported events so far in their compact form: they are
    /// swapped into `log` (cleared first), whose buffers the model keeps
    /// for the next events (nothing is allocated once both have grown).
    pub fn take_events(&mut self, log: &mut EventLog) {
        log.clear();
        std::mem::swap(&mut self.events, log);
    }

    /// Take the exported histograms: `2·hist_bins` counters (IAT bins, RTT
    /// bins) per `Evict` drained since the last call, in event order. Empty
    /// when the configuration keeps no histograms.
    pub fn drain_hists(&mut self) -> Vec<u32> {
        self.table.take_hist_out()
    }

    /// Drain events (and their histograms) into a host merge. The buffers
    /// keep their capacity (nothing is allocated per batch).
    pub fn drain_into(
        &mut self,
        merger: &mut crate::merge::FlowMerger,
    ) -> Result<(), crate::merge::MergeError> {
        let r = merger.push_log(&self.events, self.table.hist_out());
        self.events.clear();
        self.table.clear_hist_out();
        r
    }

    /// Events exported and not yet drained.
    pub fn pending_events(&self) -> &EventLog {
        &self.events
    }
}
