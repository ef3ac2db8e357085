//! The emitted Verilog under Verilator against rust-hdl's simulation of the
//! same core, cycle for cycle: identical inputs every cycle (records with
//! time jumps, random readies, control commands, frame pulses, link strobes,
//! counter reads) and every output identical every cycle, from power-on.
//!
//! rust-hdl simulates each block's Rust `update`, Verilator the Verilog it
//! emits, including the hand-written Verilog of the leaf blocks (leaf.rs,
//! h3.rs, prio.rs, bram.rs, counter_bank.rs, ...): this is what checks those
//! against their `update`s, and that `-Wno-WIDTH` hides no difference.

mod common;
use bloomtime_hw::core::BloomtimeCore;
use bloomtime_hw::types::{KeyBits, StatsBits, Ts};
use bloomtime_hw::util::{words_from_bits, Stepper};
use bloomtime_model::key::{FlowKey, Record};
use bloomtime_sim::{
    hw, port_diff, record_inputs, CoreIn, CoreOut, CoreTop, Model, STATS_WORDS, TRACE_BUILT,
};
use common::*;
use rust_hdl::prelude::*;

fn words32(w: Vec<u64>, n: usize) -> Vec<u32> {
    let mut v: Vec<u32> = w
        .iter()
        .flat_map(|x| [*x as u32, (*x >> 32) as u32])
        .collect();
    v.resize(n, 0);
    v
}

fn key_words(k: KeyBits) -> [u32; 10] {
    let flat: Bits<{ KeyBits::BITS }> = k.into();
    words32(words_from_bits(flat), 10).try_into().unwrap()
}

fn stats_words(s: StatsBits) -> [u32; STATS_WORDS] {
    let flat: Bits<{ StatsBits::BITS }> = s.into();
    words32(words_from_bits(flat), STATS_WORDS)
        .try_into()
        .unwrap()
}

fn apply(u: &mut BloomtimeCore, i: &CoreIn) {
    u.s_rec_valid.next = i.s_rec_valid != 0;
    u.s_rec_ts.next = Ts::from_u64(i.s_rec_ts);
    u.s_rec_flags.next = i.s_rec_flags.into();
    let w: Vec<u64> = i
        .s_rec_key
        .chunks(2)
        .map(|c| c[0] as u64 | (c[1] as u64) << 32)
        .collect();
    u.s_rec_key.next = KeyBits::from_key(&FlowKey::unpack(&w));
    u.frame_done.next = i.frame_done != 0;
    u.frame_drop.next = i.frame_drop != 0;
    u.frame_drop_reason.next = i.frame_drop_reason.into();
    u.ctl_valid.next = i.ctl_valid != 0;
    u.ctl_cmd.next = i.ctl_cmd.into();
    u.ctl_slot.next = i.ctl_slot.into();
    u.link_inc.next = i.link_inc.into();
    u.m_open_ready.next = i.m_open_ready != 0;
    u.m_evict_ready.next = i.m_evict_ready != 0;
    u.cnt_req.next = i.cnt_req != 0;
    u.cnt_index.next = i.cnt_index.into();
}

/// rust-hdl's outputs (every port: a new one is a compile error here).
fn outputs(u: &BloomtimeCore) -> CoreOut {
    let b = |x: bool| x as u64;
    CoreOut {
        s_rec_ready: b(u.s_rec_ready.val()),
        ctl_ready: b(u.ctl_ready.val()),
        busy: b(u.busy.val()),
        m_open_valid: b(u.m_open_valid.val()),
        m_open_slot: u.m_open_slot.val().to_u64(),
        m_open_key: key_words(u.m_open_key.val()),
        m_evict_valid: b(u.m_evict_valid.val()),
        m_evict_slot: u.m_evict_slot.val().to_u64(),
        m_evict_reason: u.m_evict_reason.val().to_u64(),
        m_evict_stats: stats_words(u.m_evict_stats.val()),
        m_evict_tag: u.m_evict_tag.val().to_u64(),
        o_valid: b(u.o_valid.val()),
        o_ts: u.o_ts.val().to_u64(),
        o_dir: b(u.o_dir.val()),
        o_slot: u.o_slot.val().to_u64(),
        o_fp: u.o_fp.val().to_u64(),
        o_iat_valid: b(u.o_iat_valid.val()),
        o_iat: u.o_iat.val().to_u64(),
        o_rtt_valid: b(u.o_rtt_valid.val()),
        o_rtt: u.o_rtt.val().to_u64(),
        cnt_ready: b(u.cnt_ready.val()),
        cnt_valid: b(u.cnt_valid.val()),
        cnt_value: u.cnt_value.val().to_u64(),
        idle: b(u.idle.val()),
    }
}

