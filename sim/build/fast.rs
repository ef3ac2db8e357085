//! The fast core: the core's Verilog behind a queue of input bundles, for
//! whole-capture replay (`bloomtime_sim::fast`).
//!
//! Why. With the inputs on top-level ports, every `eval()` settles the
//! combinational logic twice: once for the new inputs (Verilator's "input
//! combinational" region, which 5.0 runs on every eval) and once after the
//! rising edge. Here the core's inputs come from registers of the wrapper
//! instead: a queue of input bundles (each the core's inputs, as the
//! harness would apply them) that the shim fills through the `e_*` ports at
//! the rising edge. Nothing combinational depends on a top-level input, so
//! each cycle settles the logic once, and the shim runs whole batches of
//! cycles per call, collecting what the core transfers.
//!
//! The head bundle is applied as `CoreSim` applies inputs
//! (`src/lib.rs`): a handshake input ([`HANDSHAKES`]) is held until its
//! ready is seen at a rising edge; pulse inputs ([`PULSES`]) are applied
//! in the bundle's first cycle only; the rest is data, held with the
//! bundle. The bundle leaves the queue at the edge where each of its
//! handshakes has been taken (at once if it has none). An empty queue
//! applies no handshake and no pulse. The output readies ([`READY_HIGH`])
//! are tied high: the host takes every transfer (back-pressure is tested
//! through `CoreSim`).
//!
//! The shim reads the outputs after each cycle's settling, before the
//! edge; as every ready is high, those are the edge's transfers.

use super::Port;
use std::fmt::Write as _;

/// The core's (valid, ready) input handshakes.
pub const HANDSHAKES: &[(&str, &str)] = &[
    ("s_rec_valid", "s_rec_ready"),
    ("ctl_valid", "ctl_ready"),
    ("cnt_req", "cnt_ready"),
];
/// Inputs applied in a bundle's first cycle only.
pub const PULSES: &[&str] = &["frame_done", "frame_drop", "link_inc"];
/// Output readies, tied high.
pub const READY_HIGH: &[&str] = &["m_open_ready", "m_evict_ready"];
/// log2 of the queue's depth.
pub const DEPTH_BITS: usize = 3;

/// The inputs a bundle carries (every input but the tied readies).
fn carried(ports: &[Port]) -> Vec<&Port> {
    ports
        .iter()
        .filter(|p| p.input && !READY_HIGH.contains(&p.name.as_str()))
        .collect()
}

/// Checks that the roles name ports of the right kind.
fn check(ports: &[Port]) -> Result<(), String> {
    let find = |n: &str| ports.iter().find(|p| p.name == n);
    for (v, r) in HANDSHAKES {
        match (find(v), find(r)) {
            (Some(v), Some(r)) if v.input && !r.input && v.width == 1 && r.width == 1 => {}
            _ => return Err(format!("handshake {v}/{r}: not a 1-bit input and output")),
        }
    }
    for n in PULSES.iter().chain(READY_HIGH) {
        if !find(n).is_some_and(|p| p.input) {
            return Err(format!("'{n}' is not an input of the core"));
        }
    }
    Ok(())
}

