//! Records per second of the Verilated core, bytes per second of the
//! virtual board's link.
//!
//! `cargo run --release -p bloomtime-sim --bin bloomtime-sim-bench [-- --packets N --reps N --only replay|fast|cycle|link --link-packets N]`
//!
//! **Core** (`replay`, `fast`, `cycle`). Generates the synthetic trace of
//! `bloomtime-bench` (same options, same file in `build/bench/`, reused if
//! present), checks the Verilated core and the fast core once against the
//! golden model (outcomes, counters), then `reps` times each:
//!
//! * `replay`: `bloomtime-sim replay` of the trace end to end
//!   ([`replay_traces`]: read and parse, the fast core, the merge, on three
//!   threads); its CPU figure is the core's thread's. The first run's flows
//!   are checked against `bloomtime analyze`'s.
//! * `fast`: [`FastCore`] alone on the records parsed beforehand (drain,
//!   flush, counters included), on this thread.
//! * `cycle`: [`CoreSim::replay`], a cycle per call with the inputs on the
//!   top's ports (the path the tests drive), for comparison.
//!
//! Each prints the median records/s by wall clock and by CPU time (the two
//! differ when the machine is busy).
//!
//! **Link** (`link`). `reps` times: a virtual board (the Verilated board
//! top behind a pseudo-terminal, served from a thread exactly as
//! `bloomtime-sim board` serves it) and the host's device client on the
//! pty's slave replay a generated trace of `--link-packets` packets (the
//! demo trace's options, default 1000 packets); prints the median bytes/s
//! of the link (both directions, as the host counts them), frames/s and
//! simulated clocks/s. The first run's flows are checked against
//! `bloomtime analyze`'s.
//!
//! Writes `build/bench/sim.json` (the parts measured).

use bloomtime_host::device::client::{Client, ClientOptions};
use bloomtime_host::device::cmd::{replay, ReplayOptions};
use bloomtime_host::device::pty::PtyServer;
use bloomtime_host::device::SerialTransport;
use bloomtime_model::key::Record;
use bloomtime_model::report::write_csv;
use bloomtime_model::BloomTime;
use bloomtime_sim::board::{BoardModel, BoardSim, BoardStats};
use bloomtime_sim::fast::FastCore;
use bloomtime_sim::replay::{replay_traces, thread_cpu_s};
use bloomtime_sim::{BoardTop, Cmd, CoreSim, Outcome, ParsedFrame, CFG};
use bloomtime_traces::gen::{bench_trace, generate_file, GenOptions};
use bloomtime_traces::Records;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// One line on standard error, exit 1 (2: a bad command line).
fn fail(code: i32, msg: impl std::fmt::Display) -> ! {
    eprintln!("bloomtime-sim-bench: {msg}");
    std::process::exit(code)
}

/// The value, or a line naming `path` and the error.
fn or_fail<T, E: std::fmt::Display>(r: Result<T, E>, path: &Path) -> T {
    r.unwrap_or_else(|e| fail(1, format_args!("{}: {e}", path.display())))
}

const USAGE: &str =
    "usage: bloomtime-sim-bench [--packets N] [--reps N] [--only replay|fast|cycle|link] [--link-packets N]";

/// The command line: `--name value` pairs, each known.
struct Opts {
    packets: u64,
    reps: usize,
    only: Option<String>,
    link_packets: u64,
}

fn opts() -> Opts {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut o = Opts {
        packets: 1_000_000,
        reps: 5,
        only: None,
        link_packets: 1000,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let Some(v) = it.next() else {
            fail(2, format_args!("{a} needs a value ({USAGE})"));
        };
        let num = || -> u64 {
            match v.parse::<u64>() {
                Ok(n) if n > 0 => n,
                _ => fail(2, format_args!("{a} takes a positive number, got {v:?}")),
            }
        };
        match a.as_str() {
            "--packets" => o.packets = num(),
            "--reps" => o.reps = num() as usize,
            "--link-packets" => o.link_packets = num(),
            "--only" if ["replay", "fast", "cycle", "link"].contains(&v.as_str()) => {
                o.only = Some(v.clone())
            }
            "--only" => fail(
                2,
                format_args!("--only takes replay, fast, cycle or link, got {v:?}"),
            ),
            _ => fail(2, format_args!("unknown argument {a:?} ({USAGE})")),
        }
    }
    o
}

/// `path`, generated with `opts` unless it is there already.
fn trace(path: &Path, opts: &GenOptions) {
    if path.exists() {
        return;
    }
    let t0 = Instant::now();
    let tmp = path.with_extension("pcap.sim-partial");
    generate_file(opts, &tmp, None)
        .and_then(|_| std::fs::rename(&tmp, path))
        .unwrap_or_else(|e| fail(1, format_args!("generating {}: {e}", path.display())));
    eprintln!(
        "generated {} in {:.2} s",
        path.display(),
        t0.elapsed().as_secs_f64()
    );
}

