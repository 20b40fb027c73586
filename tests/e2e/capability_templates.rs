//! Statements that claim Proficio's xAPI Profile, sent to the real server's Statement
//! Resource: those that follow a template are stored, a request with one that does not is
//! refused whole with the place, the rule and the template named (xAPI Profiles Part Three
//! §2.1), and the same shape without the profile's category is any client's statement.

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Server, Xapi};

const PROFILE_VERSION: &str = "https://example.org/xapi/capability/v1";
const TYPE_PROFILE: &str = "http://adlnet.gov/expapi/activities/profile";
const EXT_SESSION_KIND: &str = "https://example.org/xapi/capability/ext/session-kind";
const EXT_LEVEL: &str = "https://example.org/xapi/capability/ext/level";
const EXT_OBSERVER: &str = "http://id.tincanapi.com/extension/observer";
const TYPE_COMPETENCY: &str = "https://w3id.org/xapi/tla/activity-types/competency";

fn coach() -> Value {
    json!({"objectType": "Agent", "mbox": "mailto:cat@coaching.example"})
}

fn profile_category() -> Value {
    json!([{"objectType": "Activity", "id": PROFILE_VERSION, "definition": {"type": TYPE_PROFILE}}])
}

/// A coaching session as the profile's `coaching-session` template describes it.
fn coaching(id: Uuid) -> Value {
    json!({
        "id": id.to_string(),
        "actor": {"objectType": "Agent", "mbox": "mailto:ana@acme.example"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en": "attended"}},
        "object": {
            "objectType": "Activity",
            "id": format!("https://acme.example/coaching/{id}"),
            "definition": {"type": "http://adlnet.gov/expapi/activities/meeting"}
        },
        "context": {
            "instructor": coach(),
            "contextActivities": {"category": profile_category()},
            "extensions": {EXT_SESSION_KIND: "coaching"}
        },
        "result": {"completion": true, "duration": "PT1H"},
        "timestamp": "2026-05-12T09:00:00.000Z"
    })
}

/// A workplace observation as the `observation` template describes it, at `level`.
fn observation(id: Uuid, level: Value) -> Value {
    json!({
        "id": id.to_string(),
        "actor": {"objectType": "Agent", "mbox": "mailto:ana@acme.example"},
        "verb": {"id": "https://w3id.org/xapi/dod-isd/verbs/performed", "display": {"en": "performed"}},
        "object": {
            "objectType": "Activity",
            "id": format!("https://acme.example/observations/{id}"),
            "definition": {"type": "http://adlnet.gov/expapi/activities/performance"}
        },
        "context": {
            "instructor": coach(),
            "contextActivities": {
                "category": profile_category(),
                "grouping": [{"objectType": "Activity", "id": "https://acme.example/capabilities/FDBK",
                              "definition": {"type": TYPE_COMPETENCY}}]
            },
            "extensions": {EXT_OBSERVER: coach(), EXT_LEVEL: level}
        },
        "result": {"success": true, "response": "At Expectation"},
        "timestamp": "2026-05-12T10:00:00.000Z"
    })
}

/// The same statement without the profile version in its category.
fn without_profile(mut statement: Value) -> Value {
    statement["context"]
        .as_object_mut()
        .expect("context")
        .remove("contextActivities");
    statement
}

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn post(xapi: &Xapi, body: &Value) -> (u16, Value) {
    send(xapi.request(Method::POST, "/statements").json(body)).await
}

async fn put(xapi: &Xapi, statement: &Value) -> (u16, Value) {
    let id = statement["id"].as_str().expect("id");
    send(
        xapi.request(Method::PUT, &format!("/statements?statementId={id}"))
            .json(statement),
    )
    .await
}

async fn stored(xapi: &Xapi, id: Uuid) -> u16 {
    xapi.get(&format!("?statementId={id}"))
        .await
        .status()
        .as_u16()
}

/// The error body names `path` and `rule`, and its message the template when one is given.
fn assert_refused(status: u16, error: &Value, path: &str, rule: &str, template: Option<&str>) {
    assert_eq!(status, 400, "{error}");
    assert_eq!(
        (error["path"].as_str(), error["rule"].as_str()),
        (Some(path), Some(rule)),
        "{error}"
    );
    if let Some(template) = template {
        let message = error["message"].as_str().unwrap_or_default();
        assert!(message.contains(template), "{error}");
    }
}

#[tokio::test]
async fn statements_that_claim_the_profile_follow_its_templates() {
    let server = Server::start();
    let xapi = server.admin_xapi();
    let coaching_template = "https://example.org/xapi/capability/templates/coaching-session";

    // The profile publishes the schema of each of its extensions.
    let profile: Value = reqwest::get(server.url("/capabilities/profile"))
        .await
        .expect("profile")
        .json()
        .await
        .expect("JSON");
    let level = profile["concepts"]
        .as_array()
        .expect("concepts")
        .iter()
        .find(|c| c["id"] == json!(EXT_LEVEL))
        .expect("the level extension");
    let schema: Value =
        serde_json::from_str(level["inlineSchema"].as_str().expect("a string")).expect("JSON");
    assert!(schema["oneOf"].is_array(), "{schema}");

    // One that follows its template is stored.
    let good = Uuid::new_v4();
    let (status, ids) = post(&xapi, &coaching(good)).await;
    assert_eq!((status, ids), (200, json!([good.to_string()])));
    assert_eq!(stored(&xapi, good).await, 200);
    let observed = Uuid::new_v4();
    let (status, ids) = post(&xapi, &observation(observed, json!(3))).await;
    assert_eq!((status, ids), (200, json!([observed.to_string()])));

    // A batch with one that breaks a rule is refused whole, naming the statement.
    let first = Uuid::new_v4();
    let second = Uuid::new_v4();
    let mut broken = coaching(second);
    // "in-person" would make it an attendance; "observation" fits neither template.
    broken["context"]["extensions"][EXT_SESSION_KIND] = json!("observation");
    let (status, error) = post(&xapi, &json!([coaching(first), broken])).await;
    assert_refused(
        status,
        &error,
        &format!("$[1].context.extensions['{EXT_SESSION_KIND}']"),
        "profile-template-rule",
        Some(coaching_template),
    );
    assert_eq!(stored(&xapi, first).await, 404);
    assert_eq!(stored(&xapi, second).await, 404);

    // An extension value outside its inline schema.
    let high = Uuid::new_v4();
    let (status, error) = post(&xapi, &json!([observation(high, json!("high"))])).await;
    assert_refused(
        status,
        &error,
        &format!("$[0].context.extensions['{EXT_LEVEL}']"),
        "profile-extension-schema",
        None,
    );
    assert_eq!(stored(&xapi, high).await, 404);

    // A statement of the profile that matches no template.
    let unknown = Uuid::new_v4();
    let mut completed = coaching(unknown);
    completed["verb"]["id"] = json!("http://adlnet.gov/expapi/verbs/completed");
    let (status, error) = post(&xapi, &completed).await;
    assert_refused(
        status,
        &error,
        "$.context.contextActivities.category",
        "profile-template",
        None,
    );

    // PUT goes through the same check.
    let put_id = Uuid::new_v4();
    let mut no_coach = coaching(put_id);
    no_coach["context"]
        .as_object_mut()
        .expect("context")
        .remove("instructor");
    let (status, error) = put(&xapi, &no_coach).await;
    assert_refused(
        status,
        &error,
        "$.context.instructor",
        "profile-template-rule",
        Some(coaching_template),
    );
    assert_eq!(stored(&xapi, put_id).await, 404);
    let (status, _) = put(&xapi, &coaching(put_id)).await;
    assert_eq!(status, 204);
    assert_eq!(stored(&xapi, put_id).await, 200);

    // The same shapes without the profile's category are any client's statements.
    let plain = Uuid::new_v4();
    let mut plain_broken = coaching(plain);
    plain_broken["context"]["extensions"][EXT_SESSION_KIND] = json!("pep-talk");
    let plain_high = Uuid::new_v4();
    let (status, ids) = post(
        &xapi,
        &json!([
            without_profile(plain_broken),
            without_profile(observation(plain_high, json!("high")))
        ]),
    )
    .await;
    assert_eq!(
        (status, ids),
        (200, json!([plain.to_string(), plain_high.to_string()]))
    );
    assert_eq!(stored(&xapi, plain_high).await, 200);
    let plain_put = Uuid::new_v4();
    let mut plain_no_coach = without_profile(coaching(plain_put));
    plain_no_coach["context"]
        .as_object_mut()
        .expect("context")
        .remove("instructor");
    let (status, _) = put(&xapi, &plain_no_coach).await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn a_multipart_request_is_checked_before_its_attachments_are_kept() {
    use sha2::Digest as _;
    let server = Server::start();
    let xapi = server.admin_xapi();
    let data = b"notes from the coaching session";
    let hash = hex::encode(sha2::Sha256::digest(data));
    let with_attachment = |id: Uuid, kind: &str| {
        let mut statement = coaching(id);
        statement["context"]["extensions"][EXT_SESSION_KIND] = json!(kind);
        statement["attachments"] = json!([{
            "usageType": "http://id.tincanapi.com/attachment/supporting_media",
            "display": {"en": "Session notes"},
            "contentType": "text/plain",
            "length": data.len(),
            "sha2": hash
        }]);
        let mut body = Vec::new();
        body.extend_from_slice(b"--xyz\r\nContent-Type: application/json\r\n\r\n");
        body.extend_from_slice(statement.to_string().as_bytes());
        body.extend_from_slice(
            format!(
                "\r\n--xyz\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {hash}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n--xyz--\r\n");
        xapi.request(Method::POST, "/statements")
            .header("Content-Type", "multipart/mixed; boundary=xyz")
            .body(body)
    };
    let refused = Uuid::new_v4();
    let (status, error) = send(with_attachment(refused, "observation")).await;
    assert_refused(
        status,
        &error,
        &format!("$.context.extensions['{EXT_SESSION_KIND}']"),
        "profile-template-rule",
        None,
    );
    assert_eq!(stored(&xapi, refused).await, 404);
    let accepted = Uuid::new_v4();
    let (status, ids) = send(with_attachment(accepted, "coaching")).await;
    assert_eq!((status, ids), (200, json!([accepted.to_string()])));
}
