//! The Alchitry Cu build: Verilog from RustHDL, `yosys synth_ice40`,
//! `nextpnr-ice40 --hx8k --package cb132 --freq F` for each placement seed,
//! `icepack`. Every tool's exit status is checked; a clock missed on any
//! seed fails the build (and no bitstream is written). Writes `report.json`
//! with the figures, each seed's Fmax among them.
//!
//! `bloomtime-synth [--out DIR] [--baud N] [--seeds 1,2,3] [--clock-div N]
//! [--allow-timing-fail]`
//!
//! The board runs on the 100 MHz oscillator, or with `--clock-div N` (a
//! power of two) on the oscillator divided by N in the fabric
//! (`tops::board_verilog_divided`), and the target is that clock.
//! `--allow-timing-fail` (`just synth-fit` and `just bench`: figures even for a missed clock) still
//! fails on any tool error or a design that does not fit, writes the report,
//! says loudly that timing failed, and writes no bitstream.

use bloomtime_hw::tops::{self, OSC_HZ};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

struct Args {
    out: PathBuf,
    baud: u32,
    seeds: Vec<u64>,
    clock_div: u32,
    allow_timing_fail: bool,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        out: PathBuf::from("build/alchitry-cu"),
        baud: 1_000_000,
        seeds: vec![1],
        clock_div: 1,
        allow_timing_fail: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or(format!("{k} needs a value"));
        match k.as_str() {
            "--out" => a.out = PathBuf::from(v()?),
            "--baud" => {
                a.baud = v()?
                    .parse()
                    .map_err(|_| "--baud takes a number".to_string())?
            }
            "--seed" | "--seeds" => {
                a.seeds = v()?
                    .split(',')
                    .map(|s| s.trim().parse::<u64>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| format!("{k} takes numbers separated by commas"))?
            }
            "--clock-div" => {
                a.clock_div = v()?
                    .parse()
                    .ok()
                    .filter(|d| [1, 2, 4].contains(d))
                    .ok_or("--clock-div takes 1, 2 or 4".to_string())?
            }
            "--allow-timing-fail" => a.allow_timing_fail = true,
            _ => {
                return Err(format!(
                    "unknown argument '{k}' (--out DIR, --baud N, --seeds N[,N..], \
                     --clock-div N, --allow-timing-fail)"
                ))
            }
        }
    }
    Ok(a)
}

/// Run a tool; on failure, the last lines of its log.
fn run(name: &str, cmd: &mut Command, log: &Path) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {name}: {e} (install it: just tools)"))?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text += &String::from_utf8_lossy(&out.stderr);
    std::fs::write(log, &text).map_err(|e| format!("cannot write {}: {e}", log.display()))?;
    if out.status.success() {
        return Ok(());
    }
    let tail: Vec<&str> = text.lines().rev().take(15).collect();
    Err(format!(
        "{name} failed ({}); last lines of {}:\n{}",
        out.status,
        log.display(),
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    ))
}

/// What one placement seed gave.
struct Placed {
    seed: u64,
    /// Each clock net's achieved and required MHz.
    clocks: Vec<(String, f64, f64)>,
    /// Every clock at or above its frequency.
    met: bool,
    /// The board's clock domain: its achieved MHz.
    fmax: f64,
    asc: PathBuf,
    log: PathBuf,
    report: serde_json::Value,
}

/// Place and route for `seed` into `asc`; the oscillator's own domain (only
/// the divider, when there is one) must reach the oscillator's frequency,
/// the board's domain `target_mhz`.
fn place(a: &Args, seed: u64, json: &Path, target_mhz: f64) -> Result<Placed, String> {
    // The first seed's files keep the plain names (the bitstream is its).
    let file = |stem: &str, ext: &str| {
        if seed == a.seeds[0] {
            a.out.join(format!("{stem}.{ext}"))
        } else {
            a.out.join(format!("{stem}-seed{seed}.{ext}"))
        }
    };
    let (asc, log, pnr_report) = (
        file("bloomtime", "asc"),
        file("nextpnr", "log"),
        file("nextpnr", "json"),
    );
    let pcf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../constraints/alchitry_cu.pcf");
    let freq = format!("{target_mhz}");
    eprintln!("synth: nextpnr-ice40 --hx8k --package cb132 --freq {freq} (seed {seed})");
    let _ = std::fs::remove_file(&pnr_report);
    let pnr = run(
        "nextpnr-ice40",
        Command::new("nextpnr-ice40")
            .args(["--hx8k", "--package", "cb132", "--freq", &freq])
            .arg("--seed")
            .arg(seed.to_string())
            .arg("--json")
            .arg(json)
            .arg("--pcf")
            .arg(&pcf)
            .arg("--asc")
            .arg(&asc)
            .arg("--report")
            .arg(&pnr_report),
        &log,
    );
    // nextpnr fails on missed timing but still writes its report.
    let report: serde_json::Value = match std::fs::read_to_string(&pnr_report) {
        Ok(t) => serde_json::from_str(&t).map_err(|e| format!("bad nextpnr report: {e}"))?,
        Err(_) => {
            return Err(pnr
                .err()
                .unwrap_or_else(|| "nextpnr wrote no report".into()))
        }
    };
    let osc_mhz = OSC_HZ as f64 / 1e6;
    let clocks: Vec<(String, f64, f64)> = report["fmax"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(name, v)| {
                    let need = match a.clock_div > 1 && !name.contains(tops::DIVIDED_CLOCK) {
                        true => osc_mhz,
                        false => target_mhz,
                    };
                    (name.clone(), v["achieved"].as_f64().unwrap_or(0.0), need)
                })
                .collect()
        })
        .unwrap_or_default();
    let met = !clocks.is_empty() && clocks.iter().all(|(_, got, need)| got >= need);
    let fmax = clocks
        .iter()
        .filter(|(_, _, need)| *need == target_mhz)
        .map(|(_, got, _)| *got)
        .reduce(f64::min)
        .unwrap_or(0.0);
    if met {
        pnr?;
    }
    Ok(Placed {
        seed,
        clocks,
        met,
        fmax,
        asc,
        log,
        report,
    })
}

