#!/usr/bin/env python3
"""Flip-flops that need a logic cell of their own, by what drives them.

An iCE40 logic cell is a LUT4, a carry and a flip-flop with one output: a
flip-flop shares a cell only with a LUT that drives its D input and nothing
else. A flip-flop fed by another flip-flop, by a block RAM's output, or by a
LUT whose output also goes elsewhere (a RAM's write port, other logic) costs
a whole cell. On a board at 95 % of its cells these are the cheapest cells
to win back (docs/BOARD.md, "Flip-flops in cells of their own").

Reads the flattened netlist `yosys synth_ice40 -json` wrote (bloomtime-synth
leaves it as DIR/bloomtime.json). Registers are named after the shortest
non-internal net on their Q output, up to four dotted levels.

usage: lone-ffs.py [JSON] [--top N]
"""
import argparse, collections, json, re

p = argparse.ArgumentParser()
p.add_argument("json", nargs="?", default="build/alchitry-cu/bloomtime.json")
p.add_argument("--top", type=int, default=15, help="registers listed per kind")
a = p.parse_args()

d = json.load(open(a.json))
mod = next(m for m in d["modules"].values() if m.get("attributes", {}).get("top"))
cells = mod["cells"]

names = collections.defaultdict(list)
for n, v in mod["netnames"].items():
    for b in v["bits"]:
        names[b].append(n)

driver, fanout = {}, collections.Counter()
for n, c in cells.items():
    dirs = c.get("port_directions", {})
    for port, bits in c["connections"].items():
        for b in bits:
            if not isinstance(b, int):
                continue
            if dirs.get(port) == "output":
                driver[b] = c["type"]
            else:
                fanout[b] += 1


def register(bit):
    ns = [n for n in names.get(bit, []) if not n.startswith("$")]
    if not ns:
        return "?"
    n = re.sub(r"\[\d+\]$", "", min(ns, key=len))
    return ".".join(n.split(".")[:4])


kinds = collections.Counter()
by_kind = collections.defaultdict(collections.Counter)
counts = collections.Counter(c["type"] for c in cells.values())
for c in cells.values():
    if not c["type"].startswith("SB_DFF"):
        continue
    dbit = c["connections"]["D"][0]
    src = driver.get(dbit, "constant") if isinstance(dbit, int) else "constant"
    if src == "SB_LUT4":
        if fanout[dbit] == 1:
            kinds["shares a cell with its LUT"] += 1
            continue
        src = "a LUT that also drives other logic"
    elif src.startswith("SB_DFF"):
        src = "a flip-flop"
    elif src == "SB_RAM40_4K":
        src = "a block RAM output"
    kind = "fed by " + src
    kinds[kind] += 1
    by_kind[kind][register(c["connections"]["Q"][0])] += 1

ffs = sum(v for k, v in counts.items() if k.startswith("SB_DFF"))
print(f"{counts['SB_LUT4']} LUT4s, {ffs} flip-flops, {counts['SB_CARRY']} carries")
for k, v in kinds.most_common():
    print(f"{v:6d}  {k}")
for k, regs in by_kind.items():
    print(f"\n{k}: {sum(regs.values())}")
    for r, v in regs.most_common(a.top):
        print(f"  {v:5d}  {r}")
