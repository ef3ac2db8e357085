//! `bloomtime device`: talk to a board (or a model device) over its port.
//!
//! * `replay` clears the device (unless `--no-clear`), streams REPLAY
//!   requests (refused frames again after a drain; drains also in between,
//!   aiming at half of `EVENT_BUFFER_BYTES` per drain), flushes, drains
//!   until STATUS says quiet, then checks: merge consistent and every slot
//!   closed, counter invariants, frames = records + drops = frames sent =
//!   REPLAY_FRAMES, merged packets = records, opens and evicts as counted,
//!   and (end to end, against damage the link's CRC-16 missed) the device's
//!   frame, drop, record and RTT-lookup counts equal to those of the frames
//!   parsed here, every merged key one of the captures', samples as counted.
//! * `stats` peeks at the waiting events and reads the table: nothing
//!   changes on the device. It needs every open event since the last clear
//!   still waiting (they alone carry the keys).
//! * `watch` drains into a running merge and credits the live slots to a
//!   copy of it at every refresh. With traffic arriving between the drain
//!   and the table read a refresh can credit a slot to its previous key; the
//!   running merge itself stays exact.

use super::client::{Client, ClientOptions, LinkCounters, LinkStats, Status, MAX_DATA};
use super::transport::{SerialTransport, Transport};
use super::DeviceError;
use crate::analyze::MergeSummary;
use crate::cli::{check_output_not_input, with_output, write_report};
use crate::error::Error;
use bloomtime_model::config::Config;
use bloomtime_model::counters::{Counter, Counters, COUNTERS};
use bloomtime_model::key::{FlowKey, Record};
use bloomtime_model::merge::{FlowMerger, MergeError, MergedStats};
use bloomtime_model::parse::DropReason;
use bloomtime_model::protocol::{evict_bytes, Info, EVENT_BUFFER_BYTES, OPEN_BYTES};
use bloomtime_model::regmap;
use bloomtime_model::report::{self, Format};
use bloomtime_model::stats::{estimated_row, FlowRow};
use bloomtime_model::table::{Event, EventLog};
use bloomtime_traces::{MergedTraces, Records};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::collections::HashSet;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

/// The longest `--timeout-ms` accepted: a minute for one try.
pub const MAX_TIMEOUT_MS: u64 = 60_000;

/// `--timeout-ms`: 1 to [`MAX_TIMEOUT_MS`]. 0 would not wait at all and
/// then blame the board for not answering.
fn parse_timeout_ms(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(ms) if (1..=MAX_TIMEOUT_MS).contains(&ms) => Ok(ms),
        _ => Err(format!(
            "one try's wait for an answer must be 1 to {MAX_TIMEOUT_MS} ms"
        )),
    }
}

#[derive(Args, Debug)]
pub struct DeviceArgs {
    /// Serial port of the board (its USB UART, e.g. /dev/ttyUSB0) or of a
    /// model device (`bloomtime-modeldev --link PATH`).
    #[arg(long, global = true, value_name = "PATH")]
    pub port: Option<String>,
    /// Baud rate of the port.
    #[arg(long, global = true, default_value_t = 1_000_000)]
    pub baud: u32,
    /// Output format: table, csv or json.
    #[arg(long, global = true, default_value = "table", value_parser = parse_format)]
    pub format: Format,
    /// Write the report here instead of standard output.
    #[arg(long, short, global = true, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// How long one try of a request waits for its answer.
    #[arg(long, global = true, default_value_t = 250, value_name = "MS",
          value_parser = parse_timeout_ms)]
    pub timeout_ms: u64,
    /// Tries after the first before a request fails.
    #[arg(long, global = true, default_value_t = 8, value_name = "N")]
    pub retries: u32,
    #[command(subcommand)]
    pub command: DeviceCommand,
}

