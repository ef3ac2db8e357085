//! IPFIX export (RFC 7011) of flow rows over UDP or TCP: `--ipfix
//! [udp://|tcp://]HOST:PORT` (plain `HOST:PORT` is UDP).
//!
//! Two templates, one per address family, each with the standard
//! information elements of the 5-tuple and the packet count and BloomTime's
//! timing figures as enterprise-specific elements under PEN 32473 (the
//! number RFC 5612 reserves for documentation); the table is
//! [`TIMING_ELEMENTS`] and docs/IPFIX.md. A flow's record carries exactly
//! the figures of its CSV row: times in microseconds (float64), NaN where
//! the CSV cell is empty (no samples, or a figure the preset does not keep).
//!
//! Records of flows whose first and last packet times the host knows
//! (`analyze` and `live`, exact or the model's estimate; not the board)
//! use two more templates with flowStart/flowEnd in milliseconds and
//! nanoseconds ([`TIME_ELEMENTS`]); docs/IPFIX.md says what the times
//! mean on each path.
//!
//! The sequence number of a message is the number of data records sent
//! before it in this stream (RFC 7011 §3.1, modulo 2^32).
//!
//! Over UDP messages are at most [`MAX_MESSAGE`] bytes (one datagram
//! through any usual path MTU); a collector may miss or restart, so the
//! templates go in the first message and again every
//! [`TEMPLATE_EVERY_MESSAGES`] messages or [`TEMPLATE_EVERY`], whichever
//! comes first (RFC 7011 §8.4). Over TCP (RFC 7011 §10.4) the stream is
//! the session: the templates lead its first message and are not sent
//! again (§8.1), and a message may be as long as its 16-bit length field
//! allows ([`MAX_MESSAGE_TCP`]).
//!
//! The export never stops or fails a run: a collector that cannot be
//! reached (no route, a closed port, a name that does not resolve, a TCP
//! connection that is refused, times out or drops) is a warning on
//! standard error, and at the end one line with the count of the messages
//! and flow records not sent. Every wait is bounded
//! ([`TCP_CONNECT_TIMEOUT`], [`TCP_WRITE_TIMEOUT`], [`UDP_WRITE_TIMEOUT`]).
//! A TCP connection that could not be made or was lost is tried again at
//! a later export ([`TCP_RETRY_FIRST`], doubling up to [`TCP_RETRY_MAX`]):
//! a new connection is a new session, templates first and the sequence
//! from 0, so a long `live` run outlasts a collector's restart.

use crate::analyze::FlowTimes;
use bloomtime_model::key::FlowKey;
use bloomtime_model::stats::{FlowRow, Moments};
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The private enterprise number of the timing elements: 32473, reserved
/// for documentation and examples (RFC 5612).
pub const PEN: u32 = 32473;
/// Template of IPv4 flows.
pub const TEMPLATE_V4: u16 = 256;
/// Template of IPv6 flows.
pub const TEMPLATE_V6: u16 = 257;
/// Template of IPv4 flows with their first and last packet times
/// ([`TIME_ELEMENTS`]).
pub const TEMPLATE_V4_TIMES: u16 = 258;
/// Template of IPv6 flows with their first and last packet times.
pub const TEMPLATE_V6_TIMES: u16 = 259;
/// Every template: (id, IPv6, with times), in the order of the template
/// set, which announces them all.
pub const TEMPLATES: [(u16, bool, bool); 4] = [
    (TEMPLATE_V4, false, false),
    (TEMPLATE_V6, true, false),
    (TEMPLATE_V4_TIMES, false, true),
    (TEMPLATE_V6_TIMES, true, true),
];
/// The largest message sent (bytes, IPFIX header included): one datagram
/// below a 1500-byte MTU with IPv6 and UDP headers and some tunnelling.
pub const MAX_MESSAGE: usize = 1400;
/// The largest message over TCP: what the header's 16-bit length field
/// can say (RFC 7011 §3.1).
pub const MAX_MESSAGE_TCP: usize = u16::MAX as usize;
/// Templates are sent again after this many messages...
pub const TEMPLATE_EVERY_MESSAGES: u32 = 64;
/// ... or this much time, whichever comes first.
pub const TEMPLATE_EVERY: Duration = Duration::from_secs(10);
/// After this many messages the exporter pauses 1 ms, so that a burst of
/// thousands of messages does not overrun a collector's socket buffer.
pub const PACE_MESSAGES: u64 = 32;
/// A UDP send never waits longer than this.
pub const UDP_WRITE_TIMEOUT: Duration = Duration::from_millis(200);
/// A TCP collector that does not accept the connection within this time
/// is unreachable.
pub const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// A message over TCP that the collector does not take within this time
/// (a collector that stopped reading) drops the connection.
pub const TCP_WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// At the end, after closing its half of a TCP connection, the exporter
/// waits this long for the collector to close its half: a reset instead
/// says that the collector did not take the last messages.
pub const TCP_CLOSE_WAIT: Duration = Duration::from_millis(500);
/// After a TCP connection fails or cannot be made, the first export this
/// long after tries a new one; each failed try doubles the wait, up to
/// [`TCP_RETRY_MAX`] (a collector that stays away costs a connection try
/// a minute, and a dropping firewall [`TCP_CONNECT_TIMEOUT`] each).
pub const TCP_RETRY_FIRST: Duration = Duration::from_secs(1);
pub const TCP_RETRY_MAX: Duration = Duration::from_secs(60);

const VERSION: u16 = 10;
const HEADER: usize = 16;
const SET_HEADER: usize = 4;
const TEMPLATE_SET_ID: u16 = 2;

/// Standard information elements (IANA): (id, length) of the IPv4 and IPv6
/// templates, in record order.
const STANDARD_V4: [(u16, u16); 6] = [
    (8, 4),  // sourceIPv4Address
    (7, 2),  // sourceTransportPort
    (12, 4), // destinationIPv4Address
    (11, 2), // destinationTransportPort
    (4, 1),  // protocolIdentifier
    (2, 8),  // packetDeltaCount
];
const STANDARD_V6: [(u16, u16); 6] = [
    (27, 16), // sourceIPv6Address
    (7, 2),
    (28, 16), // destinationIPv6Address
    (11, 2),
    (4, 1),
    (2, 8),
];

