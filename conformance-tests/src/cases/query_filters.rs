//! GET Statements queries (Communication 2.1.3): each filter parameter, ordering, limit,
//! formats, StatementRef targeting, and rejection of bad or unknown parameters.

use std::time::Duration;

use serde_json::{Value, json};

use crate::check::{self, ensure};
use crate::client::Ctx;
use crate::fixtures::{Fx, id_of, uuid};
use crate::harness::{Case, CaseResult};
use crate::ops;

pub fn cases() -> Vec<Case> {
    let mut cases = vec![
        Case::both(
            "Communication 2.1.3.s2.b4 / XAPI-00149, XAPI-00109: a query matching nothing returns 200 with empty statements and empty or absent more",
            empty_result,
        ),
        Case::both(
            "Communication 2.1.3 agent / XAPI-00164: agent matches statements whose actor is that agent",
            agent_actor,
        ),
        Case::both(
            "Communication 2.1.3 agent / XAPI-00164: agent matches statements whose actor is a Group with that agent as member",
            agent_group_member,
        ),
        Case::both(
            "Communication 2.1.3 agent / XAPI-00164: agent matches statements whose object is that agent",
            agent_object,
        ),
        Case::both(
            "Communication 2.1.3 agent: without related_agents, a context instructor does not match",
            agent_ignores_instructor,
        ),
        Case::both(
            "Communication 2.1.3 related_agents / XAPI-00176: related_agents=true matches a context instructor",
            related_agents_instructor,
        ),
        Case::both(
            "Communication 2.1.3 verb / XAPI-00164, XAPI-00180: verb returns only statements with that verb id",
            verb_filter,
        ),
        Case::both(
            "Communication 2.1.3 activity / XAPI-00164, XAPI-00179: activity returns only statements whose object is that activity",
            activity_filter,
        ),
        Case::both(
            "Communication 2.1.3 activity: without related_activities, a context parent does not match",
            activity_ignores_context,
        ),
        Case::both(
            "Communication 2.1.3 related_activities: related_activities=true matches a context parent activity",
            related_activities_parent,
        ),
        Case::both(
            "Communication 2.1.3 related_activities: related_activities=true matches the object of a SubStatement",
            related_activities_substatement,
        ),
        Case::both(
            "Communication 2.1.3 registration / XAPI-00164, XAPI-00178: registration returns only statements with that registration",
            registration_filter,
        ),
        Case::both(
            "Communication 2.1.3 / XAPI-00164: filters combine (agent and verb must both match)",
            combined_filters,
        ),
        Case::both(
            "Communication 2.1.3 since / XAPI-00175: since is exclusive of the given stored time",
            since_exclusive,
        ),
        Case::both(
            "Communication 2.1.3 until / XAPI-00174: until is inclusive of the given stored time",
            until_inclusive,
        ),
        Case::both(
            "Communication 2.1.3: results are in descending stored order by default",
            descending_default,
        ),
        Case::both(
            "Communication 2.1.3 ascending / XAPI-00166: ascending=true returns results in ascending stored order",
            ascending_order,
        ),
        Case::both(
            "Communication 2.1.3 limit / XAPI-00173: limit caps the number of statements and more points at the rest",
            limit_caps,
        ),
        Case::both(
            "Communication 2.1.3 format / XAPI-00171: format=ids reduces agents to their IFI and activities and verbs to their id",
            format_ids,
        ),
        Case::both(
            "Communication 2.1.3.s4 / XAPI-00169, XAPI-00172: format=canonical with Accept-Language returns one language per activity language map",
            format_canonical,
        ),
        Case::both(
            "Communication 2.1.3.s3: a statement targeting (StatementRef) a statement by agent X matches agent=X",
            statement_ref_agent,
        ),
        Case::both(
            "Communication 2.1.3.s3: a statement targeting (StatementRef) a statement about activity A matches activity=A",
            statement_ref_activity,
        ),
        Case::both(
            "Communication 2.1.3.s3: StatementRef targeting applies recursively (a targets b targets c)",
            statement_ref_recursive,
        ),
        Case::both(
            "Communication 2.1.3.s3 note: a StatementRef in context.statement does not make a statement match",
            context_statement_ref_ignored,
        ),
        Case::both(
            "Communication 2.1.3 / XAPI-00154, XAPI-00159: GET statements without parameters returns 200 and a StatementResult",
            no_parameters,
        ),
        Case::both(
            "Communication 2.1.3 agent: agent identified by account matches statements by that account",
            agent_account,
        ),
        Case::both(
            "Communication 2.1.3 agent: without related_agents, the actor of a SubStatement object does not match",
            agent_ignores_substatement,
        ),
        Case::both(
            "Communication 2.1.3 related_agents: related_agents=true matches the actor of a SubStatement object",
            related_agents_substatement,
        ),
        Case::both(
            "Communication 2.1.3 related_agents: related_agents=true matches a member of the context team",
            related_agents_team_member,
        ),
        Case::both(
            "Data 2.2.s4.b4 / XAPI-00012: since accepts a timestamp with a non-UTC offset and stays exclusive",
            since_with_offset,
        ),
        Case::both(
            "Communication 3.2.s3.b7 / XAPI-00324: an unknown query parameter is rejected with 400",
            |ctx| bad_query(ctx, vec![("conformanceUnknown", "1".to_owned())]),
        ),
        Case::both(
            "Communication 3.2.s3.b8 / XAPI-00325: a parameter differing only in case (Verb) is rejected with 400",
            |ctx| {
                bad_query(
                    ctx,
                    vec![(
                        "Verb",
                        "http://adlnet.gov/expapi/verbs/experienced".to_owned(),
                    )],
                )
            },
        ),
    ];
    let invalid: [(&str, &str, &str); 12] = [
        ("agent", "not json", "agent that is not JSON"),
        ("agent", "{\"name\":\"no ifi\"}", "agent without an IFI"),
        (
            "agent",
            "{\"mbox\":\"someone@example.com\"}",
            "agent with an mbox lacking mailto:",
        ),
        ("verb", "not an iri", "verb that is not an IRI"),
        ("activity", "not an iri", "activity that is not an IRI"),
        (
            "registration",
            "not-a-uuid",
            "registration that is not a UUID",
        ),
        ("since", "yesterday", "since that is not a timestamp"),
        (
            "until",
            "2024-13-45T99:00:00Z",
            "until that is not a timestamp",
        ),
        ("limit", "-1", "negative limit"),
        ("limit", "ten", "limit that is not a number"),
        ("format", "full", "format outside ids/exact/canonical"),
        ("ascending", "yes", "ascending that is not a boolean"),
    ];
    for (name, value, what) in invalid {
        cases.push(Case::both(
            format!("Data 2.2.s4.b4 / XAPI-00012: GET statements with {what} is rejected with 400"),
            move |ctx| bad_query(ctx, vec![(name, value.to_owned())]),
        ));
    }
    cases
}