#[derive(Subcommand, Debug)]
pub enum DeviceCommand {
    /// Configuration, status, counters (with their invariants) and link state.
    Info,
    /// Per-flow statistics of what the device holds (waiting events and live
    /// slots), read without changing anything. The flows' keys come from the
    /// open events, so every event since the last clear must still be
    /// waiting (nobody drained them); exact while no traffic arrives.
    Stats,
    /// Replay captures through the device: per-flow statistics with the CSV
    /// of `bloomtime analyze`.
    Replay(ReplayArgs),
    /// Top flows, refreshed until Ctrl-C, draining events as they come (live mode).
    Watch(WatchArgs),
    /// Start exporting every slot into the event buffer.
    Flush,
    /// Empty banks, table and event buffer and zero the counters.
    Clear,
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// Capture files (pcap or pcapng; Ethernet, Linux cooked SLL/SLL2, raw IP or BSD loopback), merged by timestamp.
    #[arg(required = true, value_name = "TRACE")]
    pub traces: Vec<PathBuf>,
    /// Keep the device's state instead of clearing it first (its table must
    /// be empty and its events drained).
    #[arg(long)]
    pub no_clear: bool,
    /// Also write the flows as CSV (the contract of `bloomtime analyze
    /// --format csv`) to this file, whatever `--format` prints.
    #[arg(long, value_name = "PATH")]
    pub csv: Option<PathBuf>,
    /// Also send every flow to this IPFIX collector over UDP, or TCP with
    /// `tcp://` (as `bloomtime analyze --ipfix`, docs/IPFIX.md).
    #[arg(long, value_name = "[tcp://]HOST:PORT", value_parser = crate::ipfix::parse_target)]
    pub ipfix: Option<crate::ipfix::Target>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SortBy {
    Packets,
    Iat,
    Rtt,
}

#[derive(Args, Debug)]
pub struct WatchArgs {
    /// Seconds between refreshes.
    #[arg(long, default_value_t = 1.0, value_name = "S")]
    pub interval: f64,
    /// Flows shown.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,
    /// Order: most packets, largest mean IAT or largest mean RTT first.
    #[arg(long, value_enum, default_value = "packets")]
    pub by: SortBy,
    /// Clear the device first (start a new measurement).
    #[arg(long)]
    pub clear: bool,
    /// Stop after this many refreshes.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Also send the flows with packets since the previous refresh to this
    /// IPFIX collector over UDP (`tcp://` for TCP) at every refresh
    /// (packetDeltaCount: those packets; docs/IPFIX.md).
    #[arg(long, value_name = "[tcp://]HOST:PORT", value_parser = crate::ipfix::parse_target)]
    pub ipfix: Option<crate::ipfix::Target>,
}

impl DeviceArgs {
    pub fn client_options(&self) -> ClientOptions {
        ClientOptions {
            timeout: Duration::from_millis(self.timeout_ms.max(1)),
            retries: self.retries,
        }
    }
}

/// `bloomtime device`: open the serial port, then [`run_on`].
pub fn run(a: &DeviceArgs) -> Result<(), Error> {
    let port = a.port.as_deref().ok_or_else(|| {
        Error::Usage(
            "device needs --port PATH: the board's serial port, e.g. /dev/ttyUSB0 (`ls /dev/ttyUSB*`)"
                .into(),
        )
    })?;
    if a.baud == 0 {
        return Err(Error::Usage("--baud must be positive".into()));
    }
    check_args(a)?;
    let t = SerialTransport::open(port, a.baud)?;
    run_on(a, t)
}

/// What can be checked before the port is opened.
fn check_args(a: &DeviceArgs) -> Result<(), Error> {
    match &a.command {
        DeviceCommand::Watch(w) if !(w.interval > 0.0 && w.interval.is_finite()) => {
            return Err(Error::Usage(
                "--interval must be a positive number of seconds".into(),
            ));
        }
        DeviceCommand::Replay(r) => {
            // Neither report may overwrite a capture it reads.
            if let Some(o) = &a.output {
                check_output_not_input("--output", o, &r.traces)?;
            }
            if let Some(p) = &r.csv {
                check_output_not_input("--csv", p, &r.traces)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `bloomtime device` over any transport (tests use the in-process model).
pub fn run_on<T: Transport>(a: &DeviceArgs, t: T) -> Result<(), Error> {
    check_args(a)?;
    let mut c = Client::connect(t, a.client_options())?;
    match &a.command {
        DeviceCommand::Info => info(a, &mut c),
        DeviceCommand::Stats => stats(a, &mut c),
        DeviceCommand::Replay(r) => replay_cmd(a, r, &mut c),
        DeviceCommand::Watch(w) => watch(a, w, &mut c),
        DeviceCommand::Flush => {
            c.flush()?;
            let st = c.status()?;
            simple(a, &mut c, "flush started", st)
        }
        DeviceCommand::Clear => {
            c.clear()?;
            let st = c.status()?;
            simple(a, &mut c, "cleared", st)
        }
    }
}

/// Counter deltas between two readings of 32-bit registers.
fn delta(after: &Counters, before: &Counters) -> Counters {
    let mut d = Counters::default();
    for i in 0..d.0.len() {
        d.0[i] = (after.0[i] as u32).wrapping_sub(before.0[i] as u32) as u64;
    }
    d
}

fn link_delta(after: &LinkCounters, before: &LinkCounters) -> LinkCounters {
    let mut d = LinkCounters::default();
    for i in 0..d.0.len() {
        d.0[i] = after.0[i].wrapping_sub(before.0[i]);
    }
    d
}

/// Events merged into a [`FlowMerger`], counted.
pub struct Merge {
    pub merger: FlowMerger,
    pub summary: MergeSummary,
    /// Event bytes merged.
    pub bytes: u64,
}

impl Merge {
    pub fn new(cfg: &Config) -> Merge {
        Merge {
            merger: FlowMerger::new(cfg),
            summary: MergeSummary::default(),
            bytes: 0,
        }
    }
    pub fn push(&mut self, e: &Event) -> Result<(), MergeError> {
        self.merger.push(e)?;
        match e {
            Event::Open { .. } => self.summary.opens += 1,
            Event::Evict { .. } => self.summary.evicts += 1,
        }
        self.summary.events += 1;
        Ok(())
    }

    /// [`Merge::push`] of every event of `log`, as a batch (for a
    /// configuration without histograms: `FlowMerger::push_log`).
    pub fn push_log(&mut self, log: &EventLog) -> Result<(), MergeError> {
        self.merger.push_log(log, &[])?;
        self.summary.opens += log.opens() as u64;
        self.summary.evicts += log.evicts() as u64;
        self.summary.events += log.len() as u64;
        Ok(())
    }
}

/// Drain every waiting event into `m`; the number of DRAIN requests.
pub fn drain_all<T: Transport>(c: &mut Client<T>, m: &mut Merge) -> Result<u64, Error> {
    let biggest = OPEN_BYTES.max(evict_bytes(c.config()));
    let mut requests = 0;
    loop {
        let (ev, n) = c.drain(MAX_DATA)?;
        requests += 1;
        m.bytes += n as u64;
        for e in &ev {
            m.push(e)?;
        }
        // The device stops at the limit or at the end; a short answer is the end.
        if n + biggest <= MAX_DATA {
            return Ok(requests);
        }
    }
}

/// What a replay through the device measured.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct ReplaySummary {
    /// Frames taken by the device.
    pub frames: u64,
    /// Frames refused for lack of event-buffer room and sent again.
    pub refused_resent: u64,
    pub replay_requests: u64,
    pub drain_requests: u64,
    /// The host's view of the link.
    pub link: LinkStats,
    /// The device's link error counters during the replay.
    pub device_rx_crc_errors: u32,
    pub device_rx_slip_errors: u32,
    pub device_rx_uart_errors: u32,
    pub device_retries: u32,
    pub elapsed_s: f64,
    pub frames_per_s: f64,
}

/// A replay's result: merged flows and checked counters.
#[derive(Clone, Debug)]
pub struct ReplayRun {
    pub cfg: Config,
    /// Per-flow sums, sorted by key.
    pub flows: Vec<(FlowKey, MergedStats)>,
    /// Pipeline counters of the replay (differences of the registers).
    pub counters: Counters,
    pub link: LinkCounters,
    pub merge: MergeSummary,
    pub summary: ReplaySummary,
}

impl ReplayRun {
    pub fn rows(&self) -> Vec<FlowRow> {
        self.flows
            .iter()
            .map(|(k, s)| estimated_row(&self.cfg, k, s))
            .collect()
    }
}

/// How to replay.
#[derive(Clone, Copy, Debug)]
pub struct ReplayOptions {
    /// CLEAR the device first.
    pub clear: bool,
    /// Draw a progress bar on standard error (only if it is a terminal).
    pub progress: bool,
}

/// Frames read ahead of the device.
const QUEUE: usize = 64;

fn invariant(m: String) -> Error {
    Error::Invariant(m)
}

/// Replay captures through the device: stream frames (refused ones again
/// after a drain), drain events into the merge, flush, drain until the
/// device is quiet, then check every invariant.
pub fn replay<T: Transport, P: AsRef<std::path::Path>>(
    c: &mut Client<T>,
    traces: &[P],
    opts: ReplayOptions,
) -> Result<ReplayRun, Error> {
    let cfg = *c.config();
    // Open the captures first: a bad file fails before the device is touched.
    let mut src = Records::open(traces, &cfg)?;
    if opts.clear {
        c.clear()?;
    } else {
        let st = c.status()?;
        let k = c.counters()?;
        let live = k.get(Counter::Opens) as i64
            - k.get(Counter::EvictCollision) as i64
            - k.get(Counter::EvictFlush) as i64;
        if !st.quiet() || live != 0 {
            return Err(Error::Usage(format!(
                "--no-clear needs a device with an empty table and no waiting events (it holds \
                 {live} live slots and {} event bytes{}): run without --no-clear",
                st.waiting,
                if st.busy { ", a flush running" } else { "" }
            )));
        }
    }
    // Capture timestamps, not the device clock: leave live mode for the
    // replay (restored after it).
    let control = c.read_reg(regmap::CONTROL)?;
    if control & regmap::CONTROL_LIVE != 0 {
        c.write_reg(regmap::CONTROL, control & !regmap::CONTROL_LIVE)?;
    }
    let before = c.counters()?;
    let before_link = c.link_counters()?;
    let link0 = *c.link_stats();
    let pb = if opts.progress && std::io::stderr().is_terminal() {
        let mut n = 0u64;
        let mut count = MergedTraces::open(traces)?;
        while count.next_packet()?.is_some() {
            n += 1;
        }
        let pb = ProgressBar::new(n);
        pb.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} frames ({rate}, {eta} left)",
            )
            .expect("progress template")
            .with_key(
                "rate",
                |st: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0} frames/s", st.per_sec());
                },
            ),
        );
        pb
    } else {
        ProgressBar::hidden()
    };
    let start = Instant::now();
    let mut m = Merge::new(&cfg);
    let mut s = ReplaySummary::default();
    let mut queue: VecDeque<(u64, Vec<u8>)> = VecDeque::with_capacity(QUEUE);
    let mut eof = false;
    let mut refused_in_a_row = 0;
    let mut expect = Expected::default();
    // REPLAY requests between drains, adapted to the event rate.
    let (mut drain_every, mut since_drain) = (4u32, 0u32);
    loop {
        while !eof && queue.len() < QUEUE {
            match src.next_frame()? {
                Some(f) => {
                    queue.push_back((f.ts, f.data.to_vec()));
                    expect.frame(&f.record());
                }
                None => eof = true,
            }
        }
        if queue.is_empty() {
            break;
        }
        let refs: Vec<(u64, &[u8])> = queue.iter().map(|(t, d)| (*t, d.as_slice())).collect();
        let r = c.replay(&refs)?;
        drop(refs);
        s.replay_requests += 1;
        queue.drain(..r.accepted);
        s.frames += r.accepted as u64;
        pb.inc(r.accepted as u64);
        since_drain += 1;
        if r.accepted < r.sent {
            s.refused_resent += (r.sent - r.accepted) as u64;
            drain_every = (drain_every / 2).max(1);
            // A drain empties the buffer: the next REPLAY must take a frame.
            refused_in_a_row = if r.accepted == 0 {
                refused_in_a_row + 1
            } else {
                0
            };
            if refused_in_a_row >= 2 {
                return Err(Error::Device(DeviceError::Protocol {
                    what: "REPLAY",
                    detail: "every frame refused although the event buffer was drained".into(),
                }));
            }
            s.drain_requests += drain_all(c, &mut m)?;
            since_drain = 0;
        } else {
            refused_in_a_row = 0;
            if since_drain >= drain_every {
                // Drain before the buffer fills: aim at half the board's
                // buffer per drain, from the rate of the last interval.
                let bytes0 = m.bytes;
                s.drain_requests += drain_all(c, &mut m)?;
                let rate = (m.bytes - bytes0) as f64 / since_drain as f64;
                drain_every =
                    ((EVENT_BUFFER_BYTES / 2) as f64 / rate.max(1.0)).clamp(1.0, 64.0) as u32;
                since_drain = 0;
            }
        }
    }
    // Export every slot and drain until the device is quiet.
    c.flush()?;
    let mut last_progress = Instant::now();
    loop {
        let before_events = m.summary.events;
        s.drain_requests += drain_all(c, &mut m)?;
        let st = c.status()?;
        if st.quiet() {
            break;
        }
        if m.summary.events != before_events {
            last_progress = Instant::now();
        } else if last_progress.elapsed() > Duration::from_secs(30) {
            return Err(Error::Device(DeviceError::Protocol {
                what: "FLUSH",
                detail: format!("no progress for 30 s (status {st:?})"),
            }));
        }
    }
    s.elapsed_s = start.elapsed().as_secs_f64();
    pb.finish_and_clear();
    if control & regmap::CONTROL_LIVE != 0 {
        c.write_reg(regmap::CONTROL, control)?;
    }
    let mut counters = delta(&c.counters()?, &before);
    // Records before the first packet that the device's clamp could not
    // see (its time was still 0): counted here, as the model counts them
    // (docs/DESIGN.md §1).
    counters.0[Counter::TimeRegressions as usize] += src.unseen_regressions();
    let link = link_delta(&c.link_counters()?, &before_link);
    s.link = c.link_stats().since(&link0);
    s.device_rx_crc_errors = link.get(regmap::RX_CRC_ERRORS);
    s.device_rx_slip_errors = link.get(regmap::RX_SLIP_ERRORS);
    s.device_rx_uart_errors = link.get(regmap::RX_UART_ERRORS);
    s.device_retries = link.get(regmap::RETRIES);
    s.frames_per_s = if s.elapsed_s > 0.0 {
        s.frames as f64 / s.elapsed_s
    } else {
        0.0
    };
    m.summary.open_slots_after_flush = m.merger.open_slots();
    let flows = m.merger.flows();
    check_replay(&counters, &link, &m.summary, &flows, s.frames)?;
    expect.check(&counters, &flows)?;
    Ok(ReplayRun {
        cfg,
        flows,
        counters,
        link,
        merge: m.summary,
        summary: s,
    })
}

