//! Storage ports of the LRS: statements, documents, tenants and credentials, each behind an
//! object-safe trait so that handlers never name a concrete store.
//!
//! Every backend passes the same test suite ([`suite`]); the embedded store ([`embedded`]) is the
//! default, the ScyllaDB/Cassandra store ([`scylla`]) the distributed one.

pub mod embedded;
mod objects;
pub mod scylla;
pub mod suite;

pub use objects::{BlobStore, Expect, MAX_CHUNK, Record, RecordKey, RecordStore};

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// An organisation or portal. Every record belongs to exactly one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(pub u32);

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub created: DateTime<Utc>,
}

/// A stored credential. The secret is kept only as an argon2 PHC string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRecord {
    pub key: String,
    pub tenant: TenantId,
    pub scopes: Vec<String>,
    pub admin: bool,
    pub secret_hash: String,
    pub created: DateTime<Utc>,
    pub revoked: bool,
}

/// Why a storage operation failed; the HTTP layer maps each kind to one status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageErrorKind {
    /// The store cannot serve right now (I/O failure, read-only disk, lost connection).
    Unavailable,
    /// The disk is full, or has less free than the store keeps in reserve.
    Full,
    /// The data directory's file system is read-only.
    ReadOnly,
    /// Another process holds the data directory.
    Locked,
    /// Stored bytes could not be decoded.
    Corrupt,
}

#[derive(Debug, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct StorageError {
    pub kind: StorageErrorKind,
    pub message: String,
}

impl StorageError {
    pub fn new(kind: StorageErrorKind, message: impl Into<String>) -> Self {
        StorageError {
            kind,
            message: message.into(),
        }
    }

    pub fn corrupt(message: impl Into<String>) -> Self {
        Self::new(StorageErrorKind::Corrupt, message)
    }

    pub fn kind(&self) -> StorageErrorKind {
        self.kind
    }
}

/// A statement ready to store: validated, with its id, authority and version set.
/// The store sets `stored` (and `timestamp` when absent) under its write ordering.
#[derive(Debug, Clone)]
pub struct NewStatement {
    pub id: Uuid,
    /// Whether the LRS assigned `id` while preparing this statement, which came without one:
    /// a random (version 4) UUID, so no stored statement has it and a store need not look.
    pub id_assigned: bool,
    pub json: Map<String, Value>,
    /// The target when this is a voiding statement.
    pub voids: Option<Uuid>,
    /// The target of a StatementRef object (voiding or not); its filter terms are
    /// inherited (xAPI Communication §2.1.3 "Filter Conditions for StatementRefs").
    pub statement_ref: Option<Uuid>,
    pub terms: Terms,
    /// Activity definitions the statement carries, merged into the canonical ones
    /// (xAPI Communication §2.5).
    pub definitions: Vec<(String, Map<String, Value>)>,
    /// Names the statement gives agents, by IFI key, for the Agents Resource (§2.4).
    pub agent_names: Vec<(String, String)>,
    /// Whether the sender may change an activity's canonical definition once it has one
    /// (scope `define`); otherwise only a first definition is recorded.
    pub may_define: bool,
    /// Attachment data sent with the statement, by SHA-2 (lowercase hex), stored once per hash.
    pub attachments: Vec<(String, AttachmentData)>,
}

/// Attachment data on its way to a store: in memory when small, spooled to a temporary file
/// when large, so that a request never holds a large attachment in memory whole.
#[derive(Debug, Clone)]
pub enum AttachmentData {
    Memory(Bytes),
    Spooled(Arc<tempfile::NamedTempFile>),
}

