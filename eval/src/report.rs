//! The evaluation's outputs: `results.csv` (one row per trace ×
//! configuration), the Pareto fronts, capacity on the load ladder, the
//! paper's claims in our setup, proposed presets, `summary.md` and
//! `summary.json`.

use super::attrib::CAUSES;
use super::corpus::{Family, Trace};
use super::metrics::{Breakdown, Dist, Figures, THRESHOLDS};
use super::sweep::Candidate;
use super::{plots, Evaluation, Row};
use crate::error::Error;
use crate::metrics::quantile;
use serde::Serialize;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| {
        if x.is_finite() {
            format!("{x:.6}")
        } else {
            "inf".into()
        }
    })
}

fn f6(x: f64) -> String {
    format!("{x:.6}")
}

/// The columns of `results.csv`, in order, with their values for one row.
pub fn csv_fields(c: &Candidate, t: &Trace, f: &Figures) -> Vec<(String, String)> {
    let cfg = c.config();
    let mut v: Vec<(String, String)> = Vec::new();
    let mut put = |k: &str, val: String| v.push((k.to_string(), val));
    put("trace", t.name.clone());
    put("family", t.family.name().into());
    put(
        "load_conversations",
        match t.family {
            Family::Load(n) => n.to_string(),
            _ => String::new(),
        },
    );
    put("config", c.label.clone());
    put("group", c.group.clone());
    put("design", c.design_name().into());
    put("counterfactual_of", c.of.clone().unwrap_or_default());
    put("levels", c.levels());
    put("time_unit_log2_ns", cfg.time_unit_log2_ns.to_string());
    put("level_count", cfg.level_count().to_string());
    put("bucket_log2", cfg.level(0).bucket_log2.to_string());
    put("buckets", cfg.level(0).buckets.to_string());
    put("banks", cfg.banks.to_string());
    put("lines_log2", cfg.lines_log2.to_string());
    put("slots_log2", cfg.slots_log2.to_string());
    put("sample_frac_bits", cfg.sample_frac_bits.to_string());
    put("bucket_us", format!("{:.3}", cfg.bucket_ns() as f64 / 1e3));
    put("window_ms", format!("{:.3}", c.window_ns() as f64 / 1e6));
    put("state_bytes", c.state_bytes().to_string());
    put("board_brams", c.board_brams().to_string());
    put("bank_bytes", c.bank_bytes().to_string());
    put(
        "table_bytes",
        (c.state_bytes() - c.bank_bytes()).to_string(),
    );
    put("records", f.records.to_string());
    put("flows", f.flows.to_string());
    let dist = |put: &mut dyn FnMut(&str, String), p: &str, d: &Dist, within: bool| {
        put(&format!("{p}_flows"), d.flows.to_string());
        put(&format!("{p}_flows_estimated"), d.with_estimate.to_string());
        put(&format!("{p}_median"), opt(d.median));
        put(&format!("{p}_p90"), opt(d.p90));
        put(&format!("{p}_median_all"), opt(d.median_all));
        if within {
            for (i, t) in THRESHOLDS.iter().enumerate() {
                put(
                    &format!("{p}_within_{}pct", (t * 100.0).round()),
                    f6(d.within[i]),
                );
            }
        }
    };
    dist(&mut put, "iat_mean", &f.iat_mean, true);
    dist(&mut put, "iat_std", &f.iat_std, false);
    dist(&mut put, "rtt_mean", &f.rtt_mean, true);
    put("phantom_flows", f.phantom_flows.to_string());
    put("iat_sample_ratio", f6(f.iat_sample_ratio));
    let bd = |put: &mut dyn FnMut(&str, String), p: &str, b: &Breakdown| {
        put(&format!("{p}_dominant"), b.dominant_name().into());
        for (k, name) in CAUSES.iter().enumerate() {
            put(&format!("{p}_share_{name}"), f6(b.share[k]));
        }
        put(&format!("{p}_flows_explained"), b.explained.to_string());
        for (k, name) in CAUSES.iter().enumerate() {
            put(&format!("{p}_mass_share_{name}"), f6(b.mass_share[k]));
        }
        for (k, name) in CAUSES.iter().enumerate() {
            put(&format!("{p}_median_abs_{name}"), f6(b.median_abs[k]));
        }
        for (k, name) in CAUSES.iter().enumerate() {
            put(&format!("{p}_mean_signed_{name}"), f6(b.mean_signed[k]));
        }
        put(&format!("{p}_flows_lost_window"), b.lost_window.to_string());
    };
    bd(&mut put, "iat", &f.iat_breakdown);
    bd(&mut put, "rtt", &f.rtt_breakdown);
    let s = &f.run;
    for (p, c) in [("iat", &s.iat), ("rtt", &s.rtt)] {
        put(&format!("{p}_samples_exact"), c.exact.to_string());
        put(&format!("{p}_samples_estimated"), c.estimated.to_string());
        put(&format!("{p}_samples_clean"), c.clean.to_string());
        put(&format!("{p}_samples_collision"), c.collision.to_string());
        put(
            &format!("{p}_samples_window_miss"),
            c.window_miss.to_string(),
        );
        put(
            &format!("{p}_samples_window_collision"),
            c.window_collision.to_string(),
        );
        put(&format!("{p}_samples_phantom"), c.phantom.to_string());
    }
    put("opens", s.opens.to_string());
    put("evicts", s.evicts.to_string());
    put("evict_collision", s.evict_collision.to_string());
    put(
        "export_bytes_per_record",
        if f.records > 0 && c.design_name() == "golden" {
            format!("{:.3}", s.export_bytes as f64 / f.records as f64)
        } else {
            String::new()
        },
    );
    put("aliased", s.aliased.to_string());
    put("exact_state_bytes", t.exact_state_bytes.to_string());
    put(
        "exact_bytes_per_flow",
        if t.exact_flows() > 0 {
            format!("{:.1}", t.exact_state_bytes as f64 / t.exact_flows() as f64)
        } else {
            String::new()
        },
    );
    v
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Write `results.csv`.
pub fn write_csv(ev: &Evaluation, path: &Path) -> Result<(), Error> {
    let mut out = String::new();
    let mut header: Option<Vec<String>> = None;
    for r in &ev.rows {
        let fields = csv_fields(&ev.candidates[r.cand], &ev.traces[r.trace], &r.fig);
        let names: Vec<String> = fields.iter().map(|f| f.0.clone()).collect();
        match &header {
            None => {
                out.push_str(&names.join(","));
                out.push('\n');
                header = Some(names);
            }
            Some(h) => {
                if *h != names {
                    return Err(Error::Invariant(
                        "results.csv rows disagree on columns".into(),
                    ));
                }
            }
        }
        let cells: Vec<String> = fields.iter().map(|f| csv_cell(&f.1)).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    let mut f = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    f.write_all(out.as_bytes()).map_err(|e| Error::io(path, e))
}

/// Rows of one candidate.
pub fn rows_of(ev: &Evaluation, cand: usize) -> impl Iterator<Item = &Row> + '_ {
    ev.rows.iter().filter(move |r| r.cand == cand)
}

// ------------------------------------------------------------- analysis --

/// One configuration's pooled figures on an objective's traces.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
    #[serde(skip)]
    pub cand: usize,
    pub config: String,
    /// The golden model as built (not a counterfactual or a variant).
    pub golden: bool,
    pub bytes: u64,
    /// iCE40 block RAMs of core and board.
    pub brams: u64,
    /// Core and board fit the HX8K's block RAM.
    pub fits_hx8k: bool,
    /// Several levels per line.
    pub multi_level: bool,
    /// Median IAT-mean error, flows without an estimate counted as infinite.
    pub median_all: f64,
    /// Median over flows with an estimate (the `compare` definition).
    pub median: Option<f64>,
    pub p90: Option<f64>,
    pub flows: usize,
    pub with_estimate: usize,
    pub within: [f64; 3],
    pub rtt_median: Option<f64>,
    /// Median RTT-mean error with missing estimates infinite; `None`
    /// without RTT flows.
    pub rtt_median_all: Option<f64>,
    pub rtt_flows: usize,
    /// Bytes of exported events per record (golden model only).
    pub export_bytes_per_record: Option<f64>,
}

