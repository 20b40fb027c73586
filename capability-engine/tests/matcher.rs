//! The matcher: statements of every template → evidence, rater derivation, predicates,
//! skips and voiding.

use capability_engine::fixture::{self, templates};
use capability_engine::rater::derive_rater;
use capability_engine::*;
use serde_json::{Value, json};
use uuid::Uuid;

fn stored(body: Value, n: u128) -> StoredStatement {
    let Value::Object(mut json) = body else {
        panic!("not an object")
    };
    json.insert("id".into(), json!(Uuid::from_u128(n).to_string()));
    json.insert("timestamp".into(), json!("2026-05-02T09:30:00Z"));
    json.insert("stored".into(), json!("2026-05-02T09:31:00.123Z"));
    json.insert(
        "authority".into(),
        json!({"mbox": "mailto:plms@acme.example"}),
    );
    StoredStatement::parse(json).expect("stored statement")
}

fn agent(key: &str) -> Value {
    fixture::agent(key, "someone")
}

fn key(k: &str) -> PersonKey {
    PersonKey::parse(k).expect("key")
}

struct World {
    catalog: Catalog,
    rules: RuleSet,
}

fn world() -> World {
    let catalog = fixture::catalog();
    let rules = fixture::rules(&catalog);
    World { catalog, rules }
}

fn derive(w: &World, statement: &StoredStatement) -> (Vec<Evidence>, Vec<Skip>) {
    match match_statement(statement, &w.rules, &w.catalog) {
        Derivation::Evidence { items, skipped, .. } => (items, skipped),
        Derivation::Retraction(r) => panic!("unexpected retraction {r:?}"),
    }
}

/// (rule, person, capability, level, polarity, rater class) of each item.
fn summary(items: &[Evidence]) -> Vec<(String, String, String, u8, Polarity, RaterClass)> {
    items
        .iter()
        .map(|e| {
            (
                e.rule.id.to_string(),
                e.person.to_string(),
                e.capability.to_string(),
                e.level.get(),
                e.polarity,
                e.rater.class,
            )
        })
        .collect()
}

fn row(
    rule: &str,
    who: &str,
    capability: &str,
    lvl: u8,
    polarity: Polarity,
    class: RaterClass,
) -> (String, String, String, u8, Polarity, RaterClass) {
    (
        rule.into(),
        who.into(),
        capability.into(),
        lvl,
        polarity,
        class,
    )
}

use Polarity::{Contrary, Supporting};
use RaterClass as R;

const ANA: &str = fixture::ANA;
const BO: &str = fixture::BO;
const CY: &str = fixture::CY;

