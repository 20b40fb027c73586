//! The Activities Resource (Communication 2.5): GET `activities?activityId=` returns the
//! LRS's canonical Activity object, built from every statement about the activity, and an
//! Activity object even for an activity it knows nothing of.

use serde_json::{Value, json};

use crate::check::{self, ensure};
use crate::client::{Ctx, VERSION_HEADER};
use crate::fixtures::{Fx, id_of};
use crate::harness::{Case, CaseResult};

pub fn cases() -> Vec<Case> {
    vec![
        Case::both(
            "Communication 2.5 / XAPI-00253: GET activities for the Activity of a stored statement returns 200 and the Activity object with its definition",
            activity_of_statement,
        ),
        Case::both(
            "Communication 2.5.s1.table1.row1 / XAPI-00254: the Activity holds every language of its name from all statements about it",
            merged_languages,
        ),
        Case::both(
            "Communication 2.5 (SHOULD*): GET activities for an Activity the LRS has never seen returns an Activity object with that id",
            unknown_activity,
        ),
        Case::both(
            "Communication 1.1 / XAPI-00125: HEAD activities answers like GET without a body",
            head_activities,
        ),
        Case::both(
            "Communication 2.5.s1.table1.row1 / XAPI-00250: GET activities without activityId is rejected with 400",
            |ctx| rejected(ctx, Vec::new()),
        ),
        Case::both(
            "Communication 2.5.s1.table1.row1: GET activities with an activityId that is not an IRI is rejected with 400",
            |ctx| rejected(ctx, vec![("activityId", "not an iri".to_owned())]),
        ),
        Case::both(
            "Communication 3.2.s3.b7 / XAPI-00324: GET activities with an unknown parameter is rejected with 400",
            |ctx| {
                let id = Fx::new().activity_id("anything");
                rejected(
                    ctx,
                    vec![("activityId", id), ("conformanceUnknown", "1".to_owned())],
                )
            },
        ),
        Case::both(
            "Communication 3.2.s3.b8 / XAPI-00325: GET activities with ActivityId (another case) is rejected with 400",
            |ctx| {
                let id = Fx::new().activity_id("anything");
                rejected(ctx, vec![("ActivityId", id)])
            },
        ),
        Case::both(
            "Communication 4.0 / XAPI-00334: GET activities without credentials is rejected with 401",
            |ctx| super::agents::unauthenticated(ctx, "activities"),
        ),
        Case::both(
            "Communication 3.3.s3.b4: GET activities without X-Experience-API-Version is rejected with 400",
            activities_without_version,
        ),
    ]
}

async fn activity(ctx: &Ctx, id: &str) -> Result<Value, String> {
    let reply = ctx
        .get("activities")
        .query(&[("activityId", id)])
        .send()
        .await?;
    reply.expect(200)?;
    let body = reply.json()?;
    ensure(body.get("id").and_then(Value::as_str) == Some(id), || {
        format!(
            "expected an Activity object with id {id}: {}",
            reply.describe()
        )
    })?;
    let kind = body
        .get("objectType")
        .and_then(Value::as_str)
        .unwrap_or("Activity");
    ensure(kind == "Activity", || {
        format!("objectType is {kind:?}, not Activity: {body}")
    })?;
    Ok(body)
}

async fn activity_of_statement(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let object = json!({
        "objectType": "Activity",
        "id": fx.activity_id("course"),
        "definition": {
            "name": { "en-US": "Course" },
            "description": { "en-US": "A course about conformance" },
            "type": "http://adlnet.gov/expapi/activities/course",
            "moreInfo": "http://conformance.example.com/more",
            "extensions": { "http://conformance.example.com/ext/level": 2 }
        }
    });
    let statement = fx.statement_with(fx.agent("learner"), fx.verb("attempted"), object.clone());
    ctx.post_statements(&statement).await?;
    ctx.settle(&[&id_of(&statement)]).await?;
    let got = activity(&ctx, &fx.activity_id("course")).await?;
    let definition = got
        .get("definition")
        .ok_or_else(|| format!("the Activity has no definition: {got}"))?;
    check::equivalent("/definition", &object["definition"], definition)
}

async fn merged_languages(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let id = fx.activity_id("bilingual");
    let mut ids = Vec::new();
    for (language, name) in [("en-US", "Lesson"), ("fr-FR", "Leçon")] {
        let object = json!({
            "objectType": "Activity",
            "id": id,
            "definition": { "name": { language: name } }
        });
        let statement = fx.statement_with(fx.agent("learner"), fx.verb("read"), object);
        ctx.post_statements(&statement).await?;
        ids.push(id_of(&statement));
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    ctx.settle(&refs).await?;
    let got = activity(&ctx, &id).await?;
    let names = got
        .pointer("/definition/name")
        .ok_or_else(|| format!("the Activity has no definition.name: {got}"))?;
    for (language, name) in [("en-US", "Lesson"), ("fr-FR", "Leçon")] {
        ensure(
            names.get(language).and_then(Value::as_str) == Some(name),
            || format!("definition.name lacks {language}: {name}: {got}"),
        )?;
    }
    Ok(())
}

async fn unknown_activity(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    activity(&ctx, &fx.activity_id("never-used"))
        .await
        .map(|_| ())
}

async fn head_activities(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let id = fx.activity_id("headed");
    let get = ctx
        .get("activities")
        .query(&[("activityId", &id)])
        .send()
        .await?;
    get.expect(200)?;
    let head = ctx
        .head("activities")
        .query(&[("activityId", &id)])
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
    let reply = ctx.get("activities").params(params).send().await?;
    reply.expect_error(&ctx, 400)
}

async fn activities_without_version(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let reply = ctx
        .get("activities")
        .query(&[("activityId", &fx.activity_id("anything"))])
        .version(None)
        .send()
        .await?;
    reply.expect_error(&ctx, 400)?;
    reply.header(VERSION_HEADER).map(|_| ())
}
