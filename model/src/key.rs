//! Flow keys, packet records and their packed bit layouts.
//!
//! The packed layouts are the record format of the hardware's record stream
//! and of the Verilator interface; the RTL slices fields with the offsets
//! defined here.

use crate::config::TS_BITS;
use serde::Serialize;
use std::cmp::Ordering;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_DCCP: u8 = 33;
pub const PROTO_ICMPV6: u8 = 58;
pub const PROTO_SCTP: u8 = 132;
pub const PROTO_UDPLITE: u8 = 136;

/// Record flag: ICMP or ICMPv6 echo request.
pub const FLAG_ECHO_REQUEST: u8 = 1 << 0;
/// Record flag: ICMP or ICMPv6 echo reply (asks for an RTT sample).
pub const FLAG_ECHO_REPLY: u8 = 1 << 1;
/// Record flag: TCP SYN without ACK.
pub const FLAG_TCP_SYN: u8 = 1 << 2;
/// Record flag: TCP SYN with ACK (asks for an RTT sample).
pub const FLAG_TCP_SYNACK: u8 = 1 << 3;
/// Number of flag bits in a record.
pub const FLAG_BITS: u32 = 4;

/// Unidirectional flow key: the 5-tuple plus the address family.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct FlowKey {
    pub proto: u8,
    /// IPv6 addresses (else IPv4, stored as `::ffff:a.b.c.d`).
    pub v6: bool,
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub sport: u16,
    pub dport: u16,
}

/// Bit offsets of the packed key (LSB first).
pub mod key_layout {
    pub const PROTO: u32 = 0;
    pub const V6: u32 = 8;
    pub const SPORT: u32 = 9;
    pub const DPORT: u32 = 25;
    pub const SRC: u32 = 41;
    pub const DST: u32 = 169;
    pub const BITS: u32 = 297;
}

/// Bit offsets of the packed record (LSB first).
pub mod record_layout {
    pub const TS: u32 = 0;
    pub const FLAGS: u32 = super::TS_BITS;
    pub const KEY: u32 = FLAGS + super::FLAG_BITS;
    pub const BITS: u32 = KEY + super::key_layout::BITS;
    pub const WORDS: usize = (BITS as usize).div_ceil(64);
}

/// IPv4 address as stored in a key.
pub fn v4_mapped(a: [u8; 4]) -> [u8; 16] {
    let mut o = [0u8; 16];
    o[10] = 0xff;
    o[11] = 0xff;
    o[12..].copy_from_slice(&a);
    o
}

