//! The Alchitry Cu board: the pipeline behind the UART link.
//!
//! `BoardCore` is everything but the UART — link (SLIP, CRC), command
//! processor, frame parser, core, event buffer — with a byte-wide interface,
//! so tests and the Verilator model drive it one byte per clock.
//! `BoardTop` adds the UART and the LEDs and has the pins of
//! `constraints/alchitry_cu.pcf`: `clock` (P7, 100 MHz), `reset_n` (P8, the
//! reset button, active low: clears the board like CLEAR), `uart_rx` (P14,
//! into the FPGA), `uart_tx` (M9, out of it) and `leds` (J11 K11 K12 K14
//! L12 L14 M12 N14).
//!
//! LEDs: 0 heartbeat; 1 a request arrived; 2 a response left; 3 a frame was
//! replayed; 4 a link error (CRC, SLIP or UART framing); 5 live mode; 6 a
//! flush or clear is running; 7 the event buffer is more than half full.
//! Activity LEDs stay lit ~170 ms after their event.

use crate::command::CommandProcessor;
use crate::consts::*;
use crate::core::BloomtimeCore;
use crate::event_buffer::EventBuffer;
use crate::frame_parser::FrameParser;
use crate::link::Link;
use crate::uart::{UartRx, UartTx};
use rust_hdl::prelude::*;

// The timestamp split at a literal shift below: s_0 = 3.
const _: () = assert!(S_SHIFT == 3);

/// The board without its UART.
#[derive(LogicBlock)]
pub struct BoardCore {
    pub clock: Signal<In, Clock>,
    /// Received bytes (one clock each), and UART framing errors.
    pub rx_data: Signal<In, Bits<8>>,
    pub rx_valid: Signal<In, Bit>,
    pub rx_error: Signal<In, Bit>,
    /// Bytes to send.
    pub tx_data: Signal<Out, Bits<8>>,
    pub tx_valid: Signal<Out, Bit>,
    pub tx_ready: Signal<In, Bit>,
    /// Clear request (the reset button).
    pub reset_req: Signal<In, Bit>,
    /// Pulses and states for the LEDs.
    pub ev_request: Signal<Out, Bit>,
    pub ev_response: Signal<Out, Bit>,
    pub ev_frame: Signal<Out, Bit>,
    pub ev_error: Signal<Out, Bit>,
    pub live: Signal<Out, Bit>,
    pub busy: Signal<Out, Bit>,
    pub half_full: Signal<Out, Bit>,
    pub link: Link,
    pub cp: CommandProcessor,
    pub parser: FrameParser,
    pub core: BloomtimeCore,
    pub eb: EventBuffer,
    /// Nothing in flight between the parser and the event buffer,
    /// registered: a clock late, which only delays the processor. Once the
    /// processor stops feeding, the pipeline only drains, so quiet never
    /// drops again by itself; and no input starts within a clock of the
    /// processor acting on it.
    quiet: DFF<Bit>,
}

impl BoardCore {
    /// A board whose INFO reports this clock and baud.
    pub fn new(clock_hz: u32, baud: u32) -> Self {
        Self {
            clock: Default::default(),
            rx_data: Default::default(),
            rx_valid: Default::default(),
            rx_error: Default::default(),
            tx_data: Default::default(),
            tx_valid: Default::default(),
            tx_ready: Default::default(),
            reset_req: Default::default(),
            ev_request: Default::default(),
            ev_response: Default::default(),
            ev_frame: Default::default(),
            ev_error: Default::default(),
            live: Default::default(),
            busy: Default::default(),
            half_full: Default::default(),
            link: Default::default(),
            cp: CommandProcessor::new(clock_hz, baud),
            parser: FrameParser::for_waiting_source(),
            core: BloomtimeCore::spaced(),
            eb: Default::default(),
            quiet: Default::default(),
        }
    }
}

