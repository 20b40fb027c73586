//! `format=ids`, `format=canonical`, Accept-Language, storage normalisation and context
//! activity arrays.

use serde_json::{Map, Value, json};
use xapi::{
    Version, context_activities_as_arrays, format_canonical, format_ids, normalize_for_storage,
    parse_accept_language,
};

fn map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn rich_statement() -> Value {
    json!({
        "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
        "actor": {"objectType": "Agent", "name": "Learner", "mbox": "mailto:learner@example.com"},
        "verb": {"id": "http://x.org/v", "display": {"en-US": "attempted", "fr": "a tenté", "und": "tried"}},
        "object": {"objectType": "Activity", "id": "http://x.org/a", "definition": {
            "name": {"en-GB": "Quiz", "fr-CA": "Questionnaire"},
            "description": {"de": "Prüfung"},
            "interactionType": "choice",
            "choices": [{"id": "a", "description": {"en-US": "A", "fr": "Ah"}}]
        }},
        "authority": {"objectType": "Group", "member": [
            {"name": "app", "account": {"homePage": "http://x.org", "name": "app"}},
            {"name": "Bob", "mbox": "mailto:bob@example.com"}
        ]},
        "context": {
            "instructor": {"name": "Teacher", "mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975"},
            "team": {"objectType": "Group", "name": "Team", "openid": "http://openid.example.org/team", "member": [{"mbox": "mailto:m@example.com"}]},
            "contextActivities": {"parent": {"id": "http://x.org/p", "definition": {"name": {"en": "Parent", "fr": "Parent FR"}}}},
            "contextAgents": [{"objectType": "contextAgent", "agent": {"name": "P", "mbox": "mailto:p@example.com"}}],
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7"
        },
        "result": {"success": true}
    })
}

#[test]
fn ids_format_keeps_only_identifiers() {
    let ids = format_ids(&map(rich_statement()));
    let expected = json!({
        "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
        "actor": {"objectType": "Agent", "mbox": "mailto:learner@example.com"},
        "verb": {"id": "http://x.org/v"},
        "object": {"id": "http://x.org/a"},
        "authority": {"objectType": "Group", "member": [
            {"objectType": "Agent", "account": {"homePage": "http://x.org", "name": "app"}},
            {"objectType": "Agent", "mbox": "mailto:bob@example.com"}
        ]},
        "context": {
            "instructor": {"objectType": "Agent", "mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975"},
            "team": {"objectType": "Group", "openid": "http://openid.example.org/team"},
            "contextActivities": {"parent": {"id": "http://x.org/p"}},
            "contextAgents": [{"objectType": "contextAgent", "agent": {"objectType": "Agent", "mbox": "mailto:p@example.com"}}],
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7"
        },
        "result": {"success": true}
    });
    assert_eq!(Value::Object(ids), expected);
}

#[test]
fn ids_format_recurses_into_substatements() {
    let statement = json!({
        "actor": {"mbox": "mailto:a@example.com", "name": "A"},
        "verb": {"id": "http://x.org/v", "display": {"en": "v"}},
        "object": {"objectType": "SubStatement",
            "actor": {"objectType": "Group", "name": "G", "member": [{"name": "M", "mbox": "mailto:m@example.com"}]},
            "verb": {"id": "http://x.org/w", "display": {"en": "w"}},
            "object": {"objectType": "Agent", "name": "O", "openid": "http://o.org/1"}}
    });
    let expected = json!({
        "actor": {"objectType": "Agent", "mbox": "mailto:a@example.com"},
        "verb": {"id": "http://x.org/v"},
        "object": {"objectType": "SubStatement",
            "actor": {"objectType": "Group", "member": [{"objectType": "Agent", "mbox": "mailto:m@example.com"}]},
            "verb": {"id": "http://x.org/w"},
            "object": {"objectType": "Agent", "openid": "http://o.org/1"}}
    });
    assert_eq!(Value::Object(format_ids(&map(statement))), expected);
}

