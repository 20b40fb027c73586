//! POST Statements (Communication 2.1.2): single statements and batches, ids assigned by
//! the LRS, and all-or-nothing batches (Communication 3.2.s3.b9).

use serde_json::{Value, json};

use crate::check::{self, ensure};
use crate::client::Ctx;
use crate::fixtures::{self, Fx, id_of};
use crate::harness::{Case, CaseResult};
use crate::ops;

pub fn cases() -> Vec<Case> {
    vec![
        Case::both(
            "Communication 2.1.2 / XAPI-00146, XAPI-00147: POST of one statement returns 200 and an array holding its id",
            post_single,
        ),
        Case::both(
            "Communication 2.1.2 / XAPI-00146: POST of an array returns the ids in the same order",
            post_batch_in_order,
        ),
        Case::both(
            "Data 2.4.1.s3.b1: the LRS assigns a UUID to a statement POSTed without id",
            post_assigns_id,
        ),
        Case::both(
            "Communication 3.2.s3.b9 / XAPI-00326: a batch with one invalid statement is rejected with 400 and none of it is stored",
            batch_all_or_nothing,
        ),
        Case::both(
            "Communication 2.1.2.s2.b6 (SHOULD*): a batch using one id twice is rejected with 400 and none of it is stored",
            batch_duplicate_ids,
        ),
        Case::both(
            "Communication 2.1.2.s2.b4 / XAPI-00142: POST of an already stored statement neither modifies nor duplicates it",
            post_existing_same,
        ),
        Case::both(
            "Communication 2.1.2.s2.b5 / XAPI-00142: POST of a different statement under an existing id returns 409 and changes nothing",
            post_conflict,
        ),
        Case::both(
            "Communication 3.2.s3.b6 (SHOULD*): a JSON statement sent as text/plain is rejected with 400",
            post_wrong_content_type,
        ),
        Case::both(
            "Data 2.1 / XAPI-00014: a body that is not JSON is rejected with 400",
            post_not_json,
        ),
    ]
}

async fn post_single(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let ids = ctx.post_statements(&statement).await?;
    check::same_ids_in_order("POST reply", &ids, &[id_of(&statement)])?;
    ctx.settle(&[&ids[0]]).await?;
    ctx.get_statement(&ids[0]).await.map(|_| ())
}

async fn post_batch_in_order(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let batch: Vec<Value> = (0..3).map(|_| fx.statement()).collect();
    let expected: Vec<String> = batch.iter().map(id_of).collect();
    let ids = ctx.post_statements(&json!(batch)).await?;
    check::same_ids_in_order("POST reply", &ids, &expected)
}

async fn post_assigns_id(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let mut first = fx.statement();
    fixtures::remove(&mut first, &["id"]);
    let mut second = fx.statement();
    fixtures::remove(&mut second, &["id"]);
    let ids = ctx.post_statements(&json!([first, second])).await?;
    ensure(ids.len() == 2, || format!("expected 2 ids, got {ids:?}"))?;
    ensure(ids[0] != ids[1], || {
        format!("both statements got id {}", ids[0])
    })?;
    ctx.settle(&[&ids[0], &ids[1]]).await?;
    for id in &ids {
        let got = ctx.get_statement(id).await?;
        ensure(
            got.get("id").and_then(Value::as_str) == Some(id.as_str()),
            || format!("GET statementId={id} returned {got}"),
        )?;
    }
    Ok(())
}

async fn expect_absent(ctx: &Ctx, ids: &[String]) -> CaseResult {
    for id in ids {
        let reply = ctx
            .get("statements")
            .query(&[("statementId", id)])
            .send()
            .await?;
        reply
            .expect(404)
            .map_err(|e| format!("statement {id} of the rejected batch was stored: {e}"))?;
    }
    Ok(())
}

async fn batch_all_or_nothing(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let valid = fx.statement();
    let mut invalid = fx.statement();
    fixtures::remove(&mut invalid, &["verb"]);
    let reply = ctx
        .post("statements")
        .json(&json!([valid, invalid]))
        .send()
        .await?;
    reply.expect_error(&ctx, 400)?;
    expect_absent(&ctx, &[id_of(&valid), id_of(&invalid)]).await
}

async fn batch_duplicate_ids(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let first = fx.statement();
    let mut second = fx.statement();
    second["id"] = first["id"].clone();
    second["verb"] = fx.verb("other");
    let third = fx.statement();
    let reply = ctx
        .post("statements")
        .json(&json!([first, second, third]))
        .send()
        .await?;
    reply.expect_error(&ctx, 400)?;
    expect_absent(&ctx, &[id_of(&first), id_of(&third)]).await
}

async fn post_existing_same(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let id = id_of(&statement);
    ctx.post_statements(&statement).await?;
    ctx.settle(&[&id]).await?;
    let before = ctx.get_statement(&id).await?;
    // Either answer is allowed for a repeat (Communication 2.1.2: "Whether it responds with
    // 409 Conflict or 204 No Content, it MUST NOT modify the Statement").
    let reply = ctx.post("statements").json(&statement).send().await?;
    reply.expect_any(&[200, 204, 409])?;
    let after = ctx.get_statement(&id).await?;
    ensure(
        check::stored_of(&before)? == check::stored_of(&after)?,
        || {
            format!(
                "stored changed from {} to {}",
                before["stored"], after["stored"]
            )
        },
    )?;
    let found = ctx.query_all(&[("verb", &fx.verb_id("did"))]).await?;
    check::same_id_set("statements with the case's verb", &ops::ids(&found), &[id])
}

async fn post_conflict(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let id = id_of(&statement);
    ctx.post_statements(&statement).await?;
    let mut different = statement.clone();
    different["object"] = fx.activity("elsewhere");
    let reply = ctx.post("statements").json(&different).send().await?;
    reply.expect_error(&ctx, 409)?;
    ctx.settle(&[&id]).await?;
    let got = ctx.get_statement(&id).await?;
    check::statement_round_trip(&statement, &got)
        .map_err(|e| format!("the stored statement changed: {e}"))
}

async fn post_not_json(ctx: Ctx) -> CaseResult {
    let reply = ctx
        .post("statements")
        .raw_body(
            b"{\"actor\": {\"mbox\": \"mailto:x@example.com\"".to_vec(),
            "application/json",
        )
        .send()
        .await?;
    reply.expect_error(&ctx, 400)
}

async fn post_wrong_content_type(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let reply = ctx
        .post("statements")
        .raw_body(statement.to_string().into_bytes(), "text/plain")
        .send()
        .await?;
    reply.expect_error(&ctx, 400)?;
    expect_absent(&ctx, &[id_of(&statement)]).await
}
