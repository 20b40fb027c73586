//! The embedded store: one data directory on the local disk, an LSM tree (fjall) underneath.
//!
//! Layout (every key starts with the 4-byte tenant id, big-endian):
//! - `statements`: tenant ‖ seq → flags ‖ statement id ‖ statement JSON. `seq` is the `stored`
//!   time in microseconds since the epoch, strictly increasing across the store, so that the
//!   statement table is ordered by `stored` and `since`/`until` are key ranges.
//! - `ids`: tenant ‖ statement id → seq.
//! - `terms`: tenant ‖ term kind ‖ hash(term value) ‖ seq → ∅, one entry per query filter a
//!   statement answers to; a filtered query is a range scan of one term plus point look-ups.
//! - `voids`: tenant ‖ target id → voiding statement id. A voiding statement may arrive before
//!   its target (xAPI Data §2.3.2: the LRS must not reject it), so the record is kept either way.
//! - `documents`: tenant ‖ scope kind ‖ hash(scope) ‖ document id → updated ‖ type ‖ etag ‖ body.
//! - `registry`: tenants and credentials as JSON.
//!
//! Writes are serialised by one mutex and committed as one atomic batch each; the journal is
//! handed to the operating system before a write is acknowledged, so an acknowledged write
//! survives the process being killed. With `fsync` on, it also survives power loss.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};
use parking_lot::Mutex;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    CredentialRecord, Document, DocumentError, DocumentScope, DocumentStore, DocumentWrite,
    InsertError, NewStatement, Precondition, RegistryError, StatementPage, StatementQuery,
    StatementStore, StorageError, StorageErrorKind, StoredStatement, Tenant, TenantId, TenantStore,
    TermKind, WriteMode, merge_documents, stamp, statement_from_stored,
};
use crate::clock::Clock;

/// Options of the embedded store.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedOptions {
    /// `fsync` the journal on every write (survives power loss, slower).
    pub fsync: bool,
    /// Block cache size in bytes.
    pub cache_bytes: u64,
    /// Delete the data when the store is dropped (for tests).
    pub temporary: bool,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        EmbeddedOptions {
            fsync: false,
            cache_bytes: 64 * 1024 * 1024,
            temporary: false,
        }
    }
}

pub struct EmbeddedStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    statements: Keyspace,
    ids: Keyspace,
    terms: Keyspace,
    voids: Keyspace,
    documents: Keyspace,
    registry: Keyspace,
    clock: Arc<dyn Clock>,
    /// How far the journal is pushed before a write is acknowledged.
    durability: PersistMode,
    /// Held for every write: assigns `seq` and makes check-then-write atomic.
    write: Mutex<WriteState>,
    /// The first seq of the write being committed, or `u64::MAX` when none is.
    in_flight: AtomicU64,
    /// The last consistent-through time handed out, so that it never goes back.
    last_consistent: AtomicU64,
}

struct WriteState {
    last_seq: u64,
}

const FLAG_VOIDING: u8 = 1;
const HASH_LEN: usize = 16;

