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
use xapi::Version;

use super::statement_body::read_statements;
use super::{AppState, Authenticated, method_not_allowed, query_pairs};
use crate::admission;
use crate::auth::{Principal, StatementRead};
use crate::error::ApiError;
use crate::multipart;
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
        .layer(middleware::from_fn_with_state(
            state.clone(),
            consistent_through,
        ));
    Router::new()
        .route("/about", get(about).fallback(method_not_allowed))
        .merge(statements)
        .merge(super::resources::router())
        .merge(super::documents::router())
        .fallback(|| async { crate::error::ApiError::NotFound })
        .layer(middleware::from_fn_with_state(state, version_header))
}

/// Every xAPI response carries `X-Experience-API-Version` (Communication §3.3): the version
/// the request asked for; when it asked for none we speak, the version its credential last
/// spoke (a client that forgot the header is told in its own version), else the newest.
async fn version_header(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let version = request
        .headers()
        .get(VERSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(Version::from_header)
        .or_else(|| {
            let authorization = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            state.auth.last_version(authorization)
        })
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
        state.auth.remember_version(&principal.key, version);
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

/// Prepares and stores the statements of one request, all or none. `array` says whether the
/// body was a JSON array, for the paths of errors.
async fn store_batch(
    state: &AppState,
    request: &XapiRequest,
    parsed: Vec<xapi::Statement>,
    array: bool,
    attachments: Vec<(String, crate::storage::AttachmentData)>,
) -> Result<Vec<Uuid>, ApiError> {
    if parsed.len() > state.config.max_batch {
        return Err(ApiError::TooLarge {
            what: "the statement batch",
            limit: state.config.max_batch,
        });
    }
    let mut batch = Vec::with_capacity(parsed.len());
    // Ids repeated within a batch were refused by `xapi::parse_statements`
    // (rule duplicate-statement-id), and ids the LRS assigns are fresh.
    for statement in parsed {
        let mut prepared = statements::prepare_as(
            statement,
            request.version,
            &request.principal.authority,
            request.principal.can_define(),
        );
        xapi::normalize_for_storage(&mut prepared.json, request.version);
        // Data §2.4.6.2: every context activity type is returned as an array.
        xapi::context_activities_as_arrays(&mut prepared.json);
        batch.push(prepared);
    }
    // The server's own rules, on the statements as they will be stored; one refusal refuses
    // the request, so nothing of it is stored.
    if let Some(check) = &state.check {
        admission::check_all(
            check.as_ref(),
            request.principal.tenant,
            batch.iter_mut().map(|s| &mut s.json),
        )
        .map_err(|(index, refusal)| ApiError::Invalid {
            path: admission::path_in_body(&refusal, index, array),
            rule: refusal.rule,
            message: refusal.message,
        })?;
    }
    // Attachment data is stored once per hash and becomes visible with these statements.
    if let Some(first) = batch.first_mut() {
        first.attachments = attachments;
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
    let body =
        read_statements(body, &headers, request.version, state.config.max_body_bytes).await?;
    let mut statements = body.statements;
    let (Some(statement), None, false) = (statements.pop(), statements.pop(), body.array) else {
        return Err(ApiError::invalid(
            "$",
            "single-statement",
            "PUT takes one statement object",
        ));
    };
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
    store_batch(&state, &request, vec![statement], false, body.attachments).await?;
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
    if let Some((name, _)) = query_pairs(&uri).first() {
        return Err(ApiError::invalid(
            name.as_str(),
            "unknown-parameter",
            "POST to statements takes no parameters",
        ));
    }
    let body =
        read_statements(body, &headers, request.version, state.config.max_body_bytes).await?;
    let ids = store_batch(
        &state,
        &request,
        body.statements,
        body.array,
        body.attachments,
    )
    .await?;
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

/// Writes a statement response: JSON, or `multipart/mixed` with the attachment data of the
/// statements when `attachments=true` (Communication §2.1.3).
async fn statement_response(
    state: &AppState,
    request: &XapiRequest,
    json: Vec<u8>,
    statements: &[StoredStatement],
    attachments: bool,
) -> Result<Response, ApiError> {
    if !attachments {
        return Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response());
    }
    let mut data: Vec<(String, String, bytes::Bytes)> = Vec::new();
    for statement in statements {
        for (sha2, content_type) in attachment_refs(&statement.json) {
            if data.iter().any(|(known, _, _)| *known == sha2) {
                continue;
            }
            if let Some(bytes) = state
                .stores
                .statements
                .attachment(request.principal.tenant, &sha2)
                .await?
            {
                data.push((sha2, content_type, bytes));
            }
        }
    }
    let boundary = Uuid::new_v4().simple().to_string();
    let body = multipart::write_mixed(
        &boundary,
        &json,
        data.iter()
            .map(|(sha2, content_type, bytes)| multipart::AttachmentData {
                content_type,
                sha2,
                data: bytes,
            }),
    );
    Ok((
        [(
            header::CONTENT_TYPE,
            multipart::response_content_type(&boundary),
        )],
        body,
    )
        .into_response())
}

/// The (sha2, contentType) of every attachment a stored statement declares.
fn attachment_refs(json: &[u8]) -> Vec<(String, String)> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(json) else {
        return Vec::new();
    };
    let Some(list) = value.get("attachments").and_then(|a| a.as_array()) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|a| {
            Some((
                a.get("sha2")?.as_str()?.to_ascii_lowercase(),
                a.get("contentType")?.as_str()?.to_owned(),
            ))
        })
        .collect()
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
            let mut response = statement_response(
                &state,
                &request,
                json,
                std::slice::from_ref(&found),
                attachments,
            )
            .await?;
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
    let mut response =
        statement_response(state, request, body, &page.statements, attachments).await?;
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
