//! Writes the Verilog of the RustHDL design or of one of its blocks:
//! `bloomtime-verilog DESIGN OUT.v`. The blocks are there for standalone
//! timing (`scripts/block-timing.py`): which block misses 100 MHz by itself.

use rust_hdl::prelude::*;
use std::process::ExitCode;

const DESIGNS: &str = "core, core-spaced, board, board-core, cp, eb, table, hash, bank, tags, \
                       counters, link, uart-link, parser";

fn block<B: Block>(mut b: B) -> String {
    b.connect_all();
    generate_verilog(&b)
}

fn main() -> ExitCode {
    use bloomtime_hw::*;
    let args: Vec<String> = std::env::args().collect();
    let (what, out) = match args.as_slice() {
        [_, w, o] => (w.as_str(), o.as_str()),
        _ => {
            eprintln!("usage: bloomtime-verilog DESIGN OUT.v   (DESIGN: {DESIGNS})");
            return ExitCode::from(2);
        }
    };
    let v = match what {
        "core" => tops::core_verilog(),
        "core-spaced" => block(core::BloomtimeCore::spaced()),
        "board" => tops::board_verilog(100_000_000, 1_000_000),
        "board-core" => tops::board_core_verilog(100_000_000, 1_000_000),
        "cp" => block(command::CommandProcessor::default()),
        "eb" => block(event_buffer::EventBuffer::default()),
        "table" => block(flow_table::FlowTable::default()),
        "hash" => block(hash_unit::HashUnit::default()),
        "bank" => block(bucket_bank::BucketBank::default()),
        "tags" => block(tag_check::TagCheck::default()),
        "counters" => block(counter_bank::CounterBank::default()),
        "link" => block(link::Link::default()),
        "uart-link" => block(link::UartLink::default()),
        "parser" => block(frame_parser::FrameParser::default()),
        other => {
            eprintln!("bloomtime-verilog: unknown design '{other}' ({DESIGNS})");
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