/// The timing elements under [`PEN`], in record order: (element id, name,
/// abstract data type, meaning). Every one is 8 bytes.
pub const TIMING_ELEMENTS: [(u16, &str, &str, &str); 16] = [
    (
        1,
        "iatSampleCount",
        "unsigned64",
        "inter-arrival time samples",
    ),
    (2, "iatMeanMicroseconds", "float64", "IAT mean, µs"),
    (
        3,
        "iatStdDevMicroseconds",
        "float64",
        "IAT standard deviation, µs",
    ),
    (4, "iatMinMicroseconds", "float64", "smallest IAT, µs"),
    (5, "iatMaxMicroseconds", "float64", "largest IAT, µs"),
    (6, "iatP50Microseconds", "float64", "IAT median, µs"),
    (
        7,
        "iatP90Microseconds",
        "float64",
        "IAT 90th percentile, µs",
    ),
    (
        8,
        "iatP99Microseconds",
        "float64",
        "IAT 99th percentile, µs",
    ),
    (9, "rttSampleCount", "unsigned64", "round-trip time samples"),
    (10, "rttMeanMicroseconds", "float64", "RTT mean, µs"),
    (
        11,
        "rttStdDevMicroseconds",
        "float64",
        "RTT standard deviation, µs",
    ),
    (12, "rttMinMicroseconds", "float64", "smallest RTT, µs"),
    (13, "rttMaxMicroseconds", "float64", "largest RTT, µs"),
    (14, "rttP50Microseconds", "float64", "RTT median, µs"),
    (
        15,
        "rttP90Microseconds",
        "float64",
        "RTT 90th percentile, µs",
    ),
    (
        16,
        "rttP99Microseconds",
        "float64",
        "RTT 99th percentile, µs",
    ),
];

/// How a time element is written (RFC 7011 §6.1.9, §6.1.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    /// dateTimeMilliseconds: milliseconds since the Unix epoch (the
    /// nanoseconds truncated).
    Milliseconds,
    /// dateTimeNanoseconds: the NTP format, seconds since 1900 (32 bits)
    /// and the fraction of a second in units of 2^-32 s (rounded).
    Nanoseconds,
}

/// The time elements of the templates with times (IANA), after the
/// standard elements, in record order: (element id, name, the flow's end
/// rather than its start, encoding). Every one is 8 bytes. Both the
/// milliseconds (what nfdump 1.7 reads) and the nanoseconds (the
/// capture's precision).
pub const TIME_ELEMENTS: [(u16, &str, bool, Stamp); 4] = [
    (152, "flowStartMilliseconds", false, Stamp::Milliseconds),
    (153, "flowEndMilliseconds", true, Stamp::Milliseconds),
    (156, "flowStartNanoseconds", false, Stamp::Nanoseconds),
    (157, "flowEndNanoseconds", true, Stamp::Nanoseconds),
];

/// Seconds from the NTP epoch (1900-01-01) to the Unix epoch.
pub const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

const NS_PER_S: u64 = 1_000_000_000;
const NS_PER_MS: u64 = 1_000_000;

/// A time in nanoseconds since the Unix epoch as `stamp` writes it.
pub fn stamp(ns: u64, stamp: Stamp) -> u64 {
    match stamp {
        Stamp::Milliseconds => ns / NS_PER_MS,
        Stamp::Nanoseconds => {
            // The seconds wrap in 2036 (NTP era 1), as RFC 7011 §6.1.10
            // has them.
            let secs = (ns / NS_PER_S + NTP_UNIX_OFFSET) & u32::MAX as u64;
            let frac = (((ns % NS_PER_S) << 32) + NS_PER_S / 2) / NS_PER_S;
            (secs << 32) | frac
        }
    }
}

/// The template of a record of this family, with or without times.
pub const fn template_id(v6: bool, timed: bool) -> u16 {
    match (v6, timed) {
        (false, false) => TEMPLATE_V4,
        (true, false) => TEMPLATE_V6,
        (false, true) => TEMPLATE_V4_TIMES,
        (true, true) => TEMPLATE_V6_TIMES,
    }
}

fn standard(v6: bool) -> &'static [(u16, u16); 6] {
    if v6 {
        &STANDARD_V6
    } else {
        &STANDARD_V4
    }
}

/// Bytes of one data record of this family, with or without times.
pub fn record_len(v6: bool, timed: bool) -> usize {
    let times = if timed { TIME_ELEMENTS.len() } else { 0 };
    standard(v6).iter().map(|f| f.1 as usize).sum::<usize>() + 8 * (times + TIMING_ELEMENTS.len())
}

fn template_record(out: &mut Vec<u8>, id: u16, v6: bool, timed: bool) {
    let fields = standard(v6);
    let times: &[_] = if timed { &TIME_ELEMENTS } else { &[] };
    let count = fields.len() + times.len() + TIMING_ELEMENTS.len();
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&(count as u16).to_be_bytes());
    for (ie, len) in fields {
        out.extend_from_slice(&ie.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
    }
    for (ie, ..) in times {
        out.extend_from_slice(&ie.to_be_bytes());
        out.extend_from_slice(&8u16.to_be_bytes());
    }
    for (ie, ..) in TIMING_ELEMENTS {
        out.extend_from_slice(&(0x8000 | ie).to_be_bytes());
        out.extend_from_slice(&8u16.to_be_bytes());
        out.extend_from_slice(&PEN.to_be_bytes());
    }
}

/// The template set: every template.
fn template_set(out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&TEMPLATE_SET_ID.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    for (id, v6, timed) in TEMPLATES {
        template_record(out, id, v6, timed);
    }
    let len = (out.len() - start) as u16;
    out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
}

fn moments(out: &mut Vec<u8>, m: &Moments) {
    out.extend_from_slice(&m.n.to_be_bytes());
    // As the CSV: no figure without samples.
    let f = |v: f64| if m.n == 0 { f64::NAN } else { v };
    for v in [m.mean_us, m.std_us, m.min_us, m.max_us] {
        out.extend_from_slice(&f(v).to_be_bytes());
    }
    for v in m.pct_us {
        out.extend_from_slice(&f(v).to_be_bytes());
    }
}

fn data_record(out: &mut Vec<u8>, r: &FlowRow, times: Option<FlowTimes>) {
    let k: &FlowKey = &r.key;
    let addr = |a: &[u8; 16]| -> Vec<u8> {
        if k.v6 {
            a.to_vec()
        } else {
            a[12..].to_vec()
        }
    };
    out.extend_from_slice(&addr(&k.src));
    out.extend_from_slice(&k.sport.to_be_bytes());
    out.extend_from_slice(&addr(&k.dst));
    out.extend_from_slice(&k.dport.to_be_bytes());
    out.push(k.proto);
    out.extend_from_slice(&r.packets.to_be_bytes());
    if let Some(t) = times {
        for (_, _, end, how) in TIME_ELEMENTS {
            let ns = if end { t.last_ns } else { t.first_ns };
            out.extend_from_slice(&stamp(ns, how).to_be_bytes());
        }
    }
    moments(out, &r.iat);
    moments(out, &r.rtt);
}

/// One IPFIX message and the data records in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub bytes: Vec<u8>,
    pub records: u32,
}

/// Builds IPFIX messages: headers, sequence numbers, template refresh.
#[derive(Clone, Debug)]
pub struct Encoder {
    domain: u32,
    /// Data records sent so far (the next message's sequence number).
    seq: u32,
    since_template: u32,
    last_template: Option<Instant>,
    every_messages: u32,
    every: Duration,
    /// Templates again after the first message (UDP), or never (TCP).
    refresh: bool,
    /// The largest message, bytes.
    max: usize,
}

