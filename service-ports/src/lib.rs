//! The ports the server's services share, as small object-safe traits the binary implements
//! over the LRS: versioned records with compare-and-set, chunked blobs, and the authority that
//! checks an API credential. The SCORM runtime and the capability service each add their
//! own (a statement sink, a statement source). **Nothing here names the LRS.**

use async_trait::async_trait;
use bytes::Bytes;

/// A tenant (organisation or portal): every record, blob and statement belongs to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tenant(pub u32);

/// Why a port failed. `Unavailable` is transient (answer 503 and let the client retry).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    #[error("the store is full: {0}")]
    Full(String),
    #[error("the store's file system is read-only: {0}")]
    ReadOnly(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The sink refused what it was given (a statement that is not valid xAPI, say).
    #[error("refused: {0}")]
    Refused(String),
}

/// What a client is told of a store failure, by the failure's error name: the same words on
/// every part of the server. `None` for a name that is not store trouble.
pub fn store_trouble_message(error: &str) -> Option<&'static str> {
    match error {
        "unavailable" => Some("the store is unavailable; try again shortly"),
        "insufficient-storage" => Some(
            "the server's disk is full: writes are refused, nothing of this request was stored, \
             and reads go on; writes resume when space is freed",
        ),
        "read-only" => Some(
            "the server's data directory is on a read-only file system: writes are refused, \
             nothing of this request was stored, and reads go on",
        ),
        _ => None,
    }
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

/// Versioned records by (kind, group, id); records of one group are listed together and a
/// group is kept bounded.
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

    async fn delete(
        &self,
        tenant: Tenant,
        kind: &str,
        group: &str,
        id: &str,
        version: u64,
    ) -> Result<bool, PortError>;

    async fn list(
        &self,
        tenant: Tenant,
        kind: &str,
        group: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Record)>, PortError>;
}

/// Blobs as numbered chunks; the caller keeps their lengths.
#[async_trait]
pub trait Blobs: Send + Sync {
    async fn put_chunk(
        &self,
        tenant: Tenant,
        blob: &str,
        index: u32,
        data: Bytes,
    ) -> Result<(), PortError>;

    async fn get_chunk(
        &self,
        tenant: Tenant,
        blob: &str,
        index: u32,
    ) -> Result<Option<Bytes>, PortError>;

    async fn delete_blob(&self, tenant: Tenant, blob: &str, chunks: u32) -> Result<(), PortError>;
}

/// Who is calling, once their credential checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub tenant: Tenant,
    /// May change what a service manages: packages, registrations, frameworks (admin or
    /// `define`).
    pub manage: bool,
    /// May read what a service manages and reports (admin, or reading every statement).
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
