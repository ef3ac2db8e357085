# BloomTime: `just demo` runs the main job, `just test` every test.
set shell := ["bash", "-euo", "pipefail", "-c"]

export CARGO_TERM_COLOR := "never"

default:
    @just --list

# Install the system tools (apt, idempotent).
tools:
    ./scripts/ensure-tools.sh

# A generated trace of 400 conversations (800 flows: pings, TCP handshakes,
# Poisson, bursty and heavy-tailed) goes through the virtual board (the
# bitstream's Verilog, Verilated, UART included, behind a pseudo-terminal),
# driven by the host CLI exactly like a real board's USB UART; then the same
# trace through the golden model (identical CSV), and the estimate against the
# exact tracker, state and errors, for the board's preset (BloomTime v2) and
# for the earlier single-ring design.
# The main job: per-flow IAT/RTT from the virtual board, CSV in build/demo/flows.csv.
demo: tools
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release -q -p bloomtime-host -p bloomtime-sim
    bin=./target/release
    mkdir -p build/demo
    hw=$($bin/bloomtime presets --hardware)
    $bin/bloomtime gen build/demo/demo.pcap --truth build/demo/demo.truth.json --seed 7 --flows 400 --packets 3000 --duration 3
    rm -f build/demo/board.pty
    $bin/bloomtime-sim board --link build/demo/tty >build/demo/board.pty 2>build/demo/board.log &
    board=$!
    # Stop the board however this script ends (it removes its link on SIGTERM).
    trap 'kill $board 2>/dev/null || true; wait $board 2>/dev/null || true' EXIT
    for _ in $(seq 100); do
        [ -s build/demo/board.pty ] && break
        kill -0 $board 2>/dev/null || break
        sleep 0.1
    done
    if [ ! -s build/demo/board.pty ]; then
        echo "the virtual board did not start:" >&2
        cat build/demo/board.log >&2
        exit 1
    fi
    echo "virtual board on $(cat build/demo/board.pty), linked as build/demo/tty"
    $bin/bloomtime device --port build/demo/tty replay build/demo/demo.pcap --csv build/demo/flows.csv
    echo "per-flow CSV from the virtual board written to build/demo/flows.csv"
    kill $board
    wait $board
    tail -n 1 build/demo/board.log
    $bin/bloomtime analyze build/demo/demo.pcap --preset "$hw" --format csv --output build/demo/flows.model.csv
    if cmp -s build/demo/flows.csv build/demo/flows.model.csv; then
        echo "identical to bloomtime analyze --preset $hw (build/demo/flows.model.csv)"
    else
        echo "build/demo/flows.csv differs from bloomtime analyze's build/demo/flows.model.csv" >&2
        exit 1
    fi
    echo
    echo "== the board's design ($hw, BloomTime v2) against the exact tracker"
    mkdir -p build/demo/v2
    $bin/bloomtime compare build/demo/demo.pcap --preset "$hw" --plot build/demo/v2
    echo "plots of estimated vs exact: build/demo/v2/*.svg"
    echo
    echo "== the earlier single-ring design (alchitry-cu-v1: one ring of 16 buckets of 8.4 ms) against the exact tracker"
    $bin/bloomtime compare build/demo/demo.pcap --preset alchitry-cu-v1

# The Verilator tests run in the release build (shared with `just demo`).
# Every test: model, traces, evaluation, host, RustHDL design, Verilator co-simulation, virtual board.
test: tools
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -q -- -D warnings
    cargo test --workspace --exclude bloomtime-sim -q
    cargo test -q -p bloomtime-sim --release

# Coverage-guided fuzzing with cargo-fuzz and libFuzzer (docs/FUZZ.md):
# installs nightly and cargo-fuzz if missing, seeds fuzz/corpus/ from
# ../shared/traces and the protocol's frames, fails on a crash; the table of
# executions/s and coverage goes to build/fuzz/summary.md.
# Each fuzz target (pcap_reader, frame_parser, protocol, merge) for SECONDS, or only TARGETS.
fuzz SECONDS="60" *TARGETS:
    ./scripts/fuzz.sh {{SECONDS}} {{TARGETS}}

