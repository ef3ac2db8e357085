//! The board link: SLIP-framed, CRC-16-checked request/response messages over
//! the UART, and the byte encodings of exported events. One definition, used
//! by the RTL (`hw/src/link.rs`), the host client and the tests.
//!
//! ```text
//! frame    := SLIP( payload ‖ crc16_be(payload) )        END = 0xC0, ESC = 0xDB
//! request  := seq:u8  cmd:u8  args…            cmd    < 0x80
//! response := seq:u8  status:u8  data…         status ≥ 0x80 (`status::RESPONSE`)
//! ```
//!
//! The second byte tells a response from a request: commands have bit 7
//! clear, statuses have it set. A port that echoes what it is sent (a
//! loopback adapter, a wrong device) thus never passes for a device that
//! answers, and the host says so instead of reading its own request as a
//! status.
//!
//! A request whose `seq` equals the previous request's is a retry: the device
//! resends the stored response without executing the command again. A frame
//! with a bad CRC, a SLIP error or more than `MAX_FRAME` bytes is dropped and
//! counted, and answered with `seq = 0xFF, status = CRC_ERROR` so the host
//! retries at once instead of waiting for its timeout.
//!
//! A host starts every session with INFO: its `seq` may equal the last one
//! the device saw from an earlier session, which makes it a retry answered
//! with that session's stored response. A host that gets anything but an
//! INFO back sends INFO again with the next `seq` (INFO changes nothing, so
//! either answer is safe).
//!
//! Events wait in a device buffer of [`EVENT_BUFFER_BYTES`]; REPLAY takes a
//! frame only while [`replay_admits`] holds, and FLUSH exports slot by slot as
//! the buffer has room, so a host drains while STATUS says busy.

use crate::config::{Config, Level, Levels, HEADER_WINDOW, MAX_LEVELS, TS_BITS};
use crate::key::FlowKey;
use crate::table::{Event, EvictReason, SlotStats};
use std::fmt;

/// Device magic in INFO.
pub const MAGIC: [u8; 4] = *b"BTIM";
/// Protocol version in INFO; a host refuses any other.
/// Version 2 marks responses with [`status::RESPONSE`].
pub const PROTOCOL_VERSION: u16 = 2;
/// Largest payload (request or response) either side sends.
pub const MAX_PAYLOAD: usize = 500;
/// Largest SLIP-decoded frame (payload and CRC) the device accepts.
pub const MAX_FRAME: usize = MAX_PAYLOAD + 2;
/// Sequence number of the answer to an undecodable request.
pub const SEQ_UNKNOWN: u8 = 0xFF;
/// Slots one READ_SLOTS may ask for.
pub const MAX_SLOTS_PER_READ: usize = 16;

pub const SLIP_END: u8 = 0xC0;
pub const SLIP_ESC: u8 = 0xDB;
pub const SLIP_ESC_END: u8 = 0xDC;
pub const SLIP_ESC_ESC: u8 = 0xDD;

/// Commands.
pub mod cmd {
    /// → magic, versions, configuration, clock and baud.
    pub const INFO: u8 = 0x01;
    /// addr:u16 → value:u32.
    pub const READ_REG: u8 = 0x02;
    /// addr:u16 value:u32 → nothing.
    pub const WRITE_REG: u8 = 0x03;
    /// start:u16 count:u8 → per slot: tag:u32 (valid << 24 | fingerprint), stats;
    /// an empty slot (valid 0) reads as zeros. BUSY during a flush.
    pub const READ_SLOTS: u8 = 0x04;
    /// max:u16 → whole events, at most `max` bytes.
    pub const DRAIN: u8 = 0x05;
    /// frames… → accepted:u8 (frames are taken in order while [`replay_admits`]
    /// holds; the rest are refused and counted in REPLAY_REFUSED). A request
    /// that does not split into whole, well-formed frames is BAD_LENGTH or
    /// BAD_ARGUMENT and takes none; during a flush the answer is BUSY.
    ///
    /// [`replay_admits`]: super::replay_admits
    pub const REPLAY: u8 = 0x06;
    /// → nothing; exports every slot (progress: STATUS.busy, events: DRAIN).
    /// BUSY while a flush is already running.
    pub const FLUSH: u8 = 0x07;
    /// → nothing; empties banks, table and event buffer, ends a flush, zeroes
    /// every counter (pipeline and link). CONTROL keeps its value.
    pub const CLEAR: u8 = 0x08;
    /// offset:u16 max:u16 → the whole events that start `offset` bytes into
    /// the waiting events, at most `max` bytes; nothing is removed (a host
    /// reads the buffer without changing device state). `offset` must be an
    /// event boundary the host decoded (the model device answers BAD_ARGUMENT
    /// otherwise); at or past the end the answer is empty.
    pub const PEEK: u8 = 0x09;
}

