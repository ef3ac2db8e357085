//! The designs the evaluation replays records through, all built on the
//! golden model's own primitives (`bloomtime_model`): no second estimator,
//! ageing or bank loop lives here.
//!
//! * [`Golden`] — the golden model itself (`bloomtime_model::BloomTime`)
//!   with the host merge: exactly what `bloomtime analyze` and `compare`
//!   compute, bit for bit, for any configuration (one level or several).
//!   [`Golden::without_table`] is the *infinite flow table* counterfactual.
//! * [`Ideal`] — the *no collisions* counterfactual (exact membership
//!   instead of Bloom banks: the model's estimator applied to the flow's own
//!   previous packet, `estimator::ideal`), with the line's window or with
//!   none (the *infinite window* counterfactual).
//!
//! Every design also states what it would estimate with *exact membership*
//! (the flow's own previous packet, no other flow's marks) and whether that
//! previous packet is still inside its window, in one call
//! ([`Design::ideal`]). The attribution (`attrib.rs`) compares the real
//! output with these to split the error by cause.

use crate::error::Error;
use bloomtime_model::config::Config;
use bloomtime_model::estimator::{self, Hit};
use bloomtime_model::key::{FlowKey, Record, FLAG_ECHO_REPLY, FLAG_TCP_SYNACK};
use bloomtime_model::merge::{FlowMerger, MergedAcc, MergedStats};
use bloomtime_model::protocol::{evict_bytes, OPEN_BYTES};
use bloomtime_model::stats::{estimated_moments, hist_percentiles, Moments};
use bloomtime_model::table::{AccRule, Event};
use bloomtime_model::{BloomTime, Counter};
use rustc_hash::FxHashMap;

/// One estimated sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Est {
    /// Estimated gap in nanoseconds (bias corrected).
    pub ns: f64,
    /// Variance of this sample's quantization error (ns²): what the variance
    /// estimate subtracts (docs/DESIGN.md §7 for the golden model).
    pub var: f64,
    /// The sample in units `q_0`: its moments are computed by the model's
    /// own statistics code.
    pub x: Option<u64>,
    /// The level's variance correction `d` (units `q_0²`, §7).
    pub d: i64,
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
    /// (time units, `prev <= now`), with no window limit, and whether that
    /// packet is still inside the design's window at `now`.
    fn ideal(&self, prev: u64, now: u64) -> (Est, bool);
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
    /// Integer sums of `x` and `x² − d` (units `q_0`), valid while `int_ok`.
    pub isum: u128,
    pub isumsq: i128,
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
                self.isumsq += x as i128 * x as i128 - e.d as i128;
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
            pct_us: [f64::NAN; 3],
        }
    }
}

// ---------------------------------------------------------------- golden --

/// The golden estimator's arithmetic for one configuration: a model sample
/// (units `q_0`) and its hit as the evaluation's [`Est`]: bias-corrected
/// nanoseconds and the quantization variance the statistics subtract
/// (docs/DESIGN.md §5, §7).
#[derive(Clone, Copy, Debug)]
pub struct GoldenEstimator {
    cfg: Config,
    rule: AccRule,
    q_ns: f64,
    /// Level 0's quantization variance `(w_0² + q_0²)/12`, units `q_0²`.
    c0: f64,
}

