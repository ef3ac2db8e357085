//! The one path from a captured packet to a pipeline record
//! (docs/DESIGN.md §1–§2), used by every tool that replays captures
//! (`bloomtime analyze`, `bloomtime device replay`, the evaluation corpus,
//! `bloomtime-sim replay`, the benchmarks and the RTL tests).
//!
//! [`Records`] reads packets in capture order (several files merged by
//! timestamp, [`MergedTraces`]) and yields one [`ReplayFrame`] per packet:
//! its nanoseconds (absolute and since the stream's first packet), the
//! record timestamp [`replay_ts`] in the configuration's time unit, the
//! captured length, the header window ([`window`]) and, on demand, the
//! parse: `Result<Record, DropReason>`.
//!
//! It is a lending iterator: a frame borrows the packet buffer of its
//! source until the next call, so nothing is copied or allocated per
//! packet. I/O and format errors come back as `Err` (never a panic, never
//! a silently shortened stream); after one, the stream ends.
//!
//! ```no_run
//! # fn main() -> Result<(), bloomtime_traces::TraceError> {
//! use bloomtime_model::config::HARDWARE;
//! let mut r = bloomtime_traces::Records::open(&["a.pcap", "b.pcapng"], &HARDWARE)?;
//! while let Some(f) = r.next_frame()? {
//!     match f.record() {
//!         Ok(rec) => println!("{} ns: ts {} {:?}", f.rel_ns, rec.ts, rec.key),
//!         Err(reason) => println!("{} ns: dropped ({reason})", f.rel_ns),
//!     }
//! }
//! # Ok(())
//! # }
//! ```

use crate::pcap::{MergedTraces, Packet, TraceError, TraceReader};
use crate::{replay_ts, window};
use bloomtime_model::config::Config;
use bloomtime_model::golden::{BloomTime, Outcome};
use bloomtime_model::key::Record;
use bloomtime_model::parse::{parse_window, DropReason};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// Where [`Records`] takes its packets from, in capture order: merged
/// capture files ([`MergedTraces`]) or packets already in memory (a slice's
/// iterator, `packets.iter()`).
pub trait PacketSource {
    /// The next packet and the index of the file it came from (0 for
    /// packets in memory); `Ok(None)` at the end.
    fn read_packet(&mut self) -> Result<Option<(&Packet, usize)>, TraceError>;

    /// A live source (a network interface) never ends: its `Ok(None)`
    /// means "no packet yet", and [`Records`] yields `Ok(None)` without
    /// ending the stream; the next call reads on.
    const LIVE: bool = false;
}

impl<R: BufRead> PacketSource for MergedTraces<R> {
    #[inline]
    fn read_packet(&mut self) -> Result<Option<(&Packet, usize)>, TraceError> {
        self.next_packet()
    }
}

impl PacketSource for std::slice::Iter<'_, Packet> {
    #[inline]
    fn read_packet(&mut self) -> Result<Option<(&Packet, usize)>, TraceError> {
        Ok(self.next().map(|p| (p, 0)))
    }
}

/// One captured packet on its way into the pipeline: everything the replay
/// rule derives from it. Borrowed from the [`Records`] that yielded it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayFrame<'a> {
    /// Position in the stream (0 for the first packet).
    pub index: u64,
    /// The file it came from (index into the paths given; 0 for packets in
    /// memory).
    pub file: usize,
    /// The packet's timestamp, nanoseconds (since the Unix epoch for real
    /// captures).
    pub ns: u64,
    /// Nanoseconds since the first packet of the stream (the earliest of all
    /// files), saturating at 0 for a later packet stamped earlier
    /// (`before_first`).
    pub rel_ns: u64,
    /// The record timestamp: [`replay_ts`] of `ns` from the first packet, in
    /// the configuration's time units, modulo `2^TS_BITS`.
    pub ts: u64,
    /// The captured length (`data.len()`).
    pub caplen: usize,
    /// The header window the parser sees: the first `min(caplen,
    /// HEADER_WINDOW)` captured bytes.
    pub window: &'a [u8],
    /// Every captured byte of the frame.
    pub data: &'a [u8],
    /// Stamped before the stream's first packet (a clock that jumped back,
    /// files concatenated out of order): a time regression
    /// (docs/DESIGN.md §1). Its `rel_ns` and `ts` are 0, which the
    /// pipeline's monotonic clamp raises to the previous record's time and
    /// counts in `time_regressions`, except while that time is still 0:
    /// see `unseen_regression`.
    pub before_first: bool,
    /// A record (it parses) stamped before the first packet while every
    /// record so far had timestamp 0: the clamp sees `ts == last` and
    /// cannot count it, so whoever runs the pipeline counts it in
    /// `time_regressions` itself ([`ReplayFrame::process`] does for the
    /// golden model; [`Records::unseen_regressions`] totals them for a
    /// device or simulator).
    pub unseen_regression: bool,
}

