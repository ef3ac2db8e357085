//! Priority encoder: the index of the lowest set bit (the newest bucket) and
//! whether any bit is set. A custom block because `#[hdl_gen]` cannot compute
//! loop-dependent literals; the Verilog is generated from the same width.

use rust_hdl::prelude::*;

#[derive(LogicBlock, Default)]
pub struct LowestSet<const N: usize, const W: usize> {
    pub x: Signal<In, Bits<N>>,
    pub found: Signal<Out, Bit>,
    pub index: Signal<Out, Bits<W>>,
}

impl<const N: usize, const W: usize> Logic for LowestSet<N, W> {
    fn update(&mut self) {
        let x = self.x.val().to_u64();
        self.found.next = x != 0;
        self.index.next = if x == 0 {
            0u64.into()
        } else {
            (x.trailing_zeros() as u64).into()
        };
    }

    fn connect(&mut self) {
        self.found.connect();
        self.index.connect();
    }

    fn hdl(&self) -> Verilog {
        assert!(N <= 64 && (1usize << W) >= N);
        let mut s = String::from("always @(*) begin\n    found = |x;\n    index = 0;\n");
        for i in (0..N).rev() {
            s += &format!("    if (x[{i}]) index = {W}'d{i};\n");
        }
        s += "end\n";
        Verilog::Custom(s)
    }
}
