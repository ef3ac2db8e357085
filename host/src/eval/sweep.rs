//! The configurations the evaluation runs: the presets, one-parameter sweeps
//! around them, a grid for the Pareto front, and the experimental
//! multi-resolution variants.

use super::attrib::{Counterfactual, COUNTERFACTUALS};
use super::design::{Design, Golden, Ideal, LevelSpec, MultiRes, MultiResSpec};
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
    /// A counterfactual of a golden configuration: one or more error
    /// causes taken away (`attrib::Counterfactual`).
    Counterfactual { cfg: Config, kind: Counterfactual },
}

/// One configuration of the evaluation.
#[derive(Clone, Debug, Serialize)]
pub struct Candidate {
    /// Unique name, e.g. `alchitry-cu`, `cu:bucket_log2=11`, `grid:s11-B32-l10-k2`.
    pub label: String,
    /// `preset`, `sweep-cu`, `sweep-paper`, `paper-scaled`, `grid`,
    /// `multires`, `counterfactual`.
    pub group: String,
    pub spec: DesignSpec,
    /// For a counterfactual: the label of the configuration it belongs to
    /// (it is run, and checked, together with that configuration).
    pub of: Option<String>,
}

impl Candidate {
    pub fn build(&self) -> Result<Box<dyn Design>, Error> {
        Ok(match &self.spec {
            DesignSpec::Golden(c) => Box::new(Golden::new(c)?),
            DesignSpec::MultiRes(s) => Box::new(MultiRes::new(s)?),
            DesignSpec::Counterfactual { cfg, kind } => match kind {
                Counterfactual::InfiniteTable => Box::new(Golden::without_table(cfg)?),
                Counterfactual::NoCollisions => Box::new(Ideal::new(cfg, true)?),
                Counterfactual::NoCollisionsInfiniteWindow => Box::new(Ideal::new(cfg, false)?),
            },
        })
    }

