//! The floor: the same statements parsed, validated, prepared and written in process, with no
//! HTTP, no authentication and one core — what the end-to-end figures are compared with.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lrs::clock::SystemClock;
use lrs::statements::{Authority, prepare};
use lrs::storage::embedded::{EmbeddedOptions, EmbeddedStore};
use lrs::storage::{StatementQuery, StatementStore, TenantId};
use xapi::{JsonLimits, Version};

use crate::{BenchError, FloorReport};

pub const TENANT: TenantId = TenantId(1);

/// A temporary embedded store holding the generated statements, and what writing them cost.
pub struct FloorStore {
    pub store: Arc<dyn StatementStore>,
    pub report: FloorReport,
    _dir: tempfile::TempDir,
}

pub async fn ingest(bodies: &[Vec<u8>], statements: usize) -> Result<FloorStore, BenchError> {
    let dir = tempfile::tempdir().map_err(|e| BenchError::Floor(format!("temp dir: {e}")))?;
    let store: Arc<dyn StatementStore> = Arc::new(
        EmbeddedStore::open(
            dir.path(),
            EmbeddedOptions::default(),
            Arc::new(SystemClock),
        )
        .map_err(|e| BenchError::Floor(format!("cannot open the embedded store: {e}")))?,
    );
    let authority = Authority::for_credential("http://127.0.0.1", "bench");
    let (mut parsing, mut preparing, mut inserting) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for body in bodies {
        let started = Instant::now();
        let parsed = xapi::parse_statements(body, Version::V2_0_0, JsonLimits::default())
            .map_err(|e| BenchError::Floor(format!("a generated statement is invalid: {e}")))?;
        parsing += started.elapsed();
        let started = Instant::now();
        let batch: Vec<_> = parsed
            .into_iter()
            .map(|s| prepare(s, Version::V2_0_0, &authority))
            .collect();
        preparing += started.elapsed();
        let started = Instant::now();
        store
            .insert(TENANT, batch)
            .await
            .map_err(|e| BenchError::Floor(format!("insert: {e}")))?;
        inserting += started.elapsed();
    }
    let rate = |d: Duration| statements as f64 / d.as_secs_f64().max(1e-9);
    Ok(FloorStore {
        store,
        report: FloorReport {
            parse_per_s: rate(parsing),
            prepare_per_s: rate(preparing),
            insert_per_s: rate(inserting),
            ingest_per_s: rate(parsing + preparing + inserting),
        },
        _dir: dir,
    })
}

/// Median latency of `queries` run in process, one after another.
pub async fn query_p50(
    store: &dyn StatementStore,
    queries: &[StatementQuery],
) -> Result<f64, BenchError> {
    let mut times = Vec::with_capacity(queries.len());
    for query in queries {
        let started = Instant::now();
        store
            .query(TENANT, query)
            .await
            .map_err(|e| BenchError::Floor(format!("query: {e}")))?;
        times.push(started.elapsed());
    }
    times.sort_unstable();
    Ok(crate::percentile_ms(&times, 0.5))
}