/// Random but mostly protocol-respecting inputs, cycle by cycle.
struct Stimulus {
    r: Rng,
    recs: Vec<Record>,
    next: usize,
    i: CoreIn,
    /// Probabilities: a record offered when none is, an output not ready,
    /// a command offered in a cycle.
    offer: f64,
    stall: f64,
    command: f64,
}

impl Stimulus {
    fn new(seed: u64) -> Stimulus {
        let mut r = Rng::new(seed);
        // The generator's flows and flags, with time gaps mostly within the
        // window and now and then a jump that makes the input wait for a
        // sweep pass or across the 40-bit wrap.
        let mut recs = random_records(&mut r, 20_000, 64, 16);
        let mut ts = 0u64;
        for rec in recs.iter_mut() {
            ts += match r.below(1000) {
                0 | 1 => (240 + r.below(400)) << 13,
                2 => r.below(1 << 36),
                3..=300 => 0,
                _ => r.below(1 << 13),
            };
            ts &= (1 << 40) - 1;
            rec.ts = ts.saturating_sub(r.chance(0.02) as u64 * r.below(1 << 14));
        }
        Stimulus {
            r,
            recs,
            next: 0,
            i: CoreIn::default(),
            offer: 0.7,
            stall: 0.2,
            command: 0.0005,
        }
    }

    /// One flow on every clock, outputs always ready, no commands: the
    /// packet counter overflows (2^16 - 1 packets).
    fn one_flow(seed: u64) -> Stimulus {
        let key = FlowKey::v4(17, [10, 0, 0, 1], 1000, [10, 0, 0, 2], 2000);
        Stimulus {
            recs: (0..70_000u64)
                .map(|k| Record {
                    ts: k * 5,
                    key,
                    flags: 0,
                })
                .collect(),
            offer: 1.0,
            stall: 0.0,
            command: 0.0,
            ..Stimulus::new(seed)
        }
    }

    /// Inputs for the next cycle, given the outputs at the last edge.
    fn step(&mut self, last: &CoreOut) -> CoreIn {
        let r = &mut self.r;
        let i = &mut self.i;
        // A record stays offered until taken, then the next one (or a gap).
        if i.s_rec_valid != 0 && last.s_rec_ready != 0 {
            i.s_rec_valid = 0;
            self.next += 1;
        }
        if i.s_rec_valid == 0 && r.chance(self.offer) {
            let rec = self.recs[self.next % self.recs.len()];
            record_inputs(i, &rec);
        }
        // A command stays offered until taken.
        if i.ctl_valid != 0 && last.ctl_ready != 0 {
            i.ctl_valid = 0;
        } else if i.ctl_valid == 0 && r.chance(self.command) {
            i.ctl_valid = 1;
            i.ctl_cmd = [1, 2, 3, 3, 3][r.below(5) as usize];
            i.ctl_slot = r.below(256);
        }
        i.m_open_ready = !r.chance(self.stall) as u64;
        i.m_evict_ready = !r.chance(self.stall) as u64;
        i.frame_done = r.chance(0.3) as u64;
        i.frame_drop = r.chance(0.3) as u64;
        i.frame_drop_reason = r.below(7);
        i.link_inc = if r.chance(0.1) { r.below(1 << 9) } else { 0 };
        if i.cnt_req != 0 && last.cnt_ready != 0 {
            i.cnt_req = 0;
        } else if i.cnt_req == 0 && r.chance(0.05) {
            i.cnt_req = 1;
            i.cnt_index = r.below(hw::N_ALL as u64);
        }
        *i
    }
}

