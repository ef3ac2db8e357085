//! 8N1 UART receiver and transmitter for the FTDI link (docs: `model::protocol`).
//!
//! Both run from the system clock with a bit period of `divisor` clocks,
//! fixed at construction by [`UartRx::new`] / [`UartTx::new`] from the clock
//! and the baud rate (100 MHz / 1 Mbaud: 100 clocks a bit). The divisor must
//! fit 16 bits and the resulting baud rate must be within 1 % of the one
//! asked for.
//!
//! * [`UartTx`] works with any divisor from 4 up (4 is the smallest the
//!   tests cover, and the smallest `with_divisor` accepts).
//! * [`UartRx`] needs a divisor of at least 8: it votes 3 samples around the
//!   bit centre and must still land inside the bit with ±2 % baud mismatch
//!   over a 10-bit character.
//!
//! Power-up: every register starts at zero, and both blocks store the line
//! inverted, so zero is the idle (high) line: the transmitter never emits a
//! spurious start bit and the receiver never sees one at configuration.
//!
//! All per-clock logic is shift-free (a counter's sign bit, compares with
//! literals, `get_bit` / `replace_bit` at a 3-bit index), so the blocks are
//! cheap to simulate (UartRx: about 1.2 million clocks a second).

use rust_hdl::prelude::*;

/// Bits of the largest divisor (65535).
pub const DIV_BITS: usize = 16;
/// Bits of the bit-period counters: one more, a sign. They count down to
/// -1, so the end of a period is the counter's top bit, the carry chain's
/// last output, and no compare taps the chain in the middle (a tapped
/// chain is split into LUT hops by the iCE40 placer: 90 MHz instead of
/// 120+).
const CNT_BITS: usize = DIV_BITS + 1;

/// Smallest receiver divisor.
pub const RX_MIN_DIVISOR: u32 = 8;
/// Smallest transmitter divisor (accepted and tested).
pub const TX_MIN_DIVISOR: u32 = 4;

/// The clocks-per-bit divisor for `clock_hz` and `baud`, rounded to the
/// nearest integer. Panics if it is below `min`, does not fit 16 bits, or
/// the baud rate it gives is 1 % or more off `baud`.
pub fn divisor(clock_hz: u64, baud: u64, min: u32) -> u32 {
    assert!(baud > 0, "UART: baud rate 0");
    let d = (clock_hz + baud / 2) / baud;
    assert!(
        d >= min as u64,
        "UART: {clock_hz} Hz / {baud} baud = divisor {d}, below the minimum {min}"
    );
    assert!(
        d < 1 << DIV_BITS,
        "UART: {clock_hz} Hz / {baud} baud = divisor {d}, does not fit {DIV_BITS} bits"
    );
    let actual = clock_hz as f64 / d as f64;
    let err = (actual - baud as f64).abs() / baud as f64;
    assert!(
        err < 0.01,
        "UART: {clock_hz} Hz / divisor {d} = {actual:.0} baud, {:.2} % off {baud}",
        err * 100.0
    );
    d as u32
}

// The kernels test the sign as bit 16.
const _: () = assert!(CNT_BITS == 17);

/// A counter load: the counter is negative `edges` clock edges later.
fn load(edges: u32) -> Constant<Bits<CNT_BITS>> {
    Constant::new(((edges as u64).wrapping_sub(1) & ((1 << CNT_BITS) - 1)).into())
}

/// UART receiver, 8N1, LSB first.
///
/// * `rx` goes through a 2-flip-flop synchronizer, then a 2-stage history;
///   every decision uses the majority of the 3 newest synchronized samples,
///   so an isolated one-clock glitch is never seen at all.
/// * Start: the voted line goes low while idle. The start bit is checked at
///   its centre (`divisor / 2` clocks later); if the line is high again the
///   start was false (a longer glitch) and the receiver goes back to idle.
/// * Data and stop bits are voted at their centres, one `divisor` apart.
/// * At the stop bit's centre the byte is delivered (`valid`, one cycle)
///   and the receiver is idle again at once, half a bit early, so a faster
///   sender's next start bit is not missed. A low stop bit drops the byte
///   and pulses `framing_error` instead; the receiver then waits for the
///   line to be high (idle) before it looks for the next start bit, so a
///   held-low line (break) is one error, not a stream of them.
///
/// The divisor must be at least [`RX_MIN_DIVISOR`]. Latency: `valid` is set
/// at the clock edge `9 * divisor + divisor / 2 + 3` edges after the first
/// edge that samples the start bit low (the stop bit's centre, plus the
/// synchronizer and the vote).
#[derive(LogicBlock)]
pub struct UartRx {
    pub clock: Signal<In, Clock>,
    /// The line (idle high).
    pub rx: Signal<In, Bit>,
    /// The byte, valid with `valid` (it stays until the next byte's first
    /// data bit is sampled).
    pub data: Signal<Out, Bits<8>>,
    /// One-cycle pulse: a byte was received.
    pub valid: Signal<Out, Bit>,
    /// One-cycle pulse: a byte with a low stop bit was dropped.
    pub framing_error: Signal<Out, Bit>,
    /// A character is being received.
    pub busy: Signal<Out, Bit>,

