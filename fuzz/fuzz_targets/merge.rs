//! The host merge of exported events (`FlowMerger`), two ways.
//!
//! * Records (keys from a small pool, so slots collide and counters
//!   overflow in a table of 2..64 slots) through the golden model, its
//!   events and histograms drained into a device merger as they come, then
//!   a flush. Checked: the merge accepts every event; once flushed no slot
//!   is open; the merged packets add up to the records processed, and
//!   (without fingerprint aliasing) to each flow's own record count;
//!   histogram counts add up to the samples.
//! * Arbitrary events against a reference of per-slot owner queues.
//!   Checked: an event is refused exactly when the reference says it must
//!   be (slot outside the table, no owner, open under the wrong slot), a
//!   refused event changes nothing, and the merged packets are the sum of
//!   the accepted evictions and live credits.
#![no_main]

use arbitrary::Arbitrary;
use bloomtime_model::config::{Config, ALCHITRY_CU, ALCHITRY_CU_V1};
use bloomtime_model::hash::Hashes;
use bloomtime_model::key::{FlowKey, Record, FLAG_BITS};
use bloomtime_model::merge::{FlowMerger, MergeError};
use bloomtime_model::table::{AccRule, Event, EvictReason, SlotStats};
use bloomtime_model::{BloomTime, Counter};
use libfuzzer_sys::fuzz_target;
use std::collections::{HashMap, VecDeque};

#[derive(Arbitrary, Debug)]
struct Rec {
    key: u8,
    dt: u16,
    flags: u8,
}

