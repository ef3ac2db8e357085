//! The model device: the golden model behind the board's link protocol,
//! byte for byte what the board answers (`model::protocol`,
//! `model::regmap`). It is the reference the RTL board is checked against
//! and the device the host is tested with, in process through [`Loopback`]
//! or on a pseudo-terminal (`super::pty`).
//!
//! Behaviour the protocol leaves to the device, fixed here:
//!
//! * Events wait in a buffer of `event_buffer` bytes (default
//!   `protocol::EVENT_BUFFER_BYTES`); REPLAY takes frames while
//!   `protocol::replay_admits` holds, counts the rest in REPLAY_REFUSED.
//!   The model's pipeline is empty between requests, so `waiting` is the
//!   buffer's fill.
//! * FLUSH exports slot by slot, in slot order, whenever at least one evict
//!   fits; the export resumes after every request (a DRAIN makes room), and
//!   STATUS.busy stays set until the last slot is done. REPLAY, READ_SLOTS
//!   and FLUSH during a flush are BUSY (the board's core is exporting and
//!   cannot peek); INFO, registers, DRAIN, PEEK and CLEAR are always served.
//! * Every decodable request's answer is stored for retries, errors
//!   included; CRC_ERROR answers are not stored.
//! * CLEAR zeroes the pipeline and link counters as it executes (its own
//!   request is then uncounted, its answer counted in TX_FRAMES).
//! * Registers read 32 bits of their counter (wrapping).
//! * Live mode (CONTROL bit 0): REPLAY frames take the device time
//!   (`(ns >> time_unit_log2_ns) mod 2^40`) as timestamp. The clock is real
//!   time since the device started, or one the caller sets
//!   ([`ModelOptions::clock`]).

use super::transport::Transport;
use bloomtime_model::config::{Config, HARDWARE, HEADER_WINDOW, TS_MASK};
use bloomtime_model::counters::N_COUNTERS;
use bloomtime_model::protocol::{
    self, cmd, encode_event, encode_frame, evict_bytes, replay_admits, status, Deframer,
    FrameError, Info, MAX_PAYLOAD, MAX_RESPONSE_DATA, MAX_SLOTS_PER_READ, PROTOCOL_VERSION,
    REPLAY_FRAME_HEADER, SEQ_UNKNOWN,
};
use bloomtime_model::regmap::{self, N_LINK_COUNTERS};
use bloomtime_model::table::SlotStats;
use bloomtime_model::BloomTime;
use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How to build a model device.
#[derive(Clone, Debug)]
pub struct ModelOptions {
    /// The configuration (fingerprints of at most 24 bits, at most 2^16 slots).
    pub config: Config,
    /// Event buffer bytes.
    pub event_buffer: usize,
    /// Baud rate INFO reports.
    pub baud: u32,
    /// Clock rate INFO reports (and UPTIME counts).
    pub clock_hz: u32,
    /// Design version INFO reports.
    pub design_version: u16,
    /// Protocol version INFO reports (tests of a mismatch change it).
    pub protocol_version: u16,
    /// Device time in nanoseconds, set by the caller; `None`: real time since
    /// the device was made.
    pub clock: Option<Arc<AtomicU64>>,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions {
            config: HARDWARE,
            event_buffer: protocol::EVENT_BUFFER_BYTES,
            baud: 1_000_000,
            clock_hz: 100_000_000,
            design_version: 1,
            protocol_version: PROTOCOL_VERSION,
            clock: None,
        }
    }
}

/// A BloomTime device in software.
#[derive(Debug)]
pub struct ModelDevice {
    cfg: Config,
    opts: ModelOptions,
    bt: BloomTime,
    events: VecDeque<u8>,
    /// Byte length of each waiting event, in order.
    event_lens: VecDeque<u16>,
    /// Next slot a running flush exports.
    flush_next: Option<u32>,
    control: u32,
    time_hi: u32,
    link: [u64; N_LINK_COUNTERS],
    /// The last decodable request's `seq` and the answer sent to it.
    last: Option<(u8, Vec<u8>)>,
    deframer: Deframer,
    start: Instant,
}

fn link_idx(addr: u16) -> usize {
    (addr - regmap::LINK_BASE) as usize
}

