//! Frame parser (docs/DESIGN.md §2): the model's `parse_window` on a byte
//! stream, one byte per clock.
//!
//! # How it works
//!
//! The model walks the header window with a running offset and a sequence of
//! `need(n)` calls. The hardware makes the same walk, but never holds an
//! absolute offset. It tracks three distances instead:
//!
//! * `rem`: bytes from the current byte up to the pending need `n`
//!   (`n - pos`). Every header field is found by a compare of `rem` with a
//!   constant in the current state (one-hot `st`), and `rem == 1` is the byte
//!   that satisfies the need: the walk makes its next decision there.
//! * `slack = caplen - n` and `wslack = 128 - n`: how far the next need may
//!   reach. A new need `n' = n + delta` is `truncated` when `delta > slack`,
//!   else `header_window` when `delta > wslack`; both are decided at once,
//!   exactly where the model calls `need(n')`. An accepted need therefore
//!   always lies inside the capture and the window, so `rem` fits 7 bits and
//!   the parser never looks at the position of a byte: every byte it reads
//!   is below `min(caplen, 128)`, and bytes after the decision are ignored.
//!   A stream that ends while a need is pending can only be `header_window`
//!   (`n <= caplen` was checked, and `n > bytes.len()`).
//!
//! `delta` is the distance to the next need: skipped IPv4 options or the rest
//! of an IPv6 extension header, plus the next header's needed length; at most
//! 255·8 + 14 = 2054. `slack` is 12 bits, with caplen saturated to 4095:
//! while the walk goes on every need is at most 128, so a saturated slack
//! stays above 4095 - 128 > 2054 and never truncates a frame the model keeps;
//! below 4095 it is exact.
//!
//! States (one-hot `st`; all clear = no header in progress: idle, or the
//! frame is decided and its remaining bytes are skipped): `ETH` (needs 14),
//! `VLAN` (4), `IP4` (20), `IP6` (40), `EXT` (8), `TCP` (14), `UDP` (4: UDP,
//! UDP-Lite, SCTP, DCCP), `ICMP` (4) and `ECHO` (2 more: the identifier).
//! `rem` may start above the header's need: the bytes before the header
//! (IPv4 options, the rest of an IPv6 extension header) are skipped by
//! counting down.
//!
//! # Keeping the logic shallow (100 MHz on an iCE40)
//!
//! * Register data paths select on the state only; the handshake (`fire`)
//!   and the `rem` compares only drive clock enables, and every register
//!   write sits under one flat condition (yosys extracts a clock enable only
//!   where the hold value feeds a single mux).
//! * A header's fields are registered as they stream past, and `delta`,
//!   the two overflow flags (the borrows of `slack - delta`,
//!   `wslack - delta`) and the header's decision (`p_*`: stop as a record or
//!   a drop, or go on to the next state) are prepared in registers a clock
//!   ahead of `rem == 1`; so are the `rem` decodes on the widest enables,
//!   the key lanes' byte strobes (`w_*`: which header byte this is) and the
//!   state's two classes (`st_dec`, `st_l4`), each loaded from the values
//!   `st` and `rem` are loaded with, and checked every clock by the tests.
//! * Two checks that need a byte at the very clock of a decision are made a
//!   clock later instead: an EtherType's low byte (the walk goes on into the
//!   tag or IP header, and the frame is dropped as non-IP at the next clock)
//!   and `caplen < 14` at a frame's first byte. The byte after either decides
//!   nothing, and if the frame ends first only `drop_reason` looks at them,
//!   so the results are the model's.
//! * The address bytes shift into the key from `d15` towards `s0`, one enable
//!   for all 32 lanes; IPv4 shifts its 8 bytes onto a `::ffff` preset. The
//!   same shift, closed into a ring (`key_rot`), shows a held record's
//!   addresses at `key_tap` in wire order for the event buffer's `Open`.
//!
//! The key register is the output register: header bytes are written straight
//! into their lane of the packed key (`bloomtime_model::key::key_layout`).
//! While a record waits for `m_ready` the parser does not accept bytes
//! (`s_ready = !m_valid`), so a record costs one idle cycle on the input when
//! `m_ready` is high; a dropped frame costs none.
//!
//! The result is emitted one clock after the frame's last byte: `frame_done`
//! always, with `m_valid` (a record) or `drop_valid` / `drop_reason`.

use crate::consts::{FLAGS, KEY_BITS, TS_BITS};
use crate::leaf::ConstBit;
use bloomtime_model::key::{
    key_layout, FLAG_ECHO_REPLY, FLAG_ECHO_REQUEST, FLAG_TCP_SYN, FLAG_TCP_SYNACK,
};
use bloomtime_model::parse::DropReason;
use rust_hdl::core::bitvec::BitVec;
use rust_hdl::prelude::*;

/// The packed flow key as byte lanes, in `key_layout` order (LSB first):
/// `proto`, `v6`, `sport`, `dport`, `src`, `dst`. Addresses are big-endian
/// numbers, so their last byte (`s15`, `d15`) is the least significant lane.
#[derive(Default, PartialEq, LogicStruct, Copy, Clone, Debug)]
pub struct KeyLanes {
    pub proto: Bits<8>,
    pub v6: Bit,
    pub sp_lo: Bits<8>,
    pub sp_hi: Bits<8>,
    pub dp_lo: Bits<8>,
    pub dp_hi: Bits<8>,
    pub s15: Bits<8>,
    pub s14: Bits<8>,
    pub s13: Bits<8>,
    pub s12: Bits<8>,
    pub s11: Bits<8>,
    pub s10: Bits<8>,
    pub s9: Bits<8>,
    pub s8: Bits<8>,
    pub s7: Bits<8>,
    pub s6: Bits<8>,
    pub s5: Bits<8>,
    pub s4: Bits<8>,
    pub s3: Bits<8>,
    pub s2: Bits<8>,
    pub s1: Bits<8>,
    pub s0: Bits<8>,
    pub d15: Bits<8>,
    pub d14: Bits<8>,
    pub d13: Bits<8>,
    pub d12: Bits<8>,
    pub d11: Bits<8>,
    pub d10: Bits<8>,
    pub d9: Bits<8>,
    pub d8: Bits<8>,
    pub d7: Bits<8>,
    pub d6: Bits<8>,
    pub d5: Bits<8>,
    pub d4: Bits<8>,
    pub d3: Bits<8>,
    pub d2: Bits<8>,
    pub d1: Bits<8>,
    pub d0: Bits<8>,
}

const _: () = assert!(KEY_BITS == 297 && key_layout::BITS == 297);
// The state classes as masks of `st` (literals in `update`): the headers
// that decide at their last byte (ETH 0, VLAN 1, IP4 2, IP6 3, EXT 4,
// ICMP 7) and those that end as a record (TCP 5, UDP 6, ECHO 8): every
// state in exactly one.
const ST_DEC: u64 = 1 | 1 << 1 | 1 << 2 | 1 << 3 | 1 << 4 | 1 << 7;
const ST_L4: u64 = 1 << 5 | 1 << 6 | 1 << 8;
const _: () =
    assert!(ST_DEC == 0x09f && ST_L4 == 0x160 && ST_DEC & ST_L4 == 0 && ST_DEC | ST_L4 == 0x1ff);
const _: () = assert!(key_layout::PROTO == 0 && key_layout::V6 == 8 && key_layout::SPORT == 9);
const _: () = assert!(key_layout::DPORT == 25 && key_layout::SRC == 41 && key_layout::DST == 169);

/// The key lanes as one `Bits<KEY_BITS>`. In HDL `to_bits` is the identity
/// (the lanes are laid out as the packed key); in simulation this is a
/// straight copy of the lanes, much cheaper than the derived shift-and-or
/// conversion, which would run on every settle iteration.
pub trait PackLanes {
    fn to_bits(self) -> Bits<KEY_BITS>;
}

