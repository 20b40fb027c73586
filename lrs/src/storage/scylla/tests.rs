//! Tests of what only the distributed store has: several servers on one keyspace, claims of
//! abandoned batches, time buckets, concurrent compare-and-set. The shared storage suite runs
//! from `lrs/tests/main.rs`; these need a node too (feature `scylla-tests`, `PROFICIO_TEST_CQL`),
//! except the first.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[tokio::test]
async fn an_unreachable_cluster_is_a_clear_error() {
    let mut config = ScyllaConfig::new(vec!["127.0.0.1:1".to_owned()], "nowhere");
    config.request_timeout = Duration::from_secs(1);
    let Err(error) = ScyllaStore::open(&config, Arc::new(crate::clock::SystemClock)).await else {
        panic!("opened a store on a closed port");
    };
    assert_eq!(error.kind(), StorageErrorKind::Unavailable);
    assert!(
        error.message.contains("cannot connect to 127.0.0.1:1"),
        "{error}"
    );
}

#[cfg(feature = "scylla-tests")]
mod on_a_node {
    use std::sync::atomic::AtomicI64;

    use bytes::Bytes;
    use serde_json::{Value, json};
    use sha2::{Digest as _, Sha256};
    use xapi::{Statement, Version};

    use super::statements::{kind_code, term_hash};
    use super::*;
    use crate::clock::Clock;
    use crate::statements::{Authority, prepare};
    use crate::storage::{
        AttachmentData, DocumentScope, DocumentStore as _, DocumentWrite, InsertError,
        NewStatement, Precondition, StatementQuery, StatementStore as _, TermKind, WriteMode,
    };

    const T: TenantId = TenantId(1);

    /// The wall clock moved by an offset the test sets.
    #[derive(Default)]
    struct ShiftedClock {
        offset_micros: AtomicI64,
    }

    impl ShiftedClock {
        fn advance(&self, by: chrono::Duration) {
            self.offset_micros
                .fetch_add(by.num_microseconds().expect("small"), Ordering::SeqCst);
        }
    }

    impl Clock for ShiftedClock {
        fn now(&self) -> DateTime<Utc> {
            Utc::now() + chrono::Duration::microseconds(self.offset_micros.load(Ordering::SeqCst))
        }
    }

    fn config(keyspace: &str) -> ScyllaConfig {
        let node = std::env::var("PROFICIO_TEST_CQL")
            .expect("PROFICIO_TEST_CQL (host:port of a CQL node) must be set with scylla-tests");
        ScyllaConfig {
            temporary: true,
            ..ScyllaConfig::new(vec![node], keyspace)
        }
    }

    fn keyspace() -> String {
        format!("proficio_test_{}", Uuid::new_v4().simple())
    }

    async fn open(config: &ScyllaConfig, clock: Arc<dyn Clock>) -> ScyllaStore {
        ScyllaStore::open(config, clock).await.expect("open")
    }

    fn statement(actor: u32, verb: &str, id: Option<Uuid>) -> NewStatement {
        let mut value = json!({
            "actor": {"objectType": "Agent", "mbox": format!("mailto:agent{actor}@example.com")},
            "verb": {"id": format!("http://example.com/verbs/{verb}")},
            "object": {"objectType": "Activity", "id": "http://example.com/activities/a"}
        });
        if let Some(id) = id {
            value["id"] = json!(id.to_string());
        }
        let parsed = Statement::parse(value, Version::V2_0_0, "$").expect("valid");
        prepare(
            parsed,
            Version::V2_0_0,
            &Authority::for_credential("http://localhost", "scylla-tests"),
        )
    }

    fn all(limit: usize) -> StatementQuery {
        StatementQuery {
            limit,
            ..StatementQuery::default()
        }
    }

