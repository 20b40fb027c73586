//! Reports as pure functions: gap reports per person and role, team heatmaps, and stale
//! evidence with upcoming reassessments.
//!
//! - **Gap** = required level − reached level (no level counts as 0): positive is a
//!   shortfall, zero or negative means the requirement is met.
//! - **Fit** of a person to a role = `Σ wᵣ · min(1, achievedᵣ / requiredᵣ) / Σ wᵣ` over the
//!   role's requirements (`wᵣ` the requirement weight): 1 when every requirement is met.
//! - When a person holds several roles, the combined requirement for a capability is the
//!   highest level any of them requires (with the highest weight and the most critical
//!   criticality among those roles).
//! - A **progression** is the assessment at the dates where something can change — an item
//!   observed, expiring or passing its half-life — and at regular samples between them
//!   (decay lowers a level between events), kept where the level, a rating or staleness
//!   changed: one point per change, plus the first and the last date.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Assessment, CountsAs, Evaluator};
use crate::error::{Error, Result};
use crate::ids::{CapabilityId, Days, Level, PersonKey, RoleId, Weight};
use crate::rater::RaterClass;
use crate::role::{Assignments, Criticality, Requirement, Roles};
use crate::rule::RuleRef;

/// The inputs of every report: the evaluator, the roles and who holds them when.
#[derive(Debug, Clone, Copy)]
pub struct Reports<'a> {
    pub evaluator: Evaluator<'a>,
    pub roles: &'a Roles,
    pub assignments: &'a Assignments,
}

/// Required against reached, per capability, for one person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GapReport {
    pub person: PersonKey,
    pub as_of: DateTime<Utc>,
    /// The roles whose requirements the rows cover.
    pub roles: Vec<RoleId>,
    /// Whether the person holds every one of `roles` at `as_of`.
    pub assigned: bool,
    pub rows: Vec<GapRow>,
    /// See the module documentation.
    pub fit: f64,
    /// Essential requirements not met.
    pub essential_gaps: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GapRow {
    pub capability: CapabilityId,
    pub name: String,
    pub required: Level,
    pub required_by: Vec<RoleId>,
    pub weight: Weight,
    pub criticality: Criticality,
    pub achieved: Option<Level>,
    pub evidence_level: Option<Level>,
    pub self_level: Option<Level>,
    pub manager_level: Option<Level>,
    pub gap: i16,
    pub met: bool,
    pub confidence: f64,
    pub stale: bool,
    pub last_evidence_at: Option<DateTime<Utc>>,
    /// The full assessment with its explanation.
    pub assessment: Assessment,
}

/// Who a heatmap covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Team {
    /// Everyone holding the role at the date; the columns are the role's requirements.
    Role { role: RoleId },
    /// These people (a manager's reports, say); the columns are the requirements of the roles
    /// they hold at the date, in catalog order.
    People { people: Vec<PersonKey> },
}

/// People × capabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heatmap {
    pub as_of: DateTime<Utc>,
    pub team: Team,
    pub people: Vec<PersonKey>,
    pub capabilities: Vec<CapabilityId>,
    /// `cells[p][c]` for `people[p]` and `capabilities[c]`.
    pub cells: Vec<Vec<HeatCell>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeatCell {
    pub level: Option<Level>,
    pub evidence_level: Option<Level>,
    /// What the person's roles require (none when no role of theirs requires it).
    pub required: Option<Level>,
    pub gap: Option<i16>,
    pub confidence: f64,
    pub stale: bool,
    pub assessment: Assessment,
}

