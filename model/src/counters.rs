//! Pipeline counters: one definition for the model, the RTL and the host.

use serde::Serialize;

macro_rules! counters {
    ($( $var:ident = $name:literal : $doc:literal ),* $(,)?) => {
        /// A pipeline counter; the discriminant is its index (and register offset).
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        pub enum Counter { $( #[doc = $doc] $var ),* }
        /// Every counter in index order.
        pub const COUNTERS: &[Counter] = &[ $( Counter::$var ),* ];
        impl Counter {
            pub fn name(self) -> &'static str { match self { $( Counter::$var => $name ),* } }
            pub fn doc(self) -> &'static str { match self { $( Counter::$var => $doc ),* } }
        }
    };
}

counters! {
    Frames = "frames": "frames offered to the parser",
    DropTruncated = "drop_truncated": "dropped: frame ends before a needed header",
    DropNonIp = "drop_non_ip": "dropped: not IPv4 or IPv6",
    DropVlanDepth = "drop_vlan_depth": "dropped: more than two VLAN tags",
    DropBadIp = "drop_bad_ip": "dropped: IP version, IHL or length inconsistent",
    DropFragment = "drop_fragment": "dropped: non-first fragment",
    DropExtChain = "drop_ext_chain": "dropped: IPv6 extension chain too long",
    DropHeaderWindow = "drop_header_window": "dropped: needed header beyond the header window",
    Records = "records": "records processed by the pipeline",
    TimeRegressions = "time_regressions": "records whose timestamp went backwards (clamped)",
    IatSamples = "iat_samples": "IAT samples produced",
    IatMisses = "iat_misses": "records without an IAT sample (first packet or gap beyond the window)",
    RttLookups = "rtt_lookups": "records asking for an RTT sample (echo reply, SYN-ACK)",
    RttSamples = "rtt_samples": "RTT samples produced",
    RttMisses = "rtt_misses": "RTT lookups that found nothing in the window",
    Opens = "opens": "slots taken by a new key",
    EvictCollision = "evict_collision": "records exported because another key took the slot",
    EvictOverflow = "evict_overflow": "records exported because the packet counter was full",
    EvictFlush = "evict_flush": "records exported by a flush",
}

/// Number of counters.
pub const N_COUNTERS: usize = COUNTERS.len();

/// Counter values.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Counters(pub [u64; N_COUNTERS]);

impl Counters {
    #[inline]
    pub fn inc(&mut self, c: Counter) {
        self.0[c as usize] += 1;
    }
    pub fn get(&self, c: Counter) -> u64 {
        self.0[c as usize]
    }
    /// Drop counters, in `DropReason` order.
    pub fn drops(&self) -> &[u64] {
        &self.0[Counter::DropTruncated as usize..=Counter::DropHeaderWindow as usize]
    }
    /// The conservation laws every implementation must satisfy.
    pub fn check_invariants(&self) -> Result<(), String> {
        use Counter::*;
        let g = |c| self.get(c);
        let mut bad = Vec::new();
        if g(Frames) != 0 && g(Frames) != g(Records) + self.drops().iter().sum::<u64>() {
            bad.push(format!(
                "frames {} != records {} + drops {}",
                g(Frames),
                g(Records),
                self.drops().iter().sum::<u64>()
            ));
        }
        if g(Records) != g(IatSamples) + g(IatMisses) {
            bad.push(format!(
                "records {} != iat_samples {} + iat_misses {}",
                g(Records),
                g(IatSamples),
                g(IatMisses)
            ));
        }
        if g(RttLookups) != g(RttSamples) + g(RttMisses) {
            bad.push(format!(
                "rtt_lookups {} != rtt_samples {} + rtt_misses {}",
                g(RttLookups),
                g(RttSamples),
                g(RttMisses)
            ));
        }
        if g(Opens) < g(EvictCollision) + g(EvictFlush) {
            bad.push(format!(
                "opens {} < collision {} + flush {} evictions",
                g(Opens),
                g(EvictCollision),
                g(EvictFlush)
            ));
        }
        if bad.is_empty() {
            Ok(())
        } else {
            Err(bad.join("; "))
        }
    }
}

impl Serialize for Counters {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(N_COUNTERS))?;
        for c in COUNTERS {
            m.serialize_entry(c.name(), &self.get(*c))?;
        }
        m.end()
    }
}
