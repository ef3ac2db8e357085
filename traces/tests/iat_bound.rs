//! Property: on a collision-free configuration (every flow owns its lines in
//! every bank and its own slot) every IAT and RTT sample of the golden model
//! is within the documented bound of the true gap, |T − x·q| < w/2 + q
//! (docs/DESIGN.md §5), and a gap whose previous packet has left the ring
//! is a miss.

use bloomtime_model::config::{Config, ALCHITRY_CU, LARGE, PAPER};
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
    let q = 1u64 << (cfg.bucket_log2 - cfg.sample_frac_bits);
    let w = 1u64 << cfg.bucket_log2;
    let s = cfg.bucket_log2;
    let mut last: Vec<Option<u64>> = vec![None; keys.len()];
    let mut ts = 0u64;
    let within =
        |gap: u64, x: u32| (gap as i128 - x as i128 * q as i128).abs() < (w / 2 + q) as i128;
    for &(f, gap) in events {
        ts += gap;
        let (key, flags) = keys[f % keys.len()];
        let i = f % keys.len();
        let o = bt.process(&Record { ts, key, flags });
        prop_assert_eq!(o.ts, ts);
        // IAT: the same key's previous packet.
        match last[i] {
            Some(prev) if (ts >> s) - (prev >> s) < cfg.buckets as u64 => {
                let x = o
                    .iat
                    .ok_or_else(|| TestCaseError::fail(format!("missed gap {}", ts - prev)))?;
                prop_assert!(
                    within(ts - prev, x),
                    "iat gap {} sample {} q {} w {}",
                    ts - prev,
                    x,
                    q,
                    w
                );
            }
            Some(prev) => {
                prop_assert!(
                    o.iat.is_none(),
                    "gap {} beyond the window gave {:?}",
                    ts - prev,
                    o.iat
                );
            }
            None => prop_assert!(o.iat.is_none()),
        }
        // RTT: the echo reply against the latest request (index 0).
        if flags & FLAG_ECHO_REPLY != 0 {
            match last[0] {
                Some(prev) if (ts >> s) - (prev >> s) < cfg.buckets as u64 => {
                    let x = o.rtt.ok_or_else(|| TestCaseError::fail("missed rtt"))?;
                    prop_assert!(within(ts - prev, x), "rtt gap {} sample {}", ts - prev, x);
                }
                _ => prop_assert!(o.rtt.is_none()),
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
    let w = 1u64 << cfg.bucket_log2;
    let window = w * cfg.buckets as u64;
    let gap = prop_oneof![
        3 => 0..w / 4,
        3 => 0..w * 2,
        2 => 0..window,
        1 => 0..window * 3,
    ];
    proptest::collection::vec((0usize..6, gap), 1..300)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn alchitry_cu_samples_are_within_the_bound(ev in events(ALCHITRY_CU)) {
        check(ALCHITRY_CU, &ev)?;
    }

    #[test]
    fn small_config_samples_are_within_the_bound(ev in events(small())) {
        check(small(), &ev)?;
    }
}

proptest! {
    // The big presets allocate tens of MB per instance: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(12))]

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
        bucket_log2: 6,
        buckets: 4,
        banks: 1,
        lines_log2: 6,
        epoch_tag_bits: 4,
        slots_log2: 5,
        fingerprint_bits: 8,
        sample_frac_bits: 2,
        packet_bits: 16,
    }
}
