//! `equivalent()`: what Data §2.3.1 / 9274.1.1 §4.2 say to ignore, and what they do not.

use serde_json::{Map, Value, json};
use xapi::equivalent;

fn map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn sent() -> Value {
    json!({
        "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
        "actor": {"objectType": "Group", "name": "G", "member": [
            {"mbox": "mailto:a@Example.com"}, {"mbox": "mailto:b@example.com"}
        ]},
        "verb": {"id": "http://x.org/v", "display": {"en-US": "did"}},
        "object": {"id": "http://x.org/a", "definition": {"name": {"en": "A"}}},
        "result": {"duration": "PT1.2345S", "score": {"raw": 1}},
        "context": {
            "registration": "EC531277-B57B-4C15-8D91-D292C5B2B8F7",
            "contextActivities": {"parent": {"id": "http://x.org/p", "definition": {"name": {"en": "P"}}}}
        },
        "timestamp": "2023-05-04T12:00:00-05:00"
    })
}

/// Applies top-level replacements (null removes) to `sent()`.
fn changed(changes: Value) -> Value {
    let mut statement = sent();
    if let (Some(target), Some(changes)) = (statement.as_object_mut(), changes.as_object()) {
        for (key, value) in changes {
            if value.is_null() {
                target.remove(key);
            } else {
                target.insert(key.clone(), value.clone());
            }
        }
    }
    statement
}

#[test]
fn immutability_exceptions_are_ignored() {
    let same = [
        // What the LRS sets: id assignment, authority, stored, version, timestamp.
        changed(json!({"id": null})),
        changed(
            json!({"authority": {"mbox": "mailto:lrs@example.com"}, "stored": "2024-01-01T00:00:00Z", "version": "1.0.0"}),
        ),
        changed(json!({"timestamp": null})),
        changed(json!({"timestamp": "2023-05-04T17:00:00.000Z"})),
        changed(json!({"id": "FD41C918-B88B-4B20-A0A5-A4C32391AAA0"})),
        // Group member order, mailto domain case, objectType defaults, number forms.
        changed(
            json!({"actor": {"objectType": "Group", "name": "G", "member": [
                {"objectType": "Agent", "mbox": "mailto:b@example.com"}, {"mbox": "mailto:a@example.com"}
            ]}}),
        ),
        // Verb display and activity definitions.
        changed(json!({"verb": {"id": "http://x.org/v", "display": {"fr": "a fait"}}})),
        changed(json!({"object": {"objectType": "Activity", "id": "http://x.org/a"}})),
        // A single context activity equals an array of one; UUID case.
        changed(json!({"context": {
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
            "contextActivities": {"parent": [{"id": "http://x.org/p"}]}
        }})),
        // Durations beyond 0.01 s; numbers by value.
        changed(json!({"result": {"duration": "PT1.23S", "score": {"raw": 1.0}}})),
        // Attachments (a signed statement's payload lacks the signature attachment).
        changed(
            json!({"attachments": [{"usageType": "http://adlnet.gov/expapi/attachments/signature"}]}),
        ),
    ];
    let original = map(sent());
    for other in same {
        assert!(
            equivalent(&original, &map(other.clone())),
            "should be equivalent: {other}"
        );
        assert!(
            equivalent(&map(other.clone()), &original),
            "should be symmetric: {other}"
        );
    }
}

#[test]
fn real_differences_are_not_ignored() {
    let different = [
        changed(json!({"id": "00000000-0000-0000-0000-000000000000"})),
        changed(json!({"timestamp": "2023-05-04T12:00:00Z"})),
        changed(
            json!({"actor": {"objectType": "Group", "name": "G2", "member": [
                {"mbox": "mailto:a@example.com"}, {"mbox": "mailto:b@example.com"}
            ]}}),
        ),
        changed(
            json!({"actor": {"objectType": "Group", "name": "G", "member": [{"mbox": "mailto:a@example.com"}]}}),
        ),
        changed(
            json!({"actor": {"objectType": "Group", "name": "G", "member": [
                {"mbox": "mailto:A@example.com"}, {"mbox": "mailto:b@example.com"}
            ]}}),
        ),
        changed(json!({"verb": {"id": "http://x.org/w"}})),
        changed(json!({"object": {"id": "http://x.org/b"}})),
        changed(json!({"result": {"duration": "PT1.24S", "score": {"raw": 1}}})),
        changed(json!({"result": {"duration": "PT1.2345S", "score": {"raw": 2}}})),
        changed(json!({"result": null})),
        changed(
            json!({"context": {"registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f8",
            "contextActivities": {"parent": {"id": "http://x.org/p"}}}}),
        ),
        changed(
            json!({"context": {"registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
            "contextActivities": {"grouping": {"id": "http://x.org/p"}}}}),
        ),
        changed(json!({"result": {"duration": "PT60S", "score": {"raw": 1}}})),
    ];
    let original = map(sent());
    for other in different {
        assert!(
            !equivalent(&original, &map(other.clone())),
            "should differ: {other}"
        );
    }
    // Minutes are not converted to seconds: durations are compared as written (Data §2.3.1).
    let minutes = map(changed(json!({"result": {"duration": "PT1M"}})));
    let seconds = map(changed(json!({"result": {"duration": "PT60S"}})));
    assert!(!equivalent(&minutes, &seconds));
}

#[test]
fn substatement_timestamps_are_compared_as_instants() {
    let sub = |timestamp: &str| {
        map(json!({
            "actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://x.org/v"},
            "object": {"objectType": "SubStatement", "actor": {"mbox": "mailto:a@example.com"},
                "verb": {"id": "http://x.org/v"}, "object": {"id": "http://x.org/a"}, "timestamp": timestamp}
        }))
    };
    assert!(equivalent(
        &sub("2023-05-04T12:00:00-05:00"),
        &sub("2023-05-04T17:00:00Z")
    ));
    assert!(!equivalent(
        &sub("2023-05-04T12:00:00-05:00"),
        &sub("2023-05-04T12:00:00Z")
    ));
}
