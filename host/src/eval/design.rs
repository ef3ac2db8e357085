//! The designs the evaluation replays records through.
//!
//! * [`Golden`] — the golden model itself (`bloomtime_model::BloomTime`)
//!   with the host merge: exactly what `bloomtime analyze` and `compare`
//!   compute, bit for bit. [`Golden::without_table`] is the *infinite flow
//!   table* counterfactual.
//! * [`Ideal`] — the *no collisions* counterfactual (exact membership
//!   instead of Bloom banks), with the ring's window or with none (the
//!   *infinite window* counterfactual).
//! * [`MultiRes`] — an **experimental, evaluation-only** variant: every bank
//!   line holds several ring pairs of increasing bucket width (levels), all
//!   aged from the one epoch tag and looked up in parallel; the finest level
//!   with a hit gives the sample. The default model and the hardware do not
//!   change; this exists to measure what such a design would buy.
//!
//! Every design also states what it would estimate with *exact membership*
//! (the flow's own previous packet, no other flow's marks) — [`Design::ideal`]
//! — and whether that previous packet is still inside its window
//! ([`Design::in_window`]). The attribution (`attrib.rs`) compares the real
//! output with these to split the error by cause.

use crate::error::Error;
use bloomtime_model::bank::ring_mask;
use bloomtime_model::config::{bit_length, Config};
use bloomtime_model::estimator::{epoch_offset, newest};
use bloomtime_model::hash::Hashes;
use bloomtime_model::key::{FlowKey, Record, FLAG_ECHO_REPLY, FLAG_TCP_SYNACK};
use bloomtime_model::merge::{FlowMerger, MergedAcc, MergedStats};
use bloomtime_model::protocol::{evict_bytes, OPEN_BYTES};
use bloomtime_model::stats::{estimated_moments, Moments};
use bloomtime_model::table::Event;
use bloomtime_model::{BloomTime, Counter};
use rustc_hash::FxHashMap;

/// Which bucket produced a sample: level (0 for single-ring designs) and age.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub level: u8,
    pub age: u64,
}

/// One estimated sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Est {
    /// Estimated gap in nanoseconds (bias corrected).
    pub ns: f64,
    /// Variance of this sample's quantization error (ns²): what the variance
    /// estimate subtracts (docs/DESIGN.md §7 for the golden model).
    pub var: f64,
    /// The sample in units `q` where the design defines one (golden model):
    /// lets its moments be computed by the model's own statistics code.
    pub x: Option<u64>,
    pub hit: Hit,
}

/// What one record produced.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Samples {
    pub iat: Option<Est>,
    /// `None` also when the record does not ask for RTT.
    pub rtt: Option<Est>,
}

/// Cost of exporting a design's flow records to the host.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Export {
    pub opens: u64,
    pub evicts: u64,
    /// Evictions because another key took the slot.
    pub evict_collision: u64,
    /// Bytes of the encoded events (docs: `protocol::encode_event`).
    pub bytes: u64,
    /// Merges of different keys with equal fingerprints.
    pub aliased: u64,
}

/// Per-flow statistics as the host reports them: key, IAT and RTT moments.
pub type HostFlows = Vec<(FlowKey, Moments, Moments)>;

/// A design under evaluation.
pub trait Design: Send {
    /// Bytes of on-chip state.
    fn state_bytes(&self) -> u64;
    fn time_unit_log2_ns(&self) -> u32;
    /// One record; `ts` is in time units and already monotonic.
    fn process(&mut self, ts: u64, key: &FlowKey, flags: u8) -> Samples;
    /// The sample with exact membership for a previous packet at `prev`
    /// (time units, `prev <= now`), with no window limit.
    fn ideal(&self, prev: u64, now: u64) -> Est;
    /// Is a packet at `prev` still inside the window at `now`?
    fn in_window(&self, prev: u64, now: u64) -> bool;
    /// Moments of accumulated samples: `int` holds the `x` of every sample
    /// when they all had one, `float` the generic sums.
    fn moments(&self, acc: &LevelAcc) -> Moments;
    /// End of the trace: per-flow statistics as the host sees them after
    /// the flow table's exports are merged, or `None` when the design keeps
    /// per-key sums directly (no flow table modelled).
    fn finish(&mut self) -> Result<Option<HostFlows>, Error>;
    fn export(&self) -> Export;
}

