//! Property tests: statement JSON round-trips, duplicate keys, strict parsing agreeing with
//! serde_json, durations, timestamps, equivalence invariants, and totality on any input.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use xapi::{
    JsonLimits, Statement, Version, equivalent, normalize_for_storage, parse_duration,
    parse_json_strict, parse_statements, parse_timestamp,
};

fn word() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,8}"
}

fn iri() -> impl Strategy<Value = String> {
    (prop_oneof!["http", "https", "urn"], word(), word()).prop_map(|(scheme, a, b)| {
        match scheme.as_str() {
            "urn" => format!("urn:{a}:{b}"),
            _ => format!("{scheme}://{a}.example.com/{b}"),
        }
    })
}

fn language_map() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(
        prop_oneof!["en", "en-US", "fr", "de-CH-1901", "zh-Hant-TW", "und"],
        word(),
        1..4,
    )
    .prop_map(|m| {
        Value::Object(
            m.into_iter()
                .map(|(k, v)| (k.to_owned(), Value::String(v)))
                .collect(),
        )
    })
}

fn agent() -> impl Strategy<Value = Value> {
    let ifi = prop_oneof![
        word().prop_map(|w| ("mbox", json!(format!("mailto:{w}@example.com")))),
        "[0-9a-f]{40}".prop_map(|h| ("mbox_sha1sum", json!(h))),
        iri().prop_map(|i| ("openid", json!(i))),
        (iri(), word()).prop_map(|(h, n)| ("account", json!({"homePage": h, "name": n}))),
    ];
    (ifi, prop::option::of(word()), any::<bool>()).prop_map(|((key, value), name, typed)| {
        let mut m = Map::new();
        if typed {
            m.insert("objectType".into(), json!("Agent"));
        }
        if let Some(name) = name {
            m.insert("name".into(), json!(name));
        }
        m.insert(key.into(), value);
        Value::Object(m)
    })
}

fn group() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(agent(), 1..4),
        prop::option::of(word().prop_map(|w| format!("mailto:{w}@groups.example.com"))),
    )
        .prop_map(|(members, mbox)| {
            let mut m = Map::new();
            m.insert("objectType".into(), json!("Group"));
            m.insert("member".into(), Value::Array(members));
            if let Some(mbox) = mbox {
                m.insert("mbox".into(), json!(mbox));
            }
            Value::Object(m)
        })
}

fn activity() -> impl Strategy<Value = Value> {
    (iri(), prop::option::of((language_map(), iri()))).prop_map(|(id, definition)| match definition
    {
        Some((name, kind)) => {
            json!({"objectType": "Activity", "id": id, "definition": {"name": name, "type": kind}})
        }
        None => json!({"id": id}),
    })
}

fn result() -> impl Strategy<Value = Value> {
    (
        -1.0f64..=1.0,
        0u32..100,
        any::<bool>(),
        0u64..1000,
        0u32..100,
    )
        .prop_map(|(scaled, raw, success, secs, hundredths)| {
            json!({
                "score": {"scaled": scaled, "raw": raw, "min": 0, "max": 100},
                "success": success,
                "duration": format!("PT{secs}.{hundredths:02}S"),
                "extensions": {"http://example.com/ext": {"anything": [null, 1, "x"]}}
            })
        })
}

fn statement() -> impl Strategy<Value = Value> {
    (
        prop_oneof![agent(), group()],
        (iri(), language_map()),
        prop_oneof![
            activity(),
            agent().prop_map(|mut a| {
                a["objectType"] = json!("Agent");
                a
            })
        ],
        prop::option::of(result()),
        prop::option::of(prop::collection::vec(activity(), 0..3)),
        any::<u128>(),
    )
        .prop_map(|(actor, (verb, display), object, result, parents, id)| {
            let mut m = Map::new();
            m.insert("id".into(), json!(uuid::Uuid::from_u128(id).to_string()));
            m.insert("actor".into(), actor);
            m.insert("verb".into(), json!({"id": verb, "display": display}));
            m.insert("object".into(), object);
            if let Some(result) = result {
                m.insert("result".into(), result);
            }
            if let Some(parents) = parents {
                m.insert(
                    "context".into(),
                    json!({"contextActivities": {"parent": parents}}),
                );
            }
            m.insert("timestamp".into(), json!("2024-02-29T23:59:59.123+05:30"));
            Value::Object(m)
        })
}

