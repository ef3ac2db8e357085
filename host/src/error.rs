//! Errors of the `bloomtime` command: each prints as one line.

use bloomtime_model::merge::MergeError;
use bloomtime_traces::TraceError;
use std::fmt;
use std::io;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Error {
    /// A capture could not be read.
    Trace(TraceError),
    /// Bad flags or values (unknown preset, bad option).
    Usage(String),
    /// Writing an output failed.
    Io { path: PathBuf, err: io::Error },
    /// The model's event stream did not merge: a bug, never ignored.
    Merge(MergeError),
    /// A counter conservation law or consistency check failed: a bug.
    Invariant(String),
    /// Talking to the board failed.
    Device(crate::device::DeviceError),
}

impl Error {
    /// Exit code: 2 for usage errors (as for flag errors), 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }

    /// Writing to a closed pipe (`bloomtime ... | head`): not worth a
    /// message, but the report is incomplete: exit 1 all the same.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { err, .. } if err.kind() == io::ErrorKind::BrokenPipe)
    }

    pub fn io(path: impl Into<PathBuf>, err: io::Error) -> Error {
        Error::Io {
            path: path.into(),
            err,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Trace(e) => write!(f, "{e}"),
            Error::Usage(m) => f.write_str(m),
            Error::Io { path, err } => {
                let msg = err.to_string();
                write!(
                    f,
                    "{}: {}",
                    path.display(),
                    msg.lines().next().unwrap_or("I/O error")
                )
            }
            Error::Merge(e) => write!(f, "event stream inconsistent: {e}"),
            Error::Invariant(m) => write!(f, "invariant violated: {m}"),
            Error::Device(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<TraceError> for Error {
    fn from(e: TraceError) -> Self {
        Error::Trace(e)
    }
}

impl From<MergeError> for Error {
    fn from(e: MergeError) -> Self {
        Error::Merge(e)
    }
}

impl From<crate::device::DeviceError> for Error {
    fn from(e: crate::device::DeviceError) -> Self {
        Error::Device(e)
    }
}

/// The evaluation's errors become the command's, variant for variant: the
/// same one-line messages and exit codes as every other subcommand.
impl From<bloomtime_eval::Error> for Error {
    fn from(e: bloomtime_eval::Error) -> Self {
        match e {
            bloomtime_eval::Error::Trace(e) => Error::Trace(e),
            bloomtime_eval::Error::Usage(m) => Error::Usage(m),
            bloomtime_eval::Error::Io { path, err } => Error::Io { path, err },
            bloomtime_eval::Error::Merge(e) => Error::Merge(e),
            bloomtime_eval::Error::Invariant(m) => Error::Invariant(m),
        }
    }
}
