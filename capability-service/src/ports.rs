//! What the capability service needs from the rest of the system, as small object-safe traits
//! the binary implements: versioned records to keep the model and the ledger in, the stream
//! of stored statements, and the authority that checks an API credential. **Nothing here
//! names the LRS.**

use async_trait::async_trait;
use bytes::Bytes;
use serde_json::Value;

/// A tenant (organisation): every record and statement belongs to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tenant(pub u32);

/// Why a port failed. `Unavailable` is transient (answer 503 and let the client retry).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    #[error("the store is full: {0}")]
    Full(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// A stored record and its version (every write increases it; the first is 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub version: u64,
    pub value: Bytes,
}

/// The condition of a write: every write is a compare-and-set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Absent,
    Version(u64),
}

/// Versioned records by (kind, group, id); records of one group are listed together in `id`
/// order and a group is kept bounded.
#[async_trait]
pub trait Records: Send + Sync {
    async fn get(
        &self,
        tenant: Tenant,
        kind: &str,
        group: &str,
        id: &str,
    ) -> Result<Option<Record>, PortError>;

    /// The new version, or `None` when `expect` did not hold (nothing written).
    async fn put(
        &self,
        tenant: Tenant,
        kind: &str,
        group: &str,
        id: &str,
        value: Bytes,
        expect: Expect,
    ) -> Result<Option<u64>, PortError>;

    /// Deletes the record when it exists at `version`; whether it did.
    async fn delete(
        &self,
        tenant: Tenant,
        kind: &str,
        group: &str,
        id: &str,
        version: u64,
    ) -> Result<bool, PortError>;

    /// Records of one group in `id` order, those after `after`, at most `limit`.
    async fn list(
        &self,
        tenant: Tenant,
        kind: &str,
        group: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Record)>, PortError>;
}

/// One read of the statement stream.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch {
    /// Stored statements (xAPI Data §2.4.8 `stored` set) in `stored` order. The target of a
    /// voiding statement in the batch comes before it even when it was stored earlier, so
    /// that its evidence can be recorded as retracted.
    pub statements: Vec<Value>,
    /// The position after this batch, to pass to the next call; `None` only while nothing
    /// has been read and nothing is visible yet.
    pub cursor: Option<String>,
    /// Whether statements may follow right away (the batch was cut at `limit`). When false
    /// the reader is caught up with every statement the store can guarantee is visible.
    pub more: bool,
}

/// The tenant's stored statements in `stored` order, read by a follower.
#[async_trait]
pub trait StatementSource: Send + Sync {
    /// Statements stored strictly after `cursor` (from the start when `None`), at most
    /// `limit` of them from the stream, and only up to the point through which the store is
    /// consistent, so that no statement stored later can land behind the returned cursor.
    async fn after(
        &self,
        tenant: Tenant,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Batch, PortError>;

    /// Every tenant, for the follower to visit.
    async fn tenants(&self) -> Result<Vec<Tenant>, PortError>;
}

/// Who is calling, once their credential checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub tenant: Tenant,
    /// May change the model and run a catch-up (admin or `define`).
    pub manage: bool,
    /// May read the model and the reports (admin or reading every statement).
    pub read: bool,
}

/// Why a credential was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// No credential, or a wrong one: 401.
    Unauthenticated,
    /// The authority could not check (its store is down): 503.
    Unavailable(String),
}

/// Checks the `Authorization` header of a request.
#[async_trait]
pub trait Authority: Send + Sync {
    async fn authorize(&self, authorization: Option<&str>) -> Result<Caller, AuthFailure>;
}
