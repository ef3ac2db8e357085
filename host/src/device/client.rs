//! The protocol client: one request at a time, retried until answered.
//!
//! * Sequence numbers run 0..=0xFE (0xFF marks the device's CRC_ERROR
//!   answers). A retry resends the same frame with the same `seq`, so the
//!   device answers it from its stored response and never executes a
//!   command twice.
//! * A try ends with the answer, a timeout, a corrupt frame or a CRC_ERROR
//!   answer; the next try first throws away pending input and waits for a
//!   SLIP END before decoding again (resynchronisation after garbage).
//! * An answer with another `seq` (a late duplicate of an earlier answer) is
//!   discarded; only the answer to this request is accepted, and its status
//!   checked.
//! * A session starts with INFO (`model::protocol`, module docs): a stored
//!   answer to an earlier session's request is recognised and INFO sent again.

use super::transport::Transport;
use super::DeviceError;
use bloomtime_model::config::Config;
use bloomtime_model::counters::{Counters, N_COUNTERS};
use bloomtime_model::protocol::{
    cmd, decode_events, encode_frame, encode_replay_frame, is_response, status, Deframer, Info,
    MAGIC, MAX_PAYLOAD, MAX_SLOTS_PER_READ, PROTOCOL_VERSION, SEQ_UNKNOWN, SLIP_END,
};
use bloomtime_model::regmap::{self, N_LINK_COUNTERS};
use bloomtime_model::table::{Event, SlotStats};
use serde::Serialize;
use std::time::{Duration, Instant};

/// Bytes of data one response can carry (after `seq` and `status`).
pub const MAX_DATA: usize = MAX_PAYLOAD - 2;

/// Timeouts and retries.
#[derive(Clone, Copy, Debug)]
pub struct ClientOptions {
    /// How long one try waits for its answer.
    pub timeout: Duration,
    /// Tries after the first before giving up.
    pub retries: u32,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_millis(250),
            retries: 8,
        }
    }
}

/// What the link did, seen from the host.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct LinkStats {
    /// Requests answered.
    pub requests: u64,
    /// Tries after the first, for all reasons below.
    pub retries: u64,
    /// Tries that saw no answer in time.
    pub timeouts: u64,
    /// CRC_ERROR answers (the device got a corrupt frame).
    pub crc_error_answers: u64,
    /// Frames that failed SLIP or CRC checks here.
    pub corrupt_frames: u64,
    /// Intact answers with another sequence number, discarded.
    pub stale_answers: u64,
    /// Intact answers whose data failed its check (length, event
    /// encoding), retried.
    pub invalid_answers: u64,
    /// Requests sent again with a new `seq` after a BAD_LENGTH or
    /// BAD_ARGUMENT answer.
    pub bad_length_resent: u64,
    /// Bytes written and read.
    pub bytes_out: u64,
    pub bytes_in: u64,
}

impl LinkStats {
    /// What happened since `earlier`.
    pub fn since(&self, earlier: &LinkStats) -> LinkStats {
        LinkStats {
            requests: self.requests - earlier.requests,
            retries: self.retries - earlier.retries,
            timeouts: self.timeouts - earlier.timeouts,
            crc_error_answers: self.crc_error_answers - earlier.crc_error_answers,
            corrupt_frames: self.corrupt_frames - earlier.corrupt_frames,
            stale_answers: self.stale_answers - earlier.stale_answers,
            invalid_answers: self.invalid_answers - earlier.invalid_answers,
            bad_length_resent: self.bad_length_resent - earlier.bad_length_resent,
            bytes_out: self.bytes_out - earlier.bytes_out,
            bytes_in: self.bytes_in - earlier.bytes_in,
        }
    }
}

/// STATUS, decoded.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Status {
    /// A flush (or clear) is running.
    pub busy: bool,
    /// The pipeline holds no record.
    pub idle: bool,
    pub events_empty: bool,
    /// Event bytes waiting.
    pub waiting: u32,
}

