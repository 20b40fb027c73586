//! The evidence ledger: an append-only, in-memory record of evidence and retractions.
//!
//! The ledger is two grow-only sets — evidence items keyed by [`EvidenceKey`] and
//! retractions keyed by the voided statement — so applying the same derivations in any
//! order, any number of times, gives the same ledger (`==`). Nothing is ever removed: a
//! voided statement's evidence stays in the ledger, marked retracted, and stops counting.
//! A voiding statement that arrives before its target still retracts it.
//!
//! A ledger is derived from one version of each rule. When the rules change, derive a new
//! ledger from the statements ([`Ledger::derive`]); evidence from another rule version is
//! refused by [`Ledger::apply`], so two versions of a rule are never counted together.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::evidence::{Evidence, EvidenceKey, Retraction};
use crate::framework::Catalog;
use crate::ids::{CapabilityId, PersonKey, RuleId};
use crate::matcher::{Derivation, Skip, match_statement};
use crate::rule::RuleSet;
use crate::statement::StoredStatement;

type Items = BTreeMap<(Uuid, RuleId), Evidence>;

/// See the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "LedgerRepr", into = "LedgerRepr")]
pub struct Ledger {
    rules: BTreeMap<RuleId, u32>,
    evidence: BTreeMap<PersonKey, BTreeMap<CapabilityId, Items>>,
    retractions: BTreeMap<Uuid, Retraction>,
}

/// What applying one derivation changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Applied {
    /// Evidence items new to the ledger.
    pub added: usize,
    /// Whether a retraction was new to the ledger.
    pub retracted: bool,
}

/// An evidence item with its retraction, if its statement was voided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry<'a> {
    pub evidence: &'a Evidence,
    pub retracted_by: Option<&'a Retraction>,
}

/// The ledger's serialised form: the rule versions, every item and every retraction.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LedgerRepr {
    rules: BTreeMap<RuleId, u32>,
    evidence: Vec<Evidence>,
    retractions: Vec<Retraction>,
}

impl Ledger {
    /// An empty ledger for evidence derived from `rules`.
    pub fn new(rules: &RuleSet) -> Ledger {
        Ledger {
            rules: rules.versions(),
            evidence: BTreeMap::new(),
            retractions: BTreeMap::new(),
        }
    }

    /// An empty ledger for evidence derived from the rules at `versions`, as
    /// [`Ledger::rule_versions`] gives them: for a ledger kept elsewhere and read back item by
    /// item.
    pub fn with_rule_versions(versions: BTreeMap<RuleId, u32>) -> Ledger {
        Ledger {
            rules: versions,
            evidence: BTreeMap::new(),
            retractions: BTreeMap::new(),
        }
    }

