//! The model's validation (every error names the field and the rule) and its JSON forms.

use capability_engine::fixture::{self, Organisation};
use capability_engine::*;
use serde_json::{Value, json};

use crate::helpers::*;

#[track_caller]
fn expect_error<T: std::fmt::Debug>(name: &str, got: Result<T>, field: &str, rule: &str) {
    let err = got.expect_err(name);
    assert_eq!((err.field(), err.rule()), (field, rule), "{name}: {err}");
    assert_eq!(err.kind(), ErrorKind::Invalid, "{name}");
}

/// A name, a change to valid JSON, and the field and rule of the error it causes.
type Case = (&'static str, fn(&mut Value), &'static str, &'static str);

fn framework_json() -> Value {
    json!({
        "id": "f", "name": "F",
        "scale": [{"level": 1, "label": "one"}, {"level": 2, "label": "two"}, {"level": 3, "label": "three"}],
        "capabilities": [
            {"id": "A", "name": "Ay", "iri": "https://t.example/A"},
            {"id": "B", "name": "Bee", "levels": [{"level": 2}, {"level": 3}]}
        ],
        "relations": [{"source": "B", "kind": "narrows", "target": "A"}]
    })
}

#[test]
fn frameworks() {
    let cases: Vec<Case> = vec![
        ("no name", |f| f["name"] = json!(" "), "name", "non-empty"),
        ("no scale", |f| f["scale"] = json!([]), "scale", "non-empty"),
        (
            "a gap in the scale",
            |f| f["scale"][1]["level"] = json!(3),
            "scale[1].level",
            "scale-contiguous",
        ),
        (
            "an unlabelled level",
            |f| f["scale"][0]["label"] = json!(""),
            "scale[0].label",
            "non-empty",
        ),
        (
            "a capability twice",
            |f| f["capabilities"][1]["id"] = json!("A"),
            "capabilities[1].id",
            "unique-id",
        ),
        (
            "a level above the scale",
            |f| f["capabilities"][1]["levels"][1]["level"] = json!(4),
            "capabilities[1].levels[1].level",
            "level-in-scale",
        ),
        (
            "levels out of order",
            |f| f["capabilities"][1]["levels"] = json!([{"level": 3}, {"level": 2}]),
            "capabilities[1].levels[1].level",
            "levels-increasing",
        ),
        (
            "no levels",
            |f| f["capabilities"][1]["levels"] = json!([]),
            "capabilities[1].levels",
            "non-empty",
        ),
        (
            "a relative IRI",
            |f| f["capabilities"][0]["iri"] = json!("A"),
            "capabilities[0].iri",
            "iri",
        ),
        (
            "an IRI twice",
            |f| f["capabilities"][1]["iri"] = json!("https://t.example/A"),
            "capabilities[1].iri",
            "unique-iri",
        ),
        (
            "an unnamed capability",
            |f| f["capabilities"][0]["name"] = json!(""),
            "capabilities[0].name",
            "non-empty",
        ),
        (
            "a capability related to itself",
            |f| f["relations"][0]["target"] = json!("B"),
            "relations[0]",
            "no-self-relation",
        ),
    ];
    for (name, change, field, rule) in cases {
        let mut f = framework_json();
        change(&mut f);
        let spec: FrameworkSpec = serde_json::from_value(f).expect(name);
        expect_error(name, Framework::new(spec), field, rule);
    }
    // Deserialising validates too, and the message names field and rule.
    let mut f = framework_json();
    f["scale"] = json!([]);
    let err = serde_json::from_value::<Framework>(f).expect_err("empty scale");
    assert!(
        err.to_string()
            .contains("scale: a scale has at least one level (non-empty)"),
        "{err}"
    );
}

#[test]
fn catalogs() {
    let framework = |f: Value| serde_json::from_value::<Framework>(f).expect("framework");
    let base = framework(framework_json());
    let mut unknown = framework_json();
    unknown["relations"][0]["target"] = json!("Q");
    expect_error(
        "a relation to nowhere",
        Catalog::new(vec![framework(unknown)]),
        "frameworks[0].relations[0].target",
        "known-capability",
    );
    let mut cycle = framework_json();
    cycle["relations"] = json!([{"source": "B", "kind": "narrows", "target": "A"}, {"source": "A", "kind": "narrows", "target": "B"}]);
    expect_error(
        "a narrows cycle",
        Catalog::new(vec![framework(cycle)]),
        "relations",
        "acyclic",
    );
    let mut other = framework_json();
    other["id"] = json!("g");
    expect_error(
        "a capability in two frameworks",
        Catalog::new(vec![base.clone(), framework(other)]),
        "frameworks[1].capabilities[0].id",
        "unique-id",
    );
    expect_error(
        "a framework twice",
        Catalog::new(vec![base.clone(), base.clone()]),
        "frameworks[1].id",
        "unique-id",
    );
    let short = framework(json!({
        "id": "short", "name": "Short", "scale": [{"level": 1, "label": "one"}],
        "capabilities": [{"id": "C", "name": "See"}],
        "relations": [{"source": "C", "kind": "equivalent", "target": "A"}]
    }));
    expect_error(
        "equivalent capabilities on scales of different length",
        Catalog::new(vec![base.clone(), short]),
        "frameworks[1].relations[0]",
        "equivalent-scales",
    );
    let catalog = Catalog::new(vec![base]).expect("catalog");
    let err = catalog.capability(&cap("Q")).expect_err("unknown");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(catalog.by_iri("https://t.example/A"), Some(&cap("A")));
    assert_eq!(catalog.equivalents(&cap("A")), [cap("A")]);
}

#[test]
fn roles_and_assignments() {
    let catalog = fixture::catalog();
    let role = |requirements: Value| -> RoleSpec {
        serde_json::from_value(json!({"id": "r", "name": "R", "requirements": requirements}))
            .expect("role")
    };
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "unknown capability",
            json!([{"capability": "NOPE", "level": 2}]),
            "roles[0].requirements[0].capability",
            "known-capability",
        ),
        // ARCH defines levels 3–5 only.
        (
            "undefined level",
            json!([{"capability": "ARCH", "level": 2}]),
            "roles[0].requirements[0].level",
            "level-defined",
        ),
        (
            "a capability twice",
            json!([{"capability": "CODE", "level": 2}, {"capability": "CODE", "level": 3}]),
            "roles[0].requirements[1].capability",
            "unique-requirement",
        ),
    ];
    for (name, requirements, field, rule) in cases {
        expect_error(
            name,
            Roles::new(vec![role(requirements)], &catalog),
            field,
            rule,
        );
    }
    let ok = role(json!([{"capability": "CODE", "level": 2}]));
    expect_error(
        "a role twice",
        Roles::new(vec![ok.clone(), ok.clone()], &catalog),
        "roles[1].id",
        "unique-id",
    );
    assert!(serde_json::from_value::<RoleSpec>(json!({"id": "r", "name": "R", "requirements": [{"capability": "CODE", "level": 2, "weight": 0}]})).is_err());
    let roles = Roles::new(vec![ok], &catalog).expect("roles");
    let defaults = &roles
        .get(&RoleId::parse("r").expect("id"))
        .expect("role")
        .requirements()[0];
    assert_eq!(
        (defaults.weight.get(), defaults.criticality),
        (1.0, Criticality::Important)
    );

    let roles = fixture::roles(&catalog);
    let assignment = |role: &str, from: &str, until: Option<&str>| Assignment {
        person: person("ana"),
        role: RoleId::parse(role).expect("role id"),
        from: fixture::at(from),
        until: until.map(fixture::at),
        manager: None,
    };
    expect_error(
        "unknown role",
        Assignments::new(
            vec![assignment("astronaut", "2026-01-01T00:00:00Z", None)],
            &roles,
        ),
        "assignments[0].role",
        "known-role",
    );
    expect_error(
        "ends before it starts",
        Assignments::new(
            vec![assignment(
                "engineer",
                "2026-01-01T00:00:00Z",
                Some("2026-01-01T00:00:00Z"),
            )],
            &roles,
        ),
        "assignments[0].until",
        "until-after-from",
    );
    expect_error(
        "overlapping",
        Assignments::new(
            vec![
                assignment(
                    "engineer",
                    "2025-01-01T00:00:00Z",
                    Some("2026-01-01T00:00:00Z"),
                ),
                assignment("engineer", "2025-12-01T00:00:00Z", None),
            ],
            &roles,
        ),
        "assignments[1]",
        "no-overlap",
    );
    let a = Assignments::new(
        vec![
            assignment(
                "engineer",
                "2025-01-01T00:00:00Z",
                Some("2026-01-01T00:00:00Z"),
            ),
            assignment("engineer", "2026-01-01T00:00:00Z", None),
            assignment("team-lead", "2025-06-01T00:00:00Z", None),
        ],
        &roles,
    )
    .expect("back to back is fine, and several roles at once");
    let names = |at: &str| -> Vec<String> {
        a.roles_of(&person("ana"), fixture::at(at))
            .iter()
            .map(|r| r.to_string())
            .collect()
    };
    assert_eq!(names("2024-12-31T23:59:59Z"), Vec::<String>::new());
    assert_eq!(names("2025-03-01T00:00:00Z"), ["engineer"]);
    assert_eq!(names("2026-01-01T00:00:00Z"), ["engineer", "team-lead"]);
}

