//! The storage test suite: written once against the storage traits, run by every backend.
//!
//! A backend instantiates it with [`storage_test_suite!`](crate::storage_test_suite), giving a
//! function that returns fresh, empty [`Stores`]; every case becomes its own `#[tokio::test]`.
//! Cases panic on failure, like any test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use uuid::Uuid;
use xapi::{Statement, Version};

use super::{
    CredentialRecord, DocumentError, DocumentScope, DocumentSet, DocumentWrite, Expect,
    InsertError, NewStatement, Precondition, RecordKey, RegistryError, StatementQuery, Stores,
    TenantId, TermKind, WriteMode,
};
use crate::statements::{Authority, prepare};

/// Instantiates every case of the suite for a backend.
#[macro_export]
macro_rules! storage_test_suite {
    ($fresh:path) => {
        $crate::storage_test_suite!(@cases $fresh;
            insert_then_get_round_trips,
            same_statement_twice_is_stored_once,
            conflicting_batch_stores_nothing,
            voiding_hides_target_from_queries,
            voiding_before_target_arrives,
            voiding_a_voiding_statement_is_refused,
            filters_select_statements,
            statement_refs_inherit_filter_terms,
            since_until_and_order,
            paging_is_stable_under_concurrent_inserts,
            tenants_are_isolated,
            consistent_through_covers_acknowledged_writes,
            documents_round_trip_with_concurrency,
            documents_create_refuses_to_overwrite,
            documents_merge_json_objects_only,
            documents_list_and_delete_scopes,
            documents_ids_are_opaque,
            tenants_and_credentials,
            activity_definitions_merge_by_trust,
            agent_names_accumulate,
            attachments_are_stored_once_per_tenant_and_hash,
            records_compare_and_set,
            records_list_in_id_order_by_group,
            blobs_round_trip_by_chunk
        );
    };
    (@cases $fresh:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let stores = $fresh().await;
                $crate::storage::suite::$case(stores).await;
            }
        )*
    };
}

const T1: TenantId = TenantId(1);
const T2: TenantId = TenantId(2);

fn authority() -> Authority {
    Authority::for_credential("http://localhost", "suite-key")
}

fn agent(n: u32) -> Value {
    json!({"objectType": "Agent", "mbox": format!("mailto:agent{n}@example.com")})
}

fn statement(actor: u32, verb: &str, activity: &str) -> Value {
    json!({
        "actor": agent(actor),
        "verb": {"id": format!("http://example.com/verbs/{verb}")},
        "object": {"objectType": "Activity", "id": format!("http://example.com/activities/{activity}")}
    })
}

fn new(value: Value) -> NewStatement {
    let parsed = Statement::parse(value, Version::V2_0_0, "$").expect("suite statement is valid");
    prepare(parsed, Version::V2_0_0, &authority())
}

fn new_defining(value: Value) -> NewStatement {
    let parsed = Statement::parse(value, Version::V2_0_0, "$").expect("suite statement is valid");
    crate::statements::prepare_as(parsed, Version::V2_0_0, &authority(), true)
}

fn with_id(mut value: Value, id: Uuid) -> Value {
    value["id"] = json!(id.to_string());
    value
}

fn voiding(target: Uuid) -> Value {
    json!({
        "actor": agent(99),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": target.to_string()}
    })
}

async fn ids_of(stores: &Stores, tenant: TenantId, query: StatementQuery) -> Vec<Uuid> {
    let page = stores
        .statements
        .query(tenant, &query)
        .await
        .expect("query");
    page.statements.iter().map(|s| s.id).collect()
}

fn query(filters: Vec<(TermKind, String)>) -> StatementQuery {
    StatementQuery {
        filters,
        limit: 100,
        ..StatementQuery::default()
    }
}

fn activity_id(name: &str) -> String {
    format!("http://example.com/activities/{name}")
}

fn verb_id(name: &str) -> String {
    format!("http://example.com/verbs/{name}")
}

fn agent_key(n: u32) -> String {
    format!("mbox:mailto:agent{n}@example.com")
}

pub async fn insert_then_get_round_trips(stores: Stores) {
    let before = Utc::now() - Duration::seconds(1);
    let ids = stores
        .statements
        .insert(T1, vec![new(statement(1, "did", "a"))])
        .await
        .expect("insert");
    assert_eq!(ids.len(), 1);
    let stored = stores
        .statements
        .get(T1, ids[0])
        .await
        .expect("get")
        .expect("present");
    assert_eq!(stored.id, ids[0]);
    assert!(!stored.voided);
    assert!(stored.stored >= before);
    let json: Value = serde_json::from_slice(&stored.json).expect("json");
    assert_eq!(json["id"], json!(ids[0].to_string()));
    assert_eq!(json["actor"], agent(1));
    assert_eq!(json["authority"]["account"]["name"], json!("suite-key"));
    assert_eq!(json["version"], json!("2.0.0"));
    assert_eq!(
        json["stored"], json["timestamp"],
        "timestamp defaults to stored"
    );
    assert!(json["stored"].as_str().expect("stored").ends_with('Z'));
    assert!(
        stores
            .statements
            .get(T1, Uuid::new_v4())
            .await
            .expect("get")
            .is_none()
    );
}