#[test]
fn every_template_yields_its_evidence() {
    let w = world();
    let ana = agent(ANA);
    let bo = agent(BO);
    let lee = agent(fixture::LEE_ASSESSOR);
    let max = agent(fixture::MAX_MANAGER);
    let tia = agent(fixture::TIA_TRAINER);
    let cases = vec![
        (
            "e-learning passed, 0.97 → band 3",
            templates::elearning(&ana, "CODE/quiz", "CODE", 0.97),
            vec![row(
                "elearning-passed",
                ANA,
                "CODE",
                3,
                Supporting,
                R::ELearning,
            )],
        ),
        (
            "e-learning passed, 0.85 → band 2",
            templates::elearning(&ana, "CODE/quiz", "CODE", 0.85),
            vec![row(
                "elearning-passed",
                ANA,
                "CODE",
                2,
                Supporting,
                R::ELearning,
            )],
        ),
        (
            "e-learning failed",
            templates::elearning(&ana, "CODE/quiz", "CODE", 0.4),
            vec![row(
                "elearning-failed",
                ANA,
                "CODE",
                2,
                Contrary,
                R::ELearning,
            )],
        ),
        (
            "coaching session",
            templates::coaching(&ana, &bo, "ARCH", "s1"),
            vec![row(
                "coaching-session",
                ANA,
                "ARCH",
                2,
                Supporting,
                R::Coach,
            )],
        ),
        (
            "mentoring: the mentor's practice and the mentee's exposure",
            templates::mentoring(&bo, &agent(CY), "RSCH"),
            vec![
                row("mentoring-given", BO, "MENT", 3, Supporting, R::Peer),
                row("mentoring-received", CY, "RSCH", 2, Supporting, R::Mentor),
            ],
        ),
        (
            "in-person practical, 0.85 → band 3",
            templates::practical(&ana, &tia, "negotiation-101", "NEGO", 0.85),
            vec![row(
                "ilt-practical",
                ANA,
                "NEGO",
                3,
                Supporting,
                R::Instructor,
            )],
        ),
        (
            "in-person attendance",
            templates::attended(&ana, &tia, "negotiation-101", "NEGO"),
            vec![row(
                "ilt-attended",
                ANA,
                "NEGO",
                1,
                Supporting,
                R::Instructor,
            )],
        ),
        (
            "workplace observation at 4",
            templates::observation(&ana, &lee, "incident-review", "INCD", 4, true),
            vec![row(
                "workplace-observation",
                ANA,
                "INCD",
                4,
                Supporting,
                R::Assessor,
            )],
        ),
        (
            "workplace observation below 4",
            templates::observation(&ana, &lee, "incident-review", "INCD", 4, false),
            vec![row(
                "workplace-observation-below",
                ANA,
                "INCD",
                4,
                Contrary,
                R::Assessor,
            )],
        ),
        (
            "manager assessment",
            templates::assessment(&ana, Some(&max), "manager", "CODE", 4),
            vec![row(
                "manager-assessment",
                ANA,
                "CODE",
                4,
                Supporting,
                R::Manager,
            )],
        ),
        (
            "self-assessment",
            templates::assessment(&ana, None, "self", "CODE", 5),
            vec![row(
                "self-assessment",
                ANA,
                "CODE",
                5,
                Supporting,
                R::SelfAssessment,
            )],
        ),
        (
            "peer assessment",
            templates::assessment(&ana, Some(&agent(fixture::FAY)), "peer", "REVW", 3),
            vec![row("peer-assessment", ANA, "REVW", 3, Supporting, R::Peer)],
        ),
        (
            "a manager assessment of oneself is a self-assessment",
            templates::assessment(&ana, Some(&ana), "manager", "CODE", 5),
            vec![row(
                "self-assessment",
                ANA,
                "CODE",
                5,
                Supporting,
                R::SelfAssessment,
            )],
        ),
        (
            "the partner framework's capability",
            templates::observation(&ana, &lee, "talk", "SPKG", 3, true),
            vec![row(
                "workplace-observation",
                ANA,
                "SPKG",
                3,
                Supporting,
                R::Assessor,
            )],
        ),
    ];
    for (name, body, want) in cases {
        let (items, skipped) = derive(&w, &stored(body, 1));
        assert_eq!(summary(&items), want, "{name}");
        assert!(skipped.is_empty(), "{name}: {skipped:?}");
        for item in &items {
            assert_eq!(item.statement, Uuid::from_u128(1));
            assert_eq!(
                item.observed_at,
                at("2026-05-02T09:30:00Z"),
                "observed = timestamp"
            );
            assert_eq!(item.stored_at, at("2026-05-02T09:31:00.123Z"));
            assert_eq!(item.rule.version, 1);
        }
    }
}

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    fixture::at(s)
}

#[test]
fn evidence_carries_the_rule_numbers() {
    let w = world();
    let (items, _) = derive(
        &w,
        &stored(
            templates::observation(
                &agent(ANA),
                &agent(fixture::LEE_ASSESSOR),
                "t",
                "CODE",
                4,
                true,
            ),
            1,
        ),
    );
    let e = &items[0];
    assert_eq!(e.weight.get(), 0.8);
    assert_eq!(e.half_life_days.map(Days::get), Some(540.0));
    assert_eq!(e.expires_at, None);
    assert_eq!(e.rater.agent, Some(key(fixture::LEE_ASSESSOR)));
    assert_eq!(e.rater.basis, RaterBasis::Observer);
}

/// Name, statement, whether the subject is the actor, the rule's fixed class, and the class,
/// basis and rater agent expected.
type RaterCase = (
    &'static str,
    Value,
    bool,
    Option<RaterClass>,
    RaterClass,
    RaterBasis,
    Option<&'static str>,
);

/// A change to a stored statement's JSON.
type Change = Box<dyn Fn(&mut serde_json::Map<String, Value>)>;

