//! The server's error type, and how each error becomes an HTTP response: always JSON
//! `{"code": "...", "message": "..."}` with the status that says whose fault it is.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong serving a request or starting the server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The body is not well-formed JSON; the message says where.
    #[error("{0}")]
    MalformedJson(String),
    /// The body is JSON, but not a valid request; the message says which field.
    #[error("{0}")]
    InvalidRequest(String),
    /// The body is not declared as JSON.
    #[error("the request body must be JSON: send the header content-type: application/json")]
    UnsupportedMediaType,
    /// The body is larger than the server accepts.
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The route exists, but not with this method.
    #[error("this route does not accept that method; see /openapi.json")]
    MethodNotAllowed,
    /// The client sent too many requests in the current window.
    #[error("too many requests; retry after {retry_after} seconds")]
    RateLimited {
        /// Seconds until the window ends.
        retry_after: u64,
    },
    /// The request took longer than the server allows.
    #[error("the request took too long and was abandoned; retry later")]
    Timeout,
    /// A dependency is not available right now.
    #[error("{0}")]
    Unavailable(String),
    /// A bug on the server's side. The detail is for the log, never for the client.
    #[error("internal error: {0}")]
    Internal(String),
    /// The metadata store (embedded or Redis) failed.
    #[error("metadata store: {0}")]
    Metadata(String),
}

/// The JSON body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// A stable, machine-readable code, e.g. `malformed_json`.
    #[schema(value_type = crate::openapi::schema::ErrorCode)]
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

impl Error {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::MalformedJson(_) => StatusCode::BAD_REQUEST,
            Error::InvalidRequest(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Timeout | Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) | Error::Metadata(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::MalformedJson(_) => "malformed_json",
            Error::InvalidRequest(_) => "invalid_request",
            Error::UnsupportedMediaType => "unsupported_media_type",
            Error::PayloadTooLarge { .. } => "payload_too_large",
            Error::NotFound(_) => "not_found",
            Error::MethodNotAllowed => "method_not_allowed",
            Error::RateLimited { .. } => "rate_limited",
            Error::Timeout => "timeout",
            Error::Unavailable(_) => "unavailable",
            Error::Internal(_) | Error::Metadata(_) => "internal",
        }
    }

    /// The message the client sees: internals are never shown.
    fn public_message(&self) -> String {
        match self {
            Error::Internal(_) | Error::Metadata(_) => {
                "internal error; the server log has the details".to_owned()
            }
            other => other.to_string(),
        }
    }

    /// The planner's error, mapped by whose fault it is. The planner's messages about the
    /// request may quote it; they go to the client, which sent them, and never to the log.
    pub(crate) fn from_planner(error: cloudops_playbooks::Error) -> Self {
        use cloudops_core::ErrorKind;
        match error.kind() {
            ErrorKind::InvalidInput => Error::InvalidRequest(error.to_string()),
            ErrorKind::NotFound => Error::NotFound(error.to_string()),
            ErrorKind::Unavailable => {
                Error::Unavailable("the planner is unavailable right now; retry later".to_owned())
            }
            // The detail could quote the request: keep only the kind.
            ErrorKind::Conflict | ErrorKind::Internal => {
                Error::Internal(format!("planner failed ({:?})", error.kind()))
            }
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = ErrorBody { code: self.code().to_owned(), message: self.public_message() };
        let mut response = (status, axum::Json(body)).into_response();
        if let Error::RateLimited { retry_after } = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        if let Error::Internal(detail) | Error::Metadata(detail) = &self {
            // Internal details are built by this crate from kinds and causes, never from
            // request content, so they may be logged.
            tracing::error!(code = self.code(), detail = %detail, "internal error");
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_stay_private() {
        let error = Error::Internal("redis pool exploded at 10.0.0.7".into());
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!error.public_message().contains("10.0.0.7"));
    }

    #[test]
    fn statuses() {
        let check = |error: Error, status: u16, code: &str| {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
            assert_eq!(error.code(), code);
        };
        check(Error::MalformedJson("x".into()), 400, "malformed_json");
        check(Error::InvalidRequest("x".into()), 422, "invalid_request");
        check(Error::UnsupportedMediaType, 415, "unsupported_media_type");
        check(Error::PayloadTooLarge { limit: 1 }, 413, "payload_too_large");
        check(Error::NotFound("x".into()), 404, "not_found");
        check(Error::MethodNotAllowed, 405, "method_not_allowed");
        check(Error::RateLimited { retry_after: 3 }, 429, "rate_limited");
        check(Error::Timeout, 503, "timeout");
        check(Error::Metadata("x".into()), 500, "internal");
    }
}
