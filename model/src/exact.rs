//! Exact reference (docs/DESIGN.md §8): true IAT and RTT from per-flow last
//! timestamps, the ground truth of every accuracy figure.

use crate::key::{FlowKey, FLAG_ECHO_REPLY, FLAG_TCP_SYNACK};
use crate::merge::{MergedAcc, MergedStats};
use rustc_hash::FxHashMap as HashMap;

#[derive(Clone, Copy, Default, Debug)]
struct Entry {
    last_ns: u64,
    stats: MergedStats,
}

/// Every IAT and RTT sample (ns) of each flow.
type Samples = HashMap<FlowKey, (Vec<u64>, Vec<u64>)>;

/// Exact per-flow tracker.
#[derive(Clone, Debug, Default)]
pub struct ExactTracker {
    flows: HashMap<FlowKey, Entry>,
    last_ns: u64,
    /// Every IAT and RTT sample per flow, when percentiles are asked for.
    samples: Option<Samples>,
}

#[inline]
fn add(a: &mut MergedAcc, x: u64) {
    if a.n == 0 {
        a.min = x;
        a.max = x;
    } else {
        a.min = a.min.min(x);
        a.max = a.max.max(x);
    }
    a.n += 1;
    a.sum += x as u128;
    a.sumsq += x as i128 * x as i128;
}

impl ExactTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// A tracker that also keeps every sample, for exact percentiles.
    pub fn keeping_samples() -> Self {
        ExactTracker {
            samples: Some(HashMap::default()),
            ..Self::default()
        }
    }

    /// Exact p50/p90/p99 of a flow's IAT and RTT samples (NaN without
    /// samples), when the tracker keeps them.
    pub fn percentiles(&self, key: &FlowKey) -> Option<([f64; 3], [f64; 3])> {
        let s = self.samples.as_ref()?;
        let (iat, rtt) = s.get(key).cloned().unwrap_or_default();
        let (mut iat, mut rtt) = (iat, rtt);
        Some((
            crate::stats::exact_percentiles(&mut iat),
            crate::stats::exact_percentiles(&mut rtt),
        ))
    }

    /// One record at `ns` nanoseconds (clamped to be monotonic, like the model).
    pub fn record(&mut self, ns: u64, key: &FlowKey, flags: u8) {
        let ns = ns.max(self.last_ns);
        self.last_ns = ns;
        let rtt = if flags & (FLAG_ECHO_REPLY | FLAG_TCP_SYNACK) != 0 {
            let rev = key.reverse(flags & FLAG_ECHO_REPLY != 0);
            self.flows.get(&rev).map(|e| ns - e.last_ns)
        } else {
            None
        };
        let e = self.flows.entry(*key).or_insert(Entry {
            last_ns: u64::MAX,
            stats: MergedStats::default(),
        });
        let iat = (e.last_ns != u64::MAX).then(|| ns - e.last_ns);
        if let Some(x) = iat {
            add(&mut e.stats.iat, x);
        }
        if let Some(r) = rtt {
            add(&mut e.stats.rtt, r);
        }
        if let Some(s) = &mut self.samples {
            let v = s.entry(*key).or_default();
            v.0.extend(iat);
            v.1.extend(rtt);
        }
        e.stats.packets += 1;
        e.last_ns = ns;
    }

    /// The time of a flow's last record (ns, after the monotonic clamp),
    /// if it is tracked.
    pub fn last_ns(&self, key: &FlowKey) -> Option<u64> {
        self.flows.get(key).map(|e| e.last_ns)
    }

    /// Flows tracked.
    pub fn len(&self) -> usize {
        self.flows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// Bytes of state the exact tracker holds: per flow a key, a last
    /// timestamp and the same accumulators BloomTime keeps, plus a hash
    /// map's control byte.
    pub fn state_bytes(&self) -> u64 {
        let per_flow = std::mem::size_of::<FlowKey>() + std::mem::size_of::<Entry>() + 1;
        (self.flows.capacity() * per_flow) as u64
    }

    /// The flows sorted by key.
    pub fn flows(&self) -> Vec<(FlowKey, MergedStats)> {
        let mut v: Vec<_> = self.flows.iter().map(|(k, e)| (*k, e.stats)).collect();
        v.sort_by_key(|a| a.0);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::*;

    #[test]
    fn iat_and_rtt_of_a_ping_exchange() {
        let mut t = ExactTracker::new();
        let req = FlowKey::v4(PROTO_ICMP, [10, 0, 0, 1], 7, [10, 0, 0, 2], 0);
        let rep = req.reverse(true);
        for i in 0..3u64 {
            t.record(i * 1_000_000, &req, FLAG_ECHO_REQUEST);
            t.record(i * 1_000_000 + 20_000, &rep, FLAG_ECHO_REPLY);
        }
        assert_eq!(t.last_ns(&req), Some(2_000_000));
        assert_eq!(t.last_ns(&rep), Some(2_020_000));
        assert_eq!(t.last_ns(&rep.reverse(false)), None);
        let f = t.flows();
        let r = f.iter().find(|(k, _)| *k == req).unwrap().1;
        let p = f.iter().find(|(k, _)| *k == rep).unwrap().1;
        assert_eq!((r.packets, r.iat.n, r.iat.sum), (3, 2, 2_000_000));
        assert_eq!(
            (p.rtt.n, p.rtt.sum, p.rtt.min, p.rtt.max),
            (3, 60_000, 20_000, 20_000)
        );
    }

    #[test]
    fn backwards_time_is_clamped() {
        let mut t = ExactTracker::new();
        let k = FlowKey::v4(17, [1, 1, 1, 1], 1, [2, 2, 2, 2], 2);
        t.record(1000, &k, 0);
        t.record(500, &k, 0);
        assert_eq!(t.flows()[0].1.iat.sum, 0);
    }
}
