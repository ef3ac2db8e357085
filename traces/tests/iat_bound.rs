//! Property: on a collision-free configuration (every flow owns its lines in
//! every bank and its own slot) every IAT and RTT sample of the golden model
//! comes from the finest level that still holds the previous packet, is the
//! estimator's ideal sample for it, and is within the documented bound of
//! the true gap, |T − (x + ½)·q_0| < w_i/2 + q_i + q_0/2 (docs/DESIGN.md §5);
//! a gap whose previous packet has left the line's window is a miss.

use bloomtime_model::config::{Config, Level, Levels, ALCHITRY_CU, ALCHITRY_CU_V1, LARGE, PAPER};
use bloomtime_model::estimator::ideal;
use bloomtime_model::hash::Hashes;
use bloomtime_model::key::*;
use bloomtime_model::{BloomTime, Record};
use proptest::prelude::*;
use std::collections::HashSet;

/// `n` UDP flows plus one ping conversation (request, reply), such that no
/// two conversations share a line in any bank and no two flows share a slot.
fn isolated_keys(cfg: &Config, n: usize) -> Vec<(FlowKey, u8)> {
    let mut used_lines: Vec<HashSet<u32>> = vec![HashSet::new(); cfg.banks as usize];
    let mut used_slots = HashSet::new();
    let mut out = Vec::new();
    let mut p: u16 = 1000;
    let mut try_conv = |keys: &[(FlowKey, u8)], out: &mut Vec<(FlowKey, u8)>| -> bool {
        let h0 = Hashes::of_key(&keys[0].0, keys[0].1);
        let lines: Vec<u32> = (0..cfg.banks).map(|i| h0.line(cfg, i)).collect();
        let slots: Vec<u32> = keys
            .iter()
            .map(|(k, f)| Hashes::of_key(k, *f).slot(cfg))
            .collect();
        let distinct_slots = slots.len() == 1 || slots[0] != slots[1];
        if !distinct_slots
            || slots.iter().any(|s| used_slots.contains(s))
            || lines
                .iter()
                .enumerate()
                .any(|(i, l)| used_lines[i].contains(l))
        {
            return false;
        }
        for (i, l) in lines.iter().enumerate() {
            used_lines[i].insert(*l);
        }
        used_slots.extend(slots);
        out.extend_from_slice(keys);
        true
    };
    // The ping conversation first.
    loop {
        let req = FlowKey::v4(PROTO_ICMP, [10, 1, 0, 1], p, [10, 1, 0, 2], 0);
        p += 1;
        if try_conv(
            &[
                (req, FLAG_ECHO_REQUEST),
                (req.reverse(true), FLAG_ECHO_REPLY),
            ],
            &mut out,
        ) {
            break;
        }
    }
    while out.len() < n + 2 {
        let k = FlowKey::v4(PROTO_UDP, [10, 2, 0, 1], p, [10, 2, 0, 2], 53);
        p += 1;
        try_conv(&[(k, 0)], &mut out);
    }
    out
}