fn main() {
    let o = opts();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("sim/ is inside the workspace")
        .to_path_buf();
    let dir = root.join("build/bench");
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| fail(1, format_args!("{}: {e}", dir.display())));
    let mut results = Vec::new();
    if o.only.as_deref() != Some("link") {
        results.push(core(&dir, &o));
    }
    if matches!(o.only.as_deref(), None | Some("link")) {
        results.push(link(&dir, &o));
    }
    let json = format!("{{\n{}\n}}\n", results.join(",\n"));
    let path = dir.join("sim.json");
    std::fs::write(&path, json)
        .unwrap_or_else(|e| fail(1, format_args!("{}: {e}", path.display())));
    eprintln!("wrote {}", path.display());
}

/// Records/s of the Verilated core; its part of `sim.json`.
fn core(dir: &Path, o: &Opts) -> String {
    let (packets, reps) = (o.packets, o.reps);
    let t0 = Instant::now();
    let (pcap, truth) = bench_trace(dir, packets).unwrap_or_else(|e| {
        fail(
            1,
            format_args!("generating the bench trace in {}: {e}", dir.display()),
        )
    });
    if truth.is_some() {
        eprintln!(
            "generated {} in {:.2} s",
            pcap.display(),
            t0.elapsed().as_secs_f64()
        );
    }
    let mut rd = or_fail(Records::open(&[&pcap], &CFG), &pcap);
    let mut recs: Vec<Record> = Vec::with_capacity(packets as usize);
    while let Some(f) = or_fail(rd.next_frame(), &pcap) {
        if let Ok(r) = f.record() {
            recs.push(r);
        }
    }
    let n = recs.len() as f64;
    eprintln!("{} records from {}", recs.len(), pcap.display());

    // Check once against the golden model.
    {
        let mut sim = CoreSim::new();
        let (outcomes, events, counters) = sim.run(&recs);
        let mut m = BloomTime::new(&CFG);
        let same = recs
            .iter()
            .zip(&outcomes)
            .all(|(r, o)| Outcome::from(&m.process(r)) == *o);
        m.flush();
        if !(same && outcomes.len() == recs.len()) {
            fail(1, "the Verilated core's outcomes differ from the model's");
        }
        if counters != *m.counters() {
            fail(1, "the Verilated core's counters differ from the model's");
        }
        if events.len() != m.drain_events().len() {
            fail(
                1,
                "the Verilated core's event count differs from the model's",
            );
        }
        eprintln!(
            "{:.3} cycles per record; outcomes and counters equal the model's",
            sim.cycles() as f64 / n
        );
    }

    // And the fast core, once, with its outcomes.
    {
        let frames: Vec<ParsedFrame> = recs.iter().map(|r| Ok(*r)).collect();
        let mut f = FastCore::new().with_outcomes(true);
        let mut outcomes = Vec::with_capacity(recs.len());
        for chunk in frames.chunks(4096) {
            f.push_frames(chunk, |_| {}, |o| outcomes.push(o))
                .unwrap_or_else(|e| fail(1, e));
        }
        f.drain(|_| {}, |o| outcomes.push(o))
            .unwrap_or_else(|e| fail(1, e));
        let mut m = BloomTime::new(&CFG);
        let same = recs
            .iter()
            .zip(&outcomes)
            .all(|(r, o)| Outcome::from(&m.process(r)) == *o);
        if !(same && outcomes.len() == recs.len()) {
            fail(1, "the fast core's outcomes differ from the model's");
        }
        // Every record came with its frame's `frame_done`: a frame each.
        let mut want = *m.counters();
        want.0[bloomtime_model::counters::Counter::Frames as usize] += recs.len() as u64;
        let c = f
            .read_counters(|_| {}, |_| {})
            .unwrap_or_else(|e| fail(1, e));
        if c != want {
            fail(1, "the fast core's counters differ from the model's");
        }
    }
    let want_csv = if matches!(o.only.as_deref(), None | Some("replay")) {
        let want = bloomtime_host::analyze::estimate(&CFG, &[&pcap])
            .unwrap_or_else(|e| fail(1, format_args!("analyze {}: {e}", pcap.display())));
        let mut w = Vec::new();
        write_csv(&mut w, &want.rows()).unwrap_or_else(|e| fail(1, e));
        w
    } else {
        Vec::new()
    };

    // `replay`: `bloomtime-sim replay` end to end (the capture read and
    // parsed, the fast core, the merge; three threads), its CPU figure the
    // core's thread; `fast`: the fast core alone on the parsed records, on
    // this thread; `cycle`: `CoreSim`, a cycle per call (inputs on the
    // ports), the path the tests drive.
    let mut results = Vec::new();
    for mode in ["replay", "fast", "cycle"] {
        if o.only.as_deref().is_some_and(|o| o != mode) {
            continue;
        }
        let mut wall = Vec::new();
        let mut cpu = Vec::new();
        for rep in 0..reps {
            let (t, c) = (Instant::now(), thread_cpu_s());
            let mut seen = 0u64;
            let mut core_cpu = None;
            let mut n = n;
            if mode == "replay" {
                let r = replay_traces(&[&pcap]).unwrap_or_else(|e| fail(1, e));
                n = r.packets as f64;
                core_cpu = r.core_cpu_s;
                if rep == 0 {
                    let mut got = Vec::new();
                    write_csv(&mut got, &r.rows()).unwrap_or_else(|e| fail(1, e));
                    if got != want_csv {
                        fail(
                            1,
                            "bloomtime-sim replay's flows differ from bloomtime analyze's",
                        );
                    }
                }
                seen = r.flows.len() as u64;
            } else if mode == "fast" {
                let frames: Vec<ParsedFrame> = recs.iter().map(|r| Ok(*r)).collect();
                let mut f = FastCore::new();
                for chunk in frames.chunks(4096) {
                    f.push_frames(chunk, |_| seen += 1, |_| {})
                        .unwrap_or_else(|e| fail(1, e));
                }
                f.drain(|_| seen += 1, |_| {})
                    .unwrap_or_else(|e| fail(1, e));
                f.control(Cmd::Flush, |_| seen += 1, |_| {})
                    .unwrap_or_else(|e| fail(1, e));
                f.read_counters(|_| {}, |_| {})
                    .unwrap_or_else(|e| fail(1, e));
            } else {
                let mut sim = CoreSim::new();
                sim.replay(&recs, |t| {
                    seen += t.outcome.is_some() as u64 + t.open.is_some() as u64;
                });
            }
            let w = t.elapsed().as_secs_f64();
            std::hint::black_box(seen);
            wall.push(n / w);
            let c = core_cpu.or(c.zip(thread_cpu_s()).map(|(c0, c1)| c1 - c0));
            if let Some(c) = c {
                cpu.push(n / c);
            }
            eprintln!(
                "{mode} {}: {:.2} M records/s (wall){}",
                rep + 1,
                n / w / 1e6,
                cpu.last()
                    .map(|c| format!(", {:.2} M records/s (CPU)", c / 1e6))
                    .unwrap_or_default()
            );
        }
        let mw = median(wall.clone());
        let mc = (!cpu.is_empty()).then(|| median(cpu.clone()));
        println!(
            "Verilated core, {mode:<6}: {} records, median of {reps} runs {:.2} M records/s wall{}",
            recs.len(),
            mw / 1e6,
            mc.map(|c| format!(", {:.2} M records/s CPU", c / 1e6))
                .unwrap_or_default()
        );
        results.push(format!(
            "    \"{mode}\": {{\"median_records_per_s_wall\": {mw:.0}, \"median_records_per_s_cpu\": {}, \"runs_wall\": {:?}, \"runs_cpu\": {:?}}}",
            mc.map_or("null".to_string(), |c| format!("{c:.0}")),
            wall.iter().map(|x| x.round()).collect::<Vec<_>>(),
            cpu.iter().map(|x| x.round()).collect::<Vec<_>>(),
        ));
    }
    format!(
        "  \"core\": {{\n    \"trace\": \"{}\",\n    \"records\": {},\n    \"reps\": {reps},\n{}\n  }}",
        pcap.display(),
        recs.len(),
        results.join(",\n")
    )
}

