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

# Every performance figure in one run and one table (build/bench.json):
# golden model, exact mode, pcap analyze, RustHDL stepped, Verilator replay,
# virtual-board link, and the board build's Fmax, LCs and BRAMs.
bench: tools
    cargo run --release -q -p bloomtime-host --bin bloomtime-bench
    cargo run --release -q -p bloomtime-hw --example rusthdl-bench
    cargo run --release -q -p bloomtime-sim --bin bloomtime-sim-bench
    cargo run --release -q -p bloomtime-hw --bin bloomtime-synth -- --out build/alchitry-cu --allow-timing-fail
    python3 scripts/bench-table.py

# Verilator co-simulation (sim/): the Verilated core against the model and rust-hdl.
sim: tools
    cargo test -q -p bloomtime-sim

# Records/s of the Verilated core (median of 5 runs; `just sim-bench --packets N`).
sim-bench *ARGS: tools
    cargo run --release -q -p bloomtime-sim --bin bloomtime-sim-bench -- {{ARGS}}

# Bitstream for the Alchitry Cu: build/alchitry-cu/bloomtime.bin and report.json.
# Fails on any tool error, a design that does not fit, or missed 100 MHz timing.
synth *ARGS: tools
    cargo run --release -q -p bloomtime-hw --bin bloomtime-synth -- --out build/alchitry-cu {{ARGS}}

# The synth flow as CI runs it while 100 MHz is not met (issue 4): fails on a
# tool error or a design that does not fit; reports timing, writes no bitstream.
synth-fit: tools
    cargo run --release -q -p bloomtime-hw --bin bloomtime-synth -- --out build/alchitry-cu --allow-timing-fail

# Program the Alchitry Cu over USB (iceprog, from fpga-icestorm) with the bitstream of `just synth`.
program: synth
    iceprog build/alchitry-cu/bloomtime.bin

# Fidelity evaluation (docs/EVAL.md): presets, sweeps and counterfactuals over
# ../shared/traces and generated traces; build/eval/results.csv, summary, plots.
# `just eval --quick` for a smoke run.
eval *ARGS:
    cargo run --release -q -p bloomtime-host --bin bloomtime -- eval {{ARGS}}
