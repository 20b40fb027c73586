//! The document resources under `/xapi/`: State, Activity Profile and Agent Profile
//! (xAPI Communication §2.2, §2.3, §2.6, §2.7) with their concurrency rules (§3.1).
//!
//! Parameters and headers are parsed here into a [`Target`] and a [`Precondition`] by pure
//! functions; the handlers check the scope, call the [`DocumentStore`](crate::storage) and
//! shape the answer. HEAD is answered by the GET handlers (axum drops the body, §1.1).

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use chrono::{DateTime, Utc};
use xapi::Version;

use super::xapi_api::XapiRequest;
use super::{AppState, media_type, method_not_allowed, query_pairs, read_body};
use crate::error::ApiError;
use crate::storage::{
    Document, DocumentError, DocumentScope, DocumentSet, DocumentWrite, Precondition, WriteMode,
};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/activities/state", routes(Resource::State))
        .route("/activities/profile", routes(Resource::ActivityProfile))
        .route("/agents/profile", routes(Resource::AgentProfile))
}

/// The three document resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resource {
    State,
    ActivityProfile,
    AgentProfile,
}

/// The methods of a document resource; HEAD is a GET without the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Put,
    Post,
    Delete,
}

/// What a request addresses once its parameters are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// One document: `stateId` or `profileId` was given.
    One { scope: DocumentScope, id: String },
    /// The ids of a set's documents (GET), or the whole set (State DELETE).
    Many {
        set: DocumentSet,
        since: Option<DateTime<Utc>>,
    },
}

/// The longest document id accepted, in bytes; ids are part of storage keys.
const MAX_ID_BYTES: usize = 1024;
/// The longest `Content-Type` kept with a document, in bytes.
const MAX_CONTENT_TYPE_BYTES: usize = 1024;
/// What a document sent without a `Content-Type` is stored as.
const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

impl Resource {
    fn id_param(self) -> &'static str {
        match self {
            Resource::State => "stateId",
            Resource::ActivityProfile | Resource::AgentProfile => "profileId",
        }
    }

    /// Every parameter the resource knows (Communication §2.3, §2.6, §2.7 tables).
    fn params(self) -> &'static [&'static str] {
        match self {
            Resource::State => &["activityId", "agent", "registration", "stateId", "since"],
            Resource::ActivityProfile => &["activityId", "profileId", "since"],
            Resource::AgentProfile => &["agent", "profileId", "since"],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Resource::State => "the state resource",
            Resource::ActivityProfile => "the activity profile resource",
            Resource::AgentProfile => "the agent profile resource",
        }
    }

    /// Whether a principal may use the resource: `state` for State, `profile` for the
    /// profiles; `all` grants both and `all/read` reading both.
    fn allows(self, request: &XapiRequest, write: bool) -> Result<(), ApiError> {
        let (allowed, scope) = match self {
            Resource::State => (request.principal.can_state(write), "state"),
            Resource::ActivityProfile | Resource::AgentProfile => {
                (request.principal.can_profile(write), "profile")
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(ApiError::Forbidden(scope))
        }
    }
}

fn routes(resource: Resource) -> MethodRouter<AppState> {
    get(
        move |State(state): State<AppState>, request: XapiRequest, uri: Uri| async move {
            read(&state, resource, &request, &uri).await
        },
    )
    .put(
        move |State(state): State<AppState>,
              request: XapiRequest,
              uri: Uri,
              headers: HeaderMap,
              body: Body| async move {
            write(&state, resource, Method::Put, &request, &uri, &headers, body).await
        },
    )
    .post(
        move |State(state): State<AppState>,
              request: XapiRequest,
              uri: Uri,
              headers: HeaderMap,
              body: Body| async move {
            write(&state, resource, Method::Post, &request, &uri, &headers, body).await
        },
    )
    .delete(
        move |State(state): State<AppState>,
              request: XapiRequest,
              uri: Uri,
              headers: HeaderMap| async move {
            delete(&state, resource, &request, &uri, &headers).await
        },
    )
    .fallback(method_not_allowed)
}