impl Point {
    /// The worse of the IAT-mean and RTT-mean medians (missing estimates
    /// infinite): a configuration is as good as its worse metric.
    pub fn balanced(&self) -> f64 {
        self.median_all.max(self.rtt_median_all.unwrap_or(0.0))
    }
}

/// A set of traces whose flows are pooled into one figure per configuration.
#[derive(Clone, Debug, Serialize)]
pub struct Objective {
    pub name: String,
    pub title: String,
    pub traces: Vec<String>,
    pub points: Vec<Point>,
    /// The golden model's Pareto front on the IAT-mean error: no other
    /// configuration is both smaller and more accurate.
    pub front: Vec<Point>,
    /// The same on the worse of the IAT-mean and RTT-mean errors.
    pub balanced_front: Vec<Point>,
}

/// Flows a configuration tracks on the load ladder at each threshold.
#[derive(Clone, Debug, Serialize)]
pub struct CapPoint {
    #[serde(skip)]
    pub cand: usize,
    pub config: String,
    pub golden: bool,
    pub bytes: u64,
    /// Flows (with an exact IAT sample) of the largest load step up to
    /// which every step has a median error within the threshold.
    pub flows: [usize; 3],
    /// The largest step passed: the capacity is at least `flows`.
    pub at_ceiling: [bool; 3],
}

impl CapPoint {
    /// Flows per KiB of state at threshold `k`.
    pub fn per_kib(&self, k: usize) -> f64 {
        self.flows[k] as f64 / (self.bytes as f64 / 1024.0)
    }
}

/// One scaled-down `paper` configuration and what it says about the
/// full-size preset.
#[derive(Clone, Debug, Serialize)]
pub struct PaperScaledPoint {
    pub config: String,
    pub lines_log2: u32,
    pub bytes: u64,
    pub flows: [usize; 3],
    pub at_ceiling: [bool; 3],
    /// `flows × 2^(18 − lines_log2)`: the same load per line on the
    /// preset's 2^18 lines per bank; `None` at 0 or at the ladder's ceiling.
    pub extrapolated: [Option<u64>; 3],
}

/// The paper's claims restated in our setup.
#[derive(Clone, Debug, Serialize)]
pub struct PaperClaims {
    pub paper_bytes: u64,
    pub paper_bank_bytes: u64,
    /// The `paper` preset on 2000 conversations: flows with an exact IAT,
    /// median IAT-mean error (missing = ∞), share of flows within 20 %.
    pub load2000_flows: usize,
    pub load2000_median_all: Option<f64>,
    pub load2000_within20: Option<f64>,
    pub load2000_rtt_median: Option<f64>,
    pub scaled: Vec<PaperScaledPoint>,
    /// Per threshold: the extrapolation from the largest scaled
    /// configuration with a capacity inside the ladder.
    pub paper_flows: [Option<u64>; 3],
    pub exact_bytes_per_flow: f64,
    /// `paper_flows` per byte of the preset's state, over the exact
    /// tracker's flows per byte.
    pub paper_vs_exact: [Option<f64>; 3],
    /// The same over the bank bytes only (the paper's 4 MB is its bucket
    /// memory).
    pub paper_banks_vs_exact: [Option<f64>; 3],
    /// The best golden configuration on the ladder (capacity inside the
    /// ladder) per threshold: label and flows per KiB over the exact
    /// tracker's.
    pub best_vs_exact: [Option<(String, f64)>; 3],
}

