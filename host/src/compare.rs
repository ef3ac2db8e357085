//! Estimate against exact on the same packets.
//!
//! * Flows compared: flows with at least one exact IAT sample.
//! * Coverage: estimated IAT samples / exact IAT samples over those flows,
//!   and the fraction of them with at least one estimated sample.
//! * Relative error `|est − exact| / exact` of the IAT mean, the IAT standard
//!   deviation and the RTT mean, over flows where both sides have samples of
//!   that kind; flows whose exact value is 0 are skipped and counted.
//!   Quantiles are nearest-rank: the p-quantile of `n` sorted errors is the
//!   `⌈p·n⌉`-th.
//! * State: the preset's bytes (`Config::state_bytes`) against the exact
//!   tracker's (`ExactTracker::state_bytes`).

use crate::analyze::{EstimateResult, ExactResult};
use bloomtime_model::config::Config;
use bloomtime_model::counters::Counters;
use bloomtime_model::key::FlowKey;
use bloomtime_model::merge::MergedStats;
use bloomtime_model::stats::{estimated_row, exact_row, FlowRow};
use serde::Serialize;
use std::collections::HashMap;
use std::io::{self, Write};

/// Distribution of one relative error over flows.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ErrorSummary {
    /// Flows with a relative error.
    pub flows: usize,
    /// Flows where both had samples but the exact value was 0 (skipped).
    pub skipped_exact_zero: usize,
    pub median: Option<f64>,
    pub p95: Option<f64>,
    pub max: Option<f64>,
}

/// The nearest-rank `p`-quantile of sorted values (shared with the
/// evaluation).
pub use bloomtime_eval::metrics::quantile;

impl ErrorSummary {
    fn of(mut errs: Vec<f64>, skipped: usize) -> (ErrorSummary, Vec<f64>) {
        errs.sort_by(|a, b| a.total_cmp(b));
        (
            ErrorSummary {
                flows: errs.len(),
                skipped_exact_zero: skipped,
                median: quantile(&errs, 0.5),
                p95: quantile(&errs, 0.95),
                max: errs.last().copied(),
            },
            errs,
        )
    }
}

/// One flow seen by both modes.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct FlowPair {
    pub exact: FlowRow,
    pub estimate: Option<FlowRow>,
}

/// The comparison of an estimate with the exact truth.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// Flows in the exact result.
    pub flows_total: usize,
    /// Flows with at least one exact IAT sample.
    pub flows_compared: usize,
    pub exact_iat_samples: u64,
    pub estimated_iat_samples: u64,
    /// `estimated_iat_samples / exact_iat_samples` over the compared flows.
    pub coverage: f64,
    /// Compared flows with at least one estimated IAT sample.
    pub flows_with_estimate: usize,
    pub flow_coverage: f64,
    pub iat_mean: ErrorSummary,
    pub iat_std: ErrorSummary,
    pub rtt_mean: ErrorSummary,
    /// Bytes of the preset's state.
    pub state_bytes: u64,
    /// Bytes of the exact tracker's state.
    pub exact_state_bytes: u64,
    pub aliased: u64,
    /// Sorted relative errors, for plots.
    #[serde(skip)]
    pub iat_mean_errors: Vec<f64>,
    #[serde(skip)]
    pub iat_std_errors: Vec<f64>,
    #[serde(skip)]
    pub rtt_mean_errors: Vec<f64>,
    /// The compared flows, sorted by key.
    #[serde(skip)]
    pub pairs: Vec<FlowPair>,
}

fn rel(est: f64, exact: f64) -> f64 {
    (est - exact).abs() / exact
}

