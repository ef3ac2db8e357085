//! The evaluation corpus: every trace parsed once into records held in
//! memory, so that hundreds of configurations replay the same records
//! without touching the files again.
//!
//! Records follow the replay rule of `analyze` exactly
//! (`bloomtime_traces::Records`): nanoseconds since the first packet of the
//! capture (saturating), the parser's header window, and dropped frames
//! counted but not kept. The exact tracker runs once per trace
//! here: its per-flow statistics are the truth of every configuration, and
//! its state size the baseline of the memory comparison.

use crate::error::Error;
use bloomtime_model::exact::ExactTracker;
use bloomtime_model::key::{FlowKey, FLAG_ECHO_REPLY, FLAG_TCP_SYNACK};
use bloomtime_model::merge::MergedStats;
use bloomtime_traces::gen::{generate_file, GenOptions, Mix};
use bloomtime_traces::Records;
use rustc_hash::FxHashMap as HashMap;
use std::path::{Path, PathBuf};

/// One parsed packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rec {
    /// Nanoseconds since the first packet of the capture (saturating at 0).
    pub ns: u64,
    pub key: FlowKey,
    pub flags: u8,
}

/// Where a trace comes from; decides which summaries it enters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Family {
    /// A real capture from the shared traces directory.
    Real,
    /// A generated trace of a given traffic kind (heavy tails, pings, ...).
    Generated,
    /// One step of the load ladder: generated, `n` conversations of the
    /// default mix, the same per-flow behaviour at every step.
    Load(u32),
    /// Generated pings and TCP handshakes with microsecond RTTs (5–200 µs).
    Micro,
}

impl Family {
    pub fn name(&self) -> &'static str {
        match self {
            Family::Real => "real",
            Family::Generated => "generated",
            Family::Load(_) => "load",
            Family::Micro => "micro",
        }
    }
}

/// Marks "no flow" in [`Trace::rev`].
pub const NO_FLOW: u32 = u32::MAX;

/// A trace in memory, with everything that does not depend on the
/// configuration computed once: flow identities, reverse-flow lookups and
/// the exact per-flow statistics.
#[derive(Clone, Debug)]
pub struct Trace {
    pub name: String,
    pub family: Family,
    pub path: PathBuf,
    pub frames: u64,
    pub records: Vec<Rec>,
    /// Per record: its flow, an index into `exact`.
    pub flow: Vec<u32>,
    /// Per record: for a record asking for RTT (echo reply, SYN-ACK), the
    /// reverse flow if a packet of it came earlier (the exact tracker's
    /// rule); else [`NO_FLOW`].
    pub rev: Vec<u32>,
    /// The exact tracker's per-flow statistics, sorted by key.
    pub exact: Vec<(FlowKey, MergedStats)>,
    /// State bytes of the exact tracker over this trace.
    pub exact_state_bytes: u64,
    /// Seconds from the first to the last packet.
    pub duration_s: f64,
}

impl Trace {
    /// Parse a capture (pcap or pcapng) into records.
    pub fn load(path: &Path, name: &str, family: Family) -> Result<Trace, Error> {
        // Nanoseconds are kept, not time units: any configuration will do.
        let mut src = Records::open(&[path], &bloomtime_model::config::HARDWARE)?;
        let mut records = Vec::new();
        while let Some(f) = src.next_frame()? {
            if let Ok(r) = f.record() {
                records.push(Rec {
                    ns: f.rel_ns,
                    key: r.key,
                    flags: r.flags,
                });
            }
        }
        let mut t = Trace::from_records(name, family, records)?;
        t.path = path.to_path_buf();
        t.frames = src.frames();
        Ok(t)
    }

    /// A trace of records (`ns` relative to the capture's first packet).
    pub fn from_records(name: &str, family: Family, records: Vec<Rec>) -> Result<Trace, Error> {
        let mut exact = ExactTracker::new();
        let mut last = 0u64;
        for r in &records {
            exact.record(r.ns, &r.key, r.flags);
            last = last.max(r.ns);
        }
        let flows = exact.flows();
        if flows.len() >= NO_FLOW as usize {
            return Err(Error::Usage(format!(
                "{name}: too many flows ({})",
                flows.len()
            )));
        }
        let ids: HashMap<FlowKey, u32> = flows
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (*k, i as u32))
            .collect();
        let mut seen = vec![false; flows.len()];
        let mut flow = Vec::with_capacity(records.len());
        let mut rev = Vec::with_capacity(records.len());
        for r in &records {
            let id = ids[&r.key];
            let mut back = NO_FLOW;
            if r.flags & (FLAG_ECHO_REPLY | FLAG_TCP_SYNACK) != 0 {
                if let Some(&j) = ids.get(&r.key.reverse(r.flags & FLAG_ECHO_REPLY != 0)) {
                    if seen[j as usize] {
                        back = j;
                    }
                }
            }
            seen[id as usize] = true;
            flow.push(id);
            rev.push(back);
        }
        Ok(Trace {
            name: name.to_string(),
            family,
            path: PathBuf::new(),
            frames: records.len() as u64,
            exact_state_bytes: exact.state_bytes(),
            exact: flows,
            flow,
            rev,
            records,
            duration_s: last as f64 / 1e9,
        })
    }

    /// Flows of the exact tracker.
    pub fn exact_flows(&self) -> usize {
        self.exact.len()
    }
}

