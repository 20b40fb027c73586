//! The batch journal and the sweeper: what a crashed server leaves behind is rolled back.
//!
//! Every batch writes a journal row before its first claim — its first seq, the ids it is about
//! to claim, the attachments it may write — and, once it has ended, its outcome. The journal is
//! partitioned by minute of first seq (and a small shard), and expires after two days.
//!
//! The sweeper walks the journal minute by minute, behind the present by the grace period
//! (`sweep_grace`, at least twice `write_deadline` plus `request_timeout`). A batch that
//! reached its outcome left nothing behind, or only attachment chunks. A batch without an
//! outcome and without a commit record crashed between its claims and its commit, and it can
//! never commit any more (`commit` refuses after one write deadline). So, for such a batch:
//!
//! - each claim it still holds is released (`DELETE … IF batch_id = ours`, the same release a
//!   refused batch makes), and the index and void rows its statements published are deleted
//!   (their keys hold this attempt's seq and batch id, which no later write reuses);
//! - an attachment whose chunk 0 is missing (chunk 0 goes last, so it was never completed) and
//!   whose newest chunk is older than the grace period is deleted *as of* that chunk's write
//!   time (`USING TIMESTAMP`), so chunks a new writer of the same data writes meanwhile stay.
//!
//! A crashed batch is never completed instead: its seq is older than what every server has
//! since vouched for as consistent (`consistent_through`), so its statements may not appear.
//! Canonical activity definitions and agent names it merged stay, as in any store.
//!
//! Every step is idempotent and conditional, so sweeps running at the same time are safe; a
//! lease (a lightweight transaction with a TTL) keeps it to one server at a time anyway, to
//! spare the work. The sweeper's position (the last minute swept) is kept in the keyspace.

#[allow(clippy::wildcard_imports)]
use super::*;

use futures::{StreamExt as _, TryStreamExt as _};
use serde_json::{Map, Value};

use super::statements::{KIND_ALL, all_hash, kind_code, term_hash};
use crate::storage::statement_from_stored;

/// Width of a journal partition, in microseconds (one minute).
const MINUTE_MICROS: i64 = 60 * 1_000_000;
/// Journal partitions per minute, so that a busy minute is not one hot partition.
pub(super) const JOURNAL_SHARDS: i32 = 4;
/// Outcome of a batch that committed, or ended having written nothing that stays.
pub(super) const OUTCOME_CLEAN: i32 = 1;
/// Outcome of a batch whose writer released its claims after publishing had begun: some
/// attachment chunks may be left.
pub(super) const OUTCOME_ROLLED_BACK: i32 = 2;
/// Minutes swept per round at most, so that catching up after a long pause is spread out.
const MINUTES_PER_ROUND: i64 = 240;
/// Where a keyspace's first sweep starts, in minutes behind the grace period, rather than at the
/// journal's two-day horizon: a first sweep stays short, and older entries are left to expire
/// (their claims are still taken over by the next write of their ids).
const FIRST_LOOKBACK_MINUTES: i64 = 240;
/// Journal minutes read at once.
const MINUTES_AT_ONCE: i64 = 8;
/// How many journal entries and attachments are checked at once.
const CONCURRENCY: usize = 16;

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Journal minutes walked.
    pub minutes: u64,
    /// Journal entries read.
    pub batches: u64,
    /// Batches found crashed (no outcome, no commit) and rolled back.
    pub rolled_back: u64,
    /// Statement claims released.
    pub claims_released: u64,
    /// Index and void rows of released claims deleted.
    pub rows_deleted: u64,
    /// Incomplete attachments deleted.
    pub attachments_deleted: u64,
}

impl SweepReport {
    fn add(&mut self, other: &SweepReport) {
        self.minutes += other.minutes;
        self.batches += other.batches;
        self.rolled_back += other.rolled_back;
        self.claims_released += other.claims_released;
        self.rows_deleted += other.rows_deleted;
        self.attachments_deleted += other.attachments_deleted;
    }
}