/// Compare merged estimated flows (sample units of `cfg`) with exact flows
/// (nanoseconds). Reusable by evaluation code that has its own flow lists.
pub fn compare_flows(
    cfg: &Config,
    estimated: &[(FlowKey, MergedStats)],
    exact: &[(FlowKey, MergedStats)],
    exact_state_bytes: u64,
    aliased: u64,
) -> Comparison {
    let est: HashMap<FlowKey, &MergedStats> = estimated.iter().map(|(k, s)| (*k, s)).collect();
    let mut c = Comparison {
        flows_total: exact.len(),
        flows_compared: 0,
        exact_iat_samples: 0,
        estimated_iat_samples: 0,
        coverage: 0.0,
        flows_with_estimate: 0,
        flow_coverage: 0.0,
        iat_mean: ErrorSummary::default(),
        iat_std: ErrorSummary::default(),
        rtt_mean: ErrorSummary::default(),
        state_bytes: cfg.state_bytes(),
        exact_state_bytes,
        aliased,
        iat_mean_errors: Vec::new(),
        iat_std_errors: Vec::new(),
        rtt_mean_errors: Vec::new(),
        pairs: Vec::new(),
    };
    let (mut em, mut es, mut er) = (Vec::new(), Vec::new(), Vec::new());
    let (mut zm, mut zs, mut zr) = (0, 0, 0);
    for (k, xs) in exact {
        let x = exact_row(k, xs);
        let e = est.get(k).map(|s| estimated_row(cfg, k, s));
        if x.rtt.n > 0 {
            if let Some(e) = e.filter(|e| e.rtt.n > 0) {
                if x.rtt.mean_us > 0.0 {
                    er.push(rel(e.rtt.mean_us, x.rtt.mean_us));
                } else {
                    zr += 1;
                }
            }
        }
        if x.iat.n == 0 {
            continue;
        }
        c.flows_compared += 1;
        c.exact_iat_samples += x.iat.n;
        if let Some(e) = &e {
            c.estimated_iat_samples += e.iat.n;
            if e.iat.n > 0 {
                c.flows_with_estimate += 1;
                if x.iat.mean_us > 0.0 {
                    em.push(rel(e.iat.mean_us, x.iat.mean_us));
                } else {
                    zm += 1;
                }
                // A preset that keeps no second moment has no std to compare.
                if !e.iat.std_us.is_finite() {
                } else if x.iat.std_us > 0.0 {
                    es.push(rel(e.iat.std_us, x.iat.std_us));
                } else {
                    zs += 1;
                }
            }
        }
        c.pairs.push(FlowPair {
            exact: x,
            estimate: e,
        });
    }
    if c.exact_iat_samples > 0 {
        c.coverage = c.estimated_iat_samples as f64 / c.exact_iat_samples as f64;
    }
    if c.flows_compared > 0 {
        c.flow_coverage = c.flows_with_estimate as f64 / c.flows_compared as f64;
    }
    (c.iat_mean, c.iat_mean_errors) = ErrorSummary::of(em, zm);
    (c.iat_std, c.iat_std_errors) = ErrorSummary::of(es, zs);
    (c.rtt_mean, c.rtt_mean_errors) = ErrorSummary::of(er, zr);
    c
}

/// Compare the two results of one pass.
pub fn compare(est: &EstimateResult, exact: &ExactResult) -> Comparison {
    compare_flows(
        &est.cfg,
        &est.flows,
        &exact.flows,
        exact.state_bytes,
        est.aliased,
    )
}

/// A full compare report: what was compared, then the comparison.
#[derive(Serialize)]
pub struct CompareReport<'a> {
    pub tool: &'static str,
    pub version: &'static str,
    pub preset: &'a str,
    pub config: Config,
    pub traces: Vec<String>,
    pub packets: u64,
    pub counters: Counters,
    pub comparison: &'a Comparison,
}

fn pct(v: Option<f64>) -> String {
    match v {
        Some(v) => format!("{:.2} %", v * 100.0),
        None => "-".into(),
    }
}

/// The comparison for people.
pub fn write_table<W: Write>(w: &mut W, r: &CompareReport) -> io::Result<()> {
    let c = r.comparison;
    writeln!(
        w,
        "compare: preset {} on {} trace(s), {} packets",
        r.preset,
        r.traces.len(),
        r.packets
    )?;
    writeln!(
        w,
        "flows compared (>= 1 exact IAT sample): {} of {}",
        c.flows_compared, c.flows_total
    )?;
    writeln!(
        w,
        "IAT coverage: {} estimated / {} exact samples ({:.1} %); flows with an estimate: {} of {} ({:.1} %)",
        c.estimated_iat_samples,
        c.exact_iat_samples,
        c.coverage * 100.0,
        c.flows_with_estimate,
        c.flows_compared,
        c.flow_coverage * 100.0
    )?;
    writeln!(
        w,
        "{:<22} {:>6} {:>14} {:>10} {:>10} {:>10}",
        "relative error", "flows", "skipped (=0)", "median", "p95", "max"
    )?;
    for (name, s) in [
        ("IAT mean", &c.iat_mean),
        ("IAT std", &c.iat_std),
        ("RTT mean", &c.rtt_mean),
    ] {
        writeln!(
            w,
            "{:<22} {:>6} {:>14} {:>10} {:>10} {:>10}",
            name,
            s.flows,
            s.skipped_exact_zero,
            pct(s.median),
            pct(s.p95),
            pct(s.max)
        )?;
    }
    let ratio = if c.state_bytes > 0 {
        c.exact_state_bytes as f64 / c.state_bytes as f64
    } else {
        0.0
    };
    writeln!(
        w,
        "state: {} bytes (preset {}) vs {} bytes (exact tracker), exact/preset = {:.2}",
        c.state_bytes, r.preset, c.exact_state_bytes, ratio
    )?;
    writeln!(w, "aliased merges: {}", c.aliased)
}
