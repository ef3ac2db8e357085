//! The configurations the evaluation runs: the presets, one-parameter sweeps
//! around them, a grid for the Pareto front, and the experimental
//! multi-resolution variants.

use super::design::{Design, Golden, LevelSpec, MultiRes, MultiResSpec};
use crate::error::Error;
use bloomtime_model::config::{Config, ALCHITRY_CU, PAPER};
use serde::Serialize;

/// What to build.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum DesignSpec {
    /// The golden model (what the hardware computes).
    Golden(Config),
    /// The experimental multi-resolution variant (evaluation only).
    MultiRes(MultiResSpec),
}

/// One configuration of the evaluation.
#[derive(Clone, Debug, Serialize)]
pub struct Candidate {
    /// Unique name, e.g. `alchitry-cu`, `cu:bucket_log2=11`, `grid:s11-B32-l10-k2`.
    pub label: String,
    /// `preset`, `sweep-cu`, `sweep-paper`, `grid`, `multires`.
    pub group: String,
    pub spec: DesignSpec,
}

impl Candidate {
    pub fn build(&self) -> Result<Box<dyn Design>, Error> {
        Ok(match &self.spec {
            DesignSpec::Golden(c) => Box::new(Golden::new(c)?),
            DesignSpec::MultiRes(s) => Box::new(MultiRes::new(s)?),
        })
    }

    /// The configuration (the base one of a multi-resolution design).
    pub fn config(&self) -> &Config {
        match &self.spec {
            DesignSpec::Golden(c) => c,
            DesignSpec::MultiRes(s) => &s.base,
        }
    }

    pub fn design_name(&self) -> &'static str {
        match &self.spec {
            DesignSpec::Golden(_) => "golden",
            DesignSpec::MultiRes(_) => "multires",
        }
    }

    pub fn state_bytes(&self) -> u64 {
        match &self.spec {
            DesignSpec::Golden(c) => c.state_bytes(),
            DesignSpec::MultiRes(s) => s.state_bytes(),
        }
    }

    pub fn bank_bytes(&self) -> u64 {
        match &self.spec {
            DesignSpec::Golden(c) => c.bank_bytes(),
            DesignSpec::MultiRes(s) => {
                let c = &s.base;
                (c.banks as u64 * c.lines() as u64 * s.line_bits()).div_ceil(8)
            }
        }
    }

    /// Longest gap the design can see, in nanoseconds.
    pub fn window_ns(&self) -> u64 {
        match &self.spec {
            DesignSpec::Golden(c) => c.window_ns(),
            DesignSpec::MultiRes(s) => s.window_ns(),
        }
    }

    /// The levels of a multi-resolution design as `+extra:buckets` (empty
    /// for the golden model), and whether it refines.
    pub fn levels(&self) -> String {
        match &self.spec {
            DesignSpec::Golden(_) => String::new(),
            DesignSpec::MultiRes(s) => {
                let mut v: Vec<String> = s
                    .coarse
                    .iter()
                    .map(|l| format!("+{}:{}", l.extra_log2, l.buckets))
                    .collect();
                if s.refine {
                    v.push("refine".into());
                }
                v.join(" ")
            }
        }
    }
}

fn golden(label: impl Into<String>, group: &str, c: Config) -> Candidate {
    Candidate {
        label: label.into(),
        group: group.into(),
        spec: DesignSpec::Golden(c),
    }
}

/// One-parameter sweeps around `base` (the base itself excluded).
fn one_at_a_time(prefix: &str, group: &str, base: Config, full: bool) -> Vec<Candidate> {
    type Set = fn(&mut Config, u32);
    let params: Vec<(&str, Set, Vec<u32>)> = if full {
        vec![
            ("bucket_log2", |c, v| c.bucket_log2 = v, (8..=18).collect()),
            (
                "buckets",
                |c, v| c.buckets = v,
                vec![8, 12, 16, 24, 32, 48, 64],
            ),
            ("lines_log2", |c, v| c.lines_log2 = v, (5..=14).collect()),
            ("banks", |c, v| c.banks = v, vec![1, 2, 3, 4]),
            (
                "slots_log2",
                |c, v| c.slots_log2 = v,
                vec![4, 5, 6, 7, 8, 9, 10, 12],
            ),
            (
                "sample_frac_bits",
                |c, v| c.sample_frac_bits = v,
                vec![2, 3, 4, 5, 6, 8],
            ),
        ]
    } else {
        vec![
            ("bucket_log2", |c, v| c.bucket_log2 = v, vec![12, 16]),
            ("buckets", |c, v| c.buckets = v, vec![32, 64]),
            ("lines_log2", |c, v| c.lines_log2 = v, vec![14, 16]),
            ("banks", |c, v| c.banks = v, vec![1, 3]),
        ]
    };
    let mut out = Vec::new();
    for (name, set, values) in params {
        for v in values {
            let mut c = base;
            set(&mut c, v);
            if c == base || c.validate().is_err() {
                continue;
            }
            out.push(golden(format!("{prefix}:{name}={v}"), group, c));
        }
    }
    out
}

