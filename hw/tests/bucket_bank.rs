//! One bucket bank against the model's `bank::Banks` (one bank of it), with
//! same-line back-to-back records, sweeps, clears, epoch jumps at every
//! level's scale and stalls.

mod common;
use bloomtime_hw::bucket_bank::BucketBank;
use bloomtime_hw::consts::*;
use bloomtime_hw::hash_unit::op;
use bloomtime_hw::leaf::ConstBit;
use bloomtime_hw::util::{vcd_path, Stepper};
use bloomtime_model::bank::Banks;
use common::*;

#[derive(Clone, Copy, Debug)]
struct In {
    op: u64,
    addr: u32,
    epoch: u64,
    dir: u8,
}

/// Records with the core sweeper's guarantee: before a record whose epoch
/// passes `limit`, a full pass runs — ageing every line to the last admitted
/// epoch, or emptying them all when the jump is at least the window.
fn stimulus(r: &mut Rng, n: usize, lines: u32) -> Vec<In> {
    let mut v = Vec::new();
    let mut epoch = 0u64;
    let mut admitted = 0u64;
    let mut limit = SWEEP_HORIZON;
    while v.len() < n {
        epoch += match r.below(8) {
            0..=3 => 0,
            4 => 1,
            5 => r.below(20),
            // Gaps at the scale of a random level, now and then past the
            // window or the horizon.
            6 => {
                let l = r.below(L as u64) as usize;
                r.below(1 << (CFG.level_shift(l) + 4))
            }
            _ => {
                let far = r.chance(0.02);
                r.below(if far { 4 * SWEEP_HORIZON } else { 200 })
            }
        };
        if epoch > limit {
            let (o, at) = if epoch - admitted >= WINDOW_EPOCHS {
                (op::STALE, epoch)
            } else {
                (op::SWEEP, admitted)
            };
            for a in 0..(1 << LINE_ADDR) {
                v.push(In {
                    op: o,
                    addr: a,
                    epoch: at,
                    dir: 0,
                });
            }
            limit = at + SWEEP_HORIZON;
            // In the core the pending record is admitted right after the pass.
            admitted = at;
        }
        let o = match r.below(20) {
            0 => op::SWEEP,
            1 => op::NONE,
            2 if r.chance(0.1) => op::CLEAR,
            3 => op::PEEK,
            _ => op::PACKET,
        };
        let at = if o == op::SWEEP { admitted } else { epoch };
        v.push(In {
            op: o,
            addr: r.below(lines as u64) as u32,
            epoch: at,
            dir: r.below(2) as u8,
        });
        admitted = epoch;
    }
    v
}

/// The core's spaced configuration's promise: no two operations within
/// three clocks share a line (empty operations put in between).
fn spaced(ins: &[In]) -> Vec<In> {
    let mut v: Vec<In> = Vec::new();
    for x in ins {
        while v
            .iter()
            .rev()
            .take(2)
            .any(|p| p.op != op::NONE && p.addr == x.addr)
        {
            v.push(In {
                op: op::NONE,
                addr: (x.addr + 1) % (1 << LINE_ADDR),
                ..*x
            });
        }
        v.push(*x);
    }
    v
}