/// What the device must count for the frames sent, from parsing them here
/// (`model::parse`, no model state): an end-to-end check of the link,
/// whose CRC-16 lets about one damaged frame in 2^16 through.
#[derive(Default)]
struct Expected {
    counters: Counters,
    keys: HashSet<FlowKey>,
}

impl Expected {
    fn frame(&mut self, parsed: &Result<Record, DropReason>) {
        let k = &mut self.counters;
        k.inc(Counter::Frames);
        match parsed {
            Ok(rec) => {
                k.inc(Counter::Records);
                if rec.wants_rtt() {
                    k.inc(Counter::RttLookups);
                }
                self.keys.insert(rec.key);
            }
            Err(r) => k.0[Counter::DropTruncated as usize + *r as usize] += 1,
        }
    }

    /// Frames, records, every drop reason and RTT lookups as parsed here;
    /// every merged flow a key of the captures (fingerprint aliasing only
    /// merges keys); samples as counted.
    fn check(&self, k: &Counters, flows: &[(FlowKey, MergedStats)]) -> Result<(), Error> {
        let parsed = [
            Counter::Frames,
            Counter::DropTruncated,
            Counter::DropNonIp,
            Counter::DropVlanDepth,
            Counter::DropBadIp,
            Counter::DropFragment,
            Counter::DropExtChain,
            Counter::DropHeaderWindow,
            Counter::Records,
            Counter::RttLookups,
        ];
        for c in parsed {
            if k.get(c) as u32 != self.counters.get(c) as u32 {
                return Err(invariant(format!(
                    "the device counted {} {} where the frames sent parse to {}: frames damaged \
                     on the link (the CRC missed it); run again",
                    k.get(c),
                    c.name(),
                    self.counters.get(c)
                )));
            }
        }
        if let Some((key, _)) = flows.iter().find(|(key, _)| !self.keys.contains(key)) {
            return Err(invariant(format!(
                "the device announced flow {key}, which is in none of the captures: a frame \
                 damaged on the link (the CRC missed it); run again"
            )));
        }
        for (c, n) in [
            (
                Counter::IatSamples,
                flows.iter().map(|f| f.1.iat.n).sum::<u64>(),
            ),
            (
                Counter::RttSamples,
                flows.iter().map(|f| f.1.rtt.n).sum::<u64>(),
            ),
        ] {
            if n as u32 != k.get(c) as u32 {
                return Err(invariant(format!(
                    "merged flows hold {n} {} but the device counted {}",
                    c.name(),
                    k.get(c)
                )));
            }
        }
        Ok(())
    }
}

