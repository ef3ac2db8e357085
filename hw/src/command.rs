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
//! writes the response; `registers::RegisterFile` holds the registers and
//! decodes their addresses. Commands, statuses, request lengths and sizes
//! are `Constant`s built from `protocol` and the configuration.

use crate::consts::*;
use crate::counter_bank::CNT_INDEX_BITS;
use crate::event_buffer::{EB_ADDR, SLOT_RECORD_BYTES};
use crate::event_walk::EventWalk;
use crate::leaf::ByteRom;
use crate::link::BUF_ADDR;
use crate::registers::RegisterFile;
use crate::replay_feed::ReplayFeed;
use crate::responder::Responder;
use crate::types::Ts;
use bloomtime_model::protocol::{self, cmd, status, Info};
use rust_hdl::prelude::*;

// Responses that count as BAD_REQUESTS: the statuses from BAD_COMMAND to
// BAD_ARGUMENT (one range compare in `SendStatus`).
const _: () = assert!(
    status::BAD_COMMAND + 1 == status::BAD_LENGTH && status::BAD_LENGTH + 1 == status::BAD_ARGUMENT
);
// Sizes held in the widths below: a request's length, READ_SLOTS' start in
// one byte (and start + count in nine bits), the INFO and slot-record byte
// counters, the event buffer's offsets.
const _: () = assert!(
    protocol::MAX_FRAME < 1 << BUF_ADDR
        && 1 << CFG.slots_log2 <= 256
        && protocol::MAX_SLOTS_PER_READ < 256
        && protocol::info_bytes(&CFG) <= 64
        && SLOT_RECORD_BYTES <= 64
        && protocol::EVENT_BUFFER_BYTES < 1 << 12
        && protocol::MAX_RESPONSE_DATA < protocol::EVENT_BUFFER_BYTES
);

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
    /// The responder writes the header and sends.
    Send,
    Responding,
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
    /// Commands, request lengths and sizes (`protocol`, `CFG`).
    k_cmd_info: Constant<Bits<8>>,
    k_cmd_rreg: Constant<Bits<8>>,
    k_cmd_wreg: Constant<Bits<8>>,
    k_cmd_slots: Constant<Bits<8>>,
    k_cmd_drain: Constant<Bits<8>>,
    k_cmd_replay: Constant<Bits<8>>,
    k_cmd_flush: Constant<Bits<8>>,
    k_cmd_clear: Constant<Bits<8>>,
    k_cmd_peek: Constant<Bits<8>>,
    k_len_bare: Constant<Bits<BUF_ADDR>>,
    k_len_rreg: Constant<Bits<BUF_ADDR>>,
    k_len_wreg: Constant<Bits<BUF_ADDR>>,
    k_len_slots: Constant<Bits<BUF_ADDR>>,
    k_len_drain: Constant<Bits<BUF_ADDR>>,
    k_len_peek: Constant<Bits<BUF_ADDR>>,
    k_max_slots: Constant<Bits<8>>,
    k_slots: Constant<Bits<9>>,
    k_max_data: Constant<Bits<16>>,
    k_eb_bytes: Constant<Bits<16>>,
    k_info_last: Constant<Bits<6>>,
    k_slot_last: Constant<Bits<6>>,
    max16: Signal<Local, Bits<16>>,
    /// The state, one-hot (so that each state's exits and the enables they
    /// make start at one flip-flop of their own, not at a decode of a
    /// shared state register): `engaged` in every state but Idle, and with
    /// it exactly one `s_*` flag ([`CommandProcessor::state`]).
    engaged: DFF<Bit>,
    s_load: DFF<Bit>,
    s_decode: DFF<Bit>,
    s_decide: DFF<Bit>,
    s_dispatch: DFF<Bit>,
    s_info: DFF<Bit>,
    s_regreq: DFF<Bit>,
    s_regwait: DFF<Bit>,
    s_emit: DFF<Bit>,
    s_slotreq: DFF<Bit>,
    s_slotbytes: DFF<Bit>,
    s_walking: DFF<Bit>,
    s_replaying: DFF<Bit>,
    s_flush: DFF<Bit>,
    s_clear: DFF<Bit>,
    s_clearwait: DFF<Bit>,
    s_send: DFF<Bit>,
    s_responding: DFF<Bit>,
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
    resend: DFF<Bit>,
    silent: DFF<Bit>,
    /// The control request to the core and the event buffer's clear,
    /// registered: set with the state that makes them (SlotReq, Flush,
    /// Clear; Clear and ClearWait), so the core's control handshake starts
    /// at a flip-flop, not at this state's decode
    /// ([`CommandProcessor::ctl_flags_mismatch`]).
    ctl_v: DFF<Bit>,
    ctl_c: DFF<Bits<2>>,
    ebc: DFF<Bit>,
    word: DFF<Bits<32>>,
    wi: DFF<Bits<2>>,
    /// Decode: every comparison Decide needs, registered a clock before.
    f_retry: DFF<Bit>,
    f_len_short: DFF<Bit>,
    f_len_bare: DFF<Bit>,
    f_len_rreg: DFF<Bit>,
    f_len_drain: DFF<Bit>,
    f_len_slots: DFF<Bit>,
    f_len_peek: DFF<Bit>,
    f_len_wreg: DFF<Bit>,
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
    /// Decide's next state (`nst`), one-hot for Dispatch.
    n_send: DFF<Bit>,
    n_info: DFF<Bit>,
    n_regreq: DFF<Bit>,
    n_emit: DFF<Bit>,
    n_slotreq: DFF<Bit>,
    n_walking: DFF<Bit>,
    n_replaying: DFF<Bit>,
    n_flush: DFF<Bit>,
    n_clear: DFF<Bit>,
    nst: Signal<Local, CpState>,
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
    // The response's header, the stored response.
    resp: Responder,
    // Registers.
    rf: RegisterFile,
    // Combinational.
    addr16: Signal<Local, Bits<16>>,
    s_retry: Signal<Local, Bit>,
    /// Idle and the response sent: a request may start.
    go: Signal<Local, Bit>,
    /// The exits of Info, Emit, a slot record in SlotBytes and ClearWait.
    info_end: Signal<Local, Bit>,
    emit_end: Signal<Local, Bit>,
    slot_end: Signal<Local, Bit>,
    cw_end: Signal<Local, Bit>,
}