/// Response status: the second byte of every response, bit 7 set.
pub mod status {
    /// The direction bit: set in every status, clear in every command.
    pub const RESPONSE: u8 = 0x80;
    pub const OK: u8 = RESPONSE;
    /// Cannot take it now (core busy with a flush or clear); retry later.
    pub const BUSY: u8 = RESPONSE | 1;
    pub const BAD_COMMAND: u8 = RESPONSE | 2;
    pub const BAD_LENGTH: u8 = RESPONSE | 3;
    pub const BAD_ARGUMENT: u8 = RESPONSE | 4;
    /// The request frame was corrupt (bad CRC, SLIP error, too long).
    pub const CRC_ERROR: u8 = RESPONSE | 5;
    /// Statuses are `RESPONSE | code` with codes `0..COUNT`.
    pub const COUNT: usize = 6;
}

/// Bytes of a request before its arguments: `seq`, `cmd`.
pub const REQUEST_HEADER: usize = 2;
/// Bytes of a response before its data: `seq`, `status`.
pub const RESPONSE_HEADER: usize = 2;
/// Most data bytes one response carries (DRAIN's and PEEK's `max` are
/// clamped to it).
pub const MAX_RESPONSE_DATA: usize = MAX_PAYLOAD - RESPONSE_HEADER;

/// Argument bytes of the commands whose arguments have a fixed size
/// (REPLAY's are its frames).
pub mod args {
    pub const INFO: usize = 0;
    pub const READ_REG: usize = 2;
    pub const WRITE_REG: usize = 6;
    pub const READ_SLOTS: usize = 3;
    pub const DRAIN: usize = 2;
    pub const FLUSH: usize = 0;
    pub const CLEAR: usize = 0;
    pub const PEEK: usize = 4;
}

/// Every command, in code order.
pub const COMMANDS: [u8; 9] = [
    cmd::INFO,
    cmd::READ_REG,
    cmd::WRITE_REG,
    cmd::READ_SLOTS,
    cmd::DRAIN,
    cmd::REPLAY,
    cmd::FLUSH,
    cmd::CLEAR,
    cmd::PEEK,
];
const _: () = {
    let mut i = 0;
    while i < COMMANDS.len() {
        assert!(COMMANDS[i] & status::RESPONSE == 0 && COMMANDS[i] as usize == i + 1);
        i += 1;
    }
};

/// Whether a payload's second byte marks it as a response.
pub const fn is_response(second_byte: u8) -> bool {
    second_byte & status::RESPONSE != 0
}

/// One REPLAY frame: `ts:u40 caplen:u16 len:u8 bytes[len]`, `len = min(caplen, HEADER_WINDOW)`
/// (a zero-length capture is sent with `len = 1` and one ignored byte).
pub const REPLAY_FRAME_HEADER: usize = 8;

/// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no xorout).
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &b in data {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// SLIP-encode a payload with its CRC: `END frame END`.
pub fn encode_frame(payload: &[u8]) -> Vec<u8> {
    let crc = crc16(payload);
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.push(SLIP_END);
    for &b in payload.iter().chain(crc.to_be_bytes().iter()) {
        match b {
            SLIP_END => out.extend_from_slice(&[SLIP_ESC, SLIP_ESC_END]),
            SLIP_ESC => out.extend_from_slice(&[SLIP_ESC, SLIP_ESC_ESC]),
            _ => out.push(b),
        }
    }
    out.push(SLIP_END);
    out
}

/// Why a received frame was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// An escape byte followed by something other than ESC_END / ESC_ESC.
    BadEscape,
    /// More than `MAX_FRAME` bytes before END.
    TooLong,
    /// Fewer than 3 bytes (nothing but a CRC, or less).
    TooShort,
    BadCrc,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FrameError::BadEscape => "bad SLIP escape",
            FrameError::TooLong => "frame too long",
            FrameError::TooShort => "frame too short",
            FrameError::BadCrc => "CRC mismatch",
        })
    }
}

