//! The whole core against the golden model: every sample, every event, every
//! final slot and counter.

mod common;
use bloomtime_hw::consts::*;
use bloomtime_model::hash::Hashes;
use bloomtime_model::key::{FlowKey, Record};
use common::core_harness::*;
use common::*;

#[test]
fn random_records_match_the_model() {
    let s = seed("random_records_match_the_model", 11);
    let mut r = Rng::new(s);
    let recs = random_records(&mut r, 4000, 64, 64);
    check("core_random", &recs, s, 0.0, 0.0);
}

#[test]
fn random_records_with_backpressure_and_gaps() {
    let s = seed("random_records_with_backpressure_and_gaps", 12);
    let mut r = Rng::new(s);
    let recs = random_records(&mut r, 3000, 1 << 16, 1 << 10);
    check("core_backpressure", &recs, s, 0.3, 0.2);
}

/// Keys whose lines collide in both banks and whose slots collide, so that
/// back-to-back records hit every forwarding path.
fn colliding_keys(n: usize) -> Vec<FlowKey> {
    let cfg = CFG;
    let base = FlowKey::v4(17, [10, 1, 1, 1], 0, [10, 2, 2, 2], 53);
    let h0 = Hashes::of_key(&base, 0);
    let mut same_line = Vec::new();
    let mut same_slot = Vec::new();
    for p in 0..u16::MAX {
        let k = FlowKey { sport: p, ..base };
        let h = Hashes::of_key(&k, 0);
        if h.line(&cfg, 0) == h0.line(&cfg, 0) && same_line.len() < n {
            same_line.push(k);
        }
        if h.slot(&cfg) == h0.slot(&cfg) && same_slot.len() < n {
            same_slot.push(k);
        }
    }
    same_line.into_iter().chain(same_slot).collect()
}

#[test]
fn same_line_and_same_slot_bursts() {
    let s = seed("same_line_and_same_slot_bursts", 13);
    let mut r = Rng::new(s);
    let keys = colliding_keys(6);
    let mut recs = Vec::new();
    let mut ts = 0u64;
    for _ in 0..6000 {
        ts += [0, 0, 0, 1, 100, 3000, 9000][r.below(7) as usize];
        let k = keys[r.below(keys.len() as u64) as usize];
        let k = if r.chance(0.3) { k.reverse(false) } else { k };
        recs.push(Record {
            ts,
            key: k,
            flags: 0,
        });
    }
    check("core_bursts", &recs, s, 0.0, 0.0);
    check("core_bursts_bp", &recs, s, 0.4, 0.0);
}

#[test]
fn time_jumps_force_sweeps_without_aliasing() {
    let s = seed("time_jumps_force_sweeps_without_aliasing", 14);
    let mut r = Rng::new(s);
    let keys: Vec<FlowKey> = (0..40).map(|_| random_key(&mut r, 8, 8)).collect();
    let mut recs = Vec::new();
    let mut ts = 0u64;
    for _ in 0..1500 {
        // Epochs are 2^13 units: jumps of 1..600 epochs.
        ts += match r.below(10) {
            0 => (1 + r.below(600)) << 13,
            1 => r.below(200) << 13,
            _ => r.below(1 << 14),
        };
        recs.push(Record {
            ts,
            key: keys[r.below(40) as usize],
            flags: 0,
        });
    }
    check("core_time_jumps", &recs, s, 0.0, 0.0);
}

#[test]
fn counter_overflow_evicts() {
    // 2^16 + a few packets of one flow: the slot overflows and restarts.
    let k = FlowKey::v4(6, [1, 2, 3, 4], 5, [6, 7, 8, 9], 10);
    let recs: Vec<Record> = (0..66_000u64)
        .map(|i| Record {
            ts: i * 7,
            key: k,
            flags: 0,
        })
        .collect();
    check("core_overflow", &recs, 1, 0.0, 0.0);
}

