//! Aggregation: a person's level in a capability as of a date, with the ratings beside it,
//! a confidence figure and an explanation of every number.
//!
//! # Formulas
//!
//! As of a date `t`, an evidence item `i` **counts** when it was observed at or before `t`
//! (`observed_at` = the statement's `timestamp`), its statement is not voided (a retraction
//! applies to every date: the statement is treated as never made) and it has not expired
//! (`expires_at > t`). Items observed after `t` are invisible, so the same function for a
//! past date gives the history.
//!
//! - Age and decay: `aᵢ = (t − observedᵢ)` in days; `dᵢ = 0.5^(aᵢ / hᵢ)` with `hᵢ` the item's
//!   half-life (`dᵢ = 1` without one). Effective weight `sᵢ = wᵢ · dᵢ`, in (0, 1].
//! - Evidence items are the counted items whose rater class is not excluded from evidence
//!   (self-assessment by default); the others are ratings only.
//! - For each level `L` the capability defines:
//!   - `support(L) = Σ sᵢ` over supporting evidence items at level ≥ `L` (evidence of level 4
//!     is evidence of levels 1–3 as well);
//!   - `contrary(L) = Σ sⱼ` over contrary evidence items at level ≤ `L` observed strictly after
//!     the newest supporting item at level ≥ `L` (failing level 2 speaks against 2 and
//!     everything above; a later success supersedes an earlier failure, an earlier success
//!     does not protect against a later failure);
//!   - `net(L) = support(L) − contrary(L)`.
//! - Level `L` is **reached** when `net(L) ≥ θ(L)` (the threshold step for `L`) and every
//!   gate for `L` is met; gates count the counted supporting evidence items at level ≥ `L`.
//!   The **evidence level** is the highest reached level (none when none is).
//!   Because thresholds never decrease with the level, gates apply from a level upwards and
//!   `net` never increases with the level, every level below a reached level is reached too.
//! - **Ratings**: for each rater class, its newest counted item (ties broken by statement id)
//!   is that class's rating: a supporting item at level `L` rates the highest defined level
//!   ≤ `L`; a contrary item at `L` rates the highest defined level below `L`.
//! - **Confidence** = `(1 − Π(1 − sᵢ)) · (1 − d^k)` over the evidence items (either
//!   polarity): a noisy-OR of the effective weights, discounted when the evidence comes from
//!   few kinds of rater (`k` distinct rater classes, `d` = `class_doubt`, 0.2 by default:
//!   one class → ×0.8, two → ×0.96). It says how well-evidenced the estimate is, not which
//!   level is right; it rises with every counted item and falls as items decay. 0 without
//!   evidence.
//! - **Stale**: there is evidence and every evidence item is past its half-life (`aᵢ ≥ hᵢ`);
//!   items without a half-life never go stale.
//! - The **level** is chosen by the [`RatingPolicy`]; the evidence level, the self and manager
//!   ratings and every other class's rating are reported beside it.
//!
//! Sums run over the items in a canonical order (time, statement id, rule id, capability), so
//! the result does not depend on the order evidence arrived in.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::{AggregationConfig, Gate, GateRequirement, RatingPolicy};
use crate::error::Result;
use crate::evidence::Evidence;
use crate::framework::{Capability, Catalog};
use crate::ids::{CapabilityId, Level, MILLIS_PER_DAY, PersonKey, RuleId};
use crate::ledger::Ledger;
use crate::rater::{Rater, RaterClass};
use crate::rule::{Polarity, RuleRef};

/// Computes assessments from a catalog, a configuration and a ledger. Holds references
/// only; every method is a pure function of them and its arguments.
#[derive(Debug, Clone, Copy)]
pub struct Evaluator<'a> {
    pub catalog: &'a Catalog,
    pub config: &'a AggregationConfig,
    pub ledger: &'a Ledger,
}

