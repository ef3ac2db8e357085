//! The hash unit against the model's `Hashes`, record by record.

mod common;
use bloomtime_hw::consts::*;
use bloomtime_hw::hash_unit::{op, HashUnit};
use bloomtime_hw::types::{KeyBits, Ts};
use bloomtime_hw::util::Stepper;
use bloomtime_model::hash::Hashes;
use common::*;

#[test]
fn hash_unit_matches_the_model() {
    let s = seed("hash_unit_matches_the_model", 1);
    let mut r = Rng::new(s);
    let mut recs = random_records(&mut r, 3000, 1 << 20, 1 << 16);
    // The direction's ties, which random keys never reach: the same address
    // both ways (the ports decide, or nothing does), and addresses one bit
    // apart (the fold is linear, so its two values differ in one bit, in
    // its high or its low half: each 16-bit piece of the comparison decides).
    for j in 0..1200 {
        let mut rec = recs[j];
        rec.key.dst = rec.key.src;
        match j % 4 {
            0 => {}
            1 => rec.key.dport = rec.key.sport,
            _ => {
                let bit = r.below(128) as usize;
                rec.key.dst[bit / 8] ^= 1 << (bit % 8);
            }
        }
        recs.push(rec);
    }
    let mut st = Stepper::new(HashUnit::default(), None);
    st.uut.advance.next = true;
    let mut pending = std::collections::VecDeque::new();
    for (i, rec) in recs
        .iter()
        .enumerate()
        .chain(std::iter::repeat_n((usize::MAX, &recs[0]), 2))
    {
        if i != usize::MAX {
            st.uut.in_op.next = op::PACKET.into();
            st.uut.in_key.next = KeyBits::from_key(&rec.key);
            st.uut.in_flags.next = (rec.flags as u64).into();
            st.uut.in_ts.next = Ts::from_u64(rec.ts);
            pending.push_back(*rec);
        } else {
            st.uut.in_op.next = op::NONE.into();
        }
        st.tick();
        if st.uut.op.val() == op::PACKET {
            let rec = pending.pop_front().unwrap();
            let h = Hashes::compute(&rec);
            let cfg = CFG;
            let got = (
                st.uut.line0.val().index() as u32,
                st.uut.slot.val().index() as u32,
                st.uut.fp.val().index() as u32,
                st.uut.dir.val() as u8,
            );
            let want = (h.line(&cfg, 0), h.slot(&cfg), h.fingerprint(&cfg), h.dir);
            assert_eq!(got, want, "record {rec:?}");
            assert_eq!(st.uut.epoch.val().to_u64(), rec.ts >> S_SHIFT);
            assert_eq!(st.uut.key.val().to_key(), rec.key);
        }
    }
    assert!(pending.is_empty());
}