impl AttachmentData {
    /// Calls `f` with the data in chunks of at most `size` bytes, in order, reading a spooled
    /// file one chunk at a time (blocking I/O). An empty attachment gives one empty chunk.
    pub fn for_each_chunk(
        &self,
        size: usize,
        mut f: impl FnMut(&[u8]) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        match self {
            AttachmentData::Memory(bytes) if bytes.is_empty() => f(&[]),
            AttachmentData::Memory(bytes) => bytes.chunks(size).try_for_each(f),
            AttachmentData::Spooled(file) => {
                use std::io::Read as _;
                let io = |e: std::io::Error| {
                    StorageError::new(
                        StorageErrorKind::Unavailable,
                        format!("spooled attachment: {e}"),
                    )
                };
                let mut reader = std::fs::File::open(file.path()).map_err(io)?;
                let mut buffer = vec![0u8; size];
                let mut first = true;
                loop {
                    let mut filled = 0;
                    while filled < size {
                        let n = reader.read(&mut buffer[filled..]).map_err(io)?;
                        if n == 0 {
                            break;
                        }
                        filled += n;
                    }
                    if filled == 0 && !first {
                        return Ok(());
                    }
                    f(&buffer[..filled])?;
                    first = false;
                    if filled < size {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// The whole data in memory (for small parts such as signatures).
    pub fn to_bytes(&self) -> Result<Bytes, StorageError> {
        match self {
            AttachmentData::Memory(bytes) => Ok(bytes.clone()),
            AttachmentData::Spooled(_) => {
                let mut all = Vec::new();
                self.for_each_chunk(1 << 20, |chunk| {
                    all.extend_from_slice(chunk);
                    Ok(())
                })?;
                Ok(Bytes::from(all))
            }
        }
    }
}

/// What a stored statement can be found by, as (kind, value) pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terms(pub Vec<(TermKind, String)>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum TermKind {
    Agent = 1,
    RelatedAgent = 2,
    Verb = 3,
    Activity = 4,
    RelatedActivity = 5,
    Registration = 6,
    /// The IFI key of the statement's authority, for `statements/read/mine`.
    Authority = 7,
}

impl TermKind {
    pub fn from_u8(value: u8) -> Option<TermKind> {
        Some(match value {
            1 => TermKind::Agent,
            2 => TermKind::RelatedAgent,
            3 => TermKind::Verb,
            4 => TermKind::Activity,
            5 => TermKind::RelatedActivity,
            6 => TermKind::Registration,
            7 => TermKind::Authority,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct StoredStatement {
    pub id: Uuid,
    /// The statement as stored (what the client sent plus the LRS-set properties).
    pub json: Bytes,
    pub stored: DateTime<Utc>,
    pub voided: bool,
    pub voiding: bool,
}

/// Why a batch was refused. Nothing of a refused batch is stored.
#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    /// The id is known with different content (xAPI Communication §2.1.2: 409 Conflict).
    #[error("statement {0} already exists with different content")]
    Conflict(Uuid),
    /// The statement voids a statement that is itself a voiding statement (xAPI Data §2.3.2).
    #[error("statement {voiding} voids {target}, which is itself a voiding statement")]
    VoidsVoiding { voiding: Uuid, target: Uuid },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A statement query after parameter parsing. Every present filter must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatementQuery {
    pub filters: Vec<(TermKind, String)>,
    /// Exclusive lower bound on `stored`.
    pub since: Option<DateTime<Utc>>,
    /// Inclusive upper bound on `stored`.
    pub until: Option<DateTime<Utc>>,
    pub ascending: bool,
    pub limit: usize,
    /// An opaque position from a previous page's `next`.
    pub after: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Default)]
pub struct StatementPage {
    pub statements: Vec<StoredStatement>,
    /// Where the next page starts, when there may be more.
    pub next: Option<Vec<u8>>,
}

#[async_trait]
pub trait StatementStore: Send + Sync {
    /// Stores a batch atomically, in order, giving each statement a `stored` time that is
    /// strictly increasing across the store. A statement whose id is already stored with
    /// equivalent content is accepted and not stored twice.
    async fn insert(
        &self,
        tenant: TenantId,
        batch: Vec<NewStatement>,
    ) -> Result<Vec<Uuid>, InsertError>;

    /// One statement by id, voided or not.
    async fn get(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<StoredStatement>, StorageError>;

    /// Statements matching the query, voided ones left out, ordered by `stored`.
    async fn query(
        &self,
        tenant: TenantId,
        query: &StatementQuery,
    ) -> Result<StatementPage, StorageError>;

    /// A time before which every statement that is or will be stored is visible to queries.
    async fn consistent_through(&self) -> Result<DateTime<Utc>, StorageError>;

    /// The canonical definition of an activity, as merged from the statements stored.
    async fn activity_definition(
        &self,
        tenant: TenantId,
        activity_id: &str,
    ) -> Result<Option<Map<String, Value>>, StorageError>;

    /// The data of an attachment, by the SHA-256 (hex) statements refer to it with.
    async fn attachment(&self, tenant: TenantId, sha2: &str)
    -> Result<Option<Bytes>, StorageError>;

    /// The names statements gave the agent with this IFI key, oldest first.
    async fn agent_names(
        &self,
        tenant: TenantId,
        ifi_key: &str,
    ) -> Result<Vec<String>, StorageError>;
}

/// Which document collection, and which owner within it, a single document belongs to
/// (xAPI Communication §2.3–2.7).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DocumentScope {
    State {
        activity_id: String,
        /// IFI key of the agent.
        agent: String,
        /// `None`: the document stored without a registration, which is a different document
        /// from any stored with one.
        registration: Option<Uuid>,
    },
    ActivityProfile {
        activity_id: String,
    },
    AgentProfile {
        /// IFI key of the agent.
        agent: String,
    },
}

/// The documents a multiple-document GET or DELETE acts on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DocumentSet {
    /// Every document of one scope; for State, those of one registration or, with
    /// `registration: None`, those stored without one.
    Scope(DocumentScope),
    /// Every State document of an agent in an activity, whatever its registration
    /// (Communication §2.3: "all state data for this context (Activity + Agent
    /// \[+ registration if specified\])" — without a registration, all of them).
    State { activity_id: String, agent: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub content_type: String,
    pub body: Bytes,
    /// Unquoted entity tag: the SHA-1 of the body in hex.
    pub etag: String,
    pub updated: DateTime<Utc>,
}

/// One id of a document listing, with when that document was last updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentEntry {
    pub id: String,
    pub updated: DateTime<Utc>,
}

/// The concurrency conditions of a document write or delete (xAPI Communication §3.1), as
/// RFC 7232 §3.1–3.2 and §6 define them: `If-Match` is evaluated first, then `If-None-Match`.
/// ETags are unquoted; `*` matches any existing document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Precondition {
    /// `If-Match`: a document must exist and its ETag be one of these.
    pub if_match: Option<Vec<String>>,
    /// `If-None-Match`: no document may exist whose ETag is one of these.
    pub if_none_match: Option<Vec<String>>,
}

impl Precondition {
    /// No condition: the request carried neither header.
    pub fn none() -> Precondition {
        Precondition::default()
    }

    pub fn if_match(tags: impl IntoIterator<Item = impl Into<String>>) -> Precondition {
        Precondition {
            if_match: Some(tags.into_iter().map(Into::into).collect()),
            if_none_match: None,
        }
    }

    /// `If-None-Match: *`: no document may exist.
    pub fn if_none_match_any() -> Precondition {
        Precondition {
            if_match: None,
            if_none_match: Some(vec!["*".to_owned()]),
        }
    }

    /// Whether the request carried neither header.
    pub fn is_none(&self) -> bool {
        self.if_match.is_none() && self.if_none_match.is_none()
    }

    /// Whether the condition holds against what is stored. Every backend decides with this,
    /// under the same atomicity as the write that follows.
    pub fn holds(&self, existing: Option<&Document>) -> bool {
        let matches = |tags: &[String], document: &Document| {
            tags.iter().any(|tag| tag == "*" || *tag == document.etag)
        };
        let if_match = match (&self.if_match, existing) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(tags), Some(document)) => matches(tags, document),
        };
        let if_none_match = match (&self.if_none_match, existing) {
            (None, _) | (Some(_), None) => true,
            (Some(tags), Some(document)) => !matches(tags, document),
        };
        if_match && if_none_match
    }
}

/// How a write combines with a stored document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    Replace,
    /// Merge top-level properties of two JSON objects (POST, xAPI Communication §2.2).
    MergeJson,
    /// Store only when no document exists, else fail with [`DocumentError::Exists`]: a PUT
    /// with neither `If-Match` nor `If-None-Match` (Communication §3.1: 409 Conflict).
    Create,
}

/// A document write: the new content, how it combines with what is stored, and its condition.
/// The content type is at most 65 535 bytes long.
#[derive(Debug, Clone)]
pub struct DocumentWrite {
    pub content_type: String,
    pub body: Bytes,
    pub mode: WriteMode,
    pub precondition: Precondition,
}

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("the precondition failed")]
    PreconditionFailed,
    #[error("documents can be merged only when both are JSON objects")]
    NotMergeable,
    /// A [`WriteMode::Create`] write found a document already stored.
    #[error("the document already exists")]
    Exists,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// State, activity profile and agent profile documents. Every check-then-write (preconditions,
/// merges, [`WriteMode::Create`]) is atomic with respect to other writes of the same document.
#[async_trait]
pub trait DocumentStore: Send + Sync {
    async fn get_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
    ) -> Result<Option<Document>, StorageError>;

