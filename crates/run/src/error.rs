//! Errors that stop a run, typed by who must act on them.
//!
//! A file or a record that cannot be cleaned is not an error here: it is
//! recorded in provenance (and the reject file) and the run goes on. What
//! remains are the failures of the run itself, and each kind says who must
//! act: the user's command line ([`ErrorKind::Usage`]), the rule data
//! ([`ErrorKind::Engine`] with a rule error), the machine (the output's
//! file system, [`ErrorKind::Io`]), or an earlier run's journal
//! ([`ErrorKind::Resume`]). The binary maps each to its own exit code.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::display::escaped;

/// What stopped the run.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The engine refused the rules or one of its settings.
    Engine(dechaff_engine::Error),
    /// The command line or the layout it asks for is wrong (an output inside
    /// an input, two inputs mapping to one output, a grouping that plain-text
    /// inputs cannot give); found before anything is written.
    Usage(String),
    /// Reading or writing a path that the whole run depends on failed: the
    /// output directory, the provenance file, the reject file, standard output.
    Io {
        /// The path, or `standard output`.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An earlier run's provenance, read by `--resume`, is not what this
    /// version writes.
    Resume {
        /// The provenance file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The worker threads could not be started.
    Threads(String),
    /// A signal stopped the run early (SIGINT, SIGTERM): what was finished
    /// is in place and in the partial provenance, for `--resume`.
    Stopped {
        /// The signal's number.
        signal: usize,
    },
    /// A Parquet input already has a column that `--metadata` adds to its
    /// output: written, the output would have two columns of one name.
    ColumnClash {
        /// The input.
        path: PathBuf,
        /// The column both have.
        column: String,
    },
    /// An input that a command needs whole (`eval`'s pages, `explain`'s
    /// file) cannot be read as text. `clean` records such a file and goes on.
    Input {
        /// The input.
        path: PathBuf,
        /// Why it cannot be read.
        message: String,
    },
}

/// The error type of the run layer.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
}

/// The run layer's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps a kind.
    pub fn new(kind: ErrorKind) -> Error {
        Error { kind }
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Error {
        Error::new(ErrorKind::Io {
            path: path.as_ref().to_path_buf(),
            source,
        })
    }

    /// A command line or layout that cannot be run.
    pub fn usage(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Usage(message.into()))
    }

    /// True when the reader of standard output went away (`| head`): the
    /// binary treats that as the end of the run, not as a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(&self.kind, ErrorKind::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

impl From<dechaff_engine::Error> for Error {
    fn from(error: dechaff_engine::Error) -> Error {
        Error::new(ErrorKind::Engine(error))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Engine(error) => error.fmt(f),
            ErrorKind::Usage(message) | ErrorKind::Threads(message) => f.write_str(message),
            ErrorKind::Io { path, source } => write!(f, "{}: {source}", escaped(path)),
            ErrorKind::Resume { path, message } => write!(f, "--resume: {}: {message}", escaped(path)),
            ErrorKind::Input { path, message } => write!(f, "{}: {message}", escaped(path)),
            // Reported on the input's own line (`dechaff: PATH: …`), so the path is not repeated.
            ErrorKind::ColumnClash { column, .. } => write!(
                f,
                "the input has a column {column:?}, which --metadata adds to the output; \
                 rename it, or clean with --metadata none"
            ),
            ErrorKind::Stopped { signal } => write!(
                f,
                "stopped by signal {signal}; the files finished are in place, \
                 run again with --resume to finish the rest"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Engine(error) => Some(error),
            ErrorKind::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
