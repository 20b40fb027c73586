//! GET Statements for a single statement (Communication 2.1.3): statementId and
//! voidedStatementId, the parameters they may be combined with, and Last-Modified.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::check::{self, ensure};
use crate::client::Ctx;
use crate::fixtures::{Fx, id_of, uuid};
use crate::harness::{Case, CaseResult};

/// Parameters that may not accompany statementId / voidedStatementId (Communication 2.1.3.s2.b2).
const OTHER_PARAMS: [(&str, &str); 10] = [
    (
        "agent",
        "{\"mbox\":\"mailto:someone@conformance.example.com\"}",
    ),
    ("verb", "http://adlnet.gov/expapi/verbs/experienced"),
    ("activity", "http://conformance.example.com/activities/any"),
    ("registration", "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"),
    ("related_activities", "true"),
    ("related_agents", "true"),
    ("since", "2000-01-01T00:00:00Z"),
    ("until", "2100-01-01T00:00:00Z"),
    ("limit", "1"),
    ("ascending", "true"),
];

pub fn cases() -> Vec<Case> {
    let mut cases = vec![
        Case::both(
            "Communication 2.1.3 / XAPI-00156, XAPI-00158: GET with statementId returns 200 and that single Statement",
            by_id,
        ),
        Case::both(
            "Communication 2.1.3.s2.b1: GET with both statementId and voidedStatementId is rejected with 400",
            both_ids,
        ),
    ];
    for (name, value) in OTHER_PARAMS {
        cases.push(Case::both(
            format!("Communication 2.1.3.s2.b2 / XAPI-00151: GET with statementId and {name} is rejected with 400"),
            move |ctx| id_with_other(ctx, "statementId", name, value),
        ));
    }
    for (name, value) in [OTHER_PARAMS[1], OTHER_PARAMS[8]] {
        cases.push(Case::both(
            format!("Communication 2.1.3.s2.b2 / XAPI-00150: GET with voidedStatementId and {name} is rejected with 400"),
            move |ctx| id_with_other(ctx, "voidedStatementId", name, value),
        ));
    }
    cases.extend([
        Case::both(
            "Communication 2.1.3.s2.b2 / XAPI-00151: GET with statementId and format=ids is accepted",
            |ctx| id_with_allowed(ctx, "format", "ids"),
        ),
        Case::both(
            "Communication 2.1.3.s2.b2 / XAPI-00151: GET with statementId and attachments=false is accepted",
            |ctx| id_with_allowed(ctx, "attachments", "false"),
        ),
        Case::both(
            "Communication 2.1.3 / Communication 3.2: GET with an unknown statementId returns 404",
            unknown_id,
        ),
        Case::both(
            "Data 2.2.s4.b4 / XAPI-00012: GET with a statementId that is not a UUID is rejected with 400",
            bad_uuid,
        ),
        Case::both(
            "Communication 2.1.3.s2.b8 (SHOULD*): GET by statementId carries Last-Modified matching stored",
            last_modified,
        ),
    ]);
    cases
}

async fn stored_statement(ctx: &Ctx) -> Result<(Fx, String), String> {
    let fx = Fx::new();
    let statement = fx.statement();
    let id = id_of(&statement);
    ctx.post_statements(&statement).await?;
    ctx.settle(&[&id]).await?;
    Ok((fx, id))
}

async fn by_id(ctx: Ctx) -> CaseResult {
    let (_fx, id) = stored_statement(&ctx).await?;
    let got = ctx.get_statement(&id).await?;
    ensure(got.get("statements").is_none(), || {
        format!("expected a single Statement, got a StatementResult: {got}")
    })?;
    ensure(
        got.get("id").and_then(Value::as_str) == Some(id.as_str()),
        || format!("expected the statement {id}, got {got}"),
    )
}

async fn both_ids(ctx: Ctx) -> CaseResult {
    let (_fx, id) = stored_statement(&ctx).await?;
    let reply = ctx
        .get("statements")
        .query(&[("statementId", &id), ("voidedStatementId", &uuid())])
        .send()
        .await?;
    reply.expect_error(&ctx, 400)
}

async fn id_with_other(ctx: Ctx, id_param: &str, name: &str, value: &str) -> CaseResult {
    let (_fx, id) = stored_statement(&ctx).await?;
    let reply = ctx
        .get("statements")
        .query(&[(id_param, &id), (name, value)])
        .send()
        .await?;
    reply.expect_error(&ctx, 400)
}

async fn id_with_allowed(ctx: Ctx, name: &str, value: &str) -> CaseResult {
    let (_fx, id) = stored_statement(&ctx).await?;
    let reply = ctx
        .get("statements")
        .query(&[("statementId", &id), (name, value)])
        .send()
        .await?;
    reply.expect(200)?;
    let got = reply.json()?;
    ensure(
        got.get("id").and_then(Value::as_str) == Some(id.as_str()),
        || format!("expected the statement {id}, got {got}"),
    )
}

async fn unknown_id(ctx: Ctx) -> CaseResult {
    // A stored statement is found first, so a 404 below is about the id, not the resource.
    let (_fx, id) = stored_statement(&ctx).await?;
    ctx.get_statement(&id).await?;
    let reply = ctx
        .get("statements")
        .query(&[("statementId", &uuid())])
        .send()
        .await?;
    reply.expect(404)
}

async fn bad_uuid(ctx: Ctx) -> CaseResult {
    let reply = ctx
        .get("statements")
        .query(&[("statementId", "not-a-uuid")])
        .send()
        .await?;
    reply.expect_error(&ctx, 400)
}

async fn last_modified(ctx: Ctx) -> CaseResult {
    let (_fx, id) = stored_statement(&ctx).await?;
    let reply = ctx
        .get("statements")
        .query(&[("statementId", &id)])
        .send()
        .await?;
    reply.expect(200)?;
    let statement = reply.json()?;
    let stored = check::stored_of(&statement)?.with_timezone(&Utc);
    let header = reply.header("last-modified")?;
    let modified = DateTime::parse_from_rfc2822(header)
        .map_err(|e| format!("Last-Modified {header:?} is not an HTTP date: {e}"))?
        .with_timezone(&Utc);
    // An HTTP date has whole seconds, so it matches stored truncated to the second.
    ensure(modified.timestamp() == stored.timestamp(), || {
        format!(
            "Last-Modified {header} does not match stored {}",
            statement["stored"]
        )
    })
}
