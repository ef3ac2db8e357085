//! # bloomtime-eval
//!
//! `bloomtime eval`: fidelity of BloomTime against the exact tracker over
//! real and generated traces, for the presets and a sweep of
//! configurations, with every error split by cause. The `bloomtime`
//! command (`bloomtime-host`) parses [`EvalArgs`] and calls [`run`].
//!
//! * [`corpus`] — traces parsed once into records (real captures from the
//!   shared directory, generated traces with known truth, a load ladder);
//! * [`design`] — the golden model wrapped for the evaluation, the
//!   counterfactual designs (infinite flow table, exact membership, no
//!   window limit) and the experimental multi-resolution design (evaluation
//!   only; the model is untouched);
//! * [`attrib`] — one lock-step pass per trace and design that attributes
//!   every error to quantization, the window, Bloom collisions or the flow
//!   table; each preset's counterfactual runs are checked against it;
//! * [`metrics`] — per-row figures; [`sweep`] — the configurations;
//! * [`report`] — `results.csv`, the Pareto fronts, capacity, the paper's
//!   claims, proposals, `summary.md` and `summary.json`; [`plots`] — the SVG
//!   figures;
//! * [`plot`] — SVG helpers shared with `bloomtime compare`'s figures;
//! * [`error`] — the evaluation's errors, one line each.
//!
//! docs/EVAL.md describes the method and the results.

pub mod attrib;
pub mod corpus;
pub mod design;
pub mod error;
pub mod metrics;
pub mod plot;
pub mod plots;
pub mod report;
pub mod sweep;

use clap::Args;
use corpus::{Family, Trace};
pub use error::Error;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use metrics::Figures;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use sweep::Candidate;

#[derive(Args, Debug, Clone)]
pub struct EvalArgs {
    /// Directory of the results (results.csv, summary.md, plots, generated traces).
    #[arg(long, default_value = "build/eval", value_name = "DIR")]
    pub out: PathBuf,
    /// Directory of real captures: every .pcap and .pcapng in it is evaluated.
    #[arg(long, default_value = "../shared/traces", value_name = "DIR")]
    pub traces: PathBuf,
    /// Generated traces only (no real captures).
    #[arg(long)]
    pub no_real: bool,
    /// A small run: presets and a few variants on two small generated traces
    /// plus the real captures (tests, smoke runs).
    #[arg(long)]
    pub quick: bool,
    /// Only configurations whose label contains one of these (comma separated).
    #[arg(long, value_delimiter = ',', value_name = "TEXT")]
    pub only: Vec<String>,
    /// Worker threads (default: the available cores).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
}

/// One evaluated (configuration, trace) pair.
#[derive(Clone, Debug)]
pub struct Row {
    pub cand: usize,
    pub trace: usize,
    pub fig: Figures,
}

/// Everything an evaluation produced, for the report.
pub struct Evaluation {
    pub candidates: Vec<Candidate>,
    pub traces: Vec<Trace>,
    pub rows: Vec<Row>,
    pub seconds_load: f64,
    pub seconds_run: f64,
}

impl Evaluation {
    pub fn row(&self, cand: usize, trace: usize) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.cand == cand && r.trace == trace)
    }
    pub fn cand_index(&self, label: &str) -> Option<usize> {
        self.candidates.iter().position(|c| c.label == label)
    }
}

/// Load (and generate) every trace of the evaluation.
pub fn load_traces(a: &EvalArgs) -> Result<Vec<Trace>, Error> {
    let mut traces = Vec::new();
    if !a.no_real {
        let paths = corpus::captures_in(&a.traces)?;
        let stems: Vec<String> = paths.iter().map(|p| corpus::trace_name(p)).collect();
        for (p, stem) in paths.iter().zip(&stems) {
            // `x.pcap` and `x.pcapng` side by side keep their extensions.
            let name = if stems.iter().filter(|s| *s == stem).count() > 1 {
                p.file_name()
                    .map_or(stem.clone(), |f| f.to_string_lossy().into_owned())
            } else {
                stem.clone()
            };
            traces.push(Trace::load(p, &name, Family::Real)?);
        }
    }
    let gen_dir = a.out.join("traces");
    for spec in corpus::generated_specs(a.quick) {
        traces.push(corpus::generate(&spec, &gen_dir)?);
    }
    Ok(traces)
}

/// The counterfactual candidates of each candidate (indices), run with it.
fn counterfactuals_of(candidates: &[Candidate]) -> Result<Vec<Vec<usize>>, Error> {
    let mut of = vec![Vec::new(); candidates.len()];
    for (i, c) in candidates.iter().enumerate() {
        if let Some(base) = &c.of {
            let b = candidates
                .iter()
                .position(|x| &x.label == base && x.of.is_none())
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "{} is a counterfactual of {base}, which is not evaluated",
                        c.label
                    ))
                })?;
            of[b].push(i);
        }
    }
    Ok(of)
}