fn build(a: &Args) -> Result<(), String> {
    std::fs::create_dir_all(&a.out)
        .map_err(|e| format!("cannot create {}: {e}", a.out.display()))?;
    let verilog = a.out.join("bloomtime.v");
    let json = a.out.join("bloomtime.json");
    let bin = a.out.join("bloomtime.bin");
    let _ = std::fs::remove_file(&bin);
    let clock_hz = OSC_HZ / a.clock_div;
    let target_mhz = clock_hz as f64 / 1e6;

    let (text, top) = match a.clock_div {
        1 => (tops::board_verilog(OSC_HZ, a.baud), "top"),
        div => (tops::board_verilog_divided(div, a.baud), tops::DIVIDED_TOP),
    };
    eprintln!(
        "synth: Verilog of the board top at {target_mhz} MHz -> {}",
        verilog.display()
    );
    std::fs::write(&verilog, text)
        .map_err(|e| format!("cannot write {}: {e}", verilog.display()))?;

    eprintln!("synth: yosys synth_ice40 -top {top}");
    run(
        "yosys",
        Command::new("yosys").arg("-p").arg(format!(
            "read_verilog {}; synth_ice40 -top {top} -json {}; stat",
            verilog.display(),
            json.display()
        )),
        &a.out.join("yosys.log"),
    )?;

    let mut placed = Vec::new();
    for &seed in &a.seeds {
        placed.push(place(a, seed, &json, target_mhz)?);
    }
    // The board's clock on the slowest seed (the divider's own domain is
    // checked against the oscillator).
    let slowest = placed
        .iter()
        .min_by(|x, y| x.fmax.total_cmp(&y.fmax))
        .expect("at least one seed");
    let fmax = slowest.fmax;
    let timing_met = placed.iter().all(|p| p.met);
    let round = |x: f64| (x * 100.0).round() / 100.0;
    let first = &placed[0].report;
    let util = |k: &str, f: &str| first["utilization"][k][f].as_u64().unwrap_or(0);
    let summary = serde_json::json!({
        "board": "alchitry-cu",
        "device": "iCE40 HX8K CB132",
        "clock_mhz": target_mhz,
        "clock_div": a.clock_div,
        "target_mhz": target_mhz,
        "fmax_mhz": round(fmax),
        "timing_met": timing_met,
        "lc_used": util("ICESTORM_LC", "used"),
        "lc_total": util("ICESTORM_LC", "available"),
        "bram_used": util("ICESTORM_RAM", "used"),
        "bram_total": util("ICESTORM_RAM", "available"),
        "baud": a.baud,
        // Board clocks a UART bit (`uart::divisor`, as the board computes it).
        "uart_divisor": bloomtime_hw::uart::divisor(
            clock_hz as u64,
            a.baud as u64,
            bloomtime_hw::uart::RX_MIN_DIVISOR
        ),
        "seed": a.seeds[0],
        "seeds": placed.iter().map(|p| serde_json::json!({
            "seed": p.seed,
            "timing_met": p.met,
            "clocks": p.clocks.iter().map(|(n, got, need)| serde_json::json!({
                "net": n, "fmax_mhz": round(*got), "target_mhz": need,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    let rep = a.out.join("report.json");
    std::fs::write(&rep, serde_json::to_string_pretty(&summary).unwrap() + "\n")
        .map_err(|e| format!("cannot write {}: {e}", rep.display()))?;
    eprintln!("synth: {summary}");
    let fits = summary["lc_used"].as_u64() <= summary["lc_total"].as_u64()
        && summary["bram_used"].as_u64() <= summary["bram_total"].as_u64()
        && summary["lc_total"].as_u64() > Some(0);
    if !fits {
        return Err(format!("the design does not fit: {summary}"));
    }
    if !timing_met {
        let worst = match slowest.met {
            true => placed.iter().find(|p| !p.met).expect("a seed missed"),
            false => slowest,
        };
        let msg = format!(
            "{:.2} MHz < {target_mhz} MHz on seed {} (its critical path in {})",
            worst.fmax,
            worst.seed,
            worst.log.display()
        );
        if a.allow_timing_fail {
            eprintln!(
                "synth: TIMING NOT MET: {msg} (allowed by --allow-timing-fail: placed and \
                 routed, no bitstream written)"
            );
            return Ok(());
        }
        return Err(format!("timing failed: {msg}"));
    }

    eprintln!("synth: icepack -> {}", bin.display());
    run(
        "icepack",
        Command::new("icepack").arg(&placed[0].asc).arg(&bin),
        &a.out.join("icepack.log"),
    )?;
    eprintln!("synth: done: {} ({})", bin.display(), rep.display());
    Ok(())
}

fn main() -> ExitCode {
    let a = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bloomtime-synth: {e}");
            return ExitCode::from(2);
        }
    };
    match build(&a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bloomtime-synth: {e}");
            ExitCode::from(1)
        }
    }
}
