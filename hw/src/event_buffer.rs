//! The board's event buffer: serializes the core's key announcements and
//! exports into their wire encoding (`protocol::encode_event`) in a 2048-byte
//! block-RAM FIFO (`protocol::EVENT_BUFFER_BYTES`) that DRAIN and PEEK read,
//! and turns peek results into the 28-byte READ_SLOTS record for the command
//! processor. One byte per clock; it holds the core's output registers until
//! an event's last byte is written, so a full buffer stalls the core.
//! When both are waiting, the open is written first (docs/DESIGN.md §6: every
//! `Open` of a key precedes the exports credited to it).

use crate::bram::Bram;
use crate::consts::*;
use crate::flow_table::REASON_BITS;
use crate::types::{KeyBits, StatsBits};
use bloomtime_model::protocol::{EVENT_BUFFER_BYTES, OPEN_BYTES};
use rust_hdl::prelude::*;

/// FIFO address bits.
pub const EB_ADDR: usize = 11;
/// Bytes of a READ_SLOTS record: 4 tag bytes (valid << 24 | fingerprint), then the statistics.
pub const SLOT_RECORD_BYTES: usize = 4 + STATS_BITS / 8;
const _: () =
    assert!(EVENT_BUFFER_BYTES == 1 << EB_ADDR && OPEN_BYTES == 41 && STATS_BITS / 8 == 24);

/// What the serializer is writing.
#[derive(Copy, Clone, PartialEq, Eq, Debug, LogicState)]
pub enum EbState {
    Idle,
    Open,
    Evict,
    Peek,
}

#[derive(LogicBlock, Default)]
pub struct EventBuffer {
    pub clock: Signal<In, Clock>,
    /// Empty the FIFO (CLEAR).
    pub clear: Signal<In, Bit>,
    pub s_open_valid: Signal<In, Bit>,
    pub s_open_ready: Signal<Out, Bit>,
    pub s_open_slot: Signal<In, Bits<SLOT_ADDR>>,
    pub s_open_key: Signal<In, KeyBits>,
    pub s_evict_valid: Signal<In, Bit>,
    pub s_evict_ready: Signal<Out, Bit>,
    pub s_evict_slot: Signal<In, Bits<SLOT_ADDR>>,
    pub s_evict_reason: Signal<In, Bits<REASON_BITS>>,
    pub s_evict_stats: Signal<In, StatsBits>,
    pub s_evict_tag: Signal<In, Bits<TAG_BITS>>,
    /// Peek results as bytes, for the command processor.
    pub p_valid: Signal<Out, Bit>,
    pub p_ready: Signal<In, Bit>,
    pub p_byte: Signal<Out, Bits<8>>,
    /// Read the byte `rd_offset` bytes after the oldest (one clock later on `rd_data`).
    pub rd_offset: Signal<In, Bits<EB_ADDR>>,
    pub rd_data: Signal<Out, Bits<8>>,
    /// Remove `pop_count` bytes from the front (whole events, after DRAIN).
    pub pop: Signal<In, Bit>,
    pub pop_count: Signal<In, Bits<12>>,
    /// Bytes waiting.
    pub level: Signal<Out, Bits<12>>,
    /// The serializer is writing an event (its bytes are not all counted yet).
    pub busy: Signal<Out, Bit>,
    fifo: Bram<Bits<8>, EB_ADDR>,
    state: DFF<EbState>,
    idx: DFF<Bits<6>>,
    head: DFF<Bits<EB_ADDR>>,
    tail: DFF<Bits<EB_ADDR>>,
    count: DFF<Bits<12>>,
    byte: Signal<Local, Bits<8>>,
    slot_sel: Signal<Local, Bits<8>>,
    ev_type: Signal<Local, Bits<8>>,
    room: Signal<Local, Bit>,
    write: Signal<Local, Bit>,
    last: Signal<Local, Bit>,
    removed: Signal<Local, Bits<12>>,
}