/// Streaming SLIP decoder: feed bytes, get payloads (CRC checked and stripped).
/// Empty frames (back-to-back ENDs) are ignored, as the device does.
#[derive(Default, Debug, Clone)]
pub struct Deframer {
    buf: Vec<u8>,
    esc: bool,
    bad: Option<FrameError>,
}

impl Deframer {
    pub fn new() -> Self {
        Self::default()
    }

    /// One byte in; a completed frame out.
    pub fn push(&mut self, b: u8) -> Option<Result<Vec<u8>, FrameError>> {
        if b == SLIP_END {
            let buf = std::mem::take(&mut self.buf);
            let bad = self.bad.take();
            let esc = std::mem::replace(&mut self.esc, false);
            if buf.is_empty() && bad.is_none() && !esc {
                return None;
            }
            if let Some(e) = bad {
                return Some(Err(e));
            }
            if esc {
                return Some(Err(FrameError::BadEscape));
            }
            if buf.len() < 3 {
                return Some(Err(FrameError::TooShort));
            }
            let (p, c) = buf.split_at(buf.len() - 2);
            if crc16(p) != u16::from_be_bytes([c[0], c[1]]) {
                return Some(Err(FrameError::BadCrc));
            }
            return Some(Ok(p.to_vec()));
        }
        if self.bad.is_some() {
            return None;
        }
        let v = if self.esc {
            self.esc = false;
            match b {
                SLIP_ESC_END => SLIP_END,
                SLIP_ESC_ESC => SLIP_ESC,
                _ => {
                    self.bad = Some(FrameError::BadEscape);
                    return None;
                }
            }
        } else if b == SLIP_ESC {
            self.esc = true;
            return None;
        } else {
            b
        };
        if self.buf.len() == MAX_FRAME {
            self.bad = Some(FrameError::TooLong);
            return None;
        }
        self.buf.push(v);
        None
    }
}

/// Event type byte: low nibble the type, high nibble the evict reason.
pub const EV_OPEN: u8 = 0x01;
pub const EV_EVICT: u8 = 0x02;
/// Bytes of an encoded open event: type, slot:u16, key.
pub const OPEN_BYTES: usize = 3 + 38;

/// Bytes of an encoded evict event: type, slot:u16, statistics.
pub const fn evict_bytes(cfg: &Config) -> usize {
    3 + SlotStats::wire_bytes(cfg)
}

/// Bytes of the board's event buffer: four iCE40 block RAMs (the alchitry-cu
/// banks and table take 26 of the HX8K's 32, the request and response
/// buffers one each).
pub const EVENT_BUFFER_BYTES: usize = 2048;

/// Worst-case event bytes of one replayed frame: its record opens a slot and
/// evicts the slot's previous key (an overflow evicts without an open).
pub const fn frame_worst_case_bytes(cfg: &Config) -> usize {
    OPEN_BYTES + evict_bytes(cfg)
}

/// REPLAY admission: a device with an event buffer of `capacity` bytes takes
/// the next frame iff
/// `waiting + frame_worst_case_bytes + evict_bytes <= capacity`,
/// where `waiting` counts the bytes in the buffer plus the worst case of every
/// frame already taken whose record has not left the pipeline. The extra
/// evict is the flush margin: a FLUSH right after a full REPLAY can export a
/// slot before any DRAIN. A refused frame refuses the rest of its request.
pub const fn replay_admits(cfg: &Config, capacity: usize, waiting: usize) -> bool {
    waiting + frame_worst_case_bytes(cfg) + evict_bytes(cfg) <= capacity
}

/// Encode an event as the device exports it.
pub fn encode_event(cfg: &Config, e: &Event, out: &mut Vec<u8>) {
    match e {
        Event::Open { slot, key } => {
            out.push(EV_OPEN);
            out.extend_from_slice(&(*slot as u16).to_be_bytes());
            out.extend_from_slice(&key.to_wire());
        }
        Event::Evict {
            slot,
            reason,
            stats,
        } => {
            out.push(EV_EVICT | (*reason as u8) << 4);
            out.extend_from_slice(&(*slot as u16).to_be_bytes());
            out.extend_from_slice(&stats.to_wire(cfg));
        }
    }
}