#[derive(Arbitrary, Debug)]
enum Ev {
    Open {
        key: u8,
        slot: Option<u8>,
    },
    Evict {
        slot: u8,
        reason: u8,
        packets: u16,
        n: u8,
    },
    Live {
        slot: u8,
        packets: u16,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    design: u8,
    slots_log2: u8,
    packet_bits: u8,
    records: Vec<Rec>,
    events: Vec<Ev>,
}

fn key(i: u8) -> FlowKey {
    let proto = [6, 17, 1, 58][usize::from(i >> 6)];
    if proto == 58 {
        let mut a = [0xfe; 16];
        a[15] = i & 7;
        FlowKey::v6(proto, a, 0, [0x20; 16], 0)
    } else {
        FlowKey::v4(
            proto,
            [10, 0, 0, i & 15],
            1000 + u16::from(i & 3),
            [10, 1, 0, 1],
            80,
        )
    }
}

fn config(inp: &Input) -> Option<Config> {
    let base = match inp.design % 3 {
        0 => ALCHITRY_CU,
        1 => ALCHITRY_CU_V1,
        _ => Config {
            histogram: true,
            second_moment: true,
            extremes: true,
            ..ALCHITRY_CU
        },
    };
    let cfg = Config {
        slots_log2: 1 + u32::from(inp.slots_log2 % 6),
        packet_bits: 2 + u32::from(inp.packet_bits % 8),
        ..base
    };
    cfg.validate().ok().map(|_| cfg)
}

fn golden(cfg: &Config, recs: &[Rec]) {
    let mut bt = BloomTime::new(cfg);
    let mut m = FlowMerger::new(cfg);
    let mut want: HashMap<FlowKey, u64> = HashMap::new();
    let mut ts = 0u64;
    for (i, r) in recs.iter().enumerate() {
        ts += u64::from(r.dt);
        let k = key(r.key);
        let rec = Record {
            ts,
            key: k,
            flags: r.flags & ((1 << FLAG_BITS) - 1),
        };
        bt.process(&rec);
        *want.entry(k).or_default() += 1;
        if i % 7 == 0 {
            let (ev, h) = (bt.drain_events(), bt.drain_hists());
            m.push_all(&ev, &h)
                .expect("the merge refused the model's events");
        }
    }
    bt.flush();
    let (ev, h) = (bt.drain_events(), bt.drain_hists());
    m.push_all(&ev, &h)
        .expect("the merge refused the model's events");
    assert_eq!(m.open_slots(), 0, "slots open after a flush");
    let c = bt.counters();
    c.check_invariants().unwrap();
    let flows = m.flows();
    let total: u64 = flows.iter().map(|(_, s)| s.packets).sum();
    assert_eq!(total, c.get(Counter::Records), "merged packets != records");
    let iat_n: u64 = flows.iter().map(|(_, s)| s.iat.n).sum();
    assert_eq!(
        iat_n,
        c.get(Counter::IatSamples),
        "merged IAT samples != samples"
    );
    for (k, s) in &flows {
        if s.iat.n > 0 && cfg.extremes {
            assert!(s.iat.min <= s.iat.max);
        }
        if m.hist_bins() > 0 {
            let h = m.hist(k).expect("a flow without its histogram");
            let n = m.hist_bins();
            assert_eq!(h[..n].iter().sum::<u64>(), s.iat.n, "IAT histogram of {k}");
            assert_eq!(h[n..].iter().sum::<u64>(), s.rtt.n, "RTT histogram of {k}");
        }
    }
    if bt.aliased() == 0 {
        let got: HashMap<FlowKey, u64> = flows.iter().map(|(k, s)| (*k, s.packets)).collect();
        assert_eq!(got, want, "per-flow packets");
    }
}

fn reference(cfg: &Config, evs: &[Ev]) {
    let rule = AccRule::new(cfg);
    let mut m = FlowMerger::new(cfg);
    let slots = cfg.slots();
    let mut owners: HashMap<u32, VecDeque<FlowKey>> = HashMap::new();
    let mut total = 0u64;
    for e in evs {
        let before = m.flows();
        let open_before = m.open_slots();
        let (r, want) = match *e {
            Ev::Open { key: i, slot } => {
                let k = key(i);
                let home = Hashes::of_key(&k, 0).slot(cfg);
                let slot = slot.map_or(home, u32::from);
                let want = if slot >= slots {
                    Err(MergeError::BadSlot { slot })
                } else if slot != home {
                    Err(MergeError::WrongSlot {
                        slot,
                        key: k,
                        expected: home,
                    })
                } else {
                    owners.entry(slot).or_default().push_back(k);
                    Ok(())
                };
                (m.push(&Event::Open { slot, key: k }), want)
            }
            Ev::Evict {
                slot,
                reason,
                packets,
                n,
            } => {
                let slot = u32::from(slot);
                let reason = EvictReason::from_index(reason % 3).unwrap();
                let mut stats = SlotStats::empty(&rule);
                stats.packets = u32::from(packets);
                for x in 0..n {
                    stats.iat.add(&rule, (u32::from(x) * 3, Default::default()));
                }
                let q = owners.entry(slot).or_default();
                let want = if slot >= slots {
                    Err(MergeError::BadSlot { slot })
                } else if q.is_empty() {
                    Err(MergeError::NoOwner { slot })
                } else {
                    if reason.ends_ownership() {
                        q.pop_front();
                    }
                    total += u64::from(packets);
                    Ok(())
                };
                let ev = Event::Evict {
                    slot,
                    reason,
                    stats,
                };
                (m.push(&ev), want)
            }
            Ev::Live { slot, packets } => {
                let slot = u32::from(slot);
                let mut stats = SlotStats::empty(&rule);
                stats.packets = u32::from(packets);
                let want = if slot >= slots {
                    Err(MergeError::BadSlot { slot })
                } else if owners.get(&slot).is_none_or(|q| q.is_empty()) {
                    Err(MergeError::NoOwner { slot })
                } else {
                    total += u64::from(packets);
                    Ok(())
                };
                (m.credit_live_slot(slot, &stats), want)
            }
        };
        assert_eq!(r, want, "{e:?}");
        if r.is_err() {
            assert_eq!(m.flows(), before, "a refused event changed the flows");
            assert_eq!(m.open_slots(), open_before);
        }
        let open = owners.values().filter(|q| !q.is_empty()).count();
        assert_eq!(m.open_slots(), open);
    }
    let merged: u64 = m.flows().iter().map(|(_, s)| s.packets).sum();
    assert_eq!(merged, total);
}

fuzz_target!(|inp: Input| {
    let Some(cfg) = config(&inp) else { return };
    if inp.records.len() <= 4096 {
        golden(&cfg, &inp.records);
    }
    reference(&cfg, &inp.events);
});