/// Declares the journal's and the sweeper's prepared statements; `{ks}` is the keyspace.
macro_rules! sweep_prepared {
    ($($name:ident: $cql:literal,)*) => {
        pub(super) struct SweepCql {
            $(pub(super) $name: PreparedStatement,)*
        }

        impl SweepCql {
            pub(super) async fn prepare(session: &Session, ks: &str) -> Result<SweepCql, StorageError> {
                Ok(SweepCql {
                    $($name: prepare(session, ks, $cql).await?,)*
                })
            }
        }
    };
}

sweep_prepared! {
    journal_insert: "INSERT INTO {ks}.batch_journal (minute, shard, batch_id, tenant, first_seq, ids, attachments) VALUES (?, ?, ?, ?, ?, ?, ?)",
    journal_outcome: "UPDATE {ks}.batch_journal SET outcome = ? WHERE minute = ? AND shard = ? AND batch_id = ?",
    journal_minute: "SELECT batch_id, tenant, outcome FROM {ks}.batch_journal WHERE minute = ? AND shard = ?",
    journal_entry: "SELECT ids, attachments FROM {ks}.batch_journal WHERE minute = ? AND shard = ? AND batch_id = ?",
    index_delete: "DELETE FROM {ks}.statement_index WHERE tenant = ? AND kind = ? AND hash = ? AND bucket = ? AND seq = ? AND id = ?",
    void_delete: "DELETE FROM {ks}.voids WHERE tenant = ? AND target = ? AND voiding = ? AND batch_id = ?",
    attachment_times: "SELECT chunk, WRITETIME(data) FROM {ks}.attachments WHERE tenant = ? AND sha2 = ?",
    attachment_delete: "DELETE FROM {ks}.attachments USING TIMESTAMP ? WHERE tenant = ? AND sha2 = ?",
    lease_take: "INSERT INTO {ks}.sweeper (name, owner) VALUES ('lease', ?) IF NOT EXISTS USING TTL ?",
    lease_renew: "UPDATE {ks}.sweeper USING TTL ? SET owner = ? WHERE name = 'lease' IF owner = ?",
    position_get: "SELECT position FROM {ks}.sweeper WHERE name = 'position'",
    position_set: "INSERT INTO {ks}.sweeper (name, position) VALUES ('position', ?)",
}

/// A batch's place in the journal.
#[derive(Debug, Clone, Copy)]
pub(super) struct JournalKey {
    minute: i64,
    shard: i32,
    batch: Uuid,
}

impl JournalKey {
    pub(super) fn new(first_seq: i64, batch: Uuid) -> JournalKey {
        let shard = i32::from(batch.as_bytes()[0]) % JOURNAL_SHARDS;
        JournalKey {
            minute: first_seq.div_euclid(MINUTE_MICROS),
            shard,
            batch,
        }
    }
}

/// The ids and attachments of a journal row.
type JournalDetail = (Option<Vec<Uuid>>, Option<Vec<String>>);

/// One journal row as the sweeper first reads it.
struct Entry {
    minute: i64,
    shard: i32,
    batch: Uuid,
    tenant: TenantId,
    outcome: Option<i32>,
}

/// Runs a sweep every `interval` until the store is dropped.
pub(super) async fn sweep_loop(inner: Weak<Inner>, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        match inner.sweep().await {
            Ok(Some(report)) if report.rolled_back > 0 || report.attachments_deleted > 0 => {
                tracing::info!(
                    minutes = report.minutes,
                    batches = report.batches,
                    rolled_back = report.rolled_back,
                    claims_released = report.claims_released,
                    rows_deleted = report.rows_deleted,
                    attachments_deleted = report.attachments_deleted,
                    "sweeper rolled back crashed batches"
                );
            }
            Ok(Some(report)) => {
                tracing::debug!(
                    minutes = report.minutes,
                    batches = report.batches,
                    "sweeper found nothing to roll back"
                );
            }
            Ok(None) => tracing::debug!("sweeper lease held by another server"),
            Err(e) => tracing::warn!(error = %e, "sweep failed"),
        }
    }
}

