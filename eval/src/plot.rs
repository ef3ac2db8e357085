//! SVG helpers of the figures (plotters, SVG backend only: no system fonts
//! or libraries needed), shared by the evaluation's figures ([`crate::plots`])
//! and `bloomtime compare`'s (`bloomtime_host::plot`).

use crate::error::Error;
use plotters::prelude::*;
use std::path::Path;

/// Errors below this (in percent) are drawn at it on log axes.
pub const FLOOR_PCT: f64 = 0.01;

/// A plotting error as an I/O error on `path` (one line).
pub fn perr<E: std::fmt::Debug>(path: &Path, e: E) -> Error {
    Error::io(
        path,
        std::io::Error::other(
            format!("{e:?}")
                .lines()
                .next()
                .unwrap_or("plot error")
                .to_string(),
        ),
    )
}

/// Points of a step CDF of sorted values (in percent, floored), each step
/// `1 / total` high (`total` >= the values: the rest are off the plot).
pub fn cdf_points(sorted: &[f64], total: usize) -> Vec<(f64, f64)> {
    let n = total.max(1) as f64;
    let mut pts = Vec::with_capacity(2 * sorted.len() + 1);
    let mut prev = 0.0;
    for (i, v) in sorted.iter().enumerate() {
        let x = (v * 100.0).max(FLOOR_PCT);
        pts.push((x, prev));
        prev = (i + 1) as f64 / n;
        pts.push((x, prev));
    }
    pts
}

/// Draw the chart's legend at `pos`, on white of the given opacity, and
/// write the file.
pub fn legend_and_present<'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    root: &DrawingArea<SVGBackend<'a>, plotters::coord::Shift>,
    pos: SeriesLabelPosition,
    opacity: f64,
    path: &Path,
) -> Result<(), Error> {
    chart
        .configure_series_labels()
        .position(pos)
        .background_style(WHITE.mix(opacity))
        .border_style(BLACK)
        .draw()
        .map_err(|e| perr(path, e))?;
    root.present().map_err(|e| perr(path, e))
}

/// Label 1, 2 and 5 times a power of ten; nothing elsewhere (log axes put
/// ticks at every integer multiple).
pub fn log_label(v: &f64) -> String {
    if *v <= 0.0 {
        return String::new();
    }
    let e = v.log10().floor();
    let m = v / 10f64.powf(e);
    if [1.0, 2.0, 5.0].iter().any(|k| (m - k).abs() < 1e-6 * k) {
        let x = (m.round()) * 10f64.powf(e);
        if x >= 1.0 {
            format!("{x:.0}")
        } else {
            format!("{x}")
        }
    } else {
        String::new()
    }
}
