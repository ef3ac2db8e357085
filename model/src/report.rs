//! Flow reports: the CSV contract, JSON and a human-readable table. Every
//! tool that prints flows (analyze, bloomtime-sim replay, device commands)
//! goes through these functions, so equal sums print equal bytes.

use crate::counters::Counters;
use crate::stats::{FlowRow, Moments};
use serde::Serialize;
use std::io::{self, Write};

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

fn us(v: f64) -> String {
    format!("{v:.3}")
}

fn cells(m: &Moments, all: bool) -> Vec<String> {
    let mut c = vec![m.n.to_string()];
    let vals: &[f64] = if all {
        &[m.mean_us, m.std_us, m.min_us, m.max_us]
    } else {
        &[m.mean_us, m.std_us]
    };
    for v in vals {
        c.push(cell(m, *v));
    }
    c
}

/// A figure's cell: empty without samples or where the figure is not kept.
fn cell(m: &Moments, v: f64) -> String {
    if m.n == 0 || !v.is_finite() {
        String::new()
    } else {
        us(v)
    }
}

/// One CSV line (no newline).
pub fn csv_line(r: &FlowRow) -> String {
    csv_line_with(r, false)
}

/// One CSV line, with the percentile columns if asked for.
pub fn csv_line_with(r: &FlowRow, percentiles: bool) -> String {
    let mut c = vec![
        r.key.proto.to_string(),
        r.key.src_string(),
        r.key.sport.to_string(),
        r.key.dst_string(),
        r.key.dport.to_string(),
        r.packets.to_string(),
    ];
    c.extend(cells(&r.iat, true));
    c.extend(cells(&r.rtt, false));
    if percentiles {
        for m in [&r.iat, &r.rtt] {
            c.extend(m.pct_us.iter().map(|&v| cell(m, v)));
        }
    }
    c.join(",")
}

/// Rows must already be sorted by key.
pub fn write_csv<W: Write>(w: &mut W, rows: &[FlowRow]) -> io::Result<()> {
    write_csv_with(w, rows, false)
}

/// The CSV, with the percentile columns if asked for.
pub fn write_csv_with<W: Write>(w: &mut W, rows: &[FlowRow], percentiles: bool) -> io::Result<()> {
    writeln!(w, "{}", csv_header(percentiles))?;
    for r in rows {
        writeln!(w, "{}", csv_line_with(r, percentiles))?;
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
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            csv_line_with(r, percentiles)
                .split(',')
                .map(str::to_string)
                .collect()
        })
        .collect();
    let mut width: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for r in &body {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.len());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == 1 || i == 3 {
                    format!("{c:<w$}", w = width[i])
                } else {
                    format!("{c:>w$}", w = width[i])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    writeln!(w, "{}", line(head.clone()))?;
    for r in &body {
        writeln!(w, "{}", line(r.iter().map(|s| s.as_str()).collect()))?;
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
    use crate::key::FlowKey;

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