/// One job: candidate `c` on trace `t`, then its counterfactuals, each
/// checked against the level of `c`'s attribution it stands for.
fn job(
    candidates: &[Candidate],
    cfs: &[usize],
    c: usize,
    trace: &Trace,
) -> Result<Vec<Row>, Error> {
    let run = |k: usize| {
        candidates[k]
            .build()
            .and_then(|mut d| attrib::run(d.as_mut(), trace))
            .map_err(|e| context(e, &candidates[k], trace))
    };
    let row = |k: usize, r: &attrib::RunOutput| {
        let mut fig = metrics::figures(r);
        // Keep what the report needs: IAT-mean and RTT-mean errors.
        fig.iat_std.errors = Vec::new();
        Row {
            cand: k,
            trace: 0,
            fig,
        }
    };
    let base = run(c)?;
    let mut rows = vec![row(c, &base)];
    for &k in cfs {
        let r = run(k)?;
        let kind = candidates[k].counterfactual().ok_or_else(|| {
            Error::Invariant(format!("{} is not a counterfactual", candidates[k].label))
        })?;
        attrib::check_counterfactual(&base, &r, kind).map_err(|m| {
            Error::Invariant(format!(
                "{} on {}: the counterfactual run disagrees with the attribution: {m}",
                candidates[c].label, trace.name
            ))
        })?;
        rows.push(row(k, &r));
    }
    Ok(rows)
}

/// Run every candidate over every trace on `jobs` threads (counterfactuals
/// with the candidate they belong to).
pub fn evaluate(
    candidates: &[Candidate],
    traces: &[Trace],
    jobs: usize,
    progress: bool,
) -> Result<Vec<Row>, Error> {
    let cfs = counterfactuals_of(candidates)?;
    // Biggest traces first, so the last jobs are short.
    let mut order: Vec<(usize, usize)> = (0..candidates.len())
        .filter(|&c| candidates[c].of.is_none())
        .flat_map(|c| (0..traces.len()).map(move |t| (c, t)))
        .collect();
    order.sort_by_key(|&(c, t)| (std::cmp::Reverse(traces[t].records.len()), c));
    let pb = if progress {
        let pb =
            ProgressBar::with_draw_target(Some(order.len() as u64), ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template("eval {bar:40} {pos}/{len} runs, {elapsed} (eta {eta})")
                .expect("static template"),
        );
        pb
    } else {
        ProgressBar::hidden()
    };
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let out: Mutex<Vec<Row>> = Mutex::new(Vec::with_capacity(order.len()));
    let first_err: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| loop {
                if failed.load(Ordering::Relaxed) {
                    return;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(c, t)) = order.get(i) else { return };
                match job(candidates, &cfs[c], c, &traces[t]) {
                    Ok(rows) => {
                        let mut o = out.lock().expect("no poisoning");
                        o.extend(rows.into_iter().map(|r| Row { trace: t, ..r }));
                    }
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        first_err.lock().expect("no poisoning").get_or_insert(e);
                        return;
                    }
                }
                pb.inc(1);
            });
        }
    });
    pb.finish_and_clear();
    if let Some(e) = first_err.into_inner().expect("no poisoning") {
        return Err(e);
    }
    let mut rows = out.into_inner().expect("no poisoning");
    rows.sort_by_key(|r| (r.cand, r.trace));
    Ok(rows)
}

fn context(e: Error, c: &Candidate, t: &Trace) -> Error {
    match e {
        Error::Invariant(m) => Error::Invariant(format!("{} on {}: {m}", c.label, t.name)),
        e => e,
    }
}

/// `bloomtime eval`: returns the files written (each also reported on
/// standard error).
pub fn run(a: &EvalArgs) -> Result<Vec<PathBuf>, Error> {
    let t0 = Instant::now();
    let mut candidates = sweep::candidates(a.quick);
    if !a.only.is_empty() {
        candidates.retain(|c| a.only.iter().any(|o| c.label.contains(o.as_str())));
        // A counterfactual runs with its configuration or not at all.
        let kept: Vec<String> = candidates.iter().map(|c| c.label.clone()).collect();
        candidates.retain(|c| c.of.as_ref().is_none_or(|b| kept.contains(b)));
        if candidates.is_empty() {
            return Err(Error::Usage(format!(
                "--only {} matches no configuration",
                a.only.join(",")
            )));
        }
    }
    std::fs::create_dir_all(&a.out).map_err(|e| Error::io(&a.out, e))?;
    let traces = load_traces(a)?;
    let seconds_load = t0.elapsed().as_secs_f64();
    let records: usize = traces.iter().map(|t| t.records.len()).sum();
    eprintln!(
        "eval: {} traces ({} records) loaded in {:.1} s; {} configurations",
        traces.len(),
        records,
        seconds_load,
        candidates.len()
    );
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let t1 = Instant::now();
    let rows = evaluate(&candidates, &traces, jobs, true)?;
    let ev = Evaluation {
        candidates,
        traces,
        rows,
        seconds_load,
        seconds_run: t1.elapsed().as_secs_f64(),
    };
    let written = report::write_all(&ev, &a.out)?;
    for p in &written {
        eprintln!("wrote {}", p.display());
    }
    eprintln!(
        "eval: {} runs in {:.1} s on {jobs} threads ({:.1} s in all)",
        ev.rows.len(),
        ev.seconds_run,
        t0.elapsed().as_secs_f64()
    );
    Ok(written)
}