/// A person's standing in one capability as of a date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub person: PersonKey,
    pub capability: CapabilityId,
    pub as_of: DateTime<Utc>,
    /// The level the rating policy chose.
    pub level: Option<Level>,
    /// Where `level` came from.
    pub level_from: LevelOrigin,
    /// The level the evidence supports.
    pub evidence_level: Option<Level>,
    pub self_rating: Option<Rating>,
    pub manager_rating: Option<Rating>,
    /// Every rater class's rating, in class order (self and manager included).
    pub ratings: Vec<Rating>,
    pub confidence: f64,
    pub stale: bool,
    /// The newest counted item of any class.
    pub last_evidence_at: Option<DateTime<Utc>>,
    pub explanation: Explanation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum LevelOrigin {
    Evidence,
    Rating { class: RaterClass },
}

/// One rater class's latest word on the capability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    pub class: RaterClass,
    /// The defined level the rating stands for (none: below the lowest defined level).
    pub level: Option<Level>,
    /// The level and polarity of the item as recorded.
    pub item_level: Level,
    pub polarity: Polarity,
    pub at: DateTime<Utc>,
    pub statement: Uuid,
    pub rule: RuleRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rater: Option<PersonKey>,
}

/// Everything behind an assessment's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The capabilities whose evidence counted: the capability and its equivalents.
    pub evidence_from: Vec<CapabilityId>,
    /// Every counted item, oldest first, with its raw and decayed weight.
    pub contributions: Vec<Contribution>,
    /// Items that would have counted but for a retraction or expiry.
    pub excluded: Vec<Exclusion>,
    /// Each defined level: support, contrary, threshold, gates.
    pub levels: Vec<LevelTrace>,
    pub confidence: ConfidenceTrace,
    pub policy: RatingPolicy,
    /// The configuration's fingerprint; rule versions are on each contribution.
    pub config_fingerprint: String,
}

/// Whether an item counted as evidence or only as its rater's rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CountsAs {
    Evidence,
    RatingOnly,
}

/// One counted evidence item: a row of the contribution table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub statement: Uuid,
    pub rule: RuleRef,
    /// The capability the item was recorded for (an equivalent, possibly).
    pub capability: CapabilityId,
    pub level: Level,
    pub polarity: Polarity,
    pub rater: Rater,
    pub observed_at: DateTime<Utc>,
    pub age_days: f64,
    pub weight: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub half_life_days: Option<f64>,
    pub decay: f64,
    pub effective_weight: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    pub past_half_life: bool,
    pub counts_as: CountsAs,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exclusion {
    pub statement: Uuid,
    pub rule: RuleRef,
    pub capability: CapabilityId,
    pub reason: ExclusionReason,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum ExclusionReason {
    Retracted { by: Uuid },
    Expired { at: DateTime<Utc> },
}

/// A reference to one evidence item.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ItemRef {
    pub statement: Uuid,
    pub rule: RuleId,
    pub capability: CapabilityId,
}

/// The computation for one level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelTrace {
    pub level: Level,
    pub support: f64,
    pub contrary: f64,
    pub net: f64,
    pub threshold: f64,
    pub clears_threshold: bool,
    pub gates: Vec<GateTrace>,
    pub gates_met: bool,
    pub reached: bool,
    /// The newest supporting item at this level or above (contrary items older than it do
    /// not count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest_support_at: Option<DateTime<Utc>>,
    pub supporting: Vec<ItemRef>,
    pub contrary_items: Vec<ItemRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateTrace {
    pub gate: Gate,
    pub found: u32,
    pub met: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceTrace {
    /// `1 − Π(1 − sᵢ)` over the evidence items.
    pub noisy_or: f64,
    pub rater_classes: Vec<RaterClass>,
    pub class_doubt: f64,
    /// `1 − class_doubt^k`.
    pub diversity: f64,
    pub value: f64,
}

/// A counted item with its numbers.
struct Counted<'a> {
    evidence: &'a Evidence,
    age_days: f64,
    decay: f64,
    effective: f64,
    is_evidence: bool,
}

