//! What a test needs from outside the repository (the shared captures,
//! yosys, verilator, nfcapd, root): one rule. Under `CI=true` a missing
//! input is a failure, never a skip; elsewhere the test is skipped with a
//! message on stderr.

/// `CI=true` in the environment.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A missing external input for `test`: panics under `CI=true`, else says
/// SKIPPED on stderr and returns (the caller then returns).
pub fn skip_or_fail(test: &str, what: &str) {
    skip_or_fail_in(test, what, ci())
}

/// [`skip_or_fail`] with `ci` for `CI=true`.
pub fn skip_or_fail_in(test: &str, what: &str, ci: bool) {
    assert!(
        !ci,
        "{test}: {what} (CI=true: a missing input is a failure)"
    );
    eprintln!("{test}: SKIPPED: {what} (under CI=true this fails)");
}

/// Is `tool` an executable file on `PATH`?
pub fn have(tool: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|d| {
        std::fs::metadata(d.join(tool))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// Are all `tools` on `PATH`? If not, [`skip_or_fail`] naming the missing
/// ones (`just tools` installs them).
pub fn need_tools(test: &str, tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools.iter().copied().filter(|t| !have(t)).collect();
    if missing.is_empty() {
        return true;
    }
    skip_or_fail(
        test,
        &format!(
            "not installed: {} (`just tools` installs them)",
            missing.join(", ")
        ),
    );
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_input_fails_under_ci_and_is_skipped_elsewhere() {
        skip_or_fail_in("t", "nothing", false);
        assert!(std::panic::catch_unwind(|| skip_or_fail_in("t", "nothing", true)).is_err());
        assert!(!have("bloomtime-no-such-tool"));
        assert!(have("sh"));
    }
}
