//! Ground truth of a generated trace: per unidirectional flow, packets and
//! the exact IAT and RTT accumulators in nanoseconds (docs/DESIGN.md §8),
//! computed by the generator from its own schedule.

use bloomtime_model::key::FlowKey;
use bloomtime_model::merge::{MergedAcc, MergedStats};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::Path;

/// Exact accumulator of one sample kind, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthAcc {
    pub n: u64,
    pub sum: u128,
    pub sumsq: u128,
    pub min: u64,
    pub max: u64,
}

impl TruthAcc {
    /// Add one sample (the same rule as the exact tracker's accumulators).
    #[inline]
    pub fn add(&mut self, x: u64) {
        if self.n == 0 {
            self.min = x;
            self.max = x;
        } else {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
        self.n += 1;
        self.sum += x as u128;
        self.sumsq += x as u128 * x as u128;
    }

    pub fn to_merged(self) -> MergedAcc {
        MergedAcc {
            n: self.n,
            sum: self.sum,
            sumsq: self.sumsq as i128,
            min: self.min,
            max: self.max,
        }
    }
}

/// One unidirectional flow of a generated trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthFlow {
    /// What generated it: `constant`, `poisson`, `bursty`, `pareto`,
    /// `lognormal`, `ping`, `tcp`.
    pub kind: String,
    pub proto: u8,
    /// IPv6 (else IPv4).
    pub v6: bool,
    pub src: String,
    pub sport: u16,
    pub dst: String,
    pub dport: u16,
    /// 802.1Q tags on its frames (0, 1 or 2).
    pub vlans: u8,
    pub packets: u64,
    pub iat: TruthAcc,
    pub rtt: TruthAcc,
}

impl TruthFlow {
    pub fn key(&self) -> Result<FlowKey, String> {
        let addr = |s: &str| -> Result<[u8; 16], String> {
            match s.parse::<IpAddr>() {
                Ok(IpAddr::V4(a)) if !self.v6 => Ok(bloomtime_model::key::v4_mapped(a.octets())),
                Ok(IpAddr::V6(a)) if self.v6 => Ok(a.octets()),
                _ => Err(format!(
                    "bad {} address '{s}'",
                    if self.v6 { "IPv6" } else { "IPv4" }
                )),
            }
        };
        Ok(FlowKey {
            proto: self.proto,
            v6: self.v6,
            src: addr(&self.src)?,
            dst: addr(&self.dst)?,
            sport: self.sport,
            dport: self.dport,
        })
    }

    pub fn stats(&self) -> MergedStats {
        MergedStats {
            packets: self.packets,
            iat: self.iat.to_merged(),
            rtt: self.rtt.to_merged(),
        }
    }
}

/// The truth file: the generator's options, totals and every flow, sorted by key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    pub generator: crate::gen::GenOptions,
    pub packets: u64,
    pub first_ns: u64,
    pub last_ns: u64,
    pub flows: Vec<TruthFlow>,
}

impl Truth {
    /// Flows as the exact tracker reports them: `(key, stats)` sorted by key.
    pub fn merged(&self) -> Result<Vec<(FlowKey, MergedStats)>, String> {
        let mut v = self
            .flows
            .iter()
            .map(|f| Ok((f.key()?, f.stats())))
            .collect::<Result<Vec<_>, String>>()?;
        v.sort_by_key(|a| a.0);
        Ok(v)
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("truth serializes");
        s.push('\n');
        s
    }

    pub fn write(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        std::fs::write(path, self.to_json())
    }

    pub fn read(path: impl AsRef<Path>) -> Result<Truth, String> {
        let path = path.as_ref();
        let s = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&s).map_err(|e| format!("{}: {e}", path.display()))
    }
}
