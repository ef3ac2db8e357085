//! End to end through the kernel's tty layer: `bloomtime-modeldev` serves
//! the model device on a pseudo-terminal and the real `bloomtime` binary
//! talks to it exactly as to the board's USB UART.

mod devsupport;

use devsupport::*;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

struct ModelDev {
    child: Child,
    link: PathBuf,
}

impl ModelDev {
    fn start(dir: &Path, extra: &[&str]) -> ModelDev {
        let link = dir.join("tty");
        let mut child = Command::new(env!("CARGO_BIN_EXE_bloomtime-modeldev"))
            .arg("--link")
            .arg(&link)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start bloomtime-modeldev");
        // It prints the pty's path once it serves.
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("/dev/pts/"), "{line:?}");
        assert_eq!(
            std::fs::read_link(&link).unwrap(),
            PathBuf::from(line.trim())
        );
        ModelDev { child, link }
    }

    fn port(&self) -> &str {
        self.link.to_str().unwrap()
    }

    /// SIGTERM; it must exit 0 and remove its link.
    fn stop(mut self) -> String {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        let t0 = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "modeldev ignores SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        assert!(status.success(), "{status:?}");
        assert!(
            std::fs::symlink_metadata(&self.link).is_err(),
            "link left behind"
        );
        let mut err = String::new();
        use std::io::Read;
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        err
    }
}

impl Drop for ModelDev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bloomtime(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bloomtime"))
        .args(args)
        .output()
        .expect("run bloomtime")
}

fn ok(args: &[&str]) -> (String, String) {
    let o = bloomtime(args);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "bloomtime {args:?} failed: {err}");
    (String::from_utf8(o.stdout).unwrap(), err)
}

#[test]
fn the_cli_over_a_pty_equals_analyze() {
    let d = tmpdir("pty");
    let dev = ModelDev::start(&d, &[]);
    let demo = data("demo.pcap");
    let demo = demo.to_str().unwrap();
    let (want, _) = ok(&[
        "analyze",
        "--preset",
        bloomtime_model::config::HARDWARE_PRESET,
        "--format",
        "csv",
        demo,
    ]);
    let t0 = Instant::now();
    let (got, err) = ok(&[
        "device",
        "--port",
        dev.port(),
        "replay",
        demo,
        "--format",
        "csv",
    ]);
    eprintln!("over the pty: {err}({:.2} s)", t0.elapsed().as_secs_f64());
    assert_eq!(got, want);
    assert!(err.starts_with("replayed 4000 frames in "), "{err}");
    // Again on the same device (a new session), as JSON; then info.
    let (json, _) = ok(&[
        "device",
        "--port",
        dev.port(),
        "--format",
        "json",
        "replay",
        demo,
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["meta"]["port"], dev.port());
    assert_eq!(v["flows"].as_array().unwrap().len(), 86);
    let (info, _) = ok(&["device", "--port", dev.port(), "info"]);
    assert!(info.contains("counter invariants: ok"), "{info}");
    assert!(info.contains("replay_frames                4000"), "{info}");
    let err = dev.stop();
    assert!(err.contains("stopped after"), "{err}");
}

#[test]
fn paced_like_a_uart() {
    // --pace holds answers back by the UART's byte time: 10 bits a byte at
    // 2 Mbaud, so 300 frames of ~136 bytes take at least 0.2 s.
    let d = tmpdir("pace");
    let head = head_of(&data("demo.pcap"), 300, &d);
    let dev = ModelDev::start(&d, &["--pace", "--baud", "2000000"]);
    let t0 = Instant::now();
    let (got, err) = ok(&[
        "device",
        "--port",
        dev.port(),
        "replay",
        head.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    let el = t0.elapsed();
    eprintln!("paced at 2 Mbaud: {err}");
    assert_eq!(got, analyze_csv(&[&head]));
    assert!(el > Duration::from_millis(200), "{el:?}");
    dev.stop();
}