/// Any JSON value, nested a little.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e6f64..1e6).prop_map(|f| json!(f)),
        "[a-zA-Z0-9 :/@.-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Serialises `value` writing the first key of the `target`-th object (pre-order) twice.
fn write_with_duplicate(
    value: &Value,
    target: usize,
    counter: &mut usize,
    out: &mut String,
) -> bool {
    match value {
        Value::Object(map) => {
            let me = *counter;
            *counter += 1;
            out.push('{');
            let mut duplicated = false;
            let mut first = true;
            for (key, v) in map {
                let copies = if me == target && !duplicated { 2 } else { 1 };
                for _ in 0..copies {
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push(':');
                    duplicated |= write_with_duplicate(v, target, counter, out);
                }
                duplicated |= me == target;
            }
            out.push('}');
            duplicated
        }
        Value::Array(items) => {
            out.push('[');
            let mut duplicated = false;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                duplicated |= write_with_duplicate(item, target, counter, out);
            }
            out.push(']');
            duplicated
        }
        other => {
            out.push_str(&other.to_string());
            false
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn valid_statements_round_trip(statement in statement()) {
        let body = serde_json::to_vec(&statement).expect("serialise");
        for version in [Version::V1_0_3, Version::V2_0_0] {
            let parsed = parse_statements(&body, version, JsonLimits::default());
            prop_assert!(parsed.is_ok(), "{:?}", parsed.err());
            let parsed = parsed.expect("checked");
            prop_assert_eq!(parsed.len(), 1);
            prop_assert_eq!(&Value::Object(parsed[0].json().clone()), &statement);
            let again = serde_json::to_vec(parsed[0].json()).expect("serialise");
            prop_assert_eq!(again, body.clone());
        }
    }

    #[test]
    fn statements_are_equivalent_to_themselves_and_their_normal_forms(statement in statement()) {
        let parsed = Statement::parse(statement, Version::V2_0_0, "$").expect("valid");
        let mut stored = parsed.json().clone();
        prop_assert!(equivalent(parsed.json(), &stored));
        normalize_for_storage(&mut stored, Version::V2_0_0);
        prop_assert!(equivalent(parsed.json(), &stored));
        if let Some(Value::Array(members)) = stored.get_mut("actor").and_then(|a| a.get_mut("member")) {
            members.reverse();
        }
        prop_assert!(equivalent(parsed.json(), &stored));
        stored.insert("verb".into(), json!({"id": "http://other.example.com/verb"}));
        prop_assert!(!equivalent(parsed.json(), &stored));
    }

    #[test]
    fn strict_parser_agrees_with_serde_json(value in any_json()) {
        let text = serde_json::to_string(&value).expect("serialise");
        prop_assert_eq!(parse_json_strict(text.as_bytes(), JsonLimits { max_depth: 64 }), Ok(value));
    }

    #[test]
    fn duplicate_keys_are_always_rejected(value in any_json(), pick in any::<usize>()) {
        let mut objects = 0;
        let mut scratch = String::new();
        write_with_duplicate(&value, usize::MAX, &mut objects, &mut scratch);
        let non_empty = {
            fn count(v: &Value, out: &mut Vec<bool>) {
                match v {
                    Value::Object(m) => { out.push(!m.is_empty()); m.values().for_each(|x| count(x, out)); }
                    Value::Array(a) => a.iter().for_each(|x| count(x, out)),
                    _ => {}
                }
            }
            let mut flags = Vec::new();
            count(&value, &mut flags);
            flags
        };
        let candidates: Vec<usize> = non_empty.iter().enumerate().filter(|(_, f)| **f).map(|(i, _)| i).collect();
        prop_assume!(!candidates.is_empty());
        let target = candidates[pick % candidates.len()];
        let mut text = String::new();
        let mut counter = 0;
        prop_assert!(write_with_duplicate(&value, target, &mut counter, &mut text));
        let error = parse_json_strict(text.as_bytes(), JsonLimits { max_depth: 64 }).expect_err("duplicate");
        prop_assert_eq!(error.rule, "duplicate-key", "{}", text);
    }

    #[test]
    fn durations_round_trip(
        date in prop::option::of((0u64..100, 0u64..13, 0u64..40)),
        time in prop::option::of((0u64..30, 0u64..70, 0u64..100_000, prop::option::of(0u32..1000))),
        weeks in 1u64..60,
        use_weeks in any::<bool>(),
    ) {
        if use_weeks {
            let d = parse_duration(&format!("P{weeks}W")).expect("weeks");
            prop_assert_eq!(d.weeks, weeks);
            return Ok(());
        }
        prop_assume!(date.is_some() || time.is_some());
        let mut text = String::from("P");
        if let Some((y, m, d)) = date {
            text.push_str(&format!("{y}Y{m}M{d}D"));
        }
        if let Some((h, m, s, fraction)) = time {
            text.push_str(&format!("T{h}H{m}M{s}"));
            if let Some(f) = fraction {
                text.push_str(&format!(".{f:03}"));
            }
            text.push('S');
        }
        let d = parse_duration(&text).expect("generated durations are valid");
        if let Some((y, m, dd)) = date {
            prop_assert_eq!((d.years, d.months, d.days), (y, m, dd));
        }
        if let Some((h, m, s, fraction)) = time {
            prop_assert_eq!((d.hours, d.minutes, d.seconds), (h, m, s));
            prop_assert_eq!(d.fraction_nanos, fraction.unwrap_or(0) * 1_000_000);
        }
    }

    #[test]
    fn timestamps_keep_their_instant(
        secs in 0i64..4_102_444_800,
        millis in 0u32..1000,
        offset_minutes in -(23 * 60 + 59)..(23 * 60 + 59i32),
    ) {
        use chrono::{FixedOffset, TimeZone};
        let offset = FixedOffset::east_opt(offset_minutes * 60).expect("offset");
        let instant = offset.timestamp_opt(secs, millis * 1_000_000).single().expect("instant");
        let text = instant.to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
        prop_assume!(!text.ends_with("-00:00"));
        let parsed = parse_timestamp(&text).expect("rfc 3339 is accepted");
        prop_assert_eq!(parsed, instant);
        let mut stmt = serde_json::Map::new();
        stmt.insert("timestamp".into(), json!(text));
        normalize_for_storage(&mut stmt, Version::V2_0_0);
        let normalised = stmt["timestamp"].as_str().expect("string").to_owned();
        prop_assert!(normalised.ends_with('Z'));
        prop_assert_eq!(parse_timestamp(&normalised).expect("valid"), instant);
    }

    #[test]
    fn validation_is_total(value in any_json(), slot in 0usize..6) {
        // Any value in any position yields Ok or a ValidationError, never a panic.
        let mut statement = json!({
            "actor": {"mbox": "mailto:a@example.com"},
            "verb": {"id": "http://x.org/v"},
            "object": {"id": "http://x.org/a"}
        });
        let key = ["actor", "verb", "object", "result", "context", "attachments"][slot];
        statement[key] = value.clone();
        for version in [Version::V1_0_3, Version::V2_0_0] {
            let _ = Statement::parse(statement.clone(), version, "$");
            let _ = Statement::parse(value.clone(), version, "$");
        }
        let _ = xapi::format_ids(statement.as_object().expect("object"));
        let _ = xapi::format_canonical(statement.as_object().expect("object"), &["en".to_owned()]);
    }

    #[test]
    fn parsers_are_total_on_strings(s in "\\PC{0,40}") {
        let _ = parse_duration(&s);
        let _ = parse_timestamp(&s);
        let _ = xapi::parse_accept_language(&s);
        let _ = xapi::parse_agent_param(&s, Version::V2_0_0);
        let _ = xapi::is_language_tag(&s);
        let _ = xapi::is_absolute_iri(&s);
        let _ = parse_json_strict(s.as_bytes(), JsonLimits::default());
    }
}