/// Accumulated samples of one flow and one metric at one level of the
/// attribution.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LevelAcc {
    pub n: u64,
    pub sum: f64,
    pub sumsq: f64,
    pub var: f64,
    /// Integer sums of `x` (units `q`), valid while `int_ok`.
    pub isum: u128,
    pub isumsq: u128,
    pub int_ok: bool,
}

impl LevelAcc {
    pub fn new() -> LevelAcc {
        LevelAcc {
            int_ok: true,
            ..LevelAcc::default()
        }
    }

    #[inline]
    pub fn add(&mut self, e: &Est) {
        self.n += 1;
        self.sum += e.ns;
        self.sumsq += e.ns * e.ns;
        self.var += e.var;
        match e.x {
            Some(x) if self.int_ok => {
                self.isum += x as u128;
                self.isumsq += x as u128 * x as u128;
            }
            _ => self.int_ok = false,
        }
    }

    /// The integer sums as the model's accumulator (min and max not kept).
    pub fn int_acc(&self) -> MergedAcc {
        MergedAcc {
            n: self.n,
            sum: self.isum,
            sumsq: self.isumsq,
            min: 0,
            max: 0,
        }
    }

    /// Moments from the generic sums: mean, and the standard deviation with
    /// the mean quantization variance removed.
    pub fn float_moments(&self) -> Moments {
        if self.n == 0 {
            return Moments::default();
        }
        let n = self.n as f64;
        let mean = self.sum / n;
        let var = (self.sumsq / n - mean * mean - self.var / n).max(0.0);
        Moments {
            n: self.n,
            mean_us: mean / 1e3,
            std_us: var.sqrt() / 1e3,
            min_us: 0.0,
            max_us: 0.0,
        }
    }
}

// ---------------------------------------------------------------- golden --

/// The golden estimator's arithmetic for one configuration: samples in
/// units `q`, their bias-corrected value in nanoseconds and the quantization
/// variance the statistics subtract (docs/DESIGN.md §5, §7).
#[derive(Clone, Copy, Debug)]
pub struct GoldenEstimator {
    cfg: Config,
    q_ns: f64,
    var: f64,
}

impl GoldenEstimator {
    pub fn new(cfg: &Config) -> Result<GoldenEstimator, Error> {
        cfg.validate()
            .map_err(|e| Error::Usage(format!("invalid configuration: {e}")))?;
        let q = cfg.sample_unit_ns() as f64;
        let w = cfg.bucket_ns() as f64;
        Ok(GoldenEstimator {
            cfg: *cfg,
            q_ns: q,
            var: (w * w + q * q) / 12.0,
        })
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The estimate of a golden sample `x` that came from a mark `age`
    /// buckets old.
    pub fn est(&self, x: u64, age: u64) -> Est {
        Est {
            ns: (x as f64 + 0.5) * self.q_ns,
            var: self.var,
            x: Some(x),
            hit: Hit { level: 0, age },
        }
    }

    /// The sample the golden estimator gives when the newest mark is the
    /// flow's own previous packet at `prev` (no window limit: the age may
    /// exceed the ring).
    pub fn ideal(&self, prev: u64, now: u64) -> Est {
        let (ep, _) = epoch_offset(&self.cfg, prev);
        let (en, o) = epoch_offset(&self.cfg, now);
        let age = en - ep;
        let f = self.cfg.sample_frac_bits;
        let x = if age == 0 {
            (o >> 1) as u64
        } else {
            (age << f) + o as u64 - (1u64 << (f - 1))
        };
        self.est(x, age)
    }

    /// Is a mark made at `prev` still in the ring at `now`?
    pub fn in_window(&self, prev: u64, now: u64) -> bool {
        (now >> self.cfg.bucket_log2) - (prev >> self.cfg.bucket_log2) < self.cfg.buckets as u64
    }

    /// Moments as the host computes them from integer sums (the model's own
    /// statistics code), else from the generic sums. Levels keep no minimum
    /// or maximum: both are 0.
    pub fn moments(&self, acc: &LevelAcc) -> Moments {
        if acc.int_ok {
            Moments {
                min_us: 0.0,
                max_us: 0.0,
                ..estimated_moments(&self.cfg, &acc.int_acc())
            }
        } else {
            acc.float_moments()
        }
    }
}

/// The golden model and the host merge. Without its table (`without_table`)
/// it is the *infinite flow table* counterfactual: the model's samples are
/// summed per key directly, as if every flow had a slot of its own.
pub struct Golden {
    g: GoldenEstimator,
    bt: BloomTime,
    /// `None`: the infinite-table counterfactual (events are dropped).
    merger: Option<FlowMerger>,
    export: Export,
    /// The first merge error, reported by `finish`.
    merge_error: Option<Error>,
}

impl Golden {
    pub fn new(cfg: &Config) -> Result<Golden, Error> {
        Ok(Golden {
            g: GoldenEstimator::new(cfg)?,
            bt: BloomTime::new(cfg),
            merger: Some(FlowMerger::new(cfg)),
            export: Export::default(),
            merge_error: None,
        })
    }