impl Default for CommandProcessor {
    fn default() -> Self {
        Self::new(100_000_000, 1_000_000)
    }
}

/// A request's length with `n` argument bytes.
fn req_len(n: usize) -> Constant<Bits<BUF_ADDR>> {
    Constant::new(bits::<BUF_ADDR>((protocol::REQUEST_HEADER + n) as u64))
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
            ctl_v: Default::default(),
            ctl_c: Default::default(),
            ebc: Default::default(),
            rom: ByteRom::new(&info.encode()),
            k_ok: Constant::new(bits::<8>(status::OK.into())),
            k_busy: Constant::new(bits::<8>(status::BUSY.into())),
            k_bad_command: Constant::new(bits::<8>(status::BAD_COMMAND.into())),
            k_bad_length: Constant::new(bits::<8>(status::BAD_LENGTH.into())),
            k_bad_argument: Constant::new(bits::<8>(status::BAD_ARGUMENT.into())),
            k_crc_error: Constant::new(bits::<8>(status::CRC_ERROR.into())),
            k_cmd_info: Constant::new(bits::<8>(cmd::INFO.into())),
            k_cmd_rreg: Constant::new(bits::<8>(cmd::READ_REG.into())),
            k_cmd_wreg: Constant::new(bits::<8>(cmd::WRITE_REG.into())),
            k_cmd_slots: Constant::new(bits::<8>(cmd::READ_SLOTS.into())),
            k_cmd_drain: Constant::new(bits::<8>(cmd::DRAIN.into())),
            k_cmd_replay: Constant::new(bits::<8>(cmd::REPLAY.into())),
            k_cmd_flush: Constant::new(bits::<8>(cmd::FLUSH.into())),
            k_cmd_clear: Constant::new(bits::<8>(cmd::CLEAR.into())),
            k_cmd_peek: Constant::new(bits::<8>(cmd::PEEK.into())),
            k_len_bare: req_len(protocol::args::INFO),
            k_len_rreg: req_len(protocol::args::READ_REG),
            k_len_wreg: req_len(protocol::args::WRITE_REG),
            k_len_slots: req_len(protocol::args::READ_SLOTS),
            k_len_drain: req_len(protocol::args::DRAIN),
            k_len_peek: req_len(protocol::args::PEEK),
            k_max_slots: Constant::new(bits::<8>(protocol::MAX_SLOTS_PER_READ as u64)),
            k_slots: Constant::new(bits::<9>(1 << CFG.slots_log2)),
            k_max_data: Constant::new(bits::<16>(protocol::MAX_RESPONSE_DATA as u64)),
            k_eb_bytes: Constant::new(bits::<16>(protocol::EVENT_BUFFER_BYTES as u64)),
            k_info_last: Constant::new(bits::<6>(protocol::info_bytes(&CFG) as u64 - 1)),
            k_slot_last: Constant::new(bits::<6>(SLOT_RECORD_BYTES as u64 - 1)),
            max16: Default::default(),
            engaged: Default::default(),
            s_load: Default::default(),
            s_decode: Default::default(),
            s_decide: Default::default(),
            s_dispatch: Default::default(),
            s_info: Default::default(),
            s_regreq: Default::default(),
            s_regwait: Default::default(),
            s_emit: Default::default(),
            s_slotreq: Default::default(),
            s_slotbytes: Default::default(),
            s_walking: Default::default(),
            s_replaying: Default::default(),
            s_flush: Default::default(),
            s_clear: Default::default(),
            s_clearwait: Default::default(),
            s_send: Default::default(),
            s_responding: Default::default(),
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
            resend: Default::default(),
            word: Default::default(),
            wi: Default::default(),
            f_retry: Default::default(),
            f_len_short: Default::default(),
            f_len_bare: Default::default(),
            f_len_rreg: Default::default(),
            f_len_drain: Default::default(),
            f_len_slots: Default::default(),
            f_len_peek: Default::default(),
            f_len_wreg: Default::default(),
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
            n_send: Default::default(),
            n_info: Default::default(),
            n_regreq: Default::default(),
            n_emit: Default::default(),
            n_slotreq: Default::default(),
            n_walking: Default::default(),
            n_replaying: Default::default(),
            n_flush: Default::default(),
            n_clear: Default::default(),
            nst: Default::default(),
            nstatus: Default::default(),
            j: Default::default(),
            slot: Default::default(),
            remaining: Default::default(),
            ew: Default::default(),
            resp: Default::default(),
            rf: RegisterFile::new(clock_hz),
            feed: Default::default(),
            target: Default::default(),
            limit: Default::default(),
            addr16: Default::default(),
            s_retry: Default::default(),
            go: Default::default(),
            info_end: Default::default(),
            emit_end: Default::default(),
            slot_end: Default::default(),
            cw_end: Default::default(),
        }
    }
}

