//! The Statement Resource as a client sees it: tenants, scopes, limits and the rules the
//! black-box conformance suite cannot see from outside one tenant.

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Server, encode, statement};

#[tokio::test]
async fn statements_round_trip_with_lrs_set_properties() {
    let server = Server::start();
    let xapi = server.admin_xapi();
    let sent = statement("round@example.com", "did", "round");
    let response = xapi.post(&sent).await;
    assert_eq!(response.status(), 200);
    let ids: Vec<String> = response.json().await.unwrap();
    let got = xapi.get_json(&format!("?statementId={}", ids[0])).await;
    for (key, value) in sent.as_object().unwrap() {
        assert_eq!(&got[key], value, "{key} is returned as sent");
    }
    assert_eq!(got["id"], json!(ids[0]));
    assert_eq!(got["version"], json!("2.0.0"));
    assert_eq!(
        got["authority"]["account"]["name"],
        json!(crate::helpers::ADMIN_KEY)
    );
    assert!(got["stored"].is_string());
    assert_eq!(got["timestamp"], got["stored"]);
}

#[tokio::test]
async fn invalid_statement_names_path_and_rule_and_stores_nothing() {
    let server = Server::start();
    let xapi = server.admin_xapi();
    let good_id = Uuid::new_v4();
    let mut good = statement("batch@example.com", "did", "batch");
    good["id"] = json!(good_id.to_string());
    let mut bad = statement("batch@example.com", "did", "batch");
    bad["actor"]["mbox"] = json!("batch@example.com");
    let response = xapi.post(&json!([good, bad])).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["path"], json!("$[1].actor.mbox"), "{body}");
    assert!(
        body["rule"].as_str().is_some_and(|r| !r.is_empty()),
        "{body}"
    );
    assert_eq!(
        xapi.get(&format!("?statementId={good_id}")).await.status(),
        404
    );
}

#[tokio::test]
async fn duplicate_json_keys_are_rejected() {
    let server = Server::start();
    let xapi = server.admin_xapi();
    let body = r#"{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},"verb":{"id":"http://example.com/w"},"object":{"id":"http://example.com/a"}}"#;
    let response = xapi
        .request(Method::POST, "/statements")
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["rule"], json!("duplicate-key"), "{error}");
}

