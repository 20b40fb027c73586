//! The shared service ports (`service-ports`) implemented over the LRS: records and blobs in
//! its stores, callers checked by its credentials. The SCORM runtime and the capability
//! service both run on these.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use lrs::auth::{Authenticator, StatementRead};
use lrs::storage::{BlobStore, RecordKey, RecordStore, StorageError, StorageErrorKind, TenantId};
use service_ports::{
    AuthFailure, Authority, Blobs, Caller, Expect, PortError, Record, Records, Tenant,
};

pub(crate) fn tenant(tenant: Tenant) -> TenantId {
    TenantId(tenant.0)
}

pub(crate) fn port_error(error: StorageError) -> PortError {
    match error.kind() {
        StorageErrorKind::Full => PortError::Full(error.message),
        StorageErrorKind::Corrupt => PortError::Corrupt(error.message),
        StorageErrorKind::ReadOnly => PortError::ReadOnly(error.message),
        StorageErrorKind::Unavailable | StorageErrorKind::Locked => {
            PortError::Unavailable(error.message)
        }
    }
}

pub(crate) struct RecordsPort(pub(crate) Arc<dyn RecordStore>);

#[async_trait]
impl Records for RecordsPort {
    async fn get(
        &self,
        t: Tenant,
        kind: &str,
        group: &str,
        id: &str,
    ) -> Result<Option<Record>, PortError> {
        let found = self
            .0
            .get_record(tenant(t), &RecordKey::new(kind, group, id))
            .await
            .map_err(port_error)?;
        Ok(found.map(|r| Record {
            version: r.version,
            value: r.value,
        }))
    }

    async fn put(
        &self,
        t: Tenant,
        kind: &str,
        group: &str,
        id: &str,
        value: Bytes,
        expect: Expect,
    ) -> Result<Option<u64>, PortError> {
        let expect = match expect {
            Expect::Absent => lrs::storage::Expect::Absent,
            Expect::Version(v) => lrs::storage::Expect::Version(v),
        };
        self.0
            .put_record(tenant(t), &RecordKey::new(kind, group, id), value, expect)
            .await
            .map_err(port_error)
    }

    async fn delete(
        &self,
        t: Tenant,
        kind: &str,
        group: &str,
        id: &str,
        version: u64,
    ) -> Result<bool, PortError> {
        self.0
            .delete_record(tenant(t), &RecordKey::new(kind, group, id), version)
            .await
            .map_err(port_error)
    }

    async fn list(
        &self,
        t: Tenant,
        kind: &str,
        group: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Record)>, PortError> {
        let found = self
            .0
            .list_records(tenant(t), kind, group, after, limit)
            .await
            .map_err(port_error)?;
        Ok(found
            .into_iter()
            .map(|(id, r)| {
                (
                    id,
                    Record {
                        version: r.version,
                        value: r.value,
                    },
                )
            })
            .collect())
    }
}

pub(crate) struct BlobsPort(pub(crate) Arc<dyn BlobStore>);

#[async_trait]
impl Blobs for BlobsPort {
    async fn put_chunk(
        &self,
        t: Tenant,
        blob: &str,
        index: u32,
        data: Bytes,
    ) -> Result<(), PortError> {
        self.0
            .put_chunk(tenant(t), blob, index, data)
            .await
            .map_err(port_error)
    }

    async fn get_chunk(
        &self,
        t: Tenant,
        blob: &str,
        index: u32,
    ) -> Result<Option<Bytes>, PortError> {
        self.0
            .get_chunk(tenant(t), blob, index)
            .await
            .map_err(port_error)
    }

    async fn delete_blob(&self, t: Tenant, blob: &str, chunks: u32) -> Result<(), PortError> {
        self.0
            .delete_blob(tenant(t), blob, chunks)
            .await
            .map_err(port_error)
    }
}

pub(crate) struct AuthorityPort(pub(crate) Arc<Authenticator>);

#[async_trait]
impl Authority for AuthorityPort {
    async fn authorize(&self, authorization: Option<&str>) -> Result<Caller, AuthFailure> {
        match self.0.authenticate(authorization).await {
            Err(e) => Err(AuthFailure::Unavailable(e.message)),
            Ok(Err(_)) => Err(AuthFailure::Unauthenticated),
            Ok(Ok(principal)) => Ok(Caller {
                tenant: Tenant(principal.tenant.0),
                manage: principal.admin || principal.can_define(),
                // Reading what services manage and report is about everyone: it takes reading every
                // statement, not only one's own.
                read: principal.admin || principal.statement_read() == StatementRead::All,
            }),
        }
    }
}
