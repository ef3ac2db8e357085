//! Link types BloomTime reads, and the one rule that turns a frame of any of
//! them into the Ethernet frame every stage sees (docs/DESIGN.md §2).
//!
//! The hardware's frame parser, and so the model's, starts at an Ethernet
//! header. A capture of another link type is read by replacing its link
//! header with a synthetic 14-byte Ethernet header: both MAC addresses zero,
//! the EtherType taken from the link header. The golden model, the
//! simulator and the board then all parse the same Ethernet frame.
//!
//! | link type | header | EtherType of the synthetic header |
//! |---|---|---|
//! | 1 Ethernet | (kept as is) | (its own) |
//! | 113 Linux cooked v1 (SLL) | 16 bytes | protocol field, bytes 14..16 |
//! | 276 Linux cooked v2 (SLL2) | 20 bytes | protocol field, bytes 0..2 |
//! | 101 raw IP | none | 0x86DD if the version nibble is 6, else 0x0800 |
//! | 228 raw IPv4 / 229 raw IPv6 | none | 0x0800 / 0x86DD |
//! | 0 BSD null (host byte order) / 108 OpenBSD loop (big-endian) | 4 bytes | address family 2 → 0x0800; 24, 28, 30 → 0x86DD; any other → 0 |
//!
//! Lengths: a frame whose link header is complete keeps every byte after
//! it: captured length `14 + (caplen − h)`, wire length
//! `14 + (orig_len − h)` (`h` the link header's length; a wire length
//! below `h` counts as `h`). Nothing is lost silently:
//!
//! * a protocol that is not IP (ARP in SLL, an AppleTalk loopback family)
//!   keeps its EtherType (0 for a null/loop family, an 802.3 length field),
//!   and the parser drops the frame as `non_ip`; a VLAN tag in SLL/SLL2
//!   (protocol 0x8100, the tag before the payload, as libpcap writes it)
//!   is parsed like any tag;
//! * a raw-IP packet whose version nibble is neither 4 nor 6 is parsed as
//!   IPv4 and dropped as `bad_ip`;
//! * a frame whose link header is cut short (captured length below `h`)
//!   becomes a frame of no captured bytes, which the parser drops as
//!   `truncated`.
//!
//! The old values of raw IP, DLT_RAW 12 and 14 on some BSDs, are not link
//! types of the pcap format (they mean different things on different
//! systems) and stay refused.

/// Ethernet (LINKTYPE_ETHERNET).
pub const LINKTYPE_ETHERNET: i32 = 1;
/// BSD loopback, a 4-byte address family in the capturing host's byte order.
pub const LINKTYPE_NULL: i32 = 0;
/// Raw IPv4 or IPv6, from the version nibble.
pub const LINKTYPE_RAW: i32 = 101;
/// OpenBSD loopback, a 4-byte address family in network byte order.
pub const LINKTYPE_LOOP: i32 = 108;
/// Linux cooked capture v1 (`tcpdump -i any -y LINUX_SLL`).
pub const LINKTYPE_LINUX_SLL: i32 = 113;
/// Raw IPv4.
pub const LINKTYPE_IPV4: i32 = 228;
/// Raw IPv6.
pub const LINKTYPE_IPV6: i32 = 229;
/// Linux cooked capture v2 (`tcpdump -i any`, libpcap 1.10 and later).
pub const LINKTYPE_LINUX_SLL2: i32 = 276;

/// Length of the synthetic Ethernet header.
pub const ETH_HEADER: usize = 14;

const ETH_IPV4: u16 = 0x0800;
const ETH_IPV6: u16 = 0x86DD;

/// A link type BloomTime reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    Ethernet,
    Sll,
    Sll2,
    Raw,
    Ipv4,
    Ipv6,
    Null,
    Loop,
}

/// The link types read, with their pcap numbers (for messages and tests).
pub const LINK_TYPES: [(i32, LinkType); 8] = [
    (LINKTYPE_ETHERNET, LinkType::Ethernet),
    (LINKTYPE_LINUX_SLL, LinkType::Sll),
    (LINKTYPE_LINUX_SLL2, LinkType::Sll2),
    (LINKTYPE_RAW, LinkType::Raw),
    (LINKTYPE_IPV4, LinkType::Ipv4),
    (LINKTYPE_IPV6, LinkType::Ipv6),
    (LINKTYPE_NULL, LinkType::Null),
    (LINKTYPE_LOOP, LinkType::Loop),
];