impl EmbeddedStore {
    /// Opens (or creates) the store in `dir`.
    pub fn open(
        dir: &Path,
        options: EmbeddedOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<EmbeddedStore, StorageError> {
        std::fs::create_dir_all(dir).map_err(|e| io_error(&e))?;
        let db = Database::builder(dir)
            .cache_size(options.cache_bytes)
            .temporary(options.temporary)
            .open()
            .map_err(map_err)?;
        let open = |name: &str| {
            db.keyspace(name, KeyspaceCreateOptions::default)
                .map_err(map_err)
        };
        let statements = open("statements")?;
        let ids = open("ids")?;
        let terms = open("terms")?;
        let voids = open("voids")?;
        let documents = open("documents")?;
        let registry = open("registry")?;
        let last_seq = match statements.last_key_value() {
            Some(guard) => {
                let key = guard.key().map_err(map_err)?;
                read_u64(&key, 4)?
            }
            None => 0,
        };
        let inner = Inner {
            db,
            statements,
            ids,
            terms,
            voids,
            documents,
            registry,
            clock,
            // Buffer: handed to the OS, survives the process dying; SyncData: on the disk.
            durability: if options.fsync {
                PersistMode::SyncData
            } else {
                PersistMode::Buffer
            },
            write: Mutex::new(WriteState { last_seq }),
            in_flight: AtomicU64::new(u64::MAX),
            last_consistent: AtomicU64::new(0),
        };
        Ok(EmbeddedStore {
            inner: Arc::new(inner),
        })
    }

    async fn blocking<T, F>(&self, f: F) -> T
    where
        F: FnOnce(&Inner) -> T + Send + 'static,
        T: Send + 'static,
    {
        let inner = self.inner.clone();
        match tokio::task::spawn_blocking(move || f(&inner)).await {
            Ok(value) => value,
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }
}

fn map_err(error: fjall::Error) -> StorageError {
    match error {
        fjall::Error::Io(e) => io_error(&e),
        fjall::Error::Storage(fjall::LsmError::Io(e)) => io_error(&e),
        fjall::Error::Locked => StorageError::new(
            StorageErrorKind::Locked,
            "the data directory is in use by another process",
        ),
        fjall::Error::Poisoned => StorageError::new(
            StorageErrorKind::Unavailable,
            "the store stopped accepting writes after a failed journal write",
        ),
        other => StorageError::corrupt(other.to_string()),
    }
}

fn io_error(error: &std::io::Error) -> StorageError {
    let kind = match error.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
            StorageErrorKind::Full
        }
        _ => StorageErrorKind::Unavailable,
    };
    StorageError::new(kind, error.to_string())
}

