//! Property tests of the ledger and the aggregation: order independence, monotonicity,
//! decay, gates, as-of consistency.

use capability_engine::fixture::Organisation;
use capability_engine::*;
use chrono::Duration;
use proptest::prelude::*;
use uuid::Uuid;

use crate::helpers::*;

/// Items with distinct statement ids (`n` = index + 1).
fn items(max: usize) -> impl Strategy<Value = Vec<Item>> {
    prop::collection::vec(item_strategy(), 0..max).prop_map(|mut items| {
        for (i, item) in items.iter_mut().enumerate() {
            item.n = i as u128 + 1;
        }
        items
    })
}

fn item_strategy() -> impl Strategy<Value = Item> {
    (
        prop::sample::select(vec!["X", "Y", "S"]),
        1u8..=5,
        any::<bool>(),
        0.01f64..=1.0,
        prop::sample::select(RaterClass::ALL.to_vec()),
        prop::option::of(prop::sample::select(vec!["lee", "max", "fay"])),
        0.0f64..800.0,
        prop::option::of(5.0f64..600.0),
        prop::option::weighted(0.2, 1.0f64..900.0),
    )
        .prop_map(
            |(
                capability,
                level,
                contrary,
                weight,
                class,
                rater,
                days_ago,
                half_life,
                expires_in,
            )| Item {
                n: 0,
                capability,
                level,
                polarity: if contrary {
                    Polarity::Contrary
                } else {
                    Polarity::Supporting
                },
                weight,
                class,
                rater,
                days_ago,
                half_life,
                expires_in,
            },
        )
}

/// The fixture's configuration shape on the test catalog: stepped thresholds and gates.
fn gated() -> AggregationConfig {
    config(&catalog(), |spec| {
        spec.levels = capability_engine::fixture::config_spec().levels;
    })
}

fn configs() -> Vec<AggregationConfig> {
    vec![AggregationConfig::simple(), gated()]
}

