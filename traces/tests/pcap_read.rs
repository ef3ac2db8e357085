//! The capture reader: formats, timestamps, merge order, and one test per
//! error kind; junk and truncated input never panics.

use bloomtime_traces::pcap::{
    pcapng_ns, read_file, tsresol_supported, MergedTraces, TraceReader, MAX_CAPLEN,
};
use bloomtime_traces::writer::{PcapNgWriter, PcapWriter};
use bloomtime_traces::Packet;
use std::io::Cursor;
use std::path::PathBuf;

fn frame(n: usize, tag: u8) -> Vec<u8> {
    let mut f = vec![tag; n];
    f[12] = 0x08;
    f[13] = 0x00;
    f
}

/// A classic pcap in any byte order and resolution, built by hand.
fn classic(
    be: bool,
    nanos: bool,
    linktype: u32,
    snaplen: u32,
    recs: &[(u32, u32, &[u8])],
) -> Vec<u8> {
    let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
    let w32 = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let w16 = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let mut b = Vec::new();
    b.extend(w32(magic));
    b.extend(w16(2));
    b.extend(w16(4));
    b.extend(w32(0));
    b.extend(w32(0));
    b.extend(w32(snaplen));
    b.extend(w32(linktype));
    for (s, frac, d) in recs {
        b.extend(w32(*s));
        b.extend(w32(*frac));
        b.extend(w32(d.len() as u32));
        b.extend(w32(d.len() as u32 + 10));
        b.extend_from_slice(d);
    }
    b
}

fn read_bytes(b: &[u8]) -> Result<Vec<Packet>, String> {
    let r =
        TraceReader::from_reader("mem.pcap", Cursor::new(b.to_vec())).map_err(|e| e.to_string())?;
    r.read_all().map_err(|e| e.to_string())
}

fn err_of(b: &[u8]) -> String {
    read_bytes(b).expect_err("should fail")
}

#[test]
fn classic_pcap_all_magics_and_byte_orders() {
    let f1 = frame(60, 1);
    let f2 = frame(70, 2);
    for be in [false, true] {
        for nanos in [false, true] {
            let b = classic(be, nanos, 1, 65535, &[(10, 5, &f1), (11, 999, &f2)]);
            let p = read_bytes(&b).unwrap();
            let unit = if nanos { 1 } else { 1000 };
            assert_eq!(p.len(), 2);
            assert_eq!(p[0].ns, 10_000_000_000 + 5 * unit);
            assert_eq!(p[1].ns, 11_000_000_000 + 999 * unit);
            assert_eq!(p[0].data, f1);
            assert_eq!(p[1].orig_len, 80);
        }
    }
}

#[test]
fn pcapng_resolutions_byte_orders_and_simple_packets() {
    for be in [false, true] {
        let mut w = PcapNgWriter::new(be);
        w.interface(1, 0, None); // µs
        w.interface(1, 0, Some(9)); // ns
        w.interface(1, 0, Some(0x80 | 20)); // 2^-20 s
        w.interface(1, 64, Some(3)); // ms, snaplen 64
        let f = frame(61, 7);
        w.epb(0, 1_500_000, &f, 100);
        w.epb(1, 1_500_000_123, &f, 61);
        w.epb(2, 3 << 20, &f, 61);
        w.epb(3, 2_001, &f[..60], 61);
        w.spb(&f);
        let p = read_bytes(&w.bytes).unwrap();
        assert_eq!(p.len(), 5);
        assert_eq!(p[0].ns, 1_500_000_000);
        assert_eq!((p[0].data.len(), p[0].orig_len), (61, 100));
        assert_eq!(p[1].ns, 1_500_000_123);
        assert_eq!(p[2].ns, 3_000_000_000);
        assert_eq!(p[3].ns, 2_001_000_000);
        assert_eq!(p[3].data.len(), 60);
        // A simple packet has no timestamp: it takes the previous packet's.
        assert_eq!(p[4].ns, p[3].ns);
        assert_eq!(p[4].data, f);
    }
}

