//! The model device in process: `bloomtime device` gives the CSV of
//! `bloomtime analyze` byte for byte, the counters add up, and the device
//! answers the protocol as `model::protocol` says (retries from the stored
//! answer, CRC_ERROR, REPLAY admission, flush slot by slot, PEEK, live mode,
//! registers).

mod devsupport;

use bloomtime_host::device::client::{Client, ClientOptions, Status};
use bloomtime_host::device::cmd::{replay, ReplayOptions};
use bloomtime_host::device::{DeviceError, Loopback, ModelDevice, ModelOptions};
use bloomtime_model::counters::Counter;
use bloomtime_model::protocol::{
    self, cmd, encode_frame, encode_replay_frame, evict_bytes, frame_worst_case_bytes, status,
    Deframer, EVENT_BUFFER_BYTES, SEQ_UNKNOWN,
};
use bloomtime_model::regmap;
use bloomtime_model::table::{Event, EvictReason};
use bloomtime_traces::Records;
use devsupport::*;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

fn client(t: Loopback) -> Client<Loopback> {
    Client::connect(t, ClientOptions::default()).unwrap()
}

#[test]
fn replay_of_the_demo_equals_analyze() {
    let demo = data("demo.pcap");
    let want = analyze_csv(&[&demo]);
    let got = device_out(
        &["replay", demo.to_str().unwrap(), "--format", "csv"],
        model(),
    )
    .unwrap();
    assert_eq!(got, want);
    assert_eq!(got.lines().count(), 87);
    // Table and JSON go through the same rows.
    let table = device_out(&["replay", demo.to_str().unwrap()], model()).unwrap();
    assert!(
        table.contains("86 flows") && table.contains("merge: consistent"),
        "{table}"
    );
    let json = device_out(
        &["replay", demo.to_str().unwrap(), "--format", "json"],
        model(),
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["meta"]["tool"], "bloomtime device replay");
    assert_eq!(v["meta"]["replay"]["frames"], 4000);
    assert_eq!(v["meta"]["merge"]["open_slots_after_flush"], 0);
    assert_eq!(v["counters"]["frames"], 4000);
    assert_eq!(v["flows"].as_array().unwrap().len(), 86);
    // --csv: the table printed and the CSV written, from one replay.
    let d = tmpdir("csv");
    let csv = d.join("flows.csv");
    let table = device_out(
        &[
            "replay",
            demo.to_str().unwrap(),
            "--csv",
            csv.to_str().unwrap(),
        ],
        model(),
    )
    .unwrap();
    assert!(table.contains("86 flows"), "{table}");
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), want);
    // A CSV path that cannot be written fails before the device is touched.
    let dev = Arc::new(Mutex::new(ModelDevice::new(ModelOptions::default())));
    let bad = d.join("no/such/dir/flows.csv");
    let e = device_out(
        &[
            "replay",
            demo.to_str().unwrap(),
            "--csv",
            bad.to_str().unwrap(),
        ],
        Loopback::shared(dev.clone()),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("flows.csv"), "{e}");
    let mut c = client(Loopback::shared(dev));
    assert_eq!(c.counters().unwrap().get(Counter::Frames), 0);
}

#[test]
fn replay_of_every_shared_trace_equals_analyze() {
    let Some(traces) = shared_traces() else {
        return;
    };
    for t in &traces {
        let want = analyze_csv(&[t]);
        let got = device_out(&["replay", t.to_str().unwrap(), "--format", "csv"], model())
            .unwrap_or_else(|e| panic!("{}: {e}", t.display()));
        assert!(
            got == want,
            "{}: device CSV differs from analyze",
            t.display()
        );
    }
    // All of them merged by timestamp, as analyze merges them.
    let refs: Vec<&Path> = traces.iter().map(|p| p.as_path()).collect();
    let want = analyze_csv(&refs);
    let mut args = vec!["replay", "--format", "csv"];
    args.extend(traces.iter().map(|t| t.to_str().unwrap()));
    assert!(
        device_out(&args, model()).unwrap() == want,
        "merged shared traces differ"
    );
}

