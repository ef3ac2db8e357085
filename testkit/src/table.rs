//! The core tests every [`Core`] runs: [`core_tests!`] makes one `#[test]`
//! per scenario below for a core. A fast core ([`Core::FAST`], Verilator)
//! gets many more records than rust-hdl's simulation.

use crate::core::{check_records, Core, Drive};
use crate::gen::{colliding_keys, random_key, random_records};
use crate::seed::Rng;
use bloomtime_model::config::{HARDWARE as CFG, TS_MASK};
use bloomtime_model::golden::BloomTime;
use bloomtime_model::key::{FlowKey, Record};

/// The table: one `#[test]` per scenario, on the core `new` makes
/// (`core_tests!(RustHdlCore::new)`, `core_tests!(CoreSim::new)`).
#[macro_export]
macro_rules! core_tests {
    ($new:expr) => {
        $crate::core_tests!(@each $new;
            random_records_match_the_model,
            random_records_many_flows,
            random_records_with_backpressure_and_gaps,
            same_line_and_same_slot_bursts,
            time_jumps_force_sweeps_without_aliasing,
            counter_overflow_evicts,
            one_record_per_clock,
            peeks_return_the_model_slots,
            records_near_the_top_of_the_time_range
        );
    };
    (@each $new:expr; $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                $crate::table::$name($new);
            }
        )*
    };
}

/// `slow` records for rust-hdl, `fast` for Verilator.
fn n<C: Core>(slow: usize, fast: usize) -> usize {
    if C::FAST {
        fast
    } else {
        slow
    }
}

pub fn random_records_match_the_model<C: Core>(new: fn() -> C) {
    let mut r = Rng::seeded("random_records_match_the_model", 11);
    let recs = random_records(&mut r, n::<C>(4000, 60_000), 64, 64);
    let s = r.seed().unwrap();
    let sum = check_records("core_random", &recs, Drive::new(s, 0.0, 0.0), new);
    assert!(sum.iat_samples > recs.len() / 4 && sum.evicts > 0, "{sum}");
}

pub fn random_records_many_flows<C: Core>(new: fn() -> C) {
    let mut r = Rng::seeded("random_records_many_flows", 21);
    let recs = random_records(&mut r, n::<C>(2000, 40_000), 1 << 16, 1 << 10);
    let s = r.seed().unwrap();
    check_records("core_many_flows", &recs, Drive::new(s, 0.0, 0.0), new);
}

pub fn random_records_with_backpressure_and_gaps<C: Core>(new: fn() -> C) {
    let mut r = Rng::seeded("random_records_with_backpressure_and_gaps", 12);
    let recs = random_records(&mut r, n::<C>(1500, 20_000), 1 << 16, 1 << 10);
    let s = r.seed().unwrap();
    for (bp, gaps) in [(0.3, 0.2), (0.8, 0.0), (0.05, 0.5)] {
        let name = format!("core_backpressure_{bp}_{gaps}");
        check_records(&name, &recs, Drive::new(s, bp, gaps), new);
    }
}

pub fn same_line_and_same_slot_bursts<C: Core>(new: fn() -> C) {
    let mut r = Rng::seeded("same_line_and_same_slot_bursts", 13);
    let keys = colliding_keys(6);
    let mut recs = Vec::new();
    let mut ts = 0u64;
    for _ in 0..n::<C>(6000, 100_000) {
        ts += [0, 0, 0, 1, 100, 3000, 9000][r.below(7) as usize];
        let k = keys[r.below(keys.len() as u64) as usize];
        let k = if r.chance(0.3) { k.reverse(false) } else { k };
        recs.push(Record {
            ts,
            key: k,
            flags: 0,
        });
    }
    let s = r.seed().unwrap();
    check_records("core_bursts", &recs, Drive::new(s, 0.0, 0.0), new);
    let bp = &recs[..n::<C>(6000, 30_000)];
    check_records("core_bursts_bp", bp, Drive::new(s, 0.4, 0.0), new);
}

pub fn time_jumps_force_sweeps_without_aliasing<C: Core>(new: fn() -> C) {
    let mut r = Rng::seeded("time_jumps_force_sweeps_without_aliasing", 14);
    let keys: Vec<FlowKey> = (0..40).map(|_| random_key(&mut r, 8, 8)).collect();
    let mut recs = Vec::new();
    let mut ts = 0u64;
    for _ in 0..n::<C>(1500, 30_000) {
        // Epochs are 2^13 units: jumps of 1..600 epochs, and now and then
        // one across the 40-bit wrap (a regression, clamped).
        ts += match r.below(20) {
            0 | 1 => (1 + r.below(600)) << 13,
            2 | 3 => r.below(200) << 13,
            4 => r.below(1 << 36),
            _ => r.below(1 << 14),
        };
        ts &= TS_MASK;
        recs.push(Record {
            ts,
            key: keys[r.below(40) as usize],
            flags: 0,
        });
    }
    let s = r.seed().unwrap();
    check_records("core_time_jumps", &recs, Drive::new(s, 0.0, 0.0), new);
}

