//! The xAPI resources under `/xapi/`: About and the Statement Resource
//! (xAPI Communication §2.1 and §2.8).

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;
use xapi::{JsonLimits, Version};

use super::{AppState, Authenticated, media_type, method_not_allowed, query_pairs, read_body};
use crate::auth::{Principal, StatementRead};
use crate::error::ApiError;
use crate::statements::{self, Cursor, Format, QueryLimits, Rendering, StatementGet};
use crate::storage::{StatementQuery, StoredStatement, TermKind};

const VERSION_HEADER: HeaderName = HeaderName::from_static("x-experience-api-version");
const CONSISTENT_THROUGH: HeaderName =
    HeaderName::from_static("x-experience-api-consistent-through");

pub fn router(state: AppState) -> Router<AppState> {
    let statements = Router::new()
        .route(
            "/statements",
            get(get_statements)
                .put(put_statement)
                .post(post_statements)
                .fallback(method_not_allowed),
        )
        .layer(middleware::from_fn_with_state(state, consistent_through));
    Router::new()
        .route("/about", get(about).fallback(method_not_allowed))
        .merge(statements)
        .merge(super::resources::router())
        .fallback(|| async { crate::error::ApiError::NotFound })
        .layer(middleware::from_fn(version_header))
}

/// Every xAPI response carries `X-Experience-API-Version` (Communication §3.3): the version
/// the request asked for, or the newest one when it asked for none we speak.
async fn version_header(request: Request, next: Next) -> Response {
    let version = request
        .headers()
        .get(VERSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(Version::from_header)
        .unwrap_or(Version::V2_0_0);
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(VERSION_HEADER, HeaderValue::from_static(version.as_str()));
    response
}

/// Every Statement Resource response carries `X-Experience-API-Consistent-Through`
/// (Communication §2.1.3), errors included.
async fn consistent_through(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let through = match state.stores.statements.consistent_through().await {
        Ok(time) => time,
        Err(_) => state.clock.now(),
    };
    if let Ok(value) = HeaderValue::from_str(&crate::storage::format_stored(through)) {
        response.headers_mut().insert(CONSISTENT_THROUGH, value);
    }
    response
}

/// An authenticated xAPI request with a version we speak.
pub(super) struct XapiRequest {
    pub(super) version: Version,
    pub(super) principal: std::sync::Arc<Principal>,
}

impl FromRequestParts<AppState> for XapiRequest {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Authenticated(principal) = Authenticated::from_request_parts(parts, state).await?;
        let header = parts.headers.get(VERSION_HEADER);
        let version = match header {
            None => {
                return Err(ApiError::invalid(
                    "X-Experience-API-Version",
                    "version-header",
                    "the header is required; this server speaks 1.0.3 and 2.0.0",
                ));
            }
            Some(value) => value
                .to_str()
                .ok()
                .and_then(Version::from_header)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "X-Experience-API-Version",
                        "version-header",
                        "unsupported version; this server speaks 1.0.3 and 2.0.0",
                    )
                })?,
        };
        Ok(XapiRequest { version, principal })
    }
}

async fn about() -> Response {
    axum::Json(json!({
        "version": ["1.0.3", "2.0.0"],
        "extensions": {
            "https://proficio.dev/xapi/extensions/server": {
                "name": "proficio",
                "version": env!("CARGO_PKG_VERSION")
            }
        }
    }))
    .into_response()
}

/// Refuses request shapes this resource does not take, before the body is read.
fn check_write_request(uri: &Uri, headers: &HeaderMap) -> Result<(), ApiError> {
    if query_pairs(uri).iter().any(|(k, _)| k == "method") {
        return Err(ApiError::invalid(
            "method",
            "alternate-request-syntax",
            "the alternate request syntax is not accepted",
        ));
    }
    match media_type(headers).as_deref() {
        Some("application/json") => Ok(()),
        Some(t) if t.starts_with("multipart/") => Err(ApiError::UnsupportedMediaType(
            "statements with attachment data (multipart/mixed) are not accepted by this server; send application/json with fileUrl attachments".to_owned(),
        )),
        Some(other) => Err(ApiError::invalid(
            "Content-Type",
            "content-type",
            format!("must be application/json, not {other}"),
        )),
        None => Err(ApiError::invalid(
            "Content-Type",
            "content-type",
            "the header is required and must be application/json",
        )),
    }
}

