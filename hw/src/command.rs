//! The board's command processor: executes the requests of
//! `bloomtime_model::protocol` arriving through the link, against the core,
//! the event buffer and the frame parser, and writes the responses.
//!
//! One request at a time. A request with the previous request's sequence
//! number is a retry: the stored response (still in the response buffer; its
//! first two bytes are rewritten from registers, since a CRC_ERROR answer
//! overwrites them) is sent again and nothing is executed. DRAIN and PEEK
//! are walked by `event_walk::EventWalk`, REPLAY checked and fed by
//! `replay_feed::ReplayFeed`; this block loads and decodes the request,
//! serves INFO, the registers and READ_SLOTS, starts FLUSH and CLEAR, and
//! writes the response. Status codes are `Constant`s built from
//! `protocol::status`; register addresses and commands are still literals
//! (`#[hdl_gen]`), tied to `protocol` and `regmap` by the asserts below.

use crate::consts::*;
use crate::counter_bank::CNT_INDEX_BITS;
use crate::event_buffer::{EB_ADDR, EVICT_BYTES, SLOT_RECORD_BYTES};
use crate::event_walk::EventWalk;
use crate::leaf::ByteRom;
use crate::link::BUF_ADDR;
use crate::replay_feed::ReplayFeed;
use crate::types::Ts;
use bloomtime_model::protocol::{self, cmd, status, Info};
use bloomtime_model::regmap;
use rust_hdl::prelude::*;

const _: () = assert!(
    cmd::INFO == 1
        && cmd::READ_REG == 2
        && cmd::WRITE_REG == 3
        && cmd::READ_SLOTS == 4
        && cmd::DRAIN == 5
        && cmd::REPLAY == 6
        && cmd::FLUSH == 7
        && cmd::CLEAR == 8
        && cmd::PEEK == 9
);
// Responses that count as BAD_REQUESTS: the statuses from BAD_COMMAND to
// BAD_ARGUMENT (one range compare in `SendStatus`).
const _: () = assert!(
    status::BAD_COMMAND + 1 == status::BAD_LENGTH && status::BAD_LENGTH + 1 == status::BAD_ARGUMENT
);
const _: () = assert!(
    regmap::COUNTER_BASE == 0
        && regmap::LINK_BASE == 0x20
        && regmap::STATUS == 0x40
        && regmap::CONTROL == 0x41
        && regmap::TIME_LO == 0x42
        && regmap::TIME_HI == 0x43
        && regmap::UPTIME == 0x44
        && regmap::N_LINK_COUNTERS == 9
);
const _: () = assert!(bloomtime_model::config::HEADER_WINDOW == 128);
const _: () = assert!(protocol::MAX_PAYLOAD == 500 && protocol::MAX_SLOTS_PER_READ == 16);
// An evict event is 13 bytes, an open 41, a READ_SLOTS record 14
// (`event_buffer`), INFO 42.
const _: () = assert!(
    protocol::info_bytes(&CFG) == 42
        && protocol::OPEN_BYTES == 41
        && EVICT_BYTES == 13
        && SLOT_RECORD_BYTES == 14
);
// Clock ticks per time unit: 1024 ns / 10 ns (100 MHz, time unit 2^10 ns).
const _: () = assert!(CFG.time_unit_log2_ns == 10);
// The timestamp's split (`types::Ts`) at literal shifts: 40 bits, s_0 = 3.
const _: () = assert!(S_SHIFT == 3 && EPOCH_BITS == 37);

/// Design version reported by INFO.
pub const DESIGN_VERSION: u16 = 1;

#[derive(Copy, Clone, PartialEq, Eq, Debug, LogicState)]
pub enum CpState {
    Idle,
    Load,
    Decode,
    Decide,
    Dispatch,
    Info,
    RegReq,
    RegWait,
    Emit,
    SlotReq,
    SlotBytes,
    /// DRAIN or PEEK: the event walk runs.
    Walking,
    /// REPLAY: the feed checks and replays.
    Replaying,
    Flush,
    Clear,
    ClearWait,
    Send,
    SendStatus,
    TxStart,
}

