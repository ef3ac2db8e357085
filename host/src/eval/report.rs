//! The evaluation's outputs: `results.csv` (one row per trace ×
//! configuration), the Pareto fronts, capacity on the load ladder, proposed
//! presets and `summary.md`.

use super::attrib::CAUSES;
use super::corpus::{Family, Trace};
use super::metrics::{Breakdown, Dist, Figures, THRESHOLDS};
use super::sweep::Candidate;
use super::{plots, Evaluation, Row};
use crate::compare::quantile;
use crate::error::Error;
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
    put("levels", c.levels());
    put("time_unit_log2_ns", cfg.time_unit_log2_ns.to_string());
    put("bucket_log2", cfg.bucket_log2.to_string());
    put("buckets", cfg.buckets.to_string());
    put("banks", cfg.banks.to_string());
    put("lines_log2", cfg.lines_log2.to_string());
    put("slots_log2", cfg.slots_log2.to_string());
    put("sample_frac_bits", cfg.sample_frac_bits.to_string());
    put("bucket_us", format!("{:.3}", cfg.bucket_ns() as f64 / 1e3));
    put("window_ms", format!("{:.3}", c.window_ns() as f64 / 1e6));
    put("state_bytes", c.state_bytes().to_string());
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
    pub bytes: u64,
    /// Median IAT-mean error, flows without an estimate counted as infinite.
    pub median_all: f64,
    /// Median over flows with an estimate (the `compare` definition).
    pub median: Option<f64>,
    pub p90: Option<f64>,
    pub flows: usize,
    pub with_estimate: usize,
    pub within: [f64; 3],
    pub rtt_median: Option<f64>,
    pub rtt_flows: usize,
}

