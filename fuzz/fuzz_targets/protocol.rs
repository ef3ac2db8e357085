//! The board link's byte protocol, from both ends.
//!
//! The first byte picks a mode, the rest is its input:
//! * 0, wire: raw bytes through the SLIP/CRC `Deframer`; each payload
//!   through the event and INFO decoders. Checked: a payload re-encodes and
//!   deframes to itself; decoded events re-encode to the same bytes; INFO
//!   decodes to a fixed point; after any junk a well-formed frame is read.
//! * 1, model device: requests (`tag:u8`, then `len:u8 raw bytes` when
//!   `tag % 4 == 0`, else `len:u16 payload` sent SLIP-framed with its CRC)
//!   into `ModelDevice::receive`, the device clock advanced by `tag >> 2`
//!   µs. Checked: every answer is a well-formed frame of at most
//!   `MAX_PAYLOAD` bytes with a known status; a framed request is answered
//!   under its `seq`, a retry with the stored answer; DRAIN/PEEK data are
//!   whole events, INFO the device's; the event buffer stays within its
//!   size; the link counters add up (every frame in is one frame out).
//! * 2, host client: the same bytes script the device's answers
//!   (`tag:u8`: 0 raw bytes, 1 a frame under the request's `seq`, 2 a frame
//!   under a given `seq`, 3 silence) and the commands the host sends
//!   (an op byte before each). Checked: no panic, no hang; every error is
//!   one line; DRAIN/PEEK report the bytes of the events they return.
#![no_main]

use bloomtime_host::device::{Client, ClientOptions, ModelDevice, ModelOptions, Transport};
use bloomtime_model::config::HARDWARE;
use bloomtime_model::protocol::{
    decode_events, encode_event, encode_frame, is_response, status, Deframer, Info,
    EVENT_BUFFER_BYTES, MAX_PAYLOAD, SEQ_UNKNOWN,
};
use bloomtime_model::{protocol::cmd, regmap};
use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;
use std::io;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A byte script read from the front.
struct Script<'a>(&'a [u8]);

impl<'a> Script<'a> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }
}

fn frames_of(bytes: &[u8]) -> Vec<Result<Vec<u8>, bloomtime_model::protocol::FrameError>> {
    let mut d = Deframer::new();
    bytes.iter().filter_map(|&b| d.push(b)).collect()
}

fn wire(data: &[u8]) {
    let mut d = Deframer::new();
    for &b in data {
        let Some(Ok(p)) = d.push(b) else { continue };
        assert!(
            !p.is_empty() && p.len() <= MAX_PAYLOAD,
            "payload of {} bytes",
            p.len()
        );
        assert_eq!(frames_of(&encode_frame(&p)), vec![Ok(p.clone())]);
        if let Ok(events) = decode_events(&HARDWARE, &p) {
            let mut again = Vec::new();
            for e in &events {
                encode_event(&HARDWARE, e, &mut again);
            }
            assert_eq!(again, p, "events re-encode differently");
        }
        if let Ok(info) = Info::decode(&p) {
            let again = Info::decode(&info.encode()).expect("an encoded INFO decodes");
            assert_eq!(again, info);
        }
    }
    // Junk, then a good frame: the good frame is read.
    let good = [1u8, cmd::INFO, 2, 3];
    let last = encode_frame(&good).iter().filter_map(|&b| d.push(b)).last();
    assert_eq!(
        last,
        Some(Ok(good.to_vec())),
        "no resynchronisation after junk"
    );
}

fn device(data: &[u8]) {
    let clock = Arc::new(AtomicU64::new(0));
    let mut dev = ModelDevice::new(ModelOptions {
        clock: Some(clock.clone()),
        ..ModelOptions::default()
    });
    let info = dev.info();
    let mut s = Script(data);
    let mut last: Option<(u8, Vec<u8>)> = None;
    let mut cleared = false;
    let mut shadow = Deframer::new();
    while let Some(tag) = s.u8() {
        clock.fetch_add(u64::from(tag >> 2) * 1000, Ordering::SeqCst);
        let (bytes, request) = if tag % 4 == 0 {
            let n = s.u8().unwrap_or(0) as usize;
            (s.take(n).to_vec(), None)
        } else {
            let n = s.u16().unwrap_or(0) as usize % (MAX_PAYLOAD + 8);
            let p = s.take(n).to_vec();
            (encode_frame(&p), Some(p))
        };
        // A CLEAR may come in raw bytes too: read what the device reads.
        for &b in &bytes {
            if let Some(Ok(q)) = shadow.push(b) {
                cleared |= q.get(1) == Some(&cmd::CLEAR);
            }
        }
        let mut out = Vec::new();
        dev.receive(&bytes, &mut out);
        let answers: Vec<Vec<u8>> = frames_of(&out)
            .into_iter()
            .map(|a| a.expect("the device sent a corrupt frame"))
            .collect();
        for a in &answers {
            assert!(
                a.len() >= 2 && a.len() <= MAX_PAYLOAD,
                "answer of {} bytes",
                a.len()
            );
            assert!(
                is_response(a[1]) && a[1] <= status::CRC_ERROR,
                "unknown status {}",
                a[1]
            );
        }
        // Answers to frames in raw bytes (or completed by a framed
        // request's leading END) are stored by the device as well.
        let ours = usize::from(request.is_some());
        for a in &answers[..answers.len().saturating_sub(ours)] {
            if a[..] != [SEQ_UNKNOWN, status::CRC_ERROR] {
                last = Some((a[0], a.clone()));
            }
        }
        if let Some(p) = request {
            let a = answers.last().expect("a framed request went unanswered");
            if p.is_empty() || p.len() > MAX_PAYLOAD {
                assert_eq!(a[..], [SEQ_UNKNOWN, status::CRC_ERROR]);
            } else {
                assert_eq!(a[0], p[0], "answer under another seq");
                if let Some((seq, prev)) = &last {
                    if *seq == p[0] {
                        assert_eq!(a, prev, "a retry got a new answer");
                    }
                }
                if last.as_ref().is_none_or(|(seq, _)| *seq != p[0]) && a[1] == status::OK {
                    match p.get(1).copied() {
                        Some(cmd::DRAIN | cmd::PEEK) => {
                            let ev = decode_events(dev.config(), &a[2..]).expect("whole events");
                            let mut again = Vec::new();
                            for e in &ev {
                                encode_event(dev.config(), e, &mut again);
                            }
                            assert_eq!(again, a[2..]);
                        }
                        Some(cmd::INFO) => assert_eq!(Info::decode(&a[2..]).unwrap(), info),
                        _ => {}
                    }
                }
                last = Some((p[0], a.clone()));
            }
        }
        assert!(
            dev.waiting() <= EVENT_BUFFER_BYTES,
            "{} bytes waiting",
            dev.waiting()
        );
        let link = |a| dev.link_counter(a);
        // CLEAR zeroes the counters and then counts its own answer out.
        let (tx, rx) = (
            link(regmap::TX_FRAMES),
            link(regmap::RX_FRAMES) + link(regmap::RX_CRC_ERRORS) + link(regmap::RX_SLIP_ERRORS),
        );
        assert!(
            tx == rx || (cleared && tx == rx + 1),
            "{tx} frames out, {rx} in"
        );
    }
}

