//! The Activities and Agents resources (xAPI Communication §2.5 and §2.4): what the LRS has
//! learned of an activity or a person from the statements it stored.

use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::xapi_api::XapiRequest;
use super::{AppState, method_not_allowed, query_pairs};
use crate::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/activities", get(activity).fallback(method_not_allowed))
        .route("/agents", get(person).fallback(method_not_allowed))
}

/// The value of the one parameter a resource takes; any other parameter is refused.
fn only_parameter(uri: &Uri, name: &'static str) -> Result<String, ApiError> {
    let mut value = None;
    for (key, v) in query_pairs(uri) {
        if key != name {
            return Err(ApiError::invalid(
                key,
                "unknown-parameter",
                format!("is not a parameter of this resource; it takes only {name}"),
            ));
        }
        if value.replace(v).is_some() {
            return Err(ApiError::invalid(
                name,
                "duplicate-parameter",
                "is given more than once",
            ));
        }
    }
    value.ok_or_else(|| ApiError::invalid(name, "required", "the parameter is required"))
}

fn require_read(request: &XapiRequest) -> Result<(), ApiError> {
    if request.principal.can_read_definitions() {
        Ok(())
    } else {
        Err(ApiError::Forbidden("all/read"))
    }
}

/// The canonical Activity object; an activity the LRS knows nothing of is still returned with
/// its id (Communication §2.5).
async fn activity(
    State(state): State<AppState>,
    request: XapiRequest,
    uri: Uri,
) -> Result<Response, ApiError> {
    require_read(&request)?;
    let id = only_parameter(&uri, "activityId")?;
    if !xapi::is_iri(&id) {
        return Err(ApiError::invalid(
            "activityId",
            "iri",
            "must be an absolute IRI",
        ));
    }
    let definition = state
        .stores
        .statements
        .activity_definition(request.principal.tenant, &id)
        .await?;
    let mut activity = Map::new();
    activity.insert("objectType".to_owned(), json!("Activity"));
    activity.insert("id".to_owned(), json!(id));
    if let Some(definition) = definition {
        activity.insert("definition".to_owned(), Value::Object(definition));
    }
    Ok(axum::Json(Value::Object(activity)).into_response())
}

/// The Person object for an agent: its identifier and every name statements gave it
/// (Communication §2.4). An unknown agent still gets a Person with what the request said.
async fn person(
    State(state): State<AppState>,
    request: XapiRequest,
    uri: Uri,
) -> Result<Response, ApiError> {
    require_read(&request)?;
    let text = only_parameter(&uri, "agent")?;
    let key = xapi::parse_agent_param(&text, request.version).map_err(|e| {
        ApiError::invalid(
            format!("agent{}", e.path.trim_start_matches('$')),
            e.rule,
            e.message,
        )
    })?;
    let agent: Map<String, Value> = serde_json::from_str(&text)
        .map_err(|_| ApiError::invalid("agent", "invalid-agent", "must be a JSON Agent"))?;
    if agent.get("objectType").and_then(Value::as_str) == Some("Group") {
        return Err(ApiError::invalid(
            "agent.objectType",
            "agent-not-group",
            "the Agents Resource takes an Agent, not a Group",
        ));
    }
    let mut names = state
        .stores
        .statements
        .agent_names(request.principal.tenant, &key)
        .await?;
    if let Some(name) = agent.get("name").and_then(Value::as_str)
        && !names.iter().any(|n| n == name)
    {
        names.push(name.to_owned());
    }
    let mut person = Map::new();
    person.insert("objectType".to_owned(), json!("Person"));
    if !names.is_empty() {
        person.insert("name".to_owned(), json!(names));
    }
    for ifi in ["mbox", "mbox_sha1sum", "openid", "account"] {
        if let Some(value) = agent.get(ifi) {
            person.insert(ifi.to_owned(), json!([value]));
        }
    }
    Ok(axum::Json(Value::Object(person)).into_response())
}
