//! The fixture organisation: reports whose numbers are computed by hand from the personas'
//! statements (see `capability_engine::fixture` for the script). Every persona statement is
//! dated a whole number of days before 2026-07-01, so each decay is 0.5^(age / half-life).

use capability_engine::fixture::{self, AS_OF, Organisation, days_before};
use capability_engine::*;
use chrono::{DateTime, Utc};

use crate::helpers::{assert_close, cap};

#[path = "expected.rs"]
mod expected;

use expected::d;

fn key(k: &str) -> PersonKey {
    PersonKey::parse(k).expect("key")
}

fn role(r: &str) -> RoleId {
    RoleId::parse(r).expect("role")
}

fn lvl(n: u8) -> Option<Level> {
    Some(Level::new(n).expect("level"))
}

fn as_of() -> DateTime<Utc> {
    fixture::at(AS_OF)
}

fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("JSON")
}

/// The id of a persona statement by its script name, as the reports' JSON writes it.
fn statement_id(org: &Organisation) -> impl Fn(&str) -> String + '_ {
    |name| org.statement_id(name).to_string()
}

#[test]
fn the_ledger_of_the_personas() {
    let org = Organisation::personas();
    let (ledger, skips) = Ledger::derive(&org.rules, &org.catalog, &org.statements);
    assert!(skips.is_empty(), "{skips:?}");
    // 30 statements with evidence, two of them (mentoring) with two items; one voiding.
    assert_eq!(ledger.len(), 31);
    assert_eq!(ledger.retractions().count(), 1);
    assert_eq!(ledger.active().count(), 30);
    assert_eq!(org.statement_bodies().len(), org.statements.len());
    assert!(
        org.statement_bodies()
            .iter()
            .all(|b| b.get("stored").is_none() && b.get("authority").is_none())
    );
}

#[test]
fn ana_against_senior_engineer() {
    let org = Organisation::personas();
    let ledger = org.ledger();
    let report = org
        .reports(&ledger)
        .gap_report(&key(fixture::ANA), &role("senior-engineer"), as_of())
        .expect("report");
    assert!(report.assigned);
    expected::check_report(
        &json(&report),
        &expected::ana_as_senior_engineer(),
        &statement_id(&org),
    );
    // The explanation behind the rows: CODE's assessor observation and ARCH's.
    let observation = 0.8 * d(180.0, 540.0);
    let arch_observation = 0.8 * d(60.0, 540.0);

    let code = &report.rows[0];
    assert_eq!(
        (code.self_level, code.manager_level, code.evidence_level),
        (lvl(5), lvl(4), lvl(4))
    );
    assert_eq!(code.last_evidence_at, Some(days_before(180)));
    let levels = &code.assessment.explanation.levels;
    assert_close(levels[2].support, 0.45 + observation);
    assert_close(levels[3].support, 0.3 + observation);
    assert_close(levels[4].support, 0.0);
    assert_eq!(
        levels[3]
            .gates
            .iter()
            .map(|g| (g.found, g.met))
            .collect::<Vec<_>>(),
        [(2, true), (1, true), (2, true)]
    );
    let cited: Vec<(uuid::Uuid, String)> = code
        .assessment
        .explanation
        .contributions
        .iter()
        .map(|c| (c.statement, format!("{}@{}", c.rule.id, c.rule.version)))
        .collect();
    assert!(cited.contains(&(
        org.statement_id("ana-code-observation"),
        "workplace-observation@1".into()
    )));
    assert!(cited.contains(&(
        org.statement_id("ana-code-self"),
        "self-assessment@1".into()
    )));
    assert_eq!(cited.len(), 4);

    let secu = &report.rows[3].assessment.explanation.excluded;
    assert_eq!(secu.len(), 1);
    assert_eq!(secu[0].statement, org.statement_id("ana-secu-elearning"));
    assert_eq!(
        secu[0].reason,
        ExclusionReason::Retracted {
            by: org.statement_id("ana-secu-voided")
        }
    );

    let arch = &report.rows[1].assessment.explanation;
    assert_eq!(
        arch.levels
            .iter()
            .map(|l| l.level.get())
            .collect::<Vec<_>>(),
        [3, 4, 5]
    );
    assert_close(arch.levels[0].support, arch_observation);
}

