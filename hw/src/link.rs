//! The frame layer of the board link (`bloomtime_model::protocol`), between
//! the UART and the command processor.
//!
//! ```text
//!  rx pin ─▶ UartRx ─data/valid/framing_error─▶ ┌──────┐ ─req_*─▶ command
//!                                                │ Link │           processor
//!  tx pin ◀─ UartTx ◀──tx_data/valid/ready────── └──────┘ ◀─resp_*─
//! ```
//! [`UartLink`] is exactly that wiring; [`Link`] alone has byte ports so it
//! can be tested (and driven) without the UART.
//!
//! # Receive side
//!
//! Bytes are SLIP-decoded into the request buffer (a [`Bram`] of 512 bytes,
//! more than `MAX_FRAME`) while a byte-wide CRC-16 ([`Crc16Reg`]) runs over
//! every decoded byte. CRC-16/CCITT-FALSE has no reflection and no final
//! XOR, so the CRC of `payload ‖ crc16_be(payload)` is zero: at END the
//! frame is good when the running CRC is zero, nothing went wrong and it has
//! at least 3 bytes; the payload length is the byte count minus 2. The frame
//! is classified exactly as `protocol::Deframer` does (`TooShort` counts as
//! a SLIP error, as the register map says):
//!
//! * empty frames (END END) are ignored;
//! * a good frame raises `req_valid` with `req_len` and pulses `rx_frame_ok`;
//! * a bad escape (ESC followed by anything but ESC_END / ESC_ESC, or by
//!   END), more than `MAX_FRAME` decoded bytes, or fewer than 3, raises
//!   `req_bad` and pulses `rx_slip_error` (the register map's RX_SLIP_ERRORS:
//!   "bad escape, too long or too short");
//! * a CRC mismatch raises `req_bad` and pulses `rx_crc_error`.
//!
//! `req_valid` / `req_bad` (never both) stay high until the processor
//! pulses `req_done`; together they are "a request is pending". The
//! processor reads the request (payload first, then the two CRC bytes)
//! through `req_rd_addr` → `req_rd_data` with one clock of latency; the
//! buffer is not written while a request is pending. For `req_bad` nothing
//! needs to be read: the processor answers `seq = 0xFF, status = CRC_ERROR`
//! and may pulse `req_done` at once. The processor should pulse `req_done` as soon
//! as it has read the request, not when the answer has gone out.
//!
//! While a request is pending, received bytes are still consumed, but every
//! frame that has any byte while pending is dropped whole (even if the
//! request is done before its END): at its END `rx_slip_error` and
//! `rx_overrun` pulse together, nothing is raised. (The register map has no
//! overrun counter, so such frames count as RX_SLIP_ERRORS; `rx_overrun`
//! tells them apart for whoever wants to.) A host that waits for each
//! answer never causes one; a host retrying after a timeout while the
//! device is still answering does, and gets the original answer.
//!
//! UART framing errors (`rx_error`) are passed through as `rx_uart_error`
//! and do not poison the frame: the dropped byte makes it fail the CRC (or
//! SLIP) check anyway.
//!
//! The receive side takes a byte every clock if offered (no back-pressure).
//! Bytes enter a register stage with their class (END, ESC, ...) decoded, so
//! the decoder works from registers; at the END the frame's length, slip
//! and CRC checks are registered (and the next frame is already skipped if
//! this one will be pending), and a clock later they decide: the verdict
//! pulses and `req_valid` / `req_bad` come three clocks after the END is
//! offered.
//!
//! # Transmit side
//!
//! The processor writes the response payload into the response buffer (512
//! bytes, more than `MAX_PAYLOAD`) through `resp_wr_addr` / `resp_wr_data` /
//! `resp_wr_en`, then pulses `resp_send` with `resp_len` (1 ..= 500; the
//! length is taken as given, a zero-length frame is just the CRC). The link
//! sends END, the SLIP-escaped payload, the SLIP-escaped CRC-16 (big-endian)
//! and END through `tx_data` / `tx_valid` / `tx_ready`, with `resp_busy` high
//! from the `resp_send` edge until the last END has been taken (`tx_frame`
//! pulses when it is queued). `resp_send` while `resp_busy` is ignored. The
//! buffer keeps its contents, so a retry is just another `resp_send`. Do not
//! write the buffer while `resp_busy`. The write port is registered: a byte
//! reaches the RAM a clock after it is offered, so byte 0 (read with
//! `resp_send`) must be offered two clocks before `resp_send` and every
//! other byte at least one clock before; the responder writes byte 0, then
//! byte 1, then sends (`responder.rs`).
//!
//! Writing a CRC_ERROR answer (`FF 05`) into the buffer overwrites the first
//! two bytes of the stored response: to answer a later retry from the
//! buffer, the processor restores them (`command.rs` keeps seq and status
//! in registers for that).
//!
//! The buffer's output is registered once more before it is escaped (the
//! iCE40 block RAM's clock-to-output is slow), and the output register
//! takes a byte only when it is empty, so every byte on the wire takes two
//! clocks: a consumer that is always ready sees a frame of `n` wire bytes in
//! `2 * n - 1` clocks. (The UART takes a byte every `10 * divisor` clocks.)
//!
//! Every output is a register (or the buffer's registered read port), except
//! `resp_busy`, an OR of two registers. `tx_ready` only empties the output
//! register: no decision of the link waits on it (the UART transmitter is in
//! the board's top, across the chip), so there is no combinational path
//! through the link.

