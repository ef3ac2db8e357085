//! The board's event buffer: serializes the core's key announcements and
//! exports into their wire encoding (`protocol::encode_event`) in a 2048-byte
//! block-RAM FIFO (`protocol::EVENT_BUFFER_BYTES`) that DRAIN and PEEK read,
//! and turns peek results into the 14-byte READ_SLOTS record for the command
//! processor. One byte per clock, chosen over two clocks (by the index's low
//! bits within each group of eight bytes, then the group) and written on the
//! third; it holds the core's output registers until an event's last byte is
//! chosen, so a full buffer stalls the core. The room for an event is checked
//! against `fill`, the bytes in the FIFO and on their way into it, so no
//! in-flight byte enters the check. An open's 32 address bytes are not
//! multiplexed out of the key: the key's source turns them past one tap
//! (`s_open_tap`, `open_rot`; on the board the parser's key register).
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
/// Bytes of the statistics on the wire (`SlotStats::wire_bytes`).
pub const STATS_BYTES: usize = STATS_BITS.div_ceil(8);
/// Bytes of an evict event: type, slot:u16, statistics.
pub const EVICT_BYTES: usize = 3 + STATS_BYTES;
/// Bytes of a READ_SLOTS record: 4 tag bytes (valid << 24 | fingerprint), then the statistics.
pub const SLOT_RECORD_BYTES: usize = 4 + STATS_BYTES;
// Literals below (`#[hdl_gen]`): open 41 bytes (its 32 address bytes at
// 5..=36, taken from the tap, which turns a clock ahead from index 4),
// evict 13 (the last at index 12), the room thresholds 2048 − 41 + 1 and
// 2048 − 13 + 1, the tag's valid bit 15 and its 15-bit fingerprint.
const _: () = assert!(
    EVENT_BUFFER_BYTES == 1 << EB_ADDR
        && OPEN_BYTES == 41
        && STATS_BYTES == 10
        && EVICT_BYTES == 13
        && FP_BITS == 15
);
const _: () = assert!(EVICT_BYTES == bloomtime_model::protocol::evict_bytes(&CFG));

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
    /// The key's fields outside its addresses (protocol, family, ports).
    pub s_open_key: Signal<In, KeyBits>,
    /// The key's address bytes, one at a time: the source turns its 32
    /// address bytes past `s_open_tap` on `open_rot`, in wire order
    /// (`FrameParser::key_tap`), 32 turns per open, which leave the key as
    /// it was. One byte in, so no 32-byte multiplexer here.
    pub s_open_tap: Signal<In, Bits<8>>,
    pub open_rot: Signal<Out, Bit>,
    pub s_evict_valid: Signal<In, Bit>,
    pub s_evict_ready: Signal<Out, Bit>,
    pub s_evict_slot: Signal<In, Bits<SLOT_ADDR>>,
    pub s_evict_reason: Signal<In, Bits<REASON_BITS>>,
    pub s_evict_stats: Signal<In, StatsBits>,
    pub s_evict_tag: Signal<In, Bits<TAG_BITS>>,
    /// Peek results as bytes, for the command processor, one a clock (the
    /// processor is waiting for them; `p_ready` is not consulted).
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
    /// The serializer is writing an event, or its last byte is still on
    /// its way into the FIFO (not yet counted in `level`).
    pub busy: Signal<Out, Bit>,
    fifo: Bram<Bits<8>, EB_ADDR>,
    state: DFF<EbState>,
    idx: DFF<Bits<6>>,
    head: DFF<Bits<EB_ADDR>>,
    tail: DFF<Bits<EB_ADDR>>,
    count: DFF<Bits<12>>,
    /// Flat copies (a field's bits cannot be sliced again in the Verilog
    /// rust-hdl writes); assigned only while serializing.
    key_flat: Signal<Local, Bits<KEY_BITS>>,
    stats_flat: Signal<Local, Bits<{ 8 * STATS_BYTES }>>,
    slot_sel: Signal<Local, Bits<8>>,
    ev_type: Signal<Local, Bits<8>>,
    /// Room for an open / an evict, registered from `fill`; `moved`: fill
    /// changed at the last edge, so they are a clock old and Idle waits.
    room: DFF<Bit>,
    room_evict: DFF<Bit>,
    moved: DFF<Bit>,
    p_valid_c: Signal<Local, Bit>,
    stats_byte: Signal<Local, Bit>,
    /// Registered readies: high on the clock the event's last byte leaves.
    rdy_open: DFF<Bit>,
    rdy_evict: DFF<Bit>,
    /// `open_rot`, registered: high on the clocks that take an address byte
    /// (open bytes 5..=36).
    rot_r: DFF<Bit>,
    /// The byte multiplexer in two clocks. First, by the index's low three
    /// bits, the byte of each group of eight (`gb0`: bytes 0..=7, ...,
    /// `gb5`: byte 40), the group `hi`, whether the byte is written (`wa`)
    /// or a peek byte (`pa`), and whether the peeked slot is empty (`za`);
    /// then the group's byte, registered in `byte_r` and written a clock
    /// later.
    gb0: DFF<Bits<8>>,
    gb1: DFF<Bits<8>>,
    gb2: DFF<Bits<8>>,
    gb3: DFF<Bits<8>>,
    gb4: DFF<Bits<8>>,
    gb5: DFF<Bits<8>>,
    hi: DFF<Bits<3>>,
    wa: DFF<Bit>,
    pa: DFF<Bit>,
    za: DFF<Bit>,
    byte_r: DFF<Bits<8>>,
    write_r: DFF<Bit>,
    pv_r: DFF<Bit>,
    /// Bytes in the FIFO and on their way into it (decided, not yet
    /// written): what the room for an event is checked against.
    fill: DFF<Bits<12>>,
    write: Signal<Local, Bit>,
    last: Signal<Local, Bit>,
    removed: Signal<Local, Bits<12>>,
}

