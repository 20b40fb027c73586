//! The capability service wired into the LRS: records and callers through the shared ports
//! (`ports.rs`), its statement stream read from the LRS's statement store, and the sessions
//! and assessments it records written through an LRS [`Producer`].

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use capability_service::{
    Batch, CapabilityService, PortError, Ports, StatementSink, StatementSource, Tenant,
};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use lrs::auth::Authenticator;
use lrs::producer::{ProduceError, Producer};
use lrs::storage::{StatementQuery, StatementStore, Stores, TenantStore};
use serde_json::Value;

use crate::ports::{AuthorityPort, RecordsPort, port_error, tenant};

/// The account name of the authority on statements the capability service records.
pub const PRODUCER_NAME: &str = "capability-service";

/// Builds the capability service over the LRS's stores and credentials.
///
/// Recorded statements carry an authority account on the capability profile's IRI: the
/// server's configured home page is not handed to this function.
pub fn service(
    stores: &Stores,
    authenticator: Arc<Authenticator>,
    home_page: &str,
) -> CapabilityService {
    CapabilityService::new(
        Ports {
            records: Arc::new(RecordsPort(stores.records.clone())),
            source: Arc::new(SourcePort {
                statements: stores.statements.clone(),
                tenants: stores.tenants.clone(),
            }),
            authority: Arc::new(AuthorityPort(authenticator)),
        },
        Arc::new(Utc::now),
    )
    .with_sink(Arc::new(SinkPort(Producer::new(
        stores.clone(),
        home_page,
        PRODUCER_NAME,
    ))))
}

/// Recorded sessions and assessments, validated and stored like any client's statements.
struct SinkPort(Producer);

#[async_trait]
impl StatementSink for SinkPort {
    async fn record(&self, t: Tenant, statements: Vec<Value>) -> Result<(), PortError> {
        self.0
            .record(tenant(t), statements)
            .await
            .map(|_| ())
            .map_err(|error| match error {
                ProduceError::Storage(e) => port_error(e),
                other => PortError::Refused(other.to_string()),
            })
    }
}

struct SourcePort {
    statements: Arc<dyn StatementStore>,
    tenants: Arc<dyn TenantStore>,
}

fn cursor_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn cursor_time(text: &str) -> Result<DateTime<Utc>, PortError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| PortError::Corrupt(format!("statement cursor {text:?}: {e}")))
}

fn statement_json(json: &Bytes) -> Result<Value, PortError> {
    serde_json::from_slice(json)
        .map_err(|e| PortError::Corrupt(format!("stored statement is not JSON: {e}")))
}

#[async_trait]
impl StatementSource for SourcePort {
    async fn after(
        &self,
        t: Tenant,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Batch, PortError> {
        let since = cursor.as_deref().map(cursor_time).transpose()?;
        // Only what is visible for good: a statement stored later never lands at or before
        // this time. The store's promise is "before", so stop one microsecond short.
        let consistent = self
            .statements
            .consistent_through()
            .await
            .map_err(port_error)?;
        let until = consistent - TimeDelta::microseconds(1);
        if since.is_some_and(|s| s >= until) {
            return Ok(Batch {
                statements: Vec::new(),
                cursor,
                more: false,
            });
        }
        let query = StatementQuery {
            since,
            until: Some(until),
            ascending: true,
            limit,
            ..StatementQuery::default()
        };
        let page = self
            .statements
            .query(tenant(t), &query)
            .await
            .map_err(port_error)?;
        let more = page.next.is_some();
        // Without more, every statement through `until` has been seen (the voided ones the
        // query leaves out included), so the cursor moves there; with more, to the last one.
        let next_cursor = match (more, page.statements.last()) {
            (true, Some(last)) => last.stored,
            _ => until,
        };
        let mut statements = Vec::with_capacity(page.statements.len());
        for stored in &page.statements {
            let json = statement_json(&stored.json)?;
            if stored.voiding {
                // The query leaves voided statements out (xAPI Communication §2.1.4); the
                // ledger records their evidence as retracted, so the target is read by id
                // and put before the statement that voids it.
                if let Some(target) = voided_target(&json).and_then(|id| id.parse().ok()) {
                    let found = self
                        .statements
                        .get(tenant(t), target)
                        .await
                        .map_err(port_error)?;
                    if let Some(found) = found {
                        statements.push(statement_json(&found.json)?);
                    }
                }
            }
            statements.push(json);
        }
        Ok(Batch {
            statements,
            cursor: Some(cursor_text(next_cursor)),
            more,
        })
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, PortError> {
        let tenants = self.tenants.list_tenants().await.map_err(port_error)?;
        Ok(tenants.into_iter().map(|t| Tenant(t.id.0)).collect())
    }
}

/// The statement a voiding statement voids (xAPI Data §2.3.2: verb `voided`, object a
/// StatementRef).
fn voided_target(statement: &Value) -> Option<&str> {
    let object = statement.get("object")?;
    if object.get("objectType")?.as_str()? != "StatementRef" {
        return None;
    }
    object.get("id")?.as_str()
}