/// A configuration proposed as a preset.
#[derive(Clone, Debug, Serialize)]
pub struct Proposal {
    pub name: String,
    pub why: String,
    pub config: String,
    pub bytes: u64,
    pub objective: String,
    pub iat_median_all: f64,
    pub rtt_median_all: Option<f64>,
    pub export_bytes_per_record: Option<f64>,
}

/// Error shares by cause of one configuration pooled over a family of
/// traces (mean per-flow shares over the family's explained flows).
#[derive(Clone, Debug, Serialize)]
pub struct FamilyCauses {
    pub config: String,
    pub family: String,
    pub iat_explained: usize,
    pub iat_share: [f64; 4],
    pub iat_dominant: String,
    pub rtt_explained: usize,
    pub rtt_share: [f64; 4],
    pub rtt_dominant: String,
}

/// Everything the report derives from the rows.
#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    pub objectives: Vec<Objective>,
    pub capacity: Vec<CapPoint>,
    /// Flows of the largest load step.
    pub load_flows_max: usize,
    /// The exact tracker's bytes per flow on the largest load step.
    pub exact_bytes_per_flow: f64,
    pub paper: Option<PaperClaims>,
    pub causes: Vec<FamilyCauses>,
    pub proposals: Vec<Proposal>,
}

fn finite_or_inf(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::INFINITY)
}

/// Median over `errors` plus `missing` infinite errors.
fn median_with_missing(errors: &[f64], missing: usize) -> Option<f64> {
    let mut all = errors.to_vec();
    all.extend(std::iter::repeat_n(f64::INFINITY, missing));
    all.sort_by(|a, b| a.total_cmp(b));
    quantile(&all, 0.5)
}

fn pooled(ev: &Evaluation, cand: usize, traces: &[usize]) -> Option<Point> {
    let mut errs: Vec<f64> = Vec::new();
    let mut rtt: Vec<f64> = Vec::new();
    let (mut flows, mut with, mut zero) = (0, 0, 0);
    let (mut rtt_flows, mut rtt_with) = (0, 0);
    let (mut export, mut records) = (0u64, 0u64);
    let mut any = false;
    for &t in traces {
        let Some(r) = ev.row(cand, t) else { continue };
        any = true;
        let d = &r.fig.iat_mean;
        errs.extend_from_slice(&d.errors);
        flows += d.flows;
        with += d.with_estimate;
        zero += d.skipped_zero;
        let d = &r.fig.rtt_mean;
        rtt.extend_from_slice(&d.errors);
        rtt_flows += d.flows;
        rtt_with += d.with_estimate;
        export += r.fig.run.export_bytes;
        records += r.fig.records;
    }
    if !any {
        return None;
    }
    errs.sort_by(|a, b| a.total_cmp(b));
    rtt.sort_by(|a, b| a.total_cmp(b));
    let scored = flows - zero;
    let c = &ev.candidates[cand];
    Some(Point {
        cand,
        config: c.label.clone(),
        golden: c.design_name() == "golden",
        bytes: c.state_bytes(),
        brams: c.board_brams(),
        fits_hx8k: c.fits_hx8k(),
        multi_level: c.multi_level(),
        median_all: finite_or_inf(median_with_missing(&errs, flows - with)),
        median: quantile(&errs, 0.5),
        p90: quantile(&errs, 0.9),
        flows,
        with_estimate: with,
        within: THRESHOLDS.map(|t| {
            if scored == 0 {
                0.0
            } else {
                errs.iter().filter(|e| **e <= t).count() as f64 / scored as f64
            }
        }),
        rtt_median: quantile(&rtt, 0.5),
        rtt_median_all: median_with_missing(&rtt, rtt_flows - rtt_with),
        rtt_flows,
        export_bytes_per_record: (c.design_name() == "golden" && records > 0)
            .then(|| export as f64 / records as f64),
    })
}

/// The Pareto front (bytes, `score`) of the golden model's points.
pub fn pareto(ev: &Evaluation, points: &[Point], score: fn(&Point) -> f64) -> Vec<Point> {
    let mut g: Vec<&Point> = points
        .iter()
        .filter(|p| ev.candidates[p.cand].design_name() == "golden" && score(p).is_finite())
        .collect();
    g.sort_by(|a, b| a.bytes.cmp(&b.bytes).then(score(a).total_cmp(&score(b))));
    let mut front: Vec<Point> = Vec::new();
    for p in g {
        if front.last().is_none_or(|l| score(p) < score(l)) {
            front.push(p.clone());
        }
    }
    front
}

/// The load ladder: (conversations, trace index), smallest first.
fn ladder(ev: &Evaluation) -> Vec<(u32, usize)> {
    let mut l: Vec<(u32, usize)> = ev
        .traces
        .iter()
        .enumerate()
        .filter_map(|(i, t)| match t.family {
            Family::Load(n) => Some((n, i)),
            _ => None,
        })
        .collect();
    l.sort();
    l
}

/// The load-ladder capacity of one configuration.
fn capacity_of(ev: &Evaluation, ladder: &[(u32, usize)], ci: usize) -> ([usize; 3], [bool; 3]) {
    let mut flows = [0usize; 3];
    let mut at_ceiling = [false; 3];
    for (k, th) in THRESHOLDS.iter().enumerate() {
        for (j, &(_, ti)) in ladder.iter().enumerate() {
            let Some(r) = ev.row(ci, ti) else { break };
            let m = r.fig.iat_mean.median_all.unwrap_or(f64::INFINITY);
            if m > *th {
                break;
            }
            flows[k] = r.fig.iat_mean.flows;
            at_ceiling[k] = j + 1 == ladder.len();
        }
    }
    (flows, at_ceiling)
}

