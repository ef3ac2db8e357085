//! The block-RAM counter bank against plain counters: random strobes,
//! readouts at random times (also back to back) and clears.

mod common;
use bloomtime_hw::counter_bank::CounterBank;
use bloomtime_hw::util::Stepper;
use common::*;

#[test]
fn counts_exactly_with_readouts_and_clears() {
    let s = seed("counts_exactly_with_readouts_and_clears", 21);
    let mut r = Rng::new(s);
    let mut st = Stepper::new(CounterBank::default(), None);
    let mut want = [0u64; 28];
    let mut pending: Option<(usize, [u64; 28])> = None;
    for cycle in 0..60_000 {
        let before = want;
        let mut inc = 0u64;
        for (i, w) in want.iter_mut().enumerate() {
            if r.chance(if i % 3 == 0 { 0.9 } else { 0.05 }) {
                inc |= 1 << i;
                *w += 1;
            }
        }
        let clear = r.chance(0.0005);
        let req = pending.is_none() && r.chance(0.3);
        let idx = r.below(28) as usize;
        st.uut.inc.next = inc.into();
        st.uut.clear.next = clear;
        st.uut.rd_req.next = req;
        st.uut.rd_index.next = (idx as u64).into();
        st.settle();
        let taken = req && st.uut.rd_ready.val();
        if st.uut.rd_valid.val() {
            let (i, snap) = pending.take().expect("an answer without a request");
            assert_eq!(
                st.uut.rd_value.val().to_u64(),
                snap[i],
                "cycle {cycle} counter {i}"
            );
        }
        if taken {
            // The answer counts every strobe before this clock.
            pending = Some((idx, before));
        }
        if clear {
            // Strobes of the clearing clock count after the clear.
            for (i, w) in want.iter_mut().enumerate() {
                *w = (inc >> i) & 1;
            }
            // A readout already in flight still answers with its value.
        }
        st.tick();
    }
}
