//! The evidence ledger of a tenant in records that stay small however large the tenant grows:
//! a cursor record per tenant, one record per evidence item, one record per retraction.
//!
//! Layout (kind, group, id), `P` a generation's prefix `g<number>-<derivation key[..16]>`:
//! - [`KIND_LEDGER`], [`GROUP`], `cursor`: the [`LedgerCursor`] — the generation served to
//!   reports, the generation being derived after a model change, and their stream positions.
//! - [`KIND_EVIDENCE`], `P-p-<person hash>`, `<statement id>-<hash of capability and rule>`:
//!   one [`Evidence`] item, written once and never rewritten. A partition per person, so
//!   reading one person reads only that person's items, and a sync writes only what is new:
//!   the cost of a statement does not grow with the evidence its person already has.
//! - [`KIND_PEOPLE`], `P-people-<2 hex of the person hash>`, `<person hash>`: the person key,
//!   an index of everyone with evidence (for whole-ledger reads), 256 partitions.
//! - [`KIND_RETRACTION`], `P-r-<2 hex of the statement id>`, `<voided statement id>`: the
//!   [`Retraction`] of a voided statement (xAPI Data §2.3.2), 256 partitions.
//!
//! Every write is a compare-and-set. The engine's ledger is two grow-only sets, so a write
//! retried after losing a race, or replayed after a crash, changes nothing already there.
//!
//! Generations of the first layout ([`Generation::layout`] 1) kept each person's whole ledger
//! in one record (id `evidence`), rewritten by every sync that added to it. They are still
//! read, and the follower derives a generation of the current layout to replace them.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use bytes::Bytes;
use capability_engine::{Derivation, Evidence, Ledger, PersonKey, Retraction, RuleId, RuleSet};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::error::ServiceError;
use crate::model::GROUP;
use crate::ports::{Expect, Records, Tenant};

/// The cursor record's kind.
pub const KIND_LEDGER: &str = "capability-ledger";
pub const KIND_EVIDENCE: &str = "capability-evidence";
pub const KIND_PEOPLE: &str = "capability-people";
pub const KIND_RETRACTION: &str = "capability-retraction";
pub const ID_CURSOR: &str = "cursor";
/// The id of a person's whole-ledger record in generations of the first layout.
const ID_FIRST_LAYOUT: &str = "evidence";

/// The layout of the generations derived now: one record per evidence item.
pub const LAYOUT: u32 = 2;

/// Records read per `list` call.
const PAGE: usize = 200;
/// Compare-and-set attempts on one record before the run gives way to the other writer.
const ATTEMPTS: usize = 8;

/// Where the follower is: the generation reports read, and the one being derived.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LedgerCursor {
    /// The generation reports read; `None` until a first one has caught up.
    pub serving: Option<Generation>,
    /// A generation being derived from the start of the stream after the rules or the catalog
    /// changed; it replaces `serving` in the same write that records it caught up.
    pub building: Option<Generation>,
    /// Generations started so far: the next one's number.
    pub generations: u64,
    /// Generations no longer served or built, whose records are deleted once no report
    /// started before their retirement can still be reading them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired: Vec<Retired>,
}

/// A generation taken out of service, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Retired {
    pub generation: Generation,
    pub at: DateTime<Utc>,
}

/// One derivation of the ledger, from one set of rules and one catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    pub number: u64,
    /// [`crate::model::Model::derivation_key`] of the model it is derived with.
    pub derived_from: String,
    /// The stream position through which statements are applied.
    pub cursor: Option<String>,
    /// Statements read into it (including unreadable and unmatched ones).
    pub statements: u64,
    /// Evidence items added by runs whose cursor write landed. A run that stopped between
    /// its people and its cursor writes leaves items that its replay finds already there, so
    /// after such a crash this can be lower than the records hold.
    pub items: u64,
    /// How its records are laid out (module documentation); 1 for generations stored before
    /// the field was.
    #[serde(default = "first_layout")]
    pub layout: u32,
    /// The version of each rule it is derived with (from layout 2; the first layout kept them
    /// in every person's record).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rules: BTreeMap<RuleId, u32>,
}

fn first_layout() -> u32 {
    1
}

/// The evidence about one person in a generation of the first layout.
#[derive(Debug, Clone, Deserialize)]
struct FirstLayoutRecord {
    /// Only this person's evidence; retractions live in their own records.
    ledger: Ledger,
}

impl Generation {
    /// A generation of the current layout, derived with `rules` under `derived_from`.
    pub fn new(number: u64, derived_from: String, rules: &RuleSet) -> Generation {
        Generation {
            number,
            derived_from,
            cursor: None,
            statements: 0,
            items: 0,
            layout: LAYOUT,
            rules: rules.versions(),
        }
    }

