//! The SCORM runtime wired into the LRS: its ports implemented over the LRS's stores, its
//! statements written through an LRS [`Producer`], its callers checked by the LRS's
//! credentials.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use lrs::auth::{Authenticator, StatementRead};
use lrs::producer::{ProduceError, Producer};
use lrs::storage::{
    BlobStore, DocumentScope, RecordKey, RecordStore, StorageError, StorageErrorKind, Stores,
    TenantId,
};
use scorm_player::server::{
    AuthFailure, Authority, Blobs, Caller, Expect, PortError, Record, Records, ScormConfig,
    ScormServer, StatementSink, Tenant,
};
use scorm_player::xapi_profile::{DocumentKind, ProfileDocument};
use serde_json::Value;

/// Builds the SCORM service over the LRS's stores and credentials.
pub fn service(
    stores: &Stores,
    authenticator: Arc<Authenticator>,
    home_page: &str,
    config: ScormConfig,
) -> ScormServer {
    let ports = scorm_player::server::Ports {
        records: Arc::new(RecordsPort(stores.records.clone())),
        blobs: Arc::new(BlobsPort(stores.blobs.clone())),
        sink: Arc::new(SinkPort(Producer::new(
            stores.clone(),
            home_page,
            "scorm-player",
        ))),
        authority: Arc::new(AuthorityPort(authenticator)),
    };
    ScormServer::new(ports, config, Arc::new(chrono::Utc::now))
}

fn tenant(tenant: Tenant) -> TenantId {
    TenantId(tenant.0)
}

fn port_error(error: StorageError) -> PortError {
    match error.kind() {
        StorageErrorKind::Full => PortError::Full(error.message),
        StorageErrorKind::Corrupt => PortError::Corrupt(error.message),
        StorageErrorKind::Unavailable | StorageErrorKind::Locked => {
            PortError::Unavailable(error.message)
        }
    }
}

struct RecordsPort(Arc<dyn RecordStore>);

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

struct BlobsPort(Arc<dyn BlobStore>);

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

struct SinkPort(Producer);

fn produce_error(error: ProduceError) -> PortError {
    match error {
        ProduceError::Storage(e) => port_error(e),
        other => PortError::Refused(other.to_string()),
    }
}

fn agent_key(agent: Option<&Value>) -> Result<String, PortError> {
    agent
        .and_then(Value::as_object)
        .and_then(xapi::ifi_key)
        .ok_or_else(|| PortError::Refused("a document's agent has no identifier".to_owned()))
}

#[async_trait]
impl StatementSink for SinkPort {
    async fn record(&self, t: Tenant, statements: Vec<Value>) -> Result<(), PortError> {
        self.0
            .record(tenant(t), statements)
            .await
            .map(|_| ())
            .map_err(produce_error)
    }

    async fn put_document(&self, t: Tenant, document: ProfileDocument) -> Result<(), PortError> {
        let activity = || {
            document
                .activity_id
                .clone()
                .ok_or_else(|| PortError::Refused("a document needs an activity".to_owned()))
        };
        let scope = match document.kind {
            DocumentKind::State => DocumentScope::State {
                activity_id: activity()?,
                agent: agent_key(document.agent.as_ref())?,
                registration: document.registration,
            },
            DocumentKind::ActivityProfile => DocumentScope::ActivityProfile {
                activity_id: activity()?,
            },
            DocumentKind::AgentProfile => DocumentScope::AgentProfile {
                agent: agent_key(document.agent.as_ref())?,
            },
        };
        self.0
            .put_document(
                tenant(t),
                &scope,
                &document.id,
                &document.content_type,
                Bytes::from(document.content),
            )
            .await
            .map_err(produce_error)
    }
}

struct AuthorityPort(Arc<Authenticator>);

#[async_trait]
impl Authority for AuthorityPort {
    async fn authorize(&self, authorization: Option<&str>) -> Result<Caller, AuthFailure> {
        match self.0.authenticate(authorization).await {
            Err(e) => Err(AuthFailure::Unavailable(e.message)),
            Ok(Err(_)) => Err(AuthFailure::Unauthenticated),
            Ok(Ok(principal)) => Ok(Caller {
                tenant: Tenant(principal.tenant.0),
                manage: principal.admin || principal.can_define(),
                read: principal.admin || principal.statement_read() != StatementRead::None,
            }),
        }
    }
}
