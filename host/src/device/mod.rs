//! Driving a BloomTime board over its UART link (`model::protocol`).
//!
//! * [`transport`] — the byte pipe: a trait, the serial-port implementation
//!   and the one-line errors a user meets when opening a port;
//! * [`client`] — requests and responses: sequence numbers, retries,
//!   resynchronisation, typed commands;
//! * [`model`] — [`ModelDevice`], a pure-Rust device that speaks the
//!   protocol byte for byte like the board (the reference the board is
//!   checked against), with an in-process [`Loopback`] transport;
//! * [`pty`] — serving the model device on a pseudo-terminal, so the CLI can
//!   be tested exactly like a USB UART (`bloomtime-modeldev`);
//! * [`fault`] — a seeded fault-injecting transport wrapper for tests;
//! * [`cmd`] — the `bloomtime device` subcommands.

pub mod client;
pub mod cmd;
pub mod fault;
pub mod model;
pub mod pty;
pub mod transport;

pub use client::{Client, ClientOptions, LinkStats};
pub use model::{Loopback, ModelDevice, ModelOptions};
pub use transport::{SerialTransport, Transport};

use bloomtime_model::protocol::{status, PROTOCOL_VERSION};
use std::fmt;
use std::io;
use std::time::Duration;

/// Why a port could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenProblem {
    Missing,
    Busy,
    PermissionDenied,
    /// The path exists but is no terminal device (detail from the system).
    NotSerial(String),
    Other(String),
}

/// Something went wrong talking to the device. Each prints as one line that
/// says what to do.
#[derive(Debug)]
pub enum DeviceError {
    Open {
        port: String,
        problem: OpenProblem,
    },
    /// Reading or writing an open port failed.
    Io {
        port: String,
        err: io::Error,
    },
    /// Nothing came back to any try (`connected`: after INFO was answered).
    NoAnswer {
        port: String,
        what: &'static str,
        tries: u32,
        timeout: Duration,
        connected: bool,
    },
    /// Only corrupt frames (or CRC_ERROR answers) came back.
    Garbled {
        port: String,
        what: &'static str,
        tries: u32,
        connected: bool,
    },
    /// Something answered INFO, but not a BloomTime device.
    NotBloomTime {
        port: String,
        detail: String,
    },
    /// The port sent back the request itself: a loopback, not a device.
    Echo {
        port: String,
    },
    /// The device speaks another protocol version.
    Version {
        port: String,
        device: u16,
    },
    /// The device answered with an error status.
    Refused {
        what: &'static str,
        status: u8,
    },
    /// An answer the protocol does not allow.
    Protocol {
        what: &'static str,
        detail: String,
    },
}

/// The name of a response status.
pub fn status_name(s: u8) -> &'static str {
    match s {
        status::OK => "OK",
        status::BUSY => "BUSY",
        status::BAD_COMMAND => "BAD_COMMAND",
        status::BAD_LENGTH => "BAD_LENGTH",
        status::BAD_ARGUMENT => "BAD_ARGUMENT",
        status::CRC_ERROR => "CRC_ERROR",
        _ => "unknown status",
    }
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceError::Open { port, problem } => match problem {
                OpenProblem::Missing => write!(
                    f,
                    "no such port {port}: is the board plugged in? `ls /dev/ttyUSB*`"
                ),
                OpenProblem::Busy => write!(
                    f,
                    "{port} is busy: another program has it open (`fuser -v {port}` names it)"
                ),
                OpenProblem::PermissionDenied => write!(
                    f,
                    "permission denied on {port}: add yourself to the dialout group \
                     (`sudo usermod -aG dialout $USER`, then log in again)"
                ),
                OpenProblem::NotSerial(d) => {
                    write!(f, "{port} is not a serial port ({d}): check --port")
                }
                OpenProblem::Other(d) => write!(f, "cannot open {port}: {d}"),
            },
            DeviceError::Io { port, err } => write!(
                f,
                "{port}: {}: was the board unplugged?",
                err.to_string().lines().next().unwrap_or("I/O error")
            ),
            DeviceError::NoAnswer {
                port,
                what,
                tries,
                timeout,
                connected: false,
            } => write!(
                f,
                "no answer from {port} to {what} after {tries} tries of {} ms: is the board \
                 programmed with the BloomTime bitstream, and is this its port?",
                timeout.as_millis()
            ),
            DeviceError::NoAnswer {
                port,
                what,
                tries,
                timeout,
                connected: true,
            } => write!(
                f,
                "{port} stopped answering ({what}, {tries} tries of {} ms): was the board reset \
                 or unplugged?",
                timeout.as_millis()
            ),
            DeviceError::Garbled {
                port,
                what,
                tries,
                connected: false,
            } => write!(
                f,
                "only garbled answers from {port} to {what} after {tries} tries: wrong baud rate \
                 (--baud) or not a BloomTime board?"
            ),
            DeviceError::Garbled {
                port,
                what,
                tries,
                connected: true,
            } => write!(
                f,
                "the link to {port} garbled {what} {tries} times in a row: a bad cable or too \
                 high a baud rate (--baud); more --retries may get through"
            ),
            DeviceError::NotBloomTime { port, detail } => write!(f, "{port}: {detail}"),
            DeviceError::Echo { port } => write!(
                f,
                "{port} sends back what it is sent (a loopback adapter or the wrong device?): \
                 no BloomTime board answers there"
            ),
            DeviceError::Version { port, device } => write!(
                f,
                "{port} speaks protocol version {device}, this bloomtime speaks {PROTOCOL_VERSION}: \
                 use a bloomtime and a bitstream from the same release"
            ),
            DeviceError::Refused { what, status: s } => match *s {
                status::BUSY => write!(
                    f,
                    "the device is busy (a flush is running) and refused {what}: drain it \
                     (`bloomtime device ... watch` or `replay`) or `clear` it"
                ),
                status::BAD_COMMAND => write!(
                    f,
                    "the device does not know {what} (BAD_COMMAND): is its bitstream older than \
                     this bloomtime?"
                ),
                _ => write!(f, "the device refused {what}: {}", status_name(*s)),
            },
            DeviceError::Protocol { what, detail } => {
                write!(f, "bad answer to {what} from the device: {detail}")
            }
        }
    }
}

impl std::error::Error for DeviceError {}
