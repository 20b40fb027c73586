//! Authentication (Communication 4.0): HTTP Basic is supported and anything short of valid
//! credentials is refused with 401 on the Statement Resource.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use secrecy::ExposeSecret as _;

use crate::client::{Auth, Ctx};
use crate::fixtures::{Fx, id_of, uuid};
use crate::harness::{Case, CaseResult};

pub fn cases() -> Vec<Case> {
    vec![
        Case::both(
            "Communication 4.0 / XAPI-00335: HTTP Basic credentials are accepted on GET statements",
            basic_accepted,
        ),
        Case::both(
            "Communication 4.0 / XAPI-00334: GET statements without credentials is rejected with 401",
            get_without_credentials,
        ),
        Case::both(
            "Communication 4.0 / XAPI-00334: POST statements without credentials is rejected with 401 and stores nothing",
            post_without_credentials,
        ),
        Case::both(
            "Communication 4.0 / XAPI-00334: PUT statements without credentials is rejected with 401",
            put_without_credentials,
        ),
        Case::both(
            "Communication 4.0 / XAPI-00334: the right key with a wrong secret is rejected with 401",
            wrong_secret,
        ),
        Case::both(
            "Communication 4.0 / XAPI-00334: an unknown key is rejected with 401",
            unknown_key,
        ),
        Case::both(
            "Communication 4.0 / XAPI-00334: a Basic header that is not base64 is rejected with 401",
            |ctx| malformed(ctx, "Basic !!!not-base64!!!".to_owned()),
        ),
        Case::both(
            "Communication 4.0 / XAPI-00334: a Basic header without a colon is rejected with 401",
            |ctx| malformed(ctx, format!("Basic {}", BASE64.encode("no-colon-here"))),
        ),
        Case::both(
            "Communication 4.0 / XAPI-00334: a Basic header with no credentials is rejected with 401",
            |ctx| malformed(ctx, "Basic".to_owned()),
        ),
        Case::both(
            "Communication 4.0 / XAPI-00334: an unknown authorization scheme is rejected with 401",
            |ctx| malformed(ctx, "Bearer conformance-not-a-token".to_owned()),
        ),
    ]
}

async fn basic_accepted(ctx: Ctx) -> CaseResult {
    let reply = ctx
        .get("statements")
        .query(&[("limit", "1")])
        .send()
        .await?;
    reply.expect(200)
}

async fn get_without_credentials(ctx: Ctx) -> CaseResult {
    let reply = ctx.get("statements").auth(Auth::Absent).send().await?;
    reply.expect_error(&ctx, 401)
}

async fn post_without_credentials(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let reply = ctx
        .post("statements")
        .auth(Auth::Absent)
        .json(&statement)
        .send()
        .await?;
    reply.expect_error(&ctx, 401)?;
    let check = ctx
        .get("statements")
        .query(&[("statementId", &id_of(&statement))])
        .send()
        .await?;
    check
        .expect(404)
        .map_err(|e| format!("the unauthenticated statement was stored: {e}"))
}

async fn put_without_credentials(ctx: Ctx) -> CaseResult {
    let fx = Fx::new();
    let statement = fx.statement();
    let reply = ctx
        .put("statements")
        .query(&[("statementId", &id_of(&statement))])
        .auth(Auth::Absent)
        .json(&statement)
        .send()
        .await?;
    reply.expect_error(&ctx, 401)
}

async fn wrong_secret(ctx: Ctx) -> CaseResult {
    let key = ctx.settings().key.clone();
    let secret = format!("{}-wrong", ctx.settings().secret.expose_secret());
    let reply = ctx
        .get("statements")
        .auth(Auth::Basic(key, secret))
        .send()
        .await?;
    reply.expect_error(&ctx, 401)
}

async fn unknown_key(ctx: Ctx) -> CaseResult {
    let reply = ctx
        .get("statements")
        .auth(Auth::Basic(
            format!("unknown-{}", uuid()),
            "whatever".to_owned(),
        ))
        .send()
        .await?;
    reply.expect_error(&ctx, 401)
}

async fn malformed(ctx: Ctx, header: String) -> CaseResult {
    let reply = ctx.get("statements").auth(Auth::Raw(header)).send().await?;
    reply.expect_error(&ctx, 401)
}
