//! The HTTP face of the LRS: one router per resource family, merged here, with the
//! cross-cutting layers (request log, xAPI version header, authentication extractors).

mod admin;
mod alternate;
pub mod audit;
mod documents;
mod resources;
mod statement_body;
pub mod throttle;
mod xapi_api;

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tower::Layer as _;

use crate::auth::{AuthError, Authenticator, Principal};
use crate::clock::Clock;
use crate::config::LrsConfig;
use crate::error::ApiError;
use crate::storage::Stores;

/// Everything a handler may use. Handlers never name a concrete store.
#[derive(Clone)]
pub struct AppState {
    pub stores: Stores,
    pub auth: Arc<Authenticator>,
    pub config: Arc<LrsConfig>,
    pub clock: Arc<dyn Clock>,
    /// Refuses statements beyond xAPI validation, when the server has such a check.
    pub check: Option<Arc<dyn crate::admission::StatementCheck>>,
}

/// The whole HTTP API, with `extra` routes of other parts of the server merged in under the
/// same request log.
pub fn router(state: AppState, extra: Router) -> Router {
    // The alternate request syntax is rewritten before routing, so it wraps the xAPI router.
    let xapi = middleware::from_fn(alternate::rewrite)
        .layer(xapi_api::router(state.clone()).with_state(state.clone()));
    let throttle = Arc::new(throttle::Throttle::new(state.config.auth_throttle.clone()));
    Router::new()
        .nest_service("/xapi", xapi)
        .nest("/admin", admin::router())
        .with_state(state.clone())
        .merge(extra)
        .fallback(|| async { ApiError::NotFound })
        .layer(middleware::from_fn_with_state(state, audit::audit))
        .layer(middleware::from_fn_with_state(throttle, throttle::throttle))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn(log_requests))
}

/// Filled in by authentication so that the request log can name the tenant.
#[derive(Clone, Default)]
struct TenantSlot(Arc<OnceLock<String>>);

/// One line per request: method, path, status, latency and tenant. Never headers or bodies,
/// so credentials and launch tokens stay out of the log.
async fn log_requests(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = redact_path(request.uri().path());
    let slot = TenantSlot::default();
    request.extensions_mut().insert(slot.clone());
    let response = next.run(request).await;
    let tenant = slot.0.get().map_or("-", String::as_str);
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        tenant = %tenant,
        "request"
    );
    response
}

/// `X-Content-Type-Options: nosniff` on every answer of the server's own, so nothing is read
/// as another type than it is labelled. A course's files under a launch link are left to the
/// SCORM player, which sets its own headers on them (nosniff among them) with the content
/// type each file's name gives.
async fn security_headers(request: Request, next: Next) -> Response {
    let course_file = request
        .uri()
        .path()
        .strip_prefix("/scorm/launch/")
        .is_some_and(|rest| rest.split('/').nth(1) == Some("content"));
    let mut response = next.run(request).await;
    if !course_file {
        response
            .headers_mut()
            .entry(header::X_CONTENT_TYPE_OPTIONS)
            .or_insert(HeaderValue::from_static("nosniff"));
    }
    response
}

/// A path as logged: the launch token of `/scorm/launch/{token}/…` is replaced by `…`.
fn redact_path(path: &str) -> String {
    match path.strip_prefix("/scorm/launch/") {
        Some(rest) => match rest.split_once('/') {
            Some((_, tail)) => format!("/scorm/launch/…/{tail}"),
            None => "/scorm/launch/…".to_owned(),
        },
        None => path.to_owned(),
    }
}

/// An authenticated request: the credential checked out and belongs to `principal.tenant`.
pub struct Authenticated(pub Arc<Principal>);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().map_err(|_| AuthError::Malformed));
        let header = match header.transpose() {
            Ok(header) => header,
            Err(e) => return Err(ApiError::Unauthenticated(e)),
        };
        let principal = state
            .auth
            .authenticate(header)
            .await?
            .map_err(ApiError::Unauthenticated)?;
        if let Some(slot) = parts.extensions.get::<TenantSlot>() {
            let _ = slot.0.set(principal.tenant_name.clone());
        }
        Ok(Authenticated(principal))
    }
}

/// An authenticated request from an administrator credential.
pub struct Admin(pub Arc<Principal>);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Authenticated(principal) = Authenticated::from_request_parts(parts, state).await?;
        if !principal.admin {
            return Err(ApiError::Forbidden("admin"));
        }
        Ok(Admin(principal))
    }
}

/// Reads a request body up to the configured limit (413 beyond it).
pub async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> Result<Bytes, ApiError> {
    let too_large = ApiError::TooLarge {
        what: "the request body",
        limit,
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large);
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large)
}

/// The media type of a request without parameters, lowercased.
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
}

/// The query string as ordered name/value pairs.
pub fn query_pairs(uri: &axum::http::Uri) -> Vec<(String, String)> {
    uri.query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The answer to a method a route does not have.
pub async fn method_not_allowed() -> impl IntoResponse {
    ApiError::MethodNotAllowed
}