    /// The counterfactual with an infinite flow table.
    pub fn without_table(cfg: &Config) -> Result<Golden, Error> {
        Ok(Golden {
            merger: None,
            ..Golden::new(cfg)?
        })
    }

    /// The age (in buckets) of the mark a golden sample `x` came from, given
    /// the current sub-bucket offset: `x < 2^(f-1)` only for age 0.
    pub fn age_of(x: u32, offset: u32, frac_bits: u32) -> u64 {
        let half = 1u32 << (frac_bits - 1);
        if x < half {
            0
        } else {
            ((x + half - offset) >> frac_bits) as u64
        }
    }

    fn drain(&mut self) -> Result<(), Error> {
        let events = self.bt.drain_events();
        let Some(merger) = &mut self.merger else {
            return Ok(());
        };
        let evict = evict_bytes(self.g.config()) as u64;
        for ev in events {
            match ev {
                Event::Open { .. } => {
                    self.export.opens += 1;
                    self.export.bytes += OPEN_BYTES as u64;
                }
                Event::Evict { .. } => {
                    self.export.evicts += 1;
                    self.export.bytes += evict;
                }
            }
            merger.push(&ev)?;
        }
        Ok(())
    }
}

impl Design for Golden {
    fn state_bytes(&self) -> u64 {
        self.g.config().state_bytes()
    }
    fn time_unit_log2_ns(&self) -> u32 {
        self.g.config().time_unit_log2_ns
    }

    fn process(&mut self, ts: u64, key: &FlowKey, flags: u8) -> Samples {
        let out = self.bt.process(&Record {
            ts,
            key: *key,
            flags,
        });
        debug_assert_eq!(out.ts, ts, "the caller clamps time");
        let (_, o) = epoch_offset(self.g.config(), out.ts);
        let f = self.g.config().sample_frac_bits;
        let s = Samples {
            iat: out.iat.map(|x| self.g.est(x as u64, Self::age_of(x, o, f))),
            rtt: out.rtt.map(|x| self.g.est(x as u64, Self::age_of(x, o, f))),
        };
        if self.bt.pending_events().len() >= 256 && self.merge_error.is_none() {
            if let Err(e) = self.drain() {
                self.merge_error = Some(e);
            }
        }
        s
    }

    fn ideal(&self, prev: u64, now: u64) -> Est {
        self.g.ideal(prev, now)
    }

    fn in_window(&self, prev: u64, now: u64) -> bool {
        self.g.in_window(prev, now)
    }

    fn moments(&self, acc: &LevelAcc) -> Moments {
        self.g.moments(acc)
    }

    fn finish(&mut self) -> Result<Option<HostFlows>, Error> {
        if let Some(e) = self.merge_error.take() {
            return Err(e);
        }
        self.bt.flush();
        self.drain()?;
        let c = self.bt.counters();
        c.check_invariants().map_err(Error::Invariant)?;
        let Some(merger) = &self.merger else {
            return Ok(None);
        };
        if merger.open_slots() != 0 {
            return Err(Error::Invariant(format!(
                "{} slots still owned after the final flush",
                merger.open_slots()
            )));
        }
        self.export.evict_collision = c.get(Counter::EvictCollision);
        self.export.aliased = self.bt.aliased();
        let cfg = self.g.config();
        Ok(Some(
            merger
                .flows()
                .into_iter()
                .map(|(k, s): (FlowKey, MergedStats)| {
                    (
                        k,
                        estimated_moments(cfg, &s.iat),
                        estimated_moments(cfg, &s.rtt),
                    )
                })
                .collect(),
        ))
    }

