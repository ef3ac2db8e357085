//! From a design's pass over a trace to the figures of one results row.
//!
//! Definitions (docs/EVAL.md repeats them):
//!
//! * relative error of a flow's statistic: `|estimate − exact| / exact`, as
//!   `bloomtime compare` computes it; flows whose exact value is 0 are
//!   skipped and counted;
//! * `median`, `p90`: nearest-rank quantiles over the flows that have both
//!   an exact value and an estimate (the `compare` definition);
//! * `median_all`: the same over every flow with an exact sample, a flow
//!   without an estimate counting as an infinite error — a configuration
//!   cannot look good by estimating only the easy flows;
//! * `within[2, 10, 20 %]`: fraction of the flows with a non-zero exact
//!   value whose estimate is within that relative error (no estimate:
//!   outside).

use super::attrib::{FlowResult, Levels, RunOutput, CAUSES};
use crate::compare::quantile;
use serde::Serialize;

/// Thresholds of the `within` fractions and of the capacity figures.
pub const THRESHOLDS: [f64; 3] = [0.02, 0.10, 0.20];

/// Distribution over flows of one relative error.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Dist {
    /// Flows with an exact sample of this kind.
    pub flows: usize,
    /// Of those, flows with an estimate.
    pub with_estimate: usize,
    /// Flows with both whose exact value is 0 (no relative error).
    pub skipped_zero: usize,
    pub median: Option<f64>,
    pub p90: Option<f64>,
    pub median_all: Option<f64>,
    pub within: [f64; 3],
    /// Sorted relative errors (flows with both, exact > 0).
    #[serde(skip)]
    pub errors: Vec<f64>,
}

impl Dist {
    fn of(flows: usize, with_estimate: usize, skipped_zero: usize, mut errors: Vec<f64>) -> Dist {
        errors.sort_by(|a, b| a.total_cmp(b));
        let missing = flows - with_estimate;
        let mut all: Vec<f64> = errors.clone();
        all.extend(std::iter::repeat_n(f64::INFINITY, missing));
        let scored = flows - skipped_zero;
        let within = THRESHOLDS.map(|t| {
            if scored == 0 {
                0.0
            } else {
                errors.iter().filter(|e| **e <= t).count() as f64 / scored as f64
            }
        });
        Dist {
            flows,
            with_estimate,
            skipped_zero,
            median: quantile(&errors, 0.5),
            p90: quantile(&errors, 0.9),
            median_all: quantile(&all, 0.5),
            within,
            errors,
        }
    }
}

/// Which statistic of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stat {
    Mean,
    Std,
}

/// The error distribution of one statistic of one metric over flows.
pub fn dist(flows: &[FlowResult], metric: fn(&FlowResult) -> &Levels, stat: Stat) -> Dist {
    let (mut n, mut with, mut zero, mut errs) = (0, 0, 0, Vec::new());
    for f in flows {
        let l = metric(f);
        if l.truth.n == 0 {
            continue;
        }
        n += 1;
        let Some(e) = l.merged else { continue };
        with += 1;
        let (x, y) = match stat {
            Stat::Mean => (l.truth.mean_us, e.mean_us),
            Stat::Std => (l.truth.std_us, e.std_us),
        };
        if x > 0.0 {
            errs.push((y - x).abs() / x);
        } else {
            zero += 1;
        }
    }
    Dist::of(n, with, zero, errs)
}

/// The error of a metric's mean split by cause.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Breakdown {
    /// Flows with an estimate and a non-zero exact mean.
    pub flows: usize,
    /// Share of the absolute error mass, per cause
    /// (`Σ_flows |c_k| / Σ_flows Σ_k |c_k|`).
    pub share: [f64; 4],
    /// Median over flows of `|c_k|`.
    pub median_abs: [f64; 4],
    /// Mean over flows of the signed `c_k`.
    pub mean_signed: [f64; 4],
    /// Index into [`CAUSES`] of the largest share.
    pub dominant: Option<usize>,
    /// Flows with exact samples and no estimate: every previous packet was
    /// beyond the window.
    pub lost_window: usize,
    /// Flows with exact samples in the window and still no estimate.
    pub lost_other: usize,
    /// Largest `| Σ_k c_k − signed error |` over flows (rounding only).
    pub max_residual: f64,
}

