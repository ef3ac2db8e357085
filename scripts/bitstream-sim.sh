#!/usr/bin/env bash
# The bitstream itself, simulated at gate level: `icebox_vlog` reads the
# placed and routed design back out of DIR/bloomtime.asc (every LUT, flip-flop,
# carry and block RAM as configured), Verilator runs that netlist at the
# oscillator's clock behind a pseudo-terminal (sim/bitstream/harness.cpp,
# an 8N1 line on the uart_rx/uart_tx pins), and the host CLI talks to it as
# to the board on USB: INFO, then a REPLAY of a generated capture whose
# per-flow CSV must be byte-identical to `bloomtime analyze` of the same
# capture. Nothing of the RustHDL design or its Verilog is used: what is
# checked is the configuration that `iceprog` would write.
#
#   scripts/bitstream-sim.sh DIR [PACKETS]
#
# DIR holds bloomtime.asc and report.json from `bloomtime-synth`. The run is
# about 400 000 oscillator clocks a second, so a frame at 1 Mbaud takes
# about a third of a second; PACKETS (default 120) sets the capture's size.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: scripts/bitstream-sim.sh DIR [PACKETS]}
packets=${2:-120}
out=$dir/bitstream-sim
bin=./target/release
for f in "$dir/bloomtime.asc" "$dir/report.json"; do
    [ -s "$f" ] || { echo "bitstream-sim: $f missing (build it with bloomtime-synth)" >&2; exit 1; }
done
cells=$(dirname "$(readlink -f "$(command -v yosys)")")/../share/yosys/ice40/cells_sim.v
[ -s "$cells" ] || { echo "bitstream-sim: yosys' iCE40 cell models not found at $cells" >&2; exit 1; }
mkdir -p "$out"

# The oscillator clocks one bit of the UART lasts (the board's divisor, as
# bloomtime-synth reports it, times the clock divider), and the board's clock.
read -r bit mhz < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["uart_divisor"] * r["clock_div"], "%.3f" % r["clock_mhz"])' "$dir/report.json")
[ -n "${mhz:-}" ] || { echo "bitstream-sim: $dir/report.json lacks uart_divisor, clock_div or clock_mhz (rebuild it)" >&2; exit 1; }
echo "bitstream-sim: $dir/bloomtime.asc, $bit oscillator clocks a UART bit"

echo "bitstream-sim: icebox_vlog -> $out/netlist.v"
icebox_vlog -s -S -c -d cb132 -p constraints/alchitry_cu.pcf -n chip "$dir/bloomtime.asc" >"$out/chip.v"
# icebox_vlog declares the pins again as wires (Verilator refuses that); the
# block RAM's model is yosys' own SB_RAM40_4K, with its port-default macros
# empty (Verilator takes no default values on ports; every port is connected).
python3 - "$out/chip.v" "$cells" "$out/netlist.v" <<'EOF'
import re, sys
chip, cells, dst = sys.argv[1:]
src = open(chip).read()
pins = set(re.search(r"^module chip \(([^)]*)\)", src, re.M).group(1).replace("input", "").replace("output", "").replace("[7:0]", "").replace(",", " ").split())
def undeclare(m):
    keep = [n for n in m.group(1).split(",") if n.strip() not in pins]
    return "wire" + ",".join(keep) + ";" if keep else ""
src = re.sub(r"^wire([^;]*);", undeclare, src, flags=re.M)
lib = open(cells).read()
defaults = re.search(r"`ifndef NO_ICE40_DEFAULT_ASSIGNMENTS.*?`endif\n", lib, re.S).group(0)
ram = re.search(r"^module SB_RAM40_4K \(.*?^endmodule\n", lib, re.S | re.M).group(0)
open(dst, "w").write(src + "\n`define NO_ICE40_DEFAULT_ASSIGNMENTS\n" + defaults + ram)
EOF

echo "bitstream-sim: verilator -> $out/obj/bitstream-board"
verilator --cc --exe --build -j 2 -O2 --top-module chip -Wno-fatal -Wno-lint -Wno-style \
    --Mdir "$out/obj" -o bitstream-board -CFLAGS -O1 \
    "$out/netlist.v" "$PWD/sim/bitstream/harness.cpp" >"$out/verilator.log" 2>&1 \
    || { tail -20 "$out/verilator.log" >&2; exit 1; }

cargo build --release -q -p bloomtime-host
hw=$($bin/bloomtime presets --hardware)
$bin/bloomtime gen "$out/trace.pcap" --truth "$out/trace.truth.json" --seed 7 \
    --flows $((packets / 4)) --packets "$packets" --duration 1
rm -f "$out/board.pty"
"$out/obj/bitstream-board" "$out/tty" "$bit" >"$out/board.pty" 2>"$out/board.log" &
board=$!
trap 'kill $board 2>/dev/null || true; wait $board 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    [ -s "$out/board.pty" ] && break
    kill -0 $board 2>/dev/null || break
    sleep 0.1
done
[ -s "$out/board.pty" ] || { cat "$out/board.log" >&2; exit 1; }
# The simulation runs about 250 times slower than the board: a request
# waits a minute a try, the most the host allows, four times (a long one takes seconds).
dev=("$bin/bloomtime" device --port "$out/tty" --timeout-ms 60000 --retries 3)
"${dev[@]}" info >"$out/info.txt"
sed -n '1,4p' "$out/info.txt"
grep -q "clock $mhz MHz" "$out/info.txt" \
    || { echo "bitstream-sim: INFO does not report the build's clock of $mhz MHz" >&2; exit 1; }
start=$(date +%s)
"${dev[@]}" replay "$out/trace.pcap" --csv "$out/flows.csv" >"$out/replay.txt"
tail -n 4 "$out/replay.txt"
kill $board
wait $board || true
trap - EXIT
tail -n 1 "$out/board.log"
$bin/bloomtime analyze "$out/trace.pcap" --preset "$hw" --format csv --output "$out/flows.model.csv"
if cmp -s "$out/flows.csv" "$out/flows.model.csv"; then
    echo "bitstream-sim: the bitstream replayed $packets packets in $(($(date +%s) - start)) s; its CSV ($(($(wc -l <"$out/flows.csv") - 1)) flows) is identical to bloomtime analyze --preset $hw"
else
    echo "bitstream-sim: $out/flows.csv differs from bloomtime analyze's $out/flows.model.csv" >&2
    exit 1
fi
