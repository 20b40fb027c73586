//! Evidence rules as versioned data: which statements count, for which capability and
//! level, with what weight, polarity, half-life, expiry and rater class.
//!
//! A rule in JSON:
//!
//! ```json
//! { "id": "observation", "version": 2,
//!   "match": { "verbs": ["https://w3id.org/xapi/dod-isd/verbs/performed"],
//!              "activity_types": ["http://adlnet.gov/expapi/activities/performance"],
//!              "activity": {"glob": "https://acme.example/tasks/*"},
//!              "result": {"success": true} },
//!   "emit": { "capability": {"from": "grouping"}, "level": "score-raw",
//!             "weight": 0.8, "half_life_days": 540 } }
//! ```
//!
//! Every predicate present must hold; lists (`verbs`, `activity_types`, `raters`,
//! `response_in`) hold when any entry matches. See [`crate::matcher`] for what a matching
//! statement yields.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::framework::Catalog;
use crate::ids::{CapabilityId, Days, Level, RuleId, Weight};
use crate::rater::RaterClass;
use crate::statement::ContextKind;

/// An activity id pattern: exact, or a glob where `*` matches any run of characters
/// (including `/`) and `?` exactly one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pattern {
    Exact(String),
    Glob(String),
}

/// A context activity the statement must carry: of a kind (any kind when absent), with an
/// id and/or an activity type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextActivityPredicate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ContextKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Pattern>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_type: Option<String>,
}

/// `at_least ≤ result.score.scaled < below`; either bound may be absent, not both.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreBand {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
}

/// Predicates on `result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ResultPredicates {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaled: Option<ScoreBand>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_in: Vec<String>,
}

/// Where an extension lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExtensionLocation {
    Context,
    Result,
    /// The object Activity's `definition.extensions`.
    Object,
}

/// An extension that must exist, or (with `equals`) have exactly that JSON value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtensionPredicate {
    #[serde(rename = "in")]
    pub location: ExtensionLocation,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Value>,
}

/// Whom the evidence is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Subject {
    /// The actor (each identified member when the actor is a Group).
    #[default]
    Actor,
    /// The object, when it is an Agent or Group: the mentee of a mentoring statement.
    ObjectAgent,
}

/// Which statements a rule matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchSpec {
    pub verbs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub activity_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<Pattern>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context_activities: Vec<ContextActivityPredicate>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub result: ResultPredicates,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<ExtensionPredicate>,
    /// Only statements whose derived rater class is one of these (any when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub raters: Vec<RaterClass>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub subject: Subject,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// Where an activity is in a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActivityLocation {
    Object,
    Parent,
    Grouping,
    Category,
    Other,
}

/// Which capability the evidence is for: a fixed one, or every capability whose `iri` is
/// the id of an activity at a location (e.g. the TLA competency in `grouping`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CapabilityTarget {
    Id(CapabilityId),
    From(ActivityLocation),
}

/// One band of a scaled-score-to-level mapping.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LevelBand {
    pub at_least: f64,
    pub level: Level,
}

/// Which level the evidence is at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LevelSource {
    Fixed(Level),
    /// `result.score.raw`, an integer on the capability's scale (a rubric rating).
    ScoreRaw,
    /// The level of the highest band whose `at_least` ≤ `result.score.scaled`.
    ScaledBands(Vec<LevelBand>),
    /// An extension holding an integer or an IRI ending in `/<n>`.
    Extension {
        #[serde(rename = "in")]
        location: ExtensionLocation,
        key: String,
    },
}

/// Whether evidence speaks for or against the person holding the level.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "kebab-case")]
pub enum Polarity {
    #[default]
    Supporting,
    Contrary,
}

/// What a matching statement yields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmitSpec {
    pub capability: CapabilityTarget,
    pub level: LevelSource,
    pub weight: Weight,
    #[serde(default, skip_serializing_if = "is_default")]
    pub polarity: Polarity,
    /// Evidence loses half its weight every this many days; no decay when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub half_life_days: Option<Days>,
    /// Evidence stops counting this many days after it was observed. A statement's own
    /// `…/comp/contextextensions/expires` applies too; the earlier one wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_after_days: Option<Days>,
    /// Fixes the rater class instead of deriving it (see [`crate::rater`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rater: Option<RaterClass>,
}

/// A rule as written in input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleSpec {
    pub id: RuleId,
    /// Starts at 1 and increases with every change; evidence cites the version it came from.
    pub version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "match")]
    pub matching: MatchSpec,
    pub emit: EmitSpec,
}

/// A validated evidence rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct EvidenceRule {
    spec: RuleSpec,
}

/// A rule id with its version, as evidence cites it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RuleRef {
    pub id: RuleId,
    pub version: u32,
}

/// The rules in force, one version of each, by id. Serialised as a list of rules (what
/// [`RuleSet::new`] reads back as `Vec<RuleSpec>`).
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    rules: BTreeMap<RuleId, EvidenceRule>,
}

impl Serialize for RuleSet {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_seq(self.rules.values())
    }
}

