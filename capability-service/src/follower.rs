//! The follower: reads each tenant's statements after its cursor, matches them against the
//! rules and merges the evidence into each person's ledger record, then advances the cursor
//! (record layout in [`crate::ledger_store`]).
//!
//! Guarantees:
//! - **No statement is skipped**: the source only returns statements up to the store's
//!   consistent-through point, and the cursor moves only past what was written.
//! - **No statement counts twice**: a batch is merged into every touched person's record with
//!   compare-and-set, then the cursor record is advanced with compare-and-set. Of two servers
//!   following one tenant only one cursor write of a batch lands; the other stops. A crash
//!   between the person writes and the cursor write replays the batch, and the ledger is two
//!   grow-only sets keyed by statement and rule, so replaying changes nothing.
//! - **Rule changes re-derive**: a generation records what it was derived from (rules and
//!   catalog). When they change a new generation, in records of its own, is derived from the
//!   first statement while reports keep reading the old one; the cursor record switches to
//!   the new generation in the write that records it caught up.

use std::collections::BTreeMap;

use capability_engine::{Derivation, Ledger, StoredStatement, match_statement};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ServiceError;
use crate::ledger_store::{Generation, Indexed, LedgerCursor, LedgerStore, Retired, by_person};
use crate::model::{GROUP, KIND_MODEL, Model, ModelStore};
use crate::ports::{Records, StatementSource, Tenant};

pub use crate::ledger_store::KIND_LEDGER;

/// Statements read per batch; the cursor is written once per batch.
pub const BATCH: usize = 500;

/// How long a retired generation's records are kept: longer than any report takes, so one
/// that read the cursor just before the switch still finds its generation whole.
pub const RETIRED_GRACE: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// Records of retired generations deleted per catch-up at most, so a catch-up stays short.
pub const DELETE_BUDGET: usize = 5_000;

/// The whole ledger of the generation reports read, with its position in the stream.
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
    /// Whether this run derived a new generation because rules or catalog changed.
    pub rederived: bool,
    pub statements: usize,
    pub evidence_added: usize,
    pub retractions: usize,
    /// Statements the engine could not read (logged and passed over).
    pub unreadable: usize,
    /// Whether another server wrote first (this run stopped; the next resumes).
    pub contended: bool,
    pub cursor: Option<String>,
    /// Evidence items in the generation worked on, retracted or not (see
    /// [`Generation::items`]).
    pub ledger_items: usize,
    /// Records of retired generations deleted by this run.
    pub retired_records_deleted: usize,
    /// Retired generations whose records are not all deleted yet.
    pub retired_generations: usize,
}

/// Reads the whole ledger of the generation reports read, and the cursor record's version.
/// Every person's record is read: for exports and checks; reports read only their people.
pub async fn load_state(
    records: &dyn Records,
    tenant: Tenant,
) -> Result<Option<(LedgerState, u64)>, ServiceError> {
    let store = LedgerStore { records, tenant };
    let Some((cursor, version)) = store.cursor().await? else {
        return Ok(None);
    };
    let Some(generation) = cursor.serving else {
        return Ok(None);
    };
    let model = ModelStore { records, tenant }.model().await?;
    let rules = crate::reports::rules_or_none(&model)?;
    let ledger = store.whole_ledger(&generation, &rules).await?;
    Ok(Some((
        LedgerState {
            derived_from: generation.derived_from,
            cursor: generation.cursor,
            statements: generation.statements,
            ledger,
        },
        version,
    )))
}