thread_local! {
    /// The last lanes packed, and their packing: the key register changes at
    /// most once a clock, but the packing runs on every settle iteration.
    static PACKED: std::cell::RefCell<(KeyLanes, Bits<KEY_BITS>)> =
        std::cell::RefCell::new((KeyLanes::default(), Bits::default()));
}

impl PackLanes for KeyLanes {
    fn to_bits(self) -> Bits<KEY_BITS> {
        PACKED.with(|c| {
            let mut c = c.borrow_mut();
            if c.0 != self {
                *c = (self, pack_lanes(self));
            }
            c.1
        })
    }
}

fn pack_lanes(k: KeyLanes) -> Bits<KEY_BITS> {
    let mut a = [false; KEY_BITS];
    let mut at = 0;
    let mut put = |v: u64, n: usize| {
        for (i, b) in a[at..at + n].iter_mut().enumerate() {
            *b = (v >> i) & 1 == 1;
        }
        at += n;
    };
    put(k.proto.to_u64(), 8);
    put(k.v6 as u64, 1);
    for x in [
        k.sp_lo, k.sp_hi, k.dp_lo, k.dp_hi, k.s15, k.s14, k.s13, k.s12, k.s11, k.s10, k.s9, k.s8,
        k.s7, k.s6, k.s5, k.s4, k.s3, k.s2, k.s1, k.s0, k.d15, k.d14, k.d13, k.d12, k.d11, k.d10,
        k.d9, k.d8, k.d7, k.d6, k.d5, k.d4, k.d3, k.d2, k.d1, k.d0,
    ] {
        put(x.to_u64(), 8);
    }
    debug_assert_eq!(at, KEY_BITS);
    Bits::Long(BitVec::from(a))
}

#[derive(LogicBlock)]
pub struct FrameParser {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset: abandons the frame in progress and clears the
    /// outputs (`m_valid`, `frame_done`, `drop_valid`). No byte is accepted
    /// while it is high.
    pub reset: Signal<In, Bit>,
    /// A frame byte is offered. A frame's stream is its first
    /// `min(caplen, 128)` captured bytes (at least one: a frame captured with
    /// no bytes is sent as one dummy byte); bytes at positions `>= caplen` or
    /// `>= 128` are accepted and ignored.
    pub s_valid: Signal<In, Bit>,
    /// The parser takes the offered byte at this clock edge.
    /// Low while a record waits for `m_ready`, and during `reset`.
    pub s_ready: Signal<Out, Bit>,
    /// The byte.
    pub s_data: Signal<In, Bits<8>>,
    /// This is the frame's last byte.
    pub s_last: Signal<In, Bit>,
    /// Frame timestamp in time units; sampled with the frame's first byte.
    pub s_ts: Signal<In, Bits<TS_BITS>>,
    /// The frame's captured length; sampled with the frame's first byte.
    pub s_caplen: Signal<In, Bits<16>>,
    /// A record is offered (held until `m_ready`).
    pub m_valid: Signal<Out, Bit>,
    /// The consumer takes the record at this clock edge.
    pub m_ready: Signal<In, Bit>,
    /// Record timestamp (the frame's `s_ts`).
    pub m_ts: Signal<Out, Bits<TS_BITS>>,
    /// Record flags (`FLAG_*` of the model).
    pub m_flags: Signal<Out, Bits<FLAGS>>,
    /// Record key, packed as `FlowKey::pack`.
    pub m_key: Signal<Out, Bits<KEY_BITS>>,
    /// One-cycle pulse per frame, one cycle after its last byte was accepted.
    pub frame_done: Signal<Out, Bit>,
    /// With `frame_done`: the frame was dropped (no record).
    pub drop_valid: Signal<Out, Bit>,
    /// With `drop_valid`: the `DropReason` discriminant.
    pub drop_reason: Signal<Out, Bits<3>>,
    /// Turn the held record's 32 address bytes one byte past the tap, as
    /// the address shift does (the event buffer's `Open`: the key announces
    /// itself in wire order, so no one multiplexes 32 bytes out of it).
    /// Only while a record is held (`m_valid`), 32 times in a row, which
    /// leaves the key as it was.
    pub key_rot: Signal<In, Bit>,
    /// The address byte at the tap (lane `s0`): the source's first byte on
    /// the wire (`FlowKey::src[0]`); on `key_rot` the next, through `src`
    /// then `dst` (`protocol::encode_event`'s order).
    pub key_tap: Signal<Out, Bits<8>>,
    /// Built for a source that never offers a byte while a record waits
    /// ([`FrameParser::for_waiting_source`]); off by default.
    waiting_source: ConstBit,

    // ---- registers ----
    /// Inside a frame (its first byte was accepted, its last one not yet).
    busy: DFF<Bit>,
    /// One-hot header state: 0 ETH, 1 VLAN, 2 IP4, 3 IP6, 4 EXT, 5 TCP,
    /// 6 UDP, 7 ICMP, 8 ECHO; zero when no header is being parsed.
    st: DFF<Bits<9>>,
    /// Bytes up to the pending need, counting the current byte.
    rem: DFF<Bits<7>>,
    /// Decodes of `rem` (registered with it): == 1, <= 32, 5..=8, 1..=4,
    /// == 20.
    q_r1: DFF<Bit>,
    q_le32: DFF<Bit>,
    q_src4: DFF<Bit>,
    q_dst4: DFF<Bit>,
    q_eq20: DFF<Bit>,
    /// `caplen - need` (caplen saturated to 4095).
    slack: DFF<Bits<12>>,
    /// `128 - need`.
    wslack: DFF<Bits<7>>,
    /// Distance from the pending need to the next one, if the walk goes on.
    delta: DFF<Bits<12>>,
    /// The EtherType's low byte must be 0x00 (high byte 0x81, 0x91: a tag;
    /// 0x08: IPv4), 0xA8 (0x88: a tag) or 0xDD (0x86: IPv6); else non-IP.
    /// `l2_tag`: the high byte is a tag's.
    lo_00: DFF<Bit>,
    lo_a8: DFF<Bit>,
    lo_dd: DFF<Bit>,
    l2_tag: DFF<Bit>,
    /// The EtherType just taken had a bad low byte: drop as non-IP.
    lo_bad: DFF<Bit>,
    /// The frame just started has caplen < 14: drop as truncated.
    cap_bad: DFF<Bit>,
    /// The tag being parsed is the second one.
    vl2: DFF<Bit>,
    /// Next protocol / next header: an IPv6 extension header.
    nx_ext: DFF<Bit>,
    /// Next header is a fragment header (44).
    nx_frag: DFF<Bit>,
    /// Next header is AH (51).
    nx_ah: DFF<Bit>,
    /// Next protocol is TCP.
    nx_tcp: DFF<Bit>,
    /// Next protocol is UDP, UDP-Lite, SCTP or DCCP.
    nx_udp: DFF<Bit>,
    /// Next protocol is ICMP or ICMPv6.
    nx_icmp: DFF<Bit>,
    /// ... and it is ICMPv6 (echo types 128/129 instead of 8/0).
    nx_icmp6: DFF<Bit>,
    /// The extension header being parsed is a fragment header.
    cur_frag: DFF<Bit>,
    /// The extension header being parsed is AH.
    cur_ah: DFF<Bit>,
    /// Extension headers walked so far, minus one.
    xcnt: DFF<Bits<2>>,
    /// IPv4 header length in bytes (IHL * 4).
    ihl4: DFF<Bits<6>>,
    /// Bytes of the extension header being parsed beyond its first 8 (from
    /// its length byte).
    xlen: DFF<Bits<11>>,
    /// IPv4 total length high byte is zero.
    tl_hi0: DFF<Bit>,
    /// The IP header is bad (version, IHL, total length).
    bad: DFF<Bit>,
    /// Non-zero fragment offset (IPv4 header or IPv6 fragment header).
    frag: DFF<Bit>,
    /// The ICMP type is an echo request or reply.
    echo: DFF<Bit>,
    /// The frame is decided (a record or a drop) before its end.
    res_done: DFF<Bit>,
    /// ... as a record.
    res_rec: DFF<Bit>,
    /// Record timestamp.
    ts: DFF<Bits<TS_BITS>>,
    /// Record flags.
    flags: DFF<Bits<FLAGS>>,
    /// Record key lanes.
    key: DFF<KeyLanes>,
    /// The need after the pending one is beyond the capture / the window.
    ovc: DFF<Bit>,
    ovw: DFF<Bit>,
    /// The decision the header will make at its last byte (prepared a clock
    /// ahead): stop (as a record, or a drop for `p_reason`), or go on.
    p_dn: DFF<Bit>,
    p_rec: DFF<Bit>,
    p_reason: DFF<Bits<3>>,
    /// Classes of `st` (`ST_DEC`, `ST_L4`), assigned beside it: a header
    /// whose last byte decides (go on or stop: Ethernet, tag, IPv4, IPv6,
    /// extension, ICMP), and one whose last byte ends the walk as a record
    /// (TCP, UDP, echo). These and the byte strobes below are checked every
    /// clock in the tests ([`FrameParser::class_mismatch`]).
    st_dec: DFF<Bit>,
    st_l4: DFF<Bit>,
    /// The current byte is (with `fire`) the IPv6 header's first (`w_v6`),
    /// the protocol / next-header byte (`w_pro`), or a port byte (`w_sph`,
    /// `w_spl`, `w_dph`, `w_dpl`: sport's high and low, dport's; for ICMP
    /// the type and code). Prepared a clock ahead from the values `st` and
    /// `rem` are loaded with, like the `q_*` decodes, so the key lanes'
    /// enables are a gate from registers.
    w_v6: DFF<Bit>,
    w_pro: DFF<Bit>,
    w_sph: DFF<Bit>,
    w_spl: DFF<Bit>,
    w_dph: DFF<Bit>,
    w_dpl: DFF<Bit>,
    /// `m_valid`.
    ov: DFF<Bit>,
    /// `frame_done`.
    fd: DFF<Bit>,
    /// `drop_valid`.
    dv: DFF<Bit>,
    /// `drop_reason`, and the reason of a frame decided as a drop.
    dr: DFF<Bits<3>>,