impl Encoder {
    /// An encoder for one observation domain.
    pub fn new(domain: u32) -> Encoder {
        Encoder {
            domain,
            seq: 0,
            since_template: 0,
            last_template: None,
            every_messages: TEMPLATE_EVERY_MESSAGES,
            every: TEMPLATE_EVERY,
            refresh: true,
            max: MAX_MESSAGE,
        }
    }

    /// An encoder for one observation domain of a stream over `t`: its
    /// largest message and whether templates are sent again.
    pub fn for_transport(domain: u32, t: Transport) -> Encoder {
        Encoder {
            refresh: t == Transport::Udp,
            max: t.max_message(),
            ..Encoder::new(domain)
        }
    }

    /// Another template refresh (tests).
    pub fn with_refresh(mut self, every_messages: u32, every: Duration) -> Encoder {
        self.every_messages = every_messages.max(1);
        self.every = every;
        self
    }

    /// The sequence number of the next message: data records so far.
    pub fn sequence(&self) -> u32 {
        self.seq
    }

    /// A new session (a new TCP connection): templates lead the next
    /// message again, and the sequence starts from 0 (RFC 7011 §3.1: it
    /// counts the data records of the current session).
    pub fn restart(&mut self) {
        self.seq = 0;
        self.since_template = 0;
        self.last_template = None;
    }

    fn template_due(&self, now: Instant) -> bool {
        match self.last_template {
            None => true,
            Some(_) if !self.refresh => false,
            Some(t) => self.since_template >= self.every_messages || now - t >= self.every,
        }
    }

    fn begin(&mut self, out: &mut Vec<u8>, now: Instant) {
        out.clear();
        out.resize(HEADER, 0);
        if self.template_due(now) {
            template_set(out);
            self.last_template = Some(now);
            self.since_template = 0;
        }
        self.since_template += 1;
    }

    fn end(&mut self, out: &mut [u8], export_time: u32, records: u32) {
        let len = out.len() as u16;
        out[0..2].copy_from_slice(&VERSION.to_be_bytes());
        out[2..4].copy_from_slice(&len.to_be_bytes());
        out[4..8].copy_from_slice(&export_time.to_be_bytes());
        out[8..12].copy_from_slice(&self.seq.to_be_bytes());
        out[12..16].copy_from_slice(&self.domain.to_be_bytes());
        self.seq = self.seq.wrapping_add(records);
    }

    /// The messages that carry `rows` (IPv4 and IPv6 in any order), each at
    /// most [`MAX_MESSAGE`] bytes ([`MAX_MESSAGE_TCP`] for TCP); the
    /// templates lead the first message and any message where a refresh is
    /// due. `times[i]`, where there is one, is the first and last packet
    /// time of `rows[i]` (a template with times); `times` may be empty. No
    /// rows: a message of the templates alone if they are due, else none.
    /// `export_time` is in seconds since the Unix epoch.
    pub fn encode(
        &mut self,
        rows: &[FlowRow],
        times: &[Option<FlowTimes>],
        export_time: u32,
        now: Instant,
    ) -> Vec<Message> {
        let mut msgs = Vec::new();
        let mut msg = Vec::with_capacity(self.max);
        if rows.is_empty() {
            if self.template_due(now) {
                self.begin(&mut msg, now);
                self.end(&mut msg, export_time, 0);
                msgs.push(Message {
                    bytes: msg,
                    records: 0,
                });
            }
            return msgs;
        }
        let mut open = false;
        let mut records = 0u32;
        // The open data set: its template and where its header is.
        let mut set: Option<(u16, usize)> = None;
        let close_set = |msg: &mut Vec<u8>, set: &mut Option<(u16, usize)>| {
            if let Some((_, at)) = set.take() {
                let len = (msg.len() - at) as u16;
                msg[at + 2..at + 4].copy_from_slice(&len.to_be_bytes());
            }
        };
        for (i, r) in rows.iter().enumerate() {
            let t = times.get(i).copied().flatten();
            let tid = template_id(r.key.v6, t.is_some());
            let need = record_len(r.key.v6, t.is_some())
                + match set {
                    Some((t, _)) if t == tid => 0,
                    _ => SET_HEADER,
                };
            if open && msg.len() + need > self.max {
                close_set(&mut msg, &mut set);
                self.end(&mut msg, export_time, records);
                let bytes = std::mem::replace(&mut msg, Vec::with_capacity(self.max));
                msgs.push(Message { bytes, records });
                open = false;
            }
            if !open {
                self.begin(&mut msg, now);
                open = true;
                records = 0;
            }
            if set.map(|s| s.0) != Some(tid) {
                close_set(&mut msg, &mut set);
                set = Some((tid, msg.len()));
                msg.extend_from_slice(&tid.to_be_bytes());
                msg.extend_from_slice(&[0, 0]);
            }
            data_record(&mut msg, r, t);
            records += 1;
        }
        close_set(&mut msg, &mut set);
        self.end(&mut msg, export_time, records);
        msgs.push(Message {
            bytes: msg,
            records,
        });
        msgs
    }
}

/// How the messages travel to the collector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    /// Every transport and the scheme that names it in `--ipfix`.
    pub const ALL: [(Transport, &'static str); 2] =
        [(Transport::Udp, "udp"), (Transport::Tcp, "tcp")];

    /// The scheme that names it in `--ipfix` (`udp`, `tcp`).
    pub fn scheme(self) -> &'static str {
        Transport::ALL
            .iter()
            .find(|(t, _)| *t == self)
            .map(|(_, s)| *s)
            .unwrap_or("udp")
    }

    /// The largest message sent over it.
    pub fn max_message(self) -> usize {
        match self {
            Transport::Udp => MAX_MESSAGE,
            Transport::Tcp => MAX_MESSAGE_TCP,
        }
    }
}

/// Where `--ipfix` sends: a transport and `HOST:PORT` (resolved when the
/// export starts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub transport: Transport,
    pub addr: String,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.transport.scheme(), self.addr)
    }
}

/// `--ipfix`'s value: `HOST:PORT` (UDP), `udp://HOST:PORT` or
/// `tcp://HOST:PORT` (a flag check; the name is resolved when the export
/// starts).
pub fn parse_target(s: &str) -> Result<Target, String> {
    let schemes: Vec<String> = Transport::ALL
        .iter()
        .map(|(_, n)| format!("{n}://"))
        .collect();
    let bad = || {
        format!(
            "'{s}' is not [{}]HOST:PORT (e.g. 127.0.0.1:4739, [::1]:4739, tcp://collector:4739)",
            schemes.join("|")
        )
    };
    let (transport, rest) = match s.split_once("://") {
        None => (Transport::Udp, s),
        Some((scheme, rest)) => {
            let t = Transport::ALL
                .iter()
                .find(|(_, n)| n.eq_ignore_ascii_case(scheme))
                .map(|(t, _)| *t)
                .ok_or_else(|| {
                    format!(
                        "'{s}': the transport '{scheme}' is none of {}",
                        schemes.join(", ")
                    )
                })?;
            (t, rest)
        }
    };
    let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.is_empty() || port == 0 {
        return Err(bad());
    }
    Ok(Target {
        transport,
        addr: rest.to_string(),
    })
}

