//! Versioning (Communication 3.3, Data 2.4.10): the version header is required and checked
//! on the Statement Resource, and statements carry the version they were accepted with.

use serde_json::{Value, json};

use crate::check::ensure;
use crate::client::{Ctx, VERSION_HEADER};
use crate::fixtures::{Fx, id_of};
use crate::harness::{Case, CaseResult, Versions, XapiVersion};

pub fn cases() -> Vec<Case> {
    let mut cases = vec![
        Case::both(
            "Communication 3.3.s3.b4 / XAPI-00331: GET statements without X-Experience-API-Version is rejected with 400",
            get_without_version,
        ),
        Case::both(
            "Communication 3.3.s3.b4 / XAPI-00331: POST statements without X-Experience-API-Version is rejected with 400 and stores nothing",
            post_without_version,
        ),
        Case::both(
            "Communication 3.3.s3.b4 / XAPI-00331: PUT statements without X-Experience-API-Version is rejected with 400 and stores nothing",
            put_without_version,
        ),
    ];
    for (header, why) in [
        ("0.9", "a version prior to 1.0.0"),
        ("0.95", "a version prior to 1.0.0"),
        ("1.1.0", "1.1.0 or greater"),
        ("3.0.0", "an unknown major version"),
        ("not-a-version", "not a version"),
    ] {
        cases.push(Case::both(
            format!("Communication 3.3.s3.b4, 3.3.s3.b6: version header {header:?} ({why}) is rejected with 400"),
            move |ctx| unsupported_version(ctx, header),
        ));
    }
    for header in ["1.0", "1.0.0", "1.0.1", "1.0.9"] {
        cases.push(Case::new(
            format!(
                "Communication 3.3.s3.b3, 3.3.s3.b5: version header {header:?} is accepted as 1.0.x"
            ),
            Versions::Only(XapiVersion::V1_0_3),
            move |ctx| accepted_version(ctx, header),
        ));
    }
    cases.extend([
        Case::both(
            "Communication 3.3.s3.b1, 3.3.s3.b2: a successful response carries X-Experience-API-Version of the requested version line",
            response_version_line,
        ),
        Case::both(
            "Data 2.4.10.s3.b3 / XAPI-00332: a statement stored without version is returned with the version of the request's line (1.0.0 / 2.0.0)",
            default_statement_version,
        ),
        Case::both(
            "Data 2.4.10 / XAPI-00332: a statement is returned with the version it was accepted with",
            retained_statement_version,
        ),
        Case::new(
            "Data 2.4.10.s2.b1 / XAPI-00101: a statement with version 1.0.9 is accepted",
            Versions::Only(XapiVersion::V1_0_3),
            statement_version_1_0_9,
        ),
    ]);
    cases
}

async fn get_without_version(ctx: Ctx) -> CaseResult {
    let reply = ctx.get("statements").version(None).send().await?;
    reply.expect_error(&ctx, 400)
}

/// After a rejected write, the statement must not be retrievable (checked with a valid request).
async fn not_stored(ctx: &Ctx, id: &str) -> CaseResult {
    let reply = ctx
        .get("statements")
        .query(&[("statementId", id)])
        .send()
        .await?;
    reply
        .expect(404)
        .map_err(|e| format!("the rejected statement was stored anyway: {e}"))
}

async fn post_without_version(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let reply = ctx
        .post("statements")
        .version(None)
        .json(&statement)
        .send()
        .await?;
    reply.expect_error(&ctx, 400)?;
    not_stored(&ctx, &id_of(&statement)).await
}

async fn put_without_version(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let id = id_of(&statement);
    let reply = ctx
        .put("statements")
        .query(&[("statementId", &id)])
        .version(None)
        .json(&statement)
        .send()
        .await?;
    reply.expect_error(&ctx, 400)?;
    not_stored(&ctx, &id).await
}

async fn unsupported_version(ctx: Ctx, header: &str) -> CaseResult {
    let get = ctx.get("statements").version(Some(header)).send().await?;
    get.expect_error(&ctx, 400)?;
    let fx = Fx::new();
    let statement = fx.statement();
    let post = ctx
        .post("statements")
        .version(Some(header))
        .json(&statement)
        .send()
        .await?;
    post.expect_error(&ctx, 400)?;
    not_stored(&ctx, &id_of(&statement)).await
}

async fn accepted_version(ctx: Ctx, header: &str) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let post = ctx
        .post("statements")
        .version(Some(header))
        .json(&statement)
        .send()
        .await?;
    post.expect(200)?;
    let get = ctx
        .get("statements")
        .version(Some(header))
        .query(&[("limit", "1")])
        .send()
        .await?;
    get.expect(200)
}

async fn response_version_line(ctx: Ctx) -> CaseResult {
    let reply = ctx
        .get("statements")
        .query(&[("limit", "1")])
        .send()
        .await?;
    reply.expect(200)?;
    let value = reply.header(VERSION_HEADER)?;
    let prefix = ctx.version.line_prefix();
    ensure(value.starts_with(prefix), || {
        format!(
            "requested {}, the response says {VERSION_HEADER}: {value}",
            ctx.version.header()
        )
    })
}

async fn stored_version(ctx: &Ctx, statement: &Value) -> Result<String, String> {
    let id = id_of(statement);
    ctx.put_statement(&id, statement).await?;
    let got = ctx.get_statement(&id).await?;
    got.get("version")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("the returned statement has no string version: {got}"))
}

async fn default_statement_version(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let version = stored_version(&ctx, &fx.statement()).await?;
    let wanted = ctx.version.default_statement_version();
    ensure(version == wanted, || {
        format!("expected version {wanted}, got {version}")
    })
}

async fn retained_statement_version(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let mut statement = fx.statement();
    let sent = ctx.version.default_statement_version();
    statement["version"] = json!(sent);
    let version = stored_version(&ctx, &statement).await?;
    ensure(version == sent, || {
        format!("sent version {sent}, got {version}")
    })
}

async fn statement_version_1_0_9(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let mut statement = fx.statement();
    statement["version"] = json!("1.0.9");
    let version = stored_version(&ctx, &statement).await?;
    ensure(version == "1.0.9", || {
        format!("sent version 1.0.9, got {version}")
    })
}
