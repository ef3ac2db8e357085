//! Flags of the `bloomtime` command and `run`.

use crate::analyze::{self, Analyzer};
use crate::compare::{self, CompareReport};
use crate::error::Error;
use bloomtime_model::config::{bram, fmt_ns, preset, Config, PRESETS};
use bloomtime_model::counters::{Counter, Counters};
use bloomtime_model::report::{self, Format};
use bloomtime_model::stats::FlowRow;
use bloomtime_traces::gen::{self, GenOptions, Mix};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Parser, Debug)]
#[command(
    name = "bloomtime",
    version,
    about = "Per-flow inter-arrival time and RTT estimation with Bloom-filter time buckets"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Per-flow IAT and RTT of captures: the golden model's estimate, or exact.
    Analyze(AnalyzeArgs),
    /// Estimate against exact on the same packets: coverage, errors, state.
    Compare(CompareArgs),
    /// Generate a synthetic trace (pcap, ns timestamps) with its ground truth.
    Gen(GenArgs),
    /// The configuration presets: parameters and memory.
    Presets(PresetsArgs),
    /// Fidelity evaluation: every preset and a sweep of configurations over
    /// real and generated traces, errors split by cause (results.csv, plots).
    Eval(bloomtime_eval::EvalArgs),
    /// Drive a board (or a model device) over its serial port.
    Device(crate::device::cmd::DeviceArgs),
    /// Per-flow IAT and RTT of an interface's packets, live (Linux, root).
    Live(LiveArgs),
}