pub fn counter_overflow_evicts<C: Core>(new: fn() -> C) {
    // Many more packets of one flow than the slot's packet counter holds:
    // the slot overflows, is exported and restarts, again and again.
    let k = FlowKey::v4(6, [1, 2, 3, 4], 5, [6, 7, 8, 9], 10);
    let recs: Vec<Record> = (0..n::<C>(66_000, 140_000) as u64)
        .map(|i| Record {
            ts: i * 7,
            key: k,
            flags: 0,
        })
        .collect();
    let sum = check_records("core_overflow", &recs, Drive::plain(), new);
    let overflows = sum.counters[bloomtime_model::counters::Counter::EvictOverflow as usize];
    assert!(overflows >= 100, "{sum}");
}

/// Clocks from a record's acceptance to its outcome leaving the core.
pub const LATENCY: u64 = 10;

pub fn one_record_per_clock<C: Core>(new: fn() -> C) {
    // N records offered on consecutive clocks are all taken without a
    // refusal, and the last outcome leaves at most LATENCY clocks later.
    let mut r = Rng::seeded("one_record_per_clock", 15);
    let recs: Vec<Record> = random_records(&mut r, n::<C>(5000, 50_000), 1 << 12, 1 << 12)
        .into_iter()
        .enumerate()
        .map(|(i, rec)| Record {
            ts: i as u64 * 50,
            ..rec
        })
        .collect();
    let mut core = new();
    let start = core.cycles();
    for rec in &recs {
        core.send(rec, false);
    }
    assert_eq!(core.refused(), 0, "the core refused records");
    assert_eq!(core.cycles() - start, recs.len() as u64);
    let mut got = core.take_outcomes().len();
    let mut extra = 0;
    while got < recs.len() {
        core.clock();
        extra += 1;
        assert!(
            extra <= LATENCY,
            "outcomes late: {got} of {} after {extra}",
            recs.len()
        );
        got += core.take_outcomes().len();
    }
    eprintln!(
        "{}: {} records in {} clocks + {extra} clocks latency",
        C::NAME,
        recs.len(),
        recs.len()
    );
}

pub fn peeks_return_the_model_slots<C: Core>(new: fn() -> C) {
    let mut r = Rng::seeded("peeks_return_the_model_slots", 16);
    let recs = random_records(&mut r, n::<C>(1500, 40_000), 256, 64);
    let mut core = new();
    core.set_backpressure(0.2, r.seed().unwrap());
    let mut m = BloomTime::new(&CFG);
    for rec in &recs {
        core.send(rec, false);
        m.process(rec);
    }
    core.drain();
    core.take_events();
    let mut valid = 0;
    for slot in (0..CFG.slots()).step_by(7) {
        let p = core.peek(slot);
        let ms = &m.table().slot(slot);
        assert_eq!(p.valid, ms.valid, "slot {slot}");
        if ms.valid {
            valid += 1;
            assert_eq!(
                (p.fingerprint, p.stats),
                (ms.fingerprint, ms.stats),
                "slot {slot}"
            );
        }
    }
    assert!(valid > 10, "only {valid} valid slots peeked");
    // Peeks export nothing.
    assert_eq!(core.take_events(), vec![]);
}

pub fn records_near_the_top_of_the_time_range<C: Core>(new: fn() -> C) {
    // Ordinary traffic (one record every 10 epochs) running up to and across
    // the 2^40 wrap of the record time (13 days at 1.024 µs: a long replay,
    // or the board's free-running clock). The model takes every record (the
    // ones after the wrap are clamped). The core once stopped accepting
    // records a little before the top: a sweep pass that started at an epoch
    // within the sweep horizon of the last epoch had its limit wrap (now it
    // saturates at the last epoch).
    let s_shift = CFG.level(0).bucket_log2;
    let epoch_bits = TS_MASK.count_ones() - s_shift;
    let k = FlowKey::v4(17, [10, 0, 0, 1], 1234, [10, 0, 0, 2], 53);
    let first = (1u64 << epoch_bits) - 1000;
    let recs: Vec<Record> = (0..200u64)
        .map(|i| Record {
            ts: ((first + 10 * i) << s_shift) & TS_MASK,
            key: k,
            flags: 0,
        })
        .collect();
    assert!(recs
        .iter()
        .any(|r| r.ts >> s_shift >= (1 << epoch_bits) - CFG.sweep_horizon()));
    check_records("core_ts_top", &recs, Drive::plain(), new);
}
