//! Frame parser rules (docs/DESIGN.md §2).
//!
//! Written as a walk over a fixed header window with a running offset, so the
//! RTL parser (`hw/src/frame_parser.rs`) implements the same rules on a byte
//! stream. Every rule has a test below.

use crate::config::{HEADER_WINDOW, MAX_EXT_HEADERS};
use crate::key::*;
use serde::Serialize;
use std::fmt;

/// Why the parser dropped a frame. The discriminant is the counter index.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The frame ends before a header the parse needs.
    Truncated = 0,
    /// Not IPv4 or IPv6 (ARP, LLDP, 802.3 length field, ...).
    NonIp = 1,
    /// More than two VLAN tags.
    VlanDepth = 2,
    /// IP version nibble, IHL or total length inconsistent.
    BadIp = 3,
    /// A non-first fragment (no transport header).
    Fragment = 4,
    /// More than `MAX_EXT_HEADERS` IPv6 extension headers.
    ExtChain = 5,
    /// A needed header lies beyond the header window.
    HeaderWindow = 6,
}

pub const DROP_REASONS: [DropReason; 7] = [
    DropReason::Truncated,
    DropReason::NonIp,
    DropReason::VlanDepth,
    DropReason::BadIp,
    DropReason::Fragment,
    DropReason::ExtChain,
    DropReason::HeaderWindow,
];

impl DropReason {
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Truncated => "truncated",
            DropReason::NonIp => "non_ip",
            DropReason::VlanDepth => "vlan_depth",
            DropReason::BadIp => "bad_ip",
            DropReason::Fragment => "fragment",
            DropReason::ExtChain => "ext_chain",
            DropReason::HeaderWindow => "header_window",
        }
    }
    pub fn from_index(i: u8) -> Option<DropReason> {
        DROP_REASONS.get(i as usize).copied()
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

pub const ETH_IPV4: u16 = 0x0800;
pub const ETH_IPV6: u16 = 0x86DD;
pub const ETH_VLAN: [u16; 3] = [0x8100, 0x88A8, 0x9100];
/// IPv6 extension headers the parser walks.
pub const IPV6_EXT: [u8; 8] = [0, 43, 44, 51, 60, 135, 139, 140];

/// A parsed frame: the key and record flags.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Parsed {
    pub key: FlowKey,
    pub flags: u8,
}

struct Window<'a> {
    bytes: &'a [u8],
    caplen: usize,
}

impl Window<'_> {
    /// Bytes `[0, n)` must be present.
    fn need(&self, n: usize) -> Result<(), DropReason> {
        if n > self.caplen {
            Err(DropReason::Truncated)
        } else if n > HEADER_WINDOW || n > self.bytes.len() {
            Err(DropReason::HeaderWindow)
        } else {
            Ok(())
        }
    }
    fn u8(&self, i: usize) -> u8 {
        self.bytes[i]
    }
    fn u16(&self, i: usize) -> u16 {
        u16::from_be_bytes([self.bytes[i], self.bytes[i + 1]])
    }
}

/// Parse a captured frame (all its captured bytes; only the header window is read).
pub fn parse_frame(captured: &[u8]) -> Result<Parsed, DropReason> {
    let n = captured.len().min(HEADER_WINDOW);
    parse_window(&captured[..n], captured.len())
}