#[derive(Args, Debug)]
pub struct LiveArgs {
    /// The network interface (Ethernet, loopback or raw IP such as tun).
    #[arg(long, short, value_name = "IF")]
    pub interface: String,
    /// Exact per-flow statistics instead of the estimate.
    #[arg(long)]
    pub exact: bool,
    /// Configuration preset (see `bloomtime presets`).
    #[arg(long, default_value = "alchitry-cu", value_name = "NAME")]
    pub preset: String,
    /// Seconds between status lines (packets/s, flows active, the kernel's
    /// drops) and IPFIX exports of the flows active in the interval.
    #[arg(long, default_value_t = 1.0, value_name = "S", value_parser = parse_seconds)]
    pub interval: f64,
    /// Stop after this many seconds (else at SIGINT or SIGTERM).
    #[arg(long, value_name = "S", value_parser = parse_seconds)]
    pub duration: Option<f64>,
    /// Output format of the final report: table, csv or json.
    #[arg(long, default_value = "table", value_parser = parse_format)]
    pub format: Format,
    /// Write the report here instead of standard output.
    #[arg(long, short, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Add p50, p90 and p99 of IAT and RTT (as `analyze --percentiles`).
    #[arg(long)]
    pub percentiles: bool,
    /// Also send the flows to this IPFIX collector over UDP (`tcp://` for
    /// TCP): those active in each interval, and at the end the rest
    /// (packetDeltaCount: the packets since the flow's previous record).
    #[arg(long, value_name = "[tcp://]HOST:PORT", value_parser = crate::ipfix::parse_target)]
    pub ipfix: Option<crate::ipfix::Target>,
    /// With `--ipfix` and the estimate: also send each flow's start and
    /// end time (flowStart/flowEnd; `--exact` always sends them). Costs
    /// the estimate a fifth to a quarter of its speed when its table is
    /// much smaller than the traffic's flows (docs/IPFIX.md).
    #[arg(long, requires = "ipfix")]
    pub flow_times: bool,
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 1e7 => Ok(v),
        _ => Err(format!("'{s}' is not a number of seconds above 0")),
    }
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// Capture files (pcap or pcapng; Ethernet, Linux cooked SLL/SLL2, raw IP or BSD loopback), merged by timestamp.
    #[arg(required = true, value_name = "TRACE")]
    pub traces: Vec<PathBuf>,
    /// Exact per-flow statistics instead of the estimate.
    #[arg(long)]
    pub exact: bool,
    /// Configuration preset (see `bloomtime presets`).
    #[arg(long, default_value = "alchitry-cu", value_name = "NAME")]
    pub preset: String,
    /// Output format: table, csv or json.
    #[arg(long, default_value = "table", value_parser = parse_format)]
    pub format: Format,
    /// Write the report here instead of standard output.
    #[arg(long, short, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Add p50, p90 and p99 of IAT and RTT (six columns after the CSV's 14):
    /// from the slots' histograms for a preset that keeps them (empty for
    /// one that does not), exact with `--exact`.
    #[arg(long)]
    pub percentiles: bool,
    /// Also send every flow to this IPFIX collector over UDP, or TCP with
    /// `tcp://` (RFC 7011; the timing figures as enterprise elements,
    /// docs/IPFIX.md). An unreachable collector is a warning, not an error.
    #[arg(long, value_name = "[tcp://]HOST:PORT", value_parser = crate::ipfix::parse_target)]
    pub ipfix: Option<crate::ipfix::Target>,
    /// With `--ipfix` and the estimate: also send each flow's start and
    /// end time (flowStart/flowEnd; `--exact` always sends them). Costs
    /// the estimate a fifth to a quarter of its speed when its table is
    /// much smaller than the traffic's flows (docs/IPFIX.md).
    #[arg(long, requires = "ipfix")]
    pub flow_times: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CompareFormat {
    Table,
    Json,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Capture files, merged by timestamp.
    #[arg(required = true, value_name = "TRACE")]
    pub traces: Vec<PathBuf>,
    /// Configuration preset of the estimate.
    #[arg(long, default_value = "alchitry-cu", value_name = "NAME")]
    pub preset: String,
    /// Write figures (error CDF, IAT histogram; SVG) into this directory.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: CompareFormat,
    /// Write the report here instead of standard output.
    #[arg(long, short, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct GenArgs {
    /// Output capture (classic pcap, nanosecond timestamps).
    #[arg(value_name = "OUT.pcap")]
    pub out: PathBuf,
    /// Write the ground truth (JSON) here.
    #[arg(long, value_name = "OUT.json")]
    pub truth: Option<PathBuf>,
    /// Start from the committed demo trace's options (other flags override).
    #[arg(long)]
    pub demo: bool,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Conversations.
    #[arg(long)]
    pub flows: Option<u32>,
    /// Packets to generate (generation stops there or at the duration).
    #[arg(long)]
    pub packets: Option<u64>,
    /// Trace length in seconds.
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Flow kinds and weights, e.g. `poisson=2,ping=1,tcp=1` (kinds:
    /// constant, poisson, bursty, heavy, ping, tcp).
    #[arg(long, value_parser = |s: &str| s.parse::<Mix>())]
    pub mix: Option<Mix>,
    /// Smallest conversation RTT in microseconds.
    #[arg(long, value_name = "US")]
    pub rtt_min_us: Option<f64>,
    /// Largest conversation RTT in microseconds.
    #[arg(long, value_name = "US")]
    pub rtt_max_us: Option<f64>,
    /// Fraction of conversations with one 802.1Q tag.
    #[arg(long)]
    pub vlan: Option<f64>,
    /// Fraction of conversations with two tags (QinQ).
    #[arg(long)]
    pub qinq: Option<f64>,
    /// Fraction of IPv6 conversations.
    #[arg(long)]
    pub ipv6: Option<f64>,
    /// Captured bytes per frame.
    #[arg(long)]
    pub snaplen: Option<u32>,
}

#[derive(Args, Debug)]
pub struct PresetsArgs {
    #[arg(long, value_enum, default_value = "table")]
    pub format: CompareFormat,
    /// Print only the name of the preset the RTL (the board, the virtual
    /// board, `bloomtime-sim`) implements.
    #[arg(long)]
    pub hardware: bool,
}

/// The command line of the tool `name`, parsed; or the exit code after
/// help or version (0) or a bad command line, reported as one line on
/// standard error (2). Shared by every binary of the workspace.
pub fn parse_args<C: clap::Parser>(name: &str) -> Result<C, std::process::ExitCode> {
    use clap::error::ErrorKind;
    C::try_parse().map_err(|e| match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            std::process::ExitCode::from(if e.use_stderr() { 2 } else { 0 })
        }
        _ => {
            eprintln!("{name}: {} (see {name} --help)", clap_error_line(&e));
            std::process::ExitCode::from(2)
        }
    })
}

/// clap's message for a bad command line, up to its usage lines, as one line.
pub fn clap_error_line(e: &clap::Error) -> String {
    let msg = e.render().to_string();
    let line = msg
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    line.strip_prefix("error: ").unwrap_or(&line).to_string()
}