#[test]
fn rater_derivation() {
    let ana = agent(ANA);
    let bo = agent(BO);
    let subject = key(ANA);
    let mut coaching_103 = templates::coaching(&ana, &bo, "ARCH", "s");
    coaching_103["context"]
        .as_object_mut()
        .expect("context")
        .remove("contextAgents");
    let mut plain = templates::elearning(&ana, "CODE/quiz", "CODE", 0.9);
    plain["context"]["instructor"] = bo.clone();
    let no_instructor = templates::elearning(&ana, "CODE/quiz", "CODE", 0.9);
    let mut peer_by_context_agent = no_instructor.clone();
    peer_by_context_agent["context"]["contextAgents"] = json!([
        {"objectType": "contextAgent", "agent": agent(fixture::FAY), "relevantTypes": [vocab::ROLE_PEER]},
        {"objectType": "contextAgent", "agent": agent(fixture::MAX_MANAGER), "relevantTypes": ["https://other.example/x", vocab::ROLE_MANAGER]}
    ]);
    let cases: Vec<RaterCase> = vec![
        (
            "2.0 context agent",
            templates::coaching(&ana, &bo, "ARCH", "s"),
            true,
            None,
            R::Coach,
            RaterBasis::ContextAgent {
                relevant_type: vocab::ROLE_COACH.into(),
            },
            Some(BO),
        ),
        (
            "manager outranks peer among context agents",
            peer_by_context_agent,
            true,
            None,
            R::Manager,
            RaterBasis::ContextAgent {
                relevant_type: vocab::ROLE_MANAGER.into(),
            },
            Some(fixture::MAX_MANAGER),
        ),
        (
            "1.0.3 session kind",
            coaching_103,
            true,
            None,
            R::Coach,
            RaterBasis::SessionKind,
            Some(BO),
        ),
        (
            "assessment type",
            templates::assessment(
                &ana,
                Some(&agent(fixture::MAX_MANAGER)),
                "manager",
                "CODE",
                3,
            ),
            true,
            None,
            R::Manager,
            RaterBasis::AssessmentType,
            Some(fixture::MAX_MANAGER),
        ),
        (
            "observer",
            templates::observation(&ana, &agent(fixture::LEE_ASSESSOR), "t", "CODE", 3, true),
            true,
            None,
            R::Assessor,
            RaterBasis::Observer,
            Some(fixture::LEE_ASSESSOR),
        ),
        (
            "instructor",
            plain.clone(),
            true,
            None,
            R::Instructor,
            RaterBasis::Instructor,
            Some(BO),
        ),
        (
            "the rule decides",
            plain,
            true,
            Some(R::ELearning),
            R::ELearning,
            RaterBasis::Rule,
            Some(BO),
        ),
        (
            "a system",
            no_instructor.clone(),
            true,
            None,
            R::ELearning,
            RaterBasis::System,
            None,
        ),
        (
            "the mentor speaks about the mentee",
            templates::mentoring(&bo, &ana, "RSCH"),
            false,
            None,
            R::Mentor,
            RaterBasis::Actor,
            Some(BO),
        ),
        (
            "the mentee witnessed the mentor",
            templates::mentoring(&ana, &bo, "RSCH"),
            true,
            None,
            R::Peer,
            RaterBasis::ObjectAgent,
            Some(BO),
        ),
    ];
    for (name, body, subject_is_actor, fixed, class, basis, rater) in cases {
        let statement = stored(body, 1);
        let got = derive_rater(&statement, &subject, subject_is_actor, fixed);
        assert_eq!(
            (got.class, got.basis, got.agent),
            (class, basis, rater.map(key)),
            "{name}"
        );
    }
    // The person's own credential vouched for the statement.
    let mut statement = stored(no_instructor, 2).json().clone();
    statement.insert("authority".into(), json!({"objectType": "Group", "member": [agent(ANA), {"account": {"homePage": "https://app.example", "name": "app"}}]}));
    let statement = StoredStatement::parse(statement).expect("statement");
    let got = derive_rater(&statement, &subject, true, None);
    assert_eq!(
        (got.class, got.basis),
        (R::SelfAssessment, RaterBasis::Authority)
    );
    // …unless the rule fixes the class: the sender is not the rater.
    let got = derive_rater(&statement, &subject, true, Some(R::ELearning));
    assert_eq!(
        (got.class, got.basis, got.agent),
        (R::ELearning, RaterBasis::Rule, None)
    );
}

