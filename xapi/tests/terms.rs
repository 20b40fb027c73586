//! Index terms, IFI keys, the `agent` parameter, and the accessors of `Statement`.

use serde_json::{Map, Value, json};
use xapi::{IndexTerms, Statement, Version, ifi_key, parse_agent_param};

fn parse(value: Value) -> Statement {
    Statement::parse(value, Version::V2_0_0, "$").expect("valid statement")
}

fn obj(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

#[test]
fn ifi_keys() {
    let cases = [
        (
            json!({"mbox": "mailto:Someone@Example.COM"}),
            Some("mbox:mailto:Someone@example.com"),
        ),
        (
            json!({"mbox_sha1sum": "CD9B00A5611F94EAA7B1661EDAB976068E364975"}),
            Some("mbox_sha1sum:cd9b00a5611f94eaa7b1661edab976068e364975"),
        ),
        (
            json!({"openid": "http://openid.example.org/1"}),
            Some("openid:http://openid.example.org/1"),
        ),
        (
            json!({"account": {"homePage": "http://x.org", "name": "Bob"}}),
            Some("account:http://x.org|Bob"),
        ),
        (
            json!({"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]}),
            None,
        ),
    ];
    for (agent, expected) in cases {
        assert_eq!(ifi_key(&obj(agent.clone())).as_deref(), expected, "{agent}");
    }
}

#[test]
fn agent_parameter() {
    let ok = [
        (
            r#"{"mbox":"mailto:a@example.com"}"#,
            "mbox:mailto:a@example.com",
        ),
        (
            r#"{"objectType":"Agent","account":{"homePage":"http://x.org","name":"n"}}"#,
            "account:http://x.org|n",
        ),
        (
            r#"{"objectType":"Group","openid":"http://o.org/g","member":[{"mbox":"mailto:a@example.com"}]}"#,
            "openid:http://o.org/g",
        ),
    ];
    for (input, expected) in ok {
        assert_eq!(
            parse_agent_param(input, Version::V1_0_3).as_deref(),
            Ok(expected),
            "{input}"
        );
    }
    let bad = [
        ("wrong", "agent", "invalid-json"),
        (r#"{"mbox":"a@example.com"}"#, "agent.mbox", "invalid-mbox"),
        (
            r#"{"mbox":"mailto:a@example.com","mbox":"mailto:b@example.com"}"#,
            "agent.mbox",
            "duplicate-key",
        ),
        (
            r#"{"objectType":"Group","member":[{"mbox":"mailto:a@example.com"}]}"#,
            "agent",
            "invalid-agent",
        ),
        (r#"{"name":"nobody"}"#, "agent", "one-ifi"),
        (r#"["mailto:a@example.com"]"#, "agent", "wrong-type"),
    ];
    for (input, path, rule) in bad {
        let error = parse_agent_param(input, Version::V2_0_0).expect_err(input);
        assert_eq!((error.path.as_str(), error.rule), (path, rule), "{input}");
    }
}

#[test]
fn index_terms_cover_every_place() {
    let statement = parse(json!({
        "actor": {"objectType": "Group", "mbox": "mailto:group@example.com", "member": [{"mbox": "mailto:m1@example.com"}]},
        "verb": {"id": "http://x.org/v"},
        "object": {"objectType": "SubStatement",
            "actor": {"mbox": "mailto:sub-actor@example.com"},
            "verb": {"id": "http://x.org/w"},
            "object": {"id": "http://x.org/sub-object"},
            "context": {
                "instructor": {"mbox": "mailto:sub-instructor@example.com"},
                "contextActivities": {"parent": {"id": "http://x.org/sub-parent"}}
            }},
        "authority": {"mbox": "mailto:authority@example.com"},
        "context": {
            "registration": "EC531277-B57B-4C15-8D91-D292C5B2B8F7",
            "instructor": {"mbox": "mailto:instructor@example.com"},
            "team": {"objectType": "Group", "member": [{"mbox": "mailto:team-member@example.com"}]},
            "contextActivities": {"grouping": [{"id": "http://x.org/g1"}, {"id": "http://x.org/g2"}], "other": {"id": "http://x.org/o"}},
            "contextAgents": [{"objectType": "contextAgent", "agent": {"mbox": "mailto:ca@example.com"}}],
            "contextGroups": [{"objectType": "contextGroup", "group": {"objectType": "Group", "openid": "http://o.org/cg"}}]
        }
    }));
    let expected = IndexTerms {
        agents: vec![
            "mbox:mailto:group@example.com".into(),
            "mbox:mailto:m1@example.com".into(),
        ],
        related_agents: vec![
            "mbox:mailto:group@example.com".into(),
            "mbox:mailto:m1@example.com".into(),
            "mbox:mailto:authority@example.com".into(),
            "mbox:mailto:instructor@example.com".into(),
            "mbox:mailto:team-member@example.com".into(),
            "mbox:mailto:ca@example.com".into(),
            "openid:http://o.org/cg".into(),
            "mbox:mailto:sub-actor@example.com".into(),
            "mbox:mailto:sub-instructor@example.com".into(),
        ],
        verb: "http://x.org/v".into(),
        activity: None,
        related_activities: vec![
            "http://x.org/g1".into(),
            "http://x.org/g2".into(),
            "http://x.org/o".into(),
            "http://x.org/sub-object".into(),
            "http://x.org/sub-parent".into(),
        ],
        registration: Some(
            "ec531277-b57b-4c15-8d91-d292c5b2b8f7"
                .parse()
                .expect("uuid"),
        ),
    };
    assert_eq!(statement.index_terms(), expected);
}

#[test]
fn index_terms_for_agent_and_activity_objects() {
    let agent_object = parse(json!({
        "actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://x.org/v"},
        "object": {"objectType": "Agent", "mbox": "mailto:b@example.com"}
    }));
    let terms = agent_object.index_terms();
    assert_eq!(
        terms.agents,
        ["mbox:mailto:a@example.com", "mbox:mailto:b@example.com"]
    );
    assert_eq!(terms.related_agents, terms.agents);
    assert_eq!(terms.activity, None);
    assert!(terms.related_activities.is_empty());

    let activity_object = parse(json!({
        "actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://x.org/v"},
        "object": {"id": "http://x.org/a"},
        "context": {"contextActivities": {"parent": [{"id": "http://x.org/a"}, {"id": "http://x.org/p"}]}}
    }));
    let terms = activity_object.index_terms();
    assert_eq!(terms.activity.as_deref(), Some("http://x.org/a"));
    assert_eq!(
        terms.related_activities,
        ["http://x.org/a", "http://x.org/p"]
    );
    assert_eq!(terms.registration, None);
}

#[test]
fn statement_accessors() {
    let target = "fd41c918-b88b-4b20-a0a5-a4c32391aaa0";
    let voiding = parse(json!({
        "id": "00000000-0000-4000-8000-000000000001",
        "actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": target}
    }));
    assert_eq!(voiding.voids(), Some(target.parse().expect("uuid")));
    assert_eq!(voiding.statement_ref(), Some(target.parse().expect("uuid")));
    assert_eq!(
        voiding.id(),
        Some(
            "00000000-0000-4000-8000-000000000001"
                .parse()
                .expect("uuid")
        )
    );

    let comment = parse(json!({
        "actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://x.org/commented"},
        "object": {"objectType": "StatementRef", "id": target}
    }));
    assert_eq!(comment.voids(), None);
    assert_eq!(comment.statement_ref(), Some(target.parse().expect("uuid")));
    assert_eq!(comment.id(), None);
    let json = comment.json().clone();
    assert_eq!(comment.into_json(), json);
}
