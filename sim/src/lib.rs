//! # bloomtime-sim
//!
//! The Verilog that `bloomtime-hw` emits, simulated by Verilator 5 (built by
//! `build.rs`), behind a safe Rust API:
//!
//! * [`Model`]: one Verilated top, cycle by cycle, with its inputs and
//!   outputs as plain `repr(C)` structs ([`CoreIn`], [`CoreOut`]);
//! * [`CoreSim`]: the pipeline core driven like `bloomtime_testkit::rusthdl`
//!   drives the rust-hdl one (records in, key announcements, exports,
//!   per-record outcomes, control commands, counter readout), converting to
//!   and from the golden model's types;
//! * [`fast`]: [`FastCore`](fast::FastCore), the core behind an input
//!   queue, run in batches: the same results as [`CoreSim`], twice as fast;
//! * [`replay`]: whole captures through the fast core, merged and reported
//!   like `bloomtime analyze` (`bloomtime-sim replay`);
//! * [`board`]: [`BoardSim`](board::BoardSim), the Verilated board top
//!   (UART included) with a bit-level model of the host's end of the serial
//!   line, served on a pseudo-terminal by `bloomtime-sim board` (the
//!   virtual board).
//!
//! **Clocking.** A cycle is: inputs applied, combinational logic settled,
//! rising edge, falling edge, as in rust-hdl's stepping
//! (`bloomtime_hw::util::tick`). The wrapper that `build.rs` puts around each
//! top runs that in one `eval()` and samples every output at the rising edge,
//! so the outputs a cycle returns are the ones rust-hdl's tests read after
//! settling and before ticking. See `build.rs` for the Verilator flags.
//!
//! **Speed.** On the (shared, 2-vCPU) development machine: `CoreSim`, a
//! cycle per FFI call with the inputs on the top's ports, 1.0 to 1.3 M records/s
//! (each cycle settles the combinational logic twice: once for the new
//! inputs, once after the edge); [`fast::FastCore`], the same Verilog behind
//! an input queue in its wrapper (one settling a cycle, batches per call),
//! 1.7 to 2.4 M records/s; `bloomtime-sim replay` end to end 1.6 to 2.1 M
//! packets/s (medians), depending on the machine's load (`just sim-bench`). The board
//! top runs ~1.2 to 1.9 M cycles/s (`just sim-bench --only link`).
//!
//! **Traces.** Built with `--features trace`, [`CoreSim::trace_window`] and
//! [`Model::trace_open`] write VCD files (time `10c` ns: cycle `c` settled
//! before its rising edge; `10c + 5`: after the cycle).

use bloomtime_model::config::{Config, HARDWARE};
use bloomtime_model::counters::{Counters, N_COUNTERS};
use bloomtime_model::key::{FlowKey, Record};
use bloomtime_model::parse::DropReason;
use bloomtime_model::table::{Event, EvictReason, SlotStats};
use std::collections::VecDeque;
use std::ffi::{c_char, c_int, c_void, CString};
use std::marker::PhantomData;
use std::ops::Range;
use std::path::Path;
use std::ptr::NonNull;

pub mod board;
pub mod fast;
pub mod replay;

/// The generated port structs, shims and hardware constants.
#[allow(clippy::all)]
pub mod models {
    include!(concat!(env!("OUT_DIR"), "/models.rs"));
}
pub use models::{hw, Board1mTop, BoardIn, BoardOut, BoardTop, CoreIn, CoreOut, CoreTop};

/// The configuration the hardware is built for.
pub const CFG: Config = HARDWARE;

/// Whether the models were built with `--trace` (the `trace` feature).
pub const TRACE_BUILT: bool = cfg!(feature = "trace");