/// Every conservation law of a finished replay.
fn check_replay(
    k: &Counters,
    link: &LinkCounters,
    merge: &MergeSummary,
    flows: &[(FlowKey, MergedStats)],
    frames: u64,
) -> Result<(), Error> {
    if merge.open_slots_after_flush != 0 {
        return Err(invariant(format!(
            "{} slots still owned after the final flush",
            merge.open_slots_after_flush
        )));
    }
    k.check_invariants().map_err(invariant)?;
    let g = |c| k.get(c);
    let drops: u64 = k.drops().iter().sum();
    if g(Counter::Frames) != frames || g(Counter::Frames) != g(Counter::Records) + drops {
        return Err(invariant(format!(
            "{frames} frames sent, device counted frames {} = records {} + drops {drops}",
            g(Counter::Frames),
            g(Counter::Records)
        )));
    }
    if link.get(regmap::REPLAY_FRAMES) as u64 != frames {
        return Err(invariant(format!(
            "{frames} frames accepted, device counted replay_frames {}",
            link.get(regmap::REPLAY_FRAMES)
        )));
    }
    let packets: u64 = flows.iter().map(|f| f.1.packets).sum();
    if packets as u32 != g(Counter::Records) as u32 {
        return Err(invariant(format!(
            "merged flows hold {packets} packets but the device processed {} records",
            g(Counter::Records)
        )));
    }
    let evicts = g(Counter::EvictCollision) + g(Counter::EvictOverflow) + g(Counter::EvictFlush);
    if merge.opens != g(Counter::Opens) || merge.evicts != evicts {
        return Err(invariant(format!(
            "merged {} opens and {} evicts, device counted {} opens and {evicts} evicts",
            merge.opens,
            merge.evicts,
            g(Counter::Opens)
        )));
    }
    Ok(())
}

