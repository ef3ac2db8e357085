#!/usr/bin/env python3
"""Collects the figures the bench programs wrote into build/bench/*.json and
the board build's build/alchitry-cu/report.json into one table (printed,
Markdown) and build/bench.json, with the machine they were measured on.
A figure whose file is missing is reported as missing, never invented.

usage: bench-table.py [ROOT]"""
import datetime, json, os, platform, subprocess, sys

root = sys.argv[1] if len(sys.argv) > 1 else "."
def load(path):
    try:
        with open(os.path.join(root, path)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

model = load("build/bench/model.json")
sim = load("build/bench/sim.json")
hdl = load("build/bench/rusthdl.json")
synth = load("build/alchitry-cu/report.json")

rows = []  # (figure, value, unit, source)
def row(name, value, unit, source, fmt="{:,.0f}"):
    rows.append({"figure": name, "value": value, "unit": unit, "source": source,
                 "text": "missing" if value is None else fmt.format(value)})

g = lambda d, *ks: None if d is None else (g(d.get(ks[0]), *ks[1:]) if ks and isinstance(d, dict) else (d if not ks else None))
row("golden model (alchitry-cu), 1 core", g(model, "model", "alchitry-cu", "median_records_per_s"), "records/s", "bloomtime-bench")
row("golden model (alchitry-cu), per CPU second", g(model, "model", "alchitry-cu", "median_records_per_cpu_s"), "records/s", "bloomtime-bench")
row("exact tracker, 1 core", g(model, "exact", "median_records_per_s"), "records/s", "bloomtime-bench")
row("exact tracker, per CPU second", g(model, "exact", "median_records_per_cpu_s"), "records/s", "bloomtime-bench")
ratio = g(model, "model_over_exact", "alchitry-cu")
row("golden model / exact", ratio, "×", "bloomtime-bench", "{:.2f}")
row("pcap analyze end to end (alchitry-cu)", g(model, "analyze_estimate_table", "median_packets_per_s"), "packets/s", "bloomtime-bench")
row("pcap analyze end to end (alchitry-cu), per CPU second", g(model, "analyze_estimate_table", "median_packets_per_cpu_s"), "packets/s", "bloomtime-bench")
row("pcap analyze --exact end to end", g(model, "analyze_exact_table", "median_packets_per_s"), "packets/s", "bloomtime-bench")
row("pcap analyze --exact, per CPU second", g(model, "analyze_exact_table", "median_packets_per_cpu_s"), "packets/s", "bloomtime-bench")
row("analyze estimate / exact", g(model, "analyze_estimate_over_exact"), "×", "bloomtime-bench", "{:.2f}")
row("RustHDL core, stepped in rust-hdl", g(hdl, "median_records_per_s"), "records/s", "rusthdl-bench example")
row("bloomtime-sim replay, 1 M packets end to end (wall)", g(sim, "core", "replay", "median_records_per_s_wall"), "records/s", "bloomtime-sim-bench")
row("bloomtime-sim replay, the core's thread (per CPU second)", g(sim, "core", "replay", "median_records_per_s_cpu"), "records/s", "bloomtime-sim-bench")
row("Verilated fast core alone (wall)", g(sim, "core", "fast", "median_records_per_s_wall"), "records/s", "bloomtime-sim-bench")
row("Verilated core, a cycle per call (CoreSim, wall)", g(sim, "core", "cycle", "median_records_per_s_wall"), "records/s", "bloomtime-sim-bench")
row("virtual board link (wall)", g(sim, "link", "median_bytes_per_s_wall"), "bytes/s", "bloomtime-sim-bench")
row("virtual board link (per board CPU second)", g(sim, "link", "median_bytes_per_s_board_cpu"), "bytes/s", "bloomtime-sim-bench")
row("Fmax (target 100 MHz), the lowest of the seeds", g(synth, "fmax_mhz"), "MHz", "bloomtime-synth", "{:.2f}")
for sd in (g(synth, "seeds") or []):
    f = min((c["fmax_mhz"] for c in sd.get("clocks", [])), default=None)
    row(f"Fmax, placement seed {sd.get('seed')}", f, "MHz", "bloomtime-synth", "{:.2f}")
tm = g(synth, "timing_met")
row("timing met at 100 MHz (every seed; bitstream written)", None if tm is None else ("yes" if tm else "no"), "", "bloomtime-synth", "{}")
lc, lt = g(synth, "lc_used"), g(synth, "lc_total")
row("logic cells", lc, f"of {lt}" if lt else "", "bloomtime-synth", "{:,}")
bu, bt = g(synth, "bram_used"), g(synth, "bram_total")
row("block RAMs (4 Kbit)", bu, f"of {bt}" if bt else "", "bloomtime-synth", "{}")

cpu = "unknown"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip(); break
except OSError:
    pass
try:
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
except OSError:
    rustc = "unknown"
machine = {"cpu": cpu, "cores": os.cpu_count(), "os": platform.platform(), "rustc": rustc,
           "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
out = {"machine": machine, "figures": [{k: r[k] for k in ("figure", "value", "unit", "source")} for r in rows]}
os.makedirs(os.path.join(root, "build"), exist_ok=True)
with open(os.path.join(root, "build/bench.json"), "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
print(f"Measured on {cpu}, {os.cpu_count()} cores, {machine['date']} ({rustc}); medians of one run.\n")
print("| figure | value | unit | from |")
print("|---|---:|---|---|")
for r in rows:
    print(f"| {r['figure']} | {r['text']} | {r['unit']} | {r['source']} |")
missing = [r["figure"] for r in rows if r["value"] is None]
print("\nwrote build/bench.json" + (f"; missing: {', '.join(missing)}" if missing else ""))