use crate::bram::Bram;
use crate::uart::{UartRx, UartTx};
use bloomtime_model::protocol::{
    MAX_FRAME, MAX_PAYLOAD, SLIP_END, SLIP_ESC, SLIP_ESC_END, SLIP_ESC_ESC,
};
use rust_hdl::prelude::*;

// The kernels below use these values as literals.
const _: () = assert!(MAX_FRAME == 502 && MAX_PAYLOAD == 500);
const _: () = assert!(SLIP_END == 0xC0 && SLIP_ESC == 0xDB);
const _: () = assert!(SLIP_ESC_END == 0xDC && SLIP_ESC_ESC == 0xDD);

/// Address bits of the request and response buffers (512 bytes each, one
/// SB_RAM40_4K apiece).
pub const BUF_ADDR: usize = 9;
const _: () = assert!(MAX_FRAME < 1 << BUF_ADDR);

/// One byte of CRC-16/CCITT-FALSE (poly 0x1021, MSB first), as
/// `protocol::crc16` computes it bit by bit.
pub fn crc16_byte(crc: u16, byte: u8) -> u16 {
    let mut x = (crc >> 8) as u8 ^ byte;
    x ^= x >> 4;
    let x = x as u16;
    (crc << 8) ^ (x << 12) ^ (x << 5) ^ x
}

/// A CRC-16 register with its byte update, as a leaf block: a Rust `update`
/// for the simulator (native integer arithmetic, no bignum shifts) and the
/// same formula in Verilog. The register holds the CRC complemented, so its
/// power-up value (0) is the initial CRC 0xFFFF.
///
/// (The register lives inside the leaf so that the kernel that drives `din`
/// only reads registered outputs: a combinational leaf fed and read by one
/// `always @(*)` kernel is a false loop for Verilator, UNOPTFLAT.)
#[derive(LogicBlock, Default)]
pub struct Crc16Reg {
    pub clock: Signal<In, Clock>,
    /// Back to 0xFFFF at the next edge.
    pub clear: Signal<In, Bit>,
    /// Take `din` at the next edge (ignored with `clear`).
    pub en: Signal<In, Bit>,
    pub din: Signal<In, Bits<8>>,
    /// The CRC, high and low byte.
    pub hi: Signal<Out, Bits<8>>,
    pub lo: Signal<Out, Bits<8>>,
    _crc: u16,
}