impl Logic for BoardCore {
    #[hdl_gen]
    fn update(&mut self) {
        self.link.clock.next = self.clock.val();
        self.cp.clock.next = self.clock.val();
        self.parser.clock.next = self.clock.val();
        self.core.clock.next = self.clock.val();
        self.eb.clock.next = self.clock.val();

        // Link <-> outside.
        self.link.rx_data.next = self.rx_data.val();
        self.link.rx_valid.next = self.rx_valid.val();
        self.link.rx_error.next = self.rx_error.val();
        self.tx_data.next = self.link.tx_data.val();
        self.tx_valid.next = self.link.tx_valid.val();
        self.link.tx_ready.next = self.tx_ready.val();

        // Link <-> processor.
        self.cp.req_valid.next = self.link.req_valid.val();
        self.cp.req_bad.next = self.link.req_bad.val();
        self.cp.req_len.next = self.link.req_len.val();
        self.link.req_rd_addr.next = self.cp.req_rd_addr.val();
        self.cp.req_rd_data.next = self.link.req_rd_data.val();
        self.link.req_done.next = self.cp.req_done.val();
        self.link.resp_wr_addr.next = self.cp.resp_wr_addr.val();
        self.link.resp_wr_data.next = self.cp.resp_wr_data.val();
        self.link.resp_wr_en.next = self.cp.resp_wr_en.val();
        self.link.resp_send.next = self.cp.resp_send.val();
        self.link.resp_len.next = self.cp.resp_len.val();
        self.cp.resp_busy.next = self.link.resp_busy.val();
        self.cp.link_rx_ok.next = self.link.rx_frame_ok.val();
        self.cp.link_crc.next = self.link.rx_crc_error.val();
        self.cp.link_slip.next = self.link.rx_slip_error.val() | self.link.rx_overrun.val();
        self.cp.link_uart.next = self.link.rx_uart_error.val();
        self.cp.link_tx.next = self.link.tx_frame.val();
        self.cp.reset_req.next = self.reset_req.val();

        // Processor -> parser (flat timestamp: sub | epoch << 3, S_SHIFT = 3).
        self.parser.reset.next = false;
        self.parser.s_valid.next = self.cp.f_valid.val();
        self.cp.f_ready.next = self.parser.s_ready.val();
        self.parser.s_data.next = self.cp.f_data.val();
        self.parser.s_last.next = self.cp.f_last.val();
        self.parser.s_ts.next = bit_cast::<TS_BITS, S_SHIFT>(self.cp.f_ts.val().sub)
            | (bit_cast::<TS_BITS, EPOCH_BITS>(self.cp.f_ts.val().epoch) << 3);
        self.parser.s_caplen.next = self.cp.f_caplen.val();

        // Parser -> core (the packed key: proto, v6, sport, dport, src, dst).
        self.core.s_rec_valid.next = self.parser.m_valid.val();
        self.parser.m_ready.next = self.core.s_rec_ready.val();
        self.core.s_rec_ts.next.sub = self.parser.m_ts.val().get_bits::<S_SHIFT>(0);
        self.core.s_rec_ts.next.epoch = self.parser.m_ts.val().get_bits::<EPOCH_BITS>(3);
        self.core.s_rec_flags.next = self.parser.m_flags.val();
        self.core.s_rec_key.next.proto = self.parser.m_key.val().get_bits::<8>(0);
        self.core.s_rec_key.next.v6 = self.parser.m_key.val().get_bit(8);
        self.core.s_rec_key.next.sport = self.parser.m_key.val().get_bits::<16>(9);
        self.core.s_rec_key.next.dport = self.parser.m_key.val().get_bits::<16>(25);
        self.core.s_rec_key.next.src0 = self.parser.m_key.val().get_bits::<32>(41);
        self.core.s_rec_key.next.src1 = self.parser.m_key.val().get_bits::<32>(73);
        self.core.s_rec_key.next.src2 = self.parser.m_key.val().get_bits::<32>(105);
        self.core.s_rec_key.next.src3 = self.parser.m_key.val().get_bits::<32>(137);
        self.core.s_rec_key.next.dst0 = self.parser.m_key.val().get_bits::<32>(169);
        self.core.s_rec_key.next.dst1 = self.parser.m_key.val().get_bits::<32>(201);
        self.core.s_rec_key.next.dst2 = self.parser.m_key.val().get_bits::<32>(233);
        self.core.s_rec_key.next.dst3 = self.parser.m_key.val().get_bits::<32>(265);
        self.core.frame_done.next = self.parser.frame_done.val();
        self.core.frame_drop.next = self.parser.drop_valid.val();
        self.core.frame_drop_reason.next = self.parser.drop_reason.val();
        self.cp.frame_done.next = self.parser.frame_done.val();

        // Processor <-> core.
        self.core.ctl_valid.next = self.cp.ctl_valid.val();
        self.cp.ctl_ready.next = self.core.ctl_ready.val();
        self.core.ctl_cmd.next = self.cp.ctl_cmd.val();
        self.core.ctl_slot.next = self.cp.ctl_slot.val();
        self.cp.core_busy.next = self.core.busy.val();
        self.core.cnt_req.next = self.cp.cnt_req.val();
        self.cp.cnt_ready.next = self.core.cnt_ready.val();
        self.core.cnt_index.next = self.cp.cnt_index.val();
        self.cp.cnt_valid.next = self.core.cnt_valid.val();
        self.cp.cnt_value.next = self.core.cnt_value.val();
        self.core.link_inc.next = self.cp.link_inc.val();
        self.quiet.clock.next = self.clock.val();
        self.cp.quiet.next = self.quiet.q.val();
        self.quiet.d.next = self.core.idle.val()
            & !self.core.m_open_valid.val()
            & !self.core.m_evict_valid.val()
            & !self.eb.busy.val()
            & !self.parser.m_valid.val();

        // Core -> event buffer <-> processor.
        self.eb.s_open_valid.next = self.core.m_open_valid.val();
        self.core.m_open_ready.next = self.eb.s_open_ready.val();
        self.eb.s_open_slot.next = self.core.m_open_slot.val();
        self.eb.s_open_key.next = self.core.m_open_key.val();
        // The spaced core announces the parser's key register itself (it
        // holds until the open is taken), so the open's address bytes come
        // from the parser's tap, which the event buffer turns.
        self.eb.s_open_tap.next = self.parser.key_tap.val();
        self.parser.key_rot.next = self.eb.open_rot.val();
        self.eb.s_evict_valid.next = self.core.m_evict_valid.val();
        self.core.m_evict_ready.next = self.eb.s_evict_ready.val();
        self.eb.s_evict_slot.next = self.core.m_evict_slot.val();
        self.eb.s_evict_reason.next = self.core.m_evict_reason.val();
        self.eb.s_evict_stats.next = self.core.m_evict_stats.val();
        self.eb.s_evict_tag.next = self.core.m_evict_tag.val();
        self.eb.clear.next = self.cp.eb_clear.val();
        self.eb.rd_offset.next = self.cp.eb_rd_offset.val();
        self.cp.eb_rd_data.next = self.eb.rd_data.val();
        self.eb.pop.next = self.cp.eb_pop.val();
        self.eb.pop_count.next = self.cp.eb_pop_count.val();
        self.cp.eb_level.next = self.eb.level.val();
        self.cp.p_valid.next = self.eb.p_valid.val();
        self.eb.p_ready.next = self.cp.p_ready.val();
        self.cp.p_byte.next = self.eb.p_byte.val();

        // LEDs.
        self.ev_request.next = self.link.rx_frame_ok.val();
        self.ev_response.next = self.link.tx_frame.val();
        self.ev_frame.next = self.parser.frame_done.val();
        self.ev_error.next = self.link.rx_crc_error.val()
            | self.link.rx_slip_error.val()
            | self.link.rx_overrun.val()
            | self.link.rx_uart_error.val();
        self.live.next = self.cp.live.val();
        self.busy.next = self.core.busy.val();
        self.half_full.next = self.eb.level.val().get_bit(10) | self.eb.level.val().get_bit(11);
    }
}
crate::impl_clocked!(BoardCore);

