//! The `/capabilities/` routes. Handlers are thin: they check the caller, read the request
//! into the engine's spec types and call the service; bodies are the engine's types as it
//! serialises them.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use capability_engine::{
    AggregationSpec, Assignment, FrameworkSpec, PersonKey, RoleId, RoleSpec, RuleSpec,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::CapabilityService;
use crate::error::{ServiceError, ServiceErrorKind};
use crate::model::{
    KIND_FRAMEWORK, KIND_MODEL, KIND_ROLE, Part, assignments_id, check_role, config_id, rules_id,
};
use crate::ports::{AuthFailure, Caller};

/// Every capability route, to be merged into the server's router.
pub fn router(service: CapabilityService) -> Router {
    Router::new()
        .route("/capabilities/frameworks", get(list_frameworks))
        .route(
            "/capabilities/frameworks/{id}",
            get(get_framework).put(put_framework),
        )
        .route(
            "/capabilities/frameworks/{id}/import",
            post(crate::import::routes::import),
        )
        .route(
            "/capabilities/frameworks/{id}/export",
            get(crate::import::routes::export),
        )
        .route("/capabilities/badges", get(crate::badges::serve))
        .route("/capabilities/roles", get(list_roles))
        .route("/capabilities/roles/{id}", get(get_role).put(put_role))
        .route("/capabilities/roles/{id}/gap", get(crate::reports::gap))
        .route(
            "/capabilities/roles/{id}/heatmap",
            get(crate::reports::heatmap),
        )
        .route(
            "/capabilities/assignments",
            get(get_assignments).put(put_assignments),
        )
        .route("/capabilities/rules", get(get_rules).put(put_rules))
        .route("/capabilities/config", get(get_config).put(put_config))
        .route("/capabilities/sync", post(sync))
        .route(
            "/capabilities/people/assessments",
            get(crate::reports::assessments),
        )
        .route(
            "/capabilities/people/report",
            get(crate::reports::person_report),
        )
        .route(
            "/capabilities/managers/heatmap",
            get(crate::reports::manager_heatmap),
        )
        .route(
            "/capabilities/people/progression",
            get(crate::reports::progression),
        )
        .route("/capabilities/stale", get(crate::reports::stale))
        .route("/capabilities/profile", get(crate::profile::serve))
        .route("/capabilities/records", post(crate::recording::post_record))
        .merge(crate::pages::router())
        .with_state(service)
}

async fn caller(service: &CapabilityService, headers: &HeaderMap) -> Result<Caller, ServiceError> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    service
        .authority()
        .authorize(authorization)
        .await
        .map_err(|failure| match failure {
            AuthFailure::Unauthenticated => ServiceError::new(
                ServiceErrorKind::Unauthenticated,
                "credential",
                "a valid credential is required (HTTP Basic)",
            ),
            AuthFailure::Unavailable(m) => {
                ServiceError::new(ServiceErrorKind::Unavailable, "unavailable", m)
            }
        })
}

pub(crate) async fn reader(
    service: &CapabilityService,
    headers: &HeaderMap,
) -> Result<Caller, ServiceError> {
    let caller = caller(service, headers).await?;
    if !caller.read {
        return Err(ServiceError::forbidden(
            "reading capabilities needs admin or read access to every statement",
        ));
    }
    Ok(caller)
}

pub(crate) async fn manager(
    service: &CapabilityService,
    headers: &HeaderMap,
) -> Result<Caller, ServiceError> {
    let caller = caller(service, headers).await?;
    if !caller.manage {
        return Err(ServiceError::forbidden(
            "changing capabilities needs admin or the define scope",
        ));
    }
    Ok(caller)
}

fn json_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ServiceError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ServiceError::invalid(
            &format!("line {} column {}", e.line(), e.column()),
            "json",
            e.to_string(),
        )
    })
}

/// The answer to a write: 201 for a new record, 200 for a replaced one.
fn written(created: bool, body: impl Serialize) -> Response {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(body)).into_response()
}

async fn list_frameworks(
    State(service): State<CapabilityService>,
    headers: HeaderMap,
) -> Result<Response, ServiceError> {
    let caller = reader(&service, &headers).await?;
    let frameworks: Vec<FrameworkSpec> = service.store(caller.tenant).list(KIND_FRAMEWORK).await?;
    Ok(Json(json!({ "frameworks": frameworks })).into_response())
}

