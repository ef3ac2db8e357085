//! Errors of the evaluation: each prints as one line, the same line as the
//! `bloomtime` command's error it becomes (`bloomtime_host::Error` converts
//! from it variant by variant).

use bloomtime_model::merge::MergeError;
use bloomtime_traces::TraceError;
use std::fmt;
use std::io;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Error {
    /// A capture could not be read.
    Trace(TraceError),
    /// Bad flags or values (no captures, unknown configuration).
    Usage(String),
    /// Reading or writing a file failed.
    Io { path: PathBuf, err: io::Error },
    /// The model's event stream did not merge: a bug, never ignored.
    Merge(MergeError),
    /// A consistency check failed: a bug.
    Invariant(String),
}

impl Error {
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
