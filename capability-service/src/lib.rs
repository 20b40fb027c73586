//! The capability engine as a service: each tenant's model kept in versioned records, a
//! follower that turns the statement stream into the evidence ledger, reports as of any
//! date, and the `/capabilities/` HTTP routes for all of it.
//!
//! Decisions are the pure `capability-engine`'s; this crate does the I/O, and only through
//! the [`ports`] the binary provides. **It never imports `lrs`.**

pub mod admission;
pub mod badges;
mod error;
pub mod follower;
mod http;
pub mod import;
pub mod ledger_store;
pub mod model;
mod pages;
pub mod ports;
pub mod profile;
pub mod recording;
mod report_csv;
pub mod reports;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

pub use error::{ServiceError, ServiceErrorKind};
pub use follower::{LedgerState, SyncReport};
pub use http::router;
pub use ports::{
    AuthFailure, Authority, Batch, Caller, Expect, PortError, Record, Records, StatementSource,
    Tenant,
};
pub use recording::{RecordRequest, StatementSink};

use crate::model::ModelStore;

/// The source of "now", injectable for tests.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The ports the service runs on.
pub struct Ports {
    pub records: Arc<dyn Records>,
    pub source: Arc<dyn StatementSource>,
    pub authority: Arc<dyn Authority>,
}

/// The capability service: cheap to clone, shared by every request and the follower.
#[derive(Clone)]
pub struct CapabilityService {
    inner: Arc<Inner>,
}

struct Inner {
    records: Arc<dyn Records>,
    source: Arc<dyn StatementSource>,
    authority: Arc<dyn Authority>,
    clock: Clock,
    /// Where recorded sessions and assessments are written; without one, recording is
    /// refused.
    sink: Option<Arc<dyn StatementSink>>,
    /// The server's public base URL, naming the issuer of Open Badges credentials.
    public_url: Option<String>,
    /// One catch-up at a time in this process; other servers are kept out by the ledger's
    /// compare-and-set.
    sync: tokio::sync::Mutex<()>,
    /// Each tenant's last built model by the digest of its records: reports read the records
    /// every time (another server may have changed them) but decode and validate them only
    /// when they changed.
    models: std::sync::Mutex<std::collections::HashMap<Tenant, CachedModel>>,
}

/// A built model and the digest of the records it was built from.
type CachedModel = ([u8; 32], Arc<model::Model>);

impl CapabilityService {
    pub fn new(ports: Ports, clock: Clock) -> CapabilityService {
        CapabilityService {
            inner: Arc::new(Inner {
                records: ports.records,
                source: ports.source,
                authority: ports.authority,
                clock,
                sink: None,
                public_url: None,
                sync: tokio::sync::Mutex::new(()),
                models: std::sync::Mutex::default(),
            }),
        }
    }

    /// The same service, writing recorded sessions and assessments to `sink`. Meant for
    /// construction, before the service is shared.
    pub fn with_sink(self, sink: Arc<dyn StatementSink>) -> CapabilityService {
        let inner = &self.inner;
        CapabilityService {
            inner: Arc::new(Inner {
                records: inner.records.clone(),
                source: inner.source.clone(),
                authority: inner.authority.clone(),
                clock: inner.clock.clone(),
                sink: Some(sink),
                public_url: inner.public_url.clone(),
                sync: tokio::sync::Mutex::new(()),
                models: std::sync::Mutex::default(),
            }),
        }
    }

    /// The same service, naming `url` (the server's public base URL) as where its Open Badges
    /// issuers live. Meant for construction, before the service is shared.
    pub fn with_public_url(self, url: &str) -> CapabilityService {
        let inner = &self.inner;
        CapabilityService {
            inner: Arc::new(Inner {
                records: inner.records.clone(),
                source: inner.source.clone(),
                authority: inner.authority.clone(),
                clock: inner.clock.clone(),
                sink: inner.sink.clone(),
                public_url: Some(url.trim_end_matches('/').to_owned()),
                sync: tokio::sync::Mutex::new(()),
                models: std::sync::Mutex::default(),
            }),
        }
    }

    /// The public base URL: as configured, else as the request reached this server.
    pub(crate) fn public_url(&self, headers: &axum::http::HeaderMap) -> String {
        if let Some(url) = &self.inner.public_url {
            return url.clone();
        }
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        format!("http://{host}")
    }

    /// Writes a record's statements to the sink.
    pub async fn record_statements(
        &self,
        tenant: Tenant,
        statements: Vec<serde_json::Value>,
    ) -> Result<(), ServiceError> {
        let Some(sink) = &self.inner.sink else {
            return Err(ServiceError::internal(
                "this server has no statement sink for recorded sessions",
            ));
        };
        Ok(sink.record(tenant, statements).await?)
    }

    /// The tenant's model, built again only when its records changed.
    pub(crate) async fn model(&self, tenant: Tenant) -> Result<Arc<model::Model>, ServiceError> {
        let stored = self.store(tenant).stored().await?;
        let fingerprint = stored.fingerprint();
        let cached = self
            .inner
            .models
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&tenant)
            .filter(|(seen, _)| *seen == fingerprint)
            .map(|(_, model)| model.clone());
        if let Some(model) = cached {
            return Ok(model);
        }
        // Decoding and validating a large model is more than a few hundred microseconds.
        let model = Arc::new(
            tokio::task::spawn_blocking(move || stored.build())
                .await
                .map_err(|e| ServiceError::internal(format!("model task failed: {e}")))??,
        );
        self.inner
            .models
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(tenant, (fingerprint, model.clone()));
        Ok(model)
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.inner.clock)()
    }

    pub(crate) fn authority(&self) -> &dyn Authority {
        self.inner.authority.as_ref()
    }

    pub(crate) fn store(&self, tenant: Tenant) -> ModelStore<'_> {
        ModelStore {
            records: self.inner.records.as_ref(),
            tenant,
        }
    }

    /// One catch-up of a tenant's ledger with its statements.
    pub async fn sync(&self, tenant: Tenant) -> Result<SyncReport, ServiceError> {
        let _one_at_a_time = self.inner.sync.lock().await;
        follower::sync_tenant(
            self.inner.records.as_ref(),
            self.inner.source.as_ref(),
            tenant,
            self.now(),
        )
        .await
    }

    /// One catch-up of every tenant; failures are logged and the next tenant is visited.
    pub async fn sync_all(&self) -> Result<(), ServiceError> {
        for tenant in self.inner.source.tenants().await? {
            if let Err(error) = self.sync(tenant).await {
                tracing::warn!(tenant = tenant.0, %error, "capability catch-up failed");
            }
        }
        Ok(())
    }

    /// Follows every tenant's statements in the background, a catch-up every `every`.
    pub fn spawn_follower(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(error) = service.sync_all().await {
                    tracing::warn!(%error, "capability follower cannot list tenants");
                }
            }
        })
    }
}