impl Crc16Reg {
    /// The register (for tests).
    pub fn crc(&self) -> u16 {
        !self._crc
    }
}

impl Logic for Crc16Reg {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            if self.clear.val() {
                self._crc = 0;
            } else if self.en.val() {
                self._crc = !crc16_byte(!self._crc, self.din.val().to_u64() as u8);
            }
        }
        let c = !self._crc;
        self.hi.next = ((c >> 8) as u64).into();
        self.lo.next = ((c & 0xff) as u64).into();
    }
    fn connect(&mut self) {
        self.hi.connect();
        self.lo.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(
            "\
reg [15:0] crc_n;
initial crc_n = 16'd0;
wire [15:0] c = ~crc_n;
wire [7:0] t = c[15:8] ^ din;
wire [7:0] x = t ^ {4'd0, t[7:4]};
wire [15:0] n = {c[7:0], 8'd0} ^ {x[3:0], 12'd0} ^ {3'd0, x, 5'd0} ^ {8'd0, x};
always @(posedge clock) begin
    if (clear) crc_n <= 16'd0;
    else if (en) crc_n <= ~n;
end
always @(*) begin
    hi = c[15:8];
    lo = c[7:0];
end
"
            .into(),
        )
    }
    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "crc16_reg".into(),
            clock: "clock".into(),
            inputs: vec!["clear".into(), "en".into(), "din".into()],
            outputs: vec!["hi".into(), "lo".into()],
        }]
    }
}

/// The frame layer (module docs).
#[derive(LogicBlock, Default)]
pub struct Link {
    pub clock: Signal<In, Clock>,

    // ---- from the UART receiver ----
    pub rx_data: Signal<In, Bits<8>>,
    /// A byte (one clock per byte).
    pub rx_valid: Signal<In, Bit>,
    /// A UART framing error (passed through as `rx_uart_error`).
    pub rx_error: Signal<In, Bit>,

    // ---- to the UART transmitter ----
    pub tx_data: Signal<Out, Bits<8>>,
    pub tx_valid: Signal<Out, Bit>,
    /// The byte is taken at an edge where `tx_valid` and `tx_ready` are high.
    pub tx_ready: Signal<In, Bit>,

    // ---- request (to the processor) ----
    /// A good request is pending; `req_len` is its payload length.
    pub req_valid: Signal<Out, Bit>,
    /// A bad frame is pending (answer CRC_ERROR).
    pub req_bad: Signal<Out, Bit>,
    /// Payload bytes of the pending good request (1 ..= 500).
    pub req_len: Signal<Out, Bits<BUF_ADDR>>,
    /// Request buffer read address; `req_rd_data` one clock later.
    pub req_rd_addr: Signal<In, Bits<BUF_ADDR>>,
    pub req_rd_data: Signal<Out, Bits<8>>,
    /// One-clock pulse: the pending request is handled (clears `req_valid`
    /// and `req_bad`).
    pub req_done: Signal<In, Bit>,

    // ---- response (from the processor) ----
    pub resp_wr_addr: Signal<In, Bits<BUF_ADDR>>,
    pub resp_wr_data: Signal<In, Bits<8>>,
    pub resp_wr_en: Signal<In, Bit>,
    /// One-clock pulse: send the first `resp_len` bytes of the buffer.
    pub resp_send: Signal<In, Bit>,
    pub resp_len: Signal<In, Bits<BUF_ADDR>>,
    /// A response is being sent.
    pub resp_busy: Signal<Out, Bit>,