/// Returns the index of the first mismatching record, if any.
fn run(
    ins: &[In],
    stall_seed: Option<u64>,
    spaced: bool,
    vcd: Option<&std::path::Path>,
) -> Option<(usize, String)> {
    let mut bank = BucketBank::default();
    bank.spaced = ConstBit::new(spaced);
    let mut st = Stepper::new(bank, vcd);
    let mut model = Banks::new(&CFG);
    let mut stall = stall_seed.map(Rng::new);
    let mut expect = std::collections::VecDeque::new();
    let mut i = 0;
    let mut pipe: [Option<usize>; 3] = [None; 3];
    while i < ins.len() || pipe.iter().any(|p| p.is_some()) {
        let adv = stall.as_mut().map(|s| !s.chance(0.2)).unwrap_or(true);
        let cur = if i < ins.len() { Some(i) } else { None };
        let x = cur.map(|i| ins[i]).unwrap_or(In {
            op: op::NONE,
            addr: 0,
            epoch: ins.last().unwrap().epoch,
            dir: 0,
        });
        st.uut.advance.next = adv;
        st.uut.s2_op.next = x.op.into();
        st.uut.s2_addr.next = (x.addr as u64).into();
        st.uut.s2_epoch.next = (x.epoch & ((1 << E) - 1)).into();
        st.uut.s2_dir.next = x.dir != 0;
        st.tick();
        if !adv {
            continue;
        }
        // Model: apply the record entering stage 3 in order.
        if let Some(j) = cur {
            let x = ins[j];
            let before = match x.op {
                op::PACKET => {
                    let (mut ad, mut ar) = ([u64::MAX; L], [u64::MAX; L]);
                    let d = x.dir as usize;
                    model.touch(0, x.addr, x.epoch, d, &mut ad, &mut ar);
                    // As the bank outputs them: ring 0 and ring 1 of each level.
                    let (r0, r1) = if d == 0 { (ad, ar) } else { (ar, ad) };
                    Some(std::array::from_fn::<u64, L, _>(|i| r0[i] | r1[i] << B))
                }
                op::SWEEP => {
                    model.age(0, x.addr, x.epoch);
                    None
                }
                op::CLEAR | op::STALE => {
                    model.empty_line(0, x.addr, x.epoch);
                    None
                }
                _ => None,
            };
            expect.push_back((j, before));
            i += 1;
        }
        pipe = [cur, pipe[0], pipe[1]];
        if let Some(j) = pipe[2] {
            let (jj, before) = expect.pop_front().unwrap();
            assert_eq!(jj, j);
            if ins[j].op == op::PACKET {
                let got = st.uut.rings.val().pairs();
                let want = before.unwrap();
                if got != want {
                    return Some((
                        j,
                        format!(
                            "record {j} {:?}: got rings {got:x?}, model {want:x?}",
                            ins[j]
                        ),
                    ));
                }
            }
        }
    }
    // The spaced bank writes its rings a clock after stage 5's output.
    st.uut.s2_op.next = op::NONE.into();
    st.uut.advance.next = true;
    st.tick();
    // Every line as stored must equal the model (tag modulo 2^E).
    for a in 0..(1u32 << LINE_ADDR) {
        let stored = st.uut.stored_line(a as usize);
        let want = model.pack(&CFG, 0, a);
        // Compare contents; an empty line's tag is don't-care.
        let empty = model.rings(0, a).iter().all(|&r| r == 0);
        let tag_mask = (1u64 << E) - 1;
        let same = if empty {
            stored[0] & !tag_mask == 0 && stored[1..] == want[1..]
        } else {
            stored == want
        };
        if !same {
            return Some((
                ins.len(),
                format!("line {a}: stored {stored:x?}, model {want:x?}"),
            ));
        }
    }
    None
}

fn check(name: &str, ins: &[In], stall_seed: Option<u64>, spaced: bool) {
    if let Some((_, msg)) = run(ins, stall_seed, spaced, None) {
        let p = vcd_path(name);
        run(ins, stall_seed, spaced, Some(&p));
        panic!("{msg}\nVCD: {}", p.display());
    }
}

#[test]
fn same_line_bursts_match_the_model() {
    let s = seed("same_line_bursts_match_the_model", 7);
    let mut r = Rng::new(s);
    let ins = stimulus(&mut r, 20_000, 4);
    check("bucket_bank_bursts", &ins, None, false);
}

#[test]
fn spread_lines_with_stalls_match_the_model() {
    let s = seed("spread_lines_with_stalls_match_the_model", 8);
    let mut r = Rng::new(s);
    let ins = stimulus(&mut r, 20_000, 64);
    check("bucket_bank_stalls", &ins, Some(s), false);
}

#[test]
fn back_to_back_same_line_with_stalls() {
    let s = seed("back_to_back_same_line_with_stalls", 9);
    let mut r = Rng::new(s);
    let ins = stimulus(&mut r, 20_000, 2);
    check("bucket_bank_b2b_stalls", &ins, Some(s ^ 1), false);
}

/// The board's spaced bank (rings written a clock later, no forwarding) on
/// the same lines, operations three clocks apart on a line, with stalls.
#[test]
fn spaced_bank_matches_the_model() {
    let s = seed("spaced_bank_matches_the_model", 10);
    let mut r = Rng::new(s);
    let ins = spaced(&stimulus(&mut r, 20_000, 4));
    check("bucket_bank_spaced", &ins, Some(s ^ 2), true);
}