/// The load-ladder capacity of every configuration but the counterfactuals.
fn capacity(ev: &Evaluation) -> (Vec<CapPoint>, usize, f64) {
    let ladder = ladder(ev);
    let Some(&(_, top)) = ladder.last() else {
        return (Vec::new(), 0, 0.0);
    };
    let t = &ev.traces[top];
    let bpf = if t.exact_flows() > 0 {
        t.exact_state_bytes as f64 / t.exact_flows() as f64
    } else {
        0.0
    };
    let max_flows = ladder
        .iter()
        .filter_map(|&(_, ti)| ev.rows.iter().find(|r| r.trace == ti))
        .map(|r| r.fig.iat_mean.flows)
        .max()
        .unwrap_or(0);
    let mut out = Vec::new();
    for (ci, c) in ev.candidates.iter().enumerate() {
        if c.counterfactual().is_some() {
            continue;
        }
        let (flows, at_ceiling) = capacity_of(ev, &ladder, ci);
        out.push(CapPoint {
            cand: ci,
            config: c.label.clone(),
            golden: c.design_name() == "golden",
            bytes: c.state_bytes(),
            flows,
            at_ceiling,
        });
    }
    (out, max_flows, bpf)
}

/// Lines per bank of the `paper` preset, as a power of two.
const PAPER_LINES_LOG2: u32 = bloomtime_model::config::PAPER.lines_log2;

fn paper_claims(ev: &Evaluation, caps: &[CapPoint], bpf: f64) -> Option<PaperClaims> {
    let pi = ev.cand_index("paper")?;
    let paper = &ev.candidates[pi];
    let mut scaled: Vec<PaperScaledPoint> = caps
        .iter()
        .filter(|c| ev.candidates[c.cand].group == "paper-scaled")
        .map(|c| {
            let l = ev.candidates[c.cand].config().lines_log2;
            let factor = 1u64 << PAPER_LINES_LOG2.saturating_sub(l);
            PaperScaledPoint {
                config: c.config.clone(),
                lines_log2: l,
                bytes: c.bytes,
                flows: c.flows,
                at_ceiling: c.at_ceiling,
                extrapolated: [0, 1, 2].map(|k| {
                    (c.flows[k] > 0 && !c.at_ceiling[k]).then(|| c.flows[k] as u64 * factor)
                }),
            }
        })
        .collect();
    scaled.sort_by_key(|s| s.lines_log2);
    let paper_flows = [0, 1, 2].map(|k| scaled.iter().rev().find_map(|s| s.extrapolated[k]));
    let per_byte_exact = if bpf > 0.0 { 1.0 / bpf } else { 0.0 };
    let vs = |bytes: u64| {
        paper_flows.map(|f| {
            f.filter(|_| per_byte_exact > 0.0)
                .map(|f| f as f64 / bytes as f64 / per_byte_exact)
        })
    };
    let load2000 = ev
        .traces
        .iter()
        .position(|t| t.family == Family::Load(2000))
        .and_then(|t| ev.row(pi, t));
    let best_vs_exact = [0, 1, 2].map(|k| {
        caps.iter()
            .filter(|c| c.golden && c.flows[k] > 0 && !c.at_ceiling[k])
            .max_by(|a, b| a.per_kib(k).total_cmp(&b.per_kib(k)))
            .filter(|_| per_byte_exact > 0.0)
            .map(|c| (c.config.clone(), c.per_kib(k) / (1024.0 * per_byte_exact)))
    });
    Some(PaperClaims {
        paper_bytes: paper.state_bytes(),
        paper_bank_bytes: paper.bank_bytes(),
        load2000_flows: load2000.map_or(0, |r| r.fig.iat_mean.flows),
        load2000_median_all: load2000.and_then(|r| r.fig.iat_mean.median_all),
        load2000_within20: load2000.map(|r| r.fig.iat_mean.within[2]),
        load2000_rtt_median: load2000.and_then(|r| r.fig.rtt_mean.median),
        scaled,
        paper_flows,
        exact_bytes_per_flow: bpf,
        paper_vs_exact: vs(paper.state_bytes()),
        paper_banks_vs_exact: vs(paper.bank_bytes()),
        best_vs_exact,
    })
}

/// Error causes of the presets pooled per trace family.
fn family_causes(ev: &Evaluation) -> Vec<FamilyCauses> {
    let mut out = Vec::new();
    for (ci, c) in ev.candidates.iter().enumerate() {
        if c.group != "preset" {
            continue;
        }
        for fam in ["real", "generated", "load"] {
            let (mut iat, mut rtt) = ([0.0f64; 4], [0.0f64; 4]);
            let (mut ni, mut nr) = (0, 0);
            let mut any = false;
            for r in rows_of(ev, ci).filter(|r| ev.traces[r.trace].family.name() == fam) {
                any = true;
                for k in 0..4 {
                    iat[k] += r.fig.iat_breakdown.share_sum[k];
                    rtt[k] += r.fig.rtt_breakdown.share_sum[k];
                }
                ni += r.fig.iat_breakdown.explained;
                nr += r.fig.rtt_breakdown.explained;
            }
            if !any {
                continue;
            }
            let (iat_share, di) = Breakdown::shares_of(&iat, ni);
            let (rtt_share, dr) = Breakdown::shares_of(&rtt, nr);
            out.push(FamilyCauses {
                config: c.label.clone(),
                family: fam.into(),
                iat_explained: ni,
                iat_share,
                iat_dominant: di.map_or("", |i| CAUSES[i]).into(),
                rtt_explained: nr,
                rtt_share,
                rtt_dominant: dr.map_or("", |i| CAUSES[i]).into(),
            });
        }
    }
    out
}