/// GET and HEAD: one document, or the ids of many.
async fn read(
    state: &AppState,
    resource: Resource,
    request: &XapiRequest,
    uri: &Uri,
) -> Result<Response, ApiError> {
    resource.allows(request, false)?;
    let tenant = request.principal.tenant;
    match parse_target(resource, Method::Get, &query_pairs(uri), request.version)? {
        Target::One { scope, id } => {
            let document = state
                .stores
                .documents
                .get_document(tenant, &scope, &id)
                .await?
                .ok_or(ApiError::NotFound)?;
            Ok(document_response(document))
        }
        Target::Many { set, since } => {
            let entries = state
                .stores
                .documents
                .list_documents(tenant, &set, since)
                .await?;
            let last_modified = entries.iter().map(|e| e.updated).max();
            let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
            let mut response = axum::Json(ids).into_response();
            // Communication §2.2 "Last Modified": for many documents, the latest of them.
            if let Some(time) = last_modified {
                response
                    .headers_mut()
                    .insert(header::LAST_MODIFIED, http_date(time));
            }
            Ok(response)
        }
    }
}

/// PUT (replace or create) and POST (merge into a stored JSON object, or create).
async fn write(
    state: &AppState,
    resource: Resource,
    method: Method,
    request: &XapiRequest,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    resource.allows(request, true)?;
    let Target::One { scope, id } =
        parse_target(resource, method, &query_pairs(uri), request.version)?
    else {
        // parse_target requires the id of PUT and POST
        return Err(ApiError::invalid(
            resource.id_param(),
            "required",
            "the parameter is required",
        ));
    };
    let precondition = parse_precondition(headers)?;
    let content_type = content_type(headers)?;
    let body = read_body(body, headers, state.config.max_body_bytes).await?;
    let tenant = request.principal.tenant;
    let mode = match method {
        Method::Post => {
            check_posted_json(headers, &body)?;
            WriteMode::MergeJson
        }
        _ if !precondition.is_none() => WriteMode::Replace,
        _ => match unconditional_put(resource, request.version) {
            UnconditionalPut::Replace => WriteMode::Replace,
            UnconditionalPut::Create => WriteMode::Create,
            UnconditionalPut::Refuse => {
                // A 1.0.3 profile PUT without either header: 409 when a document exists
                // (§3.1), and the client broke the MUST of §3.1 otherwise (CTS XAPI-00273).
                // Nothing is written either way, so no atomic check is needed.
                let exists = state
                    .stores
                    .documents
                    .get_document(tenant, &scope, &id)
                    .await?
                    .is_some();
                return Err(if exists {
                    DocumentError::Exists.into()
                } else {
                    ApiError::invalid(
                        "If-Match",
                        "concurrency-header",
                        format!(
                            "a PUT to {} must carry If-Match or If-None-Match (xAPI Communication §3.1)",
                            resource.name()
                        ),
                    )
                });
            }
        },
    };
    let write = DocumentWrite {
        content_type,
        body,
        mode,
        precondition,
    };
    let stored = state
        .stores
        .documents
        .put_document(tenant, &scope, &id, write)
        .await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(header::ETAG, quoted_etag(&stored.etag));
    headers.insert(header::LAST_MODIFIED, http_date(stored.updated));
    Ok(response)
}