/// A malformed event stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for DecodeError {}

/// Decode a byte string of whole events.
pub fn decode_events(cfg: &Config, mut b: &[u8]) -> Result<Vec<Event>, DecodeError> {
    let mut out = Vec::new();
    while let Some(&t) = b.first() {
        match t & 0x0f {
            EV_OPEN if t == EV_OPEN => {
                if b.len() < OPEN_BYTES {
                    return Err(DecodeError(format!(
                        "open event cut short ({} bytes)",
                        b.len()
                    )));
                }
                let slot = u16::from_be_bytes([b[1], b[2]]) as u32;
                let key = FlowKey::from_wire(b[3..OPEN_BYTES].try_into().unwrap())
                    .ok_or_else(|| DecodeError("open event with a bad address family".into()))?;
                out.push(Event::Open { slot, key });
                b = &b[OPEN_BYTES..];
            }
            EV_EVICT => {
                let n = evict_bytes(cfg);
                if b.len() < n {
                    return Err(DecodeError(format!(
                        "evict event cut short ({} bytes)",
                        b.len()
                    )));
                }
                let reason = EvictReason::from_index(t >> 4)
                    .ok_or_else(|| DecodeError(format!("evict event with reason {}", t >> 4)))?;
                let slot = u16::from_be_bytes([b[1], b[2]]) as u32;
                let stats = SlotStats::from_wire(cfg, &b[3..n]);
                out.push(Event::Evict {
                    slot,
                    reason,
                    stats,
                });
                b = &b[n..];
            }
            _ => return Err(DecodeError(format!("unknown event type 0x{t:02x}"))),
        }
    }
    Ok(out)
}

/// Encode one REPLAY frame (the first `HEADER_WINDOW` bytes of `captured`).
pub fn encode_replay_frame(ts: u64, captured: &[u8], out: &mut Vec<u8>) {
    let caplen = captured.len().min(u16::MAX as usize) as u16;
    let n = captured.len().min(HEADER_WINDOW);
    out.extend_from_slice(&(ts & ((1 << TS_BITS) - 1)).to_be_bytes()[3..]);
    out.extend_from_slice(&caplen.to_be_bytes());
    if n == 0 {
        out.push(1);
        out.push(0);
    } else {
        out.push(n as u8);
        out.extend_from_slice(&captured[..n]);
    }
}

/// INFO response data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Info {
    pub protocol_version: u16,
    pub design_version: u16,
    pub config: Config,
    pub header_window: u16,
    pub clock_hz: u32,
    pub baud: u32,
}

/// Bytes of the INFO data of a one-level design that keeps every moment
/// (the v1 hardware); other configurations append [`Info::encode`]'s
/// extension.
pub const INFO_BYTES: usize = 4 + 2 + 2 + 10 + 2 + 4 + 4;

/// Bytes of INFO's data for a configuration: [`INFO_BYTES`], and for any
/// but the v1 hardware the extension (level count, two bytes for each level
/// after the first, flags).
pub const fn info_bytes(cfg: &Config) -> usize {
    if Info::is_v1(cfg) {
        INFO_BYTES
    } else {
        INFO_BYTES + 2 + 2 * (cfg.level_count() - 1)
    }
}

/// Bytes of the link's request and response buffers.
pub const LINK_BUFFER_BYTES: usize = 512;
const _: () = assert!(MAX_FRAME <= LINK_BUFFER_BYTES);

/// INFO's extension flags: what the slot keeps.
const INFO_SECOND_MOMENT: u8 = 1 << 0;
const INFO_EXTREMES: u8 = 1 << 1;
const INFO_HISTOGRAM: u8 = 1 << 2;

