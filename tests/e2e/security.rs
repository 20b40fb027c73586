//! Failed authentication is throttled per client address and per key, and a client with good
//! credentials on another address is never slowed by it; every HTML page carries the security
//! headers.

use serde_json::{Value, json};

use crate::helpers::{ADMIN_KEY, ADMIN_SECRET, Server, encode};

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

/// What an HTML page must answer with, besides `nosniff` and `no-referrer`, which every one
/// carries.
struct Expected {
    name: &'static str,
    status: u16,
    /// `(directive, value)`: the page's `Content-Security-Policy` has this directive once,
    /// with exactly this value (`frame-ancestors` says who may frame the page).
    directives: &'static [(&'static str, &'static str)],
    /// `Some("no-store")` on pages about a learner or a person.
    cache_control: Option<&'static str>,
}

/// The directives of a policy, by name (CSP Level 3 §2.2: `;`-separated, name first).
fn directives(policy: &str) -> Vec<(String, String)> {
    policy
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            let (name, value) = d.split_once(' ').unwrap_or((d, ""));
            (name.to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect()
}

async fn check(response: reqwest::Response, expected: &Expected) {
    let name = expected.name;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    assert_eq!(status, expected.status, "{name}: {body}");
    let header = |key: &str| {
        headers
            .get(key)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("{name}: no {key} header"))
    };
    assert!(
        header("content-type").starts_with("text/html"),
        "{name}: {}",
        header("content-type")
    );
    assert!(
        body.to_ascii_lowercase().contains("<html"),
        "{name}: {body}"
    );
    assert_eq!(header("x-content-type-options"), "nosniff", "{name}");
    assert_eq!(header("referrer-policy"), "no-referrer", "{name}");
    let policy = header("content-security-policy");
    let found = directives(&policy);
    for (directive, value) in expected.directives {
        let values: Vec<&str> = found
            .iter()
            .filter(|(n, _)| n == directive)
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(values, [*value], "{name}: {directive} in {policy}");
    }
    match expected.cache_control {
        Some(cache) => assert_eq!(header("cache-control"), cache, "{name}"),
        // Package files may be cached, privately: never by a shared cache.
        None => assert!(
            headers
                .get("cache-control")
                .is_none_or(|v| !v.to_str().unwrap().contains("public")),
            "{name}: {:?}",
            headers.get("cache-control")
        ),
    }
}

