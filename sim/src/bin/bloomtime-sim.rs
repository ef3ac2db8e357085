//! `bloomtime-sim`: the BloomTime Verilog, simulated by Verilator.
//!
//! ```text
//! bloomtime-sim replay TRACE... [--preset NAME] [--format table|csv|json] [--output PATH]
//! bloomtime-sim board [--link PATH] [--baud N]
//! ```
//!
//! * `replay`: the captures through the Verilated core (`bloomtime_sim::replay`);
//!   its CSV is byte for byte that of `bloomtime analyze --preset alchitry-cu-v1`
//!   (the preset the RTL implements, `config::HARDWARE_PRESET`).
//! * `board`: the Verilated board top, UART included, on a pseudo-terminal
//!   (`bloomtime_sim::board`): `bloomtime device --port PATH ...` drives it
//!   like the board's USB UART. Prints the pty's path on standard output,
//!   serves until SIGINT or SIGTERM, then removes the link and exits 0.
//!
//! Every error is one line on standard error (exit 2 for usage errors, 1
//! otherwise).

use bloomtime_host::device::pty::{stop_on_signals, PtyServer};
use bloomtime_host::Error;
use bloomtime_model::config::{preset, Config};
use bloomtime_model::report::Format;
use bloomtime_sim::board::{BoardModel, BoardSim, BOARDS};
use bloomtime_sim::replay::replay_traces;
use bloomtime_sim::{hw, Board1mTop, BoardTop, CFG};
use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

bloomtime_host::note_closed_stdout!();

#[derive(Parser, Debug)]
#[command(
    name = "bloomtime-sim",
    version,
    about = "The BloomTime Verilog simulated by Verilator: captures through the core, or a virtual board on a pseudo-terminal"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Replay captures through the Verilated core: per-flow statistics with
    /// the CSV of `bloomtime analyze --preset alchitry-cu-v1`, byte for byte.
    Replay(ReplayArgs),
    /// Serve the Verilated board top (UART included) on a pseudo-terminal,
    /// for `bloomtime device --port PATH`, until Ctrl-C.
    Board(BoardArgs),
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

#[derive(Args, Debug)]
struct ReplayArgs {
    /// Capture files (pcap or pcapng, Ethernet), merged by timestamp.
    #[arg(required = true, value_name = "TRACE")]
    traces: Vec<PathBuf>,
    /// Configuration preset: only the hardware's (alchitry-cu-v1) is synthesized.
    #[arg(long, default_value = bloomtime_model::config::HARDWARE_PRESET, value_name = "NAME")]
    preset: String,
    /// Output format: table, csv or json.
    #[arg(long, default_value = "table", value_parser = parse_format)]
    format: Format,
    /// Write the report here instead of standard output.
    #[arg(long, short, value_name = "PATH")]
    output: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct BoardArgs {
    /// Make this path a symlink to the pty (removed on exit).
    #[arg(long, value_name = "PATH")]
    link: Option<PathBuf>,
    /// The board's UART baud rate, one of those built: 12500000 (the
    /// default: 8 clocks a bit, the fastest the UART allows) or 1000000
    /// (the bitstream's default, 12.5 times slower).
    #[arg(long, value_name = "N")]
    baud: Option<u32>,
}

/// The configuration of `name`, if it is the hardware's.
fn synthesized(name: &str) -> Result<Config, Error> {
    let cfg = preset(name).map_err(|e| Error::Usage(e.0))?;
    if cfg != CFG {
        return Err(Error::Usage(format!(
            "preset {name} is not synthesized: the Verilog simulated here is the {hw} \
             design (use --preset {hw}, or `bloomtime analyze --preset {name}` for the model)",
            hw = bloomtime_model::config::HARDWARE_PRESET
        )));
    }
    Ok(cfg)
}

#[derive(Serialize)]
struct ReplayMeta<'a> {
    tool: &'static str,
    version: &'static str,
    preset: &'a str,
    config: Config,
    mode: &'static str,
    traces: Vec<String>,
    packets: u64,
    merge: bloomtime_host::analyze::MergeSummary,
    cycles: u64,
}