pub async fn same_statement_twice_is_stored_once(stores: Stores) {
    let id = Uuid::new_v4();
    let value = with_id(statement(1, "did", "a"), id);
    stores
        .statements
        .insert(T1, vec![new(value.clone())])
        .await
        .expect("first");
    let again = stores
        .statements
        .insert(T1, vec![new(value)])
        .await
        .expect("second");
    assert_eq!(again, vec![id]);
    assert_eq!(ids_of(&stores, T1, query(vec![])).await, vec![id]);
}

pub async fn conflicting_batch_stores_nothing(stores: Stores) {
    let id = Uuid::new_v4();
    stores
        .statements
        .insert(T1, vec![new(with_id(statement(1, "did", "a"), id))])
        .await
        .expect("first");
    let fresh = Uuid::new_v4();
    let result = stores
        .statements
        .insert(
            T1,
            vec![
                new(with_id(statement(2, "did", "b"), fresh)),
                new(with_id(statement(1, "did", "other"), id)),
            ],
        )
        .await;
    assert!(matches!(result, Err(InsertError::Conflict(conflict)) if conflict == id));
    assert!(
        stores
            .statements
            .get(T1, fresh)
            .await
            .expect("get")
            .is_none()
    );
    assert_eq!(ids_of(&stores, T1, query(vec![])).await, vec![id]);
}

pub async fn voiding_hides_target_from_queries(stores: Stores) {
    let target = Uuid::new_v4();
    stores
        .statements
        .insert(T1, vec![new(with_id(statement(1, "did", "a"), target))])
        .await
        .expect("target");
    let voider = stores
        .statements
        .insert(T1, vec![new(voiding(target))])
        .await
        .expect("voiding")[0];
    let got = stores
        .statements
        .get(T1, target)
        .await
        .expect("get")
        .expect("present");
    assert!(got.voided, "target is voided");
    let voiding_stmt = stores
        .statements
        .get(T1, voider)
        .await
        .expect("get")
        .expect("present");
    assert!(voiding_stmt.voiding && !voiding_stmt.voided);
    assert_eq!(ids_of(&stores, T1, query(vec![])).await, vec![voider]);
    // The voiding statement targets the voided one through a StatementRef, so it answers to
    // the target's filters (xAPI Communication §2.1.3); the voided statement does not.
    assert_eq!(
        ids_of(&stores, T1, query(vec![(TermKind::Verb, verb_id("did"))])).await,
        vec![voider]
    );
}

pub async fn voiding_before_target_arrives(stores: Stores) {
    let target = Uuid::new_v4();
    stores
        .statements
        .insert(T1, vec![new(voiding(target))])
        .await
        .expect("voiding an unknown statement is accepted");
    stores
        .statements
        .insert(T1, vec![new(with_id(statement(1, "did", "a"), target))])
        .await
        .expect("target");
    let got = stores
        .statements
        .get(T1, target)
        .await
        .expect("get")
        .expect("present");
    assert!(got.voided);
    assert!(
        !ids_of(&stores, T1, query(vec![])).await.contains(&target),
        "a voided statement leaves query results"
    );
}

pub async fn voiding_a_voiding_statement_is_refused(stores: Stores) {
    let target = Uuid::new_v4();
    stores
        .statements
        .insert(T1, vec![new(with_id(statement(1, "did", "a"), target))])
        .await
        .expect("target");
    let first = stores
        .statements
        .insert(T1, vec![new(voiding(target))])
        .await
        .expect("voiding")[0];
    let result = stores
        .statements
        .insert(T1, vec![new(voiding(first))])
        .await;
    assert!(matches!(result, Err(InsertError::VoidsVoiding { target, .. }) if target == first));
    let still = stores
        .statements
        .get(T1, first)
        .await
        .expect("get")
        .expect("present");
    assert!(!still.voided);
}

pub async fn filters_select_statements(stores: Stores) {
    let registration = Uuid::new_v4();
    let mut with_context = statement(2, "did", "b");
    with_context["context"] = json!({
        "registration": registration.to_string(),
        "instructor": agent(7),
        "contextActivities": {"parent": [{"id": activity_id("course")}]}
    });
    let ids = stores
        .statements
        .insert(
            T1,
            vec![
                new(statement(1, "did", "a")),
                new(with_context),
                new(statement(1, "saw", "b")),
            ],
        )
        .await
        .expect("insert");
    let check = |filters: Vec<(TermKind, String)>, expected: Vec<usize>| {
        let stores = stores.clone();
        let ids = ids.clone();
        async move {
            let mut got = ids_of(&stores, T1, query(filters.clone())).await;
            got.sort();
            let mut want: Vec<Uuid> = expected.iter().map(|&i| ids[i]).collect();
            want.sort();
            assert_eq!(got, want, "filters {filters:?}");
        }
    };
    check(vec![(TermKind::Agent, agent_key(1))], vec![0, 2]).await;
    check(vec![(TermKind::Verb, verb_id("did"))], vec![0, 1]).await;
    check(vec![(TermKind::Activity, activity_id("b"))], vec![1, 2]).await;
    check(
        vec![
            (TermKind::Agent, agent_key(1)),
            (TermKind::Verb, verb_id("saw")),
        ],
        vec![2],
    )
    .await;
    check(
        vec![(TermKind::Registration, registration.to_string())],
        vec![1],
    )
    .await;
    check(vec![(TermKind::Activity, activity_id("course"))], vec![]).await;
    check(
        vec![(TermKind::RelatedActivity, activity_id("course"))],
        vec![1],
    )
    .await;
    check(vec![(TermKind::Agent, agent_key(7))], vec![]).await;
    check(vec![(TermKind::RelatedAgent, agent_key(7))], vec![1]).await;
    check(vec![(TermKind::Authority, authority().key)], vec![0, 1, 2]).await;
    check(vec![(TermKind::Verb, verb_id("never"))], vec![]).await;
}