#[test]
fn skips_say_why() {
    let w = world();
    let ana = agent(ANA);
    let mut fractional = templates::assessment(
        &ana,
        Some(&agent(fixture::MAX_MANAGER)),
        "manager",
        "CODE",
        3,
    );
    fractional["result"]["score"]["raw"] = json!(2.5);
    let mut unknown_capability = templates::elearning(&ana, "X/quiz", "CODE", 0.9);
    unknown_capability["context"]["contextActivities"]["grouping"][0]["id"] =
        json!("https://acme.example/capabilities/NOPE");
    let mut anonymous = templates::elearning(&ana, "CODE/quiz", "CODE", 0.9);
    anonymous["actor"] = json!({"objectType": "Group", "name": "anonymous"});
    let cases = vec![
        (
            "below the lowest band",
            templates::practical(&ana, &agent(fixture::TIA_TRAINER), "c", "NEGO", 0.3),
            SkipReason::NoLevel,
        ),
        ("a fractional rating", fractional, SkipReason::NoLevel),
        (
            "a rating above the scale",
            templates::assessment(
                &ana,
                Some(&agent(fixture::MAX_MANAGER)),
                "manager",
                "CODE",
                7,
            ),
            SkipReason::LevelOutOfScale,
        ),
        (
            "no such capability",
            unknown_capability,
            SkipReason::NoCapability,
        ),
        ("an anonymous group", anonymous, SkipReason::NoSubject),
    ];
    for (name, body, reason) in cases {
        let (items, skipped) = derive(&w, &stored(body, 1));
        assert!(items.is_empty(), "{name}: {items:?}");
        assert_eq!(
            skipped.iter().map(|s| s.reason).collect::<Vec<_>>(),
            [reason],
            "{name}"
        );
        assert_eq!(skipped[0].statement, Uuid::from_u128(1));
        assert!(!skipped[0].detail.is_empty());
    }
    // A statement no rule is about yields nothing at all.
    let mut other = templates::elearning(&ana, "CODE/quiz", "CODE", 0.9);
    other["verb"] = json!({"id": "http://example.org/verbs/pondered"});
    let (items, skipped) = derive(&w, &stored(other, 2));
    assert!(items.is_empty() && skipped.is_empty());
}

#[test]
fn voiding_yields_a_retraction() {
    let w = world();
    let target = Uuid::from_u128(42);
    let statement = stored(templates::voiding(&agent(ANA), target), 7);
    assert_eq!(
        match_statement(&statement, &w.rules, &w.catalog),
        Derivation::Retraction(Retraction {
            target,
            by: Uuid::from_u128(7),
            stored_at: at("2026-05-02T09:31:00.123Z"),
        })
    );
}

#[test]
fn groups_and_several_capabilities() {
    let w = world();
    let mut body = templates::elearning(&agent(ANA), "team/quiz", "CODE", 0.97);
    body["actor"] =
        json!({"objectType": "Group", "name": "pair", "member": [agent(BO), agent(ANA)]});
    body["context"]["contextActivities"]["grouping"] = json!([
        {"id": "https://acme.example/capabilities/CODE"},
        {"id": "https://acme.example/capabilities/TEST"},
        {"id": "https://acme.example/capabilities/CODE"},
        {"id": "https://acme.example/elsewhere"}
    ]);
    let (items, _) = derive(&w, &stored(body, 1));
    let mut got: Vec<(String, String)> = items
        .iter()
        .map(|e| (e.person.to_string(), e.capability.to_string()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (ANA.to_owned(), "CODE".to_owned()),
            (ANA.to_owned(), "TEST".to_owned()),
            (BO.to_owned(), "CODE".to_owned()),
            (BO.to_owned(), "TEST".to_owned()),
        ]
    );
    // 1.0.3 as sent: a single context activity object instead of an array.
    let mut single = templates::coaching(&agent(ANA), &agent(BO), "ARCH", "s");
    single["context"]["contextActivities"]["grouping"] =
        json!({"id": "https://acme.example/capabilities/ARCH"});
    assert_eq!(derive(&w, &stored(single, 2)).0.len(), 1);
}

/// One rule, from JSON, over the fixture catalog.
fn one_rule(matching: Value, emit: Value) -> World {
    let catalog = fixture::catalog();
    let spec: RuleSpec =
        serde_json::from_value(json!({"id": "r", "version": 3, "match": matching, "emit": emit}))
            .expect("rule");
    let rules = RuleSet::new(vec![spec], &catalog).expect("rules");
    World { catalog, rules }
}

