//! Verilog of a block: yosys validation and a clean Verilator lint. Used by
//! the block tests through `#[path = "common/lint.rs"] mod lint;` (it needs
//! nothing else from `common`). Without yosys or verilator: a failure under
//! `CI=true`, a skip elsewhere (`bloomtime_testkit::env`).
//!
//! Allowed warnings, both from the shape of rust-hdl 0.46's Verilog:
//! * WIDTH: every literal is emitted 32 bits wide, every `bit_cast` as an
//!   AND with a mask of the target width and every struct-field slice
//!   (`key$d[(64'h29)+:(8)]`) with a 64-bit offset, so no design that mixes
//!   widths lints clean. The widths are fixed by the Rust types, and each
//!   block's emitted Verilog is checked against its Rust simulation
//!   (`frame_parser.rs`'s `verilog_matches_simulation`, bloomtime-sim's
//!   co-simulation of the core and the board).
//! * DECLFILENAME: all modules (the top and one per child and DFF type) are
//!   in one file.

use rust_hdl::prelude::*;

#[allow(dead_code)]
pub fn lint<B: Block>(name: &str, uut: B) {
    lint_allowing(name, uut, &[]);
}

/// [`lint`] with more warnings allowed (`-Wno-...` flags): rust-hdl declares
/// a state enum's values in every module that holds the state, also where
/// none is used (`UNUSEDPARAM`).
#[allow(dead_code)]
pub fn lint_allowing<B: Block>(name: &str, mut uut: B, allowed: &[&str]) {
    if !bloomtime_testkit::need_tools(&format!("{name} lint"), &["yosys", "verilator"]) {
        return;
    }
    uut.connect_all();
    let verilog = generate_verilog(&uut);
    yosys_validate(name, &verilog).unwrap();
    let dir = std::env::temp_dir().join(format!("{name}_lint.{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}.v"));
    std::fs::write(&file, &verilog).unwrap();
    let out = std::process::Command::new("verilator")
        .args(["--lint-only", "-Wall", "-Wno-WIDTH", "-Wno-DECLFILENAME"])
        .args(allowed)
        .args(["--top-module", "top"])
        .arg(&file)
        .output()
        .expect("verilator");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "verilator:\n{log}");
    let _ = std::fs::remove_dir_all(&dir);
}
