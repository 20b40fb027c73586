//! An acknowledged write survives `kill -9` of the server.
//!
//! Writers post batches and single statements concurrently; the server is killed mid-ingest;
//! after a restart every acknowledged statement must be there, and every batch must be there
//! whole or not at all.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Server, statement};

const ROUNDS: usize = 5;
const WRITERS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_statements_survive_kill_9() {
    let temp = tempfile::tempdir().unwrap();
    let acknowledged: Arc<Mutex<Vec<Uuid>>> = Arc::default();
    let attempted_batches: Arc<Mutex<Vec<Vec<Uuid>>>> = Arc::default();
    for round in 0..ROUNDS {
        let mut server = Server::start_on(temp.path(), &[]);
        let xapi = server.admin_xapi();
        // The first request verifies the credential; after it, writes are what we measure.
        assert_eq!(xapi.get("?limit=1").await.status(), 200);
        let mut writers = Vec::new();
        for writer in 0..WRITERS {
            let xapi = xapi.clone();
            let acknowledged = acknowledged.clone();
            let attempted = attempted_batches.clone();
            writers.push(tokio::spawn(async move {
                for n in 0.. {
                    let size = if writer % 2 == 0 { 20 } else { 1 };
                    let ids: Vec<Uuid> = (0..size).map(|_| Uuid::new_v4()).collect();
                    let batch: Vec<Value> = ids
                        .iter()
                        .map(|id| {
                            let mut s = statement(
                                &format!("crash{writer}@example.com"),
                                "did",
                                &format!("r{round}n{n}"),
                            );
                            s["id"] = json!(id.to_string());
                            s
                        })
                        .collect();
                    attempted.lock().unwrap().push(ids.clone());
                    let Ok(response) = xapi
                        .request(reqwest::Method::POST, "/statements")
                        .json(&batch)
                        .send()
                        .await
                    else {
                        return;
                    };
                    if response.status() == 200 {
                        acknowledged.lock().unwrap().extend(ids);
                    } else {
                        return;
                    }
                }
            }));
        }
        let pause = 300 + (round as u64 * 137) % 700;
        tokio::time::sleep(Duration::from_millis(pause)).await;
        server.kill();
        for writer in writers {
            let _ = writer.await;
        }
    }

    let server = Server::start_on(temp.path(), &[]);
    let xapi = server.admin_xapi();
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 100,
        "the test wrote too little to mean anything: {}",
        acknowledged.len()
    );
    let mut present = std::collections::HashSet::new();
    let attempted = attempted_batches.lock().unwrap().clone();
    for batch in &attempted {
        let mut found = 0;
        for id in batch {
            let status = xapi.get(&format!("?statementId={id}")).await.status();
            if status == 200 {
                found += 1;
                present.insert(*id);
            } else {
                assert_eq!(status, 404);
            }
        }
        assert!(
            found == 0 || found == batch.len(),
            "a batch was stored in part: {found} of {}",
            batch.len()
        );
    }
    let lost: Vec<&Uuid> = acknowledged
        .iter()
        .filter(|id| !present.contains(id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged statements lost, e.g. {:?}",
        lost.len(),
        lost.first()
    );
}
