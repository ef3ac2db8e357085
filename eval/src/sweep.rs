//! The configurations the evaluation runs: the presets, one-parameter sweeps
//! around the single-ring ones, a single-ring grid for the Pareto front, the
//! multi-level designs that fit the HX8K's block RAM (where `alchitry-cu`
//! is chosen from) and multi-level software variants. Every one is a
//! golden-model configuration (`bloomtime_model::Config`).

use super::attrib::{Counterfactual, COUNTERFACTUALS};
use super::design::{Design, Golden, Ideal};
use crate::error::Error;
use bloomtime_model::config::{
    bram, Config, Levels, ALCHITRY_CU, ALCHITRY_CU_V1, DATACENTER, LARGE, PAPER, PRESETS,
};
use serde::Serialize;

/// What to build.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum DesignSpec {
    /// The golden model (what the hardware computes).
    Golden(Config),
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
    /// `hx8k` (multi-level, fits the board), `levels` (multi-level
    /// software), `counterfactual`.
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

    /// The configuration.
    pub fn config(&self) -> &Config {
        match &self.spec {
            DesignSpec::Golden(c) | DesignSpec::Counterfactual { cfg: c, .. } => c,
        }
    }

    pub fn design_name(&self) -> &'static str {
        match &self.spec {
            DesignSpec::Golden(_) => "golden",
            DesignSpec::Counterfactual { kind, .. } => match kind {
                Counterfactual::InfiniteTable => "cf-infinite-table",
                Counterfactual::NoCollisions => "cf-no-collisions",
                Counterfactual::NoCollisionsInfiniteWindow => "cf-no-collisions-infinite-window",
            },
        }
    }

    /// State bytes (a counterfactual's are its golden configuration's).
    pub fn state_bytes(&self) -> u64 {
        self.config().state_bytes()
    }

    pub fn bank_bytes(&self) -> u64 {
        self.config().bank_bytes()
    }

    /// iCE40 block RAMs of core and board.
    pub fn board_brams(&self) -> u64 {
        self.config().board_brams()
    }

    /// Does core plus board fit the HX8K's block RAM?
    pub fn fits_hx8k(&self) -> bool {
        self.board_brams() <= bram::HX8K_BLOCKS
    }

    /// Longest gap the design can see, in nanoseconds.
    pub fn window_ns(&self) -> u64 {
        self.config().window_ns()
    }

    /// Is this a multi-level design?
    pub fn multi_level(&self) -> bool {
        self.config().level_count() > 1
    }

    /// The levels as `bucket_log2:buckets`, finest first.
    pub fn levels(&self) -> String {
        levels_label(self.config())
    }
}

