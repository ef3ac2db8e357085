//! The byte pipe to a device: a trait so the client runs over a serial port,
//! an in-process model device or a fault injector alike.

use super::{DeviceError, OpenProblem};
use serialport::SerialPort;
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Duration;

/// A bidirectional byte stream to a device.
pub trait Transport {
    /// Send every byte.
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Wait at most `timeout` for input and read what there is into `buf`;
    /// `Ok(0)` means the timeout passed with nothing.
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;
    /// Throw away input that arrived and was not read yet.
    fn clear_input(&mut self) -> io::Result<()>;
    /// Wait until written bytes are on their way (default: nothing to do).
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// The port's name, for messages.
    fn name(&self) -> &str;
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        (**self).write_all(bytes)
    }
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        (**self).read(buf, timeout)
    }
    fn clear_input(&mut self) -> io::Result<()> {
        (**self).clear_input()
    }
    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }
    fn name(&self) -> &str {
        (**self).name()
    }
}

/// A serial port (the board's USB UART, or a pseudo-terminal): 8N1, no flow
/// control, opened exclusively.
pub struct SerialTransport {
    port: serialport::TTYPort,
    name: String,
    timeout: Duration,
}

impl std::fmt::Debug for SerialTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SerialTransport({})", self.name)
    }
}

/// What a failed `open` means for the user.
pub fn open_problem(e: &serialport::Error) -> OpenProblem {
    use serialport::ErrorKind as K;
    match e.kind() {
        K::NoDevice => OpenProblem::Busy,
        K::Io(io::ErrorKind::NotFound) => OpenProblem::Missing,
        K::Io(io::ErrorKind::PermissionDenied) => OpenProblem::PermissionDenied,
        _ => {
            let d = e.to_string();
            if d.contains("Inappropriate ioctl")
                || d.contains("Not a typewriter")
                || d.contains("ENOTTY")
            {
                OpenProblem::NotSerial("not a terminal device".into())
            } else {
                OpenProblem::Other(d)
            }
        }
    }
}

impl SerialTransport {
    /// Open `path` at `baud`.
    pub fn open(path: &str, baud: u32) -> Result<SerialTransport, DeviceError> {
        let err = |problem| DeviceError::Open {
            port: path.to_string(),
            problem,
        };
        let p = Path::new(path);
        if !p.exists() {
            return Err(err(OpenProblem::Missing));
        }
        if p.is_dir() {
            return Err(err(OpenProblem::NotSerial("a directory".into())));
        }
        let timeout = Duration::from_millis(100);
        let port = serialport::new(path, baud)
            .timeout(timeout)
            .data_bits(serialport::DataBits::Eight)
            .parity(serialport::Parity::None)
            .stop_bits(serialport::StopBits::One)
            .flow_control(serialport::FlowControl::None)
            .open_native()
            .map_err(|e| err(open_problem(&e)))?;
        let mut t = SerialTransport {
            port,
            name: path.to_string(),
            timeout,
        };
        t.clear_input().map_err(|e| DeviceError::Io {
            port: path.to_string(),
            err: e,
        })?;
        Ok(t)
    }
}

impl Transport for SerialTransport {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        Write::write_all(&mut self.port, bytes)
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let timeout = timeout.max(Duration::from_millis(1));
        if timeout != self.timeout {
            self.port.set_timeout(timeout).map_err(io::Error::from)?;
            self.timeout = timeout;
        }
        match Read::read(&mut self.port, buf) {
            Ok(0) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the port was closed",
            )),
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Ok(0),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(e),
        }
    }

    fn clear_input(&mut self) -> io::Result<()> {
        self.port
            .clear(serialport::ClearBuffer::Input)
            .map_err(io::Error::from)
    }

    fn flush(&mut self) -> io::Result<()> {
        Write::flush(&mut self.port)
    }

    fn name(&self) -> &str {
        &self.name
    }
}
