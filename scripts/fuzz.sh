#!/usr/bin/env bash
# Coverage-guided fuzzing (issue 15, docs/FUZZ.md): `scripts/fuzz.sh SECONDS
# [TARGET...]` runs each fuzz target of fuzz/ for SECONDS with cargo-fuzz
# (libFuzzer), one after the other, after seeding fuzz/corpus/<target>/ from
# ../shared/traces, traces/data and the protocol's own frames. Installs
# what it needs, once, and says so: the nightly toolchain (rustup) and
# cargo-fuzz (cargo install). Fails if a target crashes (the input is in
# fuzz/artifacts/<target>/) or does not build. Logs and a table of
# executions/s and coverage: build/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(pcap_reader frame_parser protocol merge)
case $secs in '' | *[!0-9]*)
    echo "fuzz: SECONDS must be a whole number, got '$secs'" >&2
    exit 2
    ;;
esac

# libFuzzer's instrumentation needs nightly (-Z flags); stable cannot build
# the targets, so a missing nightly is installed, and without rustup this
# is an error that says what to do.
if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    if ! command -v rustup >/dev/null 2>&1; then
        echo "fuzz: needs the nightly Rust toolchain and rustup to install it; install rustup (https://rustup.rs), then run again" >&2
        exit 1
    fi
    echo "fuzz: installing the nightly toolchain (rustup toolchain install nightly --profile minimal): cargo-fuzz's libFuzzer instrumentation needs it" >&2
    rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz (cargo install cargo-fuzz --locked), the libFuzzer driver of the fuzz targets" >&2
    cargo install cargo-fuzz --locked
fi

# Builds share the workspace's target dir unless the caller chose one.
tdir=${CARGO_TARGET_DIR:-target}/fuzz
mkdir -p build/fuzz
cargo build -q --release --manifest-path fuzz/Cargo.toml -p bloomtime-fuzz-seeds --target-dir "$tdir"
"$tdir/release/bloomtime-fuzz-seeds" ../shared/traces traces/data traces/data/linktypes -o fuzz/corpus

# Release code with debug assertions and overflow checks (-O -a); no
# sanitizer (-s none): the crates are safe Rust, and AddressSanitizer
# would only cost executions.
flags=(-O -a -s none --target-dir "$tdir")
cargo +nightly fuzz build "${flags[@]}"

summary=build/fuzz/summary.md
echo "| target | seconds | executions | exec/s | cov | crashes |" >"$summary"
echo "|---|---|---|---|---|---|" >>"$summary"
failed=()
for t in "${targets[@]}"; do
    log=build/fuzz/$t.log
    echo "fuzz: $t for $secs s (log $log)" >&2
    mkdir -p "fuzz/artifacts/$t"
    rc=0
    cargo +nightly fuzz run "${flags[@]}" "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1 || rc=$?
    # The last status line: #RUNS<tab>DONE cov: C ft: F corp: ... exec/s: E ...
    line=$(grep -E '^#[0-9]+[[:space:]]' "$log" | tail -n 1 || true)
    runs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$line")
    cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$line")
    ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$line")
    eps=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -n 1)
    crashes=0
    if [ $rc -ne 0 ]; then
        crashes=1
        failed+=("$t")
        echo "fuzz: $t FAILED (exit $rc); the input is in fuzz/artifacts/$t/, the panic in $log:" >&2
        grep -E -A 6 'panicked|ERROR: libFuzzer|SUMMARY' "$log" | head -n 30 >&2 || tail -n 30 "$log" >&2
    fi
    echo "| $t | $secs | ${runs:-?} | ${eps:-?} | ${cov:-?} (ft ${ft:-?}) | $crashes |" >>"$summary"
done
cat "$summary"
if [ ${#failed[@]} -ne 0 ]; then
    echo "fuzz: crashed: ${failed[*]}" >&2
    exit 1
fi
