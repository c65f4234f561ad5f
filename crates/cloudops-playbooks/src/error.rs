//! Errors of the playbook library and the planner.

use std::path::{Path, PathBuf};

/// What can go wrong loading playbooks or planning.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The Git repository holding a library could not be read.
    #[error("git: {0}")]
    Git(String),
    /// The request is invalid (the caller's fault).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The retrieval index failed.
    #[error(transparent)]
    Core(#[from] cloudops_core::Error),
}

impl Error {
    pub(crate) fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io { path: path.as_ref().to_path_buf(), source }
    }

    /// Whose fault it is.
    pub fn kind(&self) -> cloudops_core::ErrorKind {
        match self {
            Error::InvalidRequest(_) => cloudops_core::ErrorKind::InvalidInput,
            Error::Io { .. } | Error::Git(_) => cloudops_core::ErrorKind::Unavailable,
            Error::Core(error) => error.kind(),
        }
    }
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