impl ModelDevice {
    pub fn new(opts: ModelOptions) -> ModelDevice {
        let cfg = opts.config;
        cfg.validate().expect("invalid configuration");
        assert!(
            cfg.fingerprint_bits <= 24 && cfg.slots_log2 <= 16,
            "READ_SLOTS tags hold 24 fingerprint bits and events 16-bit slots"
        );
        assert!(opts.event_buffer >= protocol::frame_worst_case_bytes(&cfg) + evict_bytes(&cfg));
        ModelDevice {
            cfg,
            bt: BloomTime::new(&cfg),
            events: VecDeque::with_capacity(opts.event_buffer),
            event_lens: VecDeque::new(),
            flush_next: None,
            control: 0,
            time_hi: 0,
            link: [0; N_LINK_COUNTERS],
            last: None,
            deframer: Deframer::new(),
            start: Instant::now(),
            opts,
        }
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }
    /// The golden model inside.
    pub fn model(&self) -> &BloomTime {
        &self.bt
    }
    /// Event bytes waiting.
    pub fn waiting(&self) -> usize {
        self.events.len()
    }
    /// A link counter by register address.
    pub fn link_counter(&self, addr: u16) -> u64 {
        self.link[link_idx(addr)]
    }
    pub fn flushing(&self) -> bool {
        self.flush_next.is_some()
    }

    fn now_ns(&self) -> u64 {
        match &self.opts.clock {
            Some(c) => c.load(Ordering::SeqCst),
            None => self.start.elapsed().as_nanos() as u64,
        }
    }

    fn now_units(&self) -> u64 {
        (self.now_ns() >> self.cfg.time_unit_log2_ns) & TS_MASK
    }

    fn inc(&mut self, addr: u16) {
        self.link[link_idx(addr)] += 1;
    }

    /// Bytes from the host in; the answers' bytes appended to `out`.
    pub fn receive(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        for &b in bytes {
            match self.deframer.push(b) {
                None => {}
                Some(Ok(p)) => {
                    self.inc(regmap::RX_FRAMES);
                    let answer = self.handle(&p);
                    out.extend_from_slice(&encode_frame(&answer));
                    self.inc(regmap::TX_FRAMES);
                }
                Some(Err(e)) => {
                    self.inc(if e == FrameError::BadCrc {
                        regmap::RX_CRC_ERRORS
                    } else {
                        regmap::RX_SLIP_ERRORS
                    });
                    out.extend_from_slice(&encode_frame(&[SEQ_UNKNOWN, status::CRC_ERROR]));
                    self.inc(regmap::TX_FRAMES);
                }
            }
        }
    }

    /// One decoded request payload → its answer payload.
    pub fn handle(&mut self, p: &[u8]) -> Vec<u8> {
        let seq = p[0];
        if let Some((s, a)) = &self.last {
            if *s == seq {
                let a = a.clone();
                self.inc(regmap::RETRIES);
                return a;
            }
        }
        let (st, data) = if p.len() < protocol::REQUEST_HEADER {
            (status::BAD_LENGTH, Vec::new())
        } else {
            self.execute(p[1], &p[protocol::REQUEST_HEADER..])
        };
        if matches!(
            st,
            status::BAD_COMMAND | status::BAD_LENGTH | status::BAD_ARGUMENT
        ) {
            self.inc(regmap::BAD_REQUESTS);
        }
        self.advance_flush();
        let mut a = Vec::with_capacity(data.len() + 2);
        a.push(seq);
        a.push(st);
        a.extend_from_slice(&data);
        debug_assert!(a.len() <= MAX_PAYLOAD);
        self.last = Some((seq, a.clone()));
        a
    }

