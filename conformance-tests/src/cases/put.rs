//! PUT Statements (Communication 2.1.1) and what the LRS adds to a stored statement
//! (Data 2.3.1 immutability, 2.4.1 id, 2.4.7 timestamp, 2.4.8 stored, 2.4.9 authority).

use serde_json::{Value, json};

use crate::check::{self, ensure};
use crate::client::Ctx;
use crate::fixtures::{self, Fx, id_of, uuid};
use crate::harness::{Case, CaseResult};
use crate::ops;

pub fn cases() -> Vec<Case> {
    vec![
        Case::both(
            "Communication 2.1.1 / XAPI-00143: PUT statements with statementId returns 204 and stores the statement",
            put_stores,
        ),
        Case::both(
            "Data 2.4 / XAPI-00099, XAPI-00023: a stored statement is returned with id, stored, authority and version set",
            lrs_assigned_properties,
        ),
        Case::both(
            "Data 2.3.1, Data 2.2.s2.b5: GET returns every property the client sent unaltered",
            round_trip_exact,
        ),
        Case::both(
            "Communication 2.1.1.s1.table1.row1 / XAPI-00144, XAPI-00145: PUT statements without statementId is rejected with 400",
            put_without_statement_id,
        ),
        Case::both(
            "Communication 2.1.1.s3.b3: PUT whose body id differs from statementId is rejected with 400",
            put_mismatched_id,
        ),
        Case::both(
            "Data 2.2.s4.b4 / XAPI-00012: PUT with a statementId that is not a UUID is rejected with 400",
            put_bad_statement_id,
        ),
        Case::both(
            "Communication 2.1.1: PUT of a statement without id stores it under statementId",
            put_without_body_id,
        ),
        Case::both(
            "Communication 2.1.1.s2.b2 / XAPI-00142: the same statement PUT twice returns 204 both times and is stored once",
            put_twice_same,
        ),
        Case::both(
            "Communication 2.1.1.s2.b3 / XAPI-00142: PUT of a different statement under an existing id returns 409 and changes nothing",
            put_conflict,
        ),
        Case::both(
            "Data 2.4.8.s3.b1 / XAPI-00097: a statement sent with stored is accepted and stored is overwritten by the LRS",
            stored_overwritten,
        ),
        Case::both(
            "Data 2.4.7.s3.b1 (SHOULD*): a statement without timestamp is returned with timestamp set to stored",
            timestamp_defaults_to_stored,
        ),
        Case::both(
            "Data 2.2.s4.b3 / XAPI-00002: numbers are kept with at least IEEE 754 single precision",
            number_precision,
        ),
        Case::both(
            "Communication 1.4 / XAPI-00015: non-ASCII strings are stored and returned as UTF-8",
            utf8_round_trip,
        ),
        Case::both(
            "Data 2.4.6.2.s4.b3 / XAPI-00096: a single context Activity is returned as an array of one",
            context_activity_as_array,
        ),
    ]
}

async fn put_stores(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let id = id_of(&statement);
    ctx.put_statement(&id, &statement).await?;
    ctx.settle(&[&id]).await?;
    let got = ctx.get_statement(&id).await?;
    ensure(
        got.get("id").and_then(Value::as_str) == Some(id.as_str()),
        || format!("GET statementId={id} returned {got}"),
    )
}

async fn lrs_assigned_properties(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let id = id_of(&statement);
    ctx.put_statement(&id, &statement).await?;
    ctx.settle(&[&id]).await?;
    let got = ctx.get_statement(&id).await?;
    ensure(
        got.get("id").and_then(Value::as_str) == Some(id.as_str()),
        || format!("id is not {id}: {got}"),
    )?;
    check::stored_of(&got)?;
    let authority = got
        .get("authority")
        .filter(|a| a.is_object())
        .ok_or_else(|| format!("no authority object (Data 2.4.9): {got}"))?;
    let kind = authority
        .get("objectType")
        .and_then(Value::as_str)
        .unwrap_or("Agent");
    ensure(kind == "Agent" || kind == "Group", || {
        format!("authority is neither an Agent nor a Group: {authority}")
    })?;
    let version = got.get("version").and_then(Value::as_str).unwrap_or("");
    ensure(!version.is_empty(), || {
        format!("no version (Data 2.4.10): {got}")
    })
}

async fn round_trip_exact(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.rich_statement();
    let id = id_of(&statement);
    ctx.put_statement(&id, &statement).await?;
    ctx.settle(&[&id]).await?;
    let got = ctx.get_statement(&id).await?;
    check::statement_round_trip(&statement, &got)?;
    // format=exact must be the same as no format at all (XAPI-00170).
    let reply = ctx
        .get("statements")
        .query(&[("statementId", &id), ("format", "exact")])
        .send()
        .await?;
    reply.expect(200)?;
    check::statement_round_trip(&statement, &reply.json()?)
        .map_err(|e| format!("with format=exact: {e}"))
}

async fn put_without_statement_id(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let reply = ctx.put("statements").json(&statement).send().await?;
    reply.expect_error(&ctx, 400)
}

async fn put_mismatched_id(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let other = uuid();
    let reply = ctx
        .put("statements")
        .query(&[("statementId", &other)])
        .json(&statement)
        .send()
        .await?;
    reply.expect_error(&ctx, 400)?;
    for id in [other, id_of(&statement)] {
        let check = ctx
            .get("statements")
            .query(&[("statementId", &id)])
            .send()
            .await?;
        check
            .expect(404)
            .map_err(|e| format!("the rejected statement was stored: {e}"))?;
    }
    Ok(())
}

