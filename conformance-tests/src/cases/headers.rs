//! Response headers of the Statement Resource: the version header on every response
//! (Communication 3.3), `X-Experience-API-Consistent-Through` on every statements response
//! including errors (Communication 2.1.3), `Date`, `Content-Type`, and HEAD (Communication 1.1).

use crate::check::{self, ensure};
use crate::client::{Auth, CONSISTENT_THROUGH, Ctx, Reply, VERSION_HEADER};
use crate::fixtures::{Fx, id_of, uuid};
use crate::harness::{Case, CaseResult};

/// One kind of Statement Resource response, produced by a request that should yield it.
#[derive(Clone, Copy, Debug)]
enum Probe {
    QueryOk,
    ByIdOk,
    NotFound,
    BadRequest,
    Unauthorized,
    PostOk,
    PutNoContent,
    PostInvalid,
}

const PROBES: [Probe; 8] = [
    Probe::QueryOk,
    Probe::ByIdOk,
    Probe::NotFound,
    Probe::BadRequest,
    Probe::Unauthorized,
    Probe::PostOk,
    Probe::PutNoContent,
    Probe::PostInvalid,
];

pub fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for probe in PROBES {
        cases.push(Case::both(
            format!(
                "Communication 3.3.s3.b1: X-Experience-API-Version is on the response to {}",
                probe.label()
            ),
            move |ctx| version_header_present(ctx, probe),
        ));
    }
    for probe in PROBES {
        cases.push(Case::both(
            format!(
                "Communication 2.1.3.s2.b5 / XAPI-00153: X-Experience-API-Consistent-Through (ISO 8601) is on the response to {}",
                probe.label()
            ),
            move |ctx| consistent_through_present(ctx, probe),
        ));
    }
    cases.extend([
        Case::both(
            "RFC 7231 7.1.1.2: every statements response carries exactly one Date header",
            one_date_header,
        ),
        Case::both(
            "Communication 2.1.3 / XAPI-00165: GET statements responds with Content-Type application/json",
            content_type_query,
        ),
        Case::both(
            "Communication 2.1.3 / XAPI-00165: GET statements by statementId responds with Content-Type application/json",
            content_type_by_id,
        ),
        Case::both(
            "Communication 2.1.3.s2.b7 / XAPI-00161: GET statements with attachments=false responds with application/json",
            content_type_attachments_false,
        ),
        Case::both(
            "Communication 1.1.s3.b1 / XAPI-00125, XAPI-00126: HEAD statements answers like GET without a body",
            |ctx| head_like_get(ctx, HeadTarget::Query),
        ),
        Case::both(
            "Communication 1.1.s3.b1 / XAPI-00125: HEAD statements by statementId answers like GET without a body",
            |ctx| head_like_get(ctx, HeadTarget::ById),
        ),
        Case::both(
            "Communication 1.1.s3.b1 / XAPI-00125: HEAD statements for an unknown statementId answers 404 like GET",
            |ctx| head_like_get(ctx, HeadTarget::Unknown),
        ),
        Case::both(
            "Communication 1.1.s3.b1 / XAPI-00125: HEAD statements with conflicting parameters answers 400 like GET",
            |ctx| head_like_get(ctx, HeadTarget::Invalid),
        ),
    ]);
    cases
}

impl Probe {
    fn label(self) -> &'static str {
        match self {
            Probe::QueryOk => "GET statements (200)",
            Probe::ByIdOk => "GET statements by statementId (200)",
            Probe::NotFound => "GET statements for an unknown statementId (404)",
            Probe::BadRequest => "GET statements with statementId and voidedStatementId (400)",
            Probe::Unauthorized => "GET statements without credentials (401)",
            Probe::PostOk => "POST statements (200)",
            Probe::PutNoContent => "PUT statements (204)",
            Probe::PostInvalid => "POST of an invalid statement (400)",
        }
    }

    /// Sends the request and checks it produced the intended status.
    async fn send(self, ctx: &Ctx) -> Result<Reply, String> {
        let fx = Fx::new();
        let (reply, expected) = match self {
            Probe::QueryOk => (
                ctx.get("statements")
                    .query(&[("limit", "1")])
                    .send()
                    .await?,
                200,
            ),
            Probe::ByIdOk => {
                let statement = fx.statement();
                ctx.post_statements(&statement).await?;
                ctx.settle(&[&id_of(&statement)]).await?;
                let reply = ctx
                    .get("statements")
                    .query(&[("statementId", &id_of(&statement))])
                    .send()
                    .await?;
                (reply, 200)
            }
            Probe::NotFound => {
                let reply = ctx
                    .get("statements")
                    .query(&[("statementId", &uuid())])
                    .send()
                    .await?;
                (reply, 404)
            }
            Probe::BadRequest => {
                let reply = ctx
                    .get("statements")
                    .query(&[("statementId", &uuid()), ("voidedStatementId", &uuid())])
                    .send()
                    .await?;
                (reply, 400)
            }
            Probe::Unauthorized => (ctx.get("statements").auth(Auth::Absent).send().await?, 401),
            Probe::PostOk => (
                ctx.post("statements").json(&fx.statement()).send().await?,
                200,
            ),
            Probe::PutNoContent => {
                let statement = fx.statement();
                let reply = ctx
                    .put("statements")
                    .query(&[("statementId", &id_of(&statement))])
                    .json(&statement)
                    .send()
                    .await?;
                (reply, 204)
            }
            Probe::PostInvalid => {
                let mut statement = fx.statement();
                statement["verb"]["id"] = serde_json::json!("not an iri");
                (ctx.post("statements").json(&statement).send().await?, 400)
            }
        };
        reply
            .expect(expected)
            .map_err(|e| format!("could not provoke the response: {e}"))?;
        Ok(reply)
    }
}