#[test]
fn packets_are_conserved_and_refusals_resent() {
    // A small event buffer makes the device refuse frames often.
    let dev = ModelDevice::new(ModelOptions {
        event_buffer: frame_worst_case_bytes(&bloomtime_model::config::HARDWARE) * 3,
        ..ModelOptions::default()
    });
    let mut c = client(Loopback::new(dev));
    let demo = data("demo.pcap");
    let run = replay(
        &mut c,
        &[&demo],
        ReplayOptions {
            clear: true,
            progress: false,
        },
    )
    .unwrap();
    let k = &run.counters;
    assert_eq!(run.summary.frames, 4000);
    assert_eq!(k.get(Counter::Frames), 4000);
    assert_eq!(
        k.get(Counter::Frames),
        k.get(Counter::Records) + k.drops().iter().sum::<u64>()
    );
    let packets: u64 = run.flows.iter().map(|f| f.1.packets).sum();
    assert_eq!(packets, k.get(Counter::Records));
    assert_eq!(run.merge.opens, k.get(Counter::Opens));
    assert!(run.summary.refused_resent > 0);
    assert_eq!(
        run.link.get(regmap::REPLAY_REFUSED) as u64,
        run.summary.refused_resent
    );
    assert_eq!(run.link.get(regmap::REPLAY_FRAMES), 4000);
    // A device left in live mode replays with the captures' timestamps and
    // is put back in live mode.
    c.write_reg(regmap::CONTROL, regmap::CONTROL_LIVE).unwrap();
    let again = replay(
        &mut c,
        &[&demo],
        ReplayOptions {
            clear: true,
            progress: false,
        },
    )
    .unwrap();
    assert_eq!(again.flows, run.flows);
    assert_eq!(c.read_reg(regmap::CONTROL).unwrap(), regmap::CONTROL_LIVE);
    // Same flows as with the default buffer.
    let rows = run.rows();
    let mut out = Vec::new();
    bloomtime_model::report::write_csv(&mut out, &rows).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), analyze_csv(&[&demo]));
}

/// Raw requests to a model device: (answer payload, bytes).
fn raw(dev: &mut ModelDevice, payload: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    dev.receive(&encode_frame(payload), &mut out);
    decode_all(&out)
}

fn decode_all(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut d = Deframer::new();
    bytes
        .iter()
        .filter_map(|&b| d.push(b))
        .map(|r| r.unwrap())
        .collect()
}

fn demo_frames(n: usize) -> Vec<(u64, Vec<u8>)> {
    let cfg = bloomtime_model::config::HARDWARE;
    let mut src = Records::open(&[data("demo.pcap")], &cfg).unwrap();
    let mut v = Vec::new();
    while let Some(f) = src.next_frame().unwrap() {
        v.push((f.ts, f.data.to_vec()));
        if v.len() == n {
            break;
        }
    }
    v
}

#[test]
fn a_retry_is_answered_from_the_stored_answer_and_not_executed_again() {
    let mut dev = ModelDevice::new(ModelOptions::default());
    let f = demo_frames(3);
    let mut req = vec![7, cmd::REPLAY];
    for (ts, d) in &f {
        encode_replay_frame(*ts, d, &mut req);
    }
    let a = raw(&mut dev, &req);
    assert_eq!(a, vec![vec![7, status::OK, 3]]);
    assert_eq!(raw(&mut dev, &req), a);
    assert_eq!(dev.model().counters().get(Counter::Frames), 3);
    assert_eq!(dev.link_counter(regmap::RETRIES), 1);
    assert_eq!(dev.link_counter(regmap::REPLAY_FRAMES), 3);
    // DRAIN twice with one seq: the second answer repeats the events.
    let d1 = raw(&mut dev, &[8, cmd::DRAIN, 0x01, 0xF2]);
    let d2 = raw(&mut dev, &[8, cmd::DRAIN, 0x01, 0xF2]);
    assert_eq!(d1, d2);
    assert!(d1[0].len() > 2);
    let d3 = raw(&mut dev, &[9, cmd::DRAIN, 0x01, 0xF2]);
    assert_eq!(d3, vec![vec![9, status::OK]]);
}

