//! The core crate's error type, and whose fault each error is.

use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whose fault an error is, so frontends can map it once (HTTP status, exit code, UI badge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The caller sent something unusable; retrying the same input fails again.
    InvalidInput,
    /// The thing asked for does not exist.
    NotFound,
    /// The state on disk or in use conflicts with the request.
    Conflict,
    /// A dependency (model files, disk) is missing or not reachable right now.
    Unavailable,
    /// A bug or corruption on our side.
    Internal,
}

/// Everything that can go wrong in `cloudops-core`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that cannot be used as given.
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// A line of a JSON Lines estate that is not a valid resource.
    #[error("line {line}: not a valid resource: {message}")]
    InvalidRecord {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },

    /// The requested resource or file does not exist.
    #[error("not found: {0}")]
    NotFound(String),

    /// The on-disk estate was written in a format this build cannot read.
    #[error(
        "the estate index at {path} has format version {found}, but this build reads version \
         {supported}; remove the directory and re-import or re-sync the estate"
    )]
    UnsupportedFormat {
        /// The index directory.
        path: PathBuf,
        /// The version found on disk.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },

    /// Another process (or another handle in this one) has the estate open: one opener at a
    /// time.
    #[error(
        "the estate index at {0} is in use by another cloudops process (the desktop app, a \
         sync or `estate watch`); close it or try again when it is done"
    )]
    InUse(PathBuf),

    /// The embedding model could not be loaded or run.
    #[error("embedding model: {0}")]
    Model(String),

    /// The lexical or vector engine failed.
    #[error("index: {0}")]
    Index(String),

    /// A file system operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Whose fault this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput(_) | Error::InvalidRecord { .. } => ErrorKind::InvalidInput,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::UnsupportedFormat { .. } | Error::InUse(_) => ErrorKind::Conflict,
            Error::Model(_) | Error::Io { .. } => ErrorKind::Unavailable,
            Error::Index(_) => ErrorKind::Internal,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

impl From<tantivy::TantivyError> for Error {
    fn from(error: tantivy::TantivyError) -> Self {
        Error::Index(format!("lexical index: {error}"))
    }
}
