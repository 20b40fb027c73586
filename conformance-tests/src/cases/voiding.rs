//! Voiding (Data 2.3.2, Communication 2.1.4): voided statements disappear from queries
//! and statementId lookups but stay retrievable by voidedStatementId; voiding statements
//! and statements targeting the voided one remain visible.

use serde_json::{Value, json};

use crate::check::{self, ensure};
use crate::client::Ctx;
use crate::fixtures::{Fx, id_of, uuid};
use crate::harness::{Case, CaseResult};
use crate::ops;

pub fn cases() -> Vec<Case> {
    vec![
        Case::both(
            "Communication 2.1.4.s1.b1 / XAPI-00163: a voided statement is not returned by GET statementId (404)",
            voided_not_by_statement_id,
        ),
        Case::both(
            "Communication 2.1.3 / XAPI-00155, XAPI-00157: a voided statement is returned by GET voidedStatementId",
            voided_by_voided_statement_id,
        ),
        Case::both(
            "Communication 2.1.4.s1.b1 / XAPI-00163: a voided statement is absent from query results",
            voided_absent_from_queries,
        ),
        Case::both(
            "Communication 2.1.4.s1.b2 / XAPI-00162: the voiding statement is returned by queries and by GET statementId",
            voiding_statement_visible,
        ),
        Case::both(
            "Communication 2.1.4.s1.b2 / XAPI-00162: statements targeting a voided statement are still returned",
            targeting_statements_still_returned,
        ),
        Case::both(
            "Data 2.3.2.s2.b5: voiding a statement the LRS does not have is accepted",
            void_unknown_target,
        ),
        Case::both(
            "Communication 2.1.3: GET voidedStatementId for a statement that is not voided returns 404",
            voided_id_of_unvoided,
        ),
        Case::both(
            "Data 2.3.2.s2.b3 / XAPI-00016: a voiding statement cannot itself be voided",
            voiding_statement_not_voidable,
        ),
    ]
}

/// Stores a target statement and a statement voiding it; returns (target, voiding) ids.
async fn void_one(ctx: &Ctx, fx: &Fx) -> Result<(Value, Value), String> {
    let target = fx.statement();
    ctx.post_statements(&target).await?;
    let voiding = fx.voiding(&id_of(&target));
    ctx.post_statements(&voiding).await?;
    ctx.settle(&[&id_of(&voiding)]).await?;
    Ok((target, voiding))
}

async fn voided_not_by_statement_id(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let (target, _) = void_one(&ctx, &fx).await?;
    let reply = ctx
        .get("statements")
        .query(&[("statementId", &id_of(&target))])
        .send()
        .await?;
    reply.expect(404)
}

async fn voided_by_voided_statement_id(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let (target, _) = void_one(&ctx, &fx).await?;
    let id = id_of(&target);
    let reply = ctx
        .get("statements")
        .query(&[("voidedStatementId", &id)])
        .send()
        .await?;
    reply.expect(200)?;
    let got = reply.json()?;
    ensure(
        got.get("id").and_then(Value::as_str) == Some(id.as_str()),
        || format!("expected the voided statement {id}, got {got}"),
    )
}

async fn voided_absent_from_queries(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let (target, voiding) = void_one(&ctx, &fx).await?;
    let kept = fx.statement();
    ctx.post_statements(&kept).await?;
    ctx.settle(&[&id_of(&kept)]).await?;
    // The voiding statement matches too: it targets a statement with this verb
    // (Communication 2.1.4.s1.b2 keeps targeting statements visible).
    let got = ops::ids(&ctx.query_all(&[("verb", &fx.verb_id("did"))]).await?);
    check::same_id_set("verb filter", &got, &[id_of(&kept), id_of(&voiding)])?;
    let by_agent = ops::ids(
        &ctx.query_all(&[("agent", &json!({ "mbox": fx.mbox("actor") }).to_string())])
            .await?,
    );
    ensure(!by_agent.contains(&id_of(&target)), || {
        format!("the voided statement came back from the agent filter: {by_agent:?}")
    })
}

async fn voiding_statement_visible(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let (_, voiding) = void_one(&ctx, &fx).await?;
    let id = id_of(&voiding);
    ctx.get_statement(&id).await?;
    let agent = json!({ "mbox": fx.mbox("admin") }).to_string();
    let got = ops::ids(&ctx.query_all(&[("agent", &agent)]).await?);
    check::same_id_set("agent=the voiding actor", &got, &[id])
}

async fn targeting_statements_still_returned(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let target = fx.statement();
    ctx.post_statements(&target).await?;
    let comment = fx.statement_with(
        fx.agent("reviewer"),
        fx.verb("commented"),
        json!({ "objectType": "StatementRef", "id": id_of(&target) }),
    );
    ctx.post_statements(&comment).await?;
    let voiding = fx.voiding(&id_of(&target));
    ctx.post_statements(&voiding).await?;
    ctx.settle(&[&id_of(&comment), &id_of(&voiding)]).await?;
    // The voided target matches activity=thing; statements targeting it match through the
    // StatementRef rule (Communication 2.1.3.s3), the target itself must not come back.
    let got = ops::ids(
        &ctx.query_all(&[("activity", &fx.activity_id("thing"))])
            .await?,
    );
    check::same_id_set(
        "activity=thing after voiding",
        &got,
        &[id_of(&comment), id_of(&voiding)],
    )
}

async fn void_unknown_target(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let voiding = fx.voiding(&uuid());
    let ids = ctx.post_statements(&voiding).await?;
    check::same_ids_in_order("POST reply", &ids, &[id_of(&voiding)])
}

async fn voided_id_of_unvoided(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    ctx.post_statements(&statement).await?;
    ctx.settle(&[&id_of(&statement)]).await?;
    let reply = ctx
        .get("statements")
        .query(&[("voidedStatementId", &id_of(&statement))])
        .send()
        .await?;
    reply.expect(404)
}

async fn voiding_statement_not_voidable(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let (_, voiding) = void_one(&ctx, &fx).await?;
    let second = fx.voiding(&id_of(&voiding));
    // The LRS may accept or reject the attempt; either way the first voiding statement
    // must stay un-voided.
    let reply = ctx.post("statements").json(&second).send().await?;
    reply.expect_any(&[200, 400, 403])?;
    if reply.status == 200 {
        ctx.settle(&[&id_of(&second)]).await?;
    }
    ctx.get_statement(&id_of(&voiding))
        .await
        .map(|_| ())
        .map_err(|e| format!("the voiding statement was voided: {e}"))
}