/// The wrapper module `bt_sim_core_fast`.
pub fn wrapper(ports: &[Port]) -> Result<String, String> {
    check(ports)?;
    let bundle = carried(ports);
    let width: usize = bundle.iter().map(|p| p.width).sum();
    let d = DEPTH_BITS;
    let mut w = String::new();
    let mut list = vec!["bt_step".to_string(), "push".to_string()];
    let mut decl = String::from("    input wire [31:0] bt_step;\n    input wire push;\n");
    for p in &bundle {
        list.push(format!("e_{}", p.name));
        writeln!(decl, "    input wire [{}:0] e_{};", p.width - 1, p.name).unwrap();
    }
    for p in ports.iter().filter(|p| !p.input) {
        list.push(p.name.clone());
        writeln!(decl, "    output wire [{}:0] {};", p.width - 1, p.name).unwrap();
    }
    list.push("fill".into());
    writeln!(decl, "    output wire [{d}:0] fill;").unwrap();

    // One array per carried input (no packing: Verilator copies each
    // field as it is instead of shifting it in and out of one wide word).
    let depth = 1usize << d;
    let mut fields = String::new();
    let mut store = String::new();
    for p in &bundle {
        let (n, r) = (&p.name, p.width - 1);
        writeln!(fields, "    reg [{r}:0] q_{n} [0:{}];", depth - 1).unwrap();
        writeln!(fields, "    wire [{r}:0] h_{n} = q_{n}[rd];").unwrap();
        writeln!(store, "            q_{n}[wr] <= e_{n};").unwrap();
    }
    let mut apply = String::new();
    let mut done = vec!["have".to_string()];
    for p in &bundle {
        let n = &p.name;
        let r = p.width - 1;
        if HANDSHAKES.iter().any(|(v, _)| v == n) {
            writeln!(apply, "    wire [{r}:0] in_{n} = have & h_{n};").unwrap();
        } else if PULSES.contains(&n.as_str()) {
            writeln!(
                apply,
                "    wire [{r}:0] in_{n} = {{{}{{have & first}}}} & h_{n};",
                p.width
            )
            .unwrap();
        } else {
            writeln!(apply, "    wire [{r}:0] in_{n} = h_{n};").unwrap();
        }
    }
    for (v, r) in HANDSHAKES {
        done.push(format!("(~in_{v} | {r})"));
    }
    let mut conn = vec!["        .clock(clock)".to_string()];
    for p in ports {
        let n = &p.name;
        if READY_HIGH.contains(&n.as_str()) {
            conn.push(format!("        .{n}(1'b1)"));
        } else if p.input {
            conn.push(format!("        .{n}(in_{n})"));
        } else {
            conn.push(format!("        .{n}({n})"));
        }
    }
    writeln!(
        w,
        "// Generated by bloomtime-sim's build script (build/fast.rs): the core\n\
         // fed from a queue of {depth} input bundles of {width} bits.\n\
         module bt_sim_core_fast({});\n{decl}\
         \x20   reg [31:0] bt_done = 0;\n\
         \x20   wire clock = bt_step != bt_done;\n\
         \x20   reg [{}:0] rd = 0;\n\
         \x20   reg [{}:0] wr = 0;\n\
         \x20   reg [{d}:0] count = 0;\n\
         \x20   reg first = 1;\n\
         \x20   assign fill = count;\n\
         \x20   wire have = count != 0;\n{fields}{apply}\
         \x20   wire done = {};\n\
         \x20   always @(posedge clock) begin\n\
         \x20       bt_done <= bt_step;\n\
         \x20       if (push) begin\n{store}\
         \x20           wr <= wr + 1'b1;\n\
         \x20       end\n\
         \x20       if (done) rd <= rd + 1'b1;\n\
         \x20       count <= count + {{{d}'d0, push}} - {{{d}'d0, done}};\n\
         \x20       first <= done | ~have;\n\
         \x20   end\n\
         \x20   top dut(\n{}\n    );\nendmodule",
        list.join(", "),
        d - 1,
        d - 1,
        done.join(" & "),
        conn.join(",\n")
    )
    .unwrap();
    Ok(w)
}

/// Words of a wide port, by name.
fn words(ports: &[Port], name: &str) -> usize {
    let p = ports
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("the core has no port '{name}'"));
    assert!(p.wide(), "'{name}' is expected wider than 64 bits");
    p.words()
}