    // ---- combinational ----
    rdy: Signal<Local, Bit>,
    fire: Signal<Local, Bit>,
    first: Signal<Local, Bit>,
    in_eth: Signal<Local, Bit>,
    in_vlan: Signal<Local, Bit>,
    in_ip4: Signal<Local, Bit>,
    in_ip6: Signal<Local, Bit>,
    in_ext: Signal<Local, Bit>,
    in_tcp: Signal<Local, Bit>,
    in_icmp: Signal<Local, Bit>,
    /// The header being parsed (no handshake).
    at_l2: Signal<Local, Bit>,
    at_ip4: Signal<Local, Bit>,
    at_ip6: Signal<Local, Bit>,
    at_ext: Signal<Local, Bit>,
    at_icmp: Signal<Local, Bit>,
    /// `delta`'s low bits (what rem is loaded with on go).
    d7: Signal<Local, Bits<7>>,
    /// `slack` below 4, 20, 40.
    lt4: Signal<Local, Bit>,
    lt20: Signal<Local, Bit>,
    lt40: Signal<Local, Bit>,
    /// `slack - delta` and `wslack - delta` with their borrows.
    sdiff: Signal<Local, Bits<13>>,
    wdiff: Signal<Local, Bits<8>>,
    /// `s_caplen < 14`.
    cap_lt14: Signal<Local, Bit>,
    /// The EtherType's low byte is the one its high byte asks for.
    lo_ok: Signal<Local, Bit>,
    /// Byte-class decode of `s_data` as an EtherType high byte.
    b_tag: Signal<Local, Bit>,
    b_ip4: Signal<Local, Bit>,
    /// Byte-class decode of `s_data` as a next protocol / next header.
    b_ext: Signal<Local, Bit>,
    b_tcp: Signal<Local, Bit>,
    b_udp: Signal<Local, Bit>,
    b_icmp: Signal<Local, Bit>,
    /// Needed bytes of the header after this one (8 for an extension
    /// header, 14 for TCP, else 4).
    l4k: Signal<Local, Bits<12>>,
    /// `delta = da + db` in an IP, extension or ICMP header.
    da: Signal<Local, Bits<12>>,
    db: Signal<Local, Bits<12>>,
    /// The address lanes shift (src, dst) and what enters src.
    sh_src: Signal<Local, Bit>,
    sh_dst: Signal<Local, Bit>,
    src_in: Signal<Local, Bits<8>>,
    /// What shifts into `d15`: the data byte, or `s0` when the key turns.
    dst_in: Signal<Local, Bits<8>>,
    /// At `rem == 1`: the walk goes on to the state `nst`.
    go: Signal<Local, Bit>,
    nst: Signal<Local, Bits<9>>,
    /// Decided by this byte, as a record or a drop for `dn_reason`.
    dn: Signal<Local, Bit>,
    dn_rec: Signal<Local, Bit>,
    dn_reason: Signal<Local, Bits<3>>,

    // ---- constants ----
    r_truncated: Constant<Bits<3>>,
    r_non_ip: Constant<Bits<3>>,
    r_vlan_depth: Constant<Bits<3>>,
    r_bad_ip: Constant<Bits<3>>,
    r_fragment: Constant<Bits<3>>,
    r_ext_chain: Constant<Bits<3>>,
    r_header_window: Constant<Bits<3>>,
    f_echo_request: Constant<Bits<FLAGS>>,
    f_echo_reply: Constant<Bits<FLAGS>>,
    f_tcp_syn: Constant<Bits<FLAGS>>,
    f_tcp_synack: Constant<Bits<FLAGS>>,
    s_eth: Constant<Bits<9>>,
    s_vlan: Constant<Bits<9>>,
    s_ip4: Constant<Bits<9>>,
    s_ip6: Constant<Bits<9>>,
    s_ext: Constant<Bits<9>>,
    s_tcp: Constant<Bits<9>>,
    s_udp: Constant<Bits<9>>,
    s_icmp: Constant<Bits<9>>,
    s_echo: Constant<Bits<9>>,
}