    /// Writes a document; returns what is stored afterwards. Nothing changes on an error.
    async fn put_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
        write: DocumentWrite,
    ) -> Result<Document, DocumentError>;

    /// Deletes a document; returns whether one existed.
    async fn delete_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
        precondition: &Precondition,
    ) -> Result<bool, DocumentError>;

    /// The ids of a set's documents updated after `since` (all when `None`), each once, in
    /// byte order, with the latest update of the documents of that id.
    async fn list_documents(
        &self,
        tenant: TenantId,
        set: &DocumentSet,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<DocumentEntry>, StorageError>;

    /// Deletes every document of a set atomically; returns how many.
    async fn delete_documents(
        &self,
        tenant: TenantId,
        set: &DocumentSet,
    ) -> Result<usize, StorageError>;
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("{0} does not exist")]
    NotFound(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Tenants and their credentials.
#[async_trait]
pub trait TenantStore: Send + Sync {
    async fn create_tenant(&self, name: &str) -> Result<Tenant, RegistryError>;
    async fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>, StorageError>;
    async fn tenant(&self, id: TenantId) -> Result<Option<Tenant>, StorageError>;
    async fn list_tenants(&self) -> Result<Vec<Tenant>, StorageError>;

    /// Stores a new credential; fails when the key is taken.
    async fn create_credential(&self, credential: CredentialRecord) -> Result<(), RegistryError>;
    /// Stores a credential, replacing any with the same key (used by the bootstrap admin).
    async fn replace_credential(&self, credential: CredentialRecord) -> Result<(), StorageError>;
    async fn credential(&self, key: &str) -> Result<Option<CredentialRecord>, StorageError>;
    async fn list_credentials(&self) -> Result<Vec<CredentialRecord>, StorageError>;
    /// Marks a credential revoked; fails when it does not exist.
    async fn revoke_credential(&self, key: &str) -> Result<(), RegistryError>;
}

/// The ports a server runs on, usually one backend behind all of them.
#[derive(Clone)]
pub struct Stores {
    pub statements: Arc<dyn StatementStore>,
    pub documents: Arc<dyn DocumentStore>,
    pub tenants: Arc<dyn TenantStore>,
    pub records: Arc<dyn RecordStore>,
    pub blobs: Arc<dyn BlobStore>,
    /// Backups made by the server, where the store has them (the embedded store; a cluster is
    /// backed up with its own tools).
    pub backup: Option<Arc<dyn Backup>>,
}

/// A consistent copy of a whole store, written while it serves.
pub trait Backup: Send + Sync {
    /// Writes the store as of one moment to `out`. Blocking: run it off the async runtime.
    fn write_backup(&self, out: &mut dyn std::io::Write) -> Result<BackupSummary, StorageError>;
}

/// What a backup or a restore went through.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BackupSummary {
    pub keyspaces: usize,
    pub entries: u64,
    /// Bytes before compression.
    pub raw_bytes: u64,
    pub seconds: f64,
}