fn get_preset(name: &str) -> Result<Config, Error> {
    preset(name).map_err(|e| Error::Usage(e.0))
}

/// Refuse to write `output` (the value of `flag`) over one of the captures
/// a command reads: an existing `output` must not be the same file as any
/// of `inputs`, compared by device and inode, so that another spelling of
/// the path, a symlink or a hard link is caught too. Every command that
/// reads captures and writes a file calls it before reading (`analyze`,
/// `compare`, `device replay`, `bloomtime-sim replay`).
pub fn check_output_not_input<P: AsRef<Path>>(
    flag: &str,
    output: &Path,
    inputs: &[P],
) -> Result<(), Error> {
    let Ok(out) = std::fs::metadata(output) else {
        // Not there yet (or unreadable): it cannot be a capture being read.
        return Ok(());
    };
    for input in inputs {
        let input = input.as_ref();
        let Ok(m) = std::fs::metadata(input) else {
            continue;
        };
        if (m.dev(), m.ino()) == (out.dev(), out.ino()) {
            return Err(Error::Usage(format!(
                "{flag} {} is the same file as the capture {}: refusing to overwrite an input",
                output.display(),
                input.display()
            )));
        }
    }
    Ok(())
}

/// Standard output was closed when the process started.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Note whether standard output is closed. Rust's runtime reopens a closed
/// standard output on `/dev/null` before `main`, where a report would be
/// lost with exit 0: a binary calls this earlier, from a constructor
/// ([`crate::note_closed_stdout!`]).
pub fn note_stdout_at_start() {
    use nix::fcntl::{fcntl, FcntlArg};
    let closed = fcntl(1, FcntlArg::F_GETFD) == Err(nix::errno::Errno::EBADF);
    STDOUT_CLOSED.store(closed, Ordering::Relaxed);
}

/// An error if the report would go to a standard output that was closed at
/// start (see [`note_stdout_at_start`]).
pub fn check_stdout() -> Result<(), Error> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Err(Error::io(
            "<stdout>",
            io::Error::other("closed, the report would be lost (use -o FILE)"),
        ));
    }
    Ok(())
}

/// Before any work: the report's destination can take it.
fn check_output<P: AsRef<Path>>(output: Option<&Path>, inputs: &[P]) -> Result<(), Error> {
    match output {
        Some(o) => check_output_not_input("--output", o, inputs),
        None => check_stdout(),
    }
}

/// Where a report goes: a file or standard output.
pub(crate) fn with_output(
    output: Option<&Path>,
    f: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), Error> {
    if output.is_none() {
        check_stdout()?;
    }
    match output {
        Some(p) => {
            let file = File::create(p).map_err(|e| Error::io(p, e))?;
            let mut w = BufWriter::new(file);
            f(&mut w).map_err(|e| Error::io(p, e))?;
            w.flush().map_err(|e| Error::io(p, e))
        }
        None => {
            let out = io::stdout();
            let mut w = BufWriter::new(out.lock());
            f(&mut w).map_err(|e| Error::io("<stdout>", e))?;
            w.flush().map_err(|e| Error::io("<stdout>", e))
        }
    }
}

fn trace_names(paths: &[PathBuf]) -> Vec<String> {
    paths.iter().map(|p| p.display().to_string()).collect()
}

#[derive(Serialize)]
struct AnalyzeMeta<'a> {
    tool: &'static str,
    version: &'static str,
    preset: &'a str,
    config: Config,
    mode: &'static str,
    traces: Vec<String>,
    packets: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    merge: Option<analyze::MergeSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aliased: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exact_state_bytes: Option<u64>,
}