impl FlowKey {
    pub fn v4(proto: u8, src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Self {
        FlowKey {
            proto,
            v6: false,
            src: v4_mapped(src),
            dst: v4_mapped(dst),
            sport,
            dport,
        }
    }

    pub fn v6(proto: u8, src: [u8; 16], sport: u16, dst: [u8; 16], dport: u16) -> Self {
        FlowKey {
            proto,
            v6: true,
            src,
            dst,
            sport,
            dport,
        }
    }

    pub fn is_icmp(&self) -> bool {
        self.proto == PROTO_ICMP || self.proto == PROTO_ICMPV6
    }

    /// Key of the reverse direction, as an RTT lookup sees it: addresses
    /// swapped; ports swapped except for echo, whose key is `(id, 0)` both ways.
    pub fn reverse(&self, echo: bool) -> FlowKey {
        let (sport, dport) = if echo {
            (self.sport, self.dport)
        } else {
            (self.dport, self.sport)
        };
        FlowKey {
            src: self.dst,
            dst: self.src,
            sport,
            dport,
            ..*self
        }
    }

    fn addr_string(&self, a: &[u8; 16]) -> String {
        if self.v6 {
            Ipv6Addr::from(*a).to_string()
        } else {
            Ipv4Addr::new(a[12], a[13], a[14], a[15]).to_string()
        }
    }

    /// Source address in standard text form (RFC 5952 for IPv6).
    pub fn src_string(&self) -> String {
        self.addr_string(&self.src)
    }

    /// Destination address in standard text form.
    pub fn dst_string(&self) -> String {
        self.addr_string(&self.dst)
    }

    /// Pack into the key layout (297 bits, LSB first) as 64-bit words.
    pub fn pack(&self) -> [u64; 5] {
        let mut w = [0u64; 5];
        put(&mut w, key_layout::PROTO, 8, self.proto as u128);
        put(&mut w, key_layout::V6, 1, self.v6 as u128);
        put(&mut w, key_layout::SPORT, 16, self.sport as u128);
        put(&mut w, key_layout::DPORT, 16, self.dport as u128);
        put(&mut w, key_layout::SRC, 128, u128::from_be_bytes(self.src));
        put(&mut w, key_layout::DST, 128, u128::from_be_bytes(self.dst));
        w
    }

    /// Inverse of [`FlowKey::pack`].
    pub fn unpack(w: &[u64]) -> FlowKey {
        FlowKey {
            proto: get(w, key_layout::PROTO, 8) as u8,
            v6: get(w, key_layout::V6, 1) == 1,
            sport: get(w, key_layout::SPORT, 16) as u16,
            dport: get(w, key_layout::DPORT, 16) as u16,
            src: get(w, key_layout::SRC, 128).to_be_bytes(),
            dst: get(w, key_layout::DST, 128).to_be_bytes(),
        }
    }

    /// The key as the bytes of the wire protocol (38 bytes): proto, family,
    /// src, dst, sport, dport (big-endian).
    pub fn to_wire(&self) -> [u8; 38] {
        let mut b = [0u8; 38];
        b[0] = self.proto;
        b[1] = self.v6 as u8;
        b[2..18].copy_from_slice(&self.src);
        b[18..34].copy_from_slice(&self.dst);
        b[34..36].copy_from_slice(&self.sport.to_be_bytes());
        b[36..38].copy_from_slice(&self.dport.to_be_bytes());
        b
    }

    /// Inverse of [`FlowKey::to_wire`]; `None` on a bad family byte.
    pub fn from_wire(b: &[u8; 38]) -> Option<FlowKey> {
        if b[1] > 1 {
            return None;
        }
        let mut src = [0u8; 16];
        let mut dst = [0u8; 16];
        src.copy_from_slice(&b[2..18]);
        dst.copy_from_slice(&b[18..34]);
        Some(FlowKey {
            proto: b[0],
            v6: b[1] == 1,
            src,
            dst,
            sport: u16::from_be_bytes([b[34], b[35]]),
            dport: u16::from_be_bytes([b[36], b[37]]),
        })
    }
}

/// Rows are sorted by key in CSV column order: proto, src, sport, dst, dport
/// (IPv4 before IPv6, addresses numerically).
impl Ord for FlowKey {
    fn cmp(&self, o: &Self) -> Ordering {
        (
            self.proto, self.v6, self.src, self.sport, self.dst, self.dport,
        )
            .cmp(&(o.proto, o.v6, o.src, o.sport, o.dst, o.dport))
    }
}
impl PartialOrd for FlowKey {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl fmt::Display for FlowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, d) = (self.src_string(), self.dst_string());
        let br = |a: String| if self.v6 { format!("[{a}]") } else { a };
        write!(
            f,
            "{} {}:{} -> {}:{}",
            self.proto,
            br(s),
            self.sport,
            br(d),
            self.dport
        )
    }
}

impl Serialize for FlowKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("FlowKey", 5)?;
        st.serialize_field("proto", &self.proto)?;
        st.serialize_field("src", &self.src_string())?;
        st.serialize_field("sport", &self.sport)?;
        st.serialize_field("dst", &self.dst_string())?;
        st.serialize_field("dport", &self.dport)?;
        st.end()
    }
}

/// One packet as the pipeline sees it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Record {
    /// Timestamp in time units, `TS_BITS` wide.
    pub ts: u64,
    pub key: FlowKey,
    pub flags: u8,
}

impl Record {
    pub fn is_echo(&self) -> bool {
        self.flags & (FLAG_ECHO_REQUEST | FLAG_ECHO_REPLY) != 0
    }
    /// Does this record ask for an RTT sample?
    pub fn wants_rtt(&self) -> bool {
        self.flags & (FLAG_ECHO_REPLY | FLAG_TCP_SYNACK) != 0
    }