    /// Whether it was derived under `derived_from` in the current layout: if not, the
    /// follower derives a new one.
    pub fn is_current(&self, derived_from: &str) -> bool {
        self.derived_from == derived_from && self.layout == LAYOUT
    }

    /// The prefix of this generation's record groups: a new generation never shares a
    /// record with an earlier one, even one another server started with another model.
    pub fn prefix(&self) -> String {
        let key: String = self.derived_from.chars().take(16).collect();
        format!("g{}-{key}", self.number)
    }
}

/// The typed record access of the ledger.
pub struct LedgerStore<'a> {
    pub records: &'a dyn Records,
    pub tenant: Tenant,
}

impl LedgerStore<'_> {
    pub async fn cursor(&self) -> Result<Option<(LedgerCursor, u64)>, ServiceError> {
        let found = self
            .records
            .get(self.tenant, KIND_LEDGER, GROUP, ID_CURSOR)
            .await?;
        match found {
            None => Ok(None),
            Some(record) => Ok(Some((
                decode(&record.value, "ledger cursor")?,
                record.version,
            ))),
        }
    }

    /// Writes the cursor if it is still at `version`; the new version, `None` when another
    /// writer got there first.
    pub async fn put_cursor(
        &self,
        cursor: &LedgerCursor,
        version: Option<u64>,
    ) -> Result<Option<u64>, ServiceError> {
        let expect = version.map_or(Expect::Absent, Expect::Version);
        Ok(self
            .records
            .put(
                self.tenant,
                KIND_LEDGER,
                GROUP,
                ID_CURSOR,
                encode(cursor)?,
                expect,
            )
            .await?)
    }

    /// Adds `items` (all about `person`) to `generation`, one record each: how many were new.
    /// An item already stored, by a replay or by another server, is left as it is. `indexed`
    /// holds the people this run has already seen indexed in `generation`.
    pub async fn add_evidence(
        &self,
        generation: &Generation,
        person: &PersonKey,
        items: &[Evidence],
        indexed: &mut Indexed,
    ) -> Result<usize, ServiceError> {
        let prefix = generation.prefix();
        let hash = person_hash(person);
        // Indexed before the first item: an index entry without evidence is passed over by
        // readers, evidence without an entry would be lost to them.
        if !indexed.contains(generation.number, &hash) {
            self.index(&prefix, person, &hash).await?;
            indexed.insert(generation.number, hash.clone());
        }
        let group = format!("{prefix}-p-{hash}");
        let mut added = 0;
        for item in items {
            if generation.rules.get(&item.rule.id) != Some(&item.rule.version) {
                return Err(ServiceError::internal(format!(
                    "evidence from rule {} version {} does not belong in generation {}",
                    item.rule.id, item.rule.version, generation.number
                )));
            }
            let written = self
                .records
                .put(
                    self.tenant,
                    KIND_EVIDENCE,
                    &group,
                    &item_id(item),
                    encode(item)?,
                    Expect::Absent,
                )
                .await?;
            added += usize::from(written.is_some());
        }
        Ok(added)
    }

    /// Records a retraction: whether it is new, or `None` when other writers kept winning.
    /// Of two voiding statements for one target the one with the smaller id stands, as in
    /// the engine's ledger.
    pub async fn merge_retraction(
        &self,
        generation: &Generation,
        retraction: &Retraction,
    ) -> Result<Option<bool>, ServiceError> {
        let group = retraction_group(&generation.prefix(), &retraction.target);
        let id = retraction.target.to_string();
        for _ in 0..ATTEMPTS {
            let found = self
                .records
                .get(self.tenant, KIND_RETRACTION, &group, &id)
                .await?;
            let expect = match found {
                Some(stored) => {
                    let existing: Retraction = decode(&stored.value, "retraction")?;
                    if existing.by <= retraction.by {
                        return Ok(Some(false));
                    }
                    Expect::Version(stored.version)
                }
                None => Expect::Absent,
            };
            let written = self
                .records
                .put(
                    self.tenant,
                    KIND_RETRACTION,
                    &group,
                    &id,
                    encode(retraction)?,
                    expect,
                )
                .await?;
            if written.is_some() {
                return Ok(Some(true));
            }
        }
        Ok(None)
    }

    /// The ledger of `people` in `generation`: their evidence and the retractions of its
    /// statements. `rules` only shapes the ledger of a first-layout generation when none of
    /// them has evidence.
    pub async fn ledger_of(
        &self,
        generation: &Generation,
        people: &[&PersonKey],
        rules: &RuleSet,
    ) -> Result<Ledger, ServiceError> {
        let prefix = generation.prefix();
        let mut ledger = (generation.layout >= LAYOUT)
            .then(|| Ledger::with_rule_versions(generation.rules.clone()));
        let mut seen = BTreeSet::new();
        for person in people {
            if !seen.insert(*person) {
                continue;
            }
            let group = format!("{prefix}-p-{}", person_hash(person));
            match ledger.as_mut() {
                Some(into) if generation.layout >= LAYOUT => {
                    for (_, item) in self
                        .list::<Evidence>(KIND_EVIDENCE, &group, "evidence")
                        .await?
                    {
                        into.add(item).map_err(|e| {
                            ServiceError::internal(format!("stored evidence refused: {e}"))
                        })?;
                    }
                }
                _ => {
                    let Some(stored) = self
                        .records
                        .get(self.tenant, KIND_EVIDENCE, &group, ID_FIRST_LAYOUT)
                        .await?
                    else {
                        continue;
                    };
                    let record: FirstLayoutRecord = decode(&stored.value, "person evidence")?;
                    match ledger.as_mut() {
                        None => ledger = Some(record.ledger),
                        Some(into) => merge(into, &record.ledger)?,
                    }
                }
            }
        }
        let mut ledger = ledger.unwrap_or_else(|| Ledger::new(rules));
        let statements: BTreeSet<Uuid> = ledger.entries().map(|e| e.evidence.statement).collect();
        let buckets: BTreeSet<String> = statements
            .iter()
            .map(|s| retraction_group(&prefix, s))
            .collect();
        for group in buckets {
            for (_, retraction) in self
                .list::<Retraction>(KIND_RETRACTION, &group, "retraction")
                .await?
            {
                apply_retraction(&mut ledger, retraction)?;
            }
        }
        Ok(ledger)
    }

    /// The whole ledger of `generation`: everyone indexed and every retraction. For exports
    /// and checks, not for reports (they read only the people they need).
    pub async fn whole_ledger(
        &self,
        generation: &Generation,
        rules: &RuleSet,
    ) -> Result<Ledger, ServiceError> {
        let prefix = generation.prefix();
        let mut people = Vec::new();
        for bucket in 0..=u8::MAX {
            let group = format!("{prefix}-people-{bucket:02x}");
            for (_, person) in self
                .list::<PersonKey>(KIND_PEOPLE, &group, "person")
                .await?
            {
                people.push(person);
            }
        }
        let refs: Vec<&PersonKey> = people.iter().collect();
        let mut ledger = self.ledger_of(generation, &refs, rules).await?;
        for bucket in 0..=u8::MAX {
            let group = format!("{prefix}-r-{bucket:02x}");
            for (_, retraction) in self
                .list::<Retraction>(KIND_RETRACTION, &group, "retraction")
                .await?
            {
                apply_retraction(&mut ledger, retraction)?;
            }
        }
        Ok(ledger)
    }

    /// Deletes up to `budget` records of a retired generation: each person's evidence, the
    /// people index and the retractions. How many were deleted, and whether nothing of it is
    /// left; a pass cut short by the budget resumes where it stopped, since deleted records
    /// are no longer listed.
    pub async fn delete_generation(
        &self,
        generation: &Generation,
        budget: usize,
    ) -> Result<(usize, bool), ServiceError> {
        let prefix = generation.prefix();
        let mut deleted = 0;
        for bucket in 0..=u8::MAX {
            let people = format!("{prefix}-people-{bucket:02x}");
            let retractions = format!("{prefix}-r-{bucket:02x}");
            loop {
                if deleted >= budget {
                    return Ok((deleted, false));
                }
                let page = self
                    .records
                    .list(
                        self.tenant,
                        KIND_PEOPLE,
                        &people,
                        None,
                        PAGE.min(budget - deleted),
                    )
                    .await?;
                if page.is_empty() {
                    break;
                }
                for (hash, indexed) in page {
                    let group = format!("{prefix}-p-{hash}");
                    // Every record of the person's group, whatever the layout.
                    loop {
                        if deleted >= budget {
                            return Ok((deleted, false));
                        }
                        let items = self
                            .records
                            .list(
                                self.tenant,
                                KIND_EVIDENCE,
                                &group,
                                None,
                                PAGE.min(budget - deleted),
                            )
                            .await?;
                        if items.is_empty() {
                            break;
                        }
                        for (id, item) in items {
                            let gone = self
                                .records
                                .delete(self.tenant, KIND_EVIDENCE, &group, &id, item.version)
                                .await?;
                            deleted += usize::from(gone);
                        }
                    }
                    if deleted >= budget {
                        return Ok((deleted, false));
                    }
                    // The index entry last, so an interrupted pass finds the person again.
                    self.records
                        .delete(self.tenant, KIND_PEOPLE, &people, &hash, indexed.version)
                        .await?;
                    deleted += 1;
                }
            }
            loop {
                if deleted >= budget {
                    return Ok((deleted, false));
                }
                let page = self
                    .records
                    .list(
                        self.tenant,
                        KIND_RETRACTION,
                        &retractions,
                        None,
                        PAGE.min(budget - deleted),
                    )
                    .await?;
                if page.is_empty() {
                    break;
                }
                for (id, record) in page {
                    self.records
                        .delete(
                            self.tenant,
                            KIND_RETRACTION,
                            &retractions,
                            &id,
                            record.version,
                        )
                        .await?;
                    deleted += 1;
                }
            }
        }
        Ok((deleted, true))
    }

    async fn index(
        &self,
        prefix: &str,
        person: &PersonKey,
        hash: &str,
    ) -> Result<(), ServiceError> {
        let group = format!("{prefix}-people-{}", &hash[..2]);
        if self
            .records
            .get(self.tenant, KIND_PEOPLE, &group, hash)
            .await?
            .is_some()
        {
            return Ok(());
        }
        // Absent or written meanwhile: either way the person is indexed.
        self.records
            .put(
                self.tenant,
                KIND_PEOPLE,
                &group,
                hash,
                encode(person)?,
                Expect::Absent,
            )
            .await?;
        Ok(())
    }

    async fn list<T: DeserializeOwned>(
        &self,
        kind: &str,
        group: &str,
        what: &str,
    ) -> Result<Vec<(String, T)>, ServiceError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .records
                .list(self.tenant, kind, group, after.as_deref(), PAGE)
                .await?;
            let full = page.len() == PAGE;
            for (id, record) in &page {
                out.push((id.clone(), decode(&record.value, what)?));
            }
            match page.last() {
                Some((id, _)) if full => after = Some(id.clone()),
                _ => return Ok(out),
            }
        }
    }
}