/// One catch-up of one tenant, batch after batch until the source has no more.
pub async fn sync_tenant(
    records: &dyn Records,
    source: &dyn StatementSource,
    tenant: Tenant,
    now: DateTime<Utc>,
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
    let store = LedgerStore { records, tenant };
    let (mut cursor, mut version) = match store.cursor().await? {
        Some((cursor, version)) => (cursor, Some(version)),
        None => (LedgerCursor::default(), None),
    };
    let mut dirty = false;
    let serving_current = cursor.serving.as_ref().is_some_and(|g| g.is_current(&key));
    let building_current = cursor.building.as_ref().is_some_and(|g| g.is_current(&key));
    if serving_current {
        // The model went back to what is served: a build for the other one is dropped.
        if let Some(dropped) = cursor.building.take() {
            retire(&mut cursor, dropped, now);
            dirty = true;
        }
    } else if !building_current {
        if let Some(dropped) = cursor.building.take() {
            retire(&mut cursor, dropped, now);
        }
        cursor.building = Some(Generation::new(cursor.generations, key, rules));
        cursor.generations += 1;
        dirty = true;
    }
    report.rederived = cursor.building.is_some() && cursor.serving.is_some();
    let mut indexed = Indexed::default();
    loop {
        let building = cursor.building.is_some();
        let Some(generation) = cursor.building.as_mut().or(cursor.serving.as_mut()) else {
            return Err(ServiceError::internal(
                "the ledger cursor has no generation",
            ));
        };
        let batch = source
            .after(tenant, generation.cursor.clone(), BATCH)
            .await?;
        let Some(added) = apply_batch(
            &store,
            generation,
            &batch.statements,
            &model,
            rules,
            &mut report,
            &mut indexed,
        )
        .await?
        else {
            report.contended = true;
            break;
        };
        // A new generation replaces the served one in the write that records it caught up.
        let promote = building && !batch.more;
        if batch.statements.is_empty() && !dirty && !promote {
            break;
        }
        generation.cursor = batch.cursor;
        generation.statements += batch.statements.len() as u64;
        generation.items += added as u64;
        if promote {
            if let Some(replaced) = cursor.serving.take() {
                retire(&mut cursor, replaced, now);
            }
            cursor.serving = cursor.building.take();
        }
        let Some(new_version) = store.put_cursor(&cursor, version).await? else {
            report.contended = true;
            break;
        };
        version = Some(new_version);
        dirty = false;
        if !batch.more {
            break;
        }
    }
    let worked_on = cursor.building.as_ref().or(cursor.serving.as_ref());
    report.cursor = worked_on.and_then(|g| g.cursor.clone());
    report.ledger_items = worked_on.map_or(0, |g| g.items as usize);
    if !report.contended {
        delete_retired(&store, &mut cursor, version, now, &mut report).await?;
    }
    report.retired_generations = cursor.retired.len();
    Ok(report)
}

fn retire(cursor: &mut LedgerCursor, generation: Generation, now: DateTime<Utc>) {
    cursor.retired.push(Retired {
        generation,
        at: now,
    });
}

/// Deletes the records of generations retired more than [`RETIRED_GRACE`] ago, within
/// [`DELETE_BUDGET`], and forgets the ones found empty.
async fn delete_retired(
    store: &LedgerStore<'_>,
    cursor: &mut LedgerCursor,
    version: Option<u64>,
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<(), ServiceError> {
    let mut emptied = Vec::new();
    let mut budget = DELETE_BUDGET;
    for retired in &cursor.retired {
        if retired.at + RETIRED_GRACE > now || budget == 0 {
            continue;
        }
        let (spent, done) = store.delete_generation(&retired.generation, budget).await?;
        budget = budget.saturating_sub(spent);
        report.retired_records_deleted += spent;
        if done {
            emptied.push(retired.generation.number);
        }
    }
    if emptied.is_empty() {
        return Ok(());
    }
    cursor
        .retired
        .retain(|r| !emptied.contains(&r.generation.number));
    // Lost to another writer: the next run finds the generation empty and forgets it then.
    store.put_cursor(cursor, version).await?;
    Ok(())
}

/// Matches a batch and adds it to the evidence and retraction records: the evidence items
/// new to the records, or `None` when another writer kept a retraction from this run.
async fn apply_batch(
    store: &LedgerStore<'_>,
    generation: &Generation,
    statements: &[Value],
    model: &Model,
    rules: &capability_engine::RuleSet,
    report: &mut SyncReport,
    indexed: &mut Indexed,
) -> Result<Option<usize>, ServiceError> {
    let mut people = BTreeMap::new();
    let mut retractions = Vec::new();
    for value in statements {
        report.statements += 1;
        let Some(statement) = parse(value, report) else {
            continue;
        };
        match match_statement(&statement, rules, &model.catalog) {
            Derivation::Evidence { items, .. } => by_person(items, &mut people),
            Derivation::Retraction(retraction) => retractions.push(retraction),
        }
    }
    let mut added = 0;
    for (person, items) in &people {
        added += store
            .add_evidence(generation, person, items, indexed)
            .await?;
    }
    for retraction in &retractions {
        match store.merge_retraction(generation, retraction).await? {
            Some(new) => report.retractions += usize::from(new),
            None => return Ok(None),
        }
    }
    report.evidence_added += added;
    Ok(Some(added))
}

fn parse(value: &Value, report: &mut SyncReport) -> Option<StoredStatement> {
    let parsed = match value {
        Value::Object(map) => StoredStatement::parse(map.clone()),
        _ => Err(capability_engine::Error::invalid(
            "statement",
            "stored-statement",
            "a statement is a JSON object",
        )),
    };
    match parsed {
        Ok(statement) => Some(statement),
        Err(error) => {
            tracing::warn!(%error, "statement passed over by the capability follower");
            report.unreadable += 1;
            None
        }
    }
}