#[test]
fn pcapng_timestamp_conversion() {
    assert_eq!(pcapng_ns(7, 6, 0), Some(7_000));
    assert_eq!(pcapng_ns(7, 9, 0), Some(7));
    assert_eq!(pcapng_ns(7_000, 12, 0), Some(7));
    assert_eq!(pcapng_ns(1 << 30, 0x80 | 30, 0), Some(1_000_000_000));
    assert_eq!(pcapng_ns(1 << 40, 0x80 | 40, 0), Some(1_000_000_000));
    assert_eq!(pcapng_ns(1, 6, 2), Some(2_000_001_000));
    assert_eq!(pcapng_ns(5_000_001, 6, -5), Some(1_000));
    assert_eq!(pcapng_ns(u64::MAX, 9, 0), Some(u64::MAX));
    // Out of range: never saturated.
    assert_eq!(pcapng_ns(1, 6, -5), None);
    assert_eq!(pcapng_ns(u64::MAX, 0, 0), None);
    assert_eq!(pcapng_ns(1, 9, 1 << 35), None);
    // Finer than a picosecond: not a resolution BloomTime reads.
    assert!(tsresol_supported(12) && tsresol_supported(0x80 | 40));
    for r in [13, 120, 0x7f, 0x80 | 41, 0x80 | 63, 0xff] {
        assert!(!tsresol_supported(r), "{r:#x}");
        assert_eq!(pcapng_ns(123, r, 0), None, "{r:#x}");
    }
}

/// Issue 15, item 2: an `if_tsresol` or `if_tsoffset` that used to saturate
/// every timestamp (every IAT then read 0) is an error naming the option
/// and its value; a sane offset is applied in either byte order.
#[test]
fn pcapng_absurd_resolution_or_offset_is_an_error() {
    let f = frame(60, 1);
    let one = |be: bool, tsresol: Option<u8>, tsoffset: Option<i64>, ts: u64| {
        let mut w = PcapNgWriter::new(be);
        w.interface_with_offset(1, 0, tsresol, tsoffset);
        w.epb(0, ts, &f, 60);
        w.bytes
    };
    for be in [false, true] {
        // A sane offset: applied, in the section's byte order.
        let p = read_bytes(&one(be, None, Some(1_700_000_000), 2_500_000)).unwrap();
        assert_eq!(p[0].ns, 1_700_000_002_500_000_000);
        let p = read_bytes(&one(be, Some(9), Some(-2000), 3_000_000_000_000)).unwrap();
        assert_eq!(p[0].ns, 1_000_000_000_000);
        for r in [0xffu8, 0x80 | 63, 13] {
            let e = err_of(&one(be, Some(r), None, 1));
            one_line_naming(&e, "mem.pcap");
            assert!(
                e.contains(&format!("if_tsresol {r:#04x}"))
                    && e.contains("interface description block at byte 28")
                    && e.contains("not supported"),
                "{e}"
            );
        }
        for o in [1i64 << 35, 1 << 62, -(1 << 62), i64::MIN, 18_446_744_074] {
            let e = err_of(&one(be, None, Some(o), 1));
            one_line_naming(&e, "mem.pcap");
            assert!(
                e.contains(&format!("if_tsoffset {o} s")) && e.contains("outside 1970..2554"),
                "{e}"
            );
        }
        // −2000 s on a packet at 1000 s: before the epoch.
        let e = err_of(&one(be, None, Some(-2000), 1_000_000_000));
        one_line_naming(&e, "mem.pcap");
        assert!(
            e.contains("packet 1 (block at byte ")
                && e.contains("timestamp 1000000000 in units of 10^-6 s")
                && e.contains("if_tsoffset -2000 s is before 1970"),
            "{e}"
        );
        // An offset in range, on a packet it carries beyond u64 nanoseconds.
        let e = err_of(&one(be, Some(0), Some(18_000_000_000), 500_000_000));
        assert!(
            e.contains("timestamp 500000000 in units of 10^-0 s with if_tsoffset 18000000000 s is beyond 2554"),
            "{e}"
        );
        // A resolution of seconds whose 64-bit count overflows nanoseconds.
        let e = err_of(&one(be, Some(0), None, 1 << 40));
        assert!(
            e.contains("units of 10^-0 s") && e.contains("beyond 2554"),
            "{e}"
        );
    }
    // The second packet is the bad one: the first is still read.
    let mut w = PcapNgWriter::new(false);
    w.interface_with_offset(1, 0, None, Some(-2000));
    w.epb(0, 3_000_000_000, &f, 60);
    w.epb(0, 1_000_000_000, &f, 60);
    let mut r = TraceReader::from_reader("two.pcapng", Cursor::new(w.bytes)).unwrap();
    assert_eq!(r.next().unwrap().unwrap().ns, 1_000_000_000_000);
    let e = r.next().unwrap().unwrap_err().to_string();
    assert!(e.starts_with("two.pcapng: packet 2 (block at byte "), "{e}");
}

