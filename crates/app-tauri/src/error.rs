//! The one error every command returns: whose fault it is and a message for the operator,
//! mapped once from the libraries' error kinds.

use cloudops_core::ErrorKind;
use serde::Serialize;

/// What a command returns when it fails; the web UI shows `message` where it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[error("{message}")]
pub struct CommandError {
    /// `invalid_input`, `not_found`, `conflict`, `unavailable` or `internal`.
    #[cfg_attr(test, ts(type = "ErrorKind"))]
    pub kind: &'static str,
    /// What went wrong and, where possible, what to do next. Never holds a secret.
    pub message: String,
}

impl CommandError {
    /// An error of `kind` saying `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CommandError { kind: kind_name(kind), message: message.into() }
    }

    /// The operator's input cannot be used.
    pub fn invalid(message: impl Into<String>) -> Self {
        CommandError::new(ErrorKind::InvalidInput, message)
    }

    /// The thing asked for is not there.
    pub fn not_found(message: impl Into<String>) -> Self {
        CommandError::new(ErrorKind::NotFound, message)
    }

    /// A bug on our side (a background task that died, a poisoned lock).
    pub fn internal(message: impl Into<String>) -> Self {
        CommandError::new(ErrorKind::Internal, message)
    }
}

/// How [`CommandError::kind`] names an error kind (also the TypeScript `ErrorKind`).
pub(crate) fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidInput => "invalid_input",
        ErrorKind::NotFound => "not_found",
        ErrorKind::Conflict => "conflict",
        ErrorKind::Unavailable => "unavailable",
        ErrorKind::Internal => "internal",
    }
}

impl From<cloudops_core::Error> for CommandError {
    fn from(error: cloudops_core::Error) -> Self {
        CommandError::new(error.kind(), error.to_string())
    }
}

impl From<cloudops_sync::Error> for CommandError {
    fn from(error: cloudops_sync::Error) -> Self {
        CommandError::new(error.kind(), error.to_string())
    }
}

impl From<cloudops_assist::Error> for CommandError {
    fn from(error: cloudops_assist::Error) -> Self {
        CommandError::new(error.kind(), error.to_string())
    }
}

impl From<cloudops_playbooks::Error> for CommandError {
    fn from(error: cloudops_playbooks::Error) -> Self {
        CommandError::new(error.kind(), error.to_string())
    }
}

impl From<tauri::Error> for CommandError {
    fn from(error: tauri::Error) -> Self {
        CommandError::internal(error.to_string())
    }
}

/// The result of a command.
pub type CommandResult<T> = Result<T, CommandError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_serialize_with_their_kind() {
        let error: CommandError = cloudops_core::Error::NotFound("no such thing".into()).into();
        let json = serde_json::to_value(&error).expect("serialize");
        assert_eq!(json["kind"], "not_found");
        assert!(json["message"].as_str().is_some_and(|m| m.contains("no such thing")));
        let error: CommandError = cloudops_sync::Error::Config("bad".into()).into();
        assert_eq!(error.kind, "invalid_input");
        let error: CommandError = cloudops_assist::Error::Planner("down".into()).into();
        assert_eq!(error.kind, "unavailable");
    }
}