#[derive(Serialize)]
struct DeviceInfoJson {
    protocol_version: u16,
    design_version: u16,
    header_window: u16,
    clock_hz: u32,
    baud: u32,
}

fn info_json(i: &Info) -> DeviceInfoJson {
    DeviceInfoJson {
        protocol_version: i.protocol_version,
        design_version: i.design_version,
        header_window: i.header_window,
        clock_hz: i.clock_hz,
        baud: i.baud,
    }
}

#[derive(Serialize)]
struct FlowsMeta<'a, X: Serialize> {
    tool: &'static str,
    version: &'static str,
    port: &'a str,
    device: DeviceInfoJson,
    config: Config,
    #[serde(flatten)]
    extra: X,
}

fn port_name<T: Transport>(c: &Client<T>) -> String {
    c.transport().name().to_string()
}

fn write_flows<T: Transport, X: Serialize>(
    a: &DeviceArgs,
    c: &Client<T>,
    tool: &'static str,
    extra: X,
    rows: &[FlowRow],
    counters: &Counters,
    note: &str,
) -> Result<(), Error> {
    let port = port_name(c);
    let meta = FlowsMeta {
        tool,
        version: env!("CARGO_PKG_VERSION"),
        port: &port,
        device: info_json(c.info()),
        config: *c.config(),
        extra,
    };
    let title = format!("{tool} on {port} ({})", c.config());
    write_report(
        a.output.as_deref(),
        a.format,
        &title,
        &meta,
        rows,
        counters,
        note,
        false,
    )
}

#[derive(Serialize)]
struct ReplayExtra<'a> {
    traces: Vec<String>,
    cleared: bool,
    merge: MergeSummary,
    link_counters: &'a LinkCounters,
    replay: ReplaySummary,
}

