//! Helpers for tests and simulation drivers: clocking a block directly (much
//! faster than rust-hdl's threaded `Simulation`) and converting between model
//! words and `Bits`.

use rust_hdl::prelude::*;

/// A block with a clock input named `clock`.
pub trait Clocked: Block {
    fn clock_signal(&mut self) -> &mut Signal<In, Clock>;
}

#[macro_export]
macro_rules! impl_clocked {
    ($t:ty) => {
        impl $crate::util::Clocked for $t {
            fn clock_signal(
                &mut self,
            ) -> &mut rust_hdl::prelude::Signal<rust_hdl::prelude::In, rust_hdl::prelude::Clock>
            {
                &mut self.clock
            }
        }
    };
}

/// Settle combinational logic after inputs changed.
pub fn settle<B: Block>(uut: &mut B) {
    assert!(simulate(uut, 200), "logic did not settle");
}

/// One full clock cycle: settle the inputs set since the last call, rising
/// edge, falling edge. Inputs set before the call are sampled at the rising
/// edge; outputs read after it are the new register values with
/// combinational logic settled.
pub fn tick<B: Clocked>(uut: &mut B) {
    settle(uut);
    uut.clock_signal().next = Clock { clk: true };
    settle(uut);
    uut.clock_signal().next = Clock { clk: false };
    settle(uut);
}

/// `Bits` from little-endian 64-bit words.
pub fn bits_from_words<const N: usize>(w: &[u64]) -> Bits<N> {
    if N <= 64 {
        let v = w.first().copied().unwrap_or(0);
        let v = if N == 64 { v } else { v & ((1u64 << N) - 1) };
        return v.into();
    }
    let mut b = Bits::<N>::default();
    for i in 0..N {
        if (w[i / 64] >> (i % 64)) & 1 == 1 {
            b = b.replace_bit(i, true);
        }
    }
    b
}

/// Little-endian 64-bit words of a `Bits`.
pub fn words_from_bits<const N: usize>(b: Bits<N>) -> Vec<u64> {
    if N <= 64 {
        return vec![b.to_u64()];
    }
    let mut w = vec![0u64; N.div_ceil(64)];
    for i in 0..N {
        if b.get_bit(i) {
            w[i / 64] |= 1 << (i % 64);
        }
    }
    w
}

/// Steps a block clock by clock, optionally writing a VCD of every edge.
pub struct Stepper<B: Clocked> {
    pub uut: B,
    /// Full cycles stepped.
    pub cycle: u64,
    vcd: Option<rust_hdl::core::vcd_probe::VCDProbe<std::io::BufWriter<std::fs::File>>>,
}

impl<B: Clocked> Stepper<B> {
    /// Connect and check the block, settle it, optionally start a VCD.
    pub fn new(mut uut: B, vcd_path: Option<&std::path::Path>) -> Self {
        uut.connect_all();
        settle(&mut uut);
        let vcd = vcd_path.map(|p| {
            if let Some(dir) = p.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let f = std::io::BufWriter::new(std::fs::File::create(p).expect("create VCD"));
            write_vcd_dump(write_vcd_header(f, &uut), &uut)
        });
        Stepper { uut, cycle: 0, vcd }
    }

    fn trace(&mut self, t: u64) {
        if let Some(v) = self.vcd.take() {
            let mut v = v;
            v.timestamp(t).expect("VCD write");
            self.vcd = Some(write_vcd_change(v, &self.uut));
        }
    }

    /// One clock cycle (10 ns in the VCD).
    pub fn tick(&mut self) {
        settle(&mut self.uut);
        self.uut.clock_signal().next = Clock { clk: true };
        settle(&mut self.uut);
        self.trace(self.cycle * 10_000);
        self.uut.clock_signal().next = Clock { clk: false };
        settle(&mut self.uut);
        self.trace(self.cycle * 10_000 + 5_000);
        self.cycle += 1;
    }

    /// Settle after changing inputs between edges.
    pub fn settle(&mut self) {
        settle(&mut self.uut);
    }
}

/// Where a failing test writes its VCD: `build/vcd/<name>.vcd` in the workspace.
pub fn vcd_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../build/vcd")
        .join(format!("{name}.vcd"))
}

/// The state a one-hot state register stands for: `engaged` is set in every
/// state but `idle`, and with it exactly one of `flags` (a state and its
/// flip-flop). Anything else is an error naming `what` and the flags set.
pub fn one_hot_state<S: Copy + std::fmt::Debug>(
    what: &str,
    idle: S,
    engaged: &DFF<Bit>,
    flags: &[(S, &DFF<Bit>)],
) -> Result<S, String> {
    let on: Vec<S> = flags
        .iter()
        .filter(|(_, f)| f.q.val())
        .map(|(s, _)| *s)
        .collect();
    match (engaged.q.val(), on.as_slice()) {
        (false, []) => Ok(idle),
        (true, [s]) => Ok(*s),
        (engaged, on) => Err(format!(
            "{what}'s flags are not one-hot: engaged {engaged}, set {on:?}"
        )),
    }
}