#[test]
fn one_record_per_clock() {
    // N records offered on consecutive clocks are all accepted without a
    // refusal, and every outcome is out N + latency cycles after the first.
    let s = seed("one_record_per_clock", 15);
    let mut r = Rng::new(s);
    let recs: Vec<Record> = random_records(&mut r, 5000, 1 << 12, 1 << 12)
        .into_iter()
        .enumerate()
        .map(|(i, rec)| Record {
            ts: i as u64 * 50,
            ..rec
        })
        .collect();
    let mut h = Harness::new(s, 0.0, 0.0, None);
    let start = h.st.cycle;
    for rec in &recs {
        h.push(rec);
    }
    assert_eq!(h.refused, 0, "the core refused records");
    assert_eq!(h.st.cycle - start, recs.len() as u64);
    let mut extra = 0;
    while h.outcomes.len() < recs.len() {
        h.cycle();
        extra += 1;
        assert!(extra < 20, "outcomes late");
    }
    eprintln!(
        "{} records in {} cycles + {} cycles latency",
        recs.len(),
        recs.len(),
        extra
    );
    assert!(extra <= LATENCY, "latency {extra} > {LATENCY}");
}

/// Cycles from a record's acceptance to its outcome leaving the core.
const LATENCY: u64 = 10;

#[test]
fn peeks_return_the_model_slots() {
    let s = seed("peeks_return_the_model_slots", 16);
    let mut r = Rng::new(s);
    let recs = random_records(&mut r, 1500, 256, 64);
    let mut h = Harness::new(s, 0.2, 0.0, None);
    let mut m = bloomtime_model::golden::BloomTime::new(&CFG);
    for rec in &recs {
        h.push(rec);
        m.process(rec);
    }
    h.drain();
    let evicts_before = h.evicts.len();
    for slot in (0..256u32).step_by(7) {
        h.control(bloomtime_hw::core::cmd::PEEK, slot);
    }
    assert_eq!(h.peeks.len(), 256usize.div_ceil(7));
    for (slot, tag, stats) in &h.peeks {
        let ms = &m.table().slots[*slot as usize];
        assert_eq!(tag >> FP_BITS == 1, ms.valid, "slot {slot}");
        if ms.valid {
            assert_eq!(
                (tag & ((1 << FP_BITS) - 1)) as u32,
                ms.fingerprint,
                "slot {slot}"
            );
            assert_eq!(*stats, ms.stats, "slot {slot}");
        }
    }
    // Peeks export nothing.
    assert_eq!(h.evicts.len(), evicts_before);
}

#[test]
fn spaced_configuration_matches_the_model() {
    // The board's configuration: held keys, no forwarding, bubbles around
    // packets; same-line/same-slot bursts and time jumps included.
    let s = seed("spaced_configuration_matches_the_model", 17);
    let mut r = Rng::new(s);
    let mut recs = random_records(&mut r, 600, 64, 64);
    let keys = colliding_keys(4);
    let mut ts = recs.last().unwrap().ts;
    for _ in 0..600 {
        ts += [0, 0, 1, 3000, 9000, 1 << 20][r.below(6) as usize];
        recs.push(Record {
            ts,
            key: keys[r.below(keys.len() as u64) as usize],
            flags: 0,
        });
    }
    check_spaced("core_spaced", &recs, s, 0.3);
}

#[test]
fn records_near_the_top_of_the_time_range() {
    // Ordinary traffic (one record every 10 epochs) running up to and across
    // the 2^40 wrap of the record time (13 days at 1.024 µs: a long replay,
    // or the board's free-running clock). The model takes every record (the
    // ones after the wrap are clamped). The core once stopped accepting
    // records a little before the top: a sweep pass that started at an epoch
    // within SWEEP_HORIZON of 2^27 had its limit `epoch + 239` wrap in
    // EPOCH_BITS (now it saturates at the last epoch).
    use bloomtime_hw::consts::SWEEP_HORIZON;
    use bloomtime_model::config::TS_MASK;
    let k = FlowKey::v4(17, [10, 0, 0, 1], 1234, [10, 0, 0, 2], 53);
    let first = (1u64 << EPOCH_BITS) - 1000;
    let recs: Vec<Record> = (0..200u64)
        .map(|i| Record {
            ts: ((first + 10 * i) << S_SHIFT) & TS_MASK,
            key: k,
            flags: 0,
        })
        .collect();
    assert!(recs
        .iter()
        .any(|r| r.ts >> S_SHIFT >= (1 << EPOCH_BITS) - SWEEP_HORIZON));
    check("core_ts_top", &recs, 1, 0.0, 0.0);
}
