//! A damaged link (dropped, duplicated, corrupted and inserted bytes in both
//! directions, seeded) still gives the CSV of `bloomtime analyze`, or a
//! clear error; never a different result. A failing seed is printed;
//! `BLOOMTIME_FAULT_SEED=N` reruns one.

mod devsupport;

use bloomtime_host::device::client::{Client, ClientOptions};
use bloomtime_host::device::fault::{FaultRates, FaultyTransport};
use bloomtime_host::device::{DeviceError, Transport};
use bloomtime_model::protocol::{cmd, encode_frame, status, MAGIC};
use devsupport::*;
use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The errors a damaged link may end with.
fn link_error(e: &str) -> bool {
    e.contains("garbled") || e.contains("stopped answering") || e.contains("damaged on the link")
}

fn seeds(default: &[u64]) -> Vec<u64> {
    match std::env::var("BLOOMTIME_FAULT_SEED") {
        Ok(s) => vec![s.parse().expect("BLOOMTIME_FAULT_SEED is a number")],
        Err(_) => default.to_vec(),
    }
}

/// A trace with many flows, so the event path (DRAIN) carries a lot.
fn busy_trace() -> PathBuf {
    let d = tmpdir("busy");
    let p = d.join("busy.pcap");
    let mut o = bloomtime_traces::gen::GenOptions::demo();
    o.seed = 11;
    o.flows = 400;
    o.packets = 3000;
    bloomtime_traces::gen::generate_file(&o, &p, None).unwrap();
    p
}

/// `bloomtime device replay TRACE --format csv` through a damaged link.
fn run_with_faults(trace: &Path, seed: u64, rate: f64, retries: u32) -> Result<String, String> {
    let t = FaultyTransport::new(
        model(),
        seed,
        FaultRates::uniform(rate),
        FaultRates::uniform(rate),
    );
    let r = retries.to_string();
    let args = [
        "replay",
        trace.to_str().unwrap(),
        "--format",
        "csv",
        "--retries",
        &r,
    ];
    device_out(&args, t).map_err(|e| e.to_string())
}

#[test]
fn moderate_damage_gives_identical_csv() {
    for (trace, want) in [
        (data("demo.pcap"), analyze_csv(&[&data("demo.pcap")])),
        (busy_trace(), String::new()),
    ] {
        let want = if want.is_empty() {
            analyze_csv(&[&trace])
        } else {
            want
        };
        for seed in seeds(&[1, 2, 3]) {
            eprintln!("fault seed {seed} ({})", trace.display());
            let got = run_with_faults(&trace, seed, 2e-4, 8);
            let got = got.unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            assert!(
                got == want,
                "seed {seed}: a damaged link changed the result"
            );
        }
    }
}

#[test]
fn the_damage_happens_and_is_retried() {
    // The same run through the library: faults and retries are visible.
    let demo = data("demo.pcap");
    for seed in seeds(&[4]) {
        eprintln!("fault seed {seed}");
        let t = FaultyTransport::new(
            model(),
            seed,
            FaultRates::uniform(3e-4),
            FaultRates::uniform(3e-4),
        );
        let mut c = Client::connect(
            t,
            ClientOptions {
                retries: 16,
                ..ClientOptions::default()
            },
        )
        .unwrap();
        let run = bloomtime_host::device::cmd::replay(
            &mut c,
            &[&demo],
            bloomtime_host::device::cmd::ReplayOptions {
                clear: true,
                progress: false,
            },
        )
        .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let t = c.transport();
        let (to_dev, to_host) = (t.counts_to_device, t.counts_to_host);
        eprintln!(
            "seed {seed}: to device {to_dev:?}, to host {to_host:?}, {:?}",
            run.summary
        );
        for c in [to_dev, to_host] {
            assert!(c.dropped > 0 && c.duplicated > 0 && c.corrupted > 0 && c.inserted > 0);
        }
        let s = &run.summary;
        assert!(s.link.retries > 0 && s.link.corrupt_frames > 0 && s.link.crc_error_answers > 0);
        assert!(s.device_rx_crc_errors + s.device_rx_slip_errors > 0);
        assert!(
            s.device_retries > 0,
            "some retries were answered from the stored answer"
        );
        let mut out = Vec::new();
        bloomtime_model::report::write_csv(&mut out, &run.rows()).unwrap();
        assert!(
            String::from_utf8(out).unwrap() == analyze_csv(&[&demo]),
            "seed {seed}"
        );
    }
}