impl Default for FrameParser {
    fn default() -> Self {
        let reason = |r: DropReason| Constant::new((r as u64).into());
        let flag = |f: u8| Constant::new((f as u64).into());
        let state = |i: usize| Constant::new((1u64 << i).into());
        Self {
            clock: Default::default(),
            reset: Default::default(),
            s_valid: Default::default(),
            s_ready: Default::default(),
            s_data: Default::default(),
            s_last: Default::default(),
            s_ts: Default::default(),
            s_caplen: Default::default(),
            m_valid: Default::default(),
            m_ready: Default::default(),
            m_ts: Default::default(),
            m_flags: Default::default(),
            m_key: Default::default(),
            frame_done: Default::default(),
            drop_valid: Default::default(),
            drop_reason: Default::default(),
            key_rot: Default::default(),
            key_tap: Default::default(),
            waiting_source: Default::default(),
            busy: Default::default(),
            st: Default::default(),
            rem: Default::default(),
            q_r1: Default::default(),
            q_le32: Default::default(),
            q_src4: Default::default(),
            q_dst4: Default::default(),
            q_eq20: Default::default(),
            slack: Default::default(),
            wslack: Default::default(),
            delta: Default::default(),
            lo_00: Default::default(),
            lo_a8: Default::default(),
            lo_dd: Default::default(),
            l2_tag: Default::default(),
            lo_bad: Default::default(),
            cap_bad: Default::default(),
            vl2: Default::default(),
            nx_ext: Default::default(),
            nx_frag: Default::default(),
            nx_ah: Default::default(),
            nx_tcp: Default::default(),
            nx_udp: Default::default(),
            nx_icmp: Default::default(),
            nx_icmp6: Default::default(),
            cur_frag: Default::default(),
            cur_ah: Default::default(),
            xcnt: Default::default(),
            ihl4: Default::default(),
            xlen: Default::default(),
            tl_hi0: Default::default(),
            bad: Default::default(),
            frag: Default::default(),
            echo: Default::default(),
            res_done: Default::default(),
            res_rec: Default::default(),
            ts: Default::default(),
            flags: Default::default(),
            key: Default::default(),
            st_dec: Default::default(),
            st_l4: Default::default(),
            w_v6: Default::default(),
            w_pro: Default::default(),
            w_sph: Default::default(),
            w_spl: Default::default(),
            w_dph: Default::default(),
            w_dpl: Default::default(),
            ov: Default::default(),
            fd: Default::default(),
            dv: Default::default(),
            dr: Default::default(),
            rdy: Default::default(),
            fire: Default::default(),
            first: Default::default(),
            in_eth: Default::default(),
            in_vlan: Default::default(),
            in_ip4: Default::default(),
            in_ip6: Default::default(),
            in_ext: Default::default(),
            in_tcp: Default::default(),
            in_icmp: Default::default(),
            at_l2: Default::default(),
            at_ip4: Default::default(),
            at_ip6: Default::default(),
            at_ext: Default::default(),
            at_icmp: Default::default(),
            d7: Default::default(),
            lt4: Default::default(),
            lt20: Default::default(),
            lt40: Default::default(),
            sdiff: Default::default(),
            wdiff: Default::default(),
            cap_lt14: Default::default(),
            lo_ok: Default::default(),
            b_tag: Default::default(),
            b_ip4: Default::default(),
            b_ext: Default::default(),
            b_tcp: Default::default(),
            b_udp: Default::default(),
            b_icmp: Default::default(),
            l4k: Default::default(),
            da: Default::default(),
            db: Default::default(),
            sh_src: Default::default(),
            sh_dst: Default::default(),
            src_in: Default::default(),
            dst_in: Default::default(),
            ovc: Default::default(),
            ovw: Default::default(),
            p_dn: Default::default(),
            p_rec: Default::default(),
            p_reason: Default::default(),
            nst: Default::default(),
            go: Default::default(),
            dn: Default::default(),
            dn_rec: Default::default(),
            dn_reason: Default::default(),
            r_truncated: reason(DropReason::Truncated),
            r_non_ip: reason(DropReason::NonIp),
            r_vlan_depth: reason(DropReason::VlanDepth),
            r_bad_ip: reason(DropReason::BadIp),
            r_fragment: reason(DropReason::Fragment),
            r_ext_chain: reason(DropReason::ExtChain),
            r_header_window: reason(DropReason::HeaderWindow),
            f_echo_request: flag(FLAG_ECHO_REQUEST),
            f_echo_reply: flag(FLAG_ECHO_REPLY),
            f_tcp_syn: flag(FLAG_TCP_SYN),
            f_tcp_synack: flag(FLAG_TCP_SYNACK),
            s_eth: state(0),
            s_vlan: state(1),
            s_ip4: state(2),
            s_ip6: state(3),
            s_ext: state(4),
            s_tcp: state(5),
            s_udp: state(6),
            s_icmp: state(7),
            s_echo: state(8),
        }
    }
}