impl EvidenceRule {
    /// Validates a rule against the catalog it will match into.
    pub fn new(spec: RuleSpec, catalog: &Catalog) -> Result<EvidenceRule> {
        if spec.version == 0 {
            return Err(Error::invalid(
                "version",
                "version-positive",
                "rule versions start at 1",
            ));
        }
        check_match(&spec.matching).map_err(|e| e.within("match"))?;
        check_emit(&spec.emit, catalog).map_err(|e| e.within("emit"))?;
        if let Some(fixed) = spec.emit.rater
            && !spec.matching.raters.is_empty()
            && !spec.matching.raters.contains(&fixed)
        {
            return Err(Error::invalid(
                "match.raters",
                "rater-filter",
                format!(
                    "the rule fixes the rater class {} and so could never match",
                    fixed.as_str()
                ),
            ));
        }
        Ok(EvidenceRule { spec })
    }

    pub fn spec(&self) -> &RuleSpec {
        &self.spec
    }
    pub fn id(&self) -> &RuleId {
        &self.spec.id
    }
    pub fn version(&self) -> u32 {
        self.spec.version
    }
    pub fn reference(&self) -> RuleRef {
        RuleRef {
            id: self.spec.id.clone(),
            version: self.spec.version,
        }
    }
    pub fn matching(&self) -> &MatchSpec {
        &self.spec.matching
    }
    pub fn emit(&self) -> &EmitSpec {
        &self.spec.emit
    }
}

fn check_iri(field: impl Into<String>, iri: &str) -> Result<()> {
    if xapi::is_absolute_iri(iri) {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            "iri",
            format!("not an absolute IRI: {iri:?}"),
        ))
    }
}

fn check_pattern(field: &str, pattern: &Pattern) -> Result<()> {
    match pattern {
        Pattern::Exact(iri) => check_iri(format!("{field}.exact"), iri),
        Pattern::Glob(glob) if glob.is_empty() => Err(Error::invalid(
            format!("{field}.glob"),
            "non-empty",
            "a glob has at least one character",
        )),
        Pattern::Glob(_) => Ok(()),
    }
}

fn check_scaled(field: &str, value: f64) -> Result<()> {
    if value.is_finite() && (-1.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            "scaled-range",
            format!("a scaled score is between -1 and 1, found {value}"),
        ))
    }
}

fn check_match(m: &MatchSpec) -> Result<()> {
    if m.verbs.is_empty() {
        return Err(Error::invalid(
            "verbs",
            "non-empty",
            "a rule names at least one verb",
        ));
    }
    for (i, verb) in m.verbs.iter().enumerate() {
        check_iri(format!("verbs[{i}]"), verb)?;
    }
    for (i, t) in m.activity_types.iter().enumerate() {
        check_iri(format!("activity_types[{i}]"), t)?;
    }
    if let Some(pattern) = &m.activity {
        check_pattern("activity", pattern)?;
    }
    for (i, p) in m.context_activities.iter().enumerate() {
        let at = format!("context_activities[{i}]");
        if p.id.is_none() && p.activity_type.is_none() {
            return Err(Error::invalid(
                at,
                "id-or-type",
                "a context activity predicate names an id or a type",
            ));
        }
        if let Some(id) = &p.id {
            check_pattern(&format!("{at}.id"), id)?;
        }
        if let Some(t) = &p.activity_type {
            check_iri(format!("{at}.activity_type"), t)?;
        }
    }
    if let Some(band) = &m.result.scaled {
        if band.at_least.is_none() && band.below.is_none() {
            return Err(Error::invalid(
                "result.scaled",
                "band-bound",
                "a score band has at_least, below or both",
            ));
        }
        if let Some(v) = band.at_least {
            check_scaled("result.scaled.at_least", v)?;
        }
        if let Some(v) = band.below {
            check_scaled("result.scaled.below", v)?;
        }
        if let (Some(low), Some(high)) = (band.at_least, band.below)
            && low >= high
        {
            return Err(Error::invalid(
                "result.scaled",
                "band-order",
                "at_least is below below",
            ));
        }
    }
    for (i, e) in m.extensions.iter().enumerate() {
        check_iri(format!("extensions[{i}].key"), &e.key)?;
    }
    Ok(())
}