    // ---- registers (line values stored inverted: 1 = low) ----
    /// Synchronizer.
    sy1: DFF<Bit>,
    sy2: DFF<Bit>,
    /// History of `sy2`.
    hi1: DFF<Bit>,
    hi2: DFF<Bit>,
    /// Receiving a character.
    act: DFF<Bit>,
    /// After a framing error: waiting for the line to go high.
    hold: DFF<Bit>,
    /// Clocks to the next sample point, minus two (negative: sample now).
    cnt: DFF<Bits<CNT_BITS>>,
    /// The bit being received: 15 start, 0..7 data, 8 stop.
    bitn: DFF<Bits<4>>,
    /// Data bits, written in place.
    sh: DFF<Bits<8>>,
    vld: DFF<Bit>,
    ferr: DFF<Bit>,

    // ---- combinational ----
    /// Voted line, inverted (1 = low).
    low: Signal<Local, Bit>,
    /// Voted line (1 = high): the sampled bit value.
    smp: Signal<Local, Bit>,
    /// A sample point.
    at: Signal<Local, Bit>,
    idx: Signal<Local, Bits<3>>,

    // ---- constants ----
    ld_bit: Constant<Bits<CNT_BITS>>,
    ld_half: Constant<Bits<CNT_BITS>>,
}

impl UartRx {
    /// A receiver for `baud` on a `clock_hz` clock (see [`divisor`]).
    pub fn new(clock_hz: u64, baud: u64) -> Self {
        Self::with_divisor(divisor(clock_hz, baud, RX_MIN_DIVISOR))
    }

    /// A receiver with `divisor` clocks a bit (at least 8).
    pub fn with_divisor(divisor: u32) -> Self {
        assert!(
            (RX_MIN_DIVISOR..1 << DIV_BITS).contains(&divisor),
            "UartRx: divisor {divisor} outside {RX_MIN_DIVISOR}..65536"
        );
        // The start bit is detected one clock after the first low sample
        // (two of three votes); the vote's middle sample then lags by one.
        // Sampling `divisor / 2` clocks after detection puts the middle
        // sample within half a clock of the centre.
        let half = divisor / 2;
        Self {
            clock: Default::default(),
            rx: Default::default(),
            data: Default::default(),
            valid: Default::default(),
            framing_error: Default::default(),
            busy: Default::default(),
            sy1: Default::default(),
            sy2: Default::default(),
            hi1: Default::default(),
            hi2: Default::default(),
            act: Default::default(),
            hold: Default::default(),
            cnt: Default::default(),
            bitn: Default::default(),
            sh: Default::default(),
            vld: Default::default(),
            ferr: Default::default(),
            low: Default::default(),
            smp: Default::default(),
            at: Default::default(),
            idx: Default::default(),
            ld_bit: load(divisor - 1),
            ld_half: load(half - 1),
        }
    }

    /// Clocks a bit.
    pub fn divisor(&self) -> u32 {
        self.ld_bit.val().to_u64() as u32 + 2
    }
}

impl Default for UartRx {
    /// 100 MHz, 1 Mbaud.
    fn default() -> Self {
        Self::new(100_000_000, 1_000_000)
    }
}

impl Logic for UartRx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, sy1, sy2, hi1, hi2, act, hold, cnt, bitn, sh, vld, ferr);
        self.sy1.d.next = !self.rx.val();
        self.sy2.d.next = self.sy1.q.val();
        self.hi1.d.next = self.sy2.q.val();
        self.hi2.d.next = self.hi1.q.val();
        self.low.next = (self.sy2.q.val() && self.hi1.q.val())
            || (self.sy2.q.val() && self.hi2.q.val())
            || (self.hi1.q.val() && self.hi2.q.val());
        self.smp.next = !self.low.val();
        self.at.next = self.cnt.q.val().get_bit(16);
        self.idx.next = bit_cast::<3, 4>(self.bitn.q.val());
        self.vld.d.next = false;
        self.ferr.d.next = false;
        // The counter always runs (its value only matters while receiving),
        // so the load multiplexer sits after the decrementer's carry chain.
        self.cnt.d.next = self.cnt.q.val() - 1;

        if !self.act.q.val() {
            if self.hold.q.val() {
                if !self.low.val() {
                    self.hold.d.next = false;
                }
            } else if self.low.val() {
                self.act.d.next = true;
                self.cnt.d.next = self.ld_half.val();
                self.bitn.d.next = 15.into();
            }
        } else if self.at.val() {
            self.cnt.d.next = self.ld_bit.val();
            self.bitn.d.next = self.bitn.q.val() + 1;
            if self.bitn.q.val() == 15 {
                // Start bit centre: a high line was a false start.
                if self.smp.val() {
                    self.act.d.next = false;
                }
            } else if self.bitn.q.val() == 8 {
                self.act.d.next = false;
                if self.smp.val() {
                    self.vld.d.next = true;
                } else {
                    self.ferr.d.next = true;
                    self.hold.d.next = true;
                }
            } else {
                self.sh.d.next = self
                    .sh
                    .q
                    .val()
                    .replace_bit(self.idx.val().index(), self.smp.val());
            }
        }

        self.data.next = self.sh.q.val();
        self.valid.next = self.vld.q.val();
        self.framing_error.next = self.ferr.q.val();
        self.busy.next = self.act.q.val();
    }
}