pub async fn statement_refs_inherit_filter_terms(stores: Stores) {
    let target = Uuid::new_v4();
    stores
        .statements
        .insert(
            T1,
            vec![new(with_id(statement(1, "passed", "explosives"), target))],
        )
        .await
        .expect("target");
    let confirm = json!({
        "actor": agent(2),
        "verb": {"id": verb_id("confirmed")},
        "object": {"objectType": "StatementRef", "id": target.to_string()}
    });
    let confirm_id = stores
        .statements
        .insert(T1, vec![new(confirm)])
        .await
        .expect("ref")[0];
    let chained = json!({
        "actor": agent(3),
        "verb": {"id": verb_id("noted")},
        "object": {"objectType": "StatementRef", "id": confirm_id.to_string()}
    });
    let chained_id = stores
        .statements
        .insert(T1, vec![new(chained)])
        .await
        .expect("chain")[0];
    let mut got = ids_of(&stores, T1, query(vec![(TermKind::Agent, agent_key(1))])).await;
    got.sort();
    let mut want = vec![target, confirm_id, chained_id];
    want.sort();
    assert_eq!(
        got, want,
        "a statement matches through the statement it references, recursively"
    );
    assert_eq!(
        ids_of(
            &stores,
            T1,
            query(vec![(TermKind::Activity, activity_id("explosives"))])
        )
        .await
        .len(),
        3
    );
}

pub async fn since_until_and_order(stores: Stores) {
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.extend(
            stores
                .statements
                .insert(T1, vec![new(statement(n, "did", "a"))])
                .await
                .expect("insert"),
        );
    }
    let mut stored = Vec::new();
    for id in &ids {
        stored.push(
            stores
                .statements
                .get(T1, *id)
                .await
                .expect("get")
                .expect("present")
                .stored,
        );
    }
    assert!(
        stored.windows(2).all(|w| w[0] < w[1]),
        "stored strictly increases"
    );
    let mut descending = ids.clone();
    descending.reverse();
    assert_eq!(ids_of(&stores, T1, query(vec![])).await, descending);
    let ascending = StatementQuery {
        ascending: true,
        ..query(vec![])
    };
    assert_eq!(ids_of(&stores, T1, ascending).await, ids);
    let window = StatementQuery {
        since: Some(stored[1]),
        until: Some(stored[3]),
        ascending: true,
        ..query(vec![])
    };
    assert_eq!(
        ids_of(&stores, T1, window).await,
        ids[2..=3].to_vec(),
        "since exclusive, until inclusive"
    );
    let limited = StatementQuery {
        limit: 2,
        ..query(vec![(TermKind::Verb, verb_id("did"))])
    };
    assert_eq!(ids_of(&stores, T1, limited).await, descending[..2].to_vec());
}

pub async fn paging_is_stable_under_concurrent_inserts(stores: Stores) {
    for ascending in [false, true] {
        let verb = if ascending { "asc" } else { "desc" };
        let mut expected = Vec::new();
        for n in 0..7 {
            expected.extend(
                stores
                    .statements
                    .insert(T1, vec![new(statement(n, verb, "a"))])
                    .await
                    .expect("insert"),
            );
        }
        let mut q = StatementQuery {
            ascending,
            limit: 3,
            ..query(vec![(TermKind::Verb, verb_id(verb))])
        };
        let mut seen = Vec::new();
        let mut late = Vec::new();
        loop {
            let page = stores.statements.query(T1, &q).await.expect("page");
            assert!(page.statements.len() <= 3);
            seen.extend(page.statements.iter().map(|s| s.id));
            // New statements arrive between pages.
            late.extend(
                stores
                    .statements
                    .insert(T1, vec![new(statement(50, verb, "a"))])
                    .await
                    .expect("insert"),
            );
            match page.next {
                Some(next) => q.after = Some(next),
                None => break,
            }
        }
        if ascending {
            // Pages run forward in time, so statements that arrive while paging show up at the
            // end; what was there at the start comes first, in order, once each.
            assert_eq!(seen[..expected.len()], expected[..]);
            let mut unique = seen.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), seen.len(), "no duplicates");
        } else {
            expected.reverse();
            assert_eq!(
                seen, expected,
                "descending pages have no gaps or duplicates"
            );
        }
        assert!(!late.is_empty());
    }
}

pub async fn tenants_are_isolated(stores: Stores) {
    let id = Uuid::new_v4();
    stores
        .statements
        .insert(T1, vec![new(with_id(statement(1, "did", "a"), id))])
        .await
        .expect("t1");
    assert!(stores.statements.get(T2, id).await.expect("get").is_none());
    assert!(ids_of(&stores, T2, query(vec![])).await.is_empty());
    assert!(
        ids_of(&stores, T2, query(vec![(TermKind::Agent, agent_key(1))]))
            .await
            .is_empty()
    );
    // The same id in another tenant is another statement, not a conflict.
    stores
        .statements
        .insert(T2, vec![new(with_id(statement(2, "saw", "b"), id))])
        .await
        .expect("t2");
    let t1: Value = serde_json::from_slice(
        &stores
            .statements
            .get(T1, id)
            .await
            .expect("get")
            .expect("t1")
            .json,
    )
    .expect("json");
    assert_eq!(t1["actor"], agent(1));
    // Voiding in one tenant does not void in another.
    stores
        .statements
        .insert(T2, vec![new(voiding(id))])
        .await
        .expect("void t2");
    assert!(
        !stores
            .statements
            .get(T1, id)
            .await
            .expect("get")
            .expect("t1")
            .voided
    );
}

