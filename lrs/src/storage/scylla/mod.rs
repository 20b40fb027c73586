//! The ScyllaDB / Apache Cassandra store: the LRS on a distributed CQL database, through the
//! `scylla` crate, with the behaviour of the embedded store.
//!
//! Data model (query-driven tables; every partition key starts with the tenant; the schema and
//! why it is shaped so are in [`schema`] and docs/scylla.md):
//! - `statements` ((tenant, id)): the id claim *and* the statement (batch, seq, voiding, JSON).
//!   Written only by lightweight transactions, so an id conflict is decided exactly once.
//! - `batches` ((tenant, batch)): a batch's commit record. A statement is visible — to `get`,
//!   to queries, as a voider — only once its batch is committed, so a batch becomes visible
//!   all at once, and a batch refused for a conflict never does.
//! - `statement_index` ((tenant, kind, hash, bucket), seq, id): one row per filter term of a
//!   statement, newest first, in bounded time buckets; kind 0 is the tenant's whole timeline.
//!   `statement_index_buckets` lists the non-empty buckets of each term.
//! - `voids`, `activities`, `agent_names`, `attachments`, `documents`, `registry`, `servers`.
//! - `batch_journal` and `sweeper`: every batch is journaled before its claims, so that the
//!   [`sweeper`] can roll back what a crashed server left behind.
//!
//! TLS to the cluster ([`tls`]) is rustls, configured from the `tls*` settings of the URI.
//!
//! `seq` (the `stored` time in microseconds) strictly increases on one server; see
//! `WriteState` and docs/scylla.md for several servers and for `consistent_through`.

mod config;
mod documents;
mod objects;
mod registry;
pub mod schema;
mod statements;
mod sweeper;
#[cfg(test)]
mod tests;
pub mod tls;

pub use config::{ClientIdentity, Replication, ScyllaConfig, StoreUriError, TlsSettings};
pub use sweeper::SweepReport;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use scylla::client::execution_profile::ExecutionProfile;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::deserialize::row::DeserializeRow;
use scylla::response::query_result::QueryResult;
use scylla::serialize::row::SerializeRow;
use scylla::statement::prepared::PreparedStatement;
use scylla::value::{CqlValue, Row};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{StorageError, StorageErrorKind, TenantId};
use crate::clock::Clock;

/// A server's lease in `servers`: readers ignore a row older than this.
const LEASE: Duration = Duration::from_secs(15);
/// How often a server renews its lease and publishes its watermark.
const HEARTBEAT: Duration = Duration::from_secs(3);
/// Tolerated clock difference between servers, taken off every lease.
const CLOCK_MARGIN: Duration = Duration::from_secs(1);
/// Width of an index time bucket in microseconds (one hour). Fixed for a keyspace forever:
/// changing it would hide every statement indexed before.
const BUCKET_MICROS: i64 = 3_600 * 1_000_000;
/// Statements whose commit record is known, per process (a commit is never undone).
const COMMITTED_CACHE: usize = 1 << 20;

/// The ScyllaDB/Cassandra store; all three storage ports.
pub struct ScyllaStore {
    inner: Arc<Inner>,
}

struct Inner {
    session: Session,
    config: ScyllaConfig,
    /// The TLS configuration of every connection, when `tls` is set.
    tls: Option<Arc<rustls::ClientConfig>>,
    cql: Prepared,
    /// Statements of the batch journal and the sweeper.
    sweep_cql: sweeper::SweepCql,
    clock: Arc<dyn Clock>,
    /// This process, in `servers`.
    server_id: Uuid,
    write: Mutex<WriteState>,
    lease: Mutex<Lease>,
    /// The last consistent-through time handed out, so that it never goes back.
    last_consistent: AtomicI64,
    /// Batches known committed.
    committed: Mutex<HashSet<(TenantId, Uuid)>>,
    /// Index buckets known listed in `statement_index_buckets`.
    buckets_written: Mutex<HashSet<(TenantId, Term, i64)>>,
}

/// Held briefly (never across an await) to assign `seq`.
///
/// `seq` = max(now, last + 1) makes `stored` strictly increasing on this server. Before the
/// first write to a tenant the server reads the newest `seq` stored for it, so a restart
/// cannot go back in time for that tenant even with a clock that did.
struct WriteState {
    last_seq: i64,
    /// First seq of every batch being written → how many batches start there.
    in_flight: BTreeMap<i64, usize>,
    tenants_seen: HashSet<TenantId>,
}

