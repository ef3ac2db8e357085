//! The evaluation (`bloomtime-eval`) against `bloomtime compare`: its golden
//! rows are the comparison's numbers.

use bloomtime_eval::corpus::{Family, Trace};
use bloomtime_eval::{attrib, design, metrics};
use bloomtime_host::{analyze, compare};
use bloomtime_model::config::{ALCHITRY_CU, PAPER};
use std::path::Path;

/// The evaluation's golden rows are `bloomtime compare`'s numbers: the
/// same flows, the same estimated means, the same sorted errors.
#[test]
fn golden_rows_are_what_compare_computes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../traces/data/demo.pcap");
    let trace = Trace::load(&path, "demo", Family::Generated).unwrap();
    for cfg in [ALCHITRY_CU, PAPER] {
        let (est, exact, _) = analyze::both(&cfg, &[&path]).unwrap();
        let c = compare::compare(&est, &exact);
        let mut g = design::Golden::new(&cfg).unwrap();
        let r = attrib::run(&mut g, &trace).unwrap();
        let f = metrics::figures(&r);
        assert_eq!(f.iat_mean.errors, c.iat_mean_errors);
        assert_eq!(f.rtt_mean.errors, c.rtt_mean_errors);
        assert_eq!(f.iat_std.errors, c.iat_std_errors);
        assert_eq!(f.iat_mean.with_estimate, c.flows_with_estimate);
        assert_eq!(f.run.aliased, est.aliased);
        for p in &c.pairs {
            let fr = r.flows.iter().find(|x| x.key == p.exact.key).unwrap();
            assert_eq!(fr.iat.truth.mean_us, p.exact.iat.mean_us);
            let e = p.estimate.map(|e| e.iat).filter(|m| m.n > 0);
            assert_eq!(fr.iat.merged.map(|m| m.mean_us), e.map(|m| m.mean_us));
        }
        assert!(c.iat_mean_errors.len() > 20);
    }
}
