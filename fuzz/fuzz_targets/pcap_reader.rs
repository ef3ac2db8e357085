//! Bytes as a capture file (pcap or pcapng): every packet read, directly and
//! through `Records` into the golden model.
//!
//! Checked: no panic; an error ends the stream (nothing after it); a
//! packet's bytes are at most the input plus a synthetic Ethernet header;
//! `Records` yields the reader's packets in order, with `caplen` its data
//! and `window` its first `HEADER_WINDOW` bytes; the golden model's counters
//! keep their invariants (`frames = records + drops`, ...), and every
//! record stamped before the first packet is a counted time regression.
#![no_main]

use bloomtime_model::config::{HARDWARE, HEADER_WINDOW};
use bloomtime_model::{BloomTime, Counter};
use bloomtime_traces::{Records, TraceReader};
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

/// A non-Ethernet link header is replaced by a 14-byte Ethernet one.
const ETH_HEADER: usize = 14;

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = TraceReader::from_reader("fuzz.pcap", Cursor::new(data)) else {
        return;
    };
    let mut packets = Vec::new();
    let mut ended_by_error = false;
    for r in reader {
        assert!(!ended_by_error, "a packet after an error");
        match r {
            Ok(p) => {
                assert!(
                    p.data.len() <= data.len() + ETH_HEADER,
                    "{} bytes of packet from {} bytes of file",
                    p.data.len(),
                    data.len()
                );
                packets.push((p.ns, p.data.len()));
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                ended_by_error = true;
            }
        }
    }

    // The same bytes through Records and the golden model.
    let reader = TraceReader::from_reader("fuzz.pcap", Cursor::new(data))
        .expect("the header parsed the first time");
    // Merging reads each file's first packet: its error comes here.
    let mut records = match Records::from_reader(reader, &HARDWARE) {
        Ok(r) => r,
        Err(_) => {
            assert!(
                ended_by_error && packets.is_empty(),
                "Records failed at the start"
            );
            return;
        }
    };
    let mut bt = BloomTime::new(&HARDWARE);
    let mut seen = 0usize;
    let mut early_records = 0u64;
    loop {
        match records.next_frame() {
            Ok(Some(f)) => {
                let (ns, len) = packets[seen];
                assert_eq!((f.ns, f.caplen), (ns, len), "packet {seen}");
                assert_eq!(f.index, seen as u64);
                assert_eq!(f.data.len(), f.caplen);
                assert_eq!(f.window, &f.data[..f.caplen.min(HEADER_WINDOW)]);
                if f.before_first {
                    assert_eq!((f.rel_ns, f.ts), (0, 0));
                }
                let before_first = f.before_first;
                if f.process(&mut bt).is_ok() && before_first {
                    early_records += 1;
                }
                seen += 1;
            }
            Ok(None) => {
                assert!(!ended_by_error, "Records ended without the reader's error");
                break;
            }
            Err(_) => {
                assert!(ended_by_error, "Records failed where the reader did not");
                break;
            }
        }
    }
    assert_eq!(seen, packets.len());
    assert!(
        matches!(records.next_frame(), Ok(None)),
        "a frame after the end"
    );
    assert_eq!(records.frames(), seen as u64);
    bt.flush();
    let c = bt.counters();
    assert_eq!(c.get(Counter::Frames), seen as u64);
    c.check_invariants().unwrap();
    assert!(
        c.get(Counter::TimeRegressions) >= early_records,
        "{early_records} records before the first packet, {} time regressions",
        c.get(Counter::TimeRegressions)
    );
});