impl<'a> Evaluator<'a> {
    pub fn new(
        catalog: &'a Catalog,
        config: &'a AggregationConfig,
        ledger: &'a Ledger,
    ) -> Evaluator<'a> {
        Evaluator {
            catalog,
            config,
            ledger,
        }
    }

    /// `person`'s standing in `capability` as of `as_of`. Fails only for an unknown
    /// capability; a person without evidence gets an assessment with no level.
    pub fn assess(
        &self,
        person: &PersonKey,
        capability: &CapabilityId,
        as_of: DateTime<Utc>,
    ) -> Result<Assessment> {
        let cap = self.catalog.capability(capability)?;
        let pool = self.catalog.equivalents(capability);
        let (counted, excluded) = self.counted_items(person, &pool, as_of);
        let evidence: Vec<&Counted> = counted.iter().filter(|c| c.is_evidence).collect();

        let levels = self.level_traces(cap, &evidence);
        let evidence_level = levels.iter().rev().find(|l| l.reached).map(|l| l.level);
        let ratings = ratings(cap, &counted);
        let rating_of = |class| ratings.iter().find(|r| r.class == class).cloned();
        let newest_evidence = evidence.iter().map(|c| c.evidence.observed_at).max();
        let (level, level_from) = apply_policy(
            self.config.policy(),
            evidence_level,
            newest_evidence,
            &ratings,
        );
        let confidence = confidence(&evidence, self.config.class_doubt());
        let stale = !evidence.is_empty() && evidence.iter().all(|c| past_half_life(c));

        Ok(Assessment {
            person: person.clone(),
            capability: capability.clone(),
            as_of,
            level,
            level_from,
            evidence_level,
            self_rating: rating_of(RaterClass::SelfAssessment),
            manager_rating: rating_of(RaterClass::Manager),
            confidence: confidence.value,
            stale,
            last_evidence_at: counted.iter().map(|c| c.evidence.observed_at).max(),
            explanation: Explanation {
                evidence_from: pool,
                contributions: counted.iter().map(contribution).collect(),
                excluded,
                levels,
                confidence,
                policy: self.config.policy().clone(),
                config_fingerprint: self.config.fingerprint().to_owned(),
            },
            ratings,
        })
    }

    /// The same assessment at each date: the person's progression in the capability.
    pub fn progression(
        &self,
        person: &PersonKey,
        capability: &CapabilityId,
        dates: &[DateTime<Utc>],
    ) -> Result<Vec<Assessment>> {
        dates
            .iter()
            .map(|&at| self.assess(person, capability, at))
            .collect()
    }

    fn counted_items(
        &self,
        person: &PersonKey,
        pool: &[CapabilityId],
        as_of: DateTime<Utc>,
    ) -> (Vec<Counted<'a>>, Vec<Exclusion>) {
        let mut counted = Vec::new();
        let mut excluded = Vec::new();
        for capability in pool {
            for entry in self.ledger.entries_for(person, capability) {
                let ev = entry.evidence;
                if ev.observed_at > as_of {
                    continue;
                }
                let exclude = |reason| Exclusion {
                    statement: ev.statement,
                    rule: ev.rule.clone(),
                    capability: ev.capability.clone(),
                    reason,
                };
                if let Some(retraction) = entry.retracted_by {
                    excluded.push(exclude(ExclusionReason::Retracted { by: retraction.by }));
                    continue;
                }
                if let Some(at) = ev.expires_at
                    && at <= as_of
                {
                    excluded.push(exclude(ExclusionReason::Expired { at }));
                    continue;
                }
                let age_days = (as_of - ev.observed_at).num_milliseconds() as f64 / MILLIS_PER_DAY;
                let decay = decay(age_days, ev.half_life_days.map(|h| h.get()));
                counted.push(Counted {
                    evidence: ev,
                    age_days,
                    decay,
                    effective: ev.weight.get() * decay,
                    is_evidence: self.config.counts_as_evidence(ev.rater.class),
                });
            }
        }
        counted.sort_by(|a, b| canonical(a.evidence).cmp(&canonical(b.evidence)));
        excluded.sort_by(|a, b| {
            (a.statement, &a.rule, &a.capability).cmp(&(b.statement, &b.rule, &b.capability))
        });
        (counted, excluded)
    }

    fn level_traces(&self, cap: &Capability, evidence: &[&Counted]) -> Vec<LevelTrace> {
        let rules = self.config.level_rules(cap.id());
        cap.levels()
            .iter()
            .map(|described| {
                let level = described.level;
                let supporting: Vec<&Counted> = evidence
                    .iter()
                    .copied()
                    .filter(|c| {
                        c.evidence.polarity == Polarity::Supporting && c.evidence.level >= level
                    })
                    .collect();
                let newest_support_at = supporting.iter().map(|c| c.evidence.observed_at).max();
                let contrary: Vec<&Counted> = evidence
                    .iter()
                    .copied()
                    .filter(|c| {
                        c.evidence.polarity == Polarity::Contrary
                            && c.evidence.level <= level
                            && newest_support_at
                                .is_none_or(|newest| c.evidence.observed_at > newest)
                    })
                    .collect();
                // A fold from +0.0: `sum()` of no floats is -0.0, which reads oddly in JSON.
                let support = supporting.iter().fold(0.0, |sum, c| sum + c.effective);
                let contrary_sum = contrary.iter().fold(0.0, |sum, c| sum + c.effective);
                let net = support - contrary_sum;
                let threshold = rules.threshold(level);
                let gates: Vec<GateTrace> = rules
                    .gates_for(level)
                    .map(|gate| gate_trace(gate, &supporting))
                    .collect();
                let clears_threshold = net >= threshold;
                let gates_met = gates.iter().all(|g| g.met);
                LevelTrace {
                    level,
                    support,
                    contrary: contrary_sum,
                    net,
                    threshold,
                    clears_threshold,
                    gates_met,
                    reached: clears_threshold && gates_met,
                    gates,
                    newest_support_at,
                    supporting: supporting.iter().map(|c| item_ref(c.evidence)).collect(),
                    contrary_items: contrary.iter().map(|c| item_ref(c.evidence)).collect(),
                }
            })
            .collect()
    }
}