/// The FPGA top for the Alchitry Cu.
#[derive(LogicBlock)]
pub struct BoardTop {
    pub clock: Signal<In, Clock>,
    pub reset_n: Signal<In, Bit>,
    pub uart_rx: Signal<In, Bit>,
    pub uart_tx: Signal<Out, Bit>,
    pub leds: Signal<Out, Bits<8>>,
    pub urx: UartRx,
    pub utx: UartTx,
    pub board: BoardCore,
    /// Reset button synchronizer and debounce.
    rst_meta: DFF<Bit>,
    rst_sync: DFF<Bit>,
    rst_count: DFF<Bits<16>>,
    rst_pressed: DFF<Bit>,
    /// LED timing: a tick every 2^18 clocks, 6-bit stretchers.
    tick: DFF<Bits<18>>,
    heartbeat: DFF<Bits<8>>,
    st_req: DFF<Bits<6>>,
    st_resp: DFF<Bits<6>>,
    st_frame: DFF<Bits<6>>,
    st_err: DFF<Bits<6>>,
    tick_now: Signal<Local, Bit>,
}

impl BoardTop {
    /// The board at `clock_hz` with a UART at `baud`.
    pub fn new(clock_hz: u32, baud: u32) -> Self {
        Self {
            clock: Default::default(),
            reset_n: Default::default(),
            uart_rx: Default::default(),
            uart_tx: Default::default(),
            leds: Default::default(),
            urx: UartRx::new(clock_hz as u64, baud as u64),
            utx: UartTx::new(clock_hz as u64, baud as u64),
            board: BoardCore::new(clock_hz, baud),
            rst_meta: Default::default(),
            rst_sync: Default::default(),
            rst_count: Default::default(),
            rst_pressed: Default::default(),
            tick: Default::default(),
            heartbeat: Default::default(),
            st_req: Default::default(),
            st_resp: Default::default(),
            st_frame: Default::default(),
            st_err: Default::default(),
            tick_now: Default::default(),
        }
    }
}