fn read_u64(bytes: &[u8], at: usize) -> Result<u64, StorageError> {
    bytes
        .get(at..at + 8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| StorageError::corrupt("short key"))
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

fn seq_to_time(seq: u64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(i64::try_from(seq).unwrap_or(i64::MAX)).unwrap_or_default()
}

fn time_to_seq(time: DateTime<Utc>) -> u64 {
    u64::try_from(time.timestamp_micros()).unwrap_or(0)
}

fn statement_key(tenant: TenantId, seq: u64) -> [u8; 12] {
    let mut key = [0u8; 12];
    key[..4].copy_from_slice(&tenant.0.to_be_bytes());
    key[4..].copy_from_slice(&seq.to_be_bytes());
    key
}

fn id_key(tenant: TenantId, id: Uuid) -> [u8; 20] {
    let mut key = [0u8; 20];
    key[..4].copy_from_slice(&tenant.0.to_be_bytes());
    key[4..].copy_from_slice(id.as_bytes());
    key
}

fn term_prefix(tenant: TenantId, kind: TermKind, value: &str) -> [u8; 21] {
    let mut key = [0u8; 21];
    key[..4].copy_from_slice(&tenant.0.to_be_bytes());
    key[4] = kind as u8;
    key[5..].copy_from_slice(&hash16(&[value.as_bytes()]));
    key
}

fn term_key(prefix: &[u8; 21], seq: u64) -> [u8; 29] {
    let mut key = [0u8; 29];
    key[..21].copy_from_slice(prefix);
    key[21..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// A decoded `statements` value.
struct Record {
    voiding: bool,
    id: Uuid,
    json: Bytes,
}

fn encode_record(voiding: bool, id: Uuid, json: &[u8]) -> Vec<u8> {
    let mut value = Vec::with_capacity(17 + json.len());
    value.push(if voiding { FLAG_VOIDING } else { 0 });
    value.extend_from_slice(id.as_bytes());
    value.extend_from_slice(json);
    value
}

fn decode_record(value: &[u8]) -> Result<Record, StorageError> {
    let (&flags, rest) = value
        .split_first()
        .ok_or_else(|| StorageError::corrupt("empty statement record"))?;
    let id_bytes = rest
        .get(..16)
        .ok_or_else(|| StorageError::corrupt("short statement record"))?;
    let id = Uuid::from_slice(id_bytes).map_err(|e| StorageError::corrupt(e.to_string()))?;
    Ok(Record {
        voiding: flags & FLAG_VOIDING != 0,
        id,
        json: Bytes::copy_from_slice(&rest[16..]),
    })
}

impl Inner {
    fn commit(&self, batch: fjall::OwnedWriteBatch) -> Result<(), StorageError> {
        batch
            .durability(Some(self.durability))
            .commit()
            .map_err(map_err)
    }

    fn record_at(&self, tenant: TenantId, seq: u64) -> Result<Option<Record>, StorageError> {
        match self
            .statements
            .get(statement_key(tenant, seq))
            .map_err(map_err)?
        {
            Some(value) => decode_record(&value).map(Some),
            None => Ok(None),
        }
    }

    fn seq_of(&self, tenant: TenantId, id: Uuid) -> Result<Option<u64>, StorageError> {
        match self.ids.get(id_key(tenant, id)).map_err(map_err)? {
            Some(value) => read_u64(&value, 0).map(Some),
            None => Ok(None),
        }
    }

    fn is_voided(&self, tenant: TenantId, record: &Record) -> Result<bool, StorageError> {
        if record.voiding {
            return Ok(false);
        }
        self.voids
            .contains_key(id_key(tenant, record.id))
            .map_err(map_err)
    }

    fn stored_statement(
        &self,
        tenant: TenantId,
        seq: u64,
        record: Record,
    ) -> Result<StoredStatement, StorageError> {
        let voided = self.is_voided(tenant, &record)?;
        Ok(StoredStatement {
            id: record.id,
            json: record.json,
            stored: seq_to_time(seq),
            voided,
            voiding: record.voiding,
        })
    }

    /// The index prefixes of a stored statement, re-derived from its JSON, including what it
    /// inherits from the statement it references (recursively, xAPI Communication §2.1.3).
    fn stored_terms(&self, tenant: TenantId, seq: u64) -> Result<Vec<[u8; 21]>, StorageError> {
        let mut found = Vec::new();
        let mut next = Some(seq);
        let mut seen = HashSet::new();
        while let Some(seq) = next.take() {
            if !seen.insert(seq) {
                break;
            }
            let Some(record) = self.record_at(tenant, seq)? else {
                break;
            };
            let json: Map<String, Value> = serde_json::from_slice(&record.json)
                .map_err(|e| StorageError::corrupt(e.to_string()))?;
            let parsed = statement_from_stored(json)?;
            found.extend(
                parsed
                    .terms
                    .0
                    .iter()
                    .map(|(kind, value)| term_prefix(tenant, *kind, value)),
            );
            if let Some(target) = parsed.statement_ref {
                next = self.seq_of(tenant, target)?;
            }
        }
        Ok(found)
    }

    fn insert(&self, tenant: TenantId, batch: Vec<NewStatement>) -> Result<Vec<Uuid>, InsertError> {
        let mut state = self.write.lock();
        let mut ids = Vec::with_capacity(batch.len());
        let mut fresh: Vec<NewStatement> = Vec::with_capacity(batch.len());
        let mut batch_ids: HashMap<Uuid, bool> = HashMap::new();
        for statement in batch {
            ids.push(statement.id);
            if let Some(seq) = self.seq_of(tenant, statement.id)? {
                let existing = self
                    .record_at(tenant, seq)?
                    .ok_or_else(|| StorageError::corrupt("id index points at no statement"))?;
                let stored: Map<String, Value> = serde_json::from_slice(&existing.json)
                    .map_err(|e| StorageError::corrupt(e.to_string()))?;
                if !xapi::equivalent(&stored, &statement.json) {
                    return Err(InsertError::Conflict(statement.id));
                }
                continue;
            }
            if batch_ids.contains_key(&statement.id) {
                // The same id twice in one batch: equivalent copies collapse, others conflict.
                let same = fresh
                    .iter()
                    .any(|s| s.id == statement.id && xapi::equivalent(&s.json, &statement.json));
                if same {
                    continue;
                }
                return Err(InsertError::Conflict(statement.id));
            }
            batch_ids.insert(statement.id, statement.voids.is_some());
            fresh.push(statement);
        }
        // A voiding statement may not target a voiding statement (xAPI Data §2.3.2).
        for statement in &fresh {
            let Some(target) = statement.voids else {
                continue;
            };
            let target_voiding = match batch_ids.get(&target) {
                Some(&voiding) => voiding,
                None => match self.seq_of(tenant, target)? {
                    Some(seq) => self.record_at(tenant, seq)?.is_some_and(|r| r.voiding),
                    None => false,
                },
            };
            if target_voiding {
                return Err(InsertError::VoidsVoiding {
                    voiding: statement.id,
                    target,
                });
            }
        }
        if fresh.is_empty() {
            return Ok(ids);
        }

        let now = time_to_seq(self.clock.now());
        let first_seq = now.max(state.last_seq + 1);
        self.in_flight.store(first_seq, Ordering::SeqCst);
        let result = self.write_fresh(tenant, fresh, first_seq);
        self.in_flight.store(u64::MAX, Ordering::SeqCst);
        let last_seq = result?;
        state.last_seq = last_seq;
        Ok(ids)
    }

    fn write_fresh(
        &self,
        tenant: TenantId,
        fresh: Vec<NewStatement>,
        first_seq: u64,
    ) -> Result<u64, StorageError> {
        let mut batch = self.db.batch();
        let mut seq = first_seq;
        let mut new_seqs: HashMap<Uuid, u64> = HashMap::new();
        let mut terms_of: HashMap<u64, Vec<[u8; 21]>> = HashMap::new();
        for statement in fresh {
            let NewStatement {
                id,
                mut json,
                voids,
                statement_ref,
                terms,
            } = statement;
            stamp(&mut json, seq_to_time(seq));
            let bytes =
                serde_json::to_vec(&json).map_err(|e| StorageError::corrupt(e.to_string()))?;
            batch.insert(
                &self.statements,
                statement_key(tenant, seq),
                encode_record(voids.is_some(), id, &bytes),
            );
            batch.insert(&self.ids, id_key(tenant, id), seq.to_be_bytes());
            let mut prefixes: Vec<[u8; 21]> = terms
                .0
                .iter()
                .map(|(kind, value)| term_prefix(tenant, *kind, value))
                .collect();
            if let Some(target) = statement_ref {
                let inherited = match new_seqs.get(&target) {
                    Some(target_seq) => terms_of.get(target_seq).cloned().unwrap_or_default(),
                    None => match self.seq_of(tenant, target)? {
                        Some(target_seq) => self.stored_terms(tenant, target_seq)?,
                        None => Vec::new(),
                    },
                };
                prefixes.extend(inherited);
            }
            let unique: HashSet<[u8; 21]> = prefixes.into_iter().collect();
            let prefixes: Vec<[u8; 21]> = unique.into_iter().collect();
            for prefix in &prefixes {
                batch.insert(&self.terms, term_key(prefix, seq), []);
            }
            if let Some(target) = voids {
                batch.insert(&self.voids, id_key(tenant, target), id.as_bytes());
            }
            new_seqs.insert(id, seq);
            terms_of.insert(seq, prefixes);
            seq += 1;
        }
        self.commit(batch)?;
        Ok(seq - 1)
    }

    fn get(&self, tenant: TenantId, id: Uuid) -> Result<Option<StoredStatement>, StorageError> {
        let Some(seq) = self.seq_of(tenant, id)? else {
            return Ok(None);
        };
        let Some(record) = self.record_at(tenant, seq)? else {
            return Ok(None);
        };
        self.stored_statement(tenant, seq, record).map(Some)
    }

    fn query(
        &self,
        tenant: TenantId,
        query: &StatementQuery,
    ) -> Result<StatementPage, StorageError> {
        let mut low = query.since.map_or(0, |t| time_to_seq(t).saturating_add(1));
        let mut high = query.until.map_or(u64::MAX - 1, time_to_seq);
        if let Some(after) = &query.after {
            let position = read_u64(after, 0)?;
            if query.ascending {
                low = low.max(position.saturating_add(1));
            } else {
                high = high.min(position.saturating_sub(1));
            }
        }
        let mut page = StatementPage::default();
        if low > high || query.limit == 0 {
            return Ok(page);
        }
        let mut filters: Vec<(TermKind, [u8; 21])> = query
            .filters
            .iter()
            .map(|(kind, value)| (*kind, term_prefix(tenant, *kind, value)))
            .collect();
        filters.sort_by_key(|(kind, _)| driver_rank(*kind));

        let accept = |seq: u64, page: &mut StatementPage| -> Result<bool, StorageError> {
            for (_, prefix) in filters.iter().skip(1) {
                if !self
                    .terms
                    .contains_key(term_key(prefix, seq))
                    .map_err(map_err)?
                {
                    return Ok(true);
                }
            }
            let Some(record) = self.record_at(tenant, seq)? else {
                return Ok(true);
            };
            if self.is_voided(tenant, &record)? {
                return Ok(true);
            }
            if page.statements.len() == query.limit {
                page.next = Some(
                    page.statements
                        .last()
                        .map(|s| time_to_seq(s.stored).to_be_bytes().to_vec())
                        .unwrap_or_default(),
                );
                return Ok(false);
            }
            page.statements.push(StoredStatement {
                id: record.id,
                json: record.json,
                stored: seq_to_time(seq),
                voided: false,
                voiding: record.voiding,
            });
            Ok(true)
        };

        match filters.first() {
            None => {
                let range = self
                    .statements
                    .range(statement_key(tenant, low)..=statement_key(tenant, high));
                let iter: Box<dyn Iterator<Item = fjall::Guard>> = if query.ascending {
                    Box::new(range)
                } else {
                    Box::new(range.rev())
                };
                for guard in iter {
                    let key = guard.key().map_err(map_err)?;
                    if !accept(read_u64(&key, 4)?, &mut page)? {
                        break;
                    }
                }
            }
            Some((_, driver)) => {
                let driver = *driver;
                let range = self
                    .terms
                    .range(term_key(&driver, low)..=term_key(&driver, high));
                let iter: Box<dyn Iterator<Item = fjall::Guard>> = if query.ascending {
                    Box::new(range)
                } else {
                    Box::new(range.rev())
                };
                for guard in iter {
                    let key = guard.key().map_err(map_err)?;
                    if !accept(read_u64(&key, 21)?, &mut page)? {
                        break;
                    }
                }
            }
        }
        Ok(page)
    }

    fn consistent_through(&self) -> DateTime<Utc> {
        let now = time_to_seq(self.clock.now());
        let in_flight = self.in_flight.load(Ordering::SeqCst);
        let candidate = now.min(in_flight.saturating_sub(1));
        let previous = self.last_consistent.fetch_max(candidate, Ordering::SeqCst);
        seq_to_time(previous.max(candidate))
    }
}

/// Which filter drives a scan: the one likely to match the fewest statements.
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

#[async_trait]
impl StatementStore for EmbeddedStore {
    async fn insert(
        &self,
        tenant: TenantId,
        batch: Vec<NewStatement>,
    ) -> Result<Vec<Uuid>, InsertError> {
        self.blocking(move |inner| inner.insert(tenant, batch))
            .await
    }

    async fn get(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<StoredStatement>, StorageError> {
        self.blocking(move |inner| inner.get(tenant, id)).await
    }

    async fn query(
        &self,
        tenant: TenantId,
        query: &StatementQuery,
    ) -> Result<StatementPage, StorageError> {
        let query = query.clone();
        self.blocking(move |inner| inner.query(tenant, &query))
            .await
    }

    async fn consistent_through(&self) -> Result<DateTime<Utc>, StorageError> {
        Ok(self.inner.consistent_through())
    }
}

// ---------------------------------------------------------------------------------------------
// Documents

fn scope_prefix(tenant: TenantId, scope: &DocumentScope) -> [u8; 21] {
    let mut key = [0u8; 21];
    key[..4].copy_from_slice(&tenant.0.to_be_bytes());
    let registration;
    let (kind, hash) = match scope {
        DocumentScope::State {
            activity_id,
            agent,
            registration: reg,
        } => {
            registration = reg.map(|r| r.to_string()).unwrap_or_default();
            (
                1u8,
                hash16(&[
                    activity_id.as_bytes(),
                    agent.as_bytes(),
                    registration.as_bytes(),
                ]),
            )
        }
        DocumentScope::ActivityProfile { activity_id } => (2, hash16(&[activity_id.as_bytes()])),
        DocumentScope::AgentProfile { agent } => (3, hash16(&[agent.as_bytes()])),
    };
    key[4] = kind;
    key[5..].copy_from_slice(&hash);
    key
}

fn document_key(prefix: &[u8; 21], id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(21 + id.len());
    key.extend_from_slice(prefix);
    key.extend_from_slice(id.as_bytes());
    key
}

fn encode_document(document: &Document) -> Vec<u8> {
    let content_type = document.content_type.as_bytes();
    let etag = document.etag.as_bytes();
    let mut value =
        Vec::with_capacity(8 + 4 + content_type.len() + etag.len() + document.body.len());
    value.extend_from_slice(&time_to_seq(document.updated).to_be_bytes());
    value.extend_from_slice(&(content_type.len() as u16).to_be_bytes());
    value.extend_from_slice(content_type);
    value.extend_from_slice(&(etag.len() as u16).to_be_bytes());
    value.extend_from_slice(etag);
    value.extend_from_slice(&document.body);
    value
}

fn decode_document(value: &[u8]) -> Result<Document, StorageError> {
    let short = || StorageError::corrupt("short document record");
    let updated = read_u64(value, 0)?;
    let mut at = 8;
    let field = |at: &mut usize| -> Result<String, StorageError> {
        let len_bytes = value.get(*at..*at + 2).ok_or_else(short)?;
        let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        let bytes = value.get(*at + 2..*at + 2 + len).ok_or_else(short)?;
        *at += 2 + len;
        String::from_utf8(bytes.to_vec()).map_err(|e| StorageError::corrupt(e.to_string()))
    };
    let content_type = field(&mut at)?;
    let etag = field(&mut at)?;
    Ok(Document {
        content_type,
        body: Bytes::copy_from_slice(value.get(at..).ok_or_else(short)?),
        etag,
        updated: seq_to_time(updated),
    })
}

fn precondition_holds(precondition: &Precondition, existing: Option<&Document>) -> bool {
    match (precondition, existing) {
        (Precondition::None, _) => true,
        (Precondition::IfNoneMatchAny, existing) => existing.is_none(),
        (Precondition::IfMatch(_), None) => false,
        (Precondition::IfMatch(tags), Some(document)) => {
            tags.iter().any(|tag| tag == "*" || tag == &document.etag)
        }
    }
}

/// The entity tag of a document body: its SHA-1 in hex (xAPI 1.0.3 Communication §3.1).
pub fn document_etag(body: &[u8]) -> String {
    use sha1::Digest as _;
    hex::encode(sha1::Sha1::digest(body))
}

impl Inner {
    fn get_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
    ) -> Result<Option<Document>, StorageError> {
        let key = document_key(&scope_prefix(tenant, scope), id);
        match self.documents.get(key).map_err(map_err)? {
            Some(value) => decode_document(&value).map(Some),
            None => Ok(None),
        }
    }

    fn put_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
        write: DocumentWrite,
    ) -> Result<Document, DocumentError> {
        let DocumentWrite {
            content_type,
            body,
            mode,
            precondition,
        } = write;
        let _state = self.write.lock();
        let existing = self.get_document(tenant, scope, id)?;
        if !precondition_holds(&precondition, existing.as_ref()) {
            return Err(DocumentError::PreconditionFailed);
        }
        let (content_type, body) = match (mode, &existing) {
            (WriteMode::MergeJson, Some(old)) => {
                let merged = merge_documents(old, &content_type, &body)
                    .ok_or(DocumentError::NotMergeable)?;
                (old.content_type.clone(), Bytes::from(merged))
            }
            _ => (content_type, body),
        };
        let now = self.clock.now();
        let updated = match &existing {
            Some(old) if old.updated >= now => old.updated + chrono::Duration::microseconds(1),
            _ => now,
        };
        let document = Document {
            etag: document_etag(&body),
            content_type,
            body,
            updated,
        };
        let mut batch = self.db.batch();
        batch.insert(
            &self.documents,
            document_key(&scope_prefix(tenant, scope), id),
            encode_document(&document),
        );
        self.commit(batch)?;
        Ok(document)
    }

    fn delete_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
        precondition: &Precondition,
    ) -> Result<bool, DocumentError> {
        let _state = self.write.lock();
        let existing = self.get_document(tenant, scope, id)?;
        if !precondition_holds(precondition, existing.as_ref()) {
            return Err(DocumentError::PreconditionFailed);
        }
        if existing.is_none() {
            return Ok(false);
        }
        let mut batch = self.db.batch();
        batch.remove(
            &self.documents,
            document_key(&scope_prefix(tenant, scope), id),
        );
        self.commit(batch)?;
        Ok(true)
    }

    fn scan_documents(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
    ) -> Result<Vec<(Vec<u8>, Document)>, StorageError> {
        let prefix = scope_prefix(tenant, scope);
        let mut found = Vec::new();
        for guard in self.documents.prefix(prefix) {
            let (key, value) = guard.into_inner().map_err(map_err)?;
            found.push((key.to_vec(), decode_document(&value)?));
        }
        Ok(found)
    }

    fn list_documents(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<String>, StorageError> {
        let mut ids = Vec::new();
        for (key, document) in self.scan_documents(tenant, scope)? {
            if since.is_some_and(|since| document.updated <= since) {
                continue;
            }
            let id = String::from_utf8(key[21..].to_vec())
                .map_err(|e| StorageError::corrupt(e.to_string()))?;
            ids.push(id);
        }
        Ok(ids)
    }

    fn delete_documents(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
    ) -> Result<usize, StorageError> {
        let _state = self.write.lock();
        let found = self.scan_documents(tenant, scope)?;
        let mut batch = self.db.batch();
        for (key, _) in &found {
            batch.remove(&self.documents, key.clone());
        }
        self.commit(batch)?;
        Ok(found.len())
    }
}

#[async_trait]
impl DocumentStore for EmbeddedStore {
    async fn get_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
    ) -> Result<Option<Document>, StorageError> {
        let (scope, id) = (scope.clone(), id.to_owned());
        self.blocking(move |inner| inner.get_document(tenant, &scope, &id))
            .await
    }

    async fn put_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
        write: DocumentWrite,
    ) -> Result<Document, DocumentError> {
        let (scope, id) = (scope.clone(), id.to_owned());
        self.blocking(move |inner| inner.put_document(tenant, &scope, &id, write))
            .await
    }

    async fn delete_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
        precondition: &Precondition,
    ) -> Result<bool, DocumentError> {
        let (scope, id, precondition) = (scope.clone(), id.to_owned(), precondition.clone());
        self.blocking(move |inner| inner.delete_document(tenant, &scope, &id, &precondition))
            .await
    }

    async fn list_documents(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<String>, StorageError> {
        let scope = scope.clone();
        self.blocking(move |inner| inner.list_documents(tenant, &scope, since))
            .await
    }

    async fn delete_documents(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
    ) -> Result<usize, StorageError> {
        let scope = scope.clone();
        self.blocking(move |inner| inner.delete_documents(tenant, &scope))
            .await
    }
}

