//! The SCORM runtime wired into the LRS: records, blobs and callers through the shared ports
//! (`ports.rs`), its statements and documents written through an LRS [`Producer`].

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use lrs::auth::Authenticator;
use lrs::producer::{ProduceError, Producer};
use lrs::storage::{DocumentScope, Stores};
use scorm_player::server::{PortError, ScormConfig, ScormServer, StatementSink, Tenant};
use scorm_player::xapi_profile::{DocumentKind, ProfileDocument};
use serde_json::Value;

use crate::ports::{AuthorityPort, BlobsPort, RecordsPort, port_error, tenant};

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
