//! The matcher: one stored statement and the rules → evidence items, or a retraction.
//!
//! A statement matches a rule when every predicate of the rule's `match` holds (see
//! [`crate::rule`]). It then yields one [`Evidence`] per subject person (each member of a
//! Group actor) and per capability (several when the capability comes from the statement's
//! activities). A statement that matches a rule's predicates but cannot yield evidence —
//! no identified subject, no capability among its activities, no readable level — yields a
//! [`Skip`] instead, so that "why did this not count?" has an answer.
//!
//! A voiding statement yields a [`Retraction`] of its target and is matched against nothing
//! else. SubStatement objects never yield evidence: they describe, not record, experience.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::evidence::{Evidence, Retraction};
use crate::framework::Catalog;
use crate::ids::{CapabilityId, Level, PersonKey};
use crate::rater::{Rater, derive_rater};
use crate::rule::{
    ActivityLocation, CapabilityTarget, EvidenceRule, ExtensionLocation, LevelSource,
    ResultPredicates, RuleRef, RuleSet, Subject,
};
use crate::statement::{ContextKind, StoredStatement, people_of};
use crate::vocab;

/// What one statement contributes to the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Derivation {
    Evidence {
        statement: Uuid,
        items: Vec<Evidence>,
        skipped: Vec<Skip>,
    },
    Retraction(Retraction),
}

/// A rule whose predicates a statement met without yielding evidence, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skip {
    pub statement: Uuid,
    pub rule: RuleRef,
    pub reason: SkipReason,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// The subject (actor or object Agent) has no IFI.
    NoSubject,
    /// No activity at the rule's location is a known capability.
    NoCapability,
    /// The level could not be read (missing or non-integer score, no band, bad extension).
    NoLevel,
    /// The level is above the capability's scale.
    LevelOutOfScale,
}

/// Matches one stored statement against every rule.
pub fn match_statement(
    statement: &StoredStatement,
    rules: &RuleSet,
    catalog: &Catalog,
) -> Derivation {
    if let Some(target) = statement.voids() {
        return Derivation::Retraction(Retraction {
            target,
            by: statement.id(),
            stored_at: statement.stored(),
        });
    }
    let mut items = Vec::new();
    let mut skipped = Vec::new();
    for rule in rules.iter() {
        apply_rule(statement, rule, catalog, &mut items, &mut skipped);
    }
    Derivation::Evidence {
        statement: statement.id(),
        items,
        skipped,
    }
}

fn apply_rule(
    statement: &StoredStatement,
    rule: &EvidenceRule,
    catalog: &Catalog,
    items: &mut Vec<Evidence>,
    skipped: &mut Vec<Skip>,
) {
    if !predicates_hold(statement, rule) {
        return;
    }
    let skip = |reason, detail: String| Skip {
        statement: statement.id(),
        rule: rule.reference(),
        reason,
        detail,
    };
    let m = rule.matching();
    let emit = rule.emit();
    let (subject_json, subject_is_actor) = match m.subject {
        Subject::Actor => (Some(statement.actor()), true),
        Subject::ObjectAgent => {
            let object = statement.object();
            let is_agent = matches!(
                object.get("objectType").and_then(Value::as_str),
                Some("Agent" | "Group")
            );
            (is_agent.then_some(object), false)
        }
    };
    let people = subject_json.map(people_of).unwrap_or_default();
    if people.is_empty() {
        skipped.push(skip(
            SkipReason::NoSubject,
            "the subject has no inverse functional identifier".into(),
        ));
        return;
    }
    // The rater filter is a predicate too: a rule for manager ratings says nothing about a
    // self-assessment, not even why it yields no evidence.
    let raters: Vec<(PersonKey, Rater)> = people
        .into_iter()
        .map(|person| {
            let rater = derive_rater(statement, &person, subject_is_actor, emit.rater);
            (person, rater)
        })
        .filter(|(_, rater)| m.raters.is_empty() || m.raters.contains(&rater.class))
        .collect();
    if raters.is_empty() {
        return;
    }
    let capabilities = match &emit.capability {
        CapabilityTarget::Id(id) => vec![id.clone()],
        CapabilityTarget::From(location) => capabilities_at(statement, *location, catalog),
    };
    if capabilities.is_empty() {
        skipped.push(skip(
            SkipReason::NoCapability,
            "no activity at the rule's location has the IRI of a capability".into(),
        ));
        return;
    }
    let raw_level = match read_level(statement, &emit.level) {
        Ok(level) => level,
        Err(detail) => {
            skipped.push(skip(SkipReason::NoLevel, detail));
            return;
        }
    };
    let expires_at = expiry(statement, emit.expires_after_days.map(|d| d.to_duration()));
    for capability in &capabilities {
        let scale_len = catalog
            .framework_of(capability)
            .map_or(0, |f| f.scale().len());
        if usize::from(raw_level.get()) > scale_len {
            skipped.push(skip(
                SkipReason::LevelOutOfScale,
                format!("level {raw_level} is above the highest level {scale_len} of {capability}"),
            ));
            continue;
        }
        for (person, rater) in &raters {
            items.push(Evidence {
                person: person.clone(),
                capability: capability.clone(),
                level: raw_level,
                polarity: emit.polarity,
                weight: emit.weight,
                rater: rater.clone(),
                observed_at: statement.timestamp(),
                stored_at: statement.stored(),
                statement: statement.id(),
                rule: rule.reference(),
                half_life_days: emit.half_life_days,
                expires_at,
            });
        }
    }
}

