//! SVG figures of the evaluation (plotters' SVG backend, with the helpers
//! of [`crate::plot`] that `bloomtime compare`'s figures share):
//!
//! * `error_vs_state_<objective>.svg` — median IAT-mean error (flows without
//!   an estimate count as infinite) against state bytes, every
//!   configuration, the golden model's Pareto front drawn as a line, and
//!   its front on the worse of the IAT-mean and RTT-mean errors;
//! * `cdf/<trace>.svg` — per trace, the CDF over flows of the IAT-mean
//!   error of selected configurations (the curve ends at the fraction of
//!   flows that have an estimate);
//! * `flows_per_kib.svg` — flows per KiB tracked at ≤ 2 / 10 / 20 % median
//!   error on the load ladder against state bytes, with the exact tracker's
//!   flows per KiB and the `paper` preset's extrapolated capacity;
//! * `breakdown_<config>.svg` — per trace, the IAT-mean error by cause
//!   (mean per-flow shares, `metrics::Breakdown`).

use super::attrib::CAUSES;
use super::report::{file_stem, Analysis, CapPoint, Point};
use super::Evaluation;
use crate::error::Error;
use crate::plot::{cdf_points, legend_and_present, log_label, perr, FLOOR_PCT};
use plotters::prelude::*;
use std::path::{Path, PathBuf};