/// Parse the first `min(caplen, HEADER_WINDOW)` bytes of a frame whose captured
/// length is `caplen`: what the hardware receives.
pub fn parse_window(bytes: &[u8], caplen: usize) -> Result<Parsed, DropReason> {
    let w = Window { bytes, caplen };
    w.need(14)?;
    let mut ethertype = w.u16(12);
    let mut off = 14;
    let mut vlans = 0;
    while ETH_VLAN.contains(&ethertype) {
        if vlans == 2 {
            return Err(DropReason::VlanDepth);
        }
        w.need(off + 4)?;
        ethertype = w.u16(off + 2);
        off += 4;
        vlans += 1;
    }
    let (v6, src, dst, proto, l4) = match ethertype {
        ETH_IPV4 => {
            w.need(off + 20)?;
            let vihl = w.u8(off);
            let ihl = (vihl & 0x0f) as usize * 4;
            if vihl >> 4 != 4 || ihl < 20 || (w.u16(off + 2) as usize) < ihl {
                return Err(DropReason::BadIp);
            }
            if w.u16(off + 6) & 0x1fff != 0 {
                return Err(DropReason::Fragment);
            }
            let mut s = [0u8; 4];
            let mut d = [0u8; 4];
            s.copy_from_slice(&bytes[off + 12..off + 16]);
            d.copy_from_slice(&bytes[off + 16..off + 20]);
            (false, v4_mapped(s), v4_mapped(d), w.u8(off + 9), off + ihl)
        }
        ETH_IPV6 => {
            w.need(off + 40)?;
            if w.u8(off) >> 4 != 6 {
                return Err(DropReason::BadIp);
            }
            let mut s = [0u8; 16];
            let mut d = [0u8; 16];
            s.copy_from_slice(&bytes[off + 8..off + 24]);
            d.copy_from_slice(&bytes[off + 24..off + 40]);
            let mut nh = w.u8(off + 6);
            let mut p = off + 40;
            let mut n_ext = 0;
            while IPV6_EXT.contains(&nh) {
                if n_ext == MAX_EXT_HEADERS {
                    return Err(DropReason::ExtChain);
                }
                w.need(p + 8)?;
                let len = match nh {
                    44 => {
                        if w.u16(p + 2) >> 3 != 0 {
                            return Err(DropReason::Fragment);
                        }
                        8
                    }
                    51 => (w.u8(p + 1) as usize + 2) * 4,
                    _ => (w.u8(p + 1) as usize + 1) * 8,
                };
                nh = w.u8(p);
                p += len;
                n_ext += 1;
            }
            (true, s, d, nh, p)
        }
        _ => return Err(DropReason::NonIp),
    };
    let (sport, dport, flags) = match proto {
        PROTO_TCP => {
            w.need(l4 + 14)?;
            let f = w.u8(l4 + 13);
            let flags = match (f & 0x02 != 0, f & 0x10 != 0) {
                (true, false) => FLAG_TCP_SYN,
                (true, true) => FLAG_TCP_SYNACK,
                _ => 0,
            };
            (w.u16(l4), w.u16(l4 + 2), flags)
        }
        PROTO_UDP | PROTO_UDPLITE | PROTO_SCTP | PROTO_DCCP => {
            w.need(l4 + 4)?;
            (w.u16(l4), w.u16(l4 + 2), 0)
        }
        PROTO_ICMP | PROTO_ICMPV6 => {
            w.need(l4 + 4)?;
            let (ty, code) = (w.u8(l4), w.u8(l4 + 1));
            let (req, rep) = if proto == PROTO_ICMP {
                (8, 0)
            } else {
                (128, 129)
            };
            if ty == req || ty == rep {
                w.need(l4 + 6)?;
                let f = if ty == req {
                    FLAG_ECHO_REQUEST
                } else {
                    FLAG_ECHO_REPLY
                };
                (w.u16(l4 + 4), 0, f)
            } else {
                (ty as u16, code as u16, 0)
            }
        }
        _ => (0, 0, 0),
    };
    Ok(Parsed {
        key: FlowKey {
            proto,
            v6,
            src,
            dst,
            sport,
            dport,
        },
        flags,
    })
}

/// Frame builders, shared by tests, the trace generator and the RTL tests.
pub mod build {
    use super::*;

    /// Ethernet header with `vlans` 802.1Q tags (0x88A8 outer for QinQ).
    pub fn eth(vlans: usize, ethertype: u16) -> Vec<u8> {
        let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
        for i in 0..vlans {
            let tpid: u16 = if vlans > 1 && i == 0 { 0x88A8 } else { 0x8100 };
            f.extend_from_slice(&tpid.to_be_bytes());
            f.extend_from_slice(&(100 + i as u16).to_be_bytes());
        }
        f.extend_from_slice(&ethertype.to_be_bytes());
        f
    }