// ---------------------------------------------------------------------------------------------
// Tenants and credentials

const NEXT_TENANT: &[u8] = b"next-tenant";

fn tenant_name_key(name: &str) -> Vec<u8> {
    [b"tenant-name/".as_slice(), name.as_bytes()].concat()
}

fn tenant_id_key(id: TenantId) -> Vec<u8> {
    [b"tenant-id/".as_slice(), &id.0.to_be_bytes()].concat()
}

fn credential_key(key: &str) -> Vec<u8> {
    [b"credential/".as_slice(), key.as_bytes()].concat()
}

impl Inner {
    fn registry_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &[u8],
    ) -> Result<Option<T>, StorageError> {
        match self.registry.get(key).map_err(map_err)? {
            Some(value) => serde_json::from_slice(&value)
                .map(Some)
                .map_err(|e| StorageError::corrupt(e.to_string())),
            None => Ok(None),
        }
    }

    fn registry_scan<T: serde::de::DeserializeOwned>(
        &self,
        prefix: &[u8],
    ) -> Result<Vec<T>, StorageError> {
        let mut found = Vec::new();
        for guard in self.registry.prefix(prefix) {
            let value = guard.value().map_err(map_err)?;
            found.push(
                serde_json::from_slice(&value).map_err(|e| StorageError::corrupt(e.to_string()))?,
            );
        }
        Ok(found)
    }

    fn put_registry(&self, entries: Vec<(Vec<u8>, Vec<u8>)>) -> Result<(), StorageError> {
        let mut batch = self.db.batch();
        for (key, value) in entries {
            batch.insert(&self.registry, key, value);
        }
        self.commit(batch)
    }

    fn create_tenant(&self, name: &str) -> Result<Tenant, RegistryError> {
        let _state = self.write.lock();
        if self
            .registry
            .contains_key(tenant_name_key(name))
            .map_err(map_err)?
        {
            return Err(RegistryError::AlreadyExists(format!("tenant {name:?}")));
        }
        let next = match self.registry.get(NEXT_TENANT).map_err(map_err)? {
            Some(value) => u32::try_from(read_u64(&value, 0)?)
                .map_err(|_| StorageError::corrupt("tenant counter out of range"))?,
            None => 1,
        };
        let tenant = Tenant {
            id: TenantId(next),
            name: name.to_owned(),
            created: self.clock.now(),
        };
        let json = serde_json::to_vec(&tenant).map_err(|e| StorageError::corrupt(e.to_string()))?;
        self.put_registry(vec![
            (
                NEXT_TENANT.to_vec(),
                u64::from(next + 1).to_be_bytes().to_vec(),
            ),
            (tenant_name_key(name), next.to_be_bytes().to_vec()),
            (tenant_id_key(tenant.id), json),
        ])?;
        Ok(tenant)
    }

    fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>, StorageError> {
        let Some(value) = self.registry.get(tenant_name_key(name)).map_err(map_err)? else {
            return Ok(None);
        };
        let id = <[u8; 4]>::try_from(&*value)
            .map(u32::from_be_bytes)
            .map_err(|_| StorageError::corrupt("bad tenant id"))?;
        self.registry_json(&tenant_id_key(TenantId(id)))
    }

    fn write_credential(&self, credential: &CredentialRecord) -> Result<(), StorageError> {
        let json =
            serde_json::to_vec(credential).map_err(|e| StorageError::corrupt(e.to_string()))?;
        self.put_registry(vec![(credential_key(&credential.key), json)])
    }

    fn create_credential(&self, credential: &CredentialRecord) -> Result<(), RegistryError> {
        let _state = self.write.lock();
        if self
            .registry
            .contains_key(credential_key(&credential.key))
            .map_err(map_err)?
        {
            return Err(RegistryError::AlreadyExists("credential".to_owned()));
        }
        Ok(self.write_credential(credential)?)
    }

    fn revoke_credential(&self, key: &str) -> Result<(), RegistryError> {
        let _state = self.write.lock();
        let Some(mut credential) = self.registry_json::<CredentialRecord>(&credential_key(key))?
        else {
            return Err(RegistryError::NotFound("credential".to_owned()));
        };
        credential.revoked = true;
        Ok(self.write_credential(&credential)?)
    }
}

