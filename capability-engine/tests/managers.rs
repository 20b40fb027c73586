//! A manager's reports over time, the heatmap of those reports, and a person's progression,
//! checked against hand-worked expectations.

use capability_engine::report::{ProgressionPoint, Span};
use capability_engine::*;
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use serde_json::json;

use crate::helpers::*;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("timestamp")
        .with_timezone(&Utc)
}

/// `dev` needs X at 3 and Z at 2; `ops` needs Z at 4.
fn roles(catalog: &Catalog) -> Roles {
    let specs: Vec<RoleSpec> = serde_json::from_value(json!([
        {"id": "dev", "name": "Developer", "requirements": [
            {"capability": "X", "level": 3}, {"capability": "Z", "level": 2}]},
        {"id": "ops", "name": "Operations", "requirements": [{"capability": "Z", "level": 4}]}
    ]))
    .expect("roles");
    Roles::new(specs, catalog).expect("roles")
}

fn assignment(
    who: &str,
    role: &str,
    from: &str,
    until: Option<&str>,
    manager: Option<&str>,
) -> Assignment {
    Assignment {
        person: person(who),
        role: RoleId::parse(role).expect("role id"),
        from: at(from),
        until: until.map(at),
        manager: manager.map(person),
    }
}

/// Max manages ana throughout and bo until April, when bo moves to Kim; cy reports to Max in
/// two roles at once; dee has no manager.
fn organisation(roles: &Roles) -> Assignments {
    Assignments::new(
        vec![
            assignment("ana", "dev", "2026-01-01T00:00:00Z", None, Some("max")),
            assignment(
                "bo",
                "dev",
                "2026-01-01T00:00:00Z",
                Some("2026-04-01T00:00:00Z"),
                Some("max"),
            ),
            assignment("bo", "dev", "2026-04-01T00:00:00Z", None, Some("kim")),
            assignment("cy", "dev", "2026-02-01T00:00:00Z", None, Some("max")),
            assignment("cy", "ops", "2026-02-01T00:00:00Z", None, Some("max")),
            assignment("dee", "ops", "2026-01-01T00:00:00Z", None, None),
        ],
        roles,
    )
    .expect("assignments")
}

fn names(people: Vec<&PersonKey>) -> Vec<String> {
    people
        .into_iter()
        .map(|p| {
            p.as_str()
                .trim_start_matches("mbox:mailto:")
                .trim_end_matches("@test.example")
                .to_owned()
        })
        .collect()
}

#[test]
fn reports_follow_the_assignments_current_at_the_date() {
    let catalog = catalog();
    let roles = roles(&catalog);
    let assignments = organisation(&roles);
    let check = |manager: &str, date: &str, expected: &[&str]| {
        assert_eq!(
            names(assignments.reports_of(&person(manager), at(date))),
            expected,
            "{manager} at {date}"
        );
    };
    check("max", "2025-12-31T23:59:59Z", &[]);
    check("max", "2026-01-01T00:00:00Z", &["ana", "bo"]);
    // cy holds two roles under max and is listed once.
    check("max", "2026-02-01T00:00:00Z", &["ana", "bo", "cy"]);
    // `until` is exclusive: bo reports to kim from the first instant of April.
    check("max", "2026-03-31T23:59:59Z", &["ana", "bo", "cy"]);
    check("max", "2026-04-01T00:00:00Z", &["ana", "cy"]);
    check("kim", "2026-03-31T23:59:59Z", &[]);
    check("kim", "2026-04-01T00:00:00Z", &["bo"]);
    check("dee", "2026-06-01T00:00:00Z", &[]);
    check("nobody", "2026-06-01T00:00:00Z", &[]);
}

#[test]
fn a_person_is_not_their_own_manager() {
    let catalog = catalog();
    let roles = roles(&catalog);
    let error = Assignments::new(
        vec![
            assignment("ana", "dev", "2026-01-01T00:00:00Z", None, Some("max")),
            assignment("max", "ops", "2026-01-01T00:00:00Z", None, Some("max")),
        ],
        &roles,
    )
    .expect_err("own manager");
    assert_eq!(
        (error.kind(), error.field(), error.rule()),
        (
            ErrorKind::Invalid,
            "assignments[1].manager",
            "not-own-manager"
        )
    );
}

