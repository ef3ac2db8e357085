//! The generator's ground truth equals the exact tracker over its own pcap,
//! generation is deterministic, and the committed demo trace regenerates
//! byte for byte.

use bloomtime_model::exact::ExactTracker;
use bloomtime_model::key::*;
use bloomtime_traces::gen::{generate, generate_file, GenOptions, Mix, MAX_PACKETS};
use bloomtime_traces::truth::Truth;
use bloomtime_traces::{Records, TraceReader};
use std::io::Cursor;
use std::path::PathBuf;

fn exact_over(bytes: &[u8]) -> ExactTracker {
    let r = TraceReader::from_reader("gen.pcap", Cursor::new(bytes.to_vec())).unwrap();
    let mut r = Records::from_reader(r, &bloomtime_model::config::HARDWARE).unwrap();
    let mut t = ExactTracker::new();
    while let Some(f) = r.next_frame().unwrap() {
        let rec = f.record().expect("generated frames parse");
        t.record(f.rel_ns, &rec.key, rec.flags);
    }
    t
}

fn gen(opts: &GenOptions) -> (Vec<u8>, Truth) {
    let mut out = Vec::new();
    let t = generate(opts, &mut out).unwrap();
    (out, t)
}

#[test]
fn exact_tracker_over_the_pcap_equals_the_truth() {
    for seed in [1, 2, 3] {
        let opts = GenOptions {
            seed,
            flows: 80,
            packets: 6000,
            duration_s: 5.0,
            ..GenOptions::default()
        };
        let (bytes, truth) = gen(&opts);
        assert_eq!(truth.packets, 6000);
        let exact = exact_over(&bytes);
        assert_eq!(exact.flows(), truth.merged().unwrap(), "seed {seed}");
    }
}

#[test]
fn every_kind_and_encapsulation_appears() {
    let (_, t) = gen(&GenOptions::demo());
    for k in ["constant", "poisson", "bursty", "ping", "tcp"] {
        assert!(t.flows.iter().any(|f| f.kind == k), "no {k} flow");
    }
    assert!(t
        .flows
        .iter()
        .any(|f| f.kind == "pareto" || f.kind == "lognormal"));
    assert!(t
        .flows
        .iter()
        .any(|f| f.v6 && f.proto == PROTO_ICMPV6 && f.rtt.n > 0));
    assert!(t
        .flows
        .iter()
        .any(|f| !f.v6 && f.proto == PROTO_ICMP && f.rtt.n > 0));
    assert!(t.flows.iter().any(|f| f.proto == PROTO_TCP && f.rtt.n == 1));
    assert!(t.flows.iter().any(|f| f.vlans == 1));
    assert!(t.flows.iter().any(|f| f.vlans == 2));
    assert!(t.flows.iter().any(|f| f.v6 && f.proto == PROTO_UDP));
}

#[test]
fn ping_rtt_matches_the_schedule() {
    // Only pings, fixed RTT: every reply's RTT is within the ±10 % jitter.
    let opts = GenOptions {
        flows: 10,
        packets: 2000,
        mix: "ping=1".parse::<Mix>().unwrap(),
        rtt_min_us: 5000.0,
        rtt_max_us: 5000.0,
        ..GenOptions::default()
    };
    let (bytes, t) = gen(&opts);
    let replies: Vec<_> = t.flows.iter().filter(|f| f.rtt.n > 0).collect();
    assert_eq!(replies.len(), 10);
    for f in replies {
        assert!(f.rtt.min >= 4_500_000 && f.rtt.max <= 5_500_000, "{f:?}");
    }
    assert_eq!(exact_over(&bytes).flows(), t.merged().unwrap());
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = gen(&GenOptions::default());
    let b = gen(&GenOptions::default());
    assert_eq!(a.0, b.0);
    assert_eq!(a.1, b.1);
    let c = gen(&GenOptions {
        seed: 99,
        ..GenOptions::default()
    });
    assert_ne!(a.0, c.0);
}

#[test]
fn truth_json_round_trips() {
    let (_, t) = gen(&GenOptions::default());
    let back: Truth = serde_json::from_str(&t.to_json()).unwrap();
    assert_eq!(back, t);
}

#[test]
fn bad_options_are_refused() {
    for o in [
        GenOptions {
            flows: 0,
            ..GenOptions::default()
        },
        GenOptions {
            duration_s: -1.0,
            ..GenOptions::default()
        },
        GenOptions {
            rtt_min_us: 10.0,
            rtt_max_us: 1.0,
            ..GenOptions::default()
        },
        GenOptions {
            ipv6_fraction: 1.5,
            ..GenOptions::default()
        },
        GenOptions {
            snaplen: 10,
            ..GenOptions::default()
        },
    ] {
        assert!(generate(&o, Vec::new()).is_err(), "{o:?}");
    }
    assert!("ping=1,bogus=2".parse::<Mix>().is_err());
    assert!("ping=x".parse::<Mix>().is_err());
    assert!("ping=0".parse::<Mix>().is_err());
}

/// Issue 15, item 5: `--packets 3000000000` wrote until the disk was full.
/// Above [`MAX_PACKETS`] it is an error before a byte is written; a failed
/// generation leaves neither the capture nor its partial file behind, and a
/// good one leaves only the capture.
#[test]
fn packets_are_bounded_and_files_appear_whole() {
    let at_max = GenOptions {
        packets: MAX_PACKETS,
        ..GenOptions::default()
    };
    assert!(at_max.validate().is_ok());
    let over = GenOptions {
        packets: 3_000_000_000,
        duration_s: 0.001,
        ..GenOptions::default()
    };
    let e = over.validate().unwrap_err();
    assert!(
        e.contains("packets must be at most 100000000") && e.contains("3000000000"),
        "{e}"
    );
    let dir = std::env::temp_dir().join(format!("bloomtime-gen-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("x.pcap");
    assert!(generate_file(&over, &pcap, None).is_err());
    assert!(std::fs::read_dir(&dir).unwrap().next().is_none());
    let small = GenOptions {
        packets: 200,
        flows: 10,
        ..GenOptions::default()
    };
    generate_file(&small, &pcap, None).unwrap();
    let names = |d: &std::path::Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&dir), ["x.pcap"]);
    let bytes = std::fs::read(&pcap).unwrap();
    assert_eq!(bytes, gen(&small).0);
    // Through a symlink: the target is replaced, the link kept.
    let link = dir.join("link.pcap");
    std::os::unix::fs::symlink(&pcap, &link).unwrap();
    let other = GenOptions {
        seed: 9,
        ..small.clone()
    };
    generate_file(&other, &link, None).unwrap();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read(&pcap).unwrap(), gen(&other).0);
    assert_eq!(names(&dir), ["link.pcap", "x.pcap"]);
    // Into a missing directory: an error and nothing written.
    assert!(generate_file(&small, dir.join("no/such/x.pcap"), None).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn committed_demo_regenerates_identically() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data");
    let (bytes, truth) = gen(&GenOptions::demo());
    if std::env::var("BLOOMTIME_REGEN_DEMO").is_ok() {
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("demo.pcap"), &bytes).unwrap();
        truth.write(data.join("demo.truth.json")).unwrap();
    }
    let committed = std::fs::read(data.join("demo.pcap")).expect("traces/data/demo.pcap");
    assert!(
        committed == bytes,
        "demo.pcap differs from a regeneration with its seed"
    );
    let committed_truth = std::fs::read_to_string(data.join("demo.truth.json")).unwrap();
    assert_eq!(committed_truth, truth.to_json());
}
