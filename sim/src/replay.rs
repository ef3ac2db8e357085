//! `bloomtime-sim replay`: whole captures through the Verilated core.
//!
//! Every packet is turned into what the board's frame parser hands the
//! core by the path `bloomtime analyze` takes (`bloomtime_traces::Records`:
//! `replay_ts`, the header window of `min(caplen, 128)` bytes,
//! `model::parse::parse_window`): a record, or a dropped frame with its
//! reason. The core gets the record
//! stream (one record a clock) with the parser's per-frame `frame_done` /
//! `frame_drop` pulses, so its counters count frames and drops too. The RTL
//! frame parser itself is not in this path: it takes a byte a clock, which
//! would cost ~50 clocks a frame instead of one; it is checked bit for bit
//! against the model's parser in `hw/tests/frame_parser.rs` and runs, with
//! the UART and the link, in the virtual board (`bloomtime-sim board`).
//!
//! Key announcements and exports are merged as the core emits them (the
//! host merge of `bloomtime analyze` and `bloomtime device`), the table is
//! flushed at the end, the counters are read through the core's readout
//! port, and the result is checked like `analyze` checks the model's.
//!
//! The core is the [`FastCore`] (the core's Verilog behind an input queue,
//! batches of cycles per call; `tests/fast.rs` checks it against
//! [`CoreSim`](crate::CoreSim)). Three threads share the work: one reads and
//! parses the captures into input bundles, the calling thread runs the
//! core, a third converts and merges what the core exports. On the
//! development machine the core's thread is the bottleneck at about
//! 1.9 to 2.5 M records per CPU second (`just sim-bench --only replay`).

use crate::fast::{event, frame_bundle, FastCore, RawEvent, Stalled};
use crate::{CoreIn, CFG};
use bloomtime_host::analyze::{check_estimate, MergeSummary};
use bloomtime_host::device::cmd::Merge;
use bloomtime_host::Error;
use bloomtime_model::config::Config;
use bloomtime_model::counters::{Counter, Counters, N_COUNTERS};
use bloomtime_model::key::FlowKey;
use bloomtime_model::merge::{MergeError, MergedStats};
use bloomtime_model::stats::{estimated_row, FlowRow};
use bloomtime_model::table::EventLog;
use bloomtime_traces::{Records, TraceError};
use std::path::Path;
use std::sync::mpsc;
use std::time::Instant;

/// Frames handed to the core at a time.
const BATCH: usize = 4096;
/// Batches parsed ahead of the core.
const AHEAD: usize = 4;
/// The core's counters are 32 bits wide: they are read (and the differences
/// summed) at least this often, in frames, so a long capture cannot wrap them.
const COUNTER_READ_FRAMES: u64 = 1 << 30;

/// What a replay through the Verilated core produced.
#[derive(Clone, Debug)]
pub struct SimReplay {
    pub cfg: Config,
    /// Merged per-flow sums, sorted by key.
    pub flows: Vec<(FlowKey, MergedStats)>,
    /// The core's counters (read through its readout port).
    pub counters: Counters,
    pub merge: MergeSummary,
    /// Packets read from the captures.
    pub packets: u64,
    /// Clocks simulated.
    pub cycles: u64,
    /// Wall time of the replay.
    pub elapsed_s: f64,
    /// CPU time of the thread that ran the core, where the system tells
    /// (Linux): on a busy machine, the core's own speed.
    pub core_cpu_s: Option<f64>,
}

/// This thread's CPU time in seconds (Linux `schedstat`), if available.
pub fn thread_cpu_s() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

impl SimReplay {
    pub fn rows(&self) -> Vec<FlowRow> {
        self.flows
            .iter()
            .map(|(k, s)| estimated_row(&self.cfg, k, s))
            .collect()
    }
}

/// The merge, fed from the core's transfers; the first merge error is kept.
struct Sink {
    merge: Merge,
    error: Option<MergeError>,
}

impl Sink {
    /// A batch of events, merged as one log (`FlowMerger::push_log`: the
    /// flows' index words and entries asked for a few events ahead).
    fn take(&mut self, log: &EventLog) {
        if self.error.is_none() {
            if let Err(err) = self.merge.push_log(log) {
                self.error = Some(err);
            }
        }
    }
    fn check(&mut self) -> Result<(), Error> {
        match self.error.take() {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }
}

fn stalled(e: Stalled) -> Error {
    Error::Invariant(e.to_string())
}

/// The core's 32-bit counters, read now; the differences since the last
/// reading are added to `total` (events transferred while reading go to
/// `events`).
fn read_counters(
    sim: &mut FastCore,
    last: &mut [u32; N_COUNTERS],
    total: &mut Counters,
    events: &mut Vec<RawEvent>,
) -> Result<(), Error> {
    let v = sim
        .read_counters_raw(N_COUNTERS, |e| events.push(*e), |_| {})
        .map_err(stalled)?;
    for (i, l) in last.iter_mut().enumerate() {
        total.0[i] += v[i].wrapping_sub(*l) as u64;
        *l = v[i];
    }
    Ok(())
}

/// Reads and parses the captures into batches of frames, on its own
/// thread, `AHEAD` batches ahead of the core. Emptied batches come back
/// through `spare` to be refilled. Stops at the end, at an error (sent
/// on), or when the receiver is gone. Returns the records before the first
/// packet that the core's clamp cannot see ([`Records::unseen_regressions`]).
fn parse_ahead(
    mut src: Records,
    out: mpsc::SyncSender<Result<Vec<CoreIn>, TraceError>>,
    spare: mpsc::Receiver<Vec<CoreIn>>,
) -> u64 {
    loop {
        let mut batch = spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BATCH));
        batch.clear();
        while batch.len() < BATCH {
            let f = match src.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    let _ = out.send(Err(e));
                    return src.unseen_regressions();
                }
            };
            batch.push(frame_bundle(&f.record()));
        }
        let end = batch.len() < BATCH;
        if (!batch.is_empty() && out.send(Ok(batch)).is_err()) || end {
            return src.unseen_regressions();
        }
    }
}

