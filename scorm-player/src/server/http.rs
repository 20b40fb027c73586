//! The SCORM routes. Handlers are thin: they read the request, call the service and shape
//! the answer; the management routes take an API credential, the player's routes a launch
//! link.

use std::io::Write as _;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt as _;
use uuid::Uuid;

use super::ScormServer;
use super::error::{ScormError, ScormErrorKind};
use super::player::NavigateBody;
use super::ports::{AuthFailure, Caller};
use super::registrations::NewRegistration;
use crate::runtime::CommitPayload;

const API_JS: &str = include_str!("../../assets/api.js");
const PLAYER_JS: &str = include_str!("../../assets/player.js");
const PLAYER_CSS: &str = include_str!("../../assets/player.css");
const PLAYER_HTML: &str = include_str!("../../assets/player.html");

/// The launch page may run only its own scripts and styles, frame only this server, and is
/// framed by no one (CSP Level 3 `frame-ancestors`).
const PLAYER_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    frame-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// The launch error page loads nothing and is framed by no one.
const ERROR_PAGE_CSP: &str = "default-src 'none'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// Package files are the author's pages and must run as written, so their policy says only
/// who may frame them: the launch page of this server.
const CONTENT_CSP: &str = "frame-ancestors 'self'";

/// How much of an oversized upload is read and dropped before answering 413.
const MAX_DRAIN: u64 = 64 * 1024 * 1024;

/// Largest JSON body of the player API (a commit of a full data model).
const MAX_PLAYER_BODY: usize = 16 * 1024 * 1024;

/// Every SCORM route, to be merged into the server's router.
pub fn router(server: ScormServer) -> Router {
    Router::new()
        .route("/scorm/packages", post(import_package).get(list_packages))
        .route(
            "/scorm/packages/{id}",
            get(get_package).delete(delete_package),
        )
        .route("/scorm/registrations", post(create_registration))
        .route("/scorm/registrations/{id}", get(get_registration))
        .route("/scorm/registrations/{id}/launch", post(relaunch))
        .route("/scorm/launch/{token}", get(launch_page))
        .route(
            "/scorm/launch/{token}/content/{*path}",
            get(content).head(content),
        )
        .route("/scorm/launch/{token}/api/navigate", post(navigate))
        .route(
            "/scorm/launch/{token}/api/sessions/{session}/commits",
            post(commit),
        )
        .route("/scorm/assets/{name}", get(asset))
        // Browsers ask for it on every launch page; nothing to show.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .with_state(server)
}

async fn caller(server: &ScormServer, headers: &HeaderMap) -> Result<Caller, ScormError> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    server
        .inner
        .authority
        .authorize(authorization)
        .await
        .map_err(|failure| match failure {
            AuthFailure::Unauthenticated => ScormError::new(
                ScormErrorKind::Unauthenticated,
                "credential",
                "a valid credential is required (HTTP Basic)",
            ),
            AuthFailure::Unavailable(m) => {
                ScormError::new(ScormErrorKind::Unavailable, "unavailable", m)
            }
        })
}

fn parse_id(text: &str, what: &str) -> Result<Uuid, ScormError> {
    Uuid::parse_str(text)
        .map_err(|_| ScormError::invalid(what, "uuid", format!("{what} must be a UUID")))
}