/// `bloomtime analyze`.
pub fn analyze(a: &AnalyzeArgs) -> Result<(), Error> {
    let cfg = get_preset(&a.preset)?;
    check_output(a.output.as_deref(), &a.traces)?;
    let mut an = Analyzer::new(&cfg, !a.exact, a.exact);
    if a.percentiles {
        an.exact_percentiles();
    }
    if a.ipfix.is_some() && (a.exact || a.flow_times) {
        an.keep_flow_times();
    }
    an.feed_traces(&a.traces)?;
    let packets = an.packets();
    let before_first = an.before_first();
    let (est, exact) = an.finish()?;
    let mut meta = AnalyzeMeta {
        tool: "bloomtime analyze",
        version: env!("CARGO_PKG_VERSION"),
        preset: &a.preset,
        config: cfg,
        mode: if a.exact { "exact" } else { "estimate" },
        traces: trace_names(&a.traces),
        packets,
        merge: None,
        aliased: None,
        exact_state_bytes: None,
    };
    let (rows, times, counters, note) = if let Some(e) = &est {
        meta.merge = Some(e.merge);
        meta.aliased = Some(e.aliased);
        let note = format!(
            "merge: consistent ({} events: {} opens, {} evicts; {} slots open after flush); aliased merges: {}",
            e.merge.events, e.merge.opens, e.merge.evicts, e.merge.open_slots_after_flush, e.aliased
        );
        (e.rows(), &e.times, e.counters, note)
    } else {
        let x = exact.as_ref().expect("exact result");
        meta.exact_state_bytes = Some(x.state_bytes);
        let note = format!(
            "exact tracker: {} flows, {} bytes of state",
            x.flows.len(),
            x.state_bytes
        );
        (x.rows(), &x.times, x.counters, note)
    };
    warn_time_regressions("bloomtime analyze", &counters, before_first);
    if let Some(target) = &a.ipfix {
        let mut x = crate::ipfix::Exporter::new(target, "bloomtime analyze");
        x.export(&rows, times);
        x.finish();
    }
    let title = format!(
        "{} of {} packets, preset {} ({})",
        meta.mode, packets, a.preset, cfg
    );
    write_report(
        a.output.as_deref(),
        a.format,
        &title,
        &meta,
        &rows,
        &counters,
        &note,
        a.percentiles,
    )
}

#[derive(Serialize)]
struct LiveMeta<'a> {
    tool: &'static str,
    version: &'static str,
    preset: &'a str,
    config: Config,
    mode: &'static str,
    interface: &'a str,
    live: crate::live::LiveSummary,
}

/// `bloomtime live`.
pub fn live(a: &LiveArgs) -> Result<(), Error> {
    use std::time::Duration;
    let cfg = get_preset(&a.preset)?;
    let stop = crate::device::pty::stop_on_signals()
        .map_err(|e| Error::Usage(format!("signal handlers: {e}")))?;
    let mut ring = crate::live::Ring::open(&a.interface).map_err(Error::Usage)?;
    ring.stop_on(stop);
    let mut an = Analyzer::new(&cfg, !a.exact, a.exact);
    if a.percentiles {
        an.exact_percentiles();
    }
    if a.ipfix.is_some() && (a.exact || a.flow_times) {
        an.keep_flow_times();
    }
    let mut export = a
        .ipfix
        .as_ref()
        .map(|t| crate::ipfix::Exporter::new(t, "bloomtime live"));
    let mut seen = std::collections::HashMap::new();
    let summary = crate::live::run(
        "bloomtime live",
        ring,
        &mut an,
        Duration::from_secs_f64(a.interval),
        a.duration.map(Duration::from_secs_f64),
        stop,
        export.as_mut(),
        &mut seen,
    )?;
    let before_first = an.before_first();
    let (est, exact) = an.finish()?;
    let (rows, times, counters) = match (&est, &exact) {
        (Some(e), _) => (e.rows(), &e.times, e.counters),
        (_, Some(x)) => (x.rows(), &x.times, x.counters),
        _ => unreachable!("one mode"),
    };
    warn_time_regressions("bloomtime live", &counters, before_first);
    let k = summary.kernel;
    if k.drops > 0 {
        eprintln!(
            "bloomtime live: warning: the kernel dropped {} of {} packets (the ring was full): \
             the flows miss them",
            k.drops, k.packets
        );
    }
    if let Some(mut x) = export {
        // What was not sent at an interval: packets since, final figures.
        let (active, times) = crate::live::active_since(&rows, times, &mut seen);
        x.export(&active, &times);
        x.finish();
    }
    let meta = LiveMeta {
        tool: "bloomtime live",
        version: env!("CARGO_PKG_VERSION"),
        preset: &a.preset,
        config: cfg,
        mode: if a.exact { "exact" } else { "estimate" },
        interface: &a.interface,
        live: summary,
    };
    let title = format!(
        "{} of {} packets on {} in {:.1} s, preset {} ({})",
        meta.mode, summary.packets, a.interface, summary.seconds, a.preset, cfg
    );
    let note = format!("kernel: {} packets seen, {} dropped", k.packets, k.drops);
    write_report(
        a.output.as_deref(),
        a.format,
        &title,
        &meta,
        &rows,
        &counters,
        &note,
        a.percentiles,
    )
}

