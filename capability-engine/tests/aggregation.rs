//! Aggregation, table by table, with expectations computed by hand from the formulas in
//! `capability_engine::aggregate`.

use capability_engine::*;
use uuid::Uuid;

use crate::helpers::*;

fn lvl(n: Option<u8>) -> Option<Level> {
    n.map(level)
}

/// Each case: items, the evidence level expected for `X` under `config`.
fn check_levels(config: &AggregationConfig, cases: &[(&str, Vec<Item>, Option<u8>)]) {
    for (name, items, want) in cases {
        let got = assess(config, items, "X");
        assert_eq!(
            got.evidence_level,
            lvl(*want),
            "{name}: {:#?}",
            got.explanation.levels
        );
    }
}

#[test]
fn decay_is_a_power_of_one_half() {
    let cases = [
        (0.0, Some(30.0), 1.0),
        (30.0, Some(30.0), 0.5),
        (60.0, Some(30.0), 0.25),
        (15.0, Some(30.0), std::f64::consts::FRAC_1_SQRT_2),
        (45.0, Some(30.0), 0.5 * std::f64::consts::FRAC_1_SQRT_2),
        (365.0, Some(365.0), 0.5),
        (10_000.0, None, 1.0),
    ];
    for (age, half_life, want) in cases {
        assert_close(decay(age, half_life), want);
    }
    // Through an assessment: 0.8 · 0.5^(60/30) = 0.2.
    let config = AggregationConfig::simple();
    let a = assess(&config, &[item(1, 3).w(0.8).half_life(30.0).ago(60.0)], "X");
    let c = &a.explanation.contributions[0];
    assert_close(c.age_days, 60.0);
    assert_close(c.decay, 0.25);
    assert_close(c.effective_weight, 0.2);
    assert_close(c.weight, 0.8);
}

#[test]
fn thresholds() {
    let simple = AggregationConfig::simple(); // θ = 0.5 for every level
    check_levels(
        &simple,
        &[
            ("no evidence", vec![], None),
            ("exactly the threshold", vec![item(1, 3).w(0.5)], Some(3)),
            ("just below", vec![item(1, 3).w(0.49)], None),
            (
                "two halves",
                vec![item(1, 3).w(0.25), item(2, 3).w(0.25)],
                Some(3),
            ),
            // support(1..2) = 0.6, support(3..5) = 0.3
            (
                "higher evidence supports lower levels",
                vec![item(1, 5).w(0.3), item(2, 2).w(0.3)],
                Some(2),
            ),
            // 0.8 · 0.5 = 0.4 < 0.5
            (
                "decayed below",
                vec![item(1, 4).w(0.8).half_life(30.0).ago(30.0)],
                None,
            ),
            // 0.8 · 2^(−1/2) = 0.566 ≥ 0.5
            (
                "decayed above",
                vec![item(1, 4).w(0.8).half_life(30.0).ago(15.0)],
                Some(4),
            ),
        ],
    );
    let stepped = config(&catalog(), |spec| {
        spec.levels.thresholds = vec![
            ThresholdStep {
                from_level: level(1),
                at_least: 0.3,
            },
            ThresholdStep {
                from_level: level(3),
                at_least: 0.6,
            },
            ThresholdStep {
                from_level: level(5),
                at_least: 1.0,
            },
        ];
    });
    check_levels(
        &stepped,
        &[
            (
                "0.7 clears 0.6 but not 1.0",
                vec![item(1, 5).w(0.7)],
                Some(4),
            ),
            ("0.5 clears 0.3 only", vec![item(1, 5).w(0.5)], Some(2)),
            ("1.0 clears everything", vec![item(1, 5).w(1.0)], Some(5)),
        ],
    );
    let trace = assess(&stepped, &[item(1, 5).w(0.7)], "X")
        .explanation
        .levels;
    let thresholds: Vec<f64> = trace.iter().map(|l| l.threshold).collect();
    assert_eq!(thresholds, [0.3, 0.3, 0.6, 0.6, 1.0]);
}