fn rule_json() -> Value {
    json!({
        "id": "r", "version": 1,
        "match": {"verbs": ["http://adlnet.gov/expapi/verbs/passed"], "activity": {"glob": "https://a.example/*"},
                  "context_activities": [{"kind": "grouping", "activity_type": "https://w3id.org/xapi/tla/activity-types/competency"}],
                  "result": {"scaled": {"at_least": 0.5}}},
        "emit": {"capability": {"id": "CODE"}, "level": {"scaled-bands": [{"at_least": 0.5, "level": 1}, {"at_least": 0.8, "level": 2}]},
                 "weight": 0.5, "half_life_days": 365, "rater": "e-learning"}
    })
}

#[test]
fn rules() {
    let catalog = fixture::catalog();
    let cases: Vec<Case> = vec![
        (
            "version 0",
            |r| r["version"] = json!(0),
            "rules[0].version",
            "version-positive",
        ),
        (
            "no verbs",
            |r| r["match"]["verbs"] = json!([]),
            "rules[0].match.verbs",
            "non-empty",
        ),
        (
            "a verb that is no IRI",
            |r| r["match"]["verbs"] = json!(["passed"]),
            "rules[0].match.verbs[0]",
            "iri",
        ),
        (
            "an empty glob",
            |r| r["match"]["activity"] = json!({"glob": ""}),
            "rules[0].match.activity.glob",
            "non-empty",
        ),
        (
            "an exact id that is no IRI",
            |r| r["match"]["activity"] = json!({"exact": "x"}),
            "rules[0].match.activity.exact",
            "iri",
        ),
        (
            "a context predicate without id or type",
            |r| r["match"]["context_activities"] = json!([{"kind": "parent"}]),
            "rules[0].match.context_activities[0]",
            "id-or-type",
        ),
        (
            "a band without bounds",
            |r| r["match"]["result"]["scaled"] = json!({}),
            "rules[0].match.result.scaled",
            "band-bound",
        ),
        (
            "a band upside down",
            |r| r["match"]["result"]["scaled"] = json!({"at_least": 0.9, "below": 0.5}),
            "rules[0].match.result.scaled",
            "band-order",
        ),
        (
            "a band outside −1…1",
            |r| r["match"]["result"]["scaled"] = json!({"at_least": 1.5}),
            "rules[0].match.result.scaled.at_least",
            "scaled-range",
        ),
        (
            "an extension key that is no IRI",
            |r| r["match"]["extensions"] = json!([{"in": "context", "key": "mode"}]),
            "rules[0].match.extensions[0].key",
            "iri",
        ),
        (
            "an unknown capability",
            |r| r["emit"]["capability"] = json!({"id": "NOPE"}),
            "rules[0].emit.capability.id",
            "known-capability",
        ),
        (
            "a level above the scale",
            |r| r["emit"]["level"] = json!({"fixed": 6}),
            "rules[0].emit.level.fixed",
            "level-in-scale",
        ),
        (
            "bands going down",
            |r| r["emit"]["level"] = json!({"scaled-bands": [{"at_least": 0.8, "level": 2}, {"at_least": 0.5, "level": 1}]}),
            "rules[0].emit.level.scaled-bands[1]",
            "bands-increasing",
        ),
        (
            "no bands",
            |r| r["emit"]["level"] = json!({"scaled-bands": []}),
            "rules[0].emit.level.scaled-bands",
            "non-empty",
        ),
        (
            "a rater filter the fixed class cannot pass",
            |r| r["match"]["raters"] = json!(["manager"]),
            "rules[0].match.raters",
            "rater-filter",
        ),
    ];
    for (name, change, field, rule) in cases {
        let mut r = rule_json();
        change(&mut r);
        let spec: RuleSpec = serde_json::from_value(r).expect(name);
        expect_error(name, RuleSet::new(vec![spec], &catalog), field, rule);
    }
    let spec: RuleSpec = serde_json::from_value(rule_json()).expect("rule");
    expect_error(
        "a rule twice",
        RuleSet::new(vec![spec.clone(), spec.clone()], &catalog),
        "rules[1].id",
        "unique-id",
    );
    for bad in [
        json!({"weight": 0}),
        json!({"weight": 1.5}),
        json!({"half_life_days": 0}),
    ] {
        let mut r = rule_json();
        for (k, v) in bad.as_object().expect("object") {
            r["emit"][k] = v.clone();
        }
        assert!(serde_json::from_value::<RuleSpec>(r).is_err(), "{bad}");
    }

    // Versions only go up.
    let rules = RuleSet::new(vec![spec.clone()], &catalog).expect("rules");
    expect_error(
        "the same version again",
        rules.with_rule(spec.clone(), &catalog),
        "version",
        "version-increases",
    );
    let mut v2 = spec;
    v2.version = 2;
    let newer = rules.with_rule(v2, &catalog).expect("version 2");
    assert_eq!(newer.versions().values().copied().collect::<Vec<_>>(), [2]);
    assert_ne!(newer.fingerprint(), rules.fingerprint());
    assert!(newer.without(&RuleId::parse("r").expect("id")).is_empty());
}