impl Logic for BoardTop {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            rst_meta,
            rst_sync,
            rst_count,
            rst_pressed,
            tick,
            heartbeat,
            st_req,
            st_resp,
            st_frame,
            st_err
        );
        self.urx.clock.next = self.clock.val();
        self.utx.clock.next = self.clock.val();
        self.board.clock.next = self.clock.val();
        self.urx.rx.next = self.uart_rx.val();
        self.board.rx_data.next = self.urx.data.val();
        self.board.rx_valid.next = self.urx.valid.val();
        self.board.rx_error.next = self.urx.framing_error.val();
        self.utx.data.next = self.board.tx_data.val();
        self.utx.valid.next = self.board.tx_valid.val();
        self.board.tx_ready.next = self.utx.ready.val();
        self.uart_tx.next = self.utx.tx.val();

        // The reset button: synchronized, held 0.65 ms (2^16 clocks) to count.
        self.rst_meta.d.next = !self.reset_n.val();
        self.rst_sync.d.next = self.rst_meta.q.val();
        self.rst_pressed.d.next = false;
        if self.rst_sync.q.val() {
            if !self.rst_count.q.val().all() {
                self.rst_count.d.next = self.rst_count.q.val() + 1;
            }
            if self.rst_count.q.val() == 0xfffe {
                self.rst_pressed.d.next = true;
            }
        } else {
            self.rst_count.d.next = bits::<16>(0);
        }
        self.board.reset_req.next = self.rst_pressed.q.val();

        // LEDs.
        self.tick.d.next = self.tick.q.val() + 1;
        self.tick_now.next = self.tick.q.val().all();
        if self.tick_now.val() {
            self.heartbeat.d.next = self.heartbeat.q.val() + 1;
            if self.st_req.q.val() != 0 {
                self.st_req.d.next = self.st_req.q.val() - 1;
            }
            if self.st_resp.q.val() != 0 {
                self.st_resp.d.next = self.st_resp.q.val() - 1;
            }
            if self.st_frame.q.val() != 0 {
                self.st_frame.d.next = self.st_frame.q.val() - 1;
            }
            if self.st_err.q.val() != 0 {
                self.st_err.d.next = self.st_err.q.val() - 1;
            }
        }
        if self.board.ev_request.val() {
            self.st_req.d.next = bits::<6>(63);
        }
        if self.board.ev_response.val() {
            self.st_resp.d.next = bits::<6>(63);
        }
        if self.board.ev_frame.val() {
            self.st_frame.d.next = bits::<6>(63);
        }
        if self.board.ev_error.val() {
            self.st_err.d.next = bits::<6>(63);
        }
        self.leds.next = bits::<8>(0)
            .replace_bit(0, self.heartbeat.q.val().get_bit(7))
            .replace_bit(1, self.st_req.q.val() != 0)
            .replace_bit(2, self.st_resp.q.val() != 0)
            .replace_bit(3, self.st_frame.q.val() != 0)
            .replace_bit(4, self.st_err.q.val() != 0)
            .replace_bit(5, self.board.live.val())
            .replace_bit(6, self.board.busy.val())
            .replace_bit(7, self.board.half_full.val());
    }
}
crate::impl_clocked!(BoardTop);