#[test]
fn contrary_evidence() {
    let simple = AggregationConfig::simple();
    check_levels(
        &simple,
        &[
            // net(1) = 0.8; net(2) = 0.8 − 0.6 = 0.2
            (
                "a later failure at 2 counts against 2 and up",
                vec![
                    item(1, 3).w(0.8).ago(10.0),
                    item(2, 2).w(0.6).ago(5.0).contrary(),
                ],
                Some(1),
            ),
            (
                "a later success supersedes an earlier failure",
                vec![
                    item(1, 2).w(0.6).ago(10.0).contrary(),
                    item(2, 3).w(0.8).ago(5.0),
                ],
                Some(3),
            ),
            (
                "a failure at 4 leaves level 3 alone",
                vec![
                    item(1, 3).w(0.8).ago(10.0),
                    item(2, 4).w(0.6).ago(5.0).contrary(),
                ],
                Some(3),
            ),
            // net(1..2) = 1; net(3..5) = 1 − 0.6 = 0.4
            (
                "a failure at 3 after success at 5",
                vec![
                    item(1, 5).w(1.0).ago(10.0),
                    item(2, 3).w(0.6).ago(5.0).contrary(),
                ],
                Some(2),
            ),
            (
                "a failure at the same instant as the success does not count",
                vec![
                    item(1, 3).w(0.8).ago(5.0),
                    item(2, 3).w(0.6).ago(5.0).contrary(),
                ],
                Some(3),
            ),
            (
                "contrary evidence alone",
                vec![item(1, 1).w(1.0).contrary()],
                None,
            ),
        ],
    );
    let a = assess(
        &simple,
        &[
            item(1, 3).w(0.8).ago(10.0),
            item(2, 2).w(0.6).ago(5.0).contrary(),
        ],
        "X",
    );
    let l2 = &a.explanation.levels[1];
    assert_close(l2.support, 0.8);
    assert_close(l2.contrary, 0.6);
    assert_close(l2.net, 0.8 - 0.6);
    assert_eq!(l2.contrary_items.len(), 1);
    assert_eq!(l2.contrary_items[0].statement, Uuid::from_u128(2));
    assert_eq!(l2.newest_support_at, Some(days_ago(10.0)));
}

#[test]
fn gates() {
    let catalog = catalog();
    let assessor_from_3 = config(&catalog, |spec| {
        spec.levels.gates = vec![Gate {
            from_level: level(3),
            requirement: GateRequirement::RaterClasses {
                classes: vec![RaterClass::Assessor],
                min_items: 1,
            },
        }];
    });
    check_levels(
        &assessor_from_3,
        &[
            ("e-learning alone stops at 2", vec![item(1, 4)], Some(2)),
            (
                "an assessor item at 3 opens level 3 only",
                vec![
                    item(1, 4),
                    item(2, 3).w(0.1).by(RaterClass::Assessor, Some("lee")),
                ],
                Some(3),
            ),
            (
                "an assessor item at 2 opens nothing",
                vec![item(1, 4), item(2, 2).by(RaterClass::Assessor, Some("lee"))],
                Some(2),
            ),
        ],
    );
    let two_raters = config(&catalog, |spec| {
        spec.levels.gates = vec![Gate {
            from_level: level(2),
            requirement: GateRequirement::DistinctRaters { min: 2 },
        }];
    });
    let lee = |n| item(n, 5).by(RaterClass::Assessor, Some("lee"));
    check_levels(
        &two_raters,
        &[
            ("one rater twice", vec![lee(1), lee(2)], Some(1)),
            (
                "two raters",
                vec![lee(1), item(2, 5).by(RaterClass::Manager, Some("max"))],
                Some(5),
            ),
            (
                "systems count as one rater",
                vec![item(1, 5), item(2, 5)],
                Some(1),
            ),
            ("a system and a person", vec![item(1, 5), lee(2)], Some(5)),
        ],
    );
    let a = assess(&two_raters, &[lee(1), lee(2)], "X");
    let gate = &a.explanation.levels[1].gates[0];
    assert_eq!((gate.found, gate.met), (1, false));
    assert!(a.explanation.levels[1].clears_threshold && !a.explanation.levels[1].reached);
}

