//! Errors of the capability service, and the one table from them to HTTP answers.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use capability_engine::ErrorKind as EngineKind;
use serde_json::json;

use crate::ports::PortError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceErrorKind {
    /// A body or parameter that breaks a rule of the model.
    Invalid,
    Unauthenticated,
    Forbidden,
    NotFound,
    /// The change contradicts what is stored: it would break a part of the model that
    /// depends on it, or another writer got there first.
    Conflict,
    Unavailable,
    /// The store's disk is full.
    InsufficientStorage,
    /// The store's file system is read-only.
    ReadOnly,
    Internal,
}

/// A failure of the capability service: what went wrong, the field and rule it broke, and a
/// message for people.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ServiceError {
    pub kind: ServiceErrorKind,
    /// The field (JSON path or parameter) the error is about.
    pub path: Option<String>,
    /// The rule broken, a stable name.
    pub rule: &'static str,
    pub message: String,
}

impl ServiceError {
    pub fn new(kind: ServiceErrorKind, rule: &'static str, message: impl Into<String>) -> Self {
        ServiceError {
            kind,
            path: None,
            rule,
            message: message.into(),
        }
    }

    pub fn invalid(path: &str, rule: &'static str, message: impl Into<String>) -> Self {
        ServiceError {
            path: Some(path.to_owned()),
            ..Self::new(ServiceErrorKind::Invalid, rule, message)
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            ServiceErrorKind::NotFound,
            "not-found",
            format!("no such {what}"),
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ServiceErrorKind::Forbidden, "scope", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ServiceErrorKind::Internal, "internal", message)
    }

    /// An engine error about input the caller sent, its field placed under `within`.
    pub fn engine(error: capability_engine::Error, within: &str) -> Self {
        let error = if within.is_empty() {
            error
        } else {
            error.within(within)
        };
        let kind = match error.kind() {
            EngineKind::Invalid => ServiceErrorKind::Invalid,
            EngineKind::NotFound => ServiceErrorKind::NotFound,
            EngineKind::Conflict => ServiceErrorKind::Conflict,
        };
        ServiceError {
            kind,
            path: Some(error.field().to_owned()),
            rule: error.rule(),
            message: error.message().to_owned(),
        }
    }

    pub fn kind(&self) -> ServiceErrorKind {
        self.kind
    }

    /// The one table from errors to status codes.
    pub fn status(&self) -> StatusCode {
        match self.kind {
            ServiceErrorKind::Invalid => StatusCode::BAD_REQUEST,
            ServiceErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ServiceErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ServiceErrorKind::NotFound => StatusCode::NOT_FOUND,
            ServiceErrorKind::Conflict => StatusCode::CONFLICT,
            ServiceErrorKind::Unavailable | ServiceErrorKind::ReadOnly => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ServiceErrorKind::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
            ServiceErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_name(&self) -> &'static str {
        match self.kind {
            ServiceErrorKind::Invalid => "invalid",
            ServiceErrorKind::Unauthenticated => "unauthenticated",
            ServiceErrorKind::Forbidden => "forbidden",
            ServiceErrorKind::NotFound => "not-found",
            ServiceErrorKind::Conflict => "conflict",
            ServiceErrorKind::Unavailable => "unavailable",
            ServiceErrorKind::InsufficientStorage => "insufficient-storage",
            ServiceErrorKind::ReadOnly => "read-only",
            ServiceErrorKind::Internal => "internal",
        }
    }
}

impl From<PortError> for ServiceError {
    fn from(error: PortError) -> Self {
        match error {
            PortError::Unavailable(m) => Self::new(ServiceErrorKind::Unavailable, "unavailable", m),
            PortError::Full(m) => Self::new(
                ServiceErrorKind::InsufficientStorage,
                "insufficient-storage",
                m,
            ),
            PortError::ReadOnly(m) => Self::new(ServiceErrorKind::ReadOnly, "read-only", m),
            PortError::Corrupt(m) | PortError::Refused(m) => Self::internal(m),
        }
    }
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match self.kind {
            // Server faults are logged, never shown.
            ServiceErrorKind::Internal
            | ServiceErrorKind::Unavailable
            | ServiceErrorKind::InsufficientStorage
            | ServiceErrorKind::ReadOnly => {
                tracing::error!(error = %self.message, rule = self.rule, "capability request failed");
                json!({
                    "status": status.as_u16(),
                    "error": self.error_name(),
                    "message": service_ports::store_trouble_message(self.error_name())
                        .unwrap_or("the server failed; the details are in its log"),
                })
            }
            _ => {
                let mut body = json!({
                    "status": status.as_u16(),
                    "error": self.error_name(),
                    "rule": self.rule,
                    "message": self.message,
                });
                if let Some(path) = &self.path {
                    body["path"] = json!(path);
                }
                body
            }
        };
        let mut response = (status, axum::Json(body)).into_response();
        if matches!(
            self.kind,
            ServiceErrorKind::Unavailable
                | ServiceErrorKind::InsufficientStorage
                | ServiceErrorKind::ReadOnly
        ) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if self.kind == ServiceErrorKind::Unauthenticated {
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
        let response = ServiceError::from(error).into_response();
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