    async fn every_page(store: &ScyllaStore, mut query: StatementQuery) -> Vec<Uuid> {
        let mut ids = Vec::new();
        loop {
            let page = store.query(T, &query).await.expect("query");
            assert!(page.statements.len() <= query.limit);
            ids.extend(page.statements.iter().map(|s| s.id));
            match page.next {
                Some(next) => query.after = Some(next),
                None => return ids,
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_servers_start_together_and_share_one_keyspace() {
        let config = config(&keyspace());
        let clock: Arc<dyn Clock> = Arc::new(crate::clock::SystemClock);
        // Both migrate at once; one takes the lock, the other waits and finds the work done.
        let (a, b) = tokio::join!(open(&config, clock.clone()), open(&config, clock));
        let (a, b) = (Arc::new(a), Arc::new(b));
        let id = Uuid::new_v4();
        a.insert(T, vec![statement(1, "did", Some(id))])
            .await
            .expect("insert on a");
        assert!(b.get(T, id).await.expect("get").is_some());
        assert_eq!(every_page(&b, all(10)).await, vec![id]);
        b.insert(T, vec![statement(1, "did", Some(id))])
            .await
            .expect("the same statement again, on b");
        assert!(matches!(
            b.insert(T, vec![statement(2, "did", Some(id))]).await,
            Err(InsertError::Conflict(conflict)) if conflict == id
        ));

        // The same new statement sent to both servers many times at once is stored once.
        let twin = Uuid::new_v4();
        let mut tasks = Vec::new();
        for n in 0..8 {
            let store = if n % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(tokio::spawn(async move {
                store.insert(T, vec![statement(3, "did", Some(twin))]).await
            }));
        }
        for task in tasks {
            assert_eq!(task.await.expect("task").expect("insert"), vec![twin]);
        }
        let ids = every_page(&a, all(100)).await;
        assert_eq!(ids.iter().filter(|i| **i == twin).count(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn consistent_through_waits_for_another_servers_batch() {
        let config = config(&keyspace());
        let clock: Arc<dyn Clock> = Arc::new(crate::clock::SystemClock);
        let a = open(&config, clock.clone()).await;
        let b = open(&config, clock).await;
        // A batch in flight on a, as a would publish it with its next heartbeat.
        let pending = a.inner.now_micros();
        a.inner.write.lock().in_flight.insert(pending, 1);
        a.inner.heartbeat().await.expect("heartbeat");
        let through = b.consistent_through().await.expect("ct");
        assert!(
            through.timestamp_micros() < pending,
            "b must not vouch for a's batch in flight"
        );
        a.inner.write.lock().in_flight.clear();
        a.inner.heartbeat().await.expect("heartbeat");
        let through = b.consistent_through().await.expect("ct");
        assert!(through.timestamp_micros() >= pending);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn claims_of_unfinished_batches() {
        let mut config = config(&keyspace());
        config.request_timeout = Duration::from_secs(2);
        config.write_deadline = Duration::from_secs(4);
        let store = open(&config, Arc::new(crate::clock::SystemClock)).await;
        let inner = &store.inner;
        let claim = |id: Uuid, seq: i64, body: Vec<u8>| async move {
            inner
                .lwt(
                    &inner.cql.claim,
                    (tenant_key(T), id, Uuid::new_v4(), seq, false, body),
                    "test claim",
                )
                .await
                .expect("claim")
        };
        let body = |s: &NewStatement| serde_json::to_vec(&s.json).expect("json");

        // A claim from a batch that crashed long ago is taken over, whatever its content.
        let abandoned = Uuid::new_v4();
        let old_seq = inner.now_micros() - 3 * micros(config.write_deadline);
        claim(
            abandoned,
            old_seq,
            body(&statement(1, "lost", Some(abandoned))),
        )
        .await;
        assert!(store.get(T, abandoned).await.expect("get").is_none());
        store
            .insert(T, vec![statement(2, "found", Some(abandoned))])
            .await
            .expect("takes the abandoned claim over");
        let got = store.get(T, abandoned).await.expect("get").expect("stored");
        let json: Value = serde_json::from_slice(&got.json).expect("json");
        assert_eq!(json["verb"]["id"], json!("http://example.com/verbs/found"));

        // A claim of a batch still within its deadline is respected: different content
        // conflicts, the same content waits for it and then gives up.
        let busy = Uuid::new_v4();
        let pending = statement(1, "pending", Some(busy));
        claim(busy, inner.now_micros(), body(&pending)).await;
        assert!(matches!(
            store.insert(T, vec![statement(1, "other", Some(busy))]).await,
            Err(InsertError::Conflict(id)) if id == busy
        ));
        let waited = store
            .insert(T, vec![statement(1, "pending", Some(busy))])
            .await;
        assert!(
            matches!(&waited, Err(InsertError::Storage(e)) if e.kind() == StorageErrorKind::Unavailable),
            "{waited:?}"
        );
        assert!(store.get(T, busy).await.expect("get").is_none());
        assert!(
            every_page(&store, all(10))
                .await
                .iter()
                .all(|id| *id != busy)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_batch_releases_its_claims() {
        let store = open(&config(&keyspace()), Arc::new(crate::clock::SystemClock)).await;
        let taken = Uuid::new_v4();
        store
            .insert(T, vec![statement(1, "did", Some(taken))])
            .await
            .expect("insert");
        let fresh = Uuid::new_v4();
        assert!(matches!(
            store
                .insert(
                    T,
                    vec![
                        statement(1, "did", Some(fresh)),
                        statement(2, "did", Some(taken))
                    ]
                )
                .await,
            Err(InsertError::Conflict(id)) if id == taken
        ));
        // Had the claim on `fresh` stayed, this would conflict (or wait).
        store
            .insert(T, vec![statement(3, "other", Some(fresh))])
            .await
            .expect("the refused batch left no claim behind");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn statements_across_time_buckets_page_in_order() {
        let clock = Arc::new(ShiftedClock::default());
        let store = open(&config(&keyspace()), clock.clone()).await;
        let mut ids = Vec::new();
        let mut stored = Vec::new();
        for n in 0..12 {
            // 40 minutes apart: about one statement per hourly bucket, some buckets with two.
            clock.advance(chrono::Duration::minutes(40));
            store.inner.heartbeat().await.expect("renew the lease");
            let verb = if n % 3 == 0 { "third" } else { "other" };
            let id = store
                .insert(T, vec![statement(n, verb, None)])
                .await
                .expect("insert")[0];
            ids.push(id);
            stored.push(store.get(T, id).await.expect("get").expect("stored").stored);
        }
        let mut newest_first = ids.clone();
        newest_first.reverse();
        assert_eq!(every_page(&store, all(5)).await, newest_first);
        assert_eq!(
            every_page(
                &store,
                StatementQuery {
                    ascending: true,
                    ..all(5)
                }
            )
            .await,
            ids
        );
        let window = StatementQuery {
            since: Some(stored[2]),
            until: Some(stored[9]),
            ascending: true,
            ..all(3)
        };
        assert_eq!(every_page(&store, window).await, ids[3..=9].to_vec());
        let thirds = StatementQuery {
            filters: vec![(TermKind::Verb, "http://example.com/verbs/third".to_owned())],
            ..all(2)
        };
        let expected: Vec<Uuid> = newest_first
            .iter()
            .copied()
            .filter(|id| ids.iter().position(|i| i == id).is_some_and(|p| p % 3 == 0))
            .collect();
        assert_eq!(every_page(&store, thirds).await, expected);
        // A restarted server (a new store on the keyspace) continues after the newest seq even
        // when its clock is behind.
        clock.advance(chrono::Duration::hours(-24));
        let restarted = open(&config(store.keyspace()), clock.clone()).await;
        let late = restarted
            .insert(T, vec![statement(99, "late", None)])
            .await
            .expect("insert")[0];
        let late_stored = restarted
            .get(T, late)
            .await
            .expect("get")
            .expect("stored")
            .stored;
        assert!(
            late_stored > stored[11],
            "stored keeps increasing across a restart"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_merges_on_two_servers_lose_nothing() {
        let config = config(&keyspace());
        let clock: Arc<dyn Clock> = Arc::new(crate::clock::SystemClock);
        let a = Arc::new(open(&config, clock.clone()).await);
        let b = Arc::new(open(&config, clock).await);
        let scope = DocumentScope::ActivityProfile {
            activity_id: "http://example.com/activities/a".to_owned(),
        };
        let mut tasks = Vec::new();
        for n in 0..6 {
            let store = if n % 2 == 0 { a.clone() } else { b.clone() };
            let scope = scope.clone();
            tasks.push(tokio::spawn(async move {
                let write = DocumentWrite {
                    content_type: "application/json".to_owned(),
                    body: Bytes::from(format!("{{\"k{n}\": {n}}}")),
                    mode: WriteMode::MergeJson,
                    precondition: Precondition::none(),
                };
                store.put_document(T, &scope, "profile", write).await
            }));
        }
        for task in tasks {
            task.await.expect("task").expect("merge");
        }
        let document = a
            .get_document(T, &scope, "profile")
            .await
            .expect("get")
            .expect("present");
        let value: Value = serde_json::from_slice(&document.body).expect("json");
        assert_eq!(value.as_object().expect("object").len(), 6, "{value}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_large_document_set_is_deleted_whole() {
        let store = open(&config(&keyspace()), Arc::new(crate::clock::SystemClock)).await;
        let scope = DocumentScope::State {
            activity_id: "http://example.com/activities/a".to_owned(),
            agent: "mbox:mailto:agent1@example.com".to_owned(),
            registration: None,
        };
        // More documents, with longer ids, than one batch may carry on Cassandra.
        let long = "x".repeat(900);
        let ids: Vec<String> = (0..150).map(|n| format!("{n:03}{long}")).collect();
        let mut writes = Vec::new();
        for id in &ids {
            let write = DocumentWrite {
                content_type: "text/plain".to_owned(),
                body: Bytes::from_static(b"v"),
                mode: WriteMode::Replace,
                precondition: Precondition::none(),
            };
            writes.push(store.put_document(T, &scope, id, write));
        }
        // A few at a time: the documents share one partition, and its writes are serialised
        // by Paxos; many at once would time out on contention (docs/scylla.md).
        let results: Vec<_> = futures::StreamExt::collect(futures::StreamExt::buffer_unordered(
            futures::stream::iter(writes),
            4,
        ))
        .await;
        for result in results {
            result.expect("put");
        }
        let set = crate::storage::DocumentSet::State {
            activity_id: "http://example.com/activities/a".to_owned(),
            agent: "mbox:mailto:agent1@example.com".to_owned(),
        };
        assert_eq!(store.delete_documents(T, &set).await.expect("delete"), 150);
        assert!(
            store
                .list_documents(T, &set, None)
                .await
                .expect("list")
                .is_empty()
        );
    }

    /// The CA of the node's TLS certificate; `scripts/cassandra/start` generates it.
    fn tls_ca() -> std::path::PathBuf {
        std::env::var("PROFICIO_TEST_CQL_TLS_CA")
            .expect(
                "PROFICIO_TEST_CQL_TLS_CA (the CA of the node's TLS certificate) must be set \
                 with scylla-tests; scripts/cassandra/start exports it",
            )
            .into()
    }

    /// Another file of the node's TLS material, beside the CA.
    fn tls_file(name: &str) -> std::path::PathBuf {
        tls_ca().with_file_name(name)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tls_to_the_node_round_trips_and_checks_the_certificate() {
        let plain = config(&keyspace());
        let with = |tls: TlsSettings, temporary: bool| ScyllaConfig {
            tls: Some(tls),
            temporary,
            ..plain.clone()
        };
        let trusted = TlsSettings {
            ca: Some(tls_ca()),
            ..TlsSettings::default()
        };
        let clock: Arc<dyn Clock> = Arc::new(crate::clock::SystemClock);
        let store = open(&with(trusted.clone(), true), clock.clone()).await;
        let id = Uuid::new_v4();
        store
            .insert(T, vec![statement(1, "encrypted", Some(id))])
            .await
            .expect("insert over TLS");
        let got = store.get(T, id).await.expect("get").expect("stored");
        let json: Value = serde_json::from_slice(&got.json).expect("json");
        assert_eq!(
            json["verb"]["id"],
            json!("http://example.com/verbs/encrypted")
        );
        // The node sees this store's connections as TLS ones.
        let clients = store
            .inner
            .session
            .query_unpaged("SELECT ssl_enabled FROM system_views.clients", &[])
            .await
            .expect("clients")
            .into_rows_result()
            .expect("rows");
        let tls_clients = clients
            .rows::<(Option<bool>,)>()
            .expect("typed")
            .filter(|row| matches!(row, Ok((Some(true),))))
            .count();
        assert!(tls_clients > 0, "no TLS connection on the node");

        // A name the certificate is valid for, and a client certificate the node does not ask
        // for, are fine.
        let named = TlsSettings {
            server_name: Some("localhost".to_owned()),
            client: Some(ClientIdentity {
                cert: tls_file("client.pem"),
                key: tls_file("client-key.pem"),
            }),
            ..trusted.clone()
        };
        let other = open(&with(named, false), clock.clone()).await;
        assert!(other.get(T, id).await.expect("get").is_some());

        // Refusals name the setting.
        let refused = |tls: TlsSettings| {
            let config = with(tls, false);
            let clock = clock.clone();
            async move {
                match ScyllaStore::open(&config, clock).await {
                    Ok(_) => panic!("opened with {:?}", config.tls),
                    Err(error) => {
                        assert_eq!(error.kind(), StorageErrorKind::Unavailable);
                        error.message
                    }
                }
            }
        };
        let untrusted = refused(TlsSettings {
            ca: Some(tls_file("wrong-ca.pem")),
            ..TlsSettings::default()
        })
        .await;
        assert!(
            untrusted.starts_with("tls_ca: the certificate of node")
                && untrusted.contains("not trusted"),
            "{untrusted}"
        );
        let misnamed = refused(TlsSettings {
            server_name: Some("db.example.com".to_owned()),
            ..trusted.clone()
        })
        .await;
        assert!(
            misnamed.starts_with("tls_server_name: the certificate of node")
                && misnamed.contains("not valid for db.example.com"),
            "{misnamed}"
        );
        let mismatched = tls::client_config(&TlsSettings {
            client: Some(ClientIdentity {
                cert: tls_file("client.pem"),
                key: tls_file("server-key.pem"),
            }),
            ..trusted
        })
        .expect_err("a key of another certificate");
        assert_eq!(
            (mismatched.setting(), mismatched.kind()),
            ("tls_key", tls::TlsErrorKind::BadFile),
            "{mismatched}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sweeper_rolls_back_a_crashed_batch() {
        let clock = Arc::new(ShiftedClock::default());
        let mut config = config(&keyspace());
        config.sweep_interval = None;
        let store = open(&config, clock.clone()).await;
        let inner = &store.inner;
        let t = tenant_key(T);

        // A committed batch, and a batch that crashed after its claim, its index rows and two
        // chunks of an attachment, before chunk 0 and its commit.
        let kept = Uuid::new_v4();
        store
            .insert(T, vec![statement(1, "kept", Some(kept))])
            .await
            .expect("insert");
        let crashed = Uuid::new_v4();
        let lost = statement(2, "lost", Some(crashed));
        let body = serde_json::to_vec(&lost.json).expect("json");
        let batch = Uuid::new_v4();
        let seq = inner.now_micros();
        let sha2 = "ab".repeat(32);
        inner
            .journal_begin(
                sweeper::JournalKey::new(seq, batch),
                T,
                seq,
                vec![crashed],
                vec![sha2.clone()],
            )
            .await
            .expect("journal");
        let claimed = inner
            .lwt(
                &inner.cql.claim,
                (t, crashed, batch, seq, false, &body[..]),
                "test claim",
            )
            .await
            .expect("claim");
        assert!(claimed.applied);
        let verb = (
            kind_code(TermKind::Verb),
            term_hash("http://example.com/verbs/lost"),
        );
        for (kind, hash) in [verb, (statements::KIND_ALL, statements::all_hash())] {
            inner
                .execute(
                    &inner.cql.index_insert,
                    (t, kind, &hash[..], bucket_of(seq), seq, crashed),
                    "test index",
                )
                .await
                .expect("index row");
        }
        for chunk in 1..3 {
            inner
                .execute(
                    &inner.cql.attachment_chunk,
                    (t, sha2.as_str(), chunk, vec![7u8; 16]),
                    "test chunk",
                )
                .await
                .expect("chunk");
        }
        let index_rows = || async {
            let mut found = 0;
            for (kind, hash) in [verb, (statements::KIND_ALL, statements::all_hash())] {
                let row: Option<(Uuid,)> = inner
                    .select_one(
                        &inner.cql.index_has,
                        (t, kind, &hash[..], bucket_of(seq), seq, crashed),
                        "test",
                    )
                    .await
                    .expect("index");
                found += usize::from(row.is_some());
            }
            found
        };
        let chunks = || async {
            let rows: Vec<(i32, Option<i32>, Vec<u8>)> = inner
                .select(&inner.cql.attachment_get, (t, sha2.as_str()), "test")
                .await
                .expect("chunks");
            rows.len()
        };
        assert_eq!((index_rows().await, chunks().await), (2, 2));

        // Within the grace period nothing is touched.
        let early = store.sweep().await.expect("sweep").expect("lease");
        assert_eq!(early.rolled_back, 0, "{early:?}");
        assert!(
            inner
                .statement_row(T, crashed)
                .await
                .expect("row")
                .is_some()
        );

        // A second server on the keyspace finds the lease taken.
        let other_config = ScyllaConfig {
            temporary: false,
            ..config.clone()
        };
        let other = open(&other_config, clock.clone()).await;
        assert_eq!(other.sweep().await.expect("sweep"), None);

        // An hour later the crashed batch is rolled back, and nothing else.
        clock.advance(chrono::Duration::hours(1));
        inner.heartbeat().await.expect("renew the lease");
        let report = store.sweep().await.expect("sweep").expect("lease");
        // One index row per filter term of the statement as stored, and one for the timeline.
        let stored_terms = crate::storage::statement_from_stored(lost.json.clone())
            .expect("parses")
            .terms;
        let terms: HashSet<_> = stored_terms.0.iter().collect();
        assert_eq!(
            (
                report.rolled_back,
                report.claims_released,
                report.rows_deleted,
                report.attachments_deleted
            ),
            (1, 1, terms.len() as u64 + 1, 1),
            "{report:?}"
        );
        assert!(report.batches >= 2, "{report:?}");
        assert!(
            inner
                .statement_row(T, crashed)
                .await
                .expect("row")
                .is_none()
        );
        assert_eq!((index_rows().await, chunks().await), (0, 0));
        assert!(store.get(T, kept).await.expect("get").is_some());
        let again = store.sweep().await.expect("sweep").expect("lease");
        assert_eq!(again.rolled_back, 0, "{again:?}");

        // The id is free: other content is stored under it.
        store
            .insert(T, vec![statement(3, "found", Some(crashed))])
            .await
            .expect("the released id is stored");
        let got = store.get(T, crashed).await.expect("get").expect("stored");
        let json: Value = serde_json::from_slice(&got.json).expect("json");
        assert_eq!(json["verb"]["id"], json!("http://example.com/verbs/found"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn attachments_are_chunked_and_stored_once() {
        let store = open(&config(&keyspace()), Arc::new(crate::clock::SystemClock)).await;
        let data: Vec<u8> = (0..600 * 1024).map(|n| (n % 251) as u8).collect();
        let sha2 = hex::encode(Sha256::digest(&data));
        for _ in 0..2 {
            let mut with_attachment = statement(1, "attached", None);
            with_attachment.attachments = vec![(
                sha2.clone(),
                AttachmentData::Memory(Bytes::from(data.clone())),
            )];
            store
                .insert(T, vec![with_attachment])
                .await
                .expect("insert");
        }
        let rows: Vec<(i32, Option<i32>, Vec<u8>)> = store
            .inner
            .select(
                &store.inner.cql.attachment_get,
                (tenant_key(T), sha2.as_str()),
                "test",
            )
            .await
            .expect("rows");
        assert_eq!(rows.len(), 3, "600 KiB in 256 KiB chunks");
        let got = store
            .attachment(T, &sha2.to_ascii_uppercase())
            .await
            .expect("get")
            .expect("present");
        assert_eq!(&got[..], &data[..]);
        assert!(
            store
                .attachment(TenantId(2), &sha2)
                .await
                .expect("get")
                .is_none()
        );
    }
}
