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
use crate::{CapabilityService, Ports, follower, ledger_store};

type Key = (Tenant, String, String, String);

/// Records in a map, with the compare-and-set of the real stores (shared with the pages'
/// tests).
#[derive(Default)]
pub(crate) struct MemoryRecords {
    map: Mutex<BTreeMap<Key, Record>>,
    /// Writes of the ledger cursor refused from now on, as if another server always got there
    /// first.
    refuse_ledger: Mutex<bool>,
    /// Writes of the ledger cursor fail from now on, as if the server crashed right before.
    fail_cursor: Mutex<bool>,
    /// Reads of person evidence records so far (gets and list pages).
    evidence_reads: Mutex<usize>,
    /// Writes that replaced an evidence record already stored.
    evidence_rewrites: Mutex<usize>,
    /// Reads of people index entries so far.
    people_reads: Mutex<usize>,
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
        if kind == ledger_store::KIND_EVIDENCE {
            *self.evidence_reads.lock().unwrap() += 1;
        }
        if kind == ledger_store::KIND_PEOPLE {
            *self.people_reads.lock().unwrap() += 1;
        }
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
        if kind == follower::KIND_LEDGER && *self.fail_cursor.lock().unwrap() {
            return Err(PortError::Unavailable("the server stopped".to_owned()));
        }
        if kind == ledger_store::KIND_EVIDENCE && matches!(expect, Expect::Version(_)) {
            *self.evidence_rewrites.lock().unwrap() += 1;
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
        if kind == ledger_store::KIND_EVIDENCE {
            *self.evidence_reads.lock().unwrap() += 1;
        }
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
    /// Only this many statements are visible yet, and more are always said to follow (a
    /// store still catching up).
    visible: Mutex<Option<usize>>,
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
        let visible = *self.visible.lock().unwrap();
        let end = visible.map_or(all.len(), |v| v.min(all.len()));
        let from: usize = cursor.as_deref().map_or(0, |c| c.parse().unwrap());
        let to = (from + limit).min(end);
        Ok(Batch {
            statements: all[from..to].to_vec(),
            cursor: Some(to.to_string()),
            more: visible.is_some() || to < all.len(),
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
    /// The service's "now": the fixture's date until a test moves it.
    now: Arc<Mutex<chrono::DateTime<chrono::Utc>>>,
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
    let now = Arc::new(Mutex::new(org.as_of));
    let clock = now.clone();
    let service = CapabilityService::new(
        Ports {
            records: records.clone(),
            source: source.clone(),
            authority: Arc::new(keys),
        },
        Arc::new(move || *clock.lock().unwrap()),
    );
    Harness {
        service,
        records,
        source,
        org,
        now,
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

    // A cursor moved back (as after a crash before its write) replays the stream: same ledger.
    let store = ledger_store::LedgerStore {
        records: h.records.as_ref(),
        tenant: A,
    };
    let (mut cursor, version) = store.cursor().await.unwrap().unwrap();
    cursor.serving.as_mut().unwrap().cursor = None;
    store
        .put_cursor(&cursor, Some(version))
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
    // Each evidence item is a record written once: what a sync writes grows with the new
    // evidence, not with what a person already has.
    assert_eq!(*h.records.evidence_rewrites.lock().unwrap(), 0);
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

    let path = format!(
        "/capabilities/roles/{}/heatmap?explain=true",
        assignment.role
    );
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

    // A heatmap asked to explain with something other than true or false.
    let role = h.org.roles.iter().next().unwrap().id().clone();
    let path_map = format!("/capabilities/roles/{role}/heatmap?explain=yes");
    let (status, error) = h.call("GET", &path_map, READER_A, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(
        (error["path"].clone(), error["rule"].clone()),
        (json!("explain"), json!("boolean"))
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

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

impl Harness {
    /// A GET answered as text (CSV).
    async fn text(&self, path: &str) -> (StatusCode, String, String) {
        let request = Request::builder()
            .uri(path)
            .header("Authorization", READER_A)
            .body(Body::empty())
            .unwrap();
        let response = crate::router(self.service.clone())
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            content_type,
            String::from_utf8(bytes.to_vec()).unwrap(),
        )
    }

    /// The fixture's first assignment, the path of its gap report, and that report as the
    /// engine gives it on the fixture's whole ledger.
    fn first_gap(&self) -> (capability_engine::Assignment, String, Value) {
        let assignment = self.org.assignments.iter().next().unwrap().clone();
        let path = format!(
            "/capabilities/roles/{}/gap?agent={}",
            assignment.role,
            encode(assignment.person.as_str())
        );
        let ledger = self.org.ledger();
        let report = self
            .org
            .reports(&ledger)
            .gap_report(&assignment.person, &assignment.role, self.org.as_of)
            .unwrap();
        (assignment, path, serde_json::to_value(&report).unwrap())
    }

    fn store(&self) -> ledger_store::LedgerStore<'_> {
        ledger_store::LedgerStore {
            records: self.records.as_ref(),
            tenant: A,
        }
    }
}

/// Reads RFC 4180 text back into rows of fields.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => assert_eq!(chars.next(), Some('\n'), "CR without LF"),
            (false, '\n') => panic!("a line ends in LF alone"),
            (false, c) => field.push(c),
        }
        if !quoted && c == '\r' {
            row.push(std::mem::take(&mut field));
            rows.push(std::mem::take(&mut row));
        }
    }
    assert!(
        row.is_empty() && field.is_empty(),
        "the last line has no CRLF"
    );
    rows
}

/// The CSV as maps from header to field, checking every row is as long as the header.
fn csv_records(text: &str) -> Vec<BTreeMap<String, String>> {
    let rows = parse_csv(text);
    let header = rows[0].clone();
    rows[1..]
        .iter()
        .map(|row| {
            assert_eq!(row.len(), header.len(), "{row:?}");
            header.iter().cloned().zip(row.iter().cloned()).collect()
        })
        .collect()
}

#[test]
fn csv_fields_are_quoted_as_rfc_4180_says() {
    fn check(field: &str, expected: &str) {
        assert_eq!(crate::report_csv::quote(field), expected, "{field:?}");
        let line = format!("{},x\r\n", crate::report_csv::quote(field));
        assert_eq!(
            parse_csv(&line),
            vec![vec![field.to_owned(), "x".to_owned()]]
        );
    }
    check("plain", "plain");
    check("", "");
    check("a,b", "\"a,b\"");
    check("say \"hi\"", "\"say \"\"hi\"\"\"");
    check("two\nlines", "\"two\nlines\"");
    check("cr\r\nlf", "\"cr\r\nlf\"");
    check(
        "mbox:mailto:ana@acme.example",
        "mbox:mailto:ana@acme.example",
    );
}

#[tokio::test]
async fn a_crash_between_the_people_and_the_cursor_write_replays_idempotently() {
    let h = harness();
    h.put_model().await;
    *h.records.fail_cursor.lock().unwrap() = true;
    let (status, _) = h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    // The people's records were written; no generation is served yet.
    assert!(h.store().cursor().await.unwrap().is_none());
    let written = h
        .records
        .map
        .lock()
        .unwrap()
        .keys()
        .filter(|(_, kind, _, _)| kind == ledger_store::KIND_EVIDENCE)
        .count();
    assert!(written > 0);

    *h.records.fail_cursor.lock().unwrap() = false;
    let (status, replay) = h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    assert_eq!(status, StatusCode::OK, "{replay}");
    assert_eq!(replay["statements"], json!(h.org.statements.len()));
    assert_eq!(replay["evidence_added"], json!(0), "{replay}");
    assert_eq!(h.stored_ledger().await, h.org.ledger());
}

#[tokio::test]
async fn the_old_generation_is_served_until_the_new_one_catches_up() {
    let h = harness();
    h.put_model().await;
    h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    let (assignment, gap_path, expected) = h.first_gap();
    let (_, before) = h.call("GET", &gap_path, READER_A, None).await;
    assert_eq!(before, expected);

    // New rules; the store shows only part of the stream: the new generation cannot catch up.
    let specs = fixture::rule_specs();
    let kept = vec![specs[0].clone()];
    let body = serde_json::to_value(&kept).unwrap();
    let (status, _) = h
        .call("PUT", "/capabilities/rules", ADMIN_A, Some(body))
        .await;
    assert_eq!(status, StatusCode::OK);
    *h.source.visible.lock().unwrap() = Some(h.org.statements.len() / 2);
    let (_, report) = h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    assert_eq!(report["rederived"], json!(true), "{report}");
    let (cursor, _) = h.store().cursor().await.unwrap().unwrap();
    let building = cursor.building.clone().unwrap();
    let serving = cursor.serving.clone().unwrap();
    assert_ne!(building.prefix(), serving.prefix());
    assert_eq!(
        building.cursor,
        Some((h.org.statements.len() / 2).to_string())
    );
    let (_, during) = h.call("GET", &gap_path, READER_A, None).await;
    assert_eq!(during, before, "the old generation is still served");

    // Everything visible: the new generation catches up and is served.
    *h.source.visible.lock().unwrap() = None;
    let (_, report) = h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    assert_eq!(report["rederived"], json!(true), "{report}");
    let (cursor, _) = h.store().cursor().await.unwrap().unwrap();
    assert!(cursor.building.is_none());
    assert_eq!(cursor.serving.unwrap().number, building.number);
    let rules = capability_engine::RuleSet::new(kept, &h.org.catalog).unwrap();
    let derived = Ledger::derive(&rules, &h.org.catalog, &h.org.statements).0;
    assert_eq!(h.stored_ledger().await, derived);
    let (_, after) = h.call("GET", &gap_path, READER_A, None).await;
    let catalog = h.org.catalog.clone();
    let config = h.org.config.clone();
    let reports = capability_engine::Reports::new(
        capability_engine::Evaluator::new(&catalog, &config, &derived),
        &h.org.roles,
        &h.org.assignments,
    );
    let expected = reports
        .gap_report(&assignment.person, &assignment.role, h.org.as_of)
        .unwrap();
    assert_eq!(after, serde_json::to_value(&expected).unwrap());
}

impl MemoryRecords {
    /// Records of the ledger kinds whose group starts with `prefix`.
    fn ledger_records_under(&self, prefix: &str) -> usize {
        let kinds = [
            ledger_store::KIND_EVIDENCE,
            ledger_store::KIND_PEOPLE,
            ledger_store::KIND_RETRACTION,
        ];
        self.map
            .lock()
            .unwrap()
            .keys()
            .filter(|(_, kind, group, _)| {
                kinds.contains(&kind.as_str()) && group.starts_with(&format!("{prefix}-"))
            })
            .count()
    }
}

#[tokio::test]
async fn a_replaced_generation_is_deleted_after_the_grace_period() {
    let h = harness();
    h.put_model().await;
    h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    let (cursor, _) = h.store().cursor().await.unwrap().unwrap();
    let first = cursor.serving.unwrap();
    let first_records = h.records.ledger_records_under(&first.prefix());
    assert!(first_records >= 10, "{first_records}");

    let kept = vec![fixture::rule_specs()[0].clone()];
    let body = serde_json::to_value(&kept).unwrap();
    h.call("PUT", "/capabilities/rules", ADMIN_A, Some(body))
        .await;
    let (_, report) = h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    assert_eq!(report["rederived"], json!(true), "{report}");
    assert_eq!(report["retired_generations"], json!(1), "{report}");
    assert_eq!(report["retired_records_deleted"], json!(0), "{report}");
    let (cursor, _) = h.store().cursor().await.unwrap().unwrap();
    let second = cursor.serving.clone().unwrap();
    assert_ne!(second.prefix(), first.prefix());
    assert_eq!(cursor.retired[0].generation, first);
    // Within the grace period a report that read the old cursor still finds it whole.
    assert_eq!(
        h.records.ledger_records_under(&first.prefix()),
        first_records
    );

    *h.now.lock().unwrap() += follower::RETIRED_GRACE + chrono::TimeDelta::seconds(1);
    let (_, report) = h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    assert_eq!(
        report["retired_records_deleted"],
        json!(first_records),
        "{report}"
    );
    assert_eq!(report["retired_generations"], json!(0), "{report}");
    assert_eq!(h.records.ledger_records_under(&first.prefix()), 0);
    let (cursor, _) = h.store().cursor().await.unwrap().unwrap();
    assert!(cursor.retired.is_empty());
    assert_eq!(cursor.serving.unwrap(), second);
    let rules = capability_engine::RuleSet::new(kept, &h.org.catalog).unwrap();
    let derived = Ledger::derive(&rules, &h.org.catalog, &h.org.statements).0;
    assert_eq!(h.stored_ledger().await, derived, "the served one is intact");

    // A build dropped because the rules went back is retired too.
    let body = serde_json::to_value(fixture::rule_specs()).unwrap();
    h.call("PUT", "/capabilities/rules", ADMIN_A, Some(body.clone()))
        .await;
    *h.source.visible.lock().unwrap() = Some(3);
    h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    let (cursor, _) = h.store().cursor().await.unwrap().unwrap();
    let dropped = cursor.building.clone().unwrap();
    *h.source.visible.lock().unwrap() = None;
    let body = serde_json::to_value([fixture::rule_specs()[0].clone()]).unwrap();
    h.call("PUT", "/capabilities/rules", ADMIN_A, Some(body))
        .await;
    let (_, report) = h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    assert_eq!(report["retired_generations"], json!(1), "{report}");
    *h.now.lock().unwrap() += follower::RETIRED_GRACE + chrono::TimeDelta::seconds(1);
    let (_, report) = h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    assert_eq!(report["retired_generations"], json!(0), "{report}");
    assert_eq!(h.records.ledger_records_under(&dropped.prefix()), 0);
}

#[tokio::test]
async fn reports_read_only_the_people_they_need() {
    let h = harness();
    h.put_model().await;
    h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    let assignment = h.org.assignments.iter().next().unwrap().clone();
    let before = *h.records.evidence_reads.lock().unwrap();
    let path = format!(
        "/capabilities/roles/{}/gap?agent={}",
        assignment.role,
        encode(assignment.person.as_str())
    );
    let (status, _) = h.call("GET", &path, READER_A, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(*h.records.evidence_reads.lock().unwrap() - before, 1);

    let before = *h.records.evidence_reads.lock().unwrap();
    let path = format!("/capabilities/roles/{}/heatmap", assignment.role);
    let (status, map) = h.call("GET", &path, READER_A, None).await;
    assert_eq!(status, StatusCode::OK);
    let holders = h.org.assignments.people_in(&assignment.role, h.org.as_of);
    assert_eq!(map["people"].as_array().unwrap().len(), holders.len());
    assert_eq!(
        *h.records.evidence_reads.lock().unwrap() - before,
        holders.len()
    );
}

#[tokio::test]
async fn person_and_stale_reports_match_the_engine() {
    let h = harness();
    h.put_model().await;
    h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    let ledger = h.org.ledger();
    let reports = h.org.reports(&ledger);
    let horizon = capability_engine::Days::new(180.0).unwrap();
    let mut holders: Vec<_> = h
        .org
        .assignments
        .people()
        .into_iter()
        .filter(|p| !h.org.assignments.roles_of(p, h.org.as_of).is_empty())
        .cloned()
        .collect();
    holders.sort();
    holders.dedup();
    for person in &holders {
        let path = format!(
            "/capabilities/people/report?agent={}",
            encode(person.as_str())
        );
        let (status, report) = h.call("GET", &path, READER_A, None).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        let expected = reports.person_report(person, h.org.as_of).unwrap();
        assert_eq!(report, serde_json::to_value(&expected).unwrap());

        let path = format!(
            "/capabilities/stale?agent={}&horizon_days=180",
            encode(person.as_str())
        );
        let (status, stale) = h.call("GET", &path, READER_A, None).await;
        assert_eq!(status, StatusCode::OK, "{stale}");
        let expected = reports.stale_report(person, h.org.as_of, horizon).unwrap();
        assert_eq!(stale["people"][0], serde_json::to_value(&expected).unwrap());
    }

    // Everyone holding a role, in key order.
    let (status, all) = h
        .call(
            "GET",
            "/capabilities/stale?horizon_days=180",
            READER_A,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let people: Vec<Value> = all["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["person"].clone())
        .collect();
    assert_eq!(
        people,
        serde_json::to_value(&holders)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    );
    let due: usize = all["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reassessments"].as_array().unwrap().len())
        .sum();
    assert!(due > 0, "the fixture has reassessments due: {all}");

    for (path, field, rule) in [
        (
            "/capabilities/stale?horizon_days=soon",
            "horizon_days",
            "days",
        ),
        (
            "/capabilities/stale?horizon_days=-1",
            "horizon_days",
            "non-negative",
        ),
        ("/capabilities/stale?format=xml", "format", "report-format"),
        ("/capabilities/people/report", "agent", "required"),
    ] {
        let (status, error) = h.call("GET", path, READER_A, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {error}");
        assert_eq!(error["path"], json!(field), "{path}: {error}");
        if rule != "non-negative" {
            assert_eq!(error["rule"], json!(rule), "{path}: {error}");
        }
    }
}

#[tokio::test]
async fn csv_reports_parse_back_to_the_json_ones() {
    let h = harness();
    h.put_model().await;
    h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    let assignment = h.org.assignments.iter().next().unwrap().clone();
    let query = format!("agent={}", encode(assignment.person.as_str()));

    // Gap: one row per requirement.
    let path = format!("/capabilities/roles/{}/gap?{query}", assignment.role);
    let (_, json) = h.call("GET", &path, READER_A, None).await;
    let (status, content_type, text) = h.text(&format!("{path}&format=csv")).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let rows = csv_records(&text);
    let expected = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), expected.len());
    for (row, want) in rows.iter().zip(expected) {
        assert_eq!(row["person"], assignment.person.as_str());
        assert_eq!(json!(row["capability"]), want["capability"]);
        assert_eq!(json!(row["name"]), want["name"]);
        assert_eq!(row["required"], want["required"].to_string());
        assert_eq!(row["gap"], want["gap"].to_string());
        assert_eq!(row["met"], want["met"].to_string());
        let achieved = want["achieved"].as_u64().map(|l| l.to_string());
        assert_eq!(row["achieved"], achieved.unwrap_or_default());
        assert_eq!(json!(row["criticality"]), want["criticality"]);
    }

    // Person report over every role: the same columns.
    let path = format!("/capabilities/people/report?{query}");
    let (_, json) = h.call("GET", &path, READER_A, None).await;
    let (_, _, text) = h.text(&format!("{path}&format=csv")).await;
    assert_eq!(
        csv_records(&text).len(),
        json["rows"].as_array().unwrap().len()
    );

    // Heatmap: one row per person and capability.
    let path = format!("/capabilities/roles/{}/heatmap", assignment.role);
    let (_, json) = h.call("GET", &path, READER_A, None).await;
    let (status, _, text) = h.text(&format!("{path}?format=csv")).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let rows = csv_records(&text);
    let people = json["people"].as_array().unwrap();
    let capabilities = json["capabilities"].as_array().unwrap();
    assert_eq!(rows.len(), people.len() * capabilities.len());
    for (i, row) in rows.iter().enumerate() {
        let (p, c) = (i / capabilities.len(), i % capabilities.len());
        let cell = &json["cells"][p][c];
        assert_eq!(json!(row["person"]), people[p]);
        assert_eq!(json!(row["capability"]), capabilities[c]);
        let level = cell["level"].as_u64().map(|l| l.to_string());
        assert_eq!(row["level"], level.unwrap_or_default());
        let gap = cell["gap"].as_i64().map(|g| g.to_string());
        assert_eq!(row["gap"], gap.unwrap_or_default());
        assert_eq!(
            row["confidence"].parse::<f64>().unwrap(),
            cell["confidence"].as_f64().unwrap()
        );
    }

    // Stale: a row per reassessment and per stale item.
    let (_, json) = h.call("GET", "/capabilities/stale", READER_A, None).await;
    let (status, _, text) = h.text("/capabilities/stale?format=csv").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let rows = csv_records(&text);
    let mut expected = Vec::new();
    for report in json["people"].as_array().unwrap() {
        for r in report["reassessments"].as_array().unwrap() {
            expected.push((
                "reassessment",
                report["person"].clone(),
                r["capability"].clone(),
                r["reason"].clone(),
            ));
        }
        for s in report["stale_evidence"].as_array().unwrap() {
            expected.push((
                "stale-evidence",
                report["person"].clone(),
                s["capability"].clone(),
                json!("stale"),
            ));
        }
    }
    let got: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r["item"].as_str(),
                json!(r["person"]),
                json!(r["capability"]),
                json!(r["reason"]),
            )
        })
        .collect();
    assert_eq!(got, expected);
    assert!(!rows.is_empty());
}