#[test]
fn the_documented_rule_example_is_valid() {
    // The example in `capability_engine::rule`'s documentation.
    let spec: RuleSpec = serde_json::from_value(json!({
        "id": "observation", "version": 2,
        "match": { "verbs": ["https://w3id.org/xapi/dod-isd/verbs/performed"],
                   "activity_types": ["http://adlnet.gov/expapi/activities/performance"],
                   "activity": {"glob": "https://acme.example/tasks/*"},
                   "result": {"success": true} },
        "emit": { "capability": {"from": "grouping"}, "level": "score-raw",
                  "weight": 0.8, "half_life_days": 540 }
    }))
    .expect("rule");
    RuleSet::new(vec![spec], &fixture::catalog()).expect("valid");
}

#[test]
fn configurations() {
    let catalog = fixture::catalog();
    let cases: Vec<Case> = vec![
        (
            "no thresholds",
            |c| c["levels"]["thresholds"] = json!([]),
            "levels.thresholds",
            "non-empty",
        ),
        (
            "thresholds not from level 1",
            |c| c["levels"]["thresholds"][0]["from_level"] = json!(2),
            "levels.thresholds[0].from_level",
            "thresholds-from-1",
        ),
        (
            "a zero threshold",
            |c| c["levels"]["thresholds"][0]["at_least"] = json!(0.0),
            "levels.thresholds[0].at_least",
            "positive",
        ),
        (
            "a threshold going down",
            |c| c["levels"]["thresholds"][1]["at_least"] = json!(0.1),
            "levels.thresholds[1].at_least",
            "thresholds-non-decreasing",
        ),
        (
            "steps out of order",
            |c| c["levels"]["thresholds"][1]["from_level"] = json!(1),
            "levels.thresholds[1].from_level",
            "steps-increasing",
        ),
        (
            "a gate without classes",
            |c| c["levels"]["gates"][0]["classes"] = json!([]),
            "levels.gates[0].classes",
            "non-empty",
        ),
        (
            "a gate asking for nothing",
            |c| c["levels"]["gates"][0]["min_items"] = json!(0),
            "levels.gates[0].min_items",
            "positive",
        ),
        (
            "a gate asking for no raters",
            |c| c["levels"]["gates"][2]["min"] = json!(0),
            "levels.gates[2].min",
            "positive",
        ),
        (
            "an override for nothing",
            |c| {
                c["overrides"] =
                    json!({"NOPE": {"thresholds": [{"from_level": 1, "at_least": 1.0}]}})
            },
            "overrides.NOPE",
            "known-capability",
        ),
        (
            "a bad override",
            |c| {
                c["overrides"] =
                    json!({"CODE": {"thresholds": [{"from_level": 1, "at_least": -1.0}]}})
            },
            "overrides.CODE.thresholds[0].at_least",
            "positive",
        ),
        (
            "certain doubt",
            |c| c["class_doubt"] = json!(1.0),
            "class_doubt",
            "fraction",
        ),
        (
            "a policy naming nobody",
            |c| c["policy"] = json!({"kind": "prioritised", "order": []}),
            "policy",
            "non-empty",
        ),
    ];
    for (name, change, field, rule) in cases {
        let mut c = serde_json::to_value(fixture::config_spec()).expect("json");
        change(&mut c);
        let spec: AggregationSpec = serde_json::from_value(c).expect(name);
        expect_error(name, AggregationConfig::new(spec, &catalog), field, rule);
    }
    // Defaults: self-assessments are not evidence, evidence-only policy, class doubt 0.2.
    let spec: AggregationSpec = serde_json::from_value(
        json!({"levels": {"thresholds": [{"from_level": 1, "at_least": 0.5}]}}),
    )
    .expect("spec");
    let config = AggregationConfig::new(spec, &catalog).expect("config");
    assert_eq!(config, AggregationConfig::simple());
    assert!(!config.counts_as_evidence(RaterClass::SelfAssessment));
    assert!(config.counts_as_evidence(RaterClass::Manager));
}