impl Logic for CommandProcessor {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            engaged,
            s_load,
            s_decode,
            s_decide,
            s_dispatch,
            s_info,
            s_regreq,
            s_regwait,
            s_emit,
            s_slotreq,
            s_slotbytes,
            s_walking,
            s_replaying,
            s_flush,
            s_clear,
            s_clearwait,
            s_send,
            s_responding,
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
            resend,
            silent,
            ctl_v,
            ctl_c,
            ebc,
            word,
            wi,
            f_retry,
            f_len_short,
            f_len_bare,
            f_len_rreg,
            f_len_drain,
            f_len_slots,
            f_len_peek,
            f_len_wreg,
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
            n_send,
            n_info,
            n_regreq,
            n_emit,
            n_slotreq,
            n_walking,
            n_replaying,
            n_flush,
            n_clear,
            nstatus,
            j,
            slot,
            remaining,
            target,
            limit
        );
        self.rf.clock.next = self.clock.val();
        self.rf.addr.next =
            (bit_cast::<16, 8>(self.a0.q.val()) << 8) | bit_cast::<16, 8>(self.a1.q.val());
        self.addr16.next = self.rf.addr.val();
        self.max16.next =
            (bit_cast::<16, 8>(self.a2.q.val()) << 8) | bit_cast::<16, 8>(self.a3.q.val());
        self.rf.decode.next = false;
        self.rf.latch_hi.next = false;
        self.rf.write_control.next = false;
        self.rf.wdata.next = self.a5.q.val().get_bit(0);
        self.rf.clear_control.next = false;
        self.rf.core_busy.next = self.core_busy.val();
        self.rf.quiet.next = self.quiet.val();
        self.rf.eb_level.next = self.eb_level.val();
        self.live.next = self.rf.live.val();
        self.resp.clock.next = self.clock.val();
        self.resp.start.next = false;
        self.resp.seq.next = self.seq.q.val();
        self.resp.status.next = self.status_r.q.val();
        self.resp.len.next = self.pos.q.val();
        self.resp.resend.next = self.resend.q.val();
        self.resp.forget.next = false;

        // Defaults.
        // The feed's address is zero unless it runs, the processor's unless
        // it loads.
        self.req_rd_addr.next = self.rdaddr.q.val() | self.feed.rd_addr.val();
        self.req_done.next = self.resp.done.val();
        self.resp_wr_en.next = false;
        self.resp_wr_addr.next = self.pos.q.val();
        self.resp_wr_data.next = bits::<8>(0);
        self.resp_send.next = self.resp.send.val();
        self.resp_len.next = self.resp.send_len.val();
        self.ctl_valid.next = self.ctl_v.q.val();
        self.ctl_cmd.next = self.ctl_c.q.val();
        self.ctl_slot.next = self.slot.q.val();
        self.cnt_req.next = false;
        self.cnt_index.next = self.rf.cidx.val();
        self.eb_clear.next = self.ebc.q.val();
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
        self.feed.live.next = self.rf.live.val();
        self.feed.now.next = self.rf.now.val();
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
        self.s_retry.next = false;

        // The state's exits.
        self.go.next = !self.engaged.q.val() & !self.resp_busy.val();
        self.info_end.next = self.s_info.q.val() & (self.j.q.val() == self.k_info_last.val());
        self.emit_end.next = self.s_emit.q.val() & (self.wi.q.val() == 3);
        self.slot_end.next = self.s_slotbytes.q.val()
            & self.p_valid.val()
            & (self.j.q.val() == self.k_slot_last.val());
        self.cw_end.next = self.s_clearwait.q.val() & !self.core_busy.val() & self.quiet.val();
        // The next state, one flag at a time: each is the flag's entries
        // (a state and its exit) or the flag held while its exit waits.
        self.engaged.d.next = (self.engaged.q.val()
            & !(self.s_responding.q.val() & self.resp.done.val())
            & !(self.cw_end.val() & self.silent.q.val()))
            | (self.go.val() & (self.reset_req.val() | self.req_bad.val() | self.req_valid.val()));
        self.s_load.d.next =
            (self.go.val() & !self.reset_req.val() & !self.req_bad.val() & self.req_valid.val())
                | (self.s_load.q.val() & (self.li.q.val() != 8));
        self.s_decode.d.next = self.s_load.q.val() & (self.li.q.val() == 8);
        self.s_decide.d.next = self.s_decode.q.val();
        self.s_dispatch.d.next = self.s_decide.q.val();
        self.s_info.d.next = (self.s_dispatch.q.val() & self.n_info.q.val())
            | (self.s_info.q.val() & !self.info_end.val());
        self.s_regreq.d.next = (self.s_dispatch.q.val() & self.n_regreq.q.val())
            | (self.s_regreq.q.val() & !self.cnt_ready.val());
        self.s_regwait.d.next = (self.s_regreq.q.val() & self.cnt_ready.val())
            | (self.s_regwait.q.val() & !self.cnt_valid.val());
        self.s_emit.d.next = (self.s_dispatch.q.val() & self.n_emit.q.val())
            | (self.s_regwait.q.val() & self.cnt_valid.val())
            | (self.s_emit.q.val() & !self.emit_end.val());
        self.s_slotreq.d.next = (self.s_dispatch.q.val() & self.n_slotreq.q.val())
            | (self.slot_end.val() & (self.remaining.q.val() != 1))
            | (self.s_slotreq.q.val() & !self.ctl_ready.val());
        self.s_slotbytes.d.next = (self.s_slotreq.q.val() & self.ctl_ready.val())
            | (self.s_slotbytes.q.val() & !self.slot_end.val());
        self.s_walking.d.next = (self.s_dispatch.q.val() & self.n_walking.q.val())
            | (self.s_walking.q.val() & !self.ew.done.val());
        self.s_replaying.d.next = (self.s_dispatch.q.val() & self.n_replaying.q.val())
            | (self.s_replaying.q.val() & !self.feed.done.val());
        self.s_flush.d.next = (self.s_dispatch.q.val() & self.n_flush.q.val())
            | (self.s_flush.q.val() & !self.ctl_ready.val());
        self.s_clear.d.next = (self.go.val() & self.reset_req.val())
            | (self.s_dispatch.q.val() & self.n_clear.q.val())
            | (self.s_clear.q.val() & !self.ctl_ready.val());
        self.s_clearwait.d.next = (self.s_clear.q.val() & self.ctl_ready.val())
            | (self.s_clearwait.q.val() & !self.cw_end.val());
        self.s_send.d.next = (self.go.val() & !self.reset_req.val() & self.req_bad.val())
            | (self.s_dispatch.q.val() & self.n_send.q.val())
            | self.info_end.val()
            | self.emit_end.val()
            | (self.slot_end.val() & (self.remaining.q.val() == 1))
            | (self.s_walking.q.val() & self.ew.done.val())
            | (self.s_replaying.q.val() & self.feed.done.val())
            | (self.s_flush.q.val() & self.ctl_ready.val())
            | (self.cw_end.val() & !self.silent.q.val());
        self.s_responding.d.next =
            self.s_send.q.val() | (self.s_responding.q.val() & !self.resp.done.val());
        self.nst.next = CpState::Send;

        // What each state does besides moving on.
        if !self.engaged.q.val() {
            self.rdaddr.d.next = bits::<BUF_ADDR>(0);
            self.li.d.next = bits::<4>(0);
            if self.resp_busy.val() {
                // The previous response is still leaving its buffer.
            } else if self.reset_req.val() {
                self.silent.d.next = true;
                self.resp.forget.next = true;
                self.rf.clear_control.next = true;
                self.ctl_v.d.next = true;
                self.ctl_c.d.next = bits::<2>(1);
                self.ebc.d.next = true;
            } else if self.req_bad.val() {
                // Answer CRC_ERROR with seq 0xFF; keep the stored response.
                self.seq.d.next = bits::<8>(0xff);
                self.status_r.d.next = self.k_crc_error.val();
                self.pos.d.next = bits::<BUF_ADDR>(2);
                self.resend.d.next = false;
            } else if self.req_valid.val() {
                self.len.d.next = self.req_len.val();
            }
        }
        if self.s_load.q.val() {
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
                }
                _ => {}
            }
        }
        if self.s_decode.q.val() {
            self.rdaddr.d.next = bits::<BUF_ADDR>(0);
            self.rf.decode.next = true;
            self.f_retry.d.next = self.resp.retry.val();
            self.f_len_short.d.next = self.len.q.val() < self.k_len_bare.val();
            self.f_len_bare.d.next = self.len.q.val() == self.k_len_bare.val();
            self.f_len_rreg.d.next = self.len.q.val() == self.k_len_rreg.val();
            self.f_len_drain.d.next = self.len.q.val() == self.k_len_drain.val();
            self.f_len_slots.d.next = self.len.q.val() == self.k_len_slots.val();
            self.f_len_peek.d.next = self.len.q.val() == self.k_len_peek.val();
            self.f_len_wreg.d.next = self.len.q.val() == self.k_len_wreg.val();
            // READ_SLOTS start:u16 count:u8 (the table's slots fit a byte).
            self.f_slots_bad.d.next = (self.a0.q.val() != 0)
                | (self.a2.q.val() == 0)
                | (self.a2.q.val() > self.k_max_slots.val())
                | ((bit_cast::<9, 8>(self.a1.q.val()) + bit_cast::<9, 8>(self.a2.q.val()))
                    > self.k_slots.val());
            self.f_drain_big.d.next = self.addr16.val() > self.k_max_data.val();
            self.f_peek_far.d.next = self.addr16.val() > self.k_eb_bytes.val();
            self.f_peek_big.d.next = self.max16.val() > self.k_max_data.val();
            self.f_busy.d.next = self.core_busy.val();
            self.c_info.d.next = self.cmd_r.q.val() == self.k_cmd_info.val();
            self.c_rreg.d.next = self.cmd_r.q.val() == self.k_cmd_rreg.val();
            self.c_wreg.d.next = self.cmd_r.q.val() == self.k_cmd_wreg.val();
            self.c_slots.d.next = self.cmd_r.q.val() == self.k_cmd_slots.val();
            self.c_drain.d.next = self.cmd_r.q.val() == self.k_cmd_drain.val();
            self.c_replay.d.next = self.cmd_r.q.val() == self.k_cmd_replay.val();
            self.c_flush.d.next = self.cmd_r.q.val() == self.k_cmd_flush.val();
            self.c_clear.d.next = self.cmd_r.q.val() == self.k_cmd_clear.val();
            self.c_peek.d.next = self.cmd_r.q.val() == self.k_cmd_peek.val();
        }
        if self.s_decide.q.val() {
            // Every command's starting registers, loaded whatever the
            // command (each is used only by its own command's states).
            self.j.d.next = bits::<6>(0);
            self.wi.d.next = bits::<2>(0);
            self.word.d.next = self.rf.word.val();
            // TIME_HI reads the high byte latched by the last TIME_LO read.
            self.rf.latch_hi.next = !self.f_retry.q.val()
                & self.c_rreg.q.val()
                & self.f_len_rreg.q.val()
                & self.rf.is_time_lo.val();
            self.slot.d.next = self.a1.q.val();
            self.remaining.d.next = bit_cast::<5, 8>(self.a2.q.val());
            if self.c_drain.q.val() {
                // DRAIN max:u16.
                self.target.d.next = bits::<12>(0);
                self.limit.d.next =
                    (bit_cast::<12, 8>(self.a0.q.val()) << 8) | bit_cast::<12, 8>(self.a1.q.val());
                if self.f_drain_big.q.val() {
                    self.limit.d.next = bit_cast::<12, 16>(self.k_max_data.val());
                }
            } else {
                // PEEK offset:u16 max:u16.
                self.target.d.next =
                    (bit_cast::<12, 8>(self.a0.q.val()) << 8) | bit_cast::<12, 8>(self.a1.q.val());
                if self.f_peek_far.q.val() {
                    self.target.d.next = bit_cast::<12, 16>(self.k_eb_bytes.val());
                }
                self.limit.d.next =
                    (bit_cast::<12, 8>(self.a2.q.val()) << 8) | bit_cast::<12, 8>(self.a3.q.val());
                if self.f_peek_big.q.val() {
                    self.limit.d.next = bit_cast::<12, 16>(self.k_max_data.val());
                }
            }
            // The next state and status, registered for Dispatch.
            self.nstatus.d.next = self.k_ok.val();
            self.n_resend.d.next = false;
            self.n_wctl.d.next = false;
            if self.f_retry.q.val() {
                // A retry: send the stored response again.
                self.n_resend.d.next = true;
            } else if self.f_len_short.q.val() {
                self.nstatus.d.next = self.k_bad_length.val();
            } else if self.c_info.q.val() {
                if self.f_len_bare.q.val() {
                    self.nst.next = CpState::Info;
                } else {
                    self.nstatus.d.next = self.k_bad_length.val();
                }
            } else if self.c_rreg.q.val() {
                if !self.f_len_rreg.q.val() {
                    self.nstatus.d.next = self.k_bad_length.val();
                } else if self.rf.is_counter.val() {
                    self.nst.next = CpState::RegReq;
                } else if self.rf.is_status.val()
                    | self.rf.is_control.val()
                    | self.rf.is_time_lo.val()
                    | self.rf.is_time_hi.val()
                    | self.rf.is_uptime.val()
                {
                    self.nst.next = CpState::Emit;
                } else {
                    self.nstatus.d.next = self.k_bad_argument.val();
                }
            } else if self.c_wreg.q.val() {
                if !self.f_len_wreg.q.val() {
                    self.nstatus.d.next = self.k_bad_length.val();
                } else if self.rf.is_control.val() {
                    self.n_wctl.d.next = true;
                } else {
                    self.nstatus.d.next = self.k_bad_argument.val();
                }
            } else if self.c_slots.q.val() {
                // READ_SLOTS start:u16 count:u8.
                if !self.f_len_slots.q.val() {
                    self.nstatus.d.next = self.k_bad_length.val();
                } else if self.f_slots_bad.q.val() {
                    self.nstatus.d.next = self.k_bad_argument.val();
                } else if self.f_busy.q.val() {
                    self.nstatus.d.next = self.k_busy.val();
                } else {
                    self.nst.next = CpState::SlotReq;
                }
            } else if self.c_drain.q.val() | self.c_peek.q.val() {
                if (self.c_drain.q.val() & !self.f_len_drain.q.val())
                    | (self.c_peek.q.val() & !self.f_len_peek.q.val())
                {
                    self.nstatus.d.next = self.k_bad_length.val();
                } else {
                    self.nst.next = CpState::Walking;
                }
            } else if self.c_replay.q.val() {
                // REPLAY: check the framing first (then BUSY during a flush).
                self.nst.next = CpState::Replaying;
            } else if self.c_flush.q.val() {
                if !self.f_len_bare.q.val() {
                    self.nstatus.d.next = self.k_bad_length.val();
                } else if self.f_busy.q.val() {
                    self.nstatus.d.next = self.k_busy.val();
                } else {
                    self.nst.next = CpState::Flush;
                }
            } else if self.c_clear.q.val() {
                if !self.f_len_bare.q.val() {
                    self.nstatus.d.next = self.k_bad_length.val();
                } else {
                    self.nst.next = CpState::Clear;
                }
            } else {
                self.nstatus.d.next = self.k_bad_command.val();
            }
        }
        // Decide's choice, registered one-hot for Dispatch (loaded every
        // clock: Dispatch follows Decide).
        self.n_send.d.next = self.nst.val() == CpState::Send;
        self.n_info.d.next = self.nst.val() == CpState::Info;
        self.n_regreq.d.next = self.nst.val() == CpState::RegReq;
        self.n_emit.d.next = self.nst.val() == CpState::Emit;
        self.n_slotreq.d.next = self.nst.val() == CpState::SlotReq;
        self.n_walking.d.next = self.nst.val() == CpState::Walking;
        self.n_replaying.d.next = self.nst.val() == CpState::Replaying;
        self.n_flush.d.next = self.nst.val() == CpState::Flush;
        self.n_clear.d.next = self.nst.val() == CpState::Clear;
        if self.s_dispatch.q.val() {
            self.pos.d.next = bits::<BUF_ADDR>(2);
            self.status_r.d.next = self.nstatus.q.val();
            self.resend.d.next = self.n_resend.q.val();
            self.s_retry.next = self.n_resend.q.val();
            self.rf.write_control.next = self.n_wctl.q.val();
            self.ew.start.next = self.n_walking.q.val();
            self.feed.start.next = self.n_replaying.q.val();
            self.ctl_v.d.next =
                self.n_slotreq.q.val() | self.n_flush.q.val() | self.n_clear.q.val();
            self.ctl_c.d.next = bits::<2>(1);
            if self.n_slotreq.q.val() {
                self.ctl_c.d.next = bits::<2>(3);
            }
            if self.n_flush.q.val() {
                self.ctl_c.d.next = bits::<2>(2);
            }
            self.ebc.d.next = self.n_clear.q.val();
        }
        if self.s_info.q.val() {
            self.resp_wr_en.next = true;
            self.resp_wr_data.next = self.rom.data.val();
            self.pos.d.next = self.pos.q.val() + 1;
            self.j.d.next = self.j.q.val() + 1;
        }
        if self.s_regreq.q.val() {
            self.cnt_req.next = true;
        }
        if self.s_regwait.q.val() & self.cnt_valid.val() {
            self.word.d.next = self.cnt_value.val();
            self.wi.d.next = bits::<2>(0);
        }
        if self.s_emit.q.val() {
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
                }
            }
            self.pos.d.next = self.pos.q.val() + 1;
            self.wi.d.next = self.wi.q.val() + 1;
        }
        if self.s_slotreq.q.val() {
            self.j.d.next = bits::<6>(0);
            if self.ctl_ready.val() {
                self.ctl_v.d.next = false;
            }
        }
        if self.s_slotbytes.q.val() {
            self.p_ready.next = true;
            if self.p_valid.val() {
                self.resp_wr_en.next = true;
                self.resp_wr_data.next = self.p_byte.val();
                self.pos.d.next = self.pos.q.val() + 1;
                self.j.d.next = self.j.q.val() + 1;
                if self.j.q.val() == self.k_slot_last.val() {
                    self.slot.d.next = self.slot.q.val() + 1;
                    self.remaining.d.next = self.remaining.q.val() - 1;
                    self.ctl_v.d.next = true;
                    self.ctl_c.d.next = bits::<2>(3);
                    if self.remaining.q.val() == 1 {
                        self.ctl_v.d.next = false;
                    }
                }
            }
        }
        if self.s_walking.q.val() {
            if self.ew.wr.val() {
                self.resp_wr_en.next = true;
                self.resp_wr_data.next = self.ew.wr_data.val();
                self.pos.d.next = self.pos.q.val() + 1;
            }
            if self.ew.done.val() & self.ew.bad.val() {
                self.status_r.d.next = self.k_bad_argument.val();
                self.pos.d.next = bits::<BUF_ADDR>(2);
            }
        }
        if self.s_replaying.q.val() {
            if self.feed.wr.val() {
                self.resp_wr_en.next = true;
                self.resp_wr_data.next = self.feed.wr_data.val();
                self.pos.d.next = self.pos.q.val() + 1;
            }
            if self.feed.done.val() {
                self.status_r.d.next = self.feed.status.val();
            }
        }
        if (self.s_flush.q.val() | self.s_clear.q.val()) & self.ctl_ready.val() {
            self.ctl_v.d.next = false;
        }
        if self.s_clearwait.q.val() {
            // Discard events until the core has finished clearing.
            if !self.core_busy.val() & self.quiet.val() {
                self.ebc.d.next = false;
                if self.silent.q.val() {
                    self.silent.d.next = false;
                }
            }
        }
        if self.s_send.q.val() {
            self.resp.start.next = true;
        }
        // Responding: the request has been read, so the link may take the
        // next one while this response leaves.
        if self.resp.wr_en.val() {
            self.resp_wr_en.next = true;
            self.resp_wr_addr.next = self.resp.wr_addr.val();
            self.resp_wr_data.next = self.resp.wr_data.val();
        }
        self.link_inc.next = bits::<9>(0)
            .replace_bit(0, self.link_rx_ok.val())
            .replace_bit(1, self.link_crc.val())
            .replace_bit(2, self.link_slip.val())
            .replace_bit(3, self.link_uart.val())
            .replace_bit(4, self.resp.s_bad.val())
            .replace_bit(5, self.s_retry.val())
            .replace_bit(6, self.feed.s_frame.val())
            .replace_bit(7, self.feed.s_refused.val())
            .replace_bit(8, self.link_tx.val());
    }
}
crate::impl_clocked!(CommandProcessor);

