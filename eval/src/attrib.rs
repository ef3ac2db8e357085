//! Error attribution: one pass over a trace through a design, in lock step
//! with an exact per-flow tracker, classifying every sample and building, per
//! flow, the statistics of four counterfactual designs at once.
//!
//! For each flow and metric (IAT, RTT) the pass accumulates five *levels*:
//!
//! | level | what it is | the design with … |
//! |---|---|---|
//! | `truth` | exact gaps (ns) | — (the exact tracker) |
//! | `quant` | the design's sample for the true previous packet, every exact sample | exact membership, no window limit, no table |
//! | `window` | the same, only where the previous packet is inside the window | exact membership, its real window |
//! | `direct` | the samples the design really produced, summed per key | Bloom banks, real window, no flow table |
//! | `merged` | what the host reports after merging the flow table's exports | everything real |
//!
//! Going down the table adds one cause at a time, so the signed relative
//! error of a flow's mean splits exactly into
//! `quantization + window + collision + table`
//! (each the difference of consecutive levels over the true mean; a level
//! without samples takes the value of the level above it, so the sum always
//! telescopes). Each level is what a counterfactual design gives when run on
//! its own ([`Counterfactual`]: an infinite flow table, exact membership
//! instead of Bloom banks, no window limit); `bloomtime eval` runs those
//! designs next to every preset and fails unless each reproduces its level
//! flow for flow ([`check_counterfactual`]), and the tests do the same on
//! constructed traces where every cause is present.
//!
//! Samples are classified too: an exact sample whose previous packet is in
//! the window is `clean` when the design's sample came from that packet's
//! bucket, else a `collision` (another flow's mark in every bank made it look
//! newer); beyond the window it is a `window_miss`, or a `window_collision`
//! when a collision produced a sample anyway; a design sample with no exact
//! sample (a flow's first packet) is a `phantom`.

use super::corpus::{Trace, NO_FLOW};
use super::design::{Design, Est, LevelAcc};
use crate::error::Error;
use bloomtime_model::config::TS_MASK;
use bloomtime_model::key::{FlowKey, FLAG_ECHO_REPLY, FLAG_TCP_SYNACK};
use bloomtime_model::merge::MergedAcc;
use bloomtime_model::stats::{exact_moments, Moments};
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;

/// Sample classification counts of one metric.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SampleCounts {
    /// Exact samples.
    pub exact: u64,
    /// Samples the design produced.
    pub estimated: u64,
    pub clean: u64,
    pub collision: u64,
    pub window_miss: u64,
    pub window_collision: u64,
    pub phantom: u64,
}

/// Per-flow accumulators of one metric: the `quant`, `window` and `direct`
/// levels (the truth is the exact tracker's, computed once per trace).
type MetricAcc = [LevelAcc; 3];
const QUANT: usize = 0;
const WINDOW: usize = 1;
const DIRECT: usize = 2;

/// The levels of one flow and metric; `None` where a level has no samples.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Levels {
    pub truth: Moments,
    pub quant: Option<Moments>,
    pub window: Option<Moments>,
    pub direct: Option<Moments>,
    pub merged: Option<Moments>,
}

/// The causes of an error, in the order the levels add them.
pub const CAUSES: [&str; 4] = ["quantization", "window", "collision", "table"];

impl Levels {
    /// Signed relative contributions of each cause to the error of the mean
    /// (see the module docs); `None` without an estimate or a zero truth.
    pub fn mean_contributions(&self) -> Option<[f64; 4]> {
        let merged = self.merged?;
        let t = self.truth.mean_us;
        if self.truth.n == 0 || t <= 0.0 {
            return None;
        }
        let l1 = self.quant.map_or(t, |m| m.mean_us);
        let l2 = self.window.map_or(l1, |m| m.mean_us);
        let l3 = self.direct.map_or(l2, |m| m.mean_us);
        let l4 = merged.mean_us;
        Some([(l1 - t) / t, (l2 - l1) / t, (l3 - l2) / t, (l4 - l3) / t])
    }
}