/// DELETE: one document, or every State document of a context.
async fn delete(
    state: &AppState,
    resource: Resource,
    request: &XapiRequest,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    resource.allows(request, true)?;
    let tenant = request.principal.tenant;
    match parse_target(resource, Method::Delete, &query_pairs(uri), request.version)? {
        Target::One { scope, id } => {
            let precondition = parse_precondition(headers)?;
            // Deleting what is not there is not an error: the document is gone either way.
            state
                .stores
                .documents
                .delete_document(tenant, &scope, &id, &precondition)
                .await?;
        }
        Target::Many { set, .. } => {
            state
                .stores
                .documents
                .delete_documents(tenant, &set)
                .await?;
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// What a PUT with neither `If-Match` nor `If-None-Match` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnconditionalPut {
    /// Overwrite whatever is stored.
    Replace,
    /// Create the document, or answer 409 when one exists.
    Create,
    /// Write nothing: 409 when a document exists, 400 otherwise.
    Refuse,
}

/// xAPI 1.0.3 Communication §3.1: "The State Resource will permit PUT, POST and DELETE requests
/// without concurrency headers"; a profile PUT MUST carry one of the headers, and the 1.0.3
/// CTS expects 400 when it does not (XAPI-00273, "fails without ETag header"). xAPI 2.0
/// applies the 409 rule to all three resources (CTS 4.1.4 tests State too) and no longer tests
/// the 400, so a 2.0 PUT without headers creates a document that does not exist yet.
fn unconditional_put(resource: Resource, version: Version) -> UnconditionalPut {
    match (version, resource) {
        (Version::V1_0_3, Resource::State) => UnconditionalPut::Replace,
        (Version::V1_0_3, _) => UnconditionalPut::Refuse,
        (Version::V2_0_0, _) => UnconditionalPut::Create,
    }
}

/// Checks the parameters of a request against what the resource and method take.
fn parse_target(
    resource: Resource,
    method: Method,
    params: &[(String, String)],
    version: Version,
) -> Result<Target, ApiError> {
    let known = resource.params();
    let mut seen: Vec<&str> = Vec::with_capacity(params.len());
    for (name, _) in params {
        if !known.contains(&name.as_str()) {
            return Err(ApiError::invalid(
                name.as_str(),
                "unknown-parameter",
                format!(
                    "is not a parameter of {}; it takes {}",
                    resource.name(),
                    known.join(", ")
                ),
            ));
        }
        if seen.contains(&name.as_str()) {
            return Err(ApiError::invalid(
                name.as_str(),
                "duplicate-parameter",
                "is given more than once",
            ));
        }
        seen.push(name);
    }
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let required = |name: &'static str| {
        get(name).ok_or_else(|| ApiError::invalid(name, "required", "the parameter is required"))
    };

    let id_param = resource.id_param();
    let id = get(id_param);
    let id_required = match (resource, method) {
        (_, Method::Put | Method::Post) => true,
        // Without stateId, a State DELETE deletes all state of the context (§2.3).
        (Resource::State, Method::Delete) => false,
        (_, Method::Delete) => true,
        (_, Method::Get) => false,
    };
    if id_required && id.is_none() {
        return Err(ApiError::invalid(
            id_param,
            "required",
            format!("{} needs the parameter here", resource.name()),
        ));
    }
    let since = get("since");
    if since.is_some() && (method != Method::Get || id.is_some()) {
        return Err(ApiError::invalid(
            "since",
            "since-only-for-ids",
            format!("since applies only to a GET of the ids, without {id_param}"),
        ));
    }

    let activity_id = match resource {
        Resource::State | Resource::ActivityProfile => {
            Some(parse_activity_id(required("activityId")?)?)
        }
        Resource::AgentProfile => None,
    };
    let agent = match resource {
        Resource::State | Resource::AgentProfile => {
            Some(parse_agent(required("agent")?, resource, version)?)
        }
        Resource::ActivityProfile => None,
    };
    let registration = get("registration")
        .map(|value| {
            xapi::parse_uuid(value)
                .map_err(|_| ApiError::invalid("registration", "uuid", "must be a UUID"))
        })
        .transpose()?;
    let since = since
        .map(|value| {
            xapi::parse_timestamp(value)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    ApiError::invalid("since", "timestamp", "must be an ISO 8601 timestamp")
                })
        })
        .transpose()?;

    let scope = match (resource, activity_id, agent) {
        (Resource::State, Some(activity_id), Some(agent)) => DocumentScope::State {
            activity_id,
            agent,
            registration,
        },
        (Resource::ActivityProfile, Some(activity_id), _) => {
            DocumentScope::ActivityProfile { activity_id }
        }
        (Resource::AgentProfile, _, Some(agent)) => DocumentScope::AgentProfile { agent },
        _ => unreachable_scope()?,
    };
    match id {
        Some(id) => Ok(Target::One {
            scope,
            id: parse_id(id_param, id)?,
        }),
        None => {
            let set = match scope {
                // Without a registration, every registration of the context (§2.3 "Activity
                // + Agent [+ registration if specified]").
                DocumentScope::State {
                    activity_id,
                    agent,
                    registration: None,
                } => DocumentSet::State { activity_id, agent },
                scope => DocumentSet::Scope(scope),
            };
            Ok(Target::Many { set, since })
        }
    }
}