/// The C++ shim of the fast core (`bt_core_fast_*`).
pub fn shim_cpp(ports: &[Port], in_struct: &str) -> String {
    let mut load = String::new();
    for p in carried(ports) {
        let n = &p.name;
        if p.wide() {
            let k = p.words();
            let top = p.width - 32 * (k - 1);
            for j in 0..k {
                let v = format!("e->{n}[{j}]");
                let v = if j == k - 1 && top < 32 {
                    format!("({v} & {}U)", (1u32 << top) - 1)
                } else {
                    v
                };
                writeln!(load, "    m->e_{n}[{j}] = {v};").unwrap();
            }
        } else {
            writeln!(load, "    m->e_{n} = e->{n} & {};", super::mask(p.width)).unwrap();
        }
    }
    let kw = words(ports, "m_open_key");
    let sw = words(ports, "m_evict_stats");
    format!(
        r#"// Generated by bloomtime-sim's build script (build/fast.rs): the fast core.
#include <cstdint>
#include <cstring>
#include <vector>
#include "verilated.h"
#include "Vcore_fast.h"

{in_struct}
struct bt_fast_event {{
    uint64_t cycle;
    uint32_t evict;  // 0: key announcement, 1: export
    uint32_t slot;
    uint32_t reason;
    uint32_t pad;
    uint64_t tag;
    uint32_t key[{kw}];
    uint32_t stats[{sw}];
}};

struct bt_fast_outcome {{
    uint64_t ts;
    uint32_t dir, slot, fp, iat_valid, iat, rtt_valid, rtt, pad;
}};

namespace {{
struct Fast {{
    VerilatedContext ctx;
    Vcore_fast* m = nullptr;
    uint64_t cycle = 0;
    std::vector<bt_fast_event> events;
    std::vector<bt_fast_outcome> outcomes;
    std::vector<uint32_t> counts;
}};

inline void load(Vcore_fast* m, const bt_core_in* e) {{
{load}}}

// This cycle's transfers (every ready is high): recorded before its edge.
inline bool collect(Fast* s, bool want_outcomes) {{
    Vcore_fast* m = s->m;
    if (m->m_open_valid) {{
        bt_fast_event ev;
        ev.cycle = s->cycle;
        ev.evict = 0;
        ev.slot = m->m_open_slot;
        ev.reason = 0;
        ev.pad = 0;
        ev.tag = 0;
        std::memcpy(ev.key, &m->m_open_key[0], sizeof ev.key);
        std::memset(ev.stats, 0, sizeof ev.stats);
        s->events.push_back(ev);
    }}
    if (m->m_evict_valid) {{
        bt_fast_event ev;
        ev.cycle = s->cycle;
        ev.evict = 1;
        ev.slot = m->m_evict_slot;
        ev.reason = m->m_evict_reason;
        ev.pad = 0;
        ev.tag = m->m_evict_tag;
        std::memset(ev.key, 0, sizeof ev.key);
        std::memcpy(ev.stats, &m->m_evict_stats[0], sizeof ev.stats);
        s->events.push_back(ev);
    }}
    if (want_outcomes && m->o_valid) {{
        bt_fast_outcome o;
        o.ts = m->o_ts;
        o.dir = m->o_dir;
        o.slot = m->o_slot;
        o.fp = m->o_fp;
        o.iat_valid = m->o_iat_valid;
        o.iat = m->o_iat;
        o.rtt_valid = m->o_rtt_valid;
        o.rtt = m->o_rtt;
        o.pad = 0;
        s->outcomes.push_back(o);
    }}
    if (m->cnt_valid) s->counts.push_back(m->cnt_value);
    return m->idle && !m->busy && !m->m_open_valid && !m->m_evict_valid;
}}
}}  // namespace

extern "C" {{
void* bt_core_fast_new() {{
    Fast* s = new Fast;
    s->m = new Vcore_fast(&s->ctx, "bt");
    s->m->bt_step = 0;
    s->m->push = 0;
    s->m->eval();
    return s;
}}

void bt_core_fast_free(void* p) {{
    Fast* s = static_cast<Fast*>(p);
    s->m->final();
    delete s->m;
    delete s;
}}

/// Queue the `n` bundles at `e`, one a cycle as room allows. With `quiet`
/// 0, return once the last is queued (up to the queue's depth may still
/// wait: the next call goes on with them, without an idle cycle between);
/// otherwise run on until the queue is empty and the core has been quiet
/// (idle, nothing to transfer) for `quiet` cycles in a row. Stops early
/// after `max` cycles. Returns the cycles run; transfers are appended to
/// the result vectors.
uint64_t bt_core_fast_run(void* p, const bt_core_in* e, uint64_t n, uint32_t quiet,
                          uint64_t max, int want_outcomes) {{
    Fast* s = static_cast<Fast*>(p);
    Vcore_fast* m = s->m;
    uint64_t next = 0, ran = 0;
    uint32_t still = 0;
    const bool wo = want_outcomes != 0;
    while (ran < max) {{
        if (next == n && (quiet == 0 || (m->fill == 0 && still >= quiet))) break;
        // Quiet cycles count once every bundle has left the queue.
        const bool q = collect(s, wo) && next == n && m->fill == 0;
        if (next < n && m->fill < {depth}) {{
            load(m, &e[next]);
            m->push = 1;
            next++;
        }} else {{
            m->push = 0;
        }}
        m->bt_step = m->bt_step + 1;
        m->eval();
        s->cycle++;
        ran++;
        still = q ? still + 1 : 0;
    }}
    m->push = 0;
    return ran;
}}

uint64_t bt_core_fast_cycles(void* p) {{ return static_cast<Fast*>(p)->cycle; }}

/// The collected transfers (valid until the next run or clear).
const bt_fast_event* bt_core_fast_events(void* p, uint64_t* n) {{
    Fast* s = static_cast<Fast*>(p);
    *n = s->events.size();
    return s->events.data();
}}
const bt_fast_outcome* bt_core_fast_outcomes(void* p, uint64_t* n) {{
    Fast* s = static_cast<Fast*>(p);
    *n = s->outcomes.size();
    return s->outcomes.data();
}}
const uint32_t* bt_core_fast_counts(void* p, uint64_t* n) {{
    Fast* s = static_cast<Fast*>(p);
    *n = s->counts.size();
    return s->counts.data();
}}
void bt_core_fast_clear(void* p) {{
    Fast* s = static_cast<Fast*>(p);
    s->events.clear();
    s->outcomes.clear();
    s->counts.clear();
}}

/// sizeof of the exchanged structs, for the Rust side's layout check.
void bt_core_fast_sizes(uint64_t* in, uint64_t* event, uint64_t* outcome) {{
    *in = sizeof(bt_core_in);
    *event = sizeof(bt_fast_event);
    *outcome = sizeof(bt_fast_outcome);
}}
}}
"#,
        depth = 1 << DEPTH_BITS,
    )
}

