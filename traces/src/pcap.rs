//! Reading packet captures: classic pcap (microsecond and nanosecond magic,
//! either byte order) and pcapng (per-interface `if_tsresol`/`if_tsoffset`,
//! enhanced and simple packet blocks). BloomTime's parser starts at an
//! Ethernet header: Ethernet frames are read as they are, and frames of the
//! other link types read (Linux cooked SLL/SLL2, raw IP, BSD loopback) get a
//! synthetic Ethernet header in place of theirs ([`crate::link`]); any other
//! link type is refused.
//!
//! Records and blocks are decoded by the `pcap-parser` crate; this module does
//! the buffering itself so that it can bound every length *before* reading
//! (an absurd captured length is an error, not an allocation) and report
//! every problem as one line naming the file. No input makes it panic.
//!
//! Several files are read as one stream by [`MergedTraces`], a stable k-way
//! merge by timestamp: ties go to the file named first, and a file's own order
//! is kept.

use pcap_parser::pcapng::Block;
use pcap_parser::{parse_block_be, parse_block_le, parse_pcap_header, PcapError};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// The largest captured length accepted (256 KiB): anything above is a
/// corrupt record, whatever the file's snaplen says.
pub const MAX_CAPLEN: u32 = 256 * 1024;
/// The largest non-packet pcapng block accepted.
pub const MAX_BLOCK_LEN: u32 = 16 << 20;
pub use crate::link::{LinkType, LINKTYPE_ETHERNET};

const PCAPNG_SHB: u32 = 0x0A0D_0D0A;
const PCAPNG_IDB: u32 = 0x0000_0001;
const PCAPNG_SPB: u32 = 0x0000_0003;
const PCAPNG_EPB: u32 = 0x0000_0006;
const PCAPNG_BOM: u32 = 0x1A2B_3C4D;

/// One captured frame, as an Ethernet frame: a frame of another link type
/// has its link header replaced by a synthetic Ethernet header
/// ([`crate::link`]), and both lengths count that header instead of its own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Packet {
    /// Absolute timestamp in nanoseconds (since the Unix epoch for real captures).
    pub ns: u64,
    /// The captured bytes (`data.len()` is the captured length).
    pub data: Vec<u8>,
    /// The frame's length on the wire (as an Ethernet frame).
    pub orig_len: u32,
}

/// What went wrong with a capture file.
#[derive(Debug)]
pub enum TraceErrorKind {
    /// The file could not be opened or read.
    Io(io::Error),
    /// The file does not start with a pcap or pcapng magic number.
    NotACapture { first: Vec<u8> },
    /// A pcap variant this reader does not decode.
    UnsupportedFormat(&'static str),
    /// The file ends inside a header or record.
    Truncated {
        offset: u64,
        what: &'static str,
        need: u64,
        have: u64,
    },
    /// A record claims a captured length no real capture has.
    AbsurdCaplen {
        offset: u64,
        caplen: u64,
        snaplen: u32,
    },
    /// A pcapng block length that is not a sane block.
    BadBlockLength { offset: u64, len: u32 },
    /// A link type BloomTime does not read ([`LinkType`] lists those it does).
    UnsupportedLinkType { linktype: i32 },
    /// A record or block the decoder rejected.
    Malformed { offset: u64, what: String },
    /// A classic pcap record whose sub-second part is not below one second
    /// (`ts_usec >= 10^6`, or `ts_nsec >= 10^9` in a nanosecond capture).
    BadFraction {
        offset: u64,
        record: u64,
        value: u32,
        nanos: bool,
    },
    /// A pcapng `if_tsresol` outside what BloomTime converts to nanoseconds
    /// ([`tsresol_supported`]).
    BadTsResol { offset: u64, tsresol: u8 },
    /// A pcapng `if_tsoffset` that puts every timestamp out of the 64-bit
    /// nanosecond range (more than [`MAX_TSOFFSET_S`] either way).
    BadTsOffset { offset: u64, tsoffset: i64 },
    /// A pcapng packet whose timestamp, with its interface's resolution and
    /// offset, is before the Unix epoch or beyond the 64-bit nanosecond range.
    TimestampOutOfRange {
        offset: u64,
        record: u64,
        ts: u64,
        tsresol: u8,
        tsoffset: i64,
    },
}

/// An error reading a capture: the file and the problem, printed as one line.
#[derive(Debug)]
pub struct TraceError {
    pub path: PathBuf,
    pub kind: TraceErrorKind,
}

impl TraceError {
    fn new(path: &Path, kind: TraceErrorKind) -> TraceError {
        TraceError {
            path: path.to_path_buf(),
            kind,
        }
    }
}

/// Name of a link type, where known (from the tcpdump link-type list).
pub fn linktype_name(lt: i32) -> Option<&'static str> {
    Some(match lt {
        0 => "BSD loopback (null)",
        1 => "Ethernet",
        6 => "IEEE 802.5 Token Ring",
        8 => "SLIP",
        9 => "PPP",
        10 => "FDDI",
        12 | 14 => "raw IP, an old system-specific DLT_RAW value",
        101 => "raw IP",
        50 => "PPP in HDLC framing",
        51 => "PPPoE",
        104 => "Cisco HDLC",
        105 => "IEEE 802.11",
        108 => "OpenBSD loopback",
        113 => "Linux cooked SLL",
        119 => "Prism 802.11",
        127 => "802.11 radiotap",
        192 => "PPI",
        195 => "IEEE 802.15.4",
        220 => "Linux USB",
        228 => "raw IPv4",
        229 => "raw IPv6",
        239 => "Linux NFLOG",
        249 => "USBPcap",
        252 => "Wireshark upper PDU",
        276 => "Linux cooked SLL2",
        _ => return None,
    })
}