/// `0.5^(age / half_life)`; 1 without a half-life.
pub fn decay(age_days: f64, half_life_days: Option<f64>) -> f64 {
    match half_life_days {
        Some(h) => 0.5_f64.powf(age_days.max(0.0) / h),
        None => 1.0,
    }
}

fn canonical(ev: &Evidence) -> (DateTime<Utc>, Uuid, &RuleId, &CapabilityId) {
    (ev.observed_at, ev.statement, &ev.rule.id, &ev.capability)
}

fn item_ref(ev: &Evidence) -> ItemRef {
    ItemRef {
        statement: ev.statement,
        rule: ev.rule.id.clone(),
        capability: ev.capability.clone(),
    }
}

fn past_half_life(c: &Counted) -> bool {
    c.evidence
        .half_life_days
        .is_some_and(|h| c.age_days >= h.get())
}

fn contribution(c: &Counted) -> Contribution {
    let ev = c.evidence;
    Contribution {
        statement: ev.statement,
        rule: ev.rule.clone(),
        capability: ev.capability.clone(),
        level: ev.level,
        polarity: ev.polarity,
        rater: ev.rater.clone(),
        observed_at: ev.observed_at,
        age_days: c.age_days,
        weight: ev.weight.get(),
        half_life_days: ev.half_life_days.map(|h| h.get()),
        decay: c.decay,
        effective_weight: c.effective,
        expires_at: ev.expires_at,
        past_half_life: past_half_life(c),
        counts_as: if c.is_evidence {
            CountsAs::Evidence
        } else {
            CountsAs::RatingOnly
        },
    }
}

/// The identity a distinct-raters gate counts: the rater agent, else the class.
fn rater_identity(rater: &Rater) -> String {
    match &rater.agent {
        Some(agent) => agent.to_string(),
        None => format!("class:{}", rater.class.as_str()),
    }
}

