//! The Verilog tops other tools build from: the bitstream, Verilator and
//! the lint/synthesis tests all call these, so they see the same design.

use rust_hdl::prelude::*;

/// The pipeline core alone (records in, events out), as `bloomtime_core`.
pub fn core_verilog() -> String {
    let mut uut = crate::core::BloomtimeCore::default();
    uut.connect_all();
    generate_verilog(&uut)
}