#[tokio::test]
async fn every_html_page_carries_the_security_headers() {
    const ANA: &str = "mailto:ana@acme.example";
    const MAX: &str = "mailto:max@acme.example";
    const FEEDBACK: &str = "https://acme.example/capabilities/FDBK";
    const COMPETENCY: &str = "https://w3id.org/xapi/tla/activity-types/competency";
    // The player page and the error page are never framed; package files only by the player.
    const PLAYER: &[(&str, &str)] = &[
        ("script-src", "'self'"),
        ("object-src", "'none'"),
        ("base-uri", "'none'"),
        ("frame-src", "'self'"),
        ("frame-ancestors", "'none'"),
    ];
    const ERROR_PAGE: &[(&str, &str)] = &[("default-src", "'none'"), ("frame-ancestors", "'none'")];
    // The author's scripts must run: no script-src or default-src restricts them.
    const CONTENT: &[(&str, &str)] = &[("frame-ancestors", "'self'")];
    const REPORT: &[(&str, &str)] = &[
        ("default-src", "'none'"),
        ("style-src", "'self'"),
        ("base-uri", "'none'"),
        ("frame-ancestors", "'none'"),
    ];

    let server = Server::start();
    let (key, secret) = server.credential("acme", &["all", "define"]).await;
    let client = reqwest::Client::new();
    let send = |method: reqwest::Method, path: &str, body: Option<&Value>| {
        let mut request = client
            .request(method, server.url(path))
            .basic_auth(&key, Some(&secret))
            .header("X-Experience-API-Version", "2.0.0");
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send()
    };

    // A course with a launch link, and a SCO delivered through it.
    let imported = client
        .post(server.url("/scorm/packages"))
        .basic_auth(&key, Some(&secret))
        .header("content-type", "application/zip")
        .body(crate::scorm::course())
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), 201);
    let package: Value = imported.json().await.unwrap();
    let learner = json!({"objectType": "Agent", "name": "Ada",
        "account": {"homePage": "https://hr.example.org", "name": "ada"}});
    let registered = send(
        reqwest::Method::POST,
        "/scorm/registrations",
        Some(&json!({"package": package["id"], "learner": learner})),
    )
    .await
    .unwrap();
    assert_eq!(registered.status(), 201);
    let registration: Value = registered.json().await.unwrap();
    let launch = registration["launch"]["url"].as_str().unwrap().to_owned();
    crate::helpers::remember_secret(&launch);
    let started = server.start_attempt(&client, &launch).await;
    let sco = started["delivery"]["url"].as_str().unwrap().to_owned();
    assert!(sco.ends_with(".html"), "{started}");

    // A role, a person holding it under a manager, and one assessment, so that every report
    // page has figures.
    let model = [
        (
            "/capabilities/frameworks/leadership",
            json!({
                "id": "leadership", "name": "Leadership", "version": "1",
                "scale": [{"level": 1, "label": "Aware"}, {"level": 2, "label": "Practising"}],
                "capabilities": [{"id": "feedback", "code": "FDBK", "name": "Giving feedback",
                                  "iri": FEEDBACK}]
            }),
        ),
        (
            "/capabilities/roles/team-lead",
            json!({"id": "team-lead", "name": "Team lead",
                   "requirements": [{"capability": "feedback", "level": 2}]}),
        ),
        (
            "/capabilities/assignments",
            json!([{"person": {"objectType": "Agent", "mbox": ANA}, "role": "team-lead",
                    "from": "2025-01-01T00:00:00Z",
                    "manager": {"objectType": "Agent", "mbox": MAX}}]),
        ),
        (
            "/capabilities/rules",
            json!([{
                "id": "manager-assessment", "version": 1,
                "match": {"verbs": ["https://w3id.org/xapi/tla/verbs/achieved"],
                          "activity_types": [COMPETENCY], "raters": ["manager"]},
                "emit": {"capability": {"from": "object"}, "level": "score-raw", "weight": 1.0}
            }]),
        ),
    ];
    for (path, body) in &model {
        let answer = send(reqwest::Method::PUT, path, Some(body)).await.unwrap();
        assert_eq!(
            answer.status(),
            201,
            "{path}: {}",
            answer.text().await.unwrap()
        );
    }
    let assessment = json!({
        "actor": {"objectType": "Agent", "mbox": ANA},
        "verb": {"id": "https://w3id.org/xapi/tla/verbs/achieved", "display": {"en-US": "achieved"}},
        "object": {"objectType": "Activity", "id": FEEDBACK, "definition": {"type": COMPETENCY}},
        "result": {"score": {"raw": 2, "min": 1, "max": 2}},
        "context": {
            "instructor": {"objectType": "Agent", "mbox": MAX},
            "extensions": {"https://example.org/xapi/capability/ext/assessment-type": "manager"}
        },
        "timestamp": "2025-03-01T09:00:00Z"
    });
    let posted = send(reqwest::Method::POST, "/xapi/statements", Some(&assessment))
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    let synced = send(reqwest::Method::POST, "/capabilities/sync", None)
        .await
        .unwrap();
    assert_eq!(synced.status(), 200);

    let as_of = encode("2025-06-01T00:00:00Z");
    let ana = encode(&format!("mbox:{ANA}"));
    let pages = [
        (
            launch.clone(),
            Expected {
                name: "launch page",
                status: 200,
                directives: PLAYER,
                cache_control: Some("no-store"),
            },
        ),
        (
            "/scorm/launch/not-a-launch-token".to_owned(),
            Expected {
                name: "launch error page",
                status: 404,
                directives: ERROR_PAGE,
                cache_control: Some("no-store"),
            },
        ),
        (
            sco,
            Expected {
                name: "package content",
                status: 200,
                directives: CONTENT,
                cache_control: None,
            },
        ),
        (
            format!("/capabilities/pages/roles/team-lead/heatmap?as_of={as_of}"),
            Expected {
                name: "role heatmap",
                status: 200,
                directives: REPORT,
                cache_control: Some("no-store"),
            },
        ),
        (
            format!(
                "/capabilities/pages/managers/heatmap?manager={}&as_of={as_of}",
                encode(&format!("mbox:{MAX}"))
            ),
            Expected {
                name: "manager heatmap",
                status: 200,
                directives: REPORT,
                cache_control: Some("no-store"),
            },
        ),
        (
            format!("/capabilities/pages/roles/team-lead/gap?person={ana}&as_of={as_of}"),
            Expected {
                name: "gap page",
                status: 200,
                directives: REPORT,
                cache_control: Some("no-store"),
            },
        ),
        (
            format!(
                "/capabilities/pages/people/progression?person={ana}&capability=feedback&to={as_of}"
            ),
            Expected {
                name: "progression page",
                status: 200,
                directives: REPORT,
                cache_control: Some("no-store"),
            },
        ),
    ];
    for (path, expected) in &pages {
        // The player's pages are opened by the link alone; the reports with a credential.
        let request = if path.starts_with("/scorm/") {
            client.get(server.url(path))
        } else {
            client.get(server.url(path)).basic_auth(&key, Some(&secret))
        };
        check(request.send().await.unwrap(), expected).await;
    }
}