/// The counterfactual designs: each takes one or two causes away. Run on
/// its own, each reproduces one level of the lock-step attribution of its
/// golden configuration exactly ([`check_counterfactual`]), which is what
/// makes the split by cause a split by *counterfactual runs*.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Counterfactual {
    /// The golden model with per-key sums instead of its flow table and host
    /// merge: removes `table`.
    InfiniteTable,
    /// Exact membership instead of the Bloom banks, the real window:
    /// removes `collision` and `table`.
    NoCollisions,
    /// Exact membership and no window limit: only `quantization` is left.
    NoCollisionsInfiniteWindow,
}

/// Every counterfactual, in the order they remove causes.
pub const COUNTERFACTUALS: [Counterfactual; 3] = [
    Counterfactual::InfiniteTable,
    Counterfactual::NoCollisions,
    Counterfactual::NoCollisionsInfiniteWindow,
];

impl Counterfactual {
    pub fn name(self) -> &'static str {
        match self {
            Counterfactual::InfiniteTable => "infinite-table",
            Counterfactual::NoCollisions => "no-collisions",
            Counterfactual::NoCollisionsInfiniteWindow => "no-collisions-infinite-window",
        }
    }

    /// Indices into [`CAUSES`] this counterfactual removes.
    pub fn removes(self) -> &'static [usize] {
        match self {
            Counterfactual::InfiniteTable => &[3],
            Counterfactual::NoCollisions => &[2, 3],
            Counterfactual::NoCollisionsInfiniteWindow => &[1, 2, 3],
        }
    }

    /// The level of the golden run this counterfactual's output equals.
    pub fn level(self, l: &Levels) -> Option<Moments> {
        match self {
            Counterfactual::InfiniteTable => l.direct,
            Counterfactual::NoCollisions => l.window,
            Counterfactual::NoCollisionsInfiniteWindow => l.quant,
        }
    }
}

/// Check that a counterfactual run `cf` reproduces, flow by flow and
/// exactly, the level of the golden run `golden` (same trace) it stands
/// for; the first difference is the error.
pub fn check_counterfactual(
    golden: &RunOutput,
    cf: &RunOutput,
    kind: Counterfactual,
) -> Result<(), String> {
    if golden.flows.len() != cf.flows.len() {
        return Err(format!(
            "{}: {} flows against {} in the golden run",
            kind.name(),
            cf.flows.len(),
            golden.flows.len()
        ));
    }
    for (g, c) in golden.flows.iter().zip(&cf.flows) {
        for (metric, gl, cl) in [("IAT", &g.iat, &c.iat), ("RTT", &g.rtt, &c.rtt)] {
            let want = kind.level(gl);
            if g.key != c.key || cl.merged != want {
                return Err(format!(
                    "{}: flow {:?} {metric}: the counterfactual run gives {:?}, the golden run's level {:?}",
                    kind.name(),
                    g.key,
                    cl.merged.map(|m| m.mean_us),
                    want.map(|m| m.mean_us)
                ));
            }
        }
    }
    Ok(())
}

/// One flow's result.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct FlowResult {
    pub key: FlowKey,
    pub packets: u64,
    pub iat: Levels,
    pub rtt: Levels,
}

/// A design's pass over a trace.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// Every flow of the trace, sorted by key.
    pub flows: Vec<FlowResult>,
    pub iat: SampleCounts,
    pub rtt: SampleCounts,
    pub export: super::design::Export,
    pub state_bytes: u64,
    pub records: u64,
}

#[inline]
fn attribute(
    d: &dyn Design,
    m: &mut MetricAcc,
    c: &mut SampleCounts,
    prev: Option<u64>,
    ts: u64,
    est: Option<Est>,
) {
    match prev {
        Some(pts) => {
            c.exact += 1;
            let (ideal, in_window) = d.ideal(pts, ts);
            m[QUANT].add(&ideal);
            if in_window {
                m[WINDOW].add(&ideal);
                match est {
                    Some(e) if e.hit == ideal.hit => c.clean += 1,
                    _ => c.collision += 1,
                }
            } else if est.is_some() {
                c.window_collision += 1;
            } else {
                c.window_miss += 1;
            }
        }
        None => {
            if est.is_some() {
                c.phantom += 1;
            }
        }
    }
    if let Some(e) = est {
        c.estimated += 1;
        m[DIRECT].add(&e);
    }
}