#[test]
fn corrupt_requests_get_crc_error_with_seq_ff() {
    let mut dev = ModelDevice::new(ModelOptions::default());
    let mut f = encode_frame(&[1, cmd::INFO]);
    f[2] ^= 0x40;
    let mut out = Vec::new();
    dev.receive(&f, &mut out);
    // SLIP errors too: a bad escape, and garbage before a good frame.
    dev.receive(&[protocol::SLIP_ESC, 0x11, protocol::SLIP_END], &mut out);
    dev.receive(b"junk", &mut out);
    dev.receive(&encode_frame(&[2, cmd::INFO]), &mut out);
    let a = decode_all(&out);
    assert_eq!(a.len(), 4);
    for x in &a[..3] {
        assert_eq!(x, &vec![SEQ_UNKNOWN, status::CRC_ERROR]);
    }
    assert_eq!(&a[3][..2], &[2, status::OK]);
    assert_eq!(dev.link_counter(regmap::RX_CRC_ERRORS), 2);
    assert_eq!(dev.link_counter(regmap::RX_SLIP_ERRORS), 1);
    assert_eq!(dev.link_counter(regmap::RX_FRAMES), 1);
    assert_eq!(dev.link_counter(regmap::TX_FRAMES), 4);
}

#[test]
fn bad_requests_are_answered_and_counted() {
    let mut dev = ModelDevice::new(ModelOptions::default());
    let st = |a: Vec<Vec<u8>>| a[0][1];
    assert_eq!(st(raw(&mut dev, &[1, 0x77])), status::BAD_COMMAND);
    assert_eq!(st(raw(&mut dev, &[2, cmd::INFO, 0])), status::BAD_LENGTH);
    assert_eq!(
        st(raw(&mut dev, &[3, cmd::READ_REG, 0x7F, 0xFF])),
        status::BAD_ARGUMENT
    );
    // Read-only registers refuse writes.
    assert_eq!(
        st(raw(&mut dev, &[4, cmd::WRITE_REG, 0, 0, 0, 0, 0, 1])),
        status::BAD_ARGUMENT
    );
    assert_eq!(
        st(raw(&mut dev, &[5, cmd::READ_SLOTS, 0, 0, 17])),
        status::BAD_ARGUMENT
    );
    assert_eq!(
        st(raw(&mut dev, &[6, cmd::READ_SLOTS, 0, 250, 16])),
        status::BAD_ARGUMENT
    );
    // A REPLAY frame whose len disagrees with its caplen, or cut short.
    assert_eq!(
        st(raw(
            &mut dev,
            &[7, cmd::REPLAY, 0, 0, 0, 0, 1, 0, 60, 5, 1, 2, 3, 4, 5]
        )),
        status::BAD_ARGUMENT
    );
    assert_eq!(
        st(raw(&mut dev, &[8, cmd::REPLAY, 0, 0, 0, 0, 1, 0, 3, 3, 1])),
        status::BAD_LENGTH
    );
    assert_eq!(dev.link_counter(regmap::BAD_REQUESTS), 8);
    assert_eq!(dev.model().counters().get(Counter::Frames), 0);
    // A zero-length capture is one ignored byte.
    assert_eq!(
        raw(&mut dev, &[9, cmd::REPLAY, 0, 0, 0, 0, 1, 0, 0, 1, 0xAA]),
        vec![vec![9, status::OK, 1]]
    );
    assert_eq!(dev.model().counters().get(Counter::DropTruncated), 1);
}

