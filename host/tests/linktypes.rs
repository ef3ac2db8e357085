//! Captures of every link type read give the same per-flow results as the
//! same traffic captured as Ethernet (issue 14). The captures in
//! `traces/data/linktypes/` were made by tcpdump at once on one traffic
//! (scripts/make-linktype-captures.sh): Ethernet on `lo`, Linux cooked v1
//! and v2 on `any`, raw IP on a tun device with Linux cooked v2 beside it.
//! BSD null/loop and raw IPv4/IPv6 (228, 229), which no Linux tool writes,
//! are made here from the Ethernet capture by swapping its header. The
//! model device (the board's protocol, Ethernet-only parser) sees the same
//! frames as `analyze`.

mod devsupport;

use bloomtime_traces::link::{
    LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LOOP, LINKTYPE_NULL, LINKTYPE_RAW,
};
use bloomtime_traces::pcap::read_file;
use bloomtime_traces::writer::PcapNgWriter;
use bloomtime_traces::Packet;
use std::path::PathBuf;
use std::process::Command;

fn capture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../traces/data/linktypes")
        .join(name)
}

fn analyze(args: &[&str], file: &PathBuf) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_bloomtime"))
        .arg("analyze")
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}: {}",
        file.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn exact_csv(file: &PathBuf) -> String {
    analyze(&["--exact", "--format", "csv"], file)
}

fn link_type_of(file: &PathBuf) -> u32 {
    let b = std::fs::read(file).unwrap();
    u32::from_le_bytes(b[20..24].try_into().unwrap())
}

fn is_tcp(p: &Packet) -> bool {
    let et = u16::from_be_bytes([p.data[12], p.data[13]]);
    (et == 0x0800 && p.data[14 + 9] == 6) || (et == 0x86dd && p.data[14 + 6] == 6)
}

/// The CSV's rows with the timing cells of TCP rows cut off (columns 7
/// on: IAT and RTT figures), and those cells apart.
fn split_tcp_timing(csv: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let mut rows = Vec::new();
    let mut timing = Vec::new();
    for line in csv.lines() {
        let cells: Vec<&str> = line.split(',').collect();
        if cells[0] == "6" {
            rows.push(cells[..7].join(","));
            timing.push(
                cells[7..]
                    .iter()
                    .map(|c| c.parse().unwrap_or(-1.0))
                    .collect(),
            );
        } else {
            rows.push(line.to_string());
        }
    }
    (rows, timing)
}

/// Same packets and frames; the per-flow CSV identical but for TCP timing
/// (the kernel stamps a TCP packet on loopback for each capture socket
/// apart, a few microseconds apart; ICMP and UDP carry one stamp).
#[test]
fn loopback_as_ethernet_sll_and_sll2_gives_the_same_flows() {
    let eth = capture("lo-ethernet.pcap");
    assert_eq!(link_type_of(&eth), 1);
    let want = read_file(&eth).unwrap();
    assert!(want.len() >= 40);
    let want_csv = exact_csv(&eth);
    assert!(want_csv.lines().count() >= 6, "{want_csv}");
    for (name, lt) in [("lo-sll.pcap", 113), ("lo-sll2.pcap", 276)] {
        let f = capture(name);
        assert_eq!(link_type_of(&f), lt, "{name}");
        let got = read_file(&f).unwrap();
        assert_eq!(got.len(), want.len(), "{name}");
        let mut tcp_off = 0;
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            // lo's Ethernet header has zero MACs: the very synthetic header.
            assert_eq!(g.data, w.data, "{name} packet {i}");
            assert_eq!(g.orig_len, w.orig_len, "{name} packet {i}");
            if is_tcp(w) {
                tcp_off = tcp_off.max(g.ns.abs_diff(w.ns));
            } else {
                assert_eq!(g.ns, w.ns, "{name} packet {i}");
            }
        }
        assert!(tcp_off < 1_000_000, "{name}: TCP stamps {tcp_off} ns apart");
        let csv = exact_csv(&f);
        let (rows, timing) = split_tcp_timing(&csv);
        let (want_rows, want_timing) = split_tcp_timing(&want_csv);
        assert_eq!(rows, want_rows, "{name}");
        for (g, w) in timing.iter().zip(&want_timing) {
            for (a, b) in g.iter().zip(w) {
                assert!(
                    (a - b).abs() <= 2.0 * tcp_off as f64 / 1e3,
                    "{name}: {g:?} {w:?}"
                );
            }
        }
        // The estimate too: the same table.
        assert_eq!(
            analyze(&["--format", "csv"], &f).lines().count(),
            want_csv.lines().count()
        );
    }
}

#[test]
fn raw_ip_and_sll2_on_a_tun_device_give_identical_flows() {
    let raw = capture("tun-raw.pcap");
    let sll2 = capture("tun-sll2.pcap");
    assert_eq!(link_type_of(&raw), 101);
    assert_eq!(link_type_of(&sll2), 276);
    assert_eq!(read_file(&raw).unwrap(), read_file(&sll2).unwrap());
    let csv = exact_csv(&raw);
    assert_eq!(csv, exact_csv(&sll2));
    // The pings, their replies with RTT samples, the UDP datagrams and the
    // kernel's IPv6 router solicitation.
    assert!(csv.contains("\n1,10.14.0.2,5134,10.14.0.1,0,5,4,"), "{csv}");
    assert!(csv.contains(",ff02::2,0,1,0,"), "{csv}");
    let json = analyze(&["--format", "json"], &raw);
    assert!(json.contains("\"records\": 16"), "{json}");
}