async fn get_framework(
    State(service): State<CapabilityService>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ServiceError> {
    let caller = reader(&service, &headers).await?;
    let found: Option<FrameworkSpec> = service
        .store(caller.tenant)
        .get(KIND_FRAMEWORK, &id)
        .await?;
    found
        .map(|f| Json(f).into_response())
        .ok_or_else(|| ServiceError::not_found("framework"))
}

async fn put_framework(
    State(service): State<CapabilityService>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ServiceError> {
    let caller = manager(&service, &headers).await?;
    let spec: FrameworkSpec = json_body(&body)?;
    if spec.id.as_str() != id {
        return Err(ServiceError::invalid(
            "id",
            "path-id",
            format!("the body's id {} is not the id in the path, {id}", spec.id),
        ));
    }
    let (created, new_version) =
        crate::import::routes::save_framework(&service, caller.tenant, &spec).await?;
    Ok(written(created, json!({"id": id, "version": new_version})))
}

async fn list_roles(
    State(service): State<CapabilityService>,
    headers: HeaderMap,
) -> Result<Response, ServiceError> {
    let caller = reader(&service, &headers).await?;
    let roles: Vec<RoleSpec> = service.store(caller.tenant).list(KIND_ROLE).await?;
    Ok(Json(json!({ "roles": roles })).into_response())
}

async fn get_role(
    State(service): State<CapabilityService>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ServiceError> {
    let caller = reader(&service, &headers).await?;
    let found: Option<RoleSpec> = service.store(caller.tenant).get(KIND_ROLE, &id).await?;
    found
        .map(|r| Json(r).into_response())
        .ok_or_else(|| ServiceError::not_found("role"))
}

async fn put_role(
    State(service): State<CapabilityService>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ServiceError> {
    let caller = manager(&service, &headers).await?;
    let spec: RoleSpec = json_body(&body)?;
    if spec.id.as_str() != id {
        return Err(ServiceError::invalid(
            "id",
            "path-id",
            format!("the body's id {} is not the id in the path, {id}", spec.id),
        ));
    }
    let store = service.store(caller.tenant);
    let version = store.version(KIND_ROLE, &id).await?;
    let mut specs = store.load().await?;
    let current = specs
        .build()
        .map_err(|(_, e)| ServiceError::internal(format!("the stored model is invalid: {e}")))?;
    check_role(&spec, &current.catalog)?;
    specs.roles.retain(|r| r.id != spec.id);
    specs.roles.push(spec.clone());
    specs.roles.sort_by(|a, b| a.id.cmp(&b.id));
    specs.check_change(Part::Roles, None)?;
    let new_version = store.put(KIND_ROLE, &id, &spec, version).await?;
    Ok(written(
        version.is_none(),
        json!({"id": id, "version": new_version}),
    ))
}

/// GET of one of the single-record parts (assignments, rules, config).
async fn get_part<T: DeserializeOwned + Serialize>(
    service: &CapabilityService,
    headers: &HeaderMap,
    id: &str,
) -> Result<Response, ServiceError> {
    let caller = reader(service, headers).await?;
    let found: Option<T> = service.store(caller.tenant).get(KIND_MODEL, id).await?;
    found
        .map(|value| Json(value).into_response())
        .ok_or_else(|| ServiceError::not_found(id))
}

async fn get_assignments(
    State(service): State<CapabilityService>,
    headers: HeaderMap,
) -> Result<Response, ServiceError> {
    get_part::<Vec<Assignment>>(&service, &headers, assignments_id()).await
}

async fn get_rules(
    State(service): State<CapabilityService>,
    headers: HeaderMap,
) -> Result<Response, ServiceError> {
    get_part::<Vec<RuleSpec>>(&service, &headers, rules_id()).await
}

async fn get_config(
    State(service): State<CapabilityService>,
    headers: HeaderMap,
) -> Result<Response, ServiceError> {
    get_part::<AggregationSpec>(&service, &headers, config_id()).await
}

async fn put_assignments(
    State(service): State<CapabilityService>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ServiceError> {
    let caller = manager(&service, &headers).await?;
    let assignments: Vec<Assignment> = json_body(&body)?;
    let store = service.store(caller.tenant);
    let version = store.version(KIND_MODEL, assignments_id()).await?;
    let mut specs = store.load().await?;
    specs.assignments = assignments.clone();
    specs.check_change(Part::Assignments, None)?;
    let new_version = store
        .put(KIND_MODEL, assignments_id(), &assignments, version)
        .await?;
    Ok(written(
        version.is_none(),
        json!({"assignments": assignments.len(), "version": new_version}),
    ))
}

/// Puts the rule set. The ledger is derived again from the statements on the next catch-up
/// (the follower sees that the rules it was derived from changed).
async fn put_rules(
    State(service): State<CapabilityService>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ServiceError> {
    let caller = manager(&service, &headers).await?;
    let rules: Vec<RuleSpec> = json_body(&body)?;
    let store = service.store(caller.tenant);
    let version = store.version(KIND_MODEL, rules_id()).await?;
    let mut specs = store.load().await?;
    specs.rules = Some(rules.clone());
    specs.check_change(Part::Rules, None)?;
    let new_version = store.put(KIND_MODEL, rules_id(), &rules, version).await?;
    Ok(written(
        version.is_none(),
        json!({"rules": rules.len(), "version": new_version}),
    ))
}

async fn put_config(
    State(service): State<CapabilityService>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ServiceError> {
    let caller = manager(&service, &headers).await?;
    let config: AggregationSpec = json_body(&body)?;
    let store = service.store(caller.tenant);
    let version = store.version(KIND_MODEL, config_id()).await?;
    let mut specs = store.load().await?;
    specs.config = Some(config.clone());
    specs.check_change(Part::Config, None)?;
    let new_version = store.put(KIND_MODEL, config_id(), &config, version).await?;
    Ok(written(version.is_none(), json!({"version": new_version})))
}

async fn sync(
    State(service): State<CapabilityService>,
    headers: HeaderMap,
) -> Result<Response, ServiceError> {
    let caller = manager(&service, &headers).await?;
    Ok(Json(service.sync(caller.tenant).await?).into_response())
}

/// The query string's parameters; a repeated parameter is refused.
pub(crate) fn params(query: Option<String>) -> Result<HashMap<String, String>, ServiceError> {
    let mut out = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if out.insert(name.to_string(), value.to_string()).is_some() {
            return Err(ServiceError::invalid(
                &name,
                "single-parameter",
                format!("{name} is given more than once"),
            ));
        }
    }
    Ok(out)
}

/// `agent`: an xAPI Agent object (JSON) with an inverse functional identifier (xAPI Data
/// §2.4.2.1), or a person key such as `mbox:mailto:ana@example.org`.
pub(crate) fn person(params: &HashMap<String, String>) -> Result<PersonKey, ServiceError> {
    person_named(params, "agent")
}

/// A required person parameter, written as `agent` is (see [`person`]).
pub(crate) fn person_named(
    params: &HashMap<String, String>,
    name: &str,
) -> Result<PersonKey, ServiceError> {
    let Some(text) = params.get(name) else {
        return Err(ServiceError::invalid(
            name,
            "required",
            format!("{name} is required"),
        ));
    };
    let value = if text.trim_start().starts_with('{') {
        serde_json::from_str::<serde_json::Value>(text)
            .map_err(|e| ServiceError::invalid(name, "json", e.to_string()))?
    } else {
        serde_json::Value::String(text.clone())
    };
    serde_json::from_value(value)
        .map_err(|e| ServiceError::invalid(name, "agent-ifi", e.to_string()))
}

/// `as_of`: an RFC 3339 timestamp; now when absent.
pub(crate) fn as_of(
    service: &CapabilityService,
    params: &HashMap<String, String>,
) -> Result<DateTime<Utc>, ServiceError> {
    Ok(time_param(params, "as_of")?.unwrap_or_else(|| service.now()))
}

/// An optional RFC 3339 timestamp parameter.
pub(crate) fn time_param(
    params: &HashMap<String, String>,
    name: &str,
) -> Result<Option<DateTime<Utc>>, ServiceError> {
    params
        .get(name)
        .map(|text| {
            DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| {
                    ServiceError::invalid(
                        name,
                        "rfc3339",
                        format!("{name} is not an RFC 3339 timestamp: {e}"),
                    )
                })
        })
        .transpose()
}

pub(crate) fn role_id(id: String) -> Result<RoleId, ServiceError> {
    RoleId::parse(id).map_err(|_| ServiceError::not_found("role"))
}