#[test]
fn predicates() {
    let base = || {
        json!({
            "actor": agent(ANA),
            "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
            "object": {"id": "https://acme.example/elearning/CODE/unit-3/quiz",
                       "definition": {"type": "http://adlnet.gov/expapi/activities/assessment",
                                      "extensions": {"https://example.org/ext/difficulty": "hard"}}},
            "result": {"success": true, "completion": true, "response": "Pass", "score": {"scaled": 0.75},
                       "extensions": {"https://example.org/ext/attempts": 2}},
            "context": {"contextActivities": {
                            "parent": [{"id": "https://acme.example/courses/code"}],
                            "other": [{"id": "https://acme.example/objectives/loops", "definition": {"type": "http://adlnet.gov/expapi/activities/objective"}}]},
                        "extensions": {"https://example.org/ext/mode": "normal"}}
        })
    };
    let emit = json!({"capability": {"id": "CODE"}, "level": {"fixed": 2}, "weight": 0.5});
    let verb = "http://adlnet.gov/expapi/verbs/passed";
    let cases: Vec<(&str, Value, bool)> = vec![
        ("verb", json!({"verbs": [verb]}), true),
        (
            "another verb",
            json!({"verbs": ["http://adlnet.gov/expapi/verbs/failed"]}),
            false,
        ),
        (
            "any of the verbs",
            json!({"verbs": ["http://adlnet.gov/expapi/verbs/failed", verb]}),
            true,
        ),
        (
            "activity type",
            json!({"verbs": [verb], "activity_types": ["http://adlnet.gov/expapi/activities/assessment"]}),
            true,
        ),
        (
            "another type",
            json!({"verbs": [verb], "activity_types": ["http://adlnet.gov/expapi/activities/course"]}),
            false,
        ),
        (
            "exact id",
            json!({"verbs": [verb], "activity": {"exact": "https://acme.example/elearning/CODE/unit-3/quiz"}}),
            true,
        ),
        (
            "exact is exact",
            json!({"verbs": [verb], "activity": {"exact": "https://acme.example/elearning/CODE"}}),
            false,
        ),
        (
            "glob",
            json!({"verbs": [verb], "activity": {"glob": "https://acme.example/elearning/CODE/*/quiz"}}),
            true,
        ),
        (
            "glob mismatch",
            json!({"verbs": [verb], "activity": {"glob": "https://acme.example/elearning/TEST/*"}}),
            false,
        ),
        (
            "success",
            json!({"verbs": [verb], "result": {"success": true}}),
            true,
        ),
        (
            "not success",
            json!({"verbs": [verb], "result": {"success": false}}),
            false,
        ),
        (
            "completion",
            json!({"verbs": [verb], "result": {"completion": true}}),
            true,
        ),
        (
            "band inside",
            json!({"verbs": [verb], "result": {"scaled": {"at_least": 0.7, "below": 0.8}}}),
            true,
        ),
        (
            "band lower bound is inclusive",
            json!({"verbs": [verb], "result": {"scaled": {"at_least": 0.75}}}),
            true,
        ),
        (
            "band upper bound is exclusive",
            json!({"verbs": [verb], "result": {"scaled": {"below": 0.75}}}),
            false,
        ),
        (
            "response",
            json!({"verbs": [verb], "result": {"response_in": ["Pass", "At Expectation"]}}),
            true,
        ),
        (
            "another response",
            json!({"verbs": [verb], "result": {"response_in": ["Fail"]}}),
            false,
        ),
        (
            "context extension equals",
            json!({"verbs": [verb], "extensions": [{"in": "context", "key": "https://example.org/ext/mode", "equals": "normal"}]}),
            true,
        ),
        (
            "context extension differs",
            json!({"verbs": [verb], "extensions": [{"in": "context", "key": "https://example.org/ext/mode", "equals": "exam"}]}),
            false,
        ),
        (
            "result extension exists",
            json!({"verbs": [verb], "extensions": [{"in": "result", "key": "https://example.org/ext/attempts"}]}),
            true,
        ),
        (
            "result extension equals a number",
            json!({"verbs": [verb], "extensions": [{"in": "result", "key": "https://example.org/ext/attempts", "equals": 2}]}),
            true,
        ),
        (
            "object extension",
            json!({"verbs": [verb], "extensions": [{"in": "object", "key": "https://example.org/ext/difficulty", "equals": "hard"}]}),
            true,
        ),
        (
            "missing extension",
            json!({"verbs": [verb], "extensions": [{"in": "context", "key": "https://example.org/ext/none"}]}),
            false,
        ),
        (
            "context activity of a kind and type",
            json!({"verbs": [verb], "context_activities": [{"kind": "other", "activity_type": "http://adlnet.gov/expapi/activities/objective"}]}),
            true,
        ),
        (
            "context activity of another kind",
            json!({"verbs": [verb], "context_activities": [{"kind": "grouping", "id": {"exact": "https://acme.example/courses/code"}}]}),
            false,
        ),
        (
            "context activity of any kind",
            json!({"verbs": [verb], "context_activities": [{"id": {"glob": "https://acme.example/courses/*"}}]}),
            true,
        ),
        (
            "rater filter",
            json!({"verbs": [verb], "raters": ["e-learning"]}),
            true,
        ),
        (
            "another rater",
            json!({"verbs": [verb], "raters": ["manager"]}),
            false,
        ),
    ];
    for (name, matching, want) in cases {
        let w = one_rule(matching, emit.clone());
        let (items, _) = derive(&w, &stored(base(), 1));
        assert_eq!(items.len(), usize::from(want), "{name}");
    }
}