#[test]
fn replay_admission_refuses_before_the_buffer_can_overflow() {
    let cfg = bloomtime_model::config::HARDWARE;
    let dev = Arc::new(Mutex::new(ModelDevice::new(ModelOptions::default())));
    let mut c = client(Loopback::shared(dev.clone()));
    // Every frame a new flow: opens (and later collisions) fill the buffer.
    let frames: Vec<(u64, Vec<u8>)> = (0..200u16)
        .map(|i| {
            let mut f = vec![0u8; 60];
            f[12] = 0x08;
            f[14] = 0x45;
            f[17] = 46;
            f[23] = 17;
            f[26..30].copy_from_slice(&[10, 0, (i >> 8) as u8, i as u8]);
            f[30..34].copy_from_slice(&[10, 1, 0, 1]);
            f[34..36].copy_from_slice(&i.to_be_bytes());
            f[36..38].copy_from_slice(&53u16.to_be_bytes());
            (i as u64, f)
        })
        .collect();
    let mut taken = 0;
    let mut refused = 0;
    while taken < frames.len() {
        let refs: Vec<(u64, &[u8])> = frames[taken..]
            .iter()
            .map(|(t, d)| (*t, d.as_slice()))
            .collect();
        let r = c.replay(&refs).unwrap();
        taken += r.accepted;
        let d = dev.lock().unwrap();
        assert!(d.waiting() <= EVENT_BUFFER_BYTES);
        if r.accepted < r.sent {
            refused += r.sent - r.accepted;
            // Refused only when the next frame's worst case and a flush
            // export would not fit.
            assert!(
                d.waiting() + frame_worst_case_bytes(&cfg) + evict_bytes(&cfg) > EVENT_BUFFER_BYTES
            );
            drop(d);
            while c.drain(498).unwrap().1 > 0 {}
        }
    }
    assert!(refused > 0);
    assert_eq!(
        dev.lock().unwrap().link_counter(regmap::REPLAY_REFUSED) as usize,
        refused
    );
}

#[test]
fn flush_exports_slot_by_slot_while_the_host_drains() {
    let cfg = bloomtime_model::config::HARDWARE;
    // A buffer too small for the flush's exports.
    let cap = 512;
    let dev = Arc::new(Mutex::new(ModelDevice::new(ModelOptions {
        event_buffer: cap,
        ..ModelOptions::default()
    })));
    let mut c = client(Loopback::shared(dev.clone()));
    let mut golden = bloomtime_model::BloomTime::new(&cfg);
    let frames = demo_frames(1500);
    let mut i = 0;
    let mut events = Vec::new();
    while i < frames.len() {
        let refs: Vec<(u64, &[u8])> = frames[i..]
            .iter()
            .map(|(t, d)| (*t, d.as_slice()))
            .collect();
        let r = c.replay(&refs).unwrap();
        for (t, d) in &frames[i..i + r.accepted] {
            let _ = golden.frame(*t, bloomtime_traces::window(d), d.len());
        }
        i += r.accepted;
        if r.accepted < r.sent {
            loop {
                let (e, n) = c.drain(498).unwrap();
                events.extend(e);
                if n == 0 {
                    break;
                }
            }
        }
    }
    loop {
        let (e, n) = c.drain(498).unwrap();
        events.extend(e);
        if n == 0 {
            break;
        }
    }
    c.flush().unwrap();
    let st = c.status().unwrap();
    let live = golden.table().slots().filter(|s| s.valid).count();
    assert!(live * evict_bytes(&cfg) > cap, "test needs more live slots");
    assert!(st.busy, "{st:?}");
    assert!(st.waiting as usize + evict_bytes(&cfg) > cap);
    // REPLAY waits for the flush.
    let f = &frames[0];
    assert!(matches!(
        c.replay(&[(f.0, f.1.as_slice())]),
        Err(DeviceError::Refused {
            status: status::BUSY,
            ..
        })
    ));
    let mut flushed = Vec::new();
    let mut rounds = 0;
    loop {
        let (e, _) = c.drain(498).unwrap();
        flushed.extend(e);
        rounds += 1;
        if c.status().unwrap().quiet() {
            break;
        }
    }
    assert!(rounds > 1);
    golden.flush();
    events.extend(flushed);
    assert_eq!(events, golden.drain_events());
    assert_eq!(*dev.lock().unwrap().model().counters(), *golden.counters());
}