#[test]
fn policies() {
    let catalog = catalog();
    // Evidence: assessor at 4 (w 1) and manager at 2 (w 0.6) → support(3..4) = 1, level 4.
    // Ratings: assessor 4 (20 days ago), manager 2 (10 days ago), self 5 (1 day ago).
    let items = [
        item(1, 4).by(RaterClass::Assessor, Some("lee")).ago(20.0),
        item(2, 2)
            .w(0.6)
            .by(RaterClass::Manager, Some("max"))
            .ago(10.0),
        item(3, 5)
            .w(0.3)
            .by(RaterClass::SelfAssessment, Some("ana"))
            .ago(1.0),
    ];
    let manager = LevelOrigin::Rating {
        class: RaterClass::Manager,
    };
    let own = LevelOrigin::Rating {
        class: RaterClass::SelfAssessment,
    };
    let cases: Vec<(RatingPolicy, bool, Option<u8>, LevelOrigin)> = vec![
        (
            RatingPolicy::EvidenceOnly,
            false,
            Some(4),
            LevelOrigin::Evidence,
        ),
        (
            RatingPolicy::Highest {
                raters: vec![RaterClass::Manager],
            },
            false,
            Some(4),
            LevelOrigin::Evidence,
        ),
        (
            RatingPolicy::Highest {
                raters: vec![RaterClass::Manager, RaterClass::SelfAssessment],
            },
            false,
            Some(5),
            own,
        ),
        (RatingPolicy::manager_first(), false, Some(2), manager),
        (
            RatingPolicy::Prioritised {
                order: vec![RaterClass::Peer, RaterClass::Manager],
            },
            false,
            Some(2),
            manager,
        ),
        (
            RatingPolicy::Prioritised {
                order: vec![RaterClass::Peer],
            },
            false,
            Some(4),
            LevelOrigin::Evidence,
        ),
        (
            RatingPolicy::Latest {
                raters: vec![RaterClass::SelfAssessment],
            },
            false,
            Some(5),
            own,
        ),
        // The manager's item is also the newest evidence: a tie goes to the evidence.
        (
            RatingPolicy::Latest {
                raters: vec![RaterClass::Manager],
            },
            false,
            Some(4),
            LevelOrigin::Evidence,
        ),
        // With manager ratings kept out of the evidence, the manager's is newer.
        (
            RatingPolicy::Latest {
                raters: vec![RaterClass::Manager],
            },
            true,
            Some(2),
            manager,
        ),
    ];
    for (policy, manager_is_rating_only, want, from) in cases {
        let config = config(&catalog, |spec| {
            spec.policy = policy.clone();
            if manager_is_rating_only {
                spec.evidence_excludes.insert(RaterClass::Manager);
            }
        });
        let a = assess(&config, &items, "X");
        assert_eq!((a.level, a.level_from), (lvl(want), from), "{policy:?}");
        // Whatever the policy, the three views are side by side.
        assert_eq!(
            a.self_rating.as_ref().and_then(|r| r.level),
            lvl(Some(5)),
            "{policy:?}"
        );
        assert_eq!(
            a.manager_rating.as_ref().and_then(|r| r.level),
            lvl(Some(2)),
            "{policy:?}"
        );
        assert_eq!(a.evidence_level, lvl(Some(4)), "{policy:?}");
        assert_eq!(a.explanation.policy, policy);
    }
    let a = assess(&AggregationConfig::simple(), &items, "X");
    let classes: Vec<RaterClass> = a.ratings.iter().map(|r| r.class).collect();
    assert_eq!(
        classes,
        [
            RaterClass::SelfAssessment,
            RaterClass::Manager,
            RaterClass::Assessor
        ]
    );
}

