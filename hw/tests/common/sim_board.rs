//! The board without its UART (`BoardCore`) in the rust-hdl simulation,
//! as a host transport: bytes in one per clock, bytes out as sent.

use bloomtime_host::device::Transport;
use bloomtime_hw::board::BoardCore;
use bloomtime_hw::util::Stepper;
use std::collections::VecDeque;
use std::io;
use std::time::Duration;

/// The board as a transport: bytes in one per clock, bytes out as sent.
pub struct SimBoard {
    pub st: Stepper<BoardCore>,
    pub rx: VecDeque<u8>,
    pub tx: VecDeque<u8>,
    /// Clocks one `read` may run before it reports a timeout.
    pub budget: u64,
    /// Press the reset button for the next clock.
    pub press_reset: bool,
}

impl SimBoard {
    pub fn new() -> Self {
        SimBoard {
            st: Stepper::new(BoardCore::new(100_000_000, 1_000_000), None),
            rx: VecDeque::new(),
            tx: VecDeque::new(),
            budget: 400_000,
            press_reset: false,
        }
    }

    pub fn cycle(&mut self) {
        let u = &mut self.st.uut;
        match self.rx.pop_front() {
            Some(b) => {
                u.rx_valid.next = true;
                u.rx_data.next = (b as u64).into();
            }
            None => u.rx_valid.next = false,
        }
        u.rx_error.next = false;
        u.tx_ready.next = true;
        u.reset_req.next = std::mem::take(&mut self.press_reset);
        self.st.settle();
        if let Some(m) = self.st.uut.cp.ctl_flags_mismatch() {
            panic!("clock {}: {m}", self.st.cycle);
        }
        if let Some(m) = self.st.uut.core.decode_mismatch() {
            panic!("clock {}: core: {m}", self.st.cycle);
        }
        // The parser is built for a source that waits while a record does
        // (`FrameParser::for_waiting_source`): the replay feed must.
        let parser = &self.st.uut.parser;
        if parser.s_valid.val() && parser.m_valid.val() {
            panic!(
                "clock {}: the replay feed offers a byte while the parser's record waits",
                self.st.cycle
            );
        }
        if self.st.uut.tx_valid.val() {
            self.tx.push_back(self.st.uut.tx_data.val().to_u64() as u8);
        }
        self.st.tick();
    }
}

impl Transport for SimBoard {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.rx.extend(bytes);
        Ok(())
    }
    fn read(&mut self, buf: &mut [u8], _timeout: Duration) -> io::Result<usize> {
        let mut n = 0;
        while self.tx.is_empty() && n < self.budget {
            self.cycle();
            n += 1;
        }
        // Let a burst finish so reads return whole answers more often.
        for _ in 0..64 {
            self.cycle();
        }
        let k = buf.len().min(self.tx.len());
        for b in buf.iter_mut().take(k) {
            *b = self.tx.pop_front().unwrap();
        }
        Ok(k)
    }
    fn clear_input(&mut self) -> io::Result<()> {
        self.tx.clear();
        Ok(())
    }
    fn name(&self) -> &str {
        "rust-hdl BoardCore"
    }
}