#[test]
fn the_manager_is_read_as_an_agent_or_a_key_and_left_out_when_absent() {
    let read: Vec<Assignment> = serde_json::from_value(json!([
        {"person": {"mbox": "mailto:ana@test.example"}, "role": "dev",
         "from": "2026-01-01T00:00:00Z", "manager": {"objectType": "Agent", "mbox": "mailto:max@test.example"}},
        {"person": "mbox:mailto:bo@test.example", "role": "dev",
         "from": "2026-01-01T00:00:00Z", "manager": "mbox:mailto:max@test.example"},
        {"person": "mbox:mailto:cy@test.example", "role": "dev", "from": "2026-01-01T00:00:00Z"}
    ]))
    .expect("assignments");
    assert_eq!(read[0].manager, Some(person("max")));
    assert_eq!(read[1].manager, Some(person("max")));
    assert_eq!(read[2].manager, None);
    let written = serde_json::to_value(&read[2]).expect("json");
    assert!(written.get("manager").is_none(), "{written}");
    let written = serde_json::to_value(&read[0]).expect("json");
    assert_eq!(written["manager"], json!("mbox:mailto:max@test.example"));

    let bad = serde_json::from_value::<Assignment>(json!(
        {"person": "mbox:mailto:ana@test.example", "role": "dev",
         "from": "2026-01-01T00:00:00Z", "manager": {"name": "no identifier"}}
    ));
    assert!(bad.is_err(), "a manager without an identifier is refused");
}

#[test]
fn a_managers_heatmap_has_their_reports_and_the_requirements_of_their_roles() {
    let catalog = catalog();
    let roles = roles(&catalog);
    let assignments = organisation(&roles);
    let rules = rules(&catalog);
    // ana: X at 3 (meets dev's 3); nothing on Z.
    let ledger = ledger(&rules, &[item(1, 3).ago(100.0)], &[]);
    let config = AggregationConfig::simple();
    let reports = Reports::new(
        Evaluator::new(&catalog, &config, &ledger),
        &roles,
        &assignments,
    );
    let as_of = at("2026-06-01T00:00:00Z");
    let people: Vec<PersonKey> = assignments
        .reports_of(&person("max"), as_of)
        .into_iter()
        .cloned()
        .collect();
    let map = reports
        .heatmap(&Team::People { people }, as_of)
        .expect("heatmap");
    assert_eq!(names(map.people.iter().collect()), ["ana", "cy"]);
    assert_eq!(map.capabilities, [cap("X"), cap("Z")], "catalog order");
    let figures: Vec<Vec<Figures>> = map
        .cells
        .iter()
        .map(|row| {
            row.iter()
                .map(|c| (c.level.map(Level::get), c.required.map(Level::get), c.gap))
                .collect()
        })
        .collect();
    assert_eq!(
        figures,
        [
            // ana (dev): X 3 of 3, Z none of 2.
            vec![(Some(3), Some(3), Some(0)), (None, Some(2), Some(2))],
            // cy (dev and ops): Z's requirement is the higher of the two, 4.
            vec![(None, Some(3), Some(3)), (None, Some(4), Some(4))],
        ]
    );
}

/// A cell's level, requirement and gap.
type Figures = (Option<u8>, Option<u8>, Option<i16>);

fn point(p: &ProgressionPoint) -> (DateTime<Utc>, Option<u8>, bool) {
    (p.at, p.level.map(Level::get), p.stale)
}

#[test]
fn a_progression_has_a_point_per_change() {
    let catalog = catalog();
    let rules = rules(&catalog);
    let roles = roles(&catalog);
    let assignments = organisation(&roles);
    let config = AggregationConfig::simple();
    // Level 1 sixty days ago, level 3 thirty days ago, then a level 4 item of weight 0.4
    // (below the 0.5 threshold on its own) ten days ago: no change.
    let items = [
        item(1, 1).ago(60.0),
        item(2, 3).ago(30.0),
        item(3, 4).w(0.4).ago(10.0),
    ];
    let ledger = ledger(&rules, &items, &[]);
    let reports = Reports::new(
        Evaluator::new(&catalog, &config, &ledger),
        &roles,
        &assignments,
    );
    let progression = reports
        .progression(
            &person("ana"),
            &cap("X"),
            Span {
                from: None,
                to: now(),
                step: None,
            },
        )
        .expect("progression");
    assert_eq!(progression.from, days_ago(60.0), "from the first item");
    assert_eq!(
        progression.points.iter().map(point).collect::<Vec<_>>(),
        [
            (days_ago(60.0), Some(1), false),
            (days_ago(30.0), Some(3), false),
            (now(), Some(3), false),
        ]
    );
    assert_eq!(progression.latest.level.map(Level::get), Some(3));
    assert_eq!(progression.levels.len(), 5);
    assert_eq!(progression.name, "Ex");

    // Before any evidence: one point, no level.
    let early = reports
        .progression(
            &person("ana"),
            &cap("X"),
            Span {
                from: Some(days_ago(100.0)),
                to: days_ago(90.0),
                step: Some(Days::new(1.0).expect("days")),
            },
        )
        .expect("progression");
    assert_eq!(
        early.points.iter().map(point).collect::<Vec<_>>(),
        [
            (days_ago(100.0), None, false),
            (days_ago(90.0), None, false)
        ]
    );
}