    // ---- counter pulses (one clock each) ----
    /// A good request frame (RX_FRAMES).
    pub rx_frame_ok: Signal<Out, Bit>,
    /// A frame with a CRC mismatch (RX_CRC_ERRORS).
    pub rx_crc_error: Signal<Out, Bit>,
    /// A frame with a bad escape, too long, too short, or dropped because a
    /// request was pending (RX_SLIP_ERRORS).
    pub rx_slip_error: Signal<Out, Bit>,
    /// With `rx_slip_error`: the frame was dropped because a request was
    /// pending.
    pub rx_overrun: Signal<Out, Bit>,
    /// A UART framing error (RX_UART_ERRORS).
    pub rx_uart_error: Signal<Out, Bit>,
    /// A response frame was sent (TX_FRAMES).
    pub tx_frame: Signal<Out, Bit>,

    // ---- receive side ----
    req_mem: Bram<Bits<8>, BUF_ADDR>,
    /// Running CRC of the frame's decoded bytes.
    rx_crc: Crc16Reg,
    /// After ESC.
    esc: DFF<Bit>,
    /// The frame is bad (bad escape or too long); its bytes are ignored.
    sbad: DFF<Bit>,
    /// The frame had a byte while a request was pending.
    ovr: DFF<Bit>,
    /// Decoded bytes of the frame so far (at most 502).
    len: DFF<Bits<BUF_ADDR>>,
    pend_ok: DFF<Bit>,
    pend_bad: DFF<Bit>,
    /// A frame ended into a pending request, good or bad: set at its END,
    /// where the next frame starts being skipped; which one it is
    /// (`pend_ok` or `pend_bad`) is decided a clock later, from `fin_r` and
    /// what the END's clock registered (`slip_r`, `crc_r`).
    pend: DFF<Bit>,
    fin_r: DFF<Bit>,
    slip_r: DFF<Bit>,
    crc_r: DFF<Bit>,
    plen: DFF<Bits<BUF_ADDR>>,
    p_ok: DFF<Bit>,
    p_crc: DFF<Bit>,
    p_slip: DFF<Bit>,
    p_ovr: DFF<Bit>,
    p_uart: DFF<Bit>,
    /// Input stage: the byte, and whether it is END, ESC, ESC_END, ESC_ESC.
    iv: DFF<Bit>,
    idat: DFF<Bits<8>>,
    b_end: DFF<Bit>,
    b_esc: DFF<Bit>,
    b_dc: DFF<Bit>,
    b_dd: DFF<Bit>,
    // combinational
    /// A request is pending, or the frame already overlapped one.
    skip: Signal<Local, Bit>,
    /// The decoded byte.
    dec: Signal<Local, Bits<8>>,
    /// A decoded byte for the frame (before the length check).
    put: Signal<Local, Bit>,
    /// ... and it is stored.
    wr: Signal<Local, Bit>,
    /// END of a frame with content.
    fin: Signal<Local, Bit>,
    /// Fewer than 3 bytes.
    short: Signal<Local, Bit>,
    /// ... which is a slip error, or has a bad CRC.
    f_slip: Signal<Local, Bit>,
    f_crc: Signal<Local, Bit>,

    // ---- transmit side ----
    resp_mem: Bram<Bits<8>, BUF_ADDR>,
    /// The buffer's write port, registered: the processor's four writers
    /// and their strobes reach the RAM a clock later, from registers here.
    wr_addr_r: DFF<Bits<BUF_ADDR>>,
    wr_data_r: DFF<Bits<8>>,
    wr_en_r: DFF<Bit>,
    /// CRC of the payload bytes queued so far.
    tx_crc: Crc16Reg,
    /// Sending a frame (until the last END is queued).
    run: DFF<Bit>,
    /// Source: 0 payload, 1 CRC high, 2 CRC low, 3 the closing END.
    ph: DFF<Bits<2>>,
    /// Index of the next payload byte.
    idx: DFF<Bits<BUF_ADDR>>,
    /// The buffer's output, registered: byte `idx` unless `stale`.
    rd: DFF<Bits<8>>,
    /// `idx` moved at the last edge, `rd` is not its byte yet.
    stale: DFF<Bit>,
    /// Payload bytes not yet queued.
    left: DFF<Bits<BUF_ADDR>>,
    /// The second byte of an escape is due: ESC_ESC (1) or ESC_END (0).
    e_pend: DFF<Bit>,
    e_esc: DFF<Bit>,
    /// Output register.
    o_valid: DFF<Bit>,
    o_data: DFF<Bits<8>>,
    p_tx: DFF<Bit>,
    // combinational
    /// The output register is free at the next edge.
    can: Signal<Local, Bit>,
    /// Start a frame.
    go: Signal<Local, Bit>,
    /// Queue a byte this clock.
    ld: Signal<Local, Bit>,
    /// The raw (unescaped) byte of the current source.
    src: Signal<Local, Bits<8>>,
    /// ... is END, ESC.
    s_end: Signal<Local, Bit>,
    s_esc: Signal<Local, Bit>,
    /// The source advances (a raw byte is consumed).
    adv: Signal<Local, Bit>,
    /// ... a payload byte.
    adv_p: Signal<Local, Bit>,
    /// The buffer read address: `idx` as it will be after this edge.
    idx_n: Signal<Local, Bits<BUF_ADDR>>,
}

