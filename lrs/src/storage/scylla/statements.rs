//! Statements in the ScyllaDB store: insert (claim, publish, commit), get, query, and what
//! statements leave behind (canonical activity definitions, agent names, attachments).
//!
//! A batch is stored in three steps, because CQL has no transaction across partitions:
//!
//! 1. **Claim** every new id with `INSERT … IF NOT EXISTS` (a lightweight transaction on the
//!    statement's own partition), the row carrying the whole stamped statement and the batch's
//!    id. An id already claimed answers with the existing row: equivalent and committed → the
//!    statement is already stored (accepted, not stored twice); different → conflict. When
//!    any id conflicts, or the batch voids a voiding statement, the claims this batch made are
//!    released (`DELETE … IF batch_id = ours`) and nothing else was written: a refused batch
//!    stores nothing and was never visible.
//! 2. **Publish** the index rows, voids and attachments — plain idempotent writes, invisible
//!    until step 3 because a reader follows an index row or a void only to a statement of a
//!    committed batch — and merge canonical activity definitions and agent names by
//!    compare-and-set.
//! 3. **Commit**: one row in `batches`. From then on every statement of the batch is visible,
//!    all at once.
//!
//! Failure windows (docs/scylla.md): a crash or a database error during steps 2–3 leaves claims
//! of an uncommitted batch behind when they cannot be released; the request answered 503,
//! nothing of the batch is visible, and a later write of those ids takes the claims over once
//! they are older than twice the write deadline (a batch never commits later than one deadline
//! after its `stored`). Published rows of an abandoned batch stay as unreferenced garbage
//! (index rows pointing at a statement whose `seq` or batch does not match are skipped); the
//! definitions and names it merged stay.

#[allow(clippy::wildcard_imports)]
use super::*;

use std::collections::HashMap;

use bytes::Bytes;
use futures::{StreamExt as _, TryStreamExt as _};
use serde_json::{Map, Value};

use super::sweeper::{JournalKey, OUTCOME_CLEAN, OUTCOME_ROLLED_BACK};
use crate::storage::{
    AttachmentData, InsertError, NewStatement, StatementPage, StatementQuery, StatementStore,
    StoredStatement, TermKind, stamp, statement_from_stored,
};

/// The index kind of "every statement of the tenant".
pub(super) const KIND_ALL: i32 = 0;
/// How many database requests one insert or query keeps in flight.
const CONCURRENCY: usize = 32;
/// Attachment chunk size: ScyllaDB warns about cells over 1 MiB.
const ATTACHMENT_CHUNK: usize = 256 * 1024;
/// `more` cursor format version.
const CURSOR_V1: u8 = 1;

/// An activity's definitions in a batch, in order, with whether each sender may redefine.
type Contributions<'a> = Vec<(&'a Map<String, Value>, bool)>;

/// A statement row as stored in `statements`.
pub(super) struct StatementRow {
    pub(super) batch: Uuid,
    pub(super) seq: i64,
    voiding: bool,
    pub(super) body: Vec<u8>,
}

/// What the claim of one id found.
enum Claim {
    /// This batch holds the claim.
    Ours,
    /// A committed statement with this id is stored already; its JSON.
    Stored(Map<String, Value>),
    /// The id is held by a statement with different content.
    Conflict,
}

/// A new statement this batch claims, ready to write.
struct Fresh {
    /// Position of its first occurrence in the request.
    position: usize,
    statement: NewStatement,
    seq: i64,
    body: Vec<u8>,
}

pub(super) fn term_hash(value: &str) -> [u8; HASH_LEN] {
    hash16(&[value.as_bytes()])
}

pub(super) fn all_hash() -> [u8; HASH_LEN] {
    hash16(&[])
}

pub(super) fn kind_code(kind: TermKind) -> i32 {
    i32::from(kind as u8)
}

/// Removes a batch's in-flight mark when the insert ends, however it ends.
struct InFlight<'a> {
    inner: &'a Inner,
    first_seq: i64,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut state = self.inner.write.lock();
        if let Some(count) = state.in_flight.get_mut(&self.first_seq) {
            *count -= 1;
            if *count == 0 {
                state.in_flight.remove(&self.first_seq);
            }
        }
    }
}

