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

/// The Alchitry Cu's oscillator on pin P7.
pub const OSC_HZ: u32 = 100_000_000;

/// The name of the module [`board_verilog_divided`] puts on top.
pub const DIVIDED_TOP: &str = "bloomtime_cu";
/// The name of its divided clock's net.
pub const DIVIDED_CLOCK: &str = "clock_div";

/// The Alchitry Cu board top clocked at `OSC_HZ / div` (`div` a power of
/// two, at least 2): the oscillator divided by a counter in the fabric and
/// put on a global buffer (`SB_GB`), so the whole board, UART included,
/// runs on the slower clock. The wrapper, `DIVIDED_TOP`, has the board top's
/// ports, so `constraints/alchitry_cu.pcf` applies unchanged. This is how
/// a bitstream exists while the board misses 100 MHz: the board reports the
/// divided clock in INFO, derives its UART divisor and device time from it,
/// and computes the same records (timestamps come with the frames, or from
/// the device time in live mode, never from counting clocks).
pub fn board_verilog_divided(div: u32, baud: u32) -> String {
    assert!(
        div >= 2 && div.is_power_of_two(),
        "clock divider {div}: a power of two, at least 2"
    );
    let bits = div.trailing_zeros();
    let mut v = board_verilog(OSC_HZ / div, baud);
    v.push_str(&format!(
        "

// The oscillator divided by {div} in the fabric, onto a global buffer; the
// board top (`top`) runs on the divided clock.
module {DIVIDED_TOP}(clock,reset_n,uart_rx,uart_tx,leds);
    input wire  clock;
    input wire  reset_n;
    input wire  uart_rx;
    output wire  uart_tx;
    output wire  [7:0] leds;
    reg [{hi}:0] divider = 0;
    wire {DIVIDED_CLOCK};
    always @(posedge clock) divider <= divider + 1'b1;
    SB_GB divided(.USER_SIGNAL_TO_GLOBAL_BUFFER(divider[{hi}]), .GLOBAL_BUFFER_OUTPUT({DIVIDED_CLOCK}));
    top board(.clock({DIVIDED_CLOCK}), .reset_n(reset_n), .uart_rx(uart_rx), .uart_tx(uart_tx), .leds(leds));
endmodule // {DIVIDED_TOP}
",
        hi = bits - 1
    ));
    v
}

/// The board without its UART (byte-wide link), for co-simulation.
pub fn board_core_verilog(clock_hz: u32, baud: u32) -> String {
    let mut uut = crate::board::BoardCore::new(clock_hz, baud);
    uut.connect_all();
    generate_verilog(&uut)
}
