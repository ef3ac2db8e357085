//! Simple dual-port block RAM: registered read every clock, write with
//! enable. The Verilog is the pattern yosys maps to SB_RAM40_4K; the
//! simulation model is a `Vec`, so stepping a design with several RAMs stays
//! fast.
//!
//! A read and a write of the same address at the same edge return the old
//! word in simulation and Verilator, and an undefined word on the iCE40. The
//! memory is marked `no_rw_check` so yosys does not spend registers and
//! multiplexers emulating the old-word behaviour: every user of this block
//! forwards the word written at the read's edge (its `w2` register) instead
//! of using what the RAM returned, so the collision value is never used.

use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct Bram<D: Synth, const N: usize> {
    pub clock: Signal<In, Clock>,
    pub read_address: Signal<In, Bits<N>>,
    /// Contents of `read_address` at the previous rising edge.
    pub read_data: Signal<Out, D>,
    pub write_address: Signal<In, Bits<N>>,
    pub write_data: Signal<In, D>,
    pub write_enable: Signal<In, Bit>,
    _mem: Vec<D>,
}

impl<D: Synth, const N: usize> Default for Bram<D, N> {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            read_address: Default::default(),
            read_data: Default::default(),
            write_address: Default::default(),
            write_data: Default::default(),
            write_enable: Default::default(),
            _mem: vec![D::default(); 1 << N],
        }
    }
}

impl<D: Synth, const N: usize> Bram<D, N> {
    /// Contents of a word (for tests).
    pub fn peek(&self, addr: usize) -> D {
        self._mem[addr]
    }
}

impl<D: Synth, const N: usize> Logic for Bram<D, N> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.read_data.next = self._mem[self.read_address.val().index()];
            if self.write_enable.val() {
                self._mem[self.write_address.val().index()] = self.write_data.val();
            }
        }
    }

    fn connect(&mut self) {
        self.read_data.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom(format!(
            "\
(* no_rw_check *)
reg [{dw}:0] mem [0:{depth}];
integer i;
initial begin
    for (i = 0; i <= {depth}; i = i + 1) mem[i] = 0;
end
always @(posedge clock) begin
    read_data <= mem[read_address];
    if (write_enable) mem[write_address] <= write_data;
end
",
            dw = D::BITS - 1,
            depth = (1usize << N) - 1
        ))
    }

    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "bram".into(),
            clock: "clock".into(),
            inputs: vec![
                "read_address".into(),
                "write_address".into(),
                "write_data".into(),
                "write_enable".into(),
            ],
            outputs: vec!["read_data".into()],
        }]
    }
}
