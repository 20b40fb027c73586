//! Storage ports of the LRS: statements, documents, tenants and credentials, each behind an
//! object-safe trait so that handlers never name a concrete store.
//!
//! Every backend passes the same test suite ([`suite`]); the embedded store ([`embedded`]) is the
//! default.

pub mod embedded;
pub mod suite;

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
    /// The disk is full.
    Full,
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

    /// The names statements gave the agent with this IFI key, oldest first.
    async fn agent_names(
        &self,
        tenant: TenantId,
        ifi_key: &str,
    ) -> Result<Vec<String>, StorageError>;
}

/// Which document collection, and which owner within it, a document belongs to
/// (xAPI Communication §2.3–2.7).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DocumentScope {
    State {
        activity_id: String,
        /// IFI key of the agent.
        agent: String,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub content_type: String,
    pub body: Bytes,
    /// Unquoted entity tag: the SHA-1 of the body in hex.
    pub etag: String,
    pub updated: DateTime<Utc>,
}

/// The concurrency condition of a document write (xAPI Communication §3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    None,
    /// `If-Match`: the stored document's ETag must be one of these (`*` matches any).
    IfMatch(Vec<String>),
    /// `If-None-Match: *`: no document may exist.
    IfNoneMatchAny,
}

/// How a write combines with a stored document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    Replace,
    /// Merge top-level properties of two JSON objects (POST, xAPI Communication §2.2).
    MergeJson,
}

/// A document write: the new content, how it combines with what is stored, and its condition.
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
    #[error(transparent)]
    Storage(#[from] StorageError),
}

#[async_trait]
pub trait DocumentStore: Send + Sync {
    async fn get_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
    ) -> Result<Option<Document>, StorageError>;

    /// Writes a document; returns what is stored afterwards.
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

    /// Ids of the documents in a scope updated after `since` (all when `None`).
    async fn list_documents(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<String>, StorageError>;

    /// Deletes every document of a scope; returns how many.
    async fn delete_documents(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
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

/// The three stores a server runs on, usually one backend behind all three.
#[derive(Clone)]
pub struct Stores {
    pub statements: Arc<dyn StatementStore>,
    pub documents: Arc<dyn DocumentStore>,
    pub tenants: Arc<dyn TenantStore>,
}

impl Stores {
    /// All three ports served by one backend.
    pub fn from_backend<B>(backend: Arc<B>) -> Stores
    where
        B: StatementStore + DocumentStore + TenantStore + 'static,
    {
        Stores {
            statements: backend.clone(),
            documents: backend.clone(),
            tenants: backend,
        }
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
