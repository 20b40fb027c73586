//! Records and blobs in the ScyllaDB store: `records` (every write a lightweight transaction
//! on `version`) and `blobs` (one partition per chunk).

#[allow(clippy::wildcard_imports)]
use super::*;

use async_trait::async_trait;
use bytes::Bytes;

use crate::storage::{BlobStore, Expect, Record, RecordKey, RecordStore};

fn version_of(value: i64) -> Result<u64, StorageError> {
    u64::try_from(value).map_err(|_| StorageError::corrupt("negative record version"))
}

fn signed(version: u64) -> Result<i64, StorageError> {
    i64::try_from(version).map_err(|_| StorageError::corrupt("record version out of range"))
}

fn chunk_index(index: u32) -> Result<i32, StorageError> {
    i32::try_from(index).map_err(|_| StorageError::corrupt("blob chunk index out of range"))
}

#[async_trait]
impl RecordStore for ScyllaStore {
    async fn get_record(
        &self,
        tenant: TenantId,
        key: &RecordKey,
    ) -> Result<Option<Record>, StorageError> {
        let inner = &self.inner;
        let row: Option<(i64, Vec<u8>)> = inner
            .select_one(
                &inner.cql.record_get,
                (tenant_key(tenant), &key.kind, &key.group, &key.id),
                "record",
            )
            .await?;
        row.map(|(version, value)| {
            Ok(Record {
                version: version_of(version)?,
                value: Bytes::from(value),
            })
        })
        .transpose()
    }

    async fn put_record(
        &self,
        tenant: TenantId,
        key: &RecordKey,
        value: Bytes,
        expect: Expect,
    ) -> Result<Option<u64>, StorageError> {
        let inner = &self.inner;
        let tenant = tenant_key(tenant);
        match expect {
            Expect::Absent => {
                let lwt = inner
                    .lwt(
                        &inner.cql.record_create,
                        (tenant, &key.kind, &key.group, &key.id, value.as_ref()),
                        "record",
                    )
                    .await?;
                Ok(lwt.applied.then_some(1))
            }
            Expect::Version(expected) => {
                let next = expected + 1;
                let lwt = inner
                    .lwt(
                        &inner.cql.record_update,
                        (
                            signed(next)?,
                            value.as_ref(),
                            tenant,
                            &key.kind,
                            &key.group,
                            &key.id,
                            signed(expected)?,
                        ),
                        "record",
                    )
                    .await?;
                Ok(lwt.applied.then_some(next))
            }
        }
    }

    async fn delete_record(
        &self,
        tenant: TenantId,
        key: &RecordKey,
        version: u64,
    ) -> Result<bool, StorageError> {
        let inner = &self.inner;
        let lwt = inner
            .lwt(
                &inner.cql.record_delete,
                (
                    tenant_key(tenant),
                    &key.kind,
                    &key.group,
                    &key.id,
                    signed(version)?,
                ),
                "record",
            )
            .await?;
        Ok(lwt.applied)
    }

    async fn list_records(
        &self,
        tenant: TenantId,
        kind: &str,
        group: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Record)>, StorageError> {
        let inner = &self.inner;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let limit = i32::try_from(limit).unwrap_or(i32::MAX);
        let tenant = tenant_key(tenant);
        let rows: Vec<(String, i64, Vec<u8>)> = match after {
            None => {
                inner
                    .select_all(
                        &inner.cql.records_first,
                        (tenant, kind, group, limit),
                        "records",
                    )
                    .await?
            }
            Some(after) => {
                inner
                    .select_all(
                        &inner.cql.records_after,
                        (tenant, kind, group, after, limit),
                        "records",
                    )
                    .await?
            }
        };
        rows.into_iter()
            .map(|(id, version, value)| {
                Ok((
                    id,
                    Record {
                        version: version_of(version)?,
                        value: Bytes::from(value),
                    },
                ))
            })
            .collect()
    }
}

#[async_trait]
impl BlobStore for ScyllaStore {
    async fn put_chunk(
        &self,
        tenant: TenantId,
        blob: &str,
        index: u32,
        data: Bytes,
    ) -> Result<(), StorageError> {
        let inner = &self.inner;
        inner
            .execute(
                &inner.cql.blob_put,
                (tenant_key(tenant), blob, chunk_index(index)?, data.as_ref()),
                "blob chunk",
            )
            .await?;
        Ok(())
    }

    async fn get_chunk(
        &self,
        tenant: TenantId,
        blob: &str,
        index: u32,
    ) -> Result<Option<Bytes>, StorageError> {
        let inner = &self.inner;
        let row: Option<(Vec<u8>,)> = inner
            .select_one(
                &inner.cql.blob_get,
                (tenant_key(tenant), blob, chunk_index(index)?),
                "blob chunk",
            )
            .await?;
        Ok(row.map(|(data,)| Bytes::from(data)))
    }

    async fn delete_blob(
        &self,
        tenant: TenantId,
        blob: &str,
        chunks: u32,
    ) -> Result<(), StorageError> {
        use futures::StreamExt as _;
        let inner = &self.inner;
        let tenant = tenant_key(tenant);
        let mut deletes = futures::stream::iter(0..chunks)
            .map(|index| async move {
                inner
                    .execute(
                        &inner.cql.blob_delete,
                        (tenant, blob, chunk_index(index)?),
                        "blob chunk",
                    )
                    .await
                    .map(|_| ())
            })
            .buffer_unordered(16);
        while let Some(result) = deletes.next().await {
            result?;
        }
        Ok(())
    }
}