#[test]
fn heavy_damage_gives_identical_csv_or_a_clear_error() {
    let demo = data("demo.pcap");
    let want = analyze_csv(&[&demo]);
    let (mut ok, mut failed) = (0, 0);
    for seed in seeds(&[10, 11, 12, 13]) {
        eprintln!("fault seed {seed}");
        let got = run_with_faults(&demo, seed, 2e-3, 4);
        match got {
            Ok(csv) => {
                assert!(
                    csv == want,
                    "seed {seed}: a damaged link changed the result"
                );
                ok += 1;
            }
            Err(e) => {
                eprintln!("seed {seed}: {e}");
                assert!(link_error(&e), "seed {seed}: unclear error: {e}");
                assert_eq!(e.lines().count(), 1);
                failed += 1;
            }
        }
    }
    eprintln!("heavy damage: {ok} identical, {failed} clear errors");
}

/// A transport that delivers scripted answers whatever is written.
struct Scripted {
    answers: VecDeque<Vec<u8>>,
    rx: VecDeque<u8>,
    written: usize,
}

impl Transport for Scripted {
    fn write_all(&mut self, _b: &[u8]) -> io::Result<()> {
        self.written += 1;
        if let Some(a) = self.answers.pop_front() {
            self.rx.extend(a);
        }
        Ok(())
    }
    fn read(&mut self, buf: &mut [u8], _t: Duration) -> io::Result<usize> {
        let n = buf.len().min(self.rx.len());
        for (d, s) in buf.iter_mut().zip(self.rx.drain(..n)) {
            *d = s;
        }
        Ok(n)
    }
    fn clear_input(&mut self) -> io::Result<()> {
        self.rx.clear();
        Ok(())
    }
    fn name(&self) -> &str {
        "scripted"
    }
}

fn info_answer(seq: u8) -> Vec<u8> {
    let dev = bloomtime_host::device::ModelDevice::new(Default::default());
    let mut p = vec![seq, status::OK];
    p.extend(dev.info().encode());
    encode_frame(&p)
}

#[test]
fn answers_with_another_seq_are_discarded_not_taken() {
    // INFO with seq 9: first a stale answer (seq 8, a READ_REG's), then the real one.
    let mut stale = encode_frame(&[8, status::OK, 0, 0, 0, 42]);
    stale.extend(info_answer(9));
    let t = Scripted {
        answers: VecDeque::from([stale]),
        rx: VecDeque::new(),
        written: 0,
    };
    let c = Client::connect_with_seq(t, ClientOptions::default(), 9).unwrap();
    assert_eq!(c.link_stats().stale_answers, 1);
    assert_eq!(c.link_stats().retries, 0);
    // Garbage before an answer: resynchronised at its END; a CRC_ERROR
    // answer makes the client send the same frame again.
    let mut junk = b"\x01\x02garbage".to_vec();
    junk.extend(encode_frame(&[0xFF, status::CRC_ERROR]));
    let t = Scripted {
        answers: VecDeque::from([junk, info_answer(3)]),
        rx: VecDeque::new(),
        written: 0,
    };
    let c = Client::connect_with_seq(t, ClientOptions::default(), 3).unwrap();
    assert_eq!(c.transport().written, 2);
    assert_eq!(c.link_stats().crc_error_answers, 1);
    assert!(c.link_stats().corrupt_frames >= 1);
    let _ = (
        cmd::INFO,
        MAGIC,
        DeviceError::Refused {
            what: "",
            status: 0,
        },
    );
}