#[test]
fn ana_against_her_former_role() {
    let org = Organisation::personas();
    let ledger = org.ledger();
    let reports = org.reports(&ledger);
    let then = fixture::at("2026-03-01T00:00:00Z");
    let past = reports
        .gap_report(&key(fixture::ANA), &role("engineer"), then)
        .expect("report");
    assert!(past.assigned);
    assert_eq!(past.rows[0].achieved, lvl(4));
    assert_eq!(past.rows[0].gap, -1);
    let now = reports
        .gap_report(&key(fixture::ANA), &role("engineer"), as_of())
        .expect("report");
    assert!(!now.assigned, "she left the role on 2026-04-01");
    let combined = reports
        .person_report(&key(fixture::ANA), then)
        .expect("report");
    assert_eq!(combined.roles, [role("engineer")]);
}

#[test]
fn bo_as_team_lead() {
    let org = Organisation::personas();
    let ledger = org.ledger();
    let report = org
        .reports(&ledger)
        .person_report(&key(fixture::BO), as_of())
        .expect("report");
    assert_eq!(report.roles, [role("team-lead")]);
    expected::check_report(
        &json(&report),
        &expected::bo_as_team_lead(),
        &statement_id(&org),
    );
    // He holds one role: his report over every role is his gap report against it.
    let gap = org
        .reports(&ledger)
        .gap_report(&key(fixture::BO), &role("team-lead"), as_of())
        .expect("report");
    assert_eq!(json(&gap)["rows"], json(&report)["rows"]);
    assert_eq!(
        (report.rows[0].self_level, report.rows[0].manager_level),
        (lvl(4), lvl(3))
    );
}

#[test]
fn gates_and_equivalence_for_cy() {
    let org = Organisation::personas();
    let ledger = org.ledger();
    let report = org
        .reports(&ledger)
        .person_report(&key(fixture::CY), as_of())
        .expect("report");
    let row = |c: &str| {
        report
            .rows
            .iter()
            .find(|r| r.capability == cap(c))
            .expect("row")
    };
    // Two e-learning results at 3 (0.3 each): support(3) = 0.6 = θ(3), but level 3 needs an
    // assessor, manager or instructor.
    let disc = row("DISC");
    assert_eq!(disc.achieved, lvl(2));
    let l3 = &disc.assessment.explanation.levels[2];
    assert!(l3.clears_threshold && !l3.gates_met && !l3.reached);
    assert_eq!((l3.gates[0].found, l3.gates[0].met), (0, false));
    // An observation of the partner framework's public speaking counts for PRES.
    let pres = row("PRES");
    assert_eq!((pres.achieved, pres.gap), (lvl(3), 0));
    assert_eq!(
        pres.assessment.explanation.evidence_from,
        [cap("PRES"), cap("SPKG")]
    );
    assert_eq!(
        pres.assessment.explanation.contributions[0].capability,
        cap("SPKG")
    );
    assert_close(pres.confidence, 0.8 * d(60.0, 540.0) * 0.8);
}

#[test]
fn dee_failed_a_recent_observation() {
    let org = Organisation::personas();
    let ledger = org.ledger();
    let dee = key(fixture::DEE);
    // Manager 4 two years ago (0.6 · ¼), observation 4 one half-life ago (0.8 · ½), and an
    // observation below 4 today (0.6): net(4) = 0.55 − 0.6; net(3) = 0.55 < 0.6.
    let a = org
        .evaluator(&ledger)
        .assess(&dee, &cap("INCD"), as_of())
        .expect("assess");
    assert_eq!(a.evidence_level, lvl(2));
    assert_close(a.explanation.levels[3].net, 0.55 - 0.6);
    assert_close(a.explanation.levels[2].net, 0.55);
    assert_eq!(a.explanation.levels[2].contrary_items.len(), 0);
    assert_eq!(a.manager_rating.as_ref().and_then(|r| r.level), lvl(4));
    // The same evidence under other policies.
    let cases = [
        (RatingPolicy::manager_first(), lvl(4)),
        (
            RatingPolicy::Highest {
                raters: vec![RaterClass::Manager],
            },
            lvl(4),
        ),
        (
            RatingPolicy::Latest {
                raters: vec![RaterClass::Manager],
            },
            lvl(2),
        ),
        (RatingPolicy::EvidenceOnly, lvl(2)),
    ];
    for (policy, want) in cases {
        let mut spec = fixture::config_spec();
        spec.policy = policy.clone();
        let config = AggregationConfig::new(spec, &org.catalog).expect("config");
        let a = Evaluator::new(&org.catalog, &config, &ledger)
            .assess(&dee, &cap("INCD"), as_of())
            .expect("assess");
        assert_eq!(a.level, want, "{policy:?}");
        assert_eq!(a.evidence_level, lvl(2), "{policy:?}");
    }
}