#[test]
fn levels_and_expiry_from_the_statement() {
    let w = one_rule(
        json!({"verbs": [vocab::VERB_ACHIEVED]}),
        json!({"capability": {"from": "object"}, "level": {"extension": {"in": "context", "key": vocab::EXT_LEVEL}},
               "weight": 0.5, "expires_after_days": 30}),
    );
    let mut body = templates::assessment(
        &agent(ANA),
        Some(&agent(fixture::MAX_MANAGER)),
        "manager",
        "CODE",
        1,
    );
    let cases = [
        (json!("https://acme.example/levels/4"), Some(4)),
        (json!(3), Some(3)),
        (json!("5"), Some(5)),
        (json!("https://acme.example/levels/four"), None),
        (json!(2.5), None),
    ];
    for (value, want) in cases {
        body["context"]["extensions"][vocab::EXT_LEVEL] = value.clone();
        let (items, _) = derive(&w, &stored(body.clone(), 1));
        assert_eq!(items.first().map(|e| e.level.get()), want, "{value}");
    }
    body["context"]["extensions"][vocab::EXT_LEVEL] = json!(3);
    // The rule's 30 days: 2026-06-01T09:30.
    let (items, _) = derive(&w, &stored(body.clone(), 1));
    assert_eq!(items[0].expires_at, Some(at("2026-06-01T09:30:00Z")));
    // The statement's own expiry when earlier; the rule's when the statement's is later.
    body["context"]["extensions"][vocab::EXT_EXPIRES] = json!("2026-05-20T00:00:00+02:00");
    let (items, _) = derive(&w, &stored(body.clone(), 1));
    assert_eq!(items[0].expires_at, Some(at("2026-05-19T22:00:00Z")));
    body["context"]["extensions"][vocab::EXT_EXPIRES] = json!("2027-01-01T00:00:00Z");
    let (items, _) = derive(&w, &stored(body, 1));
    assert_eq!(items[0].expires_at, Some(at("2026-06-01T09:30:00Z")));
}

#[test]
fn stored_statements_are_checked() {
    let good = || {
        stored(
            templates::elearning(&agent(ANA), "CODE/quiz", "CODE", 0.9),
            1,
        )
        .json()
        .clone()
    };
    let cases: Vec<(&str, Change, Option<&str>)> = vec![
        ("as stored", Box::new(|_| {}), None),
        (
            "no id",
            Box::new(|s| {
                s.remove("id");
            }),
            Some("statement.id"),
        ),
        (
            "an id that is no UUID",
            Box::new(|s| {
                s.insert("id".into(), json!("x"));
            }),
            Some("statement.id"),
        ),
        (
            "no stored",
            Box::new(|s| {
                s.remove("stored");
            }),
            Some("statement.stored"),
        ),
        (
            "a bad timestamp",
            Box::new(|s| {
                s.insert("timestamp".into(), json!("yesterday"));
            }),
            Some("statement.timestamp"),
        ),
        (
            "no actor",
            Box::new(|s| {
                s.remove("actor");
            }),
            Some("statement.actor"),
        ),
        (
            "no verb id",
            Box::new(|s| {
                s.insert("verb".into(), json!({}));
            }),
            Some("statement.verb.id"),
        ),
        (
            "no object",
            Box::new(|s| {
                s.remove("object");
            }),
            Some("statement.object"),
        ),
    ];
    for (name, change, field) in cases {
        let mut json = good();
        change(&mut json);
        match (StoredStatement::parse(json), field) {
            (Ok(_), None) => {}
            (Err(e), Some(field)) => {
                assert_eq!(e.field(), field, "{name}");
                assert_eq!(e.kind(), ErrorKind::Invalid, "{name}");
            }
            (got, _) => panic!("{name}: {got:?}"),
        }
    }
    // Without a timestamp, the time of storing stands in.
    let mut json = good();
    json.remove("timestamp");
    let statement = StoredStatement::parse(json).expect("statement");
    assert_eq!(statement.timestamp(), statement.stored());
}
