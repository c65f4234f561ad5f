//! The sync crate's error type, and whose fault each error is.

use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use cloudops_core::ErrorKind;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Error codes AWS returns when a caller is throttled; retrying later helps.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "ProvisionedThroughputExceededException",
    "PriorRequestNotComplete",
];

/// Error codes that mean the credentials or policies do not allow the call; retrying the
/// same call with the same credentials fails again.
const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthFailure",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
];

/// Everything that can go wrong in `cloudops-sync`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The account configuration cannot be used as given.
    #[error("invalid account configuration: {0}")]
    Config(String),

    /// An AWS API call failed (after the SDK's retries).
    #[error("{service} {operation}: {}{message}", code.as_deref().map(|code| format!("{code}: ")).unwrap_or_default())]
    Aws {
        /// The service called (`ec2`, `rds`, …).
        service: &'static str,
        /// The API operation (`DescribeInstances`, …).
        operation: &'static str,
        /// The AWS error code, when the service answered with one; `None` for transport
        /// errors and timeouts.
        code: Option<String>,
        /// What went wrong, with the SDK's context.
        message: String,
    },

    /// An answer from AWS that lacks a field every such answer must have.
    #[error("{service} {operation}: unexpected response: {message}")]
    UnexpectedResponse {
        /// The service called.
        service: &'static str,
        /// The API operation.
        operation: &'static str,
        /// What was missing or malformed.
        message: String,
    },

    /// The OS keychain cannot be used, or an entry in it cannot be read. The message says
    /// what to do and never contains a secret.
    #[error("{0}")]
    Keychain(String),

    /// An access key or account name given to the keychain that cannot be used as given.
    #[error("invalid credentials: {0}")]
    InvalidCredentials(String),

    /// The sync state store cannot be read or written.
    #[error("sync state: {0}")]
    State(String),

    /// The local estate index refused a read or write.
    #[error(transparent)]
    Index(#[from] cloudops_core::Error),
}

impl Error {
    /// Whose fault this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Config(_) | Error::InvalidCredentials(_) => ErrorKind::InvalidInput,
            Error::Aws { code: Some(code), .. } if DENIED_CODES.contains(&code.as_str()) => {
                ErrorKind::InvalidInput
            }
            Error::Aws { code: Some(code), .. }
                if code.starts_with("NoSuch")
                    || code.ends_with("NotFound")
                    || code.ends_with("NotFoundFault") =>
            {
                ErrorKind::NotFound
            }
            Error::Aws { .. } | Error::Keychain(_) => ErrorKind::Unavailable,
            Error::UnexpectedResponse { .. } | Error::State(_) => ErrorKind::Internal,
            Error::Index(error) => error.kind(),
        }
    }

    /// Whether AWS throttled the call even after the SDK's retries.
    pub fn is_throttling(&self) -> bool {
        matches!(self, Error::Aws { code: Some(code), .. } if THROTTLING_CODES.contains(&code.as_str()))
    }

    /// The AWS error code, if the service answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Aws { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// Wraps an SDK error (`SdkError<OperationError, _>`) with the call it came from.
    pub(crate) fn aws<E>(service: &'static str, operation: &'static str, error: E) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error,
    {
        let code = error.code().map(str::to_owned);
        let message = match error.message() {
            Some(message) if !message.is_empty() => message.to_owned(),
            _ => DisplayErrorContext(&error).to_string(),
        };
        Error::Aws { service, operation, code, message }
    }

    pub(crate) fn unexpected(
        service: &'static str,
        operation: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Error::UnexpectedResponse { service, operation, message: message.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(code: Option<&str>) -> Error {
        Error::Aws {
            service: "ec2",
            operation: "DescribeInstances",
            code: code.map(str::to_owned),
            message: "boom".to_owned(),
        }
    }

    #[test]
    fn kinds_say_whose_fault_it_is() {
        assert_eq!(aws(Some("UnauthorizedOperation")).kind(), ErrorKind::InvalidInput);
        assert_eq!(aws(Some("NoSuchBucket")).kind(), ErrorKind::NotFound);
        assert_eq!(aws(Some("DBInstanceNotFound")).kind(), ErrorKind::NotFound);
        assert_eq!(aws(Some("RequestLimitExceeded")).kind(), ErrorKind::Unavailable);
        assert!(aws(Some("RequestLimitExceeded")).is_throttling());
        assert_eq!(aws(None).kind(), ErrorKind::Unavailable);
        assert_eq!(Error::Config("x".into()).kind(), ErrorKind::InvalidInput);
        assert_eq!(Error::InvalidCredentials("x".into()).kind(), ErrorKind::InvalidInput);
        assert_eq!(Error::Keychain("x".into()).kind(), ErrorKind::Unavailable);
    }

    #[test]
    fn messages_name_the_call_and_code() {
        assert_eq!(aws(Some("Throttling")).to_string(), "ec2 DescribeInstances: Throttling: boom");
        assert_eq!(aws(None).to_string(), "ec2 DescribeInstances: boom");
    }
}