/// Issue 15, item 3: a classic pcap record whose fraction of a second is
/// not one (`ts_usec >= 10^6`, `ts_nsec >= 10^9`) is an error naming the
/// record and the value, not an IAT of 4295 s.
#[test]
fn pcap_fraction_of_a_second_must_be_below_one_second() {
    let f = frame(60, 1);
    for be in [false, true] {
        for (nanos, limit, field) in [
            (false, 1_000_000u32, "ts_usec"),
            (true, 1_000_000_000, "ts_nsec"),
        ] {
            let ok = classic(be, nanos, 1, 65535, &[(1, 0, &f), (1, limit - 1, &f)]);
            assert_eq!(read_bytes(&ok).unwrap().len(), 2);
            for bad in [limit, u32::MAX] {
                let b = classic(be, nanos, 1, 65535, &[(1, 0, &f), (1, bad, &f)]);
                let e = err_of(&b);
                one_line_naming(&e, "mem.pcap");
                assert!(
                    e.contains(&format!(
                        "record 2 at byte 100: {field} {bad} is not below {limit}"
                    )),
                    "{e}"
                );
            }
        }
    }
}

#[test]
fn generated_pcap_round_trips() {
    let mut w = PcapWriter::new(Vec::new(), 100).unwrap();
    w.write(1_700_000_000_123_456_789, &frame(60, 1)).unwrap();
    w.write(1_700_000_001_000_000_000, &frame(300, 2)).unwrap();
    let b = w.into_inner();
    let p = read_bytes(&b).unwrap();
    assert_eq!(p[0].ns, 1_700_000_000_123_456_789);
    assert_eq!((p[1].data.len(), p[1].orig_len), (100, 300));
}

fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bloomtime-traces-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn merge_is_by_timestamp_and_stable() {
    let f = frame(60, 0);
    let a = classic(
        false,
        true,
        1,
        65535,
        &[(1, 0, &f), (3, 0, &f), (3, 0, &f), (5, 0, &f)],
    );
    let b = classic(true, false, 1, 65535, &[(2, 0, &f), (3, 0, &f), (4, 0, &f)]);
    let pa = tmp("merge-a.pcap", &a);
    let pb = tmp("merge-b.pcap", &b);
    let mut m = MergedTraces::open(&[&pa, &pb]).unwrap();
    let mut got = Vec::new();
    while let Some((p, i)) = m.next_packet().unwrap() {
        got.push((p.ns / 1_000_000_000, i));
    }
    assert_eq!(
        got,
        vec![(1, 0), (2, 1), (3, 0), (3, 0), (3, 1), (4, 1), (5, 0)]
    );
}