    /// The counterfactual this candidate is, if any.
    pub fn counterfactual(&self) -> Option<Counterfactual> {
        match &self.spec {
            DesignSpec::Counterfactual { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// The configuration (the base one of a multi-resolution design).
    pub fn config(&self) -> &Config {
        match &self.spec {
            DesignSpec::Golden(c) | DesignSpec::Counterfactual { cfg: c, .. } => c,
            DesignSpec::MultiRes(s) => &s.base,
        }
    }

    pub fn design_name(&self) -> &'static str {
        match &self.spec {
            DesignSpec::Golden(_) => "golden",
            DesignSpec::MultiRes(_) => "multires",
            DesignSpec::Counterfactual { kind, .. } => match kind {
                Counterfactual::InfiniteTable => "cf-infinite-table",
                Counterfactual::NoCollisions => "cf-no-collisions",
                Counterfactual::NoCollisionsInfiniteWindow => "cf-no-collisions-infinite-window",
            },
        }
    }

    /// State bytes (a counterfactual's are its golden configuration's).
    pub fn state_bytes(&self) -> u64 {
        match &self.spec {
            DesignSpec::Golden(c) | DesignSpec::Counterfactual { cfg: c, .. } => c.state_bytes(),
            DesignSpec::MultiRes(s) => s.state_bytes(),
        }
    }

    pub fn bank_bytes(&self) -> u64 {
        match &self.spec {
            DesignSpec::Golden(c) | DesignSpec::Counterfactual { cfg: c, .. } => c.bank_bytes(),
            DesignSpec::MultiRes(s) => {
                let c = &s.base;
                (c.banks as u64 * c.lines() as u64 * s.line_bits()).div_ceil(8)
            }
        }
    }

    /// Longest gap the design can see, in nanoseconds.
    pub fn window_ns(&self) -> u64 {
        match &self.spec {
            DesignSpec::Golden(c) | DesignSpec::Counterfactual { cfg: c, .. } => c.window_ns(),
            DesignSpec::MultiRes(s) => s.window_ns(),
        }
    }

    /// The levels of a multi-resolution design as `+extra:buckets` (empty
    /// for the golden model), and whether it refines.
    pub fn levels(&self) -> String {
        match &self.spec {
            DesignSpec::Golden(_) | DesignSpec::Counterfactual { .. } => String::new(),
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
        of: None,
    }
}

/// The counterfactuals of a golden candidate.
fn counterfactuals(of: &Candidate) -> Vec<Candidate> {
    COUNTERFACTUALS
        .iter()
        .map(|&kind| Candidate {
            label: format!("{}/cf:{}", of.label, kind.name()),
            group: "counterfactual".into(),
            spec: DesignSpec::Counterfactual {
                cfg: *of.config(),
                kind,
            },
            of: Some(of.label.clone()),
        })
        .collect()
}

/// Lines per bank of the `paper` preset scaled down so that the load ladder
/// reaches its capacity; flow-table slots scale with the lines.
pub const PAPER_SCALED_LINES_LOG2: [u32; 5] = [8, 9, 10, 11, 12];

/// The `paper` preset with `2^lines_log2` lines per bank (and a quarter as
/// many slots, the preset's ratio).
pub fn paper_scaled(lines_log2: u32) -> Candidate {
    golden(
        format!("paper-scaled:lines_log2={lines_log2}"),
        "paper-scaled",
        Config {
            lines_log2,
            slots_log2: lines_log2 - 2,
            ..PAPER
        },
    )
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

/// Grid label of a configuration: `s` bucket_log2, `B` buckets, `l`
/// lines_log2, `k` banks, `t` slots_log2 (time unit, tag, fingerprint,
/// packet and sample bits as alchitry-cu).
pub fn grid_label(c: &Config) -> String {
    format!(
        "grid:s{}-B{}-l{}-k{}-t{}",
        c.bucket_log2, c.buckets, c.lines_log2, c.banks, c.slots_log2
    )
}

/// The grid for the Pareto front: bucket width, buckets per ring, lines per
/// bank and banks. The flow table has 64 slots throughout: the host merge
/// makes its evictions lossless, so a larger table changes no estimate
/// (only fingerprint aliasing, at 2^-30 per key pair) — it lowers the export
/// traffic, which the `cu:slots_log2` sweep measures.
fn grid() -> Vec<Candidate> {
    let mut out = Vec::new();
    for s in [9, 11, 13, 15, 17] {
        for b in [16, 32, 64] {
            for l in 7..=12 {
                for k in 1..=3 {
                    let c = Config {
                        bucket_log2: s,
                        buckets: b,
                        lines_log2: l,
                        banks: k,
                        slots_log2: GRID_SLOTS_LOG2,
                        ..ALCHITRY_CU
                    };
                    if c.validate().is_ok() {
                        out.push(golden(grid_label(&c), "grid", c));
                    }
                }
            }
        }
    }
    out
}

/// Flow-table slots of the grid, as a power of two.
pub const GRID_SLOTS_LOG2: u32 = 6;

fn multires(label: &str, base: Config, coarse: &[(u32, u32)], refine: bool) -> Candidate {
    Candidate {
        label: format!("mr:{label}{}", if refine { "" } else { "-norefine" }),
        group: "multires".into(),
        of: None,
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
    // Within the HX8K budget: a 64-slot table leaves room for more rings.
    let t6 = |c: Config| Config { slots_log2: 6, ..c };
    v.push(multires(
        "cu8+4x8+8x8-t6",
        t6(fine8),
        &[(4, 8), (8, 8)],
        true,
    ));
    v.push(multires(
        "s11-8+3x8+6x8+9x8-t6",
        t6(s11),
        &[(3, 8), (6, 8), (9, 8)],
        true,
    ));
    v.push(multires(
        "cu+4x16+8x16-l8-t6",
        t6(Config {
            lines_log2: 8,
            ..cu
        }),
        &[(4, 16), (8, 16)],
        true,
    ));
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
/// sweep points and one multi-resolution variant (tests, smoke runs). The
/// presets come first, each followed by its counterfactuals.
pub fn candidates(quick: bool) -> Vec<Candidate> {
    let mut v = Vec::new();
    for p in [
        golden("alchitry-cu", "preset", ALCHITRY_CU),
        golden("paper", "preset", PAPER),
    ] {
        let cfs = counterfactuals(&p);
        v.push(p);
        v.extend(cfs);
    }
    if quick {
        v.push(golden(
            "cu:bucket_log2=16",
            "sweep-cu",
            Config {
                bucket_log2: 16,
                ..ALCHITRY_CU
            },
        ));
        v.push(paper_scaled(8));
        v.push(multires("cu+4x16", ALCHITRY_CU, &[(4, 16)], true));
        return v;
    }
    v.extend(one_at_a_time("cu", "sweep-cu", ALCHITRY_CU, true));
    v.extend(one_at_a_time("paper", "sweep-paper", PAPER, false));
    v.extend(PAPER_SCALED_LINES_LOG2.iter().map(|&l| paper_scaled(l)));
    v.extend(grid());
    v.extend(multires_variants());
    // Labels are unique; a golden configuration met twice (a grid point
    // equal to a sweep point) is kept once, under its first label.
    let mut seen = std::collections::HashSet::new();
    let mut configs = std::collections::HashSet::new();
    v.retain(|c| {
        let fresh_cfg = match &c.spec {
            DesignSpec::Golden(cfg) => configs.insert(format!("{cfg:?}")),
            DesignSpec::MultiRes(_) | DesignSpec::Counterfactual { .. } => true,
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
            assert_eq!(v[4].label, "paper");
            let mut labels = std::collections::HashSet::new();
            for c in &v {
                assert!(labels.insert(c.label.clone()), "duplicate {}", c.label);
                c.build().unwrap_or_else(|e| panic!("{}: {e}", c.label));
                // A counterfactual belongs to a golden candidate listed before it.
                if let Some(of) = &c.of {
                    let base = v.iter().position(|b| &b.label == of).expect("base listed");
                    assert_eq!(v[base].design_name(), "golden");
                    assert_eq!(v[base].config(), c.config());
                    assert!(c.counterfactual().is_some());
                }
            }
        }
    }
}
