//! The capability engine as a service: each tenant's model kept in versioned records, a
//! follower that turns the statement stream into the evidence ledger, reports as of any
//! date, and the `/capabilities/` HTTP routes for all of it.
//!
//! Decisions are the pure `capability-engine`'s; this crate does the I/O, and only through
//! the [`ports`] the binary provides. **It never imports `lrs`.**

mod error;
pub mod follower;
mod http;
pub mod model;
pub mod ports;
pub mod profile;
pub mod recording;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use capability_engine::{
    Assessment, Evaluator, GapReport, Heatmap, Ledger, PersonKey, Reports, RoleId, RuleSet, Team,
};
use chrono::{DateTime, Utc};

pub use error::{ServiceError, ServiceErrorKind};
pub use follower::{LedgerState, SyncReport};
pub use http::router;
pub use ports::{
    AuthFailure, Authority, Batch, Caller, Expect, PortError, Record, Records, StatementSource,
    Tenant,
};
pub use recording::{RecordRequest, StatementSink};

use crate::model::{Model, ModelStore};

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
    /// One catch-up at a time in this process; other servers are kept out by the ledger's
    /// compare-and-set.
    sync: tokio::sync::Mutex<()>,
}

impl CapabilityService {
    pub fn new(ports: Ports, clock: Clock) -> CapabilityService {
        CapabilityService {
            inner: Arc::new(Inner {
                records: ports.records,
                source: ports.source,
                authority: ports.authority,
                clock,
                sink: None,
                sync: tokio::sync::Mutex::new(()),
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
                sync: tokio::sync::Mutex::new(()),
            }),
        }
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

    /// The model and the ledger as last persisted by the follower.
    async fn snapshot(&self, tenant: Tenant) -> Result<(Model, Ledger), ServiceError> {
        let model = self.store(tenant).model().await?;
        let key = model.derivation_key();
        let ledger = match follower::load_state(self.inner.records.as_ref(), tenant).await? {
            // A ledger derived from other rules is not shown; the follower derives anew.
            Some((state, _)) if Some(&state.derived_from) == key.as_ref() => state.ledger,
            _ => Ledger::new(model.rules.as_ref().unwrap_or(&empty_rules(&model)?)),
        };
        Ok((model, ledger))
    }

    /// Every capability `person` has evidence for, assessed as of `as_of`.
    pub async fn assessments(
        &self,
        tenant: Tenant,
        person: &PersonKey,
        as_of: DateTime<Utc>,
    ) -> Result<Vec<Assessment>, ServiceError> {
        let (model, ledger) = self.snapshot(tenant).await?;
        let evaluator = Evaluator::new(&model.catalog, &model.config, &ledger);
        let mut out = Vec::new();
        for capability in ledger.capabilities_of(person) {
            if model.catalog.capability(capability).is_err() {
                continue;
            }
            out.push(
                evaluator
                    .assess(person, capability, as_of)
                    .map_err(|e| ServiceError::engine(e, ""))?,
            );
        }
        Ok(out)
    }

    pub async fn gap(
        &self,
        tenant: Tenant,
        role: &RoleId,
        person: &PersonKey,
        as_of: DateTime<Utc>,
    ) -> Result<GapReport, ServiceError> {
        let (model, ledger) = self.snapshot(tenant).await?;
        let reports = Reports::new(
            Evaluator::new(&model.catalog, &model.config, &ledger),
            &model.roles,
            &model.assignments,
        );
        model
            .roles
            .get(role)
            .map_err(|_| ServiceError::not_found("role"))?;
        reports
            .gap_report(person, role, as_of)
            .map_err(|e| ServiceError::engine(e, ""))
    }

    pub async fn heatmap(
        &self,
        tenant: Tenant,
        role: &RoleId,
        as_of: DateTime<Utc>,
    ) -> Result<Heatmap, ServiceError> {
        let (model, ledger) = self.snapshot(tenant).await?;
        model
            .roles
            .get(role)
            .map_err(|_| ServiceError::not_found("role"))?;
        let reports = Reports::new(
            Evaluator::new(&model.catalog, &model.config, &ledger),
            &model.roles,
            &model.assignments,
        );
        reports
            .heatmap(&Team::Role { role: role.clone() }, as_of)
            .map_err(|e| ServiceError::engine(e, ""))
    }
}

fn empty_rules(model: &Model) -> Result<RuleSet, ServiceError> {
    RuleSet::new(Vec::new(), &model.catalog).map_err(|e| ServiceError::engine(e, "rules"))
}