fn gate_trace(gate: &Gate, supporting: &[&Counted]) -> GateTrace {
    let (found, min) = match &gate.requirement {
        GateRequirement::RaterClasses { classes, min_items } => {
            let found = supporting
                .iter()
                .filter(|c| classes.contains(&c.evidence.rater.class))
                .count();
            (found, *min_items)
        }
        GateRequirement::DistinctRaters { min } => {
            let raters: BTreeSet<String> = supporting
                .iter()
                .map(|c| rater_identity(&c.evidence.rater))
                .collect();
            (raters.len(), *min)
        }
    };
    let found = u32::try_from(found).unwrap_or(u32::MAX);
    GateTrace {
        gate: gate.clone(),
        found,
        met: found >= min,
    }
}

fn ratings(cap: &Capability, counted: &[Counted]) -> Vec<Rating> {
    let mut latest: BTreeMap<RaterClass, &Evidence> = BTreeMap::new();
    for c in counted {
        let ev = c.evidence;
        let newer = latest
            .get(&ev.rater.class)
            .is_none_or(|held| canonical(ev) > canonical(held));
        if newer {
            latest.insert(ev.rater.class, ev);
        }
    }
    latest
        .into_iter()
        .map(|(class, ev)| Rating {
            class,
            level: match ev.polarity {
                Polarity::Supporting => cap.defined_at_or_below(ev.level),
                Polarity::Contrary => cap.defined_below(ev.level),
            },
            item_level: ev.level,
            polarity: ev.polarity,
            at: ev.observed_at,
            statement: ev.statement,
            rule: ev.rule.clone(),
            rater: ev.rater.agent.clone(),
        })
        .collect()
}

fn apply_policy(
    policy: &RatingPolicy,
    evidence_level: Option<Level>,
    newest_evidence: Option<DateTime<Utc>>,
    ratings: &[Rating],
) -> (Option<Level>, LevelOrigin) {
    let rating_of = |class: &RaterClass| ratings.iter().find(|r| r.class == *class);
    let evidence = (evidence_level, LevelOrigin::Evidence);
    match policy {
        RatingPolicy::EvidenceOnly => evidence,
        RatingPolicy::Highest { raters } => {
            raters
                .iter()
                .filter_map(rating_of)
                .fold(evidence, |best, r| {
                    if r.level > best.0 {
                        (r.level, LevelOrigin::Rating { class: r.class })
                    } else {
                        best
                    }
                })
        }
        RatingPolicy::Prioritised { order } => {
            order.iter().find_map(rating_of).map_or(evidence, |r| {
                (r.level, LevelOrigin::Rating { class: r.class })
            })
        }
        RatingPolicy::Latest { raters } => {
            let newest_rating =
                raters
                    .iter()
                    .filter_map(rating_of)
                    .fold(None::<&Rating>, |best, r| match best {
                        Some(b) if (b.at, b.statement) >= (r.at, r.statement) => Some(b),
                        _ => Some(r),
                    });
            match newest_rating {
                Some(r) if newest_evidence.is_none_or(|e| r.at > e) => {
                    (r.level, LevelOrigin::Rating { class: r.class })
                }
                _ => evidence,
            }
        }
    }
}

fn confidence(evidence: &[&Counted], class_doubt: f64) -> ConfidenceTrace {
    let remaining_doubt: f64 = evidence.iter().map(|c| 1.0 - c.effective).product();
    let noisy_or = if evidence.is_empty() {
        0.0
    } else {
        1.0 - remaining_doubt
    };
    let classes: BTreeSet<RaterClass> = evidence.iter().map(|c| c.evidence.rater.class).collect();
    let k = i32::try_from(classes.len()).unwrap_or(i32::MAX);
    let diversity = if k == 0 {
        0.0
    } else {
        1.0 - class_doubt.powi(k)
    };
    ConfidenceTrace {
        noisy_or,
        rater_classes: classes.into_iter().collect(),
        class_doubt,
        diversity,
        value: noisy_or * diversity,
    }
}
