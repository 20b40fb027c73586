//! The Agents Resource (Communication 2.4): GET `agents?agent=` returns a Person object —
//! every property an array — for any Agent, known or not; the parameter is one Agent with
//! one identifier, never a Group.

use serde_json::{Value, json};

use crate::check::ensure;
use crate::client::{Auth, Ctx, VERSION_HEADER};
use crate::fixtures::{Fx, id_of};
use crate::harness::{Case, CaseResult};

/// The properties a Person object may have (Communication 2.4 "Person Properties").
const PERSON_PROPERTIES: [&str; 6] = [
    "objectType",
    "name",
    "mbox",
    "mbox_sha1sum",
    "openid",
    "account",
];

pub fn cases() -> Vec<Case> {
    let mut cases = vec![
        Case::both(
            "Communication 2.4 / XAPI-00236, XAPI-00248, XAPI-00237: GET agents for an Agent of a stored statement returns 200 and a Person object",
            person_of_known_agent,
        ),
        Case::both(
            "Communication 2.4.s5.table1.row2 / XAPI-00238: the Person's name is an array of strings holding the Agent's name",
            person_name_array,
        ),
        Case::both(
            "Communication 2.4.s5.table1.row3 / XAPI-00239, XAPI-00244: the Person's mbox is an array of mailto IRIs holding the Agent's mbox",
            person_mbox_array,
        ),
        Case::both(
            "Communication 2.4.s5.table1.row4 / XAPI-00240: the Person's mbox_sha1sum is an array of strings",
            |ctx| person_ifi_array(ctx, Ifi::Sha1),
        ),
        Case::both(
            "Communication 2.4.s5.table1.row5 / XAPI-00241: the Person's openid is an array of strings",
            |ctx| person_ifi_array(ctx, Ifi::OpenId),
        ),
        Case::both(
            "Communication 2.4.s5.table1.row6 / XAPI-00242: the Person's account is an array of complete account objects",
            |ctx| person_ifi_array(ctx, Ifi::Account),
        ),
        Case::both(
            "Communication 2.4: GET agents for an Agent the LRS has never seen still returns a Person with the requested identifier",
            unknown_agent,
        ),
        Case::both(
            "Communication 2.4 (SHOULD*): the Person object has no properties besides objectType, name, mbox, mbox_sha1sum, openid and account",
            person_properties_only,
        ),
        Case::both(
            "Communication 1.1 / XAPI-00125: HEAD agents answers like GET without a body",
            head_agents,
        ),
        Case::both(
            "Communication 2.4.s2.table1.row1 / XAPI-00243: GET agents without agent is rejected with 400",
            |ctx| rejected(ctx, Vec::new()),
        ),
        Case::both(
            "Communication 3.2.s3.b7 / XAPI-00324: GET agents with an unknown parameter is rejected with 400",
            |ctx| {
                let agent = Fx::new().agent("someone").to_string();
                rejected(
                    ctx,
                    vec![("agent", agent), ("conformanceUnknown", "1".to_owned())],
                )
            },
        ),
        Case::both(
            "Communication 4.0 / XAPI-00334: GET agents without credentials is rejected with 401",
            |ctx| unauthenticated(ctx, "agents"),
        ),
        Case::both(
            "Communication 3.3.s3.b4: GET agents without X-Experience-API-Version is rejected with 400",
            agents_without_version,
        ),
    ];
    for (value, why) in BAD_AGENTS {
        cases.push(Case::both(
            format!("Communication 2.4 / XAPI-00249: GET agents with an agent {why} is rejected with 400"),
            move |ctx| rejected(ctx, vec![("agent", value.to_owned())]),
        ));
    }
    cases.push(Case::both(
        "Communication 2.4.s2: GET agents with a Group (not an Agent) is rejected with 400",
        agents_group,
    ));
    cases
}

/// Agent parameters that are no Agent: (value, why).
const BAD_AGENTS: [(&str, &str); 5] = [
    ("not json", "that is not JSON"),
    (r#"{"name":"no identifier"}"#, "without an identifier"),
    (
        r#"{"mbox":"mailto:a@example.com","openid":"http://example.com/a"}"#,
        "with two identifiers",
    ),
    (
        r#"{"mbox":"a@example.com"}"#,
        "whose mbox is not a mailto IRI",
    ),
    (
        r#"{"objectType":"Person","mbox":["mailto:a@example.com"]}"#,
        "that is a Person object",
    ),
];

#[derive(Clone, Copy)]
enum Ifi {
    Sha1,
    OpenId,
    Account,
}

/// Stores a statement with `actor`, then GETs agents for `agent`; expects 200 and an object.
async fn person_after_statement(ctx: &Ctx, fx: &Fx, actor: &Value) -> Result<Value, String> {
    let statement = fx.statement_with(actor.clone(), fx.verb("met"), fx.activity("place"));
    ctx.post_statements(&statement).await?;
    ctx.settle(&[&id_of(&statement)]).await?;
    person(ctx, actor).await
}

async fn person(ctx: &Ctx, agent: &Value) -> Result<Value, String> {
    let reply = ctx
        .get("agents")
        .query(&[("agent", &agent.to_string())])
        .send()
        .await?;
    reply.expect(200)?;
    let body = reply.json()?;
    ensure(body.is_object(), || {
        format!("expected a Person object: {}", reply.describe())
    })?;
    Ok(body)
}

fn object_type_person(person: &Value) -> CaseResult {
    ensure(
        person.get("objectType").and_then(Value::as_str) == Some("Person"),
        || format!("objectType is not \"Person\": {person}"),
    )
}

/// The array at `key`, failing when it is missing or not an array.
fn array<'a>(person: &'a Value, key: &str) -> Result<&'a Vec<Value>, String> {
    person
        .get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("the Person has no {key} array: {person}"))
}