impl Inner {
    pub(super) async fn statement_row(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<StatementRow>, StorageError> {
        let found: Option<(Uuid, i64, bool, Vec<u8>)> = self
            .select_one(
                &self.cql.statement_get,
                (tenant_key(tenant), id),
                "statement",
            )
            .await?;
        Ok(found.map(|(batch, seq, voiding, body)| StatementRow {
            batch,
            seq,
            voiding,
            body,
        }))
    }

    /// A statement row when its batch is committed.
    async fn visible_row(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<StatementRow>, StorageError> {
        match self.statement_row(tenant, id).await? {
            Some(row) if self.is_committed(tenant, row.batch).await? => Ok(Some(row)),
            _ => Ok(None),
        }
    }

    async fn is_voided(&self, tenant: TenantId, target: Uuid) -> Result<bool, StorageError> {
        let voids: Vec<(Uuid, Uuid)> = self
            .select(&self.cql.voids_get, (tenant_key(tenant), target), "voids")
            .await?;
        for (voiding, batch) in voids {
            // The voiding statement must be visible itself: a batch whose claims were released
            // after a commit of unknown outcome leaves a committed void row behind.
            if self.is_committed(tenant, batch).await?
                && self
                    .visible_row(tenant, voiding)
                    .await?
                    .is_some_and(|row| row.voiding)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Raises `last_seq` to the newest seq stored for a tenant, once per tenant and process.
    async fn ensure_tenant_floor(&self, tenant: TenantId) -> Result<(), StorageError> {
        if self.write.lock().tenants_seen.contains(&tenant) {
            return Ok(());
        }
        let hash = all_hash();
        let newest_bucket: Option<(i64,)> = self
            .select_one(
                &self.cql.bucket_newest,
                (tenant_key(tenant), KIND_ALL, &hash[..]),
                "newest bucket",
            )
            .await?;
        let mut newest = 0;
        if let Some((bucket,)) = newest_bucket {
            let row: Option<(i64,)> = self
                .select_one(
                    &self.cql.index_newest,
                    (tenant_key(tenant), KIND_ALL, &hash[..], bucket),
                    "newest statement",
                )
                .await?;
            newest = row.map_or(0, |(seq,)| seq);
        }
        let mut state = self.write.lock();
        state.last_seq = state.last_seq.max(newest);
        state.tenants_seen.insert(tenant);
        Ok(())
    }

    async fn insert(
        self: &Arc<Self>,
        tenant: TenantId,
        batch: Vec<NewStatement>,
    ) -> Result<Vec<Uuid>, InsertError> {
        let ids: Vec<Uuid> = batch.iter().map(|s| s.id).collect();
        // The first occurrence of each id is the candidate; later ones must be equivalent to
        // whatever ends up stored under that id.
        let mut first_of: HashMap<Uuid, usize> = HashMap::new();
        let mut candidates: Vec<(usize, NewStatement)> = Vec::new();
        let mut repeats: Vec<(usize, usize, Map<String, Value>)> = Vec::new();
        for (position, statement) in batch.into_iter().enumerate() {
            match first_of.get(&statement.id) {
                Some(&index) => repeats.push((position, index, statement.json)),
                None => {
                    first_of.insert(statement.id, candidates.len());
                    candidates.push((position, statement));
                }
            }
        }
        if candidates.is_empty() {
            return Ok(ids);
        }
        self.ensure_tenant_floor(tenant).await?;
        let count = i64::try_from(candidates.len()).unwrap_or(i64::MAX);
        let (first_seq, epoch) = {
            let mut state = self.write.lock();
            let first = self.now_micros().max(state.last_seq + 1);
            state.last_seq = first + count - 1;
            *state.in_flight.entry(first).or_insert(0) += 1;
            (first, self.lease.lock().epoch)
        };
        let _in_flight = InFlight {
            inner: self,
            first_seq,
        };
        let batch_id = Uuid::new_v4();
        let mut fresh = Vec::with_capacity(candidates.len());
        for (offset, (position, statement)) in (0_i64..).zip(candidates) {
            let seq = first_seq + offset;
            let mut json = statement.json.clone();
            stamp(&mut json, micros_to_time(seq));
            let body =
                serde_json::to_vec(&json).map_err(|e| StorageError::corrupt(e.to_string()))?;
            fresh.push(Fresh {
                position,
                statement,
                seq,
                body,
            });
        }

        // The journal row goes first, so that the sweeper finds every claim a crash may leave.
        let journal = JournalKey::new(first_seq, batch_id);
        let mut attachments: Vec<String> = fresh
            .iter()
            .flat_map(|f| f.statement.attachments.iter())
            .map(|(sha2, _)| sha2.to_ascii_lowercase())
            .collect();
        attachments.sort_unstable();
        attachments.dedup();
        self.journal_begin(
            journal,
            tenant,
            first_seq,
            fresh.iter().map(|f| f.statement.id).collect(),
            attachments,
        )
        .await?;

        // 1. Claim every id, many in flight at once; wait for all of them, so that every claim
        // this batch made is known before deciding (and released if the batch is refused).
        let mut claiming = Vec::with_capacity(fresh.len());
        for f in &fresh {
            claiming.push(self.claim(tenant, batch_id, f));
        }
        let claims: Vec<Result<Claim, StorageError>> = futures::stream::iter(claiming)
            .buffered(CONCURRENCY)
            .collect()
            .await;
        let ours: Vec<bool> = claims
            .iter()
            .map(|c| matches!(c, Ok(Claim::Ours)))
            .collect();
        let decided = self
            .decide(tenant, &fresh, &claims, &repeats, &first_of)
            .await;
        if let Err(error) = decided {
            // Nothing was published: released claims leave nothing behind. A claim that failed
            // may still have applied (a timeout), so then the sweeper must look (no outcome).
            let claims_known = claims.iter().all(Result::is_ok);
            if self.release(tenant, batch_id, &fresh, &ours).await && claims_known {
                self.spawn_journal_end(journal, OUTCOME_CLEAN);
            }
            return Err(error);
        }
        let fresh: Vec<Fresh> = fresh
            .into_iter()
            .zip(&ours)
            .filter_map(|(f, &ours)| ours.then_some(f))
            .collect();
        if fresh.is_empty() {
            self.spawn_journal_end(journal, OUTCOME_CLEAN);
            return Ok(ids);
        }

        // 2. Publish, then 3. commit.
        let outcome = async {
            self.publish(tenant, batch_id, &fresh).await?;
            self.commit(tenant, batch_id, first_seq, epoch).await
        }
        .await;
        if let Err(error) = outcome {
            let all_ours = vec![true; fresh.len()];
            // Publishing may have left attachment chunks; claims not released stay for the
            // sweeper (no outcome).
            if self.release(tenant, batch_id, &fresh, &all_ours).await {
                self.spawn_journal_end(journal, OUTCOME_ROLLED_BACK);
            }
            return Err(error.into());
        }
        self.spawn_journal_end(journal, OUTCOME_CLEAN);
        Ok(ids)
    }

    /// Records a batch's outcome off the request path.
    fn spawn_journal_end(self: &Arc<Self>, journal: JournalKey, outcome: i32) {
        let inner = self.clone();
        tokio::spawn(async move { inner.journal_end(journal, outcome).await });
    }

    /// Claims one id for this batch, taking over the claim of an abandoned batch.
    async fn claim(
        &self,
        tenant: TenantId,
        batch_id: Uuid,
        fresh: &Fresh,
    ) -> Result<Claim, StorageError> {
        let id = fresh.statement.id;
        let voiding = fresh.statement.voids.is_some();
        // Waiting on another request must leave this batch time to commit (see `commit`).
        let wait_until = fresh.seq + micros(self.config.write_deadline) / 2;
        loop {
            if self.now_micros() > wait_until {
                return Err(StorageError::new(
                    StorageErrorKind::Unavailable,
                    format!("statement {id} is being written by another request"),
                ));
            }
            let lwt = self
                .lwt(
                    &self.cql.claim,
                    (
                        tenant_key(tenant),
                        id,
                        batch_id,
                        fresh.seq,
                        voiding,
                        &fresh.body[..],
                    ),
                    "statement claim",
                )
                .await?;
            if lwt.applied {
                return Ok(Claim::Ours);
            }
            let existing = match existing_row(&lwt) {
                Some(row) => row,
                // Not every engine returns the row; then read it (it may have just gone).
                None => match self.statement_row(tenant, id).await? {
                    Some(row) => row,
                    None => continue,
                },
            };
            let json: Map<String, Value> = serde_json::from_slice(&existing.body)
                .map_err(|e| StorageError::corrupt(e.to_string()))?;
            let same = xapi::equivalent(&json, &fresh.statement.json);
            if self.is_committed(tenant, existing.batch).await? {
                return Ok(if same {
                    Claim::Stored(json)
                } else {
                    Claim::Conflict
                });
            }
            // Claimed by a batch not (yet) committed. One that outlived twice the write
            // deadline can no longer commit (see `commit`): take it over.
            let abandoned =
                existing.seq + 2 * micros(self.config.write_deadline) < self.now_micros();
            if abandoned {
                let stolen = self
                    .lwt(
                        &self.cql.steal,
                        (
                            batch_id,
                            fresh.seq,
                            voiding,
                            &fresh.body[..],
                            tenant_key(tenant),
                            id,
                            existing.batch,
                        ),
                        "statement claim takeover",
                    )
                    .await?;
                if stolen.applied {
                    return Ok(Claim::Ours);
                }
                continue;
            }
            if !same {
                // Another request is writing different content under this id right now.
                return Ok(Claim::Conflict);
            }
            // The same statement is being written by another request: wait for its outcome.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Decides a batch after its claims: the first conflict in request order, else a voiding
    /// statement that targets a voiding statement (xAPI Data §2.3.2), else nothing.
    async fn decide(
        &self,
        tenant: TenantId,
        fresh: &[Fresh],
        claims: &[Result<Claim, StorageError>],
        repeats: &[(usize, usize, Map<String, Value>)],
        first_of: &HashMap<Uuid, usize>,
    ) -> Result<(), InsertError> {
        let mut conflicts: Vec<(usize, Uuid)> = Vec::new();
        for (f, claim) in fresh.iter().zip(claims) {
            match claim {
                Err(e) => return Err(StorageError::new(e.kind, e.message.clone()).into()),
                Ok(Claim::Conflict) => conflicts.push((f.position, f.statement.id)),
                Ok(_) => {}
            }
        }
        for (position, index, json) in repeats {
            let reference = match &claims[*index] {
                Ok(Claim::Stored(stored)) => stored,
                _ => &fresh[*index].statement.json,
            };
            if !xapi::equivalent(reference, json) {
                conflicts.push((*position, fresh[*index].statement.id));
            }
        }
        if let Some(&(_, id)) = conflicts.iter().min_by_key(|(position, _)| *position) {
            return Err(InsertError::Conflict(id));
        }
        for (f, claim) in fresh.iter().zip(claims) {
            let (Ok(Claim::Ours), Some(target)) = (claim, f.statement.voids) else {
                continue;
            };
            let target_voiding = match first_of.get(&target) {
                Some(&index) => fresh[index].statement.voids.is_some(),
                None => self
                    .visible_row(tenant, target)
                    .await?
                    .is_some_and(|row| row.voiding),
            };
            if target_voiding {
                return Err(InsertError::VoidsVoiding {
                    voiding: f.statement.id,
                    target,
                });
            }
        }
        Ok(())
    }

    /// Releases the claims this batch holds; best effort, a claim left behind is taken over
    /// later (see `claim`) or released by the sweeper. `true` when every release succeeded.
    async fn release(
        &self,
        tenant: TenantId,
        batch_id: Uuid,
        fresh: &[Fresh],
        ours: &[bool],
    ) -> bool {
        let mut releases = Vec::new();
        for (f, ours) in fresh.iter().zip(ours) {
            if *ours {
                releases.push(self.lwt(
                    &self.cql.release,
                    (tenant_key(tenant), f.statement.id, batch_id),
                    "statement claim release",
                ));
            }
        }
        let results: Vec<Result<Lwt, StorageError>> = futures::stream::iter(releases)
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut all_released = true;
        for error in results.into_iter().filter_map(Result::err) {
            all_released = false;
            tracing::warn!(tenant = %tenant, batch = %batch_id, error = %error, "claim not released");
        }
        all_released
    }

    /// Writes everything a batch's statements leave behind, still invisible.
    async fn publish(
        &self,
        tenant: TenantId,
        batch_id: Uuid,
        fresh: &[Fresh],
    ) -> Result<(), StorageError> {
        let t = tenant_key(tenant);
        let mut index_rows: Vec<(Term, i64, i64, Uuid)> = Vec::new();
        let mut buckets: HashSet<(Term, i64)> = HashSet::new();
        let mut voids: Vec<(Uuid, Uuid)> = Vec::new();
        let mut terms_of: HashMap<Uuid, Vec<Term>> = HashMap::new();
        let mut definitions: HashMap<String, Contributions<'_>> = HashMap::new();
        let mut definition_order: Vec<&str> = Vec::new();
        let mut names: HashMap<&str, Vec<(&str, i64)>> = HashMap::new();
        let mut attachments: HashMap<String, &AttachmentData> = HashMap::new();
        for f in fresh {
            let statement = &f.statement;
            let mut terms: Vec<Term> = statement
                .terms
                .0
                .iter()
                .map(|(kind, value)| (kind_code(*kind), term_hash(value)))
                .collect();
            if let Some(target) = statement.statement_ref {
                // xAPI Communication §2.1.3: a StatementRef answers to its target's filters,
                // recursively; targets earlier in this batch count.
                match terms_of.get(&target) {
                    Some(inherited) => terms.extend(inherited.iter().copied()),
                    None => terms.extend(self.stored_terms(tenant, target).await?),
                }
            }
            let unique: HashSet<Term> = terms.into_iter().collect();
            let terms: Vec<Term> = unique.into_iter().collect();
            let bucket = bucket_of(f.seq);
            for &term in terms.iter().chain([(KIND_ALL, all_hash())].iter()) {
                index_rows.push((term, bucket, f.seq, statement.id));
                buckets.insert((term, bucket));
            }
            terms_of.insert(statement.id, terms);
            if let Some(target) = statement.voids {
                voids.push((target, statement.id));
            }
            for (activity_id, definition) in &statement.definitions {
                let entry = definitions.entry(activity_id.clone()).or_insert_with(|| {
                    definition_order.push(activity_id);
                    Vec::new()
                });
                entry.push((definition, statement.may_define));
            }
            for (index, (key, name)) in (0_i64..).zip(&statement.agent_names) {
                let list = names.entry(key.as_str()).or_default();
                if !list.iter().any(|(known, _)| known == name) {
                    // Oldest first: by statement, then by place within the statement.
                    list.push((name, f.seq.saturating_mul(256) + index.min(255)));
                }
            }
            for (sha2, data) in &statement.attachments {
                attachments.entry(sha2.to_ascii_lowercase()).or_insert(data);
            }
        }
        let buckets: Vec<(Term, i64)> = {
            let known = self.buckets_written.lock();
            buckets
                .into_iter()
                .filter(|(term, bucket)| !known.contains(&(tenant, *term, *bucket)))
                .collect()
        };

        let mut index_writes = Vec::with_capacity(index_rows.len());
        for ((kind, hash), bucket, seq, id) in &index_rows {
            index_writes.push(self.execute(
                &self.cql.index_insert,
                (t, *kind, &hash[..], *bucket, *seq, *id),
                "index",
            ));
        }
        let mut bucket_writes = Vec::with_capacity(buckets.len());
        for ((kind, hash), bucket) in &buckets {
            bucket_writes.push(self.execute(
                &self.cql.bucket_insert,
                (t, *kind, &hash[..], *bucket),
                "index bucket",
            ));
        }
        let mut void_writes = Vec::with_capacity(voids.len());
        for (target, voiding) in &voids {
            void_writes.push(self.execute(
                &self.cql.void_insert,
                (t, *target, *voiding, batch_id),
                "void",
            ));
        }
        futures::try_join!(
            all_of(index_writes),
            all_of(bucket_writes),
            all_of(void_writes)
        )?;
        {
            let mut known = self.buckets_written.lock();
            if known.len() >= COMMITTED_CACHE {
                known.clear();
            }
            known.extend(
                buckets
                    .iter()
                    .map(|(term, bucket)| (tenant, *term, *bucket)),
            );
        }
        for (sha2, data) in attachments {
            self.store_attachment(tenant, &sha2, data).await?;
        }
        for activity_id in definition_order {
            if let Some(contributions) = definitions.get(activity_id) {
                self.merge_definitions(tenant, activity_id, contributions)
                    .await?;
            }
        }
        for (key, list) in names {
            self.add_agent_names(tenant, key, &list).await?;
        }
        Ok(())
    }

    /// Makes a batch visible, unless it has outlived its deadline or this server's lease.
    async fn commit(
        &self,
        tenant: TenantId,
        batch_id: Uuid,
        first_seq: i64,
        epoch: u64,
    ) -> Result<(), StorageError> {
        // The commit must land before anyone may treat the batch as abandoned (first_seq +
        // 2 × deadline) and while other servers still trust our watermark (the lease): the
        // commit request itself may take up to the request timeout.
        let finish_by = self.now_micros() + micros(self.config.request_timeout);
        let lease_ok = {
            let lease = self.lease.lock();
            lease.epoch == epoch && finish_by < lease.valid_until
        };
        let deadline_ok = finish_by < first_seq + micros(self.config.write_deadline);
        if !lease_ok || !deadline_ok {
            return Err(StorageError::new(
                StorageErrorKind::Unavailable,
                if lease_ok {
                    "the batch took longer than the write deadline"
                } else {
                    "this server's lease in the cluster lapsed during the write"
                },
            ));
        }
        self.execute(
            &self.cql.commit,
            (tenant_key(tenant), batch_id, first_seq),
            "commit",
        )
        .await?;
        self.committed.lock().insert((tenant, batch_id));
        Ok(())
    }

    /// The filter terms of a stored statement, with those it inherits through StatementRefs.
    pub(super) async fn stored_terms(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Vec<Term>, StorageError> {
        let mut found = Vec::new();
        let mut next = Some(id);
        let mut seen = HashSet::new();
        while let Some(id) = next.take() {
            if !seen.insert(id) {
                break;
            }
            let Some(row) = self.visible_row(tenant, id).await? else {
                break;
            };
            let json: Map<String, Value> = serde_json::from_slice(&row.body)
                .map_err(|e| StorageError::corrupt(e.to_string()))?;
            let parsed = statement_from_stored(json)?;
            found.extend(
                parsed
                    .terms
                    .0
                    .iter()
                    .map(|(kind, value)| (kind_code(*kind), term_hash(value))),
            );
            next = parsed.statement_ref;
        }
        Ok(found)
    }

    /// Merges a batch's definitions of one activity into its canonical definition
    /// (xAPI Communication §2.5), by compare-and-set so that servers never lose a merge.
    async fn merge_definitions(
        &self,
        tenant: TenantId,
        activity_id: &str,
        contributions: &[(&Map<String, Value>, bool)],
    ) -> Result<(), StorageError> {
        let t = tenant_key(tenant);
        let hash = term_hash(activity_id);
        for _ in 0..32 {
            let current: Option<(String,)> = self
                .select_one(&self.cql.activity_get, (t, &hash[..]), "activity")
                .await?;
            let mut value: Option<Map<String, Value>> = match &current {
                Some((text,)) => Some(
                    serde_json::from_str(text).map_err(|e| StorageError::corrupt(e.to_string()))?,
                ),
                None => None,
            };
            let before = value.clone();
            for (definition, may_define) in contributions {
                match &mut value {
                    None => value = Some((*definition).clone()),
                    Some(existing) if *may_define => {
                        crate::statements::merge_definition(existing, definition);
                    }
                    Some(_) => {}
                }
            }
            let Some(merged) = value.filter(|v| Some(v) != before.as_ref()) else {
                return Ok(());
            };
            let text =
                serde_json::to_string(&merged).map_err(|e| StorageError::corrupt(e.to_string()))?;
            let lwt = match current {
                None => {
                    self.lwt(
                        &self.cql.activity_create,
                        (t, &hash[..], activity_id, text.as_str()),
                        "activity",
                    )
                    .await?
                }
                Some((old,)) => {
                    self.lwt(
                        &self.cql.activity_update,
                        (text.as_str(), t, &hash[..], old.as_str()),
                        "activity",
                    )
                    .await?
                }
            };
            if lwt.applied {
                return Ok(());
            }
        }
        Err(StorageError::new(
            StorageErrorKind::Unavailable,
            "too much contention on an activity definition",
        ))
    }

    async fn add_agent_names(
        &self,
        tenant: TenantId,
        ifi_key: &str,
        names: &[(&str, i64)],
    ) -> Result<(), StorageError> {
        let t = tenant_key(tenant);
        let agent = term_hash(ifi_key);
        let known: Vec<(String, i64)> = self
            .select(&self.cql.names_get, (t, &agent[..]), "agent names")
            .await?;
        for (name, first_seen) in names {
            if known.iter().any(|(k, _)| k == name) {
                continue;
            }
            // Not applied: another batch named the agent so first; keep that.
            self.lwt(
                &self.cql.name_insert,
                (t, &agent[..], *name, *first_seen),
                "agent name",
            )
            .await?;
        }
        Ok(())
    }

    /// Stores an attachment's data unless the tenant has it complete already. Chunk 0, which
    /// carries the chunk count, goes last, so a reader never sees part of the data. Spooled
    /// data is read and written one chunk at a time.
    async fn store_attachment(
        &self,
        tenant: TenantId,
        sha2: &str,
        data: &AttachmentData,
    ) -> Result<(), StorageError> {
        let t = tenant_key(tenant);
        let head: Option<(Option<i32>,)> = self
            .select_one(&self.cql.attachment_head, (t, sha2), "attachment")
            .await?;
        if matches!(head, Some((Some(_),))) {
            return Ok(());
        }
        let mut chunks = ChunkReader::new(data).await?;
        let first = chunks.next().await?.unwrap_or_default();
        let mut count: i32 = 1;
        let mut pending = Vec::new();
        while let Some(chunk) = chunks.next().await? {
            pending.push(self.execute(
                &self.cql.attachment_chunk,
                (t, sha2, count, chunk),
                "attachment",
            ));
            count = count
                .checked_add(1)
                .ok_or_else(|| StorageError::corrupt("attachment too large"))?;
            // Bounded in flight, so a large spooled attachment is never in memory whole.
            if pending.len() >= 8 {
                all_of(std::mem::take(&mut pending)).await?;
            }
        }
        all_of(pending).await?;
        self.execute(
            &self.cql.attachment_first,
            (t, sha2, count, first.as_slice()),
            "attachment",
        )
        .await?;
        Ok(())
    }

    async fn attachment(
        &self,
        tenant: TenantId,
        sha2: &str,
    ) -> Result<Option<Bytes>, StorageError> {
        let rows: Vec<(i32, Option<i32>, Vec<u8>)> = self
            .select(
                &self.cql.attachment_get,
                (tenant_key(tenant), sha2),
                "attachment",
            )
            .await?;
        let Some(count) = rows
            .first()
            .and_then(|(chunk, chunks, _)| (*chunk == 0).then_some(*chunks))
            .flatten()
        else {
            return Ok(None);
        };
        let complete = usize::try_from(count).is_ok_and(|n| n == rows.len())
            && rows
                .iter()
                .zip(0_i32..)
                .all(|((chunk, _, _), n)| *chunk == n);
        if !complete {
            return Ok(None);
        }
        let mut data = Vec::new();
        for (_, _, chunk) in rows {
            data.extend_from_slice(&chunk);
        }
        Ok(Some(Bytes::from(data)))
    }

    async fn get(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<StoredStatement>, StorageError> {
        let Some(row) = self.visible_row(tenant, id).await? else {
            return Ok(None);
        };
        let voided = !row.voiding && self.is_voided(tenant, id).await?;
        Ok(Some(StoredStatement {
            id,
            json: Bytes::from(row.body),
            stored: micros_to_time(row.seq),
            voided,
            voiding: row.voiding,
        }))
    }

    async fn query(
        &self,
        tenant: TenantId,
        query: &StatementQuery,
    ) -> Result<StatementPage, StorageError> {
        let t = tenant_key(tenant);
        let mut low = query
            .since
            .map_or(0, |since| since.timestamp_micros().saturating_add(1));
        let mut high = query
            .until
            .map_or(i64::MAX - 1, |until| until.timestamp_micros());
        let cursor = match &query.after {
            Some(bytes) => Some(decode_cursor(bytes)?),
            None => None,
        };
        if let Some((seq, _)) = cursor {
            if query.ascending {
                low = low.max(seq);
            } else {
                high = high.min(seq);
            }
        }
        let mut page = StatementPage::default();
        if low > high || query.limit == 0 {
            return Ok(page);
        }
        let mut filters: Vec<(TermKind, &str)> = query
            .filters
            .iter()
            .map(|(kind, value)| (*kind, value.as_str()))
            .collect();
        filters.sort_by_key(|(kind, _)| driver_rank(*kind));
        let terms: Vec<Term> = filters
            .iter()
            .map(|(kind, value)| (kind_code(*kind), term_hash(value)))
            .collect();
        let (driver, others) = match terms.split_first() {
            Some((driver, others)) => (*driver, others),
            None => ((KIND_ALL, all_hash()), &[][..]),
        };
        let need = query.limit.saturating_add(1);
        let mut found: Vec<StoredStatement> = Vec::new();

        let buckets_statement = if query.ascending {
            &self.cql.buckets_asc
        } else {
            &self.cql.buckets_desc
        };
        let index_statement = if query.ascending {
            &self.cql.index_asc
        } else {
            &self.cql.index_desc
        };
        let mut buckets = self
            .session
            .execute_iter(
                buckets_statement.clone(),
                (t, driver.0, &driver.1[..], bucket_of(low), bucket_of(high)),
            )
            .await
            .map_err(|e| cql_error("index buckets", &e))?
            .rows_stream::<(i64,)>()
            .map_err(|e| decode_error(&e))?;
        'buckets: while let Some(bucket) = buckets.next().await {
            let (bucket,) = bucket.map_err(|e| cql_error("index buckets", &e))?;
            let start = bucket.saturating_mul(BUCKET_MICROS);
            let from = low.max(start);
            let to = high.min(start.saturating_add(BUCKET_MICROS - 1));
            let mut rows = self
                .session
                .execute_iter(
                    index_statement.clone(),
                    (t, driver.0, &driver.1[..], bucket, from, to),
                )
                .await
                .map_err(|e| cql_error("index", &e))?
                .rows_stream::<(i64, Uuid)>()
                .map_err(|e| decode_error(&e))?;
            loop {
                // Take as many candidates as could still fill the page, then check them all
                // at once.
                let want = need - found.len();
                let mut candidates = Vec::with_capacity(want);
                while candidates.len() < want {
                    let Some(row) = rows.next().await else {
                        break;
                    };
                    let (seq, id) = row.map_err(|e| cql_error("index", &e))?;
                    if let Some((at, last)) = cursor {
                        // Rows of the cursor's own seq up to the cursor were on earlier pages
                        // (within one seq the index runs id ascending when descending).
                        let seen = if query.ascending {
                            id >= last
                        } else {
                            id <= last
                        };
                        if seq == at && seen {
                            continue;
                        }
                    }
                    candidates.push((seq, id));
                }
                if candidates.is_empty() {
                    break;
                }
                let mut checks = Vec::with_capacity(candidates.len());
                for (seq, id) in candidates {
                    checks.push(self.candidate(tenant, seq, id, others));
                }
                let checked: Vec<Option<StoredStatement>> = futures::stream::iter(checks)
                    .buffered(CONCURRENCY)
                    .try_collect()
                    .await?;
                found.extend(checked.into_iter().flatten());
                if found.len() >= need {
                    break 'buckets;
                }
            }
        }
        if found.len() > query.limit {
            found.truncate(query.limit);
            page.next = found
                .last()
                .map(|s| encode_cursor(s.stored.timestamp_micros(), s.id));
        }
        page.statements = found;
        Ok(page)
    }

    /// An index row's statement, when it matches the other filters and is visible, not voided.
    async fn candidate(
        &self,
        tenant: TenantId,
        seq: i64,
        id: Uuid,
        others: &[Term],
    ) -> Result<Option<StoredStatement>, StorageError> {
        let t = tenant_key(tenant);
        for (kind, hash) in others {
            let row: Option<(Uuid,)> = self
                .select_one(
                    &self.cql.index_has,
                    (t, *kind, &hash[..], bucket_of(seq), seq, id),
                    "index",
                )
                .await?;
            if row.is_none() {
                return Ok(None);
            }
        }
        let Some(row) = self.visible_row(tenant, id).await? else {
            return Ok(None);
        };
        // An index row of an abandoned attempt points at another seq than the statement's.
        if row.seq != seq || (!row.voiding && self.is_voided(tenant, id).await?) {
            return Ok(None);
        }
        Ok(Some(StoredStatement {
            id,
            json: Bytes::from(row.body),
            stored: micros_to_time(seq),
            voided: false,
            voiding: row.voiding,
        }))
    }
}

/// Runs writes, a bounded number at a time; the first error wins.
async fn all_of<F, T>(writes: Vec<F>) -> Result<(), StorageError>
where
    F: std::future::Future<Output = Result<T, StorageError>>,
{
    futures::stream::iter(writes)
        .buffer_unordered(CONCURRENCY)
        .try_for_each(|_| async { Ok(()) })
        .await
}

/// The existing row a failed claim answered with, read by column name.
fn existing_row(lwt: &Lwt) -> Option<StatementRow> {
    let batch = match lwt.get("batch_id")? {
        CqlValue::Uuid(batch) => *batch,
        _ => return None,
    };
    let seq = match lwt.get("seq")? {
        CqlValue::BigInt(seq) => *seq,
        _ => return None,
    };
    let voiding = match lwt.get("voiding")? {
        CqlValue::Boolean(voiding) => *voiding,
        _ => return None,
    };
    let body = match lwt.get("body")? {
        CqlValue::Blob(body) => body.clone(),
        _ => return None,
    };
    Some(StatementRow {
        batch,
        seq,
        voiding,
        body,
    })
}

/// version ‖ seq ‖ statement id: the last statement of the page. Rows are ordered by (seq, id),
/// and several servers may give two statements the same seq, hence the id.
fn encode_cursor(seq: i64, id: Uuid) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(25);
    bytes.push(CURSOR_V1);
    bytes.extend_from_slice(&seq.to_be_bytes());
    bytes.extend_from_slice(id.as_bytes());
    bytes
}

fn decode_cursor(bytes: &[u8]) -> Result<(i64, Uuid), StorageError> {
    let bad = || StorageError::corrupt("not a cursor of this store");
    if bytes.len() != 25 || bytes[0] != CURSOR_V1 {
        return Err(bad());
    }
    let seq = i64::from_be_bytes(bytes[1..9].try_into().map_err(|_| bad())?);
    let id = Uuid::from_slice(&bytes[9..]).map_err(|_| bad())?;
    Ok((seq, id))
}

/// Which filter drives a scan: the one likely to match the fewest statements (as in the
/// embedded store).
fn driver_rank(kind: TermKind) -> u8 {
    match kind {
        TermKind::Registration => 0,
        TermKind::Activity => 1,
        TermKind::Agent => 2,
        TermKind::RelatedActivity => 3,
        TermKind::RelatedAgent => 4,
        TermKind::Authority => 5,
        TermKind::Verb => 6,
    }
}

#[async_trait::async_trait]
impl StatementStore for ScyllaStore {
    async fn insert(
        &self,
        tenant: TenantId,
        batch: Vec<NewStatement>,
    ) -> Result<Vec<Uuid>, InsertError> {
        // On its own task: a client that goes away mid-request must not cut a batch short
        // between its claims and its commit.
        let inner = self.inner.clone();
        match tokio::spawn(async move { inner.insert(tenant, batch).await }).await {
            Ok(result) => result,
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(join) => {
                Err(StorageError::new(StorageErrorKind::Unavailable, join.to_string()).into())
            }
        }
    }

    async fn get(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<StoredStatement>, StorageError> {
        self.inner.get(tenant, id).await
    }

    async fn query(
        &self,
        tenant: TenantId,
        query: &StatementQuery,
    ) -> Result<StatementPage, StorageError> {
        self.inner.query(tenant, query).await
    }

    async fn consistent_through(&self) -> Result<DateTime<Utc>, StorageError> {
        self.inner.consistent_through().await
    }

    async fn activity_definition(
        &self,
        tenant: TenantId,
        activity_id: &str,
    ) -> Result<Option<Map<String, Value>>, StorageError> {
        let hash = term_hash(activity_id);
        let found: Option<(String,)> = self
            .inner
            .select_one(
                &self.inner.cql.activity_get,
                (tenant_key(tenant), &hash[..]),
                "activity",
            )
            .await?;
        match found {
            Some((text,)) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| StorageError::corrupt(e.to_string())),
            None => Ok(None),
        }
    }

    async fn attachment(
        &self,
        tenant: TenantId,
        sha2: &str,
    ) -> Result<Option<Bytes>, StorageError> {
        self.inner
            .attachment(tenant, &sha2.to_ascii_lowercase())
            .await
    }

    async fn agent_names(
        &self,
        tenant: TenantId,
        ifi_key: &str,
    ) -> Result<Vec<String>, StorageError> {
        let agent = term_hash(ifi_key);
        let mut names: Vec<(String, i64)> = self
            .inner
            .select(
                &self.inner.cql.names_get,
                (tenant_key(tenant), &agent[..]),
                "agent names",
            )
            .await?;
        names.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        Ok(names.into_iter().map(|(name, _)| name).collect())
    }
}

/// Reads attachment data in chunks of `ATTACHMENT_CHUNK` bytes, from memory or a spooled file.
struct ChunkReader<'a> {
    memory: Option<std::slice::Chunks<'a, u8>>,
    file: Option<tokio::fs::File>,
    done: bool,
}

impl<'a> ChunkReader<'a> {
    async fn new(data: &'a AttachmentData) -> Result<ChunkReader<'a>, StorageError> {
        Ok(match data {
            AttachmentData::Memory(bytes) => ChunkReader {
                memory: Some(bytes.chunks(ATTACHMENT_CHUNK)),
                file: None,
                done: false,
            },
            AttachmentData::Spooled(file) => ChunkReader {
                memory: None,
                file: Some(
                    tokio::fs::File::open(file.path())
                        .await
                        .map_err(spool_error)?,
                ),
                done: false,
            },
        })
    }

    async fn next(&mut self) -> Result<Option<Vec<u8>>, StorageError> {
        use tokio::io::AsyncReadExt as _;
        if self.done {
            return Ok(None);
        }
        if let Some(chunks) = &mut self.memory {
            let chunk = chunks.next().map(<[u8]>::to_vec);
            self.done = chunk.is_none();
            return Ok(chunk);
        }
        let Some(file) = &mut self.file else {
            return Ok(None);
        };
        let mut buffer = vec![0u8; ATTACHMENT_CHUNK];
        let mut filled = 0;
        while filled < buffer.len() {
            let n = file
                .read(&mut buffer[filled..])
                .await
                .map_err(spool_error)?;
            if n == 0 {
                self.done = true;
                break;
            }
            filled += n;
        }
        if filled == 0 {
            return Ok(None);
        }
        buffer.truncate(filled);
        Ok(Some(buffer))
    }
}

fn spool_error(e: std::io::Error) -> StorageError {
    StorageError::new(
        crate::storage::StorageErrorKind::Unavailable,
        format!("spooled attachment: {e}"),
    )
}