fn json(a: &Assessment) -> serde_json::Value {
    serde_json::to_value(a).expect("json")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Applying the same derivations in any order, with repeats, gives the same ledger and
    /// the same assessments.
    #[test]
    fn ledger_is_order_independent(
        (items, order) in items(12).prop_flat_map(|items| {
            let n = items.len();
            let steps: Vec<usize> = (0..n + 2).collect();
            (Just(items), Just(steps).prop_shuffle())
        }),
        repeat in any::<bool>(),
    ) {
        let catalog = catalog();
        let rules = rules(&catalog);
        let who = person("ana");
        // Two retractions: item 1 by 900, and a statement that may not exist.
        let mut derivations: Vec<Derivation> = items.iter().map(|i| evidence_derivation(i.evidence(&who))).collect();
        for (target, by) in [(1u128, 900u128), (3, 901)] {
            derivations.push(Derivation::Retraction(Retraction { target: Uuid::from_u128(target), by: Uuid::from_u128(by), stored_at: now() }));
        }
        let mut forward = Ledger::new(&rules);
        for d in &derivations {
            forward.apply(d).expect("apply");
        }
        let mut shuffled = Ledger::new(&rules);
        for &i in &order {
            shuffled.apply(&derivations[i]).expect("apply");
            if repeat {
                shuffled.apply(&derivations[i]).expect("apply");
            }
        }
        prop_assert_eq!(&forward, &shuffled);
        for config in configs() {
            for c in ["X", "Y", "S"] {
                let a = Evaluator::new(&catalog, &config, &forward).assess(&who, &cap(c), now()).expect("assess");
                let b = Evaluator::new(&catalog, &config, &shuffled).assess(&who, &cap(c), now()).expect("assess");
                prop_assert_eq!(json(&a), json(&b));
            }
        }
    }

    /// Adding supporting evidence never lowers the evidence level; adding contrary evidence
    /// never raises it. Neither lowers the confidence.
    #[test]
    fn monotonicity(base in items(10), extra in item_strategy(), capability in prop::sample::select(vec!["X", "S"])) {
        let mut extra = extra;
        extra.n = 1000;
        for config in configs() {
            let before = assess(&config, &base, capability);
            let mut more = base.clone();
            more.push(extra.clone());
            let after = assess(&config, &more, capability);
            let counted = extra.class != RaterClass::SelfAssessment;
            match extra.polarity {
                Polarity::Supporting => prop_assert!(after.evidence_level >= before.evidence_level,
                    "supporting {:?}: {:?} → {:?}", extra, before.evidence_level, after.evidence_level),
                Polarity::Contrary => prop_assert!(after.evidence_level <= before.evidence_level,
                    "contrary {:?}: {:?} → {:?}", extra, before.evidence_level, after.evidence_level),
            }
            prop_assert!(after.confidence >= before.confidence - 1e-12);
            if !counted {
                prop_assert_eq!(after.evidence_level, before.evidence_level);
            }
        }
    }

    /// Decay never increases with age, stays in [0, 1] (very old evidence underflows to 0), and
    /// halves every half-life.
    #[test]
    fn decay_is_monotone(a in 0.0f64..5000.0, b in 0.0f64..5000.0, h in 0.5f64..3000.0) {
        let (young, old) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(decay(young, Some(h)) >= decay(old, Some(h)));
        prop_assert!(decay(old, Some(h)) >= 0.0 && decay(young, Some(h)) <= 1.0);
        prop_assert!((decay(a + h, Some(h)) - decay(a, Some(h)) / 2.0).abs() < 1e-12);
        prop_assert_eq!(decay(a, None), 1.0);
    }

    /// The same item observed earlier weighs no more.
    #[test]
    fn older_evidence_weighs_less(item in item_strategy(), older_by in 0.0f64..500.0) {
        let mut item = item;
        item.n = 1;
        item.expires_in = None;
        item.capability = "X";
        let mut older = item.clone();
        older.days_ago += older_by;
        let config = AggregationConfig::simple();
        let young = assess(&config, &[item], "X");
        let old = assess(&config, &[older], "X");
        prop_assert!(old.explanation.contributions[0].effective_weight <= young.explanation.contributions[0].effective_weight);
    }

    /// A reached level meets every gate that applies to it, counted here from the items
    /// themselves, and every defined level below it is reached too.
    #[test]
    fn gates_are_respected(items in items(14), capability in prop::sample::select(vec!["X", "S"])) {
        let config = gated();
        let a = assess(&config, &items, capability);
        let Some(reached) = a.evidence_level else { return Ok(()) };
        let pool: &[&str] = if capability == "X" { &["X", "Y"] } else { &["S"] };
        let supporting: Vec<&Item> = items
            .iter()
            .filter(|i| pool.contains(&i.capability)
                && i.polarity == Polarity::Supporting
                && i.level >= reached.get()
                && i.class != RaterClass::SelfAssessment
                && i.expires_in.is_none_or(|e| e > i.days_ago))
            .collect();
        for gate in config.level_rules(&cap(capability)).gates_for(reached) {
            match &gate.requirement {
                GateRequirement::RaterClasses { classes, min_items } => {
                    let found = supporting.iter().filter(|i| classes.contains(&i.class)).count();
                    prop_assert!(found >= *min_items as usize, "{gate:?} at {reached}: {found}");
                }
                GateRequirement::DistinctRaters { min } => {
                    let raters: std::collections::BTreeSet<String> = supporting
                        .iter()
                        .map(|i| i.rater.map_or_else(|| format!("class:{}", i.class.as_str()), |r| person(r).to_string()))
                        .collect();
                    prop_assert!(raters.len() >= *min as usize, "{gate:?} at {reached}: {raters:?}");
                }
            }
        }
        for level in &a.explanation.levels {
            if level.level <= reached {
                prop_assert!(level.reached, "level {} below reached {reached}", level.level);
            }
            prop_assert_eq!(level.reached, level.clears_threshold && level.gates_met);
        }
        prop_assert!(a.explanation.levels.iter().any(|l| l.level == reached), "a defined level");
    }

    /// Evidence observed after the as-of date never counts: assessing as of a past date is
    /// the same as assessing without the later evidence.
    #[test]
    fn as_of_consistency(items in items(12), back in 0.0f64..800.0, retract in any::<bool>()) {
        let as_of = days_ago(back);
        let retractions: Vec<(u128, u128)> = if retract { vec![(1, 900)] } else { vec![] };
        let earlier: Vec<Item> = items.iter().filter(|i| days_ago(i.days_ago) <= as_of).cloned().collect();
        for config in configs() {
            let all = assess_at(&config, &items, &retractions, "X", as_of);
            let only_earlier = assess_at(&config, &earlier, &retractions, "X", as_of);
            prop_assert_eq!(json(&all), json(&only_earlier));
            prop_assert!(all.last_evidence_at.is_none_or(|t| t <= as_of));
            prop_assert!(all.explanation.contributions.iter().all(|c| c.observed_at <= as_of && c.age_days >= 0.0));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Deriving the fixture organisation's ledger from its statements in any order gives the
    /// same ledger.
    #[test]
    fn derivation_is_order_independent(order in Just((0..org().statements.len()).collect::<Vec<usize>>()).prop_shuffle()) {
        let org = org();
        let shuffled: Vec<&StoredStatement> = order.iter().map(|&i| &org.statements[i]).collect();
        let (a, skips_a) = Ledger::derive(&org.rules, &org.catalog, &org.statements);
        let (b, skips_b) = Ledger::derive(&org.rules, &org.catalog, shuffled);
        prop_assert_eq!(a, b);
        prop_assert_eq!(skips_a, skips_b);
    }
}

fn org() -> &'static Organisation {
    static ORG: std::sync::OnceLock<Organisation> = std::sync::OnceLock::new();
    ORG.get_or_init(|| {
        Organisation::new(capability_engine::fixture::Options {
            generated_people: 20,
            seed: 11,
        })
    })
}

#[test]
fn days_ago_is_exact() {
    assert_eq!(days_ago(1.5), now() - Duration::hours(36));
}