fn io_problem(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::IsADirectory => "is a directory, not a capture file".into(),
        _ => {
            // Some platforms report EISDIR as `Other`/`Uncategorized`.
            let s = e.to_string();
            s.lines().next().unwrap_or("read error").to_string()
        }
    }
}

impl fmt::Display for TraceErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use TraceErrorKind::*;
        match self {
            Io(e) => f.write_str(&io_problem(e)),
            NotACapture { first } if first.is_empty() => {
                f.write_str("empty file, not a pcap or pcapng capture")
            }
            NotACapture { first } => {
                let hex: String = first.iter().map(|b| format!("{b:02x}")).collect();
                write!(
                    f,
                    "not a pcap or pcapng capture (bad magic: first bytes {hex})"
                )
            }
            UnsupportedFormat(what) => write!(f, "{what} is not supported"),
            Truncated {
                offset,
                what,
                need,
                have,
            } => write!(
                f,
                "truncated {what} at byte {offset} (needs {need} bytes, file has {have})"
            ),
            AbsurdCaplen {
                offset,
                caplen,
                snaplen,
            } => write!(
                f,
                "absurd captured length {caplen} in the record at byte {offset} \
                 (limit {MAX_CAPLEN} bytes and twice the snaplen {snaplen}): corrupt file"
            ),
            BadBlockLength { offset, len } => write!(
                f,
                "bad pcapng block length {len} at byte {offset}: corrupt file"
            ),
            UnsupportedLinkType { linktype } => {
                match linktype_name(*linktype) {
                    Some(n) => write!(f, "link type {linktype} ({n})")?,
                    None => write!(f, "link type {linktype}")?,
                }
                write!(
                    f,
                    " is not supported: BloomTime reads {}",
                    crate::link::SUPPORTED
                )
            }
            Malformed { offset, what } => write!(f, "malformed {what} at byte {offset}"),
            BadFraction {
                offset,
                record,
                value,
                nanos,
            } => {
                let (field, limit) = if *nanos {
                    ("ts_nsec", 1_000_000_000)
                } else {
                    ("ts_usec", 1_000_000)
                };
                write!(
                    f,
                    "record {record} at byte {offset}: {field} {value} is not below {limit} \
                     (not a fraction of a second): corrupt file"
                )
            }
            BadTsResol { offset, tsresol } => write!(
                f,
                "pcapng if_tsresol {tsresol:#04x} ({}) in the interface description block at byte \
                 {offset} is not supported: BloomTime takes units from 1 s down to 10^-12 s \
                 (2^-40 s)",
                tsresol_name(*tsresol)
            ),
            BadTsOffset { offset, tsoffset } => write!(
                f,
                "pcapng if_tsoffset {tsoffset} s in the interface description block at byte \
                 {offset} puts every timestamp outside 1970..2554 (the 64-bit nanosecond \
                 range): corrupt file"
            ),
            TimestampOutOfRange {
                offset,
                record,
                ts,
                tsresol,
                tsoffset,
            } => {
                let side = if pcapng_ns_wide(*ts, *tsresol, *tsoffset) < 0 {
                    "before 1970 (negative)"
                } else {
                    "beyond 2554 (the 64-bit nanosecond range)"
                };
                write!(
                    f,
                    "packet {record} (block at byte {offset}): timestamp {ts} in units of {} \
                     with if_tsoffset {tsoffset} s is {side}: corrupt file",
                    tsresol_name(*tsresol)
                )
            }
        }
    }
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.kind)
    }
}

