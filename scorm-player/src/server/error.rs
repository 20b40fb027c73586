//! Errors of the SCORM service, and the one table from them to HTTP answers.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::ports::PortError;
use crate::diagnostic::Diagnostic;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScormErrorKind {
    Invalid,
    InvalidPackage,
    Unauthenticated,
    Forbidden,
    NotFound,
    Gone,
    TooLarge,
    Refused,
    Unavailable,
    /// The store's disk is full.
    InsufficientStorage,
    /// The store's file system is read-only.
    ReadOnly,
    Internal,
}

/// A failure of the SCORM service: what went wrong, the field or rule it broke, and a message
/// for people.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ScormError {
    pub kind: ScormErrorKind,
    /// The field (JSON path, parameter or element) the error is about.
    pub path: Option<String>,
    /// The rule broken, a stable name.
    pub rule: &'static str,
    pub message: String,
    /// Every problem of a refused package.
    pub problems: Vec<Diagnostic>,
}

impl ScormError {
    pub fn new(kind: ScormErrorKind, rule: &'static str, message: impl Into<String>) -> Self {
        ScormError {
            kind,
            path: None,
            rule,
            message: message.into(),
            problems: Vec::new(),
        }
    }

    pub fn invalid(path: &str, rule: &'static str, message: impl Into<String>) -> Self {
        ScormError {
            path: Some(path.to_owned()),
            ..Self::new(ScormErrorKind::Invalid, rule, message)
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            ScormErrorKind::NotFound,
            "not-found",
            format!("no such {what}"),
        )
    }

    pub fn package(problems: Vec<Diagnostic>) -> Self {
        let errors = problems
            .iter()
            .filter(|p| p.severity == crate::diagnostic::Severity::Error)
            .count();
        ScormError {
            problems,
            ..Self::new(
                ScormErrorKind::InvalidPackage,
                "scorm-package",
                format!("the package has {errors} problem(s) and was not stored"),
            )
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ScormErrorKind::Internal, "internal", message)
    }

    pub fn kind(&self) -> ScormErrorKind {
        self.kind
    }

    pub fn status(&self) -> StatusCode {
        match self.kind {
            ScormErrorKind::Invalid | ScormErrorKind::InvalidPackage => StatusCode::BAD_REQUEST,
            ScormErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ScormErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ScormErrorKind::NotFound => StatusCode::NOT_FOUND,
            ScormErrorKind::Gone => StatusCode::GONE,
            ScormErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ScormErrorKind::Refused => StatusCode::CONFLICT,
            ScormErrorKind::Unavailable | ScormErrorKind::ReadOnly => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ScormErrorKind::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
            ScormErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<PortError> for ScormError {
    fn from(error: PortError) -> Self {
        match error {
            PortError::Unavailable(m) => Self::new(ScormErrorKind::Unavailable, "unavailable", m),
            PortError::Full(m) => Self::new(
                ScormErrorKind::InsufficientStorage,
                "insufficient-storage",
                m,
            ),
            PortError::ReadOnly(m) => Self::new(ScormErrorKind::ReadOnly, "read-only", m),
            PortError::Corrupt(m) | PortError::Refused(m) => Self::internal(m),
        }
    }
}

impl IntoResponse for ScormError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match self.kind {
            // Server faults are logged, never shown.
            ScormErrorKind::Internal
            | ScormErrorKind::Unavailable
            | ScormErrorKind::InsufficientStorage
            | ScormErrorKind::ReadOnly => {
                tracing::error!(error = %self.message, rule = self.rule, "scorm request failed");
                let error = match self.kind {
                    ScormErrorKind::InsufficientStorage => "insufficient-storage",
                    ScormErrorKind::ReadOnly => "read-only",
                    ScormErrorKind::Unavailable => "unavailable",
                    _ => "internal",
                };
                json!({
                    "status": status.as_u16(),
                    "error": error,
                    "message": service_ports::store_trouble_message(error)
                        .unwrap_or("the server failed; the details are in its log"),
                })
            }
            _ => {
                let mut body = json!({
                    "status": status.as_u16(),
                    "error": self.rule,
                    "rule": self.rule,
                    "message": self.message,
                });
                if let Some(path) = &self.path {
                    body["path"] = json!(path);
                }
                if self.kind == ScormErrorKind::InvalidPackage {
                    body["problems"] = json!(self.problems);
                }
                body
            }
        };
        let mut response = (status, axum::Json(body)).into_response();
        if matches!(
            self.kind,
            ScormErrorKind::Unavailable
                | ScormErrorKind::InsufficientStorage
                | ScormErrorKind::ReadOnly
        ) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        if self.kind == ScormErrorKind::Unauthenticated {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"proficio\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn answer(error: PortError) -> (StatusCode, bool, serde_json::Value) {
        let response = ScormError::from(error).into_response();
        let status = response.status();
        let retry = response.headers().contains_key(header::RETRY_AFTER);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("body");
        (status, retry, serde_json::from_slice(&body).expect("json"))
    }

    #[tokio::test]
    async fn store_trouble_is_told_as_the_lrs_tells_it() {
        for (error, status, name) in [
            (
                PortError::Full("no space".into()),
                507,
                "insufficient-storage",
            ),
            (PortError::ReadOnly("EROFS".into()), 503, "read-only"),
            (PortError::Unavailable("down".into()), 503, "unavailable"),
        ] {
            let (got, retry, body) = answer(error).await;
            assert_eq!(got.as_u16(), status, "{body}");
            assert!(retry, "Retry-After on {name}");
            assert_eq!(body["error"], name);
            assert_eq!(
                body["message"].as_str(),
                service_ports::store_trouble_message(name),
                "the store's own words are not shown: {body}"
            );
        }
    }
}