#[test]
fn progression() {
    let org = Organisation::personas();
    let ledger = org.ledger();
    let evaluator = org.evaluator(&ledger);
    let ana = key(fixture::ANA);
    let dates = [
        days_before(366),
        days_before(365),
        days_before(180),
        as_of(),
    ];
    let points = evaluator
        .progression(&ana, &cap("CODE"), &dates)
        .expect("progression");
    assert_eq!(
        points
            .iter()
            .map(|p| p.evidence_level.map(Level::get))
            .collect::<Vec<_>>(),
        [None, Some(3), Some(4), Some(4)]
    );
    // On 2025-07-01: e-learning 3 (0.3) and manager 4 (0.6), both today: support(4) = 0.6 < 0.9.
    assert_close(points[1].explanation.levels[3].support, 0.6);
    // On 2026-01-02: the observation (0.8) and the manager's rating 185 days old.
    assert_close(
        points[2].explanation.levels[3].support,
        0.8 + 0.6 * d(185.0, 365.0),
    );
    // A failure, then a success that supersedes it.
    let test = evaluator
        .progression(
            &ana,
            &cap("TEST"),
            &[fixture::at("2026-03-01T00:00:00Z"), as_of()],
        )
        .expect("progression");
    assert_eq!(test[0].evidence_level, None);
    assert_close(test[0].explanation.levels[1].contrary, 0.2 * d(58.0, 365.0));
    assert_eq!(test[1].evidence_level, lvl(2));
    assert_close(test[1].explanation.levels[1].net, 0.3);
}