/// Spools an upload to a temporary file, refusing it past the package size limit.
async fn spool(server: &ScormServer, body: Body) -> Result<std::fs::File, ScormError> {
    let limit = server.config().limits.max_package_bytes;
    let dir = server.config().spool_dir.clone();
    let file = tokio::task::spawn_blocking(move || match dir {
        Some(dir) => tempfile::tempfile_in(dir),
        None => tempfile::tempfile(),
    })
    .await
    .map_err(|e| ScormError::internal(e.to_string()))?
    .map_err(|e| ScormError::internal(format!("upload spool: {e}")))?;
    let mut writer = std::io::BufWriter::new(file);
    let mut stream = body.into_data_stream();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| ScormError::invalid("body", "body", format!("upload failed: {e}")))?;
        size += chunk.len() as u64;
        if size > limit {
            // Read on (without keeping) a while, so that the client is not cut off mid-send and
            // sees the answer; a sender that goes on past that is cut off.
            let mut drained = 0u64;
            while let Some(Ok(chunk)) = stream.next().await {
                drained += chunk.len() as u64;
                if drained > MAX_DRAIN {
                    break;
                }
            }
            return Err(ScormError::new(
                ScormErrorKind::TooLarge,
                "package-size",
                format!("the package is larger than the limit of {limit} bytes"),
            ));
        }
        // Writes to a local temp file: short, and the buffer makes most of them memory copies.
        writer
            .write_all(&chunk)
            .map_err(|e| ScormError::internal(format!("upload spool: {e}")))?;
    }
    if size == 0 {
        return Err(ScormError::invalid(
            "body",
            "zip",
            "the body must be a SCORM package (a zip file)",
        ));
    }
    writer
        .into_inner()
        .map_err(|e| ScormError::internal(format!("upload spool: {e}")))
}

