//! Flow reports: the CSV contract, JSON and a human-readable table. Every
//! tool that prints flows (analyze, bloomtime-sim replay, device commands)
//! goes through these functions, so equal sums print equal bytes.

use crate::counters::Counters;
use crate::key::FlowKey;
use crate::stats::{FlowRow, Moments};
use serde::Serialize;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::{Ipv4Addr, Ipv6Addr};

/// The CSV header, exactly.
pub const CSV_HEADER: &str = "proto,src,sport,dst,dport,packets,iat_samples,iat_mean_us,iat_std_us,iat_min_us,iat_max_us,rtt_samples,rtt_mean_us,rtt_std_us";

/// The columns `--percentiles` appends after the contract's 14.
pub const CSV_PERCENTILE_HEADER: &str =
    "iat_p50_us,iat_p90_us,iat_p99_us,rtt_p50_us,rtt_p90_us,rtt_p99_us";

/// The CSV header, with or without the percentile columns.
pub fn csv_header(percentiles: bool) -> String {
    if percentiles {
        format!("{CSV_HEADER},{CSV_PERCENTILE_HEADER}")
    } else {
        CSV_HEADER.to_string()
    }
}

/// Output format of a flow report.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    Table,
    Csv,
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "table" => Ok(Format::Table),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            _ => Err(format!("unknown format '{s}' (table, csv, json)")),
        }
    }
}

/// A figure's cell: empty without samples or where the figure is not kept;
/// else microseconds to three decimals.
fn push_cell(out: &mut String, m: &Moments, v: f64) {
    if m.n != 0 && v.is_finite() {
        let _ = write!(out, "{v:.3}");
    }
}

/// A sample kind's cells, each after a comma: n, mean, std, and with
/// `all` min and max.
fn push_cells(out: &mut String, m: &Moments, all: bool) {
    let _ = write!(out, ",{}", m.n);
    let vals: &[f64] = if all {
        &[m.mean_us, m.std_us, m.min_us, m.max_us]
    } else {
        &[m.mean_us, m.std_us]
    };
    for &v in vals {
        out.push(',');
        push_cell(out, m, v);
    }
}

/// An address in standard text form (as `FlowKey::src_string`).
fn push_addr(out: &mut String, k: &FlowKey, a: &[u8; 16]) {
    let _ = if k.v6 {
        write!(out, "{}", Ipv6Addr::from(*a))
    } else {
        write!(out, "{}", Ipv4Addr::new(a[12], a[13], a[14], a[15]))
    };
}

/// Append one CSV line (no newline) to `out`: written in place, cell by
/// cell, rather than as a vector of strings joined (a report of many
/// flows spent most of its time allocating).
fn push_csv_line(out: &mut String, r: &FlowRow, percentiles: bool) {
    let k = &r.key;
    let _ = write!(out, "{},", k.proto);
    push_addr(out, k, &k.src);
    let _ = write!(out, ",{},", k.sport);
    push_addr(out, k, &k.dst);
    let _ = write!(out, ",{},{}", k.dport, r.packets);
    push_cells(out, &r.iat, true);
    push_cells(out, &r.rtt, false);
    if percentiles {
        for m in [&r.iat, &r.rtt] {
            for &v in &m.pct_us {
                out.push(',');
                push_cell(out, m, v);
            }
        }
    }
}

/// One CSV line (no newline).
pub fn csv_line(r: &FlowRow) -> String {
    csv_line_with(r, false)
}

/// One CSV line, with the percentile columns if asked for.
pub fn csv_line_with(r: &FlowRow, percentiles: bool) -> String {
    let mut s = String::with_capacity(128);
    push_csv_line(&mut s, r, percentiles);
    s
}

/// Rows must already be sorted by key.
pub fn write_csv<W: Write>(w: &mut W, rows: &[FlowRow]) -> io::Result<()> {
    write_csv_with(w, rows, false)
}

