//! The follower: reads each tenant's statements after its cursor, matches them against the
//! rules and applies them to the tenant's evidence ledger, persisting ledger and cursor
//! together with a compare-and-set.
//!
//! Guarantees:
//! - **No statement is skipped**: the source only returns statements up to the store's
//!   consistent-through point, and the cursor moves only past what was applied.
//! - **No statement counts twice**: ledger and cursor are one record written with
//!   compare-and-set, so of two servers following one tenant only one write of a batch
//!   lands; the other reloads. A crash between reading and writing replays the batch, and
//!   the ledger is idempotent (two grow-only sets), so replaying changes nothing.
//! - **Rule changes re-derive**: the ledger records what it was derived from (rules and
//!   catalog); when they change, the next run starts a new ledger from the first statement.

use bytes::Bytes;
use capability_engine::{Ledger, StoredStatement};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ServiceError;
use crate::model::{GROUP, KIND_MODEL, Model, ModelStore};
use crate::ports::{Expect, Records, StatementSource, Tenant};

pub const KIND_LEDGER: &str = "capability-ledger";
const ID_LEDGER: &str = "ledger";

/// Statements read per batch; the ledger is written once per batch.
pub const BATCH: usize = 500;

/// The ledger of a tenant with the position of the follower in the statement stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LedgerState {
    /// [`Model::derivation_key`] of the model the ledger was derived with.
    pub derived_from: String,
    pub cursor: Option<String>,
    /// Statements read into this ledger (including unreadable and unmatched ones).
    pub statements: u64,
    pub ledger: Ledger,
}

/// What one catch-up did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Whether the tenant has rules (without them nothing is followed).
    pub following: bool,
    /// Whether the ledger was started again because rules or catalog changed.
    pub rederived: bool,
    pub statements: usize,
    pub evidence_added: usize,
    pub retractions: usize,
    /// Statements the engine could not read (logged and passed over).
    pub unreadable: usize,
    /// Whether another server wrote the ledger first (this run stopped; the next resumes).
    pub contended: bool,
    pub cursor: Option<String>,
    /// Evidence items in the ledger, retracted or not.
    pub ledger_items: usize,
}

/// Reads the ledger record: the state and its version.
pub async fn load_state(
    records: &dyn Records,
    tenant: Tenant,
) -> Result<Option<(LedgerState, u64)>, ServiceError> {
    let Some(record) = records.get(tenant, KIND_LEDGER, GROUP, ID_LEDGER).await? else {
        return Ok(None);
    };
    let state: LedgerState = serde_json::from_slice(&record.value)
        .map_err(|e| ServiceError::internal(format!("stored ledger is unreadable: {e}")))?;
    Ok(Some((state, record.version)))
}

/// One catch-up of one tenant, batch after batch until the source has no more.
pub async fn sync_tenant(
    records: &dyn Records,
    source: &dyn StatementSource,
    tenant: Tenant,
) -> Result<SyncReport, ServiceError> {
    // Most tenants have no rules: one record read, and nothing more, for them.
    let rules_record = records
        .get(tenant, KIND_MODEL, GROUP, crate::model::rules_id())
        .await?;
    if rules_record.is_none() {
        return Ok(SyncReport::default());
    }
    let model = ModelStore { records, tenant }.model().await?;
    let (Some(rules), Some(key)) = (model.rules.as_ref(), model.derivation_key()) else {
        return Ok(SyncReport::default());
    };
    let mut report = SyncReport {
        following: true,
        ..SyncReport::default()
    };
    let (mut state, mut version, mut dirty) = match load_state(records, tenant).await? {
        Some((state, version)) if state.derived_from == key => (state, Some(version), false),
        found => {
            report.rederived = found.is_some();
            let fresh = LedgerState {
                derived_from: key,
                cursor: None,
                statements: 0,
                ledger: Ledger::new(rules),
            };
            (fresh, found.map(|(_, v)| v), true)
        }
    };
    loop {
        let batch = source.after(tenant, state.cursor.clone(), BATCH).await?;
        for value in batch.statements.iter() {
            apply(&mut state, value, &model, &mut report);
        }
        if batch.statements.is_empty() && !dirty {
            break;
        }
        state.cursor = batch.cursor;
        let written = write_state(records, tenant, &state, version).await?;
        let Some(new_version) = written else {
            report.contended = true;
            break;
        };
        version = Some(new_version);
        dirty = false;
        if !batch.more {
            break;
        }
    }
    report.cursor = state.cursor.clone();
    report.ledger_items = state.ledger.len();
    Ok(report)
}

fn apply(state: &mut LedgerState, value: &Value, model: &Model, report: &mut SyncReport) {
    report.statements += 1;
    state.statements += 1;
    let Some(rules) = model.rules.as_ref() else {
        return;
    };
    let parsed = match value {
        Value::Object(map) => StoredStatement::parse(map.clone()),
        _ => Err(capability_engine::Error::invalid(
            "statement",
            "stored-statement",
            "a statement is a JSON object",
        )),
    };
    let statement = match parsed {
        Ok(statement) => statement,
        Err(error) => {
            tracing::warn!(%error, "statement passed over by the capability follower");
            report.unreadable += 1;
            return;
        }
    };
    match state.ledger.ingest(&statement, rules, &model.catalog) {
        Ok(applied) => {
            report.evidence_added += applied.added;
            report.retractions += usize::from(applied.retracted);
        }
        // The ledger was derived from these very rules, so versions agree; should they not,
        // the statement is reported rather than the run stopped.
        Err(error) => {
            tracing::warn!(%error, statement = %statement.id(), "evidence refused by the ledger");
            report.unreadable += 1;
        }
    }
}

async fn write_state(
    records: &dyn Records,
    tenant: Tenant,
    state: &LedgerState,
    version: Option<u64>,
) -> Result<Option<u64>, ServiceError> {
    let bytes = serde_json::to_vec(state)
        .map_err(|e| ServiceError::internal(format!("encoding the ledger: {e}")))?;
    let expect = version.map_or(Expect::Absent, Expect::Version);
    Ok(records
        .put(
            tenant,
            KIND_LEDGER,
            GROUP,
            ID_LEDGER,
            Bytes::from(bytes),
            expect,
        )
        .await?)
}