fn replay_cmd<T: Transport>(
    a: &DeviceArgs,
    r: &ReplayArgs,
    c: &mut Client<T>,
) -> Result<(), Error> {
    // Created first: a path that cannot be written fails before the replay.
    let csv = match &r.csv {
        Some(p) => Some((p, File::create(p).map_err(|e| Error::io(p, e))?)),
        None => None,
    };
    let run = replay(
        c,
        &r.traces,
        ReplayOptions {
            clear: !r.no_clear,
            progress: true,
        },
    )?;
    let s = &run.summary;
    eprintln!("{}", summary_line(s));
    let rows = run.rows();
    if let Some(target) = &r.ipfix {
        let mut x = crate::ipfix::Exporter::new(target, "bloomtime device replay");
        // The board's records carry no packet times (docs/IPFIX.md).
        x.export(&rows, &[]);
        x.finish();
    }
    if let Some((p, f)) = csv {
        let mut w = BufWriter::new(f);
        report::write_csv(&mut w, &rows)
            .and_then(|_| w.flush())
            .map_err(|e| Error::io(p, e))?;
    }
    let note = format!(
        "merge: consistent ({} events: {} opens, {} evicts; {} slots open after flush)",
        run.merge.events, run.merge.opens, run.merge.evicts, run.merge.open_slots_after_flush
    );
    write_flows(
        a,
        c,
        "bloomtime device replay",
        ReplayExtra {
            traces: r.traces.iter().map(|p| p.display().to_string()).collect(),
            cleared: !r.no_clear,
            merge: run.merge,
            link_counters: &run.link,
            replay: *s,
        },
        &rows,
        &run.counters,
        &note,
    )
}

