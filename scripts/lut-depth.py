#!/usr/bin/env python3
"""The logic depth of every register-to-register path of a synthesized
iCE40 design, by block: the work list for a clock target, where nextpnr
only ever names the one worst path.

Reads the flattened netlist `yosys synth_ice40 -json` wrote (bloomtime-synth
leaves it as DIR/bloomtime.json) and counts, for every flip-flop input (D,
enable, set/reset) and every block-RAM input, the deepest chain of logic
that feeds it from a flip-flop, a block-RAM output or a pin. A LUT counts 1;
a carry-chain hop counts 1/8 (about 0.1 ns against about 1.2 ns for a LUT
and its route at this fill); a block-RAM output starts at 2 (its clock-to-
output is about twice a flip-flop's and a LUT). On the HX8K a path of more
than 4 such levels rarely fits 10 ns once routed at high fill (docs/BOARD.md).

Endpoints are named after their register (the cell name up to `_SB_`) and
grouped by block (the register's dotted prefix).

usage: lut-depth.py [JSON] [--over N] [--paths K] [--top MODULE]
  --over N   list blocks with endpoints deeper than N levels (default 4)
  --paths K  and each such block's K deepest endpoints with their start
             and the input the depth reaches (D, E enable, R/S set/reset)
  --top M    the top module (default: the one yosys marked as top)
  --trace RE print the deepest path into each endpoint whose name matches
             the regular expression RE, net by net (yosys' net names)
"""
import argparse, collections, json, re, sys

p = argparse.ArgumentParser()
p.add_argument("json", nargs="?", default="build/alchitry-cu/bloomtime.json")
p.add_argument("--over", type=float, default=4)
p.add_argument("--paths", type=int, default=3)
p.add_argument("--top", default=None)
p.add_argument("--trace", default=None)
a = p.parse_args()

d = json.load(open(a.json))
mods = d["modules"]
tops = [n for n, m in mods.items() if m.get("attributes", {}).get("top")]
top = a.top or (tops[0] if tops else "top")
cells = mods[top]["cells"]

LUT, CARRY, RAM_OUT = 1.0, 0.125, 2.0
FF_IN = {"D", "E", "R", "S"}

def reg_name(cell):
    return re.split(r"_SB_|\$", cell)[0] if "_SB_" in cell else cell

# Every net bit's driver: ("src", register), ("ram", RAM) or ("comb", cell, weight).
driver = {}
comb_inputs = {}
ends = []  # (cell, [(input port, net bit)])
for name, c in cells.items():
    t, conn = c["type"], c["connections"]
    if t.startswith("SB_DFF"):
        for b in conn["Q"]:
            driver[b] = ("src", reg_name(name))
        ends.append((name, [(port, b) for port, bs in conn.items() if port in FF_IN for b in bs]))
    elif t == "SB_RAM40_4K":
        for b in conn["RDATA"]:
            driver[b] = ("ram", reg_name(name))
        ends.append((name, [(port, b) for port, bs in conn.items() if port != "RDATA" and not port.endswith("CLK") for b in bs]))
    elif t == "SB_LUT4":
        driver[conn["O"][0]] = ("comb", name, LUT)
        comb_inputs[name] = [b for port in ("I0", "I1", "I2", "I3") for b in conn.get(port, [])]
    elif t == "SB_CARRY":
        driver[conn["CO"][0]] = ("comb", name, CARRY)
        comb_inputs[name] = [b for port in ("I0", "I1", "CI") for b in conn.get(port, [])]
    # SB_GB and the like pass clocks, not data.