#[test]
fn json_round_trips() {
    let org = Organisation::personas();
    let catalog: Catalog =
        serde_json::from_value(serde_json::to_value(&org.catalog).expect("json")).expect("catalog");
    assert_eq!(catalog, org.catalog);
    let role_specs: Vec<RoleSpec> =
        serde_json::from_value(serde_json::to_value(&org.roles).expect("json")).expect("roles");
    assert_eq!(Roles::new(role_specs, &catalog).expect("roles"), org.roles);
    let rule_specs: Vec<RuleSpec> =
        serde_json::from_value(serde_json::to_value(&org.rules).expect("json")).expect("rules");
    assert_eq!(
        RuleSet::new(rule_specs, &catalog).expect("rules"),
        org.rules
    );
    let config_spec: AggregationSpec =
        serde_json::from_value(serde_json::to_value(&org.config).expect("json")).expect("config");
    assert_eq!(
        AggregationConfig::new(config_spec, &catalog).expect("config"),
        org.config
    );
    let assignments: Vec<Assignment> =
        serde_json::from_value(serde_json::to_value(&org.assignments).expect("json"))
            .expect("assignments");
    assert_eq!(
        Assignments::new(assignments, &org.roles).expect("assignments"),
        org.assignments
    );
    let ledger = org.ledger();
    let back: Ledger =
        serde_json::from_value(serde_json::to_value(&ledger).expect("json")).expect("ledger");
    assert_eq!(back, ledger);
    let statements: Vec<StoredStatement> =
        serde_json::from_value(serde_json::to_value(&org.statements).expect("json"))
            .expect("statements");
    assert_eq!(statements, org.statements);
    let assessment = org
        .evaluator(&ledger)
        .assess(
            &PersonKey::parse(fixture::ANA).expect("key"),
            &cap("CODE"),
            org.as_of,
        )
        .expect("assess");
    let back: Assessment = serde_json::from_value(serde_json::to_value(&assessment).expect("json"))
        .expect("assessment");
    assert_eq!(back, assessment);
}

