//! The capability service wired into the LRS: records and callers through the shared ports
//! (`ports.rs`), its statement stream read from the LRS's statement store, and the sessions
//! and assessments it records written through an LRS [`Producer`]; and the LRS's check of
//! statements that claim the capability profile ([`ProfileCheck`]).

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use capability_service::{
    Batch, CapabilityService, PortError, Ports, StatementSink, StatementSource, Tenant,
};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use lrs::admission::{Refusal, StatementCheck};
use lrs::auth::Authenticator;
use lrs::producer::{ProduceError, Producer};
use lrs::storage::{StatementQuery, StatementStore, Stores, TenantId, TenantStore};
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
    .with_sink(Arc::new(SinkPort(
        Producer::new(stores.clone(), home_page, PRODUCER_NAME).with_check(Arc::new(ProfileCheck)),
    )))
}

/// Refuses statements that claim the capability profile's version and do not follow its
/// templates and extension schemas (xAPI Profiles Part Three §2.1); others pass untouched.
pub struct ProfileCheck;

impl StatementCheck for ProfileCheck {
    fn check(&self, _tenant: TenantId, statement: &Value) -> Result<(), Refusal> {
        capability_service::admission::admit(statement).map_err(|refused| Refusal {
            path: refused.location,
            rule: refused.rule,
            message: refused.message,
        })
    }
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

/// Where the follower is in a tenant's stream: every statement stored through `through` has
/// been read, and with `position`, those after it up to that exact statement too. Stored times
/// are unique per server, not across servers sharing a cluster, so a page that ends inside one
/// microsecond resumes from the store's exact position rather than from the time.
#[derive(Debug, Clone, PartialEq)]
struct Cursor {
    through: Option<DateTime<Utc>>,
    position: Option<Vec<u8>>,
}

impl Cursor {
    /// `<through>` or `<through>|<position, base64url>`; `through` is empty at the start.
    fn text(&self) -> String {
        let through = self
            .through
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true))
            .unwrap_or_default();
        match &self.position {
            Some(position) => format!("{through}|{}", URL_SAFE_NO_PAD.encode(position)),
            None => through,
        }
    }

    fn parse(text: &str) -> Result<Cursor, PortError> {
        let corrupt = |e: String| PortError::Corrupt(format!("statement cursor {text:?}: {e}"));
        let (through, position) = match text.split_once('|') {
            Some((through, position)) => (
                through,
                Some(
                    URL_SAFE_NO_PAD
                        .decode(position)
                        .map_err(|e| corrupt(e.to_string()))?,
                ),
            ),
            None => (text, None),
        };
        let through = if through.is_empty() {
            None
        } else {
            Some(
                DateTime::parse_from_rfc3339(through)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|e| corrupt(e.to_string()))?,
            )
        };
        Ok(Cursor { through, position })
    }
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
        let from = match cursor.as_deref() {
            Some(text) => Cursor::parse(text)?,
            None => Cursor {
                through: None,
                position: None,
            },
        };
        // Only what is visible for good: a statement stored later never lands at or before
        // this time. The store's promise is "before", so stop one microsecond short.
        let consistent = self
            .statements
            .consistent_through()
            .await
            .map_err(port_error)?;
        let until = consistent - TimeDelta::microseconds(1);
        if from.position.is_none() && from.through.is_some_and(|s| s >= until) {
            return Ok(Batch {
                statements: Vec::new(),
                cursor,
                more: false,
            });
        }
        let query = StatementQuery {
            since: from.through,
            until: Some(until),
            ascending: true,
            limit,
            after: from.position.clone(),
            ..StatementQuery::default()
        };
        let page = self
            .statements
            .query(tenant(t), &query)
            .await
            .map_err(port_error)?;
        let more = page.next.is_some();
        // Without more, every statement through `until` has been seen (the voided ones the
        // query leaves out included), so the cursor moves there; with more, to the exact
        // position of the last one, within the same lower bound.
        let next_cursor = match page.next.clone() {
            Some(position) => Cursor {
                through: from.through,
                position: Some(position),
            },
            None => Cursor {
                through: Some(until),
                position: None,
            },
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
            cursor: Some(next_cursor.text()),
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use lrs::storage::embedded::{EmbeddedOptions, EmbeddedStore};
    use serde_json::json;

    use super::*;

    #[test]
    fn cursors_read_back() {
        let at = DateTime::parse_from_rfc3339("2026-11-24T10:00:00.000001Z")
            .unwrap()
            .with_timezone(&Utc);
        for cursor in [
            Cursor {
                through: None,
                position: None,
            },
            Cursor {
                through: Some(at),
                position: None,
            },
            Cursor {
                through: None,
                position: Some(vec![0, 1, 2, 255]),
            },
            Cursor {
                through: Some(at),
                position: Some(b"|x".to_vec()),
            },
        ] {
            assert_eq!(Cursor::parse(&cursor.text()).unwrap(), cursor);
        }
        // A cursor written as a bare time by earlier versions still reads.
        assert_eq!(
            Cursor::parse("2026-11-24T10:00:00.000001Z")
                .unwrap()
                .through,
            Some(at)
        );
        assert!(Cursor::parse("yesterday").is_err());
        assert!(Cursor::parse("|not base64!").is_err());
    }

    /// Pages that end mid-stream resume from the exact position: every statement once, in
    /// order, and the cursor ends on a time once the stream is read.
    #[tokio::test]
    async fn the_stream_is_read_whole_across_pages() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(
            dir.path(),
            EmbeddedOptions::default(),
            Arc::new(lrs::clock::SystemClock),
        )
        .unwrap();
        let stores = Stores::from_backend(Arc::new(store));
        let t = stores.tenants.create_tenant("acme").await.unwrap();
        let producer = Producer::new(stores.clone(), "http://localhost", "test");
        let statements: Vec<Value> = (0..7)
            .map(|i| {
                json!({
                    "id": uuid::Uuid::from_u128(1000 + i).to_string(),
                    "actor": {"mbox": format!("mailto:p{i}@example.com")},
                    "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                    "object": {"id": format!("https://example.com/a/{i}")},
                })
            })
            .collect();
        // Two batches, so the stream is not one insert.
        producer
            .record(t.id, statements[..3].to_vec())
            .await
            .unwrap();
        producer
            .record(t.id, statements[3..].to_vec())
            .await
            .unwrap();
        let source = SourcePort {
            statements: stores.statements.clone(),
            tenants: stores.tenants.clone(),
        };
        let mut seen = Vec::new();
        let mut cursor = None;
        let mut positions = 0;
        // consistent_through trails "now" by the store's margin; wait for it to pass.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        loop {
            let batch = source
                .after(Tenant(t.id.0), cursor.clone(), 2)
                .await
                .unwrap();
            seen.extend(
                batch
                    .statements
                    .iter()
                    .map(|s| s["id"].as_str().unwrap().to_owned()),
            );
            cursor = batch.cursor;
            if !batch.more {
                break;
            }
            positions += usize::from(cursor.as_deref().is_some_and(|c| c.contains('|')));
        }
        let expected: Vec<String> = statements
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(seen, expected);
        assert_eq!(
            positions, 3,
            "pages of 2 out of 7 end mid-stream three times"
        );
        let last = Cursor::parse(cursor.as_deref().unwrap()).unwrap();
        assert!(last.position.is_none() && last.through.is_some());
        let again = source.after(Tenant(t.id.0), cursor, 2).await.unwrap();
        assert!(again.statements.is_empty() && !again.more);
    }
}
