//! Bytes as a captured Ethernet frame into the model's parser (and the
//! golden model's `frame`, which the hardware mirrors).
//!
//! Checked: no panic; only the header window is read (`parse_frame` equals
//! `parse_window` of the first `HEADER_WINDOW` bytes); more captured bytes
//! never change a parsed record; the golden model takes exactly the frames
//! the parser takes and counts each drop under its reason; a parsed key
//! survives its wire encoding.
#![no_main]

use bloomtime_model::config::{HARDWARE, HEADER_WINDOW};
use bloomtime_model::key::FlowKey;
use bloomtime_model::parse::{parse_frame, parse_window, DropReason};
use bloomtime_model::{BloomTime, Counter};
use libfuzzer_sys::fuzz_target;

fn drop_counter(r: DropReason) -> Counter {
    match r {
        DropReason::Truncated => Counter::DropTruncated,
        DropReason::NonIp => Counter::DropNonIp,
        DropReason::VlanDepth => Counter::DropVlanDepth,
        DropReason::BadIp => Counter::DropBadIp,
        DropReason::Fragment => Counter::DropFragment,
        DropReason::ExtChain => Counter::DropExtChain,
        DropReason::HeaderWindow => Counter::DropHeaderWindow,
    }
}

fuzz_target!(|data: &[u8]| {
    let parsed = parse_frame(data);
    let window = &data[..data.len().min(HEADER_WINDOW)];
    assert_eq!(
        parsed,
        parse_window(window, data.len()),
        "the window is all the parser reads"
    );

    if let Ok(p) = parsed {
        let mut longer = data.to_vec();
        longer.extend_from_slice(&[0xA5; 64]);
        assert_eq!(
            parse_frame(&longer),
            parsed,
            "more captured bytes changed the record"
        );
        assert_eq!(FlowKey::from_wire(&p.key.to_wire()), Some(p.key));
    }

    let mut bt = BloomTime::new(&HARDWARE);
    let r = bt.frame(1, window, data.len());
    assert_eq!(r.is_ok(), parsed.is_ok());
    let c = bt.counters();
    assert_eq!(c.get(Counter::Frames), 1);
    match parsed {
        Ok(_) => assert_eq!(c.get(Counter::Records), 1),
        Err(reason) => {
            assert_eq!(r.err(), Some(reason));
            assert_eq!(c.get(drop_counter(reason)), 1, "{reason} not counted");
        }
    }
    c.check_invariants().unwrap();
});