fn predicates_hold(statement: &StoredStatement, rule: &EvidenceRule) -> bool {
    let m = rule.matching();
    if !m.verbs.iter().any(|v| v == statement.verb_id()) {
        return false;
    }
    let object = statement.object_activity();
    if !m.activity_types.is_empty() {
        let object_type = object.and_then(activity_type);
        if !object_type.is_some_and(|t| m.activity_types.iter().any(|want| want == t)) {
            return false;
        }
    }
    if let Some(pattern) = &m.activity {
        let id = object.and_then(|o| o.get("id")).and_then(Value::as_str);
        if !id.is_some_and(|id| pattern.matches(id)) {
            return false;
        }
    }
    for predicate in &m.context_activities {
        let kinds: &[ContextKind] = match &predicate.kind {
            Some(kind) => std::slice::from_ref(kind),
            None => &ContextKind::ALL,
        };
        let found = kinds.iter().any(|&kind| {
            statement
                .context_activities(kind)
                .into_iter()
                .any(|activity| {
                    let id_ok = predicate.id.as_ref().is_none_or(|p| {
                        activity
                            .get("id")
                            .and_then(Value::as_str)
                            .is_some_and(|id| p.matches(id))
                    });
                    let type_ok = predicate
                        .activity_type
                        .as_ref()
                        .is_none_or(|want| activity_type(activity) == Some(want.as_str()));
                    id_ok && type_ok
                })
        });
        if !found {
            return false;
        }
    }
    if !result_holds(statement.result(), &m.result) {
        return false;
    }
    m.extensions.iter().all(|p| {
        let value = extension(statement, p.location, &p.key);
        match (&p.equals, value) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(want), Some(got)) => want == got,
        }
    })
}

fn result_holds(result: Option<&Map<String, Value>>, p: &ResultPredicates) -> bool {
    let get = |key: &str| result.and_then(|r| r.get(key));
    if let Some(want) = p.success
        && get("success").and_then(Value::as_bool) != Some(want)
    {
        return false;
    }
    if let Some(want) = p.completion
        && get("completion").and_then(Value::as_bool) != Some(want)
    {
        return false;
    }
    if let Some(band) = &p.scaled {
        let Some(scaled) = scaled_score(result) else {
            return false;
        };
        if band.at_least.is_some_and(|low| scaled < low)
            || band.below.is_some_and(|high| scaled >= high)
        {
            return false;
        }
    }
    if !p.response_in.is_empty() {
        let response = get("response").and_then(Value::as_str);
        if !response.is_some_and(|r| p.response_in.iter().any(|want| want == r)) {
            return false;
        }
    }
    true
}