const PALETTE: [RGBColor; 8] = [
    RGBColor(214, 39, 40),
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

fn pct(x: f64) -> f64 {
    (x * 100.0).max(FLOOR_PCT)
}

/// Draw an error value capped for a log axis: infinite errors at the top.
fn capped(x: f64, top: f64) -> f64 {
    if x.is_finite() {
        pct(x).min(top)
    } else {
        top
    }
}

/// Which points a series of a plot shows.
type Keep = fn(&Point, &Evaluation) -> bool;

/// Error against state bytes for one objective.
pub fn error_vs_state(
    ev: &Evaluation,
    an: &Analysis,
    objective: usize,
    dir: &Path,
) -> Result<PathBuf, Error> {
    let o = &an.objectives[objective];
    let path = dir.join(format!("error_vs_state_{}.svg", o.name));
    let pts = &o.points;
    if pts.is_empty() {
        return Err(Error::Invariant(format!(
            "no points for objective {}",
            o.name
        )));
    }
    let xmin = pts.iter().map(|p| p.bytes).min().unwrap_or(1) as f64 / 1.5;
    let xmax = pts.iter().map(|p| p.bytes).max().unwrap_or(2) as f64 * 1.5;
    let top = 1000.0;
    {
        let root = SVGBackend::new(&path, (900, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| perr(&path, e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("Median IAT-mean error vs state: {}", o.title),
                ("sans-serif", 20),
            )
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d((xmin..xmax).log_scale(), (FLOOR_PCT..top).log_scale())
            .map_err(|e| perr(&path, e))?;
        chart
            .configure_mesh()
            .x_desc("state bytes (banks + flow table)")
            .y_desc("median relative error (%), no estimate = top")
            .x_label_formatter(&log_label)
            .y_label_formatter(&log_label)
            .draw()
            .map_err(|e| perr(&path, e))?;
        let groups: [(&str, RGBColor, Keep); 3] = [
            ("single ring, sweep", RGBColor(150, 150, 150), |p, ev| {
                ev.candidates[p.cand].design_name() == "golden"
                    && ev.candidates[p.cand].group != "preset"
                    && !ev.candidates[p.cand].multi_level()
            }),
            ("multi-level", PALETTE[1], |p, ev| {
                ev.candidates[p.cand].multi_level() && ev.candidates[p.cand].group != "preset"
            }),
            ("presets", PALETTE[0], |p, ev| {
                ev.candidates[p.cand].group == "preset"
            }),
        ];
        for (name, color, keep) in groups {
            let sel: Vec<(f64, f64)> = pts
                .iter()
                .filter(|p| keep(p, ev))
                .map(|p| (p.bytes as f64, capped(p.median_all, top)))
                .collect();
            if sel.is_empty() {
                continue;
            }
            chart
                .draw_series(
                    sel.iter()
                        .map(|&(x, y)| Circle::new((x, y), 3, color.filled())),
                )
                .map_err(|e| perr(&path, e))?
                .label(name)
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
        }
        let front: Vec<(f64, f64)> = o
            .front
            .iter()
            .map(|p| (p.bytes as f64, capped(p.median_all, top)))
            .collect();
        chart
            .draw_series(LineSeries::new(front, PALETTE[2].stroke_width(2)))
            .map_err(|e| perr(&path, e))?
            .label("Pareto front (golden model)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], PALETTE[2]));
        let balanced: Vec<(f64, f64)> = o
            .balanced_front
            .iter()
            .map(|p| (p.bytes as f64, capped(p.balanced(), top)))
            .collect();
        chart
            .draw_series(LineSeries::new(balanced, PALETTE[3].stroke_width(2)))
            .map_err(|e| perr(&path, e))?
            .label("front on the worse of IAT and RTT (golden model)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], PALETTE[3]));
        for p in pts
            .iter()
            .filter(|p| ev.candidates[p.cand].group == "preset")
        {
            chart
                .draw_series(std::iter::once(Text::new(
                    ev.candidates[p.cand].label.clone(),
                    (p.bytes as f64 * 1.08, capped(p.median_all, top)),
                    ("sans-serif", 13),
                )))
                .map_err(|e| perr(&path, e))?;
        }
        for t in [2.0, 10.0, 20.0] {
            chart
                .draw_series(LineSeries::new(
                    vec![(xmin, t), (xmax, t)],
                    BLACK.mix(0.25).stroke_width(1),
                ))
                .map_err(|e| perr(&path, e))?;
        }
        legend_and_present(
            &mut chart,
            &root,
            SeriesLabelPosition::UpperRight,
            0.85,
            &path,
        )?;
    }
    Ok(path)
}

/// The IAT-mean error CDF of one trace for the selected configurations.
pub fn error_cdf(
    ev: &Evaluation,
    trace: usize,
    cands: &[usize],
    dir: &Path,
) -> Result<Option<PathBuf>, Error> {
    let t = &ev.traces[trace];
    let rows: Vec<_> = cands
        .iter()
        .filter_map(|&c| ev.row(c, trace).map(|r| (c, r)))
        .filter(|(_, r)| !r.fig.iat_mean.errors.is_empty())
        .collect();
    if rows.is_empty() {
        return Ok(None);
    }
    let path = dir.join(format!("{}.svg", file_stem(&t.name)));
    let xmax = rows
        .iter()
        .filter_map(|(_, r)| r.fig.iat_mean.errors.last())
        .fold(100.0f64, |m, v| m.max(pct(*v)))
        * 1.5;
    {
        let root = SVGBackend::new(&path, (800, 500)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| perr(&path, e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("IAT-mean error per flow (CDF): {}", t.name),
                ("sans-serif", 20),
            )
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(55)
            .build_cartesian_2d((FLOOR_PCT..xmax).log_scale(), 0.0..1.0)
            .map_err(|e| perr(&path, e))?;
        chart
            .configure_mesh()
            .x_desc("relative error (%)")
            .y_desc("fraction of flows with an exact IAT")
            .x_label_formatter(&log_label)
            .draw()
            .map_err(|e| perr(&path, e))?;
        for (i, (c, r)) in rows.iter().enumerate() {
            let d = &r.fig.iat_mean;
            let color = PALETTE[i % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(
                    cdf_points(&d.errors, d.flows - d.skipped_zero),
                    color.stroke_width(2),
                ))
                .map_err(|e| perr(&path, e))?
                .label(format!(
                    "{} ({} B; {} of {} flows estimated)",
                    ev.candidates[*c].label,
                    ev.candidates[*c].state_bytes(),
                    d.with_estimate,
                    d.flows
                ))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        legend_and_present(
            &mut chart,
            &root,
            SeriesLabelPosition::UpperLeft,
            0.85,
            &path,
        )?;
    }
    Ok(Some(path))
}

/// Flows per KiB of state tracked at each threshold on the load ladder,
/// against state bytes, with the exact tracker's flows per KiB.
pub fn flows_per_kib(an: &Analysis, dir: &Path) -> Result<PathBuf, Error> {
    let path = dir.join("flows_per_kib.svg");
    let pts: Vec<&CapPoint> = an.capacity.iter().filter(|c| c.golden).collect();
    let mut xs: Vec<f64> = pts.iter().map(|p| p.bytes as f64).collect();
    if let Some(p) = &an.paper {
        xs.push(p.paper_bytes as f64);
    }
    let xmin = xs.iter().copied().fold(f64::INFINITY, f64::min).min(1e3) / 1.5;
    let xmax = xs.iter().copied().fold(0.0, f64::max).max(1e4) * 1.5;
    let exact = if an.exact_bytes_per_flow > 0.0 {
        1024.0 / an.exact_bytes_per_flow
    } else {
        0.0
    };
    let ymax = pts
        .iter()
        .map(|p| p.per_kib(2).max(p.per_kib(1)).max(p.per_kib(0)))
        .fold(exact.max(1.0), f64::max)
        * 12.0;
    let ymin = 0.01;
    {
        let root = SVGBackend::new(&path, (900, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| perr(&path, e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Flows per KiB at a median IAT-mean error bound (load ladder)",
                ("sans-serif", 20),
            )
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d((xmin..xmax).log_scale(), (ymin..ymax).log_scale())
            .map_err(|e| perr(&path, e))?;
        chart
            .configure_mesh()
            .x_desc("state bytes (banks + flow table)")
            .y_desc("flows per KiB (largest passing load step)")
            .x_label_formatter(&log_label)
            .y_label_formatter(&log_label)
            .draw()
            .map_err(|e| perr(&path, e))?;
        for (k, t) in ["<= 2 %", "<= 10 %", "<= 20 %"].iter().enumerate() {
            let color = PALETTE[k];
            let inside: Vec<(f64, f64)> = pts
                .iter()
                .filter(|p| p.flows[k] > 0 && !p.at_ceiling[k])
                .map(|p| (p.bytes as f64, p.per_kib(k)))
                .collect();
            let ceiling: Vec<(f64, f64)> = pts
                .iter()
                .filter(|p| p.flows[k] > 0 && p.at_ceiling[k])
                .map(|p| (p.bytes as f64, p.per_kib(k)))
                .collect();
            chart
                .draw_series(
                    inside
                        .iter()
                        .map(|&(x, y)| Circle::new((x, y), 3, color.mix(0.7).filled())),
                )
                .map_err(|e| perr(&path, e))?
                .label(format!("golden model, median error {t}"))
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
            chart
                .draw_series(
                    ceiling
                        .iter()
                        .map(|&(x, y)| Circle::new((x, y), 4, color.stroke_width(1))),
                )
                .map_err(|e| perr(&path, e))?;
            if let Some(p) = &an.paper {
                if let Some(f) = p.paper_flows[k] {
                    let y = f as f64 / (p.paper_bytes as f64 / 1024.0);
                    chart
                        .draw_series(std::iter::once(TriangleMarker::new(
                            (p.paper_bytes as f64, y),
                            7,
                            color.filled(),
                        )))
                        .map_err(|e| perr(&path, e))?;
                }
            }
        }
        if exact > 0.0 {
            chart
                .draw_series(LineSeries::new(
                    vec![(xmin, exact), (xmax, exact)],
                    BLACK.stroke_width(2),
                ))
                .map_err(|e| perr(&path, e))?
                .label(format!(
                    "exact tracker ({:.0} B per flow)",
                    an.exact_bytes_per_flow
                ))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
        }
        chart
            .draw_series(std::iter::once(Text::new(
                "hollow: every load step passes (a lower bound); triangles: paper preset, extrapolated",
                (xmin * 1.1, ymin * 1.6),
                ("sans-serif", 12),
            )))
            .map_err(|e| perr(&path, e))?;
        legend_and_present(
            &mut chart,
            &root,
            SeriesLabelPosition::UpperRight,
            0.85,
            &path,
        )?;
    }
    Ok(path)
}

/// Share of the IAT-mean error by cause, per trace, for one configuration.
pub fn breakdown(ev: &Evaluation, cand: usize, dir: &Path) -> Result<PathBuf, Error> {
    let label = &ev.candidates[cand].label;
    let path = dir.join(format!(
        "breakdown_{}.svg",
        label.replace([':', '/', ' '], "_")
    ));
    let rows: Vec<_> = (0..ev.traces.len())
        .filter_map(|t| ev.row(cand, t).map(|r| (t, r)))
        .filter(|(_, r)| r.fig.iat_breakdown.explained > 0)
        .collect();
    let n = rows.len().max(1);
    {
        let root = SVGBackend::new(&path, (900, 120 + 26 * n as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| perr(&path, e))?;
        let names: Vec<String> = rows
            .iter()
            .map(|(t, r)| {
                format!(
                    "{} ({:.0} %)",
                    ev.traces[*t].name,
                    r.fig.iat_mean.median.unwrap_or(0.0) * 100.0
                )
            })
            .collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("IAT-mean error by cause: {label} (median error in brackets)"),
                ("sans-serif", 18),
            )
            .margin(15)
            .x_label_area_size(35)
            .y_label_area_size(230)
            .build_cartesian_2d(0.0..1.0, 0.0..n as f64)
            .map_err(|e| perr(&path, e))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n * 2 + 1)
            .y_label_formatter(&|y: &f64| {
                let i = (*y - 0.5).round();
                if (y - 0.5 - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
                    names[i as usize].clone()
                } else {
                    String::new()
                }
            })
            .x_desc("mean share per flow with an error above 2 %")
            .draw()
            .map_err(|e| perr(&path, e))?;
        for (k, cause) in CAUSES.iter().enumerate() {
            let color = PALETTE[k];
            let bars: Vec<Rectangle<(f64, f64)>> = rows
                .iter()
                .enumerate()
                .map(|(i, (_, r))| {
                    let s = &r.fig.iat_breakdown.share;
                    let x0: f64 = s[..k].iter().sum();
                    Rectangle::new(
                        [(x0, i as f64 + 0.15), (x0 + s[k], i as f64 + 0.85)],
                        color.filled(),
                    )
                })
                .collect();
            chart
                .draw_series(bars)
                .map_err(|e| perr(&path, e))?
                .label(*cause)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 15, y + 5)], color.filled())
                });
        }
        legend_and_present(
            &mut chart,
            &root,
            SeriesLabelPosition::LowerRight,
            0.85,
            &path,
        )?;
    }
    Ok(path)
}