#[derive(LogicBlock)]
pub struct CommandProcessor {
    pub clock: Signal<In, Clock>,
    // Link: requests.
    pub req_valid: Signal<In, Bit>,
    pub req_bad: Signal<In, Bit>,
    pub req_len: Signal<In, Bits<BUF_ADDR>>,
    pub req_rd_addr: Signal<Out, Bits<BUF_ADDR>>,
    pub req_rd_data: Signal<In, Bits<8>>,
    pub req_done: Signal<Out, Bit>,
    // Link: responses.
    pub resp_wr_addr: Signal<Out, Bits<BUF_ADDR>>,
    pub resp_wr_data: Signal<Out, Bits<8>>,
    pub resp_wr_en: Signal<Out, Bit>,
    pub resp_send: Signal<Out, Bit>,
    pub resp_len: Signal<Out, Bits<BUF_ADDR>>,
    pub resp_busy: Signal<In, Bit>,
    // Core control and counters.
    pub ctl_valid: Signal<Out, Bit>,
    pub ctl_ready: Signal<In, Bit>,
    pub ctl_cmd: Signal<Out, Bits<2>>,
    pub ctl_slot: Signal<Out, Bits<SLOT_ADDR>>,
    pub core_busy: Signal<In, Bit>,
    /// Pipeline, core outputs, event serializer and parser all empty.
    pub quiet: Signal<In, Bit>,
    pub cnt_req: Signal<Out, Bit>,
    pub cnt_ready: Signal<In, Bit>,
    pub cnt_index: Signal<Out, Bits<CNT_INDEX_BITS>>,
    pub cnt_valid: Signal<In, Bit>,
    pub cnt_value: Signal<In, Bits<32>>,
    // Event buffer.
    pub eb_clear: Signal<Out, Bit>,
    pub eb_level: Signal<In, Bits<12>>,
    pub eb_rd_offset: Signal<Out, Bits<EB_ADDR>>,
    pub eb_rd_data: Signal<In, Bits<8>>,
    pub eb_pop: Signal<Out, Bit>,
    pub eb_pop_count: Signal<Out, Bits<12>>,
    pub p_valid: Signal<In, Bit>,
    pub p_ready: Signal<Out, Bit>,
    pub p_byte: Signal<In, Bits<8>>,
    // Frames to the parser.
    pub f_valid: Signal<Out, Bit>,
    pub f_ready: Signal<In, Bit>,
    pub f_data: Signal<Out, Bits<8>>,
    pub f_last: Signal<Out, Bit>,
    pub f_ts: Signal<Out, Ts>,
    pub f_caplen: Signal<Out, Bits<16>>,
    /// The parser finished a frame (record or drop).
    pub frame_done: Signal<In, Bit>,
    /// Link-counter strobes, `regmap` order from RX_FRAMES; the first four
    /// and the last come from the link, passed in here.
    pub link_rx_ok: Signal<In, Bit>,
    pub link_crc: Signal<In, Bit>,
    pub link_slip: Signal<In, Bit>,
    pub link_uart: Signal<In, Bit>,
    pub link_tx: Signal<In, Bit>,
    pub link_inc: Signal<Out, Bits<9>>,
    /// Live mode (CONTROL bit 0), for the LEDs.
    pub live: Signal<Out, Bit>,
    /// The board's reset button (debounced elsewhere): clear everything, as
    /// CLEAR does, without a response; also forgets the stored response and
    /// leaves live mode.
    pub reset_req: Signal<In, Bit>,
    rom: ByteRom<6>,
    /// Response statuses (`protocol::status`).
    k_ok: Constant<Bits<8>>,
    k_busy: Constant<Bits<8>>,
    k_bad_command: Constant<Bits<8>>,
    k_bad_length: Constant<Bits<8>>,
    k_bad_argument: Constant<Bits<8>>,
    k_crc_error: Constant<Bits<8>>,
    st: DFF<CpState>,
    rdaddr: DFF<Bits<BUF_ADDR>>,
    li: DFF<Bits<4>>,
    seq: DFF<Bits<8>>,
    cmd_r: DFF<Bits<8>>,
    len: DFF<Bits<BUF_ADDR>>,
    a0: DFF<Bits<8>>,
    a1: DFF<Bits<8>>,
    a2: DFF<Bits<8>>,
    a3: DFF<Bits<8>>,
    a4: DFF<Bits<8>>,
    a5: DFF<Bits<8>>,
    status_r: DFF<Bits<8>>,
    pos: DFF<Bits<BUF_ADDR>>,
    last_seq: DFF<Bits<8>>,
    last_status: DFF<Bits<8>>,
    last_len: DFF<Bits<BUF_ADDR>>,
    have_last: DFF<Bit>,
    resend: DFF<Bit>,
    silent: DFF<Bit>,
    word: DFF<Bits<32>>,
    wi: DFF<Bits<2>>,
    cidx: DFF<Bits<CNT_INDEX_BITS>>,
    /// Decode: every comparison Decide needs, registered a clock before.
    f_retry: DFF<Bit>,
    f_len_lt2: DFF<Bit>,
    f_len2: DFF<Bit>,
    f_len4: DFF<Bit>,
    f_len5: DFF<Bit>,
    f_len6: DFF<Bit>,
    f_len8: DFF<Bit>,
    f_reg_cnt: DFF<Bit>,
    f_reg_status: DFF<Bit>,
    f_reg_control: DFF<Bit>,
    f_reg_time_lo: DFF<Bit>,
    f_reg_time_hi: DFF<Bit>,
    f_reg_uptime: DFF<Bit>,
    f_slots_bad: DFF<Bit>,
    f_drain_big: DFF<Bit>,
    f_peek_far: DFF<Bit>,
    f_peek_big: DFF<Bit>,
    f_busy: DFF<Bit>,
    /// Decode: the command, one-hot.
    c_info: DFF<Bit>,
    c_rreg: DFF<Bit>,
    c_wreg: DFF<Bit>,
    c_slots: DFF<Bit>,
    c_drain: DFF<Bit>,
    c_replay: DFF<Bit>,
    c_flush: DFF<Bit>,
    c_clear: DFF<Bit>,
    c_peek: DFF<Bit>,
    /// Decide: what Dispatch does, registered a clock before.
    nst: DFF<CpState>,
    nstatus: DFF<Bits<8>>,
    n_resend: DFF<Bit>,
    n_wctl: DFF<Bit>,
    j: DFF<Bits<6>>,
    slot: DFF<Bits<SLOT_ADDR>>,
    remaining: DFF<Bits<5>>,
    // DRAIN, PEEK: the walk's start offset and answer size, held for it.
    ew: EventWalk,
    target: DFF<Bits<12>>,
    limit: DFF<Bits<12>>,
    // REPLAY.
    feed: ReplayFeed,
    // Registers.
    control: DFF<Bit>,
    time_lo: DFF<Bits<32>>,
    time_hi: DFF<Bits<8>>,
    time_acc: DFF<Bits<11>>,
    time_hi_latch: DFF<Bits<8>>,
    uptime: DFF<Bits<32>>,
    // Combinational.
    addr16: Signal<Local, Bits<16>>,
    s_bad: Signal<Local, Bit>,
    s_retry: Signal<Local, Bit>,
}