    fn export(&self) -> Export {
        self.export
    }
}

// ------------------------------------------------------- exact membership --

/// The *no collisions* counterfactual: bucket banks replaced by exact
/// membership. A record's sample is the golden estimator's for the flow's own
/// previous packet (for RTT, the reverse flow's latest packet, the exact
/// tracker's rule) — within the ring's window, or, with `window: false`, at
/// any age (the *infinite window* counterfactual). No flow table: per-key
/// sums, as the golden model's host merge gives them without aliasing.
pub struct Ideal {
    g: GoldenEstimator,
    window: bool,
    last: FxHashMap<FlowKey, u64>,
}

impl Ideal {
    pub fn new(cfg: &Config, window: bool) -> Result<Ideal, Error> {
        Ok(Ideal {
            g: GoldenEstimator::new(cfg)?,
            window,
            last: FxHashMap::default(),
        })
    }

    fn sample(&self, prev: Option<u64>, now: u64) -> Option<Est> {
        prev.filter(|&p| self.in_window(p, now))
            .map(|p| self.g.ideal(p, now))
    }
}

impl Design for Ideal {
    fn state_bytes(&self) -> u64 {
        self.g.config().state_bytes()
    }
    fn time_unit_log2_ns(&self) -> u32 {
        self.g.config().time_unit_log2_ns
    }

    fn process(&mut self, ts: u64, key: &FlowKey, flags: u8) -> Samples {
        let iat = self.sample(self.last.get(key).copied(), ts);
        let rtt = if flags & (FLAG_ECHO_REPLY | FLAG_TCP_SYNACK) != 0 {
            let rev = key.reverse(flags & FLAG_ECHO_REPLY != 0);
            self.sample(self.last.get(&rev).copied(), ts)
        } else {
            None
        };
        self.last.insert(*key, ts);
        Samples { iat, rtt }
    }

    fn ideal(&self, prev: u64, now: u64) -> Est {
        self.g.ideal(prev, now)
    }

    fn in_window(&self, prev: u64, now: u64) -> bool {
        !self.window || self.g.in_window(prev, now)
    }

    fn moments(&self, acc: &LevelAcc) -> Moments {
        self.g.moments(acc)
    }

    fn finish(&mut self) -> Result<Option<HostFlows>, Error> {
        Ok(None)
    }

    fn export(&self) -> Export {
        Export::default()
    }
}

// ------------------------------------------------------ multi-resolution --

/// One level of a multi-resolution line: buckets `2^extra` times wider than
/// the base bucket, `buckets` of them per ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LevelSpec {
    pub extra_log2: u32,
    pub buckets: u32,
}

/// Most levels a multi-resolution line may have.
pub const MAX_LEVELS: usize = 8;

/// Parameters of a multi-resolution design: the base configuration gives
/// time unit, level 0 (bucket width, buckets, sub-bucket bits), banks, lines
/// and the flow table; `coarse` adds levels from fine to coarse.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MultiResSpec {
    pub base: Config,
    pub coarse: Vec<LevelSpec>,
    /// Use the finer levels' misses to narrow where a coarse hit's previous
    /// packet can lie (interval midpoint) instead of the bucket midpoint.
    pub refine: bool,
}

impl MultiResSpec {
    /// All levels, level 0 first.
    pub fn levels(&self) -> Vec<LevelSpec> {
        let mut v = vec![LevelSpec {
            extra_log2: 0,
            buckets: self.base.buckets,
        }];
        v.extend(self.coarse.iter().copied());
        v
    }

    pub fn validate(&self) -> Result<(), Error> {
        self.base
            .validate()
            .map_err(|e| Error::Usage(format!("invalid base configuration: {e}")))?;
        let mut prev = 0;
        for l in &self.coarse {
            if self.coarse.len() > MAX_LEVELS - 1
                || l.extra_log2 <= prev
                || l.extra_log2 > 24
                || !(2..=64).contains(&l.buckets)
            {
                return Err(Error::Usage(format!(
                    "multi-resolution levels: at most {MAX_LEVELS}, each strictly wider than the last (extra_log2 {} after {prev}, at most 24), 2..=64 buckets (got {})",
                    l.extra_log2, l.buckets
                )));
            }
            prev = l.extra_log2;
        }
        Ok(())
    }

    /// Epoch-tag bits a line needs: enough for the coarsest level's span.
    pub fn tag_bits(&self) -> u32 {
        self.levels()
            .iter()
            .map(|l| bit_length((l.buckets as u64) << l.extra_log2) + 1)
            .max()
            .unwrap_or(0)
            .max(self.base.epoch_tag_bits)
    }