impl Logic for FrameParser {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, busy, st, rem, q_r1, q_le32, q_src4, q_dst4, q_eq20, slack, wslack, delta,
            lo_00, lo_a8, lo_dd, l2_tag, lo_bad, cap_bad, vl2, nx_ext, nx_frag, nx_ah, nx_tcp,
            nx_udp, nx_icmp, nx_icmp6, cur_frag, cur_ah, xcnt, ihl4, xlen, tl_hi0, bad, frag, echo,
            res_done, res_rec, ts, flags, key, ovc, ovw, p_dn, p_rec, p_reason, st_dec, st_l4,
            w_v6, w_pro, w_sph, w_spl, w_dph, w_dpl, ov, fd, dv, dr
        );

        // ---- handshake and decode ----
        // `at_*`: the header being parsed (registers only); `in_*`: and a
        // byte is taken. Register data paths select on `at_*`, enables use
        // `in_*`, so the handshake stays off the data paths.
        self.rdy.next = !self.ov.q.val() && !self.reset.val();
        self.fire.next = self.s_valid.val() && self.rdy.val();
        if self.waiting_source.y.val() {
            // The source offers nothing while `m_valid`: a byte offered is
            // taken unless in reset (the handshake's LUT level goes).
            self.fire.next = self.s_valid.val() && !self.reset.val();
        }
        self.first.next = self.fire.val() && !self.busy.q.val();
        self.at_l2.next = self.st.q.val().get_bit(0) || self.st.q.val().get_bit(1);
        self.at_ip4.next = self.st.q.val().get_bit(2);
        self.at_ip6.next = self.st.q.val().get_bit(3);
        self.at_ext.next = self.st.q.val().get_bit(4);
        self.at_icmp.next = self.st.q.val().get_bit(7);
        self.in_eth.next = self.fire.val() && self.st.q.val().get_bit(0);
        self.in_vlan.next = self.fire.val() && self.st.q.val().get_bit(1);
        self.in_ip4.next = self.fire.val() && self.st.q.val().get_bit(2);
        self.in_ip6.next = self.fire.val() && self.st.q.val().get_bit(3);
        self.in_ext.next = self.fire.val() && self.st.q.val().get_bit(4);
        self.in_tcp.next = self.fire.val() && self.st.q.val().get_bit(5);
        self.in_icmp.next = self.fire.val() && self.st.q.val().get_bit(7);
        // The byte as a next protocol / next header (model::parse::IPV6_EXT
        // and the L4 protocol lists).
        self.b_ext.next = self.s_data.val() == 0
            || self.s_data.val() == 43
            || self.s_data.val() == 44
            || self.s_data.val() == 51
            || self.s_data.val() == 60
            || self.s_data.val() == 135
            || self.s_data.val() == 139
            || self.s_data.val() == 140;
        self.b_tcp.next = self.s_data.val() == 6;
        self.b_udp.next = self.s_data.val() == 17
            || self.s_data.val() == 136
            || self.s_data.val() == 132
            || self.s_data.val() == 33;
        self.b_icmp.next = self.s_data.val() == 1 || self.s_data.val() == 58;
        // The byte as an EtherType high byte: a tag (0x81, 0x88, 0x91),
        // IPv4 (0x08); else IPv6 (0x86) or non-IP (decided at the low byte).
        self.b_tag.next =
            self.s_data.val() == 0x81 || self.s_data.val() == 0x88 || self.s_data.val() == 0x91;
        self.b_ip4.next = self.s_data.val() == 0x08;

        // ---- delta: the distance from the pending need to the next one ----
        // In an IP, extension or ICMP header delta is recomputed every clock
        // from registered fields, and is right well before rem 1 (its fields
        // arrive at least six bytes before): IPv4 options (IHL*4 - 20) plus
        // the L4 need; IPv6 the next header's need; an extension header the
        // rest of it (from its length byte) plus the next need; ICMP 2 (an
        // echo needs the identifier). An Ethernet header or tag loads it at
        // the EtherType's high byte (a tag 4, IPv4 20, else IPv6 40), the
        // first byte of a frame loads 14 (Ethernet).
        // The next header's need: 8 (extension header), 14 (TCP), else 4.
        self.l4k.next = 4.into();
        if self.nx_tcp.q.val() {
            self.l4k.next = 14.into();
        }
        if self.nx_ext.q.val() {
            self.l4k.next = 8.into();
        }
        self.da.next = 0.into();
        self.db.next = 2.into();
        if self.at_ip4.val() {
            self.da.next = bit_cast::<12, 6>(self.ihl4.q.val());
            self.db.next = 0xff0.into(); // 4 - 20
            if self.nx_tcp.q.val() {
                self.db.next = 0xffa.into(); // 14 - 20
            }
        }
        if self.at_ext.val() {
            self.da.next = bit_cast::<12, 11>(self.xlen.q.val());
        }
        if self.at_ip6.val() || self.at_ext.val() {
            self.db.next = self.l4k.val();
        }
        if self.at_ip4.val() || self.at_ip6.val() || self.at_ext.val() || self.at_icmp.val() {
            self.delta.d.next = self.da.val() + self.db.val();
        }
        if self.at_l2.val() && self.fire.val() && self.rem.q.val() == 2 {
            self.delta.d.next = 40.into();
            if self.b_ip4.val() {
                self.delta.d.next = 20.into();
            }
            if self.b_tag.val() {
                self.delta.d.next = 4.into();
            }
        }
        if self.first.val() {
            self.delta.d.next = 14.into();
        }

        // ---- header fields ----
        // Ethernet / VLAN tag: EtherType high byte at rem 2 (the low byte at
        // rem 1 is decoded in the decision below).
        if (self.in_eth.val() || self.in_vlan.val()) && self.rem.q.val() == 2 {
            self.lo_00.d.next =
                self.s_data.val() == 0x81 || self.s_data.val() == 0x91 || self.b_ip4.val();
            self.lo_a8.d.next = self.s_data.val() == 0x88;
            self.lo_dd.d.next = self.s_data.val() == 0x86;
            self.l2_tag.d.next = self.b_tag.val();
        }

        // IPv4 header (rem 20..1).
        if self.in_ip4.val() && self.q_eq20.q.val() {
            // (Shifts are only computed at the bytes they use: rust-hdl
            // simulates `<<` and `>>` on short vectors with big integers.)
            self.ihl4.d.next = bit_cast::<6, 8>(self.s_data.val() & 0x0f) << 2;
            self.bad.d.next =
                self.s_data.val().get_bits::<4>(4) != 4 || self.s_data.val().get_bits::<4>(0) < 5;
            // ::ffff:a.b.c.d once the four address bytes are shifted in
            // (below); no ports yet.
            self.key.d.next.v6 = false;
            self.key.d.next.sp_lo = 0.into();
            self.key.d.next.sp_hi = 0.into();
            self.key.d.next.dp_lo = 0.into();
            self.key.d.next.dp_hi = 0.into();
            self.key.d.next.s0 = 0.into();
            self.key.d.next.s1 = 0.into();
            self.key.d.next.s2 = 0.into();
            self.key.d.next.s3 = 0.into();
            self.key.d.next.s4 = 0.into();
            self.key.d.next.s5 = 0.into();
            self.key.d.next.s6 = 0.into();
            self.key.d.next.s7 = 0.into();
            self.key.d.next.s8 = 0.into();
            self.key.d.next.s9 = 0.into();
            self.key.d.next.s10 = 0.into();
            self.key.d.next.s11 = 0.into();
            self.key.d.next.s12 = 0.into();
            self.key.d.next.s13 = 0.into();
            self.key.d.next.s14 = 0xff.into();
            self.key.d.next.s15 = 0xff.into();
            self.key.d.next.d0 = 0.into();
            self.key.d.next.d1 = 0.into();
            self.key.d.next.d2 = 0.into();
            self.key.d.next.d3 = 0.into();
            self.key.d.next.d4 = 0.into();
            self.key.d.next.d5 = 0.into();
            self.key.d.next.d6 = 0.into();
            self.key.d.next.d7 = 0.into();
            self.key.d.next.d8 = 0.into();
            self.key.d.next.d9 = 0.into();
            self.key.d.next.d10 = 0.into();
            self.key.d.next.d11 = 0.into();
            self.key.d.next.d12 = 0.into();
            self.key.d.next.d13 = 0.into();
            self.key.d.next.d14 = 0xff.into();
            self.key.d.next.d15 = 0xff.into();
        }
        if self.in_ip4.val() && self.rem.q.val() == 18 {
            self.tl_hi0.d.next = self.s_data.val() == 0;
        }
        // total length < IHL*4, i.e. (total >> 2) < IHL.
        if self.in_ip4.val()
            && self.rem.q.val() == 17
            && self.tl_hi0.q.val()
            && !self.s_data.val().get_bits::<2>(6).any()
            && self.s_data.val().get_bits::<4>(2) < self.ihl4.q.val().get_bits::<4>(2)
        {
            self.bad.d.next = true;
        }
        if self.in_ip4.val() && self.rem.q.val() == 14 {
            self.frag.d.next = self.s_data.val().get_bits::<5>(0).any();
        }
        if self.in_ip4.val() && self.rem.q.val() == 13 && self.s_data.val().any() {
            self.frag.d.next = true;
        }

        // IPv6 header (rem 40..1).
        if self.fire.val() && self.w_v6.q.val() {
            self.bad.d.next = self.s_data.val().get_bits::<4>(4) != 6;
            self.key.d.next.v6 = true;
            self.key.d.next.sp_lo = 0.into();
            self.key.d.next.sp_hi = 0.into();
            self.key.d.next.dp_lo = 0.into();
            self.key.d.next.dp_hi = 0.into();
        }

        // Addresses: the bytes shift into the lanes from d15 towards s0. An
        // IPv6 header shifts all 32 bytes through dst into src (rem 32..1);
        // IPv4 shifts its source into src (rem 8..5) and its destination into
        // dst (rem 4..1) on top of the ::ffff preset. A held record's key
        // announces itself the same way (`key_rot`): the 32 lanes turn as
        // one ring, s0 back into d15, so the tap s0 shows the addresses in
        // wire order and 32 turns bring every byte home.
        self.sh_src.next = (self.in_ip6.val() && self.q_le32.q.val())
            || (self.in_ip4.val() && self.q_src4.q.val())
            || self.key_rot.val();
        self.sh_dst.next = (self.in_ip6.val() && self.q_le32.q.val())
            || (self.in_ip4.val() && self.q_dst4.q.val())
            || self.key_rot.val();
        self.src_in.next = self.s_data.val();
        if self.at_ip6.val() || self.key_rot.val() {
            self.src_in.next = self.key.q.val().d0;
        }
        self.dst_in.next = self.s_data.val();
        if self.key_rot.val() {
            self.dst_in.next = self.key.q.val().s0;
        }
        self.key_tap.next = self.key.q.val().s0;
        if self.sh_src.val() {
            self.key.d.next.s0 = self.key.q.val().s1;
            self.key.d.next.s1 = self.key.q.val().s2;
            self.key.d.next.s2 = self.key.q.val().s3;
            self.key.d.next.s3 = self.key.q.val().s4;
            self.key.d.next.s4 = self.key.q.val().s5;
            self.key.d.next.s5 = self.key.q.val().s6;
            self.key.d.next.s6 = self.key.q.val().s7;
            self.key.d.next.s7 = self.key.q.val().s8;
            self.key.d.next.s8 = self.key.q.val().s9;
            self.key.d.next.s9 = self.key.q.val().s10;
            self.key.d.next.s10 = self.key.q.val().s11;
            self.key.d.next.s11 = self.key.q.val().s12;
            self.key.d.next.s12 = self.key.q.val().s13;
            self.key.d.next.s13 = self.key.q.val().s14;
            self.key.d.next.s14 = self.key.q.val().s15;
            self.key.d.next.s15 = self.src_in.val();
        }
        if self.sh_dst.val() {
            self.key.d.next.d0 = self.key.q.val().d1;
            self.key.d.next.d1 = self.key.q.val().d2;
            self.key.d.next.d2 = self.key.q.val().d3;
            self.key.d.next.d3 = self.key.q.val().d4;
            self.key.d.next.d4 = self.key.q.val().d5;
            self.key.d.next.d5 = self.key.q.val().d6;
            self.key.d.next.d6 = self.key.q.val().d7;
            self.key.d.next.d7 = self.key.q.val().d8;
            self.key.d.next.d8 = self.key.q.val().d9;
            self.key.d.next.d9 = self.key.q.val().d10;
            self.key.d.next.d10 = self.key.q.val().d11;
            self.key.d.next.d11 = self.key.q.val().d12;
            self.key.d.next.d12 = self.key.q.val().d13;
            self.key.d.next.d13 = self.key.q.val().d14;
            self.key.d.next.d14 = self.key.q.val().d15;
            self.key.d.next.d15 = self.dst_in.val();
        }

        // The protocol / next-header byte: IPv4 at rem 11, IPv6 at rem 34,
        // an extension header at rem 8 (its first byte; rem counts down
        // through skipped bytes first). IPv4 walks no extension headers.
        if self.fire.val() && self.w_pro.q.val() {
            self.key.d.next.proto = self.s_data.val();
            self.nx_ext.d.next = self.b_ext.val() && !self.in_ip4.val();
            self.nx_frag.d.next = self.s_data.val() == 44;
            self.nx_ah.d.next = self.s_data.val() == 51;
            self.nx_tcp.d.next = self.b_tcp.val();
            self.nx_udp.d.next = self.b_udp.val();
            self.nx_icmp.d.next = self.b_icmp.val();
            self.nx_icmp6.d.next = self.s_data.val() == 58;
        }

        // IPv6 extension header (first 8 bytes: rem 8..1): its length byte
        // at rem 7: the header is 8 bytes (fragment), (len + 2) * 4 (AH) or
        // (len + 1) * 8; and the fragment offset.
        if self.in_ext.val() && self.rem.q.val() == 7 {
            self.xlen.d.next = bit_cast::<11, 8>(self.s_data.val()) << 3;
            if self.cur_ah.q.val() {
                self.xlen.d.next = bit_cast::<11, 8>(self.s_data.val()) << 2;
            }
            if self.cur_frag.q.val() {
                self.xlen.d.next = 0.into();
            }
        }
        if self.in_ext.val() && self.rem.q.val() == 6 {
            self.frag.d.next = self.s_data.val().any();
        }
        if self.in_ext.val() && self.rem.q.val() == 5 && self.s_data.val().get_bits::<5>(3).any() {
            self.frag.d.next = true;
        }

        // Ports: TCP at rem 14..11 and UDP-like at rem 4..1; ICMP type
        // (sport) at rem 4 and code (dport) at rem 3 unless echo; the echo
        // identifier (sport) at rem 2..1.
        if self.fire.val() && self.w_sph.q.val() {
            self.key.d.next.sp_hi = self.s_data.val();
        }
        if self.fire.val() && self.w_spl.q.val() {
            self.key.d.next.sp_lo = self.s_data.val();
        }
        if self.fire.val() && self.w_dph.q.val() {
            self.key.d.next.dp_hi = self.s_data.val();
        }
        if self.fire.val() && self.w_dpl.q.val() && !(self.at_icmp.val() && self.echo.q.val()) {
            self.key.d.next.dp_lo = self.s_data.val();
        }
        // TCP flags at rem 1 (`q_r1`: no compare of `rem` on the way to
        // the flags).
        if self.in_tcp.val() && self.q_r1.q.val() && self.s_data.val().get_bit(1) {
            if self.s_data.val().get_bit(4) {
                self.flags.d.next = self.f_tcp_synack.val();
            } else {
                self.flags.d.next = self.f_tcp_syn.val();
            }
        }
        // ICMP echo request / reply: the type byte (rem 4) is the one
        // `w_spl` strobes in ICMP.
        if self.in_icmp.val() && self.w_spl.q.val() {
            self.echo.d.next = false;
            if (self.nx_icmp6.q.val() && self.s_data.val() == 128)
                || (!self.nx_icmp6.q.val() && self.s_data.val() == 8)
            {
                self.echo.d.next = true;
                self.flags.d.next = self.f_echo_request.val();
            }
            if (self.nx_icmp6.q.val() && self.s_data.val() == 129)
                || (!self.nx_icmp6.q.val() && self.s_data.val() == 0)
            {
                self.echo.d.next = true;
                self.flags.d.next = self.f_echo_reply.val();
            }
        }

        // ---- decisions ----
        // The need after the pending one lies beyond the capture (ovc) or
        // the window (ovw), from delta and the slacks (registered: valid one
        // byte after delta is loaded).
        // (The subtractions also give the slacks after the need, at go.)
        self.sdiff.next =
            bit_cast::<13, 12>(self.slack.q.val()) - bit_cast::<13, 12>(self.delta.q.val());
        self.wdiff.next = bit_cast::<8, 7>(self.wslack.q.val())
            - bit_cast::<8, 7>(bit_cast::<7, 12>(self.delta.q.val()));
        self.ovc.d.next = self.sdiff.val().get_bit(12);
        self.ovw.d.next = (self.delta.q.val() & 0xf80).any() || self.wdiff.val().get_bit(7);
        // slack below 4, 20, 40 (gates): an EtherType's class gives delta
        // one byte before the decision, too late for ovc.
        self.lt4.next = !(self.slack.q.val() & 0xffc).any();
        self.lt20.next = !((self.slack.q.val() & 0xfe0).any()
            || (self.slack.q.val().get_bit(4) && (self.slack.q.val() & 0x00c).any()));
        self.lt40.next = !((self.slack.q.val() & 0xfc0).any()
            || (self.slack.q.val().get_bit(5) && (self.slack.q.val() & 0x018).any()));

        // What a header decides at its last byte (p_dn clear: go on to
        // nst; set: stop, as a record with p_rec, else a drop for
        // p_reason), prepared a clock ahead. An IP, extension or ICMP
        // header's fields are registered at least three bytes before its
        // end, ovc / ovw one clock after delta. An Ethernet header or tag is
        // prepared at the EtherType's high byte and held (its low byte is
        // checked separately, below); a tag or IP header never reaches past
        // the window (its need is at most 22 + 40).
        self.p_dn.d.next = false;
        self.p_rec.d.next = false;
        self.p_reason.d.next = self.r_header_window.val();
        if self.at_ip4.val() || self.at_ip6.val() || self.at_ext.val() {
            if (self.at_ip4.val() || self.at_ip6.val()) && self.bad.q.val() {
                self.p_dn.d.next = true;
                self.p_reason.d.next = self.r_bad_ip.val();
            } else if (self.at_ip4.val() || (self.at_ext.val() && self.cur_frag.q.val()))
                && self.frag.q.val()
            {
                self.p_dn.d.next = true;
                self.p_reason.d.next = self.r_fragment.val();
            } else if self.at_ext.val() && self.nx_ext.q.val() && self.xcnt.q.val().all() {
                self.p_dn.d.next = true;
                self.p_reason.d.next = self.r_ext_chain.val();
            } else if !(self.nx_ext.q.val()
                || self.nx_tcp.q.val()
                || self.nx_udp.q.val()
                || self.nx_icmp.q.val())
            {
                self.p_dn.d.next = true;
                self.p_rec.d.next = true;
            } else if self.ovc.q.val() {
                self.p_dn.d.next = true;
                self.p_reason.d.next = self.r_truncated.val();
            } else if self.ovw.q.val() {
                self.p_dn.d.next = true;
            }
        }
        if self.at_icmp.val() {
            if !self.echo.q.val() {
                self.p_dn.d.next = true;
                self.p_rec.d.next = true;
            } else if self.ovc.q.val() {
                self.p_dn.d.next = true;
                self.p_reason.d.next = self.r_truncated.val();
            } else if self.ovw.q.val() {
                self.p_dn.d.next = true;
            }
        }
        if self.at_l2.val() {
            self.p_reason.d.next = self.r_truncated.val();
            self.p_dn.d.next = self.lt40.val();
            if self.b_ip4.val() {
                self.p_dn.d.next = self.lt20.val();
            }
            if self.b_tag.val() {
                self.p_dn.d.next = self.lt4.val();
            }
            if self.b_tag.val() && self.st.q.val().get_bit(1) && self.vl2.q.val() {
                self.p_dn.d.next = true;
                self.p_reason.d.next = self.r_vlan_depth.val();
            }
        }

        if self.at_l2.val() && !(self.fire.val() && self.rem.q.val() == 2) {
            self.p_dn.d.next = self.p_dn.q.val();
            self.p_rec.d.next = self.p_rec.q.val();
            self.p_reason.d.next = self.p_reason.q.val();
        }

        // The state after this header, from registered fields.
        self.nst.next = self.s_icmp.val();
        if self.nx_udp.q.val() {
            self.nst.next = self.s_udp.val();
        }
        if self.nx_tcp.q.val() {
            self.nst.next = self.s_tcp.val();
        }
        if self.nx_ext.q.val() {
            self.nst.next = self.s_ext.val();
        }
        if self.at_icmp.val() {
            self.nst.next = self.s_echo.val();
        }
        if self.at_l2.val() {
            self.nst.next = self.s_ip4.val();
            if self.lo_dd.q.val() {
                self.nst.next = self.s_ip6.val();
            }
            if self.l2_tag.q.val() {
                self.nst.next = self.s_vlan.val();
            }
        }

        // At rem == 1: go (on to nst) or dn (decided now, as a record with
        // dn_rec, else a drop for dn_reason).
        self.go.next = false;
        self.dn.next = false;
        self.dn_rec.next = false;
        self.dn_reason.next = self.r_header_window.val();
        // need(14) at the first byte: caplen < 14 (spelled out as gates) is
        // truncated. Like a bad EtherType below, the frame is dropped at the
        // next clock (the second byte decides nothing); only the drop reason
        // of a one-byte frame looks at caplen at once.
        self.cap_lt14.next = !self.s_caplen.val().get_bits::<12>(4).any()
            && !self.s_caplen.val().get_bits::<3>(1).all();
        if self.first.val() && self.cap_lt14.val() {
            self.dn_reason.next = self.r_truncated.val();
        }
        self.cap_bad.d.next = self.first.val() && self.cap_lt14.val() && !self.s_last.val();
        self.lo_ok.next = (self.lo_00.q.val() && self.s_data.val() == 0x00)
            || (self.lo_a8.q.val() && self.s_data.val() == 0xa8)
            || (self.lo_dd.q.val() && self.s_data.val() == 0xdd);
        if self.fire.val() && self.q_r1.q.val() && self.st_dec.q.val() {
            if self.p_dn.q.val() {
                self.dn.next = true;
                self.dn_rec.next = self.p_rec.q.val();
                self.dn_reason.next = self.p_reason.q.val();
            } else {
                self.go.next = true;
            }
        }
        // An EtherType whose low byte is not the one its high byte asks for
        // is non-IP. To keep the low byte off the paths of go and dn, an
        // Ethernet header or tag goes on regardless, and the frame is
        // dropped at the next clock (nothing decides at the first byte of a
        // header); only the drop reason looks at the byte.
        if self.fire.val() && self.q_r1.q.val() && self.at_l2.val() && !self.lo_ok.val() {
            self.dn_reason.next = self.r_non_ip.val();
        }
        if self.lo_bad.q.val() {
            self.go.next = false;
            self.dn.next = true;
            self.dn_rec.next = false;
            self.dn_reason.next = self.r_non_ip.val();
        }
        if self.cap_bad.q.val() {
            self.dn.next = true;
            self.dn_reason.next = self.r_truncated.val();
        }
        self.lo_bad.d.next = self.fire.val()
            && self.q_r1.q.val()
            && self.at_l2.val()
            && !self.p_dn.q.val()
            && !self.s_last.val()
            && !self.lo_ok.val();
        if self.q_r1.q.val() && self.fire.val() && self.st_l4.q.val() {
            self.dn.next = true;
            self.dn_rec.next = true;
        }

        // ---- walk state ----
        self.d7.next = bit_cast::<7, 12>(self.delta.q.val());
        // rem, and registered decodes of it for the byte it counts (rem == 1,
        // rem <= 32, 5 <= rem <= 8, 1 <= rem <= 4, rem == 20), so that they
        // are off the paths of go and of the key lanes' enables. Each is
        // computed from the value rem is loaded with: rem - 1 after a byte,
        // delta on go, 13 at a frame's first byte. (As gates: compares would
        // become carry chains; masks rather than get_bits, which rust-hdl
        // simulates with big integers.)
        if self.fire.val() {
            self.rem.d.next = self.rem.q.val() - 1;
            self.q_r1.d.next = self.rem.q.val() == 2;
            // rem <= 33
            self.q_le32.d.next = !self.rem.q.val().get_bit(6)
                && (!self.rem.q.val().get_bit(5) || !(self.rem.q.val() & 0x1e).any());
            // 6 <= rem <= 9
            self.q_src4.d.next = !(self.rem.q.val() & 0x70).any()
                && ((!self.rem.q.val().get_bit(3)
                    && self.rem.q.val().get_bit(2)
                    && self.rem.q.val().get_bit(1))
                    || (self.rem.q.val().get_bit(3) && !(self.rem.q.val() & 0x06).any()));
            // 2 <= rem <= 5
            self.q_dst4.d.next = !(self.rem.q.val() & 0x78).any()
                && (self.rem.q.val().get_bit(2) ^ self.rem.q.val().get_bit(1));
            self.q_eq20.d.next = self.rem.q.val() == 21;
            // The key lanes' byte strobes for rem - 1 (see `w_v6`).
            self.w_v6.d.next = self.st.q.val().get_bit(3) && self.rem.q.val() == 41;
            self.w_pro.d.next = (self.st.q.val().get_bit(2) && self.rem.q.val() == 12)
                || (self.st.q.val().get_bit(3) && self.rem.q.val() == 35)
                || (self.st.q.val().get_bit(4) && self.rem.q.val() == 9);
            self.w_sph.d.next = (self.st.q.val().get_bit(5) && self.rem.q.val() == 15)
                || (self.st.q.val().get_bit(6) && self.rem.q.val() == 5)
                || (self.st.q.val().get_bit(8) && self.rem.q.val() == 3);
            self.w_spl.d.next = (self.st.q.val().get_bit(5) && self.rem.q.val() == 14)
                || (self.st.q.val().get_bit(6) && self.rem.q.val() == 4)
                || (self.st.q.val().get_bit(7) && self.rem.q.val() == 5)
                || (self.st.q.val().get_bit(8) && self.rem.q.val() == 2);
            self.w_dph.d.next = (self.st.q.val().get_bit(5) && self.rem.q.val() == 13)
                || (self.st.q.val().get_bit(6) && self.rem.q.val() == 3);
            self.w_dpl.d.next = (self.st.q.val().get_bit(5) && self.rem.q.val() == 12)
                || (self.st.q.val().get_bit(6) && self.rem.q.val() == 2)
                || (self.st.q.val().get_bit(7) && self.rem.q.val() == 4);
        }
        if self.go.val() || (self.in_eth.val() && self.rem.q.val() == 13) {
            self.slack.d.next = bit_cast::<12, 13>(self.sdiff.val());
        }
        if self.go.val() {
            self.st.d.next = self.nst.val();
            self.st_dec.d.next = (self.nst.val() & 0x09f).any();
            self.st_l4.d.next = (self.nst.val() & 0x160).any();
            self.rem.d.next = bit_cast::<7, 12>(self.delta.q.val());
            self.q_r1.d.next = self.d7.val() == 1;
            self.q_le32.d.next = !self.d7.val().get_bit(6)
                && (!self.d7.val().get_bit(5) || !(self.d7.val() & 0x1f).any());
            self.q_src4.d.next = (!(self.d7.val() & 0x78).any()
                && self.d7.val().get_bit(2)
                && (self.d7.val() & 0x03).any())
                || self.d7.val() == 8;
            self.q_dst4.d.next = !(self.d7.val() & 0x78).any()
                && (self.d7.val() & 0x07).any()
                && !(self.d7.val().get_bit(2) && (self.d7.val() & 0x03).any());
            self.q_eq20.d.next = self.d7.val() == 20;
            // The strobes for the next header's first byte.
            self.w_v6.d.next = self.nst.val().get_bit(3) && self.d7.val() == 40;
            self.w_pro.d.next = (self.nst.val().get_bit(2) && self.d7.val() == 11)
                || (self.nst.val().get_bit(3) && self.d7.val() == 34)
                || (self.nst.val().get_bit(4) && self.d7.val() == 8);
            self.w_sph.d.next = (self.nst.val().get_bit(5) && self.d7.val() == 14)
                || (self.nst.val().get_bit(6) && self.d7.val() == 4)
                || (self.nst.val().get_bit(8) && self.d7.val() == 2);
            self.w_spl.d.next = (self.nst.val().get_bit(5) && self.d7.val() == 13)
                || (self.nst.val().get_bit(6) && self.d7.val() == 3)
                || (self.nst.val().get_bit(7) && self.d7.val() == 4)
                || (self.nst.val().get_bit(8) && self.d7.val() == 1);
            self.w_dph.d.next = (self.nst.val().get_bit(5) && self.d7.val() == 12)
                || (self.nst.val().get_bit(6) && self.d7.val() == 2);
            self.w_dpl.d.next = (self.nst.val().get_bit(5) && self.d7.val() == 11)
                || (self.nst.val().get_bit(6) && self.d7.val() == 1)
                || (self.nst.val().get_bit(7) && self.d7.val() == 3);
            self.wslack.d.next = bit_cast::<7, 8>(self.wdiff.val());
            self.cur_frag.d.next = self.nx_frag.q.val();
            self.cur_ah.d.next = self.nx_ah.q.val();
        }
        if self.go.val() && (self.in_eth.val() || self.in_vlan.val()) {
            self.vl2.d.next = self.in_vlan.val();
        }
        if self.go.val() && self.in_ip6.val() {
            self.xcnt.d.next = 0.into();
        }
        if self.go.val() && self.in_ext.val() {
            self.xcnt.d.next = self.xcnt.q.val() + 1;
        }
        if self.first.val() {
            self.busy.d.next = true;
            self.ts.d.next = self.s_ts.val();
            self.flags.d.next = 0.into();
            self.st.d.next = self.s_eth.val();
            self.st_dec.d.next = true;
            self.rem.d.next = 13.into();
            self.q_r1.d.next = false;
            self.q_le32.d.next = true;
            self.q_src4.d.next = false;
            self.q_dst4.d.next = false;
            self.q_eq20.d.next = false;
            self.wslack.d.next = 114.into();
            // caplen, saturated to 12 bits (see the module comment); the
            // Ethernet header's 14 bytes are subtracted at the next byte.
            self.slack.d.next = self.s_caplen.val().get_bits::<12>(0);
            if self.s_caplen.val().get_bits::<4>(12).any() {
                self.slack.d.next = 0xfff.into();
            }
        }
        // A decision, the frame's last byte or a reset: the walk starts
        // over, its state and the decodes registered beside it cleared
        // together (nothing below assigns them). A frame's first byte
        // clears the same decodes (its state is set above).
        if self.dn.val() || (self.fire.val() && self.s_last.val()) || self.reset.val() {
            self.st.d.next = 0.into();
            self.st_dec.d.next = false;
        }
        if self.first.val()
            || self.dn.val()
            || (self.fire.val() && self.s_last.val())
            || self.reset.val()
        {
            self.st_l4.d.next = false;
            self.w_v6.d.next = false;
            self.w_pro.d.next = false;
            self.w_sph.d.next = false;
            self.w_spl.d.next = false;
            self.w_dph.d.next = false;
            self.w_dpl.d.next = false;
        }
        if self.dn.val() {
            self.res_done.d.next = true;
            self.res_rec.d.next = self.dn_rec.val();
        }
        // drop_reason holds a frame's reason from its decision (it is only
        // read with drop_valid); a frame still needing bytes at its end is
        // header_window (dn_reason's default).
        if self.dn.val() || (self.fire.val() && self.s_last.val() && !self.res_done.q.val()) {
            self.dr.d.next = self.dn_reason.val();
        }

        // ---- end of frame ----
        self.fd.d.next = false;
        self.dv.d.next = false;
        if self.ov.q.val() && self.m_ready.val() {
            self.ov.d.next = false;
        }
        if self.fire.val() && self.s_last.val() {
            self.busy.d.next = false;
            self.res_done.d.next = false;
            self.fd.d.next = true;
            if self.res_done.q.val() {
                self.ov.d.next = self.res_rec.q.val();
                self.dv.d.next = !self.res_rec.q.val();
            } else {
                // Decided by this byte, or still needing bytes: header_window.
                self.ov.d.next = self.dn.val() && self.dn_rec.val();
                self.dv.d.next = !(self.dn.val() && self.dn_rec.val());
            }
        }
        if self.reset.val() {
            self.busy.d.next = false;
            self.lo_bad.d.next = false;
            self.cap_bad.d.next = false;
            self.res_done.d.next = false;
            self.ov.d.next = false;
            self.fd.d.next = false;
            self.dv.d.next = false;
        }

        // ---- outputs ----
        self.s_ready.next = self.rdy.val();
        self.m_valid.next = self.ov.q.val();
        self.m_ts.next = self.ts.q.val();
        self.m_flags.next = self.flags.q.val();
        self.m_key.next = self.key.q.val().to_bits();
        self.frame_done.next = self.fd.q.val();
        self.drop_valid.next = self.dv.q.val();
        self.drop_reason.next = self.dr.q.val();
    }
}