impl Inner {
    /// Records a batch in the journal before it claims anything.
    pub(super) async fn journal_begin(
        &self,
        key: JournalKey,
        tenant: TenantId,
        first_seq: i64,
        ids: Vec<Uuid>,
        attachments: Vec<String>,
    ) -> Result<(), StorageError> {
        self.execute(
            &self.sweep_cql.journal_insert,
            (
                key.minute,
                key.shard,
                key.batch,
                tenant_key(tenant),
                first_seq,
                ids,
                attachments,
            ),
            "batch journal",
        )
        .await?;
        Ok(())
    }

    /// Records how a batch ended. Best effort: without it the sweeper checks the batch itself.
    pub(super) async fn journal_end(&self, key: JournalKey, outcome: i32) {
        let written = self
            .execute(
                &self.sweep_cql.journal_outcome,
                (outcome, key.minute, key.shard, key.batch),
                "batch journal",
            )
            .await;
        if let Err(e) = written {
            tracing::debug!(batch = %key.batch, error = %e, "batch outcome not journaled");
        }
    }

    /// See [`ScyllaStore::sweep`].
    pub(super) async fn sweep(&self) -> Result<Option<SweepReport>, StorageError> {
        if !self.hold_sweeper_lease().await? {
            return Ok(None);
        }
        let now = self.now_micros();
        let grace = micros(self.config.sweep_grace);
        // The newest minute wholly older than the grace period.
        let last = (now - grace).div_euclid(MINUTE_MICROS) - 1;
        let position: Option<(Option<i64>,)> = self
            .select_one(&self.sweep_cql.position_get, (), "sweeper position")
            .await?;
        let mut minute = match position.and_then(|(p,)| p) {
            Some(position) => position + 1,
            None => last - FIRST_LOOKBACK_MINUTES + 1,
        };
        let end = last.min(minute + MINUTES_PER_ROUND - 1);
        let mut report = SweepReport::default();
        while minute <= end {
            // A few minutes at a time; the position moves only past minutes wholly swept.
            let through = end.min(minute + MINUTES_AT_ONCE - 1);
            let swept: Vec<SweepReport> = futures::future::try_join_all(
                (minute..=through).map(|m| self.sweep_minute(m, now)),
            )
            .await?;
            for part in swept {
                report.add(&part);
            }
            self.execute(&self.sweep_cql.position_set, (through,), "sweeper position")
                .await?;
            minute = through + 1;
        }
        Ok(Some(report))
    }

    /// Renews this server's sweeper lease, or takes it when nobody holds it.
    async fn hold_sweeper_lease(&self) -> Result<bool, StorageError> {
        let interval = self
            .config
            .sweep_interval
            .unwrap_or(Duration::from_secs(300));
        // Long enough to outlast a round, short enough that a crashed holder is replaced soon.
        let ttl = i32::try_from(interval.as_secs().saturating_mul(3).max(60)).unwrap_or(i32::MAX);
        let renewed = self
            .lwt(
                &self.sweep_cql.lease_renew,
                (ttl, self.server_id, self.server_id),
                "sweeper lease",
            )
            .await?;
        if renewed.applied {
            return Ok(true);
        }
        let taken = self
            .lwt(
                &self.sweep_cql.lease_take,
                (self.server_id, ttl),
                "sweeper lease",
            )
            .await?;
        Ok(taken.applied)
    }

    async fn sweep_minute(&self, minute: i64, now: i64) -> Result<SweepReport, StorageError> {
        let shards = futures::future::try_join_all((0..JOURNAL_SHARDS).map(|shard| {
            self.select_all::<(Uuid, i64, Option<i32>)>(
                &self.sweep_cql.journal_minute,
                (minute, shard),
                "batch journal",
            )
        }))
        .await?;
        let mut report = SweepReport {
            minutes: 1,
            ..SweepReport::default()
        };
        let mut entries = Vec::new();
        for (shard, rows) in (0..JOURNAL_SHARDS).zip(shards) {
            for (batch, tenant, outcome) in rows {
                let tenant = u32::try_from(tenant)
                    .map(TenantId)
                    .map_err(|_| StorageError::corrupt("batch journal: bad tenant"))?;
                entries.push(Entry {
                    minute,
                    shard,
                    batch,
                    tenant,
                    outcome,
                });
            }
        }
        report.batches += entries.len() as u64;
        let mut checks = Vec::new();
        for entry in &entries {
            if entry.outcome != Some(OUTCOME_CLEAN) {
                checks.push(self.sweep_entry(entry, now));
            }
        }
        let outcomes: Vec<SweepReport> = futures::stream::iter(checks)
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        for outcome in outcomes {
            report.add(&outcome);
        }
        Ok(report)
    }

