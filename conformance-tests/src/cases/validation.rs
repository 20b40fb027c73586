//! Statement validation (Data 2.2 and 2.4, 4.x): one table of statements that an LRS must
//! reject with 400 (and must not store), plus the near misses it must accept. Only the
//! status is asserted, since error bodies differ between LRSs (see `--strict-errors`).

use serde_json::{Value, json};

use crate::client::Ctx;
use crate::fixtures::{self, Fx, uuid};
use crate::harness::{Case, CaseResult, Versions, XapiVersion};

/// What is POSTed: a JSON value, or text for inputs JSON values cannot express.
enum Body {
    Json(Value),
    Raw(String),
}

#[derive(Clone, Copy)]
enum Expect {
    Reject,
    Accept,
}

/// One table row: `what` completes "a statement with ... is rejected/accepted".
struct Row {
    reference: &'static str,
    what: &'static str,
    versions: Versions,
    expect: Expect,
    build: fn(&Fx) -> Body,
}

const BOTH: Versions = Versions::Both;
const V1: Versions = Versions::Only(XapiVersion::V1_0_3);
const V2: Versions = Versions::Only(XapiVersion::V2_0_0);

pub fn cases() -> Vec<Case> {
    rows()
        .into_iter()
        .map(|row| {
            let verdict = match row.expect {
                Expect::Reject => "is rejected with 400",
                Expect::Accept => "is accepted",
            };
            let name = format!("{}: a statement with {} {verdict}", row.reference, row.what);
            let (expect, build) = (row.expect, row.build);
            Case::new(name, row.versions, move |ctx| run_row(ctx, expect, build))
        })
        .collect()
}

async fn run_row(ctx: Ctx, expect: Expect, build: fn(&Fx) -> Body) -> CaseResult {
    let fx = Fx::new();
    let body = build(&fx);
    let (request, id) = match &body {
        Body::Json(value) => (ctx.post("statements").json(value), statement_id(value)),
        Body::Raw(text) => (
            ctx.post("statements")
                .raw_body(text.clone().into_bytes(), "application/json"),
            None,
        ),
    };
    let reply = request.send().await?;
    match expect {
        Expect::Accept => reply.expect(200),
        Expect::Reject => {
            reply.expect_error(&ctx, 400)?;
            // A rejected statement must leave no trace (Communication 3.2.s3.b9).
            if let Some(id) = id {
                let check = ctx
                    .get("statements")
                    .query(&[("statementId", &id)])
                    .send()
                    .await?;
                check
                    .expect(404)
                    .map_err(|e| format!("answered 400 but stored the statement anyway: {e}"))?;
            }
            Ok(())
        }
    }
}

/// The id to check for absence, when the body carries a well-formed one.
fn statement_id(value: &Value) -> Option<String> {
    value
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| crate::check::is_uuid(id))
        .map(str::to_owned)
}

fn with(mut statement: Value, path: &[&str], value: Value) -> Body {
    fixtures::set(&mut statement, path, value);
    Body::Json(statement)
}

fn without(mut statement: Value, path: &[&str]) -> Body {
    fixtures::remove(&mut statement, path);
    Body::Json(statement)
}

/// A valid SubStatement to be spoiled by a row.
fn sub(fx: &Fx) -> Value {
    json!({
        "objectType": "SubStatement",
        "actor": fx.agent("planner"),
        "verb": fx.verb("will-attempt"),
        "object": fx.activity("future")
    })
}

fn with_sub(fx: &Fx, path: &[&str], value: Value) -> Body {
    let mut inner = sub(fx);
    fixtures::set(&mut inner, path, value);
    with(fx.statement(), &["object"], inner)
}

fn context_agents(fx: &Fx) -> Value {
    json!([{
        "objectType": "contextAgent",
        "agent": fx.agent("player"),
        "relevantTypes": ["https://conformance.example.com/activity-types/player"]
    }])
}