impl Logic for Link {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, iv, idat, b_end, b_esc, b_dc, b_dd, esc, sbad, ovr, len, pend_ok,
            pend_bad, pend, fin_r, slip_r, crc_r, plen, p_ok, p_crc, p_slip, p_ovr, p_uart, run,
            ph, idx, rd, stale, left, e_pend, e_esc, o_valid, o_data, p_tx, wr_addr_r, wr_data_r,
            wr_en_r
        );
        self.req_mem.clock.next = self.clock.val();
        self.resp_mem.clock.next = self.clock.val();
        self.rx_crc.clock.next = self.clock.val();
        self.tx_crc.clock.next = self.clock.val();

        // ================= receive =================
        // The byte and its class, registered.
        self.iv.d.next = self.rx_valid.val();
        self.idat.d.next = self.rx_data.val();
        self.b_end.d.next = self.rx_data.val() == 0xC0;
        self.b_esc.d.next = self.rx_data.val() == 0xDB;
        self.b_dc.d.next = self.rx_data.val() == 0xDC;
        self.b_dd.d.next = self.rx_data.val() == 0xDD;
        self.skip.next = self.pend.q.val() || self.ovr.q.val();
        self.dec.next = self.idat.q.val();
        if self.esc.q.val() {
            self.dec.next = 0xDB.into();
            if self.b_dc.q.val() {
                self.dec.next = 0xC0.into();
            }
        }
        self.put.next = self.iv.q.val()
            && !self.b_end.q.val()
            && !self.skip.val()
            && !self.sbad.q.val()
            && ((self.esc.q.val() && (self.b_dc.q.val() || self.b_dd.q.val()))
                || (!self.esc.q.val() && !self.b_esc.q.val()));
        self.wr.next = self.put.val() && self.len.q.val() != 502;

        self.rx_crc.din.next = self.dec.val();
        self.rx_crc.en.next = self.wr.val();
        self.rx_crc.clear.next = self.iv.q.val() && self.b_end.q.val();
        self.req_mem.write_address.next = self.len.q.val();
        self.req_mem.write_data.next = self.dec.val();
        self.req_mem.write_enable.next = self.wr.val();
        self.req_mem.read_address.next = self.req_rd_addr.val();

        self.fin.next = self.iv.q.val()
            && self.b_end.q.val()
            && (self.len.q.val().any()
                || self.sbad.q.val()
                || self.esc.q.val()
                || self.ovr.q.val());
        // len < 3, as gates (a compare becomes a carry chain).
        self.short.next = !((self.len.q.val() & 0x1fc).any()
            || (self.len.q.val().get_bit(1) && self.len.q.val().get_bit(0)));
        self.f_slip.next = self.sbad.q.val() || self.esc.q.val() || self.short.val();
        self.f_crc.next = self.rx_crc.hi.val().any() || self.rx_crc.lo.val().any();

        self.p_ok.d.next = false;
        self.p_crc.d.next = false;
        self.p_slip.d.next = false;
        self.p_ovr.d.next = false;
        self.p_uart.d.next = self.rx_error.val();

        if self.req_done.val() {
            self.pend_ok.d.next = false;
            self.pend_bad.d.next = false;
            self.pend.d.next = false;
        }
        if self.iv.q.val() {
            if self.b_end.q.val() {
                self.esc.d.next = false;
                self.sbad.d.next = false;
                self.ovr.d.next = false;
                self.len.d.next = 0.into();
            } else if self.skip.val() {
                self.ovr.d.next = true;
            } else if !self.sbad.q.val() {
                if self.esc.q.val() {
                    self.esc.d.next = false;
                    if !(self.b_dc.q.val() || self.b_dd.q.val()) {
                        self.sbad.d.next = true;
                    }
                } else if self.b_esc.q.val() {
                    self.esc.d.next = true;
                }
                if self.put.val() {
                    if self.wr.val() {
                        self.len.d.next = self.len.q.val() + 1;
                    } else {
                        // More than MAX_FRAME bytes.
                        self.sbad.d.next = true;
                    }
                }
            }
        }
        self.fin_r.d.next = false;
        if self.fin.val() {
            self.slip_r.d.next = self.f_slip.val();
            self.crc_r.d.next = self.f_crc.val();
            if self.skip.val() {
                self.p_slip.d.next = true;
                self.p_ovr.d.next = true;
            } else {
                self.pend.d.next = true;
                self.fin_r.d.next = true;
                self.plen.d.next = self.len.q.val() - 2;
            }
        }
        if self.fin_r.q.val() {
            if self.slip_r.q.val() {
                self.p_slip.d.next = true;
                self.pend_bad.d.next = true;
            } else if self.crc_r.q.val() {
                self.p_crc.d.next = true;
                self.pend_bad.d.next = true;
            } else {
                self.p_ok.d.next = true;
                self.pend_ok.d.next = true;
            }
        }

        self.req_valid.next = self.pend_ok.q.val();
        self.req_bad.next = self.pend_bad.q.val();
        self.req_len.next = self.plen.q.val();
        self.req_rd_data.next = self.req_mem.read_data.val();
        self.rx_frame_ok.next = self.p_ok.q.val();
        self.rx_crc_error.next = self.p_crc.q.val();
        self.rx_slip_error.next = self.p_slip.q.val();
        self.rx_overrun.next = self.p_ovr.q.val();
        self.rx_uart_error.next = self.p_uart.q.val();

        // ================= transmit =================
        self.wr_addr_r.d.next = self.resp_wr_addr.val();
        self.wr_data_r.d.next = self.resp_wr_data.val();
        self.wr_en_r.d.next = self.resp_wr_en.val();
        self.resp_mem.write_address.next = self.wr_addr_r.q.val();
        self.resp_mem.write_data.next = self.wr_data_r.q.val();
        self.resp_mem.write_enable.next = self.wr_en_r.q.val();

        // The output register is empty (not "empty or being taken": keeps
        // tx_ready off every decision below).
        self.can.next = !self.o_valid.q.val();
        self.go.next = self.resp_send.val() && !self.run.q.val() && !self.o_valid.q.val();
        // (The second byte of an escape needs no source byte.)
        self.ld.next =
            self.run.q.val() && self.can.val() && (!self.stale.q.val() || self.e_pend.q.val());
        self.src.next = self.rd.q.val();
        if self.ph.q.val() == 1 {
            self.src.next = self.tx_crc.hi.val();
        }
        if self.ph.q.val() == 2 {
            self.src.next = self.tx_crc.lo.val();
        }
        self.s_end.next = self.src.val() == 0xC0;
        self.s_esc.next = self.src.val() == 0xDB;
        self.adv.next = self.ld.val() && !self.e_pend.q.val() && self.ph.q.val() != 3;
        self.adv_p.next = self.adv.val() && self.ph.q.val() == 0;
        self.idx_n.next = self.idx.q.val();
        if self.adv_p.val() {
            self.idx_n.next = self.idx.q.val() + 1;
        }
        if self.go.val() {
            self.idx_n.next = 0.into();
        }
        self.resp_mem.read_address.next = self.idx_n.val();
        self.idx.d.next = self.idx_n.val();
        self.rd.d.next = self.resp_mem.read_data.val();
        self.stale.d.next = self.adv_p.val() || self.go.val();

        self.tx_crc.din.next = self.src.val();
        self.tx_crc.en.next = self.adv_p.val();
        self.tx_crc.clear.next = self.go.val();

        self.p_tx.d.next = false;
        if self.o_valid.q.val() && self.tx_ready.val() {
            self.o_valid.d.next = false;
        }
        if self.go.val() {
            self.run.d.next = true;
            self.o_valid.d.next = true;
            self.o_data.d.next = 0xC0.into();
            self.left.d.next = self.resp_len.val();
            self.ph.d.next = 0.into();
            if !self.resp_len.val().any() {
                self.ph.d.next = 1.into();
            }
            self.e_pend.d.next = false;
        }
        if self.ld.val() {
            self.o_valid.d.next = true;
            if self.e_pend.q.val() {
                self.e_pend.d.next = false;
                self.o_data.d.next = 0xDC.into();
                if self.e_esc.q.val() {
                    self.o_data.d.next = 0xDD.into();
                }
            } else if self.ph.q.val() == 3 {
                self.o_data.d.next = 0xC0.into();
                self.run.d.next = false;
                self.p_tx.d.next = true;
            } else {
                // END and ESC go out as ESC, then ESC_END / ESC_ESC.
                self.o_data.d.next = self.src.val();
                if self.s_end.val() {
                    self.o_data.d.next = 0xDB.into();
                }
                self.e_pend.d.next = self.s_end.val() || self.s_esc.val();
                self.e_esc.d.next = self.s_esc.val();
            }
        }
        if self.adv.val() {
            if self.ph.q.val() == 0 {
                self.left.d.next = self.left.q.val() - 1;
                if self.left.q.val() == 1 {
                    self.ph.d.next = 1.into();
                }
            } else {
                self.ph.d.next = self.ph.q.val() + 1;
            }
        }

        self.tx_data.next = self.o_data.q.val();
        self.tx_valid.next = self.o_valid.q.val();
        self.resp_busy.next = self.run.q.val() || self.o_valid.q.val();
        self.tx_frame.next = self.p_tx.q.val();
    }
}