#[async_trait]
impl TenantStore for EmbeddedStore {
    async fn create_tenant(&self, name: &str) -> Result<Tenant, RegistryError> {
        let name = name.to_owned();
        self.blocking(move |inner| inner.create_tenant(&name)).await
    }

    async fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>, StorageError> {
        let name = name.to_owned();
        self.blocking(move |inner| inner.tenant_by_name(&name))
            .await
    }

    async fn tenant(&self, id: TenantId) -> Result<Option<Tenant>, StorageError> {
        self.blocking(move |inner| inner.registry_json(&tenant_id_key(id)))
            .await
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>, StorageError> {
        self.blocking(|inner| inner.registry_scan(b"tenant-id/"))
            .await
    }

    async fn create_credential(&self, credential: CredentialRecord) -> Result<(), RegistryError> {
        self.blocking(move |inner| inner.create_credential(&credential))
            .await
    }

    async fn replace_credential(&self, credential: CredentialRecord) -> Result<(), StorageError> {
        self.blocking(move |inner| {
            let _state = inner.write.lock();
            inner.write_credential(&credential)
        })
        .await
    }

    async fn credential(&self, key: &str) -> Result<Option<CredentialRecord>, StorageError> {
        let key = credential_key(key);
        self.blocking(move |inner| inner.registry_json(&key)).await
    }

    async fn list_credentials(&self) -> Result<Vec<CredentialRecord>, StorageError> {
        self.blocking(|inner| inner.registry_scan(b"credential/"))
            .await
    }

    async fn revoke_credential(&self, key: &str) -> Result<(), RegistryError> {
        let key = key.to_owned();
        self.blocking(move |inner| inner.revoke_credential(&key))
            .await
    }
}
