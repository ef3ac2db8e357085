#!/usr/bin/env python3
"""Standalone timing of one block: wrap its Verilog (module `top`) so every
input comes from a shift register fed by one pin and every output is
XOR-reduced into a register on another pin; then yosys + nextpnr on an
HX8K at 100 MHz. Prints LCs, fmax and the critical path, per seed.

usage: block-timing.py BLOCK.v [seed...]"""
import os, re, subprocess, sys, tempfile

src = sys.argv[1]
seeds = sys.argv[2:] or ["1"]
text = open(src).read()
m = re.search(r"module top\((.*?)\);(.*?)(?=\n\s*// Update code|\n\s*always|\nendmodule)", text, re.S)
ports = []
for line in m.group(2).splitlines():
    pm = re.match(r"\s*(input|output)\s+(?:wire|reg)?\s*(\[(\d+):0\])?\s*([\w$]+);", line)
    if pm:
        width = int(pm.group(3)) + 1 if pm.group(3) else 1
        ports.append((pm.group(1), pm.group(4), width))
ins = [p for p in ports if p[0] == "input" and p[1] != "clock"]
outs = [p for p in ports if p[0] == "output"]
nin = sum(w for _, _, w in ins) or 1
w = ["module wrap(input clock, input sin, output reg sout);",
     f"    reg [{nin-1}:0] sr;", "    always @(posedge clock) sr <= {sr, sin};"]
conns, off = [], 0
for _, n, wd in ins:
    conns.append(f".{n}(sr[{off+wd-1}:{off}])"); off += wd
for _, n, wd in outs:
    w.append(f"    wire [{wd-1}:0] o_{n};"); conns.append(f".{n}(o_{n})")
conns.append(".clock(clock)")
w.append("    top u(" + ", ".join(conns) + ");")
w.append("    always @(posedge clock) sout <= " + " ^ ".join(f"(^o_{n})" for _, n, _ in outs) + ";")
w.append("endmodule")
d = tempfile.mkdtemp(prefix="blocktiming")
open(os.path.join(d, "wrap.v"), "w").write("\n".join(w) + "\n")
open(os.path.join(d, "top.v"), "w").write(text)
r = subprocess.run(["yosys", "-q", "-p", "read_verilog top.v wrap.v; synth_ice40 -top wrap -json wrap.json"], cwd=d, capture_output=True, text=True)
if r.returncode:
    print(r.stdout[-3000:], r.stderr[-3000:]); sys.exit(1)
for seed in seeds:
    r = subprocess.run(["nextpnr-ice40", "--hx8k", "--package", "cb132", "--json", "wrap.json",
                        "--pcf-allow-unconstrained", "--freq", "100", "--seed", seed, "--timing-allow-fail"],
                       cwd=d, capture_output=True, text=True)
    log = r.stdout + r.stderr
    lc = re.findall(r"ICESTORM_LC:\s+(\d+)/", log)
    fm = re.findall(r"Max frequency for clock.*?: ([\d.]+) MHz", log)
    print(f"seed {seed}: LCs {lc[-1] if lc else '?'}, fmax {fm[-1] if fm else '?'} MHz")
    crit = re.search(r"Critical path report for clock.*?(?=Critical path report for cross|Info: Max frequency)", log, re.S)
    if crit:
        hops = re.findall(r"Info:\s+[\d.]+\s+([\d.]+)\s+Source (\S+)", crit.group(0))
        last = None
        for t, cell in hops:
            name = re.sub(r"(_SB_LUT4.*|_SB_CARRY.*|\$CARRY.*|_SB_DFF.*)", "", cell)
            if name != last:
                print(f"   {t:>5}  {name}")
                last = name