/// A port struct, as `(name, width, 32-bit words least significant first)`.
pub trait Ports {
    fn ports(&self) -> Vec<(&'static str, usize, Vec<u32>)>;
}

/// The ports whose values differ, as `name: a != b` in hex.
pub fn port_diff<P: Ports>(a: &P, b: &P) -> Vec<String> {
    let hex = |w: &[u32], width: usize| {
        let n = width.div_ceil(32).min(w.len());
        let mut s = String::new();
        for x in w[..n].iter().rev() {
            s += &format!("{x:08x}");
        }
        let t = s.trim_start_matches('0');
        if t.is_empty() {
            "0".to_string()
        } else {
            t.to_string()
        }
    };
    a.ports()
        .into_iter()
        .zip(b.ports())
        .filter(|(x, y)| x != y)
        .map(|((name, w, x), (_, _, y))| format!("{name}: {} != {}", hex(&x, w), hex(&y, w)))
        .collect()
}

/// A Verilated top: the functions of its generated shim.
///
/// # Safety
/// Implemented by the generated code only: every function takes a pointer
/// returned by `create` and not yet given to `destroy`.
#[allow(clippy::missing_safety_doc)]
pub unsafe trait Top {
    type In: Copy + Default + Ports;
    type Out: Copy + Default + Ports;
    const NAME: &'static str;
    unsafe fn create() -> *mut c_void;
    unsafe fn destroy(p: *mut c_void);
    unsafe fn set(p: *mut c_void, i: &Self::In);
    unsafe fn eval(p: *mut c_void);
    unsafe fn tick(p: *mut c_void);
    unsafe fn get(p: *mut c_void, now: *mut Self::Out, pre: *mut Self::Out);
    unsafe fn cycle(p: *mut c_void, i: &Self::In, pre: &mut Self::Out);
    unsafe fn run(p: *mut c_void, i: &Self::In, max: u64, pre: &mut Self::Out) -> u64;
    unsafe fn cycles(p: *mut c_void) -> u64;
    unsafe fn trace_open(p: *mut c_void, path: *const c_char) -> c_int;
    unsafe fn trace_close(p: *mut c_void);
}

/// Errors of the simulation API.
#[derive(Debug, PartialEq, Eq)]
pub enum SimError {
    /// The models were built without the `trace` feature.
    TraceNotBuilt,
    /// The trace file could not be opened.
    TraceOpen(String),
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimError::TraceNotBuilt => write!(
                f,
                "bloomtime-sim was built without traces: rebuild with `--features trace`"
            ),
            SimError::TraceOpen(p) => write!(f, "cannot open the trace file {p}"),
        }
    }
}

impl std::error::Error for SimError {}

/// One Verilated top in its power-on state (every register and RAM as the
/// Verilog's `initial` blocks set them, which is rust-hdl's initial state).
pub struct Model<T: Top> {
    raw: NonNull<c_void>,
    _t: PhantomData<T>,
}

// SAFETY: a model is its own Verilated context; it is used from one thread
// at a time (`&mut self`), which is what Verilator requires.
unsafe impl<T: Top> Send for Model<T> {}

impl<T: Top> Default for Model<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Top> Model<T> {
    pub fn new() -> Self {
        // SAFETY: `create` returns a fresh model or aborts.
        let raw = unsafe { T::create() };
        Model {
            raw: NonNull::new(raw).expect("Verilated model"),
            _t: PhantomData,
        }
    }

    /// Apply inputs; they take effect at the next [`eval`](Self::eval) or cycle.
    pub fn set(&mut self, i: &T::In) {
        // SAFETY: live model (see `Top`).
        unsafe { T::set(self.raw.as_ptr(), i) }
    }

    /// Settle combinational logic with the applied inputs (no clock edge).
    pub fn eval(&mut self) {
        unsafe { T::eval(self.raw.as_ptr()) }
    }

    /// One clock cycle with the applied inputs.
    pub fn tick(&mut self) {
        unsafe { T::tick(self.raw.as_ptr()) }
    }

    /// The outputs now (after an [`eval`](Self::eval): settled with the
    /// applied inputs; after a cycle: the new register values).
    pub fn outputs(&self) -> T::Out {
        let mut o = T::Out::default();
        unsafe { T::get(self.raw.as_ptr(), &mut o, std::ptr::null_mut()) };
        o
    }

    /// The outputs as they were at the last rising edge.
    pub fn outputs_at_edge(&self) -> T::Out {
        let mut o = T::Out::default();
        unsafe { T::get(self.raw.as_ptr(), std::ptr::null_mut(), &mut o) };
        o
    }

    /// Apply inputs and run one cycle; returns the outputs at its rising
    /// edge (combinational logic settled with these inputs).
    #[inline]
    pub fn cycle(&mut self, i: &T::In) -> T::Out {
        let mut o = T::Out::default();
        unsafe { T::cycle(self.raw.as_ptr(), i, &mut o) };
        o
    }

    /// Like [`cycle`](Self::cycle), writing the outputs into `o`.
    #[inline]
    pub fn cycle_into(&mut self, i: &T::In, o: &mut T::Out) {
        unsafe { T::cycle(self.raw.as_ptr(), i, o) }
    }

