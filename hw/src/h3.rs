//! A constant binary matrix (H3 hash): output bit `j` is the parity of the
//! input AND column `j`. The columns come from `bloomtime_model::hash`, the
//! one definition of every hash.

use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct H3<const I: usize, const O: usize> {
    pub x: Signal<In, Bits<I>>,
    pub h: Signal<Out, Bits<O>>,
    _cols: Vec<u64>,
}

impl<const I: usize, const O: usize> H3<I, O> {
    /// The matrix with the given rows (row `i` is selected by input bit `i`).
    pub fn new(rows: &[u64]) -> Self {
        assert!(I <= 64 && O <= 64 && rows.len() == I);
        let cols = (0..O as u32)
            .map(|j| bloomtime_model::hash::column(rows, j))
            .collect();
        Self {
            x: Default::default(),
            h: Default::default(),
            _cols: cols,
        }
    }
}

impl<const I: usize, const O: usize> Logic for H3<I, O> {
    fn update(&mut self) {
        let x = self.x.val().to_u64();
        let mut h = 0u64;
        for (j, c) in self._cols.iter().enumerate() {
            h |= (((x & c).count_ones() & 1) as u64) << j;
        }
        self.h.next = h.into();
    }

    fn connect(&mut self) {
        self.h.connect();
    }

    fn hdl(&self) -> Verilog {
        let mut s = String::from("always @(*) begin\n");
        for (j, c) in self._cols.iter().enumerate() {
            s += &format!("    h[{j}] = ^(x & {I}'h{c:x});\n");
        }
        s += "end\n";
        Verilog::Custom(s)
    }
}