async fn version_header_present(ctx: Ctx, probe: Probe) -> CaseResult {
    let reply = probe.send(&ctx).await?;
    let value = reply.header(VERSION_HEADER)?;
    ensure(!value.trim().is_empty(), || {
        format!("empty {VERSION_HEADER}: {}", reply.describe())
    })
}

async fn consistent_through_present(ctx: Ctx, probe: Probe) -> CaseResult {
    let reply = probe.send(&ctx).await?;
    let value = reply.header(CONSISTENT_THROUGH)?;
    check::timestamp(value).map_err(|e| format!("{CONSISTENT_THROUGH}: {e}"))?;
    Ok(())
}

async fn one_date_header(ctx: Ctx) -> CaseResult {
    for probe in PROBES {
        let reply = probe.send(&ctx).await?;
        let count = reply.header_count("date");
        ensure(count == 1, || {
            format!(
                "{} Date headers on {}: {}",
                count,
                probe.label(),
                reply.describe()
            )
        })?;
    }
    Ok(())
}

fn expect_json_content_type(reply: &Reply) -> CaseResult {
    let value = reply.header("content-type")?;
    let media = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    ensure(media == "application/json", || {
        format!(
            "Content-Type is {value:?}, expected application/json: {}",
            reply.describe()
        )
    })
}

async fn content_type_query(ctx: Ctx) -> CaseResult {
    let reply = ctx
        .get("statements")
        .query(&[("limit", "1")])
        .send()
        .await?;
    reply.expect(200)?;
    expect_json_content_type(&reply)
}

async fn content_type_by_id(ctx: Ctx) -> CaseResult {
    let reply = Probe::ByIdOk.send(&ctx).await?;
    expect_json_content_type(&reply)
}

async fn content_type_attachments_false(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    ctx.post_statements(&statement).await?;
    ctx.settle(&[&id_of(&statement)]).await?;
    let verb = fx.verb_id("did");
    let reply = ctx
        .get("statements")
        .query(&[("verb", &verb), ("attachments", "false")])
        .send()
        .await?;
    reply.expect(200)?;
    expect_json_content_type(&reply)?;
    let result = crate::ops::parse_result(&reply)?;
    check::same_id_set(
        "statements",
        &crate::ops::ids(&result.statements),
        &[id_of(&statement)],
    )
}

#[derive(Clone, Copy)]
enum HeadTarget {
    Query,
    ById,
    Unknown,
    Invalid,
}

/// Headers whose values legitimately differ between two requests.
const VOLATILE: [&str; 5] = [
    "date",
    "content-length",
    "transfer-encoding",
    "connection",
    "x-experience-api-consistent-through",
];

async fn head_like_get(ctx: Ctx, target: HeadTarget) -> CaseResult {
    let fx = Fx::new();
    let params: Vec<(String, String)> = match target {
        HeadTarget::Query => {
            let statement = fx.statement();
            ctx.post_statements(&statement).await?;
            ctx.settle(&[&id_of(&statement)]).await?;
            vec![("verb".to_owned(), fx.verb_id("did"))]
        }
        HeadTarget::ById => {
            let statement = fx.statement();
            ctx.post_statements(&statement).await?;
            ctx.settle(&[&id_of(&statement)]).await?;
            vec![("statementId".to_owned(), id_of(&statement))]
        }
        HeadTarget::Unknown => vec![("statementId".to_owned(), uuid())],
        HeadTarget::Invalid => vec![
            ("statementId".to_owned(), uuid()),
            ("voidedStatementId".to_owned(), uuid()),
        ],
    };
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let get = ctx.get("statements").query(&pairs).send().await?;
    let expected = match target {
        HeadTarget::Query | HeadTarget::ById => 200,
        HeadTarget::Unknown => 404,
        HeadTarget::Invalid => 400,
    };
    get.expect(expected)
        .map_err(|e| format!("the GET to compare with: {e}"))?;
    let head = ctx.head("statements").query(&pairs).send().await?;
    ensure(head.status == get.status, || {
        format!(
            "HEAD answered {} but GET answered {}",
            head.status, get.status
        )
    })?;
    ensure(head.body.is_empty(), || {
        format!("HEAD returned a {}-byte body", head.body.len())
    })?;
    for name in get.headers.keys() {
        let key = name.as_str();
        if VOLATILE.contains(&key) {
            continue;
        }
        let get_values: Vec<_> = get.headers.get_all(name).iter().collect();
        let head_values: Vec<_> = head.headers.get_all(name).iter().collect();
        ensure(get_values == head_values, || {
            format!("header {key}: GET has {get_values:?}, HEAD has {head_values:?}")
        })?;
    }
    head.header(CONSISTENT_THROUGH)?;
    head.header(VERSION_HEADER)?;
    Ok(())
}
