//! The real captures the tests read from `../shared/traces` (outside the
//! repository; see its README), under the rule of [`crate::env`]: under
//! `CI=true` a missing directory, a missing capture the README lists or an
//! empty directory is a failure; elsewhere the tests skip it and say so.

use std::path::{Path, PathBuf};

/// What [`find`] found.
#[derive(Clone, Debug, Default)]
pub struct SharedTraces {
    /// The captures present (`*.pcap`, `*.pcapng`), sorted.
    pub traces: Vec<PathBuf>,
    /// What is missing, one sentence each.
    pub problems: Vec<String>,
}

/// `workspace/../shared/traces`.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces")
}

/// The captures in `dir`, and every capture its README lists that is missing.
pub fn find(dir: &Path) -> SharedTraces {
    let mut s = SharedTraces::default();
    let listed = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            s.problems.push(format!(
                "the shared traces dir {} is missing: {e}",
                dir.display()
            ));
            return s;
        }
    };
    s.traces = listed
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("pcap" | "pcapng")
            )
        })
        .collect();
    s.traces.sort();
    // The README names the captures the project relies on.
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap_or_default();
    for line in readme
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| file"))
    {
        let cell = line
            .trim_start_matches("| ")
            .split(" |")
            .next()
            .unwrap_or("");
        for name in cell.split(", ").map(str::trim) {
            if (name.ends_with(".pcap") || name.ends_with(".pcapng")) && !dir.join(name).is_file() {
                s.problems.push(format!(
                    "{} (listed in the README) is missing",
                    dir.join(name).display()
                ));
            }
        }
    }
    if s.traces.is_empty() {
        s.problems
            .push(format!("{} has no captures", dir.display()));
    }
    s
}

/// The shared captures for a test: panics on a problem under `CI=true`,
/// otherwise prints each problem as a skip and returns what is there
/// (`None`: nothing to test).
pub fn for_test() -> Option<Vec<PathBuf>> {
    for_test_in(&dir(), crate::env::ci())
}

/// [`for_test`] on `dir`, with `ci` for `CI=true`.
pub fn for_test_in(dir: &Path, ci: bool) -> Option<Vec<PathBuf>> {
    let s = find(dir);
    for p in &s.problems {
        crate::env::skip_or_fail_in("shared traces", p, ci);
    }
    (!s.traces.is_empty()).then_some(s.traces)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("bloomtime-shared-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_missing_directory_fails_under_ci_and_is_skipped_elsewhere() {
        let d = tmp("missing");
        let s = find(&d);
        assert!(s.traces.is_empty());
        assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
        assert!(s.problems[0].contains("is missing"), "{:?}", s.problems);
        assert_eq!(for_test_in(&d, false), None);
        let r = std::panic::catch_unwind(|| for_test_in(&d, true));
        assert!(r.is_err(), "CI=true and no shared traces must fail");
    }

    #[test]
    fn captures_are_found_and_readme_entries_checked() {
        let d = tmp("listed");
        std::fs::create_dir_all(&d).unwrap();
        // An empty directory is a problem too.
        assert!(find(&d).problems.iter().any(|p| p.contains("no captures")));
        for f in ["b.pcap", "a.pcapng", "notes.txt"] {
            std::fs::write(d.join(f), b"x").unwrap();
        }
        std::fs::write(
            d.join("README.md"),
            "| file | source |\n|---|---|\n| a.pcapng | x |\n| b.pcap, c.pcap | y |\n",
        )
        .unwrap();
        let s = find(&d);
        assert_eq!(s.traces, vec![d.join("a.pcapng"), d.join("b.pcap")]);
        assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
        assert!(s.problems[0].contains("c.pcap"), "{:?}", s.problems);
        assert!(std::panic::catch_unwind(|| for_test_in(&d, true)).is_err());
        assert_eq!(for_test_in(&d, false).map(|v| v.len()), Some(2));
        std::fs::remove_file(d.join("README.md")).unwrap();
        assert_eq!(for_test_in(&d, true).map(|v| v.len()), Some(2));
        let _ = std::fs::remove_dir_all(d);
    }
}