impl Default for CommandProcessor {
    fn default() -> Self {
        Self::new(100_000_000, 1_000_000)
    }
}

impl CommandProcessor {
    /// A processor whose INFO reports the given clock and baud.
    pub fn new(clock_hz: u32, baud: u32) -> Self {
        let info = Info {
            protocol_version: protocol::PROTOCOL_VERSION,
            design_version: DESIGN_VERSION,
            config: CFG,
            header_window: bloomtime_model::config::HEADER_WINDOW as u16,
            clock_hz,
            baud,
        };
        Self {
            clock: Default::default(),
            req_valid: Default::default(),
            req_bad: Default::default(),
            req_len: Default::default(),
            req_rd_addr: Default::default(),
            req_rd_data: Default::default(),
            req_done: Default::default(),
            resp_wr_addr: Default::default(),
            resp_wr_data: Default::default(),
            resp_wr_en: Default::default(),
            resp_send: Default::default(),
            resp_len: Default::default(),
            resp_busy: Default::default(),
            ctl_valid: Default::default(),
            ctl_ready: Default::default(),
            ctl_cmd: Default::default(),
            ctl_slot: Default::default(),
            core_busy: Default::default(),
            quiet: Default::default(),
            cnt_req: Default::default(),
            cnt_ready: Default::default(),
            cnt_index: Default::default(),
            cnt_valid: Default::default(),
            cnt_value: Default::default(),
            eb_clear: Default::default(),
            eb_level: Default::default(),
            eb_rd_offset: Default::default(),
            eb_rd_data: Default::default(),
            eb_pop: Default::default(),
            eb_pop_count: Default::default(),
            p_valid: Default::default(),
            p_ready: Default::default(),
            p_byte: Default::default(),
            f_valid: Default::default(),
            f_ready: Default::default(),
            f_data: Default::default(),
            f_last: Default::default(),
            f_ts: Default::default(),
            f_caplen: Default::default(),
            frame_done: Default::default(),
            link_rx_ok: Default::default(),
            link_crc: Default::default(),
            link_slip: Default::default(),
            link_uart: Default::default(),
            link_tx: Default::default(),
            link_inc: Default::default(),
            live: Default::default(),
            reset_req: Default::default(),
            silent: Default::default(),
            rom: ByteRom::new(&info.encode()),
            k_ok: Constant::new(bits::<8>(status::OK.into())),
            k_busy: Constant::new(bits::<8>(status::BUSY.into())),
            k_bad_command: Constant::new(bits::<8>(status::BAD_COMMAND.into())),
            k_bad_length: Constant::new(bits::<8>(status::BAD_LENGTH.into())),
            k_bad_argument: Constant::new(bits::<8>(status::BAD_ARGUMENT.into())),
            k_crc_error: Constant::new(bits::<8>(status::CRC_ERROR.into())),
            st: Default::default(),
            rdaddr: Default::default(),
            li: Default::default(),
            seq: Default::default(),
            cmd_r: Default::default(),
            len: Default::default(),
            a0: Default::default(),
            a1: Default::default(),
            a2: Default::default(),
            a3: Default::default(),
            a4: Default::default(),
            a5: Default::default(),
            status_r: Default::default(),
            pos: Default::default(),
            last_seq: Default::default(),
            last_status: Default::default(),
            last_len: Default::default(),
            have_last: Default::default(),
            resend: Default::default(),
            word: Default::default(),
            wi: Default::default(),
            cidx: Default::default(),
            f_retry: Default::default(),
            f_len_lt2: Default::default(),
            f_len2: Default::default(),
            f_len4: Default::default(),
            f_len5: Default::default(),
            f_len6: Default::default(),
            f_len8: Default::default(),
            f_reg_cnt: Default::default(),
            f_reg_status: Default::default(),
            f_reg_control: Default::default(),
            f_reg_time_lo: Default::default(),
            f_reg_time_hi: Default::default(),
            f_reg_uptime: Default::default(),
            f_slots_bad: Default::default(),
            f_drain_big: Default::default(),
            f_peek_far: Default::default(),
            f_peek_big: Default::default(),
            f_busy: Default::default(),
            c_info: Default::default(),
            c_rreg: Default::default(),
            c_wreg: Default::default(),
            c_slots: Default::default(),
            c_drain: Default::default(),
            c_replay: Default::default(),
            c_flush: Default::default(),
            c_clear: Default::default(),
            c_peek: Default::default(),
            n_resend: Default::default(),
            n_wctl: Default::default(),
            nst: Default::default(),
            nstatus: Default::default(),
            j: Default::default(),
            slot: Default::default(),
            remaining: Default::default(),
            ew: Default::default(),
            feed: Default::default(),
            target: Default::default(),
            limit: Default::default(),
            control: Default::default(),
            time_lo: Default::default(),
            time_hi: Default::default(),
            time_acc: Default::default(),
            time_hi_latch: Default::default(),
            uptime: Default::default(),
            addr16: Default::default(),
            s_bad: Default::default(),
            s_retry: Default::default(),
        }
    }
}

