//! Property: for any short record sequence — time jumps and regressions,
//! records that share a bank line or a table slot back to back, either
//! configuration, random back-pressure and idle input — the core equals the
//! golden model (every outcome, final slot, event and counter).

use bloomtime_hw::consts::CFG;
use bloomtime_model::config::TS_MASK;
use bloomtime_model::counters::Counter;
use bloomtime_model::hash::Hashes;
use bloomtime_model::key::{
    FlowKey, Record, FLAG_ECHO_REPLY, FLAG_ECHO_REQUEST, FLAG_TCP_SYN, FLAG_TCP_SYNACK,
};
use bloomtime_testkit::core::{compare, vcd_path, Core, Drive, Input, Summary};
use bloomtime_testkit::rusthdl::RustHdlCore;
use bloomtime_testkit::seed::{prop_config_with, Rng};
use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestCaseError, TestError, TestRunner};
use std::cell::RefCell;

/// Keys that collide: a TCP key, keys on its bank line (six) and on its
/// table slot (other source ports), an echo pair, and a few
/// unrelated keys (IPv6, UDP).
fn key_pool() -> Vec<FlowKey> {
    let base = FlowKey::v4(6, [10, 1, 1, 1], 1000, [10, 2, 2, 2], 80);
    let h0 = Hashes::of_key(&base, 0);
    let (mut line0, mut slot) = (Vec::new(), Vec::new());
    for p in 1001..u16::MAX {
        let k = FlowKey { sport: p, ..base };
        let h = Hashes::of_key(&k, 0);
        if h.line(&CFG, 0) == h0.line(&CFG, 0) && line0.len() < 6 {
            line0.push(k);
        } else if h.slot(&CFG) == h0.slot(&CFG) && slot.len() < 3 {
            slot.push(k);
        }
    }
    assert_eq!(line0.len() + slot.len(), 9);
    let mut v6 = [0u8; 16];
    v6[0] = 0x20;
    v6[15] = 1;
    let mut v6b = v6;
    v6b[15] = 2;
    let mut pool = vec![base];
    pool.extend(line0);
    pool.extend(slot);
    pool.extend([
        FlowKey::v4(1, [10, 3, 3, 3], 77, [10, 4, 4, 4], 0),
        FlowKey::v6(58, v6, 9, v6b, 0),
        FlowKey::v6(6, v6, 443, v6b, 50_000),
        FlowKey::v4(17, [10, 5, 5, 5], 53, [10, 6, 6, 6], 5353),
    ]);
    pool
}

/// One record of a case: a pool key (or its reverse), a time step and a
/// flag choice (made consistent with the protocol).
#[derive(Clone, Debug)]
struct Step {
    key: usize,
    reverse: bool,
    dt: i64,
    flag: u8,
}

/// Time steps in time units (an epoch is 2^13 units, the window 2^E epochs).
fn dt() -> impl Strategy<Value = i64> {
    prop_oneof![
        6 => Just(0i64),
        4 => 1i64..64,
        3 => 64i64..(1 << 13),
        3 => (1i64..240).prop_map(|e| e << 13),
        1 => (16i64..4096).prop_map(|e| e << 13),
        1 => -(1i64 << 14)..0,
    ]
}

fn step(pool: usize) -> impl Strategy<Value = Step> {
    (0..pool, any::<bool>(), dt(), 0u8..4).prop_map(|(key, reverse, dt, flag)| Step {
        key,
        reverse,
        dt,
        flag,
    })
}

/// One case: a start time (low, or with the high timestamp bits set), the
/// steps, the configuration and the handshake randomness.
/// Some start just below the 2^40 wrap of the record time, where the
/// sweep limit saturates (`core.rs`, `records_near_the_top_of_the_time_range`).
#[derive(Clone, Debug)]
struct Case {
    start: u64,
    steps: Vec<Step>,
    spaced: bool,
    backpressure: f64,
    gaps: f64,
    seed: u64,
}

fn case(pool: usize) -> impl Strategy<Value = Case> {
    (
        prop_oneof![
            3 => 0u64..(1 << 30),
            1 => (1u64 << 39)..((1 << 39) + (1 << 30)),
            1 => ((1u64 << 40) - (1 << 22))..(1u64 << 40),
        ],
        prop::collection::vec(step(pool), 1..100),
        prop::bool::weighted(0.25),
        prop_oneof![Just(0.0), Just(0.3), Just(0.7)],
        prop_oneof![Just(0.0), Just(0.3)],
        any::<u64>(),
    )
        .prop_map(|(start, steps, spaced, backpressure, gaps, seed)| Case {
            start,
            steps,
            spaced,
            backpressure,
            gaps,
            seed,
        })
}