impl ReplayFrame<'_> {
    /// The frame as a record (`ts`, key, flags), or why the parser drops it
    /// (docs/DESIGN.md §2). Parsed at each call: where the golden model
    /// takes the frame, use [`ReplayFrame::process`], which parses once.
    #[inline]
    pub fn record(&self) -> Result<Record, DropReason> {
        parse_window(self.window, self.caplen).map(|p| Record {
            ts: self.ts,
            key: p.key,
            flags: p.flags,
        })
    }

    /// The frame through the golden model: `BloomTime::frame` with this
    /// frame's `ts`, window and captured length (the model parses it and
    /// counts the frame and its drop reason), and a time regression the
    /// model's clamp cannot see counted (`unseen_regression`).
    #[inline]
    pub fn process(&self, bt: &mut BloomTime) -> Result<Outcome, DropReason> {
        let r = bt.frame(self.ts, self.window, self.caplen);
        if self.unseen_regression {
            bt.count_time_regression();
        }
        r
    }
}

/// Captured packets in capture order, each as a [`ReplayFrame`] by the
/// replay rule of one configuration (its time unit). See the module
/// documentation.
pub struct Records<S = MergedTraces<BufReader<File>>> {
    src: S,
    cfg: Config,
    ns_first: Option<u64>,
    frames: u64,
    done: bool,
    /// Some record so far had a timestamp above 0 (the pipeline's last
    /// time is above 0: its clamp sees a record before the first packet).
    advanced: bool,
    before_first: u64,
    unseen: u64,
}

impl Records<MergedTraces<BufReader<File>>> {
    /// Open capture files (pcap or pcapng), read as one stream merged by
    /// timestamp. Every file is opened and its header checked first.
    pub fn open<P: AsRef<Path>>(paths: &[P], cfg: &Config) -> Result<Self, TraceError> {
        Ok(Records::new(MergedTraces::open(paths)?, cfg))
    }
}

impl<R: BufRead> Records<MergedTraces<R>> {
    /// One capture read from any byte stream (its packets in file order).
    pub fn from_reader(reader: TraceReader<R>, cfg: &Config) -> Result<Self, TraceError> {
        Ok(Records::new(MergedTraces::new(vec![reader])?, cfg))
    }
}

impl<'a> Records<std::slice::Iter<'a, Packet>> {
    /// Packets already in memory, in the slice's order (the first one is the
    /// stream's first packet).
    pub fn of_packets(packets: &'a [Packet], cfg: &Config) -> Self {
        Records::new(packets.iter(), cfg)
    }
}

impl<S: PacketSource> Records<S> {
    /// The packets of `src`, by the replay rule of `cfg`.
    pub fn new(src: S, cfg: &Config) -> Self {
        Records {
            src,
            cfg: *cfg,
            ns_first: None,
            frames: 0,
            done: false,
            advanced: false,
            before_first: 0,
            unseen: 0,
        }
    }

