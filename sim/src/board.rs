//! The virtual board: the Verilated `BoardTop` (the bitstream's top, UART
//! included) with a bit-level model of the host's side of the serial line.
//!
//! * Host to board: bytes are sent 8N1, LSB first, back to back, each bit
//!   held on `uart_rx` for exactly the board's divisor of clocks (what an
//!   FTDI chip at the same baud rate does, without its clock mismatch).
//! * Board to host: `uart_tx` is watched clock by clock; a falling edge on
//!   the idle line starts a character, whose bits are sampled at their
//!   centres. A low stop bit is a framing error (counted, the byte is
//!   dropped, the line must go high before the next start bit).
//!
//! The model is run with [`Model::run_until_change`]: many clocks per
//! call, returning only when the board's outputs change (an edge on
//! `uart_tx`, an LED) or when the host's bit ends.
//!
//! **Time.** The board's clock runs while the link is active (a byte on
//! either line) and for [`GRACE_CYCLES`] after (more, [`GRACE_BUSY_CYCLES`],
//! while a flush or clear runs: LED 6), then stops until the host sends
//! again: an idle virtual board costs no CPU. Its uptime and the live-mode
//! timestamps therefore count simulated clocks, not wall time. No command
//! takes longer than the grace to start its answer; a FLUSH exports while
//! the host drains, as on the board.

use crate::models::{hw, Board1mIn, Board1mOut, Board1mTop, BoardIn, BoardOut, BoardTop};
use crate::{Model, Top};
use bloomtime_host::device::pty::ByteDevice;
use std::collections::VecDeque;

/// Clocks the board keeps running after the last link activity.
pub const GRACE_CYCLES: u64 = 1 << 17;
/// The same while the core is busy with a flush or a clear (LED 6).
pub const GRACE_BUSY_CYCLES: u64 = 1 << 20;
/// Clocks one [`ByteDevice::advance`] slice runs at most: the server looks
/// for the host's bytes between slices, so this bounds the latency a
/// request waits before it goes on the line (2048 clocks: ~1.7 ms at the
/// board model's ~1.2 M clocks/s; a poll between slices costs next to
/// nothing in comparison).
pub const SLICE_CYCLES: u64 = 1 << 11;
/// LED 6: a flush or clear is running (`hw/src/board.rs`).
const LED_BUSY: u64 = 1 << 6;

/// A Verilated board top: the ports every baud-rate variant shares.
pub trait BoardModel: Top {
    /// What INFO reports (the values the Verilog was generated with).
    const CLOCK_HZ: u32;
    const BAUD: u32;
    /// Clocks a bit.
    const DIVISOR: u32;
    /// The inputs: reset button released, `uart_rx` at `line`.
    fn inputs(line: bool) -> Self::In;
    fn uart_tx(o: &Self::Out) -> bool;
    fn leds(o: &Self::Out) -> u64;
}

macro_rules! board_model {
    ($top:ty, $in:ident, $out:ty, $baud:expr, $div:expr) => {
        impl BoardModel for $top {
            const CLOCK_HZ: u32 = hw::BOARD_CLOCK_HZ;
            const BAUD: u32 = $baud;
            const DIVISOR: u32 = $div;
            fn inputs(line: bool) -> $in {
                $in {
                    reset_n: 1,
                    uart_rx: line as u64,
                }
            }
            fn uart_tx(o: &$out) -> bool {
                o.uart_tx != 0
            }
            fn leds(o: &$out) -> u64 {
                o.leds
            }
        }
    };
}

board_model!(
    BoardTop,
    BoardIn,
    BoardOut,
    hw::BOARD_BAUD,
    hw::BOARD_DIVISOR
);
board_model!(
    Board1mTop,
    Board1mIn,
    Board1mOut,
    hw::BOARD_1M_BAUD,
    hw::BOARD_1M_DIVISOR
);

/// The built board variants: (baud, top name).
pub const BOARDS: &[(u32, &str)] = &[(hw::BOARD_BAUD, "board"), (hw::BOARD_1M_BAUD, "board_1m")];

/// The host's transmitter: bytes to `uart_rx`.
#[derive(Debug)]
struct HostTx {
    divisor: u64,
    queue: VecDeque<u8>,
    /// The character on the line: start bit, 8 data bits, stop bit (LSB first).
    frame: u16,
    /// Bit on the line (0..10); 10: idle.
    bit: u32,
    /// Clocks left of that bit.
    left: u64,
}

