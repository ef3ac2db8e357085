//! Every error a user meets with `bloomtime device` is one line that says
//! what to do: a missing, busy, forbidden or wrong port, a device that is
//! not BloomTime or speaks another protocol version, silence, noise, a board
//! that goes away.

mod devsupport;

use bloomtime_host::device::client::{Client, ClientOptions};
use bloomtime_host::device::pty::{ByteDevice, PtyServer};
use bloomtime_host::device::transport::open_problem;
use bloomtime_host::device::{
    DeviceError, ModelDevice, ModelOptions, OpenProblem, SerialTransport, Transport,
};
use bloomtime_model::protocol::{encode_frame, status, Deframer, MAGIC, PROTOCOL_VERSION};
use devsupport::*;
use std::io;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bloomtime"))
        .args(args)
        .output()
        .expect("run bloomtime")
}

/// The command fails with one line on stderr containing every `expect`.
fn fails(args: &[&str], expect: &[&str]) -> String {
    let o = run(args);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!o.status.success(), "{args:?} succeeded");
    assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for e in expect {
        assert!(err.contains(e), "{args:?}: {err:?} lacks {e:?}");
    }
    err
}

/// A device on a pty, served by a thread until the handle is dropped.
struct Served {
    path: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

fn serve(mut dev: impl ByteDevice + Send + 'static) -> Served {
    let mut srv = PtyServer::open(None).unwrap();
    let path = srv.path().display().to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let thread = std::thread::spawn(move || {
        srv.serve(&mut dev, &s, None).unwrap();
    });
    Served {
        path,
        stop,
        thread: Some(thread),
    }
}

/// Answers every request frame with `answer(payload)`.
struct Impostor<F: FnMut(&[u8]) -> Vec<u8>> {
    d: Deframer,
    answer: F,
}

impl<F: FnMut(&[u8]) -> Vec<u8>> ByteDevice for Impostor<F> {
    fn receive(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        for &b in bytes {
            if let Some(Ok(p)) = self.d.push(b) {
                out.extend((self.answer)(&p));
            }
        }
    }
}

fn impostor<F: FnMut(&[u8]) -> Vec<u8> + Send + 'static>(f: F) -> Impostor<F> {
    Impostor {
        d: Deframer::new(),
        answer: f,
    }
}

#[test]
fn a_missing_port_says_to_plug_the_board_in() {
    fails(
        &["device", "--port", "/dev/ttyUSB97", "info"],
        &["no such port /dev/ttyUSB97: is the board plugged in? `ls /dev/ttyUSB*`"],
    );
    fails(
        &["device", "info"],
        &["device needs --port PATH", "/dev/ttyUSB0"],
    );
}

#[test]
fn a_file_that_is_no_serial_port_is_named() {
    let d = tmpdir("notatty");
    let f = d.join("notes.txt");
    std::fs::write(&f, "hello").unwrap();
    fails(
        &["device", "--port", f.to_str().unwrap(), "info"],
        &["notes.txt is not a serial port", "check --port"],
    );
    fails(
        &["device", "--port", d.to_str().unwrap(), "info"],
        &["is not a serial port (a directory)"],
    );
}

#[test]
fn permission_denied_says_dialout() {
    let e = serialport::Error::new(
        serialport::ErrorKind::Io(io::ErrorKind::PermissionDenied),
        "Permission denied",
    );
    assert_eq!(open_problem(&e), OpenProblem::PermissionDenied);
    let msg = DeviceError::Open {
        port: "/dev/ttyUSB0".into(),
        problem: open_problem(&e),
    }
    .to_string();
    assert_eq!(
        msg,
        "permission denied on /dev/ttyUSB0: add yourself to the dialout group \
         (`sudo usermod -aG dialout $USER`, then log in again)"
    );
    // For real, where permissions bind (not as root).
    use std::os::unix::fs::MetadataExt;
    if std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(true)
    {
        eprintln!("skip: root ignores file permissions; the mapping is tested above");
        return;
    }
    let s = serve(ModelDevice::new(ModelOptions::default()));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&s.path, std::fs::Permissions::from_mode(0o000)).unwrap();
    fails(
        &["device", "--port", &s.path, "info"],
        &["permission denied on", "dialout group"],
    );
}

#[test]
fn a_port_another_program_holds_is_busy() {
    let e = serialport::Error::new(
        serialport::ErrorKind::NoDevice,
        "Unable to acquire exclusive lock on serial port",
    );
    assert_eq!(open_problem(&e), OpenProblem::Busy);
    let s = serve(ModelDevice::new(ModelOptions::default()));
    let _held = SerialTransport::open(&s.path, 1_000_000).unwrap();
    fails(
        &["device", "--port", &s.path, "info"],
        &[
            &format!("{} is busy: another program has it open", s.path),
            "fuser",
        ],
    );
}

