//! Two general-purpose ports for the parts of the server beside the LRS (the SCORM runtime,
//! the capability engine): versioned records with compare-and-set, and chunked blobs.
//!
//! They know nothing of SCORM or capabilities: a caller names a record by (kind, group, id)
//! and a blob by a string, and keeps its own metadata (a blob's length and chunk size live in
//! the caller's records). Every backend implements both and passes the same suite cases.

use async_trait::async_trait;
use bytes::Bytes;

use super::{StorageError, TenantId};

/// Where a record lives. Records of one (kind, group) are listed together, in `id` order; on
/// a distributed store a group is one partition, so a caller keeps groups bounded (a
/// registration's sessions, a tenant's packages), never "every record of a tenant".
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordKey {
    pub kind: String,
    pub group: String,
    pub id: String,
}

impl RecordKey {
    pub fn new(kind: &str, group: &str, id: &str) -> RecordKey {
        RecordKey {
            kind: kind.to_owned(),
            group: group.to_owned(),
            id: id.to_owned(),
        }
    }
}

/// A stored record: its value and a version that every write increases (the first is 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub version: u64,
    pub value: Bytes,
}

/// The condition a record write or delete needs: every write is a compare-and-set, so two
/// servers updating the same record never lose one of the updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// No record with this key exists.
    Absent,
    /// The record exists at exactly this version.
    Version(u64),
}

/// Versioned records with compare-and-set.
#[async_trait]
pub trait RecordStore: Send + Sync {
    async fn get_record(
        &self,
        tenant: TenantId,
        key: &RecordKey,
    ) -> Result<Option<Record>, StorageError>;

    /// Writes `value` when `expect` holds and returns the new version; `None` when it did not
    /// hold, in which case nothing was written.
    async fn put_record(
        &self,
        tenant: TenantId,
        key: &RecordKey,
        value: Bytes,
        expect: Expect,
    ) -> Result<Option<u64>, StorageError>;

    /// Deletes the record when it exists at `version`; whether it did.
    async fn delete_record(
        &self,
        tenant: TenantId,
        key: &RecordKey,
        version: u64,
    ) -> Result<bool, StorageError>;

    /// Records of one group in `id` order, those after `after`, at most `limit`.
    async fn list_records(
        &self,
        tenant: TenantId,
        kind: &str,
        group: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Record)>, StorageError>;
}

/// Blobs as numbered chunks. The caller chooses the chunk size (at most [`MAX_CHUNK`]) and
/// keeps a blob's length; a blob is complete when the caller's record says it is, so a crash
/// half-way through writing one leaves only chunks nobody refers to.
#[async_trait]
pub trait BlobStore: Send + Sync {
    async fn put_chunk(
        &self,
        tenant: TenantId,
        blob: &str,
        index: u32,
        data: Bytes,
    ) -> Result<(), StorageError>;

    async fn get_chunk(
        &self,
        tenant: TenantId,
        blob: &str,
        index: u32,
    ) -> Result<Option<Bytes>, StorageError>;

    /// Deletes chunks `0..chunks` of a blob.
    async fn delete_blob(
        &self,
        tenant: TenantId,
        blob: &str,
        chunks: u32,
    ) -> Result<(), StorageError>;
}

/// The largest chunk a backend must accept.
pub const MAX_CHUNK: usize = 1024 * 1024;