/// The HX8K's block RAMs: what core plus board may use.
pub const HX8K_BLOCKS: u64 = bloomtime_model::config::bram::HX8K_BLOCKS;

fn proposal(name: &str, why: String, o: &Objective, p: &Point) -> Proposal {
    Proposal {
        name: name.into(),
        why,
        config: p.config.clone(),
        bytes: p.bytes,
        objective: o.name.clone(),
        iat_median_all: p.median_all,
        rtt_median_all: p.rtt_median_all,
        export_bytes_per_record: p.export_bytes_per_record,
    }
}

fn proposals(ev: &Evaluation, an: &Analysis) -> Vec<Proposal> {
    let mut out = Vec::new();
    let obj = |n: &str| an.objectives.iter().find(|o| o.name == n);
    if let Some(o) = obj("mixed") {
        // The best the board's block RAM allows: among the multi-level
        // designs that meet its range and fit its block RAM, the best
        // worse-of IAT and RTT mean, then the fewest blocks. (The board's
        // preset is this design on one bank, for its clock: docs/EVAL.md.)
        if let Some(p) = o
            .points
            .iter()
            .filter(|p| p.golden && p.multi_level && p.fits_hx8k && p.balanced().is_finite())
            .filter(|p| {
                let c = ev.candidates[p.cand].config();
                c.bucket_ns() <= super::sweep::HX8K_FINEST_NS
                    && c.window_ns() >= super::sweep::HX8K_WINDOW_NS
            })
            .min_by(|a, b| {
                a.balanced()
                    .total_cmp(&b.balanced())
                    .then(a.brams.cmp(&b.brams))
            })
        {
            out.push(proposal(
                "hx8k-v2",
                format!(
                    "the best the block RAM allows (the board, at 100 MHz, runs its levels on one bank: docs/EVAL.md): best worse-of IAT and RTT mean on {} of the multi-level designs that resolve 16 us, see 8 s and fit the HX8K's {HX8K_BLOCKS} block RAMs ({} blocks)",
                    o.title, p.brams
                ),
                o,
                p,
            ));
        }
        if let Some(p) = o.front.iter().rev().find(|p| p.fits_hx8k) {
            out.push(proposal(
                "hx8k-iat",
                format!(
                    "most accurate IAT mean within the HX8K's {HX8K_BLOCKS} block RAMs on {}",
                    o.title
                ),
                o,
                p,
            ));
        }
        if let Some(p) = o.balanced_front.iter().rev().find(|p| p.fits_hx8k) {
            out.push(proposal(
                "hx8k-balanced",
                format!(
                    "best worse-of IAT and RTT mean within the HX8K's {HX8K_BLOCKS} block RAMs on {}",
                    o.title
                ),
                o,
                p,
            ));
        }
    }
    // Within the budget, the best worst case over the mixed traffic and
    // 2000 conversations, IAT and RTT alike.
    if let (Some(mx), Some(ld)) = (obj("mixed"), obj("load2000")) {
        let worst = |p: &Point, q: &Point| p.balanced().max(q.balanced());
        let best = mx
            .points
            .iter()
            .filter(|p| p.fits_hx8k && p.golden && p.balanced().is_finite())
            .filter_map(|p| ld.points.iter().find(|q| q.cand == p.cand).map(|q| (p, q)))
            .min_by(|a, b| worst(a.0, a.1).total_cmp(&worst(b.0, b.1)));
        if let Some((p, q)) = best {
            out.push(proposal(
                "hx8k-robust",
                format!(
                    "best worst case of IAT and RTT over {} and {} within the HX8K's {HX8K_BLOCKS} block RAMs; on 2000 conversations IAT {} / RTT {}",
                    mx.title,
                    ld.title,
                    pc(Some(q.median_all)),
                    pc(q.rtt_median_all)
                ),
                mx,
                p,
            ));
        }
    }
    for (name, objective) in [("mixed", "mixed"), ("2000", "load2000")] {
        let Some(o) = obj(objective) else { continue };
        for th in THRESHOLDS.iter().rev() {
            if let Some(p) = o.front.iter().find(|p| p.median_all <= *th) {
                out.push(proposal(
                    &format!("{name}-{:.0}pct", th * 100.0),
                    format!(
                        "smallest with median IAT-mean error <= {:.0} % on {}",
                        th * 100.0,
                        o.title
                    ),
                    o,
                    p,
                ));
            }
        }
    }
    // The densest tracker on the ladder at 20 %, and what it scores elsewhere.
    if let (Some(c), Some(o)) = (
        an.capacity
            .iter()
            .filter(|c| c.golden && c.flows[2] > 0 && !c.at_ceiling[2])
            .max_by(|a, b| a.per_kib(2).total_cmp(&b.per_kib(2))),
        obj("mixed"),
    ) {
        if let Some(p) = o.points.iter().find(|p| p.cand == c.cand) {
            out.push(proposal(
                "dense-20pct",
                format!(
                    "most flows per KiB at <= 20 % median IAT-mean error on the load ladder ({:.0} flows/KiB); scores on {}",
                    c.per_kib(2),
                    o.title
                ),
                o,
                p,
            ));
        }
    }
    out
}