fn check(cfg: Config, events: &[(usize, u64)]) -> Result<(), TestCaseError> {
    let keys = isolated_keys(&cfg, 4);
    let mut bt = BloomTime::new(&cfg);
    let q0 = 1i128 << (cfg.level(0).bucket_log2 - cfg.sample_frac_bits);
    let mut last: Vec<Option<u64>> = vec![None; keys.len()];
    let mut ts = 0u64;
    // The sample the model must give for a previous packet at `prev`, with
    // its bound checked; `None` beyond the window.
    let expect = |prev: u64, now: u64, got: Option<u32>, what: &str| -> Result<(), TestCaseError> {
        let (x, hit, inside) = ideal(&cfg, prev, now);
        if !inside {
            prop_assert!(
                got.is_none(),
                "{what}: gap {} beyond the window gave {:?}",
                now - prev,
                got
            );
            return Ok(());
        }
        prop_assert_eq!(
            got,
            Some(x as u32),
            "{} gap {} level {}",
            what,
            now - prev,
            hit.level
        );
        let w = 1i128 << cfg.level(hit.level as usize).bucket_log2;
        let q = w >> cfg.sample_frac_bits;
        let err = (now - prev) as i128 - (x as i128 * q0 + q0 / 2);
        prop_assert!(
            2 * err.abs() < w + 2 * q + q0,
            "{what}: gap {} sample {x} level {}",
            now - prev,
            hit.level
        );
        Ok(())
    };
    for &(f, gap) in events {
        ts += gap;
        let (key, flags) = keys[f % keys.len()];
        let i = f % keys.len();
        let o = bt.process(&Record { ts, key, flags });
        prop_assert_eq!(o.ts, ts);
        prop_assert_eq!(o.iat.is_some(), o.iat_hit.is_some());
        // IAT: the same key's previous packet.
        match last[i] {
            Some(prev) => expect(prev, ts, o.iat, "iat")?,
            None => prop_assert!(o.iat.is_none()),
        }
        // RTT: the echo reply against the latest request (index 0).
        if flags & FLAG_ECHO_REPLY != 0 {
            match last[0] {
                Some(prev) => expect(prev, ts, o.rtt, "rtt")?,
                None => prop_assert!(o.rtt.is_none()),
            }
        } else {
            prop_assert!(o.rtt.is_none());
        }
        last[i] = Some(ts);
    }
    prop_assert_eq!(bt.aliased(), 0);
    prop_assert_eq!(
        bt.counters().get(bloomtime_model::Counter::EvictCollision),
        0
    );
    Ok(())
}

fn events(cfg: Config) -> impl Strategy<Value = Vec<(usize, u64)>> {
    let w = cfg.bucket_units();
    let window = cfg.window_ns() >> cfg.time_unit_log2_ns;
    let gap = prop_oneof![
        3 => 0..(w / 4).max(1),
        3 => 0..w * 2,
        2 => 0..window,
        1 => 0..window * 3,
    ];
    proptest::collection::vec((0usize..6, gap), 1..300)
}

/// `cases` from a fixed seed (`BLOOMTIME_SEED` replays another).
fn seeded(test: &str, cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        ..bloomtime_testkit::prop_config(test)
    }
}

proptest! {
    #![proptest_config(seeded("iat_bound", 96))]

    #[test]
    fn alchitry_cu_samples_are_within_the_bound(ev in events(ALCHITRY_CU)) {
        check(ALCHITRY_CU, &ev)?;
    }

    #[test]
    fn alchitry_cu_v1_samples_are_within_the_bound(ev in events(ALCHITRY_CU_V1)) {
        check(ALCHITRY_CU_V1, &ev)?;
    }

    #[test]
    fn small_levels_samples_are_within_the_bound(ev in events(small_levels())) {
        check(small_levels(), &ev)?;
    }

    #[test]
    fn small_config_samples_are_within_the_bound(ev in events(small())) {
        check(small(), &ev)?;
    }
}

proptest! {
    // The big presets allocate tens of MB per instance: fewer cases.
    #![proptest_config(seeded("iat_bound (large presets)", 12))]

    #[test]
    fn paper_samples_are_within_the_bound(ev in events(PAPER)) {
        check(PAPER, &ev)?;
    }

    #[test]
    fn large_samples_are_within_the_bound(ev in events(LARGE)) {
        check(LARGE, &ev)?;
    }
}

/// A tiny configuration: 4 buckets of 2^6 units, f = 2, one bank.
fn small() -> Config {
    Config {
        time_unit_log2_ns: 0,
        levels: Levels::one(6, 4),
        banks: 1,
        lines_log2: 6,
        epoch_tag_bits: 4,
        slots_log2: 5,
        fingerprint_bits: 8,
        sample_frac_bits: 2,
        packet_bits: 16,
        second_moment: true,
        extremes: true,
        histogram: false,
    }
}

/// The same with three levels of uneven steps and sizes (2^6 x 4, 2^7 x 3,
/// 2^10 x 5).
fn small_levels() -> Config {
    let l = |bucket_log2, buckets| Level {
        bucket_log2,
        buckets,
    };
    Config {
        levels: Levels::new(&[l(6, 4), l(7, 3), l(10, 5)]),
        epoch_tag_bits: 8,
        ..small()
    }
}