    /// Matches every statement, in any order, and applies the result: the pure function from
    /// statements and rules to a ledger. Also returns every [`Skip`], sorted.
    pub fn derive<'a>(
        rules: &RuleSet,
        catalog: &Catalog,
        statements: impl IntoIterator<Item = &'a StoredStatement>,
    ) -> (Ledger, Vec<Skip>) {
        let mut ledger = Ledger::new(rules);
        let mut skips = Vec::new();
        for statement in statements {
            let derivation = match_statement(statement, rules, catalog);
            if let Derivation::Evidence { skipped, .. } = &derivation {
                skips.extend(skipped.iter().cloned());
            }
            // Derived from these very rules, so the versions agree.
            let _ = ledger.apply(&derivation);
        }
        skips.sort_by(|a, b| (a.statement, &a.rule).cmp(&(b.statement, &b.rule)));
        skips.dedup();
        (ledger, skips)
    }

    /// Adds what one statement derived. Idempotent: items and retractions already present
    /// are left as they are. Refuses evidence from a rule version other than the ledger's.
    pub fn apply(&mut self, derivation: &Derivation) -> Result<Applied> {
        match derivation {
            Derivation::Evidence { items, .. } => {
                for item in items {
                    self.check_rule_version(item)?;
                }
                let added = items
                    .iter()
                    .filter(|&item| self.insert(item.clone()))
                    .count();
                Ok(Applied {
                    added,
                    retracted: false,
                })
            }
            Derivation::Retraction(retraction) => {
                // Two voiding statements for one target: the one with the smaller id stands,
                // whatever the order they arrive in.
                let retracted = match self.retractions.get(&retraction.target) {
                    Some(existing) if existing.by <= retraction.by => false,
                    _ => {
                        self.retractions
                            .insert(retraction.target, retraction.clone());
                        true
                    }
                };
                Ok(Applied {
                    added: 0,
                    retracted,
                })
            }
        }
    }

    /// Adds one evidence item: whether it is new. Idempotent, and refuses an item from a rule
    /// version other than the ledger's, as [`Ledger::apply`] does.
    pub fn add(&mut self, item: Evidence) -> Result<bool> {
        self.check_rule_version(&item)?;
        Ok(self.insert(item))
    }

    fn check_rule_version(&self, item: &Evidence) -> Result<()> {
        if self.rules.get(&item.rule.id) == Some(&item.rule.version) {
            return Ok(());
        }
        Err(Error::conflict(
            "rule",
            "rule-version-mismatch",
            format!(
                "evidence from rule {} version {} does not belong in a ledger derived from {}",
                item.rule.id,
                item.rule.version,
                self.rules
                    .get(&item.rule.id)
                    .map_or_else(|| "other rules".to_owned(), |v| format!("version {v}"))
            ),
        ))
    }

    /// Inserts an item whose rule version is checked: whether it is new.
    fn insert(&mut self, item: Evidence) -> bool {
        let slot = self
            .evidence
            .entry(item.person.clone())
            .or_default()
            .entry(item.capability.clone())
            .or_default();
        match slot.entry((item.statement, item.rule.id.clone())) {
            std::collections::btree_map::Entry::Vacant(vacant) => {
                vacant.insert(item);
                true
            }
            std::collections::btree_map::Entry::Occupied(_) => false,
        }
    }

    /// Matches one statement and applies it: the incremental path.
    pub fn ingest(
        &mut self,
        statement: &StoredStatement,
        rules: &RuleSet,
        catalog: &Catalog,
    ) -> Result<Applied> {
        self.apply(&match_statement(statement, rules, catalog))
    }

    /// The rule versions this ledger was derived from.
    pub fn rule_versions(&self) -> &BTreeMap<RuleId, u32> {
        &self.rules
    }

    /// The evidence about `person` and `capability` (retracted or not), by statement id
    /// and rule id.
    pub fn entries_for<'a>(
        &'a self,
        person: &PersonKey,
        capability: &CapabilityId,
    ) -> impl Iterator<Item = Entry<'a>> + 'a {
        self.evidence
            .get(person)
            .and_then(|caps| caps.get(capability))
            .into_iter()
            .flat_map(|items| items.values())
            .map(|evidence| Entry {
                evidence,
                retracted_by: self.retractions.get(&evidence.statement),
            })
    }

    /// Every evidence item (retracted or not) in key order.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        self.evidence
            .values()
            .flat_map(|caps| caps.values())
            .flat_map(|items| items.values())
            .map(|evidence| Entry {
                evidence,
                retracted_by: self.retractions.get(&evidence.statement),
            })
    }

    /// The capabilities `person` has evidence for (retracted or not), sorted.
    pub fn capabilities_of(&self, person: &PersonKey) -> Vec<&CapabilityId> {
        self.evidence
            .get(person)
            .map(|caps| caps.keys().collect())
            .unwrap_or_default()
    }

    /// Evidence items that are not retracted.
    pub fn active(&self) -> impl Iterator<Item = &Evidence> {
        self.entries()
            .filter(|e| e.retracted_by.is_none())
            .map(|e| e.evidence)
    }

    pub fn retractions(&self) -> impl Iterator<Item = &Retraction> {
        self.retractions.values()
    }

    pub fn retraction_of(&self, statement: &Uuid) -> Option<&Retraction> {
        self.retractions.get(statement)
    }

    /// Everyone with evidence, sorted.
    pub fn people(&self) -> Vec<&PersonKey> {
        self.evidence.keys().collect()
    }

    /// The number of evidence items, retracted or not.
    pub fn len(&self) -> usize {
        self.evidence
            .values()
            .flat_map(|caps| caps.values())
            .map(BTreeMap::len)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.evidence.is_empty()
    }

    pub fn get(&self, key: &EvidenceKey) -> Option<&Evidence> {
        self.evidence
            .get(&key.person)?
            .get(&key.capability)?
            .get(&(key.statement, key.rule.clone()))
    }
}

impl TryFrom<LedgerRepr> for Ledger {
    type Error = Error;
    fn try_from(repr: LedgerRepr) -> Result<Ledger> {
        let mut ledger = Ledger {
            rules: repr.rules,
            evidence: BTreeMap::new(),
            retractions: BTreeMap::new(),
        };
        for (i, item) in repr.evidence.into_iter().enumerate() {
            ledger
                .add(item)
                .map_err(|e| e.within(format!("evidence[{i}]")))?;
        }
        for retraction in repr.retractions {
            ledger.apply(&Derivation::Retraction(retraction))?;
        }
        Ok(ledger)
    }
}

impl From<Ledger> for LedgerRepr {
    fn from(ledger: Ledger) -> LedgerRepr {
        LedgerRepr {
            evidence: ledger.entries().map(|e| e.evidence.clone()).collect(),
            retractions: ledger.retractions.into_values().collect(),
            rules: ledger.rules,
        }
    }
}