/// Derive the objectives, fronts, capacity, the paper's claims and proposals.
pub fn analyse(ev: &Evaluation) -> Analysis {
    let by = |f: &dyn Fn(&Family) -> bool| -> Vec<usize> {
        (0..ev.traces.len())
            .filter(|&i| f(&ev.traces[i].family))
            .collect()
    };
    let sets: Vec<(&str, &str, Vec<usize>)> = vec![
        ("real", "real captures", by(&|f| *f == Family::Real)),
        (
            "generated",
            "generated traffic kinds",
            by(&|f| *f == Family::Generated),
        ),
        (
            "mixed",
            "real captures and generated traffic kinds",
            by(&|f| matches!(f, Family::Real | Family::Generated)),
        ),
        (
            "load2000",
            "2000 conversations (load ladder)",
            by(&|f| *f == Family::Load(2000)),
        ),
        (
            "micro",
            "microsecond RTTs (pings and handshakes, 5-200 us)",
            by(&|f| *f == Family::Micro),
        ),
    ];
    let mut objectives = Vec::new();
    for (name, title, traces) in sets {
        if traces.is_empty() {
            continue;
        }
        let points: Vec<Point> = (0..ev.candidates.len())
            .filter_map(|c| pooled(ev, c, &traces))
            .collect();
        objectives.push(Objective {
            name: name.into(),
            title: title.into(),
            traces: traces.iter().map(|&t| ev.traces[t].name.clone()).collect(),
            front: pareto(ev, &points, |p| p.median_all),
            balanced_front: pareto(ev, &points, Point::balanced),
            points,
        });
    }
    let (capacity, load_flows_max, exact_bytes_per_flow) = capacity(ev);
    let mut an = Analysis {
        paper: paper_claims(ev, &capacity, exact_bytes_per_flow),
        causes: family_causes(ev),
        objectives,
        capacity,
        load_flows_max,
        exact_bytes_per_flow,
        proposals: Vec::new(),
    };
    an.proposals = proposals(ev, &an);
    an
}

fn pc(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{:.1} %", x * 100.0),
        Some(_) => "∞".into(),
        None => "–".into(),
    }
}

fn shares(s: &[f64; 4]) -> String {
    s.iter()
        .map(|x| format!("{:.0}", x * 100.0))
        .collect::<Vec<_>>()
        .join("/")
}

fn bytes_per_record(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{x:.1}"))
}

fn point_table(m: &mut String, ev: &Evaluation, pts: &[&Point]) {
    let _ = writeln!(
        m,
        "| config | bytes | IAT median_all | IAT median | p90 | ≤ 20 % | flows estimated | RTT median_all | export B/record |"
    );
    let _ = writeln!(m, "|---|---|---|---|---|---|---|---|---|");
    for p in pts {
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} | {} | {:.0} % | {} of {} | {} | {} |",
            p.config,
            p.bytes,
            pc(Some(p.median_all)),
            pc(p.median),
            pc(p.p90),
            p.within[2] * 100.0,
            p.with_estimate,
            p.flows,
            pc(p.rtt_median_all),
            bytes_per_record(p.export_bytes_per_record)
        );
    }
    let _ = ev;
    let _ = writeln!(m);
}

fn per_trace_table(m: &mut String, ev: &Evaluation, c: usize) {
    let cand = &ev.candidates[c];
    let _ = writeln!(
        m,
        "### {} ({} bytes, window {:.1} ms, bucket {:.1} us)\n",
        cand.label,
        cand.state_bytes(),
        cand.window_ns() as f64 / 1e6,
        cand.config().bucket_ns() as f64 / 1e3
    );
    let _ = writeln!(
        m,
        "| trace | flows | estimated | IAT median | p90 | median_all | ≤2/10/20 % | IAT cause (quant/window/coll/table %) | phantom flows | RTT flows | RTT median | RTT cause (%) |"
    );
    let _ = writeln!(m, "|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows_of(ev, c) {
        let f = &r.fig;
        let d = &f.iat_mean;
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} | {} | {} | {:.0}/{:.0}/{:.0} | {} ({}) | {} | {} | {} | {} ({}) |",
            ev.traces[r.trace].name,
            d.flows,
            d.with_estimate,
            pc(d.median),
            pc(d.p90),
            pc(d.median_all),
            d.within[0] * 100.0,
            d.within[1] * 100.0,
            d.within[2] * 100.0,
            f.iat_breakdown.dominant_name(),
            shares(&f.iat_breakdown.share),
            f.phantom_flows,
            f.rtt_mean.flows,
            pc(f.rtt_mean.median),
            f.rtt_breakdown.dominant_name(),
            shares(&f.rtt_breakdown.share),
        );
    }
    let _ = writeln!(m);
}

