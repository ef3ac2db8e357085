//! bloomtime-sim's Verilated core (`CoreSim`) as a [`Core`].

use crate::core::{Core, Outcome, Slot};
use bloomtime_model::counters::Counters;
use bloomtime_model::key::Record;
use bloomtime_model::parse::DropReason;
use bloomtime_model::table::Event;
use bloomtime_sim::{CoreSim, TRACE_BUILT};
use std::ops::Range;
use std::path::Path;

impl Core for CoreSim {
    const NAME: &'static str = "verilator";
    const FAST: bool = true;

    fn set_backpressure(&mut self, p: f64, seed: u64) {
        CoreSim::set_backpressure(self, p, seed)
    }

    fn clock(&mut self) {
        CoreSim::clock(self);
    }

    fn send(&mut self, rec: &Record, frame: bool) {
        if frame {
            self.send_frame_record(rec);
        } else {
            self.send_record(rec);
        }
    }

    fn drop_frame(&mut self, reason: DropReason) {
        self.frame(Some(reason as u8));
    }

    fn drain(&mut self) {
        CoreSim::drain(self)
    }

    fn flush(&mut self) {
        CoreSim::flush(self)
    }

    fn peek(&mut self, slot: u32) -> Slot {
        let p = CoreSim::peek(self, slot);
        Slot {
            valid: p.valid,
            fingerprint: p.fingerprint,
            stats: p.stats,
        }
    }

    fn read_counters(&mut self) -> Counters {
        CoreSim::read_counters(self)
    }

    fn take_outcomes(&mut self) -> Vec<Outcome> {
        CoreSim::take_outcomes(self)
            .into_iter()
            .map(|o| Outcome {
                ts: o.ts,
                dir: o.dir,
                slot: o.slot,
                fp: o.fp,
                iat: o.iat,
                rtt: o.rtt,
            })
            .collect()
    }

    fn take_events(&mut self) -> Vec<Event> {
        CoreSim::take_events(self)
    }

    fn cycles(&self) -> u64 {
        CoreSim::cycles(self)
    }

    fn refused(&self) -> u64 {
        CoreSim::refused(self)
    }

    fn trace(&mut self, path: &Path, cycles: Range<u64>) -> Result<String, String> {
        if !TRACE_BUILT {
            return Err("run again with `--features trace` (bloomtime-sim)".into());
        }
        let what = format!("clocks {}..{}", cycles.start, cycles.end);
        self.trace_window(path, cycles).map_err(|e| e.to_string())?;
        Ok(what)
    }
}
