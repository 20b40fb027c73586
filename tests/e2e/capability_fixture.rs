//! The fixture organisation (`capability_engine::fixture`: a framework of 30 capabilities, 5
//! roles, 200 people, statements of every kind) loaded into the real server over HTTP. The
//! personas' gap reports and the roles' heatmaps are checked against the hand-computed
//! expectations the engine's own test checks in process (one file, `expected.rs`), and every
//! role's heatmap and a sample of the generated people's gap reports against the engine run
//! in process on the same organisation — which catches any difference the service adds.

use capability_engine::Team;
use capability_engine::fixture::{self, AS_OF, Organisation};
use serde_json::Value;

use crate::helpers::{Server, encode};

#[path = "../../capability-engine/tests/expected.rs"]
mod expected;

/// Statements per POST: the order of the stream is kept (a voiding statement follows the
/// statement it voids).
const BATCH: usize = 500;

struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
    secret: String,
}

impl Client {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(&self.key, Some(&self.secret))
            .header("X-Experience-API-Version", "2.0.0");
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    async fn put(&self, path: &str, body: Value) {
        let (status, answer) = self.send(reqwest::Method::PUT, path, Some(&body)).await;
        assert_eq!(status, 201, "PUT {path}: {answer}");
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.send(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// Syncs until a run reads nothing (the background follower may have read some first,
    /// or be writing at the same time); the last report.
    async fn catch_up(&self) -> Value {
        for _ in 0..1_000 {
            let (status, report) = self
                .send(reqwest::Method::POST, "/capabilities/sync", None)
                .await;
            assert_eq!(status, 200, "sync: {report}");
            assert_eq!(report["unreadable"], 0, "{report}");
            if report["statements"] == 0
                && report["following"] == true
                && report["contended"] == false
            {
                return report;
            }
        }
        panic!("the follower never caught up");
    }
}

/// Anything the engine serialises, as JSON (this crate names no `serde` of its own).
macro_rules! to_json {
    ($value:expr) => {
        serde_json::to_value($value).expect("JSON")
    };
}

/// The first place where two JSON values differ, as a path and the two values there.
fn first_difference(got: &Value, want: &Value, path: &str) -> Option<String> {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            let mut keys: Vec<&String> = g.keys().chain(w.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let (a, b) = (
                    g.get(k).unwrap_or(&Value::Null),
                    w.get(k).unwrap_or(&Value::Null),
                );
                first_difference(a, b, &format!("{path}.{k}"))
            })
        }
        (Value::Array(g), Value::Array(w)) if g.len() == w.len() => g
            .iter()
            .zip(w)
            .enumerate()
            .find_map(|(i, (a, b))| first_difference(a, b, &format!("{path}[{i}]"))),
        _ if got == want => None,
        _ => Some(format!("{path}: {got} over HTTP, {want} in process")),
    }
}

/// The server's answer is the engine's, to the last field.
fn assert_same(got: &Value, want: &Value, what: &str) {
    if let Some(difference) = first_difference(got, want, "") {
        panic!("{what}: {difference}");
    }
}

#[tokio::test]
async fn the_fixture_organisation_over_http() {
    let org = Organisation::new(fixture::Options::default());
    assert_eq!(org.people.len(), 200);
    assert_eq!(org.roles.iter().count(), 5);
    assert_eq!(org.catalog.frameworks()[0].capabilities().len(), 30);

    let server = Server::start();
    let (key, secret) = server.credential("acme", &["all", "define"]).await;
    let client = Client {
        http: reqwest::Client::new(),
        base: server.url(""),
        key,
        secret,
    };

    // The model, as the fixture's JSON.
    for framework in org.catalog.frameworks() {
        let path = format!("/capabilities/frameworks/{}", framework.id());
        client.put(&path, to_json!(framework)).await;
    }
    for role in org.roles.iter() {
        client
            .put(
                &format!("/capabilities/roles/{}", role.id()),
                to_json!(role),
            )
            .await;
    }
    client
        .put("/capabilities/assignments", to_json!(&org.assignments))
        .await;
    client
        .put("/capabilities/config", to_json!(&fixture::config_spec()))
        .await;
    client
        .put("/capabilities/rules", to_json!(&fixture::rule_specs()))
        .await;

    // The statements, as a client posts them; the LRS keeps the ids the fixture gave them.
    let bodies = org.statement_bodies();
    for batch in bodies.chunks(BATCH) {
        let (status, ids) = client
            .send(
                reqwest::Method::POST,
                "/xapi/statements",
                Some(&Value::Array(batch.to_vec())),
            )
            .await;
        assert_eq!(status, 200, "{ids}");
        let wanted: Vec<&Value> = batch.iter().map(|s| &s["id"]).collect();
        assert_eq!(ids.as_array().map(|a| a.iter().collect()), Some(wanted));
    }
    let report = client.catch_up().await;
    let ledger = org.ledger();
    assert_eq!(report["ledger_items"], ledger.len(), "{report}");

    let as_of = fixture::at(AS_OF);
    let when = encode(AS_OF);
    let statement_id = |name: &str| org.statement_id(name).to_string();

    // The personas against their roles: the hand-computed numbers.
    for want in [
        expected::ana_as_senior_engineer(),
        expected::bo_as_team_lead(),
    ] {
        let path = format!(
            "/capabilities/roles/{}/gap?agent={}&as_of={when}",
            want.role,
            encode(want.person)
        );
        let report = client.get(&path).await;
        assert_eq!(report["assigned"], true, "{path}");
        expected::check_report(&report, &want, &statement_id);
    }
    // Bo holds one role: his report over every role he holds says the same.
    let bo = expected::bo_as_team_lead();
    let combined = client
        .get(&format!(
            "/capabilities/people/report?agent={}&as_of={when}",
            encode(bo.person)
        ))
        .await;
    assert_eq!(combined["roles"], serde_json::json!(["team-lead"]));
    expected::check_report(&combined, &bo, &statement_id);

    // Every role's heatmap, explained: the personas' cells by hand, the whole map as the engine
    // has it.
    let reports = org.reports(&ledger);
    let heatmaps = expected::heatmaps();
    assert_eq!(heatmaps.len(), 5);
    for want in &heatmaps {
        let map = client
            .get(&format!(
                "/capabilities/roles/{}/heatmap?as_of={when}&explain=true",
                want.role
            ))
            .await;
        expected::check_heatmap(&map, want);
        let role = org
            .roles
            .iter()
            .find(|r| r.id().as_str() == want.role)
            .expect("role");
        let team = Team::Role {
            role: role.id().clone(),
        };
        let engine = reports.heatmap(&team, as_of).expect("heatmap");
        assert!(engine.people.len() > want.personas.len(), "{}", want.role);
        assert_same(&map, &to_json!(&engine), want.role);
    }

    // Generated people against the role they hold: the same report as the engine's.
    for person in org.people.iter().skip(6).step_by(9) {
        let roles = org.assignments.roles_of(&person.key, as_of);
        let role = roles.first().expect("a role");
        let report = client
            .get(&format!(
                "/capabilities/roles/{role}/gap?agent={}&as_of={when}",
                encode(person.key.as_str())
            ))
            .await;
        let engine = reports
            .gap_report(&person.key, role, as_of)
            .expect("report");
        assert_same(&report, &to_json!(&engine), person.key.as_str());
    }
}