/// What an export sent, and the first error if any message failed.
#[derive(Debug, Default)]
pub struct ExportSummary {
    pub messages: u64,
    pub records: u64,
    /// Messages not sent, and the data records in them.
    pub failed: u64,
    pub records_failed: u64,
    pub first_error: Option<String>,
    /// TCP connections made again after one failed or could not be made.
    pub reconnects: u64,
}

enum Conn {
    Udp(UdpSocket),
    Tcp(TcpStream),
}

/// Flow rows to an IPFIX collector over UDP or TCP.
pub struct Exporter {
    target: Target,
    tool: String,
    /// None: never made, or a TCP connection that failed.
    conn: Option<Conn>,
    enc: Encoder,
    summary: ExportSummary,
    /// TCP without a connection: when to try again, and the wait after.
    retry: Option<(Instant, Duration)>,
}

/// What a TCP exporter's warnings add about the tries to come.
fn retry_note() -> String {
    format!(
        " until a new connection (tried at the exports from {} s on, the wait doubling after each failed try up to {} s)",
        TCP_RETRY_FIRST.as_secs_f64(),
        TCP_RETRY_MAX.as_secs_f64()
    )
}

fn resolve(addr: &str) -> Result<SocketAddr, String> {
    addr.to_socket_addrs()
        .map_err(|e| format!("cannot resolve {addr}: {e}"))?
        .next()
        .ok_or_else(|| format!("{addr} resolves to no address"))
}