/// The Ethernet capture rewritten with every other link header (pcapng, one
/// interface per link type), by the inverse of the reader's rule: the
/// same CSV, byte for byte.
#[test]
fn null_loop_and_raw_ip_headers_give_the_same_flows() {
    let eth = capture("lo-ethernet.pcap");
    let packets = read_file(&eth).unwrap();
    let want = exact_csv(&eth);
    let dir = std::env::temp_dir().join(format!("bloomtime-linktypes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for lt in [
        LINKTYPE_NULL,
        LINKTYPE_LOOP,
        LINKTYPE_RAW,
        LINKTYPE_IPV4,
        LINKTYPE_IPV6,
    ] {
        let mut w = PcapNgWriter::new(lt == LINKTYPE_LOOP);
        w.interface(lt as u16, 0, Some(9));
        // Raw IPv4 and raw IPv6 each take their own packets; the other
        // family goes on an Ethernet interface.
        w.interface(1, 0, Some(9));
        for p in &packets {
            let v6 = p.data[12..14] == [0x86, 0xdd];
            let mut f = match lt {
                // The capturing host's order: little-endian here, and a
                // BSD's AF_INET6 (28).
                LINKTYPE_NULL => (if v6 { 28u32 } else { 2 }).to_le_bytes().to_vec(),
                LINKTYPE_LOOP => (if v6 { 24u32 } else { 2 }).to_be_bytes().to_vec(),
                _ => vec![],
            };
            let iface = match lt {
                LINKTYPE_IPV4 if v6 => 1,
                LINKTYPE_IPV6 if !v6 => 1,
                _ => 0,
            };
            if iface == 1 {
                f = p.data[..14].to_vec();
            }
            f.extend_from_slice(&p.data[14..]);
            let wire = p.orig_len - 14 + f.len() as u32 - (p.data.len() as u32 - 14);
            w.epb(iface, p.ns, &f, wire);
        }
        let path = dir.join(format!("lo-{lt}.pcapng"));
        std::fs::write(&path, &w.bytes).unwrap();
        let got = read_file(&path).unwrap();
        assert_eq!(got, packets, "link type {lt}");
        assert_eq!(exact_csv(&path), want, "link type {lt}");
    }
}

/// Frames that do not parse are counted drops in `analyze`'s counters,
/// whatever the link type: a cut link header is `truncated`, ARP in SLL2
/// and an AppleTalk loopback family are `non_ip`, a raw packet of IP
/// version 5 is `bad_ip`; a VLAN tag inside SLL2 is parsed.
#[test]
fn unparseable_frames_of_every_link_type_are_counted_drops() {
    let udp = {
        let mut ip = vec![0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 17, 0, 0];
        ip.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        ip.extend_from_slice(&[0x13, 0x88, 0, 53, 0, 8, 0, 0]);
        ip
    };
    let sll2 = |proto: u16| {
        let mut h = proto.to_be_bytes().to_vec();
        h.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0]);
        h
    };
    let mut w = PcapNgWriter::new(false);
    w.interface(276, 0, Some(9));
    w.interface(0, 0, Some(9));
    w.interface(101, 0, Some(9));
    let mut frames: Vec<(u32, Vec<u8>)> = Vec::new();
    let mut ok = sll2(0x0800);
    ok.extend_from_slice(&udp);
    frames.push((0, ok));
    let mut tagged = sll2(0x8100);
    tagged.extend_from_slice(&[0, 7, 0x08, 0x00]);
    tagged.extend_from_slice(&udp);
    frames.push((0, tagged));
    let mut arp = sll2(0x0806);
    arp.extend_from_slice(&[0; 28]);
    frames.push((0, arp));
    frames.push((0, sll2(0x0800)[..8].to_vec()));
    let mut atalk = 16u32.to_le_bytes().to_vec();
    atalk.extend_from_slice(&udp);
    frames.push((1, atalk));
    frames.push((1, vec![2, 0]));
    let mut v5 = udp.clone();
    v5[0] = 0x55;
    frames.push((2, v5));
    for (i, (iface, f)) in frames.iter().enumerate() {
        w.epb(*iface, 1_000_000 * (i as u64 + 1), f, f.len() as u32);
    }
    let dir = std::env::temp_dir().join(format!("bloomtime-linkdrops-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("drops.pcapng");
    std::fs::write(&path, &w.bytes).unwrap();
    let json = analyze(&["--format", "json"], &path);
    for want in [
        "\"frames\": 7,",
        "\"records\": 2,",
        "\"drop_truncated\": 2,",
        "\"drop_non_ip\": 2,",
        "\"drop_bad_ip\": 1,",
    ] {
        assert!(json.contains(want), "{want} in {json}");
    }
    let csv = exact_csv(&path);
    assert!(
        csv.ends_with("\n17,10.0.0.1,5000,10.0.0.2,53,2,1,1000.000,0.000,1000.000,1000.000,0,,\n"),
        "{csv}"
    );
}

/// The board's path: every capture replayed into the model device (the
/// host adds the synthetic Ethernet header; the device's parser is
/// Ethernet only) gives the CSV of `analyze` with the board's preset.
#[test]
fn the_device_sees_the_same_ethernet_frames() {
    for name in [
        "lo-ethernet.pcap",
        "lo-sll.pcap",
        "lo-sll2.pcap",
        "tun-raw.pcap",
        "tun-sll2.pcap",
    ] {
        let f = capture(name);
        let got = devsupport::device_out(
            &["replay", f.to_str().unwrap(), "--format", "csv"],
            devsupport::model(),
        )
        .unwrap();
        assert_eq!(got, devsupport::analyze_csv(&[&f]), "{name}");
    }
}