fn scaled_score(result: Option<&Map<String, Value>>) -> Option<f64> {
    result?.get("score")?.get("scaled")?.as_f64()
}

fn activity_type(activity: &Map<String, Value>) -> Option<&str> {
    activity.get("definition")?.get("type")?.as_str()
}

fn extension<'a>(
    statement: &'a StoredStatement,
    location: ExtensionLocation,
    key: &str,
) -> Option<&'a Value> {
    match location {
        ExtensionLocation::Context => statement.context_extension(key),
        ExtensionLocation::Result => statement.result_extension(key),
        ExtensionLocation::Object => statement
            .object_activity()?
            .get("definition")?
            .get("extensions")?
            .get(key),
    }
}

/// Every distinct capability whose IRI is the id of an activity at `location`, in the
/// order they appear.
fn capabilities_at(
    statement: &StoredStatement,
    location: ActivityLocation,
    catalog: &Catalog,
) -> Vec<CapabilityId> {
    let activities: Vec<&Map<String, Value>> = match location {
        ActivityLocation::Object => statement.object_activity().into_iter().collect(),
        ActivityLocation::Parent => statement.context_activities(ContextKind::Parent),
        ActivityLocation::Grouping => statement.context_activities(ContextKind::Grouping),
        ActivityLocation::Category => statement.context_activities(ContextKind::Category),
        ActivityLocation::Other => statement.context_activities(ContextKind::Other),
    };
    let mut found: Vec<CapabilityId> = Vec::new();
    for activity in activities {
        if let Some(id) = activity
            .get("id")
            .and_then(Value::as_str)
            .and_then(|iri| catalog.by_iri(iri))
            && !found.contains(id)
        {
            found.push(id.clone());
        }
    }
    found
}

fn read_level(statement: &StoredStatement, source: &LevelSource) -> Result<Level, String> {
    match source {
        LevelSource::Fixed(level) => Ok(*level),
        LevelSource::ScoreRaw => {
            let raw = statement
                .result()
                .and_then(|r| r.get("score"))
                .and_then(|s| s.get("raw"))
                .and_then(Value::as_f64)
                .ok_or("the statement has no result.score.raw")?;
            level_from_number(raw).ok_or_else(|| format!("result.score.raw {raw} is not a level"))
        }
        LevelSource::ScaledBands(bands) => {
            let scaled = scaled_score(statement.result())
                .ok_or("the statement has no result.score.scaled")?;
            bands
                .iter()
                .rev()
                .find(|band| band.at_least <= scaled)
                .map(|band| band.level)
                .ok_or_else(|| format!("result.score.scaled {scaled} is below the lowest band"))
        }
        LevelSource::Extension { location, key } => {
            let value = extension(statement, *location, key)
                .ok_or_else(|| format!("no extension {key}"))?;
            let level = match value {
                Value::Number(n) => n.as_f64().and_then(level_from_number),
                // An IRI naming the level, e.g. `https://acme.example/levels/4`, or "4".
                Value::String(s) => s
                    .rsplit('/')
                    .next()
                    .and_then(|last| last.parse::<u8>().ok())
                    .and_then(|n| Level::new(n).ok()),
                _ => None,
            };
            level.ok_or_else(|| format!("extension {key} does not name a level: {value}"))
        }
    }
}

fn level_from_number(n: f64) -> Option<Level> {
    if n.fract() != 0.0 || !(1.0..=255.0).contains(&n) {
        return None;
    }
    Level::new(n as u8).ok()
}

/// The earlier of the rule's expiry and the statement's own `expires` extension.
fn expiry(statement: &StoredStatement, after: Option<chrono::Duration>) -> Option<DateTime<Utc>> {
    let by_rule = after.map(|d| statement.timestamp() + d);
    let by_statement = statement
        .context_extension(vocab::EXT_EXPIRES)
        .and_then(Value::as_str)
        .and_then(|s| xapi::parse_timestamp(s).ok())
        .map(|t| t.with_timezone(&Utc));
    match (by_rule, by_statement) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