    /// The next packet as a frame; `Ok(None)` at the end. After an error
    /// the stream has ended (`Ok(None)` from then on).
    #[inline]
    pub fn next_frame(&mut self) -> Result<Option<ReplayFrame<'_>>, TraceError> {
        if self.done {
            return Ok(None);
        }
        let (p, file) = match self.src.read_packet() {
            Ok(Some(x)) => x,
            Ok(None) => {
                self.done = !S::LIVE;
                return Ok(None);
            }
            Err(e) => {
                self.done = true;
                return Err(e);
            }
        };
        let ns_first = *self.ns_first.get_or_insert(p.ns);
        let index = self.frames;
        self.frames += 1;
        let ts = replay_ts(&self.cfg, p.ns, ns_first);
        let before_first = p.ns < ns_first;
        self.before_first += before_first as u64;
        // Until a record with a timestamp above 0 has gone by, the clamp
        // (`ts < last`) cannot see a record before the first packet (both
        // are 0): mark it. Only this opening stretch is parsed here.
        let mut unseen_regression = false;
        if !self.advanced && (before_first || ts > 0) {
            let is_record = parse_window(window(&p.data), p.data.len()).is_ok();
            if before_first {
                unseen_regression = is_record;
                self.unseen += is_record as u64;
            } else {
                self.advanced = is_record;
            }
        }
        Ok(Some(ReplayFrame {
            index,
            file,
            ns: p.ns,
            rel_ns: p.ns.saturating_sub(ns_first),
            ts,
            caplen: p.data.len(),
            window: window(&p.data),
            data: &p.data,
            before_first,
            unseen_regression,
        }))
    }

    /// The packet source (a live capture's counters).
    pub fn source_mut(&mut self) -> &mut S {
        &mut self.src
    }

    /// Frames yielded so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Frames so far stamped before the stream's first packet
    /// ([`ReplayFrame::before_first`]).
    pub fn before_first(&self) -> u64 {
        self.before_first
    }

    /// Records so far stamped before the first packet that the pipeline's
    /// clamp cannot count ([`ReplayFrame::unseen_regression`]): a
    /// consumer whose pipeline it does not drive through
    /// [`ReplayFrame::process`] (a device, a simulator) adds them to its
    /// `time_regressions`.
    pub fn unseen_regressions(&self) -> u64 {
        self.unseen
    }

    /// Nanoseconds of the stream's first packet, once it has been read.
    pub fn ns_first(&self) -> Option<u64> {
        self.ns_first
    }

    /// The configuration whose time unit the timestamps are in.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Every remaining frame's record or drop reason, in order (an owned
    /// copy: what the tests and benchmarks that replay records many times
    /// keep in memory).
    pub fn collect_records(mut self) -> Result<Vec<Result<Record, DropReason>>, TraceError> {
        let mut v = Vec::new();
        while let Some(f) = self.next_frame()? {
            v.push(f.record());
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pcap::TraceErrorKind;
    use crate::writer::{PcapNgWriter, PcapWriter};
    use bloomtime_model::config::{ALCHITRY_CU, HARDWARE, HEADER_WINDOW, TS_BITS, TS_MASK};
    use bloomtime_model::counters::Counter;
    use bloomtime_model::key::{FlowKey, FLAG_ECHO_REQUEST};
    use bloomtime_model::parse::build::*;
    use bloomtime_model::parse::{ETH_IPV4, ETH_IPV6};
    use std::io::Cursor;
    use std::path::PathBuf;

    const A: [u8; 4] = [10, 0, 0, 1];
    const B: [u8; 4] = [10, 0, 0, 2];

    fn udp4(sport: u16) -> Vec<u8> {
        frame(
            &FlowKey::v4(17, A, sport, B, 53),
            0,
            &udp(sport, 53, 10),
            10,
        )
    }

    fn pcap(packets: &[(u64, &[u8])]) -> Vec<u8> {
        let mut w = PcapWriter::new(Vec::new(), 65535).unwrap();
        for (ns, d) in packets {
            w.write(*ns, d).unwrap();
        }
        w.into_inner()
    }

    fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("bloomtime-records-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn demo() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/demo.pcap")
    }

    /// One frame for every drop reason (and a record), each parsed as
    /// `reason`.
    fn frames_by_reason() -> Vec<(Vec<u8>, Option<DropReason>)> {
        use DropReason::*;
        let key4 = FlowKey::v4(6, A, 1000, B, 80);
        let key6 = FlowKey::v6(17, [1; 16], 5000, [2; 16], 53);
        let tcp4 = frame(&key4, 0, &tcp(1000, 80, 0x02), 0);
        let mut arp = eth(0, 0x0806);
        arp.resize(60, 0);
        let mut three_tags = eth(3, ETH_IPV4);
        three_tags.resize(80, 0);
        let mut bad_ver = tcp4.clone();
        bad_ver[14] = 0x55;
        let mut fragment = udp4(7);
        fragment[14 + 6] = 0x00;
        fragment[14 + 7] = 0x10; // fragment offset 16 (×8 bytes)
                                 // IPv6 with five hop-by-hop/destination headers: a fifth is one too many.
        let mut ext5 = eth(0, ETH_IPV6);
        ext5.extend(ipv6(0, [1; 16], [2; 16], 5 * 8 + 8));
        for i in 0..5 {
            ext5.extend_from_slice(&[if i < 4 { 60 } else { 17 }, 0, 0, 0, 0, 0, 0, 0]);
        }
        ext5.extend(udp(1, 2, 0));
        // IPv6 whose transport header starts beyond the 128-byte window.
        let mut deep = eth(0, ETH_IPV6);
        deep.extend(ipv6(60, [1; 16], [2; 16], 80 + 8));
        deep.extend_from_slice(&[17, 9]);
        deep.resize(deep.len() + 78, 0);
        deep.extend(udp(1, 2, 0));
        deep.resize(300, 0);
        vec![
            (udp4(1), None),
            (frame(&key6, 2, &udp(5000, 53, 0), 0), None),
            (tcp4[..30].to_vec(), Some(Truncated)),
            (arp, Some(NonIp)),
            (three_tags, Some(VlanDepth)),
            (bad_ver, Some(BadIp)),
            (fragment, Some(Fragment)),
            (ext5, Some(ExtChain)),
            (deep, Some(HeaderWindow)),
            (tcp4, None),
        ]
    }

    #[test]
    fn drops_come_with_their_reason_and_frames_are_records_plus_drops() {
        let frames = frames_by_reason();
        let packets: Vec<(u64, &[u8])> = frames
            .iter()
            .enumerate()
            .map(|(i, (d, _))| (1_000_000 + i as u64 * 5_000, d.as_slice()))
            .collect();
        let bytes = pcap(&packets);
        let rd = TraceReader::from_reader("reasons.pcap", Cursor::new(bytes)).unwrap();
        let mut r = Records::from_reader(rd, &HARDWARE).unwrap();
        let mut bt = BloomTime::new(&HARDWARE);
        let (mut records, mut drops) = (0u64, [0u64; 7]);
        while let Some(f) = r.next_frame().unwrap() {
            let want = frames[f.index as usize].1;
            let got = f.record();
            assert_eq!(got.err(), want, "frame {}", f.index);
            // The model parses the same frame the same way.
            assert_eq!(f.process(&mut bt).map(|o| o.ts), got.map(|r| r.ts));
            match got {
                Ok(_) => records += 1,
                Err(reason) => drops[reason as usize] += 1,
            }
        }
        assert_eq!(r.frames(), frames.len() as u64);
        assert_eq!(records, 3);
        assert_eq!(drops, [1; 7], "one drop of every reason");
        let c = bt.counters();
        assert_eq!(c.get(Counter::Frames), r.frames());
        assert_eq!(c.get(Counter::Records), records);
        for (i, n) in drops.iter().enumerate() {
            assert_eq!(c.0[Counter::DropTruncated as usize + i], *n);
        }
    }

    #[test]
    fn records_carry_ts_key_and_flags() {
        let ping = frame(&FlowKey::v4(1, A, 77, B, 0), 1, &icmp(8, 0, 77, 1), 20);
        let t0 = 1_700_000_000_000_000_000;
        let bytes = pcap(&[(t0, &ping), (t0 + 10 * 1024 + 5, &ping)]);
        let rd = TraceReader::from_reader("ping.pcap", Cursor::new(bytes)).unwrap();
        let recs = Records::from_reader(rd, &HARDWARE)
            .unwrap()
            .collect_records()
            .unwrap();
        let key = FlowKey::v4(1, A, 77, B, 0);
        assert_eq!(
            recs,
            vec![
                Ok(Record {
                    ts: 0,
                    key,
                    flags: FLAG_ECHO_REQUEST
                }),
                Ok(Record {
                    ts: 10,
                    key,
                    flags: FLAG_ECHO_REQUEST
                })
            ]
        );
    }

    #[test]
    fn ts_is_relative_to_the_first_packet_of_the_merged_captures() {
        let f = udp4(9);
        let s = 1_000_000_000;
        // File b holds the earliest packet: it fixes ns_first for a's too.
        let a = tmp("rel-a.pcap", &pcap(&[(5 * s, &f), (7 * s + 3000, &f)]));
        let b = tmp("rel-b.pcap", &pcap(&[(3 * s + 100, &f), (6 * s, &f)]));
        let mut r = Records::open(&[&a, &b], &HARDWARE).unwrap();
        assert_eq!(r.ns_first(), None);
        let mut got = Vec::new();
        while let Some(f) = r.next_frame().unwrap() {
            assert_eq!(f.rel_ns, f.ns - (3 * s + 100));
            assert_eq!(f.ts, replay_ts(&HARDWARE, f.ns, 3 * s + 100));
            assert_eq!(f.ts, f.rel_ns >> HARDWARE.time_unit_log2_ns);
            assert_eq!(f.record().unwrap().ts, f.ts);
            got.push((f.file, f.rel_ns));
        }
        assert_eq!(r.ns_first(), Some(3 * s + 100));
        assert_eq!(
            got,
            vec![
                (1, 0),
                (0, 2 * s - 100),
                (1, 3 * s - 100),
                (0, 4 * s + 2900)
            ]
        );
        // Another time unit: the same nanoseconds, other timestamps.
        let cfg9 = Config {
            time_unit_log2_ns: 9,
            ..HARDWARE
        };
        let mut r = Records::open(&[&a, &b], &cfg9).unwrap();
        r.next_frame().unwrap();
        let f = r.next_frame().unwrap().unwrap();
        assert_eq!(f.ts, (2 * s - 100) >> 9);
    }

    #[test]
    fn timestamps_saturate_and_wrap_and_the_window_is_cut() {
        let small = udp4(3);
        let mut big = udp4(4);
        big.resize(1514, 0xaa);
        let u = ALCHITRY_CU.time_unit_log2_ns;
        let t0 = 10_000_000;
        let wrap = (1u64 << TS_BITS) << u;
        // In one file, in file order: a packet stamped before the first one
        // saturates at 0; 2^40 time units later the timestamp wraps.
        let bytes = pcap(&[
            (t0, &small),
            (t0 - 5_000, &big),
            (t0 + wrap + 3 * (1 << u) + 7, &big),
            (t0 + wrap - 1, &small),
        ]);
        let rd = TraceReader::from_reader("wrap.pcap", Cursor::new(bytes)).unwrap();
        let mut r = Records::from_reader(rd, &ALCHITRY_CU).unwrap();
        let mut got = Vec::new();
        while let Some(f) = r.next_frame().unwrap() {
            assert_eq!(f.caplen, f.data.len());
            assert_eq!(f.window, &f.data[..f.caplen.min(HEADER_WINDOW)]);
            assert!(f.ts <= TS_MASK);
            got.push((f.rel_ns, f.ts, f.caplen, f.window.len()));
        }
        let n_small = small.len();
        assert_eq!(
            got,
            vec![
                (0, 0, n_small, n_small),
                (0, 0, 1514, HEADER_WINDOW),
                (wrap + 3 * (1 << u) + 7, 3, 1514, HEADER_WINDOW),
                (wrap - 1, TS_MASK, n_small, n_small),
            ]
        );
    }

    /// Packets stamped before the first packet (a clock stepped back by
    /// hours) are time regressions, counted in `time_regressions` whether or
    /// not a record above timestamp 0 came before them (issue 15, item 1:
    /// after a first packet at T, packets at T - 3 h, T - 3 h + 1 s, … were
    /// all at time 0 and counted nowhere).
    #[test]
    fn packets_before_the_first_are_counted_time_regressions() {
        let s = 1_000_000_000u64;
        let t = 1_700_000_000 * s;
        let h3 = 3 * 3600 * s;
        let f = udp4(9);
        let mut arp = eth(0, 0x0806);
        arp.resize(60, 0);
        // (packets, frames before the first, regressions only the Records
        // see, time_regressions in the model, the model's timestamps)
        type Case = (Vec<(u64, Vec<u8>)>, u64, u64, u64, Vec<u64>);
        let u = HARDWARE.time_unit_log2_ns;
        let t2 = (2 * s) >> u;
        let cases: Vec<Case> = vec![
            // Right after the first packet: the clamp alone saw nothing.
            (
                vec![
                    (t, f.clone()),
                    (t - h3, f.clone()),
                    (t - h3 + s, f.clone()),
                    (t - h3 + 2 * s, f.clone()),
                ],
                3,
                3,
                3,
                vec![0, 0, 0, 0],
            ),
            // After records at T + 1 s, T + 2 s: the clamp sees them.
            (
                vec![
                    (t, f.clone()),
                    (t + s, f.clone()),
                    (t + 2 * s, f.clone()),
                    (t - h3, f.clone()),
                    (t - h3 + s, f.clone()),
                ],
                2,
                0,
                2,
                vec![0, s >> u, t2, t2, t2],
            ),
            // Within the first time unit, or after a dropped frame only, the
            // pipeline's time is still 0; a dropped frame before the first
            // is no record and no regression.
            (
                vec![
                    (t, f.clone()),
                    (t + 500, f.clone()),
                    (t + 2 * s, arp.clone()),
                    (t - h3, arp.clone()),
                    (t - h3 + s, f.clone()),
                    (t + 3 * s, f.clone()),
                    (t - h3 + 2 * s, f.clone()),
                ],
                3,
                1,
                2,
                vec![0, 0, 0, (3 * s) >> u, (3 * s) >> u],
            ),
        ];
        for (i, (pk, before, unseen, regressions, ts)) in cases.into_iter().enumerate() {
            let refs: Vec<(u64, &[u8])> = pk.iter().map(|(n, d)| (*n, d.as_slice())).collect();
            let rd = TraceReader::from_reader("back.pcap", Cursor::new(pcap(&refs))).unwrap();
            let mut r = Records::from_reader(rd, &HARDWARE).unwrap();
            let mut bt = BloomTime::new(&HARDWARE);
            let mut blind = BloomTime::new(&HARDWARE);
            let mut got_ts = Vec::new();
            while let Some(fr) = r.next_frame().unwrap() {
                assert_eq!(fr.before_first, fr.ns < t, "case {i}");
                if fr.before_first {
                    assert_eq!((fr.rel_ns, fr.ts), (0, 0), "case {i}");
                }
                if let Ok(o) = fr.process(&mut bt) {
                    got_ts.push(o.ts);
                }
                let _ = blind.frame(fr.ts, fr.window, fr.caplen);
            }
            assert_eq!(r.before_first(), before, "case {i}");
            assert_eq!(r.unseen_regressions(), unseen, "case {i}");
            let c = bt.counters();
            assert_eq!(c.get(Counter::TimeRegressions), regressions, "case {i}");
            assert_eq!(got_ts, ts, "case {i}");
            // A pipeline driven without `process` (a device, the simulator)
            // misses exactly the unseen ones, and nothing else differs.
            let b = blind.counters();
            assert_eq!(
                b.get(Counter::TimeRegressions) + r.unseen_regressions(),
                regressions,
                "case {i}"
            );
            let mut b = *b;
            b.0[Counter::TimeRegressions as usize] = regressions;
            assert_eq!(&b, c, "case {i}");
        }
    }

    #[test]
    fn multi_file_merge_order_is_by_timestamp_and_stable() {
        let s = 1_000_000_000;
        let fa: Vec<Vec<u8>> = (0..4).map(|i| udp4(100 + i)).collect();
        let fb: Vec<Vec<u8>> = (0..3).map(|i| udp4(200 + i)).collect();
        // a: 1 3 3 5; b (pcapng, big-endian, ns resolution): 2 3 4.
        let a = tmp(
            "merge-a.pcap",
            &pcap(&[
                (s, &fa[0]),
                (3 * s, &fa[1]),
                (3 * s, &fa[2]),
                (5 * s, &fa[3]),
            ]),
        );
        let mut w = PcapNgWriter::new(true);
        w.interface(1, 65535, Some(9));
        for (i, t) in [2, 3, 4].into_iter().enumerate() {
            w.epb(0, t * s, &fb[i], fb[i].len() as u32);
        }
        let b = tmp("merge-b.pcapng", &w.bytes);
        let mut r = Records::open(&[&a, &b], &HARDWARE).unwrap();
        let mut got = Vec::new();
        while let Some(f) = r.next_frame().unwrap() {
            let sport = f.record().unwrap().key.sport;
            got.push((f.index, f.file, f.ns / s, sport));
        }
        assert_eq!(
            got,
            vec![
                (0, 0, 1, 100),
                (1, 1, 2, 200),
                (2, 0, 3, 101),
                (3, 0, 3, 102),
                (4, 1, 3, 201),
                (5, 1, 4, 202),
                (6, 0, 5, 103),
            ]
        );
        assert_eq!(r.frames(), 7);
        assert!(r.next_frame().unwrap().is_none());
    }

    /// The demo trace by every constructor, against the rule written out.
    #[test]
    fn demo_trace_by_every_constructor() {
        let mut src = MergedTraces::open(&[demo()]).unwrap();
        let mut want = Vec::new();
        let mut first = None;
        while let Some((p, _)) = src.next_packet().unwrap() {
            let f = *first.get_or_insert(p.ns);
            let n = p.data.len().min(HEADER_WINDOW);
            want.push(parse_window(&p.data[..n], p.data.len()).map(|x| Record {
                ts: ((p.ns - f) >> HARDWARE.time_unit_log2_ns) & TS_MASK,
                key: x.key,
                flags: x.flags,
            }));
        }
        assert_eq!(want.len(), 4000);
        let by_open = Records::open(&[demo()], &HARDWARE)
            .unwrap()
            .collect_records()
            .unwrap();
        assert_eq!(by_open, want);
        let packets = crate::pcap::read_file(demo()).unwrap();
        let by_slice = Records::of_packets(&packets, &HARDWARE)
            .collect_records()
            .unwrap();
        assert_eq!(by_slice, want);
        let bytes = std::fs::read(demo()).unwrap();
        let rd = TraceReader::from_reader("demo.pcap", Cursor::new(bytes)).unwrap();
        let by_reader = Records::from_reader(rd, &HARDWARE)
            .unwrap()
            .collect_records()
            .unwrap();
        assert_eq!(by_reader, want);
    }

    #[test]
    fn errors_end_the_stream_after_every_complete_packet() {
        let f = udp4(5);
        let good = pcap(&[(1000, &f), (2000, &f), (3000, &f)]);
        // The third record cut in the middle.
        let cut = &good[..good.len() - 10];
        let rd = TraceReader::from_reader("cut.pcap", Cursor::new(cut.to_vec())).unwrap();
        let mut r = Records::from_reader(rd, &HARDWARE).unwrap();
        assert_eq!(r.next_frame().unwrap().unwrap().ns, 1000);
        assert_eq!(r.next_frame().unwrap().unwrap().ns, 2000);
        let e = r.next_frame().unwrap_err();
        assert!(matches!(e.kind, TraceErrorKind::Truncated { .. }), "{e}");
        assert!(e.to_string().starts_with("cut.pcap: "), "{e}");
        assert!(r.next_frame().unwrap().is_none());
        assert_eq!(r.frames(), 2);

        // Merged with a good file: the cut file's packets up to the cut
        // come first, then the error.
        let pa = tmp("err-a.pcap", cut);
        let pb = tmp("err-b.pcap", &pcap(&[(1500, &f), (2500, &f), (9000, &f)]));
        let mut r = Records::open(&[&pa, &pb], &HARDWARE).unwrap();
        let mut got = Vec::new();
        let err = loop {
            match r.next_frame() {
                Ok(Some(f)) => got.push(f.ns),
                Ok(None) => panic!("the error was not returned"),
                Err(e) => break e,
            }
        };
        assert_eq!(got, vec![1000, 1500, 2000]);
        assert!(err.to_string().contains("err-a.pcap"), "{err}");
        assert!(r.next_frame().unwrap().is_none());

        // Open errors name the file.
        let e = Records::open(&["/nonexistent/x.pcap"], &HARDWARE)
            .err()
            .unwrap();
        assert!(matches!(e.kind, TraceErrorKind::Io(_)), "{e}");
    }

    #[test]
    fn an_empty_stream_has_no_first_packet() {
        let mut r = Records::of_packets(&[], &HARDWARE);
        assert!(r.next_frame().unwrap().is_none());
        assert_eq!((r.frames(), r.ns_first()), (0, None));
        let bytes = pcap(&[]);
        let rd = TraceReader::from_reader("empty.pcap", Cursor::new(bytes)).unwrap();
        let r = Records::from_reader(rd, &HARDWARE).unwrap();
        assert!(r.collect_records().unwrap().is_empty());
    }
}