fn cycles() -> u64 {
    std::env::var("BLOOMTIME_COSIM_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000)
}

/// Runs both for `n` cycles; the first differing cycle, with its inputs and
/// the differing outputs.
/// What a run exercised.
#[derive(Debug, Default)]
struct Seen {
    records: u64,
    opens: u64,
    /// Exports per reason (collision, overflow, flush, peek).
    exports: [u64; 4],
    /// Commands taken per code (clear, flush, peek).
    commands: [u64; 3],
    counter_reads: u64,
}

fn cosim(mut stim: Stimulus, n: u64) -> Result<Seen, (u64, String)> {
    let mut st = Stepper::new(BloomtimeCore::default(), None);
    let mut v: Model<CoreTop> = Model::new();
    let mut last = CoreOut::default();
    let mut history: Vec<CoreIn> = Vec::new();
    let mut seen = Seen::default();
    for c in 0..n {
        let i = stim.step(&last);
        apply(&mut st.uut, &i);
        st.settle();
        let want = outputs(&st.uut);
        let got = v.cycle(&i);
        history.push(i);
        if got != want {
            let from = history.len().saturating_sub(4);
            let inputs: Vec<String> = history[from..]
                .iter()
                .enumerate()
                .map(|(k, x)| format!("  cycle {}: {x:?}", from + k))
                .collect();
            return Err((
                c,
                format!(
                    "cycle {c}: Verilator != rust-hdl on {}\nlast inputs:\n{}",
                    port_diff(&got, &want).join(", "),
                    inputs.join("\n")
                ),
            ));
        }
        seen.records += i.s_rec_valid & got.s_rec_ready;
        seen.opens += got.m_open_valid & i.m_open_ready;
        if got.m_evict_valid & i.m_evict_ready != 0 {
            seen.exports[got.m_evict_reason as usize] += 1;
        }
        if i.ctl_valid & got.ctl_ready != 0 {
            seen.commands[i.ctl_cmd as usize - 1] += 1;
        }
        seen.counter_reads += got.cnt_valid;
        last = got;
        st.tick();
    }
    Ok(seen)
}

/// Run the co-simulation; on a difference, write a Verilator VCD of the
/// cycles before it (with the `trace` feature) and panic.
fn check(name: &str, stim: impl Fn() -> Stimulus, n: u64) -> Seen {
    let t = std::time::Instant::now();
    match cosim(stim(), n) {
        Ok(seen) => {
            eprintln!(
                "{name}: {n} cycles identical in {:.1} s: {seen:?}",
                t.elapsed().as_secs_f64()
            );
            seen
        }
        Err((c, msg)) => {
            let trace = if TRACE_BUILT {
                let p = vcd_path(name);
                // Replay in Verilator alone with a trace of the window.
                let mut v: Model<CoreTop> = Model::new();
                let mut stim = stim();
                let mut last = CoreOut::default();
                let from = c.saturating_sub(50);
                for k in 0..=c + 5 {
                    if k == from {
                        v.trace_open(&p).expect("trace");
                    }
                    let i = stim.step(&last);
                    last = v.cycle(&i);
                }
                v.trace_close();
                format!(
                    "Verilator VCD of cycles {from}..={}: {}",
                    c + 5,
                    p.display()
                )
            } else {
                "for a Verilator VCD, run again with `--features trace`".into()
            };
            panic!("{name}: {msg}\n{trace}");
        }
    }
}

#[test]
fn verilator_matches_rust_hdl() {
    let s = seed("verilator_matches_rust_hdl", 31);
    let n = cycles();
    let seen = check("cosim", || Stimulus::new(s), n);
    // The run exercised every kind of transfer but the overflow export.
    assert!(seen.records > n / 10 && seen.opens > 100 && seen.counter_reads > 100);
    assert!([0, 2, 3].iter().all(|&r| seen.exports[r] > 0), "{seen:?}");
    assert!(seen.commands.iter().all(|&c| c > 0), "{seen:?}");
}

#[test]
fn verilator_matches_rust_hdl_through_an_overflow() {
    let seen = check("cosim_overflow", || Stimulus::one_flow(1), 66_000);
    assert!(seen.exports[1] > 0, "{seen:?}");
}