/// A virtual board served from a thread on a new pty, as `bloomtime-sim
/// board` serves it: the pty's path, the stop flag, the thread (which
/// returns what the board did and the CPU seconds it took, if known).
#[allow(clippy::type_complexity)]
fn serve_board() -> (
    PathBuf,
    Arc<AtomicBool>,
    std::thread::JoinHandle<(BoardStats, Option<f64>)>,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let s = stop.clone();
    let h = std::thread::spawn(move || {
        let mut srv = match PtyServer::open(None) {
            Ok(srv) => srv,
            Err(e) => fail(1, format_args!("pseudo-terminal: {e}")),
        };
        let mut dev = BoardSim::<BoardTop>::new();
        let c0 = thread_cpu_s();
        tx.send(srv.path().to_path_buf())
            .expect("the bench waits for the path");
        if let Err(e) = srv.serve(&mut dev, &s, None) {
            fail(1, format_args!("serving {}: {e}", srv.path().display()));
        }
        let cpu = c0.zip(thread_cpu_s()).map(|(a, b)| b - a);
        (dev.stats(), cpu)
    });
    let path = rx.recv().expect("the board thread sends its path");
    (path, stop, h)
}

/// Bytes/s of the virtual board's link; its part of `sim.json`.
fn link(dir: &Path, o: &Opts) -> String {
    let (packets, reps) = (o.link_packets, o.reps);
    let opts = GenOptions {
        seed: 42,
        packets,
        // The demo trace's density (4000 packets in 4 s).
        duration_s: (packets as f64 / 1000.0).max(0.1),
        ..GenOptions::demo()
    };
    let pcap = dir.join(format!("link-{packets}.pcap"));
    trace(&pcap, &opts);
    let want = bloomtime_host::analyze::estimate(&CFG, &[&pcap])
        .unwrap_or_else(|e| fail(1, format_args!("analyze {}: {e}", pcap.display())));
    let (mut bps, mut fps, mut cps) = (Vec::new(), Vec::new(), Vec::new());
    let mut bps_cpu = Vec::new();
    for rep in 0..reps {
        let (pty, stop, h) = serve_board();
        let t0 = Instant::now();
        let port = pty.display().to_string();
        let run = SerialTransport::open(&port, BoardTop::BAUD)
            .map_err(|e| e.to_string())
            .and_then(|t| Client::connect(t, ClientOptions::default()).map_err(|e| e.to_string()))
            .and_then(|mut c| {
                replay(
                    &mut c,
                    &[&pcap],
                    ReplayOptions {
                        clear: true,
                        progress: false,
                    },
                )
                .map_err(|e| e.to_string())
            })
            .unwrap_or_else(|e| fail(1, format_args!("replay over the virtual board: {e}")));
        stop.store(true, Ordering::SeqCst);
        let (board, board_cpu) = h.join().expect("the board thread");
        let session_s = t0.elapsed().as_secs_f64();
        if rep == 0 {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            write_csv(&mut a, &run.rows())
                .and_then(|_| write_csv(&mut b, &want.rows()))
                .unwrap_or_else(|e| fail(1, e));
            if a != b {
                fail(
                    1,
                    "the virtual board's flows differ from bloomtime analyze's",
                );
            }
        }
        let s = &run.summary;
        let bytes = (s.link.bytes_out + s.link.bytes_in) as f64;
        bps.push(bytes / s.elapsed_s);
        fps.push(s.frames as f64 / s.elapsed_s);
        // Clocks of the whole session (connect, clear, replay) over its wall
        // time: the Verilated board's speed on the link.
        cps.push(board.cycles as f64 / session_s);
        // The same bytes over the board thread's CPU time: what the link
        // gives with a core of its own (the board is the bottleneck).
        if let Some(c) = board_cpu {
            bps_cpu.push(bytes / c);
        }
        eprintln!(
            "link {}: {:.1} kB/s ({} bytes in {:.2} s), {:.0} frames/s, {:.2} M clocks/s{}",
            rep + 1,
            bytes / s.elapsed_s / 1e3,
            bytes,
            s.elapsed_s,
            s.frames as f64 / s.elapsed_s,
            cps.last().unwrap() / 1e6,
            board_cpu
                .map(|c| format!(", board thread {c:.2} s CPU"))
                .unwrap_or_default()
        );
    }
    let (b, f, c) = (median(bps.clone()), median(fps), median(cps));
    let bc = (!bps_cpu.is_empty()).then(|| median(bps_cpu.clone()));
    println!(
        "virtual board link ({} baud, {} clocks a bit): {packets} frames, median of {reps} runs \
         {:.1} kB/s both ways (wall){}, {:.0} frames/s, {:.2} M clocks/s",
        BoardTop::BAUD,
        BoardTop::DIVISOR,
        b / 1e3,
        bc.map(|x| format!(", {:.1} kB/s per CPU second of the board", x / 1e3))
            .unwrap_or_default(),
        f,
        c / 1e6
    );
    format!(
        "  \"link\": {{\"trace\": \"{}\", \"frames\": {packets}, \"reps\": {reps}, \"baud\": {}, \"median_bytes_per_s_wall\": {b:.0}, \"median_bytes_per_s_board_cpu\": {}, \"median_frames_per_s\": {f:.0}, \"runs_bytes_per_s_wall\": {:?}}}",
        pcap.display(),
        BoardTop::BAUD,
        bc.map_or("null".to_string(), |x| format!("{x:.0}")),
        bps.iter().map(|x| x.round()).collect::<Vec<_>>()
    )
}