/// The lease this server holds in `servers` (see docs/scylla.md, "Consistent through").
struct Lease {
    /// Until when other servers trust this server's published watermark (µs).
    valid_until: i64,
    /// Bumped whenever the lease may have lapsed: a batch begun under an older epoch must not
    /// commit, because other servers may have moved past its `seq` meanwhile.
    epoch: u64,
}

const HASH_LEN: usize = 16;

/// An index term: (kind, hash of the value). Kind 0 is every statement of the tenant.
type Term = (i32, [u8; HASH_LEN]);

impl ScyllaStore {
    /// Connects, applies the schema migrations, prepares the statements and joins the
    /// servers' watermark table. Fails with [`StorageErrorKind::Unavailable`] when the cluster
    /// cannot be reached, and when TLS is set and cannot work (the message names the setting:
    /// see [`tls::TlsError`]).
    pub async fn open(
        config: &ScyllaConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<ScyllaStore, StorageError> {
        let tls = match &config.tls {
            Some(settings) => Some(tls::client_config(settings).map_err(tls_unavailable)?),
            None => None,
        };
        let profile = ExecutionProfile::builder()
            .consistency(config.consistency)
            .serial_consistency(Some(config.serial_consistency))
            .request_timeout(Some(config.request_timeout))
            .build();
        let builder = session_builder(config, tls.clone())
            .connection_timeout(config.request_timeout)
            // Routing needs only this keyspace's metadata, not that of every keyspace.
            .keyspaces_to_fetch([config.keyspace.clone()])
            .default_execution_profile_handle(profile.into_handle());
        let session = match builder.build().await {
            Ok(session) => session,
            Err(e) => return Err(connect_error(config, tls, &e).await),
        };
        schema::migrate(&session, config).await?;
        let cql = Prepared::prepare(&session, &config.keyspace).await?;
        let sweep_cql = sweeper::SweepCql::prepare(&session, &config.keyspace).await?;
        let inner = Arc::new(Inner {
            session,
            config: config.clone(),
            tls,
            cql,
            sweep_cql,
            clock,
            server_id: Uuid::new_v4(),
            write: Mutex::new(WriteState {
                last_seq: 0,
                in_flight: BTreeMap::new(),
                tenants_seen: HashSet::new(),
            }),
            lease: Mutex::new(Lease {
                valid_until: 0,
                epoch: 0,
            }),
            last_consistent: AtomicI64::new(0),
            committed: Mutex::new(HashSet::new()),
            buckets_written: Mutex::new(HashSet::new()),
        });
        inner.heartbeat().await?;
        tokio::spawn(heartbeat_loop(Arc::downgrade(&inner)));
        if let Some(interval) = config.sweep_interval {
            tokio::spawn(sweeper::sweep_loop(Arc::downgrade(&inner), interval));
        }
        tracing::info!(
            keyspace = %config.keyspace,
            nodes = %config.nodes.join(","),
            server = %inner.server_id,
            tls = config.tls.is_some(),
            "scylla store open"
        );
        Ok(ScyllaStore { inner })
    }

    /// One sweep of what crashed batches left behind, when this server holds (or takes) the
    /// sweeper lease; `None` when another server holds it. Servers run it every
    /// `sweep_interval` on their own; see [`sweeper`].
    pub async fn sweep(&self) -> Result<Option<SweepReport>, StorageError> {
        self.inner.sweep().await
    }

    /// The keyspace this store works in.
    pub fn keyspace(&self) -> &str {
        &self.inner.config.keyspace
    }
}

impl Drop for Inner {
    /// A temporary store's keyspace goes with it, on a thread of its own: a drop cannot wait,
    /// and the runtime this store ran on may be ending (a test's).
    fn drop(&mut self) {
        if !self.config.temporary {
            return;
        }
        let config = self.config.clone();
        let tls = self.tls.clone();
        let spawned = std::thread::Builder::new()
            .name("drop-keyspace".to_owned())
            .spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                runtime.block_on(async move {
                    let builder = session_builder(&config, tls).fetch_schema_metadata(false);
                    if let Ok(session) = builder.build().await {
                        let drop = format!("DROP KEYSPACE IF EXISTS {}", config.keyspace);
                        if let Err(e) = session.query_unpaged(drop, &[]).await {
                            tracing::warn!(keyspace = %config.keyspace, error = %e, "temporary keyspace not dropped");
                        }
                    }
                });
            });
        if let Err(e) = spawned {
            tracing::warn!(keyspace = %self.config.keyspace, error = %e, "temporary keyspace not dropped");
        }
    }
}