    /// Up to `max` cycles with inputs `i`, in one call, stopping after the
    /// first cycle whose outputs (at its rising edge) differ from the cycle
    /// before's. Returns the cycles run; `o` gets the outputs of the last.
    #[inline]
    pub fn run_until_change(&mut self, i: &T::In, max: u64, o: &mut T::Out) -> u64 {
        unsafe { T::run(self.raw.as_ptr(), i, max, o) }
    }

    /// Cycles run since power-on.
    pub fn cycles(&self) -> u64 {
        unsafe { T::cycles(self.raw.as_ptr()) }
    }

    /// Write every following cycle to a VCD file (needs the `trace` feature).
    pub fn trace_open(&mut self, path: &Path) -> Result<(), SimError> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let c = CString::new(path.to_string_lossy().as_bytes()).expect("path without NUL");
        match unsafe { T::trace_open(self.raw.as_ptr(), c.as_ptr()) } {
            0 => Ok(()),
            -1 => Err(SimError::TraceNotBuilt),
            _ => Err(SimError::TraceOpen(path.display().to_string())),
        }
    }

    /// Finish the VCD file, if one is open.
    pub fn trace_close(&mut self) {
        unsafe { T::trace_close(self.raw.as_ptr()) }
    }
}

impl<T: Top> Drop for Model<T> {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `create` and is destroyed once.
        unsafe { T::destroy(self.raw.as_ptr()) }
    }
}

/// What the core reported about one record as it left the pipeline.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Outcome {
    pub ts: u64,
    pub dir: u8,
    pub slot: u32,
    pub fp: u32,
    pub iat: Option<u32>,
    pub rtt: Option<u32>,
}

impl From<&bloomtime_model::golden::Outcome> for Outcome {
    fn from(o: &bloomtime_model::golden::Outcome) -> Self {
        Outcome {
            ts: o.ts,
            dir: o.dir,
            slot: o.slot,
            fp: o.fingerprint,
            iat: o.iat,
            rtt: o.rtt,
        }
    }
}

/// A slot as a PEEK command reads it (an export with reason 3).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Peek {
    pub slot: u32,
    pub valid: bool,
    pub fingerprint: u32,
    pub stats: SlotStats,
}

/// Control commands (`bloomtime_hw::core::cmd`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cmd {
    /// Empty the banks, the table and the counters.
    Clear,
    /// Export every valid slot (reason flush) and empty the table.
    Flush,
    /// Export one slot's statistics and tag without changing it.
    Peek,
}

impl Cmd {
    pub fn code(self) -> u64 {
        match self {
            Cmd::Clear => hw::CMD_CLEAR,
            Cmd::Flush => hw::CMD_FLUSH,
            Cmd::Peek => hw::CMD_PEEK,
        }
    }
}

/// A frame after the parser: its record, or why it was dropped.
pub type ParsedFrame = Result<Record, DropReason>;

/// What [`CoreSim::run`] returns: outcomes in record order, key
/// announcements and exports in the order the core emitted them (within a
/// cycle the announcement first), the counters after the final flush.
pub type RunResult = (Vec<Outcome>, Vec<Event>, Counters);

/// What the core transferred in one cycle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Transfers {
    /// A key announcement (`Event::Open`).
    pub open: Option<Event>,
    /// An export (`Event::Evict`).
    pub evict: Option<Event>,
    /// A peek result.
    pub peek: Option<Peek>,
    /// A record's outcome.
    pub outcome: Option<Outcome>,
}

/// A xorshift* generator for the random output back-pressure.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// Bit fields in little-endian 32-bit words (Verilator's `WData`), a word
/// at a time (the model's `key::put`/`get` go a bit at a time, too slow for
/// the simulation's inner loop; the unit tests check these against them).
mod bits {
    /// Write `v` (`width` <= 128 bits) at bit `off` of zeroed words.
    #[inline]
    pub fn put(w: &mut [u32], off: usize, width: usize, v: u128) {
        let mut done = 0;
        while done < width {
            let p = off + done;
            let n = (32 - p % 32).min(width - done);
            let chunk = (v >> done) as u32 & (u32::MAX >> (32 - n));
            w[p / 32] |= chunk << (p % 32);
            done += n;
        }
    }

    /// Read `width` <= 128 bits at bit `off`.
    #[inline]
    pub fn get(w: &[u32], off: usize, width: usize) -> u128 {
        if width <= 64 {
            get64(w, off, width) as u128
        } else {
            get64(w, off, 64) as u128 | (get64(w, off + 64, width - 64) as u128) << 64
        }
    }

