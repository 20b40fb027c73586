//! The document resources as a client sees them: State, Activity Profile and Agent Profile
//! (xAPI Communication §2.2–2.7, §3.1), with the tenants and scopes the conformance suite
//! cannot see from outside one tenant.

use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::helpers::{Server, Xapi, encode};

const ACTIVITY: &str = "http://example.com/activities/doc";
const REGISTRATION: &str = "6fa459ea-ee8a-3ca4-894e-db77e160355e";

fn agent(name: &str) -> String {
    encode(
        &json!({"objectType": "Agent", "mbox": format!("mailto:{name}@example.com")}).to_string(),
    )
}

fn state(id: &str) -> String {
    format!(
        "/activities/state?activityId={}&agent={}&stateId={}",
        encode(ACTIVITY),
        agent("learner"),
        encode(id)
    )
}

fn state_ids(extra: &str) -> String {
    format!(
        "/activities/state?activityId={}&agent={}{extra}",
        encode(ACTIVITY),
        agent("learner")
    )
}

fn activity_profile(id: &str) -> String {
    format!(
        "/activities/profile?activityId={}&profileId={}",
        encode(ACTIVITY),
        encode(id)
    )
}

fn agent_profile(id: &str) -> String {
    format!(
        "/agents/profile?agent={}&profileId={}",
        agent("learner"),
        encode(id)
    )
}