/// Many seeds at a rate where many requests need retries and some runs
/// give up. `BLOOMTIME_FAULT_SWEEP=N` runs N seeds (default 16),
/// `BLOOMTIME_FAULT_RATE` and `BLOOMTIME_FAULT_RETRIES` change the rate per
/// byte and kind of fault (3.5e-4) and the retries (12).
#[test]
fn a_sweep_of_seeds_never_changes_the_result() {
    let demo = data("demo.pcap");
    let want = analyze_csv(&[&demo]);
    let n: u64 = std::env::var("BLOOMTIME_FAULT_SWEEP")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let env = |k: &str| std::env::var(k).ok().and_then(|s| s.parse::<f64>().ok());
    let rate = env("BLOOMTIME_FAULT_RATE").unwrap_or(3.5e-4);
    let retries = env("BLOOMTIME_FAULT_RETRIES").unwrap_or(12.0) as u32;
    let (mut ok, mut failed) = (0, 0);
    for seed in seeds(&(1000..1000 + n).collect::<Vec<_>>()) {
        let got = run_with_faults(&demo, seed, rate, retries);
        match got {
            Ok(csv) => {
                assert!(
                    csv == want,
                    "fault seed {seed}: a damaged link changed the result"
                );
                ok += 1;
            }
            Err(e) => {
                assert!(link_error(&e), "fault seed {seed}: unclear error: {e}");
                failed += 1;
            }
        }
    }
    eprintln!("sweep at {rate} per byte and kind, {retries} retries: {ok} identical, {failed} clear errors");
}

/// CRC-16/CCITT-FALSE has no final XOR: a frame with a 0x00 byte inserted
/// before its closing END still checks (one payload byte more), on either
/// side. The client must neither take such an answer nor give up on the
/// BAD_LENGTH the device answers such a request with.
#[test]
fn a_zero_byte_before_end_passes_the_crc_and_is_still_caught() {
    let p = [3u8, status::OK, 1, 2, 3];
    let mut f = encode_frame(&p);
    let end = f.pop().unwrap();
    f.push(0);
    f.push(end);
    let mut d = bloomtime_model::protocol::Deframer::new();
    let got: Vec<_> = f.iter().filter_map(|&b| d.push(b)).collect();
    assert_eq!(got.len(), 1);
    let longer = got[0].clone().unwrap();
    assert_eq!(&longer[..5], &p, "accepted, one byte longer");

    /// Appends a zero before END to the first `n` frames in one direction.
    struct Lengthen {
        inner: bloomtime_host::device::Loopback,
        requests: usize,
        answers: usize,
    }
    fn lengthen(b: &[u8]) -> Vec<u8> {
        let mut v = b.to_vec();
        let end = v.pop().unwrap();
        v.push(0);
        v.push(end);
        v
    }
    impl Transport for Lengthen {
        fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
            if self.requests > 0 {
                self.requests -= 1;
                self.inner.write_all(&lengthen(b))
            } else {
                self.inner.write_all(b)
            }
        }
        fn read(&mut self, buf: &mut [u8], t: Duration) -> io::Result<usize> {
            let mut tmp = vec![0u8; 4096];
            let n = self.inner.read(&mut tmp, t)?;
            let out = if n > 0 && self.answers > 0 {
                self.answers -= 1;
                lengthen(&tmp[..n])
            } else {
                tmp[..n].to_vec()
            };
            buf[..out.len()].copy_from_slice(&out);
            Ok(out.len())
        }
        fn clear_input(&mut self) -> io::Result<()> {
            self.inner.clear_input()
        }
        fn name(&self) -> &str {
            "lengthened"
        }
    }
    let t = Lengthen {
        inner: model(),
        requests: 0,
        answers: 3,
    };
    let mut c = Client::connect(t, ClientOptions::default()).unwrap();
    let st = c.status().unwrap();
    assert!(st.events_empty);
    assert!(c.link_stats().invalid_answers >= 2, "{:?}", c.link_stats());
    c.transport_mut().requests = 2;
    c.clear().unwrap();
    assert_eq!(c.link_stats().bad_length_resent, 2);
    assert_eq!(
        c.read_reg(bloomtime_model::regmap::BAD_REQUESTS).unwrap(),
        0,
        "cleared"
    );
}