pub async fn consistent_through_covers_acknowledged_writes(stores: Stores) {
    let first = stores.statements.consistent_through().await.expect("ct");
    let id = stores
        .statements
        .insert(T1, vec![new(statement(1, "did", "a"))])
        .await
        .expect("insert")[0];
    let stored = stores
        .statements
        .get(T1, id)
        .await
        .expect("get")
        .expect("present")
        .stored;
    let after = stores.statements.consistent_through().await.expect("ct");
    assert!(after >= first, "never goes back");
    assert!(after >= stored, "covers what was acknowledged");
}

fn write(
    content_type: &str,
    body: &'static [u8],
    mode: WriteMode,
    precondition: Precondition,
) -> DocumentWrite {
    DocumentWrite {
        content_type: content_type.to_owned(),
        body: Bytes::from_static(body),
        mode,
        precondition,
    }
}

fn state_scope(registration: Option<Uuid>) -> DocumentScope {
    DocumentScope::State {
        activity_id: activity_id("a"),
        agent: agent_key(1),
        registration,
    }
}

fn state_set() -> DocumentSet {
    DocumentSet::State {
        activity_id: activity_id("a"),
        agent: agent_key(1),
    }
}

/// Stores a text document with no condition.
async fn put_text(
    stores: &Stores,
    tenant: TenantId,
    scope: &DocumentScope,
    id: &str,
) -> super::Document {
    stores
        .documents
        .put_document(
            tenant,
            scope,
            id,
            write("text/plain", b"v", WriteMode::Replace, Precondition::none()),
        )
        .await
        .expect("put")
}

async fn ids(stores: &Stores, tenant: TenantId, set: &DocumentSet) -> Vec<String> {
    stores
        .documents
        .list_documents(tenant, set, None)
        .await
        .expect("list")
        .into_iter()
        .map(|entry| entry.id)
        .collect()
}

pub async fn documents_round_trip_with_concurrency(stores: Stores) {
    let docs = &stores.documents;
    let scope = state_scope(None);
    assert!(
        docs.get_document(T1, &scope, "s")
            .await
            .expect("get")
            .is_none()
    );
    let first = docs
        .put_document(
            T1,
            &scope,
            "s",
            write(
                "text/plain; charset=utf-8",
                b"one",
                WriteMode::Replace,
                Precondition::if_none_match_any(),
            ),
        )
        .await
        .expect("create");
    assert_eq!(
        first.etag, "fe05bcdcdc4928012781a5f1a2a77cbb5398e106",
        "sha1 of the body"
    );
    let got = docs
        .get_document(T1, &scope, "s")
        .await
        .expect("get")
        .expect("present");
    assert_eq!(
        (got.content_type.as_str(), &got.body[..], &got.etag),
        ("text/plain; charset=utf-8", &b"one"[..], &first.etag),
        "the content type is kept as sent"
    );
    for refused in [
        Precondition::if_none_match_any(),
        Precondition::if_match(["0000"]),
        Precondition {
            if_match: None,
            if_none_match: Some(vec!["x".into(), first.etag.clone()]),
        },
        Precondition {
            if_match: Some(vec![first.etag.clone()]),
            if_none_match: Some(vec!["*".into()]),
        },
    ] {
        let result = docs
            .put_document(
                T1,
                &scope,
                "s",
                write("text/plain", b"x", WriteMode::Replace, refused.clone()),
            )
            .await;
        assert!(
            matches!(result, Err(DocumentError::PreconditionFailed)),
            "{refused:?}"
        );
    }
    let second = docs
        .put_document(
            T1,
            &scope,
            "s",
            write(
                "application/octet-stream",
                &[0, 159, 146, 150],
                WriteMode::Replace,
                Precondition {
                    if_match: Some(vec!["0000".into(), first.etag.clone()]),
                    if_none_match: Some(vec!["0000".into()]),
                },
            ),
        )
        .await
        .expect("update");
    assert!(second.updated > first.updated);
    let got = docs
        .get_document(T1, &scope, "s")
        .await
        .expect("get")
        .expect("present");
    assert_eq!(
        &got.body[..],
        &[0, 159, 146, 150],
        "binary documents are kept as they are"
    );
    assert!(
        docs.get_document(T2, &scope, "s")
            .await
            .expect("get")
            .is_none(),
        "tenant isolation"
    );
    let deleted = docs
        .delete_document(T1, &scope, "s", &Precondition::if_match([first.etag]))
        .await;
    assert!(matches!(deleted, Err(DocumentError::PreconditionFailed)));
    assert!(
        docs.delete_document(T1, &scope, "s", &Precondition::if_match(["*"]))
            .await
            .expect("delete")
    );
    assert!(
        !docs
            .delete_document(T1, &scope, "s", &Precondition::none())
            .await
            .expect("delete")
    );
    assert!(
        matches!(
            docs.delete_document(T1, &scope, "s", &Precondition::if_match(["*"]))
                .await,
            Err(DocumentError::PreconditionFailed)
        ),
        "If-Match fails when there is no document"
    );
}

