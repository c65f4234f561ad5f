//! The assist crate's error type, and whose fault each error is.

use cloudops_core::ErrorKind;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `cloudops-assist`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration or a value given by the operator cannot be used as given.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// Reading AWS (the targeted refresh, an account's identity) or the keychain failed.
    #[error(transparent)]
    Sync(#[from] cloudops_sync::Error),

    /// The local estate index refused a read or write.
    #[error(transparent)]
    Index(#[from] cloudops_core::Error),

    /// The planning server cannot be reached, or answered with an error or something that
    /// is not a plan.
    #[error("planner: {0}")]
    Planner(String),

    /// The in-process planner refused the request or failed.
    #[error(transparent)]
    Playbooks(#[from] cloudops_playbooks::Error),

    /// The operator's answer does not approve the plan, or an approval was given for
    /// another plan: nothing runs.
    #[error("not approved: {0}")]
    NotApproved(String),

    /// A command could not be started, or the execution record cannot be kept.
    #[error("execution: {0}")]
    Execution(String),

    /// The audit log cannot be created, read or written (permissions, a full disk).
    #[error("audit log: {0}")]
    Audit(String),

    /// A line of the audit log that is not a record where a record must be read.
    #[error("the audit log is damaged: {0}; run `cloudops history verify` to see where")]
    AuditDamaged(String),

    /// The audit log holds records of a format this build cannot read.
    #[error(
        "the audit log has records of format {found}; this build reads format {supported}: \
         upgrade cloudops"
    )]
    AuditFormat {
        /// The format found.
        found: u32,
        /// The newest format this build reads.
        supported: u32,
    },

    /// A string that cannot be an execution id.
    #[error("invalid execution id: {0}")]
    InvalidExecutionId(String),

    /// No execution has this id or an id starting with it.
    #[error("no execution {0:?} in the audit log; `cloudops history` lists them")]
    UnknownExecution(String),

    /// An execution id prefix that more than one execution starts with.
    #[error(
        "{prefix:?} matches {} executions ({}); type more of the id",
        matches.len(),
        matches.join(", ")
    )]
    AmbiguousExecution {
        /// The prefix given.
        prefix: String,
        /// The ids it matches, oldest first.
        matches: Vec<String>,
    },
}

impl Error {
    /// Whose fault this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Config(_) | Error::NotApproved(_) => ErrorKind::InvalidInput,
            Error::Sync(error) => error.kind(),
            Error::Index(error) => error.kind(),
            Error::Planner(_) | Error::Audit(_) => ErrorKind::Unavailable,
            Error::Playbooks(error) => error.kind(),
            Error::Execution(_) | Error::AuditDamaged(_) => ErrorKind::Internal,
            Error::AuditFormat { .. } => ErrorKind::Conflict,
            Error::InvalidExecutionId(_) | Error::AmbiguousExecution { .. } => {
                ErrorKind::InvalidInput
            }
            Error::UnknownExecution(_) => ErrorKind::NotFound,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_say_whose_fault_it_is() {
        assert_eq!(Error::Config("x".into()).kind(), ErrorKind::InvalidInput);
        assert_eq!(Error::Planner("down".into()).kind(), ErrorKind::Unavailable);
        assert_eq!(Error::AuditFormat { found: 9, supported: 1 }.kind(), ErrorKind::Conflict);
        assert_eq!(Error::UnknownExecution("x".into()).kind(), ErrorKind::NotFound);
        let denied = cloudops_sync::Error::Aws {
            service: "sts",
            operation: "AssumeRole",
            code: Some("AccessDenied".into()),
            message: "no".into(),
        };
        assert_eq!(Error::from(denied).kind(), ErrorKind::InvalidInput);
        let keychain = cloudops_sync::Error::Keychain("locked".into());
        assert_eq!(Error::from(keychain).kind(), ErrorKind::Unavailable);
    }
}