/// The CSV, with the percentile columns if asked for.
pub fn write_csv_with<W: Write>(w: &mut W, rows: &[FlowRow], percentiles: bool) -> io::Result<()> {
    writeln!(w, "{}", csv_header(percentiles))?;
    let mut line = String::with_capacity(256);
    for r in rows {
        line.clear();
        push_csv_line(&mut line, r, percentiles);
        line.push('\n');
        w.write_all(line.as_bytes())?;
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonReport<'a, M: Serialize> {
    meta: &'a M,
    counters: &'a Counters,
    flows: &'a [FlowRow],
}

/// JSON: `{ "meta": ..., "counters": {...}, "flows": [...] }`.
pub fn write_json<W: Write, M: Serialize>(
    w: &mut W,
    meta: &M,
    counters: &Counters,
    rows: &[FlowRow],
) -> io::Result<()> {
    serde_json::to_writer_pretty(
        &mut *w,
        &JsonReport {
            meta,
            counters,
            flows: rows,
        },
    )?;
    writeln!(w)
}

/// A table for people: aligned columns, then the counters.
pub fn write_table<W: Write>(w: &mut W, rows: &[FlowRow], counters: &Counters) -> io::Result<()> {
    write_table_with(w, rows, counters, false)
}

/// The table, with the percentile columns if asked for.
pub fn write_table_with<W: Write>(
    w: &mut W,
    rows: &[FlowRow],
    counters: &Counters,
    percentiles: bool,
) -> io::Result<()> {
    let mut head = vec![
        "proto",
        "src",
        "sport",
        "dst",
        "dport",
        "pkts",
        "iat n",
        "iat mean us",
        "iat std us",
        "iat min us",
        "iat max us",
        "rtt n",
        "rtt mean us",
        "rtt std us",
    ];
    if percentiles {
        head.extend([
            "iat p50 us",
            "iat p90 us",
            "iat p99 us",
            "rtt p50 us",
            "rtt p90 us",
            "rtt p99 us",
        ]);
    }
    // Every row's CSV line in one string, and where each cell ends (CSV
    // cells hold no commas).
    let cols = head.len();
    let mut text = String::with_capacity(rows.len() * 96);
    let mut ends: Vec<usize> = Vec::with_capacity(rows.len() * cols);
    for r in rows {
        let start = text.len();
        push_csv_line(&mut text, r, percentiles);
        let line_end = text.len();
        ends.extend(
            text[start..line_end]
                .match_indices(',')
                .map(|(i, _)| start + i),
        );
        ends.push(line_end);
    }
    debug_assert_eq!(ends.len(), rows.len() * cols);
    let cell = |row: usize, i: usize| -> &str {
        let end = ends[row * cols + i];
        let start = if i == 0 {
            if row == 0 {
                0
            } else {
                ends[row * cols - 1]
            }
        } else {
            ends[row * cols + i - 1] + 1
        };
        &text[start..end]
    };
    let mut width: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for row in 0..rows.len() {
        for (i, wd) in width.iter_mut().enumerate() {
            *wd = (*wd).max(cell(row, i).len());
        }
    }
    let mut out = String::with_capacity(256);
    let mut line = |w: &mut W, cells: &mut dyn Iterator<Item = &str>| -> io::Result<()> {
        out.clear();
        for (i, c) in cells.enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            let _ = if i == 1 || i == 3 {
                write!(out, "{c:<w$}", w = width[i])
            } else {
                write!(out, "{c:>w$}", w = width[i])
            };
        }
        out.push('\n');
        w.write_all(out.as_bytes())
    };
    line(w, &mut head.iter().copied())?;
    for row in 0..rows.len() {
        line(w, &mut (0..cols).map(|i| cell(row, i)))?;
    }
    writeln!(w, "\n{} flows", rows.len())?;
    let nonzero: Vec<String> = crate::counters::COUNTERS
        .iter()
        .filter(|c| counters.get(**c) != 0)
        .map(|c| format!("{} {}", c.name(), counters.get(*c)))
        .collect();
    writeln!(w, "counters: {}", nonzero.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_empty_cells_without_samples() {
        let r = FlowRow {
            key: FlowKey::v4(6, [10, 0, 0, 1], 1234, [10, 0, 0, 2], 80),
            packets: 3,
            iat: Moments {
                n: 2,
                mean_us: 1.0,
                std_us: 0.25,
                min_us: 0.75,
                max_us: 1.25,
                pct_us: [1.0, 1.5, f64::NAN],
            },
            rtt: Moments::default(),
        };
        assert_eq!(
            csv_line_with(&r, true),
            "6,10.0.0.1,1234,10.0.0.2,80,3,2,1.000,0.250,0.750,1.250,0,,,1.000,1.500,,,,"
        );
        assert_eq!(
            csv_header(true).split(',').count(),
            csv_line_with(&r, true).split(',').count()
        );
        assert_eq!(
            csv_line(&r),
            "6,10.0.0.1,1234,10.0.0.2,80,3,2,1.000,0.250,0.750,1.250,0,,"
        );
        assert_eq!(
            CSV_HEADER.split(',').count(),
            csv_line(&r).split(',').count()
        );
    }
}