crate::impl_clocked!(Link);

/// UartRx → [`Link`] → UartTx, with the link's processor ports and counter
/// pulses brought out (see [`Link`] for their meaning).
#[derive(LogicBlock)]
pub struct UartLink {
    pub clock: Signal<In, Clock>,
    /// Serial input (from the FTDI chip's TXD).
    pub rx: Signal<In, Bit>,
    /// Serial output (to the FTDI chip's RXD).
    pub tx: Signal<Out, Bit>,
    /// A character is being received (activity).
    pub rx_busy: Signal<Out, Bit>,
    /// A character is on the tx line (`resp_busy` drops when the last END
    /// is handed to the transmitter; this one when it has left).
    pub tx_busy: Signal<Out, Bit>,

    pub req_valid: Signal<Out, Bit>,
    pub req_bad: Signal<Out, Bit>,
    pub req_len: Signal<Out, Bits<BUF_ADDR>>,
    pub req_rd_addr: Signal<In, Bits<BUF_ADDR>>,
    pub req_rd_data: Signal<Out, Bits<8>>,
    pub req_done: Signal<In, Bit>,
    pub resp_wr_addr: Signal<In, Bits<BUF_ADDR>>,
    pub resp_wr_data: Signal<In, Bits<8>>,
    pub resp_wr_en: Signal<In, Bit>,
    pub resp_send: Signal<In, Bit>,
    pub resp_len: Signal<In, Bits<BUF_ADDR>>,
    pub resp_busy: Signal<Out, Bit>,
    pub rx_frame_ok: Signal<Out, Bit>,
    pub rx_crc_error: Signal<Out, Bit>,
    pub rx_slip_error: Signal<Out, Bit>,
    pub rx_overrun: Signal<Out, Bit>,
    pub rx_uart_error: Signal<Out, Bit>,
    pub tx_frame: Signal<Out, Bit>,

