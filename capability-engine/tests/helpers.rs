//! Small hand-made worlds for the tests: a catalog with a full and a sparse capability, one
//! rule id per rater class, and evidence items written down directly.

use capability_engine::*;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

/// The date hand-made evidence is dated back from.
pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-07-01T00:00:00Z")
        .expect("timestamp")
        .with_timezone(&Utc)
}

pub fn days_ago(days: f64) -> DateTime<Utc> {
    now() - Duration::milliseconds((days * 86_400_000.0) as i64)
}

pub fn level(n: u8) -> Level {
    Level::new(n).expect("level")
}

pub fn cap(id: &str) -> CapabilityId {
    CapabilityId::parse(id).expect("capability id")
}

pub fn person(n: &str) -> PersonKey {
    PersonKey::parse(&format!("mbox:mailto:{n}@test.example")).expect("person")
}

/// `X` (levels 1–5), `S` (defines only 2 and 4), `Y` ≡ `X` from a second framework, and
/// `Z` (levels 1–5, unrelated).
pub fn catalog() -> Catalog {
    let acme: Framework = serde_json::from_value(json!({
        "id": "test", "name": "Test framework",
        "scale": [{"level": 1, "label": "one"}, {"level": 2, "label": "two"}, {"level": 3, "label": "three"},
                  {"level": 4, "label": "four"}, {"level": 5, "label": "five"}],
        "capabilities": [
            {"id": "X", "name": "Ex", "iri": "https://test.example/caps/X"},
            {"id": "S", "name": "Sparse", "iri": "https://test.example/caps/S",
             "levels": [{"level": 2, "description": "two"}, {"level": 4, "description": "four"}]},
            {"id": "Z", "name": "Zed", "iri": "https://test.example/caps/Z"}
        ]
    }))
    .expect("framework");
    let other: Framework = serde_json::from_value(json!({
        "id": "other", "name": "Other framework",
        "scale": [{"level": 1, "label": "a"}, {"level": 2, "label": "b"}, {"level": 3, "label": "c"},
                  {"level": 4, "label": "d"}, {"level": 5, "label": "e"}],
        "capabilities": [{"id": "Y", "name": "Why", "iri": "https://other.example/Y"}],
        "relations": [{"source": "Y", "kind": "equivalent", "target": "X"}]
    }))
    .expect("framework");
    Catalog::new(vec![acme, other]).expect("catalog")
}

/// One rule per rater class (`rule-<class>`), so hand-made evidence can cite a rule the
/// ledger knows.
pub fn rules(catalog: &Catalog) -> RuleSet {
    let specs = RaterClass::ALL
        .iter()
        .map(|class| {
            serde_json::from_value(json!({
                "id": format!("rule-{}", class.as_str()), "version": 1,
                "match": {"verbs": ["http://adlnet.gov/expapi/verbs/experienced"]},
                "emit": {"capability": {"id": "X"}, "level": {"fixed": 1}, "weight": 1.0, "rater": class.as_str()}
            }))
            .expect("rule spec")
        })
        .collect();
    RuleSet::new(specs, catalog).expect("rules")
}

/// A configuration from the simple one with changes.
pub fn config(catalog: &Catalog, change: impl FnOnce(&mut AggregationSpec)) -> AggregationConfig {
    let mut spec = AggregationConfig::simple().spec().clone();
    change(&mut spec);
    AggregationConfig::new(spec, catalog).expect("config")
}

/// A hand-written evidence item.
#[derive(Debug, Clone)]
pub struct Item {
    pub n: u128,
    pub capability: &'static str,
    pub level: u8,
    pub polarity: Polarity,
    pub weight: f64,
    pub class: RaterClass,
    pub rater: Option<&'static str>,
    pub days_ago: f64,
    pub half_life: Option<f64>,
    pub expires_in: Option<f64>,
}

/// A supporting e-learning item for X, observed now, weight 1, no decay.
pub fn item(n: u128, level: u8) -> Item {
    Item {
        n,
        capability: "X",
        level,
        polarity: Polarity::Supporting,
        weight: 1.0,
        class: RaterClass::ELearning,
        rater: None,
        days_ago: 0.0,
        half_life: None,
        expires_in: None,
    }
}

impl Item {
    pub fn w(mut self, weight: f64) -> Item {
        self.weight = weight;
        self
    }
    pub fn contrary(mut self) -> Item {
        self.polarity = Polarity::Contrary;
        self
    }
    pub fn by(mut self, class: RaterClass, rater: Option<&'static str>) -> Item {
        self.class = class;
        self.rater = rater;
        self
    }
    pub fn ago(mut self, days: f64) -> Item {
        self.days_ago = days;
        self
    }
    pub fn half_life(mut self, days: f64) -> Item {
        self.half_life = Some(days);
        self
    }
    pub fn expires_in(mut self, days: f64) -> Item {
        self.expires_in = Some(days);
        self
    }
    pub fn on(mut self, capability: &'static str) -> Item {
        self.capability = capability;
        self
    }

    pub fn statement(&self) -> Uuid {
        Uuid::from_u128(self.n)
    }

    pub fn evidence(&self, who: &PersonKey) -> Evidence {
        let observed_at = days_ago(self.days_ago);
        Evidence {
            person: who.clone(),
            capability: cap(self.capability),
            level: level(self.level),
            polarity: self.polarity,
            weight: Weight::new(self.weight).expect("weight"),
            rater: Rater {
                class: self.class,
                agent: self.rater.map(person),
                basis: RaterBasis::Rule,
            },
            observed_at,
            stored_at: observed_at,
            statement: self.statement(),
            rule: RuleRef {
                id: RuleId::parse(format!("rule-{}", self.class.as_str())).expect("rule id"),
                version: 1,
            },
            half_life_days: self.half_life.map(|d| Days::new(d).expect("days")),
            expires_at: self
                .expires_in
                .map(|d| observed_at + Duration::milliseconds((d * 86_400_000.0) as i64)),
        }
    }
}

pub fn evidence_derivation(evidence: Evidence) -> Derivation {
    Derivation::Evidence {
        statement: evidence.statement,
        items: vec![evidence],
        skipped: Vec::new(),
    }
}

/// A ledger holding `items` for person `ana`, plus retractions `(target n, by n)`.
pub fn ledger(rules: &RuleSet, items: &[Item], retractions: &[(u128, u128)]) -> Ledger {
    let mut ledger = Ledger::new(rules);
    let who = person("ana");
    for item in items {
        ledger
            .apply(&evidence_derivation(item.evidence(&who)))
            .expect("apply");
    }
    for &(target, by) in retractions {
        ledger
            .apply(&Derivation::Retraction(Retraction {
                target: Uuid::from_u128(target),
                by: Uuid::from_u128(by),
                stored_at: now(),
            }))
            .expect("apply");
    }
    ledger
}

/// Assesses `ana` in `capability` as of [`now`].
pub fn assess(config: &AggregationConfig, items: &[Item], capability: &str) -> Assessment {
    assess_at(config, items, &[], capability, now())
}

pub fn assess_at(
    config: &AggregationConfig,
    items: &[Item],
    retractions: &[(u128, u128)],
    capability: &str,
    as_of: DateTime<Utc>,
) -> Assessment {
    let catalog = catalog();
    let rules = rules(&catalog);
    let ledger = ledger(&rules, items, retractions);
    Evaluator::new(&catalog, config, &ledger)
        .assess(&person("ana"), &cap(capability), as_of)
        .expect("assess")
}

pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[track_caller]
pub fn assert_close(got: f64, want: f64) {
    assert!(close(got, want), "got {got}, want {want}");
}