pub async fn documents_create_refuses_to_overwrite(stores: Stores) {
    let docs = &stores.documents;
    let scope = DocumentScope::AgentProfile {
        agent: agent_key(1),
    };
    let created = docs
        .put_document(
            T1,
            &scope,
            "p",
            write(
                "text/plain",
                b"one",
                WriteMode::Create,
                Precondition::none(),
            ),
        )
        .await
        .expect("create");
    let again = docs
        .put_document(
            T1,
            &scope,
            "p",
            write(
                "text/plain",
                b"two",
                WriteMode::Create,
                Precondition::none(),
            ),
        )
        .await;
    assert!(matches!(again, Err(DocumentError::Exists)));
    let kept = docs
        .get_document(T1, &scope, "p")
        .await
        .expect("get")
        .expect("present");
    assert_eq!((&kept.body[..], kept.etag), (&b"one"[..], created.etag));
    docs.put_document(
        T2,
        &scope,
        "p",
        write(
            "text/plain",
            b"two",
            WriteMode::Create,
            Precondition::none(),
        ),
    )
    .await
    .expect("another tenant's document is another document");
}

pub async fn documents_merge_json_objects_only(stores: Stores) {
    let docs = &stores.documents;
    let scope = DocumentScope::ActivityProfile {
        activity_id: activity_id("a"),
    };
    docs.put_document(
        T1,
        &scope,
        "p",
        write(
            "application/json",
            br#"{"a":1,"b":{"x":1,"y":2}}"#,
            WriteMode::MergeJson,
            Precondition::none(),
        ),
    )
    .await
    .expect("merge into nothing creates");
    let merged = docs
        .put_document(
            T1,
            &scope,
            "p",
            write(
                "application/json; charset=utf-8",
                br#"{"b":{"x":3},"c":4}"#,
                WriteMode::MergeJson,
                Precondition::none(),
            ),
        )
        .await
        .expect("merge");
    let value: Value = serde_json::from_slice(&merged.body).expect("json");
    assert_eq!(
        value,
        json!({"a": 1, "b": {"x": 3}, "c": 4}),
        "top-level properties are replaced whole"
    );
    assert_eq!(merged.etag, super::embedded::document_etag(&merged.body));
    for (content_type, body) in [
        ("application/json", &b"[1]"[..]),
        ("application/json", &b"{"[..]),
        ("text/plain", &b"{\"d\":1}"[..]),
    ] {
        let refused = docs
            .put_document(
                T1,
                &scope,
                "p",
                DocumentWrite {
                    content_type: content_type.to_owned(),
                    body: Bytes::copy_from_slice(body),
                    mode: WriteMode::MergeJson,
                    precondition: Precondition::none(),
                },
            )
            .await;
        assert!(
            matches!(refused, Err(DocumentError::NotMergeable)),
            "{content_type} {body:?}"
        );
    }
    let binary = DocumentScope::ActivityProfile {
        activity_id: activity_id("b"),
    };
    docs.put_document(
        T1,
        &binary,
        "p",
        write(
            "application/octet-stream",
            b"{}",
            WriteMode::Replace,
            Precondition::none(),
        ),
    )
    .await
    .expect("put");
    let refused = docs
        .put_document(
            T1,
            &binary,
            "p",
            write(
                "application/json",
                b"{}",
                WriteMode::MergeJson,
                Precondition::none(),
            ),
        )
        .await;
    assert!(
        matches!(refused, Err(DocumentError::NotMergeable)),
        "the stored document is not JSON"
    );
    let unchanged = docs
        .get_document(T1, &scope, "p")
        .await
        .expect("get")
        .expect("present");
    assert_eq!(
        unchanged.etag, merged.etag,
        "a refused merge changes nothing"
    );
    let stale = docs
        .put_document(
            T1,
            &scope,
            "p",
            write(
                "application/json",
                b"{}",
                WriteMode::MergeJson,
                Precondition::if_match(["0000"]),
            ),
        )
        .await;
    assert!(matches!(stale, Err(DocumentError::PreconditionFailed)));
}