/// The one-line summary of a replay (standard error).
pub fn summary_line(s: &ReplaySummary) -> String {
    let l = &s.link;
    let named = |items: &[(u64, &str)]| -> Vec<String> {
        items
            .iter()
            .filter(|(n, _)| *n != 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect()
    };
    let host = named(&[
        (l.timeouts, "timeouts"),
        (l.corrupt_frames, "corrupt answers"),
        (l.crc_error_answers, "CRC_ERROR answers"),
        (l.stale_answers, "stale answers"),
        (l.invalid_answers, "invalid answers"),
        (l.bad_length_resent, "resent after BAD_LENGTH/BAD_ARGUMENT"),
    ]);
    let device = named(&[
        (s.device_rx_crc_errors as u64, "CRC errors"),
        (s.device_rx_slip_errors as u64, "SLIP errors"),
        (s.device_rx_uart_errors as u64, "UART errors"),
        (
            s.device_retries as u64,
            "retries answered from the stored answer",
        ),
    ]);
    let errors = match (host.is_empty(), device.is_empty()) {
        (true, true) => "none".to_string(),
        _ => format!(
            "host {}; device {}",
            if host.is_empty() {
                "none".into()
            } else {
                host.join(", ")
            },
            if device.is_empty() {
                "none".into()
            } else {
                device.join(", ")
            }
        ),
    };
    format!(
        "replayed {} frames in {:.2} s ({:.0} frames/s): {} refused and resent, {} requests, {} \
         retries; link errors: {errors}",
        s.frames, s.elapsed_s, s.frames_per_s, s.refused_resent, l.requests, l.retries
    )
}

/// The device's open events since the last CLEAR must all be waiting: they
/// are the only record of the flows' keys.
fn check_opens_waiting(events: &[Event], k: &Counters, cmd: &str) -> Result<(), Error> {
    let opens = events
        .iter()
        .filter(|e| matches!(e, Event::Open { .. }))
        .count() as u64;
    if opens as u32 != k.get(Counter::Opens) as u32 {
        return Err(Error::Usage(format!(
            "{} of the {} flows announced since the device's last clear were drained by an \
             earlier command, so their keys are gone: `{cmd}` reads a device whose events since \
             its last clear were not drained{}",
            k.get(Counter::Opens).saturating_sub(opens),
            k.get(Counter::Opens),
            if cmd == "watch" {
                " (`watch --clear` starts afresh)"
            } else {
                " (`watch` follows a device as it drains)"
            }
        )));
    }
    Ok(())
}

/// Merge of the device's present state: waiting events (peeked, not taken)
/// first, then the live slots. Needs every event since the last CLEAR to be
/// still waiting (the open events name the flows).
pub fn snapshot<T: Transport>(c: &mut Client<T>) -> Result<(Merge, Counters, Status), Error> {
    let cfg = *c.config();
    let st = c.status()?;
    let k = c.counters()?;
    let events = c.peek_all()?;
    check_opens_waiting(&events, &k, "stats")?;
    let mut m = Merge::new(&cfg);
    for e in &events {
        m.push(e)?;
    }
    let mut live = Merge {
        merger: m.merger.clone(),
        summary: m.summary,
        bytes: m.bytes,
    };
    for s in c.read_table()? {
        if s.valid {
            live.merger.credit_live_slot(s.slot, &s.stats)?;
        }
    }
    Ok((live, k, st))
}

#[derive(Serialize)]
struct StatsExtra {
    status: Status,
    waiting_events: u64,
}

fn stats<T: Transport>(a: &DeviceArgs, c: &mut Client<T>) -> Result<(), Error> {
    let (m, k, st) = snapshot(c)?;
    k.check_invariants().map_err(invariant)?;
    let cfg = *c.config();
    let flows = m.merger.flows();
    let packets: u64 = flows.iter().map(|f| f.1.packets).sum();
    if packets as u32 != k.get(Counter::Records) as u32 {
        return Err(invariant(format!(
            "waiting events and live slots hold {packets} packets but the device processed {} \
             records (was it replaying while read?)",
            k.get(Counter::Records)
        )));
    }
    let rows: Vec<FlowRow> = flows
        .iter()
        .map(|(k, s)| estimated_row(&cfg, k, s))
        .collect();
    let note = format!(
        "device state: {} waiting events ({} bytes), {} live slots{}",
        m.summary.events,
        st.waiting,
        m.merger.open_slots(),
        if st.busy { ", flush running" } else { "" }
    );
    write_flows(
        a,
        c,
        "bloomtime device stats",
        StatsExtra {
            status: st,
            waiting_events: m.summary.events,
        },
        &rows,
        &k,
        &note,
    )
}

fn sort_rows(rows: &mut [FlowRow], by: SortBy) {
    let key = |r: &FlowRow| -> f64 {
        match by {
            SortBy::Packets => r.packets as f64,
            SortBy::Iat if r.iat.n > 0 => r.iat.mean_us,
            SortBy::Rtt if r.rtt.n > 0 => r.rtt.mean_us,
            _ => -1.0,
        }
    };
    rows.sort_by(|a, b| key(b).total_cmp(&key(a)).then(a.key.cmp(&b.key)));
}

#[derive(Serialize)]
struct WatchExtra {
    refresh: u64,
    by: SortBy,
    top: usize,
    flows_total: usize,
}

fn watch<T: Transport>(a: &DeviceArgs, w: &WatchArgs, c: &mut Client<T>) -> Result<(), Error> {
    let stop = super::pty::stop_on_signals().map_err(|e| Error::io("<signals>", e))?;
    if w.clear {
        c.clear()?;
    }
    // The first drain must bring the open event of every live flow.
    let k = c.counters()?;
    let events = c.peek_all()?;
    check_opens_waiting(&events, &k, "watch")?;
    let cfg = *c.config();
    let mut m = Merge::new(&cfg);
    let tty = a.output.is_none() && std::io::stdout().is_terminal();
    let mut refresh = 0u64;
    let mut export = w
        .ipfix
        .as_ref()
        .map(|t| crate::ipfix::Exporter::new(t, "bloomtime device watch"));
    let mut seen = std::collections::HashMap::new();
    'watch: loop {
        drain_all(c, &mut m)?;
        let mut live = m.merger.clone();
        for s in c.read_table()? {
            if s.valid {
                live.credit_live_slot(s.slot, &s.stats)?;
            }
        }
        let k = c.counters()?;
        let mut rows: Vec<FlowRow> = live
            .flows()
            .iter()
            .map(|(k, s)| estimated_row(&cfg, k, s))
            .collect();
        if let Some(x) = &mut export {
            // The flows with packets since the previous refresh.
            let (active, _) = crate::live::active_since(&rows, &[], &mut seen);
            x.export(&active, &[]);
        }
        let total = rows.len();
        sort_rows(&mut rows, w.by);
        rows.truncate(w.top);
        refresh += 1;
        let port = port_name(c);
        let meta = FlowsMeta {
            tool: "bloomtime device watch",
            version: env!("CARGO_PKG_VERSION"),
            port: &port,
            device: info_json(c.info()),
            config: cfg,
            extra: WatchExtra {
                refresh,
                by: w.by,
                top: w.top,
                flows_total: total,
            },
        };
        with_output(a.output.as_deref(), |mut o: &mut dyn Write| {
            if tty && a.format == Format::Table {
                write!(o, "\x1b[2J\x1b[H")?;
            }
            match a.format {
                Format::Csv => report::write_csv(&mut o, &rows),
                Format::Json => report::write_json(&mut o, &meta, &k, &rows),
                Format::Table => {
                    let by = match w.by {
                        SortBy::Packets => "packets",
                        SortBy::Iat => "mean IAT",
                        SortBy::Rtt => "mean RTT",
                    };
                    writeln!(
                        o,
                        "{port}: refresh {refresh}, top {} of {total} flows by {by} (Ctrl-C stops)",
                        rows.len()
                    )?;
                    report::write_table(&mut o, &rows, &k)
                }
            }
        })?;
        if w.count.is_some_and(|n| refresh >= n) {
            break 'watch;
        }
        let until = Instant::now() + Duration::from_secs_f64(w.interval);
        while Instant::now() < until {
            if stop.load(std::sync::atomic::Ordering::SeqCst) {
                break 'watch;
            }
            std::thread::sleep(Duration::from_millis(20).min(until - Instant::now()));
        }
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            break 'watch;
        }
    }
    if let Some(x) = export {
        x.finish();
    }
    Ok(())
}

#[derive(Serialize)]
struct SimpleJson<'a> {
    tool: &'static str,
    port: &'a str,
    done: &'a str,
    status: Status,
}

fn simple<T: Transport>(
    a: &DeviceArgs,
    c: &mut Client<T>,
    done: &str,
    st: Status,
) -> Result<(), Error> {
    let port = port_name(c);
    with_output(a.output.as_deref(), |w: &mut dyn Write| match a.format {
        Format::Json => {
            serde_json::to_writer_pretty(
                &mut *w,
                &SimpleJson {
                    tool: "bloomtime device",
                    port: &port,
                    done,
                    status: st,
                },
            )?;
            writeln!(w)
        }
        _ => writeln!(w, "{port}: {done}; {}", status_text(&st)),
    })
}