#[test]
fn shared_traces_read_when_present() {
    let Some(traces) = bloomtime_testkit::shared::for_test() else {
        return;
    };
    for p in &traces {
        let pk = read_file(p).unwrap_or_else(|e| panic!("{e}"));
        assert!(!pk.is_empty(), "{}", p.display());
        assert!(pk
            .iter()
            .all(|x| x.data.len() <= x.orig_len as usize || x.orig_len == 0));
    }
    eprintln!("read {} shared traces", traces.len());
}

/// A reader takes a record straight from its buffer when the buffer holds
/// it, and reads on otherwise: through buffers of a few bytes (so that
/// nearly every header and record straddles a refill) every capture reads
/// as it does through the usual megabyte, and a cut capture fails with the
/// same message wherever the cut falls.
#[test]
fn small_buffers_read_the_same() {
    let Some(traces) = bloomtime_testkit::shared::for_test() else {
        return;
    };
    let through = |b: &[u8], cap: usize| -> Result<Vec<Packet>, String> {
        let r = std::io::BufReader::with_capacity(cap, Cursor::new(b.to_vec()));
        let r = TraceReader::from_reader("mem.pcap", r).map_err(|e| e.to_string())?;
        r.read_all().map_err(|e| e.to_string())
    };
    let mut n = 0;
    for p in &traces {
        let b = std::fs::read(p).unwrap();
        let want = read_bytes(&b);
        for cap in [1, 7, 16, 17, 4096] {
            assert!(
                through(&b, cap) == want,
                "{} through {cap} bytes",
                p.display()
            );
        }
        n += 1;
    }
    assert!(n > 0);
    let f = frame(60, 1);
    let b = classic(
        false,
        false,
        1,
        65535,
        &[(1, 0, &f), (2, 0, &f), (3, 0, &f)],
    );
    for cut in 24..b.len() {
        for cap in [1, 5, 16, 33, 1 << 20] {
            assert_eq!(
                through(&b[..cut], cap),
                read_bytes(&b[..cut]),
                "cut {cut} cap {cap}"
            );
        }
    }
}

// One test per error kind: each message is one line naming the file.

fn one_line_naming(msg: &str, file: &str) {
    assert!(!msg.contains('\n'), "{msg}");
    assert!(msg.starts_with(file), "{msg}");
}

#[test]
fn error_missing_file() {
    let e = TraceReader::open("/nonexistent/dir/x.pcap")
        .unwrap_err()
        .to_string();
    one_line_naming(&e, "/nonexistent/dir/x.pcap");
    assert!(e.contains("no such file"), "{e}");
}

