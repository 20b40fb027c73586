//! Failed authentication is throttled per client address and per key, and a client with good
//! credentials on another address is never slowed by it.

use crate::helpers::{ADMIN_KEY, ADMIN_SECRET, Server};

/// A GET of `/xapi/about`-like authenticated resource as the client at `address` (the server
/// trusts the loopback peer as its proxy).
async fn attempt(server: &Server, address: &str, key: &str, secret: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(server.url("/xapi/statements?limit=1"))
        .basic_auth(key, Some(secret))
        .header("X-Experience-API-Version", "2.0.0")
        .header("X-Forwarded-For", address)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn failed_authentication_is_throttled_per_address_and_per_key() {
    let temp = tempfile::tempdir().unwrap();
    let server = Server::start_on(
        temp.path(),
        &[
            ("PROFICIO_TRUSTED_PROXY", "127.0.0.1,::1"),
            ("PROFICIO_AUTH_FAILURES_PER_ADDRESS", "5"),
            ("PROFICIO_AUTH_FAILURES_PER_KEY", "8"),
        ],
    );
    let (key, secret) = server.credential("acme", &["all"]).await;
    let attacker = "203.0.113.7";
    let colleague = "198.51.100.20";
    let wrong = "not-the-secret-4711";

    for round in 0..5 {
        let answer = attempt(&server, attacker, &key, wrong).await;
        assert_eq!(answer.status(), 401, "failure {round}");
        // The legitimate client, on its own address, is answered as usual in between.
        assert_eq!(
            attempt(&server, colleague, &key, &secret).await.status(),
            200
        );
    }
    let refused = attempt(&server, attacker, &key, wrong).await;
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["rule"], "authentication-rate-limit", "{body}");
    // Refused before the credential is checked: a right guess from there learns nothing.
    assert_eq!(
        attempt(&server, attacker, &key, &secret).await.status(),
        429
    );
    assert_eq!(
        attempt(&server, attacker, ADMIN_KEY, ADMIN_SECRET)
            .await
            .status(),
        429
    );
    assert_eq!(
        attempt(&server, colleague, &key, &secret).await.status(),
        200
    );

    // A key guessed at from many addresses is refused wherever the request comes from;
    // other keys are not.
    for i in 0..8 {
        let address = format!("192.0.2.{i}");
        assert_eq!(
            attempt(&server, &address, ADMIN_KEY, wrong).await.status(),
            401
        );
    }
    assert_eq!(
        attempt(&server, "192.0.2.200", ADMIN_KEY, ADMIN_SECRET)
            .await
            .status(),
        429
    );
    assert_eq!(
        attempt(&server, "192.0.2.200", &key, &secret)
            .await
            .status(),
        200
    );

    // Nothing of the secrets tried reaches the log; the refusals do.
    let log = server.log();
    assert!(!log.contains(wrong) && !log.contains(&secret) && !log.contains(ADMIN_SECRET));
    assert!(log.contains("status=429"), "{log}");
}

#[tokio::test]
async fn answers_are_never_sniffed() {
    let server = Server::start();
    let client = reqwest::Client::new();
    for (path, auth) in [
        ("/xapi/about", false),
        ("/xapi/statements", false),
        ("/nothing-here", false),
        ("/admin/tenants", true),
        ("/capabilities/profile", false),
    ] {
        let mut request = client
            .get(server.url(path))
            .header("X-Experience-API-Version", "2.0.0");
        if auth {
            request = request.basic_auth(ADMIN_KEY, Some(ADMIN_SECRET));
        }
        let response = request.send().await.expect("request");
        assert_eq!(
            response
                .headers()
                .get("x-content-type-options")
                .map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{path}: {}",
            response.status()
        );
    }
}