/// A flow report to `output` (or standard output): the CSV contract, JSON
/// (`meta`, then the counters and the flows) or the table between the
/// `title` line and the `note` line; the percentile columns in CSV and table
/// if asked for (JSON always carries them, `null` where not kept). Every
/// command that prints flows (`analyze`, `device`, `bloomtime-sim replay`)
/// goes through here.
#[allow(clippy::too_many_arguments)]
pub fn write_report<M: Serialize>(
    output: Option<&Path>,
    format: Format,
    title: &str,
    meta: &M,
    rows: &[FlowRow],
    counters: &Counters,
    note: &str,
    percentiles: bool,
) -> Result<(), Error> {
    with_output(output, |mut w: &mut dyn Write| match format {
        Format::Csv => report::write_csv_with(&mut w, rows, percentiles),
        Format::Json => report::write_json(&mut w, meta, counters, rows),
        Format::Table => {
            writeln!(w, "{title}")?;
            report::write_table_with(&mut w, rows, counters, percentiles)?;
            writeln!(w, "{note}")
        }
    })
}

/// One line on standard error when a capture's clock went backwards
/// (docs/DESIGN.md §1): the report is still made, but its times were
/// clamped, which must not go unsaid.
pub fn warn_time_regressions(tool: &str, counters: &Counters, before_first: u64) {
    let n = counters.get(Counter::TimeRegressions);
    if n == 0 && before_first == 0 {
        return;
    }
    let first = if before_first > 0 {
        format!(", {before_first} packets stamped before the capture's first packet")
    } else {
        String::new()
    };
    eprintln!(
        "{tool}: warning: {n} time regressions (records stamped earlier than the record \
         before them{first}): each processed at the previous record's time, so IATs \
         around them read 0"
    );
}

/// `bloomtime compare`.
pub fn compare(a: &CompareArgs) -> Result<(), Error> {
    let cfg = get_preset(&a.preset)?;
    check_output(a.output.as_deref(), &a.traces)?;
    if let Some(dir) = &a.plot {
        crate::plot::check_dir(dir)?;
    }
    let (est, exact, packets) = analyze::both(&cfg, &a.traces)?;
    warn_time_regressions("bloomtime compare", &est.counters, 0);
    let c = compare::compare(&est, &exact);
    let report = CompareReport {
        tool: "bloomtime compare",
        version: env!("CARGO_PKG_VERSION"),
        preset: &a.preset,
        config: cfg,
        traces: trace_names(&a.traces),
        packets,
        counters: est.counters,
        comparison: &c,
    };
    let plots = match &a.plot {
        Some(dir) => crate::plot::write_all(&c, dir)?,
        None => Vec::new(),
    };
    with_output(a.output.as_deref(), |mut w: &mut dyn Write| {
        match a.format {
            CompareFormat::Json => {
                serde_json::to_writer_pretty(&mut *w, &report)?;
                writeln!(w)
            }
            CompareFormat::Table => {
                compare::write_table(&mut w, &report)?;
                for p in &plots {
                    writeln!(w, "wrote {}", p.display())?;
                }
                Ok(())
            }
        }
    })
}

/// `bloomtime gen`.
pub fn gen(a: &GenArgs) -> Result<(), Error> {
    let mut o = if a.demo {
        GenOptions::demo()
    } else {
        GenOptions::default()
    };
    macro_rules! set {
        ($($f:ident => $g:ident),*) => { $( if let Some(v) = a.$f.clone() { o.$g = v; } )* };
    }
    set!(seed => seed, flows => flows, packets => packets, duration => duration_s, mix => mix,
         rtt_min_us => rtt_min_us, rtt_max_us => rtt_max_us, vlan => vlan_fraction,
         qinq => qinq_fraction, ipv6 => ipv6_fraction, snaplen => snaplen);
    o.validate().map_err(Error::Usage)?;
    let t = gen::generate_file(&o, &a.out, None).map_err(|e| Error::io(&a.out, e))?;
    if let Some(p) = &a.truth {
        check_output_not_input("--truth", p, &[&a.out])?;
        t.write(p).map_err(|e| Error::io(p, e))?;
    }
    eprintln!(
        "wrote {}: {} packets, {} flows, {:.3} s",
        a.out.display(),
        t.packets,
        t.flows.len(),
        (t.last_ns - t.first_ns) as f64 / 1e9
    );
    Ok(())
}

