//! The schema of the ScyllaDB/Cassandra store as versioned CQL migrations, applied at start.
//!
//! Every migration is a list of idempotent DDL statements (`CREATE … IF NOT EXISTS`); the
//! versions applied are rows of `schema_migrations`. A starting server that finds every
//! version applied touches no schema at all. Otherwise it takes the migration lock (a
//! lightweight-transaction row with a TTL, so a crashed holder frees it), applies what is
//! missing and records it; a second server starting at the same time waits for the lock and
//! then finds the work done. Only the keyspace and `schema_migrations` itself are created
//! without the lock (both `IF NOT EXISTS`); see docs/scylla.md for the one window that leaves
//! on Cassandra 5.0, whose schema changes are not serialised cluster-wide (ScyllaDB's are, by
//! Raft).
//!
//! Portable CQL only: no Scylla extensions (`USING TIMEOUT`, `tablets`), no secondary indexes
//! or materialised views, so the same text runs on ScyllaDB and Apache Cassandra.

use std::time::Duration;

use scylla::client::session::Session;
use uuid::Uuid;

use super::{ScyllaConfig, StorageError, cql_error};

/// One schema version: what it adds, and the DDL that adds it.
pub struct Migration {
    pub version: i32,
    pub description: &'static str,
    /// Statements with `{ks}` for the keyspace; each must be idempotent.
    pub statements: &'static [&'static str],
}

/// Every migration, oldest first. Append only: a released migration never changes.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "statements, index, documents, registry",
        statements: &[
            // A statement by (tenant, id): the id claim and the statement itself. Written only by
            // lightweight transactions (claim, steal, roll back), never by plain writes. Visible
            // once its batch is committed (`batches`).
            "CREATE TABLE IF NOT EXISTS {ks}.statements (
            tenant bigint, id uuid, batch_id uuid, seq bigint, voiding boolean, body blob,
            PRIMARY KEY ((tenant, id)))",
            // A batch's commit record: its statements become visible, all at once, when it exists.
            "CREATE TABLE IF NOT EXISTS {ks}.batches (
            tenant bigint, batch_id uuid, first_seq bigint,
            PRIMARY KEY ((tenant, batch_id)))",
            // One row per (filter term, statement), newest first, in bounded time buckets. Kind 0 is
            // 'every statement of the tenant' (the unfiltered timeline).
            "CREATE TABLE IF NOT EXISTS {ks}.statement_index (
            tenant bigint, kind int, hash blob, bucket bigint, seq bigint, id uuid,
            PRIMARY KEY ((tenant, kind, hash, bucket), seq, id))
            WITH CLUSTERING ORDER BY (seq DESC, id ASC)",
            // The non-empty buckets of each term, so that a sparse term is not a walk through
            // thousands of empty buckets.
            "CREATE TABLE IF NOT EXISTS {ks}.statement_index_buckets (
            tenant bigint, kind int, hash blob, bucket bigint,
            PRIMARY KEY ((tenant, kind, hash), bucket))
            WITH CLUSTERING ORDER BY (bucket DESC)",
            // Voiding statements by target; a row counts once its batch is committed.
            "CREATE TABLE IF NOT EXISTS {ks}.voids (
            tenant bigint, target uuid, voiding uuid, batch_id uuid,
            PRIMARY KEY ((tenant, target), voiding, batch_id))",
            // Canonical activity definitions, by hash of the activity id; changed by compare-and-set.
            "CREATE TABLE IF NOT EXISTS {ks}.activities (
            tenant bigint, hash blob, activity text, definition text,
            PRIMARY KEY ((tenant, hash)))",
            // Names statements gave an agent (by hash of its IFI key), with when each was first seen.
            "CREATE TABLE IF NOT EXISTS {ks}.agent_names (
            tenant bigint, agent blob, name text, first_seen bigint,
            PRIMARY KEY ((tenant, agent), name))",
            // Attachment data by SHA-256, in chunks; chunk 0 is written last and carries the count,
            // so its presence means the data is complete.
            "CREATE TABLE IF NOT EXISTS {ks}.attachments (
            tenant bigint, sha2 text, chunk int, chunks int, data blob,
            PRIMARY KEY ((tenant, sha2), chunk))",
            // State, activity profile and agent profile documents. Partition: one owner (activity
            // and agent for State); registration '-' is 'none'. Written only by lightweight
            // transactions.
            "CREATE TABLE IF NOT EXISTS {ks}.documents (
            tenant bigint, kind int, owner blob, registration text, id text,
            content_type text, etag text, updated bigint, body blob,
            PRIMARY KEY ((tenant, kind, owner), registration, id))",
            // Tenants, credentials and the tenant id counter, as JSON records by kind and name.
            "CREATE TABLE IF NOT EXISTS {ks}.registry (
            kind text, name text, record text,
            PRIMARY KEY (kind, name))",
            // Each running server's write watermark and lease (docs/scylla.md, 'Consistent through').
            "CREATE TABLE IF NOT EXISTS {ks}.servers (
            shard int, server uuid, safe bigint, expires bigint,
            PRIMARY KEY (shard, server))",
        ],
    },
    Migration {
        version: 2,
        description: "records and blobs for the SCORM runtime and the capability engine",
        statements: &[
            // Versioned records, every write a lightweight transaction on `version`. A partition is
            // one (kind, group), which callers keep bounded.
            "CREATE TABLE IF NOT EXISTS {ks}.records (
            tenant bigint, kind text, grp text, id text, version bigint, value blob,
            PRIMARY KEY ((tenant, kind, grp), id))",
            // Blob chunks, one partition each (at most 1 MiB), so a large file is spread over
            // the cluster; the caller's records say how many chunks a blob has.
            "CREATE TABLE IF NOT EXISTS {ks}.blobs (
            tenant bigint, blob text, chunk int, data blob,
            PRIMARY KEY ((tenant, blob, chunk)))",
        ],
    },
    Migration {
        version: 3,
        description: "batch journal and sweeper",
        statements: &[
            // Every statement batch, written before its first claim, with its outcome once it has
            // one: the sweeper rolls back batches that crashed (docs/scylla.md, 'The sweeper').
            // Partitioned by minute of the batch's first seq and a shard; never deleted, expired
            // by TTL, so time windows compact it away whole.
            "CREATE TABLE IF NOT EXISTS {ks}.batch_journal (
            minute bigint, shard int, batch_id uuid, tenant bigint, first_seq bigint,
            ids list<uuid>, attachments list<text>, outcome int,
            PRIMARY KEY ((minute, shard), batch_id))
            WITH default_time_to_live = 172800
            AND compaction = {'class': 'TimeWindowCompactionStrategy',
                'compaction_window_unit': 'HOURS', 'compaction_window_size': 6}",
            // The sweeper's lease (row 'lease', a lightweight transaction with a TTL) and its
            // position (row 'position', the last journal minute swept).
            "CREATE TABLE IF NOT EXISTS {ks}.sweeper (
            name text PRIMARY KEY, owner uuid, position bigint)",
        ],
    },
];