#[tokio::test]
async fn administrative_actions_are_in_the_audit_log_of_their_tenant() {
    let server = Server::start();
    let (key, secret) = server.credential("acme", &["all"]).await;
    let client = reqwest::Client::new();
    let admin_post = |path: &str, body: serde_json::Value| {
        client
            .post(server.url(path))
            .basic_auth(ADMIN_KEY, Some(ADMIN_SECRET))
            .json(&body)
            .send()
    };
    // The bootstrap admin (tenant `default`) makes a tenant and a credential and revokes it.
    assert_eq!(
        admin_post("/admin/tenants", serde_json::json!({"name": "globex"}))
            .await
            .unwrap()
            .status(),
        201
    );
    let issued: serde_json::Value = admin_post(
        "/admin/credentials",
        serde_json::json!({"tenant": "globex", "scopes": ["all"]}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let issued_secret = issued["secret"].as_str().unwrap().to_owned();
    crate::helpers::remember_secret(&issued_secret);
    let revoked = client
        .delete(server.url(&format!(
            "/admin/credentials/{}",
            issued["key"].as_str().unwrap()
        )))
        .basic_auth(ADMIN_KEY, Some(ADMIN_SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    // acme's manager changes its rules (refused: not a rule set) and records nothing else.
    let refused = client
        .put(server.url("/capabilities/rules"))
        .basic_auth(&key, Some(&secret))
        .json(&serde_json::json!({"not": "rules"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    // Reading is not an action; nor is a failed authentication.
    client
        .get(server.url("/admin/tenants"))
        .basic_auth(ADMIN_KEY, Some(ADMIN_SECRET))
        .send()
        .await
        .unwrap();
    client
        .post(server.url("/admin/tenants"))
        .basic_auth(ADMIN_KEY, Some("wrong"))
        .json(&serde_json::json!({"name": "x"}))
        .send()
        .await
        .unwrap();

    let read = |key: String, secret: String| {
        let client = client.clone();
        let url = server.url("/admin/audit");
        async move {
            let response = client
                .get(url)
                .basic_auth(key, Some(secret))
                .send()
                .await
                .unwrap();
            (
                response.status().as_u16(),
                response.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let (status, default_log) = read(ADMIN_KEY.to_owned(), ADMIN_SECRET.to_owned()).await;
    assert_eq!(status, 200, "{default_log}");
    let actions: Vec<(String, String, u64)> = default_log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["key"], ADMIN_KEY);
            (
                e["method"].as_str().unwrap().to_owned(),
                e["path"].as_str().unwrap().to_owned(),
                e["status"].as_u64().unwrap(),
            )
        })
        .collect();
    let revoke_path = format!("/admin/credentials/{}", issued["key"].as_str().unwrap());
    // The tenant the test helper made first, then this test's three actions.
    assert!(actions.len() >= 4, "{actions:?}");
    assert_eq!(
        actions[actions.len() - 3..],
        [
            ("POST".to_owned(), "/admin/tenants".to_owned(), 201),
            ("POST".to_owned(), "/admin/credentials".to_owned(), 201),
            ("DELETE".to_owned(), revoke_path, 204),
        ]
    );
    let text = default_log.to_string();
    assert!(!text.contains(&issued_secret) && !text.contains(ADMIN_SECRET));

    // acme's log has its own action only; a non-admin credential cannot read it.
    let (key_admin, secret_admin) = {
        let issued: serde_json::Value = admin_post(
            "/admin/credentials",
            serde_json::json!({"tenant": "acme", "scopes": ["all"], "admin": true}),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        (issued["key"].as_str().unwrap().to_owned(), {
            let secret = issued["secret"].as_str().unwrap().to_owned();
            crate::helpers::remember_secret(&secret);
            secret
        })
    };
    let (status, acme_log) = read(key_admin, secret_admin).await;
    assert_eq!(status, 200);
    let acme_log = acme_log.as_array().unwrap().clone();
    assert_eq!(acme_log.len(), 1, "{acme_log:?}");
    assert_eq!(acme_log[0]["key"], key.as_str());
    assert_eq!(acme_log[0]["path"], "/capabilities/rules");
    assert_eq!(acme_log[0]["status"], 400);
    let (status, _) = read(key, secret).await;
    assert_eq!(status, 403);
    assert!(server.log().contains("administrative action"));
}
