//! The service over in-memory ports (the real ones live in the binary, over the LRS, and are
//! tested end to end there): the HTTP API on the fixture organisation, the follower's
//! guarantees, errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use bytes::Bytes;
use capability_engine::fixture::{self, Organisation};
use capability_engine::{Ledger, StoredStatement};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::ports::*;
use crate::{CapabilityService, Ports, follower};

type Key = (Tenant, String, String, String);

/// Records in a map, with the compare-and-set of the real stores.
#[derive(Default)]
struct MemoryRecords {
    map: Mutex<BTreeMap<Key, Record>>,
    /// Writes of the ledger refused from now on, as if another server always got there first.
    refuse_ledger: Mutex<bool>,
}

#[async_trait]
impl Records for MemoryRecords {
    async fn get(
        &self,
        t: Tenant,
        kind: &str,
        group: &str,
        id: &str,
    ) -> Result<Option<Record>, PortError> {
        let key = (t, kind.to_owned(), group.to_owned(), id.to_owned());
        Ok(self.map.lock().unwrap().get(&key).cloned())
    }

    async fn put(
        &self,
        t: Tenant,
        kind: &str,
        group: &str,
        id: &str,
        value: Bytes,
        expect: Expect,
    ) -> Result<Option<u64>, PortError> {
        if kind == follower::KIND_LEDGER && *self.refuse_ledger.lock().unwrap() {
            return Ok(None);
        }
        let key = (t, kind.to_owned(), group.to_owned(), id.to_owned());
        let mut map = self.map.lock().unwrap();
        let current = map.get(&key).map(|r| r.version);
        let version = match (expect, current) {
            (Expect::Absent, None) => 1,
            (Expect::Version(v), Some(c)) if v == c => c + 1,
            _ => return Ok(None),
        };
        map.insert(key, Record { version, value });
        Ok(Some(version))
    }

    async fn delete(
        &self,
        t: Tenant,
        kind: &str,
        group: &str,
        id: &str,
        version: u64,
    ) -> Result<bool, PortError> {
        let key = (t, kind.to_owned(), group.to_owned(), id.to_owned());
        let mut map = self.map.lock().unwrap();
        if map.get(&key).map(|r| r.version) == Some(version) {
            map.remove(&key);
            return Ok(true);
        }
        Ok(false)
    }

    async fn list(
        &self,
        t: Tenant,
        kind: &str,
        group: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Record)>, PortError> {
        let map = self.map.lock().unwrap();
        Ok(map
            .iter()
            .filter(|((tt, k, g, id), _)| {
                *tt == t && k == kind && g == group && after.is_none_or(|a| id.as_str() > a)
            })
            .take(limit)
            .map(|((_, _, _, id), r)| (id.clone(), r.clone()))
            .collect())
    }
}

/// Statements of one tenant in `stored` order; the cursor is the count read so far.
#[derive(Default)]
struct MemorySource {
    statements: Mutex<BTreeMap<Tenant, Vec<Value>>>,
}

