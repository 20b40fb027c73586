//! Statements and documents that other parts of the server produce (the SCORM runtime, the
//! capability engine's recorded sessions): validated exactly like those sent over HTTP, and
//! stored under an authority that names the producer.

use bytes::Bytes;
use serde_json::Value;
use uuid::Uuid;
use xapi::Version;

use crate::statements::{self, Authority};
use crate::storage::{
    DocumentError, DocumentScope, DocumentWrite, InsertError, Precondition, StorageError, Stores,
    TenantId, WriteMode,
};

/// Why a produced statement or document was not stored.
#[derive(Debug, thiserror::Error)]
pub enum ProduceError {
    /// Not valid xAPI: a fault of the producer, never of the learner.
    #[error("statement {index}: {message}")]
    Invalid { index: usize, message: String },
    /// The id is stored with other content.
    #[error("statement {0} already exists with different content")]
    Conflict(Uuid),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Writes as one named part of the server.
#[derive(Clone)]
pub struct Producer {
    stores: Stores,
    authority: Authority,
}

impl Producer {
    /// `name` becomes the account name of the authority, on the LRS's home page.
    pub fn new(stores: Stores, home_page: &str, name: &str) -> Producer {
        Producer {
            stores,
            authority: Authority::for_credential(home_page, name),
        }
    }

    /// Validates (xAPI 1.0.3 rules, which 2.0.0 readers accept too) and stores a batch.
    /// Statements already stored with the same content are accepted again, so a producer may
    /// retry.
    pub async fn record(
        &self,
        tenant: TenantId,
        statements: Vec<Value>,
    ) -> Result<Vec<Uuid>, ProduceError> {
        let version = Version::V1_0_3;
        let mut batch = Vec::with_capacity(statements.len());
        for (index, json) in statements.into_iter().enumerate() {
            let statement =
                xapi::Statement::parse(json, version, &format!("$[{index}]")).map_err(|e| {
                    ProduceError::Invalid {
                        index,
                        message: e.to_string(),
                    }
                })?;
            let mut prepared = statements::prepare_as(statement, version, &self.authority, false);
            xapi::context_activities_as_arrays(&mut prepared.json);
            batch.push(prepared);
        }
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        self.stores
            .statements
            .insert(tenant, batch)
            .await
            .map_err(|e| match e {
                InsertError::Conflict(id) => ProduceError::Conflict(id),
                InsertError::VoidsVoiding { voiding, .. } => ProduceError::Invalid {
                    index: 0,
                    message: format!("statement {voiding} voids a voiding statement"),
                },
                InsertError::Storage(e) => ProduceError::Storage(e),
            })
    }

    /// Replaces a document (State, Activity Profile or Agent Profile).
    pub async fn put_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
        content_type: &str,
        body: Bytes,
    ) -> Result<(), ProduceError> {
        let write = DocumentWrite {
            content_type: content_type.to_owned(),
            body,
            mode: WriteMode::Replace,
            precondition: Precondition::none(),
        };
        match self
            .stores
            .documents
            .put_document(tenant, scope, id, write)
            .await
        {
            Ok(_) => Ok(()),
            Err(DocumentError::Storage(e)) => Err(ProduceError::Storage(e)),
            Err(other) => Err(ProduceError::Invalid {
                index: 0,
                message: other.to_string(),
            }),
        }
    }
}