impl Stores {
    /// Every port served by one backend.
    pub fn from_backend<B>(backend: Arc<B>) -> Stores
    where
        B: StatementStore + DocumentStore + TenantStore + RecordStore + BlobStore + 'static,
    {
        Stores {
            statements: backend.clone(),
            documents: backend.clone(),
            tenants: backend.clone(),
            records: backend.clone(),
            blobs: backend,
            backup: None,
        }
    }

    /// These ports, with backups made by `backup`.
    pub fn with_backup(mut self, backup: Arc<dyn Backup>) -> Stores {
        self.backup = Some(backup);
        self
    }
}

/// Formats a `stored` time: RFC 3339 in UTC with microseconds, the precision of the store's
/// ordering, so that `since`/`until` given back from a `stored` value select exactly.
pub fn format_stored(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Sets `stored` and, when the client sent none, `timestamp` to the same value
/// (xAPI Data §2.4.7 and §2.4.8). Every backend calls this as it assigns `stored`.
pub fn stamp(json: &mut Map<String, Value>, stored: DateTime<Utc>) {
    let text = format_stored(stored);
    if !json.contains_key("timestamp") {
        json.insert("timestamp".to_owned(), Value::String(text.clone()));
    }
    json.insert("stored".to_owned(), Value::String(text));
}

/// Re-derives the filter terms and StatementRef target of a stored statement.
pub fn statement_from_stored(json: Map<String, Value>) -> Result<NewStatement, StorageError> {
    crate::statements::from_stored(json)
        .map_err(|e| StorageError::corrupt(format!("stored statement no longer parses: {e}")))
}

/// Merges a posted JSON document into a stored one: top-level properties of the posted object
/// replace those of the stored object (xAPI Communication §2.2, POST to a document resource).
/// `None` when either side is not a JSON object of type `application/json`.
pub fn merge_documents(old: &Document, new_content_type: &str, new_body: &[u8]) -> Option<Vec<u8>> {
    let is_json = |content_type: &str| {
        content_type
            .split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    };
    if !is_json(&old.content_type) || !is_json(new_content_type) {
        return None;
    }
    let Ok(Value::Object(mut merged)) = serde_json::from_slice::<Value>(&old.body) else {
        return None;
    };
    let Ok(Value::Object(posted)) = serde_json::from_slice::<Value>(new_body) else {
        return None;
    };
    for (key, value) in posted {
        merged.insert(key, value);
    }
    serde_json::to_vec(&Value::Object(merged)).ok()
}
