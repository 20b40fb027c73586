//! How evidence becomes a level: thresholds and gates per level, which rater classes count
//! as evidence, the rating policy and the confidence parameter. Data, validated like the
//! rest of the model.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::framework::Catalog;
use crate::ids::{CapabilityId, Level};
use crate::rater::RaterClass;

/// From `from_level` upwards (until the next step), a level is reached only when its net
/// support is at least `at_least`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ThresholdStep {
    pub from_level: Level,
    pub at_least: f64,
}

/// A condition every level from `from_level` upwards must meet besides its threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gate {
    pub from_level: Level,
    #[serde(flatten)]
    pub requirement: GateRequirement,
}

/// What a gate asks of the counted supporting evidence at or above the level in question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum GateRequirement {
    /// At least `min_items` items from raters of these classes (e.g. level 3+ needs one
    /// observation by an assessor or a manager rating).
    RaterClasses {
        classes: Vec<RaterClass>,
        min_items: u32,
    },
    /// At least `min` distinct raters. A rater is the rater agent when the statement names
    /// one, else the rater class (all e-learning counts as one rater).
    DistinctRaters { min: u32 },
}

/// Thresholds and gates for the levels of a capability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelRules {
    /// Steps starting at level 1, `from_level` strictly increasing, `at_least` positive and
    /// never decreasing: a higher level never needs less support than a lower one.
    pub thresholds: Vec<ThresholdStep>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<Gate>,
}

/// How the level reported for a person is chosen from the evidence level and the ratings.
/// Whatever the policy, the evidence level and each rater class's rating are reported
/// beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum RatingPolicy {
    /// The evidence level alone.
    EvidenceOnly,
    /// The highest of the evidence level and the latest ratings of these classes.
    Highest { raters: Vec<RaterClass> },
    /// The latest rating of the first class in `order` that has one, else the evidence
    /// level. Manager-first is `order: [manager]` ([`RatingPolicy::manager_first`]).
    Prioritised { order: Vec<RaterClass> },
    /// Whichever is newest: the latest rating of these classes, or the evidence level (as of
    /// its newest counted item). Ties go to the evidence.
    Latest { raters: Vec<RaterClass> },
}

impl RatingPolicy {
    pub fn manager_first() -> RatingPolicy {
        RatingPolicy::Prioritised {
            order: vec![RaterClass::Manager],
        }
    }

    /// The rater classes the policy consults.
    pub fn raters(&self) -> &[RaterClass] {
        match self {
            RatingPolicy::EvidenceOnly => &[],
            RatingPolicy::Highest { raters } | RatingPolicy::Latest { raters } => raters,
            RatingPolicy::Prioritised { order } => order,
        }
    }
}

/// The configuration as written in input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregationSpec {
    pub levels: LevelRules,
    /// Thresholds and gates for particular capabilities, replacing `levels` for them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<CapabilityId, LevelRules>,
    /// Rater classes whose items are ratings only and never evidence. Self-assessment by
    /// default: nobody certifies themself, but their view is always reported.
    #[serde(default = "default_excludes")]
    pub evidence_excludes: BTreeSet<RaterClass>,
    #[serde(default = "default_policy")]
    pub policy: RatingPolicy,
    /// `d` in the diversity factor `1 − d^k` of the confidence (k = distinct rater classes):
    /// how much doubt evidence of a single kind leaves. Between 0 and 1.
    #[serde(default = "default_class_doubt")]
    pub class_doubt: f64,
}

fn default_excludes() -> BTreeSet<RaterClass> {
    BTreeSet::from([RaterClass::SelfAssessment])
}

fn default_policy() -> RatingPolicy {
    RatingPolicy::EvidenceOnly
}

fn default_class_doubt() -> f64 {
    0.2
}

/// A validated configuration (see [`AggregationSpec`] for the fields).
#[derive(Debug, Clone, PartialEq)]
pub struct AggregationConfig {
    spec: AggregationSpec,
    /// Computed once: every explanation cites it.
    fingerprint: String,
}

impl Serialize for AggregationConfig {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        self.spec.serialize(serializer)
    }
}

impl AggregationConfig {
    pub fn new(spec: AggregationSpec, catalog: &Catalog) -> Result<AggregationConfig> {
        check_level_rules(&spec.levels).map_err(|e| e.within("levels"))?;
        for (id, rules) in &spec.overrides {
            catalog.capability(id).map_err(|_| {
                Error::invalid(
                    format!("overrides.{id}"),
                    "known-capability",
                    format!("no capability {id}"),
                )
            })?;
            check_level_rules(rules).map_err(|e| e.within(format!("overrides.{id}")))?;
        }
        if !(spec.class_doubt.is_finite() && (0.0..1.0).contains(&spec.class_doubt)) {
            return Err(Error::invalid(
                "class_doubt",
                "fraction",
                format!(
                    "class_doubt is at least 0 and below 1, found {}",
                    spec.class_doubt
                ),
            ));
        }
        if spec.policy.raters().is_empty() && !matches!(spec.policy, RatingPolicy::EvidenceOnly) {
            return Err(Error::invalid(
                "policy",
                "non-empty",
                "the policy names at least one rater class",
            ));
        }
        Ok(AggregationConfig::from_valid(spec))
    }