    /// IPv4 header (no options unless `options` is non-empty) with payload length `plen`.
    pub fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], options: &[u8], plen: usize) -> Vec<u8> {
        assert!(options.len().is_multiple_of(4) && options.len() <= 40);
        let ihl = 5 + options.len() / 4;
        let total = (ihl * 4 + plen) as u16;
        let mut h = vec![(4 << 4) | ihl as u8, 0];
        h.extend_from_slice(&total.to_be_bytes());
        h.extend_from_slice(&[0x12, 0x34, 0x40, 0x00, 64, proto, 0, 0]);
        h.extend_from_slice(&src);
        h.extend_from_slice(&dst);
        h.extend_from_slice(options);
        let sum = checksum(&h);
        h[10..12].copy_from_slice(&sum.to_be_bytes());
        h
    }

    /// IPv6 header with payload length `plen`.
    pub fn ipv6(next: u8, src: [u8; 16], dst: [u8; 16], plen: usize) -> Vec<u8> {
        let mut h = vec![0x60, 0, 0, 0];
        h.extend_from_slice(&(plen as u16).to_be_bytes());
        h.push(next);
        h.push(64);
        h.extend_from_slice(&src);
        h.extend_from_slice(&dst);
        h
    }

    /// TCP header (20 bytes) with the given flags byte.
    pub fn tcp(sport: u16, dport: u16, flags: u8) -> Vec<u8> {
        let mut h = Vec::with_capacity(20);
        h.extend_from_slice(&sport.to_be_bytes());
        h.extend_from_slice(&dport.to_be_bytes());
        h.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        h
    }

    /// UDP header (8 bytes).
    pub fn udp(sport: u16, dport: u16, plen: usize) -> Vec<u8> {
        let mut h = Vec::with_capacity(8);
        h.extend_from_slice(&sport.to_be_bytes());
        h.extend_from_slice(&dport.to_be_bytes());
        h.extend_from_slice(&((8 + plen) as u16).to_be_bytes());
        h.extend_from_slice(&[0, 0]);
        h
    }

    /// ICMP / ICMPv6 header with identifier and sequence (8 bytes).
    pub fn icmp(ty: u8, code: u8, id: u16, seq: u16) -> Vec<u8> {
        let mut h = vec![ty, code, 0, 0];
        h.extend_from_slice(&id.to_be_bytes());
        h.extend_from_slice(&seq.to_be_bytes());
        h
    }

    /// The Internet checksum.
    pub fn checksum(b: &[u8]) -> u16 {
        let mut s: u32 = 0;
        for c in b.chunks(2) {
            let w = if c.len() == 2 {
                u16::from_be_bytes([c[0], c[1]])
            } else {
                (c[0] as u16) << 8
            };
            s += w as u32;
        }
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    }

    /// A whole frame: Ethernet (with `vlans` tags), IP, L4 header, payload of zeros.
    pub fn frame(key: &FlowKey, vlans: usize, l4: &[u8], payload: usize) -> Vec<u8> {
        let plen = l4.len() + payload;
        let mut f;
        if key.v6 {
            f = eth(vlans, ETH_IPV6);
            f.extend(ipv6(key.proto, key.src, key.dst, plen));
        } else {
            f = eth(vlans, ETH_IPV4);
            let s = [key.src[12], key.src[13], key.src[14], key.src[15]];
            let d = [key.dst[12], key.dst[13], key.dst[14], key.dst[15]];
            f.extend(ipv4(key.proto, s, d, &[], plen));
        }
        f.extend_from_slice(l4);
        f.resize(f.len() + payload, 0);
        f
    }
}

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;

    const A: [u8; 4] = [10, 0, 0, 1];
    const B: [u8; 4] = [192, 168, 7, 9];

    fn v6a(last: u8) -> [u8; 16] {
        let mut a = [0u8; 16];
        a[0] = 0x20;
        a[1] = 0x01;
        a[2] = 0x0d;
        a[3] = 0xb8;
        a[15] = last;
        a
    }

    fn tcp_frame(vlans: usize, flags: u8) -> Vec<u8> {
        let k = FlowKey::v4(PROTO_TCP, A, 40000, B, 443);
        frame(&k, vlans, &tcp(40000, 443, flags), 10)
    }

    #[test]
    fn ethernet_ipv4_tcp() {
        let p = parse_frame(&tcp_frame(0, 0x10)).unwrap();
        assert_eq!(p.key, FlowKey::v4(PROTO_TCP, A, 40000, B, 443));
        assert_eq!(p.flags, 0);
    }

    #[test]
    fn tcp_syn_and_synack_flags() {
        assert_eq!(
            parse_frame(&tcp_frame(0, 0x02)).unwrap().flags,
            FLAG_TCP_SYN
        );
        assert_eq!(
            parse_frame(&tcp_frame(0, 0x12)).unwrap().flags,
            FLAG_TCP_SYNACK
        );
        assert_eq!(parse_frame(&tcp_frame(0, 0x11)).unwrap().flags, 0);
    }

    #[test]
    fn vlan_and_qinq_are_skipped() {
        for v in 1..=2 {
            let p = parse_frame(&tcp_frame(v, 0x10)).unwrap();
            assert_eq!(p.key, FlowKey::v4(PROTO_TCP, A, 40000, B, 443));
        }
    }

    #[test]
    fn a_third_vlan_tag_is_dropped() {
        assert_eq!(parse_frame(&tcp_frame(3, 0x10)), Err(DropReason::VlanDepth));
    }

    #[test]
    fn runt_frames_are_truncated() {
        for n in 0..14 {
            assert_eq!(
                parse_frame(&tcp_frame(0, 0)[..n]),
                Err(DropReason::Truncated),
                "{n} bytes"
            );
        }
        // Truncated inside a VLAN tag, the IP header and the TCP header.
        let f = tcp_frame(1, 0);
        assert_eq!(parse_frame(&f[..16]), Err(DropReason::Truncated));
        assert_eq!(parse_frame(&f[..18 + 19]), Err(DropReason::Truncated));
        assert_eq!(parse_frame(&f[..18 + 20 + 13]), Err(DropReason::Truncated));
        assert!(parse_frame(&f[..18 + 20 + 14]).is_ok());
    }

    #[test]
    fn non_ip_ethertypes_are_dropped() {
        let mut arp = eth(0, 0x0806);
        arp.resize(60, 0);
        assert_eq!(parse_frame(&arp), Err(DropReason::NonIp));
        let mut llc = eth(0, 0x0040); // an 802.3 length field
        llc.resize(60, 0);
        assert_eq!(parse_frame(&llc), Err(DropReason::NonIp));
        let mut vlan_arp = eth(1, 0x0806);
        vlan_arp.resize(60, 0);
        assert_eq!(parse_frame(&vlan_arp), Err(DropReason::NonIp));
    }

    #[test]
    fn ipv4_options_are_skipped() {
        let k = FlowKey::v4(PROTO_UDP, A, 53, B, 5353);
        let mut f = eth(0, ETH_IPV4);
        f.extend(ipv4(PROTO_UDP, A, B, &[1; 40], 8));
        f.extend(udp(53, 5353, 0));
        assert_eq!(parse_frame(&f).unwrap().key, k);
    }

    #[test]
    fn bad_ipv4_headers() {
        let good = tcp_frame(0, 0);
        let mut v = good.clone();
        v[14] = 0x65; // version 6 in an IPv4 ethertype
        assert_eq!(parse_frame(&v), Err(DropReason::BadIp));
        let mut ihl = good.clone();
        ihl[14] = 0x44; // IHL 4
        assert_eq!(parse_frame(&ihl), Err(DropReason::BadIp));
        let mut tl = good.clone();
        tl[16] = 0;
        tl[17] = 19; // total length below the header
        assert_eq!(parse_frame(&tl), Err(DropReason::BadIp));
    }

    #[test]
    fn fragments() {
        let mut first = tcp_frame(0, 0);
        first[20] = 0x20; // MF, offset 0: parsed
        assert!(parse_frame(&first).is_ok());
        let mut later = tcp_frame(0, 0);
        later[20] = 0x00;
        later[21] = 0xb9; // offset 185
        assert_eq!(parse_frame(&later), Err(DropReason::Fragment));
    }

    #[test]
    fn ipv6_udp_and_extension_headers() {
        let k = FlowKey::v6(PROTO_UDP, v6a(1), 1000, v6a(2), 2000);
        let base = frame(&k, 0, &udp(1000, 2000, 0), 0);
        assert_eq!(parse_frame(&base).unwrap().key, k);
        // Hop-by-hop (8 bytes), routing (24 bytes), AH (12 bytes), then UDP.
        let mut f = eth(0, ETH_IPV6);
        f.extend(ipv6(0, k.src, k.dst, 0));
        f.extend_from_slice(&[43, 0, 0, 0, 0, 0, 0, 0]);
        f.extend_from_slice(&[51, 2]);
        f.resize(f.len() + 22, 0);
        f.extend_from_slice(&[PROTO_UDP, 1, 0, 0]);
        f.resize(f.len() + 8, 0);
        f.extend(udp(1000, 2000, 0));
        assert_eq!(parse_frame(&f).unwrap().key, k);
    }

    fn v6_with_ext(n: usize) -> Vec<u8> {
        let mut f = eth(0, ETH_IPV6);
        f.extend(ipv6(60, v6a(1), v6a(2), 0));
        for i in 0..n {
            let next = if i + 1 == n { PROTO_UDP } else { 60 };
            f.extend_from_slice(&[next, 0, 0, 0, 0, 0, 0, 0]);
        }
        f.extend(udp(1, 2, 0));
        f
    }

    #[test]
    fn ipv6_extension_chain_is_bounded() {
        assert!(parse_frame(&v6_with_ext(MAX_EXT_HEADERS)).is_ok());
        assert_eq!(
            parse_frame(&v6_with_ext(MAX_EXT_HEADERS + 1)),
            Err(DropReason::ExtChain)
        );
    }

    #[test]
    fn ipv6_fragments() {
        let mut f = eth(0, ETH_IPV6);
        f.extend(ipv6(44, v6a(1), v6a(2), 0));
        f.extend_from_slice(&[PROTO_UDP, 0, 0, 0, 0, 0, 0, 1]); // first fragment
        f.extend(udp(1, 2, 0));
        assert!(parse_frame(&f).is_ok());
        let mut g = eth(0, ETH_IPV6);
        g.extend(ipv6(44, v6a(1), v6a(2), 0));
        g.extend_from_slice(&[PROTO_UDP, 0, 0x05, 0x00, 0, 0, 0, 1]); // offset 160
        g.extend(udp(1, 2, 0));
        assert_eq!(parse_frame(&g), Err(DropReason::Fragment));
    }

    #[test]
    fn bad_ipv6_version() {
        let k = FlowKey::v6(PROTO_UDP, v6a(1), 1, v6a(2), 2);
        let mut f = frame(&k, 0, &udp(1, 2, 0), 0);
        f[14] = 0x40;
        assert_eq!(parse_frame(&f), Err(DropReason::BadIp));
    }

    #[test]
    fn headers_beyond_the_window() {
        // A long routing header pushes UDP past 128 bytes of a long capture.
        let mut f = eth(0, ETH_IPV6);
        f.extend(ipv6(43, v6a(1), v6a(2), 0));
        f.extend_from_slice(&[PROTO_UDP, 9]);
        f.resize(f.len() + 78, 0);
        f.extend(udp(1, 2, 0));
        f.resize(200, 0);
        assert_eq!(parse_frame(&f), Err(DropReason::HeaderWindow));
        // The same frame captured short of the header is truncated instead.
        assert_eq!(parse_frame(&f[..130]), Err(DropReason::Truncated));
    }

    #[test]
    fn icmp_echo_and_other_types() {
        let k = FlowKey::v4(PROTO_ICMP, A, 0, B, 0);
        let req = frame(&k, 0, &icmp(8, 0, 0x1234, 1), 56);
        let p = parse_frame(&req).unwrap();
        assert_eq!(
            (p.key.sport, p.key.dport, p.flags),
            (0x1234, 0, FLAG_ECHO_REQUEST)
        );
        let rep = frame(&k, 0, &icmp(0, 0, 0x1234, 1), 56);
        assert_eq!(parse_frame(&rep).unwrap().flags, FLAG_ECHO_REPLY);
        let unreach = frame(&k, 0, &icmp(3, 1, 0, 0), 28);
        let p = parse_frame(&unreach).unwrap();
        assert_eq!((p.key.sport, p.key.dport, p.flags), (3, 1, 0));
        // An echo needs its identifier.
        assert_eq!(parse_frame(&req[..14 + 20 + 5]), Err(DropReason::Truncated));
        // Other types need only type and code.
        assert!(parse_frame(&unreach[..14 + 20 + 4]).is_ok());
    }

    #[test]
    fn icmpv6_echo() {
        let k = FlowKey::v6(PROTO_ICMPV6, v6a(1), 0, v6a(2), 0);
        let p = parse_frame(&frame(&k, 1, &icmp(128, 0, 7, 1), 8)).unwrap();
        assert_eq!(
            (p.key.sport, p.key.dport, p.flags),
            (7, 0, FLAG_ECHO_REQUEST)
        );
        let p = parse_frame(&frame(&k, 1, &icmp(129, 0, 7, 1), 8)).unwrap();
        assert_eq!(p.flags, FLAG_ECHO_REPLY);
    }

    #[test]
    fn other_protocols_are_flows_without_ports() {
        let k = FlowKey::v4(47, A, 0, B, 0); // GRE
        let p = parse_frame(&frame(&k, 0, &[], 0)).unwrap();
        assert_eq!(p.key, k);
    }

    #[test]
    fn never_panics_on_junk() {
        let mut r = bloomtime_testkit::Rng::new(1);
        let mut x = 0;
        for len in 0..300 {
            for _ in 0..20 {
                let mut f = Vec::with_capacity(len);
                for _ in 0..len {
                    x = r.next();
                    f.push(x as u8);
                }
                if len > 13 && x.is_multiple_of(3) {
                    f[12] = 0x86;
                    f[13] = 0xDD;
                }
                let _ = parse_frame(&f);
            }
        }
    }
}