/// The device's side of the link, played from a script.
struct Scripted<'a> {
    script: Rc<RefCell<Script<'a>>>,
    deframer: Deframer,
    /// `seq` of the last request written.
    seq: u8,
    pending: Vec<u8>,
}

impl Transport for Scripted<'_> {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        for &b in bytes {
            if let Some(Ok(p)) = self.deframer.push(b) {
                self.seq = p[0];
            }
        }
        Ok(())
    }
    fn read(&mut self, buf: &mut [u8], _timeout: Duration) -> io::Result<usize> {
        if self.pending.is_empty() {
            let mut s = self.script.borrow_mut();
            let Some(tag) = s.u8() else { return Ok(0) };
            self.pending = match tag % 4 {
                0 => {
                    let n = s.u8().unwrap_or(0) as usize;
                    s.take(n).to_vec()
                }
                1 | 2 => {
                    let seq = if tag % 4 == 1 {
                        self.seq
                    } else {
                        s.u8().unwrap_or(0)
                    };
                    let st = if tag & 0x80 != 0 {
                        s.u8().unwrap_or(0)
                    } else {
                        status::OK
                    };
                    let n = s.u16().unwrap_or(0) as usize % (MAX_PAYLOAD + 8);
                    let mut p = vec![seq, st];
                    p.extend_from_slice(s.take(n));
                    encode_frame(&p)
                }
                _ => return Ok(0),
            };
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
    fn clear_input(&mut self) -> io::Result<()> {
        self.pending.clear();
        Ok(())
    }
    fn name(&self) -> &str {
        "fuzz"
    }
}

fn one_line(e: &impl std::fmt::Display) {
    let s = e.to_string();
    assert!(
        !s.is_empty() && !s.contains('\n'),
        "error not one line: {s:?}"
    );
}

fn client(data: &[u8]) {
    let script = Rc::new(RefCell::new(Script(data)));
    let t = Scripted {
        script: script.clone(),
        deframer: Deframer::new(),
        seq: 0,
        pending: Vec::new(),
    };
    let opts = ClientOptions {
        timeout: Duration::from_secs(3600),
        retries: 3,
    };
    let mut c = match Client::connect(t, opts) {
        Ok(c) => c,
        Err(e) => return one_line(&e),
    };
    let frame = [0u8; 60];
    // At most 64 commands: each one reads at least one script byte.
    for _ in 0..64 {
        let Some(op) = script.borrow_mut().u8() else {
            break;
        };
        let arg = script.borrow_mut().u16().unwrap_or(0);
        let r = match op % 12 {
            0 => c.read_info().map(drop),
            1 => c.read_reg(arg).map(drop),
            2 => c.write_reg(arg, 7).map(drop),
            3 => c.status().map(drop),
            4 => c.counters().map(drop),
            5 => c.link_counters().map(drop),
            6 => c.read_slots(u32::from(arg), usize::from(op >> 4)).map(drop),
            7 => c.drain(usize::from(arg)).map(|(ev, n)| {
                let mut b = Vec::new();
                for e in &ev {
                    encode_event(c.config(), e, &mut b);
                }
                assert_eq!(b.len(), n, "DRAIN's byte count");
                assert!(n <= usize::from(arg));
            }),
            8 => c.peek(usize::from(arg), 200).map(drop),
            9 => c
                .replay(&[(u64::from(arg), &frame[..]), (5, &frame[..14])])
                .map(|r| {
                    assert!(r.accepted <= r.sent);
                }),
            10 => c.flush(),
            _ => c.clear(),
        };
        if let Err(e) = r {
            one_line(&e);
        }
    }
    if script.borrow().0.len() < 4096 {
        // A table of a few slots only: a huge one would just be slow.
        if c.config().slots_log2 <= 6 {
            if let Err(e) = c.read_table() {
                one_line(&e);
            }
        }
        if let Err(e) = c.peek_all() {
            one_line(&e);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => wire(rest),
        1 => device(rest),
        _ => client(rest),
    }
});