# As CI runs them: 12 s each (48 s in all), so the harnesses keep building
# and a crash near the seeds fails CI.
# Each fuzz target for 12 s.
fuzz-ci:
    ./scripts/fuzz.sh 12

# Remake the link-type test captures of traces/data/linktypes (root; installs tcpdump if missing).
linktype-captures:
    ./scripts/make-linktype-captures.sh

# The rate `bloomtime live` takes from a veth pair in a network namespace (root).
live-bench:
    cargo test --release -q -p bloomtime-host --test live_veth -- --ignored --nocapture

# Verilog of the RustHDL core.
verilog:
    cargo run --release -q -p bloomtime-hw --bin bloomtime-verilog core build/verilog/bloomtime_core.v
    @echo "build/verilog/bloomtime_core.v"

# Every performance figure in one run and one table (build/bench.json):
# golden model, exact mode, pcap analyze, RustHDL stepped, Verilator replay,
# virtual-board link, and the board build's Fmax (seeds 1-3), LCs and BRAMs.
bench: tools
    cargo run --release -q -p bloomtime-host --bin bloomtime-bench
    cargo run --release -q -p bloomtime-hw --example rusthdl-bench
    cargo run --release -q -p bloomtime-sim --bin bloomtime-sim-bench
    cargo run --release -q -p bloomtime-hw --bin bloomtime-synth -- --out build/alchitry-cu --seeds 1,2,3 --allow-timing-fail
    python3 scripts/bench-table.py

# The Verilated core against the model and rust-hdl, whole captures through it,
# the virtual board end to end with the host CLI.
# Verilator co-simulation tests (sim/).
sim: tools
    cargo test -q -p bloomtime-sim --release

# The virtual board on build/board/tty until Ctrl-C (`bloomtime device --port build/board/tty info`).
board *ARGS: tools
    cargo build --release -q -p bloomtime-sim
    mkdir -p build/board
    ./target/release/bloomtime-sim board --link build/board/tty {{ARGS}}

# Medians of 5 runs; `just sim-bench --only link`, `--packets N`, `--link-packets N`.
# Records/s of the Verilated core, bytes/s of the virtual board's link.
sim-bench *ARGS: tools
    cargo run --release -q -p bloomtime-sim --bin bloomtime-sim-bench -- {{ARGS}}

# Bitstream for the Alchitry Cu at 100 MHz, placement seeds 1, 2 and 3:
# build/alchitry-cu/bloomtime.bin and report.json (each seed's Fmax). Fails
# on any tool error, a design that does not fit, or 100 MHz missed on a seed.
synth *ARGS: tools
    cargo run --release -q -p bloomtime-hw --bin bloomtime-synth -- --out build/alchitry-cu --seeds 1,2,3 {{ARGS}}

# The 100 MHz flow on seed 1, reporting timing without requiring it (to measure a
# change; a missed clock writes no bitstream); fails on a tool error or a design
# that does not fit.
synth-fit: tools
    cargo run --release -q -p bloomtime-hw --bin bloomtime-synth -- --out build/alchitry-cu --allow-timing-fail

# The same design on the oscillator halved in the fabric (50 MHz, timing
# required; the same records, twice the margin):
# build/alchitry-cu-50mhz/bloomtime.bin and report.json.
synth-50mhz *ARGS: tools
    cargo run --release -q -p bloomtime-hw --bin bloomtime-synth -- --out build/alchitry-cu-50mhz --clock-div 2 {{ARGS}}

# The 100 MHz bitstream simulated at gate level (read back from bloomtime.asc)
# behind a pty: INFO and a replay through the host CLI, identical to analyze.
bitstream-sim PACKETS="120": synth
    ./scripts/bitstream-sim.sh build/alchitry-cu {{PACKETS}}

# Program the Alchitry Cu over USB (iceprog, from fpga-icestorm) with the
# 100 MHz bitstream (`just synth`).
program: synth
    iceprog build/alchitry-cu/bloomtime.bin

# Fidelity evaluation (docs/EVAL.md): presets, sweeps and counterfactuals over
# ../shared/traces and generated traces; build/eval/results.csv, summary, plots.
# `just eval --quick` for a smoke run.
eval *ARGS:
    cargo run --release -q -p bloomtime-host --bin bloomtime -- eval {{ARGS}}
