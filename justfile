# BloomTime: `just demo` runs the main job, `just test` every test.
set shell := ["bash", "-euo", "pipefail", "-c"]

export CARGO_TERM_COLOR := "never"

default:
    @just --list

# Install the system tools (apt, idempotent).
tools:
    ./scripts/ensure-tools.sh

# The main job: generate a realistic trace, analyze it estimated and exact, compare.
demo: tools
    cargo build --release -q -p bloomtime-host
    mkdir -p build/demo
    ./target/release/bloomtime gen build/demo/demo.pcap --truth build/demo/demo.truth.json --seed 7
    ./target/release/bloomtime analyze build/demo/demo.pcap --format table
    ./target/release/bloomtime analyze build/demo/demo.pcap --format csv --output build/demo/flows.csv
    ./target/release/bloomtime compare build/demo/demo.pcap --plot build/demo
    @echo "per-flow CSV: build/demo/flows.csv; plots: build/demo/*.svg"

# Every test: model, traces, host, RustHDL design.
test: tools
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -q -- -D warnings
    cargo test --workspace -q

# Verilog of the RustHDL core.
verilog:
    cargo run --release -q -p bloomtime-hw --bin bloomtime-verilog core build/verilog/bloomtime_core.v
    @echo "build/verilog/bloomtime_core.v"

# Performance figures (medians of one run).
bench:
    cargo run --release -q -p bloomtime-host --bin bloomtime-bench

# Verilator co-simulation (sim/): the Verilated core against the model and rust-hdl.
sim: tools
    cargo test -q -p bloomtime-sim

# Records/s of the Verilated core (median of 5 runs; `just sim-bench --packets N`).
sim-bench *ARGS: tools
    cargo run --release -q -p bloomtime-sim --bin bloomtime-sim-bench -- {{ARGS}}

# Fidelity evaluation (docs/EVAL.md): presets, sweeps and counterfactuals over
# ../shared/traces and generated traces; build/eval/results.csv, summary, plots.
# `just eval --quick` for a smoke run.
eval *ARGS:
    cargo run --release -q -p bloomtime-host --bin bloomtime -- eval {{ARGS}}