    pub urx: UartRx,
    pub link: Link,
    pub utx: UartTx,
}

impl UartLink {
    /// The link at `baud` on a `clock_hz` clock.
    pub fn new(clock_hz: u64, baud: u64) -> Self {
        Self::from_parts(UartRx::new(clock_hz, baud), UartTx::new(clock_hz, baud))
    }

    /// The link with `divisor` clocks a bit (at least 8).
    pub fn with_divisor(divisor: u32) -> Self {
        Self::from_parts(UartRx::with_divisor(divisor), UartTx::with_divisor(divisor))
    }

    fn from_parts(urx: UartRx, utx: UartTx) -> Self {
        Self {
            clock: Default::default(),
            rx: Default::default(),
            tx: Default::default(),
            rx_busy: Default::default(),
            tx_busy: Default::default(),
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
            rx_frame_ok: Default::default(),
            rx_crc_error: Default::default(),
            rx_slip_error: Default::default(),
            rx_overrun: Default::default(),
            rx_uart_error: Default::default(),
            tx_frame: Default::default(),
            urx,
            link: Link::default(),
            utx,
        }
    }
}

impl Default for UartLink {
    /// 100 MHz, 1 Mbaud.
    fn default() -> Self {
        Self::new(100_000_000, 1_000_000)
    }
}