crate::impl_clocked!(FrameParser);

impl FrameParser {
    /// The parser for a source that never offers a byte (`s_valid`) while a
    /// record waits (`m_valid`), as the board's replay feed does (it sends
    /// a frame only into a quiet pipeline): then every byte offered outside
    /// reset is taken, and the parser's decisions do not wait on its own
    /// `m_valid`. `s_ready` is unchanged. A source that breaks the promise
    /// has its byte parsed under the waiting record, corrupting both; the
    /// board's simulation checks the promise every clock.
    pub fn for_waiting_source() -> Self {
        Self {
            waiting_source: ConstBit::new(true),
            ..Default::default()
        }
    }

    /// The registered state classes and byte strobes against their
    /// definitions (for tests, every clock): the first that differs, if any.
    pub fn class_mismatch(&self) -> Option<String> {
        let st = self.st.q.val().to_u64();
        let rem = self.rem.q.val().to_u64();
        let at = |bit: u64, r: u64| st >> bit & 1 == 1 && rem == r;
        [
            ("st_dec", self.st_dec.q.val(), st & ST_DEC != 0),
            ("st_l4", self.st_l4.q.val(), st & ST_L4 != 0),
            ("q_r1", self.q_r1.q.val(), rem == 1),
            ("w_v6", self.w_v6.q.val(), at(3, 40)),
            (
                "w_pro",
                self.w_pro.q.val(),
                at(2, 11) || at(3, 34) || at(4, 8),
            ),
            (
                "w_sph",
                self.w_sph.q.val(),
                at(5, 14) || at(6, 4) || at(8, 2),
            ),
            (
                "w_spl",
                self.w_spl.q.val(),
                at(5, 13) || at(6, 3) || at(7, 4) || at(8, 1),
            ),
            ("w_dph", self.w_dph.q.val(), at(5, 12) || at(6, 2)),
            (
                "w_dpl",
                self.w_dpl.q.val(),
                at(5, 11) || at(6, 1) || at(7, 3),
            ),
        ]
        .into_iter()
        .find(|&(_, got, want)| got != want)
        .map(|(name, got, _)| format!("state {st:#x} rem {rem}: {name} is {got}"))
    }
}