    /// Pack into the record layout as 64-bit words (LSB first).
    pub fn pack(&self) -> [u64; record_layout::WORDS] {
        let mut w = [0u64; record_layout::WORDS];
        put(
            &mut w,
            record_layout::TS,
            TS_BITS,
            (self.ts & crate::config::TS_MASK) as u128,
        );
        put(&mut w, record_layout::FLAGS, FLAG_BITS, self.flags as u128);
        let k = self.key.pack();
        for i in 0..key_layout::BITS {
            let bit = (k[(i / 64) as usize] >> (i % 64)) & 1;
            put(&mut w, record_layout::KEY + i, 1, bit as u128);
        }
        w
    }

    /// Inverse of [`Record::pack`].
    pub fn unpack(w: &[u64]) -> Record {
        let mut k = [0u64; 5];
        for i in 0..key_layout::BITS {
            let bit = get(w, record_layout::KEY + i, 1) as u64;
            k[(i / 64) as usize] |= bit << (i % 64);
        }
        Record {
            ts: get(w, record_layout::TS, TS_BITS) as u64,
            flags: get(w, record_layout::FLAGS, FLAG_BITS) as u8,
            key: FlowKey::unpack(&k),
        }
    }
}

/// Write `width` (<= 128) bits of `v` at bit `off` of a little-endian word array.
pub fn put(w: &mut [u64], off: u32, width: u32, v: u128) {
    for i in 0..width {
        let b = ((v >> i) & 1) as u64;
        let p = off + i;
        let (wi, bi) = ((p / 64) as usize, p % 64);
        w[wi] = (w[wi] & !(1 << bi)) | (b << bi);
    }
}

/// Read `width` (<= 128) bits at bit `off` of a little-endian word array.
pub fn get(w: &[u64], off: u32, width: u32) -> u128 {
    let mut v = 0u128;
    for i in 0..width {
        let p = off + i;
        let b = (w[(p / 64) as usize] >> (p % 64)) & 1;
        v |= (b as u128) << i;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_key() -> impl Strategy<Value = FlowKey> {
        (
            any::<u8>(),
            any::<bool>(),
            any::<[u8; 16]>(),
            any::<[u8; 16]>(),
            any::<u16>(),
            any::<u16>(),
        )
            .prop_map(|(proto, v6, src, dst, sport, dport)| FlowKey {
                proto,
                v6,
                src,
                dst,
                sport,
                dport,
            })
    }

    proptest! {
        #![proptest_config(crate::prop_config("model::key"))]

        #[test]
        fn record_pack_roundtrips(key in arb_key(), ts in 0u64..(1 << 40), flags in 0u8..16) {
            let r = Record { ts, key, flags };
            prop_assert_eq!(Record::unpack(&r.pack()), r);
        }

        #[test]
        fn wire_key_roundtrips(key in arb_key()) {
            prop_assert_eq!(FlowKey::from_wire(&key.to_wire()), Some(key));
        }

        #[test]
        fn reverse_is_an_involution(key in arb_key(), echo in any::<bool>()) {
            prop_assert_eq!(key.reverse(echo).reverse(echo), key);
        }
    }

    #[test]
    fn addresses_print_in_standard_form() {
        let k = FlowKey::v4(6, [10, 0, 0, 1], 1234, [192, 168, 1, 2], 80);
        assert_eq!(k.src_string(), "10.0.0.1");
        let mut a = [0u8; 16];
        a[0] = 0x20;
        a[1] = 0x01;
        a[2] = 0x0d;
        a[3] = 0xb8;
        a[15] = 1;
        let k6 = FlowKey::v6(17, a, 1, a, 2);
        assert_eq!(k6.src_string(), "2001:db8::1");
        // A v4-mapped address inside a real IPv6 packet stays IPv6.
        let k6m = FlowKey::v6(17, v4_mapped([1, 2, 3, 4]), 1, a, 2);
        assert_eq!(k6m.src_string(), "::ffff:1.2.3.4");
    }

    #[test]
    fn keys_sort_in_csv_column_order() {
        let a = FlowKey::v4(6, [10, 0, 0, 2], 1, [1, 1, 1, 1], 1);
        let b = FlowKey::v4(6, [10, 0, 0, 10], 1, [1, 1, 1, 1], 1);
        let c = FlowKey::v4(17, [1, 0, 0, 0], 1, [1, 1, 1, 1], 1);
        assert!(a < b && b < c);
    }
}