/// Replay captures (merged by timestamp) through the Verilated core
/// ([`FastCore`]). Three threads: the captures are read and parsed on one,
/// the core runs on the calling thread, and its key announcements and
/// exports are merged on a third.
pub fn replay_traces<P: AsRef<Path>>(paths: &[P]) -> Result<SimReplay, Error> {
    let start = Instant::now();
    let src = Records::open(paths, &CFG)?;
    let (frames_tx, frames_rx) = mpsc::sync_channel(AHEAD);
    let (frames_back, frames_spare) = mpsc::channel();
    let reader = spawn("bloomtime-sim-parse", move || {
        parse_ahead(src, frames_tx, frames_spare)
    })?;
    let (events_tx, events_rx) = mpsc::sync_channel::<Vec<RawEvent>>(AHEAD);
    let (events_back, events_spare) = mpsc::channel();
    let merger = spawn("bloomtime-sim-merge", move || {
        let mut sink = Sink {
            merge: Merge::new(&CFG),
            error: None,
        };
        let mut log = EventLog::new();
        for mut events in events_rx {
            log.clear();
            for e in events.drain(..) {
                log.push(&event(&e));
            }
            sink.take(&log);
            let _ = events_back.send(events);
        }
        sink
    })?;
    // Dropping the channels' ends (on return or error) stops both threads.
    let cpu0 = thread_cpu_s();
    let core = run_core(frames_rx, frames_back, events_tx, events_spare);
    let core_cpu_s = cpu0.zip(thread_cpu_s()).map(|(a, b)| b - a);
    let unseen = reader.join().unwrap_or(0);
    let mut sink = merger
        .join()
        .map_err(|_| Error::Invariant("the merge thread panicked".into()))?;
    let (mut counters, packets, cycles) = core?;
    // Records before the first packet that the core's clamp could not see
    // (its time was still 0): counted here, as the model counts them
    // (docs/DESIGN.md §1).
    counters.0[Counter::TimeRegressions as usize] += unseen;
    sink.check()?;
    let mut merge = sink.merge;
    merge.summary.open_slots_after_flush = merge.merger.open_slots();
    let flows = merge.merger.flows();
    check_estimate(&counters, &merge.summary, &flows, "the Verilated core")?;
    Ok(SimReplay {
        cfg: CFG,
        flows,
        counters,
        merge: merge.summary,
        packets,
        cycles,
        elapsed_s: start.elapsed().as_secs_f64(),
        core_cpu_s,
    })
}

fn spawn<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<std::thread::JoinHandle<T>, Error> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map_err(|e| Error::io(format!("(thread {name})"), e))
}

/// The core's side of [`replay_traces`]: every batch of frames through the
/// core, its transfers sent to the merge, then a drain, a flush and the
/// counters. Returns the counters, the packets and the clocks.
fn run_core(
    frames: mpsc::Receiver<Result<Vec<CoreIn>, TraceError>>,
    frames_back: mpsc::Sender<Vec<CoreIn>>,
    events: mpsc::SyncSender<Vec<RawEvent>>,
    events_spare: mpsc::Receiver<Vec<RawEvent>>,
) -> Result<(Counters, u64, u64), Error> {
    let mut sim = FastCore::new();
    let mut packets = 0u64;
    let mut last = [0u32; N_COUNTERS];
    let mut counters = Counters::default();
    let mut since_read = 0u64;
    let gone = || Error::Invariant("the merge thread stopped early".into());
    for batch in frames {
        let batch = batch?;
        packets += batch.len() as u64;
        let mut ev = events_spare.try_recv().unwrap_or_default();
        sim.push_bundles(&batch, |e| ev.push(*e), |_| {})
            .map_err(stalled)?;
        since_read += batch.len() as u64;
        if since_read >= COUNTER_READ_FRAMES {
            read_counters(&mut sim, &mut last, &mut counters, &mut ev)?;
            since_read = 0;
        }
        events.send(ev).map_err(|_| gone())?;
        let _ = frames_back.send(batch);
    }
    let mut ev = Vec::new();
    sim.drain(|e| ev.push(*e), |_| {}).map_err(stalled)?;
    sim.control(crate::Cmd::Flush, |e| ev.push(*e), |_| {})
        .map_err(stalled)?;
    read_counters(&mut sim, &mut last, &mut counters, &mut ev)?;
    events.send(ev).map_err(|_| gone())?;
    Ok((counters, packets, sim.cycles()))
}
