//! Packet captures: reading pcap/pcapng ([`pcap`]), generating synthetic
//! traces with known ground truth ([`gen`], [`truth`], [`writer`]) and the one
//! path every tool takes from a captured packet to a pipeline record
//! ([`Records`], by the rules [`replay_ts`] and [`window`]).

pub mod gen;
pub mod link;
pub mod pcap;
pub mod records;
pub mod truth;
pub mod writer;

use bloomtime_model::config::{Config, HEADER_WINDOW, TS_MASK};

pub use pcap::{MergedTraces, Packet, TraceError, TraceErrorKind, TraceReader};
pub use records::{PacketSource, Records, ReplayFrame};

/// The record timestamp of a packet replayed from a capture
/// (docs/DESIGN.md §1): nanoseconds since the first packet of the capture,
/// in time units of the configuration, modulo `2^TS_BITS`:
///
/// `ts = ((ns - ns_first) >> cfg.time_unit_log2_ns) & TS_MASK`
///
/// `ns_first` is the earliest packet over all files of the capture (the first
/// packet of their timestamp-merged stream). A later packet whose timestamp is
/// earlier than `ns_first` saturates to 0; the pipeline's monotonic clamp then
/// processes it at the previous record's time and counts it in
/// `time_regressions` ([`Records`] marks the ones the clamp cannot see,
/// [`ReplayFrame::unseen_regression`], so that they are counted too).
#[inline]
pub fn replay_ts(cfg: &Config, ns: u64, ns_first: u64) -> u64 {
    (ns.saturating_sub(ns_first) >> cfg.time_unit_log2_ns) & TS_MASK
}

/// The header window a frame gives the parser: its first
/// `min(caplen, HEADER_WINDOW)` captured bytes (pass `data.len()` as `caplen`).
#[inline]
pub fn window(data: &[u8]) -> &[u8] {
    &data[..data.len().min(HEADER_WINDOW)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use bloomtime_model::config::ALCHITRY_CU;

    #[test]
    fn replay_ts_is_relative_shifted_and_masked() {
        let c = ALCHITRY_CU;
        assert_eq!(replay_ts(&c, 5_000, 5_000), 0);
        assert_eq!(replay_ts(&c, 5_000 + 1023, 5_000), 0);
        assert_eq!(replay_ts(&c, 5_000 + 1024, 5_000), 1);
        // Earlier than the first packet: saturates at 0.
        assert_eq!(replay_ts(&c, 4_000, 5_000), 0);
        // Wraps at 2^40 time units.
        let wrap = (1u64 << 40) << c.time_unit_log2_ns;
        assert_eq!(replay_ts(&c, wrap + 3 * 1024, 0), 3);
    }

    #[test]
    fn window_is_at_most_the_header_window() {
        assert_eq!(window(&[0u8; 60]).len(), 60);
        assert_eq!(window(&[0u8; 1514]).len(), HEADER_WINDOW);
    }
}