#[test]
fn wire_shapes() {
    // The JSON a client sends and gets, spelled out once.
    let org = Organisation::personas();
    let rule = serde_json::to_value(
        org.rules
            .get(&RuleId::parse("workplace-observation-below").expect("id"))
            .expect("rule"),
    )
    .expect("json");
    assert_eq!(
        rule,
        json!({
            "id": "workplace-observation-below", "version": 1,
            "description": "Observed not performing at a level",
            "match": {"verbs": [vocab::VERB_PERFORMED], "activity_types": [vocab::TYPE_PERFORMANCE],
                      "result": {"success": false}},
            "emit": {"capability": {"from": "grouping"},
                     "level": {"extension": {"in": "context", "key": vocab::EXT_LEVEL}},
                     "weight": 0.6, "polarity": "contrary", "half_life_days": 540.0}
        })
    );
    let gates = serde_json::to_value(&fixture::config_spec().levels.gates).expect("json");
    assert_eq!(
        gates,
        json!([
            {"from_level": 3, "kind": "rater-classes", "classes": ["assessor", "manager", "instructor"], "min_items": 1},
            {"from_level": 4, "kind": "rater-classes", "classes": ["assessor"], "min_items": 1},
            {"from_level": 4, "kind": "distinct-raters", "min": 2}
        ])
    );
    assert_eq!(
        serde_json::to_value(RatingPolicy::manager_first()).expect("json"),
        json!({"kind": "prioritised", "order": ["manager"]})
    );
}