#[test]
fn error_bad_magic() {
    let e = err_of(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n");
    one_line_naming(&e, "mem.pcap");
    assert!(e.contains("not a pcap or pcapng capture"), "{e}");
    let e = err_of(b"");
    assert!(e.contains("empty file"), "{e}");
}

#[test]
fn error_truncated_header_and_records() {
    let f = frame(60, 1);
    let b = classic(false, false, 1, 65535, &[(1, 0, &f), (2, 0, &f)]);
    let e = err_of(&b[..10]);
    assert!(e.contains("truncated pcap file header"), "{e}");
    let e = err_of(&b[..24 + 76 + 9]);
    assert!(e.contains("truncated record header at byte 100"), "{e}");
    let e = err_of(&b[..b.len() - 1]);
    one_line_naming(&e, "mem.pcap");
    assert!(e.contains("truncated record at byte 100"), "{e}");
    let mut w = PcapNgWriter::new(false);
    w.interface(1, 0, None);
    w.epb(0, 1, &f, 60);
    let e = err_of(&w.bytes[..w.bytes.len() - 3]);
    assert!(e.contains("truncated pcapng block"), "{e}");
}

#[test]
fn error_absurd_caplen() {
    let f = frame(60, 1);
    let mut b = classic(false, false, 1, 65535, &[(1, 0, &f)]);
    b[24 + 8..24 + 12].copy_from_slice(&(MAX_CAPLEN + 1).to_le_bytes());
    let e = err_of(&b);
    one_line_naming(&e, "mem.pcap");
    assert!(e.contains("absurd captured length 262145"), "{e}");
    // More than twice the snaplen.
    let b = classic(true, false, 1, 20, &[(1, 0, &f)]);
    let e = err_of(&b);
    assert!(e.contains("absurd captured length 60"), "{e}");
    // pcapng: the enhanced packet's caplen is checked before its data is read.
    let mut w = PcapNgWriter::new(false);
    w.interface(1, 0, None);
    w.epb(0, 1, &f, 60);
    let at = w.bytes.len() - (32 + 60);
    w.bytes[at + 20..at + 24].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let e = err_of(&w.bytes);
    assert!(e.contains("absurd captured length 2147483647"), "{e}");
}

#[test]
fn error_unsupported_link_type() {
    let f = frame(60, 1);
    let e = err_of(&classic(false, false, 105, 65535, &[(1, 0, &f)]));
    assert_eq!(
        e,
        "mem.pcap: link type 105 (IEEE 802.11) is not supported: BloomTime reads Ethernet (1), \
         Linux cooked SLL and SLL2 (113, 276), raw IP (101, 228, 229) and BSD loopback (0, 108)"
    );
    let e = err_of(&classic(false, false, 4242, 65535, &[]));
    assert!(e.contains("link type 4242 is not supported"), "{e}");
    // The old DLT_RAW values mean different things on different systems.
    let e = err_of(&classic(false, false, 12, 65535, &[(1, 0, &f)]));
    assert!(e.contains("link type 12 (raw IP, an old"), "{e}");
    // pcapng: an interface of a link type not read fails at its first
    // packet; the packets of the other interfaces before it are read.
    let mut w = PcapNgWriter::new(true);
    w.interface(1, 0, None);
    w.interface(14, 0, None);
    w.epb(0, 1, &f, 60);
    w.epb(1, 2, &f, 60);
    let r = TraceReader::from_reader("mem.pcapng", Cursor::new(w.bytes)).unwrap();
    let got: Vec<_> = r.collect();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].as_ref().unwrap().data, f);
    let e = got[1].as_ref().unwrap_err().to_string();
    assert!(e.contains("link type 14 (raw IP, an old"), "{e}");
}

/// Every link type read, in classic pcap (both byte orders) and pcapng
/// (enhanced and simple packet blocks, several link types in one file):
/// the frames come out as the same Ethernet frame with the same lengths.
#[test]
fn every_link_type_becomes_the_same_ethernet_frame() {
    use bloomtime_traces::link::{LinkType, LINK_TYPES};
    // An IPv4 frame with zero MAC addresses: what every link type gives.
    let mut eth = frame(60, 7);
    eth[..12].fill(0);
    eth[14] = 0x45;
    let ip = &eth[14..];
    let link_header = |lt: LinkType| -> Vec<u8> {
        match lt {
            LinkType::Ethernet => eth[..14].to_vec(),
            LinkType::Sll => {
                let mut h = vec![0, 4, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0];
                h.extend_from_slice(&[0x08, 0x00]);
                h
            }
            LinkType::Sll2 => vec![
                0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0,
            ],
            LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => vec![],
            LinkType::Null => 2u32.to_le_bytes().to_vec(),
            LinkType::Loop => 2u32.to_be_bytes().to_vec(),
        }
    };
    for (n, lt) in LINK_TYPES {
        if lt == LinkType::Ipv6 {
            continue;
        }
        let mut f = link_header(lt);
        f.extend_from_slice(ip);
        // Its wire length as an Ethernet frame of 1500 bytes.
        let wire = 1500 - 60 + f.len() as u32;
        for be in [false, true] {
            let got = read_bytes(&classic(be, true, n as u32, 65535, &[(5, 9, &f)])).unwrap();
            assert_eq!(got.len(), 1, "{lt:?}");
            assert_eq!(got[0].data, eth, "{lt:?}");
            // `classic` writes a wire length 10 above the captured one.
            assert_eq!(got[0].orig_len, 70, "{lt:?}");
            assert_eq!(got[0].ns, 5_000_000_009);
        }
        let mut w = PcapNgWriter::new(false);
        w.interface(1, 0, Some(9));
        w.interface(n as u16, 0, Some(9));
        w.epb(1, 77, &f, wire);
        w.epb(0, 78, &eth, 1500);
        let got = read_bytes(&w.bytes).unwrap();
        assert_eq!(got[0].data, eth, "{lt:?}");
        assert_eq!(got[0].orig_len, 1500);
        assert_eq!(got[1].data, eth);
        let mut w = PcapNgWriter::new(true);
        w.interface(n as u16, 0, None);
        w.spb(&f);
        let got = read_bytes(&w.bytes).unwrap();
        assert_eq!(got[0].data, eth, "{lt:?}");
    }
}