    /// Bits of one line: the tag and two rings per level.
    pub fn line_bits(&self) -> u64 {
        self.tag_bits() as u64 + 2 * self.levels().iter().map(|l| l.buckets as u64).sum::<u64>()
    }

    /// Bits of one sample when all levels share the accumulators (in units
    /// `q` of level 0).
    pub fn sample_bits(&self) -> u32 {
        let c = self.coarse.last();
        let (b, g) = c.map_or((self.base.buckets, 0), |l| (l.buckets, l.extra_log2));
        bit_length(((b as u64) << (g + self.base.sample_frac_bits)) - 1)
    }

    /// State bytes: banks plus a flow table whose accumulators are widened
    /// to the longest sample.
    pub fn state_bytes(&self) -> u64 {
        let c = &self.base;
        let banks = (c.banks as u64 * c.lines() as u64 * self.line_bits()).div_ceil(8);
        let (p, xb) = (c.packet_bits as u64, self.sample_bits() as u64);
        let acc = p + (p + xb) + (p + 2 * xb) + 2 * xb;
        let slot = 1 + c.fingerprint_bits as u64 + p + 2 * acc;
        banks + (c.slots() as u64 * slot).div_ceil(8)
    }

    /// Window of the coarsest level in nanoseconds.
    pub fn window_ns(&self) -> u64 {
        let l = *self.levels().last().expect("level 0");
        (l.buckets as u64) << (self.base.bucket_log2 + l.extra_log2 + self.base.time_unit_log2_ns)
    }
}

/// The multi-resolution design (no flow table modelled: the golden model's
/// merge is exact, so per-key sums are what the host would see).
pub struct MultiRes {
    spec: MultiResSpec,
    levels: Vec<LevelSpec>,
    masks: Vec<u64>,
    tags: Vec<u64>,
    /// `[line][level][direction]`, lines bank-major.
    rings: Vec<u64>,
    unit_ns: f64,
}

impl MultiRes {
    pub fn new(spec: &MultiResSpec) -> Result<MultiRes, Error> {
        spec.validate()?;
        let levels = spec.levels();
        let lines = spec.base.banks as usize * spec.base.lines() as usize;
        Ok(MultiRes {
            masks: levels.iter().map(|l| ring_mask(l.buckets)).collect(),
            tags: vec![0; lines],
            rings: vec![0; lines * levels.len() * 2],
            unit_ns: (1u64 << spec.base.time_unit_log2_ns) as f64,
            levels,
            spec: spec.clone(),
        })
    }

    /// Bucket width of level `r` as a shift of the time unit.
    fn shift(&self, r: usize) -> u32 {
        self.spec.base.bucket_log2 + self.levels[r].extra_log2
    }

    /// The estimate for a hit at `age` in level `r` at time `now`.
    fn estimate(&self, r: usize, age: u64, now: u64) -> Est {
        let c = &self.spec.base;
        let hit = Hit {
            level: r as u8,
            age,
        };
        if r == 0 {
            // Level 0 is the golden estimator, exactly.
            let (_, o) = epoch_offset(c, now);
            let f = c.sample_frac_bits;
            let x = if age == 0 {
                (o >> 1) as u64
            } else {
                (age << f) + o as u64 - (1u64 << (f - 1))
            };
            let q = c.sample_unit_ns() as f64;
            let w = c.bucket_ns() as f64;
            return Est {
                ns: (x as f64 + 0.5) * q,
                var: (w * w + q * q) / 12.0,
                x: None,
                hit,
            };
        }
        let s = self.shift(r);
        let e = now >> s;
        let mut lo = (e - age) << s;
        let mut hi = (e - age + 1) << s;
        if self.spec.refine {
            // Level r-1 missed: the previous packet is older than its window.
            let sp = self.shift(r - 1);
            let bound = ((now >> sp) + 1).saturating_sub(self.levels[r - 1].buckets as u64) << sp;
            hi = hi.min(bound);
            if hi <= lo {
                // Cannot happen with exact ageing; keep the bucket.
                hi = (e - age + 1) << s;
                lo = (e - age) << s;
            }
        }
        // Now lies in its level-0 sample cell.
        let qs = c.bucket_log2 - c.sample_frac_bits;
        let now_lo = (now >> qs) << qs;
        let now_hi = now_lo + (1 << qs);
        let t_lo = now_lo.saturating_sub(hi) as f64;
        let t_hi = (now_hi - lo.min(now_hi)) as f64;
        let width = (t_hi - t_lo).max(0.0);
        Est {
            ns: (t_lo + t_hi) / 2.0 * self.unit_ns,
            var: width * width / 12.0 * self.unit_ns * self.unit_ns,
            x: None,
            hit,
        }
    }

