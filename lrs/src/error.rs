//! The one table from errors to HTTP answers. Client errors name the field and the rule;
//! server errors are opaque to the client and logged with their detail.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::auth::AuthError;
use crate::registry::AdminError;
use crate::storage::{DocumentError, InsertError, RegistryError, StorageError, StorageErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Input breaks a rule: 400.
    #[error("{path}: {message} ({rule})")]
    Invalid {
        path: String,
        rule: &'static str,
        message: String,
    },
    #[error(transparent)]
    Unauthenticated(AuthError),
    #[error("this credential lacks the scope {0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("the precondition failed")]
    PreconditionFailed,
    #[error("{what} is larger than the limit of {limit}")]
    TooLarge { what: &'static str, limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ApiError {
    pub fn invalid(
        path: impl Into<String>,
        rule: &'static str,
        message: impl Into<String>,
    ) -> Self {
        ApiError::Invalid {
            path: path.into(),
            rule,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Storage(e) => match e.kind() {
                StorageErrorKind::Full => StatusCode::INSUFFICIENT_STORAGE,
                StorageErrorKind::Unavailable
                | StorageErrorKind::ReadOnly
                | StorageErrorKind::Locked => StatusCode::SERVICE_UNAVAILABLE,
                StorageErrorKind::Corrupt => StatusCode::INTERNAL_SERVER_ERROR,
            },
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid { .. } => "invalid",
            ApiError::Unauthenticated(_) => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound => "not-found",
            ApiError::Conflict(_) => "conflict",
            ApiError::PreconditionFailed => "precondition-failed",
            ApiError::TooLarge { .. } => "too-large",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::MethodNotAllowed => "method-not-allowed",
            ApiError::Storage(e) => match e.kind() {
                StorageErrorKind::Full => "insufficient-storage",
                StorageErrorKind::ReadOnly => "read-only",
                _ => "unavailable",
            },
        }
    }
}

impl From<xapi::ValidationError> for ApiError {
    fn from(e: xapi::ValidationError) -> Self {
        ApiError::Invalid {
            path: e.path,
            rule: e.rule,
            message: e.message,
        }
    }
}

impl From<InsertError> for ApiError {
    fn from(e: InsertError) -> Self {
        match e {
            InsertError::Conflict(id) => ApiError::Conflict(format!(
                "statement {id} already exists with different content"
            )),
            InsertError::VoidsVoiding { voiding, target } => ApiError::invalid(
                "$.object.id",
                "void-voiding-statement",
                format!(
                    "statement {voiding} voids {target}, which is itself a voiding statement and cannot be voided"
                ),
            ),
            InsertError::Storage(e) => ApiError::Storage(e),
        }
    }
}

impl From<DocumentError> for ApiError {
    fn from(e: DocumentError) -> Self {
        match e {
            DocumentError::PreconditionFailed => ApiError::PreconditionFailed,
            DocumentError::NotMergeable => ApiError::invalid(
                "body",
                "json-merge",
                "a document can be merged only when the stored and the posted document are both JSON objects",
            ),
            DocumentError::Exists => ApiError::Conflict(
                "a document already exists here and a PUT without If-Match or If-None-Match cannot replace it; \
                 GET the document to check its current state, then PUT again with If-Match set to its ETag \
                 (xAPI Communication §3.1)"
                    .to_owned(),
            ),
            DocumentError::Storage(e) => ApiError::Storage(e),
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Invalid {
                field,
                rule,
                message,
            } => ApiError::invalid(field, rule, message),
            AdminError::Registry(RegistryError::AlreadyExists(what)) => {
                ApiError::Conflict(format!("{what} already exists"))
            }
            AdminError::Registry(RegistryError::NotFound(_)) => ApiError::NotFound,
            AdminError::Registry(RegistryError::Storage(e)) => ApiError::Storage(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            ApiError::Invalid {
                path,
                rule,
                message,
            } => {
                json!({"status": status.as_u16(), "error": self.code(), "path": path, "rule": rule, "message": message})
            }
            ApiError::Storage(e) => {
                tracing::error!(kind = ?e.kind(), error = %e.message, "store failed");
                let message = match e.kind() {
                    StorageErrorKind::Full => {
                        "the server's disk is full: writes are refused, nothing of this request \
                         was stored, and reads go on; writes resume when space is freed"
                    }
                    StorageErrorKind::ReadOnly => {
                        "the server's data directory is on a read-only file system: writes are \
                         refused, nothing of this request was stored, and reads go on"
                    }
                    _ => "the store is unavailable; try again later",
                };
                json!({"status": status.as_u16(), "error": self.code(), "message": message})
            }
            other => {
                json!({"status": status.as_u16(), "error": self.code(), "message": other.to_string()})
            }
        };
        let mut response = (status, Json(body)).into_response();
        match self {
            ApiError::Unauthenticated(_) => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"proficio\""),
                );
            }
            ApiError::Storage(ref e) => {
                let after = match e.kind() {
                    StorageErrorKind::Full | StorageErrorKind::ReadOnly => Some("10"),
                    StorageErrorKind::Unavailable | StorageErrorKind::Locked => Some("1"),
                    StorageErrorKind::Corrupt => None,
                };
                if let Some(after) = after {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from_static(after));
                }
            }
            // The rest of the body is not read: the connection cannot carry another request,
            // and the client is told so rather than finding it closed under its next one.
            ApiError::TooLarge { .. } => {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ => {}
        }
        response
    }
}