crate::impl_clocked!(UartRx);

/// UART transmitter, 8N1, LSB first, with a `valid` / `ready` byte input.
///
/// A byte is taken at a clock edge where `valid` and `ready` are both high;
/// its start bit begins at that edge. `ready` is high while idle and in the
/// last clock of a stop bit, so bytes offered back to back go out with no
/// gap: exactly `10 * divisor` clocks each. `ready` depends on registers
/// only (never on `valid`).
///
/// Any divisor from [`TX_MIN_DIVISOR`] (4) up works.
#[derive(LogicBlock)]
pub struct UartTx {
    pub clock: Signal<In, Clock>,
    /// The line (idle high).
    pub tx: Signal<Out, Bit>,
    /// The byte to send.
    pub data: Signal<In, Bits<8>>,
    pub valid: Signal<In, Bit>,
    pub ready: Signal<Out, Bit>,
    /// A character is on the line.
    pub busy: Signal<Out, Bit>,

    // ---- registers ----
    /// Sending a character.
    run: DFF<Bit>,
    /// The line, inverted (1 = low).
    txn: DFF<Bit>,
    /// Clocks left in the current bit, minus two (negative: last clock).
    cnt: DFF<Bits<CNT_BITS>>,
    /// The bit on the line: 15 start, 0..7 data, 8 stop.
    bitn: DFF<Bits<4>>,
    sh: DFF<Bits<8>>,
    /// `bitn` is the stop bit (registered with it: `ready` is one gate from
    /// registers).
    stop: DFF<Bit>,

    // ---- combinational ----
    /// Last clock of a bit.
    at: Signal<Local, Bit>,
    /// Last clock of the stop bit, or idle: a new byte may start.
    free: Signal<Local, Bit>,
    /// The next bit.
    nb: Signal<Local, Bits<4>>,
    idx: Signal<Local, Bits<3>>,

    ld_bit: Constant<Bits<CNT_BITS>>,
}

impl UartTx {
    /// A transmitter for `baud` on a `clock_hz` clock (see [`divisor`]).
    pub fn new(clock_hz: u64, baud: u64) -> Self {
        Self::with_divisor(divisor(clock_hz, baud, TX_MIN_DIVISOR))
    }

    /// A transmitter with `divisor` clocks a bit (at least 4 is supported).
    pub fn with_divisor(divisor: u32) -> Self {
        assert!(
            (TX_MIN_DIVISOR..1 << DIV_BITS).contains(&divisor),
            "UartTx: divisor {divisor} outside {TX_MIN_DIVISOR}..65536"
        );
        Self {
            clock: Default::default(),
            tx: Default::default(),
            data: Default::default(),
            valid: Default::default(),
            ready: Default::default(),
            busy: Default::default(),
            run: Default::default(),
            txn: Default::default(),
            cnt: Default::default(),
            bitn: Default::default(),
            sh: Default::default(),
            stop: Default::default(),
            at: Default::default(),
            free: Default::default(),
            nb: Default::default(),
            idx: Default::default(),
            ld_bit: load(divisor - 1),
        }
    }

    /// Clocks a bit.
    pub fn divisor(&self) -> u32 {
        self.ld_bit.val().to_u64() as u32 + 2
    }
}

impl Default for UartTx {
    /// 100 MHz, 1 Mbaud.
    fn default() -> Self {
        Self::new(100_000_000, 1_000_000)
    }
}

impl Logic for UartTx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, run, txn, cnt, bitn, sh, stop);
        self.at.next = self.cnt.q.val().get_bit(16);
        self.free.next = !self.run.q.val() || (self.at.val() && self.stop.q.val());
        self.nb.next = self.bitn.q.val() + 1;
        self.idx.next = bit_cast::<3, 4>(self.nb.val());
        // Always running (see UartRx).
        self.cnt.d.next = self.cnt.q.val() - 1;

        if self.free.val() {
            if self.valid.val() {
                self.run.d.next = true;
                self.sh.d.next = self.data.val();
                self.cnt.d.next = self.ld_bit.val();
                self.bitn.d.next = 15.into();
                self.txn.d.next = true;
            } else {
                self.run.d.next = false;
                self.txn.d.next = false;
            }
        } else if self.at.val() {
            self.cnt.d.next = self.ld_bit.val();
            self.bitn.d.next = self.nb.val();
            if self.nb.val() == 8 {
                self.txn.d.next = false;
            } else {
                self.txn.d.next = !self.sh.q.val().get_bit(self.idx.val().index());
            }
        }

        self.stop.d.next = self.bitn.d.val() == 8;
        self.tx.next = !self.txn.q.val();
        self.ready.next = self.free.val();
        self.busy.next = self.run.q.val();
    }
}

crate::impl_clocked!(UartTx);