    /// Read `width` <= 64 bits at bit `off`: the (at most three) words it
    /// spans, shifted once.
    #[inline]
    fn get64(w: &[u32], off: usize, width: usize) -> u64 {
        let i = off / 32;
        let mut v = 0u128;
        for k in 0..3 {
            if let Some(x) = w.get(i + k) {
                v |= (*x as u128) << (32 * k);
            }
        }
        let x = (v >> (off % 32)) as u64;
        if width >= 64 {
            x
        } else {
            x & ((1u64 << width) - 1)
        }
    }
}

/// A key in the port layout (`hw/src/types.rs` `KeyBits`: the model's
/// `key_layout`).
pub fn key_to_words(k: &FlowKey) -> [u32; 10] {
    use bloomtime_model::key::key_layout as l;
    let mut w = [0u32; 10];
    bits::put(&mut w, l::PROTO as usize, 8, k.proto as u128);
    bits::put(&mut w, l::V6 as usize, 1, k.v6 as u128);
    bits::put(&mut w, l::SPORT as usize, 16, k.sport as u128);
    bits::put(&mut w, l::DPORT as usize, 16, k.dport as u128);
    bits::put(&mut w, l::SRC as usize, 128, u128::from_be_bytes(k.src));
    bits::put(&mut w, l::DST as usize, 128, u128::from_be_bytes(k.dst));
    w
}

/// Inverse of [`key_to_words`].
pub fn key_from_words(w: &[u32; 10]) -> FlowKey {
    use bloomtime_model::key::key_layout as l;
    FlowKey {
        proto: bits::get(w, l::PROTO as usize, 8) as u8,
        v6: bits::get(w, l::V6 as usize, 1) == 1,
        sport: bits::get(w, l::SPORT as usize, 16) as u16,
        dport: bits::get(w, l::DPORT as usize, 16) as u16,
        src: bits::get(w, l::SRC as usize, 128).to_be_bytes(),
        dst: bits::get(w, l::DST as usize, 128).to_be_bytes(),
    }
}

/// 32-bit words of the statistics port.
pub const STATS_WORDS: usize = (CFG.stats_bits() as usize).div_ceil(32);

/// Statistics in the port layout (`StatsBits`: the model's `SlotStats::pack`).
pub fn stats_to_words(s: &SlotStats) -> [u32; STATS_WORDS] {
    let m = s.pack(&CFG);
    std::array::from_fn(|i| (m[i / 2] >> (32 * (i % 2))) as u32)
}

/// Inverse of [`stats_to_words`].
pub fn stats_from_words(w: &[u32; STATS_WORDS]) -> SlotStats {
    let m: Vec<u64> = w
        .chunks(2)
        .map(|c| c[0] as u64 | c.get(1).map_or(0, |&h| (h as u64) << 32))
        .collect();
    SlotStats::unpack(&CFG, &m)
}

/// The record inputs for `rec` (valid set).
pub fn record_inputs(i: &mut CoreIn, rec: &Record) {
    i.s_rec_valid = 1;
    i.s_rec_ts = rec.ts & ((1 << hw::TS_BITS) - 1);
    i.s_rec_flags = rec.flags as u64;
    i.s_rec_key = key_to_words(&rec.key);
}

/// The key on the announcement port.
pub fn open_key(o: &CoreOut) -> FlowKey {
    key_from_words(&o.m_open_key)
}

/// The statistics on the export port.
pub fn evict_stats(o: &CoreOut) -> SlotStats {
    stats_from_words(&o.m_evict_stats)
}

/// The outcome on the outcome port, if `o_valid`.
pub fn outcome(o: &CoreOut) -> Option<Outcome> {
    (o.o_valid != 0).then(|| Outcome {
        ts: o.o_ts,
        dir: o.o_dir as u8,
        slot: o.o_slot as u32,
        fp: o.o_fp as u32,
        iat: (o.o_iat_valid != 0).then_some(o.o_iat as u32),
        rtt: (o.o_rtt_valid != 0).then_some(o.o_rtt as u32),
    })
}

struct TraceWindow {
    path: std::path::PathBuf,
    cycles: Range<u64>,
    open: bool,
}