async fn store_batch(
    state: &AppState,
    request: &XapiRequest,
    parsed: Vec<xapi::Statement>,
) -> Result<Vec<Uuid>, ApiError> {
    if parsed.len() > state.config.max_batch {
        return Err(ApiError::TooLarge {
            what: "the statement batch",
            limit: state.config.max_batch,
        });
    }
    let mut batch = Vec::with_capacity(parsed.len());
    let mut seen = std::collections::HashSet::with_capacity(parsed.len());
    for (i, statement) in parsed.into_iter().enumerate() {
        let mut prepared = statements::prepare_as(
            statement,
            request.version,
            &request.principal.authority,
            request.principal.can_define(),
        );
        if !seen.insert(prepared.id) {
            return Err(ApiError::invalid(
                format!("$[{i}].id"),
                "unique-id-in-batch",
                format!(
                    "statement id {} appears more than once in the batch",
                    prepared.id
                ),
            ));
        }
        xapi::normalize_for_storage(&mut prepared.json, request.version);
        // Data §2.4.6.2: every context activity type is returned as an array.
        xapi::context_activities_as_arrays(&mut prepared.json);
        batch.push(prepared);
    }
    Ok(state
        .stores
        .statements
        .insert(request.principal.tenant, batch)
        .await?)
}

fn require_write(principal: &Principal) -> Result<(), ApiError> {
    if principal.can_write_statements() {
        Ok(())
    } else {
        Err(ApiError::Forbidden("statements/write"))
    }
}