#[tokio::test]
async fn same_id_different_content_conflicts_and_same_content_is_accepted() {
    let server = Server::start();
    let xapi = server.admin_xapi();
    let id = Uuid::new_v4();
    let put = |body: Value| {
        let xapi = xapi.clone();
        async move {
            xapi.request(Method::PUT, &format!("/statements?statementId={id}"))
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let first = statement("same@example.com", "did", "same");
    assert_eq!(put(first.clone()).await, 204);
    assert_eq!(put(first).await, 204);
    assert_eq!(
        put(statement("same@example.com", "did", "other")).await,
        409
    );
    let result = xapi
        .get_json(&format!(
            "?agent={}",
            encode(r#"{"mbox":"mailto:same@example.com"}"#)
        ))
        .await;
    assert_eq!(result["statements"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn tenants_never_see_each_other() {
    let server = Server::start();
    let (key_a, secret_a) = server.credential("acme", &["all"]).await;
    let (key_b, secret_b) = server.credential("globex", &["all"]).await;
    let a = server.xapi(&key_a, &secret_a);
    let b = server.xapi(&key_b, &secret_b);
    let ids: Vec<String> = a
        .post(&statement("iso@example.com", "did", "iso"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        b.get(&format!("?statementId={}", ids[0])).await.status(),
        404
    );
    let agent = encode(r#"{"mbox":"mailto:iso@example.com"}"#);
    assert_eq!(
        b.get_json(&format!("?agent={agent}")).await["statements"],
        json!([])
    );
    assert_eq!(b.get_json("").await["statements"], json!([]));
    assert_eq!(
        a.get_json(&format!("?agent={agent}")).await["statements"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The same id in another tenant is a different statement.
    let mut copy = statement("other@example.com", "did", "iso");
    copy["id"] = json!(ids[0]);
    assert_eq!(b.post(&copy).await.status(), 200);
}

#[tokio::test]
async fn scopes_limit_what_a_credential_may_do() {
    let server = Server::start();
    let (wk, ws) = server.credential("acme", &["statements/write"]).await;
    let (rk, rs) = server.credential("acme", &["statements/read"]).await;
    let (mk, ms) = server
        .credential("acme", &["statements/write", "statements/read/mine"])
        .await;
    let (ak, asec) = server.credential("acme", &["all/read"]).await;
    let writer = server.xapi(&wk, &ws);
    let reader = server.xapi(&rk, &rs);
    let mine = server.xapi(&mk, &ms);
    let all_read = server.xapi(&ak, &asec);

    let written: Vec<String> = writer
        .post(&statement("s@example.com", "did", "scopes"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(writer.get("").await.status(), 403);
    assert_eq!(
        reader
            .post(&statement("s@example.com", "did", "x"))
            .await
            .status(),
        403
    );
    assert_eq!(
        all_read
            .post(&statement("s@example.com", "did", "x"))
            .await
            .status(),
        403
    );
    assert_eq!(
        reader
            .get(&format!("?statementId={}", written[0]))
            .await
            .status(),
        200
    );
    assert_eq!(
        all_read
            .get(&format!("?statementId={}", written[0]))
            .await
            .status(),
        200
    );

    let own: Vec<String> = mine
        .post(&statement("s@example.com", "did", "mine"))
        .await
        .json()
        .await
        .unwrap();
    let visible = mine.get_json("").await;
    let ids: Vec<&str> = visible["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![own[0].as_str()],
        "read/mine sees only its own statements"
    );
    assert_eq!(
        mine.get(&format!("?statementId={}", written[0]))
            .await
            .status(),
        404
    );
    assert_eq!(
        mine.get(&format!("?statementId={}", own[0])).await.status(),
        200
    );
}

#[tokio::test]
async fn missing_or_wrong_credentials_are_401() {
    let server = Server::start();
    let client = reqwest::Client::new();
    let response = client
        .get(server.url("/xapi/statements"))
        .header("X-Experience-API-Version", "2.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    let wrong = server.xapi(crate::helpers::ADMIN_KEY, "not-the-secret");
    assert_eq!(wrong.get("").await.status(), 401);
    let unknown = server.xapi("nobody", "nothing");
    assert_eq!(unknown.get("").await.status(), 401);
}

#[tokio::test]
async fn version_header_is_required_and_always_answered() {
    let server = Server::start();
    let mut xapi = server.admin_xapi();
    let response = xapi
        .client
        .get(server.url("/xapi/statements"))
        .header("Authorization", &xapi.auth)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().contains_key("x-experience-api-version"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["path"], json!("X-Experience-API-Version"));
    xapi.version = "1.1.0";
    assert_eq!(xapi.get("").await.status(), 400);
    xapi.version = "1.0.3";
    let ok = xapi.get("").await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["x-experience-api-version"], "1.0.3");
    assert!(
        ok.headers()
            .contains_key("x-experience-api-consistent-through")
    );
    assert_eq!(ok.headers().get_all("date").iter().count(), 1);
    let about = reqwest::get(server.url("/xapi/about")).await.unwrap();
    assert_eq!(about.status(), 200);
    let body: Value = about.json().await.unwrap();
    assert_eq!(body["version"], json!(["1.0.3", "2.0.0"]));
}

#[tokio::test]
async fn limits_give_clear_errors() {
    let temp = tempfile::tempdir().unwrap();
    let server = Server::start_on(
        temp.path(),
        &[
            ("PROFICIO_MAX_BODY_BYTES", "4096"),
            ("PROFICIO_MAX_BATCH", "3"),
            ("PROFICIO_MAX_QUERY_LIMIT", "50"),
        ],
    );
    let xapi = server.admin_xapi();
    let mut big = statement("big@example.com", "did", "big");
    big["verb"]["display"]["en-US"] = json!("x".repeat(5000));
    let response = xapi.post(&big).await;
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], json!("too-large"));

    let batch: Vec<Value> = (0..4)
        .map(|_| statement("b@example.com", "did", "b"))
        .collect();
    assert_eq!(xapi.post(&json!(batch)).await.status(), 413);
    assert_eq!(xapi.post(&json!(batch[..3])).await.status(), 200);

    let over = xapi.get("?limit=51").await;
    assert_eq!(over.status(), 400);
    let body: Value = over.json().await.unwrap();
    assert_eq!(
        (body["path"].as_str(), body["rule"].as_str()),
        (Some("limit"), Some("max-limit"))
    );
    assert_eq!(xapi.get("?limit=50").await.status(), 200);
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(data))
}

fn with_attachment(data: &[u8], id: Uuid) -> Value {
    let mut s = statement("att@example.com", "did", "attachments");
    s["id"] = json!(id.to_string());
    s["attachments"] = json!([{
        "usageType": "http://example.com/attachment-usage/test",
        "display": {"en-US": "A test attachment"},
        "contentType": "text/plain",
        "length": data.len(),
        "sha2": sha256_hex(data)
    }]);
    s
}

fn multipart(statement: &Value, parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(b"--xyz\r\nContent-Type: application/json\r\n\r\n");
    body.extend_from_slice(statement.to_string().as_bytes());
    for (headers, data) in parts {
        body.extend_from_slice(format!("\r\n--xyz\r\n{headers}\r\n\r\n").as_bytes());
        body.extend_from_slice(data);
    }
    body.extend_from_slice(b"\r\n--xyz--\r\n");
    body
}

#[tokio::test]
async fn attachments_round_trip_and_malformed_multipart_stores_nothing() {
    let server = Server::start();
    let xapi = server.admin_xapi();
    let data = b"here is an attachment\x00\xff with binary bytes";
    let hash = sha256_hex(data);
    let send = |body: Vec<u8>| {
        let xapi = xapi.clone();
        async move {
            xapi.request(Method::POST, "/statements")
                .header("Content-Type", "multipart/mixed; boundary=xyz")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };

    let bad_id = Uuid::new_v4();
    let missing_hash = multipart(
        &with_attachment(data, bad_id),
        &[(
            "Content-Type: text/plain\r\nContent-Transfer-Encoding: binary",
            data,
        )],
    );
    let refused = send(missing_hash).await;
    assert_eq!(refused.status(), 400);
    let error: Value = refused.json().await.unwrap();
    assert!(
        error["rule"].as_str().is_some_and(|r| !r.is_empty()),
        "{error}"
    );
    assert_eq!(
        xapi.get(&format!("?statementId={bad_id}")).await.status(),
        404
    );

    let id = Uuid::new_v4();
    let headers = format!(
        "Content-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {hash}"
    );
    let accepted = send(multipart(&with_attachment(data, id), &[(&headers, data)])).await;
    assert_eq!(accepted.status(), 200);

    let got = xapi
        .get(&format!("?statementId={id}&attachments=true"))
        .await;
    assert_eq!(got.status(), 200);
    let content_type = got.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("multipart/mixed"),
        "{content_type}"
    );
    let body = got.bytes().await.unwrap();
    assert!(
        body.windows(data.len()).any(|w| w == data),
        "the attachment data comes back"
    );

    // A JSON statement whose attachment has neither fileUrl nor data is refused.
    let json_only = xapi.post(&with_attachment(data, Uuid::new_v4())).await;
    assert_eq!(json_only.status(), 400);
}

#[tokio::test]
async fn a_large_attachment_is_spooled_and_comes_back_whole() {
    let server = Server::start();
    let xapi = server.admin_xapi();
    let data: Vec<u8> = (0..3_500_000u32).map(|i| (i % 253) as u8).collect();
    let id = Uuid::new_v4();
    let headers = format!(
        "Content-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {}",
        sha256_hex(&data)
    );
    let accepted = xapi
        .request(Method::POST, "/statements")
        .header("Content-Type", "multipart/mixed; boundary=xyz")
        .body(multipart(&with_attachment(&data, id), &[(&headers, &data)]))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    let got = xapi
        .get(&format!("?statementId={id}&attachments=true"))
        .await;
    assert_eq!(got.status(), 200);
    let body = got.bytes().await.unwrap();
    assert!(body.len() > data.len());
    assert!(
        body.windows(data.len()).any(|w| w == &data[..]),
        "the whole attachment comes back"
    );
}

#[tokio::test]
async fn more_links_page_without_duplicates_or_gaps_while_statements_arrive() {
    let server = Server::start();
    let xapi = server.admin_xapi();
    let batch: Vec<Value> = (0..25)
        .map(|i| statement(&format!("p{i}@example.com"), "paged", "p"))
        .collect();
    let mut expected: Vec<String> = xapi.post(&json!(batch)).await.json().await.unwrap();
    expected.reverse();
    let verb = encode("http://example.com/verbs/paged");
    let mut url = format!("?verb={verb}&limit=10");
    let mut seen: Vec<String> = Vec::new();
    loop {
        let page = xapi.get_json(&url).await;
        for s in page["statements"].as_array().unwrap() {
            seen.push(s["id"].as_str().unwrap().to_owned());
        }
        xapi.post(&statement("late@example.com", "paged", "p"))
            .await;
        let more = page["more"].as_str().unwrap_or_default();
        if more.is_empty() {
            break;
        }
        let (_, query) = more.split_once('?').unwrap();
        assert!(more.starts_with("/xapi/statements?"), "{more}");
        url = format!("?{query}");
    }
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn voided_statements_leave_queries_but_stay_reachable() {
    let server = Server::start();
    let xapi = server.admin_xapi();
    let ids: Vec<String> = xapi
        .post(&statement("v@example.com", "did", "void"))
        .await
        .json()
        .await
        .unwrap();
    let voiding = json!({
        "actor": {"mbox": "mailto:admin@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": ids[0]}
    });
    let voider: Vec<String> = xapi.post(&voiding).await.json().await.unwrap();
    assert_eq!(
        xapi.get(&format!("?statementId={}", ids[0])).await.status(),
        404
    );
    assert_eq!(
        xapi.get(&format!("?voidedStatementId={}", ids[0]))
            .await
            .status(),
        200
    );
    let all = xapi.get_json("").await;
    let listed: Vec<&str> = all["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec![voider[0].as_str()]);
    let again = json!({
        "actor": {"mbox": "mailto:admin@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": voider[0]}
    });
    let refused = xapi.post(&again).await;
    assert_eq!(
        refused.status(),
        400,
        "a voiding statement cannot be voided"
    );
    assert_eq!(
        xapi.get(&format!("?statementId={}", voider[0]))
            .await
            .status(),
        200
    );
}