/// The Verilated pipeline core, driven like the rust-hdl test harness.
///
/// Every cycle the output readies are set (always ready, or not ready with
/// the probability given to [`set_backpressure`](Self::set_backpressure)),
/// and what the core transfers is queued: key announcements
/// ([`pop_open`](Self::pop_open)), exports ([`pop_evict`](Self::pop_evict);
/// peek results apart, [`pop_peek`](Self::pop_peek)) and per-record
/// outcomes ([`pop_outcome`](Self::pop_outcome)).
pub struct CoreSim {
    model: Model<CoreTop>,
    /// The inputs held between cycles (the readies are set per cycle).
    inputs: CoreIn,
    /// The outputs at the last rising edge.
    last: CoreOut,
    opens: VecDeque<(u64, Event)>,
    evicts: VecDeque<(u64, Event)>,
    peeks: VecDeque<Peek>,
    outcomes: VecDeque<Outcome>,
    backpressure: f64,
    rng: Rng,
    refused: u64,
    trace: Option<TraceWindow>,
}

impl Default for CoreSim {
    fn default() -> Self {
        Self::new()
    }
}

impl CoreSim {
    /// A core in its power-on state, outputs always ready.
    pub fn new() -> Self {
        CoreSim {
            model: Model::new(),
            inputs: CoreIn::default(),
            last: CoreOut::default(),
            opens: VecDeque::new(),
            evicts: VecDeque::new(),
            peeks: VecDeque::new(),
            outcomes: VecDeque::new(),
            backpressure: 0.0,
            rng: Rng::new(1),
            refused: 0,
            trace: None,
        }
    }

    /// Back to the power-on state (the RTL has no reset input: this is a new
    /// model), with empty queues; back-pressure settings are kept.
    pub fn reset(&mut self) {
        self.model = Model::new();
        self.inputs = CoreIn::default();
        self.last = CoreOut::default();
        self.opens.clear();
        self.evicts.clear();
        self.peeks.clear();
        self.outcomes.clear();
        self.refused = 0;
        if let Some(t) = &mut self.trace {
            t.open = false;
        }
    }

    /// Each output is not ready in a cycle with probability `p`, drawn from
    /// a generator seeded with `seed`.
    pub fn set_backpressure(&mut self, p: f64, seed: u64) {
        self.backpressure = p;
        self.rng = Rng::new(seed);
    }

    /// Write the cycles in `cycles` to a VCD file (needs the `trace` feature).
    pub fn trace_window(&mut self, path: &Path, cycles: Range<u64>) -> Result<(), SimError> {
        if !TRACE_BUILT {
            return Err(SimError::TraceNotBuilt);
        }
        self.trace = Some(TraceWindow {
            path: path.to_path_buf(),
            cycles,
            open: false,
        });
        Ok(())
    }

    /// The underlying model (for direct port access).
    pub fn model(&mut self) -> &mut Model<CoreTop> {
        &mut self.model
    }

    /// Cycles since power-on.
    pub fn cycles(&self) -> u64 {
        self.model.cycles()
    }

    /// Cycles in which an offered record was refused.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// The outputs at the last cycle's rising edge.
    pub fn last_outputs(&self) -> &CoreOut {
        &self.last
    }

    fn trace_step(&mut self) {
        let c = self.model.cycles();
        let Some(t) = &mut self.trace else { return };
        if !t.open && t.cycles.contains(&c) {
            if let Err(e) = self.model.trace_open(&t.path) {
                eprintln!("bloomtime-sim: {e}");
                self.trace = None;
                return;
            }
            t.open = true;
        } else if t.open && c >= t.cycles.end {
            self.model.trace_close();
            self.trace = None;
        }
    }

    /// One clock cycle with the held inputs; returns what was transferred
    /// (and does not queue it).
    #[inline]
    pub fn step(&mut self) -> Transfers {
        if self.backpressure > 0.0 {
            self.inputs.m_open_ready = !self.rng.chance(self.backpressure) as u64;
            self.inputs.m_evict_ready = !self.rng.chance(self.backpressure) as u64;
        } else {
            self.inputs.m_open_ready = 1;
            self.inputs.m_evict_ready = 1;
        }
        if self.trace.is_some() {
            self.trace_step();
        }
        self.model.cycle_into(&self.inputs, &mut self.last);
        let o = &self.last;
        let mut t = Transfers {
            outcome: outcome(o),
            ..Transfers::default()
        };
        if o.m_open_valid != 0 && self.inputs.m_open_ready != 0 {
            t.open = Some(Event::Open {
                slot: o.m_open_slot as u32,
                key: open_key(o),
            });
        }
        if o.m_evict_valid != 0 && self.inputs.m_evict_ready != 0 {
            let slot = o.m_evict_slot as u32;
            let stats = evict_stats(o);
            if o.m_evict_reason == hw::REASON_PEEK {
                let tag = o.m_evict_tag;
                t.peek = Some(Peek {
                    slot,
                    valid: (tag >> hw::FP_BITS) & 1 == 1,
                    fingerprint: (tag & ((1 << hw::FP_BITS) - 1)) as u32,
                    stats,
                });
            } else {
                let reason = EvictReason::from_index(o.m_evict_reason as u8).expect("reason");
                t.evict = Some(Event::Evict {
                    slot,
                    reason,
                    stats,
                });
            }
        }
        t
    }