impl Status {
    pub fn from_reg(v: u32) -> Status {
        Status {
            busy: v & regmap::STATUS_BUSY != 0,
            idle: v & regmap::STATUS_IDLE != 0,
            events_empty: v & regmap::STATUS_EVENTS_EMPTY != 0,
            waiting: v >> 16,
        }
    }
    /// Nothing left to export or drain.
    pub fn quiet(&self) -> bool {
        !self.busy && self.idle && self.events_empty
    }
}

/// One slot as READ_SLOTS returns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotRead {
    pub slot: u32,
    pub valid: bool,
    pub fingerprint: u32,
    pub stats: SlotStats,
}

/// The link counters (registers LINK_BASE..), in regmap order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkCounters(pub [u32; N_LINK_COUNTERS]);

impl LinkCounters {
    pub fn get(&self, addr: u16) -> u32 {
        self.0[(addr - regmap::LINK_BASE) as usize]
    }
    /// `(name, value)` in regmap order.
    pub fn named(&self) -> Vec<(&'static str, u32)> {
        regmap::registers()
            .into_iter()
            .filter(|r| {
                (regmap::LINK_BASE..regmap::LINK_BASE + N_LINK_COUNTERS as u16).contains(&r.addr)
            })
            .map(|r| (r.name, self.get(r.addr)))
            .collect()
    }
}

impl Serialize for LinkCounters {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let named = self.named();
        let mut m = s.serialize_map(Some(named.len()))?;
        for (k, v) in named {
            m.serialize_entry(k, &v)?;
        }
        m.end()
    }
}

/// A REPLAY request's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayResult {
    /// Frames packed into the request.
    pub sent: usize,
    /// Frames the device took (the first `accepted` of those sent).
    pub accepted: usize,
}

/// How one try ended without an answer.
enum Miss {
    Timeout,
    Corrupt,
    CrcError,
}

/// A connected device.
pub struct Client<T: Transport> {
    t: T,
    opts: ClientOptions,
    seq: u8,
    deframer: Deframer,
    /// Dropping bytes until a SLIP END (after a resynchronisation).
    hunting: bool,
    /// Bytes read and not yet decoded.
    inbuf: Vec<u8>,
    inpos: usize,
    info: Info,
    /// INFO was answered.
    connected: bool,
    stats: LinkStats,
}

fn next_seq(s: u8) -> u8 {
    if s >= SEQ_UNKNOWN - 1 {
        0
    } else {
        s + 1
    }
}

impl<T: Transport> Client<T> {
    /// Open a session: INFO (twice if the first answer is a stored answer of
    /// an earlier session), magic and protocol version checked.
    pub fn connect(t: T, opts: ClientOptions) -> Result<Client<T>, DeviceError> {
        Self::connect_with_seq(t, opts, 0)
    }

    /// [`connect`](Self::connect) with a chosen first sequence number.
    pub fn connect_with_seq(t: T, opts: ClientOptions, seq: u8) -> Result<Client<T>, DeviceError> {
        let mut c = Client {
            t,
            opts,
            // The first request uses next_seq(seq - 1) = seq.
            seq: if seq == 0 || seq == SEQ_UNKNOWN {
                SEQ_UNKNOWN - 1
            } else {
                seq - 1
            },
            deframer: Deframer::new(),
            hunting: false,
            inbuf: Vec::new(),
            inpos: 0,
            info: Info {
                protocol_version: 0,
                design_version: 0,
                config: bloomtime_model::config::HARDWARE,
                header_window: 0,
                clock_hz: 0,
                baud: 0,
            },
            connected: false,
            stats: LinkStats::default(),
        };
        c.t.clear_input().map_err(|e| c.io(e))?;
        let first = c.request(cmd::INFO, &[], "INFO", info_check);
        let data = match first {
            Ok(d) if d.starts_with(&MAGIC) => d,
            // A stored answer to another request of an earlier session.
            Ok(_) | Err(DeviceError::Refused { .. }) => {
                c.request(cmd::INFO, &[], "INFO", info_check)?
            }
            Err(e) => return Err(e),
        };
        c.info = c.decode_info(&data)?;
        c.connected = true;
        Ok(c)
    }