/// `bucket_log2:buckets` of every level, finest first.
pub fn levels_label(c: &Config) -> String {
    c.levels
        .as_slice()
        .iter()
        .map(|l| format!("{}:{}", l.bucket_log2, l.buckets))
        .collect::<Vec<_>>()
        .join(" ")
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

/// A single ring of `buckets` buckets of `2^bucket_log2` units, with an epoch
/// tag wide enough for it.
pub fn single_ring(base: Config, bucket_log2: u32, buckets: u32) -> Config {
    let mut c = Config {
        levels: Levels::one(bucket_log2, buckets),
        ..base
    };
    c.epoch_tag_bits = base.epoch_tag_bits.max(c.min_epoch_tag_bits());
    c
}

fn set_bucket_log2(c: &mut Config, v: u32) {
    *c = single_ring(*c, v, c.level(0).buckets);
}

fn set_buckets(c: &mut Config, v: u32) {
    *c = single_ring(*c, c.level(0).bucket_log2, v);
}

/// One-parameter sweeps around a single-ring `base` (the base itself excluded).
fn one_at_a_time(prefix: &str, group: &str, base: Config, full: bool) -> Vec<Candidate> {
    type Set = fn(&mut Config, u32);
    let params: Vec<(&str, Set, Vec<u32>)> = if full {
        vec![
            ("bucket_log2", set_bucket_log2, (8..=18).collect()),
            ("buckets", set_buckets, vec![8, 12, 16, 24, 32, 48, 64]),
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
            ("bucket_log2", set_bucket_log2, vec![12, 16]),
            ("buckets", set_buckets, vec![32, 64]),
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
        c.level(0).bucket_log2,
        c.level(0).buckets,
        c.lines_log2,
        c.banks,
        c.slots_log2
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
                        lines_log2: l,
                        banks: k,
                        slots_log2: GRID_SLOTS_LOG2,
                        ..single_ring(ALCHITRY_CU_V1, s, b)
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

/// What the board's preset must do (issue 12): resolve gaps of 16 µs or
/// less, see gaps of 8 s or more.
pub const HX8K_FINEST_NS: u64 = 16_000;
pub const HX8K_WINDOW_NS: u64 = 8_000_000_000;

/// Label of a multi-level hardware candidate: finest level `s`, level step
/// `g`, `B` buckets a level, `L` levels, `f` sample bits, lines `l`, banks
/// `k`, `P` counter bits, and what the slot keeps (`m` mean only, `e` with
/// extremes, `v` with the second moment, `ev` both).
pub fn hx8k_label(c: &Config) -> String {
    let keep = match (c.extremes, c.second_moment) {
        (false, false) => "m",
        (true, false) => "e",
        (false, true) => "v",
        (true, true) => "ev",
    };
    format!(
        "hx8k:s{}-g{}-B{}-L{}-f{}-l{}-k{}-P{}-fp{}-{keep}",
        c.level(0).bucket_log2,
        c.level_shift(c.level_count().min(2) - 1),
        c.level(0).buckets,
        c.level_count(),
        c.sample_frac_bits,
        c.lines_log2,
        c.banks,
        c.packet_bits,
        c.fingerprint_bits
    )
}

/// Geometric levels from `2^s0` units, `step` octaves apart, `buckets` each:
/// as few as reach `window_ns`, with the tag they need.
pub fn geometric_reaching(
    base: Config,
    s0: u32,
    step: u32,
    buckets: u32,
    window_ns: u64,
) -> Option<Config> {
    (1..=bloomtime_model::config::MAX_LEVELS).find_map(|n| {
        let mut c = Config {
            levels: Levels::geometric(s0, step, buckets, n),
            ..base
        };
        c.epoch_tag_bits = c.min_epoch_tag_bits();
        (c.window_ns() >= window_ns && c.validate().is_ok()).then_some(c)
    })
}

/// The multi-level designs that meet the board's range and fit its 32 block
/// RAMs (core plus the board's buffers): the space `alchitry-cu` is chosen
/// from.
pub fn hx8k_candidates() -> Vec<Candidate> {
    let mut out = Vec::new();
    for s0 in [2, 3] {
        for (b, step) in [
            (2, 1),
            (4, 2),
            (4, 1),
            (6, 2),
            (8, 3),
            (8, 2),
            (12, 3),
            (16, 4),
            (12, 4),
        ] {
            for f in [1, 2] {
                for (l, k) in [(8, 2), (9, 1), (9, 2), (8, 1), (8, 3), (10, 1)] {
                    // Counter and fingerprint widths, and what a slot keeps
                    // (extremes, second moment); the slot's options only at
                    // the middle widths.
                    for (p, fp, e, v) in [
                        (6, 24, false, false),
                        (6, 15, false, false),
                        (8, 24, false, false),
                        (10, 24, false, false),
                        (8, 24, true, false),
                        (8, 24, false, true),
                        (8, 24, true, true),
                    ] {
                        let base = Config {
                            lines_log2: l,
                            banks: k,
                            slots_log2: 8,
                            fingerprint_bits: fp,
                            sample_frac_bits: f,
                            packet_bits: p,
                            extremes: e,
                            second_moment: v,
                            histogram: false,
                            ..ALCHITRY_CU
                        };
                        let Some(c) = geometric_reaching(base, s0, step, b, HX8K_WINDOW_NS) else {
                            continue;
                        };
                        if c.bucket_ns() <= HX8K_FINEST_NS && c.board_brams() <= bram::HX8K_BLOCKS {
                            out.push(golden(hx8k_label(&c), "hx8k", c));
                        }
                    }
                }
            }
        }
    }
    out
}

/// Multi-level software variants around `large` and `datacenter`.
fn level_variants() -> Vec<Candidate> {
    let mut v = Vec::new();
    for (name, base) in [("large", LARGE), ("datacenter", DATACENTER)] {
        let s0 = base.level(0).bucket_log2;
        for (b, step) in [(8, 3), (16, 4), (16, 3), (16, 2), (32, 3), (32, 4)] {
            for f in [1, 2] {
                let c = Config {
                    sample_frac_bits: f.min(s0),
                    ..base
                };
                if let Some(c) = geometric_reaching(c, s0, step, b, base.window_ns()) {
                    if c != base {
                        v.push(golden(
                            format!("{name}:B{b}-g{step}-L{}-f{f}", c.level_count()),
                            "levels",
                            c,
                        ));
                    }
                }
            }
        }
    }
    v
}

/// Every configuration of the evaluation. `quick` keeps the presets, a few
/// sweep points and one multi-resolution variant (tests, smoke runs). The
/// presets come first, each followed by its counterfactuals.
pub fn candidates(quick: bool) -> Vec<Candidate> {
    let mut v = Vec::new();
    for p in PRESETS {
        let p = golden(p.name, "preset", p.config);
        // Counterfactuals of the presets a board or the paper runs.
        let cfs = if ["alchitry-cu", "alchitry-cu-v1", "paper"].contains(&p.label.as_str()) {
            counterfactuals(&p)
        } else {
            Vec::new()
        };
        v.push(p);
        v.extend(cfs);
    }
    if quick {
        v.push(golden(
            "cu:bucket_log2=16",
            "sweep-cu",
            single_ring(ALCHITRY_CU_V1, 16, 16),
        ));
        v.push(paper_scaled(8));
        v.extend(hx8k_candidates().into_iter().take(2));
        return v;
    }
    v.extend(one_at_a_time("cu", "sweep-cu", ALCHITRY_CU_V1, true));
    v.extend(one_at_a_time("paper", "sweep-paper", PAPER, false));
    v.extend(PAPER_SCALED_LINES_LOG2.iter().map(|&l| paper_scaled(l)));
    v.extend(grid());
    v.extend(hx8k_candidates());
    v.extend(level_variants());
    // Labels are unique; a golden configuration met twice (a grid point
    // equal to a sweep point) is kept once, under its first label.
    let mut seen = std::collections::HashSet::new();
    let mut configs = std::collections::HashSet::new();
    v.retain(|c| {
        let fresh_cfg = match &c.spec {
            DesignSpec::Golden(cfg) => configs.insert(format!("{cfg:?}")),
            DesignSpec::Counterfactual { .. } => true,
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
            assert_eq!(v[4].label, "alchitry-cu-v1");
            assert_eq!(v[8].label, "paper");
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

    #[test]
    fn hx8k_candidates_meet_the_range_and_fit() {
        let v = hx8k_candidates();
        assert!(v.len() > 20, "{}", v.len());
        for c in &v {
            let cfg = c.config();
            assert!(
                c.fits_hx8k() && cfg.bucket_ns() <= HX8K_FINEST_NS,
                "{}",
                c.label
            );
            assert!(cfg.window_ns() >= HX8K_WINDOW_NS, "{}", c.label);
        }
        // The preset is one of them.
        assert!(
            v.iter().any(|c| *c.config() == ALCHITRY_CU),
            "alchitry-cu is not an hx8k candidate"
        );
    }
}
