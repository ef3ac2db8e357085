//! The command processor and its blocks as Verilog: yosys reads them and
//! Verilator lints them (`-Wall`). Their behaviour is tested against the
//! model device by `conformance.rs` (the whole processor) and by the blocks'
//! own unit tests.

#[path = "common/lint.rs"]
mod lint;

use bloomtime_hw::command::CommandProcessor;
use bloomtime_hw::event_walk::EventWalk;
use bloomtime_hw::replay_feed::ReplayFeed;

#[test]
fn event_walk_verilog_lints_clean() {
    lint::lint_allowing("event_walk", EventWalk::default(), &["-Wno-UNUSEDPARAM"]);
}

#[test]
fn replay_feed_verilog_lints_clean() {
    lint::lint_allowing("replay_feed", ReplayFeed::default(), &["-Wno-UNUSEDPARAM"]);
}

#[test]
fn command_processor_verilog_lints_clean() {
    lint::lint_allowing(
        "command_processor",
        CommandProcessor::default(),
        &["-Wno-UNUSEDPARAM"],
    );
}