impl Info {
    pub fn encode(&self) -> Vec<u8> {
        let c = &self.config;
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&self.protocol_version.to_be_bytes());
        b.extend_from_slice(&self.design_version.to_be_bytes());
        for v in [
            c.time_unit_log2_ns,
            c.level(0).bucket_log2,
            c.level(0).buckets,
            c.banks,
            c.lines_log2,
            c.epoch_tag_bits,
            c.slots_log2,
            c.fingerprint_bits,
            c.sample_frac_bits,
            c.packet_bits,
        ] {
            b.push(v as u8);
        }
        b.extend_from_slice(&self.header_window.to_be_bytes());
        b.extend_from_slice(&self.clock_hz.to_be_bytes());
        b.extend_from_slice(&self.baud.to_be_bytes());
        if !Self::is_v1(c) {
            // Extension: level count, (bucket_log2, buckets) of levels 1.., flags.
            b.push(c.level_count() as u8);
            for l in &c.levels.as_slice()[1..] {
                b.push(l.bucket_log2 as u8);
                b.push(l.buckets as u8);
            }
            b.push(
                (c.second_moment as u8 * INFO_SECOND_MOMENT)
                    | (c.extremes as u8 * INFO_EXTREMES)
                    | (c.histogram as u8 * INFO_HISTOGRAM),
            );
        }
        debug_assert_eq!(b.len(), info_bytes(c));
        b
    }

    /// A configuration INFO describes without its extension.
    const fn is_v1(c: &Config) -> bool {
        c.level_count() == 1 && c.second_moment && c.extremes && !c.histogram
    }

    /// Decode, checking the magic; the version is the caller's to judge.
    pub fn decode(b: &[u8]) -> Result<Info, DecodeError> {
        if b.len() < 4 || b[..4] != MAGIC {
            return Err(DecodeError(
                "the device did not answer with the BloomTime magic: wrong device or wrong baud rate".into(),
            ));
        }
        let ext = &b[INFO_BYTES.min(b.len())..];
        let ext_ok = ext.is_empty()
            || (!ext.is_empty()
                && (1..=MAX_LEVELS).contains(&(ext[0] as usize))
                && ext.len() == 1 + 2 * (ext[0] as usize - 1) + 1);
        if b.len() < INFO_BYTES || !ext_ok {
            return Err(DecodeError(format!(
                "INFO has {} bytes, expected {INFO_BYTES} or {INFO_BYTES} plus a level extension",
                b.len()
            )));
        }
        let u16at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        let u32at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let c = &b[8..18];
        let mut levels = vec![Level {
            bucket_log2: c[1] as u32,
            buckets: c[2] as u32,
        }];
        let (mut second_moment, mut extremes, mut histogram) = (true, true, false);
        if !ext.is_empty() {
            let n = ext[0] as usize;
            for i in 1..n {
                levels.push(Level {
                    bucket_log2: ext[2 * i - 1] as u32,
                    buckets: ext[2 * i] as u32,
                });
            }
            let flags = ext[ext.len() - 1];
            second_moment = flags & INFO_SECOND_MOMENT != 0;
            extremes = flags & INFO_EXTREMES != 0;
            histogram = flags & INFO_HISTOGRAM != 0;
        }
        let config = Config {
            time_unit_log2_ns: c[0] as u32,
            levels: Levels::new(&levels),
            banks: c[3] as u32,
            lines_log2: c[4] as u32,
            epoch_tag_bits: c[5] as u32,
            slots_log2: c[6] as u32,
            fingerprint_bits: c[7] as u32,
            sample_frac_bits: c[8] as u32,
            packet_bits: c[9] as u32,
            second_moment,
            extremes,
            histogram,
        };
        config
            .validate()
            .map_err(|e| DecodeError(format!("device reports an invalid configuration: {e}")))?;
        Ok(Info {
            protocol_version: u16at(4),
            design_version: u16at(6),
            config,
            header_window: u16at(18),
            clock_hz: u32at(20),
            baud: u32at(24),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ALCHITRY_CU_V1 as ALCHITRY_CU, PRESETS};
    use crate::estimator::Hit;
    use crate::table::AccRule;
    use proptest::prelude::*;

    #[test]
    fn crc_check_value() {
        assert_eq!(crc16(b"123456789"), 0x29B1);
    }

    proptest! {
        #![proptest_config(crate::prop_config("model::protocol"))]

        #[test]
        fn slip_roundtrips(p in proptest::collection::vec(any::<u8>(), 1..MAX_PAYLOAD)) {
            let mut d = Deframer::new();
            let mut got = Vec::new();
            for b in encode_frame(&p) {
                if let Some(r) = d.push(b) { got.push(r); }
            }
            prop_assert_eq!(got, vec![Ok(p)]);
        }

        #[test]
        fn garbage_never_panics_and_resyncs(junk in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let mut d = Deframer::new();
            for b in junk { let _ = d.push(b); }
            let mut got = Vec::new();
            for b in encode_frame(b"hello") {
                if let Some(r) = d.push(b) { got.push(r); }
            }
            // The frame after the garbage decodes (an error for the garbage's tail may come first).
            prop_assert_eq!(got.last().cloned(), Some(Ok(b"hello".to_vec())));
        }
    }

    #[test]
    fn corrupt_frames_are_reported() {
        let mut f = encode_frame(b"abc");
        f[2] ^= 1;
        let mut d = Deframer::new();
        let r: Vec<_> = f.iter().filter_map(|&b| d.push(b)).collect();
        assert_eq!(r, vec![Err(FrameError::BadCrc)]);
        let r: Vec<_> = [SLIP_ESC, 7, SLIP_END]
            .iter()
            .filter_map(|&b| d.push(b))
            .collect();
        assert_eq!(r, vec![Err(FrameError::BadEscape)]);
        let long = vec![1u8; MAX_FRAME + 10];
        let mut r: Vec<_> = long.iter().filter_map(|&b| d.push(b)).collect();
        r.extend(d.push(SLIP_END));
        assert_eq!(r, vec![Err(FrameError::TooLong)]);
    }

    #[test]
    fn events_roundtrip() {
        let cfg = ALCHITRY_CU;
        let k = FlowKey::v4(6, [1, 2, 3, 4], 5, [6, 7, 8, 9], 10);
        let ev = vec![
            Event::Open { slot: 200, key: k },
            Event::Evict {
                slot: 3,
                reason: EvictReason::Overflow,
                stats: SlotStats::first(
                    &AccRule::new(&cfg),
                    Some((17, Hit::default())),
                    Some((3, Hit::default())),
                ),
            },
        ];
        let mut b = Vec::new();
        for e in &ev {
            encode_event(&cfg, e, &mut b);
        }
        assert_eq!(b.len(), OPEN_BYTES + evict_bytes(&cfg));
        assert_eq!(decode_events(&cfg, &b).unwrap(), ev);
        assert!(decode_events(&cfg, &b[..b.len() - 1]).is_err());
        assert!(decode_events(&cfg, &[0x77]).is_err());
    }

    #[test]
    fn info_roundtrips_and_rejects_strangers() {
        let i = Info {
            protocol_version: PROTOCOL_VERSION,
            design_version: 3,
            config: ALCHITRY_CU,
            header_window: 128,
            clock_hz: 100_000_000,
            baud: 1_000_000,
        };
        assert_eq!(Info::decode(&i.encode()).unwrap(), i);
        assert_eq!(i.encode().len(), INFO_BYTES);
        for p in PRESETS {
            let j = Info {
                config: p.config,
                ..i.clone()
            };
            assert_eq!(Info::decode(&j.encode()).unwrap(), j, "{}", p.name);
            let mut cut = j.encode();
            if cut.len() > INFO_BYTES {
                cut.pop();
                assert!(Info::decode(&cut).is_err(), "{}", p.name);
            }
        }
        assert!(Info::decode(b"HTTP/1.1 400").is_err());
    }

    #[test]
    fn replay_admission_keeps_room_for_the_worst_case_and_a_flush_export() {
        let cfg = ALCHITRY_CU;
        assert_eq!(frame_worst_case_bytes(&cfg), 41 + 27);
        let limit = EVENT_BUFFER_BYTES - 68 - 27;
        assert!(replay_admits(&cfg, EVENT_BUFFER_BYTES, limit));
        assert!(!replay_admits(&cfg, EVENT_BUFFER_BYTES, limit + 1));
    }

    #[test]
    fn replay_frames_carry_the_window() {
        let mut b = Vec::new();
        encode_replay_frame(0x12_3456_789a, &[7u8; 300], &mut b);
        assert_eq!(b.len(), REPLAY_FRAME_HEADER + 128);
        assert_eq!(&b[..5], &[0x12, 0x34, 0x56, 0x78, 0x9a]);
        assert_eq!(&b[5..8], &[0x01, 0x2c, 128]);
        let mut e = Vec::new();
        encode_replay_frame(1, &[], &mut e);
        assert_eq!(e, vec![0, 0, 0, 0, 1, 0, 0, 1, 0]);
    }
}