    /// Threshold 0.5 for every level, no gates, self-assessments excluded from evidence,
    /// evidence-only policy, class doubt 0.2.
    pub fn simple() -> AggregationConfig {
        let spec = AggregationSpec {
            levels: LevelRules {
                thresholds: vec![ThresholdStep {
                    from_level: Level::MIN,
                    at_least: 0.5,
                }],
                gates: Vec::new(),
            },
            overrides: BTreeMap::new(),
            evidence_excludes: default_excludes(),
            policy: default_policy(),
            class_doubt: default_class_doubt(),
        };
        AggregationConfig::from_valid(spec)
    }

    fn from_valid(spec: AggregationSpec) -> AggregationConfig {
        let fingerprint = crate::rule::fingerprint(&spec);
        AggregationConfig { spec, fingerprint }
    }

    pub fn spec(&self) -> &AggregationSpec {
        &self.spec
    }

    /// The thresholds and gates for one capability.
    pub fn level_rules(&self, capability: &CapabilityId) -> &LevelRules {
        self.spec
            .overrides
            .get(capability)
            .unwrap_or(&self.spec.levels)
    }

    pub fn policy(&self) -> &RatingPolicy {
        &self.spec.policy
    }

    pub fn counts_as_evidence(&self, class: RaterClass) -> bool {
        !self.spec.evidence_excludes.contains(&class)
    }

    pub fn class_doubt(&self) -> f64 {
        self.spec.class_doubt
    }

    /// A short hash of the configuration, cited by every explanation.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

impl LevelRules {
    /// The threshold of `level`: the `at_least` of the last step at or below it.
    pub fn threshold(&self, level: Level) -> f64 {
        self.thresholds
            .iter()
            .rev()
            .find(|step| step.from_level <= level)
            .map_or(f64::INFINITY, |step| step.at_least)
    }

    /// The gates that apply to `level`.
    pub fn gates_for(&self, level: Level) -> impl Iterator<Item = &Gate> {
        self.gates.iter().filter(move |g| g.from_level <= level)
    }
}

fn check_level_rules(rules: &LevelRules) -> Result<()> {
    let Some(first) = rules.thresholds.first() else {
        return Err(Error::invalid(
            "thresholds",
            "non-empty",
            "at least one threshold step",
        ));
    };
    if first.from_level != Level::MIN {
        return Err(Error::invalid(
            "thresholds[0].from_level",
            "thresholds-from-1",
            "the first threshold step starts at level 1",
        ));
    }
    for (i, step) in rules.thresholds.iter().enumerate() {
        if !(step.at_least.is_finite() && step.at_least > 0.0) {
            return Err(Error::invalid(
                format!("thresholds[{i}].at_least"),
                "positive",
                "a threshold is positive, so that no evidence never reaches a level",
            ));
        }
        if i > 0 {
            let before = rules.thresholds[i - 1];
            if before.from_level >= step.from_level {
                return Err(Error::invalid(
                    format!("thresholds[{i}].from_level"),
                    "steps-increasing",
                    "threshold steps are in increasing level order",
                ));
            }
            if before.at_least > step.at_least {
                return Err(Error::invalid(
                    format!("thresholds[{i}].at_least"),
                    "thresholds-non-decreasing",
                    "a higher level never needs less support than a lower one",
                ));
            }
        }
    }
    for (i, gate) in rules.gates.iter().enumerate() {
        let at = format!("gates[{i}]");
        match &gate.requirement {
            GateRequirement::RaterClasses { classes, min_items } => {
                if classes.is_empty() {
                    return Err(Error::invalid(
                        format!("{at}.classes"),
                        "non-empty",
                        "a gate names rater classes",
                    ));
                }
                if *min_items == 0 {
                    return Err(Error::invalid(
                        format!("{at}.min_items"),
                        "positive",
                        "a gate asks for at least one item",
                    ));
                }
            }
            GateRequirement::DistinctRaters { min } => {
                if *min == 0 {
                    return Err(Error::invalid(
                        format!("{at}.min"),
                        "positive",
                        "a gate asks for at least one rater",
                    ));
                }
            }
        }
    }
    Ok(())
}