/// The people a run has found or put in a generation's index, so that each is looked up once
/// per run rather than once per batch. Index entries are never deleted while their generation
/// is in use, so what is remembered stays true; past [`Indexed::CAPACITY`] people it starts
/// over (a look-up again costs one read).
#[derive(Debug, Default)]
pub struct Indexed {
    generation: u64,
    people: HashSet<String>,
}

impl Indexed {
    pub const CAPACITY: usize = 100_000;

    fn contains(&self, generation: u64, hash: &str) -> bool {
        self.generation == generation && self.people.contains(hash)
    }

    fn insert(&mut self, generation: u64, hash: String) {
        if self.generation != generation || self.people.len() >= Self::CAPACITY {
            self.people.clear();
            self.generation = generation;
        }
        self.people.insert(hash);
    }
}

/// Evidence items grouped by the person they are about.
pub fn by_person(items: Vec<Evidence>, into: &mut BTreeMap<PersonKey, Vec<Evidence>>) {
    for item in items {
        into.entry(item.person.clone()).or_default().push(item);
    }
}

fn merge(into: &mut Ledger, from: &Ledger) -> Result<(), ServiceError> {
    for entry in from.entries() {
        into.add(entry.evidence.clone()).map_err(|e| {
            ServiceError::internal(format!("people of one generation disagree: {e}"))
        })?;
    }
    Ok(())
}