/// All of `buf` to `s` within `limit` (a socket's write timeout bounds
/// each write, and a slow reader lets each one write a little).
fn write_within(s: &mut TcpStream, mut buf: &[u8], limit: Duration) -> io::Result<()> {
    let end = Instant::now() + limit;
    while !buf.is_empty() {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        s.set_write_timeout(Some(left))?;
        match s.write(buf) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl Exporter {
    /// An exporter to `target` for `tool` (the prefix of its warnings). A
    /// name that does not resolve, a socket that cannot be made or a TCP
    /// connection that is refused or not accepted within
    /// [`TCP_CONNECT_TIMEOUT`] is not an error: a warning now, every
    /// message then counts as failed, and [`Exporter::finish`] warns with
    /// the count.
    pub fn new(target: &Target, tool: &str) -> Exporter {
        let mut summary = ExportSummary::default();
        let tcp = target.transport == Transport::Tcp;
        let conn = match Self::connect(target) {
            Ok(c) => Some(c),
            Err(e) => {
                let until = if tcp { retry_note() } else { String::new() };
                eprintln!(
                    "{tool}: warning: IPFIX export to {target}: {e}: no flow record will reach the collector{until}"
                );
                summary.first_error = Some(e);
                None
            }
        };
        let retry = (tcp && conn.is_none()).then(Self::first_retry);
        Exporter {
            target: target.clone(),
            tool: tool.to_string(),
            conn,
            enc: Encoder::for_transport(1, target.transport),
            summary,
            retry,
        }
    }

    fn first_retry() -> (Instant, Duration) {
        (Instant::now() + TCP_RETRY_FIRST, TCP_RETRY_FIRST)
    }

    /// TCP without a connection, and a try is due: connect again (a new
    /// session), or wait twice as long for the next try.
    fn retry_if_due(&mut self) {
        let Some((at, wait)) = self.retry else { return };
        if Instant::now() < at {
            return;
        }
        match Self::connect(&self.target) {
            Ok(c) => {
                self.conn = Some(c);
                self.retry = None;
                self.enc.restart();
                self.summary.reconnects += 1;
                let s = &self.summary;
                eprintln!(
                    "{}: IPFIX export to {}: connected again (a new session: templates first, sequence from 0); {} messages with {} flow records were not sent before",
                    self.tool, self.target, s.failed, s.records_failed
                );
            }
            Err(_) => {
                let wait = (2 * wait).min(TCP_RETRY_MAX);
                self.retry = Some((Instant::now() + wait, wait));
            }
        }
    }

    fn connect(target: &Target) -> Result<Conn, String> {
        let addr = resolve(&target.addr)?;
        match target.transport {
            Transport::Udp => {
                let local: SocketAddr = if addr.is_ipv4() {
                    (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
                } else {
                    (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
                };
                let s = UdpSocket::bind(local).map_err(|e| format!("UDP socket: {e}"))?;
                s.connect(addr).map_err(|e| format!("{addr}: {e}"))?;
                // A send never waits long: a stalled collector is no stalled run.
                s.set_write_timeout(Some(UDP_WRITE_TIMEOUT))
                    .map_err(|e| format!("UDP socket: {e}"))?;
                Ok(Conn::Udp(s))
            }
            Transport::Tcp => {
                let s = TcpStream::connect_timeout(&addr, TCP_CONNECT_TIMEOUT).map_err(|e| {
                    if e.kind() == io::ErrorKind::TimedOut {
                        format!(
                            "TCP connection to {addr} not accepted within {} s",
                            TCP_CONNECT_TIMEOUT.as_secs_f64()
                        )
                    } else {
                        format!("TCP connection to {addr}: {e}")
                    }
                })?;
                s.set_nodelay(true)
                    .map_err(|e| format!("TCP socket: {e}"))?;
                Ok(Conn::Tcp(s))
            }
        }
    }

    fn send(&mut self, msg: &[u8], records: u64) {
        self.summary.messages += 1;
        let r = match &mut self.conn {
            Some(Conn::Udp(s)) => s.send(msg).map(|_| ()),
            Some(Conn::Tcp(s)) => write_within(s, msg, TCP_WRITE_TIMEOUT),
            None => Err(io::Error::other("no connection")),
        };
        match r {
            Ok(()) => self.summary.records += records,
            Err(e) => {
                self.summary.failed += 1;
                self.summary.records_failed += records;
                if matches!(self.conn, Some(Conn::Tcp(_))) {
                    // A stream that failed mid-message cannot go on: what
                    // follows counts as not sent until a new connection.
                    self.conn = None;
                    self.retry = Some(Self::first_retry());
                    let e = if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::TimedOut
                    {
                        format!(
                            "the collector did not take a message within {} s",
                            TCP_WRITE_TIMEOUT.as_secs_f64()
                        )
                    } else {
                        e.to_string()
                    };
                    eprintln!(
                        "{}: warning: IPFIX export to {}: the connection failed after {} messages ({e}): the flow records from here on are not sent{}",
                        self.tool,
                        self.target,
                        self.summary.messages - 1,
                        retry_note()
                    );
                    self.summary.first_error.get_or_insert(e);
                } else if self.summary.first_error.is_none() {
                    self.summary.first_error = Some(e.to_string());
                }
            }
        }
        if matches!(self.conn, Some(Conn::Udp(_)))
            && self.summary.messages.is_multiple_of(PACE_MESSAGES)
        {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Send the rows now (templates first where due); `times` as
    /// [`Encoder::encode`] takes them.
    pub fn export(&mut self, rows: &[FlowRow], times: &[Option<FlowTimes>]) {
        self.retry_if_due();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as u32)
            .unwrap_or(0);
        for m in self.enc.encode(rows, times, now, Instant::now()) {
            self.send(&m.bytes, m.records as u64);
        }
    }

    /// What was sent so far.
    pub fn summary(&self) -> &ExportSummary {
        &self.summary
    }

    /// End the export: over UDP wait briefly for a collector's ICMP
    /// refusal of the last datagrams; over TCP close the stream and wait
    /// up to [`TCP_CLOSE_WAIT`] for the collector to close it too. Then
    /// warn on standard error if anything was not sent; the summary.
    pub fn finish(mut self) -> ExportSummary {
        match self.conn.take() {
            Some(Conn::Udp(s)) => {
                // A closed port answers with ICMP, which the next send
                // reports: one empty probe would be a malformed message, so
                // ask the socket for a pending error instead.
                std::thread::sleep(Duration::from_millis(20));
                if let Ok(Some(e)) = s.take_error() {
                    self.summary.failed = self.summary.failed.max(1);
                    self.summary.first_error.get_or_insert(e.to_string());
                }
            }
            Some(Conn::Tcp(mut s)) => {
                // Bytes written are bytes the kernel took, not bytes the
                // collector read: a collector that closes after reading
                // everything ends the stream, one that went away resets it.
                let _ = s.shutdown(Shutdown::Write);
                let _ = s.set_read_timeout(Some(TCP_CLOSE_WAIT));
                let mut buf = [0u8; 512];
                let end = Instant::now() + TCP_CLOSE_WAIT;
                while Instant::now() < end {
                    match s.read(&mut buf) {
                        Ok(0) => break,
                        Ok(_) => continue,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e)
                            if e.kind() == io::ErrorKind::WouldBlock
                                || e.kind() == io::ErrorKind::TimedOut =>
                        {
                            break
                        }
                        Err(e) => {
                            eprintln!(
                                "{}: warning: IPFIX export to {}: the collector closed the connection before taking every message ({e}): the last flow records may be lost",
                                self.tool, self.target
                            );
                            self.summary.first_error.get_or_insert(e.to_string());
                            break;
                        }
                    }
                }
            }
            None => {}
        }
        let s = &self.summary;
        if s.failed > 0 {
            // A refusal noticed only at the end (UDP's ICMP) names no
            // message: the records lost are not known.
            let records = if s.records_failed > 0 {
                format!("{} flow records in them", s.records_failed)
            } else {
                "how many flow records is not known".to_string()
            };
            eprintln!(
                "{}: warning: IPFIX export to {}: {} of {} messages not sent, {records} ({}): the collector misses them",
                self.tool,
                self.target,
                s.failed,
                s.messages,
                s.first_error.as_deref().unwrap_or("unknown error"),
            );
        }
        self.summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(i: u32, v6: bool, n: u64) -> FlowRow {
        let b = i.to_be_bytes();
        let key = if v6 {
            FlowKey::v6(17, [b[3]; 16], 1000 + i as u16, [9; 16], 53)
        } else {
            FlowKey::v4(6, [10, b[2], b[3], 1], 40000, [10, 0, 0, 2], 80)
        };
        let m = |base: f64| Moments {
            n,
            mean_us: base + 0.5,
            std_us: base / 2.0,
            min_us: 1.0,
            max_us: base * 2.0,
            pct_us: [base, base * 1.5, f64::NAN],
        };
        FlowRow {
            key,
            packets: n + 1 + i as u64,
            iat: m(100.0 + i as f64),
            rtt: m(7.0),
        }
    }

    /// A decoded message: (sequence, templates seen, records as
    /// (template id, bytes)).
    type Decoded = (u32, Vec<u16>, Vec<(u16, Vec<u8>)>);

    /// Record lengths by template id, as the templates said (the decoder's
    /// state across messages).
    static LENS: std::sync::Mutex<std::collections::BTreeMap<u16, usize>> =
        std::sync::Mutex::new(std::collections::BTreeMap::new());

    /// A decoder by RFC 7011 §3, written apart from the encoder.
    fn decode(m: &[u8]) -> Decoded {
        let be16 = |b: &[u8], i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        let be32 = |b: &[u8], i: usize| u32::from_be_bytes(b[i..i + 4].try_into().unwrap());
        assert_eq!(be16(m, 0), 10);
        assert_eq!(be16(m, 2) as usize, m.len());
        assert!(m.len() <= MAX_MESSAGE_TCP);
        assert_eq!(be32(m, 12), 1);
        let mut templates = Vec::new();
        let mut records = Vec::new();
        // Record lengths by template: the templates come in every message
        // that the tests decode on their own, or the first of a stream.
        let mut lens = LENS.lock().unwrap_or_else(|e| e.into_inner());
        let mut i = 16;
        while i < m.len() {
            let (id, len) = (be16(m, i), be16(m, i + 2) as usize);
            assert!(len >= 4 && i + len <= m.len());
            let body = &m[i + 4..i + len];
            if id == 2 {
                let mut j = 0;
                while j < body.len() {
                    let (tid, count) = (be16(body, j), be16(body, j + 2));
                    templates.push(tid);
                    j += 4;
                    let mut standard = Vec::new();
                    let mut enterprise = Vec::new();
                    for _ in 0..count {
                        let (ie, flen) = (be16(body, j), be16(body, j + 2));
                        j += 4;
                        if ie & 0x8000 != 0 {
                            assert_eq!(be32(body, j), PEN);
                            assert_eq!(flen, 8);
                            enterprise.push(ie & 0x7fff);
                            j += 4;
                        } else {
                            standard.push((ie, flen));
                        }
                    }
                    let want: Vec<u16> = TIMING_ELEMENTS.iter().map(|e| e.0).collect();
                    assert_eq!(enterprise, want);
                    // IANA: the addresses, ports, protocol, packetDeltaCount,
                    // then flowStart/EndMilli- and Nanoseconds if timed.
                    let a = if tid % 2 == 1 {
                        (27, 16, 28)
                    } else {
                        (8, 4, 12)
                    };
                    let mut std_want =
                        vec![(a.0, a.1), (7, 2), (a.2, a.1), (11, 2), (4, 1), (2, 8)];
                    if tid >= 258 {
                        std_want.extend([(152, 8), (153, 8), (156, 8), (157, 8)]);
                    }
                    assert_eq!(standard, std_want, "template {tid}");
                    let len = std_want.iter().map(|f| f.1 as usize).sum::<usize>() + 8 * want.len();
                    lens.insert(tid, len);
                }
            } else {
                assert!((256..=259).contains(&id), "set {id}");
                let rl = lens[&id];
                assert_eq!(body.len() % rl, 0);
                for r in body.chunks(rl) {
                    records.push((id, r.to_vec()));
                }
            }
            i += len;
        }
        (be32(m, 8), templates, records)
    }

    #[test]
    fn records_carry_the_row_and_sizes_are_bounded() {
        assert_eq!(record_len(false, false), 149);
        assert_eq!(record_len(true, false), 173);
        let rows: Vec<FlowRow> = (0..40).map(|i| row(i, i % 3 == 0, 5)).collect();
        let mut e = Encoder::new(1);
        let msgs = e.encode(&rows, &[], 1_700_000_000, Instant::now());
        assert!(msgs.len() >= 5, "{}", msgs.len());
        let mut seq = 0;
        let mut got = Vec::new();
        for (i, m) in msgs.iter().enumerate() {
            let (s, templates, recs) = decode(&m.bytes);
            assert_eq!(s, seq, "message {i}");
            assert_eq!(recs.len() as u32, m.records);
            seq += m.records;
            assert_eq!(templates.is_empty(), i > 0);
            // Full messages: the next record would not have fitted.
            if i + 1 < msgs.len() {
                assert!(m.bytes.len() + record_len(false, false) > MAX_MESSAGE - 4);
            }
            assert_eq!(&m.bytes[4..8], &1_700_000_000u32.to_be_bytes());
            got.extend(recs);
        }
        assert_eq!(e.sequence(), 40);
        assert_eq!(got.len(), rows.len());
        for ((tid, b), r) in got.iter().zip(&rows) {
            let v6 = *tid == TEMPLATE_V6;
            assert_eq!(v6, r.key.v6);
            let a = if v6 { 16 } else { 4 };
            let src = &b[..a];
            assert_eq!(src, &r.key.src[16 - a..]);
            assert_eq!(&b[a..a + 2], &r.key.sport.to_be_bytes());
            assert_eq!(&b[a + 2..2 * a + 2], &r.key.dst[16 - a..]);
            assert_eq!(&b[2 * a + 2..2 * a + 4], &r.key.dport.to_be_bytes());
            assert_eq!(b[2 * a + 4], r.key.proto);
            let u64_at = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().unwrap());
            let o = 2 * a + 5;
            assert_eq!(u64_at(o), r.packets);
            for (k, m) in [(o + 8, &r.iat), (o + 72, &r.rtt)] {
                assert_eq!(u64_at(k), m.n);
                let f: Vec<f64> = (1..8).map(|j| f64::from_bits(u64_at(k + 8 * j))).collect();
                assert_eq!(&f[..4], &[m.mean_us, m.std_us, m.min_us, m.max_us]);
                assert_eq!(&f[4..6], &m.pct_us[..2]);
                assert!(f[6].is_nan());
            }
        }
    }

    #[test]
    fn no_samples_is_nan_and_templates_are_refreshed() {
        let t0 = Instant::now();
        let mut e = Encoder::new(1).with_refresh(3, Duration::from_secs(5));
        let (_, _, recs) = decode(&e.encode(&[row(1, false, 0)], &[], 0, t0)[0].bytes);
        let b = &recs[0].1;
        assert_eq!(u64::from_be_bytes(b[21..29].try_into().unwrap()), 0);
        for j in 0..7 {
            let at = 29 + 8 * j;
            assert!(f64::from_bits(u64::from_be_bytes(b[at..at + 8].try_into().unwrap())).is_nan());
        }
        // Message 1 had templates; 2 and 3 not; the 4th again (3 messages).
        let one = [row(2, true, 1)];
        let with = |e: &mut Encoder, t| !decode(&e.encode(&one, &[], 0, t)[0].bytes).1.is_empty();
        assert!(!with(&mut e, t0));
        assert!(!with(&mut e, t0));
        assert!(with(&mut e, t0));
        // ... and after 5 s whatever the count.
        assert!(!with(&mut e, t0 + Duration::from_secs(4)));
        assert!(with(&mut e, t0 + Duration::from_secs(6)));
        assert_eq!(e.sequence(), 6);
        // No rows: the templates alone when due, else nothing.
        assert!(e
            .encode(&[], &[], 0, t0 + Duration::from_secs(7))
            .is_empty());
        let m = e.encode(&[], &[], 0, t0 + Duration::from_secs(20));
        assert_eq!(m.len(), 1);
        let (seq, templates, recs) = decode(&m[0].bytes);
        assert_eq!(
            (seq, templates, recs.len()),
            (6, vec![256, 257, 258, 259], 0)
        );
    }

    #[test]
    fn times_go_in_their_own_templates_in_both_encodings() {
        let ns = 1_700_000_000_123_456_789u64;
        assert_eq!(stamp(ns, Stamp::Milliseconds), 1_700_000_000_123);
        // 1 700 000 000 s after 1970 is 3 908 988 800 s after 1900;
        // 0.123456789 s is 530 242 871.22 units of 2^-32 s.
        assert_eq!(
            stamp(ns, Stamp::Nanoseconds),
            (3_908_988_800u64 << 32) | 530_242_871
        );
        // Every nanosecond comes back from the fraction, rounded.
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let ends = [0, 1, 2, 499_999_999, 500_000_000, 999_999_998, 999_999_999];
        for i in 0..10_000u64 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let sub = if i < ends.len() as u64 {
                ends[i as usize]
            } else {
                rng % 1_000_000_000
            };
            let v = stamp(ns - ns % 1_000_000_000 + sub, Stamp::Nanoseconds);
            let back = ((v & 0xffff_ffff) * 1_000_000_000 + (1 << 31)) >> 32;
            assert_eq!(back, sub);
            assert_eq!(v >> 32, 3_908_988_800);
        }
        assert_eq!(record_len(false, true), 181);
        assert_eq!(record_len(true, true), 205);
        // Rows with and without times, IPv4 and IPv6.
        let rows: Vec<FlowRow> = (0..30).map(|i| row(i, i % 3 == 0, 2)).collect();
        let times: Vec<Option<FlowTimes>> = (0..30u64)
            .map(|i| {
                (i % 2 == 0).then_some(FlowTimes {
                    first_ns: ns + i,
                    last_ns: ns + 2_500_000_000 + 1000 * i,
                })
            })
            .collect();
        let mut e = Encoder::new(1);
        let mut got = Vec::new();
        for m in e.encode(&rows, &times, 0, Instant::now()) {
            assert!(m.bytes.len() <= MAX_MESSAGE);
            got.extend(decode(&m.bytes).2);
        }
        assert_eq!(got.len(), 30);
        for (i, ((tid, b), r)) in got.iter().zip(&rows).enumerate() {
            let a = if r.key.v6 { 16 } else { 4 };
            let want = match (r.key.v6, times[i].is_some()) {
                (false, false) => 256,
                (true, false) => 257,
                (false, true) => 258,
                (true, true) => 259,
            };
            assert_eq!(*tid, want, "row {i}");
            let u64_at = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().unwrap());
            let o = 2 * a + 5;
            assert_eq!(u64_at(o), r.packets);
            let iat_at = if let Some(t) = times[i] {
                assert_eq!(u64_at(o + 8), t.first_ns / 1_000_000);
                assert_eq!(u64_at(o + 16), t.last_ns / 1_000_000);
                assert_eq!(u64_at(o + 24), stamp(t.first_ns, Stamp::Nanoseconds));
                assert_eq!(u64_at(o + 32), stamp(t.last_ns, Stamp::Nanoseconds));
                o + 40
            } else {
                o + 8
            };
            assert_eq!(u64_at(iat_at), r.iat.n);
        }
        // Fewer times than rows: the rest go without.
        let m = e.encode(&rows[..2], &times[..1], 0, Instant::now());
        let recs = decode(&m[0].bytes).2;
        assert_eq!((recs[0].0, recs[1].0), (259, 256));
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut e = Encoder::new(1);
        e.seq = u32::MAX - 1;
        let m = e.encode(
            &[row(1, false, 2), row(2, false, 2), row(3, false, 2)],
            &[],
            0,
            Instant::now(),
        );
        assert_eq!(decode(&m[0].bytes).0, u32::MAX - 1);
        assert_eq!(e.sequence(), 1);
    }

    #[test]
    fn targets_are_host_and_port_with_a_transport() {
        for (ok, t, addr) in [
            ("127.0.0.1:4739", Transport::Udp, "127.0.0.1:4739"),
            ("[::1]:4739", Transport::Udp, "[::1]:4739"),
            (
                "collector.example:9995",
                Transport::Udp,
                "collector.example:9995",
            ),
            ("udp://127.0.0.1:4739", Transport::Udp, "127.0.0.1:4739"),
            ("tcp://[::1]:4739", Transport::Tcp, "[::1]:4739"),
            ("TCP://collector:4739", Transport::Tcp, "collector:4739"),
        ] {
            let got = parse_target(ok).unwrap();
            assert_eq!((got.transport, got.addr.as_str()), (t, addr), "{ok}");
            assert_eq!(got.to_string(), format!("{}://{addr}", t.scheme()));
        }
        for bad in [
            "127.0.0.1",
            ":4739",
            "host:0",
            "host:70000",
            "host:x",
            "tcp://",
            "tcp://host",
            "udp://:4739",
        ] {
            let e = parse_target(bad).unwrap_err();
            assert!(e.contains("is not [udp://|tcp://]HOST:PORT"), "{bad}: {e}");
        }
        let e = parse_target("sctp://host:4739").unwrap_err();
        assert!(e.contains("'sctp' is none of udp://, tcp://"), "{e}");
    }

    /// Messages read from a TCP stream by their length fields, until the
    /// stream ends.
    fn read_stream(mut s: TcpStream) -> Vec<Vec<u8>> {
        let mut msgs = Vec::new();
        loop {
            let mut h = [0u8; HEADER];
            if s.read_exact(&mut h).is_err() {
                return msgs;
            }
            let len = u16::from_be_bytes([h[2], h[3]]) as usize;
            let mut m = h.to_vec();
            m.resize(len, 0);
            s.read_exact(&mut m[HEADER..]).unwrap();
            msgs.push(m);
        }
    }

    #[test]
    fn tcp_sends_templates_once_and_long_messages() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let target = parse_target(&format!("tcp://{}", l.local_addr().unwrap())).unwrap();
        let reader = std::thread::spawn(move || read_stream(l.accept().unwrap().0));
        let mut x = Exporter::new(&target, "test");
        let rows: Vec<FlowRow> = (0..1000).map(|i| row(i, i % 5 == 0, 4)).collect();
        for chunk in rows.chunks(300) {
            x.export(chunk, &[]);
        }
        x.export(&[], &[]);
        let s = x.finish();
        assert_eq!((s.failed, s.records, s.first_error), (0, 1000, None));
        let msgs = reader.join().unwrap();
        assert_eq!(msgs.len() as u64, s.messages);
        let mut seq = 0;
        let mut n = 0;
        for (i, m) in msgs.iter().enumerate() {
            let (sq, templates, recs) = decode(m);
            assert_eq!(sq, seq, "message {i}");
            // Templates once, at the start of the stream.
            assert_eq!(templates.is_empty(), i > 0, "message {i}");
            seq += recs.len() as u32;
            n += recs.len();
        }
        assert_eq!(n, 1000);
        // 300 rows fill a message far beyond a datagram's 1400 bytes.
        assert!(msgs[0].len() > 40_000, "{}", msgs[0].len());
        // A whole message is as long as the length field allows.
        let mut e = Encoder::for_transport(1, Transport::Tcp);
        let big: Vec<FlowRow> = (0..2000).map(|i| row(i, false, 1)).collect();
        let m = e.encode(&big, &[], 0, Instant::now());
        assert!(m.len() > 1);
        assert!(m[0].bytes.len() <= MAX_MESSAGE_TCP);
        assert!(m[0].bytes.len() + record_len(false, false) > MAX_MESSAGE_TCP);
    }

    #[test]
    fn a_refused_tcp_connection_is_a_warning_at_once() {
        // The port stays held on 127.0.0.1, so no other test (nor the
        // exporter's own socket) can take it; nothing listens on 127.0.0.2.
        let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let t = Instant::now();
        let mut x = Exporter::new(
            &parse_target(&format!("tcp://127.0.0.2:{port}")).unwrap(),
            "test",
        );
        let rows: Vec<FlowRow> = (0..30).map(|i| row(i, false, 3)).collect();
        x.export(&rows, &[]);
        let s = x.finish();
        assert!(t.elapsed() < Duration::from_secs(1));
        assert_eq!((s.failed, s.records, s.records_failed), (s.messages, 0, 30));
        assert!(s.first_error.unwrap().contains("refused"));
    }

    /// A listening socket on loopback whose accept queue holds one
    /// connection (backlog 0) and is full: the kernel drops further SYNs,
    /// as a collector behind a firewall that drops them would.
    fn full_listener() -> (std::net::TcpListener, TcpStream) {
        use std::os::fd::AsRawFd;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        // Listen again with a backlog of 0 (std listens with 128).
        // SAFETY: listen(2) on a socket this function owns.
        assert_eq!(unsafe { libc::listen(l.as_raw_fd(), 0) }, 0);
        let first = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        (l, first)
    }

    #[test]
    fn a_tcp_collector_that_never_answers_is_a_bounded_wait() {
        let (l, _first) = full_listener();
        let target = parse_target(&format!("tcp://{}", l.local_addr().unwrap())).unwrap();
        let t = Instant::now();
        let mut x = Exporter::new(&target, "test");
        let waited = t.elapsed();
        x.export(&[row(1, false, 2)], &[]);
        let s = x.finish();
        assert!(
            waited >= TCP_CONNECT_TIMEOUT - Duration::from_millis(100),
            "{waited:?}"
        );
        assert!(
            waited < TCP_CONNECT_TIMEOUT + Duration::from_secs(1),
            "{waited:?}"
        );
        assert_eq!((s.failed, s.records_failed), (1, 1));
        let within = format!(
            "not accepted within {} s",
            TCP_CONNECT_TIMEOUT.as_secs_f64()
        );
        assert!(s.first_error.unwrap().contains(&within));
    }

    #[test]
    fn a_dropped_tcp_connection_counts_what_was_not_sent() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let target = parse_target(&format!("tcp://{}", l.local_addr().unwrap())).unwrap();
        // The collector takes the first message, then goes away.
        let reader = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut h = [0u8; HEADER];
            s.read_exact(&mut h).unwrap();
            let len = u16::from_be_bytes([h[2], h[3]]) as usize;
            let mut rest = vec![0u8; len - HEADER];
            s.read_exact(&mut rest).unwrap();
        });
        let mut x = Exporter::new(&target, "test");
        let rows: Vec<FlowRow> = (0..50).map(|i| row(i, false, 3)).collect();
        x.export(&rows, &[]);
        reader.join().unwrap();
        let t = Instant::now();
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(5));
            x.export(&rows, &[]);
        }
        let s = x.finish();
        assert!(t.elapsed() < Duration::from_secs(2));
        assert!(s.failed >= 1, "{s:?}");
        // Every message after the drop failed, and each record is counted
        // once: sent or not.
        assert_eq!(s.records + s.records_failed, 21 * 50, "{s:?}");
        assert!(s.records_failed >= 50 * 18, "{s:?}");
    }

    #[test]
    fn a_tcp_collector_that_stops_reading_stalls_nothing() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let target = parse_target(&format!("tcp://{}", l.local_addr().unwrap())).unwrap();
        // Accepted, never read: the kernel's buffers fill, then writes wait.
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let keep = std::thread::spawn(move || {
            let s = l.accept().unwrap();
            // No second connection: a retry is refused at once.
            drop(l);
            let _ = rx.recv();
            drop(s);
        });
        let mut x = Exporter::new(&target, "test");
        let rows: Vec<FlowRow> = (0..20_000).map(|i| row(i, false, 3)).collect();
        let t = Instant::now();
        for _ in 0..40 {
            x.export(&rows, &[]);
        }
        let spent = t.elapsed();
        tx.send(()).unwrap();
        keep.join().unwrap();
        let s = x.finish();
        assert!(
            spent < TCP_WRITE_TIMEOUT + Duration::from_secs(3),
            "{spent:?}"
        );
        assert!(s.failed >= 1, "{s:?}");
        assert_eq!(s.records + s.records_failed, 40 * 20_000);
        assert!(s.first_error.unwrap().contains("did not take a message"));
    }

    #[test]
    fn an_unreachable_collector_is_a_warning_not_an_error() {
        // A closed port on loopback: the kernel answers with ICMP. A port
        // freed by a dropped socket can be handed out again at once (once,
        // to the exporter's own socket, which then sent to itself), so the
        // port stays held on 127.0.0.1 and the datagrams go to 127.0.0.2,
        // where nothing is bound.
        let held = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let mut x = Exporter::new(&parse_target(&format!("127.0.0.2:{port}")).unwrap(), "test");
        let rows: Vec<FlowRow> = (0..30).map(|i| row(i, false, 3)).collect();
        let t = Instant::now();
        x.export(&rows, &[]);
        x.export(&rows, &[]);
        let s = x.finish();
        assert!(t.elapsed() < Duration::from_secs(2));
        assert!(s.failed >= 1, "{s:?}");
        assert!(s.first_error.unwrap().contains("refused"));
        // A name that does not resolve.
        let mut x = Exporter::new(&parse_target("no-such-host.invalid:4739").unwrap(), "test");
        x.export(&rows, &[]);
        let s = x.finish();
        assert_eq!(s.failed, s.messages);
        assert!(s.first_error.unwrap().contains("no-such-host.invalid"));
    }

    #[test]
    fn a_collector_that_comes_back_gets_a_new_session() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let target = parse_target(&format!("tcp://{}", l.local_addr().unwrap())).unwrap();
        // The collector takes one message and closes (a restart), then
        // takes a new connection to its end.
        let collector = std::thread::spawn(move || {
            let first = {
                let (mut s, _) = l.accept().unwrap();
                let mut h = [0u8; HEADER];
                s.read_exact(&mut h).unwrap();
                let len = u16::from_be_bytes([h[2], h[3]]) as usize;
                let mut m = h.to_vec();
                m.resize(len, 0);
                s.read_exact(&mut m[HEADER..]).unwrap();
                m
            };
            (first, read_stream(l.accept().unwrap().0))
        });
        let mut x = Exporter::new(&target, "test");
        let rows: Vec<FlowRow> = (0..50).map(|i| row(i, false, 3)).collect();
        x.export(&rows, &[]);
        // Exports until one fails (the first writes after the close may
        // still reach the kernel: the loss TCP cannot count).
        let t = Instant::now();
        let mut exports = 1;
        while x.summary().failed == 0 {
            assert!(t.elapsed() < Duration::from_secs(5), "the drop is noticed");
            std::thread::sleep(Duration::from_millis(5));
            x.export(&rows, &[]);
            exports += 1;
        }
        // Before the first retry is due, nothing is tried.
        x.export(&rows, &[]);
        exports += 1;
        assert_eq!(x.summary().reconnects, 0);
        std::thread::sleep(TCP_RETRY_FIRST + Duration::from_millis(50));
        let back: Vec<FlowRow> = (100..130).map(|i| row(i, i % 3 == 0, 2)).collect();
        x.export(&back, &[]);
        let s = x.finish();
        let (first, second) = collector.join().unwrap();
        assert_eq!(s.reconnects, 1, "{s:?}");
        assert_eq!(s.records + s.records_failed, exports * 50 + 30, "{s:?}");
        let (sq, templates, recs) = decode(&first);
        assert_eq!((sq, recs.len()), (0, 50));
        assert!(!templates.is_empty());
        // The new session: templates first, the sequence from 0, and every
        // record exported after it.
        let (sq, templates, _) = decode(&second[0]);
        assert_eq!(sq, 0);
        assert!(!templates.is_empty());
        let got: usize = second.iter().map(|m| decode(m).2.len()).sum();
        assert_eq!(got, 30);
    }
}
