//! The fast core: the core's Verilog (the same `top.v` as [`CoreTop`](crate::CoreTop))
//! behind an input queue in its Verilated wrapper, run in batches of cycles.
//!
//! [`CoreSim`](crate::CoreSim) applies inputs on the top's ports, so every
//! cycle settles the combinational logic twice (once for the new inputs,
//! once after the edge) and crosses the FFI. Here the inputs are bundles
//! queued in the wrapper's registers (`sim/build/fast.rs`), so a cycle is one
//! settling, and a batch of frames is one call. The bundles are applied as
//! `CoreSim` applies inputs (a record held until the core takes it, the
//! frame pulses in its first cycle), every output is always ready, and the
//! transfers come back in the order the core made them: the same events,
//! outcomes and counters as `CoreSim` (the test `fast_core_equals_core_sim`
//! checks it on generated and real traces). `bloomtime-sim replay` and the
//! bench use it.

use crate::models::core_fast as ffi;
use crate::{key_from_words, record_inputs, stats_from_words, Cmd, CoreIn, Outcome, ParsedFrame};
use bloomtime_model::counters::{Counters, N_COUNTERS};
use bloomtime_model::table::{Event, EvictReason};
pub use ffi::RawEvent;
use std::ffi::c_void;
use std::ptr::NonNull;

/// Quiet cycles in a row that end a drain (as [`CoreSim::drain`](crate::CoreSim::drain)).
const QUIET: u32 = 12;

/// The core stopped taking its inputs: a design fault, never bad input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stalled {
    /// Cycles run in the call that gave up.
    pub cycles: u64,
    /// Input bundles given to that call.
    pub bundles: u64,
}

impl std::fmt::Display for Stalled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the Verilated core stopped taking input: {} clocks without finishing a call of {} input bundles",
            self.cycles, self.bundles
        )
    }
}

impl std::error::Error for Stalled {}

/// The Verilated core with its input queue (see the module docs).
pub struct FastCore {
    raw: NonNull<c_void>,
    bundles: Vec<CoreIn>,
    outcomes: bool,
}

// SAFETY: the model is its own Verilated context, used from one thread at a
// time (`&mut self`).
unsafe impl Send for FastCore {}

impl Default for FastCore {
    fn default() -> Self {
        Self::new()
    }
}

impl FastCore {
    /// A core in its power-on state; outcomes are not collected.
    pub fn new() -> Self {
        let (mut i, mut e, mut o) = (0, 0, 0);
        // SAFETY: writes three integers.
        unsafe { ffi::bt_core_fast_sizes(&mut i, &mut e, &mut o) };
        assert_eq!(
            (i as usize, e as usize, o as usize),
            (
                std::mem::size_of::<CoreIn>(),
                std::mem::size_of::<ffi::RawEvent>(),
                std::mem::size_of::<ffi::RawOutcome>()
            ),
            "the fast core's C and Rust structs differ (sim/build/fast.rs)"
        );
        // SAFETY: returns a fresh model or aborts.
        let raw = unsafe { ffi::bt_core_fast_new() };
        FastCore {
            raw: NonNull::new(raw).expect("Verilated model"),
            bundles: Vec::new(),
            outcomes: false,
        }
    }

    /// Collect per-record outcomes (off by default: replay does not use them).
    pub fn with_outcomes(mut self, on: bool) -> Self {
        self.outcomes = on;
        self
    }

    /// Cycles since power-on.
    pub fn cycles(&self) -> u64 {
        // SAFETY: live model.
        unsafe { ffi::bt_core_fast_cycles(self.raw.as_ptr()) }
    }

    /// Runs the queued bundles (then `quiet` quiet cycles, if > 0), hands the
    /// transfers over in order and returns the counter values read.
    fn run(
        &mut self,
        bundles: Option<&[CoreIn]>,
        quiet: u32,
        on_event: &mut impl FnMut(&RawEvent),
        on_outcome: &mut impl FnMut(Outcome),
    ) -> Result<Vec<u32>, Stalled> {
        let bundles = bundles.unwrap_or(&self.bundles);
        let n = bundles.len() as u64;
        // A record waits at most a few hundred clocks (a flush of the table
        // in front of it); a stall is a design fault.
        let max = 4096 * (n + 1) + (1 << 20);
        let p = self.raw.as_ptr();
        // SAFETY: live model; the bundles are `n` valid `CoreIn`s.
        let ran = unsafe {
            ffi::bt_core_fast_run(p, bundles.as_ptr(), n, quiet, max, self.outcomes as i32)
        };
        self.bundles.clear();
        let mut len = 0u64;
        // SAFETY: the pointers and lengths are the shim's vectors, valid
        // until `bt_core_fast_clear`, which is called after they are read.
        let events = unsafe {
            let ptr = ffi::bt_core_fast_events(p, &mut len);
            std::slice::from_raw_parts(ptr, len as usize)
        };
        for e in events {
            on_event(e);
        }
        let outcomes = unsafe {
            let ptr = ffi::bt_core_fast_outcomes(p, &mut len);
            std::slice::from_raw_parts(ptr, len as usize)
        };
        for o in outcomes {
            on_outcome(Outcome {
                ts: o.ts,
                dir: o.dir as u8,
                slot: o.slot,
                fp: o.fp,
                iat: (o.iat_valid != 0).then_some(o.iat),
                rtt: (o.rtt_valid != 0).then_some(o.rtt),
            });
        }
        let counts = unsafe {
            let ptr = ffi::bt_core_fast_counts(p, &mut len);
            std::slice::from_raw_parts(ptr, len as usize).to_vec()
        };
        unsafe { ffi::bt_core_fast_clear(p) };
        if ran >= max {
            return Err(Stalled {
                cycles: ran,
                bundles: n,
            });
        }
        Ok(counts)
    }

