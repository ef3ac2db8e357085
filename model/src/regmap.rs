//! The register map: declared once, used by the board RTL's read and write
//! decoder, the host client, and the README's table ([`markdown`], which a
//! test checks the README carries).
//! Every register is 32 bits wide.

use crate::counters::{COUNTERS, N_COUNTERS};

/// Register access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
}

/// One register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Register {
    pub addr: u16,
    pub name: &'static str,
    pub access: Access,
    pub doc: &'static str,
}

/// First pipeline counter (`counters::Counter` order follows).
pub const COUNTER_BASE: u16 = 0x0000;

/// Link and board counters, after the pipeline counters.
pub const LINK_BASE: u16 = 0x0020;
macro_rules! link_counters {
    ($( $c:ident = $off:literal, $name:literal : $doc:literal ),* $(,)?) => {
        $( pub const $c: u16 = LINK_BASE + $off; )*
        const LINK: &[Register] = &[ $( Register { addr: LINK_BASE + $off, name: $name, access: Access::ReadOnly, doc: $doc } ),* ];
    };
}
link_counters! {
    RX_FRAMES = 0, "rx_frames": "request frames received intact",
    RX_CRC_ERRORS = 1, "rx_crc_errors": "request frames dropped: CRC mismatch",
    RX_SLIP_ERRORS = 2, "rx_slip_errors": "request frames dropped: bad escape, too long or too short",
    RX_UART_ERRORS = 3, "rx_uart_errors": "bytes with a UART framing error (bad stop bit)",
    BAD_REQUESTS = 4, "bad_requests": "requests answered with BAD_COMMAND, BAD_LENGTH or BAD_ARGUMENT",
    RETRIES = 5, "retries": "repeated sequence numbers answered from the stored response",
    REPLAY_FRAMES = 6, "replay_frames": "frames taken by REPLAY into the parser",
    REPLAY_REFUSED = 7, "replay_refused": "REPLAY frames refused because the event buffer was short of room",
    TX_FRAMES = 8, "tx_frames": "response frames sent",
}

/// Status (read-only): bit 0 a flush or clear is running, bit 1 the pipeline
/// holds no record, bit 2 the event buffer is empty; bits 16..31 the bytes
/// waiting in the event buffer.
pub const STATUS: u16 = 0x0040;
/// Control: bit 0 live mode (REPLAY frames get the device's clock as
/// timestamp instead of their own).
pub const CONTROL: u16 = 0x0041;
/// Device time in time units, low 32 bits (a read latches the high bits).
pub const TIME_LO: u16 = 0x0042;
/// Device time, bits 32..39, as latched by the last TIME_LO read.
pub const TIME_HI: u16 = 0x0043;
/// Clock cycles since configuration, saturating.
pub const UPTIME: u16 = 0x0044;

pub const STATUS_BUSY: u32 = 1 << 0;
pub const STATUS_IDLE: u32 = 1 << 1;
pub const STATUS_EVENTS_EMPTY: u32 = 1 << 2;
pub const CONTROL_LIVE: u32 = 1 << 0;

const OTHER: &[Register] = &[
    Register {
        addr: STATUS,
        name: "status",
        access: Access::ReadOnly,
        doc: "bit 0 flush or clear running; bit 1 pipeline empty; bit 2 event buffer empty; bits 16-31 event bytes waiting",
    },
    Register {
        addr: CONTROL,
        name: "control",
        access: Access::ReadWrite,
        doc: "bit 0 live mode: replayed frames are timestamped by the device clock",
    },
    Register {
        addr: TIME_LO,
        name: "time_lo",
        access: Access::ReadOnly,
        doc: "device time in time units, bits 0-31 (reading latches time_hi)",
    },
    Register {
        addr: TIME_HI,
        name: "time_hi",
        access: Access::ReadOnly,
        doc: "device time, bits 32-39, latched by the last time_lo read",
    },
    Register {
        addr: UPTIME,
        name: "uptime",
        access: Access::ReadOnly,
        doc: "clock cycles since configuration (saturating)",
    },
];

/// Every register, by address.
pub fn registers() -> Vec<Register> {
    let mut v: Vec<Register> = COUNTERS
        .iter()
        .enumerate()
        .map(|(i, c)| Register {
            addr: COUNTER_BASE + i as u16,
            name: c.name(),
            access: Access::ReadOnly,
            doc: c.doc(),
        })
        .collect();
    v.extend_from_slice(LINK);
    v.extend_from_slice(OTHER);
    v
}

/// Number of link counters.
pub const N_LINK_COUNTERS: usize = 9;
/// Words of the board's counter memory: every pipeline and link counter,
/// rounded up to a power of two (its address width).
pub const COUNTER_RAM_WORDS: usize = (N_COUNTERS + N_LINK_COUNTERS).next_power_of_two();
const _: () = assert!(N_COUNTERS <= (LINK_BASE - COUNTER_BASE) as usize);

/// The register table as Markdown (the README carries this text).
pub fn markdown() -> String {
    let mut s = String::from("| address | name | access | meaning |\n|---|---|---|---|\n");
    for r in registers() {
        s += &format!(
            "| 0x{:04x} | `{}` | {} | {} |\n",
            r.addr,
            r.name,
            match r.access {
                Access::ReadOnly => "RO",
                Access::ReadWrite => "RW",
            },
            r.doc
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_unique_and_sorted() {
        let r = registers();
        for w in r.windows(2) {
            assert!(w[0].addr < w[1].addr, "{:?} {:?}", w[0], w[1]);
        }
        assert_eq!(LINK.len(), N_LINK_COUNTERS);
    }

    /// The README's register table is this map's, between its markers.
    #[test]
    fn readme_carries_the_register_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
        let readme = std::fs::read_to_string(path).unwrap();
        let (a, b) = ("<!-- regmap -->\n", "<!-- /regmap -->");
        let start = readme.find(a).expect("README: <!-- regmap --> marker") + a.len();
        let end = readme.find(b).expect("README: <!-- /regmap --> marker");
        assert_eq!(
            &readme[start..end],
            markdown(),
            "README's register table differs from model/src/regmap.rs (paste regmap::markdown())"
        );
    }
}
