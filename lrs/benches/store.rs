//! In-process benchmark of a store: the floor under the HTTP figures.
//!
//! Measures, on generated ~1 KB statements with context activities and registrations:
//! parsing and validation alone, preparation, batch insert (100 per batch), and filtered
//! queries with `limit=100`. Run with `cargo bench -p lrs --bench store`; `BENCH_STATEMENTS=N`
//! changes the size (default 200000) and `BENCH_STORE=scylla://HOST:PORT/KEYSPACE` runs the
//! same workload on the ScyllaDB store (the keyspace is dropped afterwards).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use lrs::clock::SystemClock;
use lrs::statements::{Authority, prepare};
use lrs::storage::embedded::{EmbeddedOptions, EmbeddedStore};
use lrs::storage::scylla::{ScyllaConfig, ScyllaStore};
use lrs::storage::{StatementQuery, StatementStore, TenantId, TermKind};
use serde_json::{Value, json};
use xapi::{JsonLimits, Version};

const BATCH: usize = 100;

fn statement(i: usize) -> Value {
    // Spread like a real tenant: many agents, a few verbs, many activities and registrations.
    let agent = (i * 7919) % 5_000;
    let course = (i * 104_729) % 200;
    let sco = (i * 31) % 20;
    let registration = format!("{:08x}-0000-4000-8000-{:012x}", course, (i / 20) % 50_000);
    let verbs = [
        "completed",
        "passed",
        "failed",
        "attempted",
        "experienced",
        "answered",
    ];
    json!({
        "actor": {"objectType": "Agent", "name": format!("Learner {agent}"), "mbox": format!("mailto:learner{agent}@example.com")},
        "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{}", verbs[i % verbs.len()]), "display": {"en-US": verbs[i % verbs.len()]}},
        "object": {
            "objectType": "Activity",
            "id": format!("http://example.com/courses/{course}/sco/{sco}"),
            "definition": {
                "name": {"en-US": format!("Course {course} module {sco}")},
                "description": {"en-US": "A module of a course about working safely with electrical installations."},
                "type": "http://adlnet.gov/expapi/activities/module"
            }
        },
        "result": {"score": {"scaled": 0.85, "raw": 85, "min": 0, "max": 100}, "success": true, "completion": true, "duration": "PT12M30S"},
        "context": {
            "registration": registration,
            "platform": "Proficio SCORM player",
            "language": "en-US",
            "contextActivities": {
                "parent": [{"objectType": "Activity", "id": format!("http://example.com/courses/{course}")}],
                "grouping": [{"objectType": "Activity", "id": "http://example.com/programmes/safety"}],
                "category": [{"objectType": "Activity", "id": "https://w3id.org/xapi/scorm"}]
            }
        },
        "timestamp": "2026-11-23T10:00:00.000Z"
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let total: usize = std::env::var("BENCH_STATEMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let bodies: Vec<Vec<u8>> = (0..total.div_ceil(BATCH))
        .map(|b| {
            let batch: Vec<Value> = (b * BATCH..((b + 1) * BATCH).min(total))
                .map(statement)
                .collect();
            serde_json::to_vec(&batch).unwrap()
        })
        .collect();
    let raw_bytes: usize = bodies.iter().map(Vec::len).sum();
    println!(
        "{total} statements, {:.0} bytes each on average",
        raw_bytes as f64 / total as f64
    );

    let started = Instant::now();
    let mut parsed = Vec::with_capacity(bodies.len());
    for body in &bodies {
        parsed.push(xapi::parse_statements(body, Version::V2_0_0, JsonLimits::default()).unwrap());
    }
    let parse_rate = total as f64 / started.elapsed().as_secs_f64();

    let authority = Authority::for_credential("http://localhost", "bench");
    let started = Instant::now();
    let prepared: Vec<Vec<_>> = parsed
        .into_iter()
        .map(|batch| {
            batch
                .into_iter()
                .map(|s| prepare(s, Version::V2_0_0, &authority))
                .collect()
        })
        .collect();
    let prepare_rate = total as f64 / started.elapsed().as_secs_f64();

    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn StatementStore> = match std::env::var("BENCH_STORE") {
        Ok(uri) if uri.starts_with("scylla://") => {
            let mut config = ScyllaConfig::from_uri(&uri).unwrap();
            config.temporary = true;
            println!("store: {uri}");
            Arc::new(
                ScyllaStore::open(&config, Arc::new(SystemClock))
                    .await
                    .unwrap(),
            )
        }
        _ => {
            println!("store: embedded");
            Arc::new(
                EmbeddedStore::open(
                    dir.path(),
                    EmbeddedOptions::default(),
                    Arc::new(SystemClock),
                )
                .unwrap(),
            )
        }
    };
    let tenant = TenantId(1);
    let mut batch_times = Vec::with_capacity(prepared.len());
    let started = Instant::now();
    for batch in prepared {
        let t = Instant::now();
        store.insert(tenant, batch).await.unwrap();
        batch_times.push(t.elapsed());
    }
    let insert_rate = total as f64 / started.elapsed().as_secs_f64();
    batch_times.sort();

    let queries: Vec<(&str, (TermKind, String))> = vec![
        (
            "agent",
            (
                TermKind::Agent,
                "mbox:mailto:learner42@example.com".to_owned(),
            ),
        ),
        (
            "verb",
            (
                TermKind::Verb,
                "http://adlnet.gov/expapi/verbs/passed".to_owned(),
            ),
        ),
        (
            "activity",
            (
                TermKind::Activity,
                "http://example.com/courses/7/sco/3".to_owned(),
            ),
        ),
        (
            "registration",
            (
                TermKind::Registration,
                "00000007-0000-4000-8000-000000000001".to_owned(),
            ),
        ),
        (
            "related_activities",
            (
                TermKind::RelatedActivity,
                "http://example.com/courses/7".to_owned(),
            ),
        ),
        (
            "related_agents",
            (
                TermKind::RelatedAgent,
                "mbox:mailto:learner42@example.com".to_owned(),
            ),
        ),
    ];
    println!();
    println!("| measure | figure |");
    println!("|---|---|");
    println!("| parse + validate | {parse_rate:.0} statements/s |");
    println!("| prepare (id, authority, terms) | {prepare_rate:.0} statements/s |");
    println!("| insert, batches of {BATCH} | {insert_rate:.0} statements/s |");
    println!(
        "| insert batch latency p50 / p99 | {:.2} / {:.2} ms |",
        percentile(&batch_times, 0.5).as_secs_f64() * 1e3,
        percentile(&batch_times, 0.99).as_secs_f64() * 1e3
    );
    let mut report = json!({
        "statements": total,
        "parse_per_s": parse_rate,
        "prepare_per_s": prepare_rate,
        "insert_per_s": insert_rate,
    });
    for (name, filter) in queries {
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..50 {
            let query = StatementQuery {
                filters: vec![filter.clone()],
                limit: 100,
                ..StatementQuery::default()
            };
            let t = Instant::now();
            let page = store.query(tenant, &query).await.unwrap();
            times.push(t.elapsed());
            found = page.statements.len();
        }
        times.sort();
        let (p50, p95) = (percentile(&times, 0.5), percentile(&times, 0.95));
        println!(
            "| query {name}, limit 100 ({found} found) p50 / p95 | {:.2} / {:.2} ms |",
            p50.as_secs_f64() * 1e3,
            p95.as_secs_f64() * 1e3
        );
        report[format!("query_{name}_p95_ms")] = json!(p95.as_secs_f64() * 1e3);
    }
    drop(store);
    if std::env::var("BENCH_STORE").is_ok_and(|uri| uri.starts_with("scylla://")) {
        println!();
        println!("{report}");
        return;
    }
    let size: u64 = walk_size(dir.path());
    println!(
        "| data dir / raw JSON | {:.2} |",
        size as f64 / raw_bytes as f64
    );
    report["size_ratio"] = json!(size as f64 / raw_bytes as f64);
    println!();
    println!("{report}");
}

fn walk_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => walk_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}