/// A session builder for the nodes, with the credentials and TLS of the configuration.
fn session_builder(
    config: &ScyllaConfig,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> SessionBuilder {
    let mut builder = SessionBuilder::new()
        .known_nodes(&config.nodes)
        .tls_context(tls);
    if let Some((user, password)) = &config.credentials {
        builder = builder.user(user, password);
    }
    builder
}

fn tls_unavailable(error: tls::TlsError) -> StorageError {
    StorageError::new(StorageErrorKind::Unavailable, error.to_string())
}

/// The error of a failed connection. With TLS, the driver's error says little (a broken pool),
/// so each node is tried once more by hand to tell an untrusted certificate, a name mismatch or
/// a refused client certificate apart; the first such finding is the error.
async fn connect_error(
    config: &ScyllaConfig,
    tls: Option<Arc<rustls::ClientConfig>>,
    error: &dyn std::fmt::Display,
) -> StorageError {
    if let (Some(settings), Some(client)) = (&config.tls, tls) {
        for node in &config.nodes {
            let Ok(addresses) = tokio::net::lookup_host(node.as_str()).await else {
                continue;
            };
            for address in addresses {
                let found =
                    tls::diagnose(address, client.clone(), settings, config.request_timeout).await;
                if let Some(found) = found {
                    return tls_unavailable(found);
                }
            }
        }
    }
    StorageError::new(
        StorageErrorKind::Unavailable,
        format!("cannot connect to {}: {error}", config.nodes.join(",")),
    )
}

/// Renews the lease until the store is dropped.
async fn heartbeat_loop(inner: Weak<Inner>) {
    loop {
        tokio::time::sleep(HEARTBEAT).await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        if let Err(e) = inner.heartbeat().await {
            tracing::warn!(error = %e, "scylla store heartbeat failed");
        }
    }
}

impl Inner {
    fn now_micros(&self) -> i64 {
        self.clock.now().timestamp_micros()
    }

    /// The greatest seq below which this server will never again make a statement visible:
    /// just below its oldest batch in flight, else just below any seq it could assign next.
    fn own_safe_point(&self, now: i64) -> i64 {
        let state = self.write.lock();
        match state.in_flight.first_key_value() {
            Some((&first, _)) => first - 1,
            None => (now - 1).max(state.last_seq),
        }
    }

    /// Publishes this server's watermark and renews its lease.
    async fn heartbeat(&self) -> Result<(), StorageError> {
        let now = self.now_micros();
        let safe = self.own_safe_point(now);
        let expires = now + micros(LEASE);
        self.execute(
            &self.cql.server_beat,
            (self.server_id, safe, expires),
            "heartbeat",
        )
        .await?;
        let after = self.now_micros();
        let mut lease = self.lease.lock();
        if lease.valid_until <= after {
            // Other servers may have stopped trusting our row for a while.
            lease.epoch += 1;
        }
        lease.valid_until = lease.valid_until.max(expires - micros(CLOCK_MARGIN));
        Ok(())
    }

    /// See [`super::StatementStore::consistent_through`]: the smallest watermark of the live
    /// servers (this one's computed now, the others' as last published), never going back.
    async fn consistent_through(&self) -> Result<DateTime<Utc>, StorageError> {
        let now = self.now_micros();
        let mut value = self.own_safe_point(now);
        let rows: Vec<(Uuid, i64, i64)> = self
            .select(&self.cql.servers_get, (), "consistent through")
            .await?;
        for (server, safe, expires) in rows {
            if server != self.server_id && expires > now {
                value = value.min(safe);
            }
        }
        let previous = self.last_consistent.fetch_max(value, Ordering::SeqCst);
        Ok(micros_to_time(previous.max(value)))
    }

    /// Whether a batch's commit record exists.
    async fn is_committed(&self, tenant: TenantId, batch: Uuid) -> Result<bool, StorageError> {
        if self.committed.lock().contains(&(tenant, batch)) {
            return Ok(true);
        }
        let found: Option<(i64,)> = self
            .select_one(&self.cql.batch_get, (tenant_key(tenant), batch), "batch")
            .await?;
        if found.is_some() {
            let mut cache = self.committed.lock();
            if cache.len() >= COMMITTED_CACHE {
                cache.clear();
            }
            cache.insert((tenant, batch));
        }
        Ok(found.is_some())
    }

    async fn execute(
        &self,
        statement: &PreparedStatement,
        values: impl SerializeRow,
        what: &str,
    ) -> Result<QueryResult, StorageError> {
        self.session
            .execute_unpaged(statement, values)
            .await
            .map_err(|e| cql_error(what, &e))
    }

    /// Every row of a small result.
    async fn select<R>(
        &self,
        statement: &PreparedStatement,
        values: impl SerializeRow,
        what: &str,
    ) -> Result<Vec<R>, StorageError>
    where
        R: for<'f, 'm> DeserializeRow<'f, 'm>,
    {
        let result = self.execute(statement, values, what).await?;
        let rows = result.into_rows_result().map_err(|e| decode_error(&e))?;
        let iter = rows.rows::<R>().map_err(|e| decode_error(&e))?;
        iter.map(|row| row.map_err(|e| decode_error(&e))).collect()
    }

    async fn select_one<R>(
        &self,
        statement: &PreparedStatement,
        values: impl SerializeRow,
        what: &str,
    ) -> Result<Option<R>, StorageError>
    where
        R: for<'f, 'm> DeserializeRow<'f, 'm>,
    {
        Ok(self
            .select(statement, values, what)
            .await?
            .into_iter()
            .next())
    }

    /// Every row of a result of any size, fetched page by page.
    async fn select_all<R>(
        &self,
        statement: &PreparedStatement,
        values: impl SerializeRow,
        what: &str,
    ) -> Result<Vec<R>, StorageError>
    where
        R: for<'f, 'm> DeserializeRow<'f, 'm> + Unpin,
    {
        use futures::TryStreamExt as _;
        let pager = self
            .session
            .execute_iter(statement.clone(), values)
            .await
            .map_err(|e| cql_error(what, &e))?;
        pager
            .rows_stream::<R>()
            .map_err(|e| decode_error(&e))?
            .try_collect()
            .await
            .map_err(|e| cql_error(what, &e))
    }

    async fn lwt(
        &self,
        statement: &PreparedStatement,
        values: impl SerializeRow,
        what: &str,
    ) -> Result<Lwt, StorageError> {
        Lwt::read(self.execute(statement, values, what).await?)
    }
}

/// The outcome of a lightweight transaction, read by column name: Cassandra answers only
/// `[applied]` when it applied and adds the current row when not; ScyllaDB always adds the row.
struct Lwt {
    applied: bool,
    columns: Vec<(String, Option<CqlValue>)>,
}

impl Lwt {
    fn read(result: QueryResult) -> Result<Lwt, StorageError> {
        let rows = result.into_rows_result().map_err(|e| decode_error(&e))?;
        let names: Vec<String> = rows
            .column_specs()
            .iter()
            .map(|spec| spec.name().to_owned())
            .collect();
        let row: Row = rows.first_row().map_err(|e| decode_error(&e))?;
        let columns: Vec<(String, Option<CqlValue>)> = names.into_iter().zip(row.columns).collect();
        let applied = match columns.iter().find(|(name, _)| name == "[applied]") {
            Some((_, Some(CqlValue::Boolean(applied)))) => *applied,
            _ => {
                return Err(StorageError::corrupt(
                    "a conditional write answered no [applied]",
                ));
            }
        };
        Ok(Lwt { applied, columns })
    }

    fn get(&self, name: &str) -> Option<&CqlValue> {
        self.columns
            .iter()
            .find(|(column, _)| column == name)
            .and_then(|(_, value)| value.as_ref())
    }
}

pub(crate) fn cql_error(what: &str, error: &dyn std::fmt::Display) -> StorageError {
    StorageError::new(
        StorageErrorKind::Unavailable,
        format!("{what}: the database failed: {error}"),
    )
}

pub(crate) fn decode_error(error: &dyn std::fmt::Display) -> StorageError {
    StorageError::corrupt(format!("unexpected answer from the database: {error}"))
}

fn tenant_key(tenant: TenantId) -> i64 {
    i64::from(tenant.0)
}

fn hash16(parts: &[&[u8]]) -> [u8; HASH_LEN] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let mut out = [0u8; HASH_LEN];
    out.copy_from_slice(&digest[..HASH_LEN]);
    out
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

fn micros_to_time(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

fn bucket_of(seq: i64) -> i64 {
    seq.div_euclid(BUCKET_MICROS)
}

/// Declares the prepared statements; `{ks}` is the keyspace.
macro_rules! prepared {
    ($($name:ident: $cql:literal,)*) => {
        struct Prepared {
            $($name: PreparedStatement,)*
        }

        impl Prepared {
            async fn prepare(session: &Session, ks: &str) -> Result<Prepared, StorageError> {
                Ok(Prepared {
                    $($name: prepare(session, ks, $cql).await?,)*
                })
            }
        }
    };
}

async fn prepare(
    session: &Session,
    ks: &str,
    cql: &str,
) -> Result<PreparedStatement, StorageError> {
    let text = cql.replace("{ks}", ks);
    let mut statement = session
        .prepare(text.as_str())
        .await
        .map_err(|e| cql_error(&format!("preparing {text:?}"), &e))?;
    // Plain writes and reads may be retried; a lightweight transaction may not (its first
    // attempt may have applied).
    let conditional = text.contains(" IF ");
    statement.set_is_idempotent(!conditional);
    statement.set_page_size(1_000);
    Ok(statement)
}

prepared! {
    // statements
    claim: "INSERT INTO {ks}.statements (tenant, id, batch_id, seq, voiding, body) VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS",
    steal: "UPDATE {ks}.statements SET batch_id = ?, seq = ?, voiding = ?, body = ? WHERE tenant = ? AND id = ? IF batch_id = ?",
    release: "DELETE FROM {ks}.statements WHERE tenant = ? AND id = ? IF batch_id = ?",
    statement_get: "SELECT batch_id, seq, voiding, body FROM {ks}.statements WHERE tenant = ? AND id = ?",
    commit: "INSERT INTO {ks}.batches (tenant, batch_id, first_seq) VALUES (?, ?, ?)",
    batch_get: "SELECT first_seq FROM {ks}.batches WHERE tenant = ? AND batch_id = ?",
    index_insert: "INSERT INTO {ks}.statement_index (tenant, kind, hash, bucket, seq, id) VALUES (?, ?, ?, ?, ?, ?)",
    index_has: "SELECT id FROM {ks}.statement_index WHERE tenant = ? AND kind = ? AND hash = ? AND bucket = ? AND seq = ? AND id = ?",
    index_desc: "SELECT seq, id FROM {ks}.statement_index WHERE tenant = ? AND kind = ? AND hash = ? AND bucket = ? AND seq >= ? AND seq <= ?",
    index_asc: "SELECT seq, id FROM {ks}.statement_index WHERE tenant = ? AND kind = ? AND hash = ? AND bucket = ? AND seq >= ? AND seq <= ? ORDER BY seq ASC",
    index_newest: "SELECT seq FROM {ks}.statement_index WHERE tenant = ? AND kind = ? AND hash = ? AND bucket = ? LIMIT 1",
    bucket_insert: "INSERT INTO {ks}.statement_index_buckets (tenant, kind, hash, bucket) VALUES (?, ?, ?, ?)",
    buckets_desc: "SELECT bucket FROM {ks}.statement_index_buckets WHERE tenant = ? AND kind = ? AND hash = ? AND bucket >= ? AND bucket <= ?",
    buckets_asc: "SELECT bucket FROM {ks}.statement_index_buckets WHERE tenant = ? AND kind = ? AND hash = ? AND bucket >= ? AND bucket <= ? ORDER BY bucket ASC",
    bucket_newest: "SELECT bucket FROM {ks}.statement_index_buckets WHERE tenant = ? AND kind = ? AND hash = ? LIMIT 1",
    void_insert: "INSERT INTO {ks}.voids (tenant, target, voiding, batch_id) VALUES (?, ?, ?, ?)",
    voids_get: "SELECT voiding, batch_id FROM {ks}.voids WHERE tenant = ? AND target = ?",
    activity_get: "SELECT definition FROM {ks}.activities WHERE tenant = ? AND hash = ?",
    activity_create: "INSERT INTO {ks}.activities (tenant, hash, activity, definition) VALUES (?, ?, ?, ?) IF NOT EXISTS",
    activity_update: "UPDATE {ks}.activities SET definition = ? WHERE tenant = ? AND hash = ? IF definition = ?",
    names_get: "SELECT name, first_seen FROM {ks}.agent_names WHERE tenant = ? AND agent = ?",
    name_insert: "INSERT INTO {ks}.agent_names (tenant, agent, name, first_seen) VALUES (?, ?, ?, ?) IF NOT EXISTS",
    attachment_head: "SELECT chunks FROM {ks}.attachments WHERE tenant = ? AND sha2 = ? AND chunk = 0",
    attachment_chunk: "INSERT INTO {ks}.attachments (tenant, sha2, chunk, data) VALUES (?, ?, ?, ?)",
    attachment_first: "INSERT INTO {ks}.attachments (tenant, sha2, chunk, chunks, data) VALUES (?, ?, 0, ?, ?)",
    attachment_get: "SELECT chunk, chunks, data FROM {ks}.attachments WHERE tenant = ? AND sha2 = ?",
    // documents
    document_get: "SELECT content_type, etag, updated, body FROM {ks}.documents WHERE tenant = ? AND kind = ? AND owner = ? AND registration = ? AND id = ?",
    document_create: "INSERT INTO {ks}.documents (tenant, kind, owner, registration, id, content_type, etag, updated, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS",
    document_update: "UPDATE {ks}.documents SET content_type = ?, etag = ?, updated = ?, body = ? WHERE tenant = ? AND kind = ? AND owner = ? AND registration = ? AND id = ? IF etag = ? AND updated = ?",
    document_delete: "DELETE FROM {ks}.documents WHERE tenant = ? AND kind = ? AND owner = ? AND registration = ? AND id = ? IF etag = ? AND updated = ?",
    document_delete_existing: "DELETE FROM {ks}.documents WHERE tenant = ? AND kind = ? AND owner = ? AND registration = ? AND id = ? IF EXISTS",
    documents_of_owner: "SELECT registration, id, updated FROM {ks}.documents WHERE tenant = ? AND kind = ? AND owner = ?",
    documents_of_scope: "SELECT registration, id, updated FROM {ks}.documents WHERE tenant = ? AND kind = ? AND owner = ? AND registration = ?",
    // registry
    registry_get: "SELECT record FROM {ks}.registry WHERE kind = ? AND name = ?",
    registry_list: "SELECT record FROM {ks}.registry WHERE kind = ?",
    registry_create: "INSERT INTO {ks}.registry (kind, name, record) VALUES (?, ?, ?) IF NOT EXISTS",
    registry_update: "UPDATE {ks}.registry SET record = ? WHERE kind = ? AND name = ? IF record = ?",
    registry_overwrite: "UPDATE {ks}.registry SET record = ? WHERE kind = ? AND name = ? IF EXISTS",
    // records and blobs
    record_get: "SELECT version, value FROM {ks}.records WHERE tenant = ? AND kind = ? AND grp = ? AND id = ?",
    record_create: "INSERT INTO {ks}.records (tenant, kind, grp, id, version, value) VALUES (?, ?, ?, ?, 1, ?) IF NOT EXISTS",
    record_update: "UPDATE {ks}.records SET version = ?, value = ? WHERE tenant = ? AND kind = ? AND grp = ? AND id = ? IF version = ?",
    record_delete: "DELETE FROM {ks}.records WHERE tenant = ? AND kind = ? AND grp = ? AND id = ? IF version = ?",
    records_first: "SELECT id, version, value FROM {ks}.records WHERE tenant = ? AND kind = ? AND grp = ? LIMIT ?",
    records_after: "SELECT id, version, value FROM {ks}.records WHERE tenant = ? AND kind = ? AND grp = ? AND id > ? LIMIT ?",
    blob_put: "INSERT INTO {ks}.blobs (tenant, blob, chunk, data) VALUES (?, ?, ?, ?)",
    blob_get: "SELECT data FROM {ks}.blobs WHERE tenant = ? AND blob = ? AND chunk = ?",
    blob_delete: "DELETE FROM {ks}.blobs WHERE tenant = ? AND blob = ? AND chunk = ?",
    // servers; the row of a server that stopped leaves after a day
    server_beat: "INSERT INTO {ks}.servers (shard, server, safe, expires) VALUES (0, ?, ?, ?) USING TTL 86400",
    servers_get: "SELECT server, safe, expires FROM {ks}.servers WHERE shard = 0",
}