    fn execute(&mut self, command: u8, args: &[u8]) -> (u8, Vec<u8>) {
        let want = |n: usize| args.len() == n;
        let bad_len = (status::BAD_LENGTH, Vec::new());
        let bad_arg = (status::BAD_ARGUMENT, Vec::new());
        let ok = |d: Vec<u8>| (status::OK, d);
        let u16at = |i: usize| u16::from_be_bytes([args[i], args[i + 1]]);
        match command {
            cmd::INFO => {
                if !want(protocol::args::INFO) {
                    return bad_len;
                }
                ok(self.info().encode())
            }
            cmd::READ_REG => {
                if !want(protocol::args::READ_REG) {
                    return bad_len;
                }
                match self.read_reg(u16at(0)) {
                    Some(v) => ok(v.to_be_bytes().to_vec()),
                    None => bad_arg,
                }
            }
            cmd::WRITE_REG => {
                if !want(protocol::args::WRITE_REG) {
                    return bad_len;
                }
                let v = u32::from_be_bytes([args[2], args[3], args[4], args[5]]);
                if u16at(0) == regmap::CONTROL {
                    self.control = v & regmap::CONTROL_LIVE;
                    ok(Vec::new())
                } else {
                    bad_arg
                }
            }
            cmd::READ_SLOTS => {
                if !want(protocol::args::READ_SLOTS) {
                    return bad_len;
                }
                let (start, count) = (u16at(0) as u32, args[2] as u32);
                if count == 0
                    || count as usize > MAX_SLOTS_PER_READ
                    || start + count > self.cfg.slots()
                {
                    return bad_arg;
                }
                if self.flush_next.is_some() {
                    return (status::BUSY, Vec::new());
                }
                let mut d = Vec::new();
                for s in (start..start + count).map(|i| self.bt.table().slot(i)) {
                    if s.valid {
                        let tag = 1 << 24 | s.fingerprint;
                        d.extend_from_slice(&tag.to_be_bytes());
                        d.extend_from_slice(&s.stats.to_wire(&self.cfg));
                    } else {
                        // An empty slot reads as zeros.
                        d.extend(std::iter::repeat_n(0, 4 + SlotStats::wire_bytes(&self.cfg)));
                    }
                }
                ok(d)
            }
            cmd::DRAIN => {
                if !want(protocol::args::DRAIN) {
                    return bad_len;
                }
                let max = (u16at(0) as usize).min(MAX_RESPONSE_DATA);
                let mut n = 0;
                while let Some(&l) = self.event_lens.front() {
                    if n + l as usize > max {
                        break;
                    }
                    n += l as usize;
                    self.event_lens.pop_front();
                }
                ok(self.events.drain(..n).collect())
            }
            cmd::PEEK => {
                if !want(protocol::args::PEEK) {
                    return bad_len;
                }
                let (offset, max) = (
                    u16at(0) as usize,
                    (u16at(2) as usize).min(MAX_RESPONSE_DATA),
                );
                if offset >= self.events.len() {
                    return ok(Vec::new());
                }
                let mut at = 0;
                let mut lens = self.event_lens.iter();
                for &l in lens.by_ref() {
                    if at == offset {
                        at += l as usize;
                        break;
                    }
                    at += l as usize;
                    if at > offset {
                        return bad_arg;
                    }
                }
                // `at` is the end of the first event at `offset`.
                let mut end = offset;
                if at - offset <= max {
                    end = at;
                    for &l in lens {
                        if end + l as usize - offset > max {
                            break;
                        }
                        end += l as usize;
                    }
                }
                ok(self.events.range(offset..end).copied().collect())
            }
            cmd::REPLAY => self.replay(args),
            cmd::FLUSH => {
                if !want(protocol::args::FLUSH) {
                    return bad_len;
                }
                if self.flush_next.is_some() {
                    return (status::BUSY, Vec::new());
                }
                self.flush_next = Some(0);
                ok(Vec::new())
            }
            cmd::CLEAR => {
                if !want(protocol::args::CLEAR) {
                    return bad_len;
                }
                self.bt = BloomTime::new(&self.cfg);
                self.events.clear();
                self.event_lens.clear();
                self.flush_next = None;
                self.link = [0; N_LINK_COUNTERS];
                ok(Vec::new())
            }
            _ => (status::BAD_COMMAND, Vec::new()),
        }
    }

    /// INFO of this device.
    pub fn info(&self) -> Info {
        Info {
            protocol_version: self.opts.protocol_version,
            design_version: self.opts.design_version,
            config: self.cfg,
            header_window: HEADER_WINDOW as u16,
            clock_hz: self.opts.clock_hz,
            baud: self.opts.baud,
        }
    }

    /// A register's value; `None` for an unmapped address.
    pub fn read_reg(&mut self, addr: u16) -> Option<u32> {
        let a = addr as usize;
        if (regmap::COUNTER_BASE as usize..regmap::COUNTER_BASE as usize + N_COUNTERS).contains(&a)
        {
            return Some(self.bt.counters().0[a - regmap::COUNTER_BASE as usize] as u32);
        }
        if (regmap::LINK_BASE as usize..regmap::LINK_BASE as usize + N_LINK_COUNTERS).contains(&a) {
            return Some(self.link[link_idx(addr)] as u32);
        }
        Some(match addr {
            regmap::STATUS => {
                let mut v = regmap::STATUS_IDLE;
                if self.flush_next.is_some() {
                    v |= regmap::STATUS_BUSY;
                }
                if self.events.is_empty() {
                    v |= regmap::STATUS_EVENTS_EMPTY;
                }
                v | (self.events.len().min(0xFFFF) as u32) << 16
            }
            regmap::CONTROL => self.control,
            regmap::TIME_LO => {
                let t = self.now_units();
                self.time_hi = (t >> 32) as u32;
                t as u32
            }
            regmap::TIME_HI => self.time_hi,
            regmap::UPTIME => {
                let cycles = self.now_ns() as u128 * self.opts.clock_hz as u128 / 1_000_000_000;
                cycles.min(u32::MAX as u128) as u32
            }
            _ => return None,
        })
    }

