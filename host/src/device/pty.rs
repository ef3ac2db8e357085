//! A device on a pseudo-terminal (the model device, `bloomtime-modeldev`;
//! the Verilated board, `bloomtime-sim board`): the host opens the pty's
//! slave exactly like the board's USB UART (`/dev/ttyUSB0`), so the CLI is
//! tested end to end through the kernel's tty layer.
//!
//! The server keeps only the master open: a host that closes the port and
//! opens it again finds it as a fresh tty (an exclusive lock of the previous
//! opener is gone with it). With `pace`, answers are held back by the time a
//! UART at that baud rate needs for the request and the answer (10 bits a
//! byte), so throughput over the pty is what the board's link would allow.

use super::model::ModelDevice;
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
use std::collections::VecDeque;
use std::io;
use std::os::unix::io::RawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_: nix::libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Set a flag on SIGINT and SIGTERM instead of dying (system calls are
/// interrupted, not restarted); the flag is returned.
pub fn stop_on_signals() -> io::Result<&'static AtomicBool> {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let act = SigAction::new(
        SigHandler::Handler(on_stop_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for s in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only stores to an atomic.
        unsafe { sigaction(s, &act) }.map_err(io::Error::from)?;
    }
    Ok(&STOP)
}

/// Something that answers bytes with bytes: the model device, a test's
/// impostor, or a simulated board (`bloomtime-sim board`).
pub trait ByteDevice {
    /// Bytes from the host in; the answers' bytes appended to `out`.
    fn receive(&mut self, bytes: &[u8], out: &mut Vec<u8>);

    /// Let a device that works on its own time (a simulated board clocking
    /// its UART) run for a short slice, appending what it sent to `out`.
    /// Returns whether it has more to do: the server then only looks for
    /// input between slices instead of waiting for it. The model device
    /// answers within `receive` and has nothing to do here.
    fn advance(&mut self, out: &mut Vec<u8>) -> bool {
        let _ = out;
        false
    }
}

impl ByteDevice for ModelDevice {
    fn receive(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        ModelDevice::receive(self, bytes, out)
    }
}

/// What a server did.
#[derive(Clone, Copy, Debug, Default)]
pub struct ServeStats {
    pub bytes_in: u64,
    pub bytes_out: u64,
}

/// A pseudo-terminal with a [`ByteDevice`] behind it.
pub struct PtyServer {
    master: RawFd,
    path: PathBuf,
    link: Option<PathBuf>,
}