#[derive(Serialize)]
struct PresetInfo {
    name: &'static str,
    summary: &'static str,
    config: Config,
    bank_bytes: u64,
    table_bytes: u64,
    state_bytes: u64,
    bucket_ns: u64,
    window_ns: u64,
    sample_unit_ns: u64,
    /// iCE40 block RAMs of the core, and with the board's own buffers.
    core_brams: u64,
    board_brams: u64,
}

/// `bloomtime presets`.
pub fn presets(a: &PresetsArgs) -> Result<(), Error> {
    if a.hardware {
        return with_output(None, |w| {
            writeln!(w, "{}", bloomtime_model::config::HARDWARE_PRESET)
        });
    }
    let info: Vec<PresetInfo> = PRESETS
        .iter()
        .map(|p| PresetInfo {
            name: p.name,
            summary: p.summary,
            config: p.config,
            bank_bytes: p.config.bank_bytes(),
            table_bytes: p.config.table_bytes(),
            state_bytes: p.config.state_bytes(),
            bucket_ns: p.config.bucket_ns(),
            window_ns: p.config.window_ns(),
            sample_unit_ns: p.config.sample_unit_ns(),
            core_brams: p.config.core_brams(),
            board_brams: p.config.board_brams(),
        })
        .collect();
    with_output(None, |w| match a.format {
        CompareFormat::Json => {
            serde_json::to_writer_pretty(&mut *w, &info)?;
            writeln!(w)
        }
        CompareFormat::Table => {
            for p in &info {
                let c = &p.config;
                writeln!(w, "{}: {}", p.name, p.summary)?;
                writeln!(w, "  {c}")?;
                writeln!(
                    w,
                    "  memory: banks {} B + table {} B = {} B ({:.1} KiB)",
                    p.bank_bytes,
                    p.table_bytes,
                    p.state_bytes,
                    p.state_bytes as f64 / 1024.0
                )?;
                writeln!(
                    w,
                    "  iCE40 block RAMs: core {} + board buffers {} = {} of {}",
                    p.core_brams,
                    bram::board_blocks(),
                    p.board_brams,
                    bram::HX8K_BLOCKS
                )?;
                let levels: Vec<String> = c
                    .levels
                    .as_slice()
                    .iter()
                    .map(|l| {
                        format!(
                            "{}x{}",
                            l.buckets,
                            fmt_ns(1u64 << (l.bucket_log2 + c.time_unit_log2_ns))
                        )
                    })
                    .collect();
                writeln!(
                    w,
                    "  levels: {} (window {}); sample unit {}",
                    levels.join(", "),
                    fmt_ns(p.window_ns),
                    fmt_ns(p.sample_unit_ns)
                )?;
                let ls: Vec<String> = c
                    .levels
                    .as_slice()
                    .iter()
                    .map(|l| format!("{}:{}", l.bucket_log2, l.buckets))
                    .collect();
                writeln!(
                    w,
                    "  parameters: time_unit_log2_ns {} levels (bucket_log2:buckets) {} banks {} lines_log2 {} \
                     epoch_tag_bits {} slots_log2 {} fingerprint_bits {} sample_frac_bits {} packet_bits {} \
                     second_moment {} extremes {} histogram {}",
                    c.time_unit_log2_ns,
                    ls.join(" "),
                    c.banks,
                    c.lines_log2,
                    c.epoch_tag_bits,
                    c.slots_log2,
                    c.fingerprint_bits,
                    c.sample_frac_bits,
                    c.packet_bits,
                    c.second_moment,
                    c.extremes,
                    c.histogram
                )?;
            }
            Ok(())
        }
    })
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<(), Error> {
    match &cli.command {
        Command::Analyze(a) => analyze(a),
        Command::Compare(a) => compare(a),
        Command::Gen(a) => gen(a),
        Command::Presets(a) => presets(a),
        Command::Eval(a) => bloomtime_eval::run(a).map(drop).map_err(Error::from),
        Command::Device(a) => crate::device::cmd::run(a),
        Command::Live(a) => live(a),
    }
}