    fn first_hit(&self, ands: &[u64], now: u64) -> Option<Est> {
        ands.iter()
            .enumerate()
            .find_map(|(r, &a)| newest(a).map(|age| self.estimate(r, age as u64, now)))
    }
}

impl Design for MultiRes {
    fn state_bytes(&self) -> u64 {
        self.spec.state_bytes()
    }
    fn time_unit_log2_ns(&self) -> u32 {
        self.spec.base.time_unit_log2_ns
    }

    fn process(&mut self, ts: u64, key: &FlowKey, flags: u8) -> Samples {
        let c = self.spec.base;
        let rec = Record {
            ts,
            key: *key,
            flags,
        };
        let h = Hashes::compute(&rec);
        let d = h.dir as usize;
        let nl = self.levels.len();
        let mut and_d = [u64::MAX; MAX_LEVELS];
        let mut and_r = [u64::MAX; MAX_LEVELS];
        let epoch = ts >> c.bucket_log2;
        for i in 0..c.banks {
            let line = i as usize * c.lines() as usize + h.line(&c, i) as usize;
            let tag = self.tags[line];
            for r in 0..nl {
                let g = self.levels[r].extra_log2;
                let delta = (epoch >> g) - (tag >> g);
                let at = (line * nl + r) * 2;
                let ring = &mut self.rings[at..at + 2];
                if delta >= self.levels[r].buckets as u64 {
                    ring[0] = 0;
                    ring[1] = 0;
                } else if delta > 0 {
                    ring[0] = (ring[0] << delta) & self.masks[r];
                    ring[1] = (ring[1] << delta) & self.masks[r];
                }
                and_d[r] &= ring[d];
                and_r[r] &= ring[1 - d];
                ring[d] |= 1;
            }
            self.tags[line] = epoch;
        }
        Samples {
            iat: self.first_hit(&and_d[..nl], ts),
            rtt: if rec.wants_rtt() {
                self.first_hit(&and_r[..nl], ts)
            } else {
                None
            },
        }
    }

    fn ideal(&self, prev: u64, now: u64) -> Est {
        let last = self.levels.len() - 1;
        for r in 0..=last {
            let s = self.shift(r);
            let age = (now >> s) - (prev >> s);
            if age < self.levels[r].buckets as u64 || r == last {
                return self.estimate(r, age, now);
            }
        }
        unreachable!("the last level always answers")
    }

    fn in_window(&self, prev: u64, now: u64) -> bool {
        let r = self.levels.len() - 1;
        let s = self.shift(r);
        (now >> s) - (prev >> s) < self.levels[r].buckets as u64
    }

    fn moments(&self, acc: &LevelAcc) -> Moments {
        acc.float_moments()
    }

    fn finish(&mut self) -> Result<Option<HostFlows>, Error> {
        Ok(None)
    }

    fn export(&self) -> Export {
        Export::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bloomtime_model::config::ALCHITRY_CU;
    use bloomtime_model::estimator::sample;

    #[test]
    fn golden_age_is_recovered_from_the_sample() {
        let f = 4;
        for age in 0..20u32 {
            for o in 0..16u32 {
                let x = sample(age, o, f);
                assert_eq!(Golden::age_of(x, o, f), age as u64, "age {age} o {o}");
            }
        }
    }

    #[test]
    fn multires_state_grows_with_levels() {
        let one = MultiResSpec {
            base: ALCHITRY_CU,
            coarse: vec![],
            refine: true,
        };
        assert_eq!(one.line_bits(), ALCHITRY_CU.line_bits() as u64);
        assert_eq!(one.state_bytes(), ALCHITRY_CU.state_bytes());
        let two = MultiResSpec {
            coarse: vec![LevelSpec {
                extra_log2: 4,
                buckets: 16,
            }],
            ..one
        };
        // The tag spans the coarsest ring, 16 buckets of 2^4 base epochs:
        // bit_length(256) + 1 bits (the golden rule bit_length(B) + 1).
        assert_eq!(two.tag_bits(), 10);
        assert_eq!(two.line_bits(), 10 + 2 * (16 + 16));
        assert!(two.state_bytes() > one.state_bytes());
        assert_eq!(two.window_ns(), 16 * ALCHITRY_CU.window_ns());
    }

    #[test]
    fn bad_levels_are_rejected() {
        let s = MultiResSpec {
            base: ALCHITRY_CU,
            coarse: vec![
                LevelSpec {
                    extra_log2: 4,
                    buckets: 16,
                },
                LevelSpec {
                    extra_log2: 4,
                    buckets: 16,
                },
            ],
            refine: false,
        };
        assert!(MultiRes::new(&s).is_err());
    }
}

#[cfg(test)]
mod multires_tests {
    use super::*;
    use bloomtime_model::config::ALCHITRY_CU;
    use bloomtime_model::key::{FLAG_ECHO_REQUEST, PROTO_ICMP, PROTO_UDP};