#[test]
fn retraction() {
    let simple = AggregationConfig::simple();
    let a = assess_at(&simple, &[item(1, 3)], &[(1, 99)], "X", now());
    assert_eq!(a.evidence_level, None);
    assert!(a.explanation.contributions.is_empty());
    assert_eq!(
        a.explanation.excluded[0].reason,
        ExclusionReason::Retracted {
            by: Uuid::from_u128(99)
        }
    );
    // Voiding an unknown statement changes nothing.
    let b = assess_at(&simple, &[item(1, 3)], &[(7, 99)], "X", now());
    assert_eq!(b.evidence_level, lvl(Some(3)));
    // A retraction applies to every date, before it too.
    let c = assess_at(
        &simple,
        &[item(1, 3).ago(30.0)],
        &[(1, 99)],
        "X",
        days_ago(10.0),
    );
    assert_eq!(c.evidence_level, None);

    // The ledger: a voiding statement before its target, and two voiding statements for one
    // target in either order, give the same ledger.
    let catalog = catalog();
    let rules = rules(&catalog);
    let forward = ledger(&rules, &[item(1, 3)], &[(1, 50), (1, 40)]);
    let backward = {
        let mut l = Ledger::new(&rules);
        for (target, by) in [(1, 40), (1, 50)] {
            l.apply(&Derivation::Retraction(Retraction {
                target: Uuid::from_u128(target),
                by: Uuid::from_u128(by),
                stored_at: now(),
            }))
            .expect("apply");
        }
        l.apply(&evidence_derivation(item(1, 3).evidence(&person("ana"))))
            .expect("apply");
        l
    };
    assert_eq!(forward, backward);
    assert_eq!(
        forward.retraction_of(&Uuid::from_u128(1)).map(|r| r.by),
        Some(Uuid::from_u128(40))
    );
    assert_eq!(forward.len(), 1, "retracted evidence stays in the ledger");
    assert_eq!(forward.active().count(), 0);
}

#[test]
fn expiry() {
    let simple = AggregationConfig::simple();
    let cases = [
        ("expired", item(1, 3).ago(20.0).expires_in(10.0), None),
        (
            "expires exactly now",
            item(1, 3).ago(10.0).expires_in(10.0),
            None,
        ),
        (
            "not yet expired",
            item(1, 3).ago(5.0).expires_in(10.0),
            Some(3),
        ),
    ];
    for (name, it, want) in cases {
        let a = assess(&simple, &[it], "X");
        assert_eq!(a.evidence_level, lvl(want), "{name}");
        assert_eq!(
            a.explanation.excluded.len(),
            usize::from(want.is_none()),
            "{name}"
        );
    }
    let a = assess(&simple, &[item(1, 3).ago(20.0).expires_in(10.0)], "X");
    assert_eq!(
        a.explanation.excluded[0].reason,
        ExclusionReason::Expired { at: days_ago(10.0) }
    );
}

#[test]
fn sparse_levels() {
    let simple = AggregationConfig::simple();
    // S defines only 2 and 4: evidence at 3 supports 2.
    let a = assess(&simple, &[item(1, 3).on("S")], "S");
    let traced: Vec<u8> = a.explanation.levels.iter().map(|l| l.level.get()).collect();
    assert_eq!(traced, [2, 4]);
    assert_eq!(a.evidence_level, lvl(Some(2)));
    let ratings = [
        (Polarity::Supporting, 3, Some(2)),
        (Polarity::Supporting, 5, Some(4)),
        (Polarity::Supporting, 1, None),
        (Polarity::Contrary, 4, Some(2)),
        (Polarity::Contrary, 2, None),
    ];
    for (polarity, at, want) in ratings {
        let mut it = item(1, at).on("S").by(RaterClass::Manager, Some("max"));
        it.polarity = polarity;
        let a = assess(&simple, &[it], "S");
        let rating = a.manager_rating.expect("manager rating");
        assert_eq!(
            (rating.level, rating.item_level),
            (lvl(want), level(at)),
            "{polarity:?} {at}"
        );
    }
}

#[test]
fn equivalent_capabilities_share_evidence() {
    let simple = AggregationConfig::simple();
    let a = assess(&simple, &[item(1, 3).on("Y")], "X");
    assert_eq!(a.evidence_level, lvl(Some(3)));
    assert_eq!(a.explanation.evidence_from, [cap("X"), cap("Y")]);
    assert_eq!(a.explanation.contributions[0].capability, cap("Y"));
    assert_eq!(
        assess(&simple, &[item(1, 3).on("X")], "Y").evidence_level,
        lvl(Some(3))
    );
    assert_eq!(
        assess(&simple, &[item(1, 3).on("X")], "Z").evidence_level,
        None
    );
}