fn check_emit(e: &EmitSpec, catalog: &Catalog) -> Result<()> {
    // The highest level the emitted evidence can be checked against now: the fixed
    // capability's scale, or the longest scale of the catalog when the capability comes from
    // the statement (the matcher checks again per capability).
    let scale_len = match &e.capability {
        CapabilityTarget::Id(id) => catalog
            .framework_of(id)
            .map_err(|_| {
                Error::invalid(
                    "capability.id",
                    "known-capability",
                    format!("no capability {id}"),
                )
            })?
            .scale()
            .len(),
        CapabilityTarget::From(_) => catalog
            .frameworks()
            .iter()
            .map(|f| f.scale().len())
            .max()
            .unwrap_or(0),
    };
    let check_level = |field: &str, level: Level| {
        if usize::from(level.get()) > scale_len {
            Err(Error::invalid(
                field,
                "level-in-scale",
                format!("level {level} is above the scale's highest level {scale_len}"),
            ))
        } else {
            Ok(())
        }
    };
    match &e.level {
        LevelSource::Fixed(level) => check_level("level.fixed", *level)?,
        LevelSource::ScoreRaw => {}
        LevelSource::ScaledBands(bands) => {
            if bands.is_empty() {
                return Err(Error::invalid(
                    "level.scaled-bands",
                    "non-empty",
                    "at least one band",
                ));
            }
            for (i, band) in bands.iter().enumerate() {
                let at = format!("level.scaled-bands[{i}]");
                check_scaled(&format!("{at}.at_least"), band.at_least)?;
                check_level(&format!("{at}.level"), band.level)?;
                if i > 0
                    && (bands[i - 1].at_least >= band.at_least || bands[i - 1].level > band.level)
                {
                    return Err(Error::invalid(
                        at,
                        "bands-increasing",
                        "bands go up: at_least strictly increasing, levels never decreasing",
                    ));
                }
            }
        }
        LevelSource::Extension { key, .. } => check_iri("level.extension.key", key)?,
    }
    Ok(())
}

impl RuleSet {
    /// Validates every rule; rule ids are unique.
    pub fn new(specs: Vec<RuleSpec>, catalog: &Catalog) -> Result<RuleSet> {
        let mut rules = BTreeMap::new();
        for (i, spec) in specs.into_iter().enumerate() {
            let at = format!("rules[{i}]");
            let rule = EvidenceRule::new(spec, catalog).map_err(|e| e.within(&at))?;
            if rules.contains_key(rule.id()) {
                return Err(Error::invalid(
                    format!("{at}.id"),
                    "unique-id",
                    format!("rule {} is defined twice", rule.id()),
                ));
            }
            rules.insert(rule.id().clone(), rule);
        }
        Ok(RuleSet { rules })
    }

    /// The same rules with `spec` added, or replacing the rule with its id; a replacement must
    /// carry a higher version. Evidence must then be re-derived ([`crate::Ledger::derive`]).
    pub fn with_rule(&self, spec: RuleSpec, catalog: &Catalog) -> Result<RuleSet> {
        let rule = EvidenceRule::new(spec, catalog)?;
        if let Some(old) = self.rules.get(rule.id())
            && old.version() >= rule.version()
        {
            return Err(Error::invalid(
                "version",
                "version-increases",
                format!(
                    "rule {} is at version {}; a change needs a higher version",
                    rule.id(),
                    old.version()
                ),
            ));
        }
        let mut rules = self.rules.clone();
        rules.insert(rule.id().clone(), rule);
        Ok(RuleSet { rules })
    }

    /// The same rules without `id`.
    pub fn without(&self, id: &RuleId) -> RuleSet {
        let mut rules = self.rules.clone();
        rules.remove(id);
        RuleSet { rules }
    }

    pub fn iter(&self) -> impl Iterator<Item = &EvidenceRule> {
        self.rules.values()
    }

    pub fn get(&self, id: &RuleId) -> Option<&EvidenceRule> {
        self.rules.get(id)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The version of every rule, by id: what a ledger derived from these rules records.
    pub fn versions(&self) -> BTreeMap<RuleId, u32> {
        self.rules
            .iter()
            .map(|(id, r)| (id.clone(), r.version()))
            .collect()
    }

    /// A short hash of the rules' JSON, for explanations and caches.
    pub fn fingerprint(&self) -> String {
        fingerprint(self)
    }
}

/// The first 16 hex digits of the SHA-256 of a value's JSON.
pub(crate) fn fingerprint(value: &impl Serialize) -> String {
    let json = serde_json::to_vec(value).unwrap_or_default();
    let digest = Sha256::digest(&json);
    hex::encode(&digest[..8])
}

/// Whether `text` matches `glob` (`*` any run of characters, `?` one character).
pub fn glob_matches(glob: &str, text: &str) -> bool {
    let pattern: Vec<char> = glob.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    // The last `*` seen and the text position it is currently stretched to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

impl Pattern {
    pub fn matches(&self, id: &str) -> bool {
        match self {
            Pattern::Exact(exact) => exact == id,
            Pattern::Glob(glob) => glob_matches(glob, id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let cases = [
            ("https://a/*", "https://a/b/c", true),
            ("https://a/*", "https://a/", true),
            ("https://a/*/quiz", "https://a/x/quiz", true),
            ("https://a/*/quiz", "https://a/x/y/quiz", true),
            ("https://a/*/quiz", "https://a/x/quiz2", false),
            ("https://a/?", "https://a/b", true),
            ("https://a/?", "https://a/bc", false),
            ("*", "", true),
            ("", "", true),
            ("", "x", false),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("*ß*", "straße", true),
        ];
        for (glob, text, expected) in cases {
            assert_eq!(glob_matches(glob, text), expected, "{glob} ~ {text}");
        }
    }
}