    /// One clock cycle with the held inputs; queues what was transferred.
    pub fn clock(&mut self) -> &CoreOut {
        let cycle = self.model.cycles();
        let t = self.step();
        if let Some(e) = t.open {
            self.opens.push_back((cycle, e));
        }
        if let Some(e) = t.evict {
            self.evicts.push_back((cycle, e));
        }
        if let Some(p) = t.peek {
            self.peeks.push_back(p);
        }
        if let Some(x) = t.outcome {
            self.outcomes.push_back(x);
        }
        &self.last
    }

    /// Replay `records` and drain, handing every cycle's transfers to `sink`
    /// instead of queueing them (the fastest way through the core).
    pub fn replay(&mut self, records: &[Record], mut sink: impl FnMut(&Transfers)) {
        for r in records {
            record_inputs(&mut self.inputs, r);
            loop {
                let t = self.step();
                sink(&t);
                if self.last.s_rec_ready != 0 {
                    break;
                }
                self.refused += 1;
            }
            self.inputs.s_rec_valid = 0;
        }
        let mut quiet = 0;
        while quiet < 12 {
            sink(&self.step());
            quiet = if self.quiet() { quiet + 1 } else { 0 };
        }
    }

    /// Offer parsed frames in order (a record, or the parser's drop reason),
    /// as the board's frame parser hands them over: a record with the
    /// one-cycle `frame_done` pulse of its frame, a dropped frame as that
    /// pulse with `frame_drop` and its reason. Every cycle's transfers go
    /// to `sink`; nothing is drained at the end (see
    /// [`drain_into`](Self::drain_into)).
    pub fn push_frames(&mut self, frames: &[ParsedFrame], mut sink: impl FnMut(&Transfers)) {
        for f in frames {
            match f {
                Ok(r) => {
                    record_inputs(&mut self.inputs, r);
                    self.inputs.frame_done = 1;
                    loop {
                        let t = self.step();
                        sink(&t);
                        self.inputs.frame_done = 0;
                        if self.last.s_rec_ready != 0 {
                            break;
                        }
                        self.refused += 1;
                    }
                    self.inputs.s_rec_valid = 0;
                }
                Err(reason) => {
                    self.inputs.frame_done = 1;
                    self.inputs.frame_drop = 1;
                    self.inputs.frame_drop_reason = *reason as u64;
                    let t = self.step();
                    sink(&t);
                    self.inputs.frame_done = 0;
                    self.inputs.frame_drop = 0;
                }
            }
        }
    }

    /// Idle cycles until the pipeline is empty and every output taken,
    /// handing the transfers to `sink` (nothing is queued).
    pub fn drain_into(&mut self, mut sink: impl FnMut(&Transfers)) {
        self.inputs.s_rec_valid = 0;
        let mut quiet = 0;
        while quiet < 12 {
            sink(&self.step());
            quiet = if self.quiet() { quiet + 1 } else { 0 };
        }
    }

    /// Offer `rec` for one cycle; true if the core took it.
    pub fn push_record(&mut self, rec: &Record) -> bool {
        record_inputs(&mut self.inputs, rec);
        let taken = self.clock().s_rec_ready != 0;
        self.inputs.s_rec_valid = 0;
        if !taken {
            self.refused += 1;
        }
        taken
    }

    /// Offer `rec` until the core takes it; returns the cycles it waited.
    pub fn send_record(&mut self, rec: &Record) -> u64 {
        let mut waited = 0;
        while !self.push_record(rec) {
            waited += 1;
        }
        waited
    }

    /// [`send_record`](Self::send_record) for a frame's record: the
    /// frame's one-cycle `frame_done` pulse rides on the first cycle, as
    /// the board's frame parser hands it over (what is transferred is
    /// queued, unlike [`push_frames`](Self::push_frames)).
    pub fn send_frame_record(&mut self, rec: &Record) -> u64 {
        self.inputs.frame_done = 1;
        let taken = self.push_record(rec);
        self.inputs.frame_done = 0;
        if taken {
            0
        } else {
            1 + self.send_record(rec)
        }
    }