impl Logic for EventBuffer {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, state, idx, head, tail, count, rdy_open, rdy_evict, rot_r, gb0, gb1, gb2,
            gb3, gb4, gb5, hi, wa, pa, za, byte_r, write_r, pv_r, fill, room, room_evict, moved
        );
        self.fifo.clock.next = self.clock.val();
        self.fifo.read_address.next = self.head.q.val() + self.rd_offset.val();
        self.rd_data.next = self.fifo.read_data.val();
        self.level.next = self.count.q.val();
        self.busy.next =
            (self.state.q.val() != EbState::Idle) | self.wa.q.val() | self.write_r.q.val();
        // Room for the whole event before starting it, so its bytes are
        // written one a clock without checking again: the bytes waiting are
        // `fill` (those in the FIFO and those on their way); an open takes
        // 41 bytes, an evict 13 (the model device's flush exports a slot on
        // the same condition). The compares are registered; Idle decides
        // only on a clock after which fill has not moved, where they are
        // exact.
        self.room.d.next = self.fill.q.val() < 2008;
        self.room_evict.d.next = self.fill.q.val() < 2036;
        self.s_open_ready.next = self.rdy_open.q.val();
        self.s_evict_ready.next = self.rdy_evict.q.val();
        self.open_rot.next = self.rot_r.q.val();
        // Set a clock ahead: the open's index runs one a clock from 0.
        self.rot_r.d.next = (self.state.q.val() == EbState::Open)
            & (self.idx.q.val() >= 4)
            & (self.idx.q.val() < 36);
        self.rdy_open.d.next = false;
        self.rdy_evict.d.next = false;
        self.p_valid_c.next = false;
        self.stats_byte.next = false;
        self.write.next = false;
        self.last.next = false;
        self.gb0.d.next = bits::<8>(0);
        self.gb1.d.next = bits::<8>(0);
        self.gb2.d.next = bits::<8>(0);
        self.gb3.d.next = bits::<8>(0);
        self.gb4.d.next = bits::<8>(0);
        self.gb5.d.next = bits::<8>(0);
        // The flat copies are the inputs, ungated: only the byte multiplexer
        // of the state that writes them reads them (gating them would cost a
        // gate per bit).
        self.key_flat.next = self.s_open_key.val().into();
        self.stats_flat.next =
            bit_cast::<{ 8 * STATS_BYTES }, STATS_BITS>(self.s_evict_stats.val().into());
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
                self.idx.d.next = bits::<6>(0);
                if self.moved.q.val() {
                    // fill moved: the room compares catch up.
                } else if self.s_open_valid.val() & self.room.q.val() {
                    self.state.d.next = EbState::Open;
                } else if self.s_evict_valid.val() {
                    if self.s_evict_reason.val() == 3 {
                        self.state.d.next = EbState::Peek;
                        self.idx.d.next = bits::<6>(63);
                    } else if self.room_evict.q.val() {
                        self.state.d.next = EbState::Evict;
                    }
                }
            }
            EbState::Open => {
                self.slot_sel.next = bit_cast::<8, SLOT_ADDR>(self.s_open_slot.val());
                // Open byte 8k + lo into gb<k> (`protocol::encode_event`):
                // the address bytes 5..=36 from the tap, the rest below.
                self.gb0.d.next = self.s_open_tap.val();
                self.gb1.d.next = self.s_open_tap.val();
                self.gb2.d.next = self.s_open_tap.val();
                self.gb3.d.next = self.s_open_tap.val();
                self.gb4.d.next = self.s_open_tap.val();
                match self.idx.q.val().get_bits::<3>(0).index() {
                    0 => {
                        self.gb0.d.next = bits::<8>(1);
                        self.gb5.d.next = self.key_flat.val().get_bits::<8>(25);
                    }
                    1 => {
                        self.gb0.d.next = bits::<8>(0);
                    }
                    2 => {
                        self.gb0.d.next = self.slot_sel.val();
                    }
                    3 => {
                        self.gb0.d.next = self.key_flat.val().get_bits::<8>(0);
                    }
                    4 => {
                        self.gb0.d.next = bit_cast::<8, 1>(self.key_flat.val().get_bit(8).into());
                    }
                    5 => {
                        self.gb4.d.next = self.key_flat.val().get_bits::<8>(17);
                    }
                    6 => {
                        self.gb4.d.next = self.key_flat.val().get_bits::<8>(9);
                    }
                    7 => {
                        self.gb4.d.next = self.key_flat.val().get_bits::<8>(33);
                    }
                    _ => {}
                }
                self.write.next = true;
                self.last.next = self.idx.q.val() == 40;
                self.rdy_open.d.next = self.idx.q.val() == 39;
            }
            EbState::Evict => {
                self.stats_byte.next = true;
                match self.idx.q.val().get_bits::<3>(0).index() {
                    0 => {
                        self.gb0.d.next = self.ev_type.val();
                    }
                    2 => {
                        self.gb0.d.next = self.slot_sel.val();
                    }
                    _ => {}
                }
                self.write.next = true;
                self.last.next = self.idx.q.val() == 12;
                self.rdy_evict.d.next = self.idx.q.val() == 11;
            }
            EbState::Peek => {
                // The READ_SLOTS record: 4 tag bytes (from index 63, i.e. -1,
                // so the statistics share the evict bytes' multiplexer at
                // 3..12); byte 63, the valid bit, is the second clock's.
                self.stats_byte.next = true;
                match self.idx.q.val().get_bits::<3>(0).index() {
                    1 => {
                        self.gb0.d.next = bit_cast::<8, 7>(self.s_evict_tag.val().get_bits::<7>(8));
                    }
                    2 => {
                        self.gb0.d.next = self.s_evict_tag.val().get_bits::<8>(0);
                    }
                    _ => {}
                }
                // The processor waits for these bytes: one a clock.
                self.p_valid_c.next = true;
                self.last.next = self.idx.q.val() == 12;
                self.rdy_evict.d.next = self.idx.q.val() == 11;
                self.idx.d.next = self.idx.q.val() + 1;
                if self.last.val() {
                    self.state.d.next = EbState::Idle;
                }
            }
            _ => {
                self.state.d.next = EbState::Idle;
            }
        }
        // The statistics, bytes 3..=12 of an evict or a READ_SLOTS record.
        if self.stats_byte.val() {
            match self.idx.q.val().get_bits::<3>(0).index() {
                0 => {
                    self.gb1.d.next = self.stats_flat.val().get_bits::<8>(40);
                }
                1 => {
                    self.gb1.d.next = self.stats_flat.val().get_bits::<8>(48);
                }
                2 => {
                    self.gb1.d.next = self.stats_flat.val().get_bits::<8>(56);
                }
                3 => {
                    self.gb0.d.next = self.stats_flat.val().get_bits::<8>(0);
                    self.gb1.d.next = self.stats_flat.val().get_bits::<8>(64);
                }
                4 => {
                    self.gb0.d.next = self.stats_flat.val().get_bits::<8>(8);
                    self.gb1.d.next = self.stats_flat.val().get_bits::<8>(72);
                }
                5 => {
                    self.gb0.d.next = self.stats_flat.val().get_bits::<8>(16);
                }
                6 => {
                    self.gb0.d.next = self.stats_flat.val().get_bits::<8>(24);
                }
                7 => {
                    self.gb0.d.next = self.stats_flat.val().get_bits::<8>(32);
                }
                _ => {}
            }
        }
        if self.write.val() {
            self.idx.d.next = self.idx.q.val() + 1;
            if self.last.val() {
                self.state.d.next = EbState::Idle;
            }
        }
        self.hi.d.next = self.idx.q.val().get_bits::<3>(3);
        self.wa.d.next = self.write.val();
        self.pa.d.next = self.p_valid_c.val();
        self.za.d.next =
            (self.state.q.val() == EbState::Peek) & !self.s_evict_tag.val().get_bit(15);
        // The second clock: the group's byte (byte 63 of a READ_SLOTS record
        // is its valid bit, set unless the slot is empty).
        match self.hi.q.val().index() {
            0 => {
                self.byte_r.d.next = self.gb0.q.val();
            }
            1 => {
                self.byte_r.d.next = self.gb1.q.val();
            }
            2 => {
                self.byte_r.d.next = self.gb2.q.val();
            }
            3 => {
                self.byte_r.d.next = self.gb3.q.val();
            }
            4 => {
                self.byte_r.d.next = self.gb4.q.val();
            }
            5 => {
                self.byte_r.d.next = self.gb5.q.val();
            }
            _ => {
                self.byte_r.d.next = bits::<8>(1);
            }
        }
        // An empty slot reads as zeros (`protocol::cmd::READ_SLOTS`).
        if self.za.q.val() {
            self.byte_r.d.next = bits::<8>(0);
        }
        self.write_r.d.next = self.wa.q.val();
        self.pv_r.d.next = self.pa.q.val();
        self.p_valid.next = self.pv_r.q.val();
        self.p_byte.next = self.byte_r.q.val();
        if self.write_r.q.val() {
            self.tail.d.next = self.tail.q.val() + 1;
        }
        self.fifo.write_address.next = self.tail.q.val();
        self.fifo.write_data.next = self.byte_r.q.val();
        self.fifo.write_enable.next = self.write_r.q.val();
        self.removed.next = bits::<12>(0);
        if self.pop.val() {
            self.removed.next = self.pop_count.val();
            self.head.d.next = self.head.q.val() + bit_cast::<EB_ADDR, 12>(self.pop_count.val());
        }
        self.count.d.next = self.count.q.val() - self.removed.val();
        if self.write_r.q.val() {
            self.count.d.next = self.count.q.val() - self.removed.val() + 1;
        }
        self.moved.d.next = self.write.val() | self.pop.val();
        self.fill.d.next = self.fill.q.val() - self.removed.val();
        if self.write.val() {
            self.fill.d.next = self.fill.q.val() - self.removed.val() + 1;
        }
        if self.clear.val() {
            self.wa.d.next = false;
            self.write_r.d.next = false;
            self.fill.d.next = bits::<12>(0);
            self.moved.d.next = true;
            self.head.d.next = bits::<EB_ADDR>(0);
            self.tail.d.next = bits::<EB_ADDR>(0);
            self.count.d.next = bits::<12>(0);
        }
    }
}
crate::impl_clocked!(EventBuffer);
