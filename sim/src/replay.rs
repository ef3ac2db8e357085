//! `bloomtime-sim replay`: whole captures through the Verilated core.
//!
//! Every packet is turned into what the board's frame parser hands the
//! core, by the rules `bloomtime analyze` uses (`replay_ts`, the header
//! window of `min(caplen, 128)` bytes, `model::parse::parse_window`): a
//! record, or a dropped frame with its reason. The core gets the record
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

use crate::{CoreSim, ParsedFrame, Transfers, CFG};
use bloomtime_host::analyze::{check_estimate, MergeSummary};
use bloomtime_host::device::cmd::Merge;
use bloomtime_host::Error;
use bloomtime_model::config::Config;
use bloomtime_model::counters::{Counters, N_COUNTERS};
use bloomtime_model::key::{FlowKey, Record};
use bloomtime_model::merge::{MergeError, MergedStats};
use bloomtime_model::parse::parse_window;
use bloomtime_model::stats::{estimated_row, FlowRow};
use bloomtime_traces::{replay_ts, window, MergedTraces};
use std::path::Path;
use std::time::Instant;

/// Frames handed to the core at a time.
const BATCH: usize = 4096;
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
    fn take(&mut self, t: &Transfers) {
        for e in t.open.iter().chain(t.evict.iter()) {
            if self.error.is_none() {
                if let Err(err) = self.merge.push(e) {
                    self.error = Some(err);
                }
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

/// The core's 32-bit counters, read now; the differences since the last
/// reading are added to `total` (events transferred while reading are merged).
fn read_counters(
    sim: &mut CoreSim,
    last: &mut [u32; N_COUNTERS],
    total: &mut Counters,
    sink: &mut Sink,
) -> Result<(), Error> {
    for (i, l) in last.iter_mut().enumerate() {
        let v = sim.read_counter(i);
        total.0[i] += v.wrapping_sub(*l) as u64;
        *l = v;
    }
    for e in sim.take_events() {
        if let Err(err) = sink.merge.push(&e) {
            return Err(err.into());
        }
    }
    sim.take_outcomes();
    sink.check()
}

/// Replay captures (merged by timestamp) through the Verilated core.
pub fn replay_traces<P: AsRef<Path>>(paths: &[P]) -> Result<SimReplay, Error> {
    let start = Instant::now();
    let mut src = MergedTraces::open(paths)?;
    let mut sim = CoreSim::new();
    let mut sink = Sink {
        merge: Merge::new(&CFG),
        error: None,
    };
    let mut batch: Vec<ParsedFrame> = Vec::with_capacity(BATCH);
    let mut ns_first = None;
    let mut packets = 0u64;
    let mut last = [0u32; N_COUNTERS];
    let mut counters = Counters::default();
    let mut since_read = 0u64;
    loop {
        batch.clear();
        while batch.len() < BATCH {
            let Some((p, _)) = src.next_packet()? else {
                break;
            };
            let first = *ns_first.get_or_insert(p.ns);
            batch.push(
                parse_window(window(&p.data), p.data.len()).map(|parsed| Record {
                    ts: replay_ts(&CFG, p.ns, first),
                    key: parsed.key,
                    flags: parsed.flags,
                }),
            );
        }
        if batch.is_empty() {
            break;
        }
        packets += batch.len() as u64;
        sim.push_frames(&batch, |t| sink.take(t));
        sink.check()?;
        since_read += batch.len() as u64;
        if since_read >= COUNTER_READ_FRAMES {
            read_counters(&mut sim, &mut last, &mut counters, &mut sink)?;
            since_read = 0;
        }
    }
    sim.drain_into(|t| sink.take(t));
    sink.check()?;
    sim.flush();
    read_counters(&mut sim, &mut last, &mut counters, &mut sink)?;
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
        cycles: sim.cycles(),
        elapsed_s: start.elapsed().as_secs_f64(),
    })
}