impl GoldenEstimator {
    pub fn new(cfg: &Config) -> Result<GoldenEstimator, Error> {
        cfg.validate()
            .map_err(|e| Error::Usage(format!("invalid configuration: {e}")))?;
        let f = cfg.sample_frac_bits;
        Ok(GoldenEstimator {
            cfg: *cfg,
            rule: AccRule::new(cfg),
            q_ns: cfg.sample_unit_ns() as f64,
            c0: ((1u64 << (2 * f)) + 1) as f64 / 12.0,
        })
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The estimate of a model sample `x` from `hit`.
    pub fn est(&self, x: u64, hit: Hit) -> Est {
        let d = self.rule.corr[hit.level as usize];
        Est {
            ns: (x as f64 + 0.5) * self.q_ns,
            var: (self.c0 + d as f64) * self.q_ns * self.q_ns,
            x: Some(x),
            d,
            hit,
        }
    }

    /// The sample the model's estimator gives when the newest mark is the
    /// flow's own previous packet at `prev` (no window limit: beyond the
    /// window, the coarsest level at its real age), and whether that mark is
    /// still in the line's window at `now`.
    pub fn ideal(&self, prev: u64, now: u64) -> (Est, bool) {
        let (x, hit, inside) = estimator::ideal(&self.cfg, prev, now);
        (self.est(x, hit), inside)
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
            merger: Some(FlowMerger::of_model(cfg)),
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

    fn drain(&mut self) -> Result<(), Error> {
        let events = self.bt.drain_events();
        let hists = self.bt.drain_hists();
        let Some(merger) = &mut self.merger else {
            return Ok(());
        };
        let evict = evict_bytes(self.g.config()) as u64;
        for ev in &events {
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
        }
        merger.push_all(&events, &hists)?;
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
        let est =
            |x: Option<u32>, hit: Option<Hit>| x.zip(hit).map(|(x, h)| self.g.est(x as u64, h));
        let s = Samples {
            iat: est(out.iat, out.iat_hit),
            rtt: est(out.rtt, out.rtt_hit),
        };
        if self.bt.pending_events().len() >= 256 && self.merge_error.is_none() {
            if let Err(e) = self.drain() {
                self.merge_error = Some(e);
            }
        }
        s
    }

    fn ideal(&self, prev: u64, now: u64) -> (Est, bool) {
        self.g.ideal(prev, now)
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
        let bins = merger.hist_bins();
        Ok(Some(
            merger
                .flows()
                .into_iter()
                .map(|(k, s): (FlowKey, MergedStats)| {
                    let mut iat = estimated_moments(cfg, &s.iat);
                    let mut rtt = estimated_moments(cfg, &s.rtt);
                    if let Some(h) = merger.hist(&k) {
                        iat.pct_us = hist_percentiles(cfg, &h[..bins]);
                        rtt.pct_us = hist_percentiles(cfg, &h[bins..]);
                    }
                    (k, iat, rtt)
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
        let (e, inside) = self.ideal(prev?, now);
        inside.then_some(e)
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

    fn ideal(&self, prev: u64, now: u64) -> (Est, bool) {
        let (e, inside) = self.g.ideal(prev, now);
        (e, inside || !self.window)
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

#[cfg(test)]
mod tests {
    use super::*;
    use bloomtime_model::config::{ALCHITRY_CU, ALCHITRY_CU_V1};
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

    /// Without other flows' marks, the golden model's samples are the ideal
    /// ones, level and age included, for one level and for many.
    #[test]
    fn alone_the_model_gives_the_ideal_sample() {
        for cfg in [ALCHITRY_CU_V1, ALCHITRY_CU] {
            let mut g = Golden::new(&cfg).unwrap();
            let mut last: FxHashMap<FlowKey, u64> = FxHashMap::default();
            let window = cfg.window_ns() >> cfg.time_unit_log2_ns;
            for (t, k, f) in records(3000, window / 40) {
                let s = g.process(t, &k, f);
                if let Some(&p) = last.get(&k) {
                    if let (e, true) = g.ideal(p, t) {
                        assert_eq!(s.iat, Some(e), "t {t}");
                    }
                }
                last.insert(k, t);
            }
        }
    }

    #[test]
    fn a_coarse_level_catches_gaps_beyond_the_fine_rings() {
        let cfg = ALCHITRY_CU;
        let mut g = Golden::new(&cfg).unwrap();
        let unit = (1u64 << cfg.time_unit_log2_ns) as f64;
        let mut t = 5_000u64;
        for i in 0..60u64 {
            // Gaps from 100 us to ~6 s.
            let gap = (100_000.0 * 1.07f64.powi(i as i32 * 2) / unit) as u64;
            t += gap;
            let s = g.process(t, &key(1), 0);
            if i > 0 {
                let e = s.iat.expect("every gap inside the window is seen");
                let truth = gap as f64 * unit;
                let l = e.hit.level as usize;
                let w = cfg.level_bucket_ns(l) as f64;
                assert!(
                    (e.ns - truth).abs() <= w,
                    "gap {truth} est {} level {l}",
                    e.ns
                );
                // The finest level that still holds the mark answered.
                assert!(
                    l == 0
                        || truth
                            >= cfg.level_window_ns(l - 1) as f64
                                - cfg.level_bucket_ns(l - 1) as f64
                );
            }
        }
    }
}
