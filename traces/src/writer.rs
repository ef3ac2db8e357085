//! Capture writers: classic pcap with nanosecond timestamps (what the
//! generator writes) and a small pcapng writer (tests build pcapng files
//! with it: both byte orders, any `if_tsresol`, enhanced and simple packet
//! blocks, any link type).

use std::io::{self, Write};

/// Classic pcap magic for nanosecond timestamps.
pub const PCAP_NS_MAGIC: u32 = 0xa1b2_3c4d;

/// Writes classic pcap (nanosecond magic, little-endian, Ethernet).
pub struct PcapWriter<W: Write> {
    w: W,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    /// Write the file header; frames longer than `snaplen` are cut to it.
    pub fn new(mut w: W, snaplen: u32) -> io::Result<Self> {
        Self::write_header(&mut w, snaplen, 1)?;
        Ok(PcapWriter { w, snaplen })
    }

    /// The 24-byte file header with any link type (tests use other link types).
    pub fn write_header(w: &mut W, snaplen: u32, linktype: u32) -> io::Result<()> {
        let mut h = [0u8; 24];
        h[0..4].copy_from_slice(&PCAP_NS_MAGIC.to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes());
        h[6..8].copy_from_slice(&4u16.to_le_bytes());
        h[16..20].copy_from_slice(&snaplen.to_le_bytes());
        h[20..24].copy_from_slice(&linktype.to_le_bytes());
        w.write_all(&h)
    }

    /// One frame at `ns` nanoseconds; its wire length is `frame.len()`.
    #[inline]
    pub fn write(&mut self, ns: u64, frame: &[u8]) -> io::Result<()> {
        let cap = frame.len().min(self.snaplen as usize);
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&((ns / 1_000_000_000) as u32).to_le_bytes());
        h[4..8].copy_from_slice(&((ns % 1_000_000_000) as u32).to_le_bytes());
        h[8..12].copy_from_slice(&(cap as u32).to_le_bytes());
        h[12..16].copy_from_slice(&(frame.len() as u32).to_le_bytes());
        self.w.write_all(&h)?;
        self.w.write_all(&frame[..cap])
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }

    pub fn into_inner(self) -> W {
        self.w
    }
}

/// A minimal pcapng writer: one section, interfaces and packets.
pub struct PcapNgWriter {
    be: bool,
    pub bytes: Vec<u8>,
}

impl PcapNgWriter {
    /// A section header in the given byte order.
    pub fn new(big_endian: bool) -> Self {
        let mut w = PcapNgWriter {
            be: big_endian,
            bytes: Vec::new(),
        };
        let mut body = Vec::new();
        body.extend(w.u32(0x1A2B_3C4D));
        body.extend(w.u16(1));
        body.extend(w.u16(0));
        body.extend(w.u64(u64::MAX)); // section length unknown
        w.block(0x0A0D_0D0A, &body);
        w
    }

    fn u16(&self, v: u16) -> [u8; 2] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn u32(&self, v: u32) -> [u8; 4] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn u64(&self, v: u64) -> [u8; 8] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    /// A raw block: type, length, body (padded to 4 bytes), length.
    pub fn block(&mut self, ty: u32, body: &[u8]) {
        let pad = (4 - body.len() % 4) % 4;
        let len = (12 + body.len() + pad) as u32;
        let (t, l) = (self.u32(ty), self.u32(len));
        self.bytes.extend(t);
        self.bytes.extend(l);
        self.bytes.extend_from_slice(body);
        self.bytes.extend(std::iter::repeat_n(0u8, pad));
        self.bytes.extend(l);
    }

    /// An interface description with `if_tsresol` (None: the default, µs).
    pub fn interface(&mut self, linktype: u16, snaplen: u32, tsresol: Option<u8>) {
        self.interface_with_offset(linktype, snaplen, tsresol, None);
    }

    /// An interface description with `if_tsresol` and `if_tsoffset` (in
    /// seconds; None: no option, an offset of 0).
    pub fn interface_with_offset(
        &mut self,
        linktype: u16,
        snaplen: u32,
        tsresol: Option<u8>,
        tsoffset: Option<i64>,
    ) {
        let mut body = Vec::new();
        body.extend(self.u16(linktype));
        body.extend(self.u16(0));
        body.extend(self.u32(snaplen));
        if let Some(r) = tsresol {
            body.extend(self.u16(9)); // if_tsresol
            body.extend(self.u16(1));
            body.extend_from_slice(&[r, 0, 0, 0]);
        }
        if let Some(o) = tsoffset {
            body.extend(self.u16(14)); // if_tsoffset
            body.extend(self.u16(8));
            body.extend(self.u64(o as u64));
        }
        if tsresol.is_some() || tsoffset.is_some() {
            body.extend(self.u16(0)); // opt_endofopt
            body.extend(self.u16(0));
        }
        self.block(1, &body);
    }

    /// An enhanced packet block; `ts` in the interface's units.
    pub fn epb(&mut self, iface: u32, ts: u64, data: &[u8], orig_len: u32) {
        let mut body = Vec::new();
        body.extend(self.u32(iface));
        body.extend(self.u32((ts >> 32) as u32));
        body.extend(self.u32(ts as u32));
        body.extend(self.u32(data.len() as u32));
        body.extend(self.u32(orig_len));
        body.extend_from_slice(data);
        body.extend(std::iter::repeat_n(0u8, (4 - data.len() % 4) % 4));
        self.block(6, &body);
    }

    /// A simple packet block (interface 0, no timestamp).
    pub fn spb(&mut self, data: &[u8]) {
        let mut body = Vec::new();
        body.extend(self.u32(data.len() as u32));
        body.extend_from_slice(data);
        self.block(3, &body);
    }
}
