//! Running the server: bootstrap admin, request log, shutdown.

use serde_json::{Value, json};

use crate::helpers::{ADMIN_KEY, ADMIN_SECRET, Server, statement};

#[tokio::test]
async fn bootstrap_admin_has_exactly_the_given_secret() {
    let server = Server::start();
    assert_eq!(server.admin_xapi().get("").await.status(), 200);
    assert_eq!(server.xapi(ADMIN_KEY, "almost").get("").await.status(), 401);
}

#[tokio::test]
async fn changing_the_bootstrap_secret_replaces_the_old_one() {
    let temp = tempfile::tempdir().unwrap();
    drop(Server::start_on(temp.path(), &[]));
    let server = Server::start_on(
        temp.path(),
        &[("PROFICIO_ADMIN_SECRET", "a-new-secret-value")],
    );
    assert_eq!(
        server.xapi(ADMIN_KEY, ADMIN_SECRET).get("").await.status(),
        401
    );
    assert_eq!(
        server
            .xapi(ADMIN_KEY, "a-new-secret-value")
            .get("")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn logs_one_line_per_request_without_secrets() {
    let server = Server::start();
    let (key, secret) = server.credential("acme", &["all"]).await;
    let xapi = server.xapi(&key, &secret);
    xapi.post(&statement("log@example.com", "did", "log")).await;
    server.xapi(&key, "wrong-secret-in-log-test").get("").await;
    std::thread::sleep(std::time::Duration::from_millis(200));
    let log = server.log();
    let line = log
        .lines()
        .find(|l| l.contains("POST") && l.contains("/xapi/statements"))
        .expect("request line");
    for field in ["status=200", "latency_ms=", "tenant=acme"] {
        assert!(line.contains(field), "{field} in {line}");
    }
    for secret in [secret.as_str(), ADMIN_SECRET, "wrong-secret-in-log-test"] {
        assert!(!log.contains(secret), "a secret leaked into the log");
    }
}

#[tokio::test]
async fn sigterm_shuts_down_gracefully_and_data_survives() {
    let temp = tempfile::tempdir().unwrap();
    let mut server = Server::start_on(temp.path(), &[]);
    let ids: Vec<String> = server
        .admin_xapi()
        .post(&statement("term@example.com", "did", "term"))
        .await
        .json()
        .await
        .unwrap();
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}");
    drop(server);
    let server = Server::start_on(temp.path(), &[]);
    let got: Value = server
        .admin_xapi()
        .get_json(&format!("?statementId={}", ids[0]))
        .await;
    assert_eq!(got["id"], json!(ids[0]));
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json() {
    let server = Server::start();
    let client = reqwest::Client::new();
    let missing = client
        .get(server.url("/nothing/here"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"], json!("not-found"));
    let wrong = server
        .admin_xapi()
        .request(reqwest::Method::DELETE, "/statements")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 405);
}