/// `summary.md`: the tables the README and docs/EVAL.md quote.
pub fn summary(ev: &Evaluation, an: &Analysis) -> String {
    let mut m = String::new();
    let golden_runs = ev
        .rows
        .iter()
        .filter(|r| ev.candidates[r.cand].counterfactual().is_none())
        .count();
    let _ = writeln!(
        m,
        "# bloomtime eval: summary\n\n{} configurations × {} traces: {} runs and {} counterfactual runs; traces loaded in {:.1} s, runs took {:.1} s.\n",
        ev.candidates.iter().filter(|c| c.counterfactual().is_none()).count(),
        ev.traces.len(),
        golden_runs,
        ev.rows.len() - golden_runs,
        ev.seconds_load,
        ev.seconds_run
    );
    let _ = writeln!(
        m,
        "Errors are relative errors of per-flow means. `median` is over flows with an estimate (as `bloomtime compare`); `median_all` counts flows without an estimate as infinite error. Causes (quantization/window/collision/table, %): the mean per-flow share of each cause over the flows whose error exceeds 2 % (docs/EVAL.md).\n"
    );

    let _ = writeln!(
        m,
        "## Error causes by traffic (presets, pooled per trace family)\n"
    );
    let _ = writeln!(
        m,
        "| config | traces | IAT flows > 2 % | IAT dominant | IAT shares (%) | RTT flows > 2 % | RTT dominant | RTT shares (%) |"
    );
    let _ = writeln!(m, "|---|---|---|---|---|---|---|---|");
    for c in &an.causes {
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            c.config,
            c.family,
            c.iat_explained,
            c.iat_dominant,
            shares(&c.iat_share),
            c.rtt_explained,
            c.rtt_dominant,
            shares(&c.rtt_share)
        );
    }
    let _ = writeln!(m);

    let _ = writeln!(
        m,
        "## Counterfactual runs\n\nEach preset re-run with causes taken away (checked flow for flow against the attribution): median IAT-mean error (median_all) / median RTT-mean error (median_all).\n"
    );
    for (pi, p) in ev.candidates.iter().enumerate() {
        if p.group != "preset" {
            continue;
        }
        let cfs: Vec<usize> = (0..ev.candidates.len())
            .filter(|&k| ev.candidates[k].of.as_deref() == Some(p.label.as_str()))
            .collect();
        if cfs.is_empty() {
            continue;
        }
        let _ = writeln!(m, "### {}\n", p.label);
        let mut head = "| trace | as built".to_string();
        for &k in &cfs {
            let _ = write!(
                head,
                " | {}",
                ev.candidates[k].counterfactual().map_or("", |c| c.name())
            );
        }
        let _ = writeln!(m, "{head} |");
        let _ = writeln!(m, "|---|---{}|", "|---".repeat(cfs.len()));
        for t in 0..ev.traces.len() {
            let cell = |c: usize| {
                ev.row(c, t).map_or("–".to_string(), |r| {
                    format!(
                        "{} / {}",
                        pc(r.fig.iat_mean.median_all),
                        pc(r.fig.rtt_mean.median_all)
                    )
                })
            };
            let mut line = format!("| {} | {}", ev.traces[t].name, cell(pi));
            for &k in &cfs {
                let _ = write!(line, " | {}", cell(k));
            }
            let _ = writeln!(m, "{line} |");
        }
        let _ = writeln!(m);
    }

    let _ = writeln!(m, "## Per trace\n");
    let mut shown: Vec<usize> = ev
        .candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| c.group == "preset")
        .map(|(i, _)| i)
        .collect();
    for p in an.proposals.iter().filter(|p| p.name.starts_with("hx8k")) {
        if let Some(i) = ev.cand_index(&p.config) {
            if !shown.contains(&i) {
                shown.push(i);
            }
        }
    }
    for &c in &shown {
        per_trace_table(&mut m, ev, c);
    }

    for o in &an.objectives {
        let _ = writeln!(m, "## Pareto front: {}\n", o.title);
        let _ = writeln!(m, "On the IAT-mean error (golden model):\n");
        point_table(&mut m, ev, &o.front.iter().collect::<Vec<_>>());
        let _ = writeln!(m, "On the worse of the IAT-mean and RTT-mean errors:\n");
        point_table(&mut m, ev, &o.balanced_front.iter().collect::<Vec<_>>());
        let _ = writeln!(
            m,
            "Presets and the best multi-level designs on the same traces:\n"
        );
        let others: Vec<&Point> = o
            .points
            .iter()
            .filter(|p| {
                let c = &ev.candidates[p.cand];
                c.group == "preset"
            })
            .collect();
        point_table(&mut m, ev, &others);
    }

    let _ = writeln!(
        m,
        "## Capacity on the load ladder\n\nFlows (unidirectional, with an exact IAT sample) of the largest load step up to which every step has an IAT-mean median_all within the bound; `≥` where even the largest step ({} flows) passes. Exact tracker: {:.0} bytes per flow ({:.2} flows per KiB).\n",
        an.load_flows_max,
        an.exact_bytes_per_flow,
        if an.exact_bytes_per_flow > 0.0 { 1024.0 / an.exact_bytes_per_flow } else { 0.0 }
    );
    let _ = writeln!(
        m,
        "| config | bytes | flows ≤ 2 % | ≤ 10 % | ≤ 20 % | flows/KiB ≤ 2 % | ≤ 10 % | ≤ 20 % | × exact at ≤ 20 % |"
    );
    let _ = writeln!(m, "|---|---|---|---|---|---|---|---|---|");
    let front = capacity_front(an);
    let mut caps: Vec<&CapPoint> = an
        .capacity
        .iter()
        .filter(|c| {
            let cand = &ev.candidates[c.cand];
            matches!(cand.group.as_str(), "preset" | "paper-scaled")
                || an.proposals.iter().any(|p| p.config == c.config)
                || front.contains(&c.cand)
        })
        .collect();
    caps.sort_by_key(|c| c.bytes);
    let exact_per_kib = if an.exact_bytes_per_flow > 0.0 {
        1024.0 / an.exact_bytes_per_flow
    } else {
        0.0
    };
    for c in caps {
        let ge = |k: usize| if c.at_ceiling[k] { "≥ " } else { "" };
        let _ = writeln!(
            m,
            "| {} | {} | {}{} | {}{} | {}{} | {:.1} | {:.1} | {:.1} | {}{:.1} |",
            c.config,
            c.bytes,
            ge(0),
            c.flows[0],
            ge(1),
            c.flows[1],
            ge(2),
            c.flows[2],
            c.per_kib(0),
            c.per_kib(1),
            c.per_kib(2),
            ge(2),
            if exact_per_kib > 0.0 {
                c.per_kib(2) / exact_per_kib
            } else {
                0.0
            }
        );
    }
    let _ = writeln!(m);

    if let Some(p) = &an.paper {
        let _ = writeln!(m, "## The paper's claims in our setup\n");
        let _ = writeln!(
            m,
            "- `paper` preset: {} bytes of state, {} of them bucket banks.",
            p.paper_bytes, p.paper_bank_bytes
        );
        if p.load2000_flows > 0 {
            let _ = writeln!(
                m,
                "- 2000 conversations ({} flows with an exact IAT): median IAT-mean error {}, {} of the flows within 20 %; median RTT-mean error {}.",
                p.load2000_flows,
                pc(p.load2000_median_all),
                pc(p.load2000_within20),
                pc(p.load2000_rtt_median)
            );
        }
        let _ = writeln!(
            m,
            "- Capacity of the scaled-down preset (same buckets and banks, fewer lines; the flows a line sees stay the same when lines and flows grow together), extrapolated to 2^{PAPER_LINES_LOG2} lines per bank:\n"
        );
        let _ = writeln!(
            m,
            "| config | bytes | flows ≤ 2 % | ≤ 10 % | ≤ 20 % | paper-size ≤ 2 % | ≤ 10 % | ≤ 20 % |"
        );
        let _ = writeln!(m, "|---|---|---|---|---|---|---|---|");
        let ext = |v: Option<u64>| v.map_or("–".into(), |x| x.to_string());
        for s in &p.scaled {
            let ge = |k: usize| if s.at_ceiling[k] { "≥ " } else { "" };
            let _ = writeln!(
                m,
                "| {} | {} | {}{} | {}{} | {}{} | {} | {} | {} |",
                s.config,
                s.bytes,
                ge(0),
                s.flows[0],
                ge(1),
                s.flows[1],
                ge(2),
                s.flows[2],
                ext(s.extrapolated[0]),
                ext(s.extrapolated[1]),
                ext(s.extrapolated[2])
            );
        }
        let ratio = |v: Option<f64>| v.map_or("–".into(), |x| format!("{x:.1}×"));
        let _ = writeln!(m);
        for (k, th) in THRESHOLDS.iter().enumerate() {
            let _ = writeln!(
                m,
                "- At ≤ {:.0} %: the `paper` preset tracks ~{} flows: {} the exact tracker's flows per byte of state ({} per byte of bucket banks). Densest configuration on the ladder: {}.",
                th * 100.0,
                ext(p.paper_flows[k]),
                ratio(p.paper_vs_exact[k]),
                ratio(p.paper_banks_vs_exact[k]),
                p.best_vs_exact[k]
                    .as_ref()
                    .map_or("–".into(), |(c, r)| format!("{c}, {r:.1}× the exact tracker"))
            );
        }
        let _ = writeln!(
            m,
            "- Exact tracker: {:.0} bytes per flow.\n",
            p.exact_bytes_per_flow
        );
    }

    let _ = writeln!(m, "## Proposed presets (from the Pareto fronts)\n");
    let _ = writeln!(
        m,
        "| name | config | bytes | why | IAT median_all | RTT median_all | export B/record |"
    );
    let _ = writeln!(m, "|---|---|---|---|---|---|---|");
    for p in &an.proposals {
        let _ = writeln!(
            m,
            "| {} | **{}** | {} | {} | {} | {} | {} |",
            p.name,
            p.config,
            p.bytes,
            p.why,
            pc(Some(p.iat_median_all)),
            pc(p.rtt_median_all),
            bytes_per_record(p.export_bytes_per_record)
        );
    }
    m
}