depth = {}  # net bit -> (levels, start register)
pred = {}  # net bit -> the input bit its depth came through
def net_depth(b):
    if isinstance(b, str):  # a constant
        return (0.0, None)
    if b in depth:
        return depth[b]
    # Iterative post-order walk (chains are thousands deep in carries); a
    # net met again while its own inputs are being walked closes a
    # combinational loop, which is cut there (counted from 0).
    stack = [b]
    walking = set()
    while stack:
        n = stack[-1]
        if n in depth:
            stack.pop()
            continue
        dr = driver.get(n)
        if dr is None:
            depth[n] = (0.0, "pin")
            stack.pop()
        elif dr[0] == "src":
            depth[n] = (0.0, dr[1])
            stack.pop()
        elif dr[0] == "ram":
            depth[n] = (RAM_OUT, dr[1])
            stack.pop()
        else:
            todo = [i for i in comb_inputs[dr[1]]
                    if not isinstance(i, str) and i not in depth and i not in walking]
            if todo and n not in walking:
                walking.add(n)
                stack.extend(todo)
                continue
            best = (0.0, None)
            for i in comb_inputs[dr[1]]:
                di = depth.get(i, (0.0, None)) if not isinstance(i, str) else (0.0, None)
                if di[0] > best[0] or best[1] is None:
                    best = di
                    pred[n] = i
            depth[n] = (best[0] + dr[2], best[1])
            walking.discard(n)
            stack.pop()
    return depth[b]

endpoint = {}  # register -> (levels, start, input port, net bit)
for cell, bits in ends:
    best = (0.0, None, None, None)
    for port, b in bits:
        db = net_depth(b)
        if db[0] > best[0]:
            best = (db[0], db[1], port, b)
    r = reg_name(cell)
    if r not in endpoint or best[0] > endpoint[r][0]:
        endpoint[r] = best

def net_name(b):
    """The shortest name of a net bit from the design, not one yosys made up."""
    if not hasattr(net_name, "names"):
        net_name.names = {}
        for n, v in mods[top]["netnames"].items():
            for k, nb in enumerate(v["bits"]):
                nm = n if len(v["bits"]) == 1 else f"{n}[{k}]"
                old = net_name.names.get(nb)
                rank = lambda x: ("$" in x, "_SB_" in x, len(x))  # yosys' own names last
                if old is None or rank(old) > rank(nm):
                    net_name.names[nb] = nm
    return net_name.names.get(b, str(b))

if a.trace:
    for r, v in sorted(endpoint.items(), key=lambda kv: -kv[1][0]):
        if not re.search(a.trace, r) or v[3] is None:
            continue
        chain, b = [], v[3]
        while b is not None and not isinstance(b, str):
            chain.append(f"{net_name(b)} ({depth[b][0]:.2f})")
            b = pred.get(b) if driver.get(b, ("pin",))[0] == "comb" else None
        print(f"{v[0]:6.2f}  {r} ({v[2]}):")
        for step in reversed(chain):
            print(f"          {step}")
    sys.exit(0)

def block(r):
    """The block a register or RAM belongs to: `board.core.bank0.pre4.q`
    and `board.core.bank0.rings_ram.mem.0.5` are both `board.core.bank0`."""
    name = re.sub(r"\.mem(\.\d+)+$", "", re.sub(r"\.q$", "", r))
    return name.rsplit(".", 1)[0] if "." in name else name

hist = collections.Counter(int(v[0]) for v in endpoint.values())
print(f"{len(endpoint)} endpoint registers and RAMs in {a.json}")
print("levels (LUT = 1, carry hop = 1/8, RAM output starts at 2): endpoints")
for lv in sorted(hist):
    print(f"  {lv}-{lv + 1}: {hist[lv]}")
over = {r: v for r, v in endpoint.items() if v[0] > a.over}
by_block = collections.defaultdict(list)
for r, v in over.items():
    by_block[block(r)].append((v[0], r, v[1], v[2]))
print(f"\n{len(over)} endpoints deeper than {a.over:g} levels, in {len(by_block)} blocks:\n")
print("| block | endpoints | deepest |")
print("|---|---:|---:|")
for b, lst in sorted(by_block.items(), key=lambda kv: -max(x[0] for x in kv[1])):
    print(f"| {b} | {len(lst)} | {max(x[0] for x in lst):.2f} |")
if a.paths:
    print()
    for b, lst in sorted(by_block.items(), key=lambda kv: -max(x[0] for x in kv[1])):
        for lv, r, s, port in sorted(lst, key=lambda x: -x[0])[: a.paths]:
            print(f"{lv:6.2f}  {s} -> {r} ({port})")