fn apply_retraction(ledger: &mut Ledger, retraction: Retraction) -> Result<(), ServiceError> {
    ledger
        .apply(&Derivation::Retraction(retraction))
        .map(|_| ())
        .map_err(|e| ServiceError::internal(format!("retraction refused: {e}")))
}

/// A fixed-length name for a person key (keys hold mail addresses and IRIs of any length).
pub(crate) fn person_hash(person: &PersonKey) -> String {
    let digest = Sha256::digest(person.as_str().as_bytes());
    hex::encode(&digest[..16])
}

/// An item's record id within its person's group: its statement, then a hash of its
/// capability and rule (ids of any length and alphabet), which with the person make up the
/// ledger's key of an item.
fn item_id(item: &Evidence) -> String {
    let mut hash = Sha256::new();
    hash.update(item.capability.as_str().as_bytes());
    hash.update([0]);
    hash.update(item.rule.id.as_str().as_bytes());
    format!("{}-{}", item.statement, hex::encode(&hash.finalize()[..8]))
}

fn retraction_group(prefix: &str, statement: &Uuid) -> String {
    format!("{prefix}-r-{:02x}", statement.as_bytes()[0])
}

fn encode<T: Serialize>(value: &T) -> Result<Bytes, ServiceError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| ServiceError::internal(format!("encoding a ledger record: {e}")))
}

fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, ServiceError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ServiceError::internal(format!("stored {what} is unreadable: {e}")))
}