    /// The pipeline holds nothing and no output is pending (last cycle).
    fn quiet(&self) -> bool {
        let o = &self.last;
        o.idle != 0 && o.busy == 0 && o.m_open_valid == 0 && o.m_evict_valid == 0
    }

    /// Idle cycles until the pipeline is empty and every output taken.
    pub fn drain(&mut self) {
        self.inputs.s_rec_valid = 0;
        let mut quiet = 0;
        while quiet < 12 {
            self.clock();
            quiet = if self.quiet() { quiet + 1 } else { 0 };
        }
    }

    /// Issue a control command (`slot` is used by [`Cmd::Peek`]) and run
    /// until it has finished and its exports have been taken.
    pub fn control(&mut self, cmd: Cmd, slot: u32) {
        self.inputs.ctl_valid = 1;
        self.inputs.ctl_cmd = cmd.code();
        self.inputs.ctl_slot = slot as u64;
        while self.clock().ctl_ready == 0 {}
        self.inputs.ctl_valid = 0;
        self.drain();
    }

    /// Export every valid slot and empty the table.
    pub fn flush(&mut self) {
        self.control(Cmd::Flush, 0);
    }

    /// Read one slot without changing it.
    pub fn peek(&mut self, slot: u32) -> Peek {
        self.control(Cmd::Peek, slot);
        let p = self.peeks.pop_back().expect("a peek result");
        assert_eq!(p.slot, slot, "peek answered for another slot");
        p
    }

    /// One counter through the readout port (`index < hw::N_ALL`).
    pub fn read_counter(&mut self, index: usize) -> u32 {
        self.inputs.cnt_index = index as u64;
        self.inputs.cnt_req = 1;
        while self.clock().cnt_ready == 0 {}
        self.inputs.cnt_req = 0;
        loop {
            let o = self.clock();
            if o.cnt_valid != 0 {
                return o.cnt_value as u32;
            }
        }
    }

    /// The model's counters, read through the readout port.
    pub fn read_counters(&mut self) -> Counters {
        let mut c = Counters::default();
        for i in 0..N_COUNTERS {
            c.0[i] = self.read_counter(i) as u64;
        }
        c
    }

    /// Every counter of the readout (the model's, then the link counters).
    pub fn read_all_counters(&mut self) -> Vec<u32> {
        (0..hw::N_ALL).map(|i| self.read_counter(i)).collect()
    }

    /// Pulse the frame accounting inputs for one cycle (a frame, dropped
    /// with `drop` as `bloomtime_model::parse::DropReason` index, or not).
    pub fn frame(&mut self, drop: Option<u8>) {
        self.inputs.frame_done = 1;
        self.inputs.frame_drop = drop.is_some() as u64;
        self.inputs.frame_drop_reason = drop.unwrap_or(0) as u64;
        self.clock();
        self.inputs.frame_done = 0;
        self.inputs.frame_drop = 0;
    }

    /// Strobe the link counter inputs (bit `j`: readout index
    /// `N_COUNTERS + j`) for one cycle.
    pub fn link_strobes(&mut self, bits: u64) {
        self.inputs.link_inc = bits;
        self.clock();
        self.inputs.link_inc = 0;
    }

    pub fn pop_open(&mut self) -> Option<Event> {
        self.opens.pop_front().map(|(_, e)| e)
    }
    pub fn pop_evict(&mut self) -> Option<Event> {
        self.evicts.pop_front().map(|(_, e)| e)
    }
    pub fn pop_peek(&mut self) -> Option<Peek> {
        self.peeks.pop_front()
    }
    pub fn pop_outcome(&mut self) -> Option<Outcome> {
        self.outcomes.pop_front()
    }

