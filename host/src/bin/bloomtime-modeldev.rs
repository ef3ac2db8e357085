//! `bloomtime-modeldev`: the model device (`bloomtime_host::device::model`)
//! on a pseudo-terminal, for testing `bloomtime device` without a board.
//!
//! ```text
//! bloomtime-modeldev --link /tmp/bloomtime-tty &
//! bloomtime device --port /tmp/bloomtime-tty replay trace.pcap
//! ```
//!
//! Prints the pty's path on standard output, serves until SIGINT or SIGTERM,
//! then removes the link and exits 0.

use bloomtime_host::device::model::{ModelDevice, ModelOptions};
use bloomtime_host::device::pty::{stop_on_signals, PtyServer};
use bloomtime_model::config::preset;
use bloomtime_model::regmap;
use clap::Parser;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "bloomtime-modeldev",
    version,
    about = "Serve the BloomTime model device on a pseudo-terminal"
)]
struct Args {
    /// Make this path a symlink to the pty (removed on exit).
    #[arg(long, value_name = "PATH")]
    link: Option<PathBuf>,
    /// Baud rate INFO reports (and `--pace` emulates).
    #[arg(long, default_value_t = 1_000_000)]
    baud: u32,
    /// Hold answers back by the time a UART at --baud needs (10 bits a byte).
    #[arg(long)]
    pace: bool,
    /// Event buffer bytes.
    #[arg(long, value_name = "BYTES", default_value_t = bloomtime_model::protocol::EVENT_BUFFER_BYTES)]
    event_buffer: usize,
    /// Configuration preset (the board's is alchitry-cu-v1).
    #[arg(long, default_value = bloomtime_model::config::HARDWARE_PRESET, value_name = "NAME")]
    preset: String,
}

fn main() -> ExitCode {
    let a = Args::parse();
    let fail = |m: String| {
        eprintln!("bloomtime-modeldev: {m}");
        ExitCode::from(1)
    };
    let cfg = match preset(&a.preset) {
        Ok(c) => c,
        Err(e) => return fail(e.0),
    };
    if cfg.fingerprint_bits > 24 || cfg.slots_log2 > 16 {
        return fail(format!(
            "preset {} does not fit the link protocol (fingerprints <= 24 bits, <= 65536 slots)",
            a.preset
        ));
    }
    let min = bloomtime_model::protocol::frame_worst_case_bytes(&cfg)
        + bloomtime_model::protocol::evict_bytes(&cfg);
    if a.event_buffer < min {
        return fail(format!("--event-buffer must be at least {min} bytes"));
    }
    let mut dev = ModelDevice::new(ModelOptions {
        config: cfg,
        event_buffer: a.event_buffer,
        baud: a.baud,
        ..ModelOptions::default()
    });
    let stop = match stop_on_signals() {
        Ok(s) => s,
        Err(e) => return fail(format!("signal handlers: {e}")),
    };
    let mut srv = match PtyServer::open(a.link.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(format!("cannot open a pseudo-terminal: {e}")),
    };
    println!("{}", srv.path().display());
    let _ = std::io::stdout().flush();
    eprintln!(
        "bloomtime-modeldev: model device ({}) on {}{}; Ctrl-C stops",
        a.preset,
        srv.path().display(),
        srv.link()
            .map(|l| format!(" (link {})", l.display()))
            .unwrap_or_default()
    );
    let pace = a.pace.then_some(a.baud);
    match srv.serve(&mut dev, stop, pace) {
        Ok(s) => {
            eprintln!(
                "bloomtime-modeldev: stopped after {} bytes in and {} out ({} requests and {} \
                 frames replayed since the last clear)",
                s.bytes_in,
                s.bytes_out,
                dev.link_counter(regmap::RX_FRAMES),
                dev.link_counter(regmap::REPLAY_FRAMES)
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("serving {}: {e}", srv.path().display())),
    }
}