/// Stores `statements` one request at a time, a little apart so `stored` values differ,
/// and waits until queries see them. Returns their ids in order.
async fn store_sequentially(ctx: &Ctx, statements: &[Value]) -> Result<Vec<String>, String> {
    let mut ids = Vec::with_capacity(statements.len());
    for statement in statements {
        let posted = ctx.post_statements(statement).await?;
        ids.extend(posted);
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    ctx.settle(&refs).await?;
    Ok(ids)
}

/// Stores `statements` in one batch and waits until queries see them.
async fn store(ctx: &Ctx, statements: &[Value]) -> Result<Vec<String>, String> {
    let ids = ctx.post_statements(&json!(statements)).await?;
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    ctx.settle(&refs).await?;
    Ok(ids)
}

async fn query_ids(ctx: &Ctx, params: &[(&str, &str)]) -> Result<Vec<String>, String> {
    Ok(ops::ids(&ctx.query_all(params).await?))
}

fn agent_param(fx: &Fx, who: &str) -> String {
    json!({ "mbox": fx.mbox(who) }).to_string()
}

async fn empty_result(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let reply = ctx
        .get("statements")
        .query(&[("verb", &fx.verb_id("never-used"))])
        .send()
        .await?;
    reply.expect(200)?;
    let body = reply.json()?;
    ensure(body.get("statements") == Some(&json!([])), || {
        format!("expected \"statements\": [], got {body}")
    })?;
    match body.get("more") {
        None => Ok(()),
        Some(Value::String(more)) if more.is_empty() => Ok(()),
        Some(other) => Err(format!("\"more\" must be empty or absent, got {other}")),
    }
}

async fn agent_actor(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let mine = fx.statement_with(fx.agent("x"), fx.verb("did"), fx.activity("a"));
    let other = fx.statement_with(fx.agent("y"), fx.verb("did"), fx.activity("a"));
    store(&ctx, &[mine.clone(), other]).await?;
    let got = query_ids(&ctx, &[("agent", &agent_param(&fx, "x"))]).await?;
    check::same_id_set("agent=x", &got, &[id_of(&mine)])
}

async fn agent_group_member(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let group = json!({
        "objectType": "Group",
        "name": "team",
        "member": [fx.agent("x"), fx.agent("z")]
    });
    let statement = fx.statement_with(group, fx.verb("did"), fx.activity("a"));
    store(&ctx, std::slice::from_ref(&statement)).await?;
    let got = query_ids(&ctx, &[("agent", &agent_param(&fx, "x"))]).await?;
    check::same_id_set(
        "agent=x (member of the actor group)",
        &got,
        &[id_of(&statement)],
    )
}

async fn agent_object(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement_with(fx.agent("y"), fx.verb("met"), fx.agent("x"));
    store(&ctx, std::slice::from_ref(&statement)).await?;
    let got = query_ids(&ctx, &[("agent", &agent_param(&fx, "x"))]).await?;
    check::same_id_set(
        "agent=x (object of the statement)",
        &got,
        &[id_of(&statement)],
    )
}

fn with_instructor(fx: &Fx) -> Value {
    let mut statement = fx.statement_with(fx.agent("y"), fx.verb("did"), fx.activity("a"));
    statement["context"] = json!({ "instructor": fx.agent("x") });
    statement
}

async fn agent_ignores_instructor(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = with_instructor(&fx);
    store(&ctx, &[statement]).await?;
    let got = query_ids(&ctx, &[("agent", &agent_param(&fx, "x"))]).await?;
    check::same_id_set("agent=x without related_agents", &got, &[])
}

async fn related_agents_instructor(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = with_instructor(&fx);
    store(&ctx, std::slice::from_ref(&statement)).await?;
    let got = query_ids(
        &ctx,
        &[
            ("agent", &agent_param(&fx, "x")),
            ("related_agents", "true"),
        ],
    )
    .await?;
    check::same_id_set("agent=x&related_agents=true", &got, &[id_of(&statement)])
}

async fn verb_filter(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let wanted = fx.statement_with(fx.agent("x"), fx.verb("one"), fx.activity("a"));
    let other = fx.statement_with(fx.agent("x"), fx.verb("two"), fx.activity("a"));
    store(&ctx, &[wanted.clone(), other]).await?;
    let got = query_ids(&ctx, &[("verb", &fx.verb_id("one"))]).await?;
    check::same_id_set("verb=one", &got, &[id_of(&wanted)])
}

async fn activity_filter(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let wanted = fx.statement_with(fx.agent("x"), fx.verb("did"), fx.activity("a"));
    let other = fx.statement_with(fx.agent("x"), fx.verb("did"), fx.activity("b"));
    store(&ctx, &[wanted.clone(), other]).await?;
    let got = query_ids(&ctx, &[("activity", &fx.activity_id("a"))]).await?;
    check::same_id_set("activity=a", &got, &[id_of(&wanted)])
}

fn with_parent(fx: &Fx) -> Value {
    let mut statement = fx.statement_with(fx.agent("x"), fx.verb("did"), fx.activity("lesson"));
    statement["context"] = json!({ "contextActivities": { "parent": [fx.activity("course")] } });
    statement
}

async fn activity_ignores_context(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    store(&ctx, &[with_parent(&fx)]).await?;
    let got = query_ids(&ctx, &[("activity", &fx.activity_id("course"))]).await?;
    check::same_id_set("activity=course without related_activities", &got, &[])
}

async fn related_activities_parent(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = with_parent(&fx);
    store(&ctx, std::slice::from_ref(&statement)).await?;
    let got = query_ids(
        &ctx,
        &[
            ("activity", &fx.activity_id("course")),
            ("related_activities", "true"),
        ],
    )
    .await?;
    check::same_id_set(
        "activity=course&related_activities=true",
        &got,
        &[id_of(&statement)],
    )
}

async fn related_activities_substatement(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let sub = json!({
        "objectType": "SubStatement",
        "actor": fx.agent("x"),
        "verb": fx.verb("will-do"),
        "object": fx.activity("future")
    });
    let statement = fx.statement_with(fx.agent("y"), fx.verb("planned"), sub);
    store(&ctx, std::slice::from_ref(&statement)).await?;
    let got = query_ids(
        &ctx,
        &[
            ("activity", &fx.activity_id("future")),
            ("related_activities", "true"),
        ],
    )
    .await?;
    check::same_id_set(
        "activity=future&related_activities=true",
        &got,
        &[id_of(&statement)],
    )
}

async fn registration_filter(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let registration = uuid();
    let mut wanted = fx.statement();
    wanted["context"] = json!({ "registration": registration });
    let mut other = fx.statement();
    other["context"] = json!({ "registration": uuid() });
    let plain = fx.statement();
    store(&ctx, &[wanted.clone(), other, plain]).await?;
    let got = query_ids(&ctx, &[("registration", &registration)]).await?;
    check::same_id_set("registration", &got, &[id_of(&wanted)])
}

async fn combined_filters(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let both = fx.statement_with(fx.agent("x"), fx.verb("one"), fx.activity("a"));
    let agent_only = fx.statement_with(fx.agent("x"), fx.verb("two"), fx.activity("a"));
    let verb_only = fx.statement_with(fx.agent("y"), fx.verb("one"), fx.activity("a"));
    store(&ctx, &[both.clone(), agent_only, verb_only]).await?;
    let got = query_ids(
        &ctx,
        &[
            ("agent", &agent_param(&fx, "x")),
            ("verb", &fx.verb_id("one")),
        ],
    )
    .await?;
    check::same_id_set("agent=x&verb=one", &got, &[id_of(&both)])
}

/// Three statements with the case's verb, stored apart; returns ids and `stored` texts.
async fn three_in_time(ctx: &Ctx, fx: &Fx) -> Result<(Vec<String>, Vec<String>), String> {
    let statements: Vec<Value> = (0..3).map(|_| fx.statement()).collect();
    let ids = store_sequentially(ctx, &statements).await?;
    let mut stored = Vec::new();
    for id in &ids {
        stored.push(check::stored_text(&ctx.get_statement(id).await?)?);
    }
    let times: Vec<_> = stored
        .iter()
        .map(|s| check::timestamp(s))
        .collect::<Result<_, _>>()?;
    ensure(times[0] < times[1] && times[1] < times[2], || {
        format!("statements stored one after another have stored times {stored:?}, not increasing")
    })?;
    Ok((ids, stored))
}

async fn since_exclusive(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let (ids, stored) = three_in_time(&ctx, &fx).await?;
    let got = query_ids(&ctx, &[("verb", &fx.verb_id("did")), ("since", &stored[0])]).await?;
    check::same_id_set(
        &format!("since={} (the first statement's stored)", stored[0]),
        &got,
        &ids[1..],
    )
}

async fn until_inclusive(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let (ids, stored) = three_in_time(&ctx, &fx).await?;
    let got = query_ids(&ctx, &[("verb", &fx.verb_id("did")), ("until", &stored[1])]).await?;
    check::same_id_set(
        &format!("until={} (the second statement's stored)", stored[1]),
        &got,
        &ids[..2],
    )
}

async fn descending_default(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statements: Vec<Value> = (0..3).map(|_| fx.statement()).collect();
    let ids = store_sequentially(&ctx, &statements).await?;
    let got = query_ids(&ctx, &[("verb", &fx.verb_id("did"))]).await?;
    let expected: Vec<String> = ids.into_iter().rev().collect();
    check::same_ids_in_order("default order (newest first)", &got, &expected)
}

async fn ascending_order(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statements: Vec<Value> = (0..3).map(|_| fx.statement()).collect();
    let ids = store_sequentially(&ctx, &statements).await?;
    let got = query_ids(&ctx, &[("verb", &fx.verb_id("did")), ("ascending", "true")]).await?;
    check::same_ids_in_order("ascending=true (oldest first)", &got, &ids)
}

async fn limit_caps(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statements: Vec<Value> = (0..3).map(|_| fx.statement()).collect();
    store(&ctx, &statements).await?;
    let verb = fx.verb_id("did");
    let page = ctx.query(&[("verb", &verb), ("limit", "2")]).await?;
    ensure(page.statements.len() == 2, || {
        format!("limit=2 returned {} statements", page.statements.len())
    })?;
    ensure(page.more.is_some(), || {
        "limit=2 of 3 matches returned no more link (Data 2.5: more is required if the list was limited)".to_owned()
    })
}

async fn format_ids(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement_with(fx.agent("x"), fx.verb("did"), fx.activity("a"));
    let with_agent_object = fx.statement_with(fx.agent("y"), fx.verb("did"), fx.agent("x"));
    store(&ctx, &[statement, with_agent_object]).await?;
    let page = ctx
        .query(&[("verb", &fx.verb_id("did")), ("format", "ids")])
        .await?;
    ensure(page.statements.len() == 2, || {
        format!("expected 2 statements, got {}", page.statements.len())
    })?;
    for got in &page.statements {
        let actor = &got["actor"];
        ensure(
            actor.get("name").is_none() && actor.get("mbox").is_some(),
            || format!("actor not reduced to its IFI: {actor}"),
        )?;
        let verb = &got["verb"];
        ensure(
            verb.get("display").is_none() && verb.get("id").is_some(),
            || format!("verb not reduced to its id: {verb}"),
        )?;
        let object = &got["object"];
        match object.get("objectType").and_then(Value::as_str) {
            Some("Agent") => ensure(object.get("name").is_none(), || {
                format!("object agent not reduced to its IFI: {object}")
            })?,
            _ => ensure(
                object.get("definition").is_none() && object.get("id").is_some(),
                || format!("activity not reduced to its id: {object}"),
            )?,
        }
    }
    Ok(())
}

async fn format_canonical(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let activity = json!({
        "objectType": "Activity",
        "id": fx.activity_id("bilingual"),
        "definition": {
            "name": { "en-US": "Lesson", "fr-FR": "Leçon" },
            "description": { "en-US": "A lesson", "fr-FR": "Une leçon" }
        }
    });
    let statement = fx.statement_with(fx.agent("x"), fx.verb("did"), activity);
    let id = id_of(&statement);
    store(&ctx, &[statement]).await?;
    let reply = ctx
        .get("statements")
        .query(&[
            ("activity", &fx.activity_id("bilingual")),
            ("format", "canonical"),
        ])
        .header("Accept-Language", "fr-FR")
        .send()
        .await?;
    reply.expect(200)?;
    let page = ops::parse_result(&reply)?;
    check::same_id_set("activity query", &ops::ids(&page.statements), &[id])?;
    let definition = &page.statements[0]["object"]["definition"];
    for map in ["name", "description"] {
        let Some(entries) = definition.get(map).and_then(Value::as_object) else {
            return Err(format!("definition.{map} missing from {definition}"));
        };
        ensure(entries.len() == 1 && entries.contains_key("fr-FR"), || {
            format!(
                "definition.{map} should hold only fr-FR, got {}",
                Value::Object(entries.clone())
            )
        })?;
    }
    Ok(())
}

fn referencing(fx: &Fx, target: &str) -> Value {
    fx.statement_with(
        fx.agent("reviewer"),
        fx.verb("commented"),
        json!({ "objectType": "StatementRef", "id": target }),
    )
}

async fn statement_ref_agent(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let target = fx.statement_with(fx.agent("x"), fx.verb("did"), fx.activity("a"));
    let targeting = referencing(&fx, &id_of(&target));
    store(&ctx, &[target.clone(), targeting.clone()]).await?;
    let got = query_ids(&ctx, &[("agent", &agent_param(&fx, "x"))]).await?;
    check::same_id_set("agent=x", &got, &[id_of(&target), id_of(&targeting)])
}

async fn statement_ref_activity(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let target = fx.statement_with(fx.agent("x"), fx.verb("did"), fx.activity("a"));
    let targeting = referencing(&fx, &id_of(&target));
    store(&ctx, &[target.clone(), targeting.clone()]).await?;
    let got = query_ids(&ctx, &[("activity", &fx.activity_id("a"))]).await?;
    check::same_id_set("activity=a", &got, &[id_of(&target), id_of(&targeting)])
}

async fn statement_ref_recursive(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let c = fx.statement_with(fx.agent("x"), fx.verb("did"), fx.activity("a"));
    let b = referencing(&fx, &id_of(&c));
    let a = referencing(&fx, &id_of(&b));
    store(&ctx, &[c.clone(), b.clone(), a.clone()]).await?;
    let got = query_ids(&ctx, &[("activity", &fx.activity_id("a"))]).await?;
    check::same_id_set("activity=a", &got, &[id_of(&c), id_of(&b), id_of(&a)])
}

async fn context_statement_ref_ignored(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let target = fx.statement_with(fx.agent("x"), fx.verb("did"), fx.activity("a"));
    let mut other = fx.statement_with(fx.agent("y"), fx.verb("did"), fx.activity("b"));
    other["context"] =
        json!({ "statement": { "objectType": "StatementRef", "id": id_of(&target) } });
    store(&ctx, &[target.clone(), other]).await?;
    let got = query_ids(&ctx, &[("agent", &agent_param(&fx, "x"))]).await?;
    check::same_id_set("agent=x", &got, &[id_of(&target)])
}

async fn bad_query(ctx: Ctx, params: Vec<(&'static str, String)>) -> CaseResult {
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let reply = ctx.get("statements").query(&pairs).send().await?;
    reply.expect_error(&ctx, 400)
}

async fn no_parameters(ctx: Ctx) -> CaseResult {
    let reply = ctx.get("statements").send().await?;
    reply.expect(200)?;
    ops::parse_result(&reply).map(|_| ())
}

async fn agent_account(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let account =
        json!({ "homePage": "http://accounts.conformance.example.com", "name": fx.tag.clone() });
    let actor = json!({ "objectType": "Agent", "name": "Account Holder", "account": account });
    let statement = fx.statement_with(actor, fx.verb("did"), fx.activity("a"));
    let other = fx.statement();
    store(&ctx, &[statement.clone(), other]).await?;
    let agent = json!({ "account": account }).to_string();
    let got = query_ids(&ctx, &[("agent", &agent)]).await?;
    check::same_id_set("agent by account", &got, &[id_of(&statement)])
}

fn with_sub_actor(fx: &Fx) -> Value {
    let sub = json!({
        "objectType": "SubStatement",
        "actor": fx.agent("x"),
        "verb": fx.verb("will-do"),
        "object": fx.activity("future")
    });
    fx.statement_with(fx.agent("y"), fx.verb("planned"), sub)
}

async fn agent_ignores_substatement(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    store(&ctx, &[with_sub_actor(&fx)]).await?;
    let got = query_ids(&ctx, &[("agent", &agent_param(&fx, "x"))]).await?;
    check::same_id_set("agent=x without related_agents", &got, &[])
}

async fn related_agents_substatement(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = with_sub_actor(&fx);
    store(&ctx, std::slice::from_ref(&statement)).await?;
    let got = query_ids(
        &ctx,
        &[
            ("agent", &agent_param(&fx, "x")),
            ("related_agents", "true"),
        ],
    )
    .await?;
    check::same_id_set("agent=x&related_agents=true", &got, &[id_of(&statement)])
}

async fn related_agents_team_member(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let mut statement = fx.statement_with(fx.agent("y"), fx.verb("did"), fx.activity("a"));
    statement["context"] = json!({
        "team": { "objectType": "Group", "member": [fx.agent("x"), fx.agent("z")] }
    });
    store(&ctx, std::slice::from_ref(&statement)).await?;
    let got = query_ids(
        &ctx,
        &[
            ("agent", &agent_param(&fx, "x")),
            ("related_agents", "true"),
        ],
    )
    .await?;
    check::same_id_set(
        "agent=x&related_agents=true (team member)",
        &got,
        &[id_of(&statement)],
    )
}

async fn since_with_offset(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let (ids, stored) = three_in_time(&ctx, &fx).await?;
    let first = check::timestamp(&stored[0])?;
    let offset = chrono::FixedOffset::east_opt(5 * 3600 + 30 * 60)
        .ok_or_else(|| "bad offset in the suite".to_owned())?;
    let shifted = first
        .with_timezone(&offset)
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
    let got = query_ids(&ctx, &[("verb", &fx.verb_id("did")), ("since", &shifted)]).await?;
    check::same_id_set(
        &format!("since={shifted} (the first stored, at +05:30)"),
        &got,
        &ids[1..],
    )
}