/// Replay `trace` through `design` and attribute every error.
pub fn run(design: &mut dyn Design, trace: &Trace) -> Result<RunOutput, Error> {
    let u = design.time_unit_log2_ns();
    let n = trace.exact.len();
    let mut last_ts = vec![0u64; n];
    let mut seen = vec![false; n];
    let mut iat = vec![[LevelAcc::new(); 3]; n];
    // RTT accumulators only for flows that ask for RTT (few).
    let mut rtt: HashMap<u32, MetricAcc> = HashMap::default();
    let (mut ci, mut cr) = (SampleCounts::default(), SampleCounts::default());
    let mut clock = 0u64;
    for (i, r) in trace.records.iter().enumerate() {
        let ts = ((r.ns >> u) & TS_MASK).max(clock);
        clock = ts;
        let f = trace.flow[i] as usize;
        let s = design.process(ts, &r.key, r.flags);
        let prev = seen[f].then_some(last_ts[f]);
        attribute(&*design, &mut iat[f], &mut ci, prev, ts, s.iat);
        if r.flags & (FLAG_ECHO_REPLY | FLAG_TCP_SYNACK) != 0 {
            let back = trace.rev[i];
            let prev = (back != NO_FLOW).then(|| last_ts[back as usize]);
            let m = rtt.entry(f as u32).or_insert([LevelAcc::new(); 3]);
            attribute(&*design, m, &mut cr, prev, ts, s.rtt);
        } else if s.rtt.is_some() {
            return Err(Error::Invariant(
                "a design produced an RTT sample for a record that does not ask for one".into(),
            ));
        }
        seen[f] = true;
        last_ts[f] = ts;
    }
    let merged = design.finish()?;
    let merged: Option<HashMap<FlowKey, (Moments, Moments)>> =
        merged.map(|v| v.into_iter().map(|(k, i, r)| (k, (i, r))).collect());
    if let Some(m) = &merged {
        if m.len() > n
            || m.keys()
                .any(|k| trace.exact.binary_search_by_key(k, |e| e.0).is_err())
        {
            return Err(Error::Invariant(
                "the host merge reports a flow no record had".into(),
            ));
        }
    }
    let opt = |m: Moments| (m.n > 0).then_some(m);
    let empty = [LevelAcc::new(); 3];
    let mut out = Vec::with_capacity(n);
    for (id, (k, exact)) in trace.exact.iter().enumerate() {
        let lv = |m: &MetricAcc, truth: &MergedAcc, pick: fn(&(Moments, Moments)) -> Moments| {
            let direct = opt(design.moments(&m[DIRECT]));
            Levels {
                truth: exact_moments(truth),
                quant: opt(design.moments(&m[QUANT])),
                window: opt(design.moments(&m[WINDOW])),
                direct,
                merged: match &merged {
                    Some(mm) => mm.get(k).map(pick).and_then(opt),
                    None => direct,
                },
            }
        };
        out.push(FlowResult {
            key: *k,
            packets: exact.packets,
            iat: lv(&iat[id], &exact.iat, |p| p.0),
            rtt: lv(rtt.get(&(id as u32)).unwrap_or(&empty), &exact.rtt, |p| p.1),
        });
    }
    Ok(RunOutput {
        flows: out,
        iat: ci,
        rtt: cr,
        export: design.export(),
        state_bytes: design.state_bytes(),
        records: trace.records.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::{Family, Rec};
    use crate::design::{Golden, Ideal};
    use crate::metrics::{breakdown, iat, rtt};
    use bloomtime_model::config::{Config, ALCHITRY_CU_V1};
    use bloomtime_model::hash::Hashes;
    use bloomtime_model::key::{FLAG_ECHO_REQUEST, PROTO_ICMP, PROTO_UDP};

    /// Four buckets of 1024 time units (~1 ms) on two lines of one bank, a
    /// two-slot table with two-bit fingerprints: every cause is present.
    fn tiny() -> Config {
        Config {
            levels: bloomtime_model::config::Levels::one(10, 4),
            banks: 1,
            lines_log2: 1,
            slots_log2: 1,
            fingerprint_bits: 2,
            ..ALCHITRY_CU_V1
        }
    }

    /// The same with a second, coarser level (4 buckets of ~16 ms): the
    /// attribution holds for levels too.
    fn tiny_levels() -> Config {
        Config {
            levels: bloomtime_model::config::Levels::new(&[
                bloomtime_model::config::Level {
                    bucket_log2: 10,
                    buckets: 4,
                },
                bloomtime_model::config::Level {
                    bucket_log2: 14,
                    buckets: 4,
                },
            ]),
            epoch_tag_bits: 8,
            ..tiny()
        }
    }

    /// Twelve UDP flows at irregular sub-window gaps (quantization; marks
    /// of twelve flows on two lines: collisions; twelve keys on eight
    /// slot/fingerprint pairs: aliasing in the table), every flow with one
    /// gap of 20 ms (beyond the ~4 ms window), and a ping exchange (RTT).
    fn constructed() -> Trace {
        let mut recs = Vec::new();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        let (udp, req) = (udp_keys(), ping_request());
        let mut t = 0u64;
        for round in 0..40u64 {
            for k in &udp {
                t += 40_000 + rnd(600_000);
                recs.push(Rec {
                    ns: t,
                    key: *k,
                    flags: 0,
                });
            }
            if round == 20 {
                t += 20_000_000;
            }
            recs.push(Rec {
                ns: t,
                key: req,
                flags: FLAG_ECHO_REQUEST,
            });
            t += 300_000 + rnd(900_000);
            recs.push(Rec {
                ns: t,
                key: req.reverse(true),
                flags: FLAG_ECHO_REPLY,
            });
        }
        Trace::from_records("constructed", Family::Generated, recs).unwrap()
    }

    fn tag(k: &FlowKey, flags: u8) -> (u32, u32) {
        let h = Hashes::of_key(k, flags);
        (h.slot(&tiny()), h.fingerprint(&tiny()))
    }

    /// A ping whose request and reply have different slot/fingerprint pairs.
    fn ping_request() -> FlowKey {
        (0..u16::MAX)
            .map(|id| FlowKey::v4(PROTO_ICMP, [10, 0, 0, 3], id, [10, 0, 0, 4], 0))
            .find(|req| tag(req, FLAG_ECHO_REQUEST) != tag(&req.reverse(true), FLAG_ECHO_REPLY))
            .expect("some echo id")
    }

    /// Twelve UDP keys none of which shares the ping reply's slot and
    /// fingerprint (so that its RTT reaches the host): they share at most
    /// seven pairs, so some of them alias.
    fn udp_keys() -> Vec<FlowKey> {
        let reply = tag(&ping_request().reverse(true), FLAG_ECHO_REPLY);
        (1000..u16::MAX)
            .map(|p| FlowKey::v4(PROTO_UDP, [10, 0, 0, 1], p, [10, 0, 0, 2], 53))
            .filter(|k| tag(k, 0) != reply)
            .take(12)
            .collect()
    }

    fn design(c: Config, kind: Option<Counterfactual>) -> Box<dyn Design> {
        match kind {
            None => Box::new(Golden::new(&c).unwrap()),
            Some(Counterfactual::InfiniteTable) => Box::new(Golden::without_table(&c).unwrap()),
            Some(Counterfactual::NoCollisions) => Box::new(Ideal::new(&c, true).unwrap()),
            Some(Counterfactual::NoCollisionsInfiniteWindow) => {
                Box::new(Ideal::new(&c, false).unwrap())
            }
        }
    }

    fn run_of(kind: Option<Counterfactual>, t: &Trace) -> RunOutput {
        run(design(tiny(), kind).as_mut(), t).unwrap()
    }

    /// With two levels the 20 ms gaps are inside the line's window and
    /// reach the coarse level; the counterfactuals still reproduce their
    /// levels and the causes still add up.
    #[test]
    fn with_levels_the_counterfactuals_match_and_the_causes_add_up() {
        let t = constructed();
        let g = run(design(tiny_levels(), None).as_mut(), &t).unwrap();
        for kind in COUNTERFACTUALS {
            let r = run(design(tiny_levels(), Some(kind)).as_mut(), &t).unwrap();
            check_counterfactual(&g, &r, kind).unwrap();
        }
        assert!(breakdown(&g.flows, iat).max_residual < 1e-9);
        let one = run_of(None, &t);
        assert!(
            g.iat.window_miss < one.iat.window_miss,
            "the coarse level sees gaps the single ring misses"
        );
    }

    #[test]
    fn the_constructed_trace_has_every_cause() {
        let t = constructed();
        let g = run_of(None, &t);
        let b = breakdown(&g.flows, iat);
        for (k, name) in CAUSES.iter().enumerate() {
            assert!(b.mass[k] > 0.0, "no {name} error: {:?}", b.mass);
        }
        assert!(g.export.aliased > 0);
        assert!(g.iat.collision > 0 && g.iat.window_miss + g.iat.window_collision > 0);
        assert!(breakdown(&g.flows, rtt).flows > 0, "no RTT estimate");
    }

    #[test]
    fn the_causes_add_up_to_the_error() {
        let t = constructed();
        let g = run_of(None, &t);
        let mut n = 0;
        for f in &g.flows {
            for l in [&f.iat, &f.rtt] {
                let Some(c) = l.mean_contributions() else {
                    continue;
                };
                let e = l.merged.unwrap().mean_us;
                let signed = (e - l.truth.mean_us) / l.truth.mean_us;
                assert!(
                    (c.iter().sum::<f64>() - signed).abs() < 1e-9,
                    "{c:?} {signed}"
                );
                n += 1;
            }
        }
        assert!(n > 10);
        assert!(breakdown(&g.flows, iat).max_residual < 1e-9);
    }

    #[test]
    fn each_counterfactual_removes_its_own_causes_and_nothing_else() {
        let t = constructed();
        let g = run_of(None, &t);
        for kind in COUNTERFACTUALS {
            let r = run_of(Some(kind), &t);
            // The separate run is the attribution's level, flow for flow.
            check_counterfactual(&g, &r, kind).unwrap();
            let b = breakdown(&r.flows, iat);
            for (k, name) in CAUSES.iter().enumerate() {
                if kind.removes().contains(&k) {
                    assert_eq!(b.mass[k], 0.0, "{}: {name} left", kind.name());
                } else {
                    assert!(b.mass[k] > 0.0, "{}: {name} gone too", kind.name());
                }
            }
            // The causes it keeps are, flow by flow, what they were.
            for (gf, rf) in g.flows.iter().zip(&r.flows) {
                if let (Some(a), Some(c)) =
                    (gf.iat.mean_contributions(), rf.iat.mean_contributions())
                {
                    for k in (0..4).filter(|k| !kind.removes().contains(k)) {
                        assert_eq!(a[k], c[k], "{} {:?}", kind.name(), gf.key);
                    }
                }
            }
        }
    }

    #[test]
    fn a_counterfactual_that_does_not_match_is_caught() {
        let t = constructed();
        let g = run_of(None, &t);
        let notable = run_of(Some(Counterfactual::InfiniteTable), &t);
        // With collisions present, per-key sums of the model are not what
        // exact membership gives, and the table's aliasing shows too.
        assert!(check_counterfactual(&g, &notable, Counterfactual::NoCollisions).is_err());
        assert!(check_counterfactual(&g, &g, Counterfactual::InfiniteTable).is_err());
        let ideal = run_of(Some(Counterfactual::NoCollisions), &t);
        let e = check_counterfactual(&g, &ideal, Counterfactual::NoCollisionsInfiniteWindow);
        assert!(e.unwrap_err().contains("no-collisions-infinite-window"));
    }

    #[test]
    fn samples_are_classified() {
        let t = constructed();
        let g = run_of(None, &t);
        let ideal = run_of(Some(Counterfactual::NoCollisions), &t);
        let open = run_of(Some(Counterfactual::NoCollisionsInfiniteWindow), &t);
        for r in [&g, &ideal, &open] {
            for c in [&r.iat, &r.rtt] {
                assert_eq!(
                    c.clean + c.collision + c.window_miss + c.window_collision,
                    c.exact
                );
            }
        }
        // Exact membership: no collisions, no sample without a true one.
        let i = ideal.iat;
        assert_eq!((i.collision, i.window_collision, i.phantom), (0, 0, 0));
        assert!(i.window_miss > 0);
        assert_eq!(i.estimated, i.clean);
        // No window either: every exact sample is estimated.
        assert_eq!(open.iat.estimated, open.iat.exact);
        assert_eq!(open.iat.window_miss, 0);
        // The Bloom banks of the golden model collide.
        assert!(g.iat.collision > 0);
        assert_eq!(g.iat.exact, ideal.iat.exact);
    }
}
