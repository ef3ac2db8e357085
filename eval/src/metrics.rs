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
use serde::Serialize;

/// Thresholds of the `within` fractions and of the capacity figures.
pub const THRESHOLDS: [f64; 3] = [0.02, 0.10, 0.20];

/// The nearest-rank `p`-quantile of sorted values: the `⌈p·n⌉`-th of `n`
/// (`bloomtime compare` uses it too).
pub fn quantile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

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
        if matches!(stat, Stat::Std) && !e.std_us.is_finite() {
            // The configuration keeps no second moment: no estimate.
            continue;
        }
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

/// Flows whose relative error is at most this need no explaining: the
/// per-flow shares leave them out (the smallest of [`THRESHOLDS`]).
pub const EXPLAIN_ABOVE: f64 = 0.02;

/// The error of a metric's mean split by cause.
///
/// A flow's signed relative error is `Σ_k c_k` (`Levels::mean_contributions`);
/// its *shares* are `|c_k| / Σ_j |c_j|`. A cause's `share` on a trace is the
/// mean of its shares over the flows whose error exceeds
/// [`EXPLAIN_ABOVE`]: every such flow weighs the same, so a handful of flows
/// with relative errors of thousands of percent (microsecond gaps estimated
/// from millisecond buckets) do not decide what dominates. `mass_share`, the
/// share of `Σ_flows |c_k|`, is the outlier-weighted view.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Breakdown {
    /// Flows with an estimate and a non-zero exact mean.
    pub flows: usize,
    /// Of those, flows with an error above [`EXPLAIN_ABOVE`].
    pub explained: usize,
    /// Sum of the shares of the explained flows, per cause (pools across
    /// traces: divide by the pooled `explained`).
    pub share_sum: [f64; 4],
    /// Mean share per explained flow, per cause.
    pub share: [f64; 4],
    /// Absolute error mass per cause, `Σ_flows |c_k|`.
    pub mass: [f64; 4],
    /// `mass` over its total.
    pub mass_share: [f64; 4],
    /// Median over flows of `|c_k|`.
    pub median_abs: [f64; 4],
    /// Mean over flows of the signed `c_k`.
    pub mean_signed: [f64; 4],
    /// Index into [`CAUSES`] of the largest `share`.
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

    /// Mean shares and the dominant cause of pooled share sums over
    /// `explained` flows.
    pub fn shares_of(share_sum: &[f64; 4], explained: usize) -> ([f64; 4], Option<usize>) {
        if explained == 0 || share_sum.iter().sum::<f64>() <= 0.0 {
            return ([0.0; 4], None);
        }
        (
            share_sum.map(|m| m / explained as f64),
            (0..4).max_by(|&i, &j| share_sum[i].total_cmp(&share_sum[j])),
        )
    }
}