    /// Offer parsed frames in order, as [`CoreSim::push_frames`](crate::CoreSim::push_frames)
    /// does (a record with its frame's `frame_done` pulse, held until the
    /// core takes it; a dropped frame as the pulse with `frame_drop` and its
    /// reason), and run until the last is queued. The last few (up to the
    /// queue's depth) go into the core in the next call, which follows on
    /// without an idle cycle: batches make the same cycles as one long
    /// stream. [`drain`](Self::drain) at the end.
    pub fn push_frames(
        &mut self,
        frames: &[ParsedFrame],
        mut on_event: impl FnMut(&RawEvent),
        mut on_outcome: impl FnMut(Outcome),
    ) -> Result<(), Stalled> {
        self.bundles.extend(frames.iter().map(frame_bundle));
        self.run(None, 0, &mut on_event, &mut on_outcome).map(drop)
    }

    /// [`push_frames`](Self::push_frames) of frames already made bundles
    /// ([`frame_bundle`]): the least work on the thread that runs the core.
    pub fn push_bundles(
        &mut self,
        bundles: &[CoreIn],
        mut on_event: impl FnMut(&RawEvent),
        mut on_outcome: impl FnMut(Outcome),
    ) -> Result<(), Stalled> {
        self.run(Some(bundles), 0, &mut on_event, &mut on_outcome)
            .map(drop)
    }

    /// Idle cycles until the pipeline is empty and every output taken.
    pub fn drain(
        &mut self,
        mut on_event: impl FnMut(&RawEvent),
        mut on_outcome: impl FnMut(Outcome),
    ) -> Result<(), Stalled> {
        self.run(None, QUIET, &mut on_event, &mut on_outcome)
            .map(drop)
    }

    /// Issue a control command ([`Cmd::Clear`] or [`Cmd::Flush`]; a peek's
    /// answer is an export with reason PEEK, which this API does not
    /// return) and run until it has finished and its exports are taken.
    pub fn control(
        &mut self,
        cmd: Cmd,
        mut on_event: impl FnMut(&RawEvent),
        mut on_outcome: impl FnMut(Outcome),
    ) -> Result<(), Stalled> {
        assert!(cmd != Cmd::Peek, "FastCore does not return peek results");
        self.bundles.push(CoreIn {
            ctl_valid: 1,
            ctl_cmd: cmd.code(),
            ..CoreIn::default()
        });
        self.run(None, QUIET, &mut on_event, &mut on_outcome)
            .map(drop)
    }

    /// The first `n` counters of the readout (`n <= hw::N_ALL`), read in
    /// one batch through the readout port, in index order; what the core
    /// transfers meanwhile goes to the sinks.
    pub fn read_counters_raw(
        &mut self,
        n: usize,
        mut on_event: impl FnMut(&RawEvent),
        mut on_outcome: impl FnMut(Outcome),
    ) -> Result<Vec<u32>, Stalled> {
        for i in 0..n {
            self.bundles.push(CoreIn {
                cnt_req: 1,
                cnt_index: i as u64,
                ..CoreIn::default()
            });
        }
        let v = self.run(None, QUIET, &mut on_event, &mut on_outcome)?;
        assert_eq!(v.len(), n, "one answer for each counter read");
        Ok(v)
    }

    /// The golden model's counters, read through the readout port.
    pub fn read_counters(
        &mut self,
        on_event: impl FnMut(&RawEvent),
        on_outcome: impl FnMut(Outcome),
    ) -> Result<Counters, Stalled> {
        let v = self.read_counters_raw(N_COUNTERS, on_event, on_outcome)?;
        let mut c = Counters::default();
        for (i, x) in v.into_iter().enumerate() {
            c.0[i] = x as u64;
        }
        Ok(c)
    }
}

impl Drop for FastCore {
    fn drop(&mut self) {
        // SAFETY: created by `bt_core_fast_new`, destroyed once.
        unsafe { ffi::bt_core_fast_free(self.raw.as_ptr()) }
    }
}

/// The input bundle of a parsed frame (see [`FastCore::push_frames`]).
pub fn frame_bundle(f: &ParsedFrame) -> CoreIn {
    let mut b = CoreIn {
        frame_done: 1,
        ..CoreIn::default()
    };
    match f {
        Ok(r) => record_inputs(&mut b, r),
        Err(reason) => {
            b.frame_drop = 1;
            b.frame_drop_reason = *reason as u64;
        }
    }
    b
}

/// A transfer as the golden model's event.
pub fn event(e: &RawEvent) -> Event {
    if e.evict == 0 {
        Event::Open {
            slot: e.slot,
            key: key_from_words(&e.key),
        }
    } else {
        Event::Evict {
            slot: e.slot,
            reason: EvictReason::from_index(e.reason as u8).expect("export reason"),
            stats: stats_from_words(&e.stats),
        }
    }
}