    fn decode_info(&self, data: &[u8]) -> Result<Info, DeviceError> {
        // The version is checked before the rest of the layout, which may
        // differ in another version.
        if data.len() >= 6 && data[..4] == MAGIC {
            let v = u16::from_be_bytes([data[4], data[5]]);
            if v != PROTOCOL_VERSION {
                return Err(DeviceError::Version {
                    port: self.t.name().to_string(),
                    device: v,
                });
            }
        }
        Info::decode(data).map_err(|e| DeviceError::NotBloomTime {
            port: self.t.name().to_string(),
            detail: e.0,
        })
    }

    /// The INFO read when connecting.
    pub fn info(&self) -> &Info {
        &self.info
    }
    /// The device's configuration.
    pub fn config(&self) -> &Config {
        &self.info.config
    }
    pub fn link_stats(&self) -> &LinkStats {
        &self.stats
    }
    pub fn options(&self) -> &ClientOptions {
        &self.opts
    }
    pub fn transport(&self) -> &T {
        &self.t
    }
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.t
    }

    fn io(&self, err: std::io::Error) -> DeviceError {
        DeviceError::Io {
            port: self.t.name().to_string(),
            err,
        }
    }

    /// Forget partial input and decode only after the next SLIP END.
    fn resync(&mut self) -> Result<(), DeviceError> {
        self.t.clear_input().map_err(|e| self.io(e))?;
        self.inbuf.clear();
        self.inpos = 0;
        self.deframer = Deframer::new();
        self.hunting = true;
        Ok(())
    }

    /// One request: its data if the device answered OK (any data).
    pub fn transact(
        &mut self,
        command: u8,
        args: &[u8],
        what: &'static str,
    ) -> Result<Vec<u8>, DeviceError> {
        self.request(command, args, what, |d| Ok(d.to_vec()))
    }

    /// One request whose answer `check` validates. An answer that fails the
    /// check is taken for damage on the way (CRC-16 without a final XOR
    /// accepts a frame with zero bytes inserted before its END) and the
    /// request retried with the same `seq`, so the device resends its stored
    /// answer. A BAD_LENGTH or BAD_ARGUMENT answer (damage the CRC missed on
    /// the way in: inserted or dropped zero bytes where the CRC register is
    /// zero) is retried twice with a new `seq`: nothing was executed.
    pub fn request<R>(
        &mut self,
        command: u8,
        args: &[u8],
        what: &'static str,
        check: impl Fn(&[u8]) -> Result<R, String>,
    ) -> Result<R, DeviceError> {
        let mut bad_length = 0;
        loop {
            match self.request_once(command, args, what, &check) {
                Err(DeviceError::Refused {
                    status: status::BAD_LENGTH | status::BAD_ARGUMENT,
                    ..
                }) if bad_length < 2 => {
                    bad_length += 1;
                    self.stats.bad_length_resent += 1;
                }
                r => return r,
            }
        }
    }

    fn request_once<R>(
        &mut self,
        command: u8,
        args: &[u8],
        what: &'static str,
        check: &impl Fn(&[u8]) -> Result<R, String>,
    ) -> Result<R, DeviceError> {
        assert!(args.len() + 2 <= MAX_PAYLOAD, "request too long");
        self.seq = next_seq(self.seq);
        let seq = self.seq;
        let mut payload = Vec::with_capacity(args.len() + 2);
        payload.push(seq);
        payload.push(command);
        payload.extend_from_slice(args);
        let frame = encode_frame(&payload);
        let mut garbled = false;
        // Every try so far answered, and failed the check with this.
        let mut invalid: Option<String> = None;
        let mut all_invalid = true;
        let tries = self.opts.retries + 1;
        for attempt in 0..tries {
            if attempt > 0 {
                self.stats.retries += 1;
                self.resync()?;
            }
            self.t.write_all(&frame).map_err(|e| self.io(e))?;
            self.t.flush().map_err(|e| self.io(e))?;
            self.stats.bytes_out += frame.len() as u64;
            match self.await_answer(&payload)? {
                Ok((st, data)) if st == status::OK => match check(&data) {
                    Ok(r) => {
                        self.stats.requests += 1;
                        return Ok(r);
                    }
                    Err(e) => {
                        self.stats.invalid_answers += 1;
                        invalid = Some(e);
                        garbled = true;
                        continue;
                    }
                },
                Ok((st, _)) => {
                    self.stats.requests += 1;
                    return Err(DeviceError::Refused { what, status: st });
                }
                Err(Miss::Timeout) => self.stats.timeouts += 1,
                Err(Miss::Corrupt) | Err(Miss::CrcError) => garbled = true,
            }
            all_invalid = false;
        }
        let port = self.t.name().to_string();
        let connected = self.connected;
        Err(match invalid {
            // The same answer every time: the device means it.
            Some(detail) if all_invalid => DeviceError::Protocol { what, detail },
            _ if garbled => DeviceError::Garbled {
                port,
                what,
                tries,
                connected,
            },
            _ => DeviceError::NoAnswer {
                port,
                what,
                tries,
                timeout: self.opts.timeout,
                connected,
            },
        })
    }

    /// Read until the answer to `seq`, a timeout, or a reason to retry now.
    #[allow(clippy::type_complexity)]
    fn await_answer(&mut self, request: &[u8]) -> Result<Result<(u8, Vec<u8>), Miss>, DeviceError> {
        let seq = request[0];
        let deadline = Instant::now() + self.opts.timeout;
        // A corrupt frame or a CRC_ERROR answer: the answer may still follow
        // in what has arrived already; once that is decoded, retry at once.
        let mut miss: Option<Miss> = None;
        loop {
            while self.inpos < self.inbuf.len() {
                let b = self.inbuf[self.inpos];
                self.inpos += 1;
                if self.hunting {
                    if b == SLIP_END {
                        self.hunting = false;
                    }
                    continue;
                }
                match self.deframer.push(b) {
                    None => {}
                    Some(Err(_)) => {
                        self.stats.corrupt_frames += 1;
                        miss.get_or_insert(Miss::Corrupt);
                    }
                    Some(Ok(p)) if p.len() < 2 => {
                        self.stats.corrupt_frames += 1;
                        miss.get_or_insert(Miss::Corrupt);
                    }
                    Some(Ok(p)) if p[0] == SEQ_UNKNOWN && p[1] == status::CRC_ERROR => {
                        self.stats.crc_error_answers += 1;
                        miss = Some(Miss::CrcError);
                    }
                    // Not a response (the second byte has no direction bit).
                    Some(Ok(p)) if !is_response(p[1]) => {
                        if p == request {
                            return Err(DeviceError::Echo {
                                port: self.t.name().to_string(),
                            });
                        }
                        if p[0] == seq {
                            return Err(DeviceError::NotBloomTime {
                                port: self.t.name().to_string(),
                                detail: format!(
                                    "the answer has no response bit (status byte {:#04x}): a \
                                     device of protocol version 1 (program a bitstream of this \
                                     release) or not a BloomTime device",
                                    p[1]
                                ),
                            });
                        }
                        self.stats.stale_answers += 1;
                    }
                    Some(Ok(p)) if p[0] != seq => self.stats.stale_answers += 1,
                    Some(Ok(mut p)) => {
                        let st = p[1];
                        p.drain(..2);
                        return Ok(Ok((st, p)));
                    }
                }
            }
            if let Some(m) = miss {
                return Ok(Err(m));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Err(Miss::Timeout));
            }
            self.inbuf.resize(4096, 0);
            self.inpos = 0;
            let n = match self.t.read(&mut self.inbuf, deadline - now) {
                Ok(n) => n,
                Err(e) => {
                    self.inbuf.clear();
                    return Err(self.io(e));
                }
            };
            self.inbuf.truncate(n);
            self.stats.bytes_in += n as u64;
            if n == 0 {
                return Ok(Err(Miss::Timeout));
            }
        }
    }

    /// INFO, again.
    pub fn read_info(&mut self) -> Result<Info, DeviceError> {
        let d = self.request(cmd::INFO, &[], "INFO", info_check)?;
        self.decode_info(&d)
    }

    pub fn read_reg(&mut self, addr: u16) -> Result<u32, DeviceError> {
        self.request(cmd::READ_REG, &addr.to_be_bytes(), "READ_REG", |d| {
            len_is(d, 4).map(|_| u32::from_be_bytes([d[0], d[1], d[2], d[3]]))
        })
    }

    pub fn write_reg(&mut self, addr: u16, value: u32) -> Result<(), DeviceError> {
        let mut a = addr.to_be_bytes().to_vec();
        a.extend_from_slice(&value.to_be_bytes());
        self.request(cmd::WRITE_REG, &a, "WRITE_REG", |d| len_is(d, 0))
    }

    pub fn status(&mut self) -> Result<Status, DeviceError> {
        Ok(Status::from_reg(self.read_reg(regmap::STATUS)?))
    }

    /// Every pipeline counter (32-bit registers).
    pub fn counters(&mut self) -> Result<Counters, DeviceError> {
        let mut c = Counters::default();
        for i in 0..N_COUNTERS {
            c.0[i] = self.read_reg(regmap::COUNTER_BASE + i as u16)? as u64;
        }
        Ok(c)
    }

    pub fn link_counters(&mut self) -> Result<LinkCounters, DeviceError> {
        let mut c = LinkCounters::default();
        for i in 0..N_LINK_COUNTERS {
            c.0[i] = self.read_reg(regmap::LINK_BASE + i as u16)?;
        }
        Ok(c)
    }

    /// `count` (at most `MAX_SLOTS_PER_READ`) slots from `start`.
    pub fn read_slots(&mut self, start: u32, count: usize) -> Result<Vec<SlotRead>, DeviceError> {
        assert!(count <= MAX_SLOTS_PER_READ);
        let cfg = self.info.config;
        let mut a = (start as u16).to_be_bytes().to_vec();
        a.push(count as u8);
        let per = 4 + SlotStats::wire_bytes(&cfg);
        let d = self.request(cmd::READ_SLOTS, &a, "READ_SLOTS", |d| {
            len_is(d, count * per).map(|_| d.to_vec())
        })?;
        let fp_mask = ((1u64 << cfg.fingerprint_bits.min(24)) - 1) as u32;
        Ok(d.chunks(per)
            .enumerate()
            .map(|(i, c)| {
                let tag = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
                SlotRead {
                    slot: start + i as u32,
                    valid: tag & (1 << 24) != 0,
                    fingerprint: tag & fp_mask,
                    stats: SlotStats::from_wire(&cfg, &c[4..]),
                }
            })
            .collect())
    }

    /// Every slot of the table.
    pub fn read_table(&mut self) -> Result<Vec<SlotRead>, DeviceError> {
        let slots = self.info.config.slots();
        let mut v = Vec::with_capacity(slots as usize);
        let mut s = 0;
        while s < slots {
            let n = ((slots - s) as usize).min(MAX_SLOTS_PER_READ);
            v.extend(self.read_slots(s, n)?);
            s += n as u32;
        }
        Ok(v)
    }

    /// Events of a DRAIN or PEEK answer of at most `max` bytes.
    fn events_request(
        &mut self,
        command: u8,
        args: &[u8],
        what: &'static str,
        max: usize,
    ) -> Result<(Vec<Event>, usize), DeviceError> {
        let cfg = self.info.config;
        self.request(command, args, what, |d| {
            if d.len() > max {
                return Err(format!("{} bytes for a limit of {max}", d.len()));
            }
            decode_events(&cfg, d)
                .map(|e| (e, d.len()))
                .map_err(|e| e.0)
        })
    }

    /// Take up to `max` bytes of whole events; also returns the bytes taken.
    pub fn drain(&mut self, max: usize) -> Result<(Vec<Event>, usize), DeviceError> {
        let max = max.min(MAX_DATA);
        self.events_request(cmd::DRAIN, &(max as u16).to_be_bytes(), "DRAIN", max)
    }

    /// Read (without taking) up to `max` bytes of whole events from byte
    /// `offset` of the waiting events; also returns the bytes read.
    pub fn peek(&mut self, offset: usize, max: usize) -> Result<(Vec<Event>, usize), DeviceError> {
        let max = max.min(MAX_DATA);
        let mut a = (offset.min(u16::MAX as usize) as u16)
            .to_be_bytes()
            .to_vec();
        a.extend_from_slice(&(max as u16).to_be_bytes());
        self.events_request(cmd::PEEK, &a, "PEEK", max)
    }

    /// Every waiting event, without taking them.
    pub fn peek_all(&mut self) -> Result<Vec<Event>, DeviceError> {
        let mut all = Vec::new();
        let mut off = 0;
        loop {
            let (ev, n) = self.peek(off, MAX_DATA)?;
            if n == 0 {
                return Ok(all);
            }
            all.extend(ev);
            off += n;
        }
    }

    /// Send as many of `frames` (timestamp, captured bytes) as fit in one
    /// REPLAY request; the device takes a prefix of them.
    pub fn replay(&mut self, frames: &[(u64, &[u8])]) -> Result<ReplayResult, DeviceError> {
        let mut args = Vec::with_capacity(MAX_DATA);
        let mut one = Vec::with_capacity(160);
        let mut sent = 0;
        for (ts, data) in frames {
            one.clear();
            encode_replay_frame(*ts, data, &mut one);
            if args.len() + one.len() > MAX_DATA || sent == u8::MAX as usize {
                break;
            }
            args.extend_from_slice(&one);
            sent += 1;
        }
        self.replay_encoded(&args, sent)
    }

    /// REPLAY of `n` frames already encoded (`encode_replay_frame`) into `args`.
    pub fn replay_encoded(&mut self, args: &[u8], n: usize) -> Result<ReplayResult, DeviceError> {
        let accepted = self.request(cmd::REPLAY, args, "REPLAY", |d| {
            len_is(d, 1)?;
            if d[0] as usize > n {
                return Err(format!("{} frames accepted of {n} sent", d[0]));
            }
            Ok(d[0] as usize)
        })?;
        Ok(ReplayResult { sent: n, accepted })
    }

    pub fn flush(&mut self) -> Result<(), DeviceError> {
        self.request(cmd::FLUSH, &[], "FLUSH", |d| len_is(d, 0))
    }

    pub fn clear(&mut self) -> Result<(), DeviceError> {
        self.request(cmd::CLEAR, &[], "CLEAR", |d| len_is(d, 0))
    }
}

fn len_is(d: &[u8], n: usize) -> Result<(), String> {
    if d.len() == n {
        Ok(())
    } else {
        Err(format!("{} bytes of data, expected {n}", d.len()))
    }
}

/// An INFO answer of this protocol version must decode (its length is
/// `protocol::INFO_BYTES` or that plus a well-formed level extension); any other
/// answer is passed on (to be judged: another version, another device, or an
/// earlier session's stored answer).
fn info_check(d: &[u8]) -> Result<Vec<u8>, String> {
    if d.len() >= 6 && d[..4] == MAGIC && u16::from_be_bytes([d[4], d[5]]) == PROTOCOL_VERSION {
        Info::decode(d).map_err(|e| e.0)?;
    }
    Ok(d.to_vec())
}