async fn import_package(
    State(server): State<ScormServer>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ScormError> {
    let caller = caller(&server, &headers).await?;
    super::packages::require_manage(&caller)?;
    let file = spool(&server, body).await?;
    let summary = server.import_package(&caller, file, None).await?;
    let location = format!("/scorm/packages/{}", summary.id);
    let mut response = (StatusCode::CREATED, Json(summary)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

async fn list_packages(
    State(server): State<ScormServer>,
    headers: HeaderMap,
) -> Result<Response, ScormError> {
    let caller = caller(&server, &headers).await?;
    let packages = server.list_packages(&caller).await?;
    Ok(Json(serde_json::json!({ "packages": packages })).into_response())
}

async fn get_package(
    State(server): State<ScormServer>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ScormError> {
    let caller = caller(&server, &headers).await?;
    let id = parse_id(&id, "package")?;
    Ok(Json(server.get_package(&caller, id).await?).into_response())
}

async fn delete_package(
    State(server): State<ScormServer>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ScormError> {
    let caller = caller(&server, &headers).await?;
    let id = parse_id(&id, "package")?;
    server.delete_package(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn json_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ScormError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ScormError::invalid(
            &format!("line {} column {}", e.line(), e.column()),
            "json",
            e.to_string(),
        )
    })
}

async fn read_body(body: Body, limit: usize) -> Result<bytes::Bytes, ScormError> {
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        ScormError::new(
            ScormErrorKind::TooLarge,
            "body-size",
            format!("the body is larger than {limit} bytes"),
        )
    })
}

async fn create_registration(
    State(server): State<ScormServer>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ScormError> {
    let caller = caller(&server, &headers).await?;
    let request: NewRegistration = json_body(&read_body(body, 64 * 1024).await?)?;
    let view = server.create_registration(&caller, request).await?;
    let location = format!("/scorm/registrations/{}", view.id);
    let mut response = (StatusCode::CREATED, Json(view)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

async fn get_registration(
    State(server): State<ScormServer>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ScormError> {
    let caller = caller(&server, &headers).await?;
    let id = parse_id(&id, "registration")?;
    Ok(Json(server.get_registration(&caller, id).await?).into_response())
}

async fn relaunch(
    State(server): State<ScormServer>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ScormError> {
    let caller = caller(&server, &headers).await?;
    let id = parse_id(&id, "registration")?;
    Ok(Json(server.relaunch(&caller, id).await?).into_response())
}

/// What a response under a launch link is, which decides its security headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LaunchAnswer {
    /// The player page: the learner's configuration and state.
    Player,
    /// The readable page of a link that cannot be opened.
    ErrorPage,
    /// A file of the package, shown in the player's frame.
    Content,
    /// A JSON answer of the player's API: the learner's run-time data.
    Api,
}

impl LaunchAnswer {
    fn policy(self) -> Option<&'static str> {
        match self {
            LaunchAnswer::Player => Some(PLAYER_CSP),
            LaunchAnswer::ErrorPage => Some(ERROR_PAGE_CSP),
            LaunchAnswer::Content => Some(CONTENT_CSP),
            LaunchAnswer::Api => None,
        }
    }

    /// Package files may be cached (their own `Cache-Control` says how); the rest is about
    /// one learner and one link, and is never stored.
    fn no_store(self) -> bool {
        self != LaunchAnswer::Content
    }
}

/// The security headers of every response under a launch link. The token is in the URL, so
/// no referrer leaves with it; nothing is sniffed into another type.
fn launch_headers(response: &mut Response, answer: LaunchAnswer) {
    let headers = response.headers_mut();
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Some(policy) = answer.policy() {
        // Only package files are answered from elsewhere; a policy they carry is kept.
        headers
            .entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(HeaderValue::from_static(policy));
    }
    if answer.no_store() {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON that is safe inside a `<script type="application/json">` element.
fn script_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|_| "{}".to_owned())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

async fn launch_page(State(server): State<ScormServer>, Path(token): Path<String>) -> Response {
    match server.launch(&token).await {
        Ok(config) => {
            let page = PLAYER_HTML
                .replace("{{TITLE}}", &escape_html(&config.title))
                .replace("{{CONFIG}}", &script_json(&config));
            let mut response =
                ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response();
            launch_headers(&mut response, LaunchAnswer::Player);
            response
        }
        Err(error) => error_page(&error),
    }
}

/// A person opened the link: a readable page, not JSON.
fn error_page(error: &ScormError) -> Response {
    let status = error.status();
    let message = match error.kind {
        ScormErrorKind::Internal
        | ScormErrorKind::Unavailable
        | ScormErrorKind::InsufficientStorage
        | ScormErrorKind::ReadOnly => {
            tracing::error!(error = %error.message, "launch failed");
            "The course cannot be opened right now. Please try again in a moment.".to_owned()
        }
        _ => error.message.clone(),
    };
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Course unavailable</title></head>\
         <body><h1>Course unavailable</h1><p>{}</p></body></html>",
        escape_html(&message)
    );
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response();
    launch_headers(&mut response, LaunchAnswer::ErrorPage);
    response
}

async fn content(
    State(server): State<ScormServer>,
    Path((token, path)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let mut response = match server.content(&token, &path, &method, &headers).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    launch_headers(&mut response, LaunchAnswer::Content);
    response
}

async fn navigate(
    State(server): State<ScormServer>,
    Path(token): Path<String>,
    body: Body,
) -> Response {
    let result = async {
        let request: NavigateBody = json_body(&read_body(body, 64 * 1024).await?)?;
        server.navigate(&token, &request).await
    }
    .await;
    player_answer(result)
}

/// Commits come from `fetch` and from `sendBeacon` (which sends `text/plain`), so the body is
/// read as JSON whatever its content type says.
async fn commit(
    State(server): State<ScormServer>,
    Path((token, session)): Path<(String, String)>,
    body: Body,
) -> Response {
    let result = async {
        let payload: CommitPayload = json_body(&read_body(body, MAX_PLAYER_BODY).await?)?;
        server.commit(&token, &session, payload).await
    }
    .await;
    player_answer(result)
}

fn player_answer<T: serde::Serialize>(result: Result<T, ScormError>) -> Response {
    let mut response = match result {
        Ok(value) => Json(value).into_response(),
        Err(error) => error.into_response(),
    };
    launch_headers(&mut response, LaunchAnswer::Api);
    response
}

async fn asset(Path(name): Path<String>) -> Response {
    let (content_type, body) = match name.as_str() {
        "api.js" => ("text/javascript; charset=utf-8", API_JS),
        "player.js" => ("text/javascript; charset=utf-8", PLAYER_JS),
        "player.css" => ("text/css; charset=utf-8", PLAYER_CSS),
        _ => return ScormError::not_found("asset").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}