/// The lock row's version in `schema_migrations`; real versions start at 1.
const LOCK_VERSION: i32 = 0;
/// A lock holder that crashed frees the lock after this long.
const LOCK_TTL_SECONDS: i32 = 120;

/// Creates the keyspace when absent and applies every migration not yet applied.
pub async fn migrate(session: &Session, config: &ScyllaConfig) -> Result<(), StorageError> {
    let ks = &config.keyspace;
    let run = |cql: String| async move {
        session
            .query_unpaged(cql, &[])
            .await
            .map_err(|e| cql_error("schema change", &e))
    };
    run(format!(
        "CREATE KEYSPACE IF NOT EXISTS {ks} WITH replication = {}",
        config.replication.cql()
    ))
    .await?;
    run(format!(
        "CREATE TABLE IF NOT EXISTS {ks}.schema_migrations (
            version int PRIMARY KEY, description text, applied_at timestamp)"
    ))
    .await?;
    if missing(session, ks).await?.is_empty() {
        return Ok(());
    }
    let owner = Uuid::new_v4();
    let lock = format!(
        "INSERT INTO {ks}.schema_migrations (version, description, applied_at) \
         VALUES ({LOCK_VERSION}, ?, toTimestamp(now())) IF NOT EXISTS USING TTL {LOCK_TTL_SECONDS}"
    );
    let mut waited = Duration::ZERO;
    loop {
        let result = session
            .query_unpaged(lock.clone(), (owner.to_string(),))
            .await
            .map_err(|e| cql_error("schema lock", &e))?;
        if super::Lwt::read(result)?.applied {
            break;
        }
        // Another server is migrating; it may finish the work for us.
        if missing(session, ks).await?.is_empty() {
            return Ok(());
        }
        if waited > Duration::from_secs(u64::try_from(LOCK_TTL_SECONDS).unwrap_or(120) * 2) {
            return Err(StorageError::new(
                super::StorageErrorKind::Unavailable,
                "timed out waiting for another server's schema migration",
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        waited += Duration::from_millis(250);
    }
    let outcome = apply_missing(session, ks).await;
    // Free the lock whatever happened; a failure here leaves it to expire.
    let _ = session
        .query_unpaged(
            format!("DELETE FROM {ks}.schema_migrations WHERE version = {LOCK_VERSION} IF description = ?"),
            (owner.to_string(),),
        )
        .await;
    outcome
}

async fn apply_missing(session: &Session, ks: &str) -> Result<(), StorageError> {
    for migration in missing(session, ks).await? {
        for statement in migration.statements {
            session
                .query_unpaged(statement.replace("{ks}", ks), &[])
                .await
                .map_err(|e| cql_error("schema change", &e))?;
        }
        session
            .query_unpaged(
                format!(
                    "INSERT INTO {ks}.schema_migrations (version, description, applied_at) \
                     VALUES (?, ?, toTimestamp(now())) IF NOT EXISTS"
                ),
                (migration.version, migration.description),
            )
            .await
            .map_err(|e| cql_error("schema version", &e))?;
        tracing::info!(
            keyspace = %ks,
            version = migration.version,
            description = migration.description,
            "schema migration applied"
        );
    }
    Ok(())
}

/// The migrations not yet applied; an error when the keyspace is newer than this binary.
async fn missing(session: &Session, ks: &str) -> Result<Vec<&'static Migration>, StorageError> {
    let result = session
        .query_unpaged(format!("SELECT version FROM {ks}.schema_migrations"), &[])
        .await
        .map_err(|e| cql_error("schema versions", &e))?;
    let rows = result
        .into_rows_result()
        .map_err(|e| super::decode_error(&e))?;
    let mut applied = Vec::new();
    for row in rows.rows::<(i32,)>().map_err(|e| super::decode_error(&e))? {
        let (version,) = row.map_err(|e| super::decode_error(&e))?;
        if version != LOCK_VERSION {
            applied.push(version);
        }
    }
    let known = MIGRATIONS.last().map_or(0, |m| m.version);
    if let Some(newest) = applied.iter().copied().max().filter(|&v| v > known) {
        return Err(StorageError::new(
            super::StorageErrorKind::Corrupt,
            format!(
                "keyspace {ks} has schema version {newest}, newer than this server knows ({known}); \
                 upgrade the server"
            ),
        ));
    }
    Ok(MIGRATIONS
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .collect())
}