#[test]
fn heatmaps() {
    let org = Organisation::personas();
    let ledger = org.ledger();
    let reports = org.reports(&ledger);
    for want in expected::heatmaps() {
        let map = reports
            .heatmap(
                &Team::Role {
                    role: role(want.role),
                },
                as_of(),
            )
            .expect("heatmap");
        expected::check_heatmap(&json(&map), &want);
        // With the personas only, the personas are everyone.
        assert_eq!(map.people.len(), want.personas.len(), "{}", want.role);
    }
    let engineers = reports
        .heatmap(
            &Team::Role {
                role: role("engineer"),
            },
            as_of(),
        )
        .expect("heatmap");
    assert_eq!(
        engineers.people,
        [key(fixture::EVE), key(fixture::FAY)],
        "Ana moved on"
    );
    assert_eq!(
        engineers.capabilities,
        ["CODE", "TEST", "REVW", "DATA", "SECU", "ARCH"].map(cap)
    );
    // Fay was mentored in TEST by Ana a year ago: 0.15 · 0.5^(365/180), no level.
    let fay_test = &engineers.cells[1][1];
    assert_eq!(
        (fay_test.level, fay_test.required, fay_test.gap),
        (None, lvl(3), Some(3))
    );
    assert_close(
        fay_test.assessment.explanation.contributions[0].effective_weight,
        0.15 * d(365.0, 180.0),
    );

    let team = Team::People {
        people: vec![key(fixture::ANA), key(fixture::BO), key(fixture::CY)],
    };
    let map = reports.heatmap(&team, as_of()).expect("heatmap");
    let column = |c: &str| {
        map.capabilities
            .iter()
            .position(|x| *x == cap(c))
            .expect("column")
    };
    // Columns: the requirements of their roles, in catalog order.
    assert_eq!(map.capabilities.first(), Some(&cap("LEAD")));
    // Senior engineer 6, team lead 6, product owner 7; FDBK and STKH appear twice.
    assert_eq!(map.capabilities.len(), 6 + 6 + 7 - 2);
    let cell = |p: usize, c: &str| &map.cells[p][column(c)];
    assert_eq!(
        (
            cell(0, "CODE").level,
            cell(0, "CODE").required,
            cell(0, "CODE").gap
        ),
        (lvl(4), lvl(4), Some(0))
    );
    assert_eq!(
        (cell(1, "CODE").required, cell(1, "CODE").gap),
        (None, None)
    );
    assert_eq!(
        (cell(1, "STKH").level, cell(1, "STKH").gap),
        (lvl(1), Some(2))
    );
    assert_eq!(
        (cell(2, "STKH").level, cell(2, "STKH").gap),
        (None, Some(3))
    );
    assert_eq!(
        (cell(2, "PRES").level, cell(2, "PRES").gap),
        (lvl(3), Some(0))
    );

    let chosen = reports
        .heatmap_for(&team, &[cap("CODE"), cap("XLNG")], as_of())
        .expect("heatmap");
    assert_eq!(chosen.cells.len(), 3);
    assert_eq!(chosen.cells[0][1].level, None);
    let err = reports
        .heatmap(
            &Team::Role {
                role: role("astronaut"),
            },
            as_of(),
        )
        .expect_err("no role");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[test]
fn stale_evidence_and_reassessments() {
    let org = Organisation::personas();
    let ledger = org.ledger();
    let reports = org.reports(&ledger);
    let ninety = Days::new(90.0).expect("days");

    let bo = reports
        .stale_report(&key(fixture::BO), as_of(), ninety)
        .expect("report");
    let due: Vec<(String, ReassessmentReason, DateTime<Utc>)> = bo
        .reassessments
        .iter()
        .map(|r| (r.capability.to_string(), r.reason, r.due))
        .collect();
    assert_eq!(
        due,
        [
            // E-learning from 2024-07-01 with a 365-day half-life.
            ("PLAN".into(), ReassessmentReason::Stale, days_before(365)),
            ("COAC".into(), ReassessmentReason::Stale, as_of()),
            ("DECI".into(), ReassessmentReason::NoEvidence, as_of()),
            ("STKH".into(), ReassessmentReason::Stale, as_of()),
            // The manager's rating of LEAD carries its own expiry.
            (
                "LEAD".into(),
                ReassessmentReason::Expires,
                fixture::at("2026-08-01T00:00:00Z")
            ),
        ]
    );
    let mut stale: Vec<(String, String, DateTime<Utc>)> = bo
        .stale_evidence
        .iter()
        .map(|s| {
            (
                s.capability.to_string(),
                s.rule.id.to_string(),
                s.half_life_passed_at,
            )
        })
        .collect();
    stale.sort();
    assert_eq!(
        stale,
        [
            ("COAC".into(), "manager-assessment".into(), as_of()),
            ("FDBK".into(), "coaching-session".into(), as_of()),
            ("LEAD".into(), "manager-assessment".into(), as_of()),
            ("PLAN".into(), "elearning-passed".into(), days_before(365)),
            ("STKH".into(), "ilt-attended".into(), as_of()),
            ("STKH".into(), "ilt-practical".into(), as_of()),
        ]
    );

    let ana = reports
        .stale_report(&key(fixture::ANA), as_of(), ninety)
        .expect("report");
    let due: Vec<(String, ReassessmentReason)> = ana
        .reassessments
        .iter()
        .map(|r| (r.capability.to_string(), r.reason))
        .collect();
    assert_eq!(
        due,
        [
            ("FDBK".into(), ReassessmentReason::NoEvidence),
            ("MENT".into(), ReassessmentReason::Stale),
            ("REVW".into(), ReassessmentReason::Stale),
            ("SECU".into(), ReassessmentReason::NoEvidence),
        ]
    );
    // A longer horizon: CODE's observation (2026-01-02, half-life 540) goes stale in 360 days.
    let longer = reports
        .stale_report(&key(fixture::ANA), as_of(), Days::new(400.0).expect("days"))
        .expect("report");
    let code = longer
        .reassessments
        .iter()
        .find(|r| r.capability == cap("CODE"))
        .expect("CODE");
    assert_eq!(
        (code.reason, code.due),
        (
            ReassessmentReason::BecomesStale,
            days_before(180) + chrono::Duration::days(540)
        )
    );

    let eve = reports
        .stale_report(&key(fixture::EVE), as_of(), ninety)
        .expect("report");
    assert_eq!(eve.reassessments.len(), 6);
    assert!(
        eve.reassessments
            .iter()
            .all(|r| r.reason == ReassessmentReason::NoEvidence)
    );
    assert!(eve.stale_evidence.is_empty());
}

#[test]
fn a_rule_change_re_derives_the_ledger() {
    let org = Organisation::personas();
    let cy = key(fixture::CY);
    let before = org.ledger();
    let rsch = |ledger: &Ledger| {
        org.evaluator(ledger)
            .assess(&cy, &cap("RSCH"), as_of())
            .expect("assess")
    };
    assert_eq!(rsch(&before).evidence_level, None);
    // Being mentored now weighs 0.6 instead of 0.15: 0.6 · ½ = 0.3 = θ(2).
    let mut spec = org
        .rules
        .get(&RuleId::parse("mentoring-received").expect("id"))
        .expect("rule")
        .spec()
        .clone();
    spec.version = 2;
    spec.emit.weight = Weight::new(0.6).expect("weight");
    let rules = org.rules.with_rule(spec, &org.catalog).expect("rules");
    let (after, _) = Ledger::derive(&rules, &org.catalog, &org.statements);
    let a = rsch(&after);
    assert_eq!(a.evidence_level, lvl(2));
    assert_eq!(
        a.explanation.contributions[0].rule,
        RuleRef {
            id: RuleId::parse("mentoring-received").expect("id"),
            version: 2
        }
    );
    // Evidence from the old version does not mix into the new ledger.
    let mut mixed = after.clone();
    let statement = org
        .statements
        .iter()
        .find(|s| s.id() == org.statement_id("cy-rsch-mentoring"))
        .expect("statement");
    let err = mixed
        .ingest(statement, &org.rules, &org.catalog)
        .expect_err("old version");
    assert_eq!(
        (err.kind(), err.rule()),
        (ErrorKind::Conflict, "rule-version-mismatch")
    );
    assert_eq!(mixed, after);
}

#[test]
fn the_generated_organisation() {
    let org = Organisation::new(fixture::Options::default());
    assert_eq!(org.people.len(), 200);
    assert_eq!(org.assignments.people().len(), 200);
    let again = Organisation::new(fixture::Options::default());
    assert_eq!(org.statements, again.statements, "deterministic");
    let (ledger, skips) = Ledger::derive(&org.rules, &org.catalog, &org.statements);
    assert!(ledger.len() > 1000, "{}", ledger.len());
    assert!(ledger.retractions().count() > 0);
    assert!(
        skips.iter().all(|s| s.reason == SkipReason::NoLevel),
        "{skips:?}"
    );
    let (reversed, _) = Ledger::derive(&org.rules, &org.catalog, org.statements.iter().rev());
    assert_eq!(reversed, ledger);
    // Incremental ingestion gives the same ledger as derivation.
    let mut incremental = Ledger::new(&org.rules);
    for statement in &org.statements {
        incremental
            .ingest(statement, &org.rules, &org.catalog)
            .expect("ingest");
    }
    assert_eq!(incremental, ledger);

    let reports = org.reports(&ledger);
    for person in org.assignments.people() {
        let report = reports.person_report(person, org.as_of).expect("report");
        assert!(
            (0.0..=1.0).contains(&report.fit),
            "{person}: {}",
            report.fit
        );
        for row in &report.rows {
            assert!((0.0..=1.0).contains(&row.confidence));
            assert_eq!(
                row.gap,
                i16::from(row.required.get()) - i16::from(row.achieved.map_or(0, Level::get))
            );
        }
    }
    for (r, ..) in fixture::ROLES {
        let map = reports
            .heatmap(&Team::Role { role: role(r) }, org.as_of)
            .expect("heatmap");
        assert!(!map.people.is_empty(), "{r}");
        assert!(
            map.cells
                .iter()
                .all(|row| row.len() == map.capabilities.len())
        );
    }
    // The personas' numbers hold among the generated people (what the end-to-end test
    // checks over HTTP).
    for want in [
        expected::ana_as_senior_engineer(),
        expected::bo_as_team_lead(),
    ] {
        let report = reports
            .gap_report(&key(want.person), &role(want.role), org.as_of)
            .expect("report");
        expected::check_report(&json(&report), &want, &statement_id(&org));
    }
    for want in expected::heatmaps() {
        let map = reports
            .heatmap(
                &Team::Role {
                    role: role(want.role),
                },
                org.as_of,
            )
            .expect("heatmap");
        expected::check_heatmap(&json(&map), &want);
    }
    // Another seed, another organisation.
    let other = Organisation::new(fixture::Options {
        generated_people: 20,
        seed: 7,
    });
    assert_ne!(other.statements.len(), 0);
    assert_eq!(other.people.len(), 26);
}