/// The supported link types in words, for error messages.
pub const SUPPORTED: &str = "Ethernet (1), Linux cooked SLL and SLL2 (113, 276), \
     raw IP (101, 228, 229) and BSD loopback (0, 108)";

impl LinkType {
    /// The link type of a pcap `network` / pcapng `LinkType` value, if read.
    pub fn from_linktype(lt: i32) -> Option<LinkType> {
        LINK_TYPES.iter().find(|(n, _)| *n == lt).map(|(_, t)| *t)
    }

    /// Its pcap number.
    pub fn number(self) -> i32 {
        LINK_TYPES.iter().find(|(_, t)| *t == self).unwrap().0
    }

    /// Length of its link header (0 for Ethernet, which is kept as is, and
    /// for raw IP, which has none).
    pub fn header_len(self) -> usize {
        match self {
            LinkType::Ethernet | LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => 0,
            LinkType::Sll => 16,
            LinkType::Sll2 => 20,
            LinkType::Null | LinkType::Loop => 4,
        }
    }

    /// The EtherType of a frame whose link header is complete
    /// (`frame.len() >= header_len()`); not called for Ethernet.
    fn ethertype(self, frame: &[u8]) -> u16 {
        let be16 = |i: usize| u16::from_be_bytes([frame[i], frame[i + 1]]);
        let family = |f: u32| match f {
            2 => ETH_IPV4,
            24 | 28 | 30 => ETH_IPV6,
            _ => 0,
        };
        match self {
            LinkType::Ethernet => be16(12),
            LinkType::Sll => be16(14),
            LinkType::Sll2 => be16(0),
            LinkType::Raw => match frame.first() {
                Some(b) if b >> 4 == 6 => ETH_IPV6,
                _ => ETH_IPV4,
            },
            LinkType::Ipv4 => ETH_IPV4,
            LinkType::Ipv6 => ETH_IPV6,
            LinkType::Null => {
                // Host byte order of the machine that captured: a family is
                // a small number, so the order whose value fits in the low
                // 16 bits is the one.
                let le = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]);
                family(if le > 0xffff { le.swap_bytes() } else { le })
            }
            LinkType::Loop => family(u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]])),
        }
    }

    /// Write `frame` (the captured bytes of a frame of this link type) into
    /// `out` as the Ethernet frame BloomTime parses, reusing `out`'s buffer
    /// (no allocation once it is large enough); the frame's wire length,
    /// `orig_len` of the capture, is returned adjusted the same way. See
    /// the module documentation for the rule.
    #[inline]
    pub fn to_ethernet(self, frame: &[u8], orig_len: u32, out: &mut Vec<u8>) -> u32 {
        out.clear();
        if self == LinkType::Ethernet {
            out.extend_from_slice(frame);
            return orig_len;
        }
        let h = self.header_len();
        let wire = orig_len.max(h as u32) - h as u32;
        let wire = wire.saturating_add(ETH_HEADER as u32);
        if frame.len() < h {
            return wire;
        }
        let mut eth = [0u8; ETH_HEADER];
        eth[12..].copy_from_slice(&self.ethertype(frame).to_be_bytes());
        out.extend_from_slice(&eth);
        out.extend_from_slice(&frame[h..]);
        wire
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bloomtime_model::key::{FlowKey, FLAG_ECHO_REQUEST};
    use bloomtime_model::parse::build::*;
    use bloomtime_model::parse::{parse_frame, DropReason};

    const A: [u8; 4] = [10, 0, 0, 1];
    const B: [u8; 4] = [10, 0, 0, 2];

    fn conv(lt: LinkType, f: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let wire = lt.to_ethernet(f, f.len() as u32 + 100, &mut out);
        if f.len() >= lt.header_len() {
            assert_eq!(wire as usize, out.len() + 100, "{lt:?}");
        } else {
            assert!(out.is_empty());
        }
        out
    }

    /// An Ethernet frame with its header replaced by `link`.
    fn relink(eth: &[u8], link: &[u8]) -> Vec<u8> {
        let mut f = link.to_vec();
        f.extend_from_slice(&eth[14..]);
        f
    }

    fn sll(proto: u16) -> Vec<u8> {
        // Packet type 0 (to us), ARPHRD_ETHER, 6-byte address.
        let mut h = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
        h.extend_from_slice(&proto.to_be_bytes());
        h
    }

    fn sll2(proto: u16) -> Vec<u8> {
        let mut h = proto.to_be_bytes().to_vec();
        h.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
        h
    }

    fn tcp4() -> (FlowKey, Vec<u8>) {
        let k = FlowKey::v4(6, A, 40000, B, 80);
        (k, frame(&k, 0, &tcp(40000, 80, 0x02), 20))
    }

    fn udp6() -> (FlowKey, Vec<u8>) {
        let k = FlowKey::v6(17, [1; 16], 5000, [2; 16], 53);
        (k, frame(&k, 0, &udp(5000, 53, 12), 12))
    }

    /// The synthetic Ethernet frame: zero MACs, the EtherType, the rest.
    fn synthetic(eth: &[u8]) -> Vec<u8> {
        let mut s = vec![0; 12];
        s.extend_from_slice(&eth[12..]);
        s
    }

    #[test]
    fn numbers_and_names() {
        for (n, t) in LINK_TYPES {
            assert_eq!(LinkType::from_linktype(n), Some(t));
            assert_eq!(t.number(), n);
            assert!(crate::pcap::linktype_name(n).is_some(), "{n}");
        }
        for n in [12, 14, 9, 105, 127, -1, 4242] {
            assert_eq!(LinkType::from_linktype(n), None, "{n}");
        }
    }

    #[test]
    fn ethernet_is_kept_as_is() {
        let (_, f) = tcp4();
        let mut out = vec![9; 3];
        assert_eq!(LinkType::Ethernet.to_ethernet(&f, 1234, &mut out), 1234);
        assert_eq!(out, f);
    }

    #[test]
    fn cooked_v1_and_v2_ipv4_ipv6_vlan() {
        for (k, f) in [tcp4(), udp6()] {
            let et = u16::from_be_bytes([f[12], f[13]]);
            for (lt, link) in [(LinkType::Sll, sll(et)), (LinkType::Sll2, sll2(et))] {
                let out = conv(lt, &relink(&f, &link));
                assert_eq!(out, synthetic(&f), "{lt:?}");
                assert_eq!(parse_frame(&out).unwrap().key, k, "{lt:?}");
            }
        }
        // A VLAN tag inside SLL: protocol 0x8100, then TCI and EtherType.
        let k = FlowKey::v4(17, A, 7, B, 9);
        let tagged = frame(&k, 1, &udp(7, 9, 4), 4);
        assert_eq!(&tagged[12..14], &[0x81, 0x00]);
        for (lt, link) in [(LinkType::Sll, sll(0x8100)), (LinkType::Sll2, sll2(0x8100))] {
            let out = conv(lt, &relink(&tagged, &link));
            assert_eq!(out, synthetic(&tagged));
            assert_eq!(parse_frame(&out).unwrap().key, k);
        }
    }

    #[test]
    fn cooked_non_ip_and_truncated_headers_are_counted_drops() {
        let (_, f) = tcp4();
        // ARP, and the Linux pseudo-protocols below 0x0600 (802.2 LLC, CAN).
        for proto in [0x0806, 0x0004, 0x000c] {
            for (lt, link) in [(LinkType::Sll, sll(proto)), (LinkType::Sll2, sll2(proto))] {
                let out = conv(lt, &relink(&f, &link));
                assert_eq!(parse_frame(&out).err(), Some(DropReason::NonIp));
            }
        }
        for (lt, link) in [
            (LinkType::Sll, sll(0x0800)),
            (LinkType::Sll2, sll2(0x0800)),
            (LinkType::Null, vec![2, 0, 0, 0]),
            (LinkType::Loop, vec![0, 0, 0, 2]),
        ] {
            let h = lt.header_len();
            assert_eq!(link.len(), h);
            for cut in [0, 1, h - 1] {
                let out = conv(lt, &link[..cut]);
                assert!(out.is_empty());
                assert_eq!(parse_frame(&out).err(), Some(DropReason::Truncated));
            }
            // The header alone: an Ethernet header and nothing after.
            let out = conv(lt, &link);
            assert_eq!(out.len(), 14);
            assert_eq!(parse_frame(&out).err(), Some(DropReason::Truncated));
            // Cut inside the IP header.
            let out = conv(lt, &relink(&f[..30], &link));
            assert_eq!(out.len(), 30);
            assert_eq!(parse_frame(&out).err(), Some(DropReason::Truncated));
        }
    }

    #[test]
    fn raw_ip_from_the_version_nibble_or_the_link_type() {
        for (k, f) in [tcp4(), udp6()] {
            let ip = &f[14..];
            let out = conv(LinkType::Raw, ip);
            assert_eq!(out, synthetic(&f));
            assert_eq!(parse_frame(&out).unwrap().key, k);
            let lt = if k.v6 { LinkType::Ipv6 } else { LinkType::Ipv4 };
            assert_eq!(conv(lt, ip), synthetic(&f));
        }
        // A version that is neither: parsed as IPv4, dropped as bad_ip.
        let (_, f) = tcp4();
        let mut ip = f[14..].to_vec();
        ip[0] = 0x55;
        assert_eq!(
            parse_frame(&conv(LinkType::Raw, &ip)).err(),
            Some(DropReason::BadIp)
        );
        // An IPv6 packet under LINKTYPE_IPV4 is a bad IPv4 header.
        let (_, f6) = udp6();
        let out = conv(LinkType::Ipv4, &f6[14..]);
        assert_eq!(parse_frame(&out).err(), Some(DropReason::BadIp));
        // Nothing captured: the synthetic header alone, truncated.
        for lt in [LinkType::Raw, LinkType::Ipv4, LinkType::Ipv6] {
            let out = conv(lt, &[]);
            assert_eq!(out.len(), 14);
            assert_eq!(parse_frame(&out).err(), Some(DropReason::Truncated));
        }
    }

    #[test]
    fn null_in_either_byte_order_and_loop_big_endian() {
        let key = FlowKey::v4(1, A, 77, B, 0);
        let ping = frame(&key, 0, &icmp(8, 0, 77, 1), 8);
        let (k6, f6) = udp6();
        for (fam_le, f, k) in [
            (2u32, &ping, key),
            (24, &f6, k6),
            (28, &f6, k6),
            (30, &f6, k6),
        ] {
            for link in [fam_le.to_le_bytes(), fam_le.to_be_bytes()] {
                let out = conv(LinkType::Null, &relink(f, &link));
                assert_eq!(out, synthetic(f), "family {fam_le}");
                assert_eq!(parse_frame(&out).unwrap().key, k);
            }
            let out = conv(LinkType::Loop, &relink(f, &fam_le.to_be_bytes()));
            assert_eq!(parse_frame(&out).unwrap().key, k);
        }
        assert_eq!(
            parse_frame(&conv(LinkType::Null, &relink(&ping, &[2, 0, 0, 0])))
                .unwrap()
                .flags,
            FLAG_ECHO_REQUEST
        );
        // Loop is big-endian only: little-endian 2 is family 0x02000000.
        let out = conv(LinkType::Loop, &relink(&ping, &2u32.to_le_bytes()));
        assert_eq!(parse_frame(&out).err(), Some(DropReason::NonIp));
        // AppleTalk (16), IPX (23), an unknown family: non_ip.
        for fam in [16u32, 23, 1000] {
            for lt in [LinkType::Null, LinkType::Loop] {
                let out = conv(lt, &relink(&ping, &fam.to_be_bytes()));
                assert_eq!(&out[12..14], &[0, 0]);
                assert_eq!(parse_frame(&out).err(), Some(DropReason::NonIp));
            }
        }
    }

    #[test]
    fn wire_length_follows_the_header_and_the_buffer_is_reused() {
        let (_, f) = tcp4();
        let s = relink(&f, &sll2(0x0800));
        let mut out = Vec::with_capacity(2048);
        let ptr = out.as_ptr();
        assert_eq!(LinkType::Sll2.to_ethernet(&s, 1500, &mut out), 1494);
        assert_eq!(LinkType::Sll2.to_ethernet(&s[..8], 1500, &mut out), 1494);
        // A wire length below the header (corrupt) counts as the header.
        assert_eq!(LinkType::Sll2.to_ethernet(&s, 3, &mut out), 14);
        assert_eq!(LinkType::Raw.to_ethernet(&f[14..], 40, &mut out), 54);
        assert_eq!(LinkType::Null.to_ethernet(&s, u32::MAX, &mut out), u32::MAX);
        assert_eq!(out.as_ptr(), ptr, "no reallocation");
    }
}