async fn person_of_known_agent(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let person = person_after_statement(&ctx, &fx, &fx.agent("learner")).await?;
    object_type_person(&person)
}

async fn person_name_array(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let mut actor = fx.agent("named");
    actor["name"] = json!("Named Learner");
    let statement = fx.statement_with(actor.clone(), fx.verb("met"), fx.activity("place"));
    ctx.post_statements(&statement).await?;
    ctx.settle(&[&id_of(&statement)]).await?;
    // Ask without the name: it must come from what the LRS learned.
    let query = json!({ "objectType": "Agent", "mbox": fx.mbox("named") });
    let person = person(&ctx, &query).await?;
    let names = array(&person, "name")?;
    ensure(names.iter().all(Value::is_string), || {
        format!("name has members that are not strings: {person}")
    })?;
    ensure(names.iter().any(|n| n == "Named Learner"), || {
        format!("name does not hold the Agent's name \"Named Learner\": {person}")
    })
}

async fn person_mbox_array(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let actor = fx.agent("mailbox");
    let person = person_after_statement(&ctx, &fx, &actor).await?;
    let mboxes = array(&person, "mbox")?;
    ensure(
        mboxes
            .iter()
            .all(|m| m.as_str().is_some_and(|m| m.starts_with("mailto:"))),
        || format!("mbox has members that are not mailto IRIs: {person}"),
    )?;
    ensure(mboxes.iter().any(|m| *m == actor["mbox"]), || {
        format!("mbox does not hold {}: {person}", actor["mbox"])
    })
}

async fn person_ifi_array(ctx: Ctx, ifi: Ifi) -> CaseResult {
    let fx = Fx::new();
    let (key, value) = match ifi {
        Ifi::Sha1 => ("mbox_sha1sum", json!(format!("{:0>40}", &fx.tag))),
        Ifi::OpenId => (
            "openid",
            json!(format!("http://conformance.example.com/openid/{}", fx.tag)),
        ),
        Ifi::Account => (
            "account",
            json!({ "homePage": "http://conformance.example.com/accounts", "name": format!("acct-{}", fx.tag) }),
        ),
    };
    let mut actor = json!({ "objectType": "Agent", "name": "identified" });
    actor[key] = value.clone();
    let person = person_after_statement(&ctx, &fx, &actor).await?;
    let items = array(&person, key)?;
    let well_formed = |item: &Value| match ifi {
        Ifi::Sha1 | Ifi::OpenId => item.is_string(),
        Ifi::Account => {
            item.get("homePage").is_some_and(Value::is_string)
                && item.get("name").is_some_and(Value::is_string)
        }
    };
    ensure(items.iter().all(well_formed), || {
        format!("{key} has malformed members: {person}")
    })?;
    ensure(items.contains(&value), || {
        format!("{key} does not hold {value}: {person}")
    })
}

async fn unknown_agent(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let agent = json!({ "objectType": "Agent", "mbox": fx.mbox("never-seen") });
    let person = person(&ctx, &agent).await?;
    object_type_person(&person)?;
    let mboxes = array(&person, "mbox")?;
    ensure(mboxes.contains(&agent["mbox"]), || {
        format!("the Person does not hold the requested mbox: {person}")
    })
}

async fn person_properties_only(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let person = person_after_statement(&ctx, &fx, &fx.agent("tidy")).await?;
    let extra: Vec<&String> = person
        .as_object()
        .map(|map| {
            map.keys()
                .filter(|k| !PERSON_PROPERTIES.contains(&k.as_str()))
                .collect()
        })
        .unwrap_or_default();
    ensure(extra.is_empty(), || {
        format!("the Person has other properties {extra:?}: {person}")
    })
}

async fn head_agents(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let agent = fx.agent("headed").to_string();
    let get = ctx.get("agents").query(&[("agent", &agent)]).send().await?;
    get.expect(200)?;
    let head = ctx
        .head("agents")
        .query(&[("agent", &agent)])
        .send()
        .await?;
    head.expect(200)?;
    ensure(head.body.is_empty(), || {
        format!("HEAD returned a {}-byte body", head.body.len())
    })?;
    ensure(get.media_type().ok() == head.media_type().ok(), || {
        "HEAD and GET differ in Content-Type".to_owned()
    })
}

async fn rejected(ctx: Ctx, params: Vec<(&'static str, String)>) -> CaseResult {
    let reply = ctx.get("agents").params(params).send().await?;
    reply.expect_error(&ctx, 400)
}

async fn agents_group(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let group = json!({
        "objectType": "Group",
        "name": "group",
        "mbox": fx.mbox("group"),
        "member": [fx.agent("member")]
    });
    rejected(ctx, vec![("agent", group.to_string())]).await
}

pub(super) async fn unauthenticated(ctx: Ctx, resource: &str) -> CaseResult {
    let fx = Fx::new();
    let params: Vec<(&str, String)> = match resource {
        "agents" => vec![("agent", fx.agent("anyone").to_string())],
        _ => vec![("activityId", fx.activity_id("anything"))],
    };
    let reply = ctx
        .get(resource)
        .params(params)
        .auth(Auth::Absent)
        .send()
        .await?;
    reply.expect_error(&ctx, 401)
}

async fn agents_without_version(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let reply = ctx
        .get("agents")
        .query(&[("agent", &fx.agent("anyone").to_string())])
        .version(None)
        .send()
        .await?;
    reply.expect_error(&ctx, 400)?;
    reply.header(VERSION_HEADER).map(|_| ())
}