fn records(pool: &[FlowKey], c: &Case) -> Vec<Record> {
    let mut ts = c.start as i64;
    c.steps
        .iter()
        .map(|s| {
            ts = (ts + s.dt).max(0);
            let k = pool[s.key];
            let flags = match k.proto {
                1 | 58 => [0, FLAG_ECHO_REQUEST, FLAG_ECHO_REPLY, FLAG_ECHO_REPLY][s.flag as usize],
                6 => [0, 0, FLAG_TCP_SYN, FLAG_TCP_SYNACK][s.flag as usize],
                _ => 0,
            };
            let echo = flags & (FLAG_ECHO_REQUEST | FLAG_ECHO_REPLY) != 0;
            Record {
                ts: ts as u64 & TS_MASK,
                key: if s.reverse { k.reverse(echo) } else { k },
                flags,
            }
        })
        .collect()
}

fn compare_case(
    recs: &[Record],
    c: &Case,
    vcd: Option<&std::path::Path>,
) -> Result<Summary, String> {
    let (mut core, gaps) = if c.spaced {
        (RustHdlCore::spaced(), 0.0)
    } else {
        (RustHdlCore::new(), c.gaps)
    };
    if let Some(p) = vcd {
        core.trace(p, 0..u64::MAX)?;
    }
    let d = Drive::new(c.seed, c.backpressure, gaps);
    compare(&mut core, &Input::records(recs), d).map_err(|e| e.to_string())
}

/// Totals over the cases, to show the property was not checked on trivia.
#[derive(Default, Debug)]
struct Totals {
    cases: usize,
    spaced: usize,
    backpressured: usize,
    records: usize,
    iat: usize,
    rtt: usize,
    regressions: u64,
    collisions: u64,
    /// Steps of 16 epochs or more (the core marks the record a jump).
    jumps: usize,
}

#[test]
fn random_record_sequences_match_the_model() {
    let test = "random_record_sequences_match_the_model";
    let pool = key_pool();
    let mut runner = TestRunner::new(PropConfig {
        cases: 32,
        ..prop_config_with(test, 51)
    });
    let totals = RefCell::new(Totals::default());
    let result = runner.run(&case(pool.len()), |c| {
        let recs = records(&pool, &c);
        match compare_case(&recs, &c, None) {
            Ok(s) => {
                let mut t = totals.borrow_mut();
                t.cases += 1;
                t.spaced += c.spaced as usize;
                t.backpressured += (c.backpressure > 0.0) as usize;
                t.records += s.records;
                t.iat += s.iat_samples;
                t.rtt += s.rtt_samples;
                t.regressions += s.counters[Counter::TimeRegressions as usize];
                t.collisions += s.counters[Counter::EvictCollision as usize];
                t.jumps += c.steps.iter().filter(|s| s.dt >= 16 << 13).count();
                Ok(())
            }
            Err(e) => Err(TestCaseError::fail(e)),
        }
    });
    if let Err(e) = result {
        // The minimal failing case once more, with a VCD.
        if let TestError::Fail(_, c) = &e {
            let p = vcd_path("core_prop");
            let _ = compare_case(&records(&pool, c), c, Some(&p));
            panic!("{test}: {e}\nVCD of the minimal case: {}", p.display());
        }
        panic!("{test}: {e}");
    }
    let t = totals.into_inner();
    eprintln!("{test}: {t:?}");
    assert_eq!(t.cases, 32);
    assert!(t.records >= 800, "{t:?}");
    assert!(t.spaced >= 3 && t.backpressured >= 10, "{t:?}");
    assert!(t.iat >= 100 && t.rtt >= 10, "{t:?}");
    assert!(t.regressions >= 10 && t.collisions >= 10, "{t:?}");
    assert!(t.jumps >= 10, "{t:?}");
}

/// Flows long enough to fill their slots' packet counters (2^P − 1
/// packets), so that statistics are exported for overflow as well as for
/// collisions, in both configurations and under back-pressure. (The random
/// cases above are too short to fill a slot.)
#[test]
fn full_slots_are_exported_as_the_model_says() {
    let pool = key_pool();
    // The base key, a key on its slot, and the base key reversed.
    let keys = [pool[0], pool[7], pool[0].reverse(false)];
    let mut r = Rng::seeded("full_slots_are_exported_as_the_model_says", 61);
    // Runs of one key (its slot fills and overflows), the slot's other key
    // now and then (a collision), the reverse key in between.
    let mut ts = 1u64 << 20;
    let run = CFG.packet_max() as usize + 20;
    let recs: Vec<Record> = (0..4 * run)
        .map(|i| {
            ts += r.below(3000);
            let k = if r.below(4) == 0 {
                keys[2]
            } else {
                keys[(i / run) % 2]
            };
            Record {
                ts,
                key: k,
                flags: 0,
            }
        })
        .collect();
    for spaced in [true, false] {
        let mut core = if spaced {
            RustHdlCore::spaced()
        } else {
            RustHdlCore::new()
        };
        let s = compare(&mut core, &Input::records(&recs), Drive::new(7, 0.3, 0.0))
            .unwrap_or_else(|e| panic!("spaced {spaced}: {e}"));
        let over = s.counters[Counter::EvictOverflow as usize];
        assert!(over >= 2, "spaced {spaced}: only {over} overflow exports");
        assert!(s.counters[Counter::EvictCollision as usize] >= 1);
    }
}
