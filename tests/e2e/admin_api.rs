//! The `/admin/` API: tenants and credentials, for admin credentials only.

use serde_json::{Value, json};

use crate::helpers::{ADMIN_KEY, ADMIN_SECRET, Server, statement};

#[tokio::test]
async fn tenants_and_credentials_lifecycle() {
    let server = Server::start();
    let client = reqwest::Client::new();
    let admin = |method: reqwest::Method, path: &str| {
        client
            .request(method, server.url(path))
            .basic_auth(ADMIN_KEY, Some(ADMIN_SECRET))
    };
    let created = admin(reqwest::Method::POST, "/admin/tenants")
        .json(&json!({"name": "acme"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let tenant: Value = created.json().await.unwrap();
    assert_eq!(tenant["name"], json!("acme"));
    let again = admin(reqwest::Method::POST, "/admin/tenants")
        .json(&json!({"name": "acme"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let bad = admin(reqwest::Method::POST, "/admin/tenants")
        .json(&json!({"name": "Not A Name!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(
        (body["path"].as_str(), body["rule"].as_str()),
        (Some("name"), Some("tenant-name"))
    );
    let tenants: Value = admin(reqwest::Method::GET, "/admin/tenants")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = tenants
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["default", "acme"]);

    let unknown_scope = admin(reqwest::Method::POST, "/admin/credentials")
        .json(&json!({"tenant": "acme", "scopes": ["statements/write", "everything"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_scope.status(), 400);
    let unknown_tenant = admin(reqwest::Method::POST, "/admin/credentials")
        .json(&json!({"tenant": "nobody", "scopes": ["all"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_tenant.status(), 400);

    let issued = admin(reqwest::Method::POST, "/admin/credentials")
        .json(&json!({"tenant": "acme", "scopes": ["statements/write", "statements/read"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(issued.status(), 201);
    let issued: Value = issued.json().await.unwrap();
    let key = issued["key"].as_str().unwrap().to_owned();
    let secret = issued["secret"].as_str().unwrap().to_owned();
    crate::helpers::remember_secret(&secret);
    assert_eq!(issued["tenant"], json!("acme"));

    let listed = admin(reqwest::Method::GET, "/admin/credentials")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listed.contains(&key));
    assert!(!listed.contains(&secret), "secrets are never listed");
    assert!(!listed.contains("argon2"), "hashes are never listed");

    let xapi = server.xapi(&key, &secret);
    assert_eq!(
        xapi.post(&statement("c@example.com", "did", "x"))
            .await
            .status(),
        200
    );
    let forbidden = client
        .get(server.url("/admin/tenants"))
        .basic_auth(&key, Some(&secret))
        .send()
        .await
        .unwrap();
    assert_eq!(
        forbidden.status(),
        403,
        "admin API needs an admin credential"
    );

    let revoked = admin(
        reqwest::Method::DELETE,
        &format!("/admin/credentials/{key}"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(revoked.status(), 204);
    assert_eq!(
        xapi.get("").await.status(),
        401,
        "a revoked credential stops working at once"
    );
    let missing = admin(reqwest::Method::DELETE, "/admin/credentials/nope")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let anonymous = client
        .get(server.url("/admin/tenants"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}
