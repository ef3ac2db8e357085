//! The Verilog tops other tools build from: the bitstream, Verilator and
//! the lint/synthesis tests all call these, so they see the same design.

use rust_hdl::prelude::*;

/// The pipeline core alone (records in, events out), as `bloomtime_core`.
pub fn core_verilog() -> String {
    let mut uut = crate::core::BloomtimeCore::default();
    uut.connect_all();
    generate_verilog(&uut)
}

/// The Alchitry Cu board top (the bitstream), with a UART at `baud`.
pub fn board_verilog(clock_hz: u32, baud: u32) -> String {
    let mut uut = crate::board::BoardTop::new(clock_hz, baud);
    uut.connect_all();
    generate_verilog(&uut)
}

/// The board without its UART (byte-wide link), for co-simulation.
pub fn board_core_verilog(clock_hz: u32, baud: u32) -> String {
    let mut uut = crate::board::BoardCore::new(clock_hz, baud);
    uut.connect_all();
    generate_verilog(&uut)
}