/// Evidence past its half-life and the reassessments due for a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaleReport {
    pub person: PersonKey,
    pub as_of: DateTime<Utc>,
    pub horizon_days: Days,
    /// Counted evidence items past their half-life, oldest first.
    pub stale_evidence: Vec<StaleItem>,
    /// Requirements of the person's roles that need a new assessment now or within the
    /// horizon, soonest first.
    pub reassessments: Vec<Reassessment>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaleItem {
    pub capability: CapabilityId,
    pub statement: Uuid,
    pub rule: RuleRef,
    pub rater_class: RaterClass,
    pub level: Level,
    pub observed_at: DateTime<Utc>,
    pub half_life_days: f64,
    pub half_life_passed_at: DateTime<Utc>,
    pub effective_weight: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reassessment {
    pub capability: CapabilityId,
    pub required: Level,
    pub required_by: Vec<RoleId>,
    pub reason: ReassessmentReason,
    /// When it is (or was) due: now for missing evidence, else when the evidence went or
    /// goes stale, or expires.
    pub due: DateTime<Utc>,
    pub last_evidence_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReassessmentReason {
    /// The role requires the capability and there is no counted evidence.
    NoEvidence,
    /// Every evidence item is past its half-life.
    Stale,
    /// The newest evidence passes its half-life within the horizon.
    BecomesStale,
    /// An evidence item expires within the horizon.
    Expires,
}

/// How many dates a progression may assess: a bound on the work one request can ask for.
pub const MAX_PROGRESSION_DATES: usize = 5_000;

/// The regular samples of a progression without a `step`: about this many over the span,
/// at most one a day.
const DEFAULT_SAMPLES: i64 = 1_000;

/// A person's standing in one capability over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progression {
    pub person: PersonKey,
    pub capability: CapabilityId,
    pub name: String,
    /// The levels the capability defines, lowest first: the chart's scale.
    pub levels: Vec<Level>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The regular samples' spacing asked for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_days: Option<Days>,
    /// Oldest first: `from`, each date where something changed, and `to`.
    pub points: Vec<ProgressionPoint>,
    /// The assessment at `to`, with its explanation.
    pub latest: Assessment,
}

/// The assessment's figures at one date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressionPoint {
    pub at: DateTime<Utc>,
    pub level: Option<Level>,
    pub evidence_level: Option<Level>,
    pub self_level: Option<Level>,
    pub manager_level: Option<Level>,
    pub confidence: f64,
    pub stale: bool,
}

/// The dates a progression covers: `from` defaults to the person's first evidence item in the
/// capability (or its equivalents), `step` to [`DEFAULT_SAMPLES`] samples over the span.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub from: Option<DateTime<Utc>>,
    pub to: DateTime<Utc>,
    pub step: Option<Days>,
}

/// A requirement combined over roles.
struct Combined {
    requirement: Requirement,
    required_by: Vec<RoleId>,
}

