//! Writes the fuzz targets' seed corpora (`just fuzz-seeds`):
//! `seeds CAPTURE_DIR... -o CORPUS_DIR` fills `CORPUS_DIR/<target>/` with
//! * pcap_reader: the first 16 KiB of every capture (a cut capture is a
//!   seed as good as a whole one, and keeps the corpus small);
//! * frame_parser: the first frames of every capture, as the reader gives
//!   them (Ethernet);
//! * protocol: the link's own frames in the target's three modes (wire
//!   bytes, a request script for the model device, an answer script for the
//!   host client), made by the protocol code itself.
//!
//! Names are content hashes, so running it again adds nothing twice.

use bloomtime_host::device::{ModelDevice, ModelOptions};
use bloomtime_model::protocol::{cmd, encode_event, encode_frame, encode_replay_frame, status};
use bloomtime_model::regmap;
use bloomtime_traces::TraceReader;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

const CAPTURE_PREFIX: usize = 16 * 1024;
const FRAMES_PER_CAPTURE: usize = 24;

fn write(dir: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    let p = dir.join(format!("seed-{:016x}", h.finish()));
    if p.exists() {
        return Ok(false);
    }
    std::fs::write(p, bytes)?;
    Ok(true)
}

fn captures(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(d) else {
            eprintln!("seeds: no capture directory {} (skipped)", d.display());
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("pcap" | "pcapng")
            ) {
                v.push(p);
            }
        }
    }
    v.sort();
    v
}

/// Requests as the host sends them (payloads: seq, command, args).
fn requests(frames: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut replay = vec![0, cmd::REPLAY];
    for (i, f) in frames.iter().take(6).enumerate() {
        encode_replay_frame(1000 * i as u64, f, &mut replay);
    }
    let mut v = vec![
        vec![0, cmd::INFO],
        replay,
        vec![0, cmd::READ_REG, 0, regmap::STATUS as u8],
        vec![0, cmd::WRITE_REG, 0, regmap::CONTROL as u8, 0, 0, 0, 1],
        vec![0, cmd::READ_SLOTS, 0, 0, 4],
        vec![0, cmd::FLUSH],
        vec![0, cmd::DRAIN, 1, 0xf0],
        vec![0, cmd::PEEK, 0, 0, 1, 0xf0],
        vec![0, cmd::CLEAR],
    ];
    for (i, r) in v.iter_mut().enumerate() {
        r[0] = i as u8;
    }
    v
}

/// `len:u16` then the bytes, as the protocol target's scripts read them.
fn framed(tag: u8, p: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    out.extend_from_slice(&(p.len() as u16).to_be_bytes());
    out.extend_from_slice(p);
}

fn protocol(dir: &Path, frames: &[Vec<u8>]) -> std::io::Result<usize> {
    let mut n = 0;
    let reqs = requests(frames);
    let mut dev = ModelDevice::new(ModelOptions::default());
    let mut answers = Vec::new();
    for r in &reqs {
        let mut out = Vec::new();
        dev.receive(&encode_frame(r), &mut out);
        answers.push(out);
    }
    // Wire mode: each request and answer alone, and all in one stream.
    let mut all = vec![0u8];
    for b in reqs
        .iter()
        .map(|r| encode_frame(r))
        .chain(answers.iter().cloned())
    {
        n += write(dir, &[&[0u8][..], &b].concat())? as usize;
        all.extend_from_slice(&b);
    }
    // Events as DRAIN carries them.
    let cfg = *dev.config();
    let mut bt = bloomtime_model::BloomTime::new(&cfg);
    for (i, f) in frames.iter().enumerate() {
        let _ = bt.frame(i as u64 * 50, &f[..f.len().min(128)], f.len());
    }
    bt.flush();
    let mut ev = Vec::new();
    for e in bt.drain_events().iter().take(8) {
        encode_event(&cfg, e, &mut ev);
    }
    let mut drain = vec![9, status::OK];
    drain.extend_from_slice(&ev);
    n += write(dir, &[&[0u8][..], &encode_frame(&drain)].concat())? as usize;
    n += write(dir, &all)? as usize;
    // Model device mode: the requests framed, twice (the second a retry).
    let mut script = vec![1u8];
    for r in reqs.iter().chain(reqs.iter().take(2)) {
        framed(1, r, &mut script);
    }
    n += write(dir, &script)? as usize;
    // Host client mode: INFO answered, then each command with the answer
    // the model device gave (op byte, u16 argument, answer under the
    // request's seq).
    let info = dev.info().encode();
    let mut script = vec![2u8];
    framed(1, &info, &mut script);
    for (op, reply) in [
        (1u8, vec![0, 0, 0, 5]),
        (3, vec![0, 0, 0, 2]),
        (7, ev.clone()),
        (8, ev.clone()),
        (9, vec![2]),
        (10, vec![]),
        (11, vec![]),
        (0, info.clone()),
    ] {
        script.extend_from_slice(&[op, 0x01, 0xf0]);
        framed(1, &reply, &mut script);
    }
    n += write(dir, &script)? as usize;
    Ok(n)
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(o) = args.iter().position(|a| a == "-o") else {
        eprintln!("usage: seeds CAPTURE_DIR... -o CORPUS_DIR");
        std::process::exit(2);
    };
    let out = PathBuf::from(&args[o + 1]);
    let dirs: Vec<PathBuf> = args[..o].iter().map(PathBuf::from).collect();
    for t in ["pcap_reader", "frame_parser", "protocol", "merge"] {
        std::fs::create_dir_all(out.join(t))?;
    }
    let (mut np, mut nf) = (0, 0);
    let mut sample = Vec::new();
    for c in captures(&dirs) {
        let bytes = std::fs::read(&c)?;
        np += write(
            &out.join("pcap_reader"),
            &bytes[..bytes.len().min(CAPTURE_PREFIX)],
        )? as usize;
        let Ok(r) = TraceReader::open(&c) else {
            continue;
        };
        for p in r.take(FRAMES_PER_CAPTURE).flatten() {
            nf += write(&out.join("frame_parser"), &p.data)? as usize;
            if sample.len() < 6 {
                sample.push(p.data.clone());
            }
        }
    }
    let nr = protocol(&out.join("protocol"), &sample)?;
    println!(
        "seeds: {np} captures, {nf} frames, {nr} protocol scripts new in {}",
        out.display()
    );
    Ok(())
}