impl Logic for CommandProcessor {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            st,
            rdaddr,
            li,
            seq,
            cmd_r,
            len,
            a0,
            a1,
            a2,
            a3,
            a4,
            a5,
            status_r,
            pos,
            last_seq,
            last_status,
            last_len,
            have_last,
            resend,
            silent,
            word,
            wi,
            cidx,
            f_retry,
            f_len_lt2,
            f_len2,
            f_len4,
            f_len5,
            f_len6,
            f_len8,
            f_reg_cnt,
            f_reg_status,
            f_reg_control,
            f_reg_time_lo,
            f_reg_time_hi,
            f_reg_uptime,
            f_slots_bad,
            f_drain_big,
            f_peek_far,
            f_peek_big,
            f_busy,
            c_info,
            c_rreg,
            c_wreg,
            c_slots,
            c_drain,
            c_replay,
            c_flush,
            c_clear,
            c_peek,
            n_resend,
            n_wctl,
            nst,
            nstatus,
            j,
            slot,
            remaining,
            target,
            limit,
            control,
            time_lo,
            time_hi,
            time_acc,
            time_hi_latch,
            uptime
        );
        // Device time in time units (1024 ns): add 10 ns a clock.
        self.time_acc.d.next = self.time_acc.q.val() + 10;
        if self.time_acc.q.val() >= 1014 {
            self.time_acc.d.next = self.time_acc.q.val() + 10 - 1024;
            self.time_lo.d.next = self.time_lo.q.val() + 1;
            if self.time_lo.q.val().all() {
                self.time_hi.d.next = self.time_hi.q.val() + 1;
            }
        }
        if !self.uptime.q.val().all() {
            self.uptime.d.next = self.uptime.q.val() + 1;
        }
        self.live.next = self.control.q.val();

        // Defaults.
        // The feed's address is zero unless it runs, the processor's unless
        // it loads.
        self.req_rd_addr.next = self.rdaddr.q.val() | self.feed.rd_addr.val();
        self.req_done.next = false;
        self.resp_wr_en.next = false;
        self.resp_wr_addr.next = self.pos.q.val();
        self.resp_wr_data.next = bits::<8>(0);
        self.resp_send.next = false;
        self.resp_len.next = self.pos.q.val();
        self.ctl_valid.next = false;
        self.ctl_cmd.next = bits::<2>(0);
        self.ctl_slot.next = self.slot.q.val();
        self.cnt_req.next = false;
        self.cnt_index.next = self.cidx.q.val();
        self.eb_clear.next = false;
        // The event buffer's reader is the walk.
        self.ew.clock.next = self.clock.val();
        self.ew.start.next = false;
        self.ew.drain.next = self.c_drain.q.val();
        self.ew.target.next = self.target.q.val();
        self.ew.limit.next = self.limit.q.val();
        self.ew.eb_level.next = self.eb_level.val();
        self.ew.eb_rd_data.next = self.eb_rd_data.val();
        self.eb_rd_offset.next = self.ew.eb_rd_offset.val();
        self.eb_pop.next = self.ew.eb_pop.val();
        self.eb_pop_count.next = self.ew.eb_pop_count.val();
        self.p_ready.next = false;
        self.feed.clock.next = self.clock.val();
        self.feed.start.next = false;
        self.feed.len.next = self.len.q.val();
        self.feed.busy.next = self.f_busy.q.val();
        self.feed.live.next = self.control.q.val();
        self.feed.now.next.epoch = (bit_cast::<EPOCH_BITS, 8>(self.time_hi.q.val()) << 29)
            | bit_cast::<EPOCH_BITS, 32>(self.time_lo.q.val() >> 3);
        self.feed.now.next.sub = bit_cast::<S_SHIFT, 32>(self.time_lo.q.val());
        self.feed.rd_data.next = self.req_rd_data.val();
        self.feed.quiet.next = self.quiet.val();
        self.feed.eb_level.next = self.eb_level.val();
        self.feed.f_ready.next = self.f_ready.val();
        self.feed.frame_done.next = self.frame_done.val();
        self.f_valid.next = self.feed.f_valid.val();
        self.f_data.next = self.feed.f_data.val();
        self.f_last.next = self.feed.f_last.val();
        self.f_caplen.next = self.feed.f_caplen.val();
        self.f_ts.next = self.feed.f_ts.val();
        self.rom.addr.next = self.j.q.val();
        self.addr16.next = bits::<16>(0);
        self.s_bad.next = false;
        self.s_retry.next = false;

        match self.st.q.val() {
            CpState::Idle => {
                self.rdaddr.d.next = bits::<BUF_ADDR>(0);
                self.li.d.next = bits::<4>(0);
                if self.resp_busy.val() {
                    // The previous response is still leaving its buffer.
                } else if self.reset_req.val() {
                    self.silent.d.next = true;
                    self.have_last.d.next = false;
                    self.control.d.next = false;
                    self.st.d.next = CpState::Clear;
                } else if self.req_bad.val() {
                    // Answer CRC_ERROR with seq 0xFF; keep the stored response.
                    self.seq.d.next = bits::<8>(0xff);
                    self.status_r.d.next = self.k_crc_error.val();
                    self.pos.d.next = bits::<BUF_ADDR>(2);
                    self.resend.d.next = false;
                    self.st.d.next = CpState::Send;
                } else if self.req_valid.val() {
                    self.len.d.next = self.req_len.val();
                    self.st.d.next = CpState::Load;
                }
            }
            CpState::Load => {
                // Bytes 0..8 of the request: seq, cmd, a0..a5 (read latency one clock).
                self.rdaddr.d.next = self.rdaddr.q.val() + 1;
                self.li.d.next = self.li.q.val() + 1;
                match self.li.q.val().index() {
                    1 => {
                        self.seq.d.next = self.req_rd_data.val();
                    }
                    2 => {
                        self.cmd_r.d.next = self.req_rd_data.val();
                    }
                    3 => {
                        self.a0.d.next = self.req_rd_data.val();
                    }
                    4 => {
                        self.a1.d.next = self.req_rd_data.val();
                    }
                    5 => {
                        self.a2.d.next = self.req_rd_data.val();
                    }
                    6 => {
                        self.a3.d.next = self.req_rd_data.val();
                    }
                    7 => {
                        self.a4.d.next = self.req_rd_data.val();
                    }
                    8 => {
                        self.a5.d.next = self.req_rd_data.val();
                        self.st.d.next = CpState::Decode;
                    }
                    _ => {}
                }
            }
            CpState::Decode => {
                self.rdaddr.d.next = bits::<BUF_ADDR>(0);
                self.addr16.next =
                    (bit_cast::<16, 8>(self.a0.q.val()) << 8) | bit_cast::<16, 8>(self.a1.q.val());
                self.f_retry.d.next =
                    self.have_last.q.val() & (self.seq.q.val() == self.last_seq.q.val());
                self.f_len_lt2.d.next = self.len.q.val() < 2;
                self.f_len2.d.next = self.len.q.val() == 2;
                self.f_len4.d.next = self.len.q.val() == 4;
                self.f_len5.d.next = self.len.q.val() == 5;
                self.f_len6.d.next = self.len.q.val() == 6;
                self.f_len8.d.next = self.len.q.val() == 8;
                self.f_reg_cnt.d.next = (self.a0.q.val() == 0)
                    & ((self.a1.q.val() < 19)
                        | ((self.a1.q.val() >= 0x20) & (self.a1.q.val() < 0x29)));
                self.f_reg_status.d.next = (self.a0.q.val() == 0) & (self.a1.q.val() == 0x40);
                self.f_reg_control.d.next = (self.a0.q.val() == 0) & (self.a1.q.val() == 0x41);
                self.f_reg_time_lo.d.next = (self.a0.q.val() == 0) & (self.a1.q.val() == 0x42);
                self.f_reg_time_hi.d.next = (self.a0.q.val() == 0) & (self.a1.q.val() == 0x43);
                self.f_reg_uptime.d.next = (self.a0.q.val() == 0) & (self.a1.q.val() == 0x44);
                self.f_slots_bad.d.next = (self.a0.q.val() != 0)
                    | (self.a2.q.val() == 0)
                    | (self.a2.q.val() > 16)
                    | ((bit_cast::<9, 8>(self.a1.q.val()) + bit_cast::<9, 8>(self.a2.q.val()))
                        > 256);
                self.f_drain_big.d.next = self.addr16.val() > 498;
                self.f_peek_far.d.next = self.addr16.val() > 2048;
                // max > 498 (0x01F2).
                self.f_peek_big.d.next =
                    (self.a2.q.val() > 1) | ((self.a2.q.val() == 1) & (self.a3.q.val() > 0xF2));
                self.f_busy.d.next = self.core_busy.val();
                // Counter index: pipeline counters 0.., link counters 19..
                self.cidx.d.next = bit_cast::<CNT_INDEX_BITS, 8>(self.a1.q.val());
                if self.a1.q.val() >= 0x20 {
                    self.cidx.d.next = bit_cast::<CNT_INDEX_BITS, 8>(self.a1.q.val()) - 13;
                }
                self.c_info.d.next = self.cmd_r.q.val() == 1;
                self.c_rreg.d.next = self.cmd_r.q.val() == 2;
                self.c_wreg.d.next = self.cmd_r.q.val() == 3;
                self.c_slots.d.next = self.cmd_r.q.val() == 4;
                self.c_drain.d.next = self.cmd_r.q.val() == 5;
                self.c_replay.d.next = self.cmd_r.q.val() == 6;
                self.c_flush.d.next = self.cmd_r.q.val() == 7;
                self.c_clear.d.next = self.cmd_r.q.val() == 8;
                self.c_peek.d.next = self.cmd_r.q.val() == 9;
                self.st.d.next = CpState::Decide;
            }
            CpState::Decide => {
                // Every command's starting registers, loaded whatever the
                // command (each is used only by its own command's states).
                self.j.d.next = bits::<6>(0);
                self.wi.d.next = bits::<2>(0);
                self.word.d.next = self.uptime.q.val();
                if self.f_reg_status.q.val() {
                    self.word.d.next = bit_cast::<32, 1>(self.core_busy.val().into())
                        | (bit_cast::<32, 1>(self.quiet.val().into()) << 1)
                        | (bit_cast::<32, 1>((self.eb_level.val() == 0).into()) << 2)
                        | (bit_cast::<32, 12>(self.eb_level.val()) << 16);
                }
                if self.f_reg_control.q.val() {
                    self.word.d.next = bit_cast::<32, 1>(self.control.q.val().into());
                }
                if self.f_reg_time_lo.q.val() {
                    self.word.d.next = self.time_lo.q.val();
                }
                if self.f_reg_time_hi.q.val() {
                    self.word.d.next = bit_cast::<32, 8>(self.time_hi_latch.q.val());
                }
                // TIME_HI reads the high byte latched by the last TIME_LO read.
                if !self.f_retry.q.val()
                    & self.c_rreg.q.val()
                    & self.f_len4.q.val()
                    & self.f_reg_time_lo.q.val()
                {
                    self.time_hi_latch.d.next = self.time_hi.q.val();
                }
                self.slot.d.next = self.a1.q.val();
                self.remaining.d.next = bit_cast::<5, 8>(self.a2.q.val());
                if self.c_drain.q.val() {
                    // DRAIN max:u16.
                    self.target.d.next = bits::<12>(0);
                    self.limit.d.next = (bit_cast::<12, 8>(self.a0.q.val()) << 8)
                        | bit_cast::<12, 8>(self.a1.q.val());
                    if self.f_drain_big.q.val() {
                        self.limit.d.next = bits::<12>(498);
                    }
                } else {
                    // PEEK offset:u16 max:u16.
                    self.target.d.next = (bit_cast::<12, 8>(self.a0.q.val()) << 8)
                        | bit_cast::<12, 8>(self.a1.q.val());
                    if self.f_peek_far.q.val() {
                        self.target.d.next = bits::<12>(2048);
                    }
                    self.limit.d.next = (bit_cast::<12, 8>(self.a2.q.val()) << 8)
                        | bit_cast::<12, 8>(self.a3.q.val());
                    if self.f_peek_big.q.val() {
                        self.limit.d.next = bits::<12>(498);
                    }
                }
                // The next state and status, registered for Dispatch.
                self.nst.d.next = CpState::Send;
                self.nstatus.d.next = self.k_ok.val();
                self.n_resend.d.next = false;
                self.n_wctl.d.next = false;
                if self.f_retry.q.val() {
                    // A retry: send the stored response again.
                    self.n_resend.d.next = true;
                } else if self.f_len_lt2.q.val() {
                    self.nstatus.d.next = self.k_bad_length.val();
                } else if self.c_info.q.val() {
                    if self.f_len2.q.val() {
                        self.nst.d.next = CpState::Info;
                    } else {
                        self.nstatus.d.next = self.k_bad_length.val();
                    }
                } else if self.c_rreg.q.val() {
                    if !self.f_len4.q.val() {
                        self.nstatus.d.next = self.k_bad_length.val();
                    } else if self.f_reg_cnt.q.val() {
                        self.nst.d.next = CpState::RegReq;
                    } else if self.f_reg_status.q.val()
                        | self.f_reg_control.q.val()
                        | self.f_reg_time_lo.q.val()
                        | self.f_reg_time_hi.q.val()
                        | self.f_reg_uptime.q.val()
                    {
                        self.nst.d.next = CpState::Emit;
                    } else {
                        self.nstatus.d.next = self.k_bad_argument.val();
                    }
                } else if self.c_wreg.q.val() {
                    if !self.f_len8.q.val() {
                        self.nstatus.d.next = self.k_bad_length.val();
                    } else if self.f_reg_control.q.val() {
                        self.n_wctl.d.next = true;
                    } else {
                        self.nstatus.d.next = self.k_bad_argument.val();
                    }
                } else if self.c_slots.q.val() {
                    // READ_SLOTS start:u16 count:u8.
                    if !self.f_len5.q.val() {
                        self.nstatus.d.next = self.k_bad_length.val();
                    } else if self.f_slots_bad.q.val() {
                        self.nstatus.d.next = self.k_bad_argument.val();
                    } else if self.f_busy.q.val() {
                        self.nstatus.d.next = self.k_busy.val();
                    } else {
                        self.nst.d.next = CpState::SlotReq;
                    }
                } else if self.c_drain.q.val() | self.c_peek.q.val() {
                    if (self.c_drain.q.val() & !self.f_len4.q.val())
                        | (self.c_peek.q.val() & !self.f_len6.q.val())
                    {
                        self.nstatus.d.next = self.k_bad_length.val();
                    } else {
                        self.nst.d.next = CpState::Walking;
                    }
                } else if self.c_replay.q.val() {
                    // REPLAY: check the framing first (then BUSY during a flush).
                    self.nst.d.next = CpState::Replaying;
                } else if self.c_flush.q.val() {
                    if !self.f_len2.q.val() {
                        self.nstatus.d.next = self.k_bad_length.val();
                    } else if self.f_busy.q.val() {
                        self.nstatus.d.next = self.k_busy.val();
                    } else {
                        self.nst.d.next = CpState::Flush;
                    }
                } else if self.c_clear.q.val() {
                    if !self.f_len2.q.val() {
                        self.nstatus.d.next = self.k_bad_length.val();
                    } else {
                        self.nst.d.next = CpState::Clear;
                    }
                } else {
                    self.nstatus.d.next = self.k_bad_command.val();
                }
                self.st.d.next = CpState::Dispatch;
            }
            CpState::Dispatch => {
                self.pos.d.next = bits::<BUF_ADDR>(2);
                self.status_r.d.next = self.nstatus.q.val();
                self.resend.d.next = self.n_resend.q.val();
                self.s_retry.next = self.n_resend.q.val();
                if self.n_wctl.q.val() {
                    self.control.d.next = self.a5.q.val().get_bit(0);
                }
                self.ew.start.next = self.nst.q.val() == CpState::Walking;
                self.feed.start.next = self.nst.q.val() == CpState::Replaying;
                self.st.d.next = self.nst.q.val();
            }
            CpState::Info => {
                self.resp_wr_en.next = true;
                self.resp_wr_data.next = self.rom.data.val();
                self.pos.d.next = self.pos.q.val() + 1;
                self.j.d.next = self.j.q.val() + 1;
                if self.j.q.val() == 41 {
                    self.st.d.next = CpState::Send;
                }
            }
            CpState::RegReq => {
                self.cnt_req.next = true;
                if self.cnt_ready.val() {
                    self.st.d.next = CpState::RegWait;
                }
            }
            CpState::RegWait => {
                if self.cnt_valid.val() {
                    self.word.d.next = self.cnt_value.val();
                    self.wi.d.next = bits::<2>(0);
                    self.st.d.next = CpState::Emit;
                }
            }
            CpState::Emit => {
                // The word, big-endian.
                self.resp_wr_en.next = true;
                match self.wi.q.val().index() {
                    0 => {
                        self.resp_wr_data.next = self.word.q.val().get_bits::<8>(24);
                    }
                    1 => {
                        self.resp_wr_data.next = self.word.q.val().get_bits::<8>(16);
                    }
                    2 => {
                        self.resp_wr_data.next = self.word.q.val().get_bits::<8>(8);
                    }
                    _ => {
                        self.resp_wr_data.next = bit_cast::<8, 32>(self.word.q.val());
                        self.st.d.next = CpState::Send;
                    }
                }
                self.pos.d.next = self.pos.q.val() + 1;
                self.wi.d.next = self.wi.q.val() + 1;
            }
            CpState::SlotReq => {
                self.ctl_valid.next = true;
                self.ctl_cmd.next = bits::<2>(3);
                self.j.d.next = bits::<6>(0);
                if self.ctl_ready.val() {
                    self.st.d.next = CpState::SlotBytes;
                }
            }
            CpState::SlotBytes => {
                self.p_ready.next = true;
                if self.p_valid.val() {
                    self.resp_wr_en.next = true;
                    self.resp_wr_data.next = self.p_byte.val();
                    self.pos.d.next = self.pos.q.val() + 1;
                    self.j.d.next = self.j.q.val() + 1;
                    if self.j.q.val() == 13 {
                        self.slot.d.next = self.slot.q.val() + 1;
                        self.remaining.d.next = self.remaining.q.val() - 1;
                        self.st.d.next = CpState::SlotReq;
                        if self.remaining.q.val() == 1 {
                            self.st.d.next = CpState::Send;
                        }
                    }
                }
            }
            CpState::Walking => {
                if self.ew.wr.val() {
                    self.resp_wr_en.next = true;
                    self.resp_wr_data.next = self.ew.wr_data.val();
                    self.pos.d.next = self.pos.q.val() + 1;
                }
                if self.ew.done.val() {
                    if self.ew.bad.val() {
                        self.status_r.d.next = self.k_bad_argument.val();
                        self.pos.d.next = bits::<BUF_ADDR>(2);
                    }
                    self.st.d.next = CpState::Send;
                }
            }
            CpState::Replaying => {
                if self.feed.wr.val() {
                    self.resp_wr_en.next = true;
                    self.resp_wr_data.next = self.feed.wr_data.val();
                    self.pos.d.next = self.pos.q.val() + 1;
                }
                if self.feed.done.val() {
                    self.status_r.d.next = self.feed.status.val();
                    self.st.d.next = CpState::Send;
                }
            }
            CpState::Flush => {
                self.ctl_valid.next = true;
                self.ctl_cmd.next = bits::<2>(2);
                if self.ctl_ready.val() {
                    self.st.d.next = CpState::Send;
                }
            }
            CpState::Clear => {
                self.eb_clear.next = true;
                self.ctl_valid.next = true;
                self.ctl_cmd.next = bits::<2>(1);
                if self.ctl_ready.val() {
                    self.st.d.next = CpState::ClearWait;
                }
            }
            CpState::ClearWait => {
                // Discard events until the core has finished clearing.
                self.eb_clear.next = true;
                if !self.core_busy.val() & self.quiet.val() {
                    self.st.d.next = CpState::Send;
                    if self.silent.q.val() {
                        self.silent.d.next = false;
                        self.st.d.next = CpState::Idle;
                    }
                }
            }
            CpState::Send => {
                // Byte 0: the sequence number.
                self.resp_wr_en.next = true;
                self.resp_wr_addr.next = bits::<BUF_ADDR>(0);
                self.resp_wr_data.next = self.seq.q.val();
                if self.resend.q.val() {
                    self.resp_wr_data.next = self.last_seq.q.val();
                }
                self.st.d.next = CpState::SendStatus;
            }
            CpState::SendStatus => {
                self.resp_wr_en.next = true;
                self.resp_wr_addr.next = bits::<BUF_ADDR>(1);
                self.resp_wr_data.next = self.status_r.q.val();
                if self.resend.q.val() {
                    self.resp_wr_data.next = self.last_status.q.val();
                }
                if !self.resend.q.val()
                    & (self.status_r.q.val() >= self.k_bad_command.val())
                    & (self.status_r.q.val() <= self.k_bad_argument.val())
                {
                    self.s_bad.next = true;
                }
                self.st.d.next = CpState::TxStart;
            }
            CpState::TxStart => {
                self.resp_send.next = true;
                self.resp_len.next = self.pos.q.val();
                if self.resend.q.val() {
                    self.resp_len.next = self.last_len.q.val();
                } else if self.seq.q.val() != 0xff {
                    self.last_seq.d.next = self.seq.q.val();
                    self.last_status.d.next = self.status_r.q.val();
                    self.last_len.d.next = self.pos.q.val();
                    self.have_last.d.next = true;
                }
                // The request has been read: the link may take the next one
                // while this response leaves.
                self.req_done.next = true;
                self.st.d.next = CpState::Idle;
            }
            _ => {
                self.st.d.next = CpState::Idle;
            }
        }
        self.link_inc.next = bits::<9>(0)
            .replace_bit(0, self.link_rx_ok.val())
            .replace_bit(1, self.link_crc.val())
            .replace_bit(2, self.link_slip.val())
            .replace_bit(3, self.link_uart.val())
            .replace_bit(4, self.s_bad.val())
            .replace_bit(5, self.s_retry.val())
            .replace_bit(6, self.feed.s_frame.val())
            .replace_bit(7, self.feed.s_refused.val())
            .replace_bit(8, self.link_tx.val());
    }
}
crate::impl_clocked!(CommandProcessor);