impl std::error::Error for TraceError {}

#[derive(Clone, Copy, Debug)]
struct Iface {
    /// `Err(number)` for a link type not read: an error at its first packet.
    link: Result<LinkType, i32>,
    snaplen: u32,
    tsresol: u8,
    tsoffset: i64,
}

#[derive(Debug)]
enum Kind {
    Pcap {
        be: bool,
        nanos: bool,
        snaplen: u32,
        link: LinkType,
    },
    PcapNg {
        be: bool,
        ifaces: Vec<Iface>,
        last_ns: u64,
    },
}

/// A streaming reader of one capture file.
pub struct TraceReader<R: BufRead = BufReader<File>> {
    path: PathBuf,
    r: R,
    offset: u64,
    kind: Kind,
    buf: Vec<u8>,
    /// The first four bytes of the next block, when already read.
    pending: Option<[u8; 4]>,
    /// Packets returned so far (errors name a packet by its 1-based number).
    packets: u64,
    failed: bool,
}

impl fmt::Debug for TraceReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceReader")
            .field("path", &self.path)
            .field("offset", &self.offset)
            .field("kind", &self.kind)
            .finish()
    }
}

/// Hand the next `n` bytes to `take` straight from the reader's buffer, if
/// it holds them (one copy: no zero-fill, no read call), and consume them;
/// `false`, taking nothing, when it does not (or the refill failed: the
/// caller's `read_full` then retries or reports it).
#[inline]
fn take_buffered<R: BufRead>(r: &mut R, n: usize, take: impl FnOnce(&[u8])) -> bool {
    match r.fill_buf() {
        Ok(avail) if avail.len() >= n => {
            take(&avail[..n]);
            r.consume(n);
            true
        }
        _ => false,
    }
}

/// [`read_full`] of a buffered reader: a copy from its buffer when the
/// buffer holds all of `buf`.
#[inline]
fn read_full_buffered<R: BufRead>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let n = buf.len();
    if take_buffered(r, n, |b| buf.copy_from_slice(b)) {
        Ok(n)
    } else {
        read_full(r, buf)
    }
}

/// Read until `buf` is full or the input ends; the number of bytes read.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn u32_at(b: &[u8], i: usize, be: bool) -> u32 {
    let a = [b[i], b[i + 1], b[i + 2], b[i + 3]];
    if be {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    }
}

/// The finest decimal pcapng resolution accepted: `if_tsresol` 12, 10^-12 s.
pub const MAX_TSRESOL_DECIMAL: u8 = 12;
/// The finest binary pcapng resolution accepted: `if_tsresol` 0x80|40,
/// 2^-40 s (about 0.9 ps).
pub const MAX_TSRESOL_BINARY: u8 = 40;
/// The largest `if_tsoffset` magnitude (seconds) that leaves any timestamp in
/// the 64-bit nanosecond range: `u64::MAX` ns is 18 446 744 073.7 s.
pub const MAX_TSOFFSET_S: i64 = (u64::MAX / 1_000_000_000) as i64;

/// Whether BloomTime reads timestamps of this pcapng `if_tsresol`: units
/// from 1 s down to a picosecond (10^-k s for k <= 12, 2^-k s for k <= 40).
/// Anything finer is no capture tool's and spans less than 7 months in 64
/// bits: a corrupt option, rejected rather than read as garbage.
pub fn tsresol_supported(tsresol: u8) -> bool {
    let p = tsresol & 0x7f;
    if tsresol & 0x80 != 0 {
        p <= MAX_TSRESOL_BINARY
    } else {
        p <= MAX_TSRESOL_DECIMAL
    }
}