/// The owner parameters are required above, so this is never reached; an error, not a panic,
/// keeps the request path panic-free.
fn unreachable_scope<T>() -> Result<T, ApiError> {
    Err(ApiError::invalid(
        "query",
        "required",
        "the parameters do not name a document owner",
    ))
}

fn parse_activity_id(value: &str) -> Result<String, ApiError> {
    if xapi::is_iri(value) {
        Ok(value.to_owned())
    } else {
        Err(ApiError::invalid(
            "activityId",
            "iri",
            "must be an absolute IRI",
        ))
    }
}

/// The `agent` parameter as the IFI key documents are filed under. The Agent Profile
/// Resource takes an Agent, not a Group (Communication §2.6: "The 'agent' parameter is an
/// Agent Object and not a Group"); State takes an identified Group as well, like the
/// statement filter.
fn parse_agent(value: &str, resource: Resource, version: Version) -> Result<String, ApiError> {
    let key = xapi::parse_agent_param(value, version)?;
    if resource == Resource::AgentProfile {
        let is_group = serde_json::from_str::<serde_json::Value>(value)
            .ok()
            .and_then(|v| {
                v.get("objectType")
                    .and_then(|t| t.as_str())
                    .map(|t| t == "Group")
            })
            .unwrap_or(false);
        if is_group {
            return Err(ApiError::invalid(
                "agent.objectType",
                "agent-not-group",
                "the agent profile resource takes an Agent; put a group's identifier in an Agent object",
            ));
        }
    }
    Ok(key)
}

fn parse_id(name: &'static str, value: &str) -> Result<String, ApiError> {
    if value.is_empty() {
        return Err(ApiError::invalid(name, "non-empty", "must not be empty"));
    }
    if value.len() > MAX_ID_BYTES {
        return Err(ApiError::invalid(
            name,
            "too-long",
            format!("must be at most {MAX_ID_BYTES} bytes long"),
        ));
    }
    Ok(value.to_owned())
}

/// `If-Match` and `If-None-Match` (RFC 7232 §3.1–3.2). ETags are compared unquoted; a weak
/// tag (`W/"…"`) never matches `If-Match`, which compares strongly, and matches
/// `If-None-Match` by its value. A bare token is taken as a tag, for clients that forget the
/// quotes.
fn parse_precondition(headers: &HeaderMap) -> Result<Precondition, ApiError> {
    let list = |name: HeaderName,
                label: &'static str,
                weak_matches: bool|
     -> Result<Option<Vec<String>>, ApiError> {
        let mut values = headers.get_all(&name).iter().peekable();
        if values.peek().is_none() {
            return Ok(None);
        }
        let mut tags = Vec::new();
        for value in values {
            let text = value.to_str().map_err(|_| {
                ApiError::invalid(label, "entity-tag", "must be a list of quoted ETags or *")
            })?;
            for tag in split_tags(text) {
                match tag.strip_prefix("W/") {
                    Some(weak) if weak_matches => tags.push(unquote(weak).to_owned()),
                    Some(_) => {}
                    None => tags.push(unquote(tag).to_owned()),
                }
            }
        }
        Ok(Some(tags))
    };
    Ok(Precondition {
        if_match: list(header::IF_MATCH, "If-Match", false)?,
        if_none_match: list(header::IF_NONE_MATCH, "If-None-Match", true)?,
    })
}

/// Splits an entity-tag list at the commas outside quotes.
fn split_tags(text: &str) -> Vec<&str> {
    let mut tags = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                tags.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    tags.push(text[start..].trim());
    tags.into_iter().filter(|t| !t.is_empty()).collect()
}

fn unquote(tag: &str) -> &str {
    tag.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(tag)
}

/// The content type to keep with the document, as sent (Communication §2.2: the document is
/// returned as it was stored).
fn content_type(headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(DEFAULT_CONTENT_TYPE.to_owned());
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::invalid("Content-Type", "content-type", "must be ASCII"))?
        .trim();
    if text.len() > MAX_CONTENT_TYPE_BYTES {
        return Err(ApiError::invalid(
            "Content-Type",
            "content-type",
            format!("must be at most {MAX_CONTENT_TYPE_BYTES} bytes long"),
        ));
    }
    Ok(if text.is_empty() {
        DEFAULT_CONTENT_TYPE.to_owned()
    } else {
        text.to_owned()
    })
}