/// Split the mean's error of `metric` by cause.
pub fn breakdown(flows: &[FlowResult], metric: fn(&FlowResult) -> &Levels) -> Breakdown {
    let mut b = Breakdown::default();
    let mut abs: [Vec<f64>; 4] = Default::default();
    let mut sum_signed = [0.0f64; 4];
    for f in flows {
        let l = metric(f);
        if l.truth.n == 0 {
            continue;
        }
        let Some(merged) = l.merged else {
            if l.window.is_none() {
                b.lost_window += 1;
            } else {
                b.lost_other += 1;
            }
            continue;
        };
        let Some(c) = l.mean_contributions() else {
            continue;
        };
        b.flows += 1;
        let signed = (merged.mean_us - l.truth.mean_us) / l.truth.mean_us;
        b.max_residual = b.max_residual.max((c.iter().sum::<f64>() - signed).abs());
        let total: f64 = c.iter().map(|x| x.abs()).sum();
        let explained = signed.abs() > EXPLAIN_ABOVE && total > 0.0;
        b.explained += explained as usize;
        for k in 0..4 {
            abs[k].push(c[k].abs());
            b.mass[k] += c[k].abs();
            sum_signed[k] += c[k];
            if explained {
                b.share_sum[k] += c[k].abs() / total;
            }
        }
    }
    (b.share, b.dominant) = Breakdown::shares_of(&b.share_sum, b.explained);
    let total: f64 = b.mass.iter().sum();
    for k in 0..4 {
        b.mass_share[k] = if total > 0.0 { b.mass[k] / total } else { 0.0 };
        abs[k].sort_by(|a, b| a.total_cmp(b));
        b.median_abs[k] = quantile(&abs[k], 0.5).unwrap_or(0.0);
        b.mean_signed[k] = if b.flows > 0 {
            sum_signed[k] / b.flows as f64
        } else {
            0.0
        };
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

#[cfg(test)]
mod tests {
    use super::*;
    use bloomtime_model::key::FlowKey;
    use bloomtime_model::stats::Moments;

    fn m(mean_us: f64, std_us: f64) -> Moments {
        Moments {
            n: 3,
            mean_us,
            std_us,
            ..Moments::default()
        }
    }

    fn flow(port: u16, iat: Levels) -> FlowResult {
        FlowResult {
            key: FlowKey::v4(17, [1, 1, 1, 1], port, [2, 2, 2, 2], 9),
            packets: 4,
            iat,
            rtt: Levels::default(),
        }
    }

    fn only_merged(truth: Moments, merged: Option<Moments>) -> Levels {
        Levels {
            truth,
            quant: merged,
            window: merged,
            direct: merged,
            merged,
        }
    }

    #[test]
    fn nearest_rank_quantiles() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), Some(2.0));
        assert_eq!(quantile(&v, 0.95), Some(4.0));
        assert_eq!(quantile(&[7.0], 0.5), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn quantiles_within_and_missing_flows() {
        // Six flows with an exact IAT: three estimated with errors 1 %,
        // 5 % and 30 %, one estimated with an exact mean of 0 (skipped),
        // two without an estimate.
        let flows = vec![
            flow(1, only_merged(m(100.0, 10.0), Some(m(101.0, 10.0)))),
            flow(2, only_merged(m(100.0, 10.0), Some(m(95.0, 12.0)))),
            flow(3, only_merged(m(100.0, 0.0), Some(m(130.0, 1.0)))),
            flow(4, only_merged(m(0.0, 0.0), Some(m(5.0, 0.0)))),
            flow(5, only_merged(m(100.0, 10.0), None)),
            flow(6, only_merged(m(100.0, 10.0), None)),
            // No exact sample: not counted at all.
            flow(7, only_merged(Moments::default(), Some(m(50.0, 0.0)))),
        ];
        let d = dist(&flows, iat, Stat::Mean);
        assert_eq!((d.flows, d.with_estimate, d.skipped_zero), (6, 4, 1));
        assert_eq!(d.errors.len(), 3);
        assert!((d.median.unwrap() - 0.05).abs() < 1e-12);
        assert!((d.p90.unwrap() - 0.30).abs() < 1e-12);
        // Over 1 %, 5 %, 30 %, ∞, ∞ the nearest-rank median is the third.
        assert!((d.median_all.unwrap() - 0.30).abs() < 1e-12);
        // Five flows scored (the zero is not): 1/5 within 2 %, 2/5 within
        // 10 % and 20 %.
        assert_eq!(d.within, [0.2, 0.4, 0.4]);
        // The standard deviation: flow 3's exact std is 0 (skipped).
        let s = dist(&flows, iat, Stat::Std);
        assert_eq!((s.skipped_zero, s.errors.len()), (2, 2));
        assert!((s.errors[1] - 0.2).abs() < 1e-12);
    }

    #[test]
    fn no_estimate_at_all_is_an_infinite_median() {
        let flows = vec![flow(1, only_merged(m(100.0, 1.0), None))];
        let d = dist(&flows, iat, Stat::Mean);
        assert_eq!(d.median, None);
        assert_eq!(d.median_all, Some(f64::INFINITY));
        assert_eq!(d.within, [0.0; 3]);
        assert_eq!(dist(&[], iat, Stat::Mean).median_all, None);
    }

    #[test]
    fn breakdown_splits_by_cause() {
        // Truth 100; exact membership without a window limit 110 (+10 %),
        // with the window 90 (−20 %), the Bloom banks 95 (+5 %), the table
        // changes nothing.
        let a = Levels {
            truth: m(100.0, 0.0),
            quant: Some(m(110.0, 0.0)),
            window: Some(m(90.0, 0.0)),
            direct: Some(m(95.0, 0.0)),
            merged: Some(m(95.0, 0.0)),
        };
        let c = a.mean_contributions().unwrap();
        for (got, want) in c.iter().zip([0.1, -0.2, 0.05, 0.0]) {
            assert!((got - want).abs() < 1e-12, "{c:?}");
        }
        // A level without samples takes the value above it: every sample
        // beyond the window, and collisions produced them all.
        let b_ = Levels {
            truth: m(100.0, 0.0),
            quant: Some(m(100.0, 0.0)),
            window: None,
            direct: Some(m(40.0, 0.0)),
            merged: Some(m(40.0, 0.0)),
        };
        assert_eq!(b_.mean_contributions().unwrap(), [0.0, 0.0, -0.6, 0.0]);
        let lost_window = Levels {
            truth: m(100.0, 0.0),
            quant: Some(m(100.0, 0.0)),
            ..Levels::default()
        };
        let lost_other = Levels {
            window: Some(m(100.0, 0.0)),
            ..lost_window
        };
        let flows = vec![
            flow(1, a),
            flow(2, b_),
            flow(3, lost_window),
            flow(4, lost_other),
        ];
        let b = breakdown(&flows, iat);
        assert_eq!((b.flows, b.lost_window, b.lost_other), (2, 1, 1));
        // Flow 1: error −5 %, |c| = 0.1, 0.2, 0.05 (sum 0.35); flow 2:
        // error −60 %, all collision. Mean shares over the two flows.
        let want = [
            0.1 / 0.35 / 2.0,
            0.2 / 0.35 / 2.0,
            (0.05 / 0.35 + 1.0) / 2.0,
            0.0,
        ];
        for (got, w) in b.share.iter().zip(want) {
            assert!((got - w).abs() < 1e-12, "{:?}", b.share);
        }
        assert_eq!(b.explained, 2);
        assert_eq!(b.dominant_name(), "collision");
        // Mass: quantization 0.1, window 0.2, collision 0.05 + 0.6.
        let total = 0.1 + 0.2 + 0.65;
        for (got, w) in b.mass_share.iter().zip([0.1, 0.2, 0.65, 0.0]) {
            assert!((got - w / total).abs() < 1e-12, "{:?}", b.mass_share);
        }
        assert_eq!(
            Breakdown::shares_of(&b.share_sum, b.explained),
            (b.share, b.dominant)
        );
        assert!((b.mean_signed[2] - (0.05 - 0.6) / 2.0).abs() < 1e-12);
        assert!((b.median_abs[1] - 0.0).abs() < 1e-12);
        assert!(b.max_residual < 1e-12);
        // An error within 2 % is not explained: a huge outlier in one flow
        // moves the mass, not the flow-weighted share.
        let small = Levels {
            truth: m(100.0, 0.0),
            quant: Some(m(101.0, 0.0)),
            window: Some(m(101.0, 0.0)),
            direct: Some(m(101.0, 0.0)),
            merged: Some(m(101.0, 0.0)),
        };
        let outlier = Levels {
            truth: m(1.0, 0.0),
            quant: Some(m(50.0, 0.0)),
            window: Some(m(50.0, 0.0)),
            direct: Some(m(50.0, 0.0)),
            merged: Some(m(50.0, 0.0)),
        };
        let mut fl = vec![flow(5, small), flow(6, outlier)];
        for p in 0..3 {
            fl.push(flow(10 + p, b_));
        }
        let b = breakdown(&fl, iat);
        assert_eq!((b.flows, b.explained), (5, 4));
        assert_eq!(b.dominant_name(), "collision");
        assert!((b.share[0] - 0.25).abs() < 1e-12 && (b.share[2] - 0.75).abs() < 1e-12);
        assert!(b.mass_share[0] > 0.9, "{:?}", b.mass_share);
        // Nothing to split: no dominant cause.
        assert_eq!(breakdown(&flows[2..], iat).dominant_name(), "");
    }
}