/// An `if_tsresol` as a unit of time, e.g. `10^-6 s` or `2^-20 s`.
fn tsresol_name(tsresol: u8) -> String {
    let base = if tsresol & 0x80 != 0 { 2 } else { 10 };
    format!("{base}^-{} s", tsresol & 0x7f)
}

/// Nanoseconds of a pcapng timestamp, unbounded (a supported resolution).
fn pcapng_ns_wide(ts: u64, tsresol: u8, tsoffset_s: i64) -> i128 {
    let t = ts as u128;
    let p = (tsresol & 0x7f) as u32;
    let ns: u128 = if tsresol & 0x80 != 0 {
        // 2^-p seconds per unit (p <= 40: no overflow in 128 bits).
        (t * 1_000_000_000) >> p.min(127)
    } else if p <= 9 {
        t * 10u128.pow(9 - p)
    } else {
        t / 10u128.pow(p.min(38) - 9)
    };
    ns as i128 + tsoffset_s as i128 * 1_000_000_000
}

/// Nanoseconds since the Unix epoch of a pcapng timestamp with the
/// interface's resolution and offset; `None` if the resolution is not
/// supported ([`tsresol_supported`]) or the result is before the epoch or
/// beyond `u64::MAX` ns. Never saturates.
pub fn pcapng_ns(ts: u64, tsresol: u8, tsoffset_s: i64) -> Option<u64> {
    if !tsresol_supported(tsresol) {
        return None;
    }
    u64::try_from(pcapng_ns_wide(ts, tsresol, tsoffset_s)).ok()
}

impl TraceReader<BufReader<File>> {
    /// Open a capture file and read its file header.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, TraceError> {
        let path = path.as_ref();
        let f = File::open(path).map_err(|e| TraceError::new(path, TraceErrorKind::Io(e)))?;
        Self::from_reader(path, BufReader::with_capacity(1 << 20, f))
    }
}

impl<R: BufRead> TraceReader<R> {
    /// Read a capture from any byte stream; `path` names it in errors.
    pub fn from_reader(path: impl AsRef<Path>, mut r: R) -> Result<Self, TraceError> {
        let path = path.as_ref();
        let err = |k| TraceError::new(path, k);
        let mut head = [0u8; 24];
        let n = read_full(&mut r, &mut head[..4]).map_err(|e| err(TraceErrorKind::Io(e)))?;
        let magic = u32::from_le_bytes(head[..4].try_into().unwrap());
        let not_capture = |head: &[u8]| {
            err(TraceErrorKind::NotACapture {
                first: head[..n.min(4)].to_vec(),
            })
        };
        if n < 4 {
            return Err(not_capture(&head));
        }
        if magic == PCAPNG_SHB {
            let mut rd = TraceReader {
                path: path.to_path_buf(),
                r,
                offset: 4,
                kind: Kind::PcapNg {
                    be: false,
                    ifaces: Vec::new(),
                    last_ns: 0,
                },
                buf: Vec::new(),
                pending: None,
                packets: 0,
                failed: false,
            };
            // The section header is read as the first block.
            rd.pending = Some([head[0], head[1], head[2], head[3]]);
            return Ok(rd);
        }
        match magic {
            0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_3c4d | 0x4d3c_b2a1 => {}
            0xa1b2_cd34 | 0x34cd_b2a1 => {
                return Err(err(TraceErrorKind::UnsupportedFormat(
                    "the modified (Kuznetsov) pcap format",
                )))
            }
            _ => return Err(not_capture(&head)),
        }
        let m = read_full(&mut r, &mut head[4..]).map_err(|e| err(TraceErrorKind::Io(e)))?;
        if m < 20 {
            return Err(err(TraceErrorKind::Truncated {
                offset: 0,
                what: "pcap file header",
                need: 24,
                have: 4 + m as u64,
            }));
        }
        let (_, h) = parse_pcap_header(&head).map_err(|_| not_capture(&head))?;
        let Some(link) = LinkType::from_linktype(h.network.0) else {
            return Err(err(TraceErrorKind::UnsupportedLinkType {
                linktype: h.network.0,
            }));
        };
        Ok(TraceReader {
            path: path.to_path_buf(),
            r,
            offset: 24,
            kind: Kind::Pcap {
                be: h.is_bigendian(),
                nanos: h.is_nanosecond_precision(),
                snaplen: h.snaplen,
                link,
            },
            buf: Vec::with_capacity(2048),
            pending: None,
            packets: 0,
            failed: false,
        })
    }

