//! The whole core (rust-hdl's simulation) against the golden model: every
//! sample, every event, every final slot and counter. The table of core
//! tests (`bloomtime_testkit::table`) is the one bloomtime-sim runs on the
//! Verilated core; the spaced configuration is the rust-hdl core's own.

use bloomtime_model::key::Record;
use bloomtime_testkit::rusthdl::RustHdlCore;
use bloomtime_testkit::{check_records, colliding_keys, random_records, Drive, Rng};

bloomtime_testkit::core_tests!(RustHdlCore::new);

#[test]
fn spaced_configuration_matches_the_model() {
    // The board's configuration: held keys, no forwarding, bubbles around
    // packets; same-line/same-slot bursts and time jumps included.
    let mut r = Rng::seeded("spaced_configuration_matches_the_model", 17);
    let mut recs = random_records(&mut r, 600, 64, 64);
    let keys = colliding_keys(4);
    let mut ts = recs.last().unwrap().ts;
    for _ in 0..600 {
        // Time units of 1.024 µs: up to 137 s, past a sweep pass's horizon
        // (66.6 s), so that records wait in S0 across a pass's end beyond
        // its limit; 600 steps stay far inside the 40-bit time range.
        ts += [0, 0, 1, 3000, 9000, 1 << 20, 1 << 25, 1 << 26, 1 << 27][r.below(9) as usize];
        recs.push(Record {
            ts,
            key: keys[r.below(keys.len() as u64) as usize],
            flags: 0,
        });
    }
    let d = Drive::new(r.seed().unwrap(), 0.3, 0.0);
    check_records("core_spaced", &recs, d, RustHdlCore::spaced);
}