#[tokio::test]
async fn two_thousand_people_sync_and_report_as_the_engine_does() {
    let org = Organisation::new(fixture::Options {
        generated_people: 2000,
        seed: 11,
    });
    let h = Harness { org, ..harness() };
    let statements: Vec<Value> = h
        .org
        .statements
        .iter()
        .map(|s| Value::Object(s.json().clone()))
        .collect();
    h.source.statements.lock().unwrap().insert(A, statements);
    h.put_model().await;
    let (status, report) = h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["statements"], json!(h.org.statements.len()));
    assert_eq!(report["unreadable"], json!(0));
    assert!(h.org.people.len() > 2000);
    assert!(h.org.statements.len() > 2 * h.org.people.len());
    let ledger = h.org.ledger();
    assert_eq!(report["ledger_items"], json!(ledger.len()));
    // Many batches, each touching hundreds of people: each person's index entry is looked up
    // once in the run, not once a batch.
    let people = ledger.people().len();
    let batches = h.org.statements.len().div_ceil(follower::BATCH);
    assert!(batches >= 4, "{batches}");
    assert_eq!(*h.records.people_reads.lock().unwrap(), people);
    assert_eq!(h.stored_ledger().await, ledger);

    let reports = h.org.reports(&ledger);
    for role in h.org.roles.iter() {
        let path = format!("/capabilities/roles/{}/heatmap", role.id());
        let (status, map) = h.call("GET", &path, READER_A, None).await;
        assert_eq!(status, StatusCode::OK);
        let team = capability_engine::Team::Role {
            role: role.id().clone(),
        };
        let expected = serde_json::to_value(reports.heatmap(&team, h.org.as_of).unwrap()).unwrap();
        // Asked to explain, every cell carries the engine's assessment whole.
        let (status, explained) = h
            .call("GET", &format!("{path}?explain=true"), READER_A, None)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(explained, expected);
        // By default the cells carry the figures only: the heatmap without the explanations.
        let mut compact = expected.clone();
        for row in compact["cells"].as_array_mut().unwrap() {
            for cell in row.as_array_mut().unwrap() {
                let last = cell["assessment"]["last_evidence_at"].clone();
                let cell = cell.as_object_mut().unwrap();
                cell.remove("assessment");
                cell.insert("last_evidence_at".to_owned(), last);
            }
        }
        assert_eq!(map, compact);
        let (small, whole) = (map.to_string().len(), explained.to_string().len());
        assert!(small * 10 < whole, "{small} bytes against {whole}");
    }
    for person in h.org.people.iter().step_by(97) {
        let path = format!(
            "/capabilities/people/report?agent={}",
            encode(person.key.as_str())
        );
        let (status, report) = h.call("GET", &path, READER_A, None).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        let expected = reports.person_report(&person.key, h.org.as_of).unwrap();
        assert_eq!(report, serde_json::to_value(&expected).unwrap());
    }
}