impl PtyServer {
    /// Open a pty in raw mode; with `link`, make `link` a symlink to its
    /// slave (an existing symlink there is replaced, any other file kept and
    /// reported).
    pub fn open(link: Option<&Path>) -> io::Result<PtyServer> {
        let pty = nix::pty::openpty(None, None).map_err(io::Error::from)?;
        let setup = || -> nix::Result<PathBuf> {
            let mut t = tcgetattr(pty.slave)?;
            cfmakeraw(&mut t);
            tcsetattr(pty.slave, SetArg::TCSANOW, &t)?;
            let path = nix::unistd::ttyname(pty.slave)?;
            fcntl(pty.master, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
            Ok(path)
        };
        let path = setup();
        let _ = nix::unistd::close(pty.slave);
        let path = match path {
            Ok(p) => p,
            Err(e) => {
                let _ = nix::unistd::close(pty.master);
                return Err(e.into());
            }
        };
        let mut s = PtyServer {
            master: pty.master,
            path,
            link: None,
        };
        if let Some(l) = link {
            match std::fs::symlink_metadata(l) {
                Ok(m) if m.file_type().is_symlink() => std::fs::remove_file(l)?,
                Ok(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        format!("{} exists and is not a symlink", l.display()),
                    ))
                }
                Err(_) => {}
            }
            std::os::unix::fs::symlink(&s.path, l)?;
            s.link = Some(l.to_path_buf());
        }
        Ok(s)
    }

    /// The slave's path (what a host opens).
    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn link(&self) -> Option<&Path> {
        self.link.as_deref()
    }

    /// Answer requests until `stop` is set. `pace`: emulate a UART at this
    /// baud rate (for answers from `receive`; what `advance` sends goes out
    /// at once).
    pub fn serve(
        &mut self,
        dev: &mut dyn ByteDevice,
        stop: &AtomicBool,
        pace: Option<u32>,
    ) -> io::Result<ServeStats> {
        let byte_time = pace.map(|b| Duration::from_secs_f64(10.0 / b.max(1) as f64));
        let mut stats = ServeStats::default();
        // Answers with the time they may leave.
        let mut held: VecDeque<(Instant, Vec<u8>)> = VecDeque::new();
        let mut wbuf: VecDeque<u8> = VecDeque::new();
        let mut rbuf = vec![0u8; 4096];
        let mut answer = Vec::new();
        let (mut rx_free, mut tx_free) = (Instant::now(), Instant::now());
        let mut sent = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            sent.clear();
            let busy = dev.advance(&mut sent);
            wbuf.extend(&sent);
            let now = Instant::now();
            while held.front().is_some_and(|h| h.0 <= now) {
                wbuf.extend(held.pop_front().unwrap().1);
            }
            let wait = held
                .front()
                .map(|h| h.0.saturating_duration_since(now))
                .unwrap_or(Duration::from_millis(100))
                .min(Duration::from_millis(100));
            let mut flags = PollFlags::POLLIN;
            if !wbuf.is_empty() {
                flags |= PollFlags::POLLOUT;
            }
            let mut fds = [PollFd::new(self.master, flags)];
            let wait_ms = if busy {
                0
            } else {
                wait.as_millis().max(1) as i32
            };
            match poll(&mut fds, wait_ms) {
                Ok(_) => {}
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
            let rev = fds[0].revents().unwrap_or(PollFlags::empty());
            if rev.contains(PollFlags::POLLHUP) && !rev.contains(PollFlags::POLLIN) {
                // No host has the port open: what was going out is lost.
                wbuf.clear();
                held.clear();
                if !busy {
                    std::thread::sleep(Duration::from_millis(10));
                }
                continue;
            }
            if rev.contains(PollFlags::POLLIN) {
                match nix::unistd::read(self.master, &mut rbuf) {
                    Ok(n) if n > 0 => {
                        stats.bytes_in += n as u64;
                        answer.clear();
                        dev.receive(&rbuf[..n], &mut answer);
                        let now = Instant::now();
                        let release = match byte_time {
                            Some(bt) => {
                                rx_free = rx_free.max(now) + bt * n as u32;
                                if answer.is_empty() {
                                    now
                                } else {
                                    tx_free = tx_free.max(rx_free) + bt * answer.len() as u32;
                                    tx_free
                                }
                            }
                            None => now,
                        };
                        if !answer.is_empty() {
                            held.push_back((release, std::mem::take(&mut answer)));
                        }
                    }
                    Ok(_) | Err(Errno::EAGAIN) | Err(Errno::EINTR) => {}
                    Err(Errno::EIO) => std::thread::sleep(Duration::from_millis(10)),
                    Err(e) => return Err(e.into()),
                }
            }
            if rev.contains(PollFlags::POLLOUT) && !wbuf.is_empty() {
                let (a, _) = wbuf.as_slices();
                match nix::unistd::write(self.master, a) {
                    Ok(n) => {
                        stats.bytes_out += n as u64;
                        wbuf.drain(..n);
                    }
                    Err(Errno::EAGAIN) | Err(Errno::EINTR) => {}
                    Err(Errno::EIO) => wbuf.clear(),
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(stats)
    }
}

impl Drop for PtyServer {
    fn drop(&mut self) {
        if let Some(l) = &self.link {
            if std::fs::symlink_metadata(l).is_ok_and(|m| m.file_type().is_symlink()) {
                let _ = std::fs::remove_file(l);
            }
        }
        let _ = nix::unistd::close(self.master);
    }
}