pub async fn documents_list_and_delete_scopes(stores: Stores) {
    let docs = &stores.documents;
    let plain = state_scope(None);
    let registration = Uuid::new_v4();
    let registered = state_scope(Some(registration));
    let a = put_text(&stores, T1, &plain, "a").await;
    put_text(&stores, T1, &plain, "b").await;
    put_text(&stores, T1, &registered, "c").await;
    put_text(&stores, T1, &registered, "a").await;
    // Neighbours that no listing or deletion below may touch.
    let other_agent = DocumentScope::State {
        activity_id: activity_id("a"),
        agent: agent_key(2),
        registration: None,
    };
    let profile = DocumentScope::ActivityProfile {
        activity_id: activity_id("a"),
    };
    put_text(&stores, T1, &other_agent, "z").await;
    put_text(&stores, T1, &profile, "y").await;
    put_text(&stores, T2, &plain, "x").await;

    let unregistered = DocumentSet::Scope(plain.clone());
    assert_eq!(ids(&stores, T1, &unregistered).await, ["a", "b"]);
    assert_eq!(
        ids(&stores, T1, &DocumentSet::Scope(registered.clone())).await,
        ["a", "c"]
    );
    assert_eq!(
        ids(&stores, T1, &state_set()).await,
        ["a", "b", "c"],
        "every registration, each id once"
    );
    let newer = docs
        .list_documents(T1, &unregistered, Some(a.updated))
        .await
        .expect("list");
    assert_eq!(
        newer.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["b"],
        "since is exclusive"
    );
    let everything = docs
        .list_documents(T1, &state_set(), None)
        .await
        .expect("list");
    let registered_a = docs
        .get_document(T1, &registered, "a")
        .await
        .expect("get")
        .expect("present");
    assert_eq!(
        everything[0].updated, registered_a.updated,
        "an id listed once carries its latest update"
    );

    assert_eq!(
        docs.delete_documents(T1, &unregistered)
            .await
            .expect("delete"),
        2
    );
    assert!(ids(&stores, T1, &unregistered).await.is_empty());
    assert_eq!(ids(&stores, T1, &state_set()).await, ["a", "c"]);
    put_text(&stores, T1, &plain, "b").await;
    assert_eq!(
        docs.delete_documents(T1, &state_set())
            .await
            .expect("delete"),
        3
    );
    assert!(ids(&stores, T1, &state_set()).await.is_empty());
    assert_eq!(
        docs.delete_documents(T1, &state_set())
            .await
            .expect("delete"),
        0
    );

    assert_eq!(
        ids(&stores, T1, &DocumentSet::Scope(other_agent)).await,
        ["z"]
    );
    assert_eq!(ids(&stores, T1, &DocumentSet::Scope(profile)).await, ["y"]);
    assert_eq!(
        ids(&stores, T2, &DocumentSet::Scope(plain)).await,
        ["x"],
        "tenant isolation"
    );
}

pub async fn documents_ids_are_opaque(stores: Stores) {
    let docs = &stores.documents;
    let registration = Uuid::new_v4();
    let scopes = [
        state_scope(None),
        state_scope(Some(registration)),
        DocumentScope::ActivityProfile {
            activity_id: activity_id("a"),
        },
        DocumentScope::AgentProfile {
            agent: agent_key(1),
        },
    ];
    let long = "é".repeat(500);
    let odd = ["", "\u{0}", "a/b?c=d&e", "日本語", long.as_str()];
    for scope in &scopes {
        for id in odd {
            put_text(&stores, T1, scope, id).await;
        }
    }
    for scope in &scopes {
        let mut expected: Vec<&str> = odd.to_vec();
        expected.sort_unstable();
        assert_eq!(
            ids(&stores, T1, &DocumentSet::Scope(scope.clone())).await,
            expected,
            "{scope:?}"
        );
        for id in odd {
            assert!(
                docs.get_document(T1, scope, id)
                    .await
                    .expect("get")
                    .is_some()
            );
        }
    }
    // An activity id and an agent that run into each other are different owners.
    let left = DocumentScope::State {
        activity_id: "http://example.com/ab".to_owned(),
        agent: "c".to_owned(),
        registration: None,
    };
    let right = DocumentScope::State {
        activity_id: "http://example.com/a".to_owned(),
        agent: "bc".to_owned(),
        registration: None,
    };
    put_text(&stores, T1, &left, "s").await;
    assert!(
        docs.get_document(T1, &right, "s")
            .await
            .expect("get")
            .is_none()
    );
}

pub async fn tenants_and_credentials(stores: Stores) {
    let tenants = &stores.tenants;
    let acme = tenants.create_tenant("acme").await.expect("create");
    assert!(matches!(
        tenants.create_tenant("acme").await,
        Err(RegistryError::AlreadyExists(_))
    ));
    let other = tenants.create_tenant("globex").await.expect("create");
    assert_ne!(acme.id, other.id);
    assert_eq!(
        tenants.tenant_by_name("acme").await.expect("get"),
        Some(acme.clone())
    );
    assert_eq!(
        tenants.tenant(other.id).await.expect("get"),
        Some(other.clone())
    );
    assert!(
        tenants
            .tenant_by_name("nobody")
            .await
            .expect("get")
            .is_none()
    );
    assert_eq!(tenants.list_tenants().await.expect("list").len(), 2);

    let record = CredentialRecord {
        key: "key-1".to_owned(),
        tenant: acme.id,
        scopes: vec!["statements/write".to_owned()],
        admin: false,
        secret_hash: "$argon2id$not-a-real-hash".to_owned(),
        created: Utc::now(),
        revoked: false,
    };
    tenants
        .create_credential(record.clone())
        .await
        .expect("create");
    assert!(matches!(
        tenants.create_credential(record.clone()).await,
        Err(RegistryError::AlreadyExists(_))
    ));
    assert_eq!(
        tenants.credential("key-1").await.expect("get"),
        Some(record.clone())
    );
    let replaced = CredentialRecord {
        scopes: vec!["all".to_owned()],
        ..record.clone()
    };
    tenants
        .replace_credential(replaced.clone())
        .await
        .expect("replace");
    assert_eq!(
        tenants.credential("key-1").await.expect("get"),
        Some(replaced)
    );
    tenants.revoke_credential("key-1").await.expect("revoke");
    assert!(
        tenants
            .credential("key-1")
            .await
            .expect("get")
            .expect("present")
            .revoked
    );
    assert!(matches!(
        tenants.revoke_credential("nope").await,
        Err(RegistryError::NotFound(_))
    ));
    assert_eq!(tenants.list_credentials().await.expect("list").len(), 1);
}