impl HostTx {
    fn new(divisor: u32) -> HostTx {
        HostTx {
            divisor: divisor as u64,
            queue: VecDeque::new(),
            frame: 0,
            bit: 10,
            left: 0,
        }
    }
    fn busy(&self) -> bool {
        self.bit < 10 || !self.queue.is_empty()
    }
    /// Start the next queued byte if the line is idle.
    fn load(&mut self) {
        if self.bit >= 10 {
            if let Some(b) = self.queue.pop_front() {
                self.frame = (b as u16) << 1 | 1 << 9;
                self.bit = 0;
                self.left = self.divisor;
            }
        }
    }
    fn line(&self) -> bool {
        self.bit >= 10 || (self.frame >> self.bit) & 1 == 1
    }
    /// Clocks until the line may change (`u64::MAX` while idle).
    fn until_change(&self) -> u64 {
        if self.bit < 10 {
            self.left
        } else {
            u64::MAX
        }
    }
    /// `n` clocks passed (at most `until_change`).
    fn advance(&mut self, n: u64) {
        if self.bit < 10 {
            self.left -= n;
            if self.left == 0 {
                self.bit += 1;
                self.left = self.divisor;
                // The stop bit's last clock passed: the next byte follows at once.
                self.load();
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RxState {
    Idle,
    /// After a framing error: waiting for the line to go high.
    Hold,
    /// Receiving a character that started (line low) at clock `start`;
    /// `k` bits sampled so far (0: start bit).
    Bits {
        start: u64,
        k: u64,
        byte: u8,
    },
}

/// The host's receiver: bytes from `uart_tx`.
#[derive(Debug)]
struct HostRx {
    divisor: u64,
    state: RxState,
    framing_errors: u64,
}

impl HostRx {
    fn new(divisor: u32) -> HostRx {
        HostRx {
            divisor: divisor as u64,
            state: RxState::Idle,
            framing_errors: 0,
        }
    }

    fn receiving(&self) -> bool {
        matches!(self.state, RxState::Bits { .. })
    }

    /// The line was `line` during clocks `from..to` (consecutive calls
    /// cover consecutive ranges); received bytes are appended to `out`.
    fn line(&mut self, line: bool, from: u64, to: u64, out: &mut Vec<u8>) {
        let d = self.divisor;
        let mut t = from;
        while t < to {
            match self.state {
                RxState::Idle => {
                    if line {
                        return;
                    }
                    self.state = RxState::Bits {
                        start: t,
                        k: 0,
                        byte: 0,
                    };
                }
                RxState::Hold => {
                    if !line {
                        return;
                    }
                    self.state = RxState::Idle;
                }
                RxState::Bits { start, k, byte } => {
                    let at = start + k * d + d / 2;
                    if at >= to {
                        return;
                    }
                    t = at + 1;
                    self.state = match k {
                        // A start bit that is high again at its centre: a glitch.
                        0 if line => RxState::Idle,
                        1..=8 => RxState::Bits {
                            start,
                            k: k + 1,
                            byte: byte | (line as u8) << (k - 1),
                        },
                        9 if line => {
                            out.push(byte);
                            RxState::Idle
                        }
                        9 => {
                            self.framing_errors += 1;
                            RxState::Hold
                        }
                        _ => RxState::Bits {
                            start,
                            k: k + 1,
                            byte,
                        },
                    };
                }
            }
        }
    }
}

/// What the virtual board did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BoardStats {
    /// Clocks simulated.
    pub cycles: u64,
    /// Bytes given to the host's line (into the board).
    pub bytes_to_board: u64,
    /// Bytes received from the board.
    pub bytes_from_board: u64,
    /// Characters from the board with a low stop bit (never, on a correct board).
    pub framing_errors: u64,
}

/// The Verilated board with the host's end of its serial line.
pub struct BoardSim<T: BoardModel> {
    model: Model<T>,
    out: T::Out,
    tx: HostTx,
    rx: HostRx,
    /// `uart_tx` since clock `since`; clocks before `seen` given to `rx`.
    line: bool,
    seen: u64,
    /// The clock of the last link activity.
    active_at: u64,
    bytes_to_board: u64,
    bytes_from_board: u64,
}

impl<T: BoardModel> Default for BoardSim<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: BoardModel> BoardSim<T> {
    /// A board at power-on, both lines idle.
    pub fn new() -> Self {
        BoardSim {
            model: Model::new(),
            out: T::Out::default(),
            tx: HostTx::new(T::DIVISOR),
            rx: HostRx::new(T::DIVISOR),
            line: true,
            seen: 0,
            active_at: 0,
            bytes_to_board: 0,
            bytes_from_board: 0,
        }
    }

    /// Queue bytes to send to the board.
    pub fn send(&mut self, bytes: &[u8]) {
        self.bytes_to_board += bytes.len() as u64;
        self.tx.queue.extend(bytes);
        self.active_at = self.model.cycles();
    }

    /// Clocks simulated.
    pub fn cycles(&self) -> u64 {
        self.model.cycles()
    }

    pub fn stats(&self) -> BoardStats {
        BoardStats {
            cycles: self.model.cycles(),
            bytes_to_board: self.bytes_to_board,
            bytes_from_board: self.bytes_from_board,
            framing_errors: self.rx.framing_errors,
        }
    }

    /// The LEDs (`hw/src/board.rs`).
    pub fn leds(&self) -> u64 {
        T::leds(&self.out)
    }

    /// Bytes waiting to be sent to the board (or on the line).
    pub fn sending(&self) -> bool {
        self.tx.busy()
    }

    /// The link is active, or was within the grace period: the board may
    /// still answer or have work to do.
    pub fn active(&self) -> bool {
        let quiet = self.model.cycles() - self.active_at;
        let grace = if T::leds(&self.out) & LED_BUSY != 0 {
            GRACE_BUSY_CYCLES
        } else {
            GRACE_CYCLES
        };
        self.tx.busy() || self.rx.receiving() || quiet < grace
    }

    /// Run `max` clocks, or fewer: stop once bytes have arrived and the
    /// board's line has then been idle for two characters (the end of an
    /// answer). Received bytes are appended to `out`; returns the clocks run.
    pub fn run(&mut self, max: u64, out: &mut Vec<u8>) -> u64 {
        let d = T::DIVISOR as u64;
        let start = self.model.cycles();
        let end = start + max;
        let got0 = out.len();
        let mut now = start;
        while now < end {
            self.tx.load();
            let mut n = self.tx.until_change().min(end - now);
            if out.len() > got0 {
                // Answer bytes are here: return them once the line rests.
                let rest = self.active_at + 20 * d;
                if now < rest {
                    n = n.min(rest - now);
                } else if !self.rx.receiving() && self.line {
                    break;
                }
            }
            let sending = self.tx.busy();
            let ran = self
                .model
                .run_until_change(&T::inputs(self.tx.line()), n, &mut self.out);
            now += ran;
            if sending {
                self.tx.advance(ran);
                self.active_at = now;
            }
            let line = T::uart_tx(&self.out);
            let before = out.len();
            if line != self.line {
                // The new level is the last clock's.
                let at = now - 1;
                self.rx.line(self.line, self.seen, at, out);
                self.seen = at;
                self.line = line;
                self.active_at = now;
            }
            self.rx.line(self.line, self.seen, now, out);
            self.seen = now;
            self.bytes_from_board += (out.len() - before) as u64;
        }
        now - start
    }
}

impl<T: BoardModel> ByteDevice for BoardSim<T> {
    fn receive(&mut self, bytes: &[u8], _out: &mut Vec<u8>) {
        // The answers come out of `advance`, as the clock runs.
        self.send(bytes);
    }

    fn advance(&mut self, out: &mut Vec<u8>) -> bool {
        if !self.active() {
            return false;
        }
        self.run(SLICE_CYCLES, out);
        self.active()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The receiver on a line drawn by hand: bytes at their bit centres,
    /// a framing error, a glitch, ranges split anywhere.
    #[test]
    fn receiver_decodes_a_drawn_line() {
        let d = 8u64;
        // (level, clocks) runs of the line.
        let mut runs: Vec<(bool, u64)> = vec![(true, 13)];
        let char_runs = |b: u8, stop: bool| {
            let mut v = vec![(false, d)];
            for i in 0..8 {
                v.push(((b >> i) & 1 == 1, d));
            }
            v.push((stop, d));
            v
        };
        runs.extend(char_runs(0xC0, true));
        runs.extend(char_runs(0x5A, true));
        runs.push((true, 30));
        runs.extend(char_runs(0x00, false)); // framing error
        runs.push((true, 3));
        runs.push((false, 2)); // a glitch shorter than half a bit
        runs.push((true, 40));
        runs.extend(char_runs(0xFF, true));
        runs.push((true, 5));
        for split in [1u64, 3, 7, 1000] {
            let mut rx = HostRx::new(d as u32);
            let mut out = Vec::new();
            let mut t = 0;
            for &(level, n) in &runs {
                // Feed the run in pieces of `split` clocks.
                let mut a = t;
                while a < t + n {
                    let b = (a + split).min(t + n);
                    rx.line(level, a, b, &mut out);
                    a = b;
                }
                t += n;
            }
            assert_eq!(out, vec![0xC0, 0x5A, 0xFF], "split {split}");
            assert_eq!(rx.framing_errors, 1, "split {split}");
        }
    }

    #[test]
    fn transmitter_draws_8n1() {
        let mut tx = HostTx::new(4);
        tx.queue.extend([0xA5u8, 0x01]);
        let mut levels = Vec::new();
        for _ in 0..90 {
            tx.load();
            levels.push(tx.line());
            tx.advance(1);
        }
        let bits = |b: u8| {
            let mut v = vec![false];
            v.extend((0..8).map(|i| (b >> i) & 1 == 1));
            v.push(true);
            v.into_iter()
                .flat_map(|x| std::iter::repeat(x).take(4))
                .collect::<Vec<_>>()
        };
        let mut want = bits(0xA5);
        want.extend(bits(0x01));
        want.extend(std::iter::repeat(true).take(10));
        assert_eq!(levels, want);
        assert!(!tx.busy());
    }
}