/// The Rust side: the exchanged structs and the FFI declarations.
pub fn rust(ports: &[Port]) -> String {
    let kw = words(ports, "m_open_key");
    let sw = words(ports, "m_evict_stats");
    format!(
        r#"/// Raw FFI of the fast core (`build/fast.rs`); `crate::fast` is the API.
pub mod core_fast {{
    use std::ffi::c_void;

    /// A transfer on the announcement or export port.
    #[repr(C)]
    #[derive(Clone, Copy, Debug)]
    pub struct RawEvent {{
        pub cycle: u64,
        pub evict: u32,
        pub slot: u32,
        pub reason: u32,
        pub pad: u32,
        pub tag: u64,
        pub key: [u32; {kw}],
        pub stats: [u32; {sw}],
    }}

    /// A record's outcome.
    #[repr(C)]
    #[derive(Clone, Copy, Debug)]
    pub struct RawOutcome {{
        pub ts: u64,
        pub dir: u32,
        pub slot: u32,
        pub fp: u32,
        pub iat_valid: u32,
        pub iat: u32,
        pub rtt_valid: u32,
        pub rtt: u32,
        pub pad: u32,
    }}

    /// Depth of the wrapper's input queue.
    pub const DEPTH: usize = {depth};

    extern "C" {{
        pub fn bt_core_fast_new() -> *mut c_void;
        pub fn bt_core_fast_free(p: *mut c_void);
        pub fn bt_core_fast_run(p: *mut c_void, e: *const super::CoreIn, n: u64, quiet: u32, max: u64, want_outcomes: i32) -> u64;
        pub fn bt_core_fast_cycles(p: *mut c_void) -> u64;
        pub fn bt_core_fast_events(p: *mut c_void, n: *mut u64) -> *const RawEvent;
        pub fn bt_core_fast_outcomes(p: *mut c_void, n: *mut u64) -> *const RawOutcome;
        pub fn bt_core_fast_counts(p: *mut c_void, n: *mut u64) -> *const u32;
        pub fn bt_core_fast_clear(p: *mut c_void);
        pub fn bt_core_fast_sizes(i: *mut u64, event: *mut u64, outcome: *mut u64);
    }}
}}

"#,
        depth = 1 << DEPTH_BITS,
    )
}