#[tokio::test]
async fn the_model_is_built_again_only_when_its_records_change() {
    let h = harness();
    h.put_model().await;
    let first = h.service.model(A).await.unwrap();
    let again = h.service.model(A).await.unwrap();
    assert!(
        Arc::ptr_eq(&first, &again),
        "unchanged records, the same model"
    );

    let specs = fixture::rule_specs();
    let body = serde_json::to_value(&specs[..1]).unwrap();
    let (status, _) = h
        .call("PUT", "/capabilities/rules", ADMIN_A, Some(body))
        .await;
    assert_eq!(status, StatusCode::OK);
    let changed = h.service.model(A).await.unwrap();
    assert!(!Arc::ptr_eq(&first, &changed));
    assert_eq!(changed.rules.as_ref().unwrap().len(), 1);
    // Another tenant's model is its own.
    let other = h.service.model(B).await.unwrap();
    assert!(other.rules.is_none());
}

/// Stores the fixture's ledger as the first layout did: one record per person holding that
/// person's whole ledger, the people index, the retractions, and a cursor without a layout.
async fn store_first_layout_generation(h: &Harness) -> ledger_store::Generation {
    let model = crate::model::ModelStore {
        records: h.records.as_ref(),
        tenant: A,
    }
    .model()
    .await
    .unwrap();
    let key = model.derivation_key().unwrap();
    let rules = model.rules.clone().unwrap();
    let ledger = h.org.ledger();
    let prefix = format!("g0-{}", &key[..16]);
    for person in ledger.people() {
        let mut own = Ledger::new(&rules);
        for entry in ledger.entries().filter(|e| &e.evidence.person == person) {
            own.add(entry.evidence.clone()).unwrap();
        }
        let hash = ledger_store::person_hash(person);
        let record = json!({"person": person, "ledger": own});
        let (kind, group) = (ledger_store::KIND_EVIDENCE, format!("{prefix}-p-{hash}"));
        let value = Bytes::from(record.to_string());
        h.records
            .put(A, kind, &group, "evidence", value, Expect::Absent)
            .await
            .unwrap()
            .unwrap();
        let group = format!("{prefix}-people-{}", &hash[..2]);
        let value = Bytes::from(serde_json::to_vec(person).unwrap());
        h.records
            .put(
                A,
                ledger_store::KIND_PEOPLE,
                &group,
                &hash,
                value,
                Expect::Absent,
            )
            .await
            .unwrap()
            .unwrap();
    }
    for retraction in ledger.retractions() {
        let group = format!("{prefix}-r-{:02x}", retraction.target.as_bytes()[0]);
        let value = Bytes::from(serde_json::to_vec(retraction).unwrap());
        let id = retraction.target.to_string();
        h.records
            .put(
                A,
                ledger_store::KIND_RETRACTION,
                &group,
                &id,
                value,
                Expect::Absent,
            )
            .await
            .unwrap()
            .unwrap();
    }
    let n = h.org.statements.len();
    let cursor = json!({
        "serving": {"number": 0, "derived_from": key, "cursor": n.to_string(), "statements": n, "items": ledger.len()},
        "building": null,
        "generations": 1
    });
    let value = Bytes::from(cursor.to_string());
    h.records
        .put(
            A,
            follower::KIND_LEDGER,
            crate::model::GROUP,
            ledger_store::ID_CURSOR,
            value,
            Expect::Absent,
        )
        .await
        .unwrap()
        .unwrap();
    let (cursor, _) = h.store().cursor().await.unwrap().unwrap();
    cursor.serving.unwrap()
}

