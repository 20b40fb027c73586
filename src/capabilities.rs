//! The capability service wired into the LRS: its records kept in the LRS's record store,
//! its statement stream read from the LRS's statement store, its callers checked by the
//! LRS's credentials.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use capability_service::{
    AuthFailure, Authority, Batch, Caller, CapabilityService, Expect, PortError, Ports, Record,
    Records, StatementSource, Tenant,
};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use lrs::auth::{Authenticator, StatementRead};
use lrs::storage::{
    RecordKey, RecordStore, StatementQuery, StatementStore, StorageError, StorageErrorKind, Stores,
    TenantId, TenantStore,
};
use serde_json::Value;

/// Builds the capability service over the LRS's stores and credentials.
pub fn service(stores: &Stores, authenticator: Arc<Authenticator>) -> CapabilityService {
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

fn record(found: lrs::storage::Record) -> Record {
    Record {
        version: found.version,
        value: found.value,
    }
}

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
        Ok(found.map(record))
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
        Ok(found.into_iter().map(|(id, r)| (id, record(r))).collect())
    }
}

/// The statement stream of a tenant. The cursor is the `stored` time (RFC 3339, in
/// microseconds, the store's resolution) through which statements have been read.
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
                // Reports are about everyone's evidence: reading them takes reading every
                // statement, not only one's own.
                read: principal.admin || principal.statement_read() == StatementRead::All,
            }),
        }
    }
}
