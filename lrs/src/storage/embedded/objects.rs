//! Records and blobs in the embedded store (`records` and `blobs` keyspaces).

use async_trait::async_trait;
use bytes::Bytes;

use super::{EmbeddedStore, Inner, StorageError, TenantId, hash16, map_err, read_u64};
use crate::storage::{BlobStore, Expect, Record, RecordKey, RecordStore};

/// tenant ‖ len(kind) ‖ kind ‖ len(group) ‖ group: the prefix every id of a group shares.
fn group_prefix(tenant: TenantId, kind: &str, group: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(4 + 8 + kind.len() + group.len());
    key.extend_from_slice(&tenant.0.to_be_bytes());
    for part in [kind, group] {
        key.extend_from_slice(&(part.len() as u32).to_be_bytes());
        key.extend_from_slice(part.as_bytes());
    }
    key
}

fn record_key(tenant: TenantId, key: &RecordKey) -> Vec<u8> {
    let mut bytes = group_prefix(tenant, &key.kind, &key.group);
    bytes.extend_from_slice(key.id.as_bytes());
    bytes
}

fn decode_record(value: &[u8]) -> Result<Record, StorageError> {
    Ok(Record {
        version: read_u64(value, 0)?,
        value: Bytes::copy_from_slice(&value[8..]),
    })
}

fn encode_record(version: u64, value: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(8 + value.len());
    bytes.extend_from_slice(&version.to_be_bytes());
    bytes.extend_from_slice(value);
    bytes
}

fn chunk_key(tenant: TenantId, blob: &str, index: u32) -> Vec<u8> {
    let mut key = Vec::with_capacity(4 + 16 + 4);
    key.extend_from_slice(&tenant.0.to_be_bytes());
    key.extend_from_slice(&hash16(&[blob.as_bytes()]));
    key.extend_from_slice(&index.to_be_bytes());
    key
}

impl Inner {
    fn get_record(
        &self,
        tenant: TenantId,
        key: &RecordKey,
    ) -> Result<Option<Record>, StorageError> {
        match self.records.get(record_key(tenant, key)).map_err(map_err)? {
            Some(value) => decode_record(&value).map(Some),
            None => Ok(None),
        }
    }

    fn put_record(
        &self,
        tenant: TenantId,
        key: &RecordKey,
        value: &[u8],
        expect: Expect,
    ) -> Result<Option<u64>, StorageError> {
        // The write lock makes the check and the write one step.
        let _state = self.write.lock();
        let current = self.get_record(tenant, key)?.map(|r| r.version);
        let version = match (expect, current) {
            (Expect::Absent, None) => 1,
            (Expect::Version(expected), Some(found)) if expected == found => found + 1,
            _ => return Ok(None),
        };
        let mut batch = self.db.batch();
        batch.insert(
            &self.records,
            record_key(tenant, key),
            encode_record(version, value),
        );
        self.commit(batch)?;
        Ok(Some(version))
    }

    fn delete_record(
        &self,
        tenant: TenantId,
        key: &RecordKey,
        version: u64,
    ) -> Result<bool, StorageError> {
        let _state = self.write.lock();
        match self.get_record(tenant, key)? {
            Some(found) if found.version == version => {
                let mut batch = self.db.batch();
                batch.remove(&self.records, record_key(tenant, key));
                self.commit(batch)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn list_records(
        &self,
        tenant: TenantId,
        kind: &str,
        group: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Record)>, StorageError> {
        let prefix = group_prefix(tenant, kind, group);
        let mut found = Vec::new();
        if limit == 0 {
            return Ok(found);
        }
        for guard in self.records.prefix(&prefix) {
            let (key, value) = guard.into_inner().map_err(map_err)?;
            let id = std::str::from_utf8(&key[prefix.len()..])
                .map_err(|_| StorageError::corrupt("record id is not UTF-8"))?;
            if after.is_some_and(|after| id <= after) {
                continue;
            }
            found.push((id.to_owned(), decode_record(&value)?));
            if found.len() == limit {
                break;
            }
        }
        Ok(found)
    }

    fn put_chunk(
        &self,
        tenant: TenantId,
        blob: &str,
        index: u32,
        data: &[u8],
    ) -> Result<(), StorageError> {
        let mut batch = self.db.batch();
        batch.insert(&self.blobs, chunk_key(tenant, blob, index), data);
        self.commit(batch)
    }

    fn get_chunk(
        &self,
        tenant: TenantId,
        blob: &str,
        index: u32,
    ) -> Result<Option<Bytes>, StorageError> {
        Ok(self
            .blobs
            .get(chunk_key(tenant, blob, index))
            .map_err(map_err)?
            .map(|value| Bytes::copy_from_slice(&value)))
    }

    fn delete_blob(&self, tenant: TenantId, blob: &str, chunks: u32) -> Result<(), StorageError> {
        let mut batch = self.db.batch();
        for index in 0..chunks {
            batch.remove(&self.blobs, chunk_key(tenant, blob, index));
        }
        self.commit(batch)
    }
}

#[async_trait]
impl RecordStore for EmbeddedStore {
    async fn get_record(
        &self,
        tenant: TenantId,
        key: &RecordKey,
    ) -> Result<Option<Record>, StorageError> {
        let key = key.clone();
        self.blocking(move |inner| inner.get_record(tenant, &key))
            .await
    }

    async fn put_record(
        &self,
        tenant: TenantId,
        key: &RecordKey,
        value: Bytes,
        expect: Expect,
    ) -> Result<Option<u64>, StorageError> {
        let key = key.clone();
        self.writing(move |inner| inner.put_record(tenant, &key, &value, expect))
            .await
    }

    async fn delete_record(
        &self,
        tenant: TenantId,
        key: &RecordKey,
        version: u64,
    ) -> Result<bool, StorageError> {
        let key = key.clone();
        self.writing(move |inner| inner.delete_record(tenant, &key, version))
            .await
    }

    async fn list_records(
        &self,
        tenant: TenantId,
        kind: &str,
        group: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Record)>, StorageError> {
        let (kind, group, after) = (kind.to_owned(), group.to_owned(), after.map(str::to_owned));
        self.blocking(move |inner| {
            inner.list_records(tenant, &kind, &group, after.as_deref(), limit)
        })
        .await
    }
}

#[async_trait]
impl BlobStore for EmbeddedStore {
    async fn put_chunk(
        &self,
        tenant: TenantId,
        blob: &str,
        index: u32,
        data: Bytes,
    ) -> Result<(), StorageError> {
        let blob = blob.to_owned();
        self.blocking(move |inner| inner.put_chunk(tenant, &blob, index, &data))
            .await
    }

    async fn get_chunk(
        &self,
        tenant: TenantId,
        blob: &str,
        index: u32,
    ) -> Result<Option<Bytes>, StorageError> {
        let blob = blob.to_owned();
        self.blocking(move |inner| inner.get_chunk(tenant, &blob, index))
            .await
    }

    async fn delete_blob(
        &self,
        tenant: TenantId,
        blob: &str,
        chunks: u32,
    ) -> Result<(), StorageError> {
        let blob = blob.to_owned();
        self.blocking(move |inner| inner.delete_blob(tenant, &blob, chunks))
            .await
    }
}