/// A generated trace of the evaluation: its name, family and options.
#[derive(Clone, Debug)]
pub struct GenSpec {
    pub name: String,
    pub family: Family,
    pub opts: GenOptions,
}

fn mix(s: &str) -> Mix {
    s.parse().expect("built-in mix parses")
}

/// Conversations of the load ladder (each is one or two unidirectional flows).
pub const LOAD_STEPS: [u32; 7] = [250, 500, 1000, 2000, 4000, 8000, 16000];
/// Packets per conversation on the load ladder.
pub const LOAD_PACKETS_PER_CONV: u64 = 40;
/// Length of a load-ladder trace: conversations start in its first half,
/// so at any time most of them are active.
pub const LOAD_DURATION_S: f64 = 2.0;

/// The generated traces: the `just demo` trace, four traffic kinds and the
/// load ladder. `quick` keeps only small ones (tests).
pub fn generated_specs(quick: bool) -> Vec<GenSpec> {
    let d = GenOptions::default();
    let mut v = vec![
        GenSpec {
            // Exactly what `just demo` generates (`bloomtime gen --seed 7`).
            name: "gen-demo".into(),
            family: Family::Generated,
            opts: GenOptions {
                seed: 7,
                ..d.clone()
            },
        },
        GenSpec {
            name: "gen-heavy".into(),
            family: Family::Generated,
            opts: GenOptions {
                seed: 11,
                flows: 400,
                packets: 60_000,
                duration_s: 20.0,
                mix: mix("heavy=1"),
                ..d.clone()
            },
        },
        GenSpec {
            name: "gen-ping-tcp".into(),
            family: Family::Generated,
            opts: GenOptions {
                seed: 12,
                flows: 600,
                packets: 60_000,
                duration_s: 10.0,
                mix: mix("ping=1,tcp=1"),
                ..d.clone()
            },
        },
        GenSpec {
            name: "gen-fast".into(),
            family: Family::Generated,
            opts: GenOptions {
                seed: 13,
                flows: 200,
                packets: 200_000,
                duration_s: 5.0,
                mix: mix("constant=1,poisson=1,bursty=1"),
                ..d.clone()
            },
        },
        GenSpec {
            name: "gen-slow".into(),
            family: Family::Generated,
            opts: GenOptions {
                seed: 14,
                flows: 300,
                packets: 20_000,
                duration_s: 60.0,
                ..d.clone()
            },
        },
        GenSpec {
            // Data-centre RTTs: pings and TCP handshakes answered in 5-200 us.
            name: "gen-us-rtt".into(),
            family: Family::Micro,
            opts: GenOptions {
                seed: 15,
                flows: 400,
                packets: 20_000,
                duration_s: 4.0,
                mix: mix("ping=1,tcp=1"),
                rtt_min_us: 5.0,
                rtt_max_us: 200.0,
                ..d.clone()
            },
        },
    ];
    for &n in LOAD_STEPS.iter() {
        v.push(GenSpec {
            name: format!("load-{n}"),
            family: Family::Load(n),
            opts: load_options(n),
        });
    }
    if quick {
        v.retain(|s| {
            s.name == "gen-demo" || s.family == Family::Load(250) || s.family == Family::Micro
        });
    }
    v
}

/// Options of one load-ladder step.
pub fn load_options(conversations: u32) -> GenOptions {
    GenOptions {
        seed: 1000 + conversations as u64,
        flows: conversations,
        packets: conversations as u64 * LOAD_PACKETS_PER_CONV,
        duration_s: LOAD_DURATION_S,
        ..GenOptions::default()
    }
}

/// Generate `spec` into `dir` (pcap and truth JSON) and load it. The
/// generator's own truth must equal the exact tracker's: a mismatch is a bug.
pub fn generate(spec: &GenSpec, dir: &Path) -> Result<Trace, Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let pcap = dir.join(format!("{}.pcap", spec.name));
    let truth_path = dir.join(format!("{}.truth.json", spec.name));
    let truth =
        generate_file(&spec.opts, &pcap, Some(&truth_path)).map_err(|e| Error::io(&pcap, e))?;
    let t = Trace::load(&pcap, &spec.name, spec.family.clone())?;
    let want = truth.merged().map_err(Error::Invariant)?;
    if want != t.exact {
        return Err(Error::Invariant(format!(
            "{}: the exact tracker disagrees with the generator's truth",
            pcap.display()
        )));
    }
    Ok(t)
}

/// The captures (`.pcap`, `.pcapng`) of a directory, sorted by name.
pub fn captures_in(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        Error::Usage(format!(
            "cannot read the traces directory {}: {e} (pass --traces DIR, or --no-real to use generated traces only)",
            dir.display()
        ))
    })?;
    let mut v = Vec::new();
    for e in rd {
        let p = e.map_err(|e| Error::io(dir, e))?.path();
        if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("pcap" | "pcapng")
        ) {
            v.push(p);
        }
    }
    v.sort();
    if v.is_empty() {
        return Err(Error::Usage(format!(
            "no captures (.pcap, .pcapng) in {} (pass --traces DIR, or --no-real)",
            dir.display()
        )));
    }
    Ok(v)
}

/// A trace's name: its file name without the extension.
pub fn trace_name(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}