    /// Rolls back one journaled batch that did not end cleanly, unless it committed.
    async fn sweep_entry(&self, entry: &Entry, now: i64) -> Result<SweepReport, StorageError> {
        let mut report = SweepReport::default();
        if self.is_committed(entry.tenant, entry.batch).await? {
            return Ok(report);
        }
        let found: Option<JournalDetail> = self
            .select_one(
                &self.sweep_cql.journal_entry,
                (entry.minute, entry.shard, entry.batch),
                "batch journal",
            )
            .await?;
        let Some((ids, attachments)) = found else {
            return Ok(report);
        };
        if entry.outcome.is_none() {
            report.rolled_back = 1;
            for id in ids.unwrap_or_default() {
                self.release_abandoned(entry.tenant, entry.batch, id, &mut report)
                    .await?;
            }
        }
        for sha2 in attachments.unwrap_or_default() {
            if self.sweep_attachment(entry.tenant, &sha2, now).await? {
                report.attachments_deleted += 1;
            }
        }
        Ok(report)
    }

    /// Releases one claim of a crashed batch, with the index and void rows it published.
    async fn release_abandoned(
        &self,
        tenant: TenantId,
        batch: Uuid,
        id: Uuid,
        report: &mut SweepReport,
    ) -> Result<(), StorageError> {
        let Some(row) = self.statement_row(tenant, id).await? else {
            return Ok(());
        };
        if row.batch != batch {
            // Released by its writer, or taken over by a later batch since.
            return Ok(());
        }
        let released = self
            .lwt(
                &self.cql.release,
                (tenant_key(tenant), id, batch),
                "statement claim release",
            )
            .await?;
        if !released.applied {
            return Ok(());
        }
        report.claims_released += 1;
        let json: Map<String, Value> =
            serde_json::from_slice(&row.body).map_err(|e| StorageError::corrupt(e.to_string()))?;
        let statement = statement_from_stored(json)?;
        let mut terms: Vec<Term> = statement
            .terms
            .0
            .iter()
            .map(|(kind, value)| (kind_code(*kind), term_hash(value)))
            .collect();
        if let Some(target) = statement.statement_ref {
            terms.extend(self.stored_terms(tenant, target).await?);
        }
        terms.push((KIND_ALL, all_hash()));
        terms.sort_unstable();
        terms.dedup();
        let t = tenant_key(tenant);
        let bucket = bucket_of(row.seq);
        for (kind, hash) in &terms {
            self.execute(
                &self.sweep_cql.index_delete,
                (t, *kind, &hash[..], bucket, row.seq, id),
                "index",
            )
            .await?;
            report.rows_deleted += 1;
        }
        if let Some(target) = statement.voids {
            self.execute(&self.sweep_cql.void_delete, (t, target, id, batch), "void")
                .await?;
            report.rows_deleted += 1;
        }
        Ok(())
    }

    /// Deletes an attachment that was never completed, once its newest chunk is older than the
    /// grace period; `true` when it did.
    async fn sweep_attachment(
        &self,
        tenant: TenantId,
        sha2: &str,
        now: i64,
    ) -> Result<bool, StorageError> {
        let t = tenant_key(tenant);
        let chunks: Vec<(i32, Option<i64>)> = self
            .select(&self.sweep_cql.attachment_times, (t, sha2), "attachment")
            .await?;
        if chunks.is_empty() || chunks.iter().any(|(chunk, _)| *chunk == 0) {
            return Ok(false);
        }
        let Some(newest) = chunks.iter().filter_map(|(_, written)| *written).max() else {
            return Ok(false);
        };
        if newest > now - micros(self.config.sweep_grace) {
            // Maybe still being written.
            return Ok(false);
        }
        self.execute(
            &self.sweep_cql.attachment_delete,
            (newest, t, sha2),
            "attachment",
        )
        .await?;
        Ok(true)
    }
}