async fn put_statement(
    State(state): State<AppState>,
    request: XapiRequest,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    require_write(&request.principal)?;
    check_write_request(&uri, &headers)?;
    let params = query_pairs(&uri);
    let id = match params.as_slice() {
        [(name, value)] if name == "statementId" => xapi::parse_uuid(value)
            .map_err(|_| ApiError::invalid("statementId", "uuid", "must be a UUID"))?,
        [] => {
            return Err(ApiError::invalid(
                "statementId",
                "required",
                "PUT needs the statementId parameter",
            ));
        }
        _ => {
            return Err(ApiError::invalid(
                "query",
                "put-parameters",
                "PUT takes exactly one parameter, statementId",
            ));
        }
    };
    let body = read_body(body, &headers, state.config.max_body_bytes).await?;
    let value = xapi::parse_json_strict(&body, JsonLimits::default())?;
    if !value.is_object() {
        return Err(ApiError::invalid(
            "$",
            "single-statement",
            "PUT takes one statement object",
        ));
    }
    let statement = xapi::Statement::parse(value, request.version, "$")?;
    match statement.id() {
        Some(body_id) if body_id != id => {
            return Err(ApiError::invalid(
                "$.id",
                "id-matches-parameter",
                "must equal the statementId parameter",
            ));
        }
        Some(_) => {}
        None => {}
    }
    let statement = with_id(statement, id, request.version)?;
    store_batch(&state, &request, vec![statement]).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Puts the `statementId` parameter into a statement that has no id of its own.
fn with_id(
    statement: xapi::Statement,
    id: Uuid,
    version: Version,
) -> Result<xapi::Statement, ApiError> {
    if statement.id().is_some() {
        return Ok(statement);
    }
    let mut json = statement.into_json();
    json.insert("id".to_owned(), serde_json::Value::String(id.to_string()));
    Ok(xapi::Statement::parse(
        serde_json::Value::Object(json),
        version,
        "$",
    )?)
}

async fn post_statements(
    State(state): State<AppState>,
    request: XapiRequest,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    require_write(&request.principal)?;
    check_write_request(&uri, &headers)?;
    if let Some((name, _)) = query_pairs(&uri).first() {
        return Err(ApiError::invalid(
            name.as_str(),
            "unknown-parameter",
            "POST to statements takes no parameters",
        ));
    }
    let body = read_body(body, &headers, state.config.max_body_bytes).await?;
    let parsed = xapi::parse_statements(&body, request.version, JsonLimits::default())?;
    let ids = store_batch(&state, &request, parsed).await?;
    Ok(axum::Json(ids).into_response())
}

fn http_date(time: DateTime<Utc>) -> HeaderValue {
    HeaderValue::from_str(&time.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or(HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"))
}

fn accept_languages(headers: &HeaderMap) -> Vec<String> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(xapi::parse_accept_language)
        .unwrap_or_default()
}

const BOUNDARY: &str = "proficio-statements-3f1c9a0e";

/// Writes a statement response: JSON, or `multipart/mixed` when attachments were asked for
/// (Communication §2.1.3: with `attachments=true` the multipart format is used). Attachment
/// data is not stored by this server, so the statement part is the only part.
fn statement_response(json: Vec<u8>, attachments: bool) -> Response {
    if !attachments {
        return ([(header::CONTENT_TYPE, "application/json")], json).into_response();
    }
    let mut body = Vec::with_capacity(json.len() + 128);
    body.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Type: application/json\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(&json);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    (
        [(
            header::CONTENT_TYPE,
            format!("multipart/mixed; boundary={BOUNDARY}"),
        )],
        body,
    )
        .into_response()
}

fn readable(principal: &Principal, statement: &StoredStatement, read: StatementRead) -> bool {
    match read {
        StatementRead::All => true,
        StatementRead::None => false,
        StatementRead::Mine => {
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&statement.json)
                .ok()
                .and_then(|json| {
                    json.get("authority")
                        .and_then(|a| a.as_object())
                        .and_then(xapi::ifi_key)
                })
                .is_some_and(|key| key == principal.authority.key)
        }
    }
}

async fn get_statements(
    State(state): State<AppState>,
    request: XapiRequest,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let read = request.principal.statement_read();
    if read == StatementRead::None {
        return Err(ApiError::Forbidden("statements/read"));
    }
    let mut params = query_pairs(&uri);
    let mut after = None;
    if let Some(position) = params.iter().position(|(k, _)| k == "more") {
        if params.len() != 1 {
            return Err(ApiError::invalid(
                "more",
                "more-alone",
                "a more cursor cannot be combined with other parameters",
            ));
        }
        let cursor = Cursor::decode(&params[position].1)?;
        params = cursor.params;
        after = Some(cursor.after);
    }
    let limits = QueryLimits {
        max_limit: state.config.max_query_limit,
    };
    let languages = accept_languages(&headers);
    match statements::parse_get(&params, request.version, limits)? {
        StatementGet::Single {
            id,
            voided,
            format,
            attachments,
        } => {
            let found = state
                .stores
                .statements
                .get(request.principal.tenant, id)
                .await?
                .filter(|s| s.voided == voided)
                .filter(|s| readable(&request.principal, s, read))
                .ok_or(ApiError::NotFound)?;
            let canonical =
                canonical_definitions(&state, &request, format, std::slice::from_ref(&found))
                    .await?;
            let rendering = Rendering {
                format,
                accept_language: &languages,
                canonical: &canonical,
            };
            let json = statements::render(&found, &rendering);
            let mut response = statement_response(json, attachments);
            response
                .headers_mut()
                .insert(header::LAST_MODIFIED, http_date(found.stored));
            Ok(response)
        }
        StatementGet::Query {
            mut query,
            format,
            attachments,
            params,
        } => {
            if read == StatementRead::Mine {
                query
                    .filters
                    .push((TermKind::Authority, request.principal.authority.key.clone()));
            }
            query.after = after;
            run_query(
                &state,
                &request,
                query,
                format,
                attachments,
                params,
                &languages,
            )
            .await
        }
    }
}

async fn run_query(
    state: &AppState,
    request: &XapiRequest,
    query: StatementQuery,
    format: Format,
    attachments: bool,
    params: Vec<(String, String)>,
    languages: &[String],
) -> Result<Response, ApiError> {
    let page = state
        .stores
        .statements
        .query(request.principal.tenant, &query)
        .await?;
    let more = page.next.map(|after| {
        format!(
            "/xapi/statements?more={}",
            Cursor { params, after }.encode()
        )
    });
    let last_modified = page.statements.iter().map(|s| s.stored).max();
    let canonical = canonical_definitions(state, request, format, &page.statements).await?;
    let rendering = Rendering {
        format,
        accept_language: languages,
        canonical: &canonical,
    };
    let body = statements::statement_result(&page.statements, &rendering, more.as_deref());
    let mut response = statement_response(body, attachments);
    if let Some(time) = last_modified {
        response
            .headers_mut()
            .insert(header::LAST_MODIFIED, http_date(time));
    }
    Ok(response)
}

/// The canonical definitions of the activities in `statements`, when `format=canonical` asks
/// for them (Communication §2.1.3).
async fn canonical_definitions(
    state: &AppState,
    request: &XapiRequest,
    format: Format,
    statements: &[StoredStatement],
) -> Result<std::collections::HashMap<String, serde_json::Map<String, serde_json::Value>>, ApiError>
{
    let mut canonical = std::collections::HashMap::new();
    if format != Format::Canonical {
        return Ok(canonical);
    }
    for statement in statements {
        for id in statements::activity_ids(&statement.json) {
            if canonical.contains_key(&id) {
                continue;
            }
            if let Some(definition) = state
                .stores
                .statements
                .activity_definition(request.principal.tenant, &id)
                .await?
            {
                canonical.insert(id, definition);
            }
        }
    }
    Ok(canonical)
}