fn replay(a: &ReplayArgs) -> Result<(), Error> {
    let cfg = synthesized(&a.preset)?;
    match &a.output {
        Some(o) => bloomtime_host::cli::check_output_not_input("--output", o, &a.traces)?,
        None => bloomtime_host::cli::check_stdout()?,
    }
    let r = replay_traces(&a.traces)?;
    let meta = ReplayMeta {
        tool: "bloomtime-sim replay",
        version: env!("CARGO_PKG_VERSION"),
        preset: &a.preset,
        config: cfg,
        mode: "verilated core",
        traces: a.traces.iter().map(|p| p.display().to_string()).collect(),
        packets: r.packets,
        merge: r.merge,
        cycles: r.cycles,
    };
    let title = format!(
        "Verilated core of {} packets, preset {} ({})",
        r.packets, a.preset, cfg
    );
    let note = format!(
        "merge: consistent ({} events: {} opens, {} evicts; {} slots open after flush)",
        r.merge.events, r.merge.opens, r.merge.evicts, r.merge.open_slots_after_flush
    );
    bloomtime_host::cli::write_report(
        a.output.as_deref(),
        a.format,
        &title,
        &meta,
        &r.rows(),
        &r.counters,
        &note,
        false,
    )?;
    // After the report, so that a failure to write it stays one line.
    eprintln!(
        "bloomtime-sim: {} packets through the Verilated core in {:.2} s ({:.2} M packets/s, \
         {} clocks{})",
        r.packets,
        r.elapsed_s,
        r.packets as f64 / r.elapsed_s.max(1e-9) / 1e6,
        r.cycles,
        r.core_cpu_s
            .map(|c| format!(
                "; the core's thread {:.2} M packets per CPU second",
                r.packets as f64 / c.max(1e-9) / 1e6
            ))
            .unwrap_or_default()
    );
    Ok(())
}

fn board(a: &BoardArgs) -> Result<(), Error> {
    match a.baud.unwrap_or(hw::BOARD_BAUD) {
        hw::BOARD_BAUD => serve::<BoardTop>(a),
        hw::BOARD_1M_BAUD => serve::<Board1mTop>(a),
        b => Err(Error::Usage(format!(
            "no virtual board is built for {b} baud: --baud takes {} (a board at another baud \
             is one line in sim/build.rs TOPS)",
            BOARDS
                .iter()
                .map(|(b, _)| b.to_string())
                .collect::<Vec<_>>()
                .join(" or ")
        ))),
    }
}

fn serve<T: BoardModel>(a: &BoardArgs) -> Result<(), Error> {
    let stop = stop_on_signals().map_err(|e| Error::io("signal handlers", e))?;
    let mut srv = PtyServer::open(a.link.as_deref()).map_err(|e| match &a.link {
        Some(l) => Error::io(l, e),
        None => Error::io("pseudo-terminal", e),
    })?;
    let mut dev = BoardSim::<T>::new();
    // The pty's path for scripts; a closed standard output is no reason to stop.
    let mut so = std::io::stdout();
    let _ = writeln!(so, "{}", srv.path().display()).and_then(|_| so.flush());
    eprintln!(
        "bloomtime-sim: virtual board (the Verilated board top: {} MHz clock, UART at {} baud, \
         {} clocks a bit) on {}{}; Ctrl-C stops",
        T::CLOCK_HZ / 1_000_000,
        T::BAUD,
        T::DIVISOR,
        srv.path().display(),
        srv.link()
            .map(|l| format!(" (link {})", l.display()))
            .unwrap_or_default()
    );
    let t0 = Instant::now();
    let served = srv.serve(&mut dev, stop, None);
    let s = dev.stats();
    let port = srv.path().display().to_string();
    drop(srv);
    match served {
        Ok(_) => {
            eprintln!(
                "bloomtime-sim: stopped after {:.1} s: {} clocks simulated, {} bytes to the board \
                 and {} from it{}",
                t0.elapsed().as_secs_f64(),
                s.cycles,
                s.bytes_to_board,
                s.bytes_from_board,
                if s.framing_errors > 0 {
                    format!(", {} framing errors", s.framing_errors)
                } else {
                    String::new()
                }
            );
            Ok(())
        }
        Err(e) => Err(Error::io(format!("serving {port}"), e)),
    }
}

fn main() -> ExitCode {
    let cli: Cli = match bloomtime_host::cli::parse_args("bloomtime-sim") {
        Ok(c) => c,
        Err(code) => return code,
    };
    let r = match &cli.command {
        Command::Replay(a) => replay(a),
        Command::Board(a) => board(a),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that went away (`| head`): quiet, but not a success.
        Err(e) if e.is_broken_pipe() => ExitCode::from(e.exit_code()),
        Err(e) => {
            eprintln!("bloomtime-sim: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
