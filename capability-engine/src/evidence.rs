//! One evidence item: what a statement says, through one rule, about one person's capability.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::{CapabilityId, Days, Level, PersonKey, RuleId, Weight};
use crate::rater::Rater;
use crate::rule::{Polarity, RuleRef};

/// An evidence item. It carries everything aggregation needs (weight, half-life, expiry) so
/// that an explanation is reproducible from the ledger alone, without the rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub person: PersonKey,
    pub capability: CapabilityId,
    pub level: Level,
    pub polarity: Polarity,
    pub weight: Weight,
    pub rater: Rater,
    /// The statement's `timestamp`: when the experience happened.
    pub observed_at: DateTime<Utc>,
    /// The statement's `stored`: when the LRS learnt of it.
    pub stored_at: DateTime<Utc>,
    pub statement: Uuid,
    pub rule: RuleRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub half_life_days: Option<Days>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// What identifies an evidence item in the ledger: one rule yields at most one item per
/// statement, person and capability.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EvidenceKey {
    pub person: PersonKey,
    pub capability: CapabilityId,
    pub statement: Uuid,
    pub rule: RuleId,
}

impl Evidence {
    pub fn key(&self) -> EvidenceKey {
        EvidenceKey {
            person: self.person.clone(),
            capability: self.capability.clone(),
            statement: self.statement,
            rule: self.rule.id.clone(),
        }
    }
}

/// A voiding statement's retraction of its target's evidence (xAPI Data §2.3.2).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Retraction {
    /// The voided statement.
    pub target: Uuid,
    /// The voiding statement.
    pub by: Uuid,
    /// When the voiding statement was stored.
    pub stored_at: DateTime<Utc>,
}
