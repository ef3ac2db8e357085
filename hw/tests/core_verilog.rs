//! The core's Verilog as `just verilog` writes it (`bloomtime_hw::tops::core_verilog`,
//! what `bloomtime-verilog core` calls): rust-hdl's `yosys_validate`, a yosys
//! `check` of the flattened design (no combinational loop, no undriven or
//! multiply driven wire), and `verilator --lint-only -Wall` with every allowed
//! warning named and justified below. Without yosys or verilator the test
//! fails under `CI=true` and is skipped elsewhere (`bloomtime_testkit::env`).

use rust_hdl::prelude::*;
use std::path::Path;
use std::process::Command;

/// A directory name under the system temp dir that no other run uses.
fn fresh(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("bloomtime_{tag}.{}.{nanos}", std::process::id())
}

/// Run a tool in `dir`; its combined output, or a panic with it on failure.
fn run(dir: &Path, cmd: &mut Command, what: &str) -> String {
    let out = cmd.current_dir(dir).output().expect(what);
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{log}");
    log
}

/// Verilator waivers, each for a named warning and, except the two that
/// rust-hdl's output shape raises everywhere, for the exact signals:
///
/// * `WIDTH`: rust-hdl 0.46 emits every literal 32 bits wide, every
///   `bit_cast` as an AND with a mask and every struct-field slice with a
///   64-bit offset, and relies on Verilog's implicit widening and truncation
///   (e.g. `q + 1` into a narrower register), so no design that mixes widths
///   lints clean (716 warnings on the core). That the widths do not change a
///   result is checked by bloomtime-sim's `verilator_matches_rust_hdl`: the
///   Verilated core equals rust-hdl's simulation on every output, every cycle.
/// * `DECLFILENAME`: all modules (the top and one per child and DFF type) are
///   in one file, so their names cannot match the file name.
/// * `UNOPTFLAT` on `top.tags$opening` and `top.ftable$advance`: rust-hdl
///   emits one `always @(*)` per block, so a signal that goes into a child
///   (`advance`) and a child output that comes back (`opening`, `evicting`)
///   form a loop at block granularity; the yosys
///   `check -assert` above, on the flattened netlist, shows there is no
///   combinational loop at the signal level.
/// * `UNUSEDPARAM` `CtlState$*`: rust-hdl declares the enum's values as
///   localparams in the module of the `state` DFF, which only stores it.
/// * `UNUSEDSIGNAL` `sel[7:0]` (the bank): the selected line is a
///   40-bit line word (tag, ring 0, ring 1) of which the ring update reads
///   the two 16-bit rings, not the 8 tag bits (the age comes separately).
/// * `UNUSEDSIGNAL` `ple$le` (the core's `EpochLe`): the core registers
///   the block's three pieces and joins them after the register (`le_pre`);
///   `le`, the block's own join, is what its test checks.
/// * `UNUSEDSIGNAL` `gd[31]`, `conv[31:LINE_ADDR]` (hash unit's combine, leaf
///   Verilog): `gd` is doubled (`{gd[30:0], 1'b0}`, bit 31 shifts out, as in
///   the model's `wrapping_mul(2)`), and the bank's line index is the low
///   `LINE_ADDR` bits of the 32-bit conversation hash (the model's `line`).
fn waivers() -> String {
    let waivers = r#"`verilator_config
lint_off -rule WIDTH
lint_off -rule DECLFILENAME
lint_off -rule UNOPTFLAT -file "*" -match "*'top.tags$opening'*"
lint_off -rule UNOPTFLAT -file "*" -match "*'top.ftable$advance'*"
lint_off -rule UNUSEDPARAM -file "*" -match "Parameter is not used: 'CtlState$*"
lint_off -rule UNUSEDSIGNAL -file "*" -match "Bits of signal are not used: 'sel'[7:0]*"
lint_off -rule UNUSEDSIGNAL -file "*" -match "Bits of signal are not used: 'gd'[31]*"
lint_off -rule UNUSEDSIGNAL -file "*" -match "Signal is not used: 'ple$le'*"
lint_off -rule UNUSEDSIGNAL -file "*" -match "Bits of signal are not used: 'conv'[31:LINE_ADDR]*"
"#;
    waivers.replace("LINE_ADDR", &bloomtime_hw::consts::LINE_ADDR.to_string())
}

#[test]
fn core_verilog_synthesizes_and_lints() {
    let test = "core_verilog_synthesizes_and_lints";
    if !bloomtime_testkit::need_tools(test, &["yosys", "verilator"]) {
        return;
    }
    let verilog = bloomtime_hw::tops::core_verilog();
    let modules = verilog.matches("\nmodule ").count() + verilog.starts_with("module ") as usize;
    eprintln!(
        "{test}: {} lines, {modules} modules",
        verilog.lines().count()
    );
    assert!(
        verilog.contains("module top(") && modules >= 20,
        "{modules} modules"
    );

    // rust-hdl's check (read, hierarchy -check, proc; undeclared, latched or
    // undriven signals, missing modules). It deletes and refills
    // temp_dir()/<prefix>: a prefix of its own.
    let prefix = fresh("core_yosys_validate");
    let r = yosys_validate(&prefix, &verilog);
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(&prefix));
    r.unwrap_or_else(|e| panic!("{test}: yosys_validate: {e:?}"));

    let dir = std::env::temp_dir().join(fresh("core_lint"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bloomtime_core.v"), &verilog).unwrap();
    // The flattened netlist: no combinational loop, no undriven or multiply
    // driven wire (`check -assert` fails on any of them).
    run(
        &dir,
        Command::new("yosys").args([
            "-q",
            "-p",
            "read_verilog bloomtime_core.v; hierarchy -check -top top; proc; flatten; \
             check -assert",
        ]),
        "yosys check",
    );

    // The file as emitted: no identifier may be a Verilog keyword (the flow
    // table is the field `ftable`; `table` is a keyword Verilator rejects).
    std::fs::write(dir.join("bloomtime_core_vl.v"), &verilog).unwrap();
    std::fs::write(dir.join("waivers.vlt"), waivers()).unwrap();
    let log = run(
        &dir,
        Command::new("verilator").args([
            "--lint-only",
            "-Wall",
            "--top-module",
            "top",
            "waivers.vlt",
            "bloomtime_core_vl.v",
        ]),
        "verilator --lint-only -Wall",
    );
    assert!(!log.contains("%Warning"), "verilator warned:\n{log}");
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("{test}: yosys_validate, yosys check and verilator -Wall (waivers above) clean");
}