fn status_text(st: &Status) -> String {
    format!(
        "{}, {}, {} event bytes waiting",
        if st.busy {
            "flush running"
        } else {
            "no flush running"
        },
        if st.idle {
            "pipeline idle"
        } else {
            "pipeline busy"
        },
        st.waiting
    )
}

#[derive(Serialize)]
struct Invariants {
    ok: bool,
    violations: Option<String>,
}

#[derive(Serialize)]
struct InfoJson<'a> {
    tool: &'static str,
    port: &'a str,
    device: DeviceInfoJson,
    config: Config,
    status: Status,
    live_mode: bool,
    time_units: u64,
    uptime_cycles: u32,
    counters: &'a Counters,
    link_counters: &'a LinkCounters,
    invariants: Invariants,
    host_link: LinkStats,
}

fn info<T: Transport>(a: &DeviceArgs, c: &mut Client<T>) -> Result<(), Error> {
    let inf = c.read_info()?;
    let st = c.status()?;
    let control = c.read_reg(regmap::CONTROL)?;
    let lo = c.read_reg(regmap::TIME_LO)?;
    let hi = c.read_reg(regmap::TIME_HI)?;
    let time = (hi as u64) << 32 | lo as u64;
    let uptime = c.read_reg(regmap::UPTIME)?;
    let k = c.counters()?;
    let link = c.link_counters()?;
    let inv = k.check_invariants();
    let port = port_name(c);
    let host_link = *c.link_stats();
    let regs: Vec<(u16, &'static str, u64)> = {
        let mut v: Vec<(u16, &'static str, u64)> = COUNTERS
            .iter()
            .enumerate()
            .map(|(i, x)| (regmap::COUNTER_BASE + i as u16, x.name(), k.0[i]))
            .collect();
        for (i, (n, val)) in link.named().into_iter().enumerate() {
            v.push((regmap::LINK_BASE + i as u16, n, val as u64));
        }
        let st_raw = c.read_reg(regmap::STATUS)?;
        v.extend([
            (regmap::STATUS, "status", st_raw as u64),
            (regmap::CONTROL, "control", control as u64),
            (regmap::TIME_LO, "time_lo", lo as u64),
            (regmap::TIME_HI, "time_hi", hi as u64),
            (regmap::UPTIME, "uptime", uptime as u64),
        ]);
        v
    };
    with_output(a.output.as_deref(), |w: &mut dyn Write| match a.format {
        Format::Json => {
            serde_json::to_writer_pretty(
                &mut *w,
                &InfoJson {
                    tool: "bloomtime device info",
                    port: &port,
                    device: info_json(&inf),
                    config: inf.config,
                    status: st,
                    live_mode: control & regmap::CONTROL_LIVE != 0,
                    time_units: time,
                    uptime_cycles: uptime,
                    counters: &k,
                    link_counters: &link,
                    invariants: Invariants {
                        ok: inv.is_ok(),
                        violations: inv.clone().err(),
                    },
                    host_link,
                },
            )?;
            writeln!(w)
        }
        Format::Csv => {
            writeln!(w, "address,register,value")?;
            for (addr, n, v) in &regs {
                writeln!(w, "0x{addr:04x},{n},{v}")?;
            }
            Ok(())
        }
        Format::Table => {
            let c = &inf.config;
            writeln!(
                w,
                "{port}: BloomTime, protocol {}, design {}",
                inf.protocol_version, inf.design_version
            )?;
            writeln!(w, "configuration: {c}")?;
            writeln!(
                w,
                "header window {} B, clock {:.3} MHz, link {} baud",
                inf.header_window,
                inf.clock_hz as f64 / 1e6,
                inf.baud
            )?;
            writeln!(
                w,
                "status: {}; {}",
                status_text(&st),
                if control & regmap::CONTROL_LIVE != 0 {
                    "live mode (device clock timestamps)"
                } else {
                    "replay mode (frame timestamps)"
                }
            )?;
            let unit_ns = 1u64 << c.time_unit_log2_ns;
            writeln!(
                w,
                "time {time} units ({:.3} s), uptime {uptime} cycles ({:.3} s)",
                (time * unit_ns) as f64 / 1e9,
                uptime as f64 / inf.clock_hz.max(1) as f64
            )?;
            writeln!(w, "pipeline counters:")?;
            for (i, x) in COUNTERS.iter().enumerate() {
                writeln!(w, "  {:<20} {:>12}  {}", x.name(), k.0[i], x.doc())?;
            }
            writeln!(w, "link counters:")?;
            let docs = regmap::registers();
            for (n, v) in link.named() {
                let doc = docs
                    .iter()
                    .find(|r| r.name == n)
                    .map(|r| r.doc)
                    .unwrap_or("");
                writeln!(w, "  {n:<20} {v:>12}  {doc}")?;
            }
            match &inv {
                Ok(()) => writeln!(
                    w,
                    "counter invariants: ok (frames = records + drops, records = iat samples + \
                     misses, rtt lookups = samples + misses, opens >= collision + flush evicts)"
                ),
                Err(e) => writeln!(w, "counter invariants: VIOLATED: {e}"),
            }
        }
    })?;
    inv.map_err(|e| invariant(format!("device counters: {e}")))
}
