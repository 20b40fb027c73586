//! State, activity profile and agent profile documents in the ScyllaDB store.
//!
//! One partition per owner (tenant, kind, hash of the activity and/or agent), clustered by
//! registration ('-' for none) then document id, so that a scope is one slice and every State
//! document of an agent in an activity, whatever its registration, is one partition
//! (Communication §2.3, multiple-document GET and DELETE without `registration`).
//!
//! Every write is a lightweight transaction conditioned on the version read (ETag and
//! `updated`, which strictly increases per document), and a failed condition re-reads and
//! re-decides: a check-then-write is atomic with respect to other writes of the document, on
//! any number of servers. A set's deletion is one conditional batch on its partition (per
//! 100 documents or 16 KiB of keys).

#[allow(clippy::wildcard_imports)]
use super::*;

use std::collections::BTreeMap;

use bytes::Bytes;
use scylla::statement::batch::{Batch, BatchType};

use crate::storage::embedded::document_etag;
use crate::storage::{
    Document, DocumentEntry, DocumentError, DocumentScope, DocumentSet, DocumentStore,
    DocumentWrite, Precondition, WriteMode, merge_documents,
};

const KIND_STATE: i32 = 1;
const KIND_ACTIVITY_PROFILE: i32 = 2;
const KIND_AGENT_PROFILE: i32 = 3;
/// The registration column of a State document stored without one; never a UUID.
const NO_REGISTRATION: &str = "-";
/// Attempts of a check-then-write before giving up on contention.
const ATTEMPTS: usize = 32;
/// Most documents, and about the most key bytes, deleted by one conditional batch: well under
/// Cassandra's `batch_size_fail_threshold` (50 KiB by default).
const DELETE_BATCH: usize = 100;
const DELETE_BATCH_BYTES: usize = 16 * 1024;

/// (kind, owner hash) of a partition.
type Owner = (i32, [u8; HASH_LEN]);

fn owner_of_state(activity_id: &str, agent: &str) -> Owner {
    (
        KIND_STATE,
        hash16(&[activity_id.as_bytes(), agent.as_bytes()]),
    )
}

/// The partition and registration of a scope.
fn locate(scope: &DocumentScope) -> (Owner, String) {
    match scope {
        DocumentScope::State {
            activity_id,
            agent,
            registration,
        } => (
            owner_of_state(activity_id, agent),
            registration.map_or_else(|| NO_REGISTRATION.to_owned(), |r| r.to_string()),
        ),
        DocumentScope::ActivityProfile { activity_id } => (
            (KIND_ACTIVITY_PROFILE, hash16(&[activity_id.as_bytes()])),
            NO_REGISTRATION.to_owned(),
        ),
        DocumentScope::AgentProfile { agent } => (
            (KIND_AGENT_PROFILE, hash16(&[agent.as_bytes()])),
            NO_REGISTRATION.to_owned(),
        ),
    }
}

/// A stored document with the version a conditional write is conditioned on.
struct Stored {
    document: Document,
    updated_micros: i64,
}