#[test]
fn peek_reads_without_taking() {
    let mut c = client(model());
    let f = demo_frames(400);
    let refs: Vec<(u64, &[u8])> = f.iter().map(|(t, d)| (*t, d.as_slice())).collect();
    let mut i = 0;
    while i < 30 {
        i += c.replay(&refs[i..]).unwrap().accepted;
    }
    let all = c.peek_all().unwrap();
    assert!(!all.is_empty());
    let st = c.status().unwrap();
    assert_eq!(c.peek_all().unwrap(), all);
    assert_eq!(c.status().unwrap(), st);
    // Not an event boundary.
    assert!(matches!(
        c.peek(1, 498),
        Err(DeviceError::Refused {
            status: status::BAD_ARGUMENT,
            ..
        })
    ));
    // Past the end: nothing.
    assert_eq!(c.peek(st.waiting as usize, 498).unwrap().1, 0);
    let mut drained = Vec::new();
    loop {
        let (e, n) = c.drain(100).unwrap();
        drained.extend(e);
        if n == 0 {
            break;
        }
    }
    assert_eq!(drained, all);
}

#[test]
fn registers_status_and_control() {
    let clock = Arc::new(AtomicU64::new(0));
    let dev = ModelDevice::new(ModelOptions {
        clock: Some(clock.clone()),
        ..ModelOptions::default()
    });
    let mut c = client(Loopback::new(dev));
    assert_eq!(
        c.status().unwrap(),
        Status {
            busy: false,
            idle: true,
            events_empty: true,
            waiting: 0
        }
    );
    assert_eq!(c.read_reg(regmap::CONTROL).unwrap(), 0);
    c.write_reg(regmap::CONTROL, regmap::CONTROL_LIVE).unwrap();
    assert_eq!(c.read_reg(regmap::CONTROL).unwrap(), 1);
    clock.store(((0x12u64 << 32) + 77) << 10, Ordering::SeqCst);
    assert_eq!(c.read_reg(regmap::TIME_LO).unwrap(), 77);
    clock.store(0, Ordering::SeqCst);
    assert_eq!(
        c.read_reg(regmap::TIME_HI).unwrap(),
        0x12,
        "latched by TIME_LO"
    );
    clock.store(2_000_000_000, Ordering::SeqCst);
    assert_eq!(c.read_reg(regmap::UPTIME).unwrap(), 200_000_000);
    // Every register of the map reads.
    for r in regmap::registers() {
        c.read_reg(r.addr)
            .unwrap_or_else(|e| panic!("{}: {e}", r.name));
    }
    // CLEAR keeps CONTROL and zeroes the counters.
    c.clear().unwrap();
    assert_eq!(c.read_reg(regmap::CONTROL).unwrap(), 1);
    // Counted since the CLEAR: the CONTROL read and this one.
    assert_eq!(c.read_reg(regmap::RX_FRAMES).unwrap(), 2);
}

/// Live mode: frames take the device clock; set to each packet's replay
/// time it reproduces analyze, and `watch` drains it into the same flows.
#[test]
fn live_mode_stamps_with_the_device_clock_and_watch_follows() {
    let d = tmpdir("live");
    let head = head_of(&data("demo.pcap"), 1500, &d);
    let clock = Arc::new(AtomicU64::new(0));
    let dev = Arc::new(Mutex::new(ModelDevice::new(ModelOptions {
        clock: Some(clock.clone()),
        event_buffer: 1 << 20,
        ..ModelOptions::default()
    })));
    let mut c = client(Loopback::shared(dev.clone()));
    c.clear().unwrap();
    c.write_reg(regmap::CONTROL, regmap::CONTROL_LIVE).unwrap();
    let mut frames = Records::open(&[&head], &bloomtime_model::config::HARDWARE).unwrap();
    while let Some(f) = frames.next_frame().unwrap() {
        clock.store(f.rel_ns, Ordering::SeqCst);
        // The frame's own timestamp is ignored in live mode.
        assert_eq!(c.replay(&[(0xdead, f.data)]).unwrap().accepted, 1);
    }
    let want = analyze_csv(&[&head]);
    // stats: reads without changing anything.
    let before = (c.status().unwrap(), c.counters().unwrap());
    let stats = device_out(&["stats", "--format", "csv"], Loopback::shared(dev.clone())).unwrap();
    assert_eq!(stats, want);
    let again = device_out(&["stats", "--format", "csv"], Loopback::shared(dev.clone())).unwrap();
    assert_eq!(again, want);
    let mut c = client(Loopback::shared(dev.clone()));
    assert_eq!((c.status().unwrap(), c.counters().unwrap()), before);
    // watch drains; its rows (ordered by packets) are the same flows.
    let w = device_out(
        &[
            "watch",
            "--count",
            "2",
            "--interval",
            "0.01",
            "--top",
            "1000",
            "--format",
            "csv",
        ],
        Loopback::shared(dev.clone()),
    )
    .unwrap();
    let mut a: Vec<&str> = w.lines().collect();
    let mut b: Vec<&str> = want.lines().collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    assert!(c.status().unwrap().events_empty);
    // After a drain, stats cannot name the flows any more: a clear error.
    let e = device_out(&["stats"], Loopback::shared(dev.clone())).unwrap_err();
    assert!(
        e.to_string().contains("were drained by an earlier command"),
        "{e}"
    );
    let top = device_out(
        &[
            "watch", "--count", "1", "--clear", "--top", "3", "--by", "iat",
        ],
        Loopback::shared(dev),
    )
    .unwrap();
    assert!(top.contains("refresh 1, top 0 of 0 flows"), "{top}");
}

