//! The block-RAM counter bank against plain counters: random strobes,
//! readouts at random times and clears. An answer must lie between the
//! count when it was asked for and the count when it arrived; in quiet
//! stretches (no strobes) it must be exact. Every answer comes within a
//! round of the flusher.

mod common;
use bloomtime_hw::counter_bank::{CounterBank, N_ALL};
use bloomtime_hw::util::Stepper;
use common::*;

#[test]
fn counts_exactly_with_readouts_and_clears() {
    let s = seed("counts_exactly_with_readouts_and_clears", 21);
    run(s, 0.2);
}

/// A readout asked for as soon as the previous one is answered: every
/// readout meets flushes in flight (the cursor's and its own predecessor's).
#[test]
fn counts_exactly_with_back_to_back_readouts() {
    let s = seed("counts_exactly_with_back_to_back_readouts", 22);
    run(s, 1.0);
}

fn run(s: u64, req_rate: f64) {
    let mut r = Rng::new(s);
    let mut st = Stepper::new(CounterBank::default(), None);
    let mut want = [0u64; N_ALL];
    // (counter, count when asked, quiet since asked, cycle asked)
    let mut pending: Option<(usize, u64, bool, u64)> = None;
    let mut slowest = 0u64;
    let mut exact = 0;
    let mut quiet_for = 0u32;
    let mut cycle = 0u64;
    while cycle < 80_000 {
        // Alternate busy and quiet stretches of about 300 clocks.
        let busy = (cycle / 300) % 3 != 2;
        let mut inc = 0u64;
        if busy {
            for (i, w) in want.iter_mut().enumerate() {
                if r.chance(if i % 3 == 0 { 0.9 } else { 0.05 }) {
                    inc |= 1 << i;
                    *w += 1;
                }
            }
        }
        quiet_for = if inc == 0 { quiet_for + 1 } else { 0 };
        // Clear only in the middle of a quiet stretch.
        let clear = !busy && quiet_for == 20 && pending.is_none() && r.chance(0.3);
        if clear {
            want = [0; N_ALL];
        }
        let idx = r.below(N_ALL as u64) as usize;
        let req = pending.is_none() && !clear && r.chance(req_rate);
        let u = &mut st.uut;
        u.inc.next = inc.into();
        u.clear.next = clear;
        u.rd_req.next = req;
        u.rd_index.next = (idx as u64).into();
        st.settle();
        assert_eq!(
            st.uut.rd_pending.val(),
            pending.is_some() && !st.uut.rd_valid.val(),
            "cycle {cycle}: rd_pending"
        );
        if st.uut.rd_valid.val() {
            let (i, asked, quiet, at) = pending.take().expect("an answer without a request");
            // The flusher reaches every counter within a round (28 clocks,
            // or a round more after a clear), and the answer takes 3 more.
            slowest = slowest.max(cycle - at);
            assert!(
                cycle - at <= N_ALL as u64 + 3,
                "cycle {cycle}: answered {} clocks after the request",
                cycle - at
            );
            let got = st.uut.rd_value.val().to_u64();
            assert!(
                got >= asked && got <= want[i],
                "cycle {cycle} counter {i}: {got} outside [{asked}, {}]",
                want[i]
            );
            if quiet && inc == 0 {
                assert_eq!(got, want[i], "cycle {cycle} counter {i} in a quiet stretch");
                exact += 1;
            }
        } else if let Some(p) = pending.as_mut() {
            p.2 &= inc == 0;
        }
        if req && st.uut.rd_ready.val() {
            pending = Some((idx, want[idx] - ((inc >> idx) & 1), quiet_for > 5, cycle));
        }
        st.tick();
        cycle += 1;
        if clear {
            // The clear takes a round; strobes are quiet meanwhile.
            for _ in 0..60 {
                st.uut.inc.next = 0u64.into();
                st.uut.clear.next = false;
                st.uut.rd_req.next = false;
                st.tick();
                cycle += 1;
            }
        }
    }
    assert!(exact > 50, "only {exact} exact readouts");
    assert!(
        slowest >= N_ALL as u64,
        "no readout waited a whole round ({slowest} clocks)"
    );
}