impl CommandProcessor {
    /// The state its one-hot flags stand for, or what is wrong with them
    /// (none but `engaged` is Idle; `engaged` with exactly one `s_*` flag
    /// is that state).
    pub fn state(&self) -> Result<CpState, String> {
        let flags = [
            (CpState::Load, &self.s_load),
            (CpState::Decode, &self.s_decode),
            (CpState::Decide, &self.s_decide),
            (CpState::Dispatch, &self.s_dispatch),
            (CpState::Info, &self.s_info),
            (CpState::RegReq, &self.s_regreq),
            (CpState::RegWait, &self.s_regwait),
            (CpState::Emit, &self.s_emit),
            (CpState::SlotReq, &self.s_slotreq),
            (CpState::SlotBytes, &self.s_slotbytes),
            (CpState::Walking, &self.s_walking),
            (CpState::Replaying, &self.s_replaying),
            (CpState::Flush, &self.s_flush),
            (CpState::Clear, &self.s_clear),
            (CpState::ClearWait, &self.s_clearwait),
            (CpState::Send, &self.s_send),
            (CpState::Responding, &self.s_responding),
        ];
        crate::util::one_hot_state("the processor", CpState::Idle, &self.engaged, &flags)
    }

    /// For tests, every clock: the processor's and the walk's state flags
    /// one-hot, and the registered control request and clear against the
    /// state they stand for. What differs, if anything.
    pub fn ctl_flags_mismatch(&self) -> Option<String> {
        let st = match self.state() {
            Ok(st) => st,
            Err(e) => return Some(e),
        };
        if let Err(e) = self.ew.state() {
            return Some(e);
        }
        let want_v = matches!(st, CpState::SlotReq | CpState::Flush | CpState::Clear);
        let want_c = match st {
            CpState::SlotReq => 3,
            CpState::Flush => 2,
            _ => 1,
        };
        let want_ebc = matches!(st, CpState::Clear | CpState::ClearWait);
        let (v, c, e) = (
            self.ctl_v.q.val(),
            self.ctl_c.q.val().to_u64(),
            self.ebc.q.val(),
        );
        (v != want_v || (want_v && c != want_c) || e != want_ebc).then(|| {
            format!("in {st:?}: ctl_valid {v} cmd {c}, eb_clear {e} (want {want_v} {want_c} {want_ebc})")
        })
    }
}