/// A set of traces whose flows are pooled into one figure per configuration.
#[derive(Clone, Debug, Serialize)]
pub struct Objective {
    pub name: String,
    pub title: String,
    pub traces: Vec<String>,
    pub points: Vec<Point>,
    /// The golden model's Pareto front: no other configuration is both
    /// smaller and more accurate.
    pub front: Vec<Point>,
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

/// A configuration proposed as a preset.
#[derive(Clone, Debug, Serialize)]
pub struct Proposal {
    pub why: String,
    pub config: String,
    pub bytes: u64,
    pub median_all: f64,
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
    pub proposals: Vec<Proposal>,
}

fn pooled(ev: &Evaluation, cand: usize, traces: &[usize]) -> Option<Point> {
    let mut errs: Vec<f64> = Vec::new();
    let mut rtt: Vec<f64> = Vec::new();
    let (mut flows, mut with, mut zero, mut rtt_flows) = (0, 0, 0, 0);
    let mut any = false;
    for &t in traces {
        let Some(r) = ev.row(cand, t) else { continue };
        any = true;
        let d = &r.fig.iat_mean;
        errs.extend_from_slice(&d.errors);
        flows += d.flows;
        with += d.with_estimate;
        zero += d.skipped_zero;
        rtt.extend_from_slice(&r.fig.rtt_mean.errors);
        rtt_flows += r.fig.rtt_mean.flows;
    }
    if !any {
        return None;
    }
    errs.sort_by(|a, b| a.total_cmp(b));
    rtt.sort_by(|a, b| a.total_cmp(b));
    let scored = flows - zero;
    let mut all = errs.clone();
    all.extend(std::iter::repeat_n(f64::INFINITY, flows - with));
    let c = &ev.candidates[cand];
    Some(Point {
        cand,
        config: c.label.clone(),
        bytes: c.state_bytes(),
        median_all: quantile(&all, 0.5).unwrap_or(f64::INFINITY),
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
        rtt_flows,
    })
}

/// The Pareto front (bytes, median_all) of the golden model's points.
pub fn pareto(ev: &Evaluation, points: &[Point]) -> Vec<Point> {
    let mut g: Vec<&Point> = points
        .iter()
        .filter(|p| ev.candidates[p.cand].design_name() == "golden" && p.median_all.is_finite())
        .collect();
    g.sort_by(|a, b| {
        a.bytes
            .cmp(&b.bytes)
            .then(a.median_all.total_cmp(&b.median_all))
    });
    let mut front: Vec<Point> = Vec::new();
    for p in g {
        if front.last().is_none_or(|l| p.median_all < l.median_all) {
            front.push(p.clone());
        }
    }
    front
}

/// The load-ladder capacity of every configuration.
fn capacity(ev: &Evaluation) -> (Vec<CapPoint>, usize, f64) {
    let mut ladder: Vec<(u32, usize)> = ev
        .traces
        .iter()
        .enumerate()
        .filter_map(|(i, t)| match t.family {
            Family::Load(n) => Some((n, i)),
            _ => None,
        })
        .collect();
    ladder.sort();
    let Some(&(_, top)) = ladder.last() else {
        return (Vec::new(), 0, 0.0);
    };
    let t = &ev.traces[top];
    let bpf = if t.exact_flows() > 0 {
        t.exact_state_bytes as f64 / t.exact_flows() as f64
    } else {
        0.0
    };
    let mut out = Vec::new();
    let mut max_flows = 0;
    for (ci, c) in ev.candidates.iter().enumerate() {
        let mut flows = [0usize; 3];
        let mut at_ceiling = [false; 3];
        for (k, th) in THRESHOLDS.iter().enumerate() {
            for (j, &(_, ti)) in ladder.iter().enumerate() {
                let Some(r) = ev.row(ci, ti) else { break };
                max_flows = max_flows.max(r.fig.iat_mean.flows);
                let m = r.fig.iat_mean.median_all.unwrap_or(f64::INFINITY);
                if m > *th {
                    break;
                }
                flows[k] = r.fig.iat_mean.flows;
                at_ceiling[k] = j + 1 == ladder.len();
            }
        }
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

/// Derive the objectives, fronts, capacity and proposals.
pub fn analyse(ev: &Evaluation) -> Analysis {
    let by = |f: &dyn Fn(&Family) -> bool| -> Vec<usize> {
        (0..ev.traces.len())
            .filter(|&i| f(&ev.traces[i].family))
            .collect()
    };
    let sets: Vec<(&str, &str, Vec<usize>)> = vec![
        (
            "real",
            "real captures (pooled flows)",
            by(&|f| *f == Family::Real),
        ),
        (
            "generated",
            "generated traffic kinds (pooled flows)",
            by(&|f| *f == Family::Generated),
        ),
        (
            "load2000",
            "2000 conversations (load ladder)",
            by(&|f| *f == Family::Load(2000)),
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
        let front = pareto(ev, &points);
        objectives.push(Objective {
            name: name.into(),
            title: title.into(),
            traces: traces.iter().map(|&t| ev.traces[t].name.clone()).collect(),
            points,
            front,
        });
    }
    let (capacity, load_flows_max, exact_bytes_per_flow) = capacity(ev);
    let mut proposals = Vec::new();
    for o in &objectives {
        for (k, th) in THRESHOLDS.iter().enumerate() {
            if let Some(p) = o.front.iter().find(|p| p.median_all <= *th) {
                proposals.push(Proposal {
                    why: format!(
                        "smallest with median IAT-mean error <= {:.0} % on {}",
                        th * 100.0,
                        o.title
                    ),
                    config: p.config.clone(),
                    bytes: p.bytes,
                    median_all: p.median_all,
                });
            }
            let _ = k;
        }
        for budget in [HX8K_BYTES, GOAL_BYTES] {
            if let Some(p) = o.front.iter().rev().find(|p| p.bytes <= budget) {
                proposals.push(Proposal {
                    why: format!("most accurate within {budget} bytes on {}", o.title),
                    config: p.config.clone(),
                    bytes: p.bytes,
                    median_all: p.median_all,
                });
            }
        }
    }
    Analysis {
        objectives,
        capacity,
        load_flows_max,
        exact_bytes_per_flow,
        proposals,
    }
}

/// State the alchitry-cu build may use on the HX8K (its config test).
pub const HX8K_BYTES: u64 = 13 * 1024;
/// Our stated goal: at most 16 KB of state.
pub const GOAL_BYTES: u64 = 16 * 1024;
/// Our stated goal: at least this many flows.
pub const GOAL_FLOWS: usize = 2000;

fn pc(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{:.1} %", x * 100.0),
        Some(_) => "∞".into(),
        None => "–".into(),
    }
}

/// `summary.md`: the tables the README and docs/EVAL.md quote.
pub fn summary(ev: &Evaluation, an: &Analysis) -> String {
    let mut m = String::new();
    let _ = writeln!(
        m,
        "# bloomtime eval: summary\n\n{} configurations × {} traces = {} runs; traces loaded in {:.1} s, runs took {:.1} s.\n",
        ev.candidates.len(),
        ev.traces.len(),
        ev.rows.len(),
        ev.seconds_load,
        ev.seconds_run
    );
    let _ = writeln!(
        m,
        "Errors are relative errors of per-flow means. `median` is over flows with an estimate (as `bloomtime compare`); `median_all` counts flows without an estimate as infinite error. Causes: share of the absolute error mass (docs/EVAL.md).\n"
    );
    // Per trace, the presets and the proposals.
    let mut shown: Vec<usize> = Vec::new();
    for l in ["alchitry-cu", "paper"] {
        if let Some(i) = ev.cand_index(l) {
            shown.push(i);
        }
    }
    for p in &an.proposals {
        if let Some(i) = ev.cand_index(&p.config) {
            if !shown.contains(&i) {
                shown.push(i);
            }
        }
    }
    for &c in &shown {
        let cand = &ev.candidates[c];
        let _ = writeln!(
            m,
            "## {} ({} bytes, window {:.1} ms, bucket {:.1} us)\n",
            cand.label,
            cand.state_bytes(),
            cand.window_ns() as f64 / 1e6,
            cand.config().bucket_ns() as f64 / 1e3
        );
        let _ = writeln!(
            m,
            "| trace | flows | estimated | IAT median | p90 | median_all | ≤2/10/20 % | IAT dominant (quant/window/coll/table) | phantom flows | RTT flows | RTT median | RTT dominant |"
        );
        let _ = writeln!(m, "|---|---|---|---|---|---|---|---|---|---|---|---|");
        for r in rows_of(ev, c) {
            let f = &r.fig;
            let d = &f.iat_mean;
            let b = &f.iat_breakdown;
            let _ = writeln!(
                m,
                "| {} | {} | {} | {} | {} | {} | {:.0}/{:.0}/{:.0} % | {} ({:.0}/{:.0}/{:.0}/{:.0} %) | {} | {} | {} | {} |",
                ev.traces[r.trace].name,
                d.flows,
                d.with_estimate,
                pc(d.median),
                pc(d.p90),
                pc(d.median_all),
                d.within[0] * 100.0,
                d.within[1] * 100.0,
                d.within[2] * 100.0,
                b.dominant_name(),
                b.share[0] * 100.0,
                b.share[1] * 100.0,
                b.share[2] * 100.0,
                b.share[3] * 100.0,
                f.phantom_flows,
                f.rtt_mean.flows,
                pc(f.rtt_mean.median),
                f.rtt_breakdown.dominant_name(),
            );
        }
        let _ = writeln!(m);
    }
    for o in &an.objectives {
        let _ = writeln!(m, "## Pareto front: {}\n", o.title);
        let _ = writeln!(
            m,
            "| config | bytes | median_all | median | p90 | flows estimated | RTT median |"
        );
        let _ = writeln!(m, "|---|---|---|---|---|---|---|");
        for p in &o.front {
            let _ = writeln!(
                m,
                "| {} | {} | {} | {} | {} | {} of {} | {} |",
                p.config,
                p.bytes,
                pc(Some(p.median_all)),
                pc(p.median),
                pc(p.p90),
                p.with_estimate,
                p.flows,
                pc(p.rtt_median)
            );
        }
        let _ = writeln!(
            m,
            "\nPresets and multi-resolution variants on the same traces:\n"
        );
        let _ = writeln!(
            m,
            "| config | bytes | median_all | median | p90 | flows estimated | RTT median |"
        );
        let _ = writeln!(m, "|---|---|---|---|---|---|---|");
        for p in o.points.iter().filter(|p| {
            let c = &ev.candidates[p.cand];
            c.group == "preset" || c.design_name() == "multires"
        }) {
            let _ = writeln!(
                m,
                "| {} | {} | {} | {} | {} | {} of {} | {} |",
                p.config,
                p.bytes,
                pc(Some(p.median_all)),
                pc(p.median),
                pc(p.p90),
                p.with_estimate,
                p.flows,
                pc(p.rtt_median)
            );
        }
        let _ = writeln!(m);
    }
    let _ = writeln!(
        m,
        "## Capacity on the load ladder\n\nFlows (unidirectional, with an exact IAT sample) of the largest load step up to which every step has median_all within the bound; `≥` where even the largest step ({} flows) passes. Exact tracker: {:.0} bytes per flow ({:.2} flows per KiB).\n",
        an.load_flows_max,
        an.exact_bytes_per_flow,
        if an.exact_bytes_per_flow > 0.0 { 1024.0 / an.exact_bytes_per_flow } else { 0.0 }
    );
    let _ = writeln!(m, "| config | bytes | flows ≤ 2 % | ≤ 10 % | ≤ 20 % | flows/KiB ≤ 2 % | ≤ 10 % | ≤ 20 % | × exact at ≤ 20 % |");
    let _ = writeln!(m, "|---|---|---|---|---|---|---|---|---|");
    let mut caps: Vec<&CapPoint> = an
        .capacity
        .iter()
        .filter(|c| {
            let cand = &ev.candidates[c.cand];
            cand.group == "preset"
                || cand.design_name() == "multires"
                || an.proposals.iter().any(|p| p.config == c.config)
                || capacity_front(an).contains(&c.cand)
        })
        .collect();
    caps.sort_by_key(|c| c.bytes);
    for c in caps {
        let kib = c.bytes as f64 / 1024.0;
        let cell = |k: usize| format!("{}{}", if c.at_ceiling[k] { "≥ " } else { "" }, c.flows[k]);
        let per = |k: usize| format!("{:.1}", c.flows[k] as f64 / kib);
        let ratio = if an.exact_bytes_per_flow > 0.0 {
            c.flows[2] as f64 / kib / (1024.0 / an.exact_bytes_per_flow)
        } else {
            0.0
        };
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {}{:.1} |",
            c.config,
            c.bytes,
            cell(0),
            cell(1),
            cell(2),
            per(0),
            per(1),
            per(2),
            if c.at_ceiling[2] { "≥ " } else { "" },
            ratio
        );
    }
    let _ = writeln!(
        m,
        "\n## Goal: ≥ {GOAL_FLOWS} flows in ≤ {GOAL_BYTES} bytes at ≤ 2 % median error\n"
    );
    let mut met: Vec<&CapPoint> = an
        .capacity
        .iter()
        .filter(|c| c.bytes <= GOAL_BYTES && c.flows[0] >= GOAL_FLOWS)
        .collect();
    met.sort_by_key(|c| c.bytes);
    if met.is_empty() {
        let best = an
            .capacity
            .iter()
            .filter(|c| c.bytes <= GOAL_BYTES)
            .max_by_key(|c| (c.flows[0], std::cmp::Reverse(c.bytes)));
        let _ = writeln!(
            m,
            "Not met on the load ladder: no configuration within {GOAL_BYTES} bytes tracks {GOAL_FLOWS} flows at ≤ 2 %.{}",
            best.map_or(String::new(), |b| format!(
                " Best: {} ({} bytes) with {} flows at ≤ 2 %, {} at ≤ 10 %, {} at ≤ 20 %.",
                b.config, b.bytes, b.flows[0], b.flows[1], b.flows[2]
            ))
        );
    } else {
        for c in met.iter().take(8) {
            let _ = writeln!(
                m,
                "- met by {} ({} bytes, {}): {} flows at ≤ 2 %",
                c.config,
                c.bytes,
                if c.golden {
                    "golden model"
                } else {
                    "experimental"
                },
                c.flows[0]
            );
        }
    }
    let _ = writeln!(m, "\n## Proposed presets (from the Pareto fronts)\n");
    for p in &an.proposals {
        let _ = writeln!(
            m,
            "- {}: **{}** ({} bytes, median_all {})",
            p.why,
            p.config,
            p.bytes,
            pc(Some(p.median_all))
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
        written.push(plots::flows_vs_state(&an, dir)?);
    }
    // CDFs per trace: presets, proposals and the multi-resolution variant
    // most accurate on real traffic.
    let mut sel: Vec<usize> = ["alchitry-cu", "paper"]
        .iter()
        .filter_map(|l| ev.cand_index(l))
        .collect();
    for p in &an.proposals {
        if let Some(i) = ev.cand_index(&p.config) {
            if !sel.contains(&i) && sel.len() < 6 {
                sel.push(i);
            }
        }
    }
    if let Some(o) = an.objectives.first() {
        if let Some(best) = o
            .points
            .iter()
            .filter(|p| ev.candidates[p.cand].design_name() == "multires")
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
    for l in ["alchitry-cu", "paper"] {
        if let Some(i) = ev.cand_index(l) {
            written.push(plots::breakdown(ev, i, dir)?);
        }
    }
    Ok(written)
}