/// A POST says it is JSON: it must then be a JSON object, whether or not there is a document
/// to merge it into (Communication §2.2: a posted document that "cannot be parsed as a JSON
/// Object" is refused with 400).
fn check_posted_json(headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    if media_type(headers).as_deref() != Some("application/json") {
        return Ok(());
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(_) => Err(ApiError::invalid(
            "body",
            "json-object",
            "a JSON document posted to a document resource must be a JSON object",
        )),
        Err(e) => Err(ApiError::invalid(
            "body",
            "json-object",
            format!("the body is not JSON: {e}"),
        )),
    }
}

fn document_response(document: Document) -> Response {
    let content_type = HeaderValue::from_str(&document.content_type)
        .unwrap_or(HeaderValue::from_static(DEFAULT_CONTENT_TYPE));
    let mut response = document.body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::ETAG, quoted_etag(&document.etag));
    headers.insert(header::LAST_MODIFIED, http_date(document.updated));
    response
}

/// Communication §3.1: the ETag header is enclosed in quotes.
fn quoted_etag(etag: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{etag}\"")).unwrap_or(HeaderValue::from_static("\"\""))
}

fn http_date(time: DateTime<Utc>) -> HeaderValue {
    HeaderValue::from_str(&time.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or(HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const AGENT: &str = r#"{"mbox":"mailto:a@example.com"}"#;
    const ACTIVITY: &str = "http://example.com/a";
    const REGISTRATION: &str = "6fa459ea-ee8a-3ca4-894e-db77e160355e";

    fn params(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn target(resource: Resource, method: Method, list: &[(&str, &str)]) -> Target {
        parse_target(resource, method, &params(list), Version::V2_0_0)
            .unwrap_or_else(|e| panic!("{list:?}: {e}"))
    }

    fn check_err(
        resource: Resource,
        method: Method,
        list: &[(&str, &str)],
        expected: (&str, &str),
    ) {
        match parse_target(resource, method, &params(list), Version::V2_0_0) {
            Err(ApiError::Invalid { path, rule, .. }) => {
                assert_eq!(
                    (path.as_str(), rule),
                    expected,
                    "{resource:?} {method:?} {list:?}"
                );
            }
            other => panic!("{resource:?} {method:?} {list:?}: expected 400, got {other:?}"),
        }
    }

    fn state_scope(registration: Option<uuid::Uuid>) -> DocumentScope {
        DocumentScope::State {
            activity_id: ACTIVITY.to_owned(),
            agent: "mbox:mailto:a@example.com".to_owned(),
            registration,
        }
    }

    #[test]
    fn state_targets() {
        let registration = Some(xapi::parse_uuid(REGISTRATION).unwrap());
        let base = [("activityId", ACTIVITY), ("agent", AGENT)];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut list = base.to_vec();
            list.extend_from_slice(extra);
            list
        };
        assert_eq!(
            target(Resource::State, Method::Put, &with(&[("stateId", "s")])),
            Target::One {
                scope: state_scope(None),
                id: "s".into()
            }
        );
        assert_eq!(
            target(
                Resource::State,
                Method::Get,
                &with(&[("stateId", "s"), ("registration", REGISTRATION)])
            ),
            Target::One {
                scope: state_scope(registration),
                id: "s".into()
            }
        );
        assert_eq!(
            target(Resource::State, Method::Delete, &base),
            Target::Many {
                set: DocumentSet::State {
                    activity_id: ACTIVITY.to_owned(),
                    agent: "mbox:mailto:a@example.com".to_owned()
                },
                since: None
            },
            "without a registration, every registration"
        );
        assert_eq!(
            target(
                Resource::State,
                Method::Get,
                &with(&[
                    ("registration", REGISTRATION),
                    ("since", "2024-01-01T00:00:00Z")
                ])
            ),
            Target::Many {
                set: DocumentSet::Scope(state_scope(registration)),
                since: Some("2024-01-01T00:00:00Z".parse().unwrap())
            }
        );
    }

    #[test]
    fn profile_targets() {
        assert_eq!(
            target(
                Resource::ActivityProfile,
                Method::Get,
                &[
                    ("activityId", ACTIVITY),
                    ("since", "2024-01-01T01:00:00+01:00")
                ]
            ),
            Target::Many {
                set: DocumentSet::Scope(DocumentScope::ActivityProfile {
                    activity_id: ACTIVITY.to_owned()
                }),
                since: Some("2024-01-01T00:00:00Z".parse().unwrap())
            }
        );
        assert_eq!(
            target(
                Resource::AgentProfile,
                Method::Delete,
                &[("agent", AGENT), ("profileId", "p")]
            ),
            Target::One {
                scope: DocumentScope::AgentProfile {
                    agent: "mbox:mailto:a@example.com".to_owned()
                },
                id: "p".into()
            }
        );
    }

    /// A request's resource, method and parameters, and the (path, rule) of its 400.
    type RefusedCase<'a> = (
        Resource,
        Method,
        &'a [(&'a str, &'a str)],
        (&'a str, &'a str),
    );

    #[test]
    fn refused_parameters() {
        use Method::{Delete, Get, Post, Put};
        use Resource::{ActivityProfile, AgentProfile, State};
        let cases: &[RefusedCase] = &[
            (
                State,
                Put,
                &[("agent", AGENT), ("stateId", "s")],
                ("activityId", "required"),
            ),
            (
                State,
                Get,
                &[("activityId", ACTIVITY)],
                ("agent", "required"),
            ),
            (
                State,
                Post,
                &[("activityId", ACTIVITY), ("agent", AGENT)],
                ("stateId", "required"),
            ),
            (
                State,
                Put,
                &[
                    ("activityId", "not an iri"),
                    ("agent", AGENT),
                    ("stateId", "s"),
                ],
                ("activityId", "iri"),
            ),
            (
                State,
                Get,
                &[
                    ("activityId", ACTIVITY),
                    ("agent", "true"),
                    ("stateId", "s"),
                ],
                ("agent", "wrong-type"),
            ),
            (
                State,
                Delete,
                &[
                    ("activityId", ACTIVITY),
                    ("agent", AGENT),
                    ("registration", "true"),
                ],
                ("registration", "uuid"),
            ),
            (
                State,
                Get,
                &[
                    ("activityId", ACTIVITY),
                    ("agent", AGENT),
                    ("since", "not a timestamp"),
                ],
                ("since", "timestamp"),
            ),
            (
                State,
                Get,
                &[
                    ("activityId", ACTIVITY),
                    ("agent", AGENT),
                    ("stateId", "s"),
                    ("since", "2024-01-01T00:00:00Z"),
                ],
                ("since", "since-only-for-ids"),
            ),
            (
                State,
                Delete,
                &[
                    ("activityId", ACTIVITY),
                    ("agent", AGENT),
                    ("since", "2024-01-01T00:00:00Z"),
                ],
                ("since", "since-only-for-ids"),
            ),
            (
                State,
                Get,
                &[
                    ("activityId", ACTIVITY),
                    ("agent", AGENT),
                    ("profileId", "p"),
                ],
                ("profileId", "unknown-parameter"),
            ),
            (
                State,
                Get,
                &[
                    ("activityId", ACTIVITY),
                    ("activityId", ACTIVITY),
                    ("agent", AGENT),
                ],
                ("activityId", "duplicate-parameter"),
            ),
            (
                State,
                Put,
                &[("activityId", ACTIVITY), ("agent", AGENT), ("stateId", "")],
                ("stateId", "non-empty"),
            ),
            (
                ActivityProfile,
                Delete,
                &[("activityId", ACTIVITY)],
                ("profileId", "required"),
            ),
            (
                ActivityProfile,
                Get,
                &[("activityId", ACTIVITY), ("agent", AGENT)],
                ("agent", "unknown-parameter"),
            ),
            (
                ActivityProfile,
                Put,
                &[
                    ("activityId", ACTIVITY),
                    ("profileId", "p"),
                    ("registration", REGISTRATION),
                ],
                ("registration", "unknown-parameter"),
            ),
            (
                AgentProfile,
                Get,
                &[("profileId", "p")],
                ("agent", "required"),
            ),
            (
                AgentProfile,
                Put,
                &[
                    (
                        "agent",
                        r#"{"objectType":"Group","mbox":"mailto:g@example.com"}"#,
                    ),
                    ("profileId", "p"),
                ],
                ("agent.objectType", "agent-not-group"),
            ),
            (
                AgentProfile,
                Post,
                &[("agent", AGENT), ("profileId", "p"), ("method", "PUT")],
                ("method", "unknown-parameter"),
            ),
        ];
        for (resource, method, list, expected) in cases {
            check_err(*resource, *method, list, *expected);
        }
        let long = "x".repeat(MAX_ID_BYTES + 1);
        check_err(
            ActivityProfile,
            Put,
            &[("activityId", ACTIVITY), ("profileId", &long)],
            ("profileId", "too-long"),
        );
    }

    #[test]
    fn a_state_may_belong_to_an_identified_group() {
        let group = r#"{"objectType":"Group","mbox":"mailto:g@example.com"}"#;
        assert!(matches!(
            target(
                Resource::State,
                Method::Get,
                &[("activityId", ACTIVITY), ("agent", group), ("stateId", "s")]
            ),
            Target::One { .. }
        ));
    }

    fn headers(list: &[(HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in list {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn preconditions() {
        let check = |list: &[(HeaderName, &str)],
                     if_match: Option<&[&str]>,
                     if_none_match: Option<&[&str]>| {
            let parsed = parse_precondition(&headers(list)).unwrap();
            let owned = |tags: Option<&[&str]>| {
                tags.map(|t| t.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
            };
            assert_eq!(
                parsed,
                Precondition {
                    if_match: owned(if_match),
                    if_none_match: owned(if_none_match)
                },
                "{list:?}"
            );
        };
        check(&[], None, None);
        check(&[(header::IF_MATCH, "\"abc\"")], Some(&["abc"]), None);
        check(
            &[(header::IF_MATCH, "\"a\", \"b\"")],
            Some(&["a", "b"]),
            None,
        );
        check(
            &[(header::IF_MATCH, "\"a\""), (header::IF_MATCH, "\"b\"")],
            Some(&["a", "b"]),
            None,
        );
        check(&[(header::IF_MATCH, "W/\"a\", abc")], Some(&["abc"]), None);
        check(&[(header::IF_MATCH, "W/\"a\"")], Some(&[]), None);
        check(&[(header::IF_NONE_MATCH, "*")], None, Some(&["*"]));
        check(
            &[(header::IF_NONE_MATCH, "W/\"a,b\"")],
            None,
            Some(&["a,b"]),
        );
        check(
            &[(header::IF_MATCH, "*"), (header::IF_NONE_MATCH, "\"x\"")],
            Some(&["*"]),
            Some(&["x"]),
        );
    }

    #[test]
    fn unconditional_puts_by_version() {
        assert_eq!(
            unconditional_put(Resource::State, Version::V1_0_3),
            UnconditionalPut::Replace
        );
        assert_eq!(
            unconditional_put(Resource::AgentProfile, Version::V1_0_3),
            UnconditionalPut::Refuse
        );
        for resource in [
            Resource::State,
            Resource::ActivityProfile,
            Resource::AgentProfile,
        ] {
            assert_eq!(
                unconditional_put(resource, Version::V2_0_0),
                UnconditionalPut::Create
            );
        }
    }

    #[test]
    fn posted_json_must_be_an_object() {
        let json = headers(&[(header::CONTENT_TYPE, "application/json; charset=utf-8")]);
        assert!(check_posted_json(&json, b"{\"a\":1}").is_ok());
        assert!(check_posted_json(&json, b"[1]").is_err());
        assert!(check_posted_json(&json, b"{").is_err());
        let text = headers(&[(header::CONTENT_TYPE, "text/plain")]);
        assert!(
            check_posted_json(&text, b"[1]").is_ok(),
            "not JSON: stored as it is"
        );
    }

    #[test]
    fn content_types_are_kept() {
        assert_eq!(
            content_type(&HeaderMap::new()).unwrap(),
            DEFAULT_CONTENT_TYPE
        );
        assert_eq!(
            content_type(&headers(&[(
                header::CONTENT_TYPE,
                "Text/Plain; charset=UTF-8"
            )]))
            .unwrap(),
            "Text/Plain; charset=UTF-8"
        );
    }
}