#[test]
fn decay_lowers_the_level_between_events_and_the_progression_sees_it() {
    let catalog = catalog();
    let rules = rules(&catalog);
    let roles = roles(&catalog);
    let assignments = organisation(&roles);
    let config = AggregationConfig::simple();
    // Weight 1 with a 10-day half-life, 40 days ago: 0.5 at day 10 (still reached, and
    // stale from then on), below the threshold right after.
    let items = [item(1, 2).ago(40.0).half_life(10.0)];
    let ledger = ledger(&rules, &items, &[]);
    let reports = Reports::new(
        Evaluator::new(&catalog, &config, &ledger),
        &roles,
        &assignments,
    );
    let progression = reports
        .progression(
            &person("ana"),
            &cap("X"),
            Span {
                from: None,
                to: now(),
                step: None,
            },
        )
        .expect("progression");
    let points: Vec<_> = progression.points.iter().map(point).collect();
    assert_eq!(points.len(), 4, "{points:?}");
    assert_eq!(points[0], (days_ago(40.0), Some(2), false));
    assert_eq!(
        points[1],
        (days_ago(30.0), Some(2), true),
        "half-life passed"
    );
    // The drop is found within a day's sample of the half-life.
    assert_eq!((points[2].1, points[2].2), (None, true));
    assert!(points[2].0 > days_ago(30.0) && points[2].0 <= days_ago(29.0));
    assert_eq!(points[3], (now(), None, true));
}

#[test]
fn a_progression_refuses_a_backwards_span_and_too_many_dates() {
    let catalog = catalog();
    let rules = rules(&catalog);
    let roles = roles(&catalog);
    let assignments = organisation(&roles);
    let config = AggregationConfig::simple();
    let ledger = ledger(&rules, &[], &[]);
    let reports = Reports::new(
        Evaluator::new(&catalog, &config, &ledger),
        &roles,
        &assignments,
    );
    let check = |span: Span, field: &str, rule: &str| {
        let error = reports
            .progression(&person("ana"), &cap("X"), span)
            .expect_err("refused");
        assert_eq!((error.field(), error.rule()), (field, rule));
    };
    check(
        Span {
            from: Some(now()),
            to: days_ago(1.0),
            step: None,
        },
        "from",
        "from-before-to",
    );
    check(
        Span {
            from: Some(now() - Duration::days(36_000)),
            to: now(),
            step: Some(Days::new(1.0).expect("days")),
        },
        "step",
        "too-many-points",
    );
    let unknown = reports.progression(
        &person("ana"),
        &cap("NOPE"),
        Span {
            from: None,
            to: now(),
            step: None,
        },
    );
    assert_eq!(
        unknown.expect_err("unknown capability").kind(),
        ErrorKind::NotFound
    );
}

proptest! {
    /// `reports_of` is exactly the people with an assignment that names the manager and
    /// holds at the date, sorted and without repeats.
    #[test]
    fn reports_of_is_the_holding_assignments_naming_the_manager(
        spans in prop::collection::vec(
            (0usize..4, 0usize..2, 0i64..300, prop::option::of(1i64..200), prop::option::of(0usize..3)),
            0..12,
        ),
        day in 0i64..500,
    ) {
        let catalog = catalog();
        let roles = roles(&catalog);
        let people = ["ana", "bo", "cy", "dee"];
        let managers = ["max", "kim", "lee"];
        let start = at("2026-01-01T00:00:00Z");
        let mut list: Vec<Assignment> = Vec::new();
        for (who, role, from, length, manager) in spans {
            let candidate = Assignment {
                person: person(people[who]),
                role: RoleId::parse(["dev", "ops"][role]).expect("role id"),
                from: start + Duration::days(from),
                until: length.map(|l| start + Duration::days(from + l)),
                manager: manager.map(|m| person(managers[m])),
            };
            let mut tried = list.clone();
            tried.push(candidate.clone());
            // Overlapping spans of one person in one role are refused; keep the rest.
            if Assignments::new(tried, &roles).is_ok() {
                list.push(candidate);
            }
        }
        let assignments = Assignments::new(list.clone(), &roles).expect("assignments");
        let date = start + Duration::days(day);
        for manager in managers {
            let manager = person(manager);
            let mut expected: Vec<&PersonKey> = list
                .iter()
                .filter(|a| a.manager.as_ref() == Some(&manager) && a.holds_at(date))
                .map(|a| &a.person)
                .collect();
            expected.sort();
            expected.dedup();
            prop_assert_eq!(assignments.reports_of(&manager, date), expected);
        }
    }
}