fn defined(name: &str, description: Option<(&str, &str)>) -> Value {
    let mut value = statement(1, "did", "defined");
    value["object"]["definition"] = json!({"name": {"en-US": name}});
    if let Some((lang, text)) = description {
        value["object"]["definition"]["description"] = json!({lang: text});
    }
    value
}

pub async fn activity_definitions_merge_by_trust(stores: Stores) {
    let id = activity_id("defined");
    assert!(
        stores
            .statements
            .activity_definition(T1, &id)
            .await
            .expect("get")
            .is_none()
    );
    stores
        .statements
        .insert(T1, vec![new(defined("First", None))])
        .await
        .expect("insert");
    let first = stores
        .statements
        .activity_definition(T1, &id)
        .await
        .expect("get");
    assert_eq!(
        first,
        Some(
            json!({"name": {"en-US": "First"}})
                .as_object()
                .cloned()
                .expect("object")
        )
    );
    // Without `define`, a known definition is not changed.
    stores
        .statements
        .insert(T1, vec![new(defined("Second", None))])
        .await
        .expect("insert");
    assert_eq!(
        stores
            .statements
            .activity_definition(T1, &id)
            .await
            .expect("get"),
        first
    );
    // With `define`, language maps merge per language and other properties are replaced.
    stores
        .statements
        .insert(
            T1,
            vec![new_defining(defined("Third", Some(("fr-FR", "Troisième"))))],
        )
        .await
        .expect("insert");
    let merged = stores
        .statements
        .activity_definition(T1, &id)
        .await
        .expect("get")
        .expect("some");
    assert_eq!(
        Value::Object(merged),
        json!({"name": {"en-US": "Third"}, "description": {"fr-FR": "Troisième"}})
    );
    assert!(
        stores
            .statements
            .activity_definition(T2, &id)
            .await
            .expect("get")
            .is_none(),
        "tenant isolation"
    );
}

pub async fn agent_names_accumulate(stores: Stores) {
    let named = |name: &str| {
        let mut value = statement(5, "did", "a");
        value["actor"]["name"] = json!(name);
        new(value)
    };
    stores
        .statements
        .insert(T1, vec![named("Ada"), named("Ada L."), named("Ada")])
        .await
        .expect("insert");
    assert_eq!(
        stores
            .statements
            .agent_names(T1, &agent_key(5))
            .await
            .expect("names"),
        vec!["Ada", "Ada L."]
    );
    assert!(
        stores
            .statements
            .agent_names(T2, &agent_key(5))
            .await
            .expect("names")
            .is_empty()
    );
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(data))
}

pub async fn attachments_are_stored_once_per_tenant_and_hash(stores: Stores) {
    use std::io::Write as _;
    let small = Bytes::from_static(b"a small attachment");
    // Larger than one chunk of either backend, and spooled to a file as large parts are.
    let large: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(&large).expect("write");
    let spooled = super::AttachmentData::Spooled(std::sync::Arc::new(file));
    let (small_hash, large_hash) = (sha256_hex(&small), sha256_hex(&large));
    assert!(
        stores
            .statements
            .attachment(T1, &small_hash)
            .await
            .expect("get")
            .is_none()
    );

    let mut first = new(statement(1, "attached", "a"));
    first.attachments = vec![
        (
            small_hash.clone(),
            super::AttachmentData::Memory(small.clone()),
        ),
        (large_hash.clone(), spooled.clone()),
    ];
    stores
        .statements
        .insert(T1, vec![first])
        .await
        .expect("insert");
    let mut again = new(statement(2, "attached", "a"));
    again.attachments = vec![(large_hash.clone(), spooled)];
    stores
        .statements
        .insert(T1, vec![again])
        .await
        .expect("insert again");

    let got_small = stores
        .statements
        .attachment(T1, &small_hash)
        .await
        .expect("get");
    assert_eq!(got_small.as_deref(), Some(&small[..]));
    let got_large = stores
        .statements
        .attachment(T1, &large_hash)
        .await
        .expect("get")
        .expect("large");
    assert_eq!(got_large.len(), large.len());
    assert!(got_large[..] == large[..], "large attachment round-trips");
    assert!(
        stores
            .statements
            .attachment(T2, &small_hash)
            .await
            .expect("get")
            .is_none(),
        "tenant isolation"
    );

    // Data of a refused batch never becomes visible.
    let taken = Uuid::new_v4();
    stores
        .statements
        .insert(T1, vec![new(with_id(statement(3, "did", "x"), taken))])
        .await
        .expect("insert");
    let orphan = Bytes::from_static(b"never visible");
    let mut conflicting = new(with_id(statement(4, "did", "y"), taken));
    conflicting.attachments = vec![(
        sha256_hex(&orphan),
        super::AttachmentData::Memory(orphan.clone()),
    )];
    assert!(matches!(
        stores.statements.insert(T1, vec![conflicting]).await,
        Err(InsertError::Conflict(_))
    ));
    assert!(
        stores
            .statements
            .attachment(T1, &sha256_hex(&orphan))
            .await
            .expect("get")
            .is_none()
    );
}

