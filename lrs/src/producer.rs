//! Statements and documents that other parts of the server produce (the SCORM runtime, the
//! capability engine's recorded sessions): validated exactly like those sent over HTTP, and
//! stored under an authority that names the producer, and passed through the server's
//! [`StatementCheck`] when it has one.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;
use uuid::Uuid;
use xapi::Version;

use crate::admission::{self, StatementCheck};
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
    check: Option<Arc<dyn StatementCheck>>,
}

impl Producer {
    /// `name` becomes the account name of the authority, on the LRS's home page.
    pub fn new(stores: Stores, home_page: &str, name: &str) -> Producer {
        Producer {
            stores,
            authority: Authority::for_credential(home_page, name),
            check: None,
        }
    }

    /// The same producer, passing its statements through `check` before storing them, as
    /// the Statement Resource does.
    pub fn with_check(mut self, check: Arc<dyn StatementCheck>) -> Producer {
        self.check = Some(check);
        self
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
        if let Some(check) = &self.check {
            admission::check_all(
                check.as_ref(),
                tenant,
                batch.iter_mut().map(|s| &mut s.json),
            )
            .map_err(|(index, refusal)| ProduceError::Invalid {
                index,
                message: format!(
                    "{}: {} ({})",
                    admission::path_in_body(&refusal, index, true),
                    refusal.message,
                    refusal.rule
                ),
            })?;
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::admission::Refusal;
    use crate::clock::SystemClock;
    use crate::storage::embedded::{EmbeddedOptions, EmbeddedStore};

    /// Refuses statements whose object is `…/refused`.
    struct RefuseObject;

    impl StatementCheck for RefuseObject {
        fn check(&self, _: TenantId, statement: &Value) -> Result<(), Refusal> {
            match statement.pointer("/object/id").and_then(Value::as_str) {
                Some(id) if id.ends_with("/refused") => Err(Refusal {
                    path: "$.object.id".to_owned(),
                    rule: "no-refused-object",
                    message: "this object is refused".to_owned(),
                }),
                _ => Ok(()),
            }
        }
    }

    fn statement(object: &str) -> Value {
        json!({
            "id": Uuid::new_v4().to_string(),
            "actor": {"mbox": "mailto:ana@acme.example"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
            "object": {"id": format!("https://acme.example/{object}")}
        })
    }

    #[tokio::test]
    async fn a_refused_statement_keeps_its_whole_batch_out() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = EmbeddedStore::open(
            dir.path(),
            EmbeddedOptions::default(),
            Arc::new(SystemClock),
        )
        .expect("open");
        let stores = Stores::from_backend(Arc::new(store));
        let producer = Producer::new(stores.clone(), "https://lrs.example", "test")
            .with_check(Arc::new(RefuseObject));
        let tenant = TenantId(1);
        let kept = statement("kept");
        let kept_id: Uuid = kept["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("id");
        let error = producer
            .record(tenant, vec![kept.clone(), statement("refused")])
            .await
            .expect_err("refused");
        let ProduceError::Invalid { index, message } = error else {
            panic!("not a refusal: {error}");
        };
        assert_eq!(index, 1);
        assert_eq!(
            message,
            "$[1].object.id: this object is refused (no-refused-object)"
        );
        let found = stores.statements.get(tenant, kept_id).await.expect("get");
        assert!(found.is_none(), "nothing of the batch is stored");
        let ids = producer.record(tenant, vec![kept]).await.expect("stored");
        assert_eq!(ids, vec![kept_id]);
    }
}