async fn send(
    xapi: &Xapi,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, Vec<u8>)>,
) -> Response {
    let mut request = xapi.request(method, path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some((content_type, bytes)) = body {
        request = request.header("Content-Type", content_type).body(bytes);
    }
    request.send().await.expect("request")
}

async fn put_json(xapi: &Xapi, path: &str, headers: &[(&str, &str)], body: &Value) -> Response {
    send(
        xapi,
        Method::PUT,
        path,
        headers,
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
}

async fn post_json(xapi: &Xapi, path: &str, body: &Value) -> Response {
    send(
        xapi,
        Method::POST,
        path,
        &[],
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
}

async fn get(xapi: &Xapi, path: &str) -> Response {
    send(xapi, Method::GET, path, &[], None).await
}

async fn get_json(xapi: &Xapi, path: &str) -> Value {
    let response = get(xapi, path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.expect("json")
}

fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("{name} missing"))
        .to_str()
        .expect("ascii")
        .to_owned()
}

fn with_version(xapi: &Xapi, version: &'static str) -> Xapi {
    Xapi {
        version,
        ..xapi.clone()
    }
}

#[tokio::test]
async fn documents_round_trip_with_etags_and_conditions() {
    let server = Server::start();
    let (key, secret) = server.credential("acme", &["all"]).await;
    let xapi = server.xapi(&key, &secret);
    let binary = vec![0u8, 159, 146, 150, 255];
    for path in [state("s"), activity_profile("p"), agent_profile("p")] {
        let created = send(
            &xapi,
            Method::PUT,
            &path,
            &[("If-None-Match", "*")],
            Some(("application/octet-stream", binary.clone())),
        )
        .await;
        assert_eq!(created.status(), 204, "{path}");
        let got = get(&xapi, &path).await;
        assert_eq!(got.status(), 200);
        assert_eq!(header(&got, "Content-Type"), "application/octet-stream");
        assert_eq!(header(&got, "X-Experience-API-Version"), "2.0.0");
        let tag = header(&got, "ETag");
        assert_eq!(
            tag, "\"9e2b48f3db1bd74d3f475361064ed1092eac5904\"",
            "the SHA-1 of the body, quoted (Communication §3.1)"
        );
        assert_eq!(
            header(&created, "ETag"),
            tag,
            "PUT answers with the new ETag"
        );
        assert!(
            httpdate_ok(&header(&got, "Last-Modified")),
            "{}",
            header(&got, "Last-Modified")
        );
        assert_eq!(got.bytes().await.unwrap().to_vec(), binary, "binary kept");

        let head = send(&xapi, Method::HEAD, &path, &[], None).await;
        assert_eq!(head.status(), 200);
        assert_eq!(header(&head, "ETag"), tag);
        assert!(head.bytes().await.unwrap().is_empty(), "HEAD has no body");

        let conflict = put_json(&xapi, &path, &[], &json!({"x": 1})).await;
        assert_eq!(
            conflict.status(),
            409,
            "{path}: PUT without headers over a document"
        );
        let message: Value = conflict.json().await.unwrap();
        assert!(
            message["message"]
                .as_str()
                .is_some_and(|m| m.contains("If-Match")),
            "{message}"
        );
        for stale in [
            ("If-Match", "\"1234\""),
            ("If-None-Match", "*"),
            ("If-None-Match", tag.as_str()),
        ] {
            let refused = put_json(&xapi, &path, &[stale], &json!({"x": 1})).await;
            assert_eq!(refused.status(), 412, "{path} {stale:?}");
        }
        let refused = send(
            &xapi,
            Method::DELETE,
            &path,
            &[("If-Match", "\"1234\"")],
            None,
        )
        .await;
        assert_eq!(refused.status(), 412);
        assert_eq!(
            get(&xapi, &path).await.bytes().await.unwrap().to_vec(),
            binary,
            "refused requests change nothing"
        );

        let replaced = put_json(&xapi, &path, &[("If-Match", &tag)], &json!({"x": 1})).await;
        assert_eq!(replaced.status(), 204);
        let got = get(&xapi, &path).await;
        assert_eq!(header(&got, "Content-Type"), "application/json");
        assert_eq!(got.json::<Value>().await.unwrap(), json!({"x": 1}));

        let deleted = send(&xapi, Method::DELETE, &path, &[], None).await;
        assert_eq!(deleted.status(), 204);
        assert_eq!(get(&xapi, &path).await.status(), 404);
        let again = send(&xapi, Method::DELETE, &path, &[], None).await;
        assert_eq!(again.status(), 204, "deleting nothing is not an error");
    }
}

/// An IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 §5.6.7).
fn httpdate_ok(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 29 && bytes[3] == b',' && value.ends_with(" GMT")
}

#[tokio::test]
async fn puts_without_concurrency_headers_follow_the_version() {
    let server = Server::start();
    let (key, secret) = server.credential("acme", &["all"]).await;
    let v2 = server.xapi(&key, &secret);
    let v1 = with_version(&v2, "1.0.3");

    // 2.0.0: a PUT without headers creates, and refuses to overwrite (CTS 4.1.4).
    for path in [state("v2"), activity_profile("v2"), agent_profile("v2")] {
        assert_eq!(
            put_json(&v2, &path, &[], &json!({"n": 1})).await.status(),
            204
        );
        assert_eq!(
            put_json(&v2, &path, &[], &json!({"n": 2})).await.status(),
            409
        );
        assert_eq!(get_json(&v2, &path).await, json!({"n": 1}));
    }

    // 1.0.3: State permits PUT without concurrency headers (Communication §3.1).
    let path = state("v1");
    assert_eq!(
        put_json(&v1, &path, &[], &json!({"n": 1})).await.status(),
        204
    );
    assert_eq!(
        put_json(&v1, &path, &[], &json!({"n": 2})).await.status(),
        204
    );
    assert_eq!(get_json(&v1, &path).await, json!({"n": 2}));

    // 1.0.3: a profile PUT must carry a header; 409 over a document, 400 otherwise.
    for path in [activity_profile("v1"), agent_profile("v1")] {
        let refused = put_json(&v1, &path, &[], &json!({"n": 1})).await;
        assert_eq!(refused.status(), 400);
        let error: Value = refused.json().await.unwrap();
        assert_eq!(error["rule"], json!("concurrency-header"), "{error}");
        assert_eq!(get(&v1, &path).await.status(), 404, "nothing stored");
        assert_eq!(
            put_json(&v1, &path, &[("If-None-Match", "*")], &json!({"n": 1}))
                .await
                .status(),
            204
        );
        assert_eq!(
            put_json(&v1, &path, &[], &json!({"n": 2})).await.status(),
            409
        );
        assert_eq!(get_json(&v1, &path).await, json!({"n": 1}));
    }
}

#[tokio::test]
async fn post_merges_json_objects_and_refuses_the_rest() {
    let server = Server::start();
    let xapi = server.admin_xapi();
    for path in [state("m"), activity_profile("m"), agent_profile("m")] {
        let doc = json!({"x": "foo", "y": "bar", "deep": {"a": 1, "b": 2}});
        assert_eq!(post_json(&xapi, &path, &doc).await.status(), 204, "{path}");
        let patch = json!({"x": "bash", "z": "faz", "deep": {"a": 3}});
        assert_eq!(post_json(&xapi, &path, &patch).await.status(), 204);
        let merged = json!({"x": "bash", "y": "bar", "z": "faz", "deep": {"a": 3}});
        assert_eq!(
            get_json(&xapi, &path).await,
            merged,
            "top level only (§2.2)"
        );

        let text = send(
            &xapi,
            Method::POST,
            &path,
            &[],
            Some(("text/plain", b"abc".to_vec())),
        )
        .await;
        assert_eq!(text.status(), 400);
        let error: Value = text.json().await.unwrap();
        assert_eq!(
            (&error["path"], &error["rule"]),
            (&json!("body"), &json!("json-merge"))
        );
        let broken = send(
            &xapi,
            Method::POST,
            &path,
            &[],
            Some(("application/json", b"{\"a\":".to_vec())),
        )
        .await;
        assert_eq!(broken.status(), 400);
        assert_eq!(
            get_json(&xapi, &path).await,
            merged,
            "refused merges change nothing"
        );

        let stale = send(
            &xapi,
            Method::POST,
            &path,
            &[("If-Match", "\"1234\"")],
            Some(("application/json", b"{\"q\":1}".to_vec())),
        )
        .await;
        assert_eq!(stale.status(), 412);
    }
    let array = post_json(&xapi, &state("array"), &json!([1, 2])).await;
    assert_eq!(
        array.status(),
        400,
        "a posted JSON document must be an object"
    );
    assert_eq!(get(&xapi, &state("array")).await.status(), 404);

    // A non-JSON document is stored as it is by a POST to an empty place, and a JSON
    // object cannot be merged into it.
    let binary = send(
        &xapi,
        Method::POST,
        &state("binary"),
        &[],
        Some(("application/octet-stream", b"\x00\x01".to_vec())),
    )
    .await;
    assert_eq!(binary.status(), 204);
    assert_eq!(
        post_json(&xapi, &state("binary"), &json!({"a": 1}))
            .await
            .status(),
        400
    );
}

#[tokio::test]
async fn ids_since_registrations_and_delete_all() {
    let server = Server::start();
    let xapi = server.admin_xapi();
    let registered = |id: &str| format!("{}&registration={REGISTRATION}", state(id));
    assert_eq!(
        post_json(&xapi, &state("a"), &json!({})).await.status(),
        204
    );
    assert_eq!(
        post_json(&xapi, &registered("b"), &json!({}))
            .await
            .status(),
        204
    );
    assert_eq!(
        post_json(&xapi, &registered("a"), &json!({"r": 1}))
            .await
            .status(),
        204
    );
    assert_eq!(
        get_json(&xapi, &state("a")).await,
        json!({}),
        "a registration makes another document"
    );
    assert_eq!(get(&xapi, &state("b")).await.status(), 404);

    let all = get(&xapi, &state_ids("")).await;
    assert_eq!(all.status(), 200);
    assert!(httpdate_ok(&header(&all, "Last-Modified")));
    assert_eq!(
        all.json::<Value>().await.unwrap(),
        json!(["a", "b"]),
        "without a registration: every registration (§2.3)"
    );
    let registration = format!("&registration={REGISTRATION}");
    assert_eq!(
        get_json(&xapi, &state_ids(&registration)).await,
        json!(["a", "b"])
    );

    let future = encode("2999-01-01T00:00:00Z");
    assert_eq!(
        get_json(&xapi, &state_ids(&format!("&since={future}"))).await,
        json!([])
    );
    let past = encode("2000-01-01T00:00:00+01:00");
    assert_eq!(
        get_json(&xapi, &state_ids(&format!("&since={past}"))).await,
        json!(["a", "b"])
    );
    // A time from the server's clock: the `stored` of a statement.
    let marker = crate::helpers::statement("clock@example.com", "marked", "clock");
    let ids: Vec<String> = xapi.post(&marker).await.json().await.unwrap();
    let stored = xapi.get_json(&format!("?statementId={}", ids[0])).await["stored"].clone();
    let before_c = encode(stored.as_str().unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(
        post_json(&xapi, &state("c"), &json!({})).await.status(),
        204
    );
    assert_eq!(
        get_json(&xapi, &state_ids(&format!("&since={before_c}"))).await,
        json!(["c"]),
        "since is exclusive and exact"
    );

    // DELETE with a registration deletes that registration's state only.
    let deleted = send(&xapi, Method::DELETE, &state_ids(&registration), &[], None).await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(get_json(&xapi, &state_ids("")).await, json!(["a", "c"]));
    // Without one, every state of the activity and agent, and nothing else.
    let other_agent = format!(
        "/activities/state?activityId={}&agent={}&stateId=o",
        encode(ACTIVITY),
        agent("other")
    );
    assert_eq!(
        post_json(&xapi, &other_agent, &json!({})).await.status(),
        204
    );
    assert_eq!(
        post_json(&xapi, &registered("d"), &json!({}))
            .await
            .status(),
        204
    );
    let deleted = send(&xapi, Method::DELETE, &state_ids(""), &[], None).await;
    assert_eq!(deleted.status(), 204);
    let empty = get(&xapi, &state_ids("")).await;
    assert!(empty.headers().get("Last-Modified").is_none());
    assert_eq!(empty.json::<Value>().await.unwrap(), json!([]));
    assert_eq!(get(&xapi, &other_agent).await.status(), 200);

    for (one, list) in [
        (
            activity_profile("p1"),
            format!("/activities/profile?activityId={}", encode(ACTIVITY)),
        ),
        (
            agent_profile("p1"),
            format!("/agents/profile?agent={}", agent("learner")),
        ),
    ] {
        assert_eq!(post_json(&xapi, &one, &json!({})).await.status(), 204);
        assert_eq!(get_json(&xapi, &list).await, json!(["p1"]));
        let profile_delete_all = send(&xapi, Method::DELETE, &list, &[], None).await;
        assert_eq!(
            profile_delete_all.status(),
            400,
            "profiles are deleted one by one"
        );
    }
}

#[tokio::test]
async fn bad_requests_name_the_parameter_and_the_rule() {
    let server = Server::start();
    let xapi = server.admin_xapi();
    let activity = encode(ACTIVITY);
    let learner = agent("learner");
    let cases: Vec<(Method, String, &str, &str)> = vec![
        (
            Method::GET,
            format!("/activities/state?agent={learner}&stateId=s"),
            "activityId",
            "required",
        ),
        (
            Method::PUT,
            format!("/activities/state?activityId={activity}&stateId=s"),
            "agent",
            "required",
        ),
        (
            Method::PUT,
            format!("/activities/state?activityId={activity}&agent={learner}"),
            "stateId",
            "required",
        ),
        (
            Method::GET,
            format!("/activities/state?activityId=not%20an%20iri&agent={learner}"),
            "activityId",
            "iri",
        ),
        (
            Method::GET,
            format!("/activities/state?activityId={activity}&agent=true"),
            "agent",
            "wrong-type",
        ),
        (
            Method::GET,
            format!("/activities/state?activityId={activity}&agent={learner}&registration=true"),
            "registration",
            "uuid",
        ),
        (
            Method::GET,
            format!("/activities/state?activityId={activity}&agent={learner}&since=yesterday"),
            "since",
            "timestamp",
        ),
        (
            Method::GET,
            format!(
                "/activities/state?activityId={activity}&agent={learner}&stateId=s&since=2020-01-01T00:00:00Z"
            ),
            "since",
            "since-only-for-ids",
        ),
        (
            Method::GET,
            format!("/activities/state?activityId={activity}&agent={learner}&bogus=1"),
            "bogus",
            "unknown-parameter",
        ),
        (
            Method::GET,
            format!("/activities/profile?activityId={activity}&activityId={activity}"),
            "activityId",
            "duplicate-parameter",
        ),
        (
            Method::DELETE,
            format!("/activities/profile?activityId={activity}"),
            "profileId",
            "required",
        ),
        (
            Method::GET,
            format!(
                "/agents/profile?agent={}&profileId=p",
                encode(r#"{"objectType":"Group","mbox":"mailto:g@example.com"}"#)
            ),
            "agent.objectType",
            "agent-not-group",
        ),
        (
            Method::GET,
            "/agents/profile?profileId=p".to_owned(),
            "agent",
            "required",
        ),
    ];
    for (method, path, param, rule) in cases {
        let response = send(&xapi, method.clone(), &path, &[], None).await;
        assert_eq!(response.status(), 400, "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            (&body["path"], &body["rule"]),
            (&json!(param), &json!(rule)),
            "{method} {path}: {body}"
        );
    }
    let no_version = server
        .admin_xapi()
        .client
        .get(server.url(&format!("/xapi{}", state("s"))))
        .header("Authorization", &xapi.auth)
        .send()
        .await
        .unwrap();
    assert_eq!(no_version.status(), 400, "the version header is required");
    let patch = send(&xapi, Method::PATCH, &state("s"), &[], None).await;
    assert_eq!(patch.status(), 405);
}

#[tokio::test]
async fn scopes_limit_documents() {
    let server = Server::start();
    let client = |scopes: &'static [&'static str]| {
        let server = &server;
        async move {
            let (key, secret) = server.credential("acme", scopes).await;
            server.xapi(&key, &secret)
        }
    };
    let state_only = client(&["state"]).await;
    let profile_only = client(&["profile"]).await;
    let reader = client(&["all/read"]).await;
    let statements = client(&["statements/write", "statements/read"]).await;
    let everything = client(&["all"]).await;

    assert_eq!(
        post_json(&state_only, &state("s"), &json!({}))
            .await
            .status(),
        204
    );
    assert_eq!(get(&state_only, &state("s")).await.status(), 200);
    assert_eq!(
        post_json(&state_only, &activity_profile("p"), &json!({}))
            .await
            .status(),
        403
    );
    assert_eq!(get(&state_only, &agent_profile("p")).await.status(), 403);

    assert_eq!(
        post_json(&profile_only, &activity_profile("p"), &json!({}))
            .await
            .status(),
        204
    );
    assert_eq!(
        post_json(&profile_only, &agent_profile("p"), &json!({}))
            .await
            .status(),
        204
    );
    assert_eq!(get(&profile_only, &state("s")).await.status(), 403);
    let deleted = send(&profile_only, Method::DELETE, &state_ids(""), &[], None).await;
    assert_eq!(deleted.status(), 403);

    for path in [state("s"), activity_profile("p"), agent_profile("p")] {
        assert_eq!(
            get(&reader, &path).await.status(),
            200,
            "all/read reads {path}"
        );
        assert_eq!(post_json(&reader, &path, &json!({})).await.status(), 403);
        assert_eq!(
            send(&reader, Method::DELETE, &path, &[], None)
                .await
                .status(),
            403
        );
        assert_eq!(get(&statements, &path).await.status(), 403);
        assert_eq!(get(&everything, &path).await.status(), 200);
    }
    let forbidden: Value = get(&statements, &state("s")).await.json().await.unwrap();
    assert_eq!(forbidden["error"], json!("forbidden"), "{forbidden}");
}

#[tokio::test]
async fn documents_are_isolated_by_tenant() {
    let server = Server::start();
    let (a_key, a_secret) = server.credential("acme", &["all"]).await;
    let (b_key, b_secret) = server.credential("globex", &["all"]).await;
    let acme = server.xapi(&a_key, &a_secret);
    let globex = server.xapi(&b_key, &b_secret);
    for path in [state("t"), activity_profile("t"), agent_profile("t")] {
        assert_eq!(
            put_json(&acme, &path, &[], &json!({"owner": "acme"}))
                .await
                .status(),
            204
        );
        assert_eq!(get(&globex, &path).await.status(), 404, "{path}");
        assert_eq!(
            put_json(&globex, &path, &[], &json!({"owner": "globex"}))
                .await
                .status(),
            204,
            "another tenant's document is not in the way"
        );
        assert_eq!(get_json(&acme, &path).await, json!({"owner": "acme"}));
        assert_eq!(
            send(&globex, Method::DELETE, &path, &[], None)
                .await
                .status(),
            204
        );
        assert_eq!(get_json(&acme, &path).await, json!({"owner": "acme"}));
    }
    assert_eq!(get_json(&globex, &state_ids("")).await, json!([]));
    assert_eq!(
        send(&globex, Method::DELETE, &state_ids(""), &[], None)
            .await
            .status(),
        204
    );
    assert_eq!(get_json(&acme, &state_ids("")).await, json!(["t"]));
    assert_eq!(
        get_json(
            &globex,
            &format!("/activities/profile?activityId={}", encode(ACTIVITY))
        )
        .await,
        json!([])
    );
}