#[async_trait]
impl StatementSource for MemorySource {
    async fn after(
        &self,
        tenant: Tenant,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Batch, PortError> {
        let all = self
            .statements
            .lock()
            .unwrap()
            .get(&tenant)
            .cloned()
            .unwrap_or_default();
        let from: usize = cursor.as_deref().map_or(0, |c| c.parse().unwrap());
        let to = (from + limit).min(all.len());
        Ok(Batch {
            statements: all[from..to].to_vec(),
            cursor: Some(to.to_string()),
            more: to < all.len(),
        })
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, PortError> {
        Ok(self.statements.lock().unwrap().keys().copied().collect())
    }
}

/// Credentials by their Authorization header.
struct Keys(BTreeMap<&'static str, Caller>);

#[async_trait]
impl Authority for Keys {
    async fn authorize(&self, authorization: Option<&str>) -> Result<Caller, AuthFailure> {
        authorization
            .and_then(|a| self.0.get(a))
            .cloned()
            .ok_or(AuthFailure::Unauthenticated)
    }
}

const A: Tenant = Tenant(1);
const B: Tenant = Tenant(2);
const ADMIN_A: &str = "Basic admin-a";
const READER_A: &str = "Basic reader-a";
const ADMIN_B: &str = "Basic admin-b";

struct Harness {
    service: CapabilityService,
    records: Arc<MemoryRecords>,
    source: Arc<MemorySource>,
    org: Organisation,
}

fn harness() -> Harness {
    let org = Organisation::personas();
    let records = Arc::new(MemoryRecords::default());
    let source = Arc::new(MemorySource::default());
    let statements: Vec<Value> = org
        .statements
        .iter()
        .map(|s| Value::Object(s.json().clone()))
        .collect();
    source.statements.lock().unwrap().insert(A, statements);
    source.statements.lock().unwrap().insert(B, Vec::new());
    let caller = |tenant, manage, read| Caller {
        tenant,
        manage,
        read,
    };
    let keys = Keys(BTreeMap::from([
        (ADMIN_A, caller(A, true, true)),
        (READER_A, caller(A, false, true)),
        (ADMIN_B, caller(B, true, true)),
    ]));
    let as_of = org.as_of;
    let service = CapabilityService::new(
        Ports {
            records: records.clone(),
            source: source.clone(),
            authority: Arc::new(keys),
        },
        Arc::new(move || as_of),
    );
    Harness {
        service,
        records,
        source,
        org,
    }
}

impl Harness {
    async fn call(
        &self,
        method: &str,
        path: &str,
        auth: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("Authorization", auth)
            .header("Content-Type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        let response = crate::router(self.service.clone())
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, value)
    }

    /// Puts the fixture's whole model through the API.
    async fn put_model(&self) {
        for framework in self.org.catalog.frameworks() {
            let body = serde_json::to_value(framework).unwrap();
            let path = format!("/capabilities/frameworks/{}", framework.id());
            let (status, answer) = self.call("PUT", &path, ADMIN_A, Some(body)).await;
            assert_eq!(status, StatusCode::CREATED, "{answer}");
        }
        for role in self.org.roles.iter() {
            let body = serde_json::to_value(role).unwrap();
            let path = format!("/capabilities/roles/{}", role.id());
            let (status, answer) = self.call("PUT", &path, ADMIN_A, Some(body)).await;
            assert_eq!(status, StatusCode::CREATED, "{answer}");
        }
        let parts = [
            (
                "/capabilities/assignments",
                serde_json::to_value(&self.org.assignments).unwrap(),
            ),
            (
                "/capabilities/rules",
                serde_json::to_value(fixture::rule_specs()).unwrap(),
            ),
            (
                "/capabilities/config",
                serde_json::to_value(fixture::config_spec()).unwrap(),
            ),
        ];
        for (path, body) in parts {
            let (status, answer) = self.call("PUT", path, ADMIN_A, Some(body)).await;
            assert_eq!(status, StatusCode::CREATED, "{path}: {answer}");
        }
    }

    async fn stored_ledger(&self) -> Ledger {
        follower::load_state(self.records.as_ref(), A)
            .await
            .unwrap()
            .unwrap()
            .0
            .ledger
    }
}

#[tokio::test]
async fn sync_derives_the_same_ledger_as_the_engine_and_replays_idempotently() {
    let h = harness();
    h.put_model().await;
    let (status, report) = h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["statements"], json!(h.org.statements.len()));
    assert_eq!(report["unreadable"], json!(0));
    assert!(report["evidence_added"].as_u64().unwrap() > 0);
    assert_eq!(h.stored_ledger().await, h.org.ledger());

    // Nothing new: nothing applied, nothing written.
    let (_, again) = h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    assert_eq!(again["statements"], json!(0));

    // A crash after applying but before the cursor was saved replays the stream: same ledger.
    let (mut state, version) = follower::load_state(h.records.as_ref(), A)
        .await
        .unwrap()
        .unwrap();
    state.cursor = None;
    let bytes = Bytes::from(serde_json::to_vec(&state).unwrap());
    h.records
        .put(
            A,
            follower::KIND_LEDGER,
            crate::model::GROUP,
            "ledger",
            bytes,
            Expect::Version(version),
        )
        .await
        .unwrap()
        .unwrap();
    let (_, replay) = h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    assert_eq!(replay["statements"], json!(h.org.statements.len()));
    assert_eq!(replay["evidence_added"], json!(0));
    assert_eq!(h.stored_ledger().await, h.org.ledger());
}

#[tokio::test]
async fn statements_arriving_in_small_batches_give_the_same_ledger() {
    let h = harness();
    h.put_model().await;
    // Feed the stream in three parts, syncing after each.
    let all = h
        .source
        .statements
        .lock()
        .unwrap()
        .get(&A)
        .cloned()
        .unwrap();
    let thirds = [all.len() / 3, 2 * all.len() / 3, all.len()];
    for end in thirds {
        h.source
            .statements
            .lock()
            .unwrap()
            .insert(A, all[..end].to_vec());
        let (status, _) = h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(h.stored_ledger().await, h.org.ledger());
}

#[tokio::test]
async fn a_rule_change_rederives_the_ledger() {
    let h = harness();
    h.put_model().await;
    h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    // Drop every rule but the first: the ledger holds only that rule's evidence.
    let specs = fixture::rule_specs();
    let kept = vec![specs[0].clone()];
    let (status, answer) = h
        .call(
            "PUT",
            "/capabilities/rules",
            ADMIN_A,
            Some(serde_json::to_value(&kept).unwrap()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, report) = h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    assert_eq!(report["rederived"], json!(true));
    let rules = capability_engine::RuleSet::new(kept, &h.org.catalog).unwrap();
    let expected = Ledger::derive(&rules, &h.org.catalog, &h.org.statements).0;
    assert_eq!(h.stored_ledger().await, expected);
}

#[tokio::test]
async fn a_lost_compare_and_set_stops_the_run_without_applying() {
    let h = harness();
    h.put_model().await;
    *h.records.refuse_ledger.lock().unwrap() = true;
    let (status, report) = h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["contended"], json!(true));
    assert!(
        follower::load_state(h.records.as_ref(), A)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn reports_match_the_engine_for_a_persona() {
    let h = harness();
    h.put_model().await;
    h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    let ledger = h.org.ledger();
    let reports = h.org.reports(&ledger);
    let assignment = h.org.assignments.iter().next().unwrap().clone();
    let expected = reports
        .gap_report(&assignment.person, &assignment.role, h.org.as_of)
        .unwrap();
    let agent = fixture::agent(assignment.person.as_str(), "x");
    let path = format!(
        "/capabilities/roles/{}/gap?agent={}",
        assignment.role,
        url::form_urlencoded::byte_serialize(agent.to_string().as_bytes()).collect::<String>()
    );
    let (status, gap) = h.call("GET", &path, READER_A, None).await;
    assert_eq!(status, StatusCode::OK, "{gap}");
    assert_eq!(gap, serde_json::to_value(&expected).unwrap());

    let path = format!("/capabilities/roles/{}/heatmap", assignment.role);
    let (status, map) = h.call("GET", &path, READER_A, None).await;
    assert_eq!(status, StatusCode::OK, "{map}");
    let team = capability_engine::Team::Role {
        role: assignment.role.clone(),
    };
    assert_eq!(
        map,
        serde_json::to_value(reports.heatmap(&team, h.org.as_of).unwrap()).unwrap()
    );

    let path = format!(
        "/capabilities/people/assessments?agent={}&as_of=2020-01-01T00:00:00Z",
        url::form_urlencoded::byte_serialize(assignment.person.as_str().as_bytes())
            .collect::<String>()
    );
    let (status, early) = h.call("GET", &path, READER_A, None).await;
    assert_eq!(status, StatusCode::OK, "{early}");
    for assessment in early["assessments"].as_array().unwrap() {
        assert_eq!(
            assessment["level"],
            Value::Null,
            "no evidence observed before 2020"
        );
    }
}

#[tokio::test]
async fn errors_name_the_field_and_the_rule() {
    let h = harness();
    h.put_model().await;
    let framework = h.org.catalog.frameworks()[0].clone();
    let mut body = serde_json::to_value(&framework).unwrap();
    body["scale"] = json!([]);
    let path = format!("/capabilities/frameworks/{}", framework.id());
    let (status, error) = h.call("PUT", &path, ADMIN_A, Some(body.clone())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["path"], json!("scale"));
    assert_eq!(error["rule"], json!("non-empty"));
    assert_eq!(error["status"], json!(400));
    assert!(
        error["rule"].is_string() && error["message"].is_string(),
        "{error}"
    );

    // Path and body disagree.
    let (status, error) = h
        .call(
            "PUT",
            "/capabilities/frameworks/other",
            ADMIN_A,
            Some(serde_json::to_value(&framework).unwrap()),
        )
        .await;
    assert_eq!(
        (status, error["rule"].clone()),
        (StatusCode::BAD_REQUEST, json!("path-id"))
    );

    // Dropping capabilities that other stored frameworks relate to, or roles require, breaks
    // those: a conflict naming the stored part.
    let mut fewer = serde_json::to_value(&framework).unwrap();
    let caps = fewer["capabilities"].as_array_mut().unwrap();
    caps.truncate(1);
    fewer["relations"] = json!([]);
    let (status, error) = h.call("PUT", &path, ADMIN_A, Some(fewer)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_eq!(error["rule"], json!("known-capability"), "{error}");
    let broken = error["path"].as_str().unwrap();
    assert!(
        broken.starts_with("frameworks[1]") || broken.starts_with("roles"),
        "{error}"
    );

    // Unknown capability in a role.
    let (status, error) = h
        .call(
            "PUT",
            "/capabilities/roles/r1",
            ADMIN_A,
            Some(json!({"id": "r1", "name": "R", "requirements": [{"capability": "nope", "level": 1}]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["path"], json!("requirements[0].capability"));
    assert_eq!(error["rule"], json!("known-capability"));

    let (status, error) = h
        .call(
            "GET",
            "/capabilities/people/assessments?as_of=yesterday&agent=mbox:mailto:a@b.example",
            READER_A,
            None,
        )
        .await;
    assert_eq!(
        (status, error["path"].clone()),
        (StatusCode::BAD_REQUEST, json!("as_of"))
    );
}

#[tokio::test]
async fn access_is_checked_and_tenants_are_apart() {
    let h = harness();
    h.put_model().await;
    let role = h.org.roles.iter().next().unwrap().id().clone();
    let (status, _) = h
        .call("PUT", "/capabilities/rules", READER_A, Some(json!([])))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = h.call("POST", "/capabilities/sync", READER_A, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = h
        .call("GET", "/capabilities/frameworks", "Basic wrong", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, _) = h
        .call(
            "GET",
            &format!("/capabilities/roles/{role}"),
            READER_A,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        format!("/capabilities/roles/{role}"),
        format!("/capabilities/roles/{role}/heatmap"),
        format!(
            "/capabilities/frameworks/{}",
            h.org.catalog.frameworks()[0].id()
        ),
        "/capabilities/rules".to_owned(),
    ] {
        let (status, _) = h.call("GET", &path, ADMIN_B, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (_, list) = h
        .call("GET", "/capabilities/frameworks", ADMIN_B, None)
        .await;
    assert_eq!(list, json!({"frameworks": []}));
}

#[test]
fn fixture_statements_read_back() {
    // The double serves what the LRS serves: stored statements the engine reads.
    let org = Organisation::personas();
    for s in &org.statements {
        assert!(StoredStatement::parse(s.json().clone()).is_ok());
    }
}