#[test]
fn error_malformed_pcapng() {
    let f = frame(60, 1);
    // A packet on an interface that was never described.
    let mut w = PcapNgWriter::new(false);
    w.epb(3, 1, &f, 60);
    let e = err_of(&w.bytes);
    assert!(e.contains("interface 3 was never described"), "{e}");
    // A block length that is not a multiple of 4.
    let mut w = PcapNgWriter::new(false);
    w.interface(1, 0, None);
    let at = w.bytes.len();
    w.epb(0, 1, &f, 60);
    w.bytes[at + 4] = 0x41;
    let e = err_of(&w.bytes);
    assert!(e.contains("bad pcapng block length"), "{e}");
}

fn never_panics(b: &[u8]) {
    let r = std::panic::catch_unwind(|| {
        if let Ok(r) = TraceReader::from_reader("junk", Cursor::new(b.to_vec())) {
            for p in r {
                if let Err(e) = p {
                    let s = e.to_string();
                    assert!(!s.contains('\n'));
                    break;
                }
            }
        }
    });
    assert!(
        r.is_ok(),
        "panicked on {} bytes: {:02x?}",
        b.len(),
        &b[..b.len().min(64)]
    );
}

#[test]
fn random_and_truncated_input_never_panics() {
    let mut x = bloomtime_testkit::Rng::new(0x2545_f491_4f6c_dd1d);
    let f = frame(60, 3);
    let pcap = classic(false, true, 1, 65535, &[(1, 0, &f), (2, 0, &f), (3, 0, &f)]);
    let mut ng = PcapNgWriter::new(false);
    ng.interface(1, 0, Some(9));
    ng.epb(0, 5, &f, 60);
    ng.spb(&f);
    ng.epb(0, 9, &f, 60);
    let mut ngbe = PcapNgWriter::new(true);
    ngbe.interface(1, 128, None);
    ngbe.epb(0, 5, &f, 60);
    for valid in [&pcap, &ng.bytes, &ngbe.bytes] {
        // Every truncation.
        for n in 0..=valid.len() {
            never_panics(&valid[..n]);
        }
        // Random corruption of a valid file.
        for _ in 0..2000 {
            let mut b = valid.to_vec();
            for _ in 0..1 + x.next() % 4 {
                let i = (x.next() % b.len() as u64) as usize;
                b[i] = x.next() as u8;
            }
            never_panics(&b);
        }
    }
    // Pure junk, with and without a valid magic in front.
    let magics: [&[u8]; 4] = [
        b"",
        &[0xd4, 0xc3, 0xb2, 0xa1],
        &[0x0a, 0x0d, 0x0d, 0x0a],
        &[0xa1, 0xb2, 0x3c, 0x4d],
    ];
    for m in magics {
        for len in 0..200 {
            let mut b = m.to_vec();
            for _ in 0..len {
                b.push(x.next() as u8);
            }
            never_panics(&b);
        }
    }
}