    /// The file this reader reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&mut self, kind: TraceErrorKind) -> TraceError {
        self.failed = true;
        TraceError::new(&self.path, kind)
    }

    /// Read exactly `n` more bytes onto the end of `self.buf`.
    fn fill(&mut self, n: usize, start: u64, what: &'static str) -> Result<(), TraceError> {
        let mut buf = std::mem::take(&mut self.buf);
        let old = buf.len();
        let r = self.fill_into(&mut buf, old, n, start, what);
        self.buf = buf;
        r
    }

    /// Read exactly `n` more bytes onto the end of `v`, which holds the
    /// block's first `before` bytes (for the error's figures).
    fn fill_into(
        &mut self,
        v: &mut Vec<u8>,
        before: usize,
        n: usize,
        start: u64,
        what: &'static str,
    ) -> Result<(), TraceError> {
        if take_buffered(&mut self.r, n, |b| v.extend_from_slice(b)) {
            self.offset += n as u64;
            return Ok(());
        }
        let old = v.len();
        v.resize(old + n, 0);
        let got = match read_full(&mut self.r, &mut v[old..]) {
            Ok(g) => g,
            Err(e) => return Err(self.err(TraceErrorKind::Io(e))),
        };
        self.offset += got as u64;
        if got < n {
            let have = self.offset - start;
            return Err(self.err(TraceErrorKind::Truncated {
                offset: start,
                what,
                need: (before + n) as u64,
                have,
            }));
        }
        Ok(())
    }

    /// Read the next packet into `pkt` (reusing its buffer). `Ok(false)` at the
    /// end of the file. After an error the reader stays at the end.
    pub fn next_into(&mut self, pkt: &mut Packet) -> Result<bool, TraceError> {
        if self.failed {
            return Ok(false);
        }
        let more = match self.kind {
            Kind::Pcap {
                be,
                nanos,
                snaplen,
                link,
            } => self.next_pcap(pkt, be, nanos, snaplen, link),
            Kind::PcapNg { .. } => self.next_pcapng(pkt),
        }?;
        self.packets += more as u64;
        Ok(more)
    }

    fn next_pcap(
        &mut self,
        pkt: &mut Packet,
        be: bool,
        nanos: bool,
        snaplen: u32,
        link: LinkType,
    ) -> Result<bool, TraceError> {
        let start = self.offset;
        self.buf.clear();
        const HDR: usize = 16;
        let mut hdr = [0u8; HDR];
        let got = match read_full_buffered(&mut self.r, &mut hdr) {
            Ok(g) => g,
            Err(e) => return Err(self.err(TraceErrorKind::Io(e))),
        };
        self.offset += got as u64;
        if got == 0 {
            return Ok(false);
        }
        if got < 16 {
            return Err(self.err(TraceErrorKind::Truncated {
                offset: start,
                what: "record header",
                need: 16,
                have: got as u64,
            }));
        }
        let caplen = u32_at(&hdr, 8, be);
        if caplen > MAX_CAPLEN || (snaplen != 0 && caplen as u64 > 2 * snaplen as u64) {
            return Err(self.err(TraceErrorKind::AbsurdCaplen {
                offset: start,
                caplen: caplen as u64,
                snaplen,
            }));
        }
        // The record header's fields, read here: all that pcap-parser's
        // `parse_pcap_frame` would add is a check that the data is all
        // there, which `fill` makes.
        let ts_sec = u32_at(&hdr, 0, be);
        let ts_usec = u32_at(&hdr, 4, be);
        let origlen = u32_at(&hdr, 12, be);
        if link == LinkType::Ethernet {
            // Straight into the packet's buffer (`to_ethernet` of an
            // Ethernet frame is a copy): one copy of the bytes fewer.
            pkt.data.clear();
            let mut data = std::mem::take(&mut pkt.data);
            let r = self.fill_into(&mut data, HDR, caplen as usize, start, "record");
            pkt.data = data;
            r?;
        } else {
            self.buf.extend_from_slice(&hdr);
            self.fill(caplen as usize, start, "record")?;
        }
        // The sub-second part must be one: 4294967295 µs is not a
        // timestamp but a corrupt record.
        let limit = if nanos { 1_000_000_000 } else { 1_000_000 };
        if ts_usec >= limit {
            let k = TraceErrorKind::BadFraction {
                offset: start,
                record: self.packets + 1,
                value: ts_usec,
                nanos,
            };
            return Err(self.err(k));
        }
        let orig = if link == LinkType::Ethernet {
            origlen
        } else {
            link.to_ethernet(&self.buf[HDR..], origlen, &mut pkt.data)
        };
        let frac = if nanos {
            ts_usec as u64
        } else {
            ts_usec as u64 * 1000
        };
        let ns = ts_sec as u64 * 1_000_000_000 + frac;
        pkt.ns = ns;
        pkt.orig_len = orig;
        Ok(true)
    }

    fn next_pcapng(&mut self, pkt: &mut Packet) -> Result<bool, TraceError> {
        loop {
            // The first call finds the section header's magic already read.
            let mut h = [0u8; 8];
            let pre = match self.pending.take() {
                Some(m) => {
                    h[..4].copy_from_slice(&m);
                    4
                }
                None => 0,
            };
            let start = self.offset - pre as u64;
            let got = match read_full(&mut self.r, &mut h[pre..]) {
                Ok(g) => g,
                Err(e) => return Err(self.err(TraceErrorKind::Io(e))),
            };
            self.offset += got as u64;
            if got == 0 && pre == 0 {
                return Ok(false);
            }
            if pre + got < 8 {
                return Err(self.err(TraceErrorKind::Truncated {
                    offset: start,
                    what: "pcapng block header",
                    need: 8,
                    have: (pre + got) as u64,
                }));
            }
            self.buf.clear();
            self.buf.extend_from_slice(&h);
            let Kind::PcapNg { be, .. } = self.kind else {
                unreachable!()
            };
            let ty = u32_at(&h, 0, be);
            let mut be = be;
            if u32::from_le_bytes(h[..4].try_into().unwrap()) == PCAPNG_SHB {
                self.fill(4, start, "section header block")?;
                let bom = u32::from_le_bytes(self.buf[8..12].try_into().unwrap());
                be = if bom == PCAPNG_BOM {
                    false
                } else if bom == PCAPNG_BOM.swap_bytes() {
                    true
                } else {
                    return Err(self.err(TraceErrorKind::Malformed {
                        offset: start,
                        what: format!("section header block (byte-order magic {bom:#010x})"),
                    }));
                };
            }
            let len = u32_at(&h, 4, be);
            let is_shb = u32::from_le_bytes(h[..4].try_into().unwrap()) == PCAPNG_SHB;
            let ty = if is_shb { PCAPNG_SHB } else { ty };
            let min = match ty {
                PCAPNG_SHB => 28,
                PCAPNG_EPB => 32,
                PCAPNG_SPB => 16,
                PCAPNG_IDB => 20,
                _ => 12,
            };
            if len < min || !len.is_multiple_of(4) {
                return Err(self.err(TraceErrorKind::BadBlockLength { offset: start, len }));
            }
            // Bound the captured length before reading the data.
            let snaplen_of = |kind: &Kind, i: u32| match kind {
                Kind::PcapNg { ifaces, .. } => {
                    ifaces.get(i as usize).map(|f| f.snaplen).unwrap_or(0)
                }
                _ => 0,
            };
            let absurd = |caplen: u64, snaplen: u32| {
                caplen > MAX_CAPLEN as u64 || (snaplen != 0 && caplen > 2 * snaplen as u64)
            };
            match ty {
                PCAPNG_EPB => {
                    let have = self.buf.len();
                    self.fill(28 - have, start, "enhanced packet block")?;
                    let caplen = u32_at(&self.buf, 20, be) as u64;
                    let snaplen = snaplen_of(&self.kind, u32_at(&self.buf, 8, be));
                    if absurd(caplen, snaplen) {
                        return Err(self.err(TraceErrorKind::AbsurdCaplen {
                            offset: start,
                            caplen,
                            snaplen,
                        }));
                    }
                    if len > MAX_CAPLEN + (1 << 16) {
                        return Err(self.err(TraceErrorKind::BadBlockLength { offset: start, len }));
                    }
                }
                PCAPNG_SPB => {
                    let caplen = len as u64 - 16;
                    let snaplen = snaplen_of(&self.kind, 0);
                    // Padding makes an SPB up to 3 bytes longer than its frame.
                    if caplen > MAX_CAPLEN as u64 + 3 {
                        return Err(self.err(TraceErrorKind::AbsurdCaplen {
                            offset: start,
                            caplen,
                            snaplen,
                        }));
                    }
                }
                _ if len > MAX_BLOCK_LEN => {
                    return Err(self.err(TraceErrorKind::BadBlockLength { offset: start, len }));
                }
                _ => {}
            }
            let have = self.buf.len();
            self.fill(len as usize - have, start, "pcapng block")?;
            let parsed = if be {
                parse_block_be(&self.buf)
            } else {
                parse_block_le(&self.buf)
            };
            let block = match parsed {
                Ok((_, b)) => b,
                Err(e) => {
                    let what = format!("pcapng block ({})", short_pcap_error(&e));
                    return Err(self.err(TraceErrorKind::Malformed {
                        offset: start,
                        what,
                    }));
                }
            };
            let record = self.packets + 1;
            let Kind::PcapNg {
                be: kbe,
                ifaces,
                last_ns,
            } = &mut self.kind
            else {
                unreachable!()
            };
            let bad = |what: String| TraceErrorKind::Malformed {
                offset: start,
                what,
            };
            match block {
                Block::SectionHeader(_) => {
                    *kbe = be;
                    ifaces.clear();
                }
                Block::InterfaceDescription(idb) => {
                    // pcap-parser reads if_tsoffset little-endian whatever
                    // the section's byte order.
                    let tsoffset = if be {
                        idb.if_tsoffset.swap_bytes()
                    } else {
                        idb.if_tsoffset
                    };
                    let tsresol = idb.if_tsresol;
                    if !tsresol_supported(tsresol) {
                        let k = TraceErrorKind::BadTsResol {
                            offset: start,
                            tsresol,
                        };
                        return Err(self.err(k));
                    }
                    if !(-MAX_TSOFFSET_S..=MAX_TSOFFSET_S).contains(&tsoffset) {
                        let k = TraceErrorKind::BadTsOffset {
                            offset: start,
                            tsoffset,
                        };
                        return Err(self.err(k));
                    }
                    ifaces.push(Iface {
                        link: LinkType::from_linktype(idb.linktype.0).ok_or(idb.linktype.0),
                        snaplen: idb.snaplen,
                        tsresol,
                        tsoffset,
                    })
                }
                Block::EnhancedPacket(epb) => {
                    let Some(iface) = ifaces.get(epb.if_id as usize).copied() else {
                        let k = bad(format!(
                            "enhanced packet block (interface {} was never described)",
                            epb.if_id
                        ));
                        return Err(self.err(k));
                    };
                    let link = match iface.link {
                        Ok(l) => l,
                        Err(linktype) => {
                            let k = TraceErrorKind::UnsupportedLinkType { linktype };
                            return Err(self.err(k));
                        }
                    };
                    let caplen = epb.caplen as usize;
                    if caplen > epb.data.len() {
                        let k = bad("enhanced packet block (data shorter than caplen)".into());
                        return Err(self.err(k));
                    }
                    let ts = ((epb.ts_high as u64) << 32) | epb.ts_low as u64;
                    let Some(ns) = pcapng_ns(ts, iface.tsresol, iface.tsoffset) else {
                        let k = TraceErrorKind::TimestampOutOfRange {
                            offset: start,
                            record,
                            ts,
                            tsresol: iface.tsresol,
                            tsoffset: iface.tsoffset,
                        };
                        return Err(self.err(k));
                    };
                    *last_ns = ns;
                    pkt.ns = ns;
                    pkt.orig_len =
                        link.to_ethernet(&epb.data[..caplen], epb.origlen, &mut pkt.data);
                    return Ok(true);
                }
                Block::SimplePacket(spb) => {
                    // A simple packet belongs to interface 0 and has no
                    // timestamp: it takes the previous packet's.
                    let Some(iface) = ifaces.first().copied() else {
                        let k = bad("simple packet block (no interface described)".into());
                        return Err(self.err(k));
                    };
                    let link = match iface.link {
                        Ok(l) => l,
                        Err(linktype) => {
                            let k = TraceErrorKind::UnsupportedLinkType { linktype };
                            return Err(self.err(k));
                        }
                    };
                    let mut caplen = (spb.origlen as usize).min(spb.data.len());
                    if iface.snaplen != 0 {
                        caplen = caplen.min(iface.snaplen as usize);
                    }
                    pkt.ns = *last_ns;
                    pkt.orig_len =
                        link.to_ethernet(&spb.data[..caplen], spb.origlen, &mut pkt.data);
                    return Ok(true);
                }
                _ => {}
            }
        }
    }

    /// Read every remaining packet.
    pub fn read_all(mut self) -> Result<Vec<Packet>, TraceError> {
        let mut v = Vec::new();
        let mut p = Packet::default();
        while self.next_into(&mut p)? {
            v.push(p.clone());
        }
        Ok(v)
    }
}