    fn replay(&mut self, args: &[u8]) -> (u8, Vec<u8>) {
        // Split into frames first: a malformed request takes none.
        let mut frames = Vec::new();
        let mut b = args;
        while !b.is_empty() {
            if b.len() < REPLAY_FRAME_HEADER + 1 {
                return (status::BAD_LENGTH, Vec::new());
            }
            let mut t = [0u8; 8];
            t[3..].copy_from_slice(&b[..5]);
            let ts = u64::from_be_bytes(t);
            let caplen = u16::from_be_bytes([b[5], b[6]]) as usize;
            let len = b[7] as usize;
            if len != caplen.clamp(1, HEADER_WINDOW) {
                return (status::BAD_ARGUMENT, Vec::new());
            }
            if b.len() < REPLAY_FRAME_HEADER + len {
                return (status::BAD_LENGTH, Vec::new());
            }
            let win = &b[REPLAY_FRAME_HEADER..REPLAY_FRAME_HEADER + caplen.min(len)];
            frames.push((ts, win, caplen));
            b = &b[REPLAY_FRAME_HEADER + len..];
        }
        if frames.len() > u8::MAX as usize {
            return (status::BAD_LENGTH, Vec::new());
        }
        if self.flush_next.is_some() {
            return (status::BUSY, Vec::new());
        }
        let live = self.control & regmap::CONTROL_LIVE != 0;
        let mut accepted = 0u8;
        for (ts, win, caplen) in &frames {
            if !replay_admits(&self.cfg, self.opts.event_buffer, self.events.len()) {
                break;
            }
            let ts = if live { self.now_units() } else { *ts };
            let _ = self.bt.frame(ts, win, *caplen);
            self.take_events();
            self.inc(regmap::REPLAY_FRAMES);
            accepted += 1;
        }
        self.link[link_idx(regmap::REPLAY_REFUSED)] += (frames.len() - accepted as usize) as u64;
        (status::OK, vec![accepted])
    }

    /// Move the model's new events into the byte buffer.
    fn take_events(&mut self) {
        if self.bt.pending_events().is_empty() {
            return;
        }
        let mut buf = Vec::with_capacity(64);
        for e in self.bt.drain_events() {
            buf.clear();
            encode_event(&self.cfg, &e, &mut buf);
            self.events.extend(buf.iter().copied());
            self.event_lens.push_back(buf.len() as u16);
        }
        debug_assert!(self.events.len() <= self.opts.event_buffer);
    }

    /// Export slots of a running flush while an evict fits.
    fn advance_flush(&mut self) {
        let room = evict_bytes(&self.cfg);
        while let Some(i) = self.flush_next {
            if i == self.cfg.slots() {
                self.flush_next = None;
                break;
            }
            if self.bt.table().is_valid(i) {
                if self.events.len() + room > self.opts.event_buffer {
                    break;
                }
                self.bt.flush_slot(i);
                self.take_events();
            }
            self.flush_next = Some(i + 1);
        }
    }
}

/// The model device in process: the client writes, the device answers at
/// once, reads return the answer (an empty read is a timeout, as nothing
/// else can arrive).
#[derive(Clone)]
pub struct Loopback {
    dev: Arc<Mutex<ModelDevice>>,
    rx: VecDeque<u8>,
    out: Vec<u8>,
    name: String,
}

impl Loopback {
    pub fn new(dev: ModelDevice) -> Loopback {
        Loopback::shared(Arc::new(Mutex::new(dev)))
    }
    /// A loopback to a device the caller keeps a handle on.
    pub fn shared(dev: Arc<Mutex<ModelDevice>>) -> Loopback {
        Loopback {
            dev,
            rx: VecDeque::new(),
            out: Vec::new(),
            name: "model device (in process)".into(),
        }
    }
    pub fn device(&self) -> Arc<Mutex<ModelDevice>> {
        self.dev.clone()
    }
}

impl Transport for Loopback {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.dev
            .lock()
            .expect("model device lock")
            .receive(bytes, &mut self.out);
        self.rx.extend(self.out.drain(..));
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8], _timeout: Duration) -> io::Result<usize> {
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
        &self.name
    }
}