pub async fn records_compare_and_set(stores: Stores) {
    let records = &stores.records;
    let key = RecordKey::new("package", "all", "p1");
    assert!(records.get_record(T1, &key).await.unwrap().is_none());
    let first = records
        .put_record(T1, &key, Bytes::from_static(b"one"), Expect::Absent)
        .await
        .unwrap();
    assert_eq!(first, Some(1));
    // A second create, or an update from a stale version, writes nothing.
    assert_eq!(
        records
            .put_record(T1, &key, Bytes::from_static(b"other"), Expect::Absent)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        records
            .put_record(T1, &key, Bytes::from_static(b"two"), Expect::Version(1))
            .await
            .unwrap(),
        Some(2)
    );
    assert_eq!(
        records
            .put_record(T1, &key, Bytes::from_static(b"stale"), Expect::Version(1))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        records
            .put_record(T1, &key, Bytes::from_static(b"x"), Expect::Version(7))
            .await
            .unwrap(),
        None
    );
    let found = records.get_record(T1, &key).await.unwrap().unwrap();
    assert_eq!(
        (found.version, found.value.as_ref()),
        (2, b"two".as_slice())
    );
    // Tenants are isolated.
    assert!(records.get_record(T2, &key).await.unwrap().is_none());
    assert_eq!(
        records
            .put_record(T2, &key, Bytes::from_static(b"t2"), Expect::Version(2))
            .await
            .unwrap(),
        None
    );
    // Deletes check the version too.
    assert!(!records.delete_record(T1, &key, 1).await.unwrap());
    assert!(records.delete_record(T1, &key, 2).await.unwrap());
    assert!(records.get_record(T1, &key).await.unwrap().is_none());
    assert!(!records.delete_record(T1, &key, 2).await.unwrap());
    // Racing updates from the same version: exactly one wins.
    records
        .put_record(T1, &key, Bytes::from_static(b"base"), Expect::Absent)
        .await
        .unwrap();
    let racers = (0..8).map(|i| {
        let records = records.clone();
        let key = key.clone();
        tokio::spawn(async move {
            records
                .put_record(
                    T1,
                    &key,
                    Bytes::from(format!("racer {i}")),
                    Expect::Version(1),
                )
                .await
                .unwrap()
        })
    });
    let mut winners = 0;
    for racer in racers {
        if racer.await.unwrap().is_some() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

pub async fn records_list_in_id_order_by_group(stores: Stores) {
    let records = &stores.records;
    for id in ["b", "a", "c", "ab"] {
        records
            .put_record(
                T1,
                &RecordKey::new("session", "reg-1", id),
                Bytes::from(id.to_owned()),
                Expect::Absent,
            )
            .await
            .unwrap();
    }
    // Other groups, kinds and tenants are not listed.
    for (tenant, kind, group) in [
        (T1, "session", "reg-2"),
        (T1, "sessions", "reg-1"),
        (T1, "session", "reg-1x"),
        (T2, "session", "reg-1"),
    ] {
        records
            .put_record(
                tenant,
                &RecordKey::new(kind, group, "z"),
                Bytes::from_static(b"other"),
                Expect::Absent,
            )
            .await
            .unwrap();
    }
    let ids = |found: Vec<(String, super::Record)>| -> Vec<String> {
        found.into_iter().map(|(id, _)| id).collect()
    };
    let all = records
        .list_records(T1, "session", "reg-1", None, 100)
        .await
        .unwrap();
    assert_eq!(all[1].1.value.as_ref(), b"ab");
    assert_eq!(ids(all), ["a", "ab", "b", "c"]);
    let page = records
        .list_records(T1, "session", "reg-1", Some("ab"), 1)
        .await
        .unwrap();
    assert_eq!(ids(page), ["b"]);
    let none = records
        .list_records(T1, "session", "reg-1", Some("c"), 10)
        .await
        .unwrap();
    assert!(none.is_empty());
}

pub async fn blobs_round_trip_by_chunk(stores: Stores) {
    let blobs = &stores.blobs;
    let big = Bytes::from(vec![7u8; super::MAX_CHUNK]);
    blobs
        .put_chunk(T1, "pkg/a/index.html", 0, big.clone())
        .await
        .unwrap();
    blobs
        .put_chunk(T1, "pkg/a/index.html", 1, Bytes::from_static(b"tail"))
        .await
        .unwrap();
    assert_eq!(
        blobs.get_chunk(T1, "pkg/a/index.html", 0).await.unwrap(),
        Some(big)
    );
    assert_eq!(
        blobs.get_chunk(T1, "pkg/a/index.html", 1).await.unwrap(),
        Some(Bytes::from_static(b"tail"))
    );
    assert_eq!(
        blobs.get_chunk(T1, "pkg/a/index.html", 2).await.unwrap(),
        None
    );
    assert_eq!(
        blobs.get_chunk(T2, "pkg/a/index.html", 0).await.unwrap(),
        None
    );
    assert_eq!(
        blobs.get_chunk(T1, "pkg/a/other.html", 0).await.unwrap(),
        None
    );
    blobs.delete_blob(T1, "pkg/a/index.html", 2).await.unwrap();
    assert_eq!(
        blobs.get_chunk(T1, "pkg/a/index.html", 0).await.unwrap(),
        None
    );
    assert_eq!(
        blobs.get_chunk(T1, "pkg/a/index.html", 1).await.unwrap(),
        None
    );
}