async fn put_bad_statement_id(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let mut statement = fx.statement();
    fixtures::remove(&mut statement, &["id"]);
    let reply = ctx
        .put("statements")
        .query(&[("statementId", "not-a-uuid")])
        .json(&statement)
        .send()
        .await?;
    reply.expect_error(&ctx, 400)
}

async fn put_without_body_id(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let mut statement = fx.statement();
    let id = id_of(&statement);
    fixtures::remove(&mut statement, &["id"]);
    ctx.put_statement(&id, &statement).await?;
    ctx.settle(&[&id]).await?;
    let got = ctx.get_statement(&id).await?;
    ensure(
        got.get("id").and_then(Value::as_str) == Some(id.as_str()),
        || format!("expected id {id}: {got}"),
    )
}

async fn put_twice_same(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let id = id_of(&statement);
    ctx.put_statement(&id, &statement).await?;
    ctx.put_statement(&id, &statement)
        .await
        .map_err(|e| format!("second identical PUT: {e}"))?;
    ctx.settle(&[&id]).await?;
    let found = ctx.query_all(&[("verb", &fx.verb_id("did"))]).await?;
    check::same_id_set("statements with the case's verb", &ops::ids(&found), &[id])
}

async fn put_conflict(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let id = id_of(&statement);
    ctx.put_statement(&id, &statement).await?;
    let mut different = statement.clone();
    different["verb"] = fx.verb("changed");
    let reply = ctx
        .put("statements")
        .query(&[("statementId", &id)])
        .json(&different)
        .send()
        .await?;
    reply.expect_error(&ctx, 409)?;
    ctx.settle(&[&id]).await?;
    let got = ctx.get_statement(&id).await?;
    check::statement_round_trip(&statement, &got)
        .map_err(|e| format!("the stored statement changed: {e}"))
}

async fn stored_overwritten(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let mut statement = fx.statement();
    let sent_stored = "2001-01-01T00:00:00.000Z";
    statement["stored"] = json!(sent_stored);
    let id = id_of(&statement);
    ctx.put_statement(&id, &statement).await?;
    ctx.settle(&[&id]).await?;
    let got = ctx.get_statement(&id).await?;
    let stored = check::stored_of(&got)?;
    let sent = check::timestamp(sent_stored)?;
    ensure(stored != sent, || {
        format!("stored was kept as sent ({sent_stored}); the LRS MUST overwrite it")
    })
}

async fn timestamp_defaults_to_stored(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let id = id_of(&statement);
    ctx.put_statement(&id, &statement).await?;
    ctx.settle(&[&id]).await?;
    let got = ctx.get_statement(&id).await?;
    let stored = check::stored_of(&got)?;
    let timestamp = got
        .get("timestamp")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("no timestamp: {got}"))?;
    let timestamp = check::timestamp(timestamp)?;
    ensure(timestamp == stored, || {
        format!("timestamp {timestamp} differs from stored {stored}")
    })
}

async fn context_activity_as_array(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let mut statement = fx.statement();
    let parent = fx.activity("parent");
    statement["context"] = json!({ "contextActivities": { "parent": parent.clone() } });
    let id = id_of(&statement);
    ctx.put_statement(&id, &statement).await?;
    ctx.settle(&[&id]).await?;
    let got = ctx.get_statement(&id).await?;
    let returned = got
        .pointer("/context/contextActivities/parent")
        .ok_or_else(|| format!("context.contextActivities.parent missing: {got}"))?;
    check::equivalent(
        "/context/contextActivities/parent",
        &json!([parent]),
        returned,
    )
}

async fn number_precision(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let mut statement = fx.statement();
    let sent: [(&str, f64); 4] = [
        ("scaled", 0.123_456_7),
        ("raw", 12_345.67),
        ("min", -0.5),
        ("max", 99_999.99),
    ];
    let score: serde_json::Map<String, Value> = sent
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    statement["result"] = json!({ "score": score });
    let id = id_of(&statement);
    ctx.put_statement(&id, &statement).await?;
    ctx.settle(&[&id]).await?;
    let got = ctx.get_statement(&id).await?;
    for (key, value) in sent {
        let returned = got
            .pointer(&format!("/result/score/{key}"))
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("result.score.{key} missing or not a number: {got}"))?;
        // Single precision keeps about 7 significant digits.
        let tolerance = value.abs() * 1e-7;
        ensure((returned - value).abs() <= tolerance, || {
            format!("result.score.{key}: sent {value}, got {returned}")
        })?;
    }
    Ok(())
}

async fn utf8_round_trip(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let mut statement = fx.statement();
    statement["actor"]["name"] = json!("Zoë Ñandú 张伟 🎓");
    statement["verb"]["display"] = json!({ "en-US": "did", "ja-JP": "完了した", "ar": "أكمل" });
    statement["object"]["definition"]["name"] = json!({ "el-GR": "Δοκιμή ✓" });
    let id = id_of(&statement);
    ctx.put_statement(&id, &statement).await?;
    ctx.settle(&[&id]).await?;
    let got = ctx.get_statement(&id).await?;
    check::statement_round_trip(&statement, &got)
}