/// Grid label of a configuration (time unit, tag, fingerprint, packet bits
/// and sample bits as alchitry-cu).
pub fn grid_label(c: &Config) -> String {
    format!(
        "grid:s{}-B{}-l{}-k{}-t{}",
        c.bucket_log2, c.buckets, c.lines_log2, c.banks, c.slots_log2
    )
}

/// The grid for the Pareto front.
fn grid() -> Vec<Candidate> {
    let mut out = Vec::new();
    for s in [9, 11, 13, 15, 17] {
        for b in [16, 32, 64] {
            for l in 7..=12 {
                for k in 1..=3 {
                    for t in [6, 8] {
                        let c = Config {
                            bucket_log2: s,
                            buckets: b,
                            lines_log2: l,
                            banks: k,
                            slots_log2: t,
                            ..ALCHITRY_CU
                        };
                        if c.validate().is_ok() {
                            out.push(golden(grid_label(&c), "grid", c));
                        }
                    }
                }
            }
        }
    }
    out
}

fn multires(label: &str, base: Config, coarse: &[(u32, u32)], refine: bool) -> Candidate {
    Candidate {
        label: format!("mr:{label}{}", if refine { "" } else { "-norefine" }),
        group: "multires".into(),
        spec: DesignSpec::MultiRes(MultiResSpec {
            base,
            coarse: coarse
                .iter()
                .map(|&(extra_log2, buckets)| LevelSpec {
                    extra_log2,
                    buckets,
                })
                .collect(),
            refine,
        }),
    }
}

/// The multi-resolution variants, each with a golden configuration of
/// comparable memory in the sweep.
fn multires_variants() -> Vec<Candidate> {
    let cu = ALCHITRY_CU;
    let fine8 = Config { buckets: 8, ..cu };
    let s11 = Config {
        bucket_log2: 11,
        buckets: 8,
        ..cu
    };
    let mut v = Vec::new();
    for refine in [true, false] {
        // alchitry-cu plus coarser rings.
        v.push(multires("cu+4x16", cu, &[(4, 16)], refine));
        v.push(multires("cu+4x16+8x16", cu, &[(4, 16), (8, 16)], refine));
        // alchitry-cu's bits per line, split into two or three levels.
        v.push(multires("cu8+3x8", fine8, &[(3, 8)], refine));
        v.push(multires("cu8+4x8+8x8", fine8, &[(4, 8), (8, 8)], refine));
    }
    v.push(multires("cu+6x16", cu, &[(6, 16)], true));
    v.push(multires(
        "s11-8+3x8+6x8+9x8",
        s11,
        &[(3, 8), (6, 8), (9, 8)],
        true,
    ));
    v.push(multires(
        "s11-8+3x8+6x8+9x8-l10",
        Config {
            lines_log2: 10,
            ..s11
        },
        &[(3, 8), (6, 8), (9, 8)],
        true,
    ));
    v.push(multires(
        "cu+4x16-l10",
        Config {
            lines_log2: 10,
            ..cu
        },
        &[(4, 16)],
        true,
    ));
    v.push(multires(
        "cu+4x16+8x16-l10",
        Config {
            lines_log2: 10,
            ..cu
        },
        &[(4, 16), (8, 16)],
        true,
    ));
    v
}

/// Every configuration of the evaluation. `quick` keeps the presets, a few
/// sweep points and two multi-resolution variants (tests).
pub fn candidates(quick: bool) -> Vec<Candidate> {
    let mut v = vec![
        golden("alchitry-cu", "preset", ALCHITRY_CU),
        golden("paper", "preset", PAPER),
    ];
    if quick {
        v.push(golden(
            "cu:bucket_log2=16",
            "sweep-cu",
            Config {
                bucket_log2: 16,
                ..ALCHITRY_CU
            },
        ));
        v.push(multires("cu+4x16", ALCHITRY_CU, &[(4, 16)], true));
        return v;
    }
    v.extend(one_at_a_time("cu", "sweep-cu", ALCHITRY_CU, true));
    v.extend(one_at_a_time("paper", "sweep-paper", PAPER, false));
    v.extend(grid());
    v.extend(multires_variants());
    // Labels are unique; a grid point equal to a sweep point is kept once.
    let mut seen = std::collections::HashSet::new();
    let mut configs = std::collections::HashSet::new();
    v.retain(|c| {
        let fresh_cfg = match &c.spec {
            DesignSpec::Golden(cfg) => configs.insert(format!("{cfg:?}")),
            DesignSpec::MultiRes(_) => true,
        };
        fresh_cfg && seen.insert(c.label.clone())
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_unique_valid_and_start_with_the_presets() {
        for quick in [true, false] {
            let v = candidates(quick);
            assert_eq!(v[0].label, "alchitry-cu");
            assert_eq!(v[1].label, "paper");
            let mut labels = std::collections::HashSet::new();
            for c in &v {
                assert!(labels.insert(c.label.clone()), "duplicate {}", c.label);
                c.build().unwrap_or_else(|e| panic!("{}: {e}", c.label));
            }
        }
    }
}