#[test]
fn confidence() {
    let simple = AggregationConfig::simple(); // class doubt 0.2
    let lee = |n, w| item(n, 3).w(w).by(RaterClass::Assessor, Some("lee"));
    let cases: Vec<(&str, Vec<Item>, f64)> = vec![
        ("no evidence", vec![], 0.0),
        // (1 − 0.5) · (1 − 0.2)
        ("one item", vec![item(1, 3).w(0.5)], 0.5 * 0.8),
        // (1 − 0.5·0.5) · (1 − 0.2²)
        (
            "two classes",
            vec![item(1, 3).w(0.5), lee(2, 0.5)],
            0.75 * 0.96,
        ),
        // (1 − 0.5·0.5) · 0.8
        (
            "two items, one class",
            vec![item(1, 3).w(0.5), item(2, 3).w(0.5)],
            0.75 * 0.8,
        ),
        (
            "contrary evidence is evidence too",
            vec![item(1, 3).w(0.5), lee(2, 0.5).contrary()],
            0.75 * 0.96,
        ),
        (
            "self-assessment is not",
            vec![
                item(1, 3).w(0.5),
                item(2, 3).w(0.9).by(RaterClass::SelfAssessment, None),
            ],
            0.4,
        ),
        // (1 − 0.25) · 0.8 with 0.5 decayed by one half-life
        (
            "decay lowers it",
            vec![item(1, 3).w(0.5).half_life(10.0).ago(10.0)],
            0.25 * 0.8,
        ),
    ];
    for (name, items, want) in cases {
        let a = assess(&simple, &items, "X");
        assert!(
            close(a.confidence, want),
            "{name}: got {}, want {want}",
            a.confidence
        );
        assert_close(a.explanation.confidence.value, a.confidence);
    }
}

#[test]
fn staleness_and_last_evidence() {
    let simple = AggregationConfig::simple();
    let cases: Vec<(&str, Vec<Item>, bool)> = vec![
        ("no evidence is not stale", vec![], false),
        (
            "one half-life old",
            vec![item(1, 3).half_life(30.0).ago(30.0)],
            true,
        ),
        (
            "a day younger",
            vec![item(1, 3).half_life(30.0).ago(29.0)],
            false,
        ),
        (
            "no half-life never goes stale",
            vec![item(1, 3).ago(10_000.0)],
            false,
        ),
        (
            "one fresh item is enough",
            vec![
                item(1, 3).half_life(30.0).ago(90.0),
                item(2, 1).half_life(30.0).ago(1.0),
            ],
            false,
        ),
    ];
    for (name, items, want) in cases {
        assert_eq!(assess(&simple, &items, "X").stale, want, "{name}");
    }
    // The newest item of any class, self-assessments included.
    let a = assess(
        &simple,
        &[
            item(1, 3).ago(10.0),
            item(2, 3).by(RaterClass::SelfAssessment, None).ago(2.0),
        ],
        "X",
    );
    assert_eq!(a.last_evidence_at, Some(days_ago(2.0)));
}

#[test]
fn as_of_hides_later_evidence() {
    let simple = AggregationConfig::simple();
    let items = [item(1, 3).ago(5.0), item(2, 5).ago(1.0)];
    let before = assess_at(&simple, &items, &[], "X", days_ago(10.0));
    assert_eq!(
        (before.evidence_level, before.last_evidence_at),
        (None, None)
    );
    assert!(before.explanation.contributions.is_empty() && before.explanation.excluded.is_empty());
    let between = assess_at(&simple, &items, &[], "X", days_ago(3.0));
    assert_eq!(between.evidence_level, lvl(Some(3)));
    assert_close(between.explanation.contributions[0].age_days, 2.0);
    assert_eq!(assess(&simple, &items, "X").evidence_level, lvl(Some(5)));
}

#[test]
fn unknown_capability_is_not_found() {
    let catalog = catalog();
    let rules = rules(&catalog);
    let ledger = Ledger::new(&rules);
    let config = AggregationConfig::simple();
    let err = Evaluator::new(&catalog, &config, &ledger)
        .assess(&person("ana"), &cap("NOPE"), now())
        .expect_err("unknown");
    assert_eq!(
        (err.kind(), err.rule()),
        (ErrorKind::NotFound, "known-capability")
    );
}