fn context_groups(fx: &Fx) -> Value {
    json!([{
        "objectType": "contextGroup",
        "group": {
            "objectType": "Group",
            "mbox": fx.mbox("team"),
            "member": [fx.agent("player")]
        },
        "relevantTypes": ["https://conformance.example.com/activity-types/team"]
    }])
}

fn agent_with(fx: &Fx, extra: (&str, Value)) -> Value {
    let mut agent = fx.agent("actor");
    fixtures::set(&mut agent, &[extra.0], extra.1);
    agent
}

#[rustfmt::skip]
fn rows() -> Vec<Row> {
    use Expect::{Accept, Reject};
    vec![
        // Formatting (Data 2.2).
        Row { reference: "Data 2.1 / XAPI-00014", what: "a body that is not well-formed JSON", versions: BOTH, expect: Reject,
            build: |_| Body::Raw("{\"actor\": ".to_owned()) },
        Row { reference: "Data 2.2.s2.b2", what: "a duplicate top-level key (verb twice)", versions: BOTH, expect: Reject,
            build: |fx| {
                let s = fx.statement();
                Body::Raw(format!(
                    "{{\"id\":{},\"actor\":{},\"verb\":{},\"verb\":{},\"object\":{}}}",
                    s["id"], s["actor"], s["verb"], fx.verb("other"), s["object"]
                ))
            } },
        Row { reference: "Data 2.2.s2.b2", what: "a duplicate key inside the actor (mbox twice)", versions: BOTH, expect: Reject,
            build: |fx| {
                let s = fx.statement();
                Body::Raw(format!(
                    "{{\"id\":{},\"actor\":{{\"objectType\":\"Agent\",\"mbox\":\"{}\",\"mbox\":\"{}\"}},\"verb\":{},\"object\":{}}}",
                    s["id"], fx.mbox("one"), fx.mbox("two"), s["verb"], s["object"]
                ))
            } },
        Row { reference: "Data 2.2.s4.b1.b7", what: "an unknown top-level property", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["conformanceExtra"], json!("surprise")) },
        Row { reference: "Data 2.2.s4.b1.b7", what: "an unknown property in the actor", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["actor", "nickname"], json!("x")) },
        Row { reference: "Data 2.2.s4.b1.b5 / XAPI-00008", what: "a key in the wrong case (Actor)", versions: BOTH, expect: Reject,
            build: |fx| {
                let mut s = fx.statement();
                let actor = s["actor"].clone();
                fixtures::remove(&mut s, &["actor"]);
                with(s, &["Actor"], actor)
            } },
        Row { reference: "Data 2.2.s4.b1.b6 / XAPI-00009", what: "actor objectType in the wrong case (agent)", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["actor", "objectType"], json!("agent")) },
        Row { reference: "Data 2.2.s4.b1.b6 / XAPI-00009", what: "object objectType in the wrong case (activity)", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["object", "objectType"], json!("activity")) },
        Row { reference: "Data 2.2.s4.b1.b6 / XAPI-00009", what: "interactionType in the wrong case (choiCe)", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["object", "definition", "interactionType"], json!("choiCe")) },
        Row { reference: "Data 2.2.s4.b1.b1 / XAPI-00001", what: "a null value (result.success)", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["result", "success"], Value::Null) },
        Row { reference: "Data 2.2.s4.b1.b1 / XAPI-00001", what: "a null value (actor.name)", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["actor", "name"], Value::Null) },
        Row { reference: "Data 2.2.s4.b1.b1 / XAPI-00001", what: "a null value (context)", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["context"], Value::Null) },
        Row { reference: "Data 2.2.s4.b1.b2 / XAPI-00006", what: "a string where a boolean is required (\"success\": \"true\")", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["result", "success"], json!("true")) },
        Row { reference: "Data 2.2.s4.b1.b2 / XAPI-00006", what: "a string where a boolean is required (\"completion\": \"false\")", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["result", "completion"], json!("false")) },
        Row { reference: "Data 2.2.s4.b1.b2 / XAPI-00006", what: "a string where a number is required (score.raw \"10\")", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["result", "score"], json!({ "raw": "10" })) },
        Row { reference: "Data 2.2.s4.b1.b3 / XAPI-00007", what: "an empty string as verb id", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["verb", "id"], json!("")) },
        Row { reference: "Data 2.2.s4.b1.b8 / XAPI-00011", what: "an activity id without a scheme", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["object", "id"], json!("conformance.example.com/activities/no-scheme")) },
        Row { reference: "Data 2.4.2.1 / XAPI-00032", what: "an objectType that is not a string", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["actor", "objectType"], json!(1)) },

        // Actor (Data 2.4.2).
        Row { reference: "Data 2.2.s2.b3 / XAPI-00003", what: "no actor", versions: BOTH, expect: Reject,
            build: |fx| without(fx.statement(), &["actor"]) },
        Row { reference: "Data 2.4.2.1 / XAPI-00034", what: "an agent with two IFIs (mbox and openid)", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["actor"], agent_with(fx, ("openid", json!("http://openid.example.com/someone")))) },
        Row { reference: "Data 2.4.2.1 / XAPI-00034", what: "an agent with two IFIs (mbox and account)", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["actor"], agent_with(fx, ("account", json!({ "homePage": "http://example.com", "name": "someone" })))) },
        Row { reference: "Data 2.4.2.1 / XAPI-00034", what: "an agent without an IFI", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["actor"], json!({ "objectType": "Agent", "name": "Nobody" })) },
        Row { reference: "Data 2.4.2.3 / XAPI-00038", what: "an mbox without mailto:", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["actor", "mbox"], json!("someone@conformance.example.com")) },
        Row { reference: "Data 2.4.2.3 / XAPI-00039", what: "an mbox_sha1sum that is not 40 hex digits", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["actor"], json!({ "mbox_sha1sum": "not-a-sha1" })) },
        Row { reference: "Data 2.4.2.3 / XAPI-00040", what: "an openid that is not a URI", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["actor"], json!({ "openid": "not a uri" })) },
        Row { reference: "Data 2.4.2.4 / XAPI-00042", what: "an account without homePage", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["actor"], json!({ "account": { "name": "someone" } })) },
        Row { reference: "Data 2.4.2.4 / XAPI-00043", what: "an account without name", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["actor"], json!({ "account": { "homePage": "http://example.com" } })) },
        Row { reference: "Data 2.4.2.4 / XAPI-00041", what: "an account homePage that is not an IRL", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["actor"], json!({ "account": { "homePage": "not a url", "name": "someone" } })) },
        Row { reference: "Data 2.4.2.1 / XAPI-00033", what: "an agent name that is not a string", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["actor", "name"], json!(42)) },
        Row { reference: "Data 2.4.2.2 / XAPI-00035", what: "an anonymous group without member", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["actor"], json!({ "objectType": "Group", "name": "nobody" })) },
        Row { reference: "Data 2.4.2.2 / XAPI-00036", what: "a group member that is a Group", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["actor"], json!({
                "objectType": "Group",
                "member": [fx.agent("a"), { "objectType": "Group", "mbox": fx.mbox("inner"), "member": [fx.agent("b")] }]
            })) },
        Row { reference: "Data 2.4.2.2 / XAPI-00036", what: "a group member without an IFI", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["actor"], json!({ "objectType": "Group", "member": [{ "name": "no ifi" }] })) },
        Row { reference: "Data 2.4.2.2 / XAPI-00037", what: "an identified group with two IFIs", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["actor"], json!({
                "objectType": "Group", "mbox": fx.mbox("team"), "openid": "http://openid.example.com/team"
            })) },

        // Verb (Data 2.4.3).
        Row { reference: "Data 2.2.s2.b3 / XAPI-00004", what: "no verb", versions: BOTH, expect: Reject,
            build: |fx| without(fx.statement(), &["verb"]) },
        Row { reference: "Data 2.4.3 / XAPI-00044", what: "a verb without id", versions: BOTH, expect: Reject,
            build: |fx| without(fx.statement(), &["verb", "id"]) },
        Row { reference: "Data 2.4.3 / XAPI-00011", what: "a verb id that is not an IRI", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["verb", "id"], json!("not an iri")) },
        Row { reference: "Data 4.2 / XAPI-00013, XAPI-00121", what: "an invalid language tag in verb display", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["verb", "display"], json!({ "not a tag!": "did" })) },
        Row { reference: "Data 2.4.3 / XAPI-00045", what: "a verb display that is not a language map", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["verb", "display"], json!("did")) },

        // Object (Data 2.4.4).
        Row { reference: "Data 2.2.s2.b3 / XAPI-00005", what: "no object", versions: BOTH, expect: Reject,
            build: |fx| without(fx.statement(), &["object"]) },
        Row { reference: "Data 2.4.4.1 / XAPI-00047", what: "an activity without id", versions: BOTH, expect: Reject,
            build: |fx| without(fx.statement(), &["object", "id"]) },
        Row { reference: "Data 2.4.4 / XAPI-00046", what: "an unknown object objectType (Thing)", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["object", "objectType"], json!("Thing")) },
        Row { reference: "Data 2.4.4.2 / XAPI-00065", what: "an agent object without objectType", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["object"], json!({ "mbox": fx.mbox("object") })) },
        Row { reference: "Data 2.4.4.3 / XAPI-00072", what: "a StatementRef without id", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["object"], json!({ "objectType": "StatementRef" })) },
        Row { reference: "Data 2.4.4.3 / XAPI-00072, XAPI-00030", what: "a StatementRef id that is not a UUID", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["object"], json!({ "objectType": "StatementRef", "id": "not-a-uuid" })) },
        Row { reference: "Data 4.2 / XAPI-00121", what: "an invalid language tag in an activity name", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["object", "definition", "name"], json!({ "en_US!": "thing" })) },
        Row { reference: "Data 2.4.4.1 / XAPI-00049", what: "an interactionType outside the vocabulary (essay)", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["object", "definition", "interactionType"], json!("essay")) },
        Row { reference: "Data 2.4.4.1 / XAPI-00061", what: "an activity moreInfo that is not an IRL", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["object", "definition", "moreInfo"], json!("not a url")) },
        Row { reference: "Data 2.4.4.1 / XAPI-00057", what: "activity definition extensions that are not an object", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["object", "definition", "extensions"], json!(["x"])) },

        // SubStatements (Data 2.4.4.3).
        Row { reference: "Data 2.4.4.3.s8.b3 / XAPI-00070", what: "a SubStatement with an id", versions: BOTH, expect: Reject,
            build: |fx| with_sub(fx, &["id"], json!(uuid())) },
        Row { reference: "Data 2.4.4.3.s8.b3 / XAPI-00069", what: "a SubStatement with stored", versions: BOTH, expect: Reject,
            build: |fx| with_sub(fx, &["stored"], json!("2024-01-01T00:00:00Z")) },
        Row { reference: "Data 2.4.4.3.s8.b3 / XAPI-00068", what: "a SubStatement with version", versions: BOTH, expect: Reject,
            build: |fx| with_sub(fx, &["version"], json!("1.0.0")) },
        Row { reference: "Data 2.4.4.3.s8.b3 / XAPI-00067", what: "a SubStatement with authority", versions: BOTH, expect: Reject,
            build: |fx| with_sub(fx, &["authority"], fx.agent("authority")) },
        Row { reference: "Data 2.4.4.3.s8.b4 / XAPI-00071", what: "a SubStatement containing a SubStatement", versions: BOTH, expect: Reject,
            build: |fx| with_sub(fx, &["object"], sub(fx)) },
        Row { reference: "Data 2.4.4.3.s8.b2 / XAPI-00066", what: "a SubStatement whose actor has no IFI", versions: BOTH, expect: Reject,
            build: |fx| with_sub(fx, &["actor"], json!({ "name": "no ifi" })) },
        Row { reference: "Data 2.4.4.3.s8.b2 / XAPI-00066", what: "a SubStatement without verb", versions: BOTH, expect: Reject,
            build: |fx| {
                let mut inner = sub(fx);
                fixtures::remove(&mut inner, &["verb"]);
                with(fx.statement(), &["object"], inner)
            } },

        // Result (Data 2.4.5).
        Row { reference: "Data 2.4.5.1 / XAPI-00083", what: "score.scaled above 1", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["result", "score"], json!({ "scaled": 1.5 })) },
        Row { reference: "Data 2.4.5.1 / XAPI-00083", what: "score.scaled below -1", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["result", "score"], json!({ "scaled": -1.01 })) },
        Row { reference: "Data 2.4.5.1 / XAPI-00082", what: "score.raw above max", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["result", "score"], json!({ "raw": 11, "min": 0, "max": 10 })) },
        Row { reference: "Data 2.4.5.1 / XAPI-00082", what: "score.raw below min", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["result", "score"], json!({ "raw": -1, "min": 0, "max": 10 })) },
        Row { reference: "Data 2.4.5.1 / XAPI-00081", what: "score.min above max", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["result", "score"], json!({ "min": 10, "max": 5 })) },
        Row { reference: "Data 2.4.5.1 / XAPI-00079", what: "a score that is not an object", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["result", "score"], json!(0.5)) },
        Row { reference: "Data 4.6 / XAPI-00077, XAPI-00124", what: "a result duration that is not ISO 8601 (PA1H0M0S)", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["result", "duration"], json!("PA1H0M0S")) },
        Row { reference: "Data 4.6 / XAPI-00077", what: "a result duration that is a number", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["result", "duration"], json!(12345)) },
        Row { reference: "Data 2.4.5 / XAPI-00078", what: "result extensions that are not an object", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["result", "extensions"], json!(["x"])) },

        // Context (Data 2.4.6).
        Row { reference: "Data 2.4.6.s4.b1 / XAPI-00084", what: "context.revision while the object is an Agent", versions: BOTH, expect: Reject,
            build: |fx| {
                let s = fx.statement_with(fx.agent("actor"), fx.verb("met"), fx.agent("other"));
                with(s, &["context", "revision"], json!("r1"))
            } },
        Row { reference: "Data 2.4.6.s4.b2 / XAPI-00085", what: "context.platform while the object is a StatementRef", versions: BOTH, expect: Reject,
            build: |fx| {
                let s = fx.statement_with(fx.agent("actor"), fx.verb("commented"), json!({ "objectType": "StatementRef", "id": uuid() }));
                with(s, &["context", "platform"], json!("web"))
            } },
        Row { reference: "Data 2.4.6.2 / XAPI-00093", what: "a contextActivities key outside parent/grouping/category/other", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["context", "contextActivities"], json!({ "bogus": [fx.activity("p")] })) },
        Row { reference: "Data 2.4.6.2 / XAPI-00094", what: "contextActivities holding a non-Activity (an Agent)", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["context", "contextActivities", "parent"], json!([fx.agent("parent")])) },
        Row { reference: "Data 2.4.6 / XAPI-00087-1", what: "a context registration that is not a UUID", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["context", "registration"], json!("not-a-uuid")) },
        Row { reference: "Data 2.4.6 / XAPI-00087-2", what: "a context instructor that is not an Agent or Group", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["context", "instructor"], json!({ "foo": "bar" })) },
        Row { reference: "Data 2.4.6 / XAPI-00088", what: "a context team that is an Agent", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["context", "team"], fx.agent("solo")) },
        Row { reference: "Data 2.4.6 / XAPI-00092", what: "a context statement that is not a StatementRef", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["context", "statement"], fx.activity("not-a-ref")) },
        Row { reference: "Data 2.4.6 / XAPI-00091", what: "a context language that is not a language tag", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["context", "language"], json!("not a tag!")) },
        Row { reference: "Data 4.1 / XAPI-00118", what: "an extension key that is not an IRI", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["context", "extensions"], json!({ "not an iri": 1 })) },

        // Timestamp, id, version, authority (Data 2.4.1, 2.4.7, 2.4.9, 2.4.10, 4.5).
        Row { reference: "Data 4.5 / XAPI-00123", what: "a timestamp that is not ISO 8601 (01/011/2015)", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["timestamp"], json!("01/011/2015")) },
        Row { reference: "Data 4.5.s1.b5 / XAPI-00123", what: "a timestamp with a -00:00 offset", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["timestamp"], json!("2008-09-15T15:53:00.601-00:00")) },
        Row { reference: "Data 2.4.7 / XAPI-00022", what: "a timestamp that is a number", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["timestamp"], json!(1_700_000_000)) },
        Row { reference: "Data 2.4.1 / XAPI-00027, XAPI-00028", what: "an id that is not a UUID", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["id"], json!("not-a-uuid")) },
        Row { reference: "Data 2.4.1 / XAPI-00029, XAPI-00030", what: "an id with non-hex digits", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["id"], json!("zzzzzzzz-aaaa-4aaa-8aaa-aaaaaaaaaaaa")) },
        Row { reference: "Data 2.4.10 / XAPI-00101", what: "version 0.9.9", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["version"], json!("0.9.9")) },
        Row { reference: "Data 2.4.10 / XAPI-00101", what: "version 1.1.0", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["version"], json!("1.1.0")) },
        Row { reference: "Data 2.4.10 / XAPI-00101", what: "a version that is not a version string", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["version"], json!("should fail")) },
        Row { reference: "Data 2.4.9 / XAPI-00098", what: "an authority Group of three Agents", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["authority"], json!({
                "objectType": "Group", "member": [fx.agent("a"), fx.agent("b"), fx.agent("c")]
            })) },
        Row { reference: "Data 2.4.9 / XAPI-00024", what: "an authority that is not an Agent or Group", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["authority"], json!({ "foo": "bar" })) },

        // Voiding (Data 2.3.2).
        Row { reference: "Data 2.3.2.s2.b1 / XAPI-00017, XAPI-00020", what: "the voided verb and an Activity object", versions: BOTH, expect: Reject,
            build: |fx| with(fx.statement(), &["verb"], json!({ "id": fixtures::VOIDED, "display": { "en-US": "voided" } })) },

        // Context agents and groups exist only in 2.0.
        Row { reference: "xAPI 2.0 Data 2.4.6 contextAgents", what: "context.contextAgents", versions: V2, expect: Accept,
            build: |fx| with(fx.statement(), &["context", "contextAgents"], context_agents(fx)) },
        Row { reference: "xAPI 2.0 Data 2.4.6 contextGroups", what: "context.contextGroups", versions: V2, expect: Accept,
            build: |fx| with(fx.statement(), &["context", "contextGroups"], context_groups(fx)) },
        Row { reference: "Data 2.2.s4.b1.b7 (1.0.3 has no contextAgents)", what: "context.contextAgents", versions: V1, expect: Reject,
            build: |fx| with(fx.statement(), &["context", "contextAgents"], context_agents(fx)) },
        Row { reference: "Data 2.2.s4.b1.b7 (1.0.3 has no contextGroups)", what: "context.contextGroups", versions: V1, expect: Reject,
            build: |fx| with(fx.statement(), &["context", "contextGroups"], context_groups(fx)) },
        Row { reference: "xAPI 2.0 Data 2.4.6 contextAgents", what: "a contextAgent whose objectType is not contextAgent", versions: V2, expect: Reject,
            build: |fx| {
                let mut agents = context_agents(fx);
                agents[0]["objectType"] = json!("Should fail");
                with(fx.statement(), &["context", "contextAgents"], agents)
            } },
        Row { reference: "xAPI 2.0 Data 2.4.6 contextAgents", what: "a contextAgent whose agent is invalid", versions: V2, expect: Reject,
            build: |fx| {
                let mut agents = context_agents(fx);
                agents[0]["agent"] = json!({ "key": "Should fail" });
                with(fx.statement(), &["context", "contextAgents"], agents)
            } },
        Row { reference: "xAPI 2.0 Data 2.4.6 contextAgents", what: "a contextAgent with empty relevantTypes", versions: V2, expect: Reject,
            build: |fx| {
                let mut agents = context_agents(fx);
                agents[0]["relevantTypes"] = json!([]);
                with(fx.statement(), &["context", "contextAgents"], agents)
            } },
        Row { reference: "xAPI 2.0 Data 2.4.6 contextGroups", what: "a contextGroup relevantType that is not an IRI", versions: V2, expect: Reject,
            build: |fx| {
                let mut groups = context_groups(fx);
                groups[0]["relevantTypes"] = json!(["abc"]);
                with(fx.statement(), &["context", "contextGroups"], groups)
            } },

        // Near misses that must be accepted.
        Row { reference: "Data 4.1 / XAPI-00119", what: "null, empty-string and empty-object extension values", versions: BOTH, expect: Accept,
            build: |fx| with(fx.statement(), &["result", "extensions"], json!({
                "http://conformance.example.com/ext/null": null,
                "http://conformance.example.com/ext/empty": "",
                "http://conformance.example.com/ext/object": {}
            })) },
        Row { reference: "Data 2.4.7.s3.b4 (SHOULD*)", what: "a timestamp in the future", versions: BOTH, expect: Accept,
            build: |fx| with(fx.statement(), &["timestamp"], json!("2099-12-31T23:59:59.999Z")) },
        Row { reference: "Data 4.5 / XAPI-00123", what: "a timestamp with a +00:00 offset", versions: BOTH, expect: Accept,
            build: |fx| with(fx.statement(), &["timestamp"], json!("2008-09-15T15:53:00.601+00:00")) },
        Row { reference: "Data 2.4.2.3 / XAPI-00034", what: "an agent identified by mbox_sha1sum", versions: BOTH, expect: Accept,
            build: |fx| with(fx.statement(), &["actor"], json!({ "mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9" })) },
        Row { reference: "Data 2.4.2.3 / XAPI-00034", what: "an agent identified by openid", versions: BOTH, expect: Accept,
            build: |fx| with(fx.statement(), &["actor"], json!({ "openid": format!("http://openid.example.com/{}", fx.tag) })) },
        Row { reference: "Data 2.4.2.4 / XAPI-00034", what: "an agent identified by account", versions: BOTH, expect: Accept,
            build: |fx| with(fx.statement(), &["actor"], json!({ "account": { "homePage": "http://example.com", "name": fx.tag.clone() } })) },
        Row { reference: "Data 2.4.4.3.s4.b2", what: "a StatementRef to a statement the LRS does not have", versions: BOTH, expect: Accept,
            build: |fx| with(fx.statement(), &["object"], json!({ "objectType": "StatementRef", "id": uuid() })) },
        Row { reference: "Data 2.4.4.3 / XAPI-00066", what: "a valid SubStatement object", versions: BOTH, expect: Accept,
            build: |fx| with(fx.statement(), &["object"], sub(fx)) },
        Row { reference: "Data 2.4.2.2", what: "an identified Group actor with members", versions: BOTH, expect: Accept,
            build: |fx| with(fx.statement(), &["actor"], json!({
                "objectType": "Group", "name": "team", "mbox": fx.mbox("team"), "member": [fx.agent("a"), fx.agent("b")]
            })) },
        Row { reference: "Data 2.2.s2.b4", what: "its properties in an unusual order", versions: BOTH, expect: Accept,
            build: |fx| {
                let s = fx.statement();
                Body::Raw(format!(
                    "{{\"object\":{},\"verb\":{},\"actor\":{},\"id\":{}}}",
                    s["object"], s["verb"], s["actor"], s["id"]
                ))
            } },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row builds a JSON object or non-empty text.
    #[test]
    fn rows_build() {
        let fx = Fx::new();
        for row in rows() {
            match (row.build)(&fx) {
                Body::Json(value) => assert!(value.is_object(), "{}", row.what),
                Body::Raw(text) => assert!(!text.is_empty(), "{}", row.what),
            }
        }
    }
}