#[test]
fn a_stored_answer_of_an_earlier_session_is_not_taken_for_info() {
    let dev = Arc::new(Mutex::new(ModelDevice::new(ModelOptions::default())));
    // An earlier session's last request was DRAIN with seq 5.
    {
        let mut d = dev.lock().unwrap();
        let a = raw(&mut d, &[5, cmd::DRAIN, 0, 10]);
        assert_eq!(a, vec![vec![5, status::OK]]);
    }
    // A new session starting at seq 5 gets that stored answer to its INFO.
    let c = Client::connect_with_seq(Loopback::shared(dev.clone()), ClientOptions::default(), 5)
        .unwrap();
    assert_eq!(c.info().config, bloomtime_model::config::HARDWARE);
    assert_eq!(dev.lock().unwrap().link_counter(regmap::RETRIES), 1);
}

#[test]
fn flush_and_clear_commands() {
    let dev = Arc::new(Mutex::new(ModelDevice::new(ModelOptions::default())));
    let mut c = client(Loopback::shared(dev.clone()));
    let f = demo_frames(50);
    let refs: Vec<(u64, &[u8])> = f.iter().map(|(t, d)| (*t, d.as_slice())).collect();
    let mut i = 0;
    while i < 10 {
        i += c.replay(&refs[i..]).unwrap().accepted;
    }
    let out = device_out(&["flush"], Loopback::shared(dev.clone())).unwrap();
    assert!(out.contains("flush started"), "{out}");
    assert!(c.counters().unwrap().get(Counter::EvictFlush) > 0);
    let ev = c.peek_all().unwrap();
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::Evict {
            reason: EvictReason::Flush,
            ..
        }
    )));
    let out = device_out(
        &["clear", "--format", "json"],
        Loopback::shared(dev.clone()),
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"]["events_empty"], true);
    assert_eq!(c.counters().unwrap().get(Counter::Frames), 0);
    let info = device_out(&["info", "--format", "json"], Loopback::shared(dev.clone())).unwrap();
    let v: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(v["invariants"]["ok"], true);
    assert_eq!(v["device"]["protocol_version"], protocol::PROTOCOL_VERSION);
    assert_eq!(v["config"]["slots_log2"], 8);
    let info = device_out(&["info"], Loopback::shared(dev.clone())).unwrap();
    assert!(info.contains("counter invariants: ok"), "{info}");
    let csv = device_out(&["info", "--format", "csv"], Loopback::shared(dev)).unwrap();
    assert_eq!(csv.lines().count(), 1 + regmap::registers().len());
}

#[test]
fn a_device_with_levels_answers_info_with_its_extension() {
    // A BloomTime v2 device (seven levels) reports its levels in INFO's
    // extension; the client takes it (it once insisted on the v1 length).
    for cfg in [
        bloomtime_model::config::ALCHITRY_CU,
        bloomtime_model::config::ALCHITRY_CU_V1,
    ] {
        let dev = ModelDevice::new(ModelOptions {
            config: cfg,
            ..ModelOptions::default()
        });
        let c = client(Loopback::new(dev));
        assert_eq!(c.info().config, cfg);
    }
}