#[test]
fn a_device_without_the_magic_is_not_taken_for_a_board() {
    // Answers with a valid frame and seq, but an HTTP error instead of INFO.
    let s = serve(impostor(|p| {
        let mut a = vec![p[0], status::OK];
        a.extend_from_slice(b"HTTP/1.1 400 Bad Request");
        encode_frame(&a)
    }));
    fails(
        &["device", "--port", &s.path, "info"],
        &["did not answer with the BloomTime magic: wrong device or wrong baud rate"],
    );
}

#[test]
fn a_port_that_echoes_is_not_taken_for_a_board() {
    // A loopback adapter: every request comes back as it was sent. Under
    // protocol version 1 the echo of INFO read as a BUSY answer.
    let s = serve(impostor(encode_frame));
    for cmd in ["info", "clear", "stats"] {
        fails(
            &["device", "--port", &s.path, cmd],
            &["sends back what it is sent (a loopback adapter or the wrong device?)"],
        );
    }
}

#[test]
fn a_version_1_board_is_told_apart() {
    // Protocol version 1 answered with status codes without the response bit.
    let s = serve(impostor(|p| {
        let mut a = vec![p[0], 0];
        a.extend_from_slice(&MAGIC);
        a.extend_from_slice(&1u16.to_be_bytes());
        encode_frame(&a)
    }));
    fails(
        &["device", "--port", &s.path, "info"],
        &["no response bit (status byte 0x00): a device of protocol version 1"],
    );
}

#[test]
fn another_protocol_version_is_refused() {
    let dev = ModelDevice::new(ModelOptions {
        protocol_version: PROTOCOL_VERSION + 1,
        ..ModelOptions::default()
    });
    let s = serve(dev);
    fails(
        &["device", "--port", &s.path, "info"],
        &[
            &format!(
                "speaks protocol version {}, this bloomtime speaks {PROTOCOL_VERSION}",
                PROTOCOL_VERSION + 1
            ),
            "same release",
        ],
    );
}

#[test]
fn silence_times_out_with_advice() {
    // Nobody answers on this pty.
    let s = serve(impostor(|_| Vec::new()));
    let e = fails(
        &[
            "device",
            "--port",
            &s.path,
            "--timeout-ms",
            "30",
            "--retries",
            "2",
            "info",
        ],
        &[
            "no answer from",
            "to INFO after 3 tries of 30 ms",
            "BloomTime bitstream",
        ],
    );
    assert!(e.contains(&s.path), "{e}");
}

#[test]
fn noise_says_wrong_baud_rate() {
    // What a UART at the wrong baud rate delivers: bytes, never a frame.
    let mut x = 1u32;
    let s = serve(impostor(move |_| {
        (0..40)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .chain([0xC0])
            .collect()
    }));
    fails(
        &[
            "device",
            "--port",
            &s.path,
            "--timeout-ms",
            "30",
            "--retries",
            "2",
            "info",
        ],
        &["only garbled answers from", "wrong baud rate (--baud)"],
    );
}

#[test]
fn a_board_that_stops_answering_or_goes_away() {
    // In process: INFO answered, then silence.
    struct Silent {
        inner: bloomtime_host::device::Loopback,
        answers: usize,
    }
    impl Transport for Silent {
        fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
            if self.answers > 0 {
                self.answers -= 1;
                self.inner.write_all(b)
            } else {
                Ok(())
            }
        }
        fn read(&mut self, b: &mut [u8], t: Duration) -> io::Result<usize> {
            self.inner.read(b, t)
        }
        fn clear_input(&mut self) -> io::Result<()> {
            self.inner.clear_input()
        }
        fn name(&self) -> &str {
            "/dev/ttyUSB0"
        }
    }
    let t = Silent {
        inner: model(),
        answers: 1,
    };
    let e = device_out(&["--retries", "1", "--timeout-ms", "5", "clear"], t).unwrap_err();
    assert_eq!(
        e.to_string(),
        "/dev/ttyUSB0 stopped answering (CLEAR, 2 tries of 5 ms): was the board reset or unplugged?"
    );
    // Over a pty whose server goes away mid-session.
    let s = serve(ModelDevice::new(ModelOptions::default()));
    let port = s.path.clone();
    let t = SerialTransport::open(&port, 1_000_000).unwrap();
    let mut c = Client::connect(
        t,
        ClientOptions {
            timeout: Duration::from_millis(50),
            retries: 1,
        },
    )
    .unwrap();
    drop(s);
    let e = c.status().unwrap_err().to_string();
    assert!(
        e.contains("was the board unplugged?") || e.contains("stopped answering"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1);
}

#[test]
fn flags_are_checked() {
    fails(
        &["device", "--port", "/dev/null", "--format", "xml", "info"],
        &["xml"],
    );
    fails(
        &["device", "--port", "/dev/null", "frobnicate"],
        &["frobnicate"],
    );
    fails(&["device", "--port", "/dev/null", "replay"], &["TRACE"]);
    let s = serve(ModelDevice::new(ModelOptions::default()));
    fails(
        &["device", "--port", &s.path, "replay", "/nonexistent/x.pcap"],
        &["/nonexistent/x.pcap", "no such file"],
    );
    fails(
        &["device", "--port", &s.path, "watch", "--interval", "0"],
        &["--interval must be a positive number"],
    );
}