impl Inner {
    async fn read_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
    ) -> Result<Option<Stored>, StorageError> {
        let ((kind, owner), registration) = locate(scope);
        let row: Option<(String, String, i64, Vec<u8>)> = self
            .select_one(
                &self.cql.document_get,
                (
                    tenant_key(tenant),
                    kind,
                    &owner[..],
                    registration.as_str(),
                    id,
                ),
                "document",
            )
            .await?;
        Ok(row.map(|(content_type, etag, updated, body)| Stored {
            document: Document {
                content_type,
                body: Bytes::from(body),
                etag,
                updated: micros_to_time(updated),
            },
            updated_micros: updated,
        }))
    }

    async fn put_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
        write: &DocumentWrite,
    ) -> Result<Document, DocumentError> {
        let t = tenant_key(tenant);
        let ((kind, owner), registration) = locate(scope);
        for _ in 0..ATTEMPTS {
            let existing = self.read_document(tenant, scope, id).await?;
            let old = existing.as_ref().map(|s| &s.document);
            if !write.precondition.holds(old) {
                return Err(DocumentError::PreconditionFailed);
            }
            let (content_type, body) = match (write.mode, old) {
                (WriteMode::Create, Some(_)) => return Err(DocumentError::Exists),
                (WriteMode::MergeJson, Some(old)) => {
                    let merged = merge_documents(old, &write.content_type, &write.body)
                        .ok_or(DocumentError::NotMergeable)?;
                    (old.content_type.clone(), Bytes::from(merged))
                }
                _ => (write.content_type.clone(), write.body.clone()),
            };
            // `updated` moves forward on every write, even within one clock tick, so that
            // `since` and Last-Modified see every change.
            let now = self.now_micros();
            let updated = match &existing {
                Some(old) if old.updated_micros >= now => old.updated_micros + 1,
                _ => now,
            };
            let etag = document_etag(&body);
            let lwt = match &existing {
                None => {
                    self.lwt(
                        &self.cql.document_create,
                        (
                            t,
                            kind,
                            &owner[..],
                            registration.as_str(),
                            id,
                            content_type.as_str(),
                            etag.as_str(),
                            updated,
                            &body[..],
                        ),
                        "document",
                    )
                    .await?
                }
                Some(old) => {
                    self.lwt(
                        &self.cql.document_update,
                        (
                            content_type.as_str(),
                            etag.as_str(),
                            updated,
                            &body[..],
                            t,
                            kind,
                            &owner[..],
                            registration.as_str(),
                            id,
                            old.document.etag.as_str(),
                            old.updated_micros,
                        ),
                        "document",
                    )
                    .await?
                }
            };
            if lwt.applied {
                return Ok(Document {
                    content_type,
                    body,
                    etag,
                    updated: micros_to_time(updated),
                });
            }
            // Someone wrote in between: decide again against what is there now.
        }
        Err(contention().into())
    }

    async fn delete_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
        precondition: &Precondition,
    ) -> Result<bool, DocumentError> {
        let ((kind, owner), registration) = locate(scope);
        for _ in 0..ATTEMPTS {
            let existing = self.read_document(tenant, scope, id).await?;
            if !precondition.holds(existing.as_ref().map(|s| &s.document)) {
                return Err(DocumentError::PreconditionFailed);
            }
            let Some(existing) = existing else {
                return Ok(false);
            };
            let lwt = self
                .lwt(
                    &self.cql.document_delete,
                    (
                        tenant_key(tenant),
                        kind,
                        &owner[..],
                        registration.as_str(),
                        id,
                        existing.document.etag.as_str(),
                        existing.updated_micros,
                    ),
                    "document",
                )
                .await?;
            if lwt.applied {
                return Ok(true);
            }
        }
        Err(contention().into())
    }

    /// (registration, id, updated) of every document of a set.
    async fn scan_documents(
        &self,
        tenant: TenantId,
        set: &DocumentSet,
    ) -> Result<(Owner, Vec<(String, String, i64)>), StorageError> {
        let t = tenant_key(tenant);
        match set {
            DocumentSet::Scope(scope) => {
                let ((kind, owner), registration) = locate(scope);
                let rows = self
                    .select_all(
                        &self.cql.documents_of_scope,
                        (t, kind, &owner[..], registration.as_str()),
                        "documents",
                    )
                    .await?;
                Ok(((kind, owner), rows))
            }
            DocumentSet::State { activity_id, agent } => {
                let (kind, owner) = owner_of_state(activity_id, agent);
                let rows = self
                    .select_all(
                        &self.cql.documents_of_owner,
                        (t, kind, &owner[..]),
                        "documents",
                    )
                    .await?;
                Ok(((kind, owner), rows))
            }
        }
    }

    async fn list_documents(
        &self,
        tenant: TenantId,
        set: &DocumentSet,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<DocumentEntry>, StorageError> {
        let since = since.map(|s| s.timestamp_micros());
        // One id may be stored under several registrations; it is listed once, in byte order.
        let mut ids: BTreeMap<String, i64> = BTreeMap::new();
        for (_, id, updated) in self.scan_documents(tenant, set).await?.1 {
            if since.is_some_and(|since| updated <= since) {
                continue;
            }
            let latest = ids.entry(id).or_insert(updated);
            *latest = (*latest).max(updated);
        }
        Ok(ids
            .into_iter()
            .map(|(id, updated)| DocumentEntry {
                id,
                updated: micros_to_time(updated),
            })
            .collect())
    }

    async fn delete_documents(
        &self,
        tenant: TenantId,
        set: &DocumentSet,
    ) -> Result<usize, StorageError> {
        let t = tenant_key(tenant);
        let mut deleted = 0;
        let mut failed = 0;
        while failed < ATTEMPTS {
            let ((kind, owner), mut rows) = self.scan_documents(tenant, set).await?;
            if rows.is_empty() {
                return Ok(deleted);
            }
            // One conditional batch on one partition: all or nothing, isolated from other
            // writes. It fails when a document went away meanwhile; then look again. Cassandra
            // refuses batches over `batch_size_fail_threshold` (50 KiB by default), so a set
            // larger than one batch is deleted one batch at a time (docs/scylla.md).
            let mut bytes = 0;
            let fits = rows
                .iter()
                .take_while(|(registration, id, _)| {
                    bytes += registration.len() + id.len() + 64;
                    bytes <= DELETE_BATCH_BYTES
                })
                .count();
            rows.truncate(fits.clamp(1, DELETE_BATCH));
            let mut batch = Batch::new(BatchType::Logged);
            let mut values = Vec::with_capacity(rows.len());
            for (registration, id, _) in &rows {
                batch.append_statement(self.cql.document_delete_existing.clone());
                values.push((t, kind, &owner[..], registration.as_str(), id.as_str()));
            }
            let result = self
                .session
                .batch(&batch, &values)
                .await
                .map_err(|e| cql_error("documents", &e))?;
            if Lwt::read(result)?.applied {
                deleted += rows.len();
            } else {
                failed += 1;
            }
        }
        Err(contention())
    }
}

fn contention() -> StorageError {
    StorageError::new(
        StorageErrorKind::Unavailable,
        "too many concurrent writes to one document; try again",
    )
}

#[async_trait::async_trait]
impl DocumentStore for ScyllaStore {
    async fn get_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
    ) -> Result<Option<Document>, StorageError> {
        Ok(self
            .inner
            .read_document(tenant, scope, id)
            .await?
            .map(|s| s.document))
    }

    async fn put_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
        write: DocumentWrite,
    ) -> Result<Document, DocumentError> {
        self.inner.put_document(tenant, scope, id, &write).await
    }

    async fn delete_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
        precondition: &Precondition,
    ) -> Result<bool, DocumentError> {
        self.inner
            .delete_document(tenant, scope, id, precondition)
            .await
    }

    async fn list_documents(
        &self,
        tenant: TenantId,
        set: &DocumentSet,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<DocumentEntry>, StorageError> {
        self.inner.list_documents(tenant, set, since).await
    }

    async fn delete_documents(
        &self,
        tenant: TenantId,
        set: &DocumentSet,
    ) -> Result<usize, StorageError> {
        self.inner.delete_documents(tenant, set).await
    }
}
