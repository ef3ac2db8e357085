//! Writes the Verilog of the RustHDL design: `bloomtime-verilog [core|board] OUT.v`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (what, out) = match args.as_slice() {
        [_, w, o] => (w.as_str(), o.as_str()),
        _ => {
            eprintln!("usage: bloomtime-verilog core|board OUT.v");
            return ExitCode::from(2);
        }
    };
    let v = match what {
        "core" => bloomtime_hw::tops::core_verilog(),
        "board" => bloomtime_hw::tops::board_verilog(100_000_000, 1_000_000),
        other => {
            eprintln!("bloomtime-verilog: unknown design '{other}' (core, board)");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = std::path::Path::new(out).parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = std::fs::write(out, v) {
        eprintln!("bloomtime-verilog: cannot write {out}: {e}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