    fn key(p: u16) -> FlowKey {
        FlowKey::v4(PROTO_UDP, [10, 1, 0, 1], p, [10, 1, 0, 2], 4242)
    }

    /// Records of a few flows at pseudo-random gaps up to `max_gap` time
    /// units, with a ping exchange (RTT lookups).
    fn records(n: usize, max_gap: u64) -> Vec<(u64, FlowKey, u8)> {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut t = 0;
        let mut out = Vec::new();
        let req = FlowKey::v4(PROTO_ICMP, [10, 1, 0, 3], 9, [10, 1, 0, 4], 0);
        for i in 0..n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            t += x % max_gap;
            match i % 5 {
                3 => out.push((t, req, FLAG_ECHO_REQUEST)),
                4 => out.push((t, req.reverse(true), FLAG_ECHO_REPLY)),
                f => out.push((t, key(f as u16), 0)),
            }
        }
        out
    }

    #[test]
    fn one_level_is_the_golden_estimator() {
        let spec = MultiResSpec {
            base: ALCHITRY_CU,
            coarse: vec![],
            refine: true,
        };
        let mut m = MultiRes::new(&spec).unwrap();
        let mut g = Golden::new(&ALCHITRY_CU).unwrap();
        for (t, k, f) in records(4000, 3 * ALCHITRY_CU.bucket_units()) {
            let (a, b) = (m.process(t, &k, f), g.process(t, &k, f));
            for (x, y) in [(a.iat, b.iat), (a.rtt, b.rtt)] {
                assert_eq!(x.map(|e| (e.ns, e.hit)), y.map(|e| (e.ns, e.hit)), "t {t}");
            }
        }
    }

    #[test]
    fn a_coarse_level_catches_gaps_beyond_the_fine_ring() {
        // Level 0: 16 buckets of 2^13 units; level 1: 16 buckets of 2^17.
        let base = ALCHITRY_CU;
        for refine in [false, true] {
            let spec = MultiResSpec {
                base,
                coarse: vec![LevelSpec {
                    extra_log2: 4,
                    buckets: 16,
                }],
                refine,
            };
            let mut m = MultiRes::new(&spec).unwrap();
            let mut g = Golden::new(&base).unwrap();
            let w1 = (base.bucket_units() << 4) as f64 * 1024.0;
            let (mut t, mut n) = (5_000u64, 0);
            let mut err = Vec::new();
            // One flow alone: gaps of 20 to 200 fine buckets (past the
            // 16-bucket fine ring, inside the 256-bucket coarse one).
            for i in 0..60u64 {
                let gap = base.bucket_units() * (20 + 3 * i) + 977 * i;
                t += gap;
                let a = m.process(t, &key(1), 0);
                let b = g.process(t, &key(1), 0);
                if n > 0 {
                    assert_eq!(b.iat, None, "the golden ring cannot see {gap}");
                    let e = a.iat.expect("the coarse level sees it");
                    assert_eq!(e.hit.level, 1);
                    let truth = gap as f64 * 1024.0;
                    // Within a coarse bucket and a sample unit.
                    assert!((e.ns - truth).abs() <= w1, "gap {truth} est {}", e.ns);
                    assert_eq!(e, m.ideal(t - gap, t));
                    err.push((e.ns - truth).abs());
                }
                n += 1;
            }
            let mean = err.iter().sum::<f64>() / err.len() as f64;
            assert!(
                mean < w1 / 2.0,
                "refine {refine}: mean error {mean} of {w1}"
            );
        }
    }
}