fn short_pcap_error<I>(e: &pcap_parser::nom::Err<PcapError<I>>) -> String {
    match e {
        pcap_parser::nom::Err::Incomplete(_) => "incomplete".into(),
        pcap_parser::nom::Err::Error(e) | pcap_parser::nom::Err::Failure(e) => match e {
            PcapError::NomError(_, k) => format!("{k:?}"),
            PcapError::OwnedNomError(_, k) => format!("{k:?}"),
            other => other_name(other).to_string(),
        },
    }
}

fn other_name<I>(e: &PcapError<I>) -> &'static str {
    match e {
        PcapError::HeaderNotRecognized => "header not recognized",
        PcapError::UnexpectedEof => "unexpected end",
        PcapError::BufferTooSmall => "buffer too small",
        _ => "decode error",
    }
}

impl<R: BufRead> Iterator for TraceReader<R> {
    type Item = Result<Packet, TraceError>;
    fn next(&mut self) -> Option<Self::Item> {
        let mut p = Packet::default();
        match self.next_into(&mut p) {
            Ok(true) => Some(Ok(p)),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// Read a whole capture file.
pub fn read_file(path: impl AsRef<Path>) -> Result<Vec<Packet>, TraceError> {
    TraceReader::open(path)?.read_all()
}

/// Several capture files read as one stream, merged by timestamp (stable:
/// equal timestamps keep the order of the files as given, and every file's
/// own order is kept even where its timestamps go backwards).
pub struct MergedTraces<R: BufRead = BufReader<File>> {
    readers: Vec<TraceReader<R>>,
    heads: Vec<Packet>,
    heap: BinaryHeap<Reverse<(u64, usize)>>,
    current: Packet,
    /// An error met reading ahead, returned by the next call (after the
    /// packet read before it).
    pending: Option<TraceError>,
}

impl MergedTraces<BufReader<File>> {
    /// Open every file (all are checked before any packet is read).
    pub fn open<P: AsRef<Path>>(paths: &[P]) -> Result<Self, TraceError> {
        let readers = paths
            .iter()
            .map(TraceReader::open)
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(readers)
    }
}

impl<R: BufRead> MergedTraces<R> {
    pub fn new(mut readers: Vec<TraceReader<R>>) -> Result<Self, TraceError> {
        let mut heads = vec![Packet::default(); readers.len()];
        let mut heap = BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            if r.next_into(&mut heads[i])? {
                heap.push(Reverse((heads[i].ns, i)));
            }
        }
        Ok(MergedTraces {
            readers,
            heads,
            heap,
            current: Packet::default(),
            pending: None,
        })
    }

    /// Timestamp of the next packet, if any.
    pub fn peek_ns(&self) -> Option<u64> {
        self.heap.peek().map(|r| r.0 .0)
    }

    /// The next packet in timestamp order and the index of its file.
    ///
    /// A file's error is returned after every packet read before it, by
    /// the call after the last of them; that file then ends, the others go
    /// on.
    pub fn next_packet(&mut self) -> Result<Option<(&Packet, usize)>, TraceError> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        let Some(Reverse((_, i))) = self.heap.pop() else {
            return Ok(None);
        };
        std::mem::swap(&mut self.current, &mut self.heads[i]);
        match self.readers[i].next_into(&mut self.heads[i]) {
            Ok(true) => self.heap.push(Reverse((self.heads[i].ns, i))),
            Ok(false) => {}
            Err(e) => self.pending = Some(e),
        }
        Ok(Some((&self.current, i)))
    }
}