impl Logic for EventBuffer {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, state, idx, head, tail, count);
        self.fifo.clock.next = self.clock.val();
        self.fifo.read_address.next = self.head.q.val() + self.rd_offset.val();
        self.rd_data.next = self.fifo.read_data.val();
        self.level.next = self.count.q.val();
        self.busy.next = self.state.q.val() != EbState::Idle;
        self.room.next = !self.count.q.val().get_bit(11);
        self.s_open_ready.next = false;
        self.s_evict_ready.next = false;
        self.p_valid.next = false;
        self.write.next = false;
        self.last.next = false;
        self.byte.next = bits::<8>(0);
        self.slot_sel.next = bit_cast::<8, SLOT_ADDR>(self.s_evict_slot.val());
        // Evict type byte: 0x02 | reason << 4.
        self.ev_type.next = bits::<8>(2);
        if self.s_evict_reason.val() == 1 {
            self.ev_type.next = bits::<8>(0x12);
        }
        if self.s_evict_reason.val() == 2 {
            self.ev_type.next = bits::<8>(0x22);
        }
        match self.state.q.val() {
            EbState::Idle => {
                if self.s_open_valid.val() {
                    self.state.d.next = EbState::Open;
                } else if self.s_evict_valid.val() {
                    self.state.d.next = EbState::Evict;
                    if self.s_evict_reason.val() == 3 {
                        self.state.d.next = EbState::Peek;
                    }
                }
                self.idx.d.next = bits::<6>(0);
            }
            EbState::Open => {
                self.slot_sel.next = bit_cast::<8, SLOT_ADDR>(self.s_open_slot.val());
                match self.idx.q.val().index() {
                    0 => {
                        self.byte.next = bits::<8>(1);
                    }
                    1 => {
                        self.byte.next = bits::<8>(0);
                    }
                    2 => {
                        self.byte.next = self.slot_sel.val();
                    }
                    3 => {
                        self.byte.next = self.s_open_key.val().proto;
                    }
                    4 => {
                        self.byte.next = bit_cast::<8, 1>(self.s_open_key.val().v6.into());
                    }
                    5 => {
                        self.byte.next = self.s_open_key.val().src3.get_bits::<8>(24);
                    }
                    6 => {
                        self.byte.next = self.s_open_key.val().src3.get_bits::<8>(16);
                    }
                    7 => {
                        self.byte.next = self.s_open_key.val().src3.get_bits::<8>(8);
                    }
                    8 => {
                        self.byte.next = self.s_open_key.val().src3.get_bits::<8>(0);
                    }
                    9 => {
                        self.byte.next = self.s_open_key.val().src2.get_bits::<8>(24);
                    }
                    10 => {
                        self.byte.next = self.s_open_key.val().src2.get_bits::<8>(16);
                    }
                    11 => {
                        self.byte.next = self.s_open_key.val().src2.get_bits::<8>(8);
                    }
                    12 => {
                        self.byte.next = self.s_open_key.val().src2.get_bits::<8>(0);
                    }
                    13 => {
                        self.byte.next = self.s_open_key.val().src1.get_bits::<8>(24);
                    }
                    14 => {
                        self.byte.next = self.s_open_key.val().src1.get_bits::<8>(16);
                    }
                    15 => {
                        self.byte.next = self.s_open_key.val().src1.get_bits::<8>(8);
                    }
                    16 => {
                        self.byte.next = self.s_open_key.val().src1.get_bits::<8>(0);
                    }
                    17 => {
                        self.byte.next = self.s_open_key.val().src0.get_bits::<8>(24);
                    }
                    18 => {
                        self.byte.next = self.s_open_key.val().src0.get_bits::<8>(16);
                    }
                    19 => {
                        self.byte.next = self.s_open_key.val().src0.get_bits::<8>(8);
                    }
                    20 => {
                        self.byte.next = self.s_open_key.val().src0.get_bits::<8>(0);
                    }
                    21 => {
                        self.byte.next = self.s_open_key.val().dst3.get_bits::<8>(24);
                    }
                    22 => {
                        self.byte.next = self.s_open_key.val().dst3.get_bits::<8>(16);
                    }
                    23 => {
                        self.byte.next = self.s_open_key.val().dst3.get_bits::<8>(8);
                    }
                    24 => {
                        self.byte.next = self.s_open_key.val().dst3.get_bits::<8>(0);
                    }
                    25 => {
                        self.byte.next = self.s_open_key.val().dst2.get_bits::<8>(24);
                    }
                    26 => {
                        self.byte.next = self.s_open_key.val().dst2.get_bits::<8>(16);
                    }
                    27 => {
                        self.byte.next = self.s_open_key.val().dst2.get_bits::<8>(8);
                    }
                    28 => {
                        self.byte.next = self.s_open_key.val().dst2.get_bits::<8>(0);
                    }
                    29 => {
                        self.byte.next = self.s_open_key.val().dst1.get_bits::<8>(24);
                    }
                    30 => {
                        self.byte.next = self.s_open_key.val().dst1.get_bits::<8>(16);
                    }
                    31 => {
                        self.byte.next = self.s_open_key.val().dst1.get_bits::<8>(8);
                    }
                    32 => {
                        self.byte.next = self.s_open_key.val().dst1.get_bits::<8>(0);
                    }
                    33 => {
                        self.byte.next = self.s_open_key.val().dst0.get_bits::<8>(24);
                    }
                    34 => {
                        self.byte.next = self.s_open_key.val().dst0.get_bits::<8>(16);
                    }
                    35 => {
                        self.byte.next = self.s_open_key.val().dst0.get_bits::<8>(8);
                    }
                    36 => {
                        self.byte.next = self.s_open_key.val().dst0.get_bits::<8>(0);
                    }
                    37 => {
                        self.byte.next = self.s_open_key.val().sport.get_bits::<8>(8);
                    }
                    38 => {
                        self.byte.next = self.s_open_key.val().sport.get_bits::<8>(0);
                    }
                    39 => {
                        self.byte.next = self.s_open_key.val().dport.get_bits::<8>(8);
                    }
                    40 => {
                        self.byte.next = self.s_open_key.val().dport.get_bits::<8>(0);
                    }
                    _ => {}
                }
                self.write.next = self.room.val();
                self.last.next = self.idx.q.val() == 40;
                self.s_open_ready.next = self.write.val() & self.last.val();
            }
            EbState::Evict => {
                match self.idx.q.val().index() {
                    0 => {
                        self.byte.next = self.ev_type.val();
                    }
                    1 => {
                        self.byte.next = bits::<8>(0);
                    }
                    2 => {
                        self.byte.next = self.slot_sel.val();
                    }
                    3 => {
                        self.byte.next = self.s_evict_stats.val().packets.get_bits::<8>(0);
                    }
                    4 => {
                        self.byte.next = self.s_evict_stats.val().packets.get_bits::<8>(8);
                    }
                    5 => {
                        self.byte.next = self.s_evict_stats.val().iat_n.get_bits::<8>(0);
                    }
                    6 => {
                        self.byte.next = self.s_evict_stats.val().iat_n.get_bits::<8>(8);
                    }
                    7 => {
                        self.byte.next = self.s_evict_stats.val().iat_sum.get_bits::<8>(0);
                    }
                    8 => {
                        self.byte.next = self.s_evict_stats.val().iat_sum.get_bits::<8>(8);
                    }
                    9 => {
                        self.byte.next = self.s_evict_stats.val().iat_sum.get_bits::<8>(16);
                    }
                    10 => {
                        self.byte.next = self.s_evict_stats.val().iat_sq.get_bits::<8>(0);
                    }
                    11 => {
                        self.byte.next = self.s_evict_stats.val().iat_sq.get_bits::<8>(8);
                    }
                    12 => {
                        self.byte.next = self.s_evict_stats.val().iat_sq.get_bits::<8>(16);
                    }
                    13 => {
                        self.byte.next = self.s_evict_stats.val().iat_sq.get_bits::<8>(24);
                    }
                    14 => {
                        self.byte.next = self.s_evict_stats.val().iat_min.get_bits::<8>(0);
                    }
                    15 => {
                        self.byte.next = self.s_evict_stats.val().iat_max.get_bits::<8>(0);
                    }
                    16 => {
                        self.byte.next = self.s_evict_stats.val().rtt_n.get_bits::<8>(0);
                    }
                    17 => {
                        self.byte.next = self.s_evict_stats.val().rtt_n.get_bits::<8>(8);
                    }
                    18 => {
                        self.byte.next = self.s_evict_stats.val().rtt_sum.get_bits::<8>(0);
                    }
                    19 => {
                        self.byte.next = self.s_evict_stats.val().rtt_sum.get_bits::<8>(8);
                    }
                    20 => {
                        self.byte.next = self.s_evict_stats.val().rtt_sum.get_bits::<8>(16);
                    }
                    21 => {
                        self.byte.next = self.s_evict_stats.val().rtt_sq.get_bits::<8>(0);
                    }
                    22 => {
                        self.byte.next = self.s_evict_stats.val().rtt_sq.get_bits::<8>(8);
                    }
                    23 => {
                        self.byte.next = self.s_evict_stats.val().rtt_sq.get_bits::<8>(16);
                    }
                    24 => {
                        self.byte.next = self.s_evict_stats.val().rtt_sq.get_bits::<8>(24);
                    }
                    25 => {
                        self.byte.next = self.s_evict_stats.val().rtt_min.get_bits::<8>(0);
                    }
                    26 => {
                        self.byte.next = self.s_evict_stats.val().rtt_max.get_bits::<8>(0);
                    }
                    _ => {}
                }
                self.write.next = self.room.val();
                self.last.next = self.idx.q.val() == 26;
                self.s_evict_ready.next = self.write.val() & self.last.val();
            }
            EbState::Peek => {
                match self.idx.q.val().index() {
                    0 => {
                        self.byte.next =
                            bit_cast::<8, 1>(self.s_evict_tag.val().get_bit(24).into());
                    }
                    1 => {
                        self.byte.next = self.s_evict_tag.val().get_bits::<8>(16);
                    }
                    2 => {
                        self.byte.next = self.s_evict_tag.val().get_bits::<8>(8);
                    }
                    3 => {
                        self.byte.next = self.s_evict_tag.val().get_bits::<8>(0);
                    }
                    4 => {
                        self.byte.next = self.s_evict_stats.val().packets.get_bits::<8>(0);
                    }
                    5 => {
                        self.byte.next = self.s_evict_stats.val().packets.get_bits::<8>(8);
                    }
                    6 => {
                        self.byte.next = self.s_evict_stats.val().iat_n.get_bits::<8>(0);
                    }
                    7 => {
                        self.byte.next = self.s_evict_stats.val().iat_n.get_bits::<8>(8);
                    }
                    8 => {
                        self.byte.next = self.s_evict_stats.val().iat_sum.get_bits::<8>(0);
                    }
                    9 => {
                        self.byte.next = self.s_evict_stats.val().iat_sum.get_bits::<8>(8);
                    }
                    10 => {
                        self.byte.next = self.s_evict_stats.val().iat_sum.get_bits::<8>(16);
                    }
                    11 => {
                        self.byte.next = self.s_evict_stats.val().iat_sq.get_bits::<8>(0);
                    }
                    12 => {
                        self.byte.next = self.s_evict_stats.val().iat_sq.get_bits::<8>(8);
                    }
                    13 => {
                        self.byte.next = self.s_evict_stats.val().iat_sq.get_bits::<8>(16);
                    }
                    14 => {
                        self.byte.next = self.s_evict_stats.val().iat_sq.get_bits::<8>(24);
                    }
                    15 => {
                        self.byte.next = self.s_evict_stats.val().iat_min.get_bits::<8>(0);
                    }
                    16 => {
                        self.byte.next = self.s_evict_stats.val().iat_max.get_bits::<8>(0);
                    }
                    17 => {
                        self.byte.next = self.s_evict_stats.val().rtt_n.get_bits::<8>(0);
                    }
                    18 => {
                        self.byte.next = self.s_evict_stats.val().rtt_n.get_bits::<8>(8);
                    }
                    19 => {
                        self.byte.next = self.s_evict_stats.val().rtt_sum.get_bits::<8>(0);
                    }
                    20 => {
                        self.byte.next = self.s_evict_stats.val().rtt_sum.get_bits::<8>(8);
                    }
                    21 => {
                        self.byte.next = self.s_evict_stats.val().rtt_sum.get_bits::<8>(16);
                    }
                    22 => {
                        self.byte.next = self.s_evict_stats.val().rtt_sq.get_bits::<8>(0);
                    }
                    23 => {
                        self.byte.next = self.s_evict_stats.val().rtt_sq.get_bits::<8>(8);
                    }
                    24 => {
                        self.byte.next = self.s_evict_stats.val().rtt_sq.get_bits::<8>(16);
                    }
                    25 => {
                        self.byte.next = self.s_evict_stats.val().rtt_sq.get_bits::<8>(24);
                    }
                    26 => {
                        self.byte.next = self.s_evict_stats.val().rtt_min.get_bits::<8>(0);
                    }
                    27 => {
                        self.byte.next = self.s_evict_stats.val().rtt_max.get_bits::<8>(0);
                    }
                    _ => {}
                }
                self.p_valid.next = true;
                self.last.next = self.idx.q.val() == 27;
                self.s_evict_ready.next = self.p_ready.val() & self.last.val();
                if self.p_ready.val() {
                    self.idx.d.next = self.idx.q.val() + 1;
                    if self.last.val() {
                        self.state.d.next = EbState::Idle;
                    }
                }
            }
            _ => {
                self.state.d.next = EbState::Idle;
            }
        }
        if self.write.val() {
            self.idx.d.next = self.idx.q.val() + 1;
            self.tail.d.next = self.tail.q.val() + 1;
            if self.last.val() {
                self.state.d.next = EbState::Idle;
            }
        }
        self.p_byte.next = self.byte.val();
        self.fifo.write_address.next = self.tail.q.val();
        self.fifo.write_data.next = self.byte.val();
        self.fifo.write_enable.next = self.write.val();
        self.removed.next = bits::<12>(0);
        if self.pop.val() {
            self.removed.next = self.pop_count.val();
            self.head.d.next = self.head.q.val() + bit_cast::<EB_ADDR, 12>(self.pop_count.val());
        }
        self.count.d.next = self.count.q.val() - self.removed.val();
        if self.write.val() {
            self.count.d.next = self.count.q.val() - self.removed.val() + 1;
        }
        if self.clear.val() {
            self.head.d.next = bits::<EB_ADDR>(0);
            self.tail.d.next = bits::<EB_ADDR>(0);
            self.count.d.next = bits::<12>(0);
        }
    }
}
crate::impl_clocked!(EventBuffer);