/// Candidates on the capacity front at any threshold.
pub fn capacity_front(an: &Analysis) -> Vec<usize> {
    let mut out = Vec::new();
    for k in 0..3 {
        let mut g: Vec<&CapPoint> = an.capacity.iter().filter(|c| c.golden).collect();
        g.sort_by_key(|c| (c.bytes, std::cmp::Reverse(c.flows[k])));
        let mut best = 0;
        for c in g {
            if c.flows[k] > best {
                best = c.flows[k];
                if !out.contains(&c.cand) {
                    out.push(c.cand);
                }
            }
        }
    }
    out
}

/// A file name for a label (`:`, `/`, spaces and commas replaced).
pub fn file_stem(label: &str) -> String {
    label.replace([':', '/', ' ', ','], "_")
}

/// Write every output; returns the files written.
pub fn write_all(ev: &Evaluation, dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut written = Vec::new();
    let csv = dir.join("results.csv");
    write_csv(ev, &csv)?;
    written.push(csv);
    let an = analyse(ev);
    let p = dir.join("summary.md");
    std::fs::write(&p, summary(ev, &an)).map_err(|e| Error::io(&p, e))?;
    written.push(p);
    let p = dir.join("summary.json");
    let json = serde_json::to_string_pretty(&an).map_err(|e| Error::Invariant(e.to_string()))?;
    std::fs::write(&p, json + "\n").map_err(|e| Error::io(&p, e))?;
    written.push(p);
    for o in 0..an.objectives.len() {
        written.push(plots::error_vs_state(ev, &an, o, dir)?);
    }
    if !an.capacity.is_empty() {
        written.push(plots::flows_per_kib(&an, dir)?);
    }
    // CDFs per trace: the presets, the proposals and the multi-level
    // design most accurate on the mixed traffic within the HX8K budget.
    let mut sel: Vec<usize> = ev
        .candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| c.group == "preset")
        .map(|(i, _)| i)
        .collect();
    for p in &an.proposals {
        if let Some(i) = ev.cand_index(&p.config) {
            if !sel.contains(&i) && sel.len() < 7 {
                sel.push(i);
            }
        }
    }
    if let Some(o) = an.objectives.iter().find(|o| o.name == "mixed") {
        if let Some(best) = o
            .points
            .iter()
            .filter(|p| p.multi_level && p.golden && p.fits_hx8k)
            .min_by(|a, b| a.median_all.total_cmp(&b.median_all))
        {
            sel.push(best.cand);
        }
    }
    let cdf_dir = dir.join("cdf");
    std::fs::create_dir_all(&cdf_dir).map_err(|e| Error::io(&cdf_dir, e))?;
    for t in 0..ev.traces.len() {
        if let Some(p) = plots::error_cdf(ev, t, &sel, &cdf_dir)? {
            written.push(p);
        }
    }
    for (i, c) in ev.candidates.iter().enumerate() {
        if c.group == "preset" {
            written.push(plots::breakdown(ev, i, dir)?);
        }
    }
    Ok(written)
}
