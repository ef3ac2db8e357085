//! Small combinational leaf blocks written twice: a Rust `update` for the
//! simulator and the equivalent Verilog. They exist because rust-hdl's
//! simulator implements every shift and bit slice through bignums, which made
//! stepping the core ten times slower; these blocks hold all the per-clock
//! bit plumbing of the pipeline. The Verilator co-simulation checks the two
//! views against each other on every trace (`sim/`), and each block has a
//! unit test against the model's definition below.

use crate::consts::*;
use rust_hdl::prelude::*;

/// The address fold of `hash::fold`: `w0 ^ rotl(w1,8) ^ rotl(w2,16) ^
/// rotl(w3,24)` where `w0` is the most significant word (`a3` here).
#[derive(LogicBlock, Default)]
pub struct Fold {
    /// Address words, least significant first.
    pub a0: Signal<In, Bits<32>>,
    pub a1: Signal<In, Bits<32>>,
    pub a2: Signal<In, Bits<32>>,
    pub a3: Signal<In, Bits<32>>,
    pub y: Signal<Out, Bits<32>>,
}

impl Logic for Fold {
    fn update(&mut self) {
        let w = |s: &Signal<In, Bits<32>>| s.val().to_u64() as u32;
        let y = w(&self.a3)
            ^ w(&self.a2).rotate_left(8)
            ^ w(&self.a1).rotate_left(16)
            ^ w(&self.a0).rotate_left(24);
        self.y.next = (y as u64).into();
    }
    fn connect(&mut self) {
        self.y.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(
            "always @(*) y = a3 ^ {a2[23:0], a2[31:24]} ^ {a1[15:0], a1[31:16]} ^ {a0[7:0], a0[31:8]};\n".into(),
        )
    }
}

/// Stage 2 of the hash unit (docs/DESIGN.md §3): endpoint hashes, the
/// symmetric conversation hash and the flow hash, sliced into bank lines,
/// slot and fingerprint.
#[derive(LogicBlock, Default)]
pub struct HashCombine {
    /// `Fa(fold(src))`, `Fa(fold(dst))`, `Fp(sport)`, `Fp(dport)`, `P`.
    pub fa_s: Signal<In, Bits<32>>,
    pub fa_d: Signal<In, Bits<32>>,
    pub fp_s: Signal<In, Bits<32>>,
    pub fp_d: Signal<In, Bits<32>>,
    pub p: Signal<In, Bits<32>>,
    /// Echo: the conversation uses the identifier as both ports.
    pub echo: Signal<In, Bit>,
    pub line0: Signal<Out, Bits<LINE_ADDR>>,
    pub slot: Signal<Out, Bits<SLOT_ADDR>>,
    pub fp: Signal<Out, Bits<FP_BITS>>,
}

const _: () = assert!(LINE_ADDR <= 32 && SLOT_ADDR + FP_BITS <= 32 && K == 1);

/// The Rust view of [`HashCombine`]: (line0, slot, fingerprint).
pub fn hash_combine(
    fa_s: u32,
    fa_d: u32,
    fp_s: u32,
    fp_d: u32,
    p: u32,
    echo: bool,
) -> (u32, u32, u32) {
    let es = fa_s ^ fp_s;
    let ed = fa_d ^ if echo { fp_s } else { fp_d };
    let gd = fa_d ^ fp_d;
    let conv = es.wrapping_add(ed) ^ p;
    let flow = es.wrapping_add(gd.wrapping_mul(2)) ^ p;
    let mask = |bits: usize| ((1u64 << bits) - 1) as u32;
    (
        conv & mask(LINE_ADDR),
        flow & mask(SLOT_ADDR),
        (flow >> SLOT_ADDR) & mask(FP_BITS),
    )
}