impl<'a> Reports<'a> {
    pub fn new(
        evaluator: Evaluator<'a>,
        roles: &'a Roles,
        assignments: &'a Assignments,
    ) -> Reports<'a> {
        Reports {
            evaluator,
            roles,
            assignments,
        }
    }

    /// `person` against `role`'s requirements, whether or not they hold the role (a
    /// prospective role works too; `assigned` says which).
    pub fn gap_report(
        &self,
        person: &PersonKey,
        role: &RoleId,
        as_of: DateTime<Utc>,
    ) -> Result<GapReport> {
        let r = self.roles.get(role)?;
        let combined = r
            .requirements()
            .iter()
            .map(|req| Combined {
                requirement: req.clone(),
                required_by: vec![role.clone()],
            })
            .collect();
        let assigned = self.assignments.roles_of(person, as_of).contains(&role);
        self.report(person, vec![role.clone()], assigned, combined, as_of)
    }

    /// `person` against the combined requirements of every role they hold at `as_of`.
    pub fn person_report(&self, person: &PersonKey, as_of: DateTime<Utc>) -> Result<GapReport> {
        let roles: Vec<RoleId> = self
            .assignments
            .roles_of(person, as_of)
            .into_iter()
            .cloned()
            .collect();
        let combined = self.combined_requirements(&roles)?;
        self.report(person, roles, true, combined, as_of)
    }

    /// A heatmap of the team's people against its capabilities.
    pub fn heatmap(&self, team: &Team, as_of: DateTime<Utc>) -> Result<Heatmap> {
        let (people, capabilities): (Vec<PersonKey>, Vec<CapabilityId>) = match team {
            Team::Role { role } => {
                let r = self.roles.get(role)?;
                (
                    self.assignments
                        .people_in(role, as_of)
                        .into_iter()
                        .cloned()
                        .collect(),
                    r.requirements()
                        .iter()
                        .map(|req| req.capability.clone())
                        .collect(),
                )
            }
            Team::People { people } => {
                let mut wanted = std::collections::BTreeSet::new();
                for person in people {
                    for role in self.assignments.roles_of(person, as_of) {
                        for req in self.roles.get(role)?.requirements() {
                            wanted.insert(req.capability.clone());
                        }
                    }
                }
                let ordered = self
                    .evaluator
                    .catalog
                    .capabilities()
                    .map(|c| c.id())
                    .filter(|id| wanted.contains(*id))
                    .cloned()
                    .collect();
                (people.clone(), ordered)
            }
        };
        self.heatmap_of(team, people, capabilities, as_of)
    }

    /// A heatmap with the columns given.
    pub fn heatmap_for(
        &self,
        team: &Team,
        capabilities: &[CapabilityId],
        as_of: DateTime<Utc>,
    ) -> Result<Heatmap> {
        let people = match team {
            Team::Role { role } => {
                self.roles.get(role)?;
                self.assignments
                    .people_in(role, as_of)
                    .into_iter()
                    .cloned()
                    .collect()
            }
            Team::People { people } => people.clone(),
        };
        self.heatmap_of(team, people, capabilities.to_vec(), as_of)
    }

    fn heatmap_of(
        &self,
        team: &Team,
        people: Vec<PersonKey>,
        capabilities: Vec<CapabilityId>,
        as_of: DateTime<Utc>,
    ) -> Result<Heatmap> {
        let mut cells = Vec::with_capacity(people.len());
        for person in &people {
            let required: BTreeMap<CapabilityId, Level> = match team {
                Team::Role { role } => self
                    .roles
                    .get(role)?
                    .requirements()
                    .iter()
                    .map(|r| (r.capability.clone(), r.level))
                    .collect(),
                Team::People { .. } => {
                    let roles: Vec<RoleId> = self
                        .assignments
                        .roles_of(person, as_of)
                        .into_iter()
                        .cloned()
                        .collect();
                    self.combined_requirements(&roles)?
                        .into_iter()
                        .map(|c| (c.requirement.capability, c.requirement.level))
                        .collect()
                }
            };
            let mut row = Vec::with_capacity(capabilities.len());
            for capability in &capabilities {
                let assessment = self.evaluator.assess(person, capability, as_of)?;
                let required = required.get(capability).copied();
                row.push(HeatCell {
                    level: assessment.level,
                    evidence_level: assessment.evidence_level,
                    required,
                    gap: required.map(|r| gap(r, assessment.level)),
                    confidence: assessment.confidence,
                    stale: assessment.stale,
                    assessment,
                });
            }
            cells.push(row);
        }
        Ok(Heatmap {
            as_of,
            team: team.clone(),
            people,
            capabilities,
            cells,
        })
    }

    /// `person`'s progression in `capability` over `span` (see the module documentation).
    pub fn progression(
        &self,
        person: &PersonKey,
        capability: &CapabilityId,
        span: Span,
    ) -> Result<Progression> {
        let cap = self.evaluator.catalog.capability(capability)?;
        let mut events = BTreeSet::new();
        for id in self.evaluator.catalog.equivalents(capability) {
            for entry in self.evaluator.ledger.entries_for(person, &id) {
                if entry.retracted_by.is_some() {
                    continue;
                }
                let ev = entry.evidence;
                events.insert(ev.observed_at);
                if let Some(at) = ev.expires_at {
                    events.insert(at);
                }
                if let Some(h) = ev.half_life_days {
                    events.insert(ev.observed_at + h.to_duration());
                }
            }
        }
        let to = span.to;
        let from = span
            .from
            .or_else(|| events.first().copied())
            .map_or(to, |first| first.min(to));
        if span.from.is_some_and(|f| f > to) {
            return Err(Error::invalid(
                "from",
                "from-before-to",
                "a progression's from is at or before its to",
            ));
        }
        let mut dates: BTreeSet<DateTime<Utc>> = events
            .into_iter()
            .filter(|at| (from..=to).contains(at))
            .collect();
        dates.insert(from);
        dates.insert(to);
        let span_ms = (to - from).num_milliseconds();
        let step_ms = match span.step {
            Some(step) => {
                let step_ms = step.to_duration().num_milliseconds().max(1);
                if span_ms / step_ms >= MAX_PROGRESSION_DATES as i64 {
                    return Err(Error::invalid(
                        "step",
                        "too-many-points",
                        format!(
                            "from {from} to {to} every {} days is more than {MAX_PROGRESSION_DATES} dates",
                            step.get()
                        ),
                    ));
                }
                step_ms
            }
            None => (span_ms / DEFAULT_SAMPLES).max(crate::ids::MILLIS_PER_DAY as i64),
        };
        let mut sample = from;
        while sample < to {
            dates.insert(sample);
            sample += chrono::Duration::milliseconds(step_ms);
        }
        if dates.len() > MAX_PROGRESSION_DATES {
            return Err(Error::invalid(
                "from",
                "too-many-points",
                format!("the span holds more than {MAX_PROGRESSION_DATES} dates of change"),
            ));
        }

        let mut points: Vec<ProgressionPoint> = Vec::new();
        let mut previous: Option<ProgressionPoint> = None;
        let mut latest = None;
        for &at in &dates {
            let assessment = self.evaluator.assess(person, capability, at)?;
            let point = ProgressionPoint {
                at,
                level: assessment.level,
                evidence_level: assessment.evidence_level,
                self_level: assessment.self_rating.as_ref().and_then(|r| r.level),
                manager_level: assessment.manager_rating.as_ref().and_then(|r| r.level),
                confidence: assessment.confidence,
                stale: assessment.stale,
            };
            let changed = previous.as_ref().is_none_or(|p| !same_standing(p, &point));
            if changed || at == to {
                points.push(point.clone());
            }
            previous = Some(point);
            if at == to {
                latest = Some(assessment);
            }
        }
        let latest = match latest {
            Some(latest) => latest,
            None => self.evaluator.assess(person, capability, to)?,
        };
        Ok(Progression {
            person: person.clone(),
            capability: capability.clone(),
            name: cap.name().to_owned(),
            levels: cap.levels().iter().map(|l| l.level).collect(),
            from,
            to,
            step_days: span.step,
            points,
            latest,
        })
    }

    /// Stale evidence (any capability) and reassessments due for the requirements of the
    /// roles `person` holds, now or within `horizon`.
    pub fn stale_report(
        &self,
        person: &PersonKey,
        as_of: DateTime<Utc>,
        horizon: Days,
    ) -> Result<StaleReport> {
        let mut stale_evidence = Vec::new();
        for capability in self.evaluator.ledger.capabilities_of(person) {
            // Each capability's own items: equivalents would list an item twice.
            let assessment = self.evaluator.assess(person, capability, as_of)?;
            for c in &assessment.explanation.contributions {
                if c.capability != *capability
                    || !c.past_half_life
                    || c.counts_as != CountsAs::Evidence
                {
                    continue;
                }
                let Some(h) = c.half_life_days else { continue };
                stale_evidence.push(StaleItem {
                    capability: c.capability.clone(),
                    statement: c.statement,
                    rule: c.rule.clone(),
                    rater_class: c.rater.class,
                    level: c.level,
                    observed_at: c.observed_at,
                    half_life_days: h,
                    half_life_passed_at: c.observed_at + days(h),
                    effective_weight: c.effective_weight,
                });
            }
        }
        stale_evidence.sort_by(|a, b| {
            (a.observed_at, a.statement, &a.rule, &a.capability).cmp(&(
                b.observed_at,
                b.statement,
                &b.rule,
                &b.capability,
            ))
        });

        let roles: Vec<RoleId> = self
            .assignments
            .roles_of(person, as_of)
            .into_iter()
            .cloned()
            .collect();
        let horizon_end = as_of + horizon.to_duration();
        let mut reassessments = Vec::new();
        for combined in self.combined_requirements(&roles)? {
            let req = &combined.requirement;
            let assessment = self.evaluator.assess(person, &req.capability, as_of)?;
            let evidence: Vec<_> = assessment
                .explanation
                .contributions
                .iter()
                .filter(|c| c.counts_as == CountsAs::Evidence)
                .collect();
            let due = if evidence.is_empty() {
                Some((ReassessmentReason::NoEvidence, as_of))
            } else {
                // When the freshest item goes stale; never, if some item has no half-life.
                let fresh_until = if evidence.iter().all(|c| c.half_life_days.is_some()) {
                    evidence
                        .iter()
                        .filter_map(|c| c.half_life_days.map(|h| c.observed_at + days(h)))
                        .max()
                } else {
                    None
                };
                let expires = evidence
                    .iter()
                    .filter_map(|c| c.expires_at)
                    .filter(|&e| e <= horizon_end)
                    .min();
                if assessment.stale {
                    fresh_until.map(|at| (ReassessmentReason::Stale, at))
                } else {
                    let soon = fresh_until
                        .filter(|&at| at <= horizon_end)
                        .map(|at| (ReassessmentReason::BecomesStale, at));
                    let expiring = expires.map(|at| (ReassessmentReason::Expires, at));
                    match (soon, expiring) {
                        (Some(a), Some(b)) => Some(if b.1 < a.1 { b } else { a }),
                        (a, b) => a.or(b),
                    }
                }
            };
            if let Some((reason, due)) = due {
                reassessments.push(Reassessment {
                    capability: req.capability.clone(),
                    required: req.level,
                    required_by: combined.required_by.clone(),
                    reason,
                    due,
                    last_evidence_at: assessment.last_evidence_at,
                });
            }
        }
        reassessments.sort_by(|a, b| (a.due, &a.capability).cmp(&(b.due, &b.capability)));
        Ok(StaleReport {
            person: person.clone(),
            as_of,
            horizon_days: horizon,
            stale_evidence,
            reassessments,
        })
    }

    fn combined_requirements(&self, roles: &[RoleId]) -> Result<Vec<Combined>> {
        let mut combined: Vec<Combined> = Vec::new();
        for role in roles {
            for req in self.roles.get(role)?.requirements() {
                match combined
                    .iter_mut()
                    .find(|c| c.requirement.capability == req.capability)
                {
                    None => combined.push(Combined {
                        requirement: req.clone(),
                        required_by: vec![role.clone()],
                    }),
                    Some(c) => {
                        if req.level > c.requirement.level {
                            c.requirement.level = req.level;
                            c.required_by = vec![role.clone()];
                        } else if req.level == c.requirement.level {
                            c.required_by.push(role.clone());
                        }
                        c.requirement.weight = if req.weight > c.requirement.weight {
                            req.weight
                        } else {
                            c.requirement.weight
                        };
                        c.requirement.criticality = c.requirement.criticality.min(req.criticality);
                    }
                }
            }
        }
        Ok(combined)
    }

    fn report(
        &self,
        person: &PersonKey,
        roles: Vec<RoleId>,
        assigned: bool,
        requirements: Vec<Combined>,
        as_of: DateTime<Utc>,
    ) -> Result<GapReport> {
        let mut rows = Vec::with_capacity(requirements.len());
        for Combined {
            requirement,
            required_by,
        } in requirements
        {
            let assessment = self
                .evaluator
                .assess(person, &requirement.capability, as_of)?;
            let name = self
                .evaluator
                .catalog
                .capability(&requirement.capability)?
                .name()
                .to_owned();
            let gap = gap(requirement.level, assessment.level);
            rows.push(GapRow {
                capability: requirement.capability,
                name,
                required: requirement.level,
                required_by,
                weight: requirement.weight,
                criticality: requirement.criticality,
                achieved: assessment.level,
                evidence_level: assessment.evidence_level,
                self_level: assessment.self_rating.as_ref().and_then(|r| r.level),
                manager_level: assessment.manager_rating.as_ref().and_then(|r| r.level),
                gap,
                met: gap <= 0,
                confidence: assessment.confidence,
                stale: assessment.stale,
                last_evidence_at: assessment.last_evidence_at,
                assessment,
            });
        }
        let total: f64 = rows.iter().map(|r| r.weight.get()).sum();
        let covered: f64 = rows
            .iter()
            .map(|r| {
                let achieved = f64::from(r.achieved.map_or(0, Level::get));
                r.weight.get() * (achieved / f64::from(r.required.get())).min(1.0)
            })
            .sum();
        let fit = if total > 0.0 { covered / total } else { 1.0 };
        let essential_gaps = rows
            .iter()
            .filter(|r| !r.met && r.criticality == Criticality::Essential)
            .count();
        Ok(GapReport {
            person: person.clone(),
            as_of,
            roles,
            assigned,
            rows,
            fit,
            essential_gaps,
        })
    }
}

/// Whether two points show the same levels, ratings and staleness (confidence moves with
/// every day of decay, so it does not make a change on its own).
fn same_standing(a: &ProgressionPoint, b: &ProgressionPoint) -> bool {
    (
        a.level,
        a.evidence_level,
        a.self_level,
        a.manager_level,
        a.stale,
    ) == (
        b.level,
        b.evidence_level,
        b.self_level,
        b.manager_level,
        b.stale,
    )
}

/// required − reached (none reached counts as 0).
fn gap(required: Level, achieved: Option<Level>) -> i16 {
    i16::from(required.get()) - i16::from(achieved.map_or(0, Level::get))
}

fn days(d: f64) -> chrono::Duration {
    chrono::Duration::milliseconds((d * crate::ids::MILLIS_PER_DAY).round() as i64)
}