impl Logic for UartLink {
    #[hdl_gen]
    fn update(&mut self) {
        self.urx.clock.next = self.clock.val();
        self.link.clock.next = self.clock.val();
        self.utx.clock.next = self.clock.val();

        self.urx.rx.next = self.rx.val();
        self.link.rx_data.next = self.urx.data.val();
        self.link.rx_valid.next = self.urx.valid.val();
        self.link.rx_error.next = self.urx.framing_error.val();

        self.utx.data.next = self.link.tx_data.val();
        self.utx.valid.next = self.link.tx_valid.val();
        self.link.tx_ready.next = self.utx.ready.val();
        self.tx.next = self.utx.tx.val();
        self.rx_busy.next = self.urx.busy.val();
        self.tx_busy.next = self.utx.busy.val();

        self.link.req_rd_addr.next = self.req_rd_addr.val();
        self.link.req_done.next = self.req_done.val();
        self.link.resp_wr_addr.next = self.resp_wr_addr.val();
        self.link.resp_wr_data.next = self.resp_wr_data.val();
        self.link.resp_wr_en.next = self.resp_wr_en.val();
        self.link.resp_send.next = self.resp_send.val();
        self.link.resp_len.next = self.resp_len.val();

        self.req_valid.next = self.link.req_valid.val();
        self.req_bad.next = self.link.req_bad.val();
        self.req_len.next = self.link.req_len.val();
        self.req_rd_data.next = self.link.req_rd_data.val();
        self.resp_busy.next = self.link.resp_busy.val();
        self.rx_frame_ok.next = self.link.rx_frame_ok.val();
        self.rx_crc_error.next = self.link.rx_crc_error.val();
        self.rx_slip_error.next = self.link.rx_slip_error.val();
        self.rx_overrun.next = self.link.rx_overrun.val();
        self.rx_uart_error.next = self.link.rx_uart_error.val();
        self.tx_frame.next = self.link.tx_frame.val();
    }
}

crate::impl_clocked!(UartLink);
