//! One table per area: each case is a statement (the base statement with top-level properties
//! replaced), the version it is sent with, and the expected outcome (accepted, or the path and
//! rule of the rejection). Covers every rule in `xapi::RULES`.

use serde_json::{Value, json};
use xapi::Version::{self, V1_0_3, V2_0_0};

use crate::helpers::{base, outcome};

/// Expected outcome: `OK`, or `(path, rule)`.
type Expect = Option<(&'static str, &'static str)>;
const OK: Expect = None;

fn with(changes: Value) -> Value {
    let mut statement = base();
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

#[track_caller]
fn check(version: Version, statement: Value, expected: Expect) {
    let body = serde_json::to_vec(&statement).expect("serialise");
    let got = outcome(&body, version);
    let want = expected.map_or(Ok(()), |(path, rule)| Err((path.to_owned(), rule)));
    assert_eq!(got, want, "statement: {statement}");
}

#[track_caller]
fn check_both(statement: Value, expected: Expect) {
    check(V1_0_3, statement.clone(), expected);
    check(V2_0_0, statement, expected);
}

#[test]
fn statement_level() {
    let cases: Vec<(Value, Expect)> = vec![
        (with(json!({})), OK),
        (
            with(json!({"id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"})),
            OK,
        ),
        (
            with(json!({"id": "FD41C918-B88B-4B20-A0A5-A4C32391AAA0"})),
            OK,
        ),
        (
            with(json!({"id": "fd41c918b88b4b20a0a5a4c32391aaa0"})),
            Some(("$.id", "invalid-uuid")),
        ),
        (
            with(json!({"id": "{fd41c918-b88b-4b20-a0a5-a4c32391aaa0}"})),
            Some(("$.id", "invalid-uuid")),
        ),
        (with(json!({"id": 12345})), Some(("$.id", "wrong-type"))),
        (
            with(json!({"actor": null})),
            Some(("$", "missing-property")),
        ),
        (with(json!({"verb": null})), Some(("$", "missing-property"))),
        (
            with(json!({"object": null})),
            Some(("$", "missing-property")),
        ),
        (
            with(json!({"Actor": {"mbox": "mailto:a@example.com"}})),
            Some(("$.Actor", "unknown-property")),
        ),
        (
            with(json!({"dummy": "dummy"})),
            Some(("$.dummy", "unknown-property")),
        ),
        (
            with(json!({"objectType": "Statement"})),
            Some(("$.objectType", "unknown-property")),
        ),
        (with(json!({"timestamp": "2015-11-18T12:17:00+00:00"})), OK),
        (
            with(json!({"timestamp": "2015-11-18T12:17:00.123456789Z"})),
            OK,
        ),
        (with(json!({"timestamp": "20151118T121700Z"})), OK),
        (with(json!({"timestamp": "2015-11-18T12:17:00"})), OK),
        (with(json!({"timestamp": "2031-11-18T12:17:00Z"})), OK),
        (
            with(json!({"timestamp": "01/011/2015"})),
            Some(("$.timestamp", "invalid-timestamp")),
        ),
        (
            with(json!({"timestamp": "2008-09-15T15:53:00.601-00:00"})),
            Some(("$.timestamp", "invalid-timestamp")),
        ),
        (
            with(json!({"timestamp": "2015-11-18"})),
            Some(("$.timestamp", "invalid-timestamp")),
        ),
        (
            with(json!({"timestamp": 1447849020})),
            Some(("$.timestamp", "wrong-type")),
        ),
        (with(json!({"stored": "2015-11-18T12:17:00Z"})), OK),
        (
            with(json!({"stored": "yesterday"})),
            Some(("$.stored", "invalid-timestamp")),
        ),
        (with(json!({"version": "1.0.0"})), OK),
        (with(json!({"version": "1.0"})), OK),
        (with(json!({"version": "1.0.9"})), OK),
        (
            with(json!({"version": "1.1.0"})),
            Some(("$.version", "invalid-version")),
        ),
        (
            with(json!({"version": "0.9.9"})),
            Some(("$.version", "invalid-version")),
        ),
        (
            with(json!({"version": "1.0.x"})),
            Some(("$.version", "invalid-version")),
        ),
        (
            with(json!({"version": 1.0})),
            Some(("$.version", "wrong-type")),
        ),
    ];
    for (statement, expected) in cases {
        check_both(statement, expected);
    }
    // Data §2.4.10 / 9274.1.1 §4.2.4.3: 2.0.x versions only where the request speaks 2.0.
    check(V2_0_0, with(json!({"version": "2.0.0"})), OK);
    check(V2_0_0, with(json!({"version": "2.0"})), OK);
    check(
        V1_0_3,
        with(json!({"version": "2.0.0"})),
        Some(("$.version", "invalid-version")),
    );
    check(
        V2_0_0,
        with(json!({"version": "2.1.0"})),
        Some(("$.version", "invalid-version")),
    );
}

#[test]
fn nulls_and_types() {
    check_both(
        with(json!({"result": {"success": "true"}})),
        Some(("$.result.success", "wrong-type")),
    );
    check_both(
        with(json!({"result": {"completion": 1}})),
        Some(("$.result.completion", "wrong-type")),
    );
    check_both(
        with(json!({"result": {"response": 12}})),
        Some(("$.result.response", "wrong-type")),
    );
    check_both(
        with(json!({"result": {"score": {"raw": "95"}}})),
        Some(("$.result.score.raw", "wrong-type")),
    );
    check_both(
        with(json!({"actor": {"mbox": "mailto:a@example.com", "name": null}})),
        Some(("$.actor.name", "null-value")),
    );
    check_both(
        with(json!({"context": {"registration": null}})),
        Some(("$.context.registration", "null-value")),
    );
    check_both(
        with(json!({"verb": {"id": "http://x.org/v", "display": {"en-US": null}}})),
        Some(("$.verb.display['en-US']", "null-value")),
    );
    // Data §4.1: extension values are never rejected, null included.
    check_both(
        with(
            json!({"result": {"extensions": {"http://example.com/null": null, "http://example.com/o": {}}}}),
        ),
        OK,
    );
    check_both(with(json!({"context": {"extensions": {}}})), OK);
    check_both(
        with(json!({"result": {"extensions": "x"}})),
        Some(("$.result.extensions", "wrong-type")),
    );
    check_both(
        with(json!({"context": {"extensions": {"example.com/extension/wrong": 1234}}})),
        Some((
            "$.context.extensions['example.com/extension/wrong']",
            "invalid-iri",
        )),
    );
}

#[test]
fn actors_and_ifis() {
    let agent = |a: Value| with(json!({ "actor": a }));
    check_both(
        agent(json!({"objectType": "Agent", "name": "A", "mbox": "mailto:a@example.com"})),
        OK,
    );
    check_both(
        agent(json!({"mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975"})),
        OK,
    );
    check_both(
        agent(json!({"mbox_sha1sum": "CD9B00A5611F94EAA7B1661EDAB976068E364975"})),
        OK,
    );
    check_both(
        agent(json!({"openid": "http://openid.example.org/12345"})),
        OK,
    );
    check_both(
        agent(json!({"account": {"homePage": "http://www.example.com", "name": "1625378"}})),
        OK,
    );
    check_both(
        agent(json!({"name": "no ifi"})),
        Some(("$.actor", "one-ifi")),
    );
    check_both(
        agent(json!({"mbox": "mailto:a@example.com", "openid": "http://openid.example.org/1"})),
        Some(("$.actor", "one-ifi")),
    );
    check_both(
        agent(json!({"mbox": "a@example.com"})),
        Some(("$.actor.mbox", "invalid-mbox")),
    );
    check_both(
        agent(json!({"mbox": "mailto:"})),
        Some(("$.actor.mbox", "invalid-mbox")),
    );
    check_both(
        agent(json!({"mbox": "mailto:a b@example.com"})),
        Some(("$.actor.mbox", "invalid-mbox")),
    );
    check_both(
        agent(json!({"mbox_sha1sum": "abc"})),
        Some(("$.actor.mbox_sha1sum", "invalid-mbox-sha1sum")),
    );
    check_both(
        agent(json!({"openid": "open.id.com/testUser"})),
        Some(("$.actor.openid", "invalid-iri")),
    );
    check_both(
        agent(json!({"account": {"homePage": "homePage.com/testUser", "name": "123456"}})),
        Some(("$.actor.account.homePage", "invalid-irl")),
    );
    check_both(
        agent(json!({"account": {"name": "x"}})),
        Some(("$.actor.account", "missing-property")),
    );
    check_both(
        agent(json!({"account": {"homePage": "http://x.org", "name": "x", "extra": 1}})),
        Some(("$.actor.account.extra", "unknown-property")),
    );
    check_both(
        agent(json!({"account": {"homePage": "http://x.org", "name": {"key": "fail"}}})),
        Some(("$.actor.account.name", "wrong-type")),
    );
    check_both(
        agent(json!({"objectType": "agent", "mbox": "mailto:a@example.com"})),
        Some(("$.actor.objectType", "invalid-object-type")),
    );
    check_both(
        agent(json!({"objectType": "Person", "mbox": "mailto:a@example.com"})),
        Some(("$.actor.objectType", "invalid-object-type")),
    );
    check_both(
        agent(json!({"mbox": "mailto:a@example.com", "member": []})),
        Some(("$.actor.member", "unknown-property")),
    );
    // Groups (Data §2.4.2.2).
    let member = json!([{"mbox": "mailto:m@example.com"}]);
    check_both(agent(json!({"objectType": "Group", "member": member})), OK);
    check_both(
        agent(json!({"objectType": "Group", "mbox": "mailto:g@example.com"})),
        OK,
    );
    check_both(
        agent(json!({"objectType": "Group", "mbox": "mailto:g@example.com", "member": member})),
        OK,
    );
    check_both(
        agent(json!({"objectType": "Group", "name": "anon"})),
        Some(("$.actor", "anonymous-group-member")),
    );
    check_both(
        agent(json!({"objectType": "Group", "member": []})),
        Some(("$.actor", "anonymous-group-member")),
    );
    check_both(
        agent(
            json!({"objectType": "Group", "mbox": "mailto:g@example.com", "openid": "http://o.org/1", "member": member}),
        ),
        Some(("$.actor", "one-ifi")),
    );
    check_both(
        agent(
            json!({"objectType": "Group", "member": [{"objectType": "Group", "member": member}]}),
        ),
        Some(("$.actor.member[0]", "group-member-not-agent")),
    );
    check_both(
        agent(json!({"objectType": "Group", "member": [{"name": "no ifi"}]})),
        Some(("$.actor.member[0]", "one-ifi")),
    );
    check_both(
        agent(json!({"objectType": "Group", "member": {"mbox": "mailto:m@example.com"}})),
        Some(("$.actor.member", "wrong-type")),
    );
    check_both(
        agent(json!("mailto:a@example.com")),
        Some(("$.actor", "wrong-type")),
    );
}

#[test]
fn verbs() {
    let verb = |v: Value| with(json!({ "verb": v }));
    check_both(
        verb(json!({"id": "http://adlnet.gov/expapi/verbs/attended"})),
        OK,
    );
    check_both(
        verb(
            json!({"id": "urn:x-verb:attended", "display": {"en-US": "attended", "zh-Hant-TW": "出席"}}),
        ),
        OK,
    );
    check_both(
        verb(json!({"display": {"en-US": "attended"}})),
        Some(("$.verb", "missing-property")),
    );
    check_both(
        verb(json!({"id": "adlnet.gov/expapi/verbs/attended"})),
        Some(("$.verb.id", "invalid-iri")),
    );
    check_both(
        verb(json!({"id": "http://x.org/has space"})),
        Some(("$.verb.id", "invalid-iri")),
    );
    check_both(verb(json!({"id": ""})), Some(("$.verb.id", "invalid-iri")));
    check_both(
        verb(json!({"id": "http://x.org/v", "display": {"a12345": "x"}})),
        Some(("$.verb.display.a12345", "invalid-language-tag")),
    );
    check_both(
        verb(json!({"id": "http://x.org/v", "display": {"something": "x"}})),
        Some(("$.verb.display.something", "invalid-language-tag")),
    );
    check_both(
        verb(json!({"id": "http://x.org/v", "display": {"en-US": 1}})),
        Some(("$.verb.display['en-US']", "wrong-type")),
    );
    check_both(
        verb(json!({"id": "http://x.org/v", "Display": {}})),
        Some(("$.verb.Display", "unknown-property")),
    );
    // Data §2.3.2: the voided verb needs a StatementRef object.
    let voided = json!({"id": "http://adlnet.gov/expapi/verbs/voided"});
    check_both(
        with(
            json!({"verb": voided, "object": {"objectType": "StatementRef", "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"}}),
        ),
        OK,
    );
    check_both(
        with(json!({"verb": voided})),
        Some(("$.object", "voiding-requires-statement-ref")),
    );
}

#[test]
fn objects() {
    let object = |o: Value| with(json!({ "object": o }));
    check_both(
        object(json!({"objectType": "Activity", "id": "http://x.org/a"})),
        OK,
    );
    check_both(
        object(json!({"objectType": "activity", "id": "http://x.org/a"})),
        Some(("$.object.objectType", "invalid-object-type")),
    );
    check_both(
        object(json!({"objectType": "Thing", "id": "http://x.org/a"})),
        Some(("$.object.objectType", "invalid-object-type")),
    );
    check_both(
        object(json!({"id": "x.org/a"})),
        Some(("$.object.id", "invalid-iri")),
    );
    check_both(
        object(json!({"definition": {}})),
        Some(("$.object", "missing-property")),
    );
    check_both(
        object(json!({"id": "http://x.org/a", "definition": {
            "name": {"en-US": "n"}, "description": {"en": "d"}, "type": "http://adlnet.gov/expapi/activities/meeting",
            "moreInfo": "http://virtualmeeting.example.com/345256", "extensions": {"http://x.org/e": [1, 2]}
        }})),
        OK,
    );
    check_both(
        object(json!({"id": "http://x.org/a", "definition": {"type": "meeting"}})),
        Some(("$.object.definition.type", "invalid-iri")),
    );
    check_both(
        object(json!({"id": "http://x.org/a", "definition": {"moreInfo": "x.org"}})),
        Some(("$.object.definition.moreInfo", "invalid-irl")),
    );
    check_both(
        object(json!({"id": "http://x.org/a", "definition": {"foo": 1}})),
        Some(("$.object.definition.foo", "unknown-property")),
    );
    // Interaction activities (Data §2.4.4.1).
    let choice = json!({"id": "http://x.org/q", "definition": {
        "interactionType": "choice", "correctResponsesPattern": ["golf[,]tetris"],
        "choices": [{"id": "golf", "description": {"en-US": "Golf"}}, {"id": "tetris"}]
    }});
    check_both(object(choice), OK);
    check_both(
        object(json!({"id": "http://x.org/q", "definition": {"interactionType": "Choice"}})),
        Some((
            "$.object.definition.interactionType",
            "invalid-interaction-type",
        )),
    );
    check_both(
        object(
            json!({"id": "http://x.org/q", "definition": {"correctResponsesPattern": ["true"]}}),
        ),
        Some((
            "$.object.definition.correctResponsesPattern",
            "interaction-type-required",
        )),
    );
    check_both(
        object(json!({"id": "http://x.org/q", "definition": {"scale": [{"id": "a"}]}})),
        Some(("$.object.definition.scale", "interaction-type-required")),
    );
    check_both(
        object(
            json!({"id": "http://x.org/q", "definition": {"interactionType": "likert", "scale": [{"id": "a"}, {"id": "a"}]}}),
        ),
        Some(("$.object.definition.scale[1].id", "duplicate-component-id")),
    );
    check_both(
        object(
            json!({"id": "http://x.org/q", "definition": {"interactionType": "likert", "scale": [{"description": {"en": "x"}}]}}),
        ),
        Some(("$.object.definition.scale[0]", "missing-property")),
    );
    check_both(
        object(
            json!({"id": "http://x.org/q", "definition": {"interactionType": "numeric", "correctResponsesPattern": [4]}}),
        ),
        Some((
            "$.object.definition.correctResponsesPattern[0]",
            "wrong-type",
        )),
    );
    // Agents and groups as objects (Data §2.4.4.2) need an objectType.
    check_both(
        object(json!({"objectType": "Agent", "mbox": "mailto:a@example.com"})),
        OK,
    );
    check_both(
        object(json!({"mbox": "mailto:a@example.com"})),
        Some(("$.object", "object-type-required")),
    );
    check_both(
        object(json!({"member": [{"mbox": "mailto:a@example.com"}]})),
        Some(("$.object", "object-type-required")),
    );
    // StatementRef.
    check_both(
        object(json!({"objectType": "StatementRef", "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"})),
        OK,
    );
    check_both(
        object(json!({"objectType": "StatementRef"})),
        Some(("$.object", "missing-property")),
    );
    check_both(
        object(json!({"objectType": "StatementRef", "id": "not-a-uuid"})),
        Some(("$.object.id", "invalid-uuid")),
    );
    // SubStatement (Data §2.4.4.3).
    let sub = |extra: Value| {
        let mut s = json!({"objectType": "SubStatement", "actor": {"mbox": "mailto:s@example.com"},
            "verb": {"id": "http://x.org/v"}, "object": {"id": "http://x.org/a"}});
        if let (Some(s), Some(extra)) = (s.as_object_mut(), extra.as_object()) {
            s.extend(extra.clone());
        }
        object(s)
    };
    check_both(sub(json!({})), OK);
    check_both(
        sub(json!({"timestamp": "2031-01-01T00:00:00Z", "result": {"success": true}})),
        OK,
    );
    check_both(
        sub(json!({"id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"})),
        Some(("$.object.id", "substatement-property")),
    );
    check_both(
        sub(json!({"stored": "2015-01-01T00:00:00Z"})),
        Some(("$.object.stored", "substatement-property")),
    );
    check_both(
        sub(json!({"version": "1.0.0"})),
        Some(("$.object.version", "substatement-property")),
    );
    check_both(
        sub(json!({"authority": {"mbox": "mailto:a@example.com"}})),
        Some(("$.object.authority", "substatement-property")),
    );
    check_both(
        sub(
            json!({"object": {"objectType": "SubStatement", "actor": {"mbox": "mailto:s@example.com"}, "verb": {"id": "http://x.org/v"}, "object": {"id": "http://x.org/a"}}}),
        ),
        Some(("$.object.object.objectType", "nested-substatement")),
    );
    check_both(
        sub(json!({"verb": null})),
        Some(("$.object.verb", "null-value")),
    );
    check_both(
        sub(json!({"object": {"mbox": "mailto:a@example.com"}})),
        Some(("$.object.object", "object-type-required")),
    );
}

#[test]
fn results_and_scores() {
    let result = |r: Value| with(json!({ "result": r }));
    check_both(
        result(
            json!({"score": {"scaled": 0.95, "raw": 95, "min": 0, "max": 100}, "success": true, "completion": false, "response": "x", "duration": "PT4H35M59.14S"}),
        ),
        OK,
    );
    check_both(result(json!({"score": {"scaled": -1.0}})), OK);
    check_both(
        result(json!({"score": {"scaled": 1.01}})),
        Some(("$.result.score.scaled", "score-scaled-range")),
    );
    check_both(
        result(json!({"score": {"raw": 101, "max": 100}})),
        Some(("$.result.score.raw", "score-raw-range")),
    );
    check_both(
        result(json!({"score": {"raw": -1, "min": 0}})),
        Some(("$.result.score.raw", "score-raw-range")),
    );
    check_both(result(json!({"score": {"raw": 5}})), OK);
    check_both(
        result(json!({"score": {"min": 10, "max": 10}})),
        Some(("$.result.score.min", "score-min-max")),
    );
    check_both(
        result(json!({"score": {"min": 11, "max": 10}})),
        Some(("$.result.score.min", "score-min-max")),
    );
    check_both(
        result(json!({"score": {"percent": 1}})),
        Some(("$.result.score.percent", "unknown-property")),
    );
    check_both(result(json!({"duration": "P4W"})), OK);
    check_both(result(json!({"duration": "P1DT12H36M0.12567S"})), OK);
    check_both(
        result(json!({"duration": "P4W1D"})),
        Some(("$.result.duration", "invalid-duration")),
    );
    check_both(
        result(json!({"duration": "P0003-01-29T04:35:59"})),
        Some(("$.result.duration", "invalid-duration")),
    );
    check_both(
        result(json!({"duration": "4 hours"})),
        Some(("$.result.duration", "invalid-duration")),
    );
    check_both(
        result(json!({"duration": 14400})),
        Some(("$.result.duration", "wrong-type")),
    );
    check_both(
        result(json!({"grade": "A"})),
        Some(("$.result.grade", "unknown-property")),
    );
}

#[test]
fn contexts() {
    let context = |c: Value| with(json!({ "context": c }));
    check_both(
        context(json!({
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
            "instructor": {"objectType": "Group", "member": [{"mbox": "mailto:i@example.com"}]},
            "team": {"objectType": "Group", "mbox": "mailto:team@example.com"},
            "contextActivities": {"parent": {"id": "http://x.org/p"}, "grouping": [{"id": "http://x.org/g"}], "category": [], "other": [{"objectType": "Activity", "id": "http://x.org/o"}]},
            "revision": "rev_10_3_2", "platform": "Example", "language": "tlh",
            "statement": {"objectType": "StatementRef", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"},
            "extensions": {"http://x.org/e": 1}
        })),
        OK,
    );
    check_both(
        context(json!({"registration": "MA97B177-9383-4934-8543-0F91A7A02836"})),
        Some(("$.context.registration", "invalid-uuid")),
    );
    check_both(
        context(json!({"team": {"mbox": "mailto:t@example.com"}})),
        Some(("$.context.team", "team-not-group")),
    );
    check_both(
        context(json!({"contextActivities": {"consequences": []}})),
        Some((
            "$.context.contextActivities.consequences",
            "unknown-property",
        )),
    );
    check_both(
        context(
            json!({"contextActivities": {"parent": [{"objectType": "Agent", "mbox": "mailto:a@example.com"}]}}),
        ),
        Some((
            "$.context.contextActivities.parent[0].objectType",
            "invalid-object-type",
        )),
    );
    check_both(
        context(json!({"contextActivities": {"parent": "http://x.org/p"}})),
        Some(("$.context.contextActivities.parent", "wrong-type")),
    );
    check_both(
        context(json!({"language": "en--US"})),
        Some(("$.context.language", "invalid-language-tag")),
    );
    check_both(
        context(json!({"statement": {"id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}})),
        Some(("$.context.statement", "missing-property")),
    );
    check_both(
        context(
            json!({"statement": {"objectType": "SubStatement", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}}),
        ),
        Some(("$.context.statement.objectType", "invalid-object-type")),
    );
    // Data §2.4.6: revision and platform only when the object is an Activity.
    let agent_object = json!({"objectType": "Agent", "mbox": "mailto:o@example.com"});
    check_both(
        with(json!({"object": agent_object, "context": {"revision": "1"}})),
        Some(("$.context.revision", "context-requires-activity")),
    );
    check_both(
        with(json!({"object": agent_object, "context": {"platform": "p"}})),
        Some(("$.context.platform", "context-requires-activity")),
    );
    check_both(
        with(json!({"object": agent_object, "context": {"language": "en"}})),
        OK,
    );
}

#[test]
fn context_agents_and_groups_2_0() {
    let context = |c: Value| with(json!({ "context": c }));
    let agents = json!({"contextAgents": [{"objectType": "contextAgent", "agent": {"mbox": "mailto:p@example.com"}, "relevantTypes": ["https://x.org/types/player"]}]});
    let groups = json!({"contextGroups": [{"objectType": "contextGroup", "group": {"objectType": "Group", "member": [{"mbox": "mailto:p@example.com"}]}}]});
    check(V2_0_0, context(agents.clone()), OK);
    check(V2_0_0, context(groups.clone()), OK);
    check(V2_0_0, context(json!({"contextAgents": []})), OK);
    check(
        V1_0_3,
        context(agents),
        Some(("$.context.contextAgents", "unknown-property")),
    );
    check(
        V1_0_3,
        context(groups),
        Some(("$.context.contextGroups", "unknown-property")),
    );
    let bad = |entry: Value| context(json!({ "contextAgents": [entry] }));
    check(
        V2_0_0,
        bad(json!({"objectType": "Should fail", "agent": {"mbox": "mailto:p@example.com"}})),
        Some((
            "$.context.contextAgents[0].objectType",
            "invalid-object-type",
        )),
    );
    check(
        V2_0_0,
        bad(json!({"agent": {"mbox": "mailto:p@example.com"}})),
        Some(("$.context.contextAgents[0]", "missing-property")),
    );
    check(
        V2_0_0,
        bad(json!({"objectType": "contextAgent"})),
        Some(("$.context.contextAgents[0]", "missing-property")),
    );
    check(
        V2_0_0,
        bad(json!({"objectType": "contextAgent", "agent": {"key": "Should fail"}})),
        Some(("$.context.contextAgents[0].agent.key", "unknown-property")),
    );
    check(
        V2_0_0,
        bad(
            json!({"objectType": "contextAgent", "agent": {"objectType": "Group", "mbox": "mailto:g@example.com"}}),
        ),
        Some(("$.context.contextAgents[0].agent", "invalid-object-type")),
    );
    check(
        V2_0_0,
        bad(
            json!({"objectType": "contextAgent", "agent": {"mbox": "mailto:p@example.com"}, "relevantTypes": []}),
        ),
        Some((
            "$.context.contextAgents[0].relevantTypes",
            "empty-relevant-types",
        )),
    );
    check(
        V2_0_0,
        bad(
            json!({"objectType": "contextAgent", "agent": {"mbox": "mailto:p@example.com"}, "relevantTypes": ["abc"]}),
        ),
        Some(("$.context.contextAgents[0].relevantTypes[0]", "invalid-iri")),
    );
    check(
        V2_0_0,
        context(
            json!({"contextGroups": [{"objectType": "contextGroup", "group": {"mbox": "mailto:g@example.com"}}]}),
        ),
        Some(("$.context.contextGroups[0].group", "missing-property")),
    );
    check(
        V2_0_0,
        context(json!({"contextAgents": {}})),
        Some(("$.context.contextAgents", "wrong-type")),
    );
}

#[test]
fn authority() {
    let authority = |a: Value| with(json!({ "authority": a }));
    let oauth = json!({"account": {"homePage": "http://example.com/xAPI/OAuth/Token", "name": "oauth_consumer_x75db"}});
    let user = json!({"mbox": "mailto:bob@example.com"});
    check_both(authority(json!({"mbox": "mailto:lrs@example.com"})), OK);
    check_both(
        authority(json!({"objectType": "Group", "member": [oauth, user]})),
        OK,
    );
    check_both(
        authority(json!({"objectType": "Group", "member": [user]})),
        Some(("$.authority", "authority-group")),
    );
    check_both(
        authority(
            json!({"objectType": "Group", "member": [oauth, user, {"mbox": "mailto:james@example.com"}]}),
        ),
        Some(("$.authority", "authority-group")),
    );
    check_both(
        authority(
            json!({"objectType": "Group", "mbox": "mailto:g@example.com", "member": [oauth, user]}),
        ),
        Some(("$.authority", "authority-group")),
    );
    check_both(
        authority(json!({"objectType": "Agent"})),
        Some(("$.authority", "one-ifi")),
    );
}

#[test]
fn attachments() {
    let attachment = || {
        json!({
            "usageType": "http://example.com/attachment-usage/test",
            "display": {"en-US": "A test attachment"},
            "description": {"en-US": "A test attachment (description)"},
            "contentType": "text/plain; charset=ascii",
            "length": 27,
            "sha2": "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a",
            "fileUrl": "http://over.there.com/file.txt"
        })
    };
    let with_attachment = |key: &str, value: Value| {
        let mut a = attachment();
        if value.is_null() {
            a.as_object_mut().map(|m| m.remove(key));
        } else {
            a[key] = value;
        }
        with(json!({ "attachments": [a] }))
    };
    check_both(with(json!({"attachments": [attachment()]})), OK);
    check_both(with(json!({"attachments": []})), OK);
    check_both(with_attachment("fileUrl", Value::Null), OK);
    check_both(
        with_attachment("contentType", json!("multipart/mixed; boundary=\"a b\"")),
        OK,
    );
    check_both(with_attachment("length", json!(27.0)), OK);
    check_both(
        with_attachment("usageType", json!("example.com/usage")),
        Some(("$.attachments[0].usageType", "invalid-iri")),
    );
    check_both(
        with_attachment("fileUrl", json!("over.there.com/file.txt")),
        Some(("$.attachments[0].fileUrl", "invalid-irl")),
    );
    check_both(
        with_attachment("display", json!({"something": "x"})),
        Some(("$.attachments[0].display.something", "invalid-language-tag")),
    );
    check_both(
        with_attachment("display", Value::Null),
        Some(("$.attachments[0]", "missing-property")),
    );
    check_both(
        with_attachment("contentType", json!("text")),
        Some(("$.attachments[0].contentType", "invalid-media-type")),
    );
    check_both(
        with_attachment("length", json!("27")),
        Some(("$.attachments[0].length", "wrong-type")),
    );
    check_both(
        with_attachment("length", json!(2.5)),
        Some(("$.attachments[0].length", "invalid-length")),
    );
    check_both(
        with_attachment("length", json!(-1)),
        Some(("$.attachments[0].length", "invalid-length")),
    );
    check_both(
        with_attachment("sha2", json!("xyz")),
        Some(("$.attachments[0].sha2", "invalid-sha2")),
    );
    check_both(
        with_attachment("sha2", json!(12)),
        Some(("$.attachments[0].sha2", "wrong-type")),
    );
    check_both(
        with_attachment("extra", json!(1)),
        Some(("$.attachments[0].extra", "unknown-property")),
    );
    check_both(
        with(json!({"attachments": ["should fail"]})),
        Some(("$.attachments[0]", "wrong-type")),
    );
    check_both(
        with(json!({"attachments": attachment()})),
        Some(("$.attachments", "wrong-type")),
    );
}

#[test]
fn strict_json_and_batches() {
    let cases: Vec<(&str, Expect)> = vec![
        (
            r#"{"actor":{"mbox":"mailto:a@example.com","mbox":"mailto:b@example.com"},"verb":{"id":"http://x.org/v"},"object":{"id":"http://x.org/a"}}"#,
            Some(("$.actor.mbox", "duplicate-key")),
        ),
        (
            r#"{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://x.org/v"},"verb":{"id":"http://x.org/v"},"object":{"id":"http://x.org/a"}}"#,
            Some(("$.verb", "duplicate-key")),
        ),
        (
            r#"{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://x.org/v"},"object":{"id":"http://x.org/a"},"result":{"extensions":{"http://x.org/e":{"k":1,"k":2}}}}"#,
            Some(("$.result.extensions['http://x.org/e'].k", "duplicate-key")),
        ),
        (
            r#"{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://x.org/v"},"object":{"id":"http://x.org/a"}"#,
            Some(("$", "invalid-json")),
        ),
        (
            r#"{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://x.org/v"},"object":{"id":"http://x.org/a"}} x"#,
            Some(("$", "invalid-json")),
        ),
        (r#"[]"#, OK),
        (r#""statement""#, Some(("$", "wrong-type"))),
        (
            r#"[{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://x.org/v"},"object":{"id":"http://x.org/a"}},{"actor":{"mbox":"a@example.com"},"verb":{"id":"http://x.org/v"},"object":{"id":"http://x.org/a"}}]"#,
            Some(("$[1].actor.mbox", "invalid-mbox")),
        ),
        (
            r#"[{"id":"fd41c918-b88b-4b20-a0a5-a4c32391aaa0","actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://x.org/v"},"object":{"id":"http://x.org/a"}},{"id":"FD41C918-B88B-4B20-A0A5-A4C32391AAA0","actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://x.org/v"},"object":{"id":"http://x.org/a"}}]"#,
            Some(("$[1].id", "duplicate-statement-id")),
        ),
    ];
    for (body, expected) in cases {
        let expected = expected.map_or(Ok(()), |(p, r)| Err((p.to_owned(), r)));
        assert_eq!(outcome(body.as_bytes(), V2_0_0), expected, "{body}");
    }
    let deep = format!("{}1{}", "[".repeat(70), "]".repeat(70));
    let error = xapi::parse_json_strict(deep.as_bytes(), xapi::JsonLimits::default())
        .expect_err("too deep");
    assert_eq!(error.rule, "max-depth");
    let ok = format!("{}1{}", "[".repeat(64), "]".repeat(64));
    assert!(xapi::parse_json_strict(ok.as_bytes(), xapi::JsonLimits::default()).is_ok());
}

#[test]
fn every_rule_is_documented_once() {
    let mut names: Vec<&str> = xapi::RULES.iter().map(|(name, _)| *name).collect();
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count);
    assert!(names.iter().all(|n| {
        n.bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-' || b.is_ascii_digit())
    }));
}