#[test]
fn canonical_format_keeps_one_language_per_map() {
    let prefs = |header: &str| parse_accept_language(header);
    let statement = map(rich_statement());
    // (Accept-Language, verb display kept, activity name kept, choice description kept)
    let cases = [
        ("fr", "fr", "fr-CA", "fr"),
        ("en-US", "en-US", "en-GB", "en-US"),
        ("en-GB;q=0.9, fr;q=0.8", "fr", "en-GB", "fr"),
        ("de", "und", "en-GB", "en-US"),
        ("", "und", "en-GB", "en-US"),
        ("*", "en-US", "en-GB", "en-US"),
        ("fr;q=0, en", "en-US", "en-GB", "en-US"),
    ];
    for (header, verb, name, choice) in cases {
        let out = format_canonical(&statement, &prefs(header));
        let keys = |v: &Value| {
            v.as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        };
        assert_eq!(keys(&out["verb"]["display"]), [verb], "{header:?} verb");
        assert_eq!(
            keys(&out["object"]["definition"]["name"]),
            [name],
            "{header:?} name"
        );
        assert_eq!(
            keys(&out["object"]["definition"]["choices"][0]["description"]),
            [choice],
            "{header:?} choice"
        );
        assert_eq!(
            keys(&out["object"]["definition"]["description"]),
            ["de"],
            "{header:?} single-entry map"
        );
        assert_eq!(
            out["actor"], statement["actor"],
            "agents are returned exactly"
        );
        assert_eq!(
            keys(&out["context"]["contextActivities"]["parent"]["definition"]["name"]).len(),
            1
        );
    }
}

#[test]
fn accept_language_parsing() {
    let cases: [(&str, &[&str]); 6] = [
        ("da, en-gb;q=0.8, en;q=0.7", &["da", "en-gb", "en"]),
        ("en;q=0.5, fr", &["fr", "en"]),
        ("en;q=0, fr;q=0.001", &["fr"]),
        ("fr;q=1.5, de;q=abc, it;q=0.3", &["it"]),
        ("", &[]),
        (" es-MX ;q=0.9 , * ;q=0.1", &["es-MX", "*"]),
    ];
    for (header, expected) in cases {
        assert_eq!(parse_accept_language(header), expected, "{header:?}");
    }
}

#[test]
fn storage_normalisation_converts_2_0_timestamps_to_utc() {
    let statement = |timestamp: &str| {
        map(json!({
            "actor": {"mbox": "mailto:a@example.com"},
            "verb": {"id": "http://x.org/v"},
            "object": {"objectType": "SubStatement", "actor": {"mbox": "mailto:a@example.com"},
                "verb": {"id": "http://x.org/v"}, "object": {"id": "http://x.org/a"}, "timestamp": timestamp},
            "timestamp": timestamp,
            "result": {"duration": "PT1.23456S"}
        }))
    };
    let cases = [
        ("2023-05-04T12:00:00-05:00", "2023-05-04T17:00:00Z"),
        (
            "2023-05-04T12:00:00.123456+01:00",
            "2023-05-04T11:00:00.123456Z",
        ),
        ("2023-05-04T12:00:00.1+00:00", "2023-05-04T12:00:00.1Z"),
        ("2023-05-04T12:00:00.999Z", "2023-05-04T12:00:00.999Z"),
        ("2023-05-04t12:00:00z", "2023-05-04t12:00:00z"),
        ("2023-05-04T00:30:00+01:00", "2023-05-03T23:30:00Z"),
        ("20230504T120000-0130", "2023-05-04T13:30:00Z"),
        ("2023-05-04T12:00:00", "2023-05-04T12:00:00Z"),
    ];
    for (input, expected) in cases {
        let mut v2 = statement(input);
        normalize_for_storage(&mut v2, Version::V2_0_0);
        assert_eq!(v2["timestamp"], json!(expected), "{input:?}");
        assert_eq!(
            v2["object"]["timestamp"],
            json!(expected),
            "{input:?} substatement"
        );
        assert_eq!(
            v2["result"]["duration"],
            json!("PT1.23456S"),
            "durations are kept"
        );
        let mut v1 = statement(input);
        normalize_for_storage(&mut v1, Version::V1_0_3);
        assert_eq!(v1, statement(input), "1.0.3 statements are kept as sent");
    }
}

#[test]
fn context_activities_are_returned_as_arrays() {
    let mut statement = map(json!({
        "context": {"contextActivities": {"parent": {"id": "http://x.org/p"}, "other": [{"id": "http://x.org/o"}]}},
        "object": {"objectType": "SubStatement", "context": {"contextActivities": {"grouping": {"id": "http://x.org/g"}}}}
    }));
    context_activities_as_arrays(&mut statement);
    assert_eq!(
        statement["context"]["contextActivities"]["parent"],
        json!([{"id": "http://x.org/p"}])
    );
    assert_eq!(
        statement["context"]["contextActivities"]["other"],
        json!([{"id": "http://x.org/o"}])
    );
    assert_eq!(
        statement["object"]["context"]["contextActivities"]["grouping"],
        json!([{"id": "http://x.org/g"}])
    );
}