impl Breakdown {
    pub fn dominant_name(&self) -> &'static str {
        self.dominant.map_or("", |i| CAUSES[i])
    }
}

/// Split the mean's error of `metric` by cause.
pub fn breakdown(flows: &[FlowResult], metric: fn(&FlowResult) -> &Levels) -> Breakdown {
    let mut b = Breakdown::default();
    let mut abs: [Vec<f64>; 4] = Default::default();
    let mut sum_abs = [0.0f64; 4];
    let mut sum_signed = [0.0f64; 4];
    for f in flows {
        let l = metric(f);
        if l.truth.n == 0 {
            continue;
        }
        if l.merged.is_none() {
            if l.window.is_none() {
                b.lost_window += 1;
            } else {
                b.lost_other += 1;
            }
            continue;
        }
        let Some(c) = l.mean_contributions() else {
            continue;
        };
        b.flows += 1;
        let e = l.merged.expect("checked").mean_us;
        let signed = (e - l.truth.mean_us) / l.truth.mean_us;
        b.max_residual = b.max_residual.max((c.iter().sum::<f64>() - signed).abs());
        for k in 0..4 {
            abs[k].push(c[k].abs());
            sum_abs[k] += c[k].abs();
            sum_signed[k] += c[k];
        }
    }
    let total: f64 = sum_abs.iter().sum();
    for k in 0..4 {
        b.share[k] = if total > 0.0 { sum_abs[k] / total } else { 0.0 };
        abs[k].sort_by(|a, b| a.total_cmp(b));
        b.median_abs[k] = quantile(&abs[k], 0.5).unwrap_or(0.0);
        b.mean_signed[k] = if b.flows > 0 {
            sum_signed[k] / b.flows as f64
        } else {
            0.0
        };
    }
    if total > 0.0 {
        b.dominant = (0..4).max_by(|&i, &j| b.share[i].total_cmp(&b.share[j]));
    }
    b
}

/// Everything measured of one design on one trace.
#[derive(Clone, Debug, Serialize)]
pub struct Figures {
    pub records: u64,
    pub flows: usize,
    pub iat_mean: Dist,
    pub iat_std: Dist,
    pub rtt_mean: Dist,
    pub iat_breakdown: Breakdown,
    pub rtt_breakdown: Breakdown,
    /// Flows with an estimated IAT but no exact IAT sample (collisions
    /// invented a gap for a one-packet flow).
    pub phantom_flows: usize,
    /// Estimated IAT samples over exact IAT samples (all flows).
    pub iat_sample_ratio: f64,
    pub run: RunSummary,
}

/// The run's counters, without the per-flow results.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    pub iat: super::attrib::SampleCounts,
    pub rtt: super::attrib::SampleCounts,
    pub opens: u64,
    pub evicts: u64,
    pub evict_collision: u64,
    pub export_bytes: u64,
    pub aliased: u64,
    pub state_bytes: u64,
}

/// The IAT levels of a flow.
pub fn iat(f: &FlowResult) -> &Levels {
    &f.iat
}

/// The RTT levels of a flow.
pub fn rtt(f: &FlowResult) -> &Levels {
    &f.rtt
}

pub fn figures(r: &RunOutput) -> Figures {
    Figures {
        records: r.records,
        flows: r.flows.len(),
        iat_mean: dist(&r.flows, iat, Stat::Mean),
        iat_std: dist(&r.flows, iat, Stat::Std),
        rtt_mean: dist(&r.flows, rtt, Stat::Mean),
        iat_breakdown: breakdown(&r.flows, iat),
        rtt_breakdown: breakdown(&r.flows, rtt),
        phantom_flows: r
            .flows
            .iter()
            .filter(|f| f.iat.truth.n == 0 && f.iat.merged.is_some())
            .count(),
        iat_sample_ratio: if r.iat.exact > 0 {
            r.iat.estimated as f64 / r.iat.exact as f64
        } else {
            0.0
        },
        run: RunSummary {
            iat: r.iat,
            rtt: r.rtt,
            opens: r.export.opens,
            evicts: r.export.evicts,
            evict_collision: r.export.evict_collision,
            export_bytes: r.export.bytes,
            aliased: r.export.aliased,
            state_bytes: r.state_bytes,
        },
    }
}