#[tokio::test]
async fn a_generation_of_the_first_layout_is_served_until_a_new_one_replaces_it() {
    let h = harness();
    h.put_model().await;
    let old = store_first_layout_generation(&h).await;
    assert_eq!(old.layout, 1);
    let (_, gap_path, expected) = h.first_gap();
    let ledger = h.org.ledger();
    let (status, served) = h.call("GET", &gap_path, READER_A, None).await;
    assert_eq!(status, StatusCode::OK, "{served}");
    assert_eq!(served, expected, "read from the first layout");
    assert_eq!(h.stored_ledger().await, ledger);

    // The same rules, but records of the first layout: derived again, into the current one.
    let (_, report) = h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    assert_eq!(report["rederived"], json!(true), "{report}");
    assert_eq!(report["evidence_added"], json!(ledger.len()), "{report}");
    let (cursor, _) = h.store().cursor().await.unwrap().unwrap();
    let new = cursor.serving.clone().unwrap();
    assert_eq!(new.layout, ledger_store::LAYOUT);
    assert_eq!(cursor.retired[0].generation, old);
    assert_eq!(h.stored_ledger().await, ledger);
    let (_, served) = h.call("GET", &gap_path, READER_A, None).await;
    assert_eq!(served, expected, "read from the current layout");

    // Nothing more to derive; the old records go after the grace period.
    let (_, again) = h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    assert_eq!(again["rederived"], json!(false), "{again}");
    *h.now.lock().unwrap() += follower::RETIRED_GRACE + chrono::TimeDelta::seconds(1);
    h.call("POST", "/capabilities/sync", ADMIN_A, None).await;
    assert_eq!(h.records.ledger_records_under(&old.prefix()), 0);
    assert_eq!(h.stored_ledger().await, ledger);
}
