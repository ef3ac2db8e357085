//! SVG figures of a comparison (plotters, SVG backend only: no system fonts
//! or libraries needed).
//!
//! * `error_cdf.svg` — CDF over flows of the relative error of the IAT mean,
//!   the IAT standard deviation and the RTT mean (log x axis, in percent;
//!   errors below 0.01 % are drawn at 0.01 %);
//! * `iat_hist.svg` — histogram of per-flow IAT means, estimated and exact,
//!   on logarithmic bins.
//!
//! The helpers these share with the evaluation's figures are in
//! `bloomtime_eval::plot`.

use crate::compare::Comparison;
use crate::error::Error;
use bloomtime_eval::plot::{cdf_points, legend_and_present, log_label, perr, FLOOR_PCT};
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// Write the error CDF; returns the file written.
pub fn error_cdf(c: &Comparison, dir: &Path) -> Result<PathBuf, Error> {
    let path = dir.join("error_cdf.svg");
    let series = [
        ("IAT mean", &c.iat_mean_errors, RED),
        ("IAT std", &c.iat_std_errors, BLUE),
        ("RTT mean", &c.rtt_mean_errors, GREEN),
    ];
    let xmax = series
        .iter()
        .filter_map(|s| s.1.last())
        .fold(100.0f64, |m, v| m.max(v * 100.0))
        * 1.5;
    {
        let root = SVGBackend::new(&path, (800, 500)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| perr(&path, e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Relative error per flow (CDF)", ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(55)
            .build_cartesian_2d((FLOOR_PCT..xmax).log_scale(), 0.0..1.0)
            .map_err(|e| perr(&path, e))?;
        chart
            .configure_mesh()
            .x_desc("relative error (%)")
            .y_desc("fraction of flows")
            .draw()
            .map_err(|e| perr(&path, e))?;
        for (name, errs, color) in series {
            if errs.is_empty() {
                continue;
            }
            chart
                .draw_series(LineSeries::new(
                    cdf_points(errs, errs.len()),
                    color.stroke_width(2),
                ))
                .map_err(|e| perr(&path, e))?
                .label(format!("{name} ({} flows)", errs.len()))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        legend_and_present(
            &mut chart,
            &root,
            SeriesLabelPosition::LowerRight,
            0.8,
            &path,
        )?;
    }
    Ok(path)
}

/// Counts of values in `bins` logarithmic bins over `[lo, hi]`.
fn log_hist(values: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<u32> {
    let mut h = vec![0u32; bins];
    let (l, r) = (lo.ln(), hi.ln());
    for &v in values {
        if v <= 0.0 {
            continue;
        }
        let f = ((v.ln() - l) / (r - l) * bins as f64).floor();
        let i = (f.max(0.0) as usize).min(bins - 1);
        h[i] += 1;
    }
    h
}

/// Write the IAT-mean histogram; returns the file written.
pub fn iat_histogram(c: &Comparison, dir: &Path) -> Result<PathBuf, Error> {
    let path = dir.join("iat_hist.svg");
    let exact: Vec<f64> = c.pairs.iter().map(|p| p.exact.iat.mean_us).collect();
    let est: Vec<f64> = c
        .pairs
        .iter()
        .filter_map(|p| p.estimate.filter(|e| e.iat.n > 0).map(|e| e.iat.mean_us))
        .collect();
    let all = exact.iter().chain(est.iter()).filter(|v| **v > 0.0);
    let lo = all.clone().fold(f64::INFINITY, |m, v| m.min(*v));
    let hi = all.fold(0.0f64, |m, v| m.max(*v));
    let (lo, hi) = if lo.is_finite() && hi > lo {
        (lo / 1.05, hi * 1.05)
    } else {
        (1.0, 1e6)
    };
    let bins = 40;
    let he = log_hist(&exact, lo, hi, bins);
    let hs = log_hist(&est, lo, hi, bins);
    let ymax = he
        .iter()
        .chain(hs.iter())
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * 1.1;
    let edge = |i: usize| (lo.ln() + (hi.ln() - lo.ln()) * i as f64 / bins as f64).exp();
    let steps = |h: &[u32]| {
        let mut pts = vec![(edge(0), 0.0)];
        for (i, &n) in h.iter().enumerate() {
            pts.push((edge(i), n as f64));
            pts.push((edge(i + 1), n as f64));
        }
        pts.push((edge(bins), 0.0));
        pts
    };
    {
        let root = SVGBackend::new(&path, (800, 500)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| perr(&path, e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Per-flow IAT mean", ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(55)
            .build_cartesian_2d((lo..hi).log_scale(), 0.0..ymax)
            .map_err(|e| perr(&path, e))?;
        chart
            .configure_mesh()
            .x_label_formatter(&log_label)
            .x_desc("IAT mean (us)")
            .y_desc("flows")
            .draw()
            .map_err(|e| perr(&path, e))?;
        for (name, h, n, color) in [
            ("exact", &he, exact.len(), BLACK),
            ("estimated", &hs, est.len(), RED),
        ] {
            chart
                .draw_series(LineSeries::new(steps(h), color.stroke_width(2)))
                .map_err(|e| perr(&path, e))?
                .label(format!("{name} ({n} flows)"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        legend_and_present(
            &mut chart,
            &root,
            SeriesLabelPosition::MiddleRight,
            0.8,
            &path,
        )?;
    }
    Ok(path)
}

/// `--plot DIR` names a directory (or nothing yet): not an existing file.
pub fn check_dir(dir: &Path) -> Result<(), Error> {
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => Err(Error::Usage(format!(
            "--plot needs a directory: {} is a file",
            dir.display()
        ))),
        _ => Ok(()),
    }
}

/// Write every figure into `dir` (created if needed).
pub fn write_all(c: &Comparison, dir: &Path) -> Result<Vec<PathBuf>, Error> {
    check_dir(dir)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    Ok(vec![error_cdf(c, dir)?, iat_histogram(c, dir)?])
}