impl Logic for HashCombine {
    fn update(&mut self) {
        let v = |s: &Signal<In, Bits<32>>| s.val().to_u64() as u32;
        let (l0, s, f) = hash_combine(
            v(&self.fa_s),
            v(&self.fa_d),
            v(&self.fp_s),
            v(&self.fp_d),
            v(&self.p),
            self.echo.val(),
        );
        self.line0.next = (l0 as u64).into();
        self.slot.next = (s as u64).into();
        self.fp.next = (f as u64).into();
    }
    fn connect(&mut self) {
        self.line0.connect();
        self.slot.connect();
        self.fp.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(format!(
            "\
wire [31:0] es = fa_s ^ fp_s;
wire [31:0] ed = fa_d ^ (echo ? fp_s : fp_d);
wire [31:0] gd = fa_d ^ fp_d;
wire [31:0] conv = (es + ed) ^ p;
wire [31:0] flow = (es + {{gd[30:0], 1'b0}}) ^ p;
// Bits of the 32-bit hashes beyond lines, slot and fingerprint are unused.
wire _unused_hash = &{{1'b0, conv, flow, 1'b0}};
always @(*) begin
    line0 = conv[{la1}:0];
    slot = flow[{sa1}:0];
    fp = flow[{fp1}:{sa}];
end
",
            la1 = LINE_ADDR - 1,
            sa = SLOT_ADDR,
            sa1 = SLOT_ADDR - 1,
            fp1 = SLOT_ADDR + FP_BITS - 1,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bloomtime_model::hash::fold;

    #[test]
    fn fold_block_equals_the_model() {
        let mut r = bloomtime_testkit::Rng::new(1);
        for _ in 0..1000 {
            let x = r.next();
            let addr: [u8; 16] = std::array::from_fn(|i| (x.rotate_left(i as u32 * 5) >> 3) as u8);
            let v = u128::from_be_bytes(addr);
            let mut b = Fold::default();
            b.a0.next = ((v & 0xffff_ffff) as u64).into();
            b.a1.next = (((v >> 32) & 0xffff_ffff) as u64).into();
            b.a2.next = (((v >> 64) & 0xffff_ffff) as u64).into();
            b.a3.next = ((v >> 96) as u64).into();
            b.connect_all();
            crate::util::settle(&mut b);
            assert_eq!(b.y.val().to_u64() as u32, fold(&addr));
        }
    }
}

/// A constant byte table (e.g. the INFO answer), indexed combinationally.
#[derive(LogicBlock, Default)]
pub struct ByteRom<const A: usize> {
    pub addr: Signal<In, Bits<A>>,
    pub data: Signal<Out, Bits<8>>,
    _bytes: Vec<u8>,
}

impl<const A: usize> ByteRom<A> {
    pub fn new(bytes: &[u8]) -> Self {
        assert!(bytes.len() <= 1 << A);
        Self {
            addr: Default::default(),
            data: Default::default(),
            _bytes: bytes.to_vec(),
        }
    }
}

impl<const A: usize> Logic for ByteRom<A> {
    fn update(&mut self) {
        let a = self.addr.val().index();
        self.data.next = (self._bytes.get(a).copied().unwrap_or(0) as u64).into();
    }
    fn connect(&mut self) {
        self.data.connect();
    }
    fn hdl(&self) -> Verilog {
        let mut s = String::from("always @(*) begin\n    case (addr)\n");
        for (i, b) in self._bytes.iter().enumerate() {
            s += &format!("        {A}'d{i}: data = 8'h{b:02x};\n");
        }
        s += "        default: data = 8'h00;\n    endcase\nend\n";
        Verilog::Custom(s)
    }
}

/// A constant bit fixed at construction (a build option of a block that
/// yosys folds away), with a `Default` of 0.
#[derive(LogicBlock, Default)]
pub struct ConstBit {
    pub y: Signal<Out, Bit>,
    _v: bool,
}

impl ConstBit {
    pub fn new(v: bool) -> Self {
        Self {
            y: Default::default(),
            _v: v,
        }
    }
}

impl Logic for ConstBit {
    fn update(&mut self) {
        self.y.next = self._v;
    }
    fn connect(&mut self) {
        self.y.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(format!("always @(*) y = 1'b{};\n", self._v as u8))
    }
}