    /// Every queued announcement and export, in the order the core emitted
    /// them (within a cycle the announcement first).
    pub fn take_events(&mut self) -> Vec<Event> {
        let mut out = Vec::with_capacity(self.opens.len() + self.evicts.len());
        loop {
            let take_open = match (self.opens.front(), self.evicts.front()) {
                (Some((a, _)), Some((b, _))) => a <= b,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let q = if take_open {
                &mut self.opens
            } else {
                &mut self.evicts
            };
            out.push(q.pop_front().unwrap().1);
        }
        out
    }

    /// Every queued outcome, in record order.
    pub fn take_outcomes(&mut self) -> Vec<Outcome> {
        self.outcomes.drain(..).collect()
    }

    /// Replay `records`, drain, flush the table and read the counters.
    /// Returns (after what was queued before) the outcomes, the events and
    /// the counters: the model's `process` of every record, `flush`,
    /// `drain_events` and `counters`, up to the interleaving of opens and
    /// exports (docs/DESIGN.md §6).
    pub fn run(&mut self, records: &[Record]) -> RunResult {
        let mut outcomes = self.take_outcomes();
        let mut events = self.take_events();
        outcomes.reserve(records.len());
        self.replay(records, |t| {
            if let Some(o) = t.outcome {
                outcomes.push(o);
            }
            events.extend(t.open);
            events.extend(t.evict);
        });
        self.flush();
        outcomes.extend(self.take_outcomes());
        events.extend(self.take_events());
        let counters = self.read_counters();
        (outcomes, events, counters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bloomtime_model::table::{level0, AccRule};

    fn rng(r: &mut bloomtime_testkit::Rng) -> u64 {
        r.next()
    }

    #[test]
    fn layouts_equal_the_model_packing() {
        let mut r = bloomtime_testkit::Rng::new(1);
        for _ in 0..2000 {
            let mut a = [0u8; 16];
            let mut b = [0u8; 16];
            for x in a.iter_mut().chain(b.iter_mut()) {
                *x = rng(&mut r) as u8;
            }
            let k = FlowKey {
                proto: rng(&mut r) as u8,
                v6: rng(&mut r) & 1 == 1,
                src: a,
                dst: b,
                sport: rng(&mut r) as u16,
                dport: rng(&mut r) as u16,
            };
            let w = key_to_words(&k);
            let m = k.pack();
            for (i, x) in w.iter().enumerate() {
                assert_eq!(*x, (m[i / 2] >> (32 * (i % 2))) as u32, "key word {i}");
            }
            assert_eq!(key_from_words(&w), k);

            let rule = AccRule::new(&CFG);
            let mut s = SlotStats::first(&rule, Some(level0(rng(&mut r) as u8 as u32)), None);
            for _ in 0..rng(&mut r) % 50 {
                let x = |r: &mut bloomtime_testkit::Rng| {
                    (rng(r) % 3 != 0).then(|| level0(rng(r) as u8 as u32))
                };
                s.add(&rule, x(&mut r), x(&mut r));
            }
            s.packets = (rng(&mut r) as u32) & ((1 << CFG.packet_bits) - 1);
            let w = stats_to_words(&s);
            // The port layout is the RTL's `StatsBits`, flattened.
            use rust_hdl::prelude::Synth;
            let flat: rust_hdl::prelude::Bits<{ bloomtime_hw::types::StatsBits::BITS }> =
                bloomtime_hw::types::StatsBits::from_stats(&s).into();
            let m = bloomtime_hw::util::words_from_bits(flat);
            for (i, x) in w.iter().enumerate() {
                assert_eq!(*x, (m[i / 2] >> (32 * (i % 2))) as u32, "stats word {i}");
            }
            assert_eq!(stats_from_words(&w), s);
        }
    }

    #[test]
    fn a_record_through_the_core() {
        let mut sim = CoreSim::new();
        let k = FlowKey::v4(17, [10, 0, 0, 1], 5, [10, 0, 0, 2], 6);
        let (outcomes, events, counters) = sim.run(&[
            Record {
                ts: 100,
                key: k,
                flags: 0,
            },
            Record {
                ts: 5000,
                key: k,
                flags: 0,
            },
        ]);
        assert_eq!(outcomes.len(), 2);
        assert_eq!(outcomes[0].iat, None);
        assert!(outcomes[1].iat.is_some());
        assert!(matches!(events[0], Event::Open { key, .. } if key == k));
        assert!(
            matches!(events[1], Event::Evict { reason: EvictReason::Flush, stats, .. } if stats.packets == 2)
        );
        assert_eq!(counters.get(bloomtime_model::counters::Counter::Records), 2);
    }

    #[test]
    fn trace_window_writes_a_vcd_when_built_with_traces() {
        let p = std::env::temp_dir().join(format!("bt_sim_trace_{}.vcd", std::process::id()));
        let mut sim = CoreSim::new();
        let r = sim.trace_window(&p, 5..15);
        if !TRACE_BUILT {
            assert_eq!(r, Err(SimError::TraceNotBuilt));
            return;
        }
        r.unwrap();
        for _ in 0..30 {
            sim.clock();
        }
        let vcd = std::fs::read_to_string(&p).unwrap();
        let _ = std::fs::remove_file(&p);
        // Two dump times per traced cycle, 10 ns apart per cycle.
        assert!(vcd.contains("#50000") && vcd.contains("#145000") && !vcd.contains("#150000"));
        assert!(vcd.contains("s_rec_ready"));
    }
}
